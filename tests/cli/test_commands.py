"""The command line as a user runs it: help, version, predict and evaluate; in process, and as the real console
script where a process of its own matters (pipes, terminals, worker processes)."""

import json
import os
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner
from console import SCRIPT, checkout_make, jsonl, linux_only, run, run_script

from pipeline import config
from pipeline.cli import cli
from pipeline.generate import generate_postings
from pipeline.metadata import PAIRED_MODEL

COMMANDS = ("prepare", "train", "tune", "evaluate", "report", "predict")
# Training on a hundred postings, where the recipe matters and the model does not: folds holding out areas and
# forms keep 20 to 30 of them, so an n-gram in 2 postings is read (at 5, some draws leave a fold no vocabulary).
TINY_TRAINING = ("--jobs", "1", "--ngram-max", "1", "--cv-folds", "2", "--min-df", "2")


def test_help_for_every_command_and_version():
    top = run("--help")
    assert top.returncode == 0
    for command in COMMANDS:
        assert command in top.stdout
        result = run(command, "--help")
        assert result.returncode == 0 and "Usage: bpo-kpo " + command in result.stdout
    assert "prepare -> train -> report" in top.stdout
    version = run("--version")
    assert version.returncode == 0 and version.stdout.startswith("bpo-kpo ")


def test_python_dash_m_is_the_same_program():
    result = subprocess.run([sys.executable, "-m", "pipeline", "--version"], capture_output=True, text=True,
                            stdin=subprocess.DEVNULL)  # fmt: skip
    assert result.returncode == 0 and result.stdout.startswith("bpo-kpo ")
    assert result.stdout == run_script("--version").stdout


@pytest.mark.parametrize(
    "args",
    [["predict"], ["predict", "--threshold", "2", "x"], ["predict", "--model", "/nowhere/m.joblib", "x"]],
    ids=["usage-error", "bad-value", "missing-model"],
)
def test_a_command_run_in_process_ends_as_the_console_script_does(args):
    """The suite runs most commands in its own process (console.run): their exit codes and messages must be
    those of the real console script, or every test built on them would check something no user sees."""
    in_process, script = run(*args), run_script(*args)
    assert (in_process.returncode, in_process.stdout, in_process.stderr) == (
        script.returncode,
        script.stdout,
        script.stderr,
    )
    assert in_process.returncode in (1, 2) and in_process.stderr.strip().splitlines()[-1].startswith("Error")


def test_predict_arguments(shipped_model_path, tmp_path):
    # The real console script, run from another folder: default paths come from the project root, not the working
    # directory.
    result = run_script(
        "predict",
        "Answer inbound customer calls and resolve billing queries in our CRM.",
        "Lead randomised controlled trials and publish peer-reviewed research.",
        "--format",
        "jsonl",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    rows = jsonl(result.stdout)
    assert [r["id"] for r in rows] == ["1", "2"]
    assert [r["label"] for r in rows] == ["BPO", "KPO"]
    for row in rows:
        assert row["p_bpo"] + row["p_kpo"] == 1
        assert 0 <= row["p_kpo"] <= 1


def test_predict_pipe_gives_one_line_per_input_line(shipped_model_path):
    # A real pipe into the real console script: stdin is read as a stream (three lines: the portable engine scores
    # them, as auto chooses for a pipe whose first chunk is all of it; test_engines checks the choice).
    result = run_script("predict", "--input", "-", "--format", "jsonl", stdin="line one\nline two\nline three\n")
    assert result.returncode == 0, result.stderr
    rows = jsonl(result.stdout)
    assert len(rows) == 3
    assert all({"id", "label", "p_bpo", "p_kpo"} <= set(r) and r["p_bpo"] + r["p_kpo"] == 1 for r in rows)


def test_a_lone_dash_reads_standard_input_like_input_dash(shipped_model_path):
    # `... | bpo-kpo predict -` once scored the one-character posting "-" and flagged it unrecognisable.
    lines = "Draft merger agreements and advise clients on regulatory risk\nAnswer inbound calls about orders\n"
    dash = run("predict", "-", "--format", "jsonl", stdin=lines)
    flag = run("predict", "--input", "-", "--format", "jsonl", stdin=lines)
    assert dash.returncode == 0, dash.stderr
    assert dash.stdout == flag.stdout
    assert [row["label"] for row in jsonl(dash.stdout)] == ["KPO", "BPO"]


def test_a_dash_among_postings_is_a_usage_error(shipped_model_path):
    result = run("predict", "Answer calls", "-", stdin="Audit the accounts\n")
    assert result.returncode == 2 and result.stdout == ""
    assert "Error: - reads postings from standard input; give it alone" in result.stderr


def test_a_dash_beside_input_is_a_usage_error(shipped_model_path, tmp_path):
    path = tmp_path / "postings.txt"
    path.write_text("Answer calls\n", encoding="utf-8")
    result = run("predict", "-", "--input", str(path), stdin="Audit the accounts\n")
    assert result.returncode == 2 and result.stdout == ""
    assert "Error: give postings as arguments or --input, not both" in result.stderr


def test_predict_csv_keeps_every_id_in_order(shipped_model_path, tmp_path):
    refs = [f"JOB-{i:03d}" for i in range(50)]
    lines = ["ref,title,description"] + [
        f'{ref},"Payroll Clerk {i}","Process weekly payroll, answer staff queries"' for i, ref in enumerate(refs)
    ]
    path = tmp_path / "postings.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run(
        "predict",
        "--input",
        str(path),
        "--text-column",
        "title",
        "--text-column",
        "description",
        "--id-column",
        "ref",
        "--format",
        "jsonl",
        "--chunk-size",
        "7",
    )
    assert result.returncode == 0, result.stderr
    assert [r["id"] for r in jsonl(result.stdout)] == refs


