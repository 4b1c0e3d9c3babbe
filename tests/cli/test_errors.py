"""Bad input, faults and tampering: each case ends in its exit code and one `Error:` line, never a traceback."""

import csv
import json
import os
import pickle
import re
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from artifacts import resigned
from console import (
    LONG_INPUT_LINE,
    LONG_INPUT_LINES,
    SCRIPT,
    jsonl,
    linux_only,
    run,
    start_long_predict,
    start_script,
    wait_for,
)

from pipeline import config
from pipeline.model import metadata_path


def assert_error(result, code, pattern):
    """The documented failure shape: the exit code, one `Error:` line naming the problem, no traceback."""
    assert result.returncode == code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    if code == 1:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert re.search(pattern, result.stderr), result.stderr


@pytest.fixture()
def model(small_model_dir):
    return str(small_model_dir / "model.joblib")


# -- predict: texts ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["", "   \t  "])
def test_empty_or_blank_text_keeps_its_row_with_an_error(model, text):
    result = run("predict", "--model", model, "--format", "jsonl", "Process payroll for 300 staff", text)
    assert result.returncode == 0, result.stderr
    rows = jsonl(result.stdout)
    assert [r["id"] for r in rows] == ["1", "2"]
    assert rows[1]["label"] == "" and rows[1]["error"] and rows[1]["p_kpo"] is None
    assert rows[0]["error"] is None
    assert_error(
        run("predict", "--model", model, "--on-error", "fail", "ok text", text), 1,
        r"row 2 \(id 2\) cannot be scored: empty or missing text \(--on-error fail\)$",
    )  # fmt: skip


def test_on_error_fail_names_the_row_by_its_number_when_its_id_is_empty(model, tmp_path):
    """An empty id named no row ("row with id  cannot be scored"); the number counts rows across chunks."""
    path = write(tmp_path, "mid.csv", "ref,text\n,Answer inbound calls\nA2,Build credit-risk models\n,\n")
    result = run("predict", "--model", model, "--input", str(path), "--id-column", "ref", "--on-error", "fail",
                 "--chunk-size", "1", "--format", "csv")  # fmt: skip
    # Rows 1 and 2, each a chunk of its own, are out above the error, which says so.
    assert_error(result, 1, r"row 3 \(no id\) cannot be scored: empty or missing text \(--on-error fail\); the results "
                            r"on standard output stop part-way$")  # fmt: skip


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_an_empty_cell_of_a_one_column_csv_keeps_its_row_and_number(model, tmp_path, newline):
    """A spreadsheet writes an empty cell of a one-column export as a blank line; pandas skipped it, so the row
    vanished and every later row was numbered as the one before it."""
    path = tmp_path / "descriptions.csv"
    path.write_text(newline.join(["text", "", "Process payroll for 300 staff", "", "Draft merger agreements", ""]))
    for source in (("--input", path), ("-", "--input-format", "csv")):
        result = run("predict", "--model", model, "--format", "jsonl", *source, stdin=path.read_bytes())
        rows = jsonl(result.stdout)
        assert [(r["id"], bool(r["error"])) for r in rows] == [("1", True), ("2", False), ("3", True), ("4", False)]
    # With more columns a blank line is no row of the table (an empty cell there is written as a bare separator).
    path.write_text("id,text\n\nA1,Process payroll for 300 staff\n\nA2,Draft merger agreements\n")
    rows = jsonl(run("predict", "--model", model, "--format", "jsonl", "--input", path).stdout)
    assert [r["id"] for r in rows] == ["A1", "A2"]


def test_a_ten_megabyte_posting(model, tmp_path):
    path = tmp_path / "big.txt"
    path.write_text(("Reconcile supplier statements and post journals in SAP. " * 180_000).strip() + "\n")
    assert path.stat().st_size > 10_000_000
    result = run("predict", "--model", model, "--input", str(path), "--format", "jsonl", "--max-text-chars", "20000000")
    assert result.returncode == 0, result.stderr
    rows = jsonl(result.stdout)
    assert len(rows) == 1 and rows[0]["error"] is None and rows[0]["label"] in config.LABELS


def test_a_field_longer_than_the_csv_modules_cap_is_read_in_any_row(model, tmp_path):
    """The csv module caps a field at 131,072 characters: a long posting in a CSV's first row was refused as "a line
    break (CR) inside a field", and a long second line piped in stopped with `unexpected Error`."""
    long = "Reconcile supplier statements. " * 5_000
    path = write(tmp_path, "long.csv", f"id,text\nu1,{long}\nu2,Answer calls\n")
    rows = jsonl(run("predict", "--model", model, "--input", path, "--format", "jsonl").stdout)
    assert [(row["id"], row["error"]) for row in rows] == [("u1", None), ("u2", None)]
    piped = run("predict", "--model", model, "-", "--format", "jsonl", stdin=f"Answer calls\n{long}\n")
    assert piped.returncode == 0, piped.stderr
    assert [row["error"] for row in jsonl(piped.stdout)] == [None, None]
    assert csv.field_size_limit() == 131_072  # lifted only while a line is parsed


def test_other_scripts_and_emoji(model):
    texts = ["客服代表，处理客户来电 📞", "محامٍ متخصص في العقود", "Кандидат наук, исследователь", "🙂🙂🙂"]
    rows = jsonl(run("predict", "--model", model, "--format", "jsonl", *texts).stdout)
    assert len(rows) == 4 and all(r["label"] in config.LABELS for r in rows)


# -- predict: CSV -----------------------------------------------------------------------------------------------
def write(tmp_path, name, content):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return str(path)


def test_csv_missing_text_column_lists_columns(model, tmp_path):
    path = write(tmp_path, "a.csv", "ref,title,body\n1,x,y\n")
    assert_error(run("predict", "--model", model, "--input", path), 1, r"no column 'text'.*'ref', 'title', 'body'")
    # A name that differs only in case is named as the column meant, in CSV and JSON lines alike.
    assert_error(run("predict", "--model", model, "--input", path, "--text-column", "Body"), 1,
                 r"no column 'Body'.*case-sensitive: did you mean 'body'\? choose with --text-column")  # fmt: skip
    records = write(tmp_path, "b.jsonl", '{"Text": "Answer calls"}\n')
    assert_error(run("predict", "--model", model, "--input", records), 1, r"did you mean 'Text'\?")
    # Spaces around a name, as an export's header may carry, were only listed among the columns.
    spaced = write(tmp_path, "c.csv", " Text ,ref\nAnswer calls,1\n")
    assert_error(run("predict", "--model", model, "--input", spaced), 1,
                 r"no column 'text'.*names keep their spaces and case: did you mean ' Text '\? choose")  # fmt: skip
    # Spaces in the name asked for are the miss too, not its case.
    assert_error(run("predict", "--model", model, "--input", path, "--text-column", " body"), 1,
                 r"no column ' body'.*names keep their spaces and case: did you mean 'body'\? choose")  # fmt: skip


@pytest.mark.parametrize("option", ["--text-column", "--label-column", "--by"])
def test_evaluate_refuses_an_empty_column_name_as_a_usage_error(fast_model, tmp_path, option):
    """It looked for a column named '' in each file and stopped with exit 1, as for a file that lacks a column,
    where predict refuses the option itself (exit 2)."""
    labelled = write(tmp_path, "labelled.csv", "text,label\nAnswer inbound calls,BPO\n")
    result = run("evaluate", "--model", fast_model, "--data", labelled, option, "")
    assert_error(result, 2, rf"Error: Invalid value for '{option}': is empty: give a column's name\n\Z")


@pytest.mark.parametrize("option", ["--id-column", "--text-column", "--keep-column"])
def test_an_empty_column_name_is_refused_naming_what_pandas_calls_a_column_without_one(fast_model, tmp_path, option):
    """An empty --id-column was taken for none, and the rows numbered, exit 0: `--id-column "$COLUMN"` with COLUMN
    unset, or the empty first name of a header pandas' to_csv writes with its index (`,body`)."""
    indexed = write(tmp_path, "indexed.csv", ",body\n77,Answer inbound calls and resolve billing queries\n")
    args = ("predict", "--model", fast_model, "--format", "csv", "--text-column", "body", option)
    unnamed = (rf"Error: Invalid value for '{option}': is empty: give a column's name; the input's column with no "
               rf"name \(pandas' to_csv writes its index so\) is read as 'Unnamed: 0': pass {option} "
               r"'Unnamed: 0'\n\Z")  # fmt: skip
    piped = run(*args, "", "-", "--input-format", "csv", stdin=Path(indexed).read_text())
    for result in (run(*args, "", "--input", indexed), piped):
        assert_error(result, 2, unnamed)
        assert result.stdout == ""
    named = write(tmp_path, "named.csv", "id,body\n1,Answer inbound calls\n")
    assert_error(
        run(*args, "", "--input", named), 2, rf"Invalid value for '{option}': is empty: give a column's name\n\Z"
    )
    # The name it gives reads the column (as the id, or a kept column, 77 comes out).
    passed = run(*args, "Unnamed: 0", "--input", indexed)
    assert passed.returncode == 0, passed.stderr
    assert ("77" in passed.stdout) == (option != "--text-column"), passed.stdout


def test_a_repeated_column_name_is_refused_only_where_the_run_reads_that_column(fast_model, tmp_path):
    """One repeated name anywhere refused the whole file, though the run read no column of it: `id,body,title,title`
    scored on body was `repeats the column name(s) 'title'`, exit 1."""
    path = write(tmp_path, "jobs.csv", "id,body,title,title\n7,Answer inbound calls and resolve billing queries,a,b\n")
    predict = ("predict", "--model", fast_model, "--format", "jsonl", "--input")
    args = (*predict, path, "--text-column", "body")
    scored = run(*args, "--quiet")
    assert scored.returncode == 0, scored.stderr
    assert [row["id"] for row in jsonl(scored.stdout)] == ["7"]
    assert scored.stderr == ("Warning: the input repeats the column name(s) 'title', which this run does not read: "
                             "those columns were left out (give each its own name to read or keep one)\n")  # fmt: skip
    refused = r"jobs\.csv repeats the column name\(s\) 'title'; give each its own name\n\Z"
    assert_error(run(*args, "--keep-column", "title"), 1, refused)
    assert_error(run(*predict, path, "--text-column", "title"), 1, refused)
    # pandas' name for the second 'title' is no column of the file.
    assert_error(run(*args, "--keep-column", "title.1"), 1, r"has no column 'title\.1'")
    # The `id` column is read when no --id-column names another.
    ids = write(tmp_path, "ids.csv", "id,id,body\n1,2,Answer calls\n")
    assert_error(run(*predict, ids, "--text-column", "body"), 1, r"ids\.csv repeats the column name\(s\) 'id'")
    # A labelled file's columns are all read (id, group, area... and evaluate's --by): any repeat is refused.
    labelled = write(tmp_path, "mine.csv", "text,label,notes,notes\nAnswer calls,BPO,a,b\n")
    assert_error(run("evaluate", "--model", fast_model, "--data", labelled), 1, r"repeats the column name\(s\) 'notes'")


