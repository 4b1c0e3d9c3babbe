"""Score postings in chunks, optionally in worker processes, and format the results as JSONL, CSV or a table."""

from __future__ import annotations

import csv
import io
import json
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pipeline import config
from pipeline.decision import in_review_band, labels_at
from pipeline.readers import Chunk

if TYPE_CHECKING:
    # Only for annotations: the portable engine uses the formatters below without numpy or scikit-learn.
    import numpy as np

    from pipeline.model import Model

PROBABILITY_DIGITS = 6
ERROR_EMPTY = "empty or missing text"


@dataclass(frozen=True)
class ScoreOptions:
    """How to turn probabilities into decisions and what to add to each row."""

    threshold: float
    review_band: float
    explain: int = 0


def linear_weights(model: Model) -> tuple[np.ndarray, np.ndarray]:
    """The vocabulary and the per-feature log-odds weight toward KPO of the fitted Pipeline."""
    import numpy as np

    vectorizer = model.pipeline.named_steps["tfidf"]
    classifier = model.pipeline.named_steps["clf"]
    coef = np.asarray(classifier.coef_[0], dtype=float)
    # coef_ points toward classes_[1]; flip it if KPO happens to be classes_[0].
    if list(classifier.classes_).index(config.POSITIVE_LABEL) == 0:
        coef = -coef
    return vectorizer.get_feature_names_out(), coef


def explain_rows(features, weights: np.ndarray, matrix, labels: list[str], k: int) -> list[list[dict]]:
    """For each row, the k n-grams whose weight x tf-idf pushed it most toward its predicted label."""
    import numpy as np

    explanations = []
    for row, label in enumerate(labels):
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        columns = matrix.indices[start:end]
        contributions = matrix.data[start:end] * weights[columns]
        sign = 1.0 if label == config.KPO else -1.0
        # Stable: tied n-grams (ones that always occur together) keep vocabulary order, as in the portable engine.
        order = np.argsort(-sign * contributions, kind="stable")[:k]
        explanations.append(
            [
                {"ngram": str(features[columns[i]]), "weight": round(float(contributions[i]), 4)}
                for i in order
                if sign * contributions[i] > 0
            ]
        )
    return explanations


def score_chunk(model: Model, chunk: Chunk, options: ScoreOptions) -> list[dict]:
    """One result row per input row, in order; rows with no text get an error instead of a label."""
    rows: list[dict] = [
        {"id": row_id, "label": "", "p_bpo": None, "p_kpo": None, config.NEEDS_REVIEW_FIELD: None,
         config.ERROR_FIELD: ERROR_EMPTY}
        for row_id in chunk.ids
    ]  # fmt: skip
    scorable = [i for i, text in enumerate(chunk.texts) if text]
    if not scorable:
        return rows
    texts = [chunk.texts[i] for i in scorable]
    vectorizer = model.pipeline.named_steps["tfidf"]
    classifier = model.pipeline.named_steps["clf"]
    # Transform once and reuse the matrix for explanations: the same numbers as pipeline.predict_proba.
    matrix = vectorizer.transform(texts)
    positive = list(classifier.classes_).index(config.POSITIVE_LABEL)
    p_kpo = classifier.predict_proba(matrix)[:, positive]
    labels = labels_at(p_kpo, options.threshold).tolist()
    explanations = None
    if options.explain > 0:
        features, weights = linear_weights(model)
        explanations = explain_rows(features, weights, matrix.tocsr(), labels, options.explain)
    rounded = [round(float(p), PROBABILITY_DIGITS) for p in p_kpo]
    review = in_review_band(rounded, options.threshold, options.review_band).tolist()
    for position, index in enumerate(scorable):
        kpo = rounded[position]
        row = rows[index]
        row.update(
            label=labels[position],
            p_bpo=round(1.0 - kpo, PROBABILITY_DIGITS),
            p_kpo=kpo,
            error=None,
        )
        row[config.NEEDS_REVIEW_FIELD] = review[position]
        if explanations is not None:
            row[config.EXPLANATION_FIELD] = explanations[position]
    return rows


@dataclass(frozen=True)
class FormattedChunk:
    """A scored chunk already rendered in the output format, so workers, not the parent, do the formatting."""

    rows: int
    text: str
    first_error_id: str | None


