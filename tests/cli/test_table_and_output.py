"""What a person scoring files sees: a table that fits the terminal, and output files in the format they name."""

import re
from pathlib import Path

import pytest
from console import jsonl, run, run_script

from pipeline import config
from pipeline.predict import TableFormatter, shorten_middle, table_id_width
from pipeline.progress import CLEAR_LINE, StepProgress, progress_line, steps_line, summary_line

IDS = ["JOB-2026-000123", "JOB-2026-000124"]


def table(*args, columns):
    return run("predict", "--format", "table", *args, env={"COLUMNS": str(columns)})


@pytest.fixture()
def jobs_csv(tmp_path):
    path = tmp_path / "jobs.csv"
    path.write_text(
        "ref,text\n"
        f"{IDS[0]},Answer inbound customer calls about billing and log every ticket in Zendesk to the agreed script\n"
        f"{IDS[1]},Draft commercial contracts and advise the board on litigation risk under English law\n"
    )
    return path


@pytest.mark.parametrize("columns", [40, 80, 200])
def test_table_fits_the_terminal_and_keeps_ids_apart(shipped_model_path, jobs_csv, columns):
    result = table("--input", str(jobs_csv), "--id-column", "ref", columns=columns)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert all(len(line) <= max(columns, 60) for line in lines), [len(line) for line in lines]
    shown_ids = [line.split()[0] for line in lines[1:]]
    assert len(set(shown_ids)) == 2
    if columns >= 80:
        assert shown_ids == IDS
        assert "Answer inbound customer calls" in lines[1] and "Draft commercial contracts" in lines[2]


def test_table_shows_the_probability_of_the_label_given(shipped_model_path, jobs_csv):
    rows = jsonl(run("predict", "--input", str(jobs_csv), "--id-column", "ref", "--format", "jsonl").stdout)
    lines = table("--input", str(jobs_csv), "--id-column", "ref", columns=120).stdout.splitlines()[1:]
    for row, line in zip(rows, lines, strict=True):
        _, label, probability, *_ = line.split()
        assert label == row["label"]
        assert float(probability) == pytest.approx(row["p_bpo"] if label == "BPO" else row["p_kpo"], abs=5e-4)
        assert float(probability) >= 0.5 or row["needs_review"]


def test_table_shows_a_posting_in_html_as_the_text_scored(shipped_model_path):
    posting = '<p style="margin: 0">Answer inbound <b>calls</b> &amp; resolve billing queries</p>'
    line = table(posting, columns=120).stdout.splitlines()[1]
    assert line.endswith(" Answer inbound calls & resolve billing queries"), line


def test_table_with_explanations_keeps_the_text(shipped_model_path, jobs_csv):
    lines = table("--input", str(jobs_csv), "--id-column", "ref", "--explain", "3", columns=100).stdout.splitlines()
    assert "Answer inbound customer calls" in lines[1]
    assert lines[2].lstrip().startswith("why: ") and "(" in lines[2]
    assert "Draft commercial contracts" in lines[3]
    assert all(len(line) <= 100 for line in lines)
    # An out-of-scope posting also says which words put it there; an in-scope one does not.
    assert not any("out of scope because" in line for line in lines)
    nurse = table("--explain", "3", "Ward nurse: give medication and take observations on a surgical ward", columns=100)
    flagged = nurse.stdout.splitlines()
    assert "[out of scope:" in flagged[1] and flagged[-1].lstrip().startswith("out of scope because: nurse (+")


def test_table_layout_units():
    assert shorten_middle("JOB-2026-000123", 9) == "JOB-…0123"
    assert shorten_middle("short", 9) == "short"
    assert table_id_width(IDS, 200) == len(IDS[0])
    assert table_id_width(["x" * 300], 80) == 20
    formatter = TableFormatter(["id", "label", "p_bpo", "p_kpo", "needs_review", "error"], width=60, id_width=8)
    row = {"id": "A", "label": "BPO", "p_bpo": 0.91, "p_kpo": 0.09, "needs_review": False, "error": None}
    line = formatter.rows([row], ["word " * 40])
    assert len(line.rstrip("\n")) == 60 and line.rstrip().endswith("…") and " 0.910 " in line