def test_predict_output_formats_agree(shipped_model_path, tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("Design and verify ASIC blocks in SystemVerilog\nBook travel for executives\n")
    out_csv, out_jsonl = tmp_path / "out.csv", tmp_path / "out.jsonl"
    assert run("predict", "--input", str(source), "--output", str(out_csv)).returncode == 0
    assert run("predict", "--input", str(source), "--output", str(out_jsonl)).returncode == 0
    header, *rows = out_csv.read_text().splitlines()
    assert header.split(",")[:4] == ["id", "label", "p_bpo", "p_kpo"]
    assert [row.split(",")[1] for row in rows] == [r["label"] for r in jsonl(out_jsonl.read_text())]
    table = run("predict", "--input", str(source), "--format", "table")
    assert table.returncode == 0 and "Design and verify" in table.stdout


def test_evaluate_reads_labelled_csv_or_jsonl_from_stdin(shipped_model_path, tmp_path):
    """`--data -` once refused every pipe ("labelled data must be CSV or JSON lines, not plain text")."""
    rows = [("Answer customer emails and chats within SLA", "BPO"), ("Build credit risk models in R", "KPO")]
    path = tmp_path / "labelled.csv"
    path.write_text("text,label\n" + "".join(f"{text},{label}\n" for text, label in rows))
    from_file = json.loads(run("evaluate", "--data", str(path), "--format", "json").stdout)[str(path)]
    as_jsonl = "".join(json.dumps({"text": text, "label": label}) + "\n" for text, label in rows)
    # Blank lines above the header or the first record: stdin was said to be empty, and a file too.
    for piped in (path.read_text(), as_jsonl, "\n\n" + path.read_text(), "\n" + as_jsonl):
        result = run("evaluate", "--data", "-", "--format", "json", stdin=piped)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["standard input"]["log_loss"] == from_file["log_loss"]
    spaced = tmp_path / "spaced.csv"
    spaced.write_text("\n" + path.read_text())
    result = run("evaluate", "--data", spaced, "--format", "json")
    assert json.loads(result.stdout)[str(spaced)]["log_loss"] == from_file["log_loss"], result.stderr
    empty = run("evaluate", "--data", "-", stdin="")
    assert empty.returncode == 1 and "standard input is empty" in empty.stderr
    # A JSON array piped in was read as a CSV and said to have no rows; as a file it was named for what it is.
    array = run("evaluate", "--data", "-", stdin=f"[{as_jsonl.splitlines()[0]}]\n")
    assert array.returncode == 1 and "standard input is a JSON array, not JSON lines" in array.stderr
    # A JSON-lines file without the text field names the option that chooses it, as a CSV's message does.
    other = tmp_path / "other.jsonl"
    other.write_text('{"body": "Answer calls", "label": "BPO"}\n')
    named = run("evaluate", "--data", other)
    assert "has no field 'text'; its fields are: 'body', 'label'; choose with --text-column" in named.stderr


def test_evaluate_and_train_read_files_given_as_arguments(shipped_model_path, tmp_path):
    """`--data field/*.jsonl` once stopped on click's "Got unexpected extra arguments": the shell gives the
    option one file and leaves the rest as arguments."""
    paths = []
    for name, (text, label) in {"a.csv": ("Answer customer emails within SLA", "BPO"),
                                "b.csv": ("Build credit risk models in R", "KPO")}.items():  # fmt: skip
        paths.append(tmp_path / name)
        paths[-1].write_text(f"id,text,label\nX1,{text},{label}\n")
    repeated = run("evaluate", "--data", paths[0], "--data", paths[1], "--format", "json")
    assert repeated.returncode == 0, repeated.stderr
    for args in (["--data", *paths], paths):
        result = run("evaluate", *args, "--format", "json")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == json.loads(repeated.stdout)
    # train reads them too: the same id in both files is refused by name, as with --data given twice.
    result = run("train", "--data", *paths, "--model", tmp_path / "m.joblib")
    assert result.returncode == 1 and "id 'X1' is in more than one of" in result.stderr, result.stderr


def test_an_output_on_stdout_is_the_one_document_there(shipped_model_path, tmp_path):
    """evaluate --output - once wrote its metrics JSON twice (with --format json), or above the text report, and
    json.loads failed on either; the report goes to stderr instead."""
    path = tmp_path / "labelled.csv"
    path.write_text("text,label\nAnswer customer emails within SLA,BPO\nAdvise clients on tax structuring,KPO\n")
    for output_format in ("json", "text"):
        result = run("evaluate", "--data", str(path), "--format", output_format, "--output", "-")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)[str(path)]["n"] == 2
    assert "precision  recall" in result.stderr
    # /dev/stdout is the same stream: it once got the JSON and the text report both.
    device = run_script("evaluate", "--data", str(path), "--output", "/dev/stdout")
    assert device.returncode == 0, device.stderr
    assert json.loads(device.stdout)[str(path)]["n"] == 2 and "precision  recall" in device.stderr
    both = run("report", "--output", "-", "--errors", "-")
    assert both.returncode == 2
    assert "--output, --errors: only one output can be standard output ('-'); give the others a file" in both.stderr


