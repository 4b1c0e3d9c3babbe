"""Running out of memory is said as such, whichever layer meets it: never a malformed CSV or a damaged model."""

import pandas as pd
import pytest
from console import run

from pipeline import model, process

OUT_OF_MEMORY = f"Error: {process.OUT_OF_MEMORY}\n"


@pytest.mark.parametrize(
    "words",
    [
        "Error tokenizing data. C error: out of memory",
        "Error tokenizing data. C error: Calling read(nbytes) on source failed. Try engine='python'.",
    ],
)
def test_pandas_out_of_memory_is_not_a_malformed_csv(monkeypatch, tmp_path, fast_model, words):
    """Under `ulimit -v`, a valid CSV was "not a well-formed CSV: Error tokenizing data. C error: out of memory"."""
    postings = tmp_path / "jobs.csv"
    postings.write_text("id,text\n1,Answer customer calls\n")

    def parser_without_memory(*args, **kwargs):
        raise pd.errors.ParserError(words)

    monkeypatch.setattr(pd, "read_csv", parser_without_memory)
    result = run("predict", "--model", fast_model, "--input", postings, "--format", "jsonl")
    assert (result.returncode, result.stdout, result.stderr) == (1, "", OUT_OF_MEMORY)


def test_a_malformed_csv_is_still_named_so(tmp_path, fast_model):
    postings = tmp_path / "jobs.csv"
    postings.write_text("id,text\n1,Answer customer calls,extra,fields\n")
    result = run("predict", "--model", fast_model, "--input", postings, "--format", "jsonl")
    assert result.returncode == 1 and "Error: " in result.stderr and "out of memory" not in result.stderr


def test_no_memory_to_load_the_model_is_not_a_damaged_file(monkeypatch, shipped_model_path):
    """It said "model file ... cannot be read (MemoryError); retrain with make train": retraining cannot help."""

    def unpickle_without_memory(data):
        raise MemoryError

    monkeypatch.setattr(model.pickle, "loads", unpickle_without_memory)
    result = run("predict", "--model", shipped_model_path, "--engine", "sklearn", "Answer calls")
    assert (result.returncode, result.stderr) == (1, OUT_OF_MEMORY)


@pytest.mark.parametrize(
    "error, expected",
    [
        (MemoryError(), True),
        (ImportError("libopenblas.so: failed to map segment from shared object"), True),
        (ImportError("libgomp.so.1: cannot allocate memory in static TLS block"), True),
        (RuntimeError("can't start new thread"), True),
        (RuntimeError("dictionary changed size during iteration"), False),
        (ImportError("No module named 'skops'"), False),
        (OSError(12, "Cannot allocate memory"), False),
    ],
)
def test_what_counts_as_out_of_memory(error, expected):
    assert process.out_of_memory(error) is expected


def test_no_memory_for_the_error_line_itself_still_prints_it(monkeypatch, tmp_path):
    """Under `ulimit -v`, evaluate ended in two chained tracebacks and no Error line: the handler's own import of
    the line cleaner ran out of memory too."""
    import builtins

    real_import = builtins.__import__

    def import_without_memory(name, *args, **kwargs):
        if name == "pipeline.predict":
            raise MemoryError
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", import_without_memory)
    monkeypatch.delitem(__import__("sys").modules, "pipeline.predict", raising=False)
    result = run("predict", "--input", tmp_path / "missing.csv")
    assert result.returncode == 1 and result.stderr.startswith("Error: ") and "Traceback" not in result.stderr