def test_progress_and_summary_lines():
    line = progress_line(5000, 2.0, done_bytes=250, total_bytes=1000)
    assert "25%" in line and "5,000 rows" in line and "2,500 rows/s" in line and "6s left" in line
    assert "%" not in progress_line(5000, 2.0) and "left" not in progress_line(5000, 2.0)
    counts = {"rows": 3, "BPO": 1, "KPO": 1, "needs review": 0, "errors": 1}
    assert summary_line(counts, 0.25, "wrote x.csv") == (
        "scored 3 rows in 0.2s: BPO 1, KPO 1, needs review 0, errors 1; wrote x.csv"
    )
    # tune's line: steps of a known number, the time left from the share done.
    assert steps_line(120, 480, 60.0, "fits") == "[######..................]  25%  120 of 480 fits  3m00s left"


@pytest.mark.parametrize("width", [200, 79, 60, 49, 39, 29, 19, 12, 3, 0])
def test_a_progress_line_fits_the_width_it_is_given(width):
    """A line wider than its terminal wraps, and each redraw left a row behind: parts go, the least telling first
    (the rate, then the bar, then the rows), and a percentage alone is cut."""
    full = progress_line(8000, 2.0, done_bytes=420, total_bytes=1000)
    for line in (progress_line(8000, 2.0, 420, 1000, width), steps_line(200, 480, 60.0, "fits", width),
                 progress_line(8000, 2.0, width=width)):  # fmt: skip
        assert len(line) <= width, line
    fitted = progress_line(8000, 2.0, 420, 1000, width)
    parts = ["rows/s", "]", "rows", "left"]  # in the order they are dropped
    kept = [part in fitted for part in parts]
    assert kept == sorted(kept), fitted  # a part stays only while every part dropped after it stays
    if len(full) <= width:
        assert fitted == full
    elif width >= len("42%"):
        assert "42%" in fitted and not fitted.startswith(" ")
    if width >= len("[") + 10 + len("]  42%  8,000 rows  3s left"):
        assert re.match(r"\[#+\.+\]  42%  8,000 rows  ", fitted), fitted  # the bar shrinks before it goes
    assert progress_line(8000, 2.0, width=width) in ("8,000 rows  4,000 rows/s", "8,000 rows"[:width])


def test_a_step_progress_line_is_live_on_a_terminal_and_a_line_a_tenth_in_a_log():
    """A ten-minute tune said nothing between its first and last lines where stderr was a file or a CI log."""
    import io

    shown, logged = io.StringIO(), io.StringIO()
    for stream, live in ((shown, True), (logged, False)):
        progress = StepProgress(stream, live, "fits")
        for done in range(1, 41):
            progress.update(done, 40)  # the first step is drawn at once
        progress.clear()
    assert shown.getvalue().startswith(CLEAR_LINE + "[......") and "1 of 40 fits" in shown.getvalue()
    assert shown.getvalue().endswith(CLEAR_LINE)
    lines = logged.getvalue().splitlines()
    assert CLEAR_LINE not in logged.getvalue() and logged.getvalue().endswith("\n")
    assert [re.search(r"(\d+) of 40 fits", line).group(1) for line in lines] == [str(4 * i) for i in range(1, 11)]