def test_a_csv_without_a_header_or_under_a_separator_hint_says_what_its_first_line_is(fast_model, tmp_path):
    """A file with no header was said to have one column named after its first posting, with advice that dropped
    that posting; Excel's `sep=;` line gave the columns 'sep=' and 'Unnamed: 1', a name pandas made up."""
    bare = write(tmp_path, "bare.csv", "Answer inbound calls and resolve billing queries\nAdvise clients on law\n")
    assert_error(run("predict", "--model", fast_model, "--input", bare), 1,
                 r"^Error: .*bare\.csv has no column 'text'; its columns are: 'Answer inbound calls and resolve "
                 r"billing queries'; if its first line is a posting, not a header, add a header line that names the "
                 r"columns \(text\); else choose with --text-column / --id-column\n\Z")  # fmt: skip
    assert_error(
        run("evaluate", "--model", fast_model, "--data", bare),
        1,
        r"add a header line that names the columns \(text, label\); else choose with --text-column",
    )
    # A header of short names is listed as it was, with no guess.
    short = write(tmp_path, "short.csv", "ref,job title\n1,Clerk\n")
    assert "first line" not in run("predict", "--model", fast_model, "--input", short).stderr
    for separator in ";,":
        hinted = write(tmp_path, "hinted.csv", f"sep={separator}\nid{separator}text\n1{separator}Answer calls\n")
        assert_error(run("predict", "--model", fast_model, "--input", hinted), 1,
                     r"^Error: .*hinted\.csv starts with a spreadsheet's separator hint \(sep=\.\.\.\), which is not "
                     r"read: delete that first line; the separator is found without it\n\Z")  # fmt: skip


def test_the_headerless_hint_comes_only_where_the_text_column_of_a_header_is_missing(fast_model, tmp_path):
    """The hint that the first line may be a posting was given where only the id column was missing, and for JSON
    lines, which have no header; a headerless file whose postings hold commas never named --input-format txt."""
    question = "What are the main duties of the job you are hiring for?"
    form = write(tmp_path, "form.csv", f'"{question}",title\nAnswer calls,x\n')
    only_id = run("predict", "--model", fast_model, "--input", form, "--text-column", question, "--id-column", "ref")
    assert_error(only_id, 1, r"no column 'ref'; its columns are: .*; choose with --text-column / --id-column\n\Z")
    records = write(tmp_path, "q.jsonl", '{"What are the main duties of the job": "Answer calls"}\n')
    assert "first line" not in run("predict", "--model", fast_model, "--input", records).stderr
    lines = "Answer customer calls and log every ticket in the CRM\nProcess invoices, match them, and file receipts\n"
    commas = write(tmp_path, "h.csv", lines)
    assert_error(run("predict", "--model", fast_model, "--input", commas), 1,
                 r"line 2 has 3 fields but the header names 1; fix the header or the row \(if the first line is a "
                 r"posting, the file has no header: --input-format txt reads one posting per line\)\n\Z")  # fmt: skip
    assert run("predict", "--model", fast_model, "--input", commas, "--input-format", "txt").returncode == 0


def test_csv_empty_cells_keep_their_rows(model, tmp_path):
    path = write(tmp_path, "a.csv", "id,text\n1,Answer calls\n2,\n3,NaN\n4,Design bridges\n")
    rows = jsonl(run("predict", "--model", model, "--input", path, "--id-column", "id", "--format", "jsonl").stdout)
    assert [r["id"] for r in rows] == ["1", "2", "3", "4"]
    assert [bool(r["error"]) for r in rows] == [False, True, False, False]  # "NaN" is text a person typed


def test_csv_quoted_newlines_and_commas(model, tmp_path):
    path = write(tmp_path, "a.csv", 'id,text\n1,"Line one,\nline two"\n2,"Plain"\n')
    rows = jsonl(run("predict", "--model", model, "--input", path, "--id-column", "id", "--format", "jsonl").stdout)
    assert [r["id"] for r in rows] == ["1", "2"]


@pytest.mark.parametrize("output_format", ["jsonl", "csv"])
def test_csv_header_only_gives_empty_output(model, tmp_path, output_format):
    result = run("predict", "--model", model, "--input", write(tmp_path, "a.csv", "id,text\n"), "--format",
                 output_format)  # fmt: skip
    assert result.returncode == 0
    assert result.stdout == ("" if output_format == "jsonl" else "id,label,p_bpo,p_kpo,needs_review,error\n")


def test_csv_with_bom_and_semicolons(model, tmp_path):
    path = write(tmp_path, "a.csv", "\ufeffid;text\n7;Book hotel rooms for travellers, by phone\n")
    rows = jsonl(run("predict", "--model", model, "--input", path, "--id-column", "id", "--format", "jsonl").stdout)
    assert [r["id"] for r in rows] == ["7"]
    explicit = run("predict", "--model", model, "--input", path, "--id-column", "id", "--sep", ";", "--format", "jsonl")
    assert jsonl(explicit.stdout) == rows


# -- predict: JSONL, encodings and files ------------------------------------------------------------------------
def test_jsonl_malformed_line_is_named(model, tmp_path):
    path = write(tmp_path, "a.jsonl", '{"text": "ok"}\n{"text": "ok"}\n{"text": broken\n')
    assert_error(run("predict", "--model", model, "--input", path), 1, r"a\.jsonl line 3 is not valid JSON")


def test_a_json_line_that_repeats_a_key_is_refused_as_a_csv_that_repeats_a_column_is(fast_model, tmp_path):
    """json.loads keeps a repeated key's last value: a record labelled KPO then BPO was learnt as BPO, exit 0,
    where a CSV header repeating 'label' is refused."""
    records = ('{"id": "j1", "text": "Payroll clerk entering timesheets", "label": "BPO"}\n'
               '{"id": "j2", "text": "Economist forecasting demand", "label": "KPO", "label": "BPO"}\n')  # fmt: skip
    labelled = write(tmp_path, "mine.jsonl", records)
    refused = r"mine\.jsonl line 2 repeats the key\(s\) 'label': give each field its own name\n\Z"
    assert_error(run("evaluate", "--model", fast_model, "--data", labelled), 1, refused)
    assert_error(run("prepare", "--labelled", labelled, "--output-dir", tmp_path / "out"), 1, refused)
    postings = write(tmp_path, "p.jsonl", '{"text": "Answer calls", "text": "Design bridges", "id": 1, "id": 2}\n')
    assert_error(run("predict", "--model", fast_model, "--input", postings), 1,
                 r"p\.jsonl line 1 repeats the key\(s\) 'id', 'text': give each field its own name")  # fmt: skip
    # Standard input, whose format its first line tells, is read as JSON lines still, and refused as such.
    piped = run(
        "evaluate", "--model", fast_model, "--data", "-", stdin=Path(labelled).read_text().splitlines()[1] + "\n"
    )
    assert_error(piped, 1, r"standard input line 1 repeats the key\(s\) 'label'")
    # A record whose keys are all its own reads as before.
    assert run("predict", "--model", fast_model, "--input", write(tmp_path, "ok.jsonl", '{"text": "a b", "id": 1}\n')
               ).returncode == 0  # fmt: skip


def test_jsonl_number_is_text_and_null_is_an_error_row(model, tmp_path):
    path = write(tmp_path, "a.jsonl", '{"text": 12345}\n{"text": null}\n')
    rows = jsonl(run("predict", "--model", model, "--input", path, "--format", "jsonl").stdout)
    assert [bool(r["error"]) for r in rows] == [False, True]


@pytest.mark.parametrize(
    ("asked", "pattern"),
    [("json", r"JSON lines, one object per row: --format jsonl"), ("JSON", r"--format jsonl"),
     ("text", r"--format table"), ("xml", r"'xml' is not one of 'table', 'csv', 'jsonl'")],
)  # fmt: skip
def test_a_format_named_as_evaluate_names_it_says_which_one_predict_means(model, asked, pattern):
    """evaluate writes `--format json`; predict writes JSON lines and says so rather than only listing choices."""
    result = run("predict", "--model", model, "--format", asked, "Process payroll for 300 staff")
    assert_error(result, 2, pattern)
    assert result.stdout == ""


# -- predict: a table piped in without its format ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("piped", "pattern"),
    [
        (
            "id,text\n1,Answer inbound calls\n",
            r"standard input looks like a CSV whose header names the column 'text'",
        ),
        ('ref;text\n1;"Answer calls; book visits"\n', r"header names the column 'text'.*--input-format csv"),
        ('ref,title,description\nJ-1,Agent,"Answer calls, log cases"\n', r"CSV whose header is ref, title, desc"),
        ('{"text": "Answer inbound calls"}\n', r"standard input looks like JSON lines.*--input-format jsonl"),
        # One column: its header is the only sign, and a quoted posting over two lines was scored as two.
        ('text\nAnswer calls\n"Draft contracts\nand advise"\n', r"CSV whose header names the column 'text'"),
        # Blank lines above a table hid it: the header, then each row, ids and commas included, were scored.
        ("\nref,title,description\nJ1,Agent,Answer calls\n", r"CSV whose header is ref, title, description"),
        ('\n\n{"text": "Answer inbound calls"}\n', r"standard input looks like JSON lines"),
        # JSON that is not JSON lines: each line of an array, or of an object over several lines, was a posting.
        (
            '[{"id": "1", "text": "Answer calls"}, {"id": "2", "text": "Draft contracts"}]\n',
            r"looks like JSON, but not JSON lines.*jq -c",
        ),
        ('[\n  {\n    "text": "Answer calls"\n  }\n]\n', r"looks like JSON, but not JSON lines"),
        ('{\n  "text": "Answer calls"\n}\n', r"looks like JSON, but not JSON lines"),
        (
            '["Answer calls", "Draft contracts"]\n',
            r"looks like JSON, but not JSON lines.*jq -r '\.\[\]' for an array of texts",
        ),
        # A header above no row, or above a blank line: the header alone was scored as a posting.
        ("id,text\n", r"CSV whose header names the column 'text'"),
        ("id,text\n\n1,Answer inbound calls\n", r"CSV whose header names the column 'text'"),
        ("ID,Text\n\n1,Answer inbound calls\n", r"CSV whose header is ID, Text"),
        # Spreadsheets name columns with spaces: each row of such an export, ids and commas included, was scored.
        (
            'Job ID,Job Title,Job Description\r\n000123,Agent,"Answer calls\r\nand emails"\r\n',
            r"CSV whose header is Job ID, Job Title, Job Description",
        ),
        ("Job Title;Job Description\nAgent;Answer calls\n", r"CSV whose header is Job Title, Job Description"),
        ("Job ID,Job Title,Date Posted (UTC)\n1,Agent,2026-01-05\n", r"header is Job ID, Job Title, Date Posted"),
        ("Company Name/Employer,Job Title\nAcme,Agent\n", r"header is Company Name/Employer, Job Title:"),
        ("Job Title,Full Job Description Text\nAgent,Answer calls\n", r"header is Job Title, Full Job Descr"),
        # Excel's empty last column, and a header above no row or a blank line.
        (
            "Job ID,Job Title,Job Description,\n1,Agent,Answer calls,\n",
            r"header is Job ID, Job Title, Job Description:",
        ),
        ("Job ID,Job Title,Job Description\n", r"header is Job ID, Job Title, Job Description:"),
        ("id,title\n", r"CSV whose header is id, title:"),
        # A name of five words, an index column, an empty column between.
        (
            "Job Title,Job Description,Minimum Years of Experience Required\nAgent,Answer calls,2\n",
            r"header is Job Title, Job Description, Minimum Years",
        ),
        (",title,description\n0,Agent,Answer calls\n", r"CSV whose header is title, description:"),
        ("Job Title,,Description\nAgent,,Answer calls\n", r"CSV whose header is Job Title, Description:"),
        ("Job ID,Job Title,Job Description\n\n1,Agent,Answer calls\n", r"header is Job ID, Job Title, Job Descr"),
    ],
)
def test_a_table_piped_as_text_is_refused_not_scored_line_by_line(model, piped, pattern, tmp_path):
    """Stdin defaults to one posting per line: a piped CSV once had its header and every row, ids and commas
    included, scored as postings with exit 0. So did a table exported under the name .txt."""
    assert_error(run("predict", "--model", model, "-", stdin=piped), 1, pattern)
    # Nothing reaches stdout before the input is found unreadable: a CSV header once stood above no rows.
    refused = run("predict", "--model", model, "-", "--format", "csv", stdin=piped)
    assert_error(refused, 1, pattern)
    assert refused.stdout == ""
    exported = write(tmp_path, "export.txt", piped)
    assert_error(run("predict", "--model", model, "--input", exported), 1,
                 pattern.replace("standard input", r"export\.txt"))  # fmt: skip
    # Named as text, each line is a posting, as asked.
    lines = run("predict", "--model", model, "--input", exported, "--input-format", "txt", "--format", "jsonl")
    assert len(jsonl(lines.stdout)) == len(piped.splitlines())


