"""An interrupt Python turns into another error, or drops, still ends the run as interrupted."""

import signal
import types

import pytest
from console import run

from pipeline import model, process
from pipeline.errors import Interrupted

INTERRUPTED = "Error: interrupted; no output file was left behind\n"


def test_without_an_interrupt_nothing_is_raised(monkeypatch):
    monkeypatch.setattr(process, "_received", None)
    process.stop_if_interrupted()
    assert process.interrupt_received() is None


@pytest.mark.parametrize(("signum", "kind"), [(signal.SIGINT, KeyboardInterrupt), (signal.SIGTERM, Interrupted)])
def test_a_dropped_interrupt_is_raised_before_the_output_is_committed(monkeypatch, signum, kind):
    monkeypatch.setattr(process, "_received", signum)
    with pytest.raises(kind) as raised:
        process.stop_if_interrupted()
    assert process.interrupt_message(raised.value)[1] == 128 + signum


def fail_to_import(*args, **kwargs):
    # What a C extension raises when Ctrl-C arrives while it initialises (numpy, scipy under scikit-learn).
    raise ImportError("initialization failed")


def test_an_import_error_after_ctrl_c_is_the_interrupt(monkeypatch):
    monkeypatch.setattr(model, "load_model", fail_to_import)
    monkeypatch.setattr(process, "_received", signal.SIGINT)
    result = run("evaluate")
    assert (result.returncode, result.stderr) == (130, INTERRUPTED)


def test_the_same_import_error_without_an_interrupt_is_an_error(monkeypatch):
    monkeypatch.setattr(model, "load_model", fail_to_import)
    monkeypatch.setattr(process, "_received", None)
    result = run("evaluate")
    assert result.returncode == 1
    assert result.stderr.startswith("Error: unexpected ImportError: initialization failed")


def test_only_a_recorded_interrupt_is_kept_off_stderr(monkeypatch):
    reported = []
    monkeypatch.setattr(process.sys, "__unraisablehook__", reported.append)
    monkeypatch.setattr(process, "_received", signal.SIGINT)
    dropped = types.SimpleNamespace(exc_value=KeyboardInterrupt())
    other = types.SimpleNamespace(exc_value=ValueError("a real problem"))
    process._unraisable(dropped)
    process._unraisable(other)
    assert reported == [other]