def test_evaluate_measures_the_threshold_a_service_deploys(shipped_model_path, tmp_path):
    """predict takes --threshold; evaluate had none, so the cut a service scores with could not be measured."""
    path = tmp_path / "labelled.csv"
    path.write_text("text,label\nAnswer customer emails within SLA,BPO\nAdvise clients on tax structuring,KPO\n")
    tuned = json.loads(run("evaluate", "--data", str(path), "--format", "json").stdout)[str(path)]
    assert tuned["accuracy"] == 1.0 and tuned["threshold"] != 0
    everything_kpo = run("evaluate", "--data", str(path), "--format", "json", "--threshold", "0")
    metrics = json.loads(everything_kpo.stdout)[str(path)]
    assert metrics["threshold"] == 0 and metrics["accuracy"] == 0.5
    assert metrics["confusion_matrix"]["matrix"] == [[0, 1], [0, 1]]
    assert run("evaluate", "--data", str(path), "--threshold", "1.5").returncode == 2
    # The report names the threshold measured, not a rounding of it ("threshold=1.00" for 0.999).
    for given in ("0.999", "0.9999999"):  # 0.9999999 was shown as 1, under six significant digits
        shown = run("evaluate", "--data", str(path), "--threshold", given).stdout
        assert f"== {path} (n=2, threshold={given}, scored by" in shown