@pytest.mark.parametrize(
    ("content", "line"),
    [("\n\n\nid,text\n1,Answer calls\n2,Answer emails\n3,bad,row\n", 7),
     ('\n\nid,text\n1,"Answer\ncalls"\n2,Answer emails\n3,bad,row\n', 7),
     ("\n\nid,text\n1,Answer calls,extra\n", 4)],
)  # fmt: skip
def test_a_bad_row_below_blank_lines_above_the_header_is_named_by_its_own_line(fast_model, tmp_path, content, line):
    """pandas never sees the blank lines passed over above the header, and its record count put the bad row on the
    header's line (3 for 5) or above it."""
    path = tmp_path / "spaced.csv"
    path.write_text(content)
    assert_error(run("predict", "--model", fast_model, "--input", path, "--id-column", "id"), 1,
                 rf"spaced\.csv line {line} has 3 fields but the header names 2")  # fmt: skip


def test_an_error_naming_an_id_carries_no_escape_sequence_or_reordering(fast_model, tmp_path):
    """--on-error fail named the row's id as it came: an escape sequence or a right-to-left override reached the
    terminal that shows stderr (click strips colour codes only off a terminal)."""
    path = tmp_path / "hostile.jsonl"
    path.write_text('{"id": "a\\u202eb\\u001b[2J\\nc", "text": ""}\n')
    result = run("predict", "--model", fast_model, "--input", path, "--on-error", "fail", "--format", "jsonl")
    assert_error(result, 1, r"^Error: row 1 \(id ab\[2J c\) cannot be scored")


def test_plain_text_that_opens_with_blank_lines_or_brackets_is_still_scored(fast_model):
    """The guards above look past blank lines and at JSON's openings only: lines that merely start with a bracket
    are postings, each keeping its line number as its id."""
    for first in ('{"Urgent"} Draft supply contracts', "[Remote] Answer calls for a telecom client"):
        piped = f"\n\n{first}\nAnswer calls for a telecom client\n"
        result = run("predict", "--model", fast_model, "-", "--format", "jsonl", stdin=piped)
        assert result.returncode == 0, result.stderr
        rows = jsonl(result.stdout)
        assert [row["id"] for row in rows] == ["1", "2", "3", "4"]
        assert [row["error"] for row in rows[:2]] == ["empty or missing text"] * 2
        assert rows[2]["label"] and rows[3]["label"]


@pytest.mark.parametrize("options", [("--text-column", "body"), ("--id-column", "ref"), ("--sep", ";")])
def test_column_options_beside_plain_text_on_stdin_are_refused_not_ignored(fast_model, options):
    """Standard input without --input-format is plain text, as a .txt file is: the options were ignored there,
    and each line scored as it is with exit 0."""
    result = run("predict", "--model", fast_model, "-", *options, stdin="Answer calls\nDraft contracts\n")
    assert_error(result, 2, rf"{options[0]} applies to the columns of a CSV.*standard input is read as plain text")
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (["predict", "- Process supplier invoices in SAP"],
         r"No such option '- '\. A text that starts with '-' goes after '--', which ends the options: "
         r"bpo-kpo predict -- '- Process supplier invoices in SAP'\n"),
        # Long postings are named TEXT: one cut with "..." was pasted back as another text.
        (["predict", "--format", "csv", "-Reconcile ledgers and chase unpaid invoices every week for clients in "
                                        "three regions and time zones"],
         r"No such option '-R'\. .* bpo-kpo predict -- TEXT\n"),
        # Click reads -h as help and names the next letter: the hint looked for '-a' at the start of a posting.
        (["predict", "-handle inbound customer calls"], r"No such option '-a'\. .* bpo-kpo predict -- "
                                                        r"'-handle inbound customer calls'\n"),
        (["predict", "--debug", "x"], r"No such option '--debug'\. --debug is an option of bpo-kpo itself, so it goes "
                                      r"before the command: bpo-kpo --debug COMMAND \.\.\.\n"),
        (["evaluate", "--debug"], r"--debug is an option of bpo-kpo itself"),
        (["predict", "--modle", "x"], r"No such option '--modle'\. Did you mean '--model'\?\n"),
        # serve takes no postings: `serve -- TEXT` would only fail in turn, so no hint.
        (["serve", "-Answer customer calls"], r"No such option '-A'\.\n"),
    ],
)  # fmt: skip
def test_an_unknown_option_names_the_mistake_behind_it(fast_model, args, hint):
    """A posting pasted with its bullet ("- Process supplier invoices") gave `No such option '- '.` alone, and an
    option of the program given after the command said nothing of where it goes."""
    result = run(*args[:1], "--model", fast_model, *args[1:])
    assert result.returncode == 2 and result.stdout == "", result.stdout
    assert re.search(r"\nError: " + hint if hint.startswith("No") else hint, result.stderr), result.stderr
    assert "Traceback" not in result.stderr
    # At the program's own level the posting was meant for predict.
    bare = run("- answer customer calls")
    assert bare.returncode == 2 and bare.stderr.endswith("bpo-kpo predict -- '- answer customer calls'\n")


def test_a_scope_threshold_without_a_scope_model_is_refused(model):
    """It was ignored without a word: the rows came back with no scope fields, as if the option were not there."""
    assert_error(run("predict", "--model", model, "--scope-threshold", "0.3", "Answer calls"), 2,
                 r"--scope-threshold needs the scope model beside the model \(.*model\.scope\.joblib\)")  # fmt: skip
    assert run("predict", "--model", model, "Answer calls").returncode == 0


