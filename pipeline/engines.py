"""The two scoring engines behind predict and serve, the portable scorer and scikit-learn, and which one to use."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from pipeline import config
from pipeline.decision import label_for, needs_review
from pipeline.errors import LibraryVersionError, ModelError, require_model_file
from pipeline.predict import (
    PROBABILITY_DIGITS,
    FormattedChunk,
    ScoreOptions,
    format_chunk,
    text_to_score,
    unscored_row,
)
from pipeline.readers import Chunk

PORTABLE = "portable"
SKLEARN = "sklearn"
AUTO = "auto"


def _strongest(model, weights: list[float], positive: bool, columns: list[int], values: list[float], k: int):
    """The k n-grams that pushed a text's score most toward its side (`positive`: the side `weights` point to),
    listed as Model.explain lists them: the same order, ties included, and rounding."""
    sign = 1.0 if positive else -1.0
    contributions = [value * weights[column] for column, value in zip(columns, values, strict=True)]
    order = sorted(range(len(columns)), key=lambda i: -sign * contributions[i])[:k]
    return [
        {"ngram": model.vocabulary[columns[i]], "weight": round(contributions[i], 4)}
        for i in order
        if sign * contributions[i] > 0
    ]


class PortableEngine:
    """Rows from the portable scorer: the same fields, order and rounding as predict.score_chunk."""

    name = PORTABLE

    def __init__(self, model) -> None:
        self.model = model
        self.threshold = model.threshold
        self.review_band = model.review_band
        self.metadata = model.metadata
        self.model_sha256 = model.model_sha256
        self._weights = model.weights_toward_positive()
        self.has_scope = model.scope is not None
        # The scope section's positive label is out of scope: its weights point there.
        self._scope_weights = model.scope.weights_toward_positive() if self.has_scope else None
        self.scope_threshold = model.scope.threshold if model.scope is not None else None

    def rows(self, chunk: Chunk, options: ScoreOptions) -> list[dict]:
        """The rows of predict.score_chunk, field for field: the same rules, keys and rounding."""
        rows = []
        for row_id, given in zip(chunk.ids, chunk.texts, strict=True):
            text, error = text_to_score(given, options)
            if error:
                rows.append({"id": row_id, **unscored_row(error, options)})
                continue
            columns, values = self.model.features(text)
            p = self.model.positive_of(columns, values)
            kpo = round(p, PROBABILITY_DIGITS)
            label = label_for(p, options.threshold)
            row = {"id": row_id, "label": label, "p_bpo": round(1.0 - kpo, PROBABILITY_DIGITS), "p_kpo": kpo}
            row[config.NEEDS_REVIEW_FIELD] = needs_review(kpo, options.threshold, options.review_band)
            scope = options.scope_threshold is not None and self.model.scope is not None
            # The scope model's features, read once for its verdict and its explanation.
            scope_features = self.model.scope.features(text) if scope else None
            if scope:
                row.update(self._scope_fields(text, options.scope_threshold, scope_features))
            if options.explain > 0:
                explained = (self.model, self._weights, label == config.KPO, columns, values)
                row[config.EXPLANATION_FIELD] = _strongest(*explained, options.explain)
            if options.explain > 0 and scope:
                flagged = row[config.OUT_OF_SCOPE_FIELD]
                explained = (self.model.scope, self._scope_weights, flagged, *scope_features)
                row[config.SCOPE_EXPLANATION_FIELD] = _strongest(*explained, options.explain)
            row[config.ERROR_FIELD] = None
            rows.append(row)
        return rows

    def _scope_fields(self, text: str, threshold: float, features: tuple[list[int], list[float]]) -> dict:
        p_out, flag, reason = self.model.scope.scope_verdict(text, threshold, features)
        return {
            config.OUT_OF_SCOPE_FIELD: flag,
            config.P_OUT_OF_SCOPE_FIELD: round(p_out, PROBABILITY_DIGITS),
            config.SCOPE_REASON_FIELD: reason,
        }

    def score_chunks(
        self, chunks: Iterable[Chunk], options: ScoreOptions, formatter, jobs: int = 1
    ) -> Iterator[FormattedChunk]:
        for chunk in chunks:
            yield format_chunk(self.rows(chunk, options), chunk, formatter)


class SklearnEngine:
    """Rows from the scikit-learn Pipeline, through predict.score_chunk and its worker processes."""

    name = SKLEARN

    def __init__(self, model) -> None:
        self.model = model
        self.threshold = model.threshold
        self.review_band = model.review_band
        self.metadata = model.metadata
        self.model_sha256 = model.metadata["model_sha256"]
        self.has_scope = model.has_scope
        self.scope_threshold = model.scope_threshold

    def rows(self, chunk: Chunk, options: ScoreOptions) -> list[dict]:
        from pipeline.predict import score_chunk

        return score_chunk(self.model, chunk, options)

    def score_chunks(
        self, chunks: Iterable[Chunk], options: ScoreOptions, formatter, jobs: int = 1
    ) -> Iterator[FormattedChunk]:
        from pipeline.predict import score_chunks

        return score_chunks(self.model, chunks, options, formatter, jobs)


def small_input(input_path: str | None) -> bool:
    """Whether an --input is a regular file (or stdin redirected from one) small enough for the portable scorer.

    A pipe's length is unknown until it ends, and a compressed file's size does not tell its text's, so these go
    to scikit-learn, whose throughput is higher, unless predict finds their first chunk is all of them.
    """
    if input_path is None:
        return True
    if config.compression_of(input_path):
        return False
    try:
        info = os.fstat(sys.stdin.fileno()) if input_path == config.STANDARD_STREAM else os.stat(input_path)
    except (OSError, ValueError):
        return False  # a missing file: let the reader report it
    return stat.S_ISREG(info.st_mode) and info.st_size <= config.PORTABLE.max_auto_input_bytes


def prefers_portable(jobs: int, input_path: str | None) -> bool:
    """Whether `auto` tries the portable scorer: one process scoring postings given as arguments (no
    input_path) or a small regular file. Workers and large files go to scikit-learn, and so does a pipe, unless
    predict finds its first chunk is all of it."""
    return jobs == 1 and small_input(input_path)


def chooses_after_first_chunk(engine: str, jobs: int, input_path: str | None) -> bool:
    """Whether `auto` reads the first chunk before choosing: one process reading a pipe, whose length is known only
    once it ends, or a compressed file, whose size does not tell its text's (see whole_and_small)."""
    unknown_length = input_path == config.STANDARD_STREAM or bool(input_path and config.compression_of(input_path))
    return engine == AUTO and jobs == 1 and unknown_length


