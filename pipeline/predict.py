"""Score postings in chunks, optionally in worker processes, and format the results as JSONL, CSV or a table."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING
from unicodedata import combining, east_asian_width

from pipeline import config
from pipeline.analysis import Analysed, analyse, scope_of
from pipeline.decision import check_count, check_cut, in_review_band, labels_at
from pipeline.errors import WorkerError
from pipeline.markup import plain_text
from pipeline.readers import Chunk

if TYPE_CHECKING:
    # Only for annotations: the portable engine uses the formatters below without numpy or scikit-learn.
    from pipeline.model import Model

PROBABILITY_DIGITS = 6
ERROR_EMPTY = "empty or missing text"
ERROR_MARKUP_ONLY = "no text once its HTML markup and web links are removed"
# C0 and C1 control characters: escape sequences in a posting or id must not reach a terminal.
# Bidirectional controls too (U+202E reverses the rest of the line): text that reorders what the terminal shows.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# A spreadsheet runs a cell starting with one of these as a formula (OWASP: CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ScoreOptions:
    """How to turn probabilities into decisions and what to add to each row."""

    threshold: float
    review_band: float
    explain: int = 0
    # P(out of scope) at which a posting is flagged; None when there is no scope model.
    scope_threshold: float | None = None
    max_text_chars: int = config.PREDICT.max_text_chars
    # How a too-long text's error row names the limit: the command line's option, or the API's argument.
    limit_name: str = "--max-text-chars"

    def __post_init__(self) -> None:
        check_cut("threshold", self.threshold)
        check_cut("review_band", self.review_band, config.MAX_REVIEW_BAND)
        if self.scope_threshold is not None:
            check_cut("scope_threshold", self.scope_threshold)
        check_count("explain", self.explain)
        check_count("max_text_chars", self.max_text_chars, low=1)

    @classmethod
    def of(
        cls,
        model,
        threshold: float | None = None,
        review_band: float | None = None,
        explain: int = 0,
        scope_threshold: float | None = None,
        max_text_chars: int = config.PREDICT.max_text_chars,
        limit_name: str = "--max-text-chars",
    ) -> ScoreOptions:
        """The options for a model (or engine): its tuned thresholds and band unless given; scope only with a
        scope model beside it, and a scope threshold refused without one (the API once ignored it)."""
        if scope_threshold is not None and not model.has_scope:
            raise ValueError("scope_threshold needs the scope model beside the model; this model has none")
        return cls(
            threshold=model.threshold if threshold is None else threshold,
            review_band=model.review_band if review_band is None else review_band,
            explain=explain,
            scope_threshold=(model.scope_threshold if scope_threshold is None else scope_threshold)
            if model.has_scope
            else None,
            max_text_chars=max_text_chars,
            limit_name=limit_name,
        )


def unscored_row(error: str, options: ScoreOptions) -> dict:
    """The row of a text that cannot be scored: no label, no probabilities, and the reason; keys in output order."""
    row = {"label": "", "p_bpo": None, "p_kpo": None, config.NEEDS_REVIEW_FIELD: None}
    if options.scope_threshold is not None:
        row.update(dict.fromkeys(config.SCOPE_FIELDS))
    for field in explanation_fields(options):
        row[field] = None
    row[config.ERROR_FIELD] = error
    return row


def too_long_error(options: ScoreOptions) -> str:
    return f"text longer than {options.max_text_chars:,} characters ({options.limit_name})"


def unscorable_error(value) -> str:
    """The error of a row whose text cannot be scored: empty or missing (None, a table's NaN), or a value that
    is no text at all (decide([12345]) was told its text was empty)."""
    if value is None or isinstance(value, str) or _unequal_to_itself(value):
        return ERROR_EMPTY
    return f"not a text but {type(value).__name__}; pass text as str"


def _unequal_to_itself(value) -> bool:
    """NaN, and pandas.NA (whose comparison is NA, which has no truth): how a table's empty cell reads."""
    try:
        return bool(value != value)
    except TypeError:
        return True
    except ValueError:  # an array, whose comparison has many truths: a value, not a missing one
        return False


def row_error(text, options: ScoreOptions) -> str | None:
    """Why a text gets a row with an error instead of a label: missing, blank, no text, or longer than the limit;
    None for a text to score. Both engines ask it, so their rows cannot part on it."""
    if not (isinstance(text, str) and text.strip()):
        return unscorable_error(text)
    if len(text) > options.max_text_chars:
        return too_long_error(options)
    return None


def text_to_score(text, options: ScoreOptions) -> tuple[str | None, str | None]:
    """The text a row is scored on, its HTML markup removed (a posting exported from a job board or an
    applicant-tracking system), or None and why the row gets an error instead. Both engines ask it."""
    error = row_error(text, options)
    if error:
        return None, error
    plain = plain_text(text)
    return (plain, None) if plain.strip() else (None, ERROR_MARKUP_ONLY)


def score_texts(model: Model, all_texts: list[str | None], options: ScoreOptions) -> list[dict]:
    """One decision row per text, in order: label, p_bpo, p_kpo, needs_review, the scope fields, the explanations
    (of the label, and of the scope verdict), and error.

    This is the one place the decision rules turn probabilities into rows: `Model.decide` and every output
    format of `bpo-kpo predict` use it. A text that is missing or blank, or longer than `max_text_chars`, gets a
    row with an error instead of a label; HTML markup is removed before scoring (text_to_score). A new field of
    the row is added here and to `output_fields`.
    """
    rows = [unscored_row(ERROR_EMPTY, options) for _ in all_texts]
    scorable, texts = [], []  # the scorable texts only; `scorable` maps them back to rows
    for index, text in enumerate(all_texts):
        plain, error = text_to_score(text, options)
        if error:
            rows[index][config.ERROR_FIELD] = error
        else:
            scorable.append(index)
            texts.append(plain)
    if not scorable:
        return rows
    # Transform once and reuse the matrix for explanations: the same numbers as pipeline.predict_proba. With the
    # scope model, both models' matrices come from one tokenisation of each text.
    analysed = analyse(model, texts, with_scope=options.scope_threshold is not None)
    features = analysed.matrix
    p_kpo = model.score(features)
    labels = labels_at(p_kpo, options.threshold).tolist()
    explanations = model.explain(features, labels, options.explain) if options.explain > 0 else None
    rounded = [round(float(p), PROBABILITY_DIGITS) for p in p_kpo]
    review = in_review_band(rounded, options.threshold, options.review_band).tolist()
    for position, index in enumerate(scorable):
        kpo = rounded[position]
        row = rows[index]
        row.update(label=labels[position], p_bpo=round(1.0 - kpo, PROBABILITY_DIGITS), p_kpo=kpo)
        row[config.NEEDS_REVIEW_FIELD] = review[position]
        row[config.ERROR_FIELD] = None
        if explanations is not None:
            row[config.EXPLANATION_FIELD] = explanations[position]
    if options.scope_threshold is not None:
        add_scope(model, rows, scorable, texts, options.scope_threshold, analysed)
        if options.explain > 0:
            flags = [rows[index][config.OUT_OF_SCOPE_FIELD] for index in scorable]
            scope_explanations = model.explain_scope(analysed.scope_matrix, flags, options.explain)
            for position, index in enumerate(scorable):
                rows[index][config.SCOPE_EXPLANATION_FIELD] = scope_explanations[position]
    return rows


def add_scope(
    model: Model, rows: list[dict], scorable: list[int], texts: list[str], threshold: float, analysed: Analysed
) -> None:
    """The scope fields of every row: the flag, P(out of scope) and why; empty rows get none."""
    for row in rows:
        row.update(dict.fromkeys(config.SCOPE_FIELDS))
    p_out, flags, reasons = scope_of(model, texts, threshold, analysed)
    for position, index in enumerate(scorable):
        rows[index][config.OUT_OF_SCOPE_FIELD] = flags[position]
        rows[index][config.P_OUT_OF_SCOPE_FIELD] = round(float(p_out[position]), PROBABILITY_DIGITS)
        rows[index][config.SCOPE_REASON_FIELD] = reasons[position]


def score_chunk(model: Model, chunk: Chunk, options: ScoreOptions) -> list[dict]:
    """One result row per input row, in order, with its id first; rows with no text get an error."""
    rows = score_texts(model, chunk.texts, options)
    return [{"id": row_id, **row} for row_id, row in zip(chunk.ids, rows, strict=True)]


# What the end-of-run summary of `bpo-kpo predict` counts, in order: a name and a test on an output row.
# A new row field that people should see counted at the end adds one line here.
SUMMARY_COUNTS = (
    ("rows", lambda row: True),
    (config.BPO, lambda row: row["label"] == config.BPO),
    (config.KPO, lambda row: row["label"] == config.KPO),
    ("needs review", lambda row: bool(row.get(config.NEEDS_REVIEW_FIELD))),
    ("out of scope", lambda row: bool(row.get(config.OUT_OF_SCOPE_FIELD))),
    ("errors", lambda row: bool(row.get(config.ERROR_FIELD))),
)


def tally(rows: list[dict]) -> dict[str, int]:
    """How many rows pass each test of SUMMARY_COUNTS."""
    return {name: sum(1 for row in rows if test(row)) for name, test in SUMMARY_COUNTS}


@dataclass(frozen=True)
class FormattedChunk:
    """A scored chunk already rendered in the output format, so workers, not the parent, do the formatting."""

    rows: int
    text: str
    # The position in the chunk, id and error of the first row that could not be scored, for --on-error fail.
    first_error: tuple[int, str, str] | None
    counts: dict[str, int]
    # Bytes of the input read once this chunk was, when the reader knows (for the progress bar).
    position: int | None = None
    # Postings of config.BARE_TITLE_WORDS words or fewer: job titles alone, most likely.
    bare_titles: int = 0


def count_bare_titles(texts: list[str | None]) -> int:
    """How many texts have config.BARE_TITLE_WORDS words or fewer (an empty text is an error row, not a title)."""
    # maxsplit: a long posting is split only as far as it takes to see it is longer.
    most = config.BARE_TITLE_WORDS
    return sum(1 for text in texts if text and len(text.split(maxsplit=most)) <= most)


def bare_title_note(bare_titles: int, rows: int) -> str:
    """What predict says on stderr when some of the `rows` postings scored are titles alone."""
    verb = "has" if bare_titles == 1 else "have"
    return (
        f"note: {bare_titles:,} of {rows:,} posting{'' if rows == 1 else 's'} scored {verb} {config.BARE_TITLE_WORDS} "
        "words or fewer, as a job title alone does: that gives both models little to read, and a line of duties beside "
        'the title helps (README, "Out of scope")'
    )


def format_chunk(rows: list[dict], chunk: Chunk, formatter) -> FormattedChunk:
    """A scored chunk rendered by `formatter`, with what the progress line and the summary count; the input columns
    the chunk keeps go into its rows here, so that both engines pass them through alike."""
    for column, values in chunk.kept.items():
        for row, value in zip(rows, values, strict=True):
            row[column] = value
    for index, message in chunk.text_errors.items():  # rows already refused as having no text: why, exactly
        rows[index][config.ERROR_FIELD] = message
    failed = next(
        ((index, row["id"], row[config.ERROR_FIELD]) for index, row in enumerate(rows) if row[config.ERROR_FIELD]),
        None,
    )
    text = formatter.rows(rows, chunk.texts)
    # Only rows that were scored: a text refused as too long (one 200,000-character word) is no title.
    scored = [text for text, row in zip(chunk.texts, rows, strict=True) if not row[config.ERROR_FIELD]]
    return FormattedChunk(len(rows), text, failed, tally(rows), chunk.position, count_bare_titles(scored))


def score_and_format(model: Model, chunk: Chunk, options: ScoreOptions, formatter) -> FormattedChunk:
    return format_chunk(score_chunk(model, chunk, options), chunk, formatter)


# Worker processes inherit the loaded model through fork, so no worker reloads or re-verifies the file.
_WORKER_MODEL: Model | None = None


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
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    from pipeline.process import pool_started, reset_signals_in_worker

    global _WORKER_MODEL
    _WORKER_MODEL = model
    pool_started()
    # A process pool, not multiprocessing.Pool: Pool quietly replaces a dead worker and waits forever for the
    # chunk it held, while the executor marks itself broken and every waiting result raises.
    executor = ProcessPoolExecutor(
        jobs, mp_context=multiprocessing.get_context("fork"), initializer=reset_signals_in_worker
    )
    finished = False
    workers: list = []
    try:
        # Mapping the whole input would read it all ahead; a bounded queue keeps memory flat.
        pending: deque = deque()
        for chunk in chunks:
            pending.append(executor.submit(_score_in_worker, chunk, options, formatter))
            if not workers:
                workers = multiprocessing.active_children()  # a forked pool starts them all at its first submit
            if len(pending) >= 2 * jobs:
                yield _result(pending.popleft(), workers)
        while pending:
            yield _result(pending.popleft(), workers)
        finished = True
    except BrokenProcessPool:
        raise WorkerError(
            "a worker process died (killed, or out of memory?); the run was stopped: run it again, with fewer --jobs "
            "if memory is short"
        ) from None
    finally:
        if not finished:
            # Interrupted, failed or abandoned by the reader: stop the workers now rather than finish their chunks.
            for child in multiprocessing.active_children():
                child.terminate()
        executor.shutdown(wait=finished, cancel_futures=True)


def _result(future, workers: list) -> FormattedChunk:
    """A worker's chunk, waited for in short steps, so that the wait cannot outlast the run.

    A wait with no end hung a run stopped by `kill` on its process group: the kernel may hand the signal to one of
    the pool's threads, which leaves the main thread asleep until a chunk comes back, and none came, as the pool's
    own thread waited forever on the rest of a chunk its worker, killed while it sent it, never finished. Each step
    lets Python run a signal handler that is due, and looks whether a worker has died."""
    from concurrent.futures.process import BrokenProcessPool
    from multiprocessing.connection import wait

    while True:
        try:
            return future.result(timeout=config.WORKER_CHECK_SECONDS)
        except TimeoutError:  # concurrent.futures' own since Python 3.11
            if wait([worker.sentinel for worker in workers], timeout=0):
                raise BrokenProcessPool from None


def explanation_fields(options: ScoreOptions) -> list[str]:
    """The explanation fields a row has: none without --explain; the scope model's too when it scores."""
    if not options.explain:
        return []
    scope = [config.SCOPE_EXPLANATION_FIELD] if options.scope_threshold is not None else []
    return [config.EXPLANATION_FIELD, *scope]


def output_fields(options: ScoreOptions, keep_columns: tuple[str, ...] = ()) -> list[str]:
    """The fields of an output row, in order: the id, the input columns kept, then the results."""
    fields = list(config.OUTPUT_FIELDS) + [config.NEEDS_REVIEW_FIELD]
    if options.scope_threshold is not None:
        fields += list(config.SCOPE_FIELDS)
    fields = [fields[0], *keep_columns, *fields[1:]]
    return fields + explanation_fields(options) + [config.ERROR_FIELD]


def format_explanation(items: list[dict] | None) -> str:
    return "; ".join(f"{item['ngram']} ({item['weight']:+.3f})" for item in items or [])


_LINE_BREAKS_ESCAPED = (("\x85", "\\u0085"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))


class JsonlFormatter:
    """One JSON object per line."""

    def __init__(self, fields: list[str], keep_formulas: bool = False) -> None:
        self.fields = fields

    def header(self) -> str:
        return ""

    def rows(self, rows: list[dict], texts: list[str | None] | None = None) -> str:
        text = "".join(json.dumps({f: row.get(f) for f in self.fields}, ensure_ascii=False) + "\n" for row in rows)
        # JSON allows these three raw inside a string, but Python's str.splitlines and JavaScript before ES2019 end a
        # line at them, cutting a record in two; escaped, each line is one record however it is split.
        for character, escaped in _LINE_BREAKS_ESCAPED:
            text = text.replace(character, escaped)  # far faster than str.translate on text that is not ASCII
        return text


def neutralise_formula(value: str) -> str:
    """Prefix a cell a spreadsheet would run as a formula with ', which shows it as the text it is."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def strip_control(text: str) -> str:
    """Drop control characters, so no escape sequence or reordering in the data reaches the terminal."""
    return _CONTROL.sub("", text)


class CsvFormatter:
    """CSV with a header; explanations as 'ngram (+weight); ...'; ids, kept input columns and their names that look
    like formulas are neutralised."""

    def __init__(self, fields: list[str], keep_formulas: bool = False) -> None:
        self.fields = fields
        self.keep_formulas = keep_formulas
        # The input's own values: the id and any column kept (--keep-column), never a result of ours.
        self.from_input = {"id", *(f for f in fields if f not in config.RESULT_FIELDS)}

    def _write(self, rows: list[list]) -> str:
        buffer = io.StringIO()
        plain = csv.writer(buffer, lineterminator="\n")
        plain.writerows(rows)
        # A CR in the output can only come from a value: a check of what was written, not of every cell.
        if "\r" not in buffer.getvalue():
            return buffer.getvalue()
        # The writer quotes a field holding its line terminator, "\n", but not a lone CR, which CSV readers end a
        # row at: an id or kept value with one split its row in two, and labels landed on the wrong ids.
        buffer = io.StringIO()
        plain = csv.writer(buffer, lineterminator="\n")
        quoted = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)
        for row in rows:
            (quoted if any(isinstance(value, str) and "\r" in value for value in row) else plain).writerow(row)
        return buffer.getvalue()

    def header(self) -> str:
        # A kept column's name is the input's too: `=HYPERLINK(...)` as a name ran in the header's cell.
        return self._write([[self._neutralised(f) if f in self.from_input else f for f in self.fields]])

    def _neutralised(self, value: str) -> str:
        return value if self.keep_formulas else neutralise_formula(value)

    def rows(self, rows: list[dict], texts: list[str | None] | None = None) -> str:
        def cell(row: dict, field: str):
            value = row.get(field)
            if field in (config.EXPLANATION_FIELD, config.SCOPE_EXPLANATION_FIELD):
                return format_explanation(value)
            if isinstance(value, bool):
                return str(value).lower()
            if field in self.from_input and value is not None:
                return self._neutralised(str(value))
            return "" if value is None else value

        return self._write([[cell(row, f) for f in self.fields] for row in rows])


def cells(text: str) -> int:
    """The terminal cells `text` fills: two for a wide character (Chinese, Japanese, Korean), none for a combining
    mark, one for any other."""
    return sum(_CELLS.get(east_asian_width(c), 1) if not combining(c) else 0 for c in text)


_CELLS = {"W": 2, "F": 2}


def _first_cells(text: str, width: int) -> str:
    """The longest start of `text` that fills at most `width` cells."""
    used = 0
    for end, character in enumerate(text):
        used += cells(character)
        if used > width:
            return text[:end]
    return text


def shorten(text: str, width: int) -> str:
    """`text` cut to `width` cells, with an ellipsis where it was cut; only its first `width` cells are looked at
    (a table row measured a whole posting, a character at a time)."""
    fits = _first_cells(text, width)
    return text if len(fits) == len(text) else _first_cells(text, max(width - 1, 0)) + "…"


def shorten_middle(text: str, width: int) -> str:
    """`text` cut to `width` cells by dropping its middle: ids such as JOB-2026-000123 differ at the end, or the
    start."""
    if cells(text) <= width:
        return text
    head = (width - 1) // 2
    tail = _first_cells(text[::-1], width - 1 - head)[::-1]
    return _first_cells(text, head) + "…" + tail


def padded(text: str, width: int, right: bool = False) -> str:
    """`text` padded with spaces to `width` cells, on the left when `right` aligns it there."""
    space = " " * max(width - cells(text), 0)
    return space + text if right else text + space


# Widths of the table's columns: ids get at least ID_MIN (row numbers up to 999,999 stay whole, though the width
# is set from the first chunk) and at most a quarter of the line; the text gets the rest.
ID_MIN, TEXT_MIN = 6, 20
TABLE_COLUMNS = (("label", 5), ("p(label)", 8), ("review", 6))


def table_id_width(ids: list[str], width: int) -> int:
    """The id column's width: the longest id seen, within [ID_MIN, a quarter of the line]."""
    longest = max((cells(str(i)) for i in ids), default=ID_MIN)
    return max(ID_MIN, min(longest, width // 4))


class TableFormatter:
    """An aligned table for people at a terminal: id, label, the probability of that label, review, the text.

    The line fits `width` (the terminal's); ids too long for their column keep their start and end. With
    explanations, each row is followed by an indented `why:` line; weights are log-odds toward KPO (+) or BPO (-).
    """

    def __init__(self, fields: list[str], width: int = 100, id_width: int = 10, keep_formulas: bool = False) -> None:
        self.explain = config.EXPLANATION_FIELD in fields
        self.width = width
        self.id_width = id_width
        fixed = id_width + sum(w + 1 for _, w in TABLE_COLUMNS) + 1
        self.text_width = max(TEXT_MIN, width - fixed)

    def _line(self, row_id: str, values: list[str], tail: str) -> str:
        columns = " ".join(padded(cell, w, right=i == 1) for i, (cell, (_, w)) in
                           enumerate(zip(values, TABLE_COLUMNS, strict=True)))  # fmt: skip
        return (
            f"{padded(shorten_middle(row_id, self.id_width), self.id_width)} {columns} {shorten(tail, self.text_width)}"
        )

    def header(self) -> str:
        return self._line("id", [name for name, _ in TABLE_COLUMNS], "text").rstrip() + "\n"

    def rows(self, rows: list[dict], texts: list[str | None] | None = None) -> str:
        lines = []
        for index, row in enumerate(rows):
            label = row["label"]
            probability = row.get("p_kpo" if label == config.KPO else "p_bpo")
            shown = "" if probability is None else f"{probability:.3f}"
            review = "yes" if row.get(config.NEEDS_REVIEW_FIELD) else ""
            if row.get(config.ERROR_FIELD):
                tail = f"error: {row[config.ERROR_FIELD]}"
            else:
                # The text as scored: a posting in HTML shows its words, not its tags.
                tail = " ".join(plain_text(texts[index] or "").split()) if texts else ""
            if row.get(config.OUT_OF_SCOPE_FIELD):
                tail = f"[out of scope: {row[config.SCOPE_REASON_FIELD]}] {tail}"
            row_id = strip_control(str(row["id"]))
            lines.append(self._line(row_id, [label, shown, review], strip_control(tail)).rstrip())
            if self.explain and row.get(config.EXPLANATION_FIELD):
                lines.append(shorten("    why: " + format_explanation(row[config.EXPLANATION_FIELD]), self.width))
            if row.get(config.OUT_OF_SCOPE_FIELD) and row.get(config.SCOPE_EXPLANATION_FIELD):
                scope_why = format_explanation(row[config.SCOPE_EXPLANATION_FIELD])
                lines.append(shorten("    out of scope because: " + scope_why, self.width))
        return "".join(line + "\n" for line in lines)


FORMATTERS = {"jsonl": JsonlFormatter, "csv": CsvFormatter, "table": TableFormatter}