def test_a_file_name_given_as_a_posting_is_refused(model, tmp_path):
    """Arguments are postings: `predict jobs.csv` once scored the words "jobs.csv" and exited 0."""
    table = tmp_path / "jobs.csv"
    table.write_text("id,text\n1,Answer inbound calls\n")
    assert_error(run("predict", "--model", model, str(table)), 2, r"is a file, not a posting: pass --input .*jobs\.csv")
    assert_error(run("predict", "--model", model, "Answer calls", "postings.jsonl"), 2, r"'postings.jsonl' looks like")
    # A name too long for any file system is still named, not a 'File name too long' error.
    assert_error(run("predict", "--model", model, "x" * 300 + ".csv"), 2, r"looks like a file name")
    # A posting that merely ends in a suffix-like word, or a word that is also a file here, is still a posting.
    (tmp_path / "Nurse").write_text("")
    # Nor is a long posting with a slash, which no file system could hold as a name (it once stopped the run).
    long_posting = "Match invoices to orders and post payments; " * 12 + "AP/AR clerk"
    for posting in ["Type up call notes and save them as notes.txt", "Nurse", long_posting]:
        result = run("predict", "--model", model, posting, "--format", "jsonl", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert len(jsonl(result.stdout)) == 1


def test_text_that_only_resembles_a_table_is_still_scored_line_by_line(model):
    # Lines with commas (one naming "text"), and tables chosen as txt. (A header naming the text column, or of
    # two column names or more, above no row is refused: an empty export, not a posting "id,text" or "id,title".)
    for piped, args, expected_ids in [
        ("Copywriter, text, images\nAnswer calls\n", (), ["1", "2"]),
        ("Data entry, billing\nCall agent, phones\n", (), ["1", "2"]),
        # Lines of a few words each, one of them a column's word: a posting line names one at most.
        ("Title insurance, closing files\nEscrow officer, loan files\n", (), ["1", "2"]),
        ("Posting clerk, ledger entries\nAnswer calls, log tickets\n", (), ["1", "2"]),
        # Cells of which half the words are a column's at most: postings, not names ("flexible location").
        ("Payroll clerk; flexible location; good salary\nClaims processor; night shift; weekly pay\n", (), ["1", "2"]),
        ("Content moderator, company laptop, posting reviews\nTax analyst, hybrid, senior level\n", (), ["1", "2"]),
        ("Data entry | company records | text files\nEmail support | night shift | chat\n", (), ["1", "2"]),
        # Conditions of work, values and labelled values are no column names; nor are two bare words of no column.
        ("Data entry operator, contract, full hours, night shift\n", (), ["1"]),
        (
            "Payroll clerk; Salary 25000; Hours 40; Job ID 4411\nClaims clerk; Salary 26000; Hours 38; Job ID 4412\n",
            (),
            ["1", "2"],
        ),
        (
            "Company name withheld, Job title: data entry, Location: Manila\nCompany name withheld, Job title: claims, "
            "Location: Cebu\n",
            (),
            ["1", "2"],
        ),
        ("Accountant, Remote\nBookkeeper, Manila\n", (), ["1", "2"]),
        # A posting that starts with the word "text", alone or above a blank line, is no header.
        ("text, chat and email support for a telecom helpdesk\n", (), ["1"]),
        ("text; chat and phone support\n\nDevelop financial models\n", (), ["1", "2", "3"]),
        ("id,text\n1,Answer inbound calls\n", ("--input-format", "txt"), ["1", "2"]),
        ('{"text": "Answer calls"}\n', ("--input-format", "txt"), ["1"]),
    ]:
        result = run("predict", "--model", model, "-", "--format", "jsonl", *args, stdin=piped)
        assert result.returncode == 0, (piped, result.stderr)
        assert [row["id"] for row in jsonl(result.stdout)] == expected_ids, piped
    scored = run("predict", "--model", model, "-", "--input-format", "csv", "--format", "jsonl",
                 stdin="id,text\n7,Answer inbound calls\n")  # fmt: skip
    assert [row["id"] for row in jsonl(scored.stdout)] == ["7"]


def test_a_utf8_mark_read_as_cp1252_or_latin1_is_dropped_and_a_mixed_file_is_named_as_such(fast_model, tmp_path):
    """The error's own advice for a UTF-8 file with one cp1252 byte, --encoding cp1252, read the byte order mark as
    three characters of the first column's name: `id` went unfound, and the ids 000123 became 1 and 2 unsaid."""
    path = write(
        tmp_path,
        "mixed.csv",
        b"\xef\xbb\xbfid,text\n000123,Answer calls in Z\xc3\xbcrich\n000124,Model risk \x96 50k\n",
    )
    named = r"mixed\.csv is not valid utf-8-sig at byte 60 \(0x96\); it starts with a UTF-8 byte order mark, "
    advice = r"yet mixes in another encoding: .*--encoding cp1252 \(Excel on Windows\) or latin-1 reads it"
    assert_error(run("predict", "--model", fast_model, "--input", path), 1, named + advice)
    for encoding in ("cp1252", "latin-1"):
        result = run("predict", "--model", fast_model, "--input", path, "--encoding", encoding, "--format", "jsonl")
        assert [row["id"] for row in jsonl(result.stdout)] == ["000123", "000124"], result.stderr
    # Without the mark, ASCII before the byte: the advice is as before.
    plain = write(tmp_path, "plain.csv", b"id,text\n1,Model risk \x96 50k\n")
    plain_advice = run("predict", "--model", fast_model, "--input", plain).stderr
    assert "byte order mark" not in plain_advice and "mixes" not in plain_advice
    assert "pass --encoding cp1252 to read it (Excel on Windows)" in plain_advice
    # Without the mark, UTF-8 before the byte: the advice cp1252 turned every accent of the file into two characters
    # (Café as CafÃ©), exit 0. Named as mixed, in the block of the byte or in one before it.
    for filler in (b"", b"x" * 70_000):
        unmarked = write(
            tmp_path, "unmarked.csv", b"id,text\n1,Caf\xc3\xa9 manager " + filler + b"\n2,Analyst\x92s role\n"
        )
        named_mixed = r"unmarked\.csv is not valid utf-8-sig at byte \d+ \(0x92\); it holds UTF-8 text before it, "
        assert_error(run("predict", "--model", fast_model, "--input", unmarked), 1, named_mixed + advice)


@pytest.mark.parametrize("mark", [b"", b"\xef\xbb\xbf"])
def test_the_byte_named_as_not_utf8_is_its_place_in_the_file(fast_model, tmp_path, mark):
    """The place counted from the codec's own bytes: three short in a file with a mark, which the codec drops, and
    off by what one block left undecoded for the next (here an é across the first 64 KiB)."""
    head = mark + b"id,text\n1,"
    data = head + b"a" * (65536 - len(head) - 1) + b"\xc3\xa9x\xffz\n"
    path, place = write(tmp_path, "edge.csv", data), data.index(0xFF)
    assert_error(run("predict", "--model", fast_model, "--input", path), 1,
                 rf"edge\.csv is not valid utf-8-sig at byte {place} \(0xff\)")  # fmt: skip


@pytest.mark.parametrize("chunk_size", ["1", "1000"])
def test_a_quote_never_closed_names_the_data_row_that_opens_it(fast_model, tmp_path, chunk_size):
    """pandas' own words reached the user ("Error tokenizing data. C error: EOF inside string starting at row 3");
    the row is numbered as predict numbers rows, in whichever chunk it falls, quoted line breaks above or not."""
    content = '\n\nid,text\n1,"Answer\ncalls"\n\n\n2,ok\n3,"Draft contracts\n4,Review leases\n'
    path = write(tmp_path, "open.csv", content)
    assert_error(run("predict", "--model", fast_model, "--input", path, "--chunk-size", chunk_size), 1,
                 r"open\.csv data row 3 opens a quoted field that is never closed, so the rest of the input was read "
                 r'into it: close the quote \(a quote inside a quoted field is written twice: ""\)'
                 + ("; the results on standard output stop part-way$" if chunk_size == "1" else "$"))  # fmt: skip
    # Blank lines below the header count in pandas' rows, not in predict's: stdin, which cannot be read again to
    # tell, names the record with them counted; a quote opened in the header names the header.
    piped = run("predict", "--model", fast_model, "-", "--input-format", "csv", stdin=content.lstrip("\n"))
    assert_error(piped, 1, r"standard input record 6 \(the header is record 1; blank lines count\) opens a quoted")
    header = write(tmp_path, "header.csv", 'id,"text\n1,Answer calls\n')
    assert_error(run("predict", "--model", fast_model, "--input", header), 1, r"header\.csv header opens a quoted")


def test_a_quote_left_open_until_the_next_rows_quote_names_the_line_that_opens_it(fast_model, tmp_path):
    """pandas' C parser takes any text after a closing quote into the field: the quote left open on line 3 was
    closed by line 4's opening quote, the two rows read as one, with exit 0, a row fewer out and row 2 scored on
    line 4's leftover text; evaluate and train read the rows so too."""
    rows = ['1,Call agent,"Answer inbound calls, resolve billing queries",BPO',
            '2,"Payroll clerk,Process payroll weekly and answer staff queries,BPO',
            '3,Quant analyst,"Build credit-risk models, in Python",KPO', '4,Lawyer,"Draft contracts",KPO']  # fmt: skip
    content = "id,title,text,label\n" + "\n".join(rows) + "\n"
    message = (r"line 3 opens a quoted field that is not closed: the next quote, on line 4, is followed by 'Build "
               r"credit-risk models', where a closing quote needs a separator or a line end; close the quote \(a "
               r'quote inside a quoted field is written twice: ""\)$')  # fmt: skip
    path, scored = write(tmp_path, "unclosed.csv", content), tmp_path / "scored.csv"
    assert_error(run("predict", "--model", fast_model, "--input", path, "--output", scored), 1,
                 r"unclosed\.csv " + message)  # fmt: skip
    assert not scored.exists()
    piped = run("predict", "--model", fast_model, "-", "--input-format", "csv", "--format", "csv", stdin=content)
    assert_error(piped, 1, r"standard input " + message)
    assert piped.stdout == ""
    assert_error(run("evaluate", "--model", fast_model, "--data", path), 1, r"unclosed\.csv " + message)
    assert_error(run("train", "--data", path, "--model", tmp_path / "m.joblib"), 1, r"unclosed\.csv " + message)
    # A quote inside a quoted field that is not doubled closes the field there, on the line that opened it: it was
    # said to be a field "not closed".
    inner = write(tmp_path, "inner.csv", 'id,text\n1,"Answer calls for the "Tier 1" desk"\n')
    assert_error(run("predict", "--model", fast_model, "--input", inner), 1,
                 r"inner\.csv line 2 has text after a quoted field's closing quote: the quote is followed by "
                 r"""'Tier 1" desk"', where a separator or a line end must follow it \(a quote inside a quoted field """
                 r'is written twice: ""\)$')  # fmt: skip
    # Fields that another character separates, each quoted, read as one field with text after it: --sep is named.
    colons = write(tmp_path, "colons.csv", '"id":"text"\n"1":"Answer calls"\n')
    assert_error(run("predict", "--model", fast_model, "--input", colons), 1,
                 r"""colons\.csv line 1 has text after .* followed by ':"text"', .*; if ':' separates the fields, """
                 r"pass --sep :$")  # fmt: skip
    assert run("predict", "--model", fast_model, "--input", colons, "--sep", ":").returncode == 0


@pytest.mark.parametrize("engine", ["portable", "sklearn"])
def test_a_json_text_that_is_no_text_is_named_as_what_it_is(fast_model, tmp_path, engine):
    """An array, an object, true or false where the text should be was told "empty or missing text", which it plainly
    is not; a null or a missing field is that, and a number is scored as the text it was written as."""
    lines = ['{"text": ["a", "b"], "title": null}', '{"text": true}', '{"text": {"x": 1}}', '{"text": null}',
             '{"title": "x"}', '{"text": 12}', '{"text": false, "title": "Payroll clerk"}']  # fmt: skip
    path = write(tmp_path, "odd.jsonl", "\n".join(lines) + "\n")
    result = run("predict", "--model", fast_model, "--engine", engine, "--input", path, "--format", "jsonl",
                 "--text-column", "text", "--text-column", "title")  # fmt: skip
    errors = [row["error"] for row in jsonl(result.stdout)]
    assert errors == ["'text' is an array, not a string", "'text' is true, not a string",
                      "'text' is an object, not a string", "empty or missing text", None, None, None]  # fmt: skip
    failed = run("predict", "--model", fast_model, "--engine", engine, "--input", path, "--on-error", "fail")
    assert_error(failed, 1, r"row 1 \(id 1\) cannot be scored: 'text' is an array, not a string \(--on-error fail\)")


def test_bytes_that_are_not_utf8(model, tmp_path):
    path = write(tmp_path, "a.csv", b"id,text\n1,Caf\xe9 staff\n")
    assert_error(run("predict", "--model", model, "--input", path), 1, r"a\.csv is not valid utf-8-sig at byte 13")
    assert run("predict", "--model", model, "--input", path, "--encoding", "latin-1").returncode == 0
    # Excel on Windows saves cp1252: its curly apostrophe is 0x92, a control code in latin-1. The message names
    # the byte and the encoding that reads it as the writer meant.
    excel = write(tmp_path, "excel.csv", b"id,text\n1,Answer the customer\x92s calls\n")
    assert_error(run("predict", "--model", model, "--input", excel), 1,
                 r"at byte 29 \(0x92\); pass --encoding cp1252 to read it \(Excel on Windows\)")  # fmt: skip
    scored = run("predict", "--model", model, "--input", excel, "--encoding", "cp1252", "--format", "jsonl")
    assert scored.returncode == 0 and len(jsonl(scored.stdout)) == 1


@pytest.mark.parametrize(
    ("make_input", "pattern"),
    [
        (lambda tmp: str(tmp / "nope.csv"), r"nope\.csv does not exist"),
        # Without a suffix the format is unknown too, but the missing file is the fault to name.
        (lambda tmp: str(tmp / "postings"), r"input file .*postings does not exist"),
        (lambda tmp: str(tmp), r"is a directory"),
        (lambda tmp: write(tmp, "b.csv", bytes(range(256)) * 4), r"looks like a binary file"),
    ],
    ids=["missing", "missing-without-suffix", "directory", "binary"],
)
def test_unreadable_input_files(model, tmp_path, make_input, pattern):
    assert_error(run("predict", "--model", model, "--input", make_input(tmp_path)), 1, pattern)


@pytest.mark.parametrize(
    ("output_format", "name"), [("csv", "scored.jsonl"), ("table", "scored.csv.gz"), ("jsonl", "x.csv")]
)
def test_a_format_the_output_name_contradicts_is_refused(fast_model, tmp_path, output_format, name):
    """CSV was written under a JSON-lines name, and a table under a CSV one; the name's own format, or a name
    that says none, is written as ever."""
    output = tmp_path / name
    result = run("predict", "--model", fast_model, "--format", output_format, "--output", output, "Answer calls")
    assert_error(result, 2, rf"--format {output_format} and --output .*{re.escape(name)}, whose name says \w+, "
                            "disagree: drop --format")  # fmt: skip
    assert not output.exists()
    agreeing = tmp_path / f"scored.{'csv' if output_format == 'table' else output_format}"
    assert run("predict", "--model", fast_model, "--output", agreeing, "Answer calls").returncode == 0
    assert run("predict", "--model", fast_model, "--format", output_format, "--output", tmp_path / "plain",
               "Answer calls").returncode == 0  # fmt: skip


@pytest.mark.parametrize(
    "args, env, message",
    [
        (("predict", "--model", "", "Answer calls"), {}, "is empty: give the model file"),
        (("evaluate", "--model", ""), {}, "is empty: give the model file"),
        (("serve", "--model", ""), {}, "is empty: give the model file"),
        (("predict", "--model", "/", "Answer calls"), {}, "'/' is a folder, not a model file"),
        (("predict", "Answer calls"), {config.MODEL_ENV_VAR: ""}, f"{config.MODEL_ENV_VAR} is set but empty: name the "
                                                                   "model file, or unset it"),
    ],
)  # fmt: skip
def test_an_empty_model_name_is_refused(args, env, message):
    """`--model "$MODEL"` with MODEL unset, or `--model /`, ended in "unexpected ValueError: PosixPath('.') has an
    empty name"; BPO_KPO_MODEL set empty was taken for unset, and the checkout's own model scored, exit 0."""
    result = run(*args, env=env)
    assert_error(result, 2, re.escape(message))
    assert result.stdout == ""


def test_a_model_variable_set_empty_gives_way_to_a_model_option(fast_model):
    """--model names the model whatever the variable holds: only a variable the command would read is refused."""
    result = run("predict", "--model", fast_model, "--format", "jsonl", "Answer calls", env={config.MODEL_ENV_VAR: ""})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["label"] in config.LABELS


@pytest.mark.parametrize("postings", [(), ("Answer calls",)])
def test_an_empty_input_name_is_refused(fast_model, postings):
    """`--input "$FILE"` with FILE unset: beside postings it was ignored and the postings scored, alone it was told
    to give postings."""
    result = run("predict", "--model", fast_model, "--input", "", *postings)
    assert_error(result, 2, r"--input is empty: give a file name, or - for standard input")
    assert result.stdout == ""


def test_output_folder_missing(model, tmp_path):
    assert_error(run("predict", "--model", model, "x", "--output", str(tmp_path / "no" / "out.jsonl")), 1,
                 r"output folder .*no does not exist")  # fmt: skip
    # A file where the folder should be is not missing: it was said not to exist.
    (tmp_path / "big.csv").write_text("id,text\n")
    assert_error(run("predict", "--model", model, "x", "--output", str(tmp_path / "big.csv" / "out.jsonl")), 1,
                 r"cannot write .*big\.csv/out\.jsonl: .*big\.csv is a file, not a folder$")  # fmt: skip
    # Above it too, and for the commands that create their folders: train fitted for minutes, then said
    # "File exists"; evaluate --plots said "Not a directory".
    blocked = tmp_path / "big.csv"
    for args in (("predict", "--model", model, "x", "--output", blocked / "sub" / "out.jsonl"),
                 ("train", "--data", blocked, "--model", blocked / "m" / "model.joblib"),
                 ("evaluate", "--model", model, "--data", blocked, "--plots", blocked / "plots")):  # fmt: skip
        assert_error(run(*args), 1, r": .*big\.csv is a file, not a folder$")


@linux_only("/proc, a folder in which no one may create a file")
def test_output_folder_unwritable(model):
    assert_error(run("predict", "--model", model, "x", "--output", "/proc/out.jsonl"), 1, r"cannot write to /proc")


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_interrupt_leaves_no_partial_output(model, tmp_path, jobs):
    """Ctrl-C reaches the whole process group, as from a terminal: one line, no worker tracebacks, no file."""
    process, output = start_long_predict(model, tmp_path, jobs)
    os.killpg(process.pid, signal.SIGINT)
    stderr = process.communicate(timeout=120)[1]
    assert process.returncode == 130
    assert stderr == "Error: interrupted; no output file was left behind\n"
    assert not output.exists() and not list(tmp_path.glob(".out.jsonl.*"))


def test_interrupt_says_an_output_file_that_was_there_is_left_as_it_was(model, tmp_path):
    """The message said no output file was left behind, which read as if the file had gone; it is untouched."""
    (tmp_path / "out.jsonl").write_text("OLD\n")
    process, output = start_long_predict(model, tmp_path, "1")
    os.killpg(process.pid, signal.SIGINT)
    stderr = process.communicate(timeout=120)[1]
    assert (process.returncode, stderr) == (130, f"Error: interrupted; {output} was left as it was\n")
    assert output.read_text() == "OLD\n" and not list(tmp_path.glob(".out.jsonl.*"))


def test_an_error_after_results_went_to_stdout_says_they_stop_part_way(model, tmp_path):
    """--on-error fail on a row of a later chunk: the rows of the chunks before it were on stdout, and the error
    said nothing of them, so a script could take them for the whole output."""
    path = tmp_path / "jobs.csv"
    path.write_text(
        "id,text\n" + "".join(f"{i},{'' if i == 7 else 'Answer calls and log tickets'}\n" for i in range(1, 9))
    )
    result = run("predict", "--model", model, "--input", path, "--on-error", "fail", "--chunk-size", "3",
                 "--format", "jsonl")  # fmt: skip
    assert result.returncode == 1
    assert [row["id"] for row in jsonl(result.stdout)] == ["1", "2", "3", "4", "5", "6"]
    assert result.stderr == ("Error: row 7 (id 7) cannot be scored: empty or missing text (--on-error fail); the "
                             "results on standard output stop part-way\n")  # fmt: skip
    # No row out, no such words: the header alone, or a write that failed (a full disk).
    header_only = run("predict", "--model", model, "--input", path, "--on-error", "fail", "--chunk-size", "8",
                      "--format", "csv")  # fmt: skip
    assert header_only.stdout.startswith("id,") and header_only.stderr.endswith("(--on-error fail)\n")
    full = run("predict", "--model", model, "--input", path, "--format", "csv", "--output", "/dev/full")
    assert full.returncode == 1 and "No space left" in full.stderr and "part-way" not in full.stderr, full.stderr
    # Written to a file, nothing is: the error alone.
    to_file = run("predict", "--model", model, "--input", path, "--on-error", "fail", "--chunk-size", "3",
                  "--output", tmp_path / "out.jsonl")  # fmt: skip
    assert to_file.stderr.endswith("(--on-error fail)\n") and not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize(("output", "named"), [((), "standard output"), (("--output", "/dev/stdout"), "/dev/stdout")])
def test_interrupt_says_streamed_results_stop_part_way(model, tmp_path, output, named):
    """Results that go out as they come (`> file`, a device) are there, cut off: the message said no output was
    left behind, which a user who redirected stdout found false."""
    source, redirected = tmp_path / "many.txt", tmp_path / "redirected.jsonl"
    source.write_text(LONG_INPUT_LINE * LONG_INPUT_LINES)
    with redirected.open("w") as stdout:
        process = start_script("predict", "--model", model, "--input", source, *output, stdin=subprocess.DEVNULL,
                               stdout=stdout, stderr=subprocess.PIPE, text=True, start_new_session=True)  # fmt: skip
        wait_for(lambda: redirected.stat().st_size > 0, "predict wrote its first results", process)
        os.killpg(process.pid, signal.SIGINT)
        stderr = process.communicate(timeout=120)[1]
    assert (process.returncode, stderr) == (130, f"Error: interrupted; the results on {named} stop part-way\n")
    assert json.loads(redirected.read_text().splitlines()[0])["label"] in config.LABELS


def test_interrupt_while_a_full_pipe_holds_up_the_first_rows_says_they_stop_part_way(model, tmp_path):
    """The first chunk's rows were marked as out only once their write returned: Ctrl-C while a slow reader's full
    pipe held that write up said no output was left behind, though the reader had read hundreds of rows."""
    source = tmp_path / "many.txt"
    source.write_text("Answer customer calls and log each one in the CRM\n" * 4000)  # far more than a pipe holds
    reader, writer = os.pipe()
    process = start_script("predict", "--model", model, "--input", source, "--format", "jsonl",
                           stdin=subprocess.DEVNULL, stdout=writer, stderr=subprocess.PIPE, text=True,
                           start_new_session=True)  # fmt: skip
    os.close(writer)
    with os.fdopen(reader, "rb") as pipe:
        assert pipe.read(1 << 12)  # rows are coming: the first chunk's write is under way, then held up
        wait_for(lambda: "pipe_w" in Path(f"/proc/{process.pid}/wchan").read_text(), "the write to block", process)
        os.killpg(process.pid, signal.SIGINT)
        stderr = process.communicate(timeout=120)[1]
    assert (process.returncode, stderr) == (130, "Error: interrupted; the results on standard output stop part-way\n")


def test_debug_shows_the_traceback(model, tmp_path):
    result = run("--debug", "predict", "--model", model, "--input", str(tmp_path / "missing.csv"))
    assert result.returncode == 1 and "Traceback" in result.stderr


# -- prepare and train ------------------------------------------------------------------------------------------
def prepare_with(tmp_path, labelled_files, catalogue=config.CATALOGUE_DIR):
    labelled = tmp_path / "labelled"
    labelled.mkdir(exist_ok=True)
    for name, content in labelled_files.items():
        write(labelled, name, content)
    out = tmp_path / "out"
    (tmp_path / "nofield").mkdir(exist_ok=True)  # an empty folder: no field set, and no written postings
    return run("prepare", "--n-postings", "300", "--labelled", str(labelled), "--output-dir", str(out),
               "--field", str(tmp_path / "nofield"), "--written", str(tmp_path / "nofield"),
               "--catalogue", str(catalogue))  # fmt: skip


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        (
            "text,label\nAnswer calls,BPO\nDo research,Research\nX,kpo\n",
            r"labels outside BPO, KPO, NEITHER: 'Research', 'kpo' \(data rows 2, 3\); labels are case-sensitive: "
            r"did you mean 'KPO'\?$",
        ),
        ("text,category\nAnswer calls,BPO\n", r"no column 'label'; its columns are: 'text', 'category'; rename them"),
        ("id,text,label\n1,Answer calls,BPO\n1,Do research,KPO\n", r"repeats ids: 1"),
        ("", r"is empty"),
        ("text,label\n", r"has no rows"),
        (
            "id,text,label\na,Answer inbound calls,BPO\nb,Draft contracts,KPO\nc,answer inbound calls!,KPO\n",
            r"give one text \(or near copies of it\) different labels: a \(BPO\), c \(KPO\); keep one label",
        ),
    ],
    ids=["unknown-label", "missing-column", "duplicate-ids", "empty-file", "header-only", "disputed-label"],
)
def test_prepare_refuses_bad_labelled_data(tmp_path, content, pattern):
    assert_error(prepare_with(tmp_path, {"mine.csv": content}), 1, pattern)