@pytest.mark.parametrize("name", ["scored.tsv", "scored.json", "scored.txt"])
def test_unknown_output_suffix_is_refused(shipped_model_path, tmp_path, name):
    result = run("predict", "Answer calls", "--output", str(tmp_path / name))
    assert result.returncode == 2
    assert "cannot tell the format" in result.stderr and ".csv" in result.stderr and "--format" in result.stderr
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("command", "name", "kind", "fix"),
    [
        (["predict", "--model", "FAST", "Answer calls"], "scored.xlsx", "a spreadsheet workbook", "scored"),
        (["predict", "--model", "FAST", "Answer calls", "--format", "csv"], "Scored.ODS.gz", "a spreadsheet workbook",
         "Scored"),
        (["predict", "--model", "FAST", "Answer calls"], "scored.docx", "a Word document", "scored"),
        # Every command's output: evaluate wrote its JSON under an .xlsx name, report --errors CSV, exit 0.
        (["evaluate", "--model", "FAST", "--data", "FIELD", "--output"], "metrics.xlsx", "a spreadsheet workbook",
         "metrics"),
        (["report", "--errors"], "errors.xlsx", "a spreadsheet workbook", "errors"),
        (["tune", "--output"], "best.pdf", "a PDF", "best"),
    ],
)  # fmt: skip
def test_a_workbook_or_document_output_name_is_refused_whatever_the_format(fast_model, tmp_path, command, name,
                                                                           kind, fix):  # fmt: skip
    """`--output scored.xlsx` was told to pass --format csv, which then wrote CSV under the workbook's name: a
    file the spreadsheet refuses to open, with exit 0; other commands wrote under such names without a word."""
    _assert_output_name_refused(
        fast_model, tmp_path, command, name, f"{kind}{NOT_WRITTEN} ({fix}.csv opens in a spreadsheet)"
    )


# How the refusal of an output's name goes on after naming what the name says the file is.
NOT_WRITTEN = ", which bpo-kpo does not write: name the file for what the command writes"


def _assert_output_name_refused(fast_model: str, tmp_path: Path, command: list[str], name: str, says: str) -> None:
    """Run `command` (FAST, FIELD and TMP stand for the model, the field set and the folder) with its output named
    `name` in tmp_path: a usage error that the name `says` what follows, and nothing written."""
    args = [{"FAST": fast_model, "FIELD": str(config.FIELD_PATH)}.get(arg, arg) for arg in command]
    args = [arg.replace("TMP", str(tmp_path)) for arg in args]
    if args[-1] not in ("--output", "--errors", "--model"):
        args.append("--output")
    result = run(*args, tmp_path / name)
    assert result.returncode == 2 and result.stderr.endswith(f"{tmp_path / name} names {says}\n"), result.stderr
    assert not list(tmp_path.iterdir())


COMPRESS_IT = "and end it in .gz, .bz2 or .xz to compress it"


@pytest.mark.parametrize(
    ("command", "name", "kind", "advice"),
    [
        (["predict", "--model", "FAST", "Answer calls", "--format", "csv"], "scored.csv.zip", "a zip archive",
         f", {COMPRESS_IT} (scored.csv.gz)"),
        # Without --format the name was refused too, but told to pass --format, which then wrote CSV under it.
        (["predict", "--model", "FAST", "Answer calls"], "scored.csv.zip", "a zip archive",
         f", {COMPRESS_IT} (scored.csv.gz)"),
        (["predict", "--model", "FAST", "Answer calls", "--format", "jsonl"], "Scored.JSONL.ZST",
         "zstd-compressed data", f", {COMPRESS_IT} (Scored.JSONL.gz)"),
        (["predict", "--model", "FAST", "Answer calls", "--format", "csv"], "scored.tar.gz", "a tar archive",
         f", {COMPRESS_IT}"),
        (["predict", "--model", "FAST", "Answer calls", "--format", "csv"], "scored.7z", "a 7-Zip archive",
         f", {COMPRESS_IT}"),
        (["evaluate", "--model", "FAST", "--data", "FIELD", "--output"], "metrics.json.lz4", "lz4-compressed data",
         f", {COMPRESS_IT} (metrics.json.gz)"),
        # report's other outputs go to the test's folder too: nothing of the project's is written over.
        (["report", "--output", "TMP/m.json", "--scope-errors", "TMP/s.csv", "--model-card", "TMP/card.md",
          "--plots", "TMP/plots", "--errors"], "errors.csv.rar", "a RAR archive", f", {COMPRESS_IT} (errors.csv.gz)"),
        (["train", "--model"], "model.joblib.zip", "a zip archive", " (model.joblib)"),
    ],
)  # fmt: skip
def test_an_archive_output_name_is_refused_whatever_the_format(fast_model, tmp_path, command, name, kind, advice):
    """`--output scored.csv.zip --format csv` wrote plain CSV under the archive's name, which unzip cannot read,
    with exit 0; without --format it was told to pass one."""
    _assert_output_name_refused(fast_model, tmp_path, command, name, f"{kind}{NOT_WRITTEN}{advice}")