def test_evaluate_json_on_any_labelled_csv(shipped_model_path, tmp_path):
    path = tmp_path / "labelled.csv"
    path.write_text(
        "text,label,source\n"
        "Answer customer emails and chats within SLA,BPO,a\n"
        "Advise clients on tax structuring and draft opinions,KPO,b\n"
        "Enter invoices into SAP accurately,BPO,b\n"
        "Build statistical models of credit risk in R,KPO,a\n"
    )
    plots = tmp_path / "plots"
    result = run("evaluate", "--data", str(path), "--format", "json", "--by", "source", "--by", "length",
                 "--plots", str(plots))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert len(list(plots.glob("*.png"))) == 5
    metrics = json.loads(result.stdout)[str(path)]
    for key in ("accuracy", "macro_f1", "per_class", "confusion_matrix", "roc_auc", "ece", "reliability"):
        assert key in metrics
    assert metrics["per_class"]["BPO"]["support"] == 2
    assert set(metrics["slices"]["source"]) == {"a", "b"}
    assert sum(s["n"] for s in metrics["slices"]["length"].values()) == 4
    failing = run("evaluate", "--data", str(path), "--min-macro-f1", "1.01")
    assert failing.returncode == 2
    # The same postings with every label swapped: the model is wrong on each, so the gate must close.
    swapped = tmp_path / "swapped.csv"
    swapped.write_text(path.read_text().replace(",BPO,", ",TMP,").replace(",KPO,", ",BPO,").replace(",TMP,", ",KPO,"))
    gate = run("evaluate", "--data", str(swapped), "--min-macro-f1", "0.5")
    assert gate.returncode == 1 and "below --min-macro-f1" in gate.stderr
    assert run("evaluate", "--data", str(path), "--min-macro-f1", "0.5").returncode == 0
    # Out-of-scope postings alone give scope figures, but no macro-F1: the gate must not pass on nothing.
    neither = tmp_path / "neither.csv"
    neither.write_text("text,label\nDrive a forklift in the warehouse,NEITHER\n")
    assert run("evaluate", "--data", str(neither)).returncode == 0
    empty_gate = run("evaluate", "--data", str(path), str(neither), "--min-macro-f1", "0.5")
    assert (
        empty_gate.returncode == 1 and f"could not check {neither}: no BPO or KPO postings in it" in empty_gate.stderr
    )


@pytest.mark.parametrize("command", ["prepare", "train", "evaluate", "report"])
def test_stage_defaults_point_into_the_project(command):
    # click wraps help text, at spaces and at the hyphen of bpo-kpo: compare with every line break and space
    # removed, so the checkout path's length (or a space in it) never decides the result.
    help_text = run(command, "--help").stdout
    assert "".join(str(config.PROJECT_ROOT).split()) in "".join(help_text.split())


def test_make_help_lists_the_documented_targets():
    result = subprocess.run(
        ["make", "-s", "help"],
        cwd=config.PROJECT_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "MAKEFLAGS": ""},
    )
    for target in ("install", "data", "train", "evaluate", "predict", "test", "lint", "bench", "clean"):
        assert f"  {target} " in result.stdout


def test_jobs_two_gives_the_same_rows_in_the_same_order(shipped_model_path, tmp_path):
    lines = [
        f"{i},Posting {i}: " + ("Answer customer calls" if i % 3 else "Model credit risk in R") for i in range(3000)
    ]
    path = tmp_path / "p.csv"
    path.write_text("id,text\n" + "\n".join(lines) + "\n")
    args = ["predict", "--input", str(path), "--id-column", "id", "--format", "jsonl", "--chunk-size", "250"]
    one, two = run(*args), run_script(*args, "--jobs", "2")  # worker processes need a process of their own
    assert one.returncode == two.returncode == 0
    assert one.stdout == two.stdout
    assert [r["id"] for r in jsonl(one.stdout)] == [str(i) for i in range(3000)]


def test_threshold_review_band_and_explanations(shipped_model_path):
    text = "Answer customer calls, process refunds and log tickets in Zendesk to agreed scripts."
    default = jsonl(run("predict", "--format", "jsonl", text).stdout)[0]
    assert default["label"] == "BPO"
    forced = jsonl(run("predict", "--format", "jsonl", "--threshold", "0.0", text).stdout)[0]
    assert forced["label"] == "KPO" and forced["p_kpo"] == default["p_kpo"]
    review = jsonl(run("predict", "--format", "jsonl", "--threshold", "0.0", "--review-band", "0.5", text).stdout)[0]
    assert review["needs_review"] is True
    explained = jsonl(run("predict", "--format", "jsonl", "--explain", "3", text).stdout)[0]
    assert 1 <= len(explained["explanation"]) <= 3
    assert all(item["weight"] < 0 for item in explained["explanation"])  # pushing toward BPO
    csv_out = run("predict", "--format", "csv", "--explain", "2", text).stdout.splitlines()
    assert csv_out[0] == (
        "id,label,p_bpo,p_kpo,needs_review,out_of_scope,p_out_of_scope,scope_reason,explanation,scope_explanation,error"
    )
    # The scope model's reasons point toward its verdict: out of scope (+) for a flagged posting, in scope (-) here.
    assert explained["out_of_scope"] is False
    assert explained["scope_explanation"] and all(item["weight"] < 0 for item in explained["scope_explanation"])
    nurse = "Ward nurse: give medication, dress wounds and take observations on a surgical ward; nights and weekends."
    flagged = jsonl(run("predict", "--format", "jsonl", "--explain", "3", nurse).stdout)[0]
    assert flagged["out_of_scope"] is True
    assert flagged["scope_explanation"] and all(item["weight"] > 0 for item in flagged["scope_explanation"])
    assert "nurse" in {item["ngram"] for item in flagged["scope_explanation"]}