def score_and_format(model: Model, chunk: Chunk, options: ScoreOptions, formatter) -> FormattedChunk:
    rows = score_chunk(model, chunk, options)
    failed = next((row["id"] for row in rows if row[config.ERROR_FIELD]), None)
    return FormattedChunk(len(rows), formatter.rows(rows, chunk.texts), failed)


# Worker processes inherit the loaded model through fork, so no worker reloads or re-verifies the file.
_WORKER_MODEL: Model | None = None


def _ignore_interrupts() -> None:
    """Workers leave Ctrl-C to the main process, which stops them and reports once, without tracebacks."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _score_in_worker(chunk: Chunk, options: ScoreOptions, formatter) -> FormattedChunk:
    return score_and_format(_WORKER_MODEL, chunk, options, formatter)


def score_chunks(
    model: Model, chunks: Iterable[Chunk], options: ScoreOptions, formatter, jobs: int = 1
) -> Iterator[FormattedChunk]:
    """Score and format chunks in order; with jobs > 1, in worker processes with a bounded number in flight."""
    if jobs == 1:
        for chunk in chunks:
            yield score_and_format(model, chunk, options, formatter)
        return
    import multiprocessing

    global _WORKER_MODEL
    _WORKER_MODEL = model
    context = multiprocessing.get_context("fork")
    with context.Pool(jobs, initializer=_ignore_interrupts) as pool:
        # Pool.imap would read the whole input ahead; a bounded queue keeps memory flat.
        pending: deque = deque()
        for chunk in chunks:
            pending.append(pool.apply_async(_score_in_worker, (chunk, options, formatter)))
            if len(pending) >= 2 * jobs:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


def output_fields(options: ScoreOptions) -> list[str]:
    fields = list(config.OUTPUT_FIELDS) + [config.NEEDS_REVIEW_FIELD]
    if options.explain:
        fields.append(config.EXPLANATION_FIELD)
    return fields + [config.ERROR_FIELD]


def format_explanation(items: list[dict] | None) -> str:
    return "; ".join(f"{item['ngram']} ({item['weight']:+.3f})" for item in items or [])


class JsonlFormatter:
    """One JSON object per line."""

    def __init__(self, fields: list[str]) -> None:
        self.fields = fields

    def header(self) -> str:
        return ""

    def rows(self, rows: list[dict], texts: list[str | None] | None = None) -> str:
        return "".join(json.dumps({f: row.get(f) for f in self.fields}, ensure_ascii=False) + "\n" for row in rows)


class CsvFormatter:
    """CSV with a header; explanations as 'ngram (+weight); ...'."""

    def __init__(self, fields: list[str]) -> None:
        self.fields = fields

    def _write(self, rows: list[list]) -> str:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        return buffer.getvalue()

    def header(self) -> str:
        return self._write([self.fields])

    def rows(self, rows: list[dict], texts: list[str | None] | None = None) -> str:
        def cell(row: dict, field: str):
            value = row.get(field)
            if field == config.EXPLANATION_FIELD:
                return format_explanation(value)
            if isinstance(value, bool):
                return str(value).lower()
            return "" if value is None else value

        return self._write([[cell(row, f) for f in self.fields] for row in rows])


class TableFormatter:
    """A fixed-width table for people at a terminal, with the start of each posting."""

    def __init__(self, fields: list[str], width: int = 100) -> None:
        self.explain = config.EXPLANATION_FIELD in fields
        self.width = width

    def header(self) -> str:
        line = f"{'id':<10} {'label':<5} {'p_kpo':>6} {'review':<6} "
        line += "explanation" if self.explain else "text"
        return line + "\n"

    def rows(self, rows: list[dict], texts: list[str | None] | None = None) -> str:
        lines = []
        for index, row in enumerate(rows):
            p_kpo = "" if row["p_kpo"] is None else f"{row['p_kpo']:.3f}"
            review = "yes" if row.get(config.NEEDS_REVIEW_FIELD) else ""
            if row.get(config.ERROR_FIELD):
                tail = f"error: {row[config.ERROR_FIELD]}"
            elif self.explain:
                tail = format_explanation(row.get(config.EXPLANATION_FIELD))
            else:
                tail = " ".join((texts[index] if texts else "").split())
            line = f"{str(row['id'])[:10]:<10} {row['label']:<5} {p_kpo:>6} {review:<6} {tail}"
            lines.append(line[: self.width] + "\n")
        return "".join(lines)


FORMATTERS = {"jsonl": JsonlFormatter, "csv": CsvFormatter, "table": TableFormatter}