@pytest.mark.parametrize(("name", "first"), [("s.csv", "id,label"), ("s.jsonl", '{"id"'), ("s.ndjson", '{"id"')])
def test_known_output_suffixes_pick_the_format(shipped_model_path, tmp_path, name, first):
    assert run("predict", "Answer calls", "--output", str(tmp_path / name)).returncode == 0
    assert (tmp_path / name).read_text().startswith(first)


def test_explicit_format_overrides_the_suffix(shipped_model_path, tmp_path):
    out = tmp_path / "scored.txt"
    assert run("predict", "Answer calls", "--output", str(out), "--format", "csv").returncode == 0
    assert out.read_text().startswith("id,label,p_bpo,p_kpo")


def test_results_survive_a_locale_without_the_characters_of_an_id(fast_model, tmp_path):
    """Under an ASCII locale the run stopped with a UnicodeEncodeError after the header: data formats go out as
    UTF-8, as they do to a file, and a table shows what the terminal cannot as '?'."""
    path = tmp_path / "jobs.jsonl"  # JSON lines: read without pandas, so each run starts in a fraction of a second
    path.write_text('{"id": "JOB-é1", "text": "Résumé screening for recruitment — weekly"}\n', encoding="utf-8")
    ascii_locale = {"PYTHONIOENCODING": "ascii"}
    for output_format in ("csv", "jsonl"):
        result = run_script("predict", "--model", fast_model, "--input", path, "--format", output_format,
                            env=ascii_locale)  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert "JOB-é1" in result.stdout
    shown = run_script("predict", "--model", fast_model, "--input", path, "--format", "table", env=ascii_locale)
    assert shown.returncode == 0 and "R?sum? screening" in shown.stdout, shown.stderr


KEPT_CSV = (
    "ref,title,text,salary\n"
    "A1,Agent,Answer inbound customer calls about billing and log every ticket,=1+1\n"
    'A2,Counsel,"Draft commercial contracts, advise the board on litigation risk",90000\n'
    "A3,,Process supplier invoices to the agreed checklist,\n"
)


@pytest.mark.parametrize("engine", ["portable", "sklearn"])
def test_kept_columns_follow_the_id_on_every_row_in_order(fast_model, tmp_path, engine):
    """An analyst scoring a million-row export keeps its title beside each result instead of joining on ids."""
    path = tmp_path / "jobs.csv"
    path.write_text(KEPT_CSV)
    # One posting a chunk: the kept values must stay with their rows across chunks.
    scored = ("predict", "--model", fast_model, "--input", path, "--id-column", "ref", "--engine", engine)
    args = (*scored, "--chunk-size", "1", "--keep-column", "title", "--keep-column", "salary", "--keep-column", "title")
    plain = run(*scored, "--format", "csv")
    kept = run(*args, "--format", "csv")
    assert kept.returncode == 0, kept.stderr
    header, *rows = kept.stdout.splitlines()
    assert header.startswith("id,title,salary,label,p_bpo,")
    expected = [["A1", "Agent", "'=1+1"], ["A2", "Counsel", "90000"], ["A3", "", ""]]
    assert [row.split(",")[:3] for row in rows] == expected
    # The results themselves are the rows scored without the kept columns.
    assert [row.split(",", 3)[3] for row in rows] == [row.split(",", 1)[1] for row in plain.stdout.splitlines()[1:]]
    raw = run(*args, "--format", "csv", "--keep-formulas")
    assert raw.stdout.splitlines()[1].split(",")[:3] == ["A1", "Agent", "=1+1"]
    as_json = jsonl(run(*args, "--format", "jsonl").stdout)
    assert [(row["title"], row["salary"]) for row in as_json] == [("Agent", "=1+1"), ("Counsel", "90000"), ("", "")]
    assert list(as_json[0])[:4] == ["id", "title", "salary", "label"]