def terminal_screen(raw: str) -> list[str]:
    """What a terminal shows for `raw`: a carriage return goes back to the line start, ESC[K erases the rest."""
    lines = []
    for line in raw.replace("\r\n", "\n").split("\n"):
        screen = ""
        for part in line.split("\r"):
            erase = part.startswith("\x1b[K")
            part = part.removeprefix("\x1b[K")
            screen = part + ("" if erase else screen[len(part) :])
        lines.append(screen)
    return lines


# BSD and macOS `script` take other options.
needs_linux_script = linux_only("util-linux's `script -qec` to give the command a terminal")


def in_terminal(command: str) -> subprocess.CompletedProcess:
    """Run a shell command with a terminal as stdin, stdout and stderr (`script`); keep the raw bytes' text.

    Decoded by hand: text mode would turn the carriage returns that redraw a line into line breaks.
    """
    # stdin is empty: a command that reads the terminal sees its end at once instead of waiting for input.
    result = subprocess.run(["script", "-qec", command, "/dev/null"], capture_output=True, timeout=120,
                            stdin=subprocess.DEVNULL)  # fmt: skip
    return subprocess.CompletedProcess(result.args, result.returncode, result.stdout.decode(), result.stderr.decode())


@needs_linux_script
def test_progress_on_a_terminal_and_quiet(shipped_model_path, tmp_path):
    """`script` gives the command a terminal: a bar with percentage and time left, then only the summary."""
    source, output = tmp_path / "in.txt", tmp_path / "out.jsonl"
    source.write_text("Answer calls and log tickets\nAudit the accounts of clients\n" * 3000)
    command = f'"{SCRIPT}" predict --input "{source}" --output "{output}" --chunk-size 100'
    shown = in_terminal(command)
    assert shown.returncode == 0, shown.stdout
    assert re.search(r"\[[#.]+\]\s+\d+%\s+[\d,]+ rows\s+[\d,]+ rows/s\s+[\d.hms]+ left", shown.stdout)
    # Once done, the progress line is erased: the screen shows the summary alone on its line, nothing else.
    screen = [line for line in terminal_screen(shown.stdout) if line.strip()]
    assert len(screen) == 1 and screen[0].startswith("scored 6,000 rows in "), screen
    quiet = in_terminal(command + " --quiet")
    assert quiet.returncode == 0 and quiet.stdout.strip() == ""


@needs_linux_script
@pytest.mark.parametrize("columns", [50, 20])
def test_progress_fits_a_narrow_terminal_on_one_line(shipped_model_path, tmp_path, columns):
    """On a terminal narrower than the line (about 70 characters), it wrapped, and each redraw, which erases the
    row the cursor is on only, left the row above behind."""
    source, output = tmp_path / "in.txt", tmp_path / "out.jsonl"
    source.write_text("Answer calls and log tickets\nAudit the accounts of clients\n" * 3000)
    shown = in_terminal(
        f'stty cols {columns}; "{SCRIPT}" predict --input "{source}" --output "{output}" --chunk-size 100'
    )
    assert shown.returncode == 0, shown.stdout
    *drawn, summary = shown.stdout.split("\r\033[K")
    assert drawn[1:] and all("%" in line and len(line) < columns for line in drawn[1:]), drawn
    assert summary.startswith("scored 6,000 rows in ")