def test_field_and_challenge_sets_of_ones_own_are_read_or_named(tmp_path):
    """A field set without area, form or borderline columns, and a malformed or incomplete challenge file, were
    'unexpected KeyError' or a pandas ValueError. The field set's slices are optional; the challenge set's register
    and clarity, by which it is reported, are named when missing; its lines are read as any JSON lines are."""
    for folder in ("labelled", "written", "field", "challenge"):
        (tmp_path / folder).mkdir()
    write(tmp_path / "field", "mine.csv", "id,text,label\nf1,Answer inbound calls,BPO\nf2,Draft contracts,KPO\n")

    def prepare_with_sets(record: str):
        write(tmp_path / "challenge", "mine.jsonl", record + "\n")
        # No written postings: the sets are what is read here, and the project's own postings take 2 s to join.
        folders = [f"--{name}={tmp_path / name}" for name in ("labelled", "written", "field", "challenge")]
        # 300 postings: a few words tie a class by chance (the audit says so), which is not what this test is about.
        return run(
            "prepare", "--n-postings", "300", "--allow-shortcuts", "--output-dir", str(tmp_path / "out"), *folders
        )

    cut = prepare_with_sets('{"id": "c1", "text": "Answer calls"')
    assert_error(cut, 1, r"mine\.jsonl line 1 is not valid JSON")
    unreported = prepare_with_sets('{"id": "c1", "text": "Answer calls", "label": "BPO"}')
    assert_error(
        unreported, 1, r"mine\.jsonl has no 'register' field: every challenge posting needs an id, its register"
    )
    done = prepare_with_sets(
        '{"id": "c1", "text": "Answer calls", "label": "BPO", "register": "short", "clarity": "clear"}'
    )
    assert done.returncode == 0, done.stderr
    assert "field: BPO=1, KPO=1, total=2" in done.stdout and "challenge: BPO=1, total=1" in done.stdout


def test_an_empty_text_is_named_by_its_own_file_and_row(tmp_path):
    files = {"a.csv": "text,label\nAnswer inbound calls,BPO\nDraft contracts,KPO\n", "b.csv": "text,label\n   ,KPO\n"}
    assert_error(prepare_with(tmp_path, files), 1, r"b\.csv has empty text in data rows 1; write the posting")