def whole_and_small(first, chunk_size: int) -> bool:
    """Whether a stream's first chunk (a readers.Chunk, or None for no rows) is all of it, since readers fill
    every chunk but the last, and small enough for the portable scorer: `auto` then scores a pipe with it."""
    if first is None:
        return True
    return len(first.ids) < chunk_size and (first.position or 0) <= config.PORTABLE.max_auto_input_bytes


def open_engine(engine: str, model_path: Path, prefer_portable: bool = True, on_fallback=None):
    """Load the model behind the requested engine, with every check of the model contract.

    `auto` uses the portable export when `prefer_portable` and the export beside the model names the model
    file's SHA-256; otherwise, or when the export is missing or stale, scikit-learn (whose loader reports any
    problem with the model itself). `portable` and `sklearn` use that engine or fail with a ModelError. The command
    line hands it a model path with any link already followed (options.ModelPath).
    """
    if engine == PORTABLE or (engine == AUTO and prefer_portable):
        from pipeline.export import portable_path
        from pipeline.metadata import checked_metadata
        from pipeline.portable import load_portable

        if engine == AUTO and not portable_path(model_path).is_file():
            return _sklearn(model_path)
        # The model's own contract first: a fault there is no reason to try the other engine, which refuses it too.
        checked = checked_metadata(model_path)
        try:
            portable = PortableEngine(load_portable(model_path, checked=checked))
        except ModelError as error:
            if engine == PORTABLE:
                raise
            if on_fallback is not None and Path(model_path).is_file():
                on_fallback(f"note: {error}; scoring with scikit-learn")
            return _sklearn(model_path)
        problem = _installed_sklearn_problem(checked, model_path)
        if engine == AUTO and problem and on_fallback is not None:
            # As when a large input asks for scikit-learn and it refuses the model: the size of the input must not
            # decide whether the user hears that scikit-learn cannot load this model.
            on_fallback(f"note: {problem}; {PORTABLE_FALLBACK}")
        return portable
    try:
        return _sklearn(model_path)
    except LibraryVersionError as error:
        # A small input took the export and a large one was refused: the size of the input decided. The export,
        # plain numbers, scores under any scikit-learn; --engine sklearn and the Python API still refuse.
        if engine != AUTO:
            raise
        from pipeline.export import portable_path
        from pipeline.portable import load_portable

        if not portable_path(model_path).is_file():
            raise
        try:
            portable = PortableEngine(load_portable(model_path))
        except ModelError:
            raise error from None  # the export is no way out (stale, damaged): the version is the fault to fix
        if on_fallback is not None:
            on_fallback(f"note: {error}; {PORTABLE_FALLBACK}")
        return portable


PORTABLE_FALLBACK = "scoring with its portable export, which needs no scikit-learn, in one process"


def _installed_sklearn_problem(checked: tuple[dict, dict | None], model_path: Path) -> str | None:
    """What stops the installed scikit-learn from loading the model or the scope model beside it, read without
    importing it; None when it can, or when none is installed (the export is then the only engine, and the expected
    one)."""
    from importlib import metadata as importlib_metadata

    from pipeline.metadata import sklearn_version_problem

    try:
        installed = importlib_metadata.version("scikit-learn")
    except importlib_metadata.PackageNotFoundError:
        return None
    meta, scope_meta = checked
    files = [(meta, model_path), *([(scope_meta, config.scope_model_path(model_path))] if scope_meta else [])]
    return next(filter(None, (sklearn_version_problem(m, path, installed) for m, path in files)), None)


def _sklearn(model_path: Path) -> SklearnEngine:
    require_model_file(model_path)  # a missing file needs no second of importing scikit-learn to say so
    from pipeline.model import load_model

    return SklearnEngine(load_model(model_path))
