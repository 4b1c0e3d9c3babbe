"""Read postings from CSV, JSONL or plain-text files and stdin, in chunks, with errors a user can act on."""

from __future__ import annotations

import codecs
import contextlib
import csv
import importlib
import io
import json
import os
import re
import shlex
import stat
import sys
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline import config
from pipeline.errors import DataError
from pipeline.files import RepeatedKey, object_without_repeats
from pipeline.markup import plain_text

if TYPE_CHECKING:
    import pandas as pd

_BLOCK = 1 << 16
_SEPARATORS = ",;\t|"
# A column name as exports write them: a word of letters, digits, _ . -, with no spaces (title, job_id, Job.Ref).
_HEADER_CELL = re.compile(r"[^\W\d][\w.-]{0,39}")
# The words spreadsheets name their columns with ("Job ID", "Date Posted (UTC)", "Company Name/Employer"): a cell
# most of whose words are among them is a column's name, and a line with two such cells is a header, where a line of
# postings has none ("flexible location", "good salary" and "company laptop" are half such words at most).
_COLUMN_WORDS = frozenset(
    ("id", "ids", "ref", "reference", "requisition", "req", "job", "jobs", "title", "titles", "description", "text",
     "body", "summary", "details", "url", "link", "date", "posted", "created", "updated", "utc", "location", "city",
     "country", "company", "employer", "organisation", "organization", "department", "salary", "currency",
     "category", "name", "posting", "advert", "requirements", "responsibilities", "email", "industry", "sector")
)  # fmt: skip
_SUFFIX_FORMATS = {".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".txt": "txt"}
# Workbooks people export job postings to: named as such, since the fix (save the sheet as CSV) is theirs to make.
_WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods", ".numbers")
# Documents a posting is written in: named as such, with the way to give their text, as workbooks are.
_DOCUMENT_SUFFIXES = {".docx": "a Word document", ".doc": "a Word document", ".odt": "a text document",
                      ".rtf": "a rich-text document", ".pages": "a Pages document", ".pdf": "a PDF"}  # fmt: skip
_SAVE_DOCUMENT_AS_TEXT = (
    "copy its postings into a .txt file, one per line, to score them (or a CSV with text and label columns, for "
    "labelled data)"
)
# Longer than any path Linux accepts (PATH_MAX): such an argument is a posting, whatever it ends with.
_LONGEST_FILE_NAME = 4096
# Suffixes of the files predict reads, and of the workbooks, documents and archives it names: what a model file is
# never called.
DATA_SUFFIXES = (*_SUFFIX_FORMATS, *_WORKBOOK_SUFFIXES, *_DOCUMENT_SUFFIXES, *config.ARCHIVE_SUFFIXES)
# Suffixes of files that hold labelled postings: every format predict reads except plain text, which has no label.
LABELLED_SUFFIXES = tuple(suffix for suffix, kind in _SUFFIX_FORMATS.items() if kind != "txt")
# Compressed data by its first bytes (patterns matched at the start), which a file without a compression suffix
# (or a pipe) may still hold: its kind, the suffix under which it is read here (None: the standard library cannot
# stream it) and what else to do.
_COMPRESSED_STARTS = {
    re.compile(rb"\x1f\x8b"): ("gzip-compressed", ".gz", "decompress it first (zcat)"),
    # bzip2's start is letters ("BZh9"), so its first block's marker ("1AY&SY", or the end's) is checked too.
    re.compile(rb"BZh[1-9](1AY&SY|\x17rE8P\x90)"): ("bzip2-compressed", ".bz2", "decompress it first (bzcat)"),
    re.compile(rb"\xfd7zXZ\x00"): ("xz-compressed", ".xz", "decompress it first (xzcat)"),
    re.compile(rb"\x28\xb5\x2f\xfd"): ("zstd-compressed", None, "decompress it first (zstdcat)"),
}
_ZIP_START = b"PK\x03\x04"
# What a zip archive's first entries name (Office Open XML folders, an OpenDocument's mimetype entry): a Word
# document or a workbook saved under a .csv or .txt name, each with its own way out.
_ZIPPED_DOCUMENTS = (
    (re.compile(rb"word/|opendocument\.text"), "a Word document", _SAVE_DOCUMENT_AS_TEXT),
    (re.compile(rb"xl/|opendocument\.spreadsheet"), "a spreadsheet workbook", "save the sheet as CSV (UTF-8)"),
)
_DOCUMENT_STARTS = (
    # A version number after the marker, as every PDF and RTF file has: a posting that starts "%PDF-A archivist"
    # or "{\rtf templates" is text.
    (re.compile(rb"%PDF-\d\.\d"), "a PDF", _SAVE_DOCUMENT_AS_TEXT),
    # Compound files: Word, Excel and PowerPoint before 2007 (.doc, .xls).
    (re.compile(rb"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"), "an Office document of the 1997-2003 kind (.doc or .xls)",
     "save it as CSV (UTF-8) or plain text"),
    (re.compile(rb"\{\\rtf1[\\{ ]"), "a rich-text document", _SAVE_DOCUMENT_AS_TEXT),
)  # fmt: skip
# The name pandas gives a column it finds beyond the header, so that a trailing separator never shifts columns.
_BEYOND_HEADER = "\x00beyond the header"
# The name pandas gives a column whose name the header repeats and the run does not read, which no name asked for
# matches (pandas' own "title.1" could be a column's name).
_LEFT_OUT = "\x00repeated name"


class JsonNumber(str):
    """A JSON number kept as the text it was written as: 1e400 stays 1e400, and 5,000 digits need no int()."""


def loads_json(line: str):
    """Parse one JSON value; numbers stay JsonNumber text, so ids and texts read back exactly as written. An
    object that repeats a key raises RepeatedKey."""
    value = json.loads(
        line,
        parse_int=JsonNumber,
        parse_float=JsonNumber,
        parse_constant=JsonNumber,
        object_pairs_hook=object_without_repeats,
    )
    # Only an escape can give a string half a UTF-16 pair (text cut by UTF-16 length, as JavaScript's slice cuts).
    return _without_lone_surrogates(value) if "\\u" in line else value


# Half a UTF-16 surrogate pair, which no UTF-8 output can hold (json.loads joins every whole pair into its character).
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _without_lone_surrogates(value):
    """The value with each lone surrogate in its strings, keys too, read as U+FFFD, as a decoder reads a broken
    byte: written out, one stopped the run with a UnicodeEncodeError. json.loads has already joined every whole
    pair into its character, so any surrogate left is alone."""
    if isinstance(value, str):
        return LONE_SURROGATE.sub("\ufffd", value) if LONE_SURROGATE.search(value) else value
    if isinstance(value, list):
        return [_without_lone_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {_without_lone_surrogates(key): _without_lone_surrogates(item) for key, item in value.items()}
    return value


def render_id(value) -> str:
    """An id as text: a string as it is, anything else as JSON writes it (null, true, 1e400, [1,2])."""
    if isinstance(value, str):
        return str(value)
    return render_json(value)


def render_json(value) -> str:
    """A JSON value as the file wrote it: numbers kept as JsonNumber text are bare digits, not quoted texts."""
    if isinstance(value, JsonNumber):
        return str(value)
    if isinstance(value, list):
        return "[" + ",".join(render_json(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{render_json(v)}" for k, v in value.items()) + "}"
    return json.dumps(value, ensure_ascii=False)


def is_json_string(value) -> bool:
    """True for a JSON string, false for a number (even one kept as JsonNumber text), null, bool, list or object."""
    return isinstance(value, str) and not isinstance(value, JsonNumber)


@dataclass
class Chunk:
    """A run of consecutive input rows: their ids and texts (None where a row has no usable text)."""

    ids: list[str]
    texts: list[str | None]
    # Bytes of the input read by the time this chunk was made (a little ahead of it: readers buffer).
    position: int | None = None
    # The input columns passed through to the output (--keep-column), each with one value per row: a CSV cell as
    # it is; in JSON lines, a string as it is and any other value as JSON writes it; None for a missing field.
    kept: dict[str, list[str | None]] = field(default_factory=dict)
    # The numbers of the data rows (counted from 1 in the whole input) whose every cell is its column's name: the
    # header again, as files joined with cat have it. They are scored as any row; predict says which they are.
    header_again: list[int] = field(default_factory=list)
    # Where rows are numbered for want of an `id` column: the columns that look like ids (id_like_columns).
    id_like: list[str] = field(default_factory=list)
    # The names a CSV's header repeats that the run reads no column of: those columns are left out, and predict says
    # so (a column it reads by a repeated name would be one of two, and is refused).
    repeats_left_out: list[str] = field(default_factory=list)
    # Rows (by their place in the chunk) whose text is no text at all, a JSON array, object, true or false: the
    # error their row gets instead of "empty or missing text", which the value plainly is not.
    text_errors: dict[int, str] = field(default_factory=dict)


# While pandas reads a CSV, a CR inside a row stands as two noncharacters (reserved by Unicode for a program's own
# use), and a noncharacter the input holds itself as two more, so that every escape reads back exactly
# (DecodingReader._escape_stray_crs, unescape_stray_crs). A CR is stray where it is not one of a run of CRs that an
# LF, or the input's end, closes: CR LF, and CR CR LF (Python's csv module on Windows), end a line.
_ESCAPE = "\uffff"
STRAY_CR = _ESCAPE + "\ufffe"
# Each noncharacter the input holds, and what stands for it.
_ESCAPES = {_ESCAPE: _ESCAPE + _ESCAPE, "\ufffe": _ESCAPE + "\ufffd"}
_UNESCAPES = {"\ufffe": "\r", _ESCAPE: _ESCAPE, "\ufffd": "\ufffe"}
_NONCHARACTER = re.compile("[\ufffe\uffff]")
_STRAY_CR = re.compile(r"\r(?!\r*(?:\n|\Z))")
_ESCAPED = re.compile(_ESCAPE + "(.)", re.S)


def unescape_stray_crs(text: str) -> str:
    """`text` as the input wrote it: each stray CR and each noncharacter escaped while it was read put back."""
    # A pair it never wrote (a noncharacter read before the file's line ends were known) is left as it stands.
    return _ESCAPED.sub(lambda match: _UNESCAPES.get(match[1], match[0]), text) if _ESCAPE in text else text


class DecodingReader(io.TextIOBase):
    """A text stream over bytes that reports the file and byte offset of the first undecodable byte.

    With `universal_newlines`, a lone CR and CR LF end a line as LF does (old Mac and Windows text). A line of
    more than `max_line_chars` characters with no line end stops the read with an error, so an endless stream
    (`tr '\\0' a </dev/zero`) cannot run until memory runs out; reading stays linear in the line's length.
    """

    def __init__(
        self,
        raw: io.BufferedIOBase,
        name: str,
        encoding: str | None,
        owns_raw: bool = True,
        universal_newlines: bool = False,
        max_line_chars: int | None = None,
        encoding_option: bool = True,
        compressed: io.BufferedIOBase | None = None,
    ) -> None:
        self._raw = raw
        # The compressed file that `raw` decompresses, if any: progress is its offset, not the text's.
        self._compressed = compressed
        # Whether the command that reads this has --encoding: a message about the encoding names it, or else
        # asks for the file to be saved as UTF-8.
        self._encoding_option = encoding_option
        self._owns_raw = owns_raw
        self._name = name
        # None: no encoding was given, and a UTF-16 byte order mark at the start is read as what it says.
        self._follows_mark = encoding is None
        self._encoding = encoding or config.INPUT_ENCODING
        self._universal_newlines = universal_newlines
        self._decoder = self._new_decoder()
        # Without universal newlines (a CSV, whose CR LF and CR inside quoted fields pandas keeps), a file whose
        # lines end in a lone CR (Excel for Mac's "CSV (Macintosh)") is found by its first line end and its CRs
        # read as line ends: otherwise the whole file was one header line. None until that line end is seen.
        self._lone_cr: io.IncrementalNewlineDecoder | bool | None = False if universal_newlines else None
        # In a CSV of LF or CR LF lines, a lone CR inside a row is a character of its field, but pandas ends the row
        # there: "3,Answer calls<CR>with CSAT targets" became two rows, the second with "with CSAT targets" for its
        # id. Such CRs are read as STRAY_CR, which no row ends at, and csv_frames puts them back into the cells.
        self._marks_stray_crs = not universal_newlines
        self.stray_crs = False  # whether any CR or noncharacter was escaped, for readers to put back
        self._held_crs = ""  # the CRs that end a block, which the next block's LF may make a line end
        self._max_line_chars = max_line_chars
        # UTF-16 or UTF-32 without a byte order mark, as the first bytes show, when one of them is read.
        self._unmarked: str | None = None
        self._block_end = b""  # the last bytes of the block before, for a run of one-byte text across two blocks
        self._offset = 0
        self._buffer = ""
        self._eof = False
        self._first = True
        self._marked_utf8 = False  # whether the input starts with UTF-8's byte order mark
        self._read_utf8 = False  # whether any character beyond ASCII has been decoded
        self._line = 1
        self._run = 0  # characters read since the last line end

    def _new_decoder(self) -> codecs.IncrementalDecoder | io.IncrementalNewlineDecoder:
        decoder = codecs.getincrementaldecoder(self._encoding)(errors="strict")
        return io.IncrementalNewlineDecoder(decoder, translate=True) if self._universal_newlines else decoder

    def readable(self) -> bool:
        return True

    @property
    def position(self) -> int:
        """Bytes read from the underlying file so far (of a compressed file, its compressed bytes)."""
        return self._compressed.tell() if self._compressed is not None else self._offset

    def close(self) -> None:
        """Close the underlying file, but never stdin, which belongs to the process."""
        if self._owns_raw:
            self._raw.close()
            if self._compressed is not None:  # a decompressor leaves the file it was given open
                self._compressed.close()
        super().close()

    def _read_block(self) -> bytes:
        """The next block of bytes; a compressed file that is cut short or corrupt is a DataError naming it."""
        if self._compressed is None:
            return self._raw.read(_BLOCK)
        import lzma
        import zlib

        try:
            return self._raw.read(_BLOCK)
        except EOFError:
            raise DataError(f"{self._name} ends before its compressed data does: the file is cut short") from None
        except (OSError, lzma.LZMAError, zlib.error) as error:
            raise DataError(f"{self._name} is not readable compressed data ({error})") from None

    def _decode(self) -> str:
        """Read and decode the next block; '' at the end of the input."""
        block = self._read_block()
        if self._first:
            self._first = False
            # UTF-32's mark starts as UTF-16-LE's does, and is told apart first: it is refused below, as it was.
            marked = _marked_wide_encoding(block)
            if self._follows_mark and marked in ("utf-16-le", "utf-16-be") and _bears_out_its_mark(block, marked):
                # Such a file was refused until --encoding utf-16 was given. Where the bytes after the mark are not
                # UTF-16, _check_start refuses it: read as UTF-16, one-byte text was scored as other characters.
                self._encoding = config.MARKED_ENCODING
                self._decoder = self._new_decoder()
            self._check_start(block)
            self._marked_utf8 = block.startswith(codecs.BOM_UTF8)
            if block.startswith(codecs.BOM_UTF8) and not codecs.lookup(self._encoding).name.startswith("utf"):
                # A UTF-8 mark read as cp1252 or latin-1 was three characters joined to the first column's name:
                # `id` went unfound, and every row got its number for an id without a word. It is never text.
                self._offset, block = len(codecs.BOM_UTF8), block[len(codecs.BOM_UTF8) :]
        if codecs.lookup(self._encoding).name.startswith("utf-16"):
            self._refuse_one_byte_text(block)
        try:
            text = self._decoder.decode(block, final=not block)
        except UnicodeDecodeError as error:
            # UTF-8 read well before the byte (in this block or an earlier one) makes the file a mix of encodings.
            self._read_utf8 = self._read_utf8 or not error.object[: error.start].isascii()
            text_of = " of its decompressed text" if self._compressed is not None else ""
            # The codec's bytes are the block less a mark it dropped (utf-8-sig's), or plus what an earlier block
            # left undecoded: the byte's place in the file counts from the block's start. (It was three short in a
            # file with a mark.)
            at = self._offset + len(block) - len(error.object) + error.start
            raise DataError(
                f"{self._name} is not valid {self._encoding} at byte {at}{text_of} "
                f"(0x{error.object[error.start]:02x}); {self._encoding_hint()}"
            ) from None
        except UnicodeError:
            # Python's UTF-16 codec of that plain name reads the byte order from a mark at the start.
            fix = (
                f"pass --encoding {self._unmarked}"
                if self._unmarked
                else f"pass --encoding {codecs.lookup(self._encoding).name}-le or -be if it is such text, else the "
                "file's own encoding"
            )
            raise DataError(
                f"{self._name} does not start with the byte order mark that --encoding {self._encoding} needs; {fix}"
            ) from None
        self._offset += len(block)
        self._eof = not block
        self._read_utf8 = self._read_utf8 or not text.isascii()
        if self._lone_cr is None:
            self._lone_cr = _lone_cr_line_end(text)
        if self._lone_cr:
            text = self._lone_cr.decode(text, final=not block)
        elif self._lone_cr is False and self._marks_stray_crs:
            text = self._escape_stray_crs(text, final=not block)
        return text

    def _refuse_one_byte_text(self, block: bytes) -> None:
        """Refuse UTF-16 input that holds a run of one-byte text (ASCII, or UTF-8 that is mostly ASCII), as a UTF-16
        file and a UTF-8 one joined with cat do: read as UTF-16, each two of its bytes were one character of another
        script, and its rows were scored so, with exit 0. The end of the block before is searched with it, so that a
        run across the two is found."""
        carried = self._block_end
        found = _ONE_BYTE_TEXT.search(carried + block)
        self._block_end = block[-(_ONE_BYTE_RUN - 1) :]
        if not found:
            return
        at = self._offset - len(carried) + found.start()
        text_of = " of its decompressed text" if self._compressed is not None else ""
        if at <= len(codecs.BOM_UTF16):
            where, advice = "from its start", self._encoding_hint()
        else:
            where = f"from byte {at}{text_of} on"
            advice = (
                "it joins text of two encodings, as cat of a UTF-16 file and a UTF-8 one does: save the parts in one "
                "encoding before joining them"
            )
        raise DataError(
            f"{self._name} is not UTF-16 text {where}: its bytes there are one-byte text (ASCII or UTF-8), which "
            f"read as UTF-16 would be characters of another script; {advice}"
        )

    def _escape_stray_crs(self, text: str, final: bool) -> str:
        """`text` with each stray CR read as STRAY_CR and each noncharacter it holds escaped; the CRs that end a
        block wait for the next, whose first character decides what they are."""
        text, self._held_crs = self._held_crs + text, ""
        if not final:
            kept = text.rstrip("\r")
            text, self._held_crs = kept, text[len(kept) :]
        if _NONCHARACTER.search(text):
            text = _NONCHARACTER.sub(lambda match: _ESCAPES[match[0]], text)
            self.stray_crs = True
        if "\r" in text:
            escaped = _STRAY_CR.sub(STRAY_CR, text)
            self.stray_crs = self.stray_crs or escaped != text
            text = escaped
        return text

    def _check_start(self, block: bytes) -> None:
        """Recognise compressed data, UTF-16 and UTF-32 text read as something else, and binary files, by their first
        bytes (compressed data first: its magic bytes are certain, and a zip archive's zeros look like UTF-16's)."""
        # Python's own name for it: u16 and UTF_16 are utf-16 too.
        encoding = codecs.lookup(self._encoding).name
        sample = block[:4096]
        if encoding.startswith(("utf-16", "utf-32")):
            # Read as asked; what the bytes look like names the byte order should the codec fail on them.
            marked = _marked_wide_encoding(sample)
            self._unmarked = None if marked else _unmarked_wide_encoding(sample)
            asked, found = encoding, marked or self._unmarked
            # Read in the other byte order, or the other width, every character was another, and the rows were
            # scored as such: a mark names the text's encoding as surely as the asked one's absence of zeros.
            if found and (not asked.startswith(found[:6]) or (asked.endswith(("-le", "-be")) and asked != found)):
                how, advice = (" (its byte order mark says so)", found[:6]) if marked else ("", found)
                raise DataError(
                    f"{self._name} looks like {found.upper()} text{how}, not {asked.upper()}; "
                    f"pass --encoding {advice} to read it"
                )
            return
        if sample.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
            raise DataError(f"{self._name} looks like UTF-32 text; {self._encoding_hint('utf-32')}")
        for magic, (kind, suffix, otherwise) in _COMPRESSED_STARTS.items():
            if magic.match(sample):
                # A file is read as it streams once named for its kind; a pipe, or zstd, is unpacked first.
                if suffix and self._is_regular_file():
                    raise DataError(f"{self._name} is {kind}; name it {Path(self._name).name}{suffix} to read it")
                raise DataError(f"{self._name} is {kind}; {otherwise}")
        document = document_kind(sample)
        if document:
            kind, advice = document
            raise DataError(f"{self._name} is {kind}, not CSV, JSONL or text; {advice}")
        marked = _marked_wide_encoding(sample)
        if marked in ("utf-16-le", "utf-16-be") and not _bears_out_its_mark(sample, marked):
            raise DataError(
                f"{self._name} starts with UTF-16's byte order mark, but the bytes after it do not look like UTF-16 "
                f"text: delete the mark (its first two bytes); if it is UTF-16 text, "
                f"{self._encoding_hint('utf-16')}"
            )
        if marked in ("utf-16-le", "utf-16-be"):
            raise DataError(f"{self._name} looks like UTF-16 text; {self._encoding_hint('utf-16')}")
        unmarked = _unmarked_wide_encoding(sample)
        if unmarked:
            raise DataError(f"{self._name} looks like {unmarked.upper()} text; {self._encoding_hint(unmarked)}")
        if b"\x00" in sample:
            raise DataError(f"{self._name} looks like a binary file, not CSV, JSONL or text")

    def _is_regular_file(self) -> bool:
        """Whether the input is a regular file read as it is, which a compression suffix in its name would have read
        decompressed; stdin, a pipe (`<(gzip -c jobs.csv)`) or a device has no name to change."""
        if not self._owns_raw or self._compressed is not None:
            return False
        try:
            return stat.S_ISREG(os.fstat(self._raw.fileno()).st_mode)
        except (OSError, AttributeError, ValueError):
            return False

    def _encoding_hint(self, detected: str | None = None) -> str:
        """What to do when the bytes are not in the encoding read: pass the `detected` one, or the one a CSV that
        is not UTF-8 most often has, one Excel saved on Windows (cp1252, whose curly quotes and dashes are bytes
        0x80-0x9f that latin-1 reads as control codes); without --encoding, save the file as UTF-8."""
        if not self._encoding_option:
            return "save it as UTF-8 (in Excel: Save As, CSV UTF-8) to use it here"
        detected = detected or self._unmarked
        if detected and detected != codecs.lookup(self._encoding).name:
            return f"pass --encoding {detected} to read it"
        if codecs.lookup(self._encoding).name.startswith("utf-8"):
            advice = "pass --encoding cp1252 to read it (Excel on Windows), or --encoding latin-1, which reads any byte"
            if self._marked_utf8 or self._read_utf8:
                # Most of such a file is UTF-8, which cp1252 reads as other characters: say so, not only the fix.
                # Without a mark, UTF-8 accents or dashes read before the byte tell the same.
                found = "starts with a UTF-8 byte order mark" if self._marked_utf8 else "holds UTF-8 text before it"
                return (
                    f"it {found}, yet mixes in another encoding: fix that byte, or re-save the file as UTF-8, to keep "
                    "every character; --encoding cp1252 (Excel on Windows) or latin-1 reads it, with its UTF-8 "
                    "accents and dashes as other characters (é as Ã©)"
                )
            return advice
        return "pass the file's encoding with --encoding"

    def _count(self, text: str) -> str:
        """Track line numbers and the length of the current line, refusing one longer than the limit."""
        ends = text.count("\n")
        self._line += ends
        self._run = len(text) - text.rfind("\n") - 1 if ends else self._run + len(text)
        if self._max_line_chars is not None and self._run > self._max_line_chars:
            raise DataError(
                # "with no line end" was false of a long line that ends after the limit.
                f"{self._name} line {self._line} runs past {self._max_line_chars:,} characters before any line end: "
                f"this is not a file of postings (raise --max-text-chars for longer postings)"
            )
        return text

    def read(self, size: int | None = -1) -> str:
        pieces = [self._buffer]
        length = len(self._buffer)
        while (size is None or size < 0 or length < size) and not self._eof:
            text = self._decode()
            pieces.append(text)
            length += len(text)
        text = "".join(pieces)
        if size is not None and size >= 0:
            text, self._buffer = text[:size], text[size:]
        else:
            self._buffer = ""
        return self._count(text)

    def readline(self, size: int | None = -1) -> str:
        # Each block is searched once and the pieces joined once: linear in the line's length.
        pieces: list[str] = []
        text = self._buffer
        while True:
            cut = text.find("\n")
            if cut >= 0:
                pieces.append(text[: cut + 1])
                self._buffer = text[cut + 1 :]
                break
            pieces.append(text)
            self._count(text)
            if self._eof:
                self._buffer = ""
                break
            text = self._decode()
        line = "".join(pieces)
        if line.endswith("\n"):
            self._line += 1
            self._run = 0
        return line

    def __iter__(self) -> Iterator[str]:
        while True:
            line = self.readline()
            if not line:
                return
            yield line


def _lone_cr_line_end(text: str) -> io.IncrementalNewlineDecoder | bool | None:
    """A translator of CR and CR LF to LF when `text` is a CSV of lone-CR lines: its first line end is a lone CR,
    and outside quoted fields lone CRs outnumber the other line ends (LF, CR LF). False otherwise; None when `text`
    has no line end yet (or ends in the CR, whose next character is still to come).

    Excel for Mac ends lines in a lone CR and breaks lines inside cells with LF, in quotes, often more of them than
    rows. A stray CR in the header of a file of LF or CR LF lines was taken for the file's line end: the header was
    cut there and its rest scored as a row (a tie is such a file: one stray CR and one row)."""
    end = min((i for i in (text.find("\r"), text.find("\n")) if i >= 0), default=-1)
    if end < 0 or (text[end] == "\r" and end == len(text) - 1):
        return None
    if text[end] != "\r" or text[end + 1] == "\n":
        return False
    lone_crs, other_ends = _line_ends_outside_quotes(text)
    return io.IncrementalNewlineDecoder(None, translate=True) if lone_crs > other_ends else False


# The separators a CSV may have, before it is sniffed: a quote after one of them, or a line end, opens a field.
_ANY_SEPARATOR = ",;\t|"


def _line_ends_outside_quotes(text: str) -> tuple[int, int]:
    """The lone CRs, and the LFs and CR LFs, of `text` that lie outside quoted fields (read as _quote_state reads
    them: `24" monitor` opens none)."""
    lone_crs = other_ends = 0
    state = (False, True)
    pieces = re.split(r"(\r\n|\r|\n)", text)
    for piece, end in zip(pieces[0::2], pieces[1::2], strict=False):  # the last piece has no line end
        state = _quote_state(piece, _ANY_SEPARATOR, *state)
        if not state[0]:
            lone_crs, other_ends = (lone_crs + 1, other_ends) if end == "\r" else (lone_crs, other_ends + 1)
        state = _quote_state(end, _ANY_SEPARATOR, *state)
    return lone_crs, other_ends


def format_suffix(path: str | Path) -> str:
    """The suffix that names a file's format, under any compression suffix: .csv for jobs.csv and jobs.CSV.gz."""
    path = Path(path)
    if config.compression_of(path):
        path = path.with_suffix("")
    return path.suffix.lower()


def unread_document_message(path: str | Path) -> str | None:
    """`jobs.xlsx is a spreadsheet workbook, which is not read; save the sheet as CSV (UTF-8)`, and the like for
    the documents a posting is written in and for archives, by the file's name; None for any other name."""
    kind = document_named(path)
    if kind is None:
        return None
    if format_suffix(path) in _WORKBOOK_SUFFIXES:
        advice = "save the sheet as CSV (UTF-8)"
    elif is_archive_named(path):
        advice = f"extract the file it holds (one compressed as {compressions_written()} is read as it is)"
    else:
        advice = _SAVE_DOCUMENT_AS_TEXT
    return f"{path} is {kind}, which is not read; {advice}"


def document_named(path: str | Path) -> str | None:
    """The kind of document, workbook or archive a file's suffix names (`a spreadsheet workbook` for jobs.xlsx,
    `a zip archive` for jobs.csv.zip), which predict neither reads nor writes; None for any other name."""
    suffix = format_suffix(path)
    if suffix in _WORKBOOK_SUFFIXES:
        return "a spreadsheet workbook"
    return _DOCUMENT_SUFFIXES.get(suffix) or config.ARCHIVE_SUFFIXES.get(suffix)


def is_archive_named(path: str | Path) -> bool:
    """Whether a file's suffix names an archive, or a compression other than .gz, .bz2 and .xz (jobs.csv.zip)."""
    return format_suffix(path) in config.ARCHIVE_SUFFIXES


def compressions_written() -> str:
    """The compression suffixes read and written, for messages: `.gz, .bz2 or .xz`."""
    *others, last = config.COMPRESSION_SUFFIXES
    return f"{', '.join(others)} or {last}"


# What predict reads, and what labelled data may be: named where a folder was given instead.
PREDICT_FILES, LABELLED_FILES = "a CSV, JSONL or TXT file", "a labelled CSV or JSON-lines file"


def check_input_path(path: Path, wanted: str = PREDICT_FILES) -> None:
    """Refuse a folder, or a file that does not exist, in one line that says which, and what to pass instead."""
    if path.is_dir():
        raise DataError(f"{path} is a directory; pass {wanted}")
    if not path.exists():
        hint = " (on this system folders are separated by '/', not '\\')" if windows_path(str(path)) else ""
        raise DataError(f"input file {path} does not exist{hint}")


def windows_path(text: str) -> bool:
    r"""Whether a path is written as Windows writes one (C:\out\scored.csv, out\scored.csv): backslashes and no
    '/'. A name such as ./a\b.csv is a Linux file name, and is left as one."""
    return os.sep == "/" and "\\" in text and "/" not in text


def open_text(
    source: str | Path,
    encoding: str | None = None,
    universal_newlines: bool = False,
    max_line_chars: int | None = None,
    encoding_option: bool = True,
) -> DecodingReader:
    """Open a path, or stdin for '-', as a checked text stream; a leading BOM is dropped by utf-8-sig. Without an
    `encoding`, UTF-8, or UTF-16 where the input starts with its byte order mark. `encoding_option`: whether the
    command reading it takes --encoding (its messages then say to pass one)."""
    if str(source) == config.STANDARD_STREAM:
        if sys.stdin is None:
            raise DataError("standard input is closed; pipe postings in, or pass --input FILE")
        return DecodingReader(
            sys.stdin.buffer,
            config.STANDARD_STREAM_NAME,
            encoding,
            False,
            universal_newlines,
            max_line_chars,
            encoding_option,
        )
    path = Path(source)
    check_input_path(path)
    try:
        raw = open(path, "rb")  # noqa: SIM115 - closed by the caller through the reader
    except OSError as error:
        raise DataError(f"cannot read {path}: {error.strerror}") from None
    compression = config.compression_of(path)
    if compression is None:
        return DecodingReader(raw, str(path), encoding, True, universal_newlines, max_line_chars, encoding_option)
    module = importlib.import_module(compression)
    return DecodingReader(
        module.open(raw, "rb"), str(path), encoding, True, universal_newlines, max_line_chars, encoding_option, raw
    )


def format_of(path: str | Path) -> str | None:
    """The format a file's suffix names (csv, jsonl or txt, under any compression suffix), or None."""
    return _SUFFIX_FORMATS.get(format_suffix(path))


def document_kind(start: bytes) -> tuple[str, str] | None:
    """What kind of document a file's first bytes show (a Word document, a workbook, a PDF...) and the way to give
    its postings as text; None for anything else. A zip archive that none of them is is named as such."""
    if start.startswith(_ZIP_START):
        for names, kind, advice in _ZIPPED_DOCUMENTS:
            if names.search(start):
                return f"{kind} (a zip archive)", advice
        return "a zip archive", "unzip it, or save a spreadsheet's sheet as CSV (UTF-8)"
    for magic, kind, advice in _DOCUMENT_STARTS:
        if magic.match(start):
            return kind, advice
    return None


def detect_format(source: str | Path, explicit: str | None = None, wanted: str = PREDICT_FILES) -> str:
    """Pick the input format: the explicit choice, else the file suffix; stdin defaults to one posting per line.
    `wanted` names the files the command reads, for a folder given instead."""
    if explicit:
        return explicit
    if str(source) == config.STANDARD_STREAM:
        return "txt"
    # A folder or a missing file is named as such: asking for its format would send the user after the wrong fault.
    check_input_path(Path(source), wanted)
    suffix = format_suffix(source)
    unread = unread_document_message(source)
    if unread:
        raise DataError(unread)
    if suffix not in _SUFFIX_FORMATS:
        raise DataError(f"cannot tell the format of {source} from its suffix; pass --input-format csv, jsonl or txt")
    return _SUFFIX_FORMATS[suffix]


def file_name_given_as_text(texts: tuple[str, ...]) -> tuple[str, bool] | None:
    """The first argument that names an input file rather than holding a posting, and whether that file exists;
    None when every argument is a posting.

    `bpo-kpo predict jobs.csv` reads as scoring a file, but arguments are postings: without this check the name
    itself was scored, with exit 0. A name is a word with a readable suffix (jobs.csv, even when missing), or
    any argument that is an existing file and either has such a suffix or holds a path separator.
    """
    for text in texts:
        name = text.strip()
        if not name or "\n" in name or len(name) > _LONGEST_FILE_NAME:
            continue
        readable_suffix = format_suffix(name) in DATA_SUFFIXES or config.compression_of(name) is not None
        one_word = not any(character.isspace() for character in name)
        if not (readable_suffix or "/" in name):
            continue
        exists = is_existing_file(name)
        if (readable_suffix and one_word) or exists:
            return name, exists
    return None


def is_existing_file(name: str) -> bool:
    """Whether `name` is an existing file; a posting that cannot be a path (a part too long, a NUL) is not."""
    try:
        return Path(name).is_file()
    except (OSError, ValueError):
        return False


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


def check_columns(
    needed: list[str],
    present: list[str],
    name: str,
    fix: str = "choose with --text-column / --id-column",
    header: bool = True,
) -> None:
    """Refuse a missing column, naming the columns there are. `needed` starts with the text column; `header`:
    whether the names come from a header line (a CSV's), which may be no header at all."""
    missing = [c for c in needed if c not in present]
    if not missing:
        return
    names = [str(column) for column in present]
    # What the header line really is, where it is no header: a spreadsheet's separator hint (`sep=;`, which
    # Excel writes and pandas took for columns named 'sep=' and 'Unnamed: 1'), or a posting, in a file without one.
    if names and re.fullmatch(r"sep=.?", names[0].strip()):
        raise DataError(f"{name} starts with a spreadsheet's separator hint ({names[0].strip()}...), which is not "
                        "read: delete that first line; the separator is found without it")  # fmt: skip
    # A form's question can head a column too, so a long name is a posting only perhaps; and only where the text
    # column is the one missing.
    headerless = header and needed[0] in missing and any(len(column.split()) >= _POSTING_WORDS for column in names)
    raise DataError(
        f"{name} has no column {', '.join(repr(c) for c in missing)}; its columns are: "
        f"{', '.join(repr(c) for c in present) or '(none)'}; {case_hint(missing, present)}"
        + (f"if its first line is a posting, not a header, add a header line that names the columns "
           f"({', '.join(needed)}); else {fix}" if headerless else fix)
    )  # fmt: skip


# A header names columns in a word or three; a first line of six words or more is a posting, in a file without one.
_POSTING_WORDS = 6


def case_hint(missing: list[str], present: list) -> str:
    """The commonest misses are the case of a name ("Description" for "description") and spaces around it
    (" text ", which an export's header may carry, was only listed): the columns meant, or ''."""
    by_name = {str(c).strip().casefold(): c for c in present}
    meant = [by_name[key] for c in missing if (key := c.strip().casefold()) in by_name]
    if not meant:
        return ""
    spaced = any(str(name) != str(name).strip() for name in [*meant, *missing])
    rule = "names keep their spaces and case" if spaced else "names are case-sensitive"
    return f"{rule}: did you mean {', '.join(map(repr, meant))}? "


def id_like_columns(columns) -> list[str]:
    """The columns that look like ids beside a missing `id` one ("ID", "Job ID", "posting_id", and a first column
    with no name, which is how pandas' to_csv writes its index): ids they hold were replaced by row numbers without
    a word, as only a column named exactly `id` is taken by default. Numbered from 1, a pandas index (from 0) joined
    back on them put every label on the row before."""
    pandas_index = config.UNNAMED_COLUMN.format(position=0)
    return [
        str(column)
        for position, column in enumerate(columns)
        if str(column) != config.ID_COLUMN
        and (
            re.split(r"[\s_.-]+", str(column).strip().casefold())[-1] in (config.ID_COLUMN, "ids")
            or (position == 0 and str(column) == pandas_index)
        )
    ]


def unnamed_columns(source: str | Path, encoding: str | None = None, separator: str | None = None) -> list[str]:
    """The names pandas reads a CSV's columns by whose header cells are empty ('Unnamed: 0' for the first), for the
    message about an empty column name; none where the header cannot be read."""
    try:
        stream = open_text(source, encoding)
        try:
            blank, header = _first_line_of_text(stream)
            separator = separator or sniff_separator(header)
            header = _whole_record(stream, header, separator)
            columns = _csv_fields(header, separator, stream._name, blank.count("\n") + 1)
        finally:
            stream.close()
    except DataError:
        return []
    return [config.UNNAMED_COLUMN.format(position=index) for index, column in enumerate(columns) if column == ""]


def default_id_column(columns) -> str | None:
    """The id column when none is named: the input's own `id` column, which a user keeps ids in, else none (ids
    are then row numbers); replacing the ids a file carries with row numbers would lose them silently."""
    return config.ID_COLUMN if config.ID_COLUMN in columns else None


def iter_csv(
    stream: DecodingReader,
    text_columns: list[str],
    id_column: str | None,
    chunk_size: int,
    separator: str | None = None,
    keep_columns: tuple[str, ...] = (),
) -> Iterator[Chunk]:
    """Yield chunks of a CSV; quoted fields may hold separators and newlines."""
    row_number = 0
    empty = f"{stream._name} is empty: a CSV needs at least a header row"
    first = True
    # The id column read when none is named is the input's `id`, which a repeated `id` leaves in doubt.
    read = {*text_columns, config.ID_COLUMN if id_column is None else id_column, *keep_columns}
    left_out: list[str] = []
    for frame in csv_frames(stream, separator, empty, chunk_size, read, left_out.extend):
        # None only: an empty name is a name no column has, refused as such, not taken for none.
        id_column = default_id_column(frame.columns) if id_column is None else id_column
        id_like = id_like_columns(frame.columns) if first and id_column is None else []
        repeats_left_out, first = left_out if first else [], False
        needed = [*text_columns, *([] if id_column is None else [id_column]), *keep_columns]
        check_columns(needed, list(frame.columns), stream._name, _column_fix(keep_columns))
        ids = (
            [str(row_number + i + 1) for i in range(len(frame))]
            if id_column is None
            else frame[id_column].astype(str).tolist()
        )
        header_again = _rows_naming_their_columns(frame, row_number)
        row_number += len(frame)
        kept = {column: frame[column].tolist() for column in keep_columns}
        yield Chunk(
            ids=ids,
            texts=_join_texts(frame, text_columns),
            kept=kept,
            header_again=header_again,
            id_like=id_like,
            repeats_left_out=repeats_left_out,
        )


def _rows_naming_their_columns(frame: pd.DataFrame, rows_before: int) -> list[int]:
    """The numbers of the rows of `frame` whose every cell is its column's name, counting `rows_before` rows
    above it; none in a one-column file, whose header is one word a posting may be."""
    if len(frame.columns) < 2:
        return []
    # A second file saved with a byte order mark (Excel's CSV UTF-8) starts its header with one: it is no text. Its
    # quotes, after the mark, are no longer the field's first character, so the parser keeps them as text.
    marked = frame.iloc[:, 0].str.startswith("\ufeff", na=False)
    cell = frame.iloc[:, 0].str.removeprefix("\ufeff")
    unquoted = cell.where(~(marked & cell.str.fullmatch('".*"', na=False)), cell.str[1:-1].str.replace('""', '"'))
    first = unquoted == frame.columns[0]
    repeats = (first & frame.iloc[:, 1:].eq(list(frame.columns[1:])).all(axis=1)).to_numpy()
    return [rows_before + int(i) + 1 for i in repeats.nonzero()[0]]


def csv_frames(
    stream: DecodingReader,
    separator: str | None,
    empty_message: str,
    chunk_size: int,
    read_columns: Collection[str] | None = None,
    on_repeats_left_out: Callable[[list[str]], None] | None = None,
) -> Iterator[pd.DataFrame]:
    """Yield a CSV as frames of text columns, never shifting a column.

    pandas takes the first column as an index when data rows have one field more than the header (a trailing
    separator, common in exports), which moves every column one place. Here the first data row is looked at:
    one extra empty field means a trailing separator, read as a column of its own and dropped; any field the
    header does not name is an error that names the line or row.

    A name the header repeats is refused when it is one of `read_columns` (None: any column may be read), as the
    column read would be one of two; the columns of another repeated name are left out, and their names given to
    `on_repeats_left_out` once the header is read.
    """
    import pandas as pd  # imported here: plain-text and JSONL scoring never pays for pandas

    name = stream._name
    # Blank lines above the header are passed over: the file was said to be empty.
    blank, header = _first_line_of_text(stream)
    header_line = blank.count("\n") + 1
    if not header.strip():
        raise DataError(empty_message)
    if STRAY_CR in header:  # a header is written by a program, and one cut there names no column it should
        raise DataError(_stray_cr_message(name, header_line))
    separator = separator or sniff_separator(header)
    # A quoted column name may break over lines, as a spreadsheet's header cell may ("Job<line break>ref"): read on
    # its first line alone, the header named one column and the next line was called a row of too many fields.
    header = _whole_record(stream, header, separator)
    columns = _csv_fields(header, separator, name, header_line)
    # Blank names are no names to repeat: an export's empty trailing columns (`ref;title;description;;`), which
    # pandas calls Unnamed: 3 and Unnamed: 4, were refused as "repeats the column name(s) ''".
    repeated = sorted({column for column in columns if column.strip() and columns.count(column) > 1})
    refused = [column for column in repeated if read_columns is None or column in read_columns]
    if refused:
        raise DataError(f"{name} repeats the column name(s) {', '.join(map(repr, refused))}; give each its own name")
    # One unused column repeating a name refused the whole file, whatever the run read.
    left_out = [f"{_LEFT_OUT} {index}" for index, column in enumerate(columns) if column in repeated]
    if repeated and on_repeats_left_out is not None:
        on_repeats_left_out(repeated)
    first_below = header_line + header.rstrip("\r\n").count("\n") + 1
    blank_lines, first_row, first_line = _first_record(stream, separator, len(columns) > 1, first_below)
    checked = _QuotesChecked(stream, separator, header_line)
    checked.check(header + blank_lines + first_row)
    if STRAY_CR in first_row:
        # Unquoted in the first row, stray CRs are line ends more likely than characters (rows of CR lines below a
        # header of LF), which read as characters made the file one row: refused, as the header's are.
        _csv_fields(unescape_stray_crs(first_row), separator, name, first_line)
    first = _csv_fields(first_row, separator, name, first_line)
    # Fields beyond the header's, all empty: trailing separators (`a;b;;` under `id;text`), read as columns of their
    # own and dropped. One was taken; two were refused as fields the header does not name.
    beyond = [f"{_BEYOND_HEADER} {index}" for index in range(len(first) - len(columns))]
    trailing = bool(beyond) and not any(field.strip() for field in first[len(columns) :])
    if len(first) > len(columns) and not trailing:
        headerless = len(columns) == 1 and len(str(columns[0]).split()) >= _POSTING_WORDS
        last_line = first_line + first_row.rstrip("\r\n").count("\n")
        raise DataError(
            _too_many_fields_message(name, first_line, last_line, len(first), len(columns))
            + (" (if the first line is a posting, the file has no header: --input-format txt reads one posting per "
               "line)" if headerless else "")
        )  # fmt: skip
    options = {"sep": separator, "dtype": str, "keep_default_na": False, "index_col": False, "engine": "c"}
    if len(columns) == 1:
        # One column: a blank line is an empty cell (a spreadsheet writes one so), a row like any other. Skipped,
        # it vanished from the output and every later row took the row number before its own.
        options["skip_blank_lines"] = False
    if trailing or left_out:
        # Named as pandas names a blank column when it reads the header itself: two blank names were two ''.
        named = [
            f"{_LEFT_OUT} {index}"
            if column in repeated
            else column
            if column.strip()
            else config.UNNAMED_COLUMN.format(position=index)
            for index, column in enumerate(columns)
        ]
        options |= {"header": 0, "names": [*named, *(beyond if trailing else [])]}
    # pandas re-reads the header itself, so quoting rules stay pandas' own, but for text after a closing quote.
    combined = _Concat(io.StringIO(header + blank_lines + first_row), checked)
    try:
        data_rows = 0
        for frame in pd.read_csv(combined, chunksize=chunk_size, **options):
            if trailing:
                filled = (frame[beyond] != "").any(axis=1).to_numpy()
                if filled.any():
                    raise DataError(
                        f"{name} data row {data_rows + int(filled.argmax()) + 1} has a field beyond the "
                        f"{len(columns)} the header names; fix the header or the row"
                    )
                frame = frame.drop(columns=beyond)
            if left_out:
                frame = frame.drop(columns=left_out)
            if stream.stray_crs:  # each back in its cell, where it was read
                frame = frame.apply(lambda column: column.map(unescape_stray_crs))
                frame.columns = [unescape_stray_crs(column) for column in frame.columns]
            data_rows += len(frame)
            yield frame
    except pd.errors.EmptyDataError:
        raise DataError(empty_message) from None
    except pd.errors.ParserError as error:
        if any(words in str(error) for words in _PARSER_MEMORY_FAILURES):
            raise MemoryError(f"pandas could not parse {stream._name}: {str(error).strip()}") from None
        message = _malformed_csv_message(stream, separator, len(columns), str(error).strip(), header_line - 1)
        raise DataError(message) from None


def argument_text(text: str) -> str:
    """A posting given as an argument, read as UTF-8 where the locale could not decode it. Under an ASCII locale
    without Python's UTF-8 mode (LC_ALL=C with PYTHONUTF8=0), each byte beyond ASCII arrived as a lone surrogate, and
    "nóminas" was scored as two unknown characters in place of "ó": another probability than from a file."""
    if not any("\udc80" <= character <= "\udcff" for character in text):
        return text
    # A stray byte that is not UTF-8 stays the lone surrogate it came as; every character around it is read whole.
    return os.fsencode(text).decode("utf-8", "surrogateescape")


# pandas' C parser's words when it runs out of memory: its own buffers ("out of memory"), or taking in the text
# that read() returned (an error raised inside read() reaches the caller as itself). They said the CSV was not
# well formed.
_PARSER_MEMORY_FAILURES = ("C error: out of memory", "Calling read(nbytes) on source failed")


# The most physical lines read as the first record: an unclosed quote must not pull a whole file into memory here
# (pandas reads on and names the fault).
_FIRST_RECORD_MAX_LINES = 10_000


def _first_record(stream: DecodingReader, separator: str, skip_blank: bool, line_number: int) -> tuple[str, str, int]:
    """The blank lines after the header (where pandas skips them), the first data record below them with every line
    of a quoted field that spans lines, and the line it starts on. Checked on its first line alone,
    a record whose quoted title broke over two lines, or one below a blank line, showed fewer fields than it had,
    and pandas then dropped the extra field of every row with no more than a warning."""
    blank_lines, line = "", stream.readline()
    while skip_blank and line and not line.strip():
        blank_lines, line_number, line = blank_lines + line, line_number + 1, stream.readline()
    return blank_lines, _whole_record(stream, line, separator), line_number


def _whole_record(stream: DecodingReader, line: str, separator: str) -> str:
    """The record that starts with `line`, with the lines below it that a quoted field opened in it runs over (up to
    _FIRST_RECORD_MAX_LINES of them)."""
    record, state = line, _quote_state(line, separator)
    for _ in range(_FIRST_RECORD_MAX_LINES):
        if not state[0]:
            break
        more = stream.readline()
        if not more:
            break
        record, state = record + more, _quote_state(more, separator, *state)
    return record


def _quote_state(text: str, separator: str, quoted: bool = False, at_start: bool = True) -> tuple[bool, bool]:
    """After reading `text` from a state (inside a quoted field; at a field's start), the state, as pandas and the
    csv module read a CSV: a quote opens a quoted field only at a field's start, and two inside one stand for one.
    A quote elsewhere is a character of its field: counting quotes read `24" monitor` as an open field and joined
    the lines below it into one record. `separator` may hold several characters, any of which separates."""
    position, end = 0, len(text)
    while position < end:
        character = text[position]
        if quoted:
            if character == '"':
                if text.startswith('"', position + 1):
                    position += 2
                    continue
                quoted = False
            at_start = False
        else:
            quoted = character == '"' and at_start
            at_start = character in separator or character in "\n\r"
        position += 1
    return quoted, at_start


class _QuotesChecked(io.TextIOBase):
    """A CSV stream on its way to pandas, each block read checked for a quoted field whose closing quote is followed
    by text: after a closing quote come a separator, a line end or the input's end (RFC 4180, and Python's csv
    module with strict=True), where pandas' C parser takes any text into the field. A quote left open in one row was
    closed by the next row's opening quote, the two rows read as one, with exit 0 and a row fewer out.

    The fault is a DataError naming the line where the field opens; a field still open at the input's end is left
    to pandas, whose error names its row. A stray CR (STRAY_CR) may follow a closing quote: it is a line end to the
    csv module, and the character of its cell it has always been read as here. A block costs one regular-expression
    match, and one more for each quoted field it cuts; the characters at its end that the next block's first decides
    (a quote that may be the first of two) wait for it, so memory stays flat.
    """

    def __init__(self, stream: DecodingReader | _Concat, separator: str, first_line: int) -> None:
        separators = re.escape(separator)
        ends = f"[{separators}\r\n]"
        # Text up to a quoted field whose closing quote is followed by anything else, or whose end the block does not
        # show: runs without quotes, a quote inside a field (a character), and whole quoted fields. Possessive, so
        # the match never backtracks; a quote that starts the text is the caller's, as nothing before it shows.
        self._well_formed = re.compile(
            rf'(?:[^"]++|(?<!{ends})"|(?<={ends})"[^"]*+(?:""[^"]*+)*+"(?={ends}|{STRAY_CR}))*+'
        )
        self._field_rest = re.compile(rf"[^{separators}\r\n]*+")
        self._quoted_rest = re.compile(r'[^"]*+(?:""[^"]*+)*+')  # up to a quote that is not one of a pair
        self._field_end = f"{separator}\r\n"
        self._stream = stream
        self._name = stream._name
        self._line = first_line  # the line the next block starts on
        self._quoted = False  # whether the next block starts inside a quoted field
        self._at_start = True  # whether it starts at a field's start
        self._opened_on = first_line  # the line of the open quoted field's opening quote
        self._held = ""

    def readable(self) -> bool:
        return True

    @property
    def stray_crs(self) -> bool:
        return self._stream.stray_crs

    def close(self) -> None:
        self._stream.close()
        super().close()

    def read(self, size: int | None = -1) -> str:
        text = self._stream.read(size)
        self.check(text)
        return text

    def check(self, block: str) -> None:
        """Check the next block of the input ('' at its end)."""
        text, self._held = self._held + block, ""
        final, position = not block, 0
        if self._quoted:
            position = self._closed(text, self._quoted_rest.match(text).end(), None, final)
        elif self._at_start and text.startswith('"'):
            position = self._closed(text, self._quoted_rest.match(text, 1).end(), 0, final)
        while position is not None and position < len(text):
            position = self._well_formed.match(text, position).end()
            if position < len(text):  # a quoted field's opening quote: its closing quote is looked at alone
                position = self._closed(text, self._quoted_rest.match(text, position + 1).end(), position, final)
        if position is not None and text:
            self._quoted, self._at_start = False, text[-1] in self._field_end
        self._line += text.count("\n")  # what is held back holds no line end

    def _closed(self, text: str, quote: int, opened: int | None, final: bool) -> int | None:
        """Where the scan of `text` goes on after the quote at `quote` that closes the field opened at `opened`
        (None: in an earlier block); None when the field runs on past the block."""
        if opened is not None:
            self._opened_on = self._line + text.count("\n", 0, opened)
        after = text[quote + 1 : quote + 3]
        if quote == len(text) or (not final and after in ("", STRAY_CR[0])):
            self._quoted, self._held = True, text[quote:]
            return None
        if not after or after[0] in self._field_end or after == STRAY_CR:  # nothing follows it only at the end
            return quote + 1
        closed_on = self._line + text.count("\n", 0, quote)
        following = unescape_stray_crs(self._field_rest.match(text, quote + 1)[0][:30])
        if closed_on == self._opened_on:
            # The field is closed, on its own line: calling it "not closed" sent the user looking for a missing quote.
            fault = (
                f"has text after a quoted field's closing quote: the quote is followed by {following!r}, where a "
                'separator or a line end must follow it (a quote inside a quoted field is written twice: "")'
            )
        else:
            fault = (
                f"opens a quoted field that is not closed: the next quote, on line {closed_on}, is followed by "
                f"{following!r}, where a closing quote needs a separator or a line end; close the quote (a quote "
                'inside a quoted field is written twice: "")'
            )
        raise DataError(f"{self._name} line {self._opened_on} {fault}{_separator_hint(following)}")


def _separator_hint(following: str) -> str:
    """A hint for the commonest cause of a quote followed by a mark and another quote (`"id":"text"`): fields
    separated by a character that was not taken for the separator, each read as one quoted field with text after it."""
    mark = following[:1]
    if len(following) >= 2 and following[1] == '"' and not (mark.isalnum() or mark.isspace()):
        return f"; if {mark!r} separates the fields, pass --sep {shlex.quote(mark)}"
    return ""


def _malformed_csv_message(
    stream: DecodingReader, separator: str, n_columns: int, error: str, blank_lines_above: int = 0
) -> str:
    """What is wrong with a CSV that pandas stopped reading, in the first-row check's words. pandas counts records,
    not lines ("Expected 2 fields in line 4, saw 3"), so a quoted field's line breaks put its line above the real
    one: a file is read again to find the line (only on this error), and stdin's record is named as a record.
    pandas never saw the blank lines above the header, which the file read again has (`blank_lines_above`)."""
    unclosed = re.search(r"EOF inside string starting at row (\d+)", error)
    if unclosed:
        where = _row_of_record(stream, separator, int(unclosed.group(1)), blank_lines_above)
        return (
            f"{stream._name} {where} opens a quoted field that is never closed, so the rest of the input was read "
            'into it: close the quote (a quote inside a quoted field is written twice: "")'
        )
    found = re.search(r"Expected \d+ fields in line (\d+), saw (\d+)", error)
    if not found:
        return f"{stream._name} is not a well-formed CSV: {error}"
    record, fields = map(int, found.groups())
    lines = _lines_of_record(stream, separator, record + blank_lines_above)
    if lines is None:
        return (
            f"{stream._name} record {record} (the header is record 1; quoted line breaks do not count) has {fields} "
            f"fields but the header names {n_columns}; fix the header or the row"
        )
    return _too_many_fields_message(stream._name, *lines, fields, n_columns)


def _too_many_fields_message(name: str, first_line: int, last_line: int, fields: int, n_columns: int) -> str:
    """A record of more fields than the header names, by the line it starts on; one that a quoted field runs on
    over lines says so, as a quote left open there runs the next row into it."""
    runs_on = (
        f" (a quote that opens on that line runs the row on to line {last_line})" if last_line > first_line else ""
    )
    return (
        f"{name} line {first_line} has {fields} fields but the header names {n_columns}{runs_on}; fix the header or "
        "the row"
    )


def _row_of_record(stream: DecodingReader, separator: str, record: int, blank_lines_above: int) -> str:
    """Where pandas' row `record` (the header is row 0; blank lines below it count, quoted line breaks do not) is,
    as predict numbers rows: the header, or data row N with blank lines not counted. A file is read again to tell;
    stdin's row is named as a record."""
    if record == 0:
        return "header"
    if stream._name == config.STANDARD_STREAM_NAME or not Path(stream._name).is_file():
        return f"record {record + 1} (the header is record 1; blank lines count)"
    again = open_text(stream._name, stream._encoding)
    try:
        with _uncapped_fields():
            records = csv.reader(again, delimiter=separator)
            for _ in range(blank_lines_above + 1):  # pandas never saw the blank lines above the header
                next(records, None)
            blank = sum(not fields for _, fields in zip(range(record - 1), records, strict=False))
    except (csv.Error, DataError):
        return f"record {record + 1} (the header is record 1; blank lines count)"
    finally:
        again.close()
    return f"data row {record - blank}"


def _lines_of_record(stream: DecodingReader, separator: str, record: int) -> tuple[int, int] | None:
    """The lines on which CSV record `record` (the header is 1, blank lines count) starts and ends; None for input
    that cannot be read twice (stdin, a pipe) or that fails before it. Named by its last line, a row that a quote
    left open ran on into the next was put on the next row's line, which is well formed."""
    if stream._name == config.STANDARD_STREAM_NAME or not Path(stream._name).is_file():
        return None
    again = open_text(stream._name, stream._encoding)
    try:
        with _uncapped_fields():
            reader, last_line = csv.reader(again, delimiter=separator), 0
            for number, _ in enumerate(reader, start=1):
                if number == record:
                    return last_line + 1, reader.line_num
                last_line = reader.line_num
    except (csv.Error, DataError):
        return None
    finally:
        again.close()
    return None


def _json_records(stream: DecodingReader) -> Iterator[tuple[int, object]]:
    """Yield (line number, parsed value) for each non-blank line; a malformed line is an error naming it."""
    first = True
    for line_number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        # A JSON array (an export, or a pretty-printed file) is the commonest near-miss: say so, not "line 1".
        if first and line.lstrip().startswith("["):
            raise DataError(
                f"{stream._name} is a JSON array, not JSON lines: write one object per line "
                "(jq -c '.[]' converts an array)"
            )
        first = False
        try:
            # A byte-order mark starts every file that Windows tools save as UTF-8, so one opens each file's first
            # line in `cat a.jsonl b.jsonl > all.jsonl`; it is never part of the record.
            if stream.stray_crs:  # stdin of unknown format is read as a CSV would be, CRs escaped
                line = unescape_stray_crs(line)
            record = loads_json(line.lstrip("\ufeff"))
        except json.JSONDecodeError as error:
            # The other common near-miss: a pretty-printed object, whose line breaks open a brace or follow a comma
            # (a line cut short, '{"text": "a"', is only invalid).
            if line.lstrip().startswith("{") and line.rstrip().endswith(("{", "[", ",", ":")):
                raise DataError(
                    f"{stream._name} line {line_number} starts a JSON object that runs over several lines: JSON "
                    "lines hold one object per line (jq -c . converts a pretty-printed file)"
                ) from None
            raise DataError(f"{stream._name} line {line_number} is not valid JSON: {error.msg}") from None
        except RepeatedKey as error:
            raise DataError(
                f"{stream._name} line {line_number} repeats the key(s) {error}: give each field its own name"
            ) from None
        except RecursionError:
            raise DataError(
                f"{stream._name} line {line_number} nests JSON arrays or objects too deeply to read; "
                "flatten that record"
            ) from None
        yield line_number, record


# UTF-32-LE's mark starts with UTF-16-LE's, so the wider marks are looked for first. UTF-8's mark is here too: a
# UTF-8 file read as UTF-16 or UTF-32 is named by it as surely.
_WIDE_MARKS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def _marked_wide_encoding(sample: bytes) -> str | None:
    """The UTF-8, UTF-16 or UTF-32 encoding whose byte order mark the text starts with; None without one."""
    return next((name for mark, name in _WIDE_MARKS if sample.startswith(mark)), None)


def _bears_out_its_mark(sample: bytes, marked: str) -> bool:
    """Whether the bytes after a UTF-16 byte order mark look like UTF-16 text in the order it names: some zero high
    bytes (a space, digit, punctuation mark or line end has one, in any script) and almost no zero low bytes. Text
    of a one-byte encoding behind a stray mark has no zero byte at all, and a binary file zeros in both columns."""
    body = sample[len(codecs.BOM_UTF16) : len(codecs.BOM_UTF16) + 4096]
    if len(body) < 2:  # nothing after the mark gainsays it
        return True
    low, high = (body[0::2], body[1::2]) if marked == "utf-16-le" else (body[1::2], body[0::2])
    return high.count(0) > 0 and low.count(0) <= 0.05 * len(low)


# One-byte text (ASCII, or UTF-8 that is mostly ASCII) as UTF-16 reads it: 64 bytes in a row, each printable ASCII,
# a tab or a line end. UTF-16 text holds no such run: its spaces, digits, punctuation and line ends have a zero byte
# each, and of its other characters only some CJK ideographs and kana are two such bytes (in two million random
# kanji and kana, the longest run was 37 bytes).
_ONE_BYTE_RUN = 64
_ONE_BYTE_TEXT = re.compile(rb"[\t\n\r\x20-\x7e]{%d,}" % _ONE_BYTE_RUN)


def _unmarked_wide_encoding(sample: bytes) -> str | None:
    """'utf-16-le', 'utf-16-be', 'utf-32-le' or 'utf-32-be' for text in one of them without a byte order mark;
    None otherwise. A character's low byte is almost never zero; its high bytes are, for the spaces, digits and
    punctuation of any script (UTF-16) and for nearly every character (UTF-32's top two). A binary file (a
    program, an old Excel workbook) has zeros in every column, and was called UTF-16 by their count alone."""

    def zero_share(offset: int, step: int) -> float:
        column = sample[offset::step]
        return column.count(0) / len(column)

    for step, name, high_zeros in ((4, "utf-32", 0.9), (2, "utf-16", 0.3)):
        if len(sample) < step:  # a short file is judged too ('ok' in UTF-16 was called binary)
            continue
        for order, low, top in (("le", 0, step - 1), ("be", step - 1, 0)):
            # UTF-32's two top bytes are zero below U+10000; its second byte only for Latin-1 (then UTF-16's rule).
            tops = (top, top + (1 if top == 0 else -1)) if step == 4 else (top,)
            if zero_share(low, step) <= 0.05 and all(zero_share(i, step) >= high_zeros for i in tops):
                return f"{name}-{order}"
    return None


class _Concat(io.TextIOBase):
    """Two text streams read as one (the already-read header, then the rest)."""

    def __init__(self, first: io.StringIO, second: DecodingReader | _Concat | _QuotesChecked) -> None:
        self._first, self._second = first, second
        self._name = second._name

    def close(self) -> None:
        self._second.close()
        super().close()

    def readable(self) -> bool:
        return True

    @property
    def stray_crs(self) -> bool:
        return self._second.stray_crs

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
    stream: DecodingReader,
    text_columns: list[str],
    id_column: str | None,
    chunk_size: int,
    keep_columns: tuple[str, ...] = (),
) -> Iterator[Chunk]:
    """Yield chunks of a JSON-lines file; blank lines are skipped, a malformed line is an error with its number."""
    ids: list[str] = []
    texts: list[str | None] = []
    kept: dict[str, list[str | None]] = {column: [] for column in keep_columns}
    record_number = 0
    id_like: list[str] = []
    text_errors: dict[int, str] = {}
    for line_number, record in _json_records(stream):
        if not isinstance(record, dict):
            raise DataError(f"{stream._name} line {line_number} is not a JSON object")
        record_number += 1
        if record_number == 1:
            id_column = default_id_column(record) if id_column is None else id_column
            id_like = id_like_columns(record) if id_column is None else []
        if id_column is not None and id_column not in record:
            raise DataError(
                f"{stream._name} line {line_number} has no field {id_column!r}; its fields are: "
                f"{', '.join(map(repr, record)) or '(none)'}"
            )
        if id_column is None and config.ID_COLUMN in record:
            # Numbered by position because the first record had no id, this one's own id was dropped without a
            # word, and its number could be another record's id.
            raise DataError(
                f"{stream._name} line {line_number} has an {config.ID_COLUMN!r} field, which the first record lacks: "
                "give every record an id, or none"
            )
        if record_number == 1:
            check_columns(text_columns, list(record), f"{stream._name} line {line_number}", header=False)
        for column, values in kept.items():
            # Any record may lack a kept field, as JSON lines often do, the first too: its value is empty, not an
            # error (predict notes a field no record had, which is more likely a misspelt name).
            value = record.get(column)
            values.append(None if value is None else render_id(value))
        ids.append(str(record_number) if id_column is None else render_id(record[id_column]))
        parts, not_text = [], None
        for column in text_columns:
            value = record.get(column)
            if isinstance(value, bool | list | dict):
                not_text = not_text or f"{column!r} is {json_kind(value)}, not a string"
                continue
            if value is None:
                continue
            value = str(value).strip()
            if value:
                parts.append(value)
        texts.append("\n".join(parts) if parts else None)
        if not parts and not_text:
            text_errors[len(texts) - 1] = not_text
        if len(ids) >= chunk_size:
            yield Chunk(ids, texts, kept=kept, id_like=id_like, text_errors=text_errors)
            ids, texts, kept, id_like, text_errors = [], [], {column: [] for column in keep_columns}, [], {}
    if ids:
        yield Chunk(ids, texts, kept=kept, id_like=id_like, text_errors=text_errors)


def json_kind(value) -> str:
    """How a message names a JSON value that is no text: an array, an object, true or false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "an array" if isinstance(value, list) else "an object"


def _column_fix(keep_columns: tuple[str, ...]) -> str:
    """How to name other columns, in the message about a missing one."""
    keep = " / --keep-column" if keep_columns else ""
    return f"choose with --text-column / --id-column{keep}"


def iter_txt(stream: DecodingReader | io.TextIOBase, chunk_size: int) -> Iterator[Chunk]:
    """Yield chunks of a plain-text file, one posting per line; the id is the line number."""
    ids: list[str] = []
    texts: list[str | None] = []
    for line_number, line in enumerate(stream, start=1):
        text = line.rstrip("\n").strip()
        ids.append(str(line_number))
        texts.append(text or None)
        if len(ids) >= chunk_size:
            yield Chunk(ids, texts)
            ids, texts = [], []
    if ids:
        yield Chunk(ids, texts)


# How many blank lines are passed over, held in memory, to find an input's first line of text.
_BLANK_LINES_PASSED_OVER = 1000


def _first_line_of_text(stream) -> tuple[str, str]:
    """The blank lines at the start of `stream` (up to _BLANK_LINES_PASSED_OVER), joined, and the first line after
    them ('' at the end of the input): a blank line above a header or a first record hid what the input is."""
    blank, line = [], stream.readline()
    while line and not line.strip() and len(blank) < _BLANK_LINES_PASSED_OVER:
        blank.append(line)
        line = stream.readline()
    return "".join(blank), line


def refuse_table_as_text(stream: DecodingReader, text_columns: tuple[str, ...]) -> io.TextIOBase:
    """Input read as one posting per line only because no format was named (stdin, or a file named .txt): refuse
    it when it is plainly a table.

    A first line that is a JSON object, or a CSV header (column names without spaces, or naming a text column)
    above a row of as many fields, would otherwise have every row, ids and commas included, scored as raw text.
    Blank lines before the first line of text are passed over (a blank line above a header hid the table), and
    JSON that is not JSON lines (an array, or an object over several lines) is refused too: each of its lines was
    scored as a posting. Returns a stream that still yields every line looked at.
    """
    blank, first = _first_line_of_text(stream)
    second = stream.readline()
    head = first.strip()
    fix = "(or --input-format txt to score each line as it is)"
    if head.startswith("{") and _is_json_object(head):
        raise DataError(f"{stream._name} looks like JSON lines: pass --input-format jsonl {fix}")
    # A line that is only an opening bracket, or opens an array of objects, texts or arrays, or an object's first
    # key: "[Remote] Agent" and '{"Urgent"} Data entry' are postings.
    if head in ("[", "{") or re.match(r'\[\s*[{"\[]|\{\s*"[^"]*"\s*:', head):
        raise DataError(
            f"{stream._name} looks like JSON, but not JSON lines, which hold one posting's object per line: write "
            "each object on a line of its own and pass --input-format jsonl (jq -c '.[]' for an array of objects), "
            f"or each text on a line of its own (jq -r '.[]' for an array of texts) {fix}"
        )
    separator = sniff_separator(head)
    header, row = _csv_cells(head, separator), _csv_cells(second, separator)
    named = [column for column in text_columns if column in header]
    text_names = {column.casefold() for column in text_columns}
    # Bare names, one of them a column's: "Accountant, Remote" above "Bookkeeper, Manila" are two postings.
    names_only = (
        all(_HEADER_CELL.fullmatch(cell) for cell in header)
        and len(set(header)) == len(header)
        and any(cell.casefold() in _COLUMN_WORDS or cell.casefold() in text_names for cell in header)
    )
    # Spreadsheets name columns with spaces: "Job ID,Job Title,Job Description" had every row scored as text.
    spreadsheet = _spreadsheet_names(header)
    # A one-column CSV has one sign of being a table: its header is the text column's name. Scored as text, that
    # header became row 1, every id after it one off, and a quoted posting over two lines two rows.
    one_column = len(header) == 1 and header[0].casefold() in text_names
    # A header of bare names, one of them the text column's, above no row or a blank line is a table too (an
    # empty export, or one with a blank line after its header); the header alone was scored as a posting. Bare
    # names only: "text, chat and email support" alone is a posting.
    above_nothing = not second.strip() and (
        spreadsheet or (len(header) > 1 and names_only and any(cell.casefold() in text_names for cell in header))
    )
    if (
        one_column
        or above_nothing
        or (len(header) > 1 and len(row) == len(header) and (named or names_only or spreadsheet))
    ):
        columns = f"names the column {named[0]!r}" if named else f"is {', '.join(cell for cell in header if cell)}"
        raise DataError(
            f"{stream._name} looks like a CSV whose header {columns}: pass --input-format csv, with --text-column "
            f"when the text is in another column {fix}"
        )
    return _Concat(io.StringIO(blank + first + second), stream)


def _spreadsheet_names(header: list[str]) -> bool:
    """Whether a line's cells read as a spreadsheet's column names: at least two, and at least half, of its cells
    (empty ones, from an index column or a trailing separator, aside) are mostly _COLUMN_WORDS, with no digit or
    colon (a value, or a label with its value: "Salary 25000", "Location: Manila"); a cell of a sentence's length
    makes the line no header."""
    cells = [cell.strip() for cell in header if cell.strip()]
    named = 0
    for cell in cells:
        words = re.findall(r"[^\W\d_]+", cell.casefold())
        if len(words) > 6 or len(cell) > 60:
            return False
        if words and ":" not in cell and not any(character.isdigit() for character in cell):
            named += 2 * sum(word in _COLUMN_WORDS for word in words) > len(words)
    return named >= 2 and 2 * named >= len(cells)


@contextlib.contextmanager
def _uncapped_fields() -> Iterator[None]:
    """Lift the csv module's cap on a field's length while parsing: its 131,072 characters are no limit of ours (a
    posting may be longer, and pandas reads the rest of a file uncapped). A longer first row was refused as a stray
    line break, and a long second line on stdin stopped predict with `unexpected Error`."""
    previous = csv.field_size_limit(sys.maxsize)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def _csv_fields(line: str, separator: str, name: str, line_number: int) -> list[str]:
    """The fields of one CSV line of `name`; a line break inside an unquoted field is an error naming the line."""
    try:
        with _uncapped_fields():
            return next(csv.reader([line.rstrip("\r\n")], delimiter=separator), [])
    except csv.Error:
        raise DataError(_stray_cr_message(name, line_number)) from None


def _stray_cr_message(name: str, line_number: int) -> str:
    return (
        f"{name} line {line_number} has a line break (CR) inside a field that is not quoted: quote the field, or save "
        "the file with one kind of line end"
    )


def _csv_cells(line: str, separator: str) -> list[str]:
    """The cells of a line that may be a CSV's, stripped; [] for one that is no CSV line (a stray CR in it)."""
    try:
        with _uncapped_fields():
            return [cell.strip() for cell in next(csv.reader([line.strip()], delimiter=separator), [])]
    except csv.Error:
        return []


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(loads_json(line), dict)
    except RepeatedKey:
        return True  # an object still: its reader names the key
    except (json.JSONDecodeError, RecursionError):
        return False


def iter_chunks(
    source: str | Path,
    input_format: str | None = None,
    text_columns: tuple[str, ...] = (config.TEXT_COLUMN,),
    id_column: str | None = None,
    chunk_size: int = config.PREDICT.chunk_size,
    encoding: str | None = None,
    separator: str | None = None,
    max_text_chars: int = config.PREDICT.max_text_chars,
    keep_columns: tuple[str, ...] = (),
) -> Iterator[Chunk]:
    """Yield the postings of `source` in chunks, whatever its format; memory stays flat in the file's size.
    `keep_columns` are passed through in each chunk's `kept` (CSV and JSON lines only)."""
    kind = detect_format(source, input_format)
    # CSV keeps its line ends for pandas, which reads CR, LF and CR LF and keeps them inside quoted fields.
    stream = open_text(source, encoding, kind != "csv", max_text_chars * config.PREDICT.max_line_factor)
    try:
        if kind == "csv":
            chunks = iter_csv(stream, list(text_columns), id_column, chunk_size, separator, keep_columns)
        elif kind == "jsonl":
            chunks = iter_jsonl(stream, list(text_columns), id_column, chunk_size, keep_columns)
        elif keep_columns:
            # Plain text has no columns to keep; the command line refuses this for a file, this is stdin.
            raise DataError(
                f"--keep-column passes through columns of a CSV or JSON-lines input, and {stream._name} is read as "
                "plain text: name its format with --input-format csv or jsonl"
            )
        elif input_format is None:
            # Stdin, or a file named .txt: a table exported under that name was scored line by line, header too.
            chunks = iter_txt(refuse_table_as_text(stream, tuple(text_columns)), chunk_size)
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
    encoding: str | None = None,
    column_fix: str = f"rename them {config.TEXT_COLUMN!r} and {config.LABEL_COLUMN!r}",
    encoding_option: bool = False,
    header_only: bool = False,
    numbers_kept: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Read a whole labelled file (CSV or JSONL) into a frame, checking its columns and labels. `column_fix` and
    `encoding_option` fit the messages to the command that reads it: what to do about a missing column, and
    whether it takes --encoding (prepare reads the project's files, which must be UTF-8). With `header_only`, a
    CSV of a header alone is an empty frame with its columns (a split prepare wrote empty), not an error. A JSON
    number in a field of `numbers_kept` stays a JsonNumber, for a check that wants a name there; in any other field
    it is the text it was written as."""
    import pandas as pd

    kind, stream = _open_labelled(path, input_format, encoding, encoding_option)
    name = stream._name
    try:
        if kind == "csv":
            empty = f"{name} is empty: it needs a header row and labelled rows"
            frames = list(csv_frames(stream, None, empty, _LABELLED_CHUNK))
            frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        else:
            frame = pd.DataFrame.from_records(_labelled_records(stream, text_column, column_fix, numbers_kept))
    finally:
        stream.close()
    if frame.empty:
        if header_only and len(frame.columns):
            return frame
        raise DataError(f"{name} has no rows")
    if text_column == label_column:  # the labels were scored as the postings' text
        raise DataError(f"{name}: the text and the label cannot both be column {text_column!r}; {column_fix}")
    check_columns([text_column, label_column], list(frame.columns), name, column_fix, header=kind == "csv")
    chosen = {text_column: config.TEXT_COLUMN, label_column: config.LABEL_COLUMN}
    # A file's own 'label' beside the gold labels chosen with --label-column: renaming onto it made two columns of
    # one name, and the command failed inside pandas. The chosen column takes the name; the other is left out.
    displaced = [name for name in chosen.values() if name in frame.columns and name not in chosen]
    frame = frame.drop(columns=displaced).rename(columns=chosen)
    # Postings exported as HTML are learnt and scored on their text, as predict scores them (predict.text_to_score).
    frame[config.TEXT_COLUMN] = [plain_text(t) if isinstance(t, str) else t for t in frame[config.TEXT_COLUMN]]
    check_labels(frame, name)
    check_texts(frame, name)
    return frame


_LABELLED_CHUNK = 100_000


def _open_labelled(
    path: str | Path, input_format: str | None, encoding: str, encoding_option: bool
) -> tuple[str, DecodingReader | _Concat]:
    """The format of a labelled file and a stream of it; stdin's format is told by its first line, since labelled
    data is never plain text: a JSON object starts JSON lines, anything else is a CSV header."""
    if str(path) == config.STANDARD_STREAM and input_format is None:
        raw = open_text(path, encoding, encoding_option=encoding_option)
        blank, first = _first_line_of_text(raw)  # the first line of text tells the format
        kind = "jsonl" if first.lstrip().startswith(("{", "[")) else "csv"  # an array: JSON lines' reader names it
        return kind, _Concat(io.StringIO(blank + first), raw)
    kind = detect_format(path, input_format, LABELLED_FILES)
    if kind == "txt":
        raise DataError(f"{path}: labelled data must be CSV or JSON lines, not plain text")
    return kind, open_text(path, encoding, kind == "jsonl", encoding_option=encoding_option)


def _labelled_records(
    stream: DecodingReader, text_column: str, column_fix: str, numbers_kept: tuple[str, ...] = ()
) -> list[dict]:
    """The records of a labelled JSON-lines file: objects whose text is a string, with ids written as JSON does."""
    records = []
    for line_number, record in _json_records(stream):
        if not isinstance(record, dict):
            raise DataError(f"{stream._name} line {line_number} is not a JSON object: write one object per line")
        if text_column not in record:
            raise DataError(
                f"{stream._name} line {line_number} has no field {text_column!r}; its fields are: "
                f"{', '.join(map(repr, record)) or '(none)'}; {column_fix}"
            )
        text = record[text_column]
        if not is_json_string(text):
            raise DataError(
                f"{stream._name} line {line_number}: {text_column!r} must be a string, not {render_json(text)[:40]}; "
                "quote it, or remove the record"
            )
        if record.get(config.ID_COLUMN) is not None:  # a null id is a missing one, not the id "null"
            record = record | {config.ID_COLUMN: render_id(record[config.ID_COLUMN])}
        records.append(
            {
                key: str(value) if isinstance(value, JsonNumber) and key not in numbers_kept else value
                for key, value in record.items()
            }
        )
    return records


def data_rows(mask: pd.Series) -> str:
    """The first ten data rows (counted from 1) where `mask` holds, for a message."""
    rows = [str(i + 1) for i in mask[mask].index[:10]]
    return ", ".join(rows) + ("..." if mask.sum() > 10 else "")


def check_texts(frame: pd.DataFrame, name: str) -> None:
    """Refuse labelled postings with no text, naming the first rows: evaluate once scored them as the model's
    no-evidence guess and counted them in its metrics, and no model learns anything from them. Refuse, too, a
    posting longer than predict would score (config.PREDICT.max_text_chars): prepare once put one of two million
    characters, most likely rows run together by a broken quote, into the training split."""
    texts = frame[config.TEXT_COLUMN].fillna("").astype(str)
    empty = texts.str.strip() == ""
    if empty.any():
        raise DataError(f"{name} has empty text in data rows {data_rows(empty)}; write the posting or remove the row")
    limit, lengths = config.PREDICT.max_text_chars, texts.str.len()
    long = lengths > limit
    if long.any():
        raise DataError(
            f"{name} has postings of over {limit:,} characters in data rows {data_rows(long)} (the longest "
            f"{lengths.max():,}): rows run together by an unclosed quote? Split or shorten them"
        )


def check_labels(frame: pd.DataFrame, name: str) -> None:
    """Refuse labels outside the label set, naming the bad values and the first rows that carry them."""
    # A JSON null is missing, not a label named "None"; sorting it beside the labels given stopped the run.
    labels = frame[config.LABEL_COLUMN].fillna("").astype(str).str.strip()
    missing = labels == ""
    if missing.any():
        raise DataError(
            f"{name} has postings without a label (data rows {data_rows(missing)}); "
            f"label each {', '.join(config.CATALOGUE_LABELS[:-1])} or {config.CATALOGUE_LABELS[-1]}, or remove it"
        )
    bad = ~labels.isin(config.CATALOGUE_LABELS)
    if bad.any():
        values = sorted(set(labels[bad]))
        # A label in the wrong case ('kpo') is the commonest miss, as with column names: name the label meant.
        meant = sorted({label for value in values for label in config.CATALOGUE_LABELS if value.upper() == label})
        hint = f"; labels are case-sensitive: did you mean {', '.join(map(repr, meant))}?" if meant else ""
        raise DataError(
            f"{name} has labels outside {', '.join(config.CATALOGUE_LABELS)}: "
            f"{', '.join(repr(v) for v in values[:10])} "
            f"(data rows {data_rows(bad)}){hint}"
        )
    frame[config.LABEL_COLUMN] = labels