def test_evaluate_and_train_refuse_labelled_postings_without_text(model, tmp_path):
    """evaluate scored them as the model's no-evidence guess (BPO) and counted them: KPO recall fell from 1.0 to
    0.33; train --data learnt from them, where prepare refused them."""
    content = 'id,text,label\nE1,"   ",KPO\nE2,,KPO\nE3,Advise clients on tax law,KPO\nE4,Answer calls,BPO\n'
    path = write(tmp_path, "mine.csv", content)
    message = r"mine\.csv has empty text in data rows 1, 2; write the posting or remove the row$"
    assert_error(run("evaluate", "--model", model, "--data", path), 1, message)
    assert_error(run("train", "--data", path, "--model", tmp_path / "m.joblib"), 1, message)
    jsonl = '{"text": "Answer calls", "label": "BPO"}\n{"text": "", "label": "KPO"}\n'
    assert_error(run("evaluate", "--model", model, write(tmp_path, "mine.jsonl", jsonl)), 1,
                 r"mine\.jsonl has empty text in data rows 2; write the posting")  # fmt: skip


def test_a_labelled_posting_longer_than_predict_scores_is_refused(model, tmp_path):
    """prepare put a posting of two million characters into the training split, and evaluate scored one of 1.4
    million, though predict gives such a posting an error row: most likely rows run together by a broken quote."""
    long = "word " * 240_001
    content = f"text,label\nAnswer calls,BPO\n{long},KPO\n"
    path = write(tmp_path, "mine.csv", content)
    message = (r"mine\.csv has postings of over 1,000,000 characters in data rows 2 \(the longest 1,200,005\): rows "
               r"run together by an unclosed quote\? Split or shorten them$")  # fmt: skip
    assert_error(run("evaluate", "--model", model, "--data", path), 1, message)
    assert_error(prepare_with(tmp_path, {"mine.csv": content}), 1, message)


def test_evaluate_names_its_own_column_options(model, tmp_path):
    """A labelled file without the columns once got predict's hint, --id-column, which evaluate does not take."""
    path = write(tmp_path, "mine.csv", "description,category\nAnswer calls,BPO\n")
    assert_error(run("evaluate", "--model", model, "--data", path), 1,
                 r"no column 'text', 'label'; .*; choose with --text-column / --label-column$")  # fmt: skip


def test_evaluate_by_a_column_the_file_lacks_names_its_columns(model, tmp_path):
    path = write(tmp_path, "mine.csv", "text,label,src\nAnswer calls,BPO,a\nBuild credit models,KPO,b\n")
    assert_error(run("evaluate", "--model", model, path, "--by", "region"), 1,
                 r"no column 'region' to slice by; its columns are: 'text', 'label', 'src'$")  # fmt: skip
    assert_error(run("evaluate", "--model", model, path, "--by", "Src"), 1,
                 r"no column 'Src' to slice by; .*case-sensitive: did you mean 'src'\?$")  # fmt: skip
    # A column given twice is named once; a slice made of two columns says which.
    assert_error(run("evaluate", "--model", model, path, "--by", "region", "--by", "form_clarity", "--by", "region"),
                 1, r"no column 'region', 'form_clarity' to slice by \('form_clarity' needs the form and borderline "
                    r"columns\); its columns are")  # fmt: skip


def test_evaluate_by_names_the_columns_as_the_file_names_them(model, tmp_path):
    """With --label-column gold, `--by gold` said the file had no column 'gold', and `--by label` sliced by gold, not
    by the file's own 'label' column, which the choice leaves out."""
    path = write(tmp_path, "mine.csv", "text,gold,label\nAnswer calls,BPO,x\nBuild credit models,KPO,y\n")
    by_gold = run("evaluate", "--model", model, path, "--label-column", "gold", "--by", "gold", "--format", "json")
    assert by_gold.returncode == 0, by_gold.stderr
    (document,) = json.loads(by_gold.stdout).values()
    assert set(document["slices"]["label"]) == {"BPO", "KPO"}
    assert_error(run("evaluate", "--model", model, path, "--label-column", "gold", "--by", "label"), 2,
                 r"--by label: the file's own 'label' column is left out, as --label-column gold reads 'gold' in its "
                 r"place; slice by 'gold'$")  # fmt: skip


def test_a_labelled_file_that_is_not_utf8_is_told_what_its_command_takes(model, tmp_path):
    """prepare has no --encoding: it once told the user to pass one. evaluate now takes it, as predict does."""
    excel = b"text,label\nAnswer the customer\x92s calls,BPO\n"
    assert_error(prepare_with(tmp_path, {"mine.csv": excel}), 1,
                 r"mine\.csv is not valid utf-8-sig at byte 30 \(0x92\); save it as UTF-8")  # fmt: skip
    path = write(tmp_path, "excel.csv", excel)
    assert_error(run("evaluate", "--model", model, path), 1, r"pass --encoding cp1252 to read it")
    scored = run("evaluate", "--model", model, path, "--encoding", "cp1252", "--format", "json")
    assert scored.returncode == 0, scored.stderr
    assert json.loads(scored.stdout)[path]["n"] == 1


def test_prepare_refuses_a_class_too_small_to_split(tmp_path):
    catalogue = tmp_path / "catalogue"
    catalogue.mkdir()
    for name in config.CATALOGUE_SUPPORT_FILES:
        shutil.copy(config.CATALOGUE_DIR / name, catalogue / name)
    for name in ("bpo_a.json", "kpo_a.json"):
        data = json.loads((config.CATALOGUE_DIR / name).read_text())
        data["areas"] = data["areas"][:1]
        data["areas"][0]["families"] = data["areas"][0]["families"][:1]
        (catalogue / name).write_text(json.dumps(data))
    assert_error(prepare_with(tmp_path, {}, catalogue), 1, r"class BPO has \d+ rows in 1 group\(s\)")


@pytest.mark.parametrize(
    "args",
    [["train", "--c", "-1"], ["train", "--ngram-max", "0"], ["prepare", "--test-size", "1.5"],
     ["prepare", "--test-size", "0"], ["predict", "--jobs", "0", "x"],
     # numpy's range: train --seed -1 ended in "unexpected ValueError: Seed must be between 0 and 2**32 - 1".
     ["train", "--seed", "-1"], ["train", "--seed", "4294967296"], ["prepare", "--seed", "-1"]],
)  # fmt: skip
def test_out_of_range_parameters_are_usage_errors(args):
    result = run(*args)
    assert result.returncode == 2 and "Traceback" not in result.stderr and "Error" in result.stderr


def test_a_solver_stopped_at_max_iter_is_one_warning_line_per_model(catalogue, tmp_path):
    """`train --max-iter 1` printed thirty of scikit-learn's ConvergenceWarnings, source lines and links (some from
    the worker processes), then wrote the model without a word of its own; now one line says it, for each model."""
    from pipeline.generate import generate_postings

    data = tmp_path / "small.csv"
    generate_postings(catalogue, 160, seed=4, n_out_of_scope=40).to_csv(data, index=False)
    stopped = run(
        "train", "--data", data, "--model", tmp_path / "m.joblib", "--max-iter", "1", "--jobs", "2", "--cv-folds", "3"
    )
    assert stopped.returncode == 0, stopped.stderr
    assert "ConvergenceWarning" not in stopped.stderr and "sklearn" not in stopped.stderr, stopped.stderr
    warning = ("Warning: the logistic regression stopped at --max-iter 1 before it converged, so the model's weights "
               "are not the fit's optimum: raise --max-iter")  # fmt: skip
    assert stopped.stderr.count(warning) == 2, stopped.stderr  # the BPO/KPO model, then the scope model
    converged = run("train", "--data", data, "--model", tmp_path / "m.joblib", "--cv-folds", "3")
    assert converged.returncode == 0 and "Warning: the logistic regression" not in converged.stderr


# A link given as --model itself is followed to where it points, folders made (README, "the model contract").
@pytest.mark.parametrize(
    ("in_the_way", "kind"),
    [(name, kind) for name in ("m.joblib", "m.joblib.json", "m.scope.joblib", "m.scope.joblib.json")
     for kind in ("folder", "dangling link", "named pipe") if (name, kind) != ("m.joblib", "dangling link")],
)  # fmt: skip
def test_what_stands_where_a_model_file_goes_stops_train_before_any_fitting(tmp_path, in_the_way, kind):
    """A folder named as the model's metadata: train fitted both models, wrote the model, then stopped with
    `... is a directory`, leaving a model that no loader takes (its metadata missing). A link to nothing there
    stopped it as late; a named pipe held it for ever."""
    path = tmp_path / in_the_way
    {"folder": path.mkdir, "dangling link": lambda: path.symlink_to(tmp_path / "gone" / "m"),
     "named pipe": lambda: os.mkfifo(path)}[kind]()  # fmt: skip
    what = {"folder": "a folder of that name", "dangling link": r"a link to .*/gone/m, which does not exist,",
            "named pipe": "a named pipe, socket or device of that name"}[kind]  # fmt: skip
    result = run("train", "--data", config.FIELD_PATH, "--model", tmp_path / "m.joblib")
    assert_error(result, 1, rf"^Error: cannot write .*/{re.escape(in_the_way)}: {what} is there; "
                            r"move it away, or name the model otherwise\n\Z")  # fmt: skip
    assert "fitting" not in result.stderr and [p.name for p in tmp_path.iterdir()] == [in_the_way]


@pytest.mark.parametrize("command", ["train", "tune"])
def test_a_folder_that_may_not_be_written_stops_train_and_tune_before_any_fitting(tmp_path, monkeypatch, command):
    """Into a folder it could not write (read-only, immutable, another user's), train fitted every model, then
    stopped with `cannot write ...: Operation not permitted`. Permission bits cannot show it for root: a file made
    there can, and here the file system refuses it as an immutable folder would."""
    import tempfile

    locked = tmp_path / "locked"
    locked.mkdir()
    made = tempfile.TemporaryFile

    def refused_in_locked(*args, dir=None, **kwargs):
        if dir is not None and Path(dir) == locked:
            raise PermissionError(1, "Operation not permitted")
        return made(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "TemporaryFile", refused_in_locked)
    option, name = ("--model", "m.joblib") if command == "train" else ("--output", "params.toml")
    result = run(command, "--data", config.FIELD_PATH, option, locked / "new" / name)
    assert_error(result, 1, rf"^Error: cannot write .*locked/new/{name}: .*locked: Operation not permitted\n\Z")
    assert "fitting" not in result.stderr and not (locked / "new").exists()


def test_train_without_prepared_data_says_what_to_run(tmp_path):
    assert_error(run("train", "--data", str(tmp_path / "train.csv"), "--model", str(tmp_path / "m.joblib")), 1,
                 r"train\.csv does not exist; run `bpo-kpo prepare`")  # fmt: skip
    # A folder of labelled files was said not to exist.
    for command in (("train", "--model", str(tmp_path / "m.joblib")), ("tune",)):
        folder = run(*command, "--data", str(tmp_path))
        assert_error(folder, 1, r"is a directory; pass a labelled CSV or JSON-lines file \(a folder of them is read by")
    # evaluate's folder was told to pass a TXT file, which evaluate then refused as unlabelled.
    assert_error(run("evaluate", "--data", tmp_path), 1, rf"^Error: {re.escape(str(tmp_path))} is a directory; pass a "
                                                         r"labelled CSV or JSON-lines file\n\Z")  # fmt: skip
    assert_error(run("predict", "--input", tmp_path), 1, r"is a directory; pass a CSV, JSONL or TXT file\n\Z")


