"""Compressed input and output: jobs.csv.gz is read and scored.csv.gz written as they stream, and compressed bytes
that come without a compression suffix, cut short or corrupt, are named in one line."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import os
import threading
import zipfile

import pytest
from console import jsonl, run

from pipeline.dataset import labelled_files
from pipeline.readers import iter_chunks, read_labelled

POSTINGS_CSV = (
    "ref,description\n"
    "A-1,Answer inbound calls and résumé queries to CSAT targets\n"
    'A-2,"Build credit-risk models, and advise the board"\n'
    "A-3,Process supplier invoices in SAP\n"
)
COMPRESSORS = {".gz": gzip.compress, ".bz2": bz2.compress, ".xz": lzma.compress}


def _plain_and_compressed(tmp_path, suffix: str):
    plain = tmp_path / "jobs.csv"
    plain.write_text(POSTINGS_CSV, encoding="utf-8")
    packed = tmp_path / f"jobs.csv{suffix}"
    packed.write_bytes(COMPRESSORS[suffix](POSTINGS_CSV.encode()))
    return plain, packed


@pytest.mark.parametrize("suffix", list(COMPRESSORS))
def test_a_compressed_file_scores_as_the_plain_one_does(fast_model, tmp_path, suffix):
    plain, packed = _plain_and_compressed(tmp_path, suffix)
    options = ("--model", fast_model, "--text-column", "description", "--id-column", "ref", "--format", "csv")
    expected = run("predict", "--input", plain, *options)
    got = run("predict", "--input", packed, *options)
    assert got.returncode == 0, got.stderr
    assert got.stdout == expected.stdout and got.stdout.count("\n") == 4


@pytest.mark.parametrize("suffix", list(COMPRESSORS))
def test_output_named_compressed_is_written_compressed(fast_model, tmp_path, suffix):
    plain, _ = _plain_and_compressed(tmp_path, suffix)
    options = ("--model", fast_model, "--text-column", "description", "--id-column", "ref", "--input", plain)
    assert run("predict", *options, "--output", tmp_path / "scored.csv").returncode == 0
    done = run("predict", *options, "--output", tmp_path / f"scored.csv{suffix}")
    assert done.returncode == 0 and f"wrote {tmp_path / f'scored.csv{suffix}'}" in done.stderr
    opener = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}[suffix]
    with opener(tmp_path / f"scored.csv{suffix}", "rt", encoding="utf-8", newline="") as handle:
        assert handle.read() == (tmp_path / "scored.csv").read_text(encoding="utf-8")
    # The format comes from the suffix under the compression one; with none there, JSON lines as for any file.
    assert run("predict", *options, "--output", tmp_path / "scored.gz").returncode == 0
    with gzip.open(tmp_path / "scored.gz", "rt", encoding="utf-8") as handle:
        assert [row["id"] for row in jsonl(handle.read())] == ["A-1", "A-2", "A-3"]


def test_a_gzip_output_names_itself_and_is_the_same_bytes_each_run(fast_model, tmp_path):
    """Its header named the temporary file (`gunzip -N` restored ".scored.csv.gz.x1y2.tmp") and held the time."""
    plain, _ = _plain_and_compressed(tmp_path, ".gz")
    options = ("--model", fast_model, "--text-column", "description", "--id-column", "ref", "--input", plain)
    outputs = [tmp_path / name / "scored.csv.gz" for name in ("first", "second")]
    for output in outputs:
        output.parent.mkdir()
        assert run("predict", *options, "--output", output).returncode == 0
    first = outputs[0].read_bytes()
    assert first == outputs[1].read_bytes()
    # FNAME, after the ten-byte header, is the name gzip itself would store: the output's, without .gz.
    assert first[3] & 0x08 and first[10:].split(b"\0", 1)[0] == b"scored.csv"
    # In capitals too: gzip strips a lower-case .gz only, and SCORED.CSV.GZ was stored whole.
    shouting = tmp_path / "SCORED.CSV.GZ"
    assert run("predict", *options, "--output", shouting).returncode == 0
    assert shouting.read_bytes()[10:].split(b"\0", 1)[0] == b"SCORED.CSV"


def test_progress_counts_the_compressed_bytes_read(tmp_path):
    # The percentage divides the bytes read by the file's size: counting the text's bytes would pass 100%.
    _, packed = _plain_and_compressed(tmp_path, ".gz")
    chunks = list(iter_chunks(packed, text_columns=("description",), id_column="ref", chunk_size=2))
    assert [chunk.ids for chunk in chunks] == [["A-1", "A-2"], ["A-3"]]
    assert chunks[-1].position == packed.stat().st_size < len(POSTINGS_CSV.encode())


def test_labelled_files_may_be_compressed(tmp_path):
    labelled = "id,text,label\nm-1,Answer inbound calls,BPO\nm-2,Build credit-risk models,KPO\n"
    (tmp_path / "mine.csv").write_text(labelled, encoding="utf-8")
    record = b'{"id": "m-3", "text": "Draft contracts", "label": "KPO"}\n'
    (tmp_path / "more.jsonl.xz").write_bytes(lzma.compress(record))
    assert [path.name for path in labelled_files(tmp_path)] == ["mine.csv", "more.jsonl.xz"]
    assert read_labelled(tmp_path / "more.jsonl.xz")["label"].tolist() == ["KPO"]
    (tmp_path / "mine.csv.gz").write_bytes(gzip.compress(labelled.encode()))
    assert read_labelled(tmp_path / "mine.csv.gz").equals(read_labelled(tmp_path / "mine.csv"))


def _workbook() -> bytes:
    return _zipped("xl/workbook.xml")


def _zipped(*names: str) -> bytes:
    """A zip archive of the entries named, as an Office file's start shows its folders."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        for name in names:
            archive.writestr(name, "<document/>")
    return buffer.getvalue()