def test_a_kept_column_whose_name_looks_like_a_formula_is_neutralised_in_the_header(fast_model, tmp_path):
    """Values starting with = got a leading ', but a kept column's name went into the CSV header as it was, where a
    spreadsheet ran `=HYPERLINK(...)` as a formula."""
    import csv

    name = '=HYPERLINK("http://x")'
    path = tmp_path / "formula.csv"
    path.write_text('id,"=HYPERLINK(""http://x"")",title,body\n1,@x,Agent,Answer inbound customer calls\n')
    args = ("predict", "--model", fast_model, "--input", path, "--text-column", "body", "--keep-column", name,
            "--keep-column", "title", "--format", "csv")  # fmt: skip
    for extra, shown in (((), "'" + name), (("--keep-formulas",), name)):
        result = run(*args, *extra)
        assert result.returncode == 0, result.stderr
        header, row = csv.reader(result.stdout.splitlines())
        assert header[:4] == ["id", shown, "title", "label"]
        assert row[1] == ("@x" if extra else "'@x")
    # JSON lines is no spreadsheet: the name stays the input's.
    assert name in jsonl(run(*args[:-1], "jsonl").stdout)[0]


def test_two_kept_columns_one_csv_header_cell_would_name_are_refused(fast_model, tmp_path):
    """`=x` is headed `'=x` in CSV, as a column named `'=x` is: kept both, the header named two columns alike, and
    reading the output back was refused for its repeated name. Written as they are, or as JSON lines, they differ."""
    import csv

    path = tmp_path / "formula.csv"
    path.write_text("id,text,=x,'=x\n1,Process supplier invoices,a,b\n")
    args = ("predict", "--model", fast_model, "--input", path, "--keep-column", "=x", "--keep-column", "'=x")
    refused = run(*args, "--format", "csv")
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.endswith(
        "Error: --keep-column '=x' and --keep-column \"'=x\" would both be headed \"'=x\" in the CSV output, where a "
        "name starting with = + - or @ gets a leading ' so that spreadsheets do not run it: pass --keep-formulas to "
        "write names and values as they are, or keep one of the two\n"
    ), refused.stderr
    raw = run(*args, "--format", "csv", "--keep-formulas")
    assert raw.returncode == 0, raw.stderr
    header, row = csv.reader(raw.stdout.splitlines())
    assert header[:3] == ["id", "=x", "'=x"] and row[:3] == ["1", "a", "b"]
    as_json = run(*args, "--format", "jsonl")
    assert as_json.returncode == 0, as_json.stderr
    assert {name: jsonl(as_json.stdout)[0][name] for name in ("=x", "'=x")} == {"=x": "a", "'=x": "b"}


def test_kept_json_fields_are_text_and_a_missing_one_is_empty(fast_model, tmp_path):
    """A field the first record lacked stopped the run, though any later record could lack it: feeds leave optional
    fields out. A field no record has is most likely a misspelt name, and predict says so once it has read them all."""
    path = tmp_path / "jobs.jsonl"
    path.write_text(
        '{"id": 1, "text": "Answer inbound customer calls", "tags": ["a", 1]}\n'
        '{"id": 2, "text": "Draft commercial contracts", "grade": null}\n'
        '{"id": 3, "text": "Process supplier invoices", "grade": 7}\n'
    )
    kept = ("--keep-column", "grade", "--keep-column", "tags", "--keep-column", "grdae")
    result = run("predict", "--model", fast_model, "--input", path, *kept)
    assert result.returncode == 0, result.stderr
    assert [(row["grade"], row["tags"], row["grdae"]) for row in jsonl(result.stdout)] == [
        (None, '["a",1]', None),
        (None, None, None),
        ("7", None, None),
    ]
    assert "Warning: no row had a value for 'grdae' (--keep-column): check the name" in result.stderr
    assert "'grade'" not in result.stderr and "'tags'" not in result.stderr
    # --quiet hides notes; a script that misspelt a field is the one that needs to hear of it.
    quiet = run("predict", "--model", fast_model, "--input", path, *kept, "--quiet")
    assert quiet.stderr == "Warning: no row had a value for 'grdae' (--keep-column): check the name\n", quiet.stderr


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--keep-column", "salary"), "has no column 'salary'"),
        (("--keep-column", "label"), "would give the output two 'label' fields"),
        (("--keep-column", "id"), "every output row has an 'id' already, the input's 'id' column's value"),
        (("--keep-column", "title", "--format", "table"), "this output is a table"),
    ],
)
def test_a_kept_column_that_cannot_be_written_is_refused_before_any_output(fast_model, tmp_path, extra, message):
    path = tmp_path / "jobs.csv"
    path.write_text("title,text\nAgent,Answer inbound customer calls\n")
    result = run("predict", "--model", fast_model, "--input", path, "--format", "csv", *extra)
    assert result.returncode != 0 and message in result.stderr, result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr


def test_kept_columns_need_columns(fast_model):
    given = run("predict", "--model", fast_model, "Answer calls", "--keep-column", "title")
    assert given.returncode == 2 and "--keep-column applies to the columns" in given.stderr
    piped = run("predict", "--model", fast_model, "-", "--keep-column", "title", "--format", "csv",
                stdin="Answer calls\nDraft contracts\n")  # fmt: skip
    assert piped.returncode == 2 and "read as plain text" in piped.stderr and piped.stdout == ""


def test_a_csv_that_repeats_its_header_says_which_rows_do(fast_model, tmp_path):
    """Two exports joined with cat: the second header was scored as a posting ("description", id "ref"), one row
    of nonsense among the results, and nothing said so. Each such row is still scored, one row out for one in."""
    export = "ref,title,description\nr1,Agent,Answer inbound customer calls\nr2,Counsel,Draft commercial contracts\n"
    path = tmp_path / "joined.csv"
    path.write_text(export + export)
    result = run("predict", "--model", fast_model, "--input", path, "--text-column", "description",
                 "--id-column", "ref", "--format", "jsonl")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert [row["id"] for row in jsonl(result.stdout)] == ["r1", "r2", "ref", "r1", "r2"]
    assert ("Warning: data row 3 repeats the header, as files joined with cat do, and was scored as a posting: "
            "join CSV files with one header (tail -n +2 of each file after the first)") in result.stderr  # fmt: skip
    # Numbered in the whole input, not in the chunk it falls in.
    chunked = run("predict", "--model", fast_model, "--input", path, "--text-column", "description",
                  "--id-column", "ref", "--format", "jsonl", "--chunk-size", "2")  # fmt: skip
    assert "Warning: data row 3 repeats the header" in chunked.stderr, chunked.stderr
    # Excel's CSV UTF-8 starts each file with a byte order mark: the second header's first name carried it, and
    # the row went unnamed. Nothing is dropped from the row itself.
    marked = tmp_path / "marked.csv"
    marked.write_bytes(("\ufeff" + export + "\ufeff" + export).encode())
    result = run("predict", "--model", fast_model, "--input", marked, "--text-column", "description",
                 "--id-column", "ref", "--format", "jsonl")  # fmt: skip
    assert [row["id"] for row in jsonl(result.stdout)] == ["r1", "r2", "\ufeffref", "r1", "r2"]
    assert "Warning: data row 3 repeats the header" in result.stderr
    # Quoted names after the mark are no longer quoted fields: the row's first cell kept its quotes as text.
    quoted = '"ref","title","description"\n"r1","Agent","Answer inbound customer calls"\n'
    marked.write_bytes(("\ufeff" + quoted + "\ufeff" + quoted).encode())
    result = run("predict", "--model", fast_model, "--input", marked, "--text-column", "description",
                 "--id-column", "ref", "--format", "jsonl")  # fmt: skip
    assert [row["id"] for row in jsonl(result.stdout)] == ["r1", '\ufeff"ref"', "r1"]
    assert "Warning: data row 2 repeats the header" in result.stderr, result.stderr
    # A one-column file has no header to tell from a posting that is the word itself.
    single = tmp_path / "single.csv"
    single.write_text("text\nAnswer calls\ntext\n")
    assert "repeats the header" not in run("predict", "--model", fast_model, "--input", single).stderr