def test_tune_on_a_file_too_small_for_its_grid_names_the_grid_not_trains_options(tmp_path):
    """tune stopped with train's advice, "lower --min-df", an option tune does not take; and the error, raised
    in a worker process, once could not be rebuilt in the parent (`unexpected BrokenProcessPool`)."""
    from pipeline.errors import VocabularyError

    error = pickle.loads(pickle.dumps(VocabularyError("no n-gram", "lower --min-df")))
    assert (str(error), error.problem) == ("no n-gram: lower --min-df", "no n-gram")
    rows = [f"Answer calls about {w} and log tickets,BPO" for w in ("parcels", "bills", "refunds", "meters", "cards")]
    rows += [f"Advise clients on {w} and draft opinions,KPO" for w in ("tax", "mergers", "tariffs", "leases", "trusts")]
    path = write(tmp_path, "small.csv", "text,label\n" + "\n".join(rows) + "\n")
    result = run("tune", "--data", path, "--output", tmp_path / "t.json", "--jobs", "1")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert re.search(r"^Error: .*: tune's grid sets min_df to 2 and 5, too many for .*small\.csv: tune on more "
                     r"postings, or train on it with --min-df 1$", result.stderr.splitlines()[-1])  # fmt: skip


def test_train_refuses_a_posting_given_in_two_of_its_files(tmp_path):
    """`train --data A --data B` learns from both; a posting in both would count twice in every fold."""
    for name, text in (("a.csv", "Answer calls"), ("b.csv", "Draft contracts")):
        (tmp_path / name).write_text(f"id,text,label\nX1,{text},BPO\n", encoding="utf-8")
    result = run("train", "--data", tmp_path / "a.csv", "--data", tmp_path / "b.csv", "--model", tmp_path / "m.joblib")
    assert_error(result, 1, r"id 'X1' is in more than one of .*a\.csv, .*b\.csv: give each split once")
    assert not (tmp_path / "m.joblib").exists()