def test_compressed_bytes_cut_short_corrupt_or_unnamed_are_named(fast_model, tmp_path):
    _, packed = _plain_and_compressed(tmp_path, ".gz")
    cases = {
        "cut.csv.gz": (packed.read_bytes()[:40], "ends before its compressed data does: the file is cut short"),
        "plain.csv.gz": (POSTINGS_CSV.encode(), "is not readable compressed data (Not a gzipped file"),
        "hidden.csv": (packed.read_bytes(), "is gzip-compressed; name it hidden.csv.gz to read it"),
        "hidden.txt": (lzma.compress(b"Answer calls\n"), "is xz-compressed; name it hidden.txt.xz"),
        "hidden.jsonl": (bz2.compress(b"{}\n"), "is bzip2-compressed; name it hidden.jsonl.bz2"),
        # A workbook saved under a .csv name: a zip archive, whose zeros once read as UTF-16 text.
        "book.csv": (
            _workbook(),
            "is a spreadsheet workbook (a zip archive), not CSV, JSONL or text; save the sheet as CSV (UTF-8)",
        ),
        # A Word document or a PDF under a data file's name was called a workbook or a binary file.
        "letter.csv": (
            _zipped("word/document.xml"),
            "is a Word document (a zip archive), not CSV, JSONL or text; copy its postings into a .txt file, one per "
            "line, to score them (or a CSV with text and label columns, for labelled data)",
        ),
        "scan.txt": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "is a PDF, not CSV, JSONL or text; copy its postings"),
        "old.csv": (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
            "is an Office document of the 1997-2003 kind (.doc or .xls), not CSV, JSONL or text",
        ),
        "notes.csv": (_zipped("notes/a.txt"), "is a zip archive, not CSV, JSONL or text; unzip it"),
    }
    for name, (content, message) in cases.items():
        (tmp_path / name).write_bytes(content)
        columns = () if name.endswith(".txt") else ("--text-column", "description")  # plain text has no columns
        result = run("predict", "--model", fast_model, "--input", tmp_path / name, *columns)
        assert result.returncode == 1 and result.stdout == "", name
        assert result.stderr.startswith("Error: ") and message in result.stderr and result.stderr.count("\n") == 1
    # A pipe has no name to give: it is decompressed first, by the tool the message names.
    piped = run("predict", "--model", fast_model, "-", "--input-format", "csv", stdin=packed.read_bytes())
    assert piped.returncode == 1 and "standard input is gzip-compressed; decompress it first (zcat)" in piped.stderr
    # Nor has a named pipe (as bash's <(gzip -c jobs.csv) gives): renaming /dev/fd/63 to 63.gz cannot be done.
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    writer = threading.Thread(target=fifo.write_bytes, args=(packed.read_bytes(),), daemon=True)
    writer.start()
    named = run("predict", "--model", fast_model, "--input", fifo, "--input-format", "csv")
    writer.join(timeout=60)
    assert named.returncode == 1 and "fifo is gzip-compressed; decompress it first (zcat)" in named.stderr
    # A text that only starts as bzip2's marker does ("BZh1") is text.
    (tmp_path / "posting.txt").write_text("BZh1 reads as text: answer inbound calls\n")
    assert run("predict", "--model", fast_model, "--input", tmp_path / "posting.txt").returncode == 0


