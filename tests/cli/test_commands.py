"""The installed console script, run as a user would: help, version, predict and evaluate."""

import json
import os
import subprocess
import sys

import pytest
from console import SCRIPT, jsonl, run

from pipeline import config

COMMANDS = ("prepare", "train", "tune", "evaluate", "report", "predict")


def test_help_for_every_command_and_version():
    top = run("--help")
    assert top.returncode == 0
    for command in COMMANDS:
        assert command in top.stdout
        result = run(command, "--help")
        assert result.returncode == 0 and "Usage: bpo-kpo " + command in result.stdout
    version = run("--version")
    assert version.returncode == 0 and version.stdout.startswith("bpo-kpo ")


def test_python_dash_m_is_the_same_program():
    result = subprocess.run([sys.executable, "-m", "pipeline", "--version"], capture_output=True, text=True)
    assert result.stdout == run("--version").stdout


def test_predict_arguments(shipped_model_path, tmp_path):
    # Run from another folder: default paths come from the project root, not the working directory.
    result = run(
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
    result = run("predict", "--input", "-", "--format", "jsonl", stdin="line one\nline two\nline three\n")
    assert result.returncode == 0, result.stderr
    rows = jsonl(result.stdout)
    assert len(rows) == 3
    assert all({"id", "label", "p_bpo", "p_kpo"} <= set(r) and r["p_bpo"] + r["p_kpo"] == 1 for r in rows)


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
    strict = run("evaluate", "--data", str(path), "--min-macro-f1", "1.0")
    assert strict.returncode in (0, 1) and ("below --min-macro-f1" in strict.stderr) == (strict.returncode == 1)


def test_predict_into_a_closed_pipe_exits_quietly(shipped_model_path, tmp_path):
    path = tmp_path / "many.txt"
    path.write_text("Process insurance claims following the procedure manual\n" * 20000)
    result = subprocess.run(
        f'"{SCRIPT}" predict --input "{path}" --format jsonl | head -1',
        shell=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert len(result.stdout.splitlines()) == 1
    assert "Traceback" not in result.stderr and "Error" not in result.stderr


@pytest.mark.parametrize("command", ["prepare", "train", "evaluate", "report"])
def test_stage_defaults_point_into_the_project(command):
    # Compared without whitespace: click wraps long defaults at spaces and after hyphens ("/work/wt-" "portable").
    help_text = "".join(run(command, "--help").stdout.split())
    assert "".join(str(config.PROJECT_ROOT).split()) in help_text


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
    one, two = run(*args), run(*args, "--jobs", "2")
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
    assert csv_out[0] == "id,label,p_bpo,p_kpo,needs_review,explanation,error"


def test_progress_on_a_terminal_and_quiet(shipped_model_path, tmp_path):
    """`script` gives the command a terminal: progress appears on it, and --quiet or a pipe silences it."""
    source, output = tmp_path / "in.txt", tmp_path / "out.jsonl"
    source.write_text("Answer calls\nAudit the accounts\n")
    command = f'"{SCRIPT}" predict --input "{source}" --output "{output}"'
    shown = subprocess.run(["script", "-qec", command, "/dev/null"], capture_output=True, text=True, timeout=120)
    assert "2 rows" in shown.stdout and "rows/s" in shown.stdout
    quiet = subprocess.run(["script", "-qec", command + " --quiet", "/dev/null"], capture_output=True, text=True,
                           timeout=120)  # fmt: skip
    assert "rows" not in quiet.stdout
    piped = run("predict", "--input", str(source), "--output", str(output))
    assert piped.stderr == ""