def test_repeated_ids_are_refused_among_the_files_that_have_ids(tmp_path):
    """A file without ids (a user's own) does not turn the check off for the others."""
    (tmp_path / "a.csv").write_text("id,text,label\nX1,Answer calls,BPO\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("text,label\nDraft contracts,KPO\n", encoding="utf-8")
    (tmp_path / "c.csv").write_text("id,text,label\nX1,Model credit risk,KPO\n", encoding="utf-8")
    paths = [arg for name in ("a", "b", "c") for arg in ("--data", tmp_path / f"{name}.csv")]
    assert_error(run("train", *paths, "--model", tmp_path / "m.joblib"), 1, r"id 'X1' is in more than one of")
    # Repeated inside one file, it is named as prepare names it, not as a file given twice.
    (tmp_path / "d.csv").write_text("id,text,label\nu01,Answer calls,BPO\nu01,Model credit risk,KPO\n")
    assert_error(run("train", "--data", tmp_path / "d.csv", "--model", tmp_path / "m.joblib"), 1,
                 r"d\.csv repeats ids: u01$")  # fmt: skip
    # tune read the file without the check, and searched on it.
    assert_error(run("tune", "--data", tmp_path / "d.csv", "--output", tmp_path / "t.json"), 1, r"d\.csv repeats ids")


def test_train_and_tune_refuse_one_text_given_two_labels_as_prepare_does(tmp_path):
    """The same posting in capitals with other punctuation, labelled BPO and KPO: prepare refused the file, and
    train --data fitted on both, learning the posting's words as either label."""
    text = "Review supplier invoices, match them to purchase orders and chase approvals."
    mine = ["cbk-01,Answer calls,BPO", f'cbk-03,"{text}",BPO']
    theirs = ["cbk-02,Model credit risk,KPO", f'cbk-03x,"{text.upper()}!",KPO']
    for name, rows in (("a.csv", mine), ("b.csv", theirs), ("both.csv", mine + theirs)):
        (tmp_path / name).write_text("id,text,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    disputed = r"give one text \(or near copies of it\) different labels: cbk-03 \(BPO\), cbk-03x \(KPO\); keep one"
    paths = ["--data", tmp_path / "a.csv", "--data", tmp_path / "b.csv"]
    trained = run("train", *paths, "--model", tmp_path / "m.joblib")
    assert_error(trained, 1, rf"^Error: the postings of .*a\.csv, .*b\.csv {disputed} label$")
    assert not (tmp_path / "m.joblib").exists()
    tuned = run("tune", "--data", tmp_path / "both.csv", "--output", tmp_path / "t.json")
    assert_error(tuned, 1, rf"^Error: the postings of .*both\.csv {disputed} label$")


def test_killed_while_writing_the_model_leaves_the_previous_one(model_copy):
    """SIGKILL half-way through the model write: the old model and metadata remain and still load."""
    code = textwrap.dedent(f"""
        import os, signal
        from pipeline import model as model_module
        from pipeline.model import load_model, save_model
        model = load_model({str(model_copy)!r})
        def half_then_die(obj, handle, **kwargs):
            handle.write(b"half a model")
            handle.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        model_module.pickle.dump = half_then_die
        save_model(model.pipeline, {str(model_copy)!r}, {{"params": {{}}, "threshold": 0.5}})
    """)
    before = model_copy.read_bytes()
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == -signal.SIGKILL
    assert model_copy.read_bytes() == before
    from pipeline import load_model

    assert load_model(model_copy).predict(["Answer customer calls"])[0] in config.LABELS


# -- load_model and --model -------------------------------------------------------------------------------------
def damage(model_path: Path, how: str) -> Path:
    meta_path = metadata_path(model_path)
    meta = json.loads(meta_path.read_text())
    if how == "missing-model":
        model_path.unlink()
    elif how == "empty":
        model_path.write_bytes(b"")
    elif how == "truncated":
        model_path.write_bytes(model_path.read_bytes()[:1000])
    elif how == "truncated-with-matching-checksum":
        model_path.write_bytes(model_path.read_bytes()[:1000])
        from pipeline.files import sha256_file

        meta["model_sha256"] = sha256_file(model_path)
        meta_path.write_text(json.dumps(resigned(meta)))
    elif how == "missing-metadata":
        meta_path.unlink()
    elif how == "metadata-folder":
        meta_path.unlink()
        meta_path.mkdir()
    elif how == "other-model-metadata":
        meta["model_sha256"] = "0" * 64
        meta_path.write_text(json.dumps(resigned(meta)))
    elif how == "other-sklearn":
        major, minor = meta["versions"]["scikit-learn"].split(".")[:2]
        meta["versions"]["scikit-learn"] = f"{major}.{int(minor) + 1}.0"
        meta_path.write_text(json.dumps(meta))
    elif how == "garbage-metadata":
        meta_path.write_text("{not json")
    return model_path


@pytest.mark.parametrize(
    ("how", "pattern"),
    [
        ("missing-model", r"no model at .*model\.joblib; train one with `make train`"),
        ("empty", r"model\.joblib is empty; retrain with `make train`"),
        ("truncated", r"model\.joblib does not match its metadata"),
        ("truncated-with-matching-checksum", r"model\.joblib cannot be read"),
        ("missing-metadata", r"model metadata .*model\.joblib\.json is missing"),
        # It was said to be missing, and retraining cannot write the metadata over a folder either.
        (
            "metadata-folder",
            r"model metadata .*model\.joblib\.json is a folder, not a metadata file; move it away, then restore the "
            r"metadata file there or retrain with `make train`$",
        ),
        ("other-model-metadata", r"does not match its metadata \(SHA-256"),
        ("other-sklearn", r"trained with scikit-learn \d+\.\d+\.0 but .* is installed; retrain with `make train` or"),
        ("garbage-metadata", r"model\.joblib\.json is not valid JSON"),
    ],
)
def test_damaged_models_are_refused_with_what_to_do(model_copy, how, pattern):
    damage(model_copy, how)
    assert_error(run("predict", "--model", str(model_copy), "Answer calls"), 1, pattern)
    from pipeline import ModelError, load_model

    with pytest.raises(ModelError, match=pattern):
        load_model(model_copy)


@pytest.mark.parametrize(
    ("named", "pattern"),
    [
        ("", r"MODELS is a folder, not a model file; pass the model file in it \(MODELS/model\.joblib\)"),
        (
            "model.joblib.json",
            r"is the metadata of a model, not the model itself; pass the model file \(MODELS/model\.joblib\)",
        ),
        ("model.portable.json", r"is the portable export of a model, not the model itself; pass the model file"),
        ("model.conformance.json", r"holds the conformance vectors of a model, not the model itself"),
        ("model.scope.joblib", r"is the scope model of MODELS/model\.joblib; pass MODELS/model\.joblib, which loads"),
        # Its metadata: the model to pass is the one that loads, not the scope model, which is refused in turn.
        (
            "model.scope.joblib.json",
            r"is the metadata of a model, not the model itself; pass the model file "
            r"\(MODELS/model\.joblib\)",
        ),
    ],
)
def test_a_file_beside_the_model_named_in_its_place_says_which_to_pass(shipped_model_path, named, pattern):
    """Each was told to retrain: `model metadata models/model.joblib.json.json is missing; retrain with make train`;
    load_portable looked for an export beside it (`no portable model at models.portable.json`)."""
    folder = str(shipped_model_path.parent)
    expected = pattern.replace("MODELS", re.escape(folder))
    assert_error(run("predict", "--model", f"{folder}/{named}" if named else folder, "Answer calls"), 1, expected)
    from pipeline import ModelError, load_model
    from pipeline.portable import load_portable

    for loader in (load_model, load_portable):
        with pytest.raises(ModelError, match=expected):
            loader(shipped_model_path.parent / named if named else shipped_model_path.parent)


def test_the_model_file_named_is_the_one_there_a_skops_model_too(tmp_path):
    """The hint named model.joblib beside a skops model, a file that was not there."""
    from pipeline import ModelError, load_model

    (tmp_path / "model.skops").write_bytes(b"PK")
    (tmp_path / "model.portable.json").write_text("{}")
    with pytest.raises(
        ModelError, match=r"is a folder, not a model file; pass the model file in it \(.*model\.skops\)"
    ):
        load_model(tmp_path)
    with pytest.raises(ModelError, match=r"portable export of a model, not the model itself; .*\(.*model\.skops\)$"):
        load_model(tmp_path / "model.portable.json")
    # A skops model's own export and vectors name it (model.skops.joblib, a file that is nowhere, was named).
    for neighbour in ("model.skops.portable.json", "model.skops.conformance.json"):
        (tmp_path / neighbour).write_text("{}")
        with pytest.raises(ModelError, match=r"not the model itself; pass the model file \(.*/model\.skops\)$"):
            load_model(tmp_path / neighbour)


def test_a_model_of_its_own_named_like_a_scope_model_loads_and_train_refuses_the_name(model_copy, tmp_path):
    """Refused by its name alone, a model named own.scope.joblib with no own.joblib beside it could not be loaded;
    train now refuses the name, which the scope model of own.joblib would take."""
    from pipeline.model import metadata_path

    own = tmp_path / "own.scope.joblib"
    model_copy.rename(own)
    metadata_path(model_copy).rename(metadata_path(own))
    assert run("predict", "--model", str(own), "Answer calls").returncode == 0
    refused = run("train", "--model", str(tmp_path / "new.scope.joblib"))
    assert_error(
        refused, 2, r"is named as the scope model of another model \(NAME\.scope\.joblib beside NAME\.joblib\)"
    )


@pytest.mark.parametrize("command", ["evaluate", "report"])
def test_plots_into_a_path_that_is_no_folder_is_refused_before_scoring(command, tmp_path):
    """evaluate scored every set, then failed on mkdir with "File exists: /dev/null"."""
    taken = tmp_path / "plots.png"
    taken.write_text("mine")
    for plots in (taken, Path(os.devnull)):
        result = run(command, "--plots", plots)
        assert_error(result, 2, rf"Invalid value for '--plots': '{re.escape(str(plots))}' exists and is not a folder")
        assert result.stdout == ""
    assert taken.read_text() == "mine"


@pytest.mark.parametrize("how", ["same name", "through a link"])
def test_output_over_the_input_file_is_refused(tmp_path, how, monkeypatch):
    """predict --input jobs.csv --output jobs.csv replaced the user's postings with their scores."""
    data = tmp_path / "jobs.csv"
    data.write_text("text,label\nAnswer customer calls,BPO\nBuild credit-risk models,KPO\n")
    given = data if how == "same name" else tmp_path / "link.csv"
    if how == "through a link":
        given.symlink_to(data)
    monkeypatch.setattr(config, "FIELD_PATH", given)  # report reads the project's sets: here, this file
    for command in (("predict", "--input", given), ("evaluate", "--data", given), ("tune", "--data", given),
                    ("report", "--errors", data)):  # fmt: skip
        option = "--errors" if command[0] == "report" else "--output"
        result = run(*command, *(() if command[0] == "report" else ("--output", data)))
        assert_error(result, 2, rf"{option} .*jobs\.csv is the input file .*{given.name}: write to another file")
        assert result.stdout == ""
    assert data.read_text().startswith("text,label\nAnswer customer calls,BPO\n")


UNCOMPRESSED_MODEL = "names a compressed file, and a model is saved uncompressed"


@pytest.mark.parametrize(
    ("data_name", "model_name", "expected"),
    [("mine.csv", "mine.csv", "is named as a data file"), ("mine.joblib", "mine.joblib", "is the input file"),
     ("mine.csv", "model.xlsx", "names a spreadsheet workbook, which bpo-kpo does not write"),
     ("mine.csv", "model.joblib.gz", f"{UNCOMPRESSED_MODEL}: name it model.joblib"),
     ("mine.csv", "model.skops.xz", f"{UNCOMPRESSED_MODEL}: name it model.skops")],
)  # fmt: skip
def test_train_writes_no_model_over_its_data_or_under_a_data_name(tmp_path, data_name, model_name, expected):
    """train --data mine.csv --model mine.csv pickled the model over the user's labelled postings; --model
    model.joblib.gz wrote an uncompressed pickle under the .gz name, beside a scope model named
    model.joblib.scope.gz."""
    data = tmp_path / data_name
    data.write_text("text,label\nAnswer customer calls,BPO\nBuild credit-risk models,KPO\n")
    result = run("train", "--data", data, "--model", tmp_path / model_name)
    assert_error(result, 2, rf"--model.*{re.escape(model_name)} {expected}")
    assert sorted(path.name for path in tmp_path.iterdir()) == [data_name]
    assert data.read_text().startswith("text,label\n")


@pytest.mark.parametrize(
    ("command", "option", "name"),
    [
        (("predict", "Answer customer calls"), "--output", "model.joblib"),
        (("evaluate", "--data", "jobs.csv"), "--output", "model.joblib.json"),
        (("report",), "--output", "model.joblib.json"),  # the metrics JSON over the metadata
        (("report",), "--errors", "model.portable.json"),
        (("report",), "--model-card", "model.conformance.json"),
    ],
)
def test_an_output_over_one_of_the_models_files_is_refused(model_copy, command, option, name):
    """report --output models/model.joblib.json would replace the metadata, and the model would no longer load."""
    folder = model_copy.parent
    (folder / "jobs.csv").write_text("text,label\nAnswer customer calls,BPO\nBuild credit-risk models,KPO\n")
    target = folder / name
    before = {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()}
    command = (command[0], *(str(folder / part) if part == "jobs.csv" else part for part in command[1:]))
    result = run(*command, "--model", model_copy, option, target)
    assert_error(result, 2, rf"{option} .*{re.escape(name)} is one of the model's own files: write to another file")
    assert {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()} == before


def test_report_on_another_model_keeps_off_the_shipped_models_record(model_copy, tmp_path):
    """report --model models/exp.joblib wrote its figures over models/metrics.json and the card of the shipped
    model, which make then took as up to date. Each output left at its default is named, and nothing is written."""
    from pipeline import config

    record = [config.METRICS_PATH, config.ERRORS_PATH, config.SCOPE_ERRORS_PATH, config.MODEL_CARD_PATH]
    before = {path: path.stat().st_mtime_ns for path in record if path.exists()}
    result = run("report", "--model", model_copy, "--output", tmp_path / "metrics.json")
    assert_error(result, 2, r"would write over the shipped model's record in .*: give --errors, --scope-errors, "
                            r"--model-card, --plots a place of their own")  # fmt: skip
    assert {path: path.stat().st_mtime_ns for path in record if path.exists()} == before
    assert not (tmp_path / "metrics.json").exists()


def test_evaluate_with_a_missing_model(tmp_path):
    assert_error(run("evaluate", "--model", str(tmp_path / "m.joblib")), 1, r"no model at .*make train")


@pytest.mark.skipif(os.name != "posix", reason="uses a POSIX shell pipe")
def test_stdout_closed_early_jsonl_and_table(model, fast_model, tmp_path):
    # Each format's writer with the portable engine, which starts fast; then scikit-learn's workers, which must
    # stop too.
    path = tmp_path / "many.csv"
    path.write_text("text\n" + "Answer customer emails\n" * 50_000)
    fast = f'--model "{fast_model}" --engine portable'
    for output_format, how in (("jsonl", fast), ("csv", fast), ("table", fast),
                               ("jsonl", f'--model "{model}" --jobs 2')):  # fmt: skip
        command = f'"{SCRIPT}" predict {how} --input "{path}" --format {output_format}'
        result = subprocess.run(f"{command} | head -1", shell=True, capture_output=True, text=True, timeout=300)
        assert result.stderr == "" and len(result.stdout.splitlines()) == 1


@linux_only("/dev/stdout")
def test_output_to_dev_stdout_into_a_reader_that_goes_away_stops_quietly(fast_model, tmp_path):
    """`--output /dev/stdout | head -1` said `Error: cannot write /dev/stdout: Broken pipe` and exited 1, where
    plain stdout, or `--output -`, stops quietly with 0."""
    path = tmp_path / "many.csv"
    path.write_text("text\n" + "Answer customer emails\n" * 50_000)
    command = f'"{SCRIPT}" predict --model "{fast_model}" --engine portable --input "{path}" --output /dev/stdout'
    result = subprocess.run(["bash", "-c", f"set -o pipefail; {command} | head -1"], capture_output=True, text=True,
                            timeout=300)  # fmt: skip
    assert (result.returncode, result.stderr, len(result.stdout.splitlines())) == (0, "", 1), result.stderr


@linux_only("/dev/full")
@pytest.mark.parametrize(
    "args", [("--version",), ("predict", "--help"), ("predict", "--format", "jsonl", "Answer calls")]
)
def test_a_full_disk_on_standard_output_is_one_line_naming_it(fast_model, args):
    """`--version > /dev/full` ended in a traceback from click's echo, and results said only "No space left on
    device", naming no output."""
    with open("/dev/full", "w") as full:
        result = subprocess.run([SCRIPT, *args, *(["--model", fast_model] if "Answer calls" in args else [])],
                                stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)  # fmt: skip
    assert (result.returncode, result.stderr) == (1, "Error: cannot write standard output: No space left on device\n")


@linux_only("RLIMIT_FSIZE")
# Each way a run lost the end of its output: unbuffered, predict's rows and evaluate's report (a short write dropped);
# buffered, evaluate's text report (the write that failed was Python's flush at exit).
@pytest.mark.parametrize("command, unbuffered", [("predict", "1"), ("evaluate json", "1"), ("evaluate text", "")])
def test_results_cut_short_by_a_file_size_limit_are_an_error(fast_model, tmp_path, unbuffered, command):
    """Under PYTHONUNBUFFERED (as containers often set) Python's text layer dropped what a short write left: past a
    file-size limit or on a full disk, results on standard output stopped mid-row, and the run said it had scored
    every row, with exit 0; evaluate's report too. Buffered, evaluate's text report failed only at exit: "Exception
    ignored" and exit 120. /dev/full could not show either: there the first write fails whole."""
    postings = tmp_path / "postings.txt"
    postings.write_text("Answer customer calls and log each one in the CRM\n" * 300)
    args = {
        "predict": ["predict", "--input", postings, "--format", "jsonl"],
        "evaluate json": ["evaluate", "--data", config.FIELD_PATH, "--format", "json"],
        "evaluate text": ["evaluate", "--data", config.FIELD_PATH],
    }[command]
    limit = 2048
    # `ulimit -f` for the script alone, set by a Python that then becomes it (a preexec_fn is unsafe beside threads).
    # SIGXFSZ ignored, as Python sets it: the write fails instead of the process.
    limit_then_exec = (
        "import os, resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit})); os.execv(sys.argv[1], sys.argv[1:])"
    )
    with open(tmp_path / "results", "w") as results:
        result = subprocess.run([sys.executable, "-c", limit_then_exec, SCRIPT, *args, "--model", fast_model],
                                stdout=results, stderr=subprocess.PIPE, text=True, timeout=120,
                                env=os.environ | {"PYTHONUNBUFFERED": unbuffered})  # fmt: skip
    # (The small model has no scope model: evaluate first warns that it leaves the out-of-scope postings out.)
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines()[-1:] == ["Error: cannot write standard output: File too large"], result.stderr
    assert "Exception" not in result.stderr and "Traceback" not in result.stderr
    assert (tmp_path / "results").stat().st_size == limit


@pytest.mark.parametrize("how", ["intact", "other-model-metadata"])
def test_predict_in_process_leaves_garbage_collection_on(model_copy, how):
    """predict pauses the collector while it loads; a caller in the same process must get it back either way."""
    import gc

    from click.testing import CliRunner

    from pipeline.cli import cli

    if how != "intact":
        damage(model_copy, how)
    assert gc.isenabled()
    result = CliRunner().invoke(cli, ["predict", "--model", str(model_copy), "--format", "jsonl", "Answer calls"])
    assert gc.isenabled()
    if how == "intact":
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["label"] in config.LABELS
    else:
        assert result.exit_code == 1
        assert "does not match its metadata" in result.output


def test_column_options_beside_plain_text_are_refused(model, tmp_path):
    """--text-column, --id-column and --sep were ignored: a table exported as jobs.txt had its header and every row,
    ids and tabs included, scored as postings, with exit 0."""
    exported = write(tmp_path, "jobs.txt", "ref\tdescription\nJ-1\tAnswer inbound calls\n")
    for args in (("--input", exported), ("--input", exported, "--input-format", "txt")):
        refused = run("predict", "--model", model, *args, "--text-column", "description", "--id-column", "ref")
        assert_error(refused, 2, r"--text-column and --id-column apply to the columns of a CSV or JSON-lines input, "
                                 r"and .*jobs\.txt is read as plain text")  # fmt: skip
    # --sep splits a CSV's fields: beside plain text or JSON lines it was ignored too.
    assert_error(run("predict", "--model", model, "--input", exported, "--sep", "\\t"), 2,
                 r"--sep applies to the columns of a CSV, and .*jobs\.txt is read as plain text")  # fmt: skip
    arguments = run("predict", "--model", model, "--id-column", "ref", "Answer calls")
    assert_error(arguments, 2, r"--id-column applies to the columns of a CSV or JSON-lines input, which postings given")
    # Named as the table it is, it is read as one.
    table = run("predict", "--model", model, "--input", exported, "--input-format", "csv", "--text-column",
                "description", "--id-column", "ref", "--format", "jsonl")  # fmt: skip
    assert table.returncode == 0 and [row["id"] for row in jsonl(table.stdout)] == ["J-1"]