def test_a_document_given_as_a_posting_is_named_and_text_that_only_starts_as_one_is_scored(fast_model, tmp_path):
    """`predict job.docx` scored the file's name as a posting, exit 0; and a text file whose first posting began
    "%PDF-A archivist" was refused as a PDF, --input-format txt or not."""
    (tmp_path / "job.docx").write_bytes(_zipped("word/document.xml"))
    named = run("predict", "--model", fast_model, tmp_path / "job.docx")
    assert named.returncode == 2 and named.stderr.endswith(
        f"Error: {tmp_path / 'job.docx'} is a Word document, which is not read; copy its postings into a .txt file, "
        "one per line, to score them (or a CSV with text and label columns, for labelled data), then pass that file "
        "with --input (an argument is a posting)\n"
    ), named.stderr
    lookalike = tmp_path / "lookalike.txt"
    lookalike.write_text("%PDF-A archivist: convert scanned invoices to PDF/A\n{\\rtf templates: draft contracts\n")
    for options in ((), ("--input-format", "txt")):
        scored = run("predict", "--model", fast_model, "--input", lookalike, "--format", "csv", *options)
        assert scored.returncode == 0 and len(scored.stdout.splitlines()) == 3, scored.stderr
    rtf = tmp_path / "letter.txt"
    rtf.write_text("{\\rtf1\\ansi\\deff0 {\\fonttbl} Answer calls}\n")
    assert "is a rich-text document" in run("predict", "--model", fast_model, "--input", rtf).stderr


def test_a_compressed_file_given_as_a_posting_is_refused(fast_model, tmp_path):
    _, packed = _plain_and_compressed(tmp_path, ".bz2")
    result = run("predict", "--model", fast_model, packed.name, cwd=tmp_path)
    assert result.returncode == 2 and "'jobs.csv.bz2' is a file, not a posting" in result.stderr


@pytest.mark.parametrize(
    ("name", "kind"),
    [("jobs.csv.zip", "a zip archive"), ("jobs.tar.gz", "a tar archive"), ("jobs.csv.zst", "zstd-compressed data")],
)
def test_an_archive_input_name_is_named_with_what_to_do(fast_model, tmp_path, name, kind):
    """`--input jobs.csv.zip` was told to pass --input-format, which then said the file is a zip archive; given as
    an argument, the name was scored as a posting, exit 0."""
    path = tmp_path / name
    path.write_bytes(_zipped("jobs.csv"))
    unread = f"{path} is {kind}, which is not read; extract the file it holds (one compressed as .gz, .bz2 or .xz is "
    unread += "read as it is)"
    read = run("predict", "--model", fast_model, "--input", path)
    assert read.returncode == 1 and read.stderr == f"Error: {unread}\n", read.stderr
    evaluated = run("evaluate", "--model", fast_model, "--data", path)
    assert evaluated.returncode == 1 and evaluated.stderr == f"Error: {unread}\n", evaluated.stderr
    given = run("predict", "--model", fast_model, path)
    assert given.returncode == 2 and given.stdout == "", given.stdout
    assert given.stderr.endswith(f"Error: {unread}, then pass that file with --input (an argument is a posting)\n")
    # Where no such file is there, the name is one (it was called an archive that is not read, though none existed).
    missing = run("predict", "--model", fast_model, name, cwd=tmp_path / "..")
    assert missing.returncode == 2 and missing.stderr.endswith(
        f"Error: {name!r} looks like a file name (and there is no such file), not a posting: pass --input {name} to "
        "score the rows of a file\n"
    ), missing.stderr


def test_every_output_named_compressed_is_compressed(fast_model, tmp_path):
    # evaluate (and report and tune) write through the same writer as predict: a .gz name is never plain JSON.
    labelled = tmp_path / "labelled.csv.gz"
    labelled.write_bytes(gzip.compress(b"text,label\nAnswer inbound calls,BPO\nBuild credit-risk models,KPO\n"))
    done = run("evaluate", "--model", fast_model, "--data", labelled, "--output", tmp_path / "metrics.json.gz")
    assert done.returncode == 0, done.stderr
    metrics = json.loads(gzip.decompress((tmp_path / "metrics.json.gz").read_bytes()))
    assert metrics[str(labelled)]["n"] == 2