@needs_linux_script
def test_results_on_the_terminal_never_share_a_line_with_progress(shipped_model_path, tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("Answer calls and log tickets\nAudit the accounts\n" * 500)
    command = f'COLUMNS=80 "{SCRIPT}" predict --input "{source}" --chunk-size 50'
    shown = in_terminal(command)
    assert shown.returncode == 0
    screen = terminal_screen(shown.stdout)
    assert "rows/s" not in shown.stdout
    assert screen[0].split() == ["id", "label", "p(label)", "review", "text"]
    assert all(line.startswith(str(i + 1) + " ") for i, line in enumerate(screen[1:1001])), screen[1:5]
    assert screen[1001].startswith("scored 1,000 rows in ")
    # The terminal named as the output file: the bar was drawn through the JSON lines written there.
    for device in ("/dev/stdout", "/dev/tty"):
        named = in_terminal(command + f" --output {device}")
        assert named.returncode == 0 and "rows/s" not in named.stdout, device
        assert sum(line.startswith('{"id": ') for line in terminal_screen(named.stdout)) == 1000


@needs_linux_script
def test_reading_the_terminal_says_how_to_end(shipped_model_path):
    # The portable engine: what is said on the terminal does not depend on the engine, and it starts fast.
    shown = in_terminal(f'"{SCRIPT}" predict --input - --engine portable --format jsonl')
    assert shown.returncode == 0
    assert "reading postings from the terminal, one per line; end with Ctrl-D" in shown.stdout
    assert "scored 0 rows" in shown.stdout


def test_reading_a_pipe_says_nothing_before_the_results(shipped_model_path):
    piped = run("predict", "--input", "-", "--format", "jsonl", stdin="Answer calls\n")
    assert piped.returncode == 0 and piped.stderr.startswith("scored 1 row ")


def test_summary_on_stderr_off_a_terminal_unless_quiet(shipped_model_path, tmp_path):
    source, output = tmp_path / "in.txt", tmp_path / "scored.csv"
    source.write_text("Answer customer calls about refunds\nBuild credit-risk models in Python\n\n")
    result = run("predict", "--input", str(source), "--output", str(output))
    assert result.returncode == 0
    counts = dict(re.findall(r"(BPO|KPO|needs review|errors) (\d+)", result.stderr))
    assert counts == {"BPO": "1", "KPO": "1", "needs review": counts["needs review"], "errors": "1"}
    assert result.stderr.startswith("scored 3 rows in ") and str(output) in result.stderr
    assert len(result.stderr.splitlines()) == 1
    quiet = run("predict", "--input", str(source), "--output", str(output), "--quiet")
    assert quiet.returncode == 0 and quiet.stderr == ""
    # Postings given as arguments are all on the screen already: no summary for them.
    assert run("predict", "Answer customer calls about refunds").stderr == ""


@pytest.mark.parametrize("engine", ["portable", "sklearn"])
def test_postings_of_a_few_words_get_one_note_that_a_title_alone_says_little(shipped_model_path, tmp_path, engine):
    """A job title alone gives both models little to read (README, "Out of scope"): after the results, predict
    counts the postings of a few words on stderr, once, whether they came in a file or as arguments; an empty
    row is an error, not a title; --quiet and stdout never carry the note."""
    source = tmp_path / "titles.txt"
    source.write_text("Executive Assistant\nAssistant Economist\nAnswer customer calls about refunds\n\n")
    read = CliRunner().invoke(cli, ["predict", "--engine", engine, "--input", str(source), "--format", "csv"])
    assert read.exit_code == 0, read.output
    lines = read.stderr.splitlines()
    assert len(lines) == 2 and lines[0].startswith("scored 4 rows ")
    # Of the 3 rows scored: the empty row is an error, counted in neither number.
    assert lines[1].startswith(f"note: 2 of 3 postings scored have {config.BARE_TITLE_WORDS} words or fewer")
    assert "note" not in read.stdout and len(read.stdout.splitlines()) == 5
    given = CliRunner().invoke(cli, ["predict", "--engine", engine, "Nurse", "Answer customer calls about refunds"])
    assert given.stderr.startswith("note: 1 of 2 postings scored has ") and len(given.stderr.splitlines()) == 1
    # At the edge: as many words as the note counts, then one more.
    edge = [" ".join(["Payroll"] * config.BARE_TITLE_WORDS), " ".join(["Payroll"] * (config.BARE_TITLE_WORDS + 1))]
    counted = CliRunner().invoke(cli, ["predict", "--engine", engine, *edge])
    assert counted.stderr.startswith("note: 1 of 2 postings scored has "), counted.stderr
    quiet = CliRunner().invoke(cli, ["predict", "--engine", engine, "--quiet", "Nurse"])
    assert quiet.exit_code == 0 and quiet.stderr == ""
    # A text refused as too long is an error row, not a title, whatever its count of words.
    long = CliRunner().invoke(cli, ["predict", "--engine", engine, "--max-text-chars", "10", "Nurse", "x" * 50])
    assert long.stderr.splitlines()[-1].startswith("note: 1 of 1 posting scored has "), long.stderr


def test_a_skops_model_beside_the_joblib_one_breaks_neither(catalogue, model_copy, tmp_path):
    """The README's skops command once overwrote the joblib model's metadata: each file now has its own.

    `train` runs its whole recipe on a hundred generated postings (in scope only, so no scope model): the file
    formats and their metadata are the point here, not the model's quality.
    """
    data = tmp_path / "train.csv"
    generate_postings(catalogue, 100, seed=3).to_csv(data, index=False)
    joblib_model, skops_model = model_copy, tmp_path / "model.skops"
    joblib_meta = (tmp_path / "model.joblib.json").read_bytes()
    # The format follows the suffix; --format skops says the same.
    trained = run("train", "--data", data, "--model", skops_model, *TINY_TRAINING)
    assert trained.returncode == 0, trained.stderr
    # The expected time follows the postings: "about 2 minutes" was said of a fit that takes a second.
    assert re.search(r"training on \d+ BPO/KPO postings .*cross-validation.*\(under a minute\)", trained.stderr)
    # No NEITHER postings: no scope model, said so, rather than promised and then not fitted.
    assert "then the scope model" not in trained.stderr
    assert "no out-of-scope (NEITHER) postings: no scope model was fitted" in trained.stderr
    assert (tmp_path / "model.joblib.json").read_bytes() == joblib_meta
    assert json.loads((tmp_path / "model.skops.json").read_text())["format"] == "skops"
    assert skops_model.read_bytes()[:2] == b"PK"  # a skops file is a zip archive, not a pickle
    for model in (joblib_model, skops_model):
        result = run("predict", "--model", model, "--format", "jsonl", "Answer customer calls")
        assert result.returncode == 0, result.stderr
        assert jsonl(result.stdout)[0]["label"] in config.LABELS


def test_long_make_steps_say_what_they_do_and_how_long():
    with checkout_make():
        result = subprocess.run(["make", "-n", "-B", "install", "train"], cwd=config.PROJECT_ROOT,
                                capture_output=True, text=True, env={**os.environ, "MAKEFLAGS": ""})  # fmt: skip
    assert result.returncode == 0, result.stderr
    echoes = [line for line in result.stdout.splitlines() if line.startswith("echo ")]
    assert any("installing" in line and "about a minute" in line for line in echoes), echoes
    assert any("evaluating" in line for line in echoes), echoes


def test_train_records_where_its_data_is_and_drops_a_stale_scope_model(catalogue, tmp_path):
    """A relative --data path outside the project is kept absolute, so evaluate can read the file again to find
    the postings the model learnt; and a scope model left beside the model by an earlier training, on other data,
    is removed when this data holds no out-of-scope posting to fit one on (it would be loaded with the model)."""
    generate_postings(catalogue, 100, seed=3).to_csv(tmp_path / "mine.csv", index=False)
    stale = tmp_path / "model.scope.joblib"
    stale.write_bytes(b"from an earlier training")
    trained = run("train", "--data", "mine.csv", "--model", "model.joblib", *TINY_TRAINING, cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    # Generated postings name their area and form, which the folds hold out.
    assert "validation (held-out service areas and forms): " in trained.stdout
    files = json.loads((tmp_path / "model.joblib.json").read_text())["training_data"]["files"]
    assert [entry["path"] for entry in files] == [str((tmp_path / "mine.csv").resolve())]
    assert not stale.exists() and "removed" in trained.stderr
    # The model's own postings, shuffled, are found wherever evaluate runs from.
    shuffled = tmp_path / "shuffled.csv"
    generate_postings(catalogue, 100, seed=3).sample(frac=1, random_state=1).to_csv(shuffled, index=False)
    refused = run("evaluate", "--model", tmp_path / "model.joblib", "--data", shuffled)
    assert refused.returncode == 1 and "are in the training data of" in refused.stderr, refused.stderr


def test_a_training_stopped_while_fitting_the_scope_model_leaves_the_pair_it_found(catalogue, tmp_path, monkeypatch):
    """train wrote the BPO/KPO model, then fitted the scope model for a minute: stopped there (Ctrl-C, a crash),
    it left a new model beside the scope model of another training, which loaded as their pair. Both are now fitted
    before either file is written, and the scope model records the model it was trained with."""
    from pipeline import scope

    generate_postings(catalogue, 100, seed=3, n_out_of_scope=20).to_csv(tmp_path / "mine.csv", index=False)
    command = ("train", "--data", "mine.csv", "--model", "model.joblib", *TINY_TRAINING)
    assert run(*command, cwd=tmp_path).returncode == 0
    pair = {path.name: path.read_bytes() for path in tmp_path.glob("model.*")}
    assert len(pair) == 4
    scope_meta = json.loads(pair["model.scope.joblib.json"])
    assert scope_meta[PAIRED_MODEL] == json.loads(pair["model.joblib.json"])["model_sha256"]

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(scope, "train_scope_model", stopped)
    interrupted = run(*command, "--c", "2", cwd=tmp_path)
    assert interrupted.returncode == 130, interrupted.stderr
    assert {path.name: path.read_bytes() for path in tmp_path.glob("model.*")} == pair


def test_tab_completion_offers_commands_options_choices_and_files():
    def complete(*words: str) -> list[str]:
        env = {"COMP_WORDS": " ".join(["bpo-kpo", *words]), "COMP_CWORD": str(len(words)),
               config.COMPLETION_VARIABLE: "bash_complete"}  # fmt: skip
        result = run(env=env)
        assert result.returncode == 0, result.stderr
        return result.stdout.splitlines()

    source = run(env={config.COMPLETION_VARIABLE: "bash_source"})
    assert source.returncode == 0 and "complete -o nosort -F _bpo_kpo_completion bpo-kpo" in source.stdout
    assert complete("pre") == ["plain,predict", "plain,prepare"]
    assert complete("predict", "--input-f") == ["plain,--input-format"]
    assert complete("predict", "--format", "") == ["plain,table", "plain,csv", "plain,jsonl"]
    # Paths are the shell's to list: a file for an input or output, a folder for the plots.
    assert complete("predict", "--input", "ex") == ["file,ex"]
    assert complete("predict", "--output", "sc") == ["file,sc"]
    assert complete("report", "--plots", "m") == ["dir,m"]


def test_train_reads_labelled_files_of_ones_own_and_names_what_is_wrong_in_them(catalogue, tmp_path):
    """A JSON-lines file, or a CSV without a label column, was 'unexpected KeyError: label'; a CSV of 'bpo' labels
    had them dropped without a word, and then 'needs at least 5 BPO postings'."""
    postings = generate_postings(catalogue, 60, seed=3)
    postings = postings[postings["label"] != "NEITHER"][["text", "label"]]
    postings.to_json(tmp_path / "mine.jsonl", orient="records", lines=True)
    trained = run("train", "--data", tmp_path / "mine.jsonl", "--model", tmp_path / "model.joblib", *TINY_TRAINING)
    assert trained.returncode == 0, trained.stderr
    assert json.loads((tmp_path / "model.joblib.json").read_text())["training_data"]["rows"] == len(postings)
    assert f"Warning: {len(postings)} BPO/KPO postings are few: each of the" in trained.stderr
    postings.rename(columns={"label": "category"}).to_csv(tmp_path / "unlabelled.csv", index=False)
    postings.assign(label=postings["label"].str.lower()).to_csv(tmp_path / "lower.csv", index=False)
    for name, message in (("unlabelled.csv", "has no column 'label'"), ("lower.csv", "did you mean 'BPO', 'KPO'")):
        refused = run("train", "--data", tmp_path / name, "--model", tmp_path / "other.joblib", *TINY_TRAINING)
        assert refused.returncode == 1 and message in refused.stderr, refused.stderr
        assert not (tmp_path / "other.joblib").exists()
