"""Read postings from CSV, JSONL or plain-text files and stdin, in chunks, with errors a user can act on."""

from __future__ import annotations

import codecs
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline import config
from pipeline.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

STDIN = "-"
_BLOCK = 1 << 16
_SEPARATORS = ",;\t|"
_SUFFIX_FORMATS = {".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".txt": "txt"}


@dataclass
class Chunk:
    """A run of consecutive input rows: their ids and texts (None where a row has no usable text)."""

    ids: list[str]
    texts: list[str | None]
    # Bytes of the input read by the time this chunk was made (a little ahead of it: readers buffer).
    position: int | None = None


class DecodingReader(io.TextIOBase):
    """A text stream over bytes that reports the file and byte offset of the first undecodable byte."""

    def __init__(self, raw: io.BufferedIOBase, name: str, encoding: str, owns_raw: bool = True) -> None:
        self._raw = raw
        self._owns_raw = owns_raw
        self._name = name
        self._encoding = encoding
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        self._offset = 0
        self._buffer = ""
        self._eof = False
        self._first = True

    def readable(self) -> bool:
        return True

    @property
    def position(self) -> int:
        """Bytes read from the underlying file so far."""
        return self._offset

    def close(self) -> None:
        """Close the underlying file, but never stdin, which belongs to the process."""
        if self._owns_raw:
            self._raw.close()
        super().close()

    def _fill(self) -> None:
        block = self._raw.read(_BLOCK)
        if self._first:
            self._first = False
            if b"\x00" in block[:4096] and not self._encoding.lower().startswith("utf-16"):
                raise DataError(f"{self._name} looks like a binary file, not CSV, JSONL or text")
        try:
            self._buffer += self._decoder.decode(block, final=not block)
        except UnicodeDecodeError as error:
            raise DataError(
                f"{self._name} is not valid {self._encoding} at byte {self._offset + error.start}; "
                f"pass --encoding (for example --encoding latin-1) to read it"
            ) from None
        self._offset += len(block)
        self._eof = not block

    def read(self, size: int | None = -1) -> str:
        if size is None or size < 0:
            while not self._eof:
                self._fill()
            text, self._buffer = self._buffer, ""
            return text
        while len(self._buffer) < size and not self._eof:
            self._fill()
        text, self._buffer = self._buffer[:size], self._buffer[size:]
        return text

    def readline(self, size: int | None = -1) -> str:
        while "\n" not in self._buffer and not self._eof:
            self._fill()
        cut = self._buffer.find("\n")
        cut = len(self._buffer) if cut < 0 else cut + 1
        line, self._buffer = self._buffer[:cut], self._buffer[cut:]
        return line

    def __iter__(self) -> Iterator[str]:
        while True:
            line = self.readline()
            if not line:
                return
            yield line


def open_text(source: str | Path, encoding: str = "utf-8-sig") -> DecodingReader:
    """Open a path, or stdin for '-', as a checked text stream; a leading BOM is dropped by utf-8-sig."""
    if str(source) == STDIN:
        return DecodingReader(sys.stdin.buffer, "standard input", encoding, owns_raw=False)
    path = Path(source)
    if path.is_dir():
        raise DataError(f"{path} is a directory; pass a CSV, JSONL or TXT file")
    try:
        raw = open(path, "rb")  # noqa: SIM115 - closed by the caller through the reader
    except FileNotFoundError:
        raise DataError(f"input file {path} does not exist") from None
    except OSError as error:
        raise DataError(f"cannot read {path}: {error.strerror}") from None
    return DecodingReader(raw, str(path), encoding)


def detect_format(source: str | Path, explicit: str | None = None) -> str:
    """Pick the input format: the explicit choice, else the file suffix; stdin defaults to one posting per line."""
    if explicit:
        return explicit
    if str(source) == STDIN:
        return "txt"
    suffix = Path(source).suffix.lower()
    if suffix not in _SUFFIX_FORMATS:
        raise DataError(f"cannot tell the format of {source} from its suffix; pass --input-format csv, jsonl or txt")
    return _SUFFIX_FORMATS[suffix]


def sniff_separator(header: str) -> str:
    """Guess a CSV separator from the header line: the most frequent of , ; tab | outside quotes."""
    unquoted = header.split('"')[::2]
    counts = {sep: sum(part.count(sep) for part in unquoted) for sep in _SEPARATORS}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


def _join_texts(frame: pd.DataFrame, text_columns: list[str]) -> list[str | None]:
    texts: list[str | None] = []
    for values in zip(*(frame[c].tolist() for c in text_columns), strict=True):
        parts = [str(v).strip() for v in values if isinstance(v, str) and v.strip()]
        texts.append("\n".join(parts) if parts else None)
    return texts


def _check_columns(needed: list[str], present: list[str], name: str) -> None:
    missing = [c for c in needed if c not in present]
    if missing:
        raise DataError(
            f"{name} has no column {', '.join(repr(c) for c in missing)}; its columns are: "
            f"{', '.join(repr(c) for c in present) or '(none)'}; choose with --text-column / --id-column"
        )


def iter_csv(
    stream: DecodingReader,
    text_columns: list[str],
    id_column: str | None,
    chunk_size: int,
    separator: str | None = None,
) -> Iterator[Chunk]:
    """Yield chunks of a CSV; quoted fields may hold separators and newlines."""
    import pandas as pd  # imported here: plain-text and JSONL scoring never pays for pandas

    header, combined = _csv_with_header(stream, f"{stream._name} is empty: a CSV needs at least a header row")
    separator = separator or sniff_separator(header)
    try:
        reader = pd.read_csv(
            combined,
            sep=separator,
            dtype=str,
            keep_default_na=False,
            chunksize=chunk_size,
            engine="c",
        )
        row_number = 0
        for frame in reader:
            _check_columns(text_columns + ([id_column] if id_column else []), list(frame.columns), stream._name)
            ids = (
                frame[id_column].astype(str).tolist()
                if id_column
                else [str(row_number + i + 1) for i in range(len(frame))]
            )
            row_number += len(frame)
            yield Chunk(ids=ids, texts=_join_texts(frame, text_columns))
    except pd.errors.EmptyDataError:
        raise DataError(f"{stream._name} is empty: a CSV needs at least a header row") from None
    except pd.errors.ParserError as error:
        raise DataError(f"{stream._name} is not a well-formed CSV: {str(error).strip()}") from None


def _csv_with_header(stream: DecodingReader, empty_message: str) -> tuple[str, io.TextIOBase]:
    """Read the header line (for sniffing the separator) and return it with a stream that starts again at it."""
    header = stream.readline()
    if not header.strip():
        raise DataError(empty_message)
    # pandas re-reads the header itself, so quoting rules stay pandas' own.
    return header, _Concat(io.StringIO(header), stream)


def _json_records(stream: DecodingReader) -> Iterator[tuple[int, object]]:
    """Yield (line number, parsed value) for each non-blank line; a malformed line is an error naming it."""
    for line_number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            yield line_number, json.loads(line)
        except json.JSONDecodeError as error:
            raise DataError(f"{stream._name} line {line_number} is not valid JSON: {error.msg}") from None


class _Concat(io.TextIOBase):
    """Two text streams read as one (the already-read header, then the rest)."""

    def __init__(self, first: io.StringIO, second: DecodingReader) -> None:
        self._first, self._second = first, second

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> str:
        text = self._first.read(size)
        if size is None or size < 0:
            return text + self._second.read()
        if len(text) < size:
            text += self._second.read(size - len(text))
        return text

    def readline(self, size: int | None = -1) -> str:
        line = self._first.readline()
        return line if line else self._second.readline()

    def __iter__(self) -> Iterator[str]:
        while line := self.readline():
            yield line


def iter_jsonl(
    stream: DecodingReader, text_columns: list[str], id_column: str | None, chunk_size: int
) -> Iterator[Chunk]:
    """Yield chunks of a JSON-lines file; blank lines are skipped, a malformed line is an error with its number."""
    ids: list[str] = []
    texts: list[str | None] = []
    record_number = 0
    for line_number, record in _json_records(stream):
        if not isinstance(record, dict):
            raise DataError(f"{stream._name} line {line_number} is not a JSON object")
        record_number += 1
        if id_column is not None and id_column not in record:
            raise DataError(
                f"{stream._name} line {line_number} has no field {id_column!r}; its fields are: "
                f"{', '.join(map(repr, record)) or '(none)'}"
            )
        if record_number == 1:
            _check_columns(text_columns, list(record), f"{stream._name} line {line_number}")
        ids.append(str(record[id_column]) if id_column else str(record_number))
        parts = []
        for column in text_columns:
            value = record.get(column)
            if isinstance(value, bool) or value is None or isinstance(value, list | dict):
                continue
            value = str(value).strip()
            if value:
                parts.append(value)
        texts.append("\n".join(parts) if parts else None)
        if len(ids) >= chunk_size:
            yield Chunk(ids, texts)
            ids, texts = [], []
    if ids:
        yield Chunk(ids, texts)


def iter_txt(stream: DecodingReader, chunk_size: int) -> Iterator[Chunk]:
    """Yield chunks of a plain-text file, one posting per line; the id is the line number."""
    ids: list[str] = []
    texts: list[str | None] = []
    for line_number, line in enumerate(stream, start=1):
        text = line.rstrip("\r\n").strip()
        ids.append(str(line_number))
        texts.append(text or None)
        if len(ids) >= chunk_size:
            yield Chunk(ids, texts)
            ids, texts = [], []
    if ids:
        yield Chunk(ids, texts)


def iter_chunks(
    source: str | Path,
    input_format: str | None = None,
    text_columns: tuple[str, ...] = (config.TEXT_COLUMN,),
    id_column: str | None = None,
    chunk_size: int = config.PREDICT.chunk_size,
    encoding: str = "utf-8-sig",
    separator: str | None = None,
) -> Iterator[Chunk]:
    """Yield the postings of `source` in chunks, whatever its format; memory stays flat in the file's size."""
    stream = open_text(source, encoding)
    try:
        kind = detect_format(source, input_format)
        if kind == "csv":
            chunks = iter_csv(stream, list(text_columns), id_column, chunk_size, separator)
        elif kind == "jsonl":
            chunks = iter_jsonl(stream, list(text_columns), id_column, chunk_size)
        else:
            chunks = iter_txt(stream, chunk_size)
        for chunk in chunks:
            chunk.position = stream.position
            yield chunk
    finally:
        stream.close()


def read_labelled(
    path: str | Path,
    text_column: str = config.TEXT_COLUMN,
    label_column: str = config.LABEL_COLUMN,
    input_format: str | None = None,
    encoding: str = "utf-8-sig",
) -> pd.DataFrame:
    """Read a whole labelled file (CSV or JSONL) into a frame, checking its columns and labels."""
    import pandas as pd

    stream = open_text(path, encoding)
    try:
        kind = detect_format(path, input_format)
        if kind == "csv":
            header, combined = _csv_with_header(stream, f"{path} is empty: it needs a header row and labelled rows")
            try:
                frame = pd.read_csv(combined, sep=sniff_separator(header), dtype=str, keep_default_na=False)
            except pd.errors.ParserError as error:
                raise DataError(f"{path} is not a well-formed CSV: {str(error).strip()}") from None
        elif kind == "jsonl":
            frame = pd.DataFrame.from_records([record for _, record in _json_records(stream)])
        else:
            raise DataError(f"{path}: labelled data must be CSV or JSONL, not plain text")
    finally:
        stream.close()
    if frame.empty:
        raise DataError(f"{path} has no rows")
    _check_columns([text_column, label_column], list(frame.columns), str(path))
    frame = frame.rename(columns={text_column: config.TEXT_COLUMN, label_column: config.LABEL_COLUMN})
    check_labels(frame, str(path))
    return frame


def check_labels(frame: pd.DataFrame, name: str) -> None:
    """Refuse labels outside the label set, naming the bad values and the first rows that carry them."""
    labels = frame[config.LABEL_COLUMN].astype(str).str.strip()
    bad = ~labels.isin(config.LABELS)
    if bad.any():
        values = sorted(set(labels[bad]))
        rows = [str(i + 1) for i in frame.index[bad][:10]]
        raise DataError(
            f"{name} has labels outside {', '.join(config.LABELS)}: {', '.join(repr(v) for v in values[:10])} "
            f"(data rows {', '.join(rows)}{'...' if bad.sum() > 10 else ''})"
        )
    frame[config.LABEL_COLUMN] = labels