def test_wide_characters_take_two_columns_of_the_table():
    """Chinese, Japanese and Korean characters fill two cells of a terminal: counted as one, an id such as 求人-1
    pushed its row's label two cells right of the others', and a line of such text ran past the terminal."""
    from unicodedata import east_asian_width

    def cells(text: str) -> int:
        return sum(2 if east_asian_width(c) in "WF" else 1 for c in text)

    ids = ["求人-1", "abc", "職位-123456789"]
    formatter = TableFormatter(["id", "label", "p_bpo", "p_kpo", "needs_review", "error"], width=60,
                               id_width=table_id_width(ids, 60))  # fmt: skip
    rows = [{"id": i, "label": "BPO", "p_bpo": 0.91, "p_kpo": 0.09, "needs_review": False, "error": None} for i in ids]
    lines = formatter.rows(
        rows, ["顧客からの電話に対応し、請求に関する問い合わせを解決します。" * 3, "Answer calls", "x"]
    )
    lines = [formatter.header().rstrip("\n"), *lines.splitlines()]
    label_cells = {cells(line[: line.index("BPO" if i else "label")]) for i, line in enumerate(lines)}
    assert len(label_cells) == 1, lines  # every label starts in the same cell
    assert table_id_width(ids, 200) == cells("職位-123456789")
    assert all(cells(line) <= 60 for line in lines), [cells(line) for line in lines]
    assert shorten_middle("職位-123456789", 9) == "職位…6789"  # four cells, the ellipsis, four cells


@pytest.mark.parametrize(
    ("content", "suffix", "column"),
    [("ID,text\n000123,Answer calls\n", "csv", "ID"),
     ("Job ID;text\n000123;Answer calls\n", "csv", "'Job ID'"),
     ('{"posting_id": "000123", "text": "Answer calls"}\n', "jsonl", "posting_id"),
     (",text\n000123,Answer calls\n", "csv", "'Unnamed: 0'")],  # pandas' to_csv writes its index so
)  # fmt: skip
def test_rows_numbered_beside_a_column_of_ids_say_which_option_keeps_them(fast_model, tmp_path, content, suffix,
                                                                          column):  # fmt: skip
    """Only a column named exactly `id` is taken by default: the ids of an `ID` or `Job ID` column became row
    numbers without a word. The warning stays under --quiet; naming the column keeps its ids and says nothing."""
    path = tmp_path / f"export.{suffix}"
    path.write_text(content)
    numbered = run("predict", "--model", fast_model, "--input", path, "--format", "jsonl", "--quiet")
    assert [row["id"] for row in jsonl(numbered.stdout)] == ["1"]
    assert numbered.stderr == (f"Warning: rows are numbered for ids, as the input has no 'id' column; to keep the ids "
                               f"in {column.strip(chr(39))!r}, pass --id-column {column}\n")  # fmt: skip
    kept = run("predict", "--model", fast_model, "--input", path, "--format", "jsonl", "--quiet",
               "--id-column", column.strip("'"))  # fmt: skip
    assert [row["id"] for row in jsonl(kept.stdout)] == ["000123"] and kept.stderr == ""
    # Kept as a column of the output, the ids are not lost, and nothing is said.
    passed = run("predict", "--model", fast_model, "--input", path, "--format", "jsonl", "--quiet",
                 "--keep-column", column.strip("'"))  # fmt: skip
    assert [row[column.strip("'")] for row in jsonl(passed.stdout)] == ["000123"] and passed.stderr == ""
    # A column whose name only ends in the letters is no id column ("paid", "valid").
    plain = tmp_path / "plain.csv"
    plain.write_text("paid,valid,text\n1,2,Answer calls\n")
    assert "Warning" not in run("predict", "--model", fast_model, "--input", plain, "--format", "jsonl").stderr
