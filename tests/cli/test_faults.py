"""Faults, hostile input and tampering, second round: output targets, signals, workers, reading, numbers, training
data, security and messages. In process (console.run) where a real process adds nothing; as a real console-script
process for signals, pipes, devices, closed streams and worker processes."""

import codecs
import contextlib
import csv
import errno
import fcntl
import gzip
import io
import json
import os
import re
import signal
import stat
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest
from artifacts import edit_metadata, resigned
from console import (
    LONG_INPUT_LINE,
    MAKE_ENV,
    SCRIPT,
    checkout_make,
    children,
    copy_make_project,
    has_signal,
    jsonl,
    linux_only,
    run,
    run_script,
    signal_mask,
    start_long_predict,
    start_script,
    wait_for,
)

from pipeline import config
from pipeline.files import own_descriptor, sha256_file
from pipeline.model import METADATA_DIGEST, metadata_path


@pytest.fixture()
def model(small_model_dir):
    return str(small_model_dir / "model.joblib")


def assert_one_error_line(result, code, pattern):
    """The documented failure shape, in process or in a real process: exit code, one `Error:` line, no traceback."""
    import re

    stderr = result.stderr
    assert result.returncode == code, (result.returncode, stderr)
    assert "Traceback" not in stderr and "unexpected" not in stderr
    if code == 1:
        lines = stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), stderr
    assert re.search(pattern, stderr), stderr


def no_temporaries(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp")]


# -- 1-3: output targets ----------------------------------------------------------------------------------------
def test_output_into_a_character_device_leaves_the_device(model):
    before = os.stat(os.devnull)
    result = run("predict", "--model", model, "--output", os.devnull, "Answer calls")
    assert result.returncode == 0, result.stderr
    after = os.stat(os.devnull)
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev


def test_output_to_dev_stdout_reaches_a_pipe_or_a_redirected_file(fast_model, tmp_path):
    piped = run_script("predict", "--model", fast_model, "--format", "jsonl", "--output", "/dev/stdout", "Answer calls")
    assert piped.returncode == 0, piped.stderr
    assert jsonl(piped.stdout)[0]["id"] == "1"
    redirected = tmp_path / "redirected.jsonl"
    with open(redirected, "w") as handle:
        result = subprocess.run([SCRIPT, "predict", "--model", fast_model, "--output", "/dev/stdout", "Answer calls"],
                                stdout=handle, stderr=subprocess.PIPE, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert jsonl(redirected.read_text())[0]["id"] == "1"
    assert no_temporaries(tmp_path)
    if sys.platform.startswith("linux"):  # elsewhere /dev/stdout is a device of its own, not a link to one
        assert Path("/dev/stdout").is_symlink()


@linux_only("/dev/stdout and /dev/fd/1 as names of the descriptor, and a POSIX sh")
def test_output_to_dev_stdout_keeps_what_the_shell_writes_around_it(fast_model, tmp_path):
    """`{ echo before; bpo-kpo predict --output /dev/stdout ...; echo after; } > file` once lost "before" and had
    "after" written over the results: /dev/stdout was opened again, truncating the file and writing from its start."""
    redirected = tmp_path / "scored.csv"
    command = (f"echo before; {SCRIPT} predict --model {fast_model} --format csv --output /dev/stdout 'Answer calls'"
               f" && {SCRIPT} predict --model {fast_model} --format csv --output /dev/fd/1 'Audit the accounts'"
               " && echo after")  # fmt: skip
    with open(redirected, "w") as handle:
        result = subprocess.run(["sh", "-c", command], stdout=handle, stderr=subprocess.PIPE, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = redirected.read_text().splitlines()
    assert lines[0] == "before" and lines[-1] == "after", lines
    assert [line.split(",")[0] for line in lines[1:-1]] == ["id", "1", "id", "1"], lines


def test_only_names_of_this_process_descriptors_are_written_through_them():
    # Another process's descriptor, or a file named like one, is opened by name as before.
    named = ["/dev/stdout", "/dev/stderr", "/dev/fd/7", "/proc/self/fd/1", f"/proc/{os.getpid()}/fd/2"]
    assert [own_descriptor(Path(name)) for name in named] == [1, 2, 7, 1, 2]
    others = [f"/proc/{os.getpid() + 1}/fd/1", "/dev/null", "/dev/stdout.csv", "out/dev/fd/1", "/dev/fd/x"]
    assert [own_descriptor(Path(name)) for name in others] == [None] * len(others)


def test_output_into_a_fifo_streams_to_its_reader(model, tmp_path):
    fifo = tmp_path / "results.fifo"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    result = run("predict", "--model", model, "--format", "jsonl", "--output", fifo, "Answer calls", "Do research")
    reader.join(timeout=60)
    assert result.returncode == 0, result.stderr
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert [row["id"] for row in jsonl(received[0])] == ["1", "2"]
    assert no_temporaries(tmp_path)


def test_output_through_a_symlink_writes_its_target_and_keeps_the_link(model, tmp_path):
    target = tmp_path / "real.jsonl"
    target.write_text("old\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(target.name)
    result = run("predict", "--model", model, "--output", link, "Answer calls")
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == target.name
    assert jsonl(target.read_text())[0]["id"] == "1"


def test_output_dash_is_standard_output_not_a_file(model, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("predict", "--model", model, "--format", "jsonl", "--output", "-", "Answer calls")
    assert result.returncode == 0, result.stderr
    assert jsonl(result.stdout)[0]["id"] == "1"
    assert not (tmp_path / "-").exists()


@pytest.mark.parametrize(
    "command",
    [["predict", "x", "--output"], ["evaluate", "--output"], ["tune", "--output"], ["report", "--errors"],
     ["train", "--model"]],
)  # fmt: skip
def test_output_with_a_trailing_slash_is_a_usage_error(tmp_path, command):
    result = run(*command, f"{tmp_path}/results/")
    assert_one_error_line(result, 2, r"ends with '/': give a file name")


@pytest.mark.parametrize(
    "command",
    [["predict", "--model", "FAST", "x", "--output"], ["evaluate", "--output"], ["report", "--errors"],
     ["train", "--model"]],
)  # fmt: skip
def test_a_windows_path_is_refused_not_written_as_one_file_name(fast_model, tmp_path, monkeypatch, command):
    """`--output 'C:\\out\\scored.csv'` wrote a file of that name in the current folder, with exit 0."""
    monkeypatch.chdir(tmp_path)
    result = run(*[fast_model if arg == "FAST" else arg for arg in command], "C:\\out\\scored.csv")
    assert_one_error_line(result, 2, r"C:\\out\\scored\.csv holds '\\', which separates no folders on this system: "
                                     r"write them with '/'\n\Z")  # fmt: skip
    assert list(tmp_path.iterdir()) == []
    # An input so named is missing, and the message says why it may be.
    missing = run("predict", "--model", fast_model, "--input", "examples\\jobs.csv")
    assert_one_error_line(missing, 1, r"input file examples\\jobs\.csv does not exist \(on this system folders are "
                                      r"separated by '/', not '\\'\)\n\Z")  # fmt: skip


def test_a_windows_folder_is_refused_and_a_linux_name_with_a_backslash_is_written(fast_model, tmp_path, monkeypatch):
    """evaluate --plots 'C:\\plots' made a folder of that one name; and './a\\b.csv', a file name Linux allows, was
    refused with the Windows paths."""
    monkeypatch.chdir(tmp_path)
    folder = run("evaluate", "--model", fast_model, "--data", config.FIELD_PATH, "--plots", "C:\\plots")
    assert_one_error_line(folder, 2, r"C:\\plots holds '\\', which separates no folders on this system")
    assert list(tmp_path.iterdir()) == []
    written = run("predict", "--model", fast_model, "Answer calls", "--output", "./a\\b.csv")
    assert written.returncode == 0 and (tmp_path / "a\\b.csv").read_text().startswith("id,label"), written.stderr


def test_output_that_is_a_directory_is_named_without_temporary_names(model, tmp_path):
    (tmp_path / "out").mkdir()
    result = run("predict", "--model", model, "--output", tmp_path / "out", "Answer calls")
    assert_one_error_line(result, 1, r"out is a directory; give a file name")
    assert ".tmp" not in result.stderr


def test_replacing_a_file_keeps_its_mode(model, tmp_path):
    output = tmp_path / "private.jsonl"
    output.write_text("old\n")
    output.chmod(0o600)
    assert run("predict", "--model", model, "--output", output, "Answer calls").returncode == 0
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    assert jsonl(output.read_text())[0]["id"] == "1"


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another owner")
def test_replacing_a_file_as_root_keeps_its_owner(model, tmp_path):
    output = tmp_path / "theirs.jsonl"
    output.write_text("old\n")
    os.chown(output, 4321, 4321)
    assert run("predict", "--model", model, "--output", output, "Answer calls").returncode == 0
    assert (output.stat().st_uid, output.stat().st_gid) == (4321, 4321)


def test_atomic_output_syncs_the_file_and_its_folder(model, tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync

    def recording_fsync(descriptor):
        synced.append(os.fstat(descriptor))
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    output = tmp_path / "out.jsonl"
    assert run("predict", "--model", model, "--output", output, "Answer calls").returncode == 0
    file_inode, folder_inode = output.stat().st_ino, tmp_path.stat().st_ino
    assert any(stat.S_ISREG(s.st_mode) and s.st_ino == file_inode for s in synced)
    assert any(stat.S_ISDIR(s.st_mode) and s.st_ino == folder_inode for s in synced)


# -- 4-6: signals and workers -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("signum", "jobs", "whole_group", "engine"),
    [(signal.SIGHUP, "1", True, "portable"), (signal.SIGTERM, "2", True, "sklearn"),
     (signal.SIGTERM, "2", False, "sklearn")],
    ids=["hup-1-job-portable", "term-2-jobs-group", "term-2-jobs-main-only"],
)  # fmt: skip
@linux_only("/proc to find the worker processes")
def test_termination_signals_stop_like_ctrl_c(model, fast_model, tmp_path, signum, jobs, whole_group, engine):
    """`timeout`, `kill`, systemd and docker: one line, exit 128 + signal, no temporary file, no worker left.

    One job on the portable engine; Ctrl-C in test_errors covers one job on scikit-learn."""
    process, output = start_long_predict(fast_model if engine == "portable" else model, tmp_path, jobs, engine)
    workers = children(process.pid)
    (os.killpg if whole_group else os.kill)(process.pid, signum)
    stderr = process.communicate(timeout=120)[1]
    assert process.returncode == 128 + signum
    assert stderr == f"Error: stopped by {signal.Signals(signum).name}; no output file was left behind\n"
    assert not output.exists() and no_temporaries(tmp_path)
    wait_for(lambda: not [pid for pid in workers if _running(pid)], "the workers to exit")


@linux_only("/proc to find the worker processes")
def test_under_nohup_a_hangup_leaves_the_run_and_its_workers_going(model, tmp_path):
    """nohup ignores SIGHUP so that closing the terminal leaves a run going: the script took the signal over and
    stopped (`stopped by SIGHUP`, exit 129), and its workers, reset to the default, died of it."""
    lines = 40_000
    process, output = start_long_predict(model, tmp_path, "2", engine="sklearn", lines=lines, nohup=True)
    workers = children(process.pid)
    os.killpg(process.pid, signal.SIGHUP)  # what a closed terminal sends its session's jobs
    stderr = process.communicate(timeout=120)[1]
    assert process.returncode == 0, stderr
    assert len(output.read_text().splitlines()) == lines
    assert len(workers) == 2


def _running(pid: int) -> bool:
    """Alive and not a zombie (its parent has ended, so no one may reap it yet)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@linux_only("/proc to find the worker processes")
def test_a_dead_worker_ends_the_run_with_one_line(model, tmp_path):
    process, output = start_long_predict(model, tmp_path, "2")
    workers = children(process.pid)
    assert len(workers) == 2
    os.kill(workers[0], signal.SIGKILL)
    stderr = process.communicate(timeout=120)[1]
    assert process.returncode == 1
    assert stderr.startswith("Error: a worker process died") and len(stderr.splitlines()) == 1
    assert not output.exists() and no_temporaries(tmp_path)


# The pool's thread, reading a chunk's result, waits forever for more, as it waits for the rest of a chunk whose
# worker was killed while it sent it; with "kill", it kills the workers first. With "block", the main thread then
# blocks SIGTERM, so that the kernel hands a SIGTERM to one of the pool's threads. The console script runs as
# installed.
_STUCK_POOL = """
import multiprocessing, signal, sys, threading
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.connection import Connection
how = sys.argv.pop(1)
def stuck(connection):
    for worker in multiprocessing.active_children() if how == "kill" else ():
        worker.kill()
    threading.Event().wait()
Connection.recv = stuck
submit = ProcessPoolExecutor.submit
def submit_then_block(*args, **kwargs):
    future = submit(*args, **kwargs)  # the pool's threads start at the first, with SIGTERM open
    if how == "block":
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    return future
ProcessPoolExecutor.submit = submit_then_block
from pipeline.process import main
sys.argv[0] = "bpo-kpo"
main()
"""


@contextlib.contextmanager
def stuck_pool(how: str, model, folder: Path):
    """predict --jobs 2 on a pool made stuck (see _STUCK_POOL); killed when the test ends, however it ends: a run
    that hangs, or a wait of the test's that fails first, must not outlive it."""
    source, output = folder / "jobs.txt", folder / "out.jsonl"
    source.write_text(LONG_INPUT_LINE * 5_000)
    command = [sys.executable, "-c", _STUCK_POOL, how, "predict", "--model", model, "--input", source,
               "--output", output, "--jobs", "2", "--engine", "sklearn"]  # fmt: skip
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        yield process, output
    finally:
        process.kill()
        process.wait()


@linux_only("SIGKILL and a forked pool")
def test_a_worker_killed_while_it_sends_a_chunk_ends_the_run(model, tmp_path):
    """The pool's own thread then waits forever for the rest of the chunk and never says the pool is broken: the
    run hung, where it must end as for any dead worker."""
    with stuck_pool("kill", model, tmp_path) as (process, output):
        stderr = process.communicate(timeout=60)[1]
    assert process.returncode == 1, stderr
    assert stderr.startswith("Error: a worker process died") and len(stderr.splitlines()) == 1
    assert not output.exists() and no_temporaries(tmp_path)


@linux_only("/proc to find the worker processes")
def test_a_termination_signal_that_reaches_another_thread_still_stops_the_run(model, tmp_path):
    """A process's signal goes to any of its threads that takes it. When a pool's thread took it, the main thread
    slept on until a chunk came back: with the pool stuck, a `kill` on the run's process group once hung it."""
    with stuck_pool("block", model, tmp_path) as (process, output):
        wait_for(lambda: len(children(process.pid)) == 2, "the workers to start", process)
        workers = children(process.pid)

        def waiting() -> bool:  # SIGTERM blocked in the main thread, asleep on the first chunk
            asleep = Path(f"/proc/{process.pid}/stat").read_text().split(")")[-1].split()[0] == "S"
            return asleep and has_signal(signal_mask(process.pid, "SigBlk"), signal.SIGTERM)

        wait_for(waiting, "the main thread to wait with SIGTERM blocked", process)
        os.kill(process.pid, signal.SIGTERM)
        stderr = process.communicate(timeout=60)[1]
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert stderr == "Error: stopped by SIGTERM; no output file was left behind\n"
    assert not output.exists() and no_temporaries(tmp_path)
    wait_for(lambda: not [pid for pid in workers if _running(pid)], "the workers to exit")


@pytest.mark.parametrize("jobs", ["99999999999999999999", str(4 * (os.cpu_count() or 1) + 1), "0", "-2", "many"])
@pytest.mark.parametrize("command", ["predict", "train", "tune", "report"])
def test_jobs_is_capped_at_four_per_core(command, jobs):
    result = run(command, "--jobs", jobs, *(["x"] if command == "predict" else []))
    assert_one_error_line(result, 2, r"Invalid value for '--jobs'")


@linux_only("/proc to see when the script handles signals")
@pytest.mark.parametrize("delay", [0.0, 0.02, 0.05, 0.1, 0.2, 0.5, 1.5])
def test_ctrl_c_while_starting_prints_one_line(model, delay):
    """Ctrl-C at any moment after the project's first line runs, imports of scikit-learn included, ends in one
    line and exit 130. (Before that, Python itself is starting up: its own start-up is not the project's.)"""
    # Reading a stdin that never ends: the run is still going whenever the signal comes.
    process = start_script("predict", "--model", model, "--input", "-", stdin=subprocess.PIPE,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
    # The script catches SIGTERM from its first lines on: from then, the project's code runs.
    wait_for(lambda: has_signal(signal_mask(process.pid, "SigCgt"), signal.SIGTERM), "the script to start", process)
    time.sleep(delay)  # the moment of the Ctrl-C, not a wait for readiness
    process.send_signal(signal.SIGINT)
    stderr = process.communicate(timeout=120)[1]
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert (process.returncode, stderr) == (130, "Error: interrupted; no output file was left behind\n"), stderr


@linux_only("/proc to see when the script handles signals")
def test_ctrl_c_before_scoring_starts_leaves_an_output_file_that_was_there_as_it_was(model, tmp_path):
    """The message said no output file was left behind while the model loaded or the first chunk was read."""
    output = tmp_path / "out.csv"
    output.write_text("old\n")
    process = start_script("predict", "--model", model, "--input", "-", "--output", output, stdin=subprocess.PIPE,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
    wait_for(lambda: has_signal(signal_mask(process.pid, "SigCgt"), signal.SIGTERM), "the script to start", process)
    time.sleep(0.5)  # the moment of the Ctrl-C, reading a stdin that never ends: not a wait for readiness
    process.send_signal(signal.SIGINT)
    stderr = process.communicate(timeout=120)[1]
    assert (process.returncode, stderr) == (130, f"Error: interrupted; {output} was left as it was\n")
    assert output.read_text() == "old\n"


@pytest.mark.parametrize("args", [("predict", "--threshold", "0.5", "x"), ("--version",)])
def test_ctrl_c_while_the_options_are_parsed_prints_one_line(args, monkeypatch):
    """The moment the test above hits only sometimes: click's own main wrote a blank line before the message."""
    import click

    def interrupted(self, ctx, value):
        raise KeyboardInterrupt

    monkeypatch.setattr(click.Parameter, "process_value", interrupted)
    result = run(*args)
    assert (result.returncode, result.stdout, result.stderr) == (
        130,
        "",
        "Error: interrupted; no output file was left behind\n",
    )


def test_help_into_a_closed_pipe_ends_quietly():
    # --help is written while click parses the options, before any command runs; the reader is gone already.
    reader, writer = os.pipe()
    os.close(reader)
    try:
        result = subprocess.run([SCRIPT, "--help"], stdout=writer, stderr=subprocess.PIPE, text=True,
                                timeout=120)  # fmt: skip
    finally:
        os.close(writer)
    assert (result.returncode, result.stderr) == (0, "")


def shell(command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, shell=True, capture_output=True, text=True, timeout=120)


def test_closed_stderr_does_not_stop_the_run(fast_model):
    result = shell(f'"{SCRIPT}" predict --model "{fast_model}" --format jsonl "Answer calls" 2>&-')
    assert result.returncode == 0
    assert jsonl(result.stdout)[0]["id"] == "1"


def test_closed_stdout_and_stdin_are_named(model):
    closed_stdout = shell(f'"{SCRIPT}" predict --model "{model}" "Answer calls" >&-')
    assert_one_error_line(closed_stdout, 1, r"standard output is closed; write the results to a file with --output")
    closed_stdin = shell(f'"{SCRIPT}" predict --model "{model}" --input - --format jsonl <&-')
    assert_one_error_line(closed_stdin, 1, r"standard input is closed; pipe postings in, or pass --input FILE")
    # evaluate's report went into the /dev/null standing in for the closed stdout, with exit 0.
    closed_report = shell(f'"{SCRIPT}" evaluate --model "{model}" --data "{config.FIELD_PATH}" --format json >&-')
    assert_one_error_line(closed_report, 1, r"standard output is closed; write the metrics to a file with --output")


@pytest.mark.parametrize("args", ["--version", "--help", "predict -h"])
def test_help_and_version_with_standard_output_closed_say_so(args):
    """`--version >&-` and `--help >&-` ended with exit 0 and not a word: click's echo dropped the text."""
    closed = shell(f'"{SCRIPT}" {args} >&-')
    option = args.split()[-1]
    what = "the version" if option == "--version" else "the help"
    message = f"Error: standard output is closed; {option} writes {what} there: run it with standard output open\n"
    assert (closed.returncode, closed.stdout, closed.stderr) == (1, "", message)


@pytest.mark.parametrize("name", ["/dev/stdout", "/dev/fd/1"])
def test_a_closed_standard_output_named_as_the_output_is_named(fast_model, name):
    """`--output /dev/stdout >&-` wrote the results into the /dev/null that stands in for the closed descriptor,
    and said it had written them, with exit 0."""
    closed = shell(f'"{SCRIPT}" predict --model "{fast_model}" --output {name} "Answer calls" >&-')
    assert_one_error_line(closed, 1, rf"{name} is standard output, which is closed; give a file name")
    assert "wrote" not in closed.stderr


# -- 7-10: reading input ----------------------------------------------------------------------------------------
def scores(result) -> dict:
    assert result.returncode == 0, result.stderr
    return {row["id"]: row["p_kpo"] for row in jsonl(result.stdout)}


def test_csv_with_a_trailing_separator_scores_the_right_column(model, tmp_path):
    texts = ["Answer inbound calls in a contact centre", "Build credit-risk models in Python"]
    path = tmp_path / "export.csv"
    path.write_text("id,text\n" + "".join(f"J{i},{t},\n" for i, t in enumerate(texts)))
    by_file = scores(run("predict", "--model", model, "--input", path, "--id-column", "id", "--format", "jsonl"))
    by_argument = scores(run("predict", "--model", model, "--format", "jsonl", *texts))
    assert list(by_file) == ["J0", "J1"]
    assert list(by_file.values()) == list(by_argument.values())
    # Two and more: separators after the last field in every row, or blank columns after the header's names, as
    # Excel exports a sheet with empty columns. The rows were refused as fields beyond the header, the header as
    # repeating the column name ''.
    # Blank names over rows that end in more separators still: two '' names reached pandas, `Duplicate names`.
    for header, end in (("id;text", ";;"), ("id;text", ";;;"), ("\ufeffid;text;;", ";;"), ("id;text;;;", ""),
                        ("id;text;;", ";;;"), ("id;text; ; ", ";;;;")):  # fmt: skip
        path.write_text(f"{header}\r\n" + "".join(f"J{i};{t}{end}\r\n" for i, t in enumerate(texts)))
        wide = scores(run("predict", "--model", model, "--input", path, "--id-column", "id", "--format", "jsonl"))
        assert wide == by_file, (header, end)
    path.write_text("id;text\nJ0;Answer calls;;\nJ1;Do research;;surplus\n")
    assert_one_error_line(run("predict", "--model", model, "--input", path), 1,
                          r"export\.csv data row 2 has a field beyond the 2 the header names")  # fmt: skip


@pytest.mark.parametrize(
    ("content", "pattern"),
    [("id,text\n1,Answer calls,surplus\n", r"line 2 has 3 fields but the header names 2"),
     ("id,text\n1,Answer calls,\n2,Do research,surplus\n", r"data row 2 has a field beyond the 2 the header names"),
     ("id,text\n1,Answer calls\n2,Do research,surplus\n", r"export\.csv line 3 has 3 fields but the header names 2"),
     # pandas counts records ("line 4"): the quoted line breaks above put the bad row on line 7, and blank lines
     # count as lines.
     ('id,text\nA,"Answer calls\nand log\ntickets"\nB,"Advise\non tax"\n\nC,Review,surplus\nD,x\n',
      r"export\.csv line 8 has 3 fields but the header names 2; fix the header or the row$"),
     # The first record checked on its first line alone: a quoted line break or a blank line above it hid its extra
     # field, and pandas dropped the extra field of every row with a warning, scoring the wrong text (exit 0).
     ('id,title,text\n1,"Data\nScientist",Build models, and advise the board\n2,Agent,Answer calls\n',
      r"export\.csv line 2 has 4 fields but the header names 3 \(a quote that opens on that line runs the row on "
      r"to line 3\)"),
     ("id,title,text\n\n1,Scientist,Build models, and advise the board\n", r"export\.csv line 3 has 4 fields"),
     ('id,title,text\n1,Agent,"Answer calls\nand log tickets",\n2,Data, Scientist,Build models\n',
      r"data row 2 has a field beyond the 3 the header names"),
     # Named by the line a later record starts on, not the one it ends on: a quote left open on line 3, closed on
     # line 4 before a separator, was put on line 4, a well-formed row.
     ('id,text\nA,Answer calls\nB,"Process invoices in SAP\nC,Mount 24",27" monitors\nD,Draft contracts\n',
      r"export\.csv line 3 has 3 fields but the header names 2 \(a quote that opens on that line runs the row on to "
      r"line 4\); fix the header or the row$"),
     ('id,text\nA,Answer calls\nB,"Advise\non tax",surplus\nC,x\n', r"export\.csv line 3 has 3 fields but the header "
      r"names 2 \(a quote that opens on that line runs the row on to line 4\); fix the header or the row$")],
    ids=["first-row", "later-row-after-trailing-separators", "later-row", "after-quoted-line-breaks",
         "first-record-over-two-lines", "first-record-below-a-blank-line", "trailing-separator-over-two-lines",
         "later-record-run-on-by-a-quote-left-open", "later-record-over-two-lines"],
)  # fmt: skip
def test_csv_fields_beyond_the_header_stop_with_the_line(model, tmp_path, content, pattern):
    path = tmp_path / "export.csv"
    path.write_text(content)
    assert_one_error_line(run("predict", "--model", model, "--input", path, "--id-column", "id"), 1, pattern)
    # Compressed, the file is read again through its decompressor to find the line.
    packed = tmp_path / "export.csv.gz"
    packed.write_bytes(gzip.compress(content.encode()))
    assert_one_error_line(run("predict", "--model", model, "--input", packed), 1, pattern.replace(".csv", ".csv.gz"))


@pytest.mark.parametrize("separator", [",", "\t"])
def test_a_quote_inside_an_unquoted_field_of_the_first_row_is_a_character(model, tmp_path, separator):
    """Quotes counted to find the first record's end read the inch mark of `24" monitor` as an open quoted field and
    refused the file ("a line break (CR) inside a field"); only a quote at a field's start opens one."""
    rows = [["id", "title", "text"], ["1", '24" monitor', "Set up monitors for new starters"],
            ["2", "Analyst", "Develop valuation models"]]  # fmt: skip
    path = tmp_path / "export.csv"
    path.write_text("".join(separator.join(row) + "\n" for row in rows))
    result = run("predict", "--model", model, "--input", path, "--format", "jsonl", "--keep-column", "title")
    assert result.returncode == 0, result.stderr
    assert [(row["id"], row["title"]) for row in jsonl(result.stdout)] == [("1", '24" monitor'), ("2", "Analyst")]


def test_a_quoted_column_name_may_break_over_lines(model, tmp_path):
    """A spreadsheet's header cell may hold a line break ("Job<line break>ref"). Read on its first line alone, a
    header whose first name broke so named one column, and the next line was refused as a row of two fields."""
    path = tmp_path / "export.csv"
    path.write_text('"Job\nref",text\nJ-1,Answer inbound calls\nJ-2,"Build models\nin Python"\n')
    result = run("predict", "--model", model, "--input", path, "--format", "jsonl", "--id-column", "Job\nref")
    assert result.returncode == 0, result.stderr
    assert [row["id"] for row in jsonl(result.stdout)] == ["J-1", "J-2"]
    path.write_text('"Job\nref",text\nJ-1,Answer calls,surplus\n')  # its rows are counted from the line below it
    too_many = r"export\.csv line 3 has 3 fields but the header names 2; fix the header or the row$"
    assert_one_error_line(run("predict", "--model", model, "--input", path), 1, too_many)


def test_a_malformed_row_piped_in_is_named_by_its_record():
    """Stdin cannot be read again to find the line: the record is named as pandas counts it."""
    content = 'id,text\nA,"Answer calls\nand log tickets"\nB,Review,surplus\n'
    piped = run("predict", "-", "--input-format", "csv", stdin=content)
    pattern = r"standard input record 3 \(the header is record 1; quoted line breaks do not count\) has 3 fields"
    assert_one_error_line(piped, 1, pattern + " but the header names 2; fix the header or the row$")


@pytest.mark.parametrize(("content", "rows"), [("a\rb\rc\r", 3), ("a\r\nb\r\n", 2), ("a\rb\nc\r\nd", 4)])
def test_txt_lone_cr_ends_a_line(model, content, rows):
    result = run("predict", "--model", model, "--input", "-", "--format", "jsonl", stdin=content.encode())
    assert [r["id"] for r in jsonl(result.stdout)] == [str(i + 1) for i in range(rows)]
    assert not any(r["error"] for r in jsonl(result.stdout))


def test_a_csv_whose_lines_end_in_a_lone_cr_is_read_row_by_row(model, tmp_path):
    """Excel for Mac's "CSV (Macintosh)" ends lines in a lone CR, and its in-cell breaks are LF: the whole file was
    read as one header line, and predict and evaluate stopped on Python's csv error, marked "unexpected"."""
    path = tmp_path / "mac.csv"
    path.write_text('id,text,label\r7,"Answer inbound calls\nfrom customers",BPO\r9,Draft merger agreements,KPO\r',
                    newline="")  # fmt: skip
    rows = jsonl(run("predict", "--model", model, "--input", path, "--format", "jsonl").stdout)
    assert [(r["id"], r["error"]) for r in rows] == [("7", None), ("9", None)]
    report = json.loads(run("evaluate", "--model", model, "--data", path, "--format", "json").stdout)
    assert report[str(path)]["n"] == 2


@pytest.mark.parametrize("line_end", ["\n", "\r\n"])
@pytest.mark.parametrize("source", ["file", "stdin"])
def test_a_lone_cr_inside_a_row_of_lf_lines_is_a_character_of_its_field(model, tmp_path, line_end, source):
    """pandas ended a row at it: "3,Answer calls<CR>with CSAT targets" came out as two rows, the second with "with
    CSAT targets" for its id, and predict said nothing (exit 0). One row out for each row in, the CR kept in its
    cell, deep in a file too, two in a row, and beside noncharacters the input holds itself (U+FFFF, U+FFFE), which
    must come out as they went in."""
    middle = [f"{i},Process supplier invoices,x" for i in range(3, 5000)]
    rows = ["1,Answer inbound calls,a\ufffeb", "2,Answer calls\rwith CSAT targets,a\rb\uffff\ufffe",
            *middle, "5000,Build credit risk\r\rmodels,y\rz"]  # fmt: skip
    content = "id,text,note\uffff" + line_end + line_end.join(rows) + line_end
    args = ("predict", "--model", model, "--format", "jsonl", "--keep-column", "note\uffff", "--chunk-size", "700")
    if source == "file":
        path = tmp_path / "stray.csv"
        path.write_bytes(content.encode())
        result = run(*args, "--input", path)
    else:
        result = run(*args, "-", "--input-format", "csv", stdin=content.encode())
    assert result.returncode == 0, result.stderr
    out = jsonl(result.stdout)
    assert [row["id"] for row in out] == ["1", "2", *(str(i) for i in range(3, 5001))]
    notes = [row["note\uffff"] for row in out]
    assert (notes[0], notes[1], notes[-1]) == ("a\ufffeb", "a\rb\uffff\ufffe", "y\rz")
    assert not any(row["error"] for row in out)


def test_stray_crs_in_the_first_row_are_refused_and_cr_cr_lf_ends_lines(model, tmp_path):
    """In the first data row, lone CRs are line ends more likely than characters: rows of CR lines below a header
    of LF were read as one posting (four postings in, one row out, exit 0). CR CR LF, as Python's csv module writes
    on Windows, ends a line: its first CR was read as a stray one, and the header refused."""
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"text\nAnswer customer calls\rData entry of invoices\rBuild credit risk models\r")
    assert_one_error_line(run("predict", "--model", model, "--input", path), 1,
                          r"mixed\.csv line 2 has a line break \(CR\) inside a field that is not quoted")  # fmt: skip
    path.write_bytes(b"id,text,label\r\r\n1,Answer customer calls,BPO\r\r\n2,Build credit risk models,KPO\r\r\n")
    scored = run("predict", "--model", model, "--input", path, "--format", "jsonl")
    assert [(row["id"], row["label"]) for row in jsonl(scored.stdout)] == [("1", "BPO"), ("2", "KPO")], scored.stderr
    evaluated = run("evaluate", "--model", model, "--data", path, "--format", "json")
    assert json.loads(evaluated.stdout)[str(path)]["n"] == 2, evaluated.stderr
    # JSON lines piped to evaluate, whose format is told from the first line: a CR between tokens is JSON's space.
    piped = (
        b'{"text": "Answer customer calls", "label": "BPO"}\n{"text": "Build credit risk models",\r"label": "KPO"}\n'
    )
    from_stdin = run("evaluate", "--model", model, "--data", "-", "--format", "json", stdin=piped)
    assert json.loads(from_stdin.stdout)["standard input"]["n"] == 2, from_stdin.stderr


@pytest.mark.parametrize(
    "content",
    ["id,text,no\rte\n1,foo,x\n2,bar,y\n", "id,te\rxt\n1,foo\n2,bar\n", "id,text,no\rte\r\n1,foo,x\r\n2,bar,y\r\n",
     # A quote inside an unquoted field (an inch mark) opens no quoted field; one row and no last line end.
     'id,text,no\rte\n1,24" monitor support,x\n2,bar,y\n', "id,text,no\rte\n1,customer service agent,x"],
    ids=["lf", "lf-text-column", "crlf", "inch-mark", "one-row"],
)  # fmt: skip
def test_a_lone_cr_in_the_header_of_a_file_of_lf_lines_is_named(model, tmp_path, content):
    """The header's CR was taken for the file's line end: the header was cut there and its rest scored as a row
    (three rows out for two in, exit 0), or the column it cut was said to be missing; in a file of CR LF lines too."""
    path = tmp_path / "cr.csv"
    path.write_text(content, newline="")
    for command in (("predict", "--input"), ("evaluate", "--data")):
        assert_one_error_line(run(*command, path, "--model", model), 1,
                              r"cr\.csv line 1 has a line break \(CR\) inside a field that is not quoted")  # fmt: skip


def test_a_mac_csv_whose_cells_break_more_often_than_its_rows_is_read_row_by_row(model, tmp_path):
    """Postings break their lines (bullets) more often than a file has rows: Excel for Mac's LF breaks, in quotes,
    outnumbered its lone-CR line ends, and counted with them the file was refused as a stray CR in a field."""
    path = tmp_path / "mac.csv"
    rows = ('1,"Customer service agent\nAnswer inbound calls\nLog tickets",BPO\r'
            '2,"Financial analyst\nBuild valuation models\nWrite equity research",KPO\r'
            '3,Support for 24" monitors,BPO\r')  # fmt: skip
    path.write_text("id,text,label\r" + rows, newline="")
    rows = jsonl(run("predict", "--model", model, "--input", path, "--format", "jsonl").stdout)
    assert [(r["id"], r["error"]) for r in rows] == [("1", None), ("2", None), ("3", None)]
    assert json.loads(run("evaluate", "--model", model, "--data", path, "--format", "json").stdout)[str(path)]["n"] == 3


def test_a_byte_order_mark_opening_a_json_line_is_dropped(model, tmp_path):
    """`cat a.jsonl b.jsonl` of two files saved as UTF-8 with a BOM puts one at the start of line 2, which stopped
    the run: 'line 2 is not valid JSON: Unexpected UTF-8 BOM'."""
    path = tmp_path / "all.jsonl"
    path.write_text('\ufeff{"id": "a", "text": "Answer calls"}\n\ufeff{"id": "b", "text": "Draft contracts"}\n')
    rows = jsonl(run("predict", "--model", model, "--input", path, "--format", "jsonl").stdout)
    assert [(r["id"], r["error"]) for r in rows] == [("a", None), ("b", None)]


@pytest.mark.parametrize("output_format", ["jsonl", "csv"])
def test_half_a_surrogate_pair_in_json_lines_is_read_as_a_replacement_character(model, tmp_path, output_format):
    """A JSON escape can spell half a UTF-16 pair (a text cut by UTF-16 length, as JavaScript's slice cuts it): in
    an id it stopped the output with "unexpected UnicodeEncodeError: ... surrogates not allowed". It reads as
    U+FFFD, as a decoder reads a broken byte; a whole pair is its character."""
    path = tmp_path / "cut.jsonl"
    path.write_text('{"id": "a\\ud800b", "text": "Answer customer calls \\ud83d"}\n'
                    '{"id": "\\ud83d\\ude00", "text": "Draft contracts for clients"}\n')  # fmt: skip
    result = run("predict", "--model", model, "--input", path, "--format", output_format)
    assert result.returncode == 0, result.stderr
    rows = jsonl(result.stdout) if output_format == "jsonl" else list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["id"] for row in rows] == ["a\ufffdb", "\U0001f600"]
    assert [row["label"] for row in rows] == ["BPO", "KPO"]
    labelled = tmp_path / "labelled.jsonl"
    labelled.write_text('{"text": "Answer customer calls \\udc00", "label": "BPO", "area": "x\\ud800"}\n')
    evaluated = run("evaluate", "--model", model, "--data", labelled, "--by", "area", "--format", "json")
    assert evaluated.returncode == 0 and "\\ufffd" in evaluated.stdout, evaluated.stderr


def test_a_labelled_posting_without_a_label_is_named(model, tmp_path):
    """A JSON null label stopped evaluate with "unexpected TypeError" (it was sorted beside the labels given), and an
    empty cell was called a label outside BPO, KPO, NEITHER: ''."""
    lines = tmp_path / "labelled.jsonl"
    lines.write_text('{"text": "Answer calls", "label": "BPO"}\n{"text": "Draft contracts", "label": null}\n')
    table = tmp_path / "labelled.csv"
    table.write_text("text,label\nAnswer calls,BPO\nDraft contracts, \nDo research,KPO\n")
    message = r"{} has postings without a label \(data rows 2\); label each BPO, KPO or NEITHER, or remove it"
    assert_one_error_line(run("evaluate", "--model", model, "--data", lines), 1, message.format("labelled.jsonl"))
    assert_one_error_line(run("train", "--data", table, "--model", tmp_path / "m.joblib"), 1,
                          message.format("labelled.csv"))  # fmt: skip


def test_evaluate_reads_a_files_flags_and_blank_slices_as_the_projects_own(model, tmp_path):
    """A borderline flag written "false" or "no" in a file of one's own is text, and non-empty text is true: every
    posting was counted borderline in form_clarity, and --by borderline listed each spelling as a slice. A JSON null
    slice value stopped the run with "unexpected TypeError"."""
    table = tmp_path / "own.csv"
    table.write_text("text,label,form,borderline\nAnswer calls from customers,BPO,ad,false\n"
                     "Draft contracts for clients,KPO,ad,No\nProcess payroll for staff,BPO,ad,yes\n")  # fmt: skip
    slices = json.loads(run("evaluate", "--model", model, "--data", table, "--by", "form_clarity", "--by", "borderline",
                            "--format", "json").stdout)[str(table)]["slices"]  # fmt: skip
    assert {k: v["n"] for k, v in slices["form_clarity"].items()} == {"ad / borderline": 1, "ad / clear": 2}
    assert {k: v["n"] for k, v in slices["borderline"].items()} == {"True": 1, "False": 2}
    lines = tmp_path / "own.jsonl"
    lines.write_text('{"text": "Answer calls from customers", "label": "BPO", "area": null}\n'
                     '{"text": "Draft contracts for clients", "label": "KPO", "area": "law"}\n')  # fmt: skip
    slices = json.loads(run("evaluate", "--model", model, "--data", lines, "--by", "area", "--format", "json").stdout)
    assert {k: v["n"] for k, v in slices[str(lines)]["slices"]["area"].items()} == {config.SLICE_NOT_GIVEN: 1, "law": 1}


@pytest.mark.parametrize("engine", ["portable", "sklearn"])
def test_json_lines_out_hold_one_record_per_line_however_lines_are_split(fast_model, tmp_path, engine):
    """JSON allows U+2028, U+2029 and U+0085 raw in a string, but str.splitlines and older JavaScript end a line at
    them: an id holding one came out as a record cut in two."""
    ids = ["a\u2028b", "c\u2029d", "e\x85f"]
    path = tmp_path / "odd-ids.jsonl"
    path.write_text("".join(json.dumps({"id": i, "text": "Answer calls"}) + "\n" for i in ids))
    result = run("predict", "--model", fast_model, "--engine", engine, "--input", path, "--format", "jsonl")
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ids


def test_a_posting_over_the_size_cap_gets_an_error_row(model, tmp_path):
    path = tmp_path / "long.txt"
    path.write_text("Answer calls\n" + "word " * 400 + "\nDo research\n")
    rows = jsonl(run("predict", "--model", model, "--input", path, "--max-text-chars", "1000", "--format",
                        "jsonl").stdout)  # fmt: skip
    assert [bool(r["error"]) for r in rows] == [False, True, False]
    assert "longer than 1,000 characters" in rows[1]["error"]
    # Stopping on it names the reason: it once said the row had no text.
    fail = run("predict", "--model", model, "--input", path, "--max-text-chars", "1000", "--on-error", "fail")
    assert_one_error_line(fail, 1, r"row 2 \(id 2\) cannot be scored: text longer than 1,000 characters")


def test_an_endless_line_ends_the_run(fast_model):
    """`tr '\\0' a </dev/zero | bpo-kpo predict --input -`: stopped with an error instead of reading forever."""
    process = subprocess.Popen([SCRIPT, "predict", "--model", fast_model, "--engine", "portable", "--input", "-",
                                "--max-text-chars", "1000"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip

    def feed():
        try:
            while process.poll() is None:
                process.stdin.write(b"a" * 65536)
        except (BrokenPipeError, ValueError):
            pass

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    stderr = process.stderr.read()  # communicate() would close stdin: an end of input the test must not give
    stdout = process.stdout.read()
    process.wait(timeout=120)
    result = subprocess.CompletedProcess([], process.returncode, stdout.decode(), stderr.decode())
    assert_one_error_line(result, 1, r"standard input line 1 runs past 16,000 characters before any line end")


@pytest.mark.parametrize(
    ("raw", "rendered"),
    [("null", "null"), ("true", "true"), ("1e400", "1e400"), ("12", "12"), ("1.50", "1.50"), ('"A-1"', "A-1"),
     ("[1, 2]", "[1,2]"), ('{"a": null}', '{"a":null}'), ("9" * 5000, "9" * 5000)],
)  # fmt: skip
def test_jsonl_ids_are_rendered_as_json(model, tmp_path, raw, rendered):
    path = tmp_path / "ids.jsonl"
    path.write_text(f'{{"ref": {raw}, "text": "Answer calls"}}\n')
    result = run("predict", "--model", model, "--input", path, "--id-column", "ref", "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    assert jsonl(result.stdout)[0]["id"] == rendered


# -- 11-12: numbers ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args",
    [["predict", "--threshold", "nan", "x"], ["predict", "--threshold", "inf", "x"],
     ["predict", "--review-band", "nan", "x"], ["predict", "--review-band", "-inf", "x"],
     ["predict", "--scope-threshold", "nan", "x"],
     ["evaluate", "--min-macro-f1", "nan"], ["prepare", "--test-size", "nan"],
     ["prepare", "--borderline-share", "NaN"], ["train", "--c", "nan"], ["train", "--c", "inf"]],
)  # fmt: skip
def test_nan_and_infinity_are_usage_errors(args):
    result = run(*args)
    assert_one_error_line(result, 2, r"is not a finite number|not in the range")


@pytest.mark.parametrize(
    ("changes", "pattern"),
    [({"threshold": 5}, r"'threshold' must be a number from 0 to 1, not 5"),
     ({"threshold": "0.5"}, r"'threshold' must be a number from 0 to 1"),
     ({"review_band": 7}, r"'review_band' must be a number from 0 to 0.5, not 7"),
     ({"labels": ["KPO", "BPO", "X"]}, r"'labels' must be a list of the labels"),
     ({"versions": "1.0"}, r"'versions' must be an object"),
     ({"format": "exe"}, r"'format' must be one of joblib, skops"),
     # The version check advised `install scikit-learn==unknown`; a null scope rule loaded, then failed every call.
     ({"versions": {"numpy": "2.0"}}, r"'versions' must be an object of library versions, each a non-empty string, "
                                      r"that names scikit-learn's"),
     # A bad version was named by the whole object, cut mid-value; "banana" was advised as a version to install.
     ({"versions": {"scikit-learn": ""}}, r"'versions.scikit-learn' must be a version such as \"1.6.1\", not \"\""),
     ({"versions": {"scikit-learn": "banana"}}, r"'versions.scikit-learn' must be a version such as \"1.6.1\", "
                                                r"not \"banana\""),
     ({"versions": {"scikit-learn": 1.9}}, r"'versions.scikit-learn' must be a version such as \"1.6.1\", not 1.9;"),
     ({"versions": {"scikit-learn": "1.9.1", "bpo-kpo": None}}, r"'versions.bpo-kpo' must be a non-empty string, "
                                                                r"not null;"),
     ({"scope": {"min_words": None}}, r"'scope' must be an object whose min_words is a whole number"),
     ({"scope": {"min_known_share": "0.5"}}, r"'scope' must be an object"),
     ({"paired_model_sha256": 7}, r"'paired_model_sha256' must be a SHA-256 hex digest"),
     ({"metadata_digest_version": "2"}, r"'metadata_digest_version' must be 2"),
     ({"metadata_digest_version": 7}, r"written by a newer bpo-kpo \(metadata_digest_version 7; this one reads up to "
                                      r"2\): upgrade bpo-kpo to load it$")],
)  # fmt: skip
def test_decision_fields_are_range_checked_on_load(model_copy, changes, pattern):
    edit_metadata(str(model_copy), resign=True, **changes)
    # Each asks for a retrain, but metadata from a newer bpo-kpo, which a retrain with this one cannot read.
    expected = pattern if pattern.endswith("$") else pattern + r".*retrain"
    assert_one_error_line(run("predict", "--model", model_copy, "Answer calls"), 1, expected)


def test_export_of_metadata_without_the_model_files_name(model_copy):
    """Every load check passed, then export stopped with `unexpected KeyError: 'model_file'`."""
    from pipeline.model import metadata_path

    meta = json.loads(metadata_path(model_copy).read_text())
    del meta["model_file"]
    metadata_path(model_copy).write_text(json.dumps(resigned(meta)))
    result = run("export", "--model", model_copy)
    assert result.returncode == 0, result.stderr
    assert run("predict", "--model", model_copy, "--engine", "portable", "Answer calls").returncode == 0


@pytest.mark.parametrize("changes", [{"threshold": 0.99}, {"review_band": 0.5}, {"labels": ["KPO", "BPO"]}])
def test_decision_fields_edited_after_training_are_refused(model_copy, changes):
    edit_metadata(str(model_copy), resign=False, **changes)
    result = run("predict", "--model", model_copy, "Answer calls")
    assert_one_error_line(result, 1, r"model\.joblib\.json was changed after training.*metadata_sha256")


def test_the_digest_covers_the_scope_rules_and_pairing_since_version_2(model_copy):
    """A scope rule edited in the metadata (min_words 1000: every posting out of scope) was obeyed, and the pairing
    could be deleted; metadata written before version 2 still loads as it did."""
    from pipeline.metadata import DIGEST_VERSION

    edit_metadata(str(model_copy), resign=False, scope={"min_words": 1000, "min_known_share": 0.5})
    assert_one_error_line(run("predict", "--model", model_copy, "x"), 1, r"was changed after training")
    meta_path = metadata_path(model_copy)
    meta = json.loads(meta_path.read_text())
    del meta["scope"], meta[DIGEST_VERSION]  # back to the fields a version-1 digest covers, but not re-signed
    meta_path.write_text(json.dumps(meta))
    assert_one_error_line(run("predict", "--model", model_copy, "x"), 1, r"was changed after training")
    edit_metadata(str(model_copy), resign=True)  # as version 1 wrote it
    assert run("predict", "--model", model_copy, "x").returncode == 0


def test_an_edited_model_checksum_is_named_among_the_fields_the_digest_covers(model_copy):
    """The message listed the threshold, review band, labels, format, scope rules or pairing, though the field
    edited, the model checksum, is digested too."""
    from pipeline.metadata import DIGEST_VERSION

    edit_metadata(str(model_copy), resign=False, model_sha256="0" * 64)
    assert_one_error_line(
        run("predict", "--model", model_copy, "x"),
        1,
        r"model\.joblib\.json was changed after training: its threshold, review band, labels, format, model checksum "
        r"\(model_sha256\), scope rules, pairing or digest version do not match metadata_sha256; restore the file",
    )
    meta = json.loads(metadata_path(model_copy).read_text())
    # As version 1 wrote it: no scope rules or digest version, and a digest of fewer fields.
    meta.pop("scope", None)
    del meta[DIGEST_VERSION]
    metadata_path(model_copy).write_text(json.dumps(resigned(meta) | {"model_sha256": "1" * 64}))
    assert_one_error_line(
        run("predict", "--model", model_copy, "x"),
        1,
        r"was changed after training: its threshold, review band, labels, format or model checksum \(model_sha256\) "
        r"do not match metadata_sha256",
    )


def test_metadata_without_the_digest_asks_for_a_retrain(model_copy):
    meta_path = metadata_path(model_copy)
    meta = json.loads(meta_path.read_text())
    del meta[METADATA_DIGEST]
    meta_path.write_text(json.dumps(meta))
    assert_one_error_line(run("predict", "--model", model_copy, "x"), 1, r"lacks metadata_sha256.*retrain")


# -- 13-15: training data ---------------------------------------------------------------------------------------
def prepare_in_process(tmp_path, files: dict[str, str]):
    labelled = tmp_path / "labelled"
    labelled.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (labelled / name).write_text(content, encoding="utf-8")
    out = tmp_path / "out"
    (tmp_path / "nofield").mkdir(exist_ok=True)  # an empty folder: no field set, and no written postings
    # A dataset this small has sampling-noise skews the audit would stop on; reading the files is the point here.
    result = run("prepare", "--n-postings", "300", "--labelled", labelled, "--output-dir", out,
                 "--field", tmp_path / "nofield", "--written", tmp_path / "nofield", "--allow-shortcuts")  # fmt: skip
    return result, out


def user_texts(out: Path) -> set[str]:
    texts = set()
    for name in ("train.csv", "test.csv"):
        with open(out / name, encoding="utf-8") as handle:
            texts |= {row["text"] for row in csv.DictReader(handle) if row["source"] == config.SOURCE_USER}
    return texts


USER_TEXTS = [f"Unique user posting number {word} about quarterly tax filing" for word in
              ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf")]  # fmt: skip


def test_prepare_says_where_the_users_postings_went(tmp_path):
    """Deduplication and the leak guard once dropped a user's postings without a word."""
    copy = USER_TEXTS[0].upper() + "!"  # a near copy: the same words in other case and punctuation
    rows = [
        ("u1", USER_TEXTS[0], "BPO"),
        ("u2", USER_TEXTS[1], "KPO"),
        ("u3", copy, "BPO"),
        ("u4", USER_TEXTS[2], "KPO"),
    ]
    result, out = prepare_in_process(
        tmp_path, {"mine.csv": "id,text,label\n" + "".join(",".join(r) + "\n" for r in rows)}
    )
    assert result.returncode == 0, result.stderr
    placed = json.loads((out / "summary.json").read_text())["user_postings"]
    assert placed["read"] == 4 and placed["left_out"] == ["u3"]
    assert placed["train"] + placed["test"] == 3 == len(user_texts(out))
    assert (
        f"your postings in {tmp_path / 'labelled'}: 4 read; {placed['train']} in train, {placed['test']} in test; "
        "1 left out as near copies of another posting: u3" in result.stdout
    )


def test_one_labelled_file_may_stand_for_the_folder(tmp_path):
    mine = tmp_path / "mine.csv"
    mine.write_text(f"text,label\n{USER_TEXTS[0]},BPO\n{USER_TEXTS[1]},KPO\n", encoding="utf-8")
    (tmp_path / "nofield").mkdir()
    out = tmp_path / "out"
    result = run("prepare", "--n-postings", "300", "--labelled", mine, "--output-dir", out,
                 "--field", tmp_path / "nofield", "--written", tmp_path / "nofield", "--allow-shortcuts")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"your postings in {mine}: 2 read" in result.stdout
    assert {USER_TEXTS[0], USER_TEXTS[1]} == user_texts(out)


@pytest.mark.parametrize(
    ("option", "given", "message"),
    [
        ("--field", "missing", "does not exist"),  # a mistyped folder once gave an empty field set without a word
        ("--challenge", "file", "is a file: pass the folder that holds it"),
        ("--labelled", "missing", "does not exist"),
        ("--written", "missing", "does not exist"),
        ("--output-dir", "file", "exists and is not a folder"),  # it failed on mkdir, after building the data
    ],
)
def test_a_folder_named_on_the_command_line_must_be_one(tmp_path, option, given, message):
    path = tmp_path / given
    if given == "file":
        path.write_text("mine")
    result = run("prepare", "--n-postings", "300", option, path)
    assert result.returncode == 2 and result.stdout == ""
    assert f"Invalid value for {option}: {path} {message}" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ([given] if given == "file" else [])


def test_every_labelled_format_is_read_in_any_case(tmp_path):
    files = {
        "A.CSV": f"text,label\n{USER_TEXTS[0]},BPO\n",
        "b.tsv": f"text\tlabel\n{USER_TEXTS[1]}\tKPO\n",
        "c.json": json.dumps({"text": USER_TEXTS[2], "label": "BPO"}) + "\n",
        "d.ndjson": json.dumps({"text": USER_TEXTS[3], "label": "KPO"}) + "\n",
        "e.JSONL": json.dumps({"text": USER_TEXTS[4], "label": "KPO"}) + "\n",
        "f g.csv": f"text,label\n{USER_TEXTS[5]},BPO\n",
        "trailing.csv": f"text,label\n{USER_TEXTS[6]},KPO,\n",  # a trailing separator must not shift columns
        "README.md": "notes, not data\n",
        ".hidden": "ignored\n",
    }
    result, out = prepare_in_process(tmp_path, files)
    assert result.returncode == 0, result.stderr
    assert user_texts(out) == set(USER_TEXTS)


def test_train_and_tune_read_a_users_file_as_the_labelled_folder_is_read(tmp_path):
    """train --data and tune --data read a CSV with pandas' defaults: a TSV, or an export separated by ';', was a
    ragged table ('unexpected ParserError: ... Expected 6 fields'), and a file not in UTF-8 or cut inside a quoted
    field stopped with 'unexpected UnicodeDecodeError' or 'unexpected ParserError'."""
    import pandas as pd

    from pipeline.dataset import read_split

    frame = pd.DataFrame(
        {"text": [f"{text}, with a comma" for text in USER_TEXTS], "label": ["BPO", "KPO"] * 3 + ["BPO"]}
    )
    frame.to_csv(tmp_path / "mine.csv", index=False)
    frame.to_csv(tmp_path / "mine.tsv", sep="\t", index=False)
    frame.to_csv(tmp_path / "exported.csv", sep=";", index=False)
    frame.to_csv(tmp_path / "mine.csv.gz", index=False)
    expected = read_split(tmp_path / "mine.csv")
    assert expected["text"].tolist() == frame["text"].tolist()
    # UTF-16 with its byte order mark too, which names its encoding beyond doubt.
    frame.to_csv(tmp_path / "marked.csv", index=False, encoding="utf-16")
    for name in ("mine.tsv", "exported.csv", "mine.csv.gz", "marked.csv"):
        pd.testing.assert_frame_equal(read_split(tmp_path / name), expected)
    (tmp_path / "windows.csv").write_bytes("text,label\nDraft a caf\u00e9 lease \u2013 urgent,KPO\n".encode("cp1252"))
    (tmp_path / "utf16.csv").write_text("text,label\nAnswer calls,BPO\n", encoding="utf-16-le")
    (tmp_path / "cut.csv").write_text('text,label\n"Answer calls\nfrom customers,BPO\n')
    problems = {"windows.csv": r"windows\.csv is not valid utf-8-sig at byte 22 \(0xe9\); save it as UTF-8",
                "utf16.csv": r"utf16\.csv looks like UTF-16-LE text; save it as UTF-8",
                "cut.csv": r"cut\.csv data row 1 opens a quoted field that is never closed, so the rest of the "
                           r"input was read into it: close the quote"}  # fmt: skip
    for name, message in problems.items():
        for command in ("train", "tune"):
            result = run(command, "--data", tmp_path / name, "--output" if command == "tune" else "--model",
                         tmp_path / "out")  # fmt: skip
            assert_one_error_line(result, 1, message)


@pytest.mark.parametrize("label", ["KPO", "NEITHER"])
def test_a_label_whose_postings_share_one_group_is_named_before_any_fit(catalogue, tmp_path, label):
    """Cross-validation holds out whole groups: with every KPO posting of a user's file in one group, the fold that
    held it out learnt from BPO alone, and train stopped with "unexpected ValueError: This solver needs samples of at
    least 2 classes"; with every out-of-scope posting in one, it did so after fitting the BPO/KPO model."""
    from pipeline.generate import generate_postings

    frame = generate_postings(catalogue, 40, seed=4, n_out_of_scope=10)[["text", "label"]]
    frame["group"] = [label.lower() if row == label else f"own-{i}" for i, row in enumerate(frame["label"])]
    frame.to_csv(tmp_path / "mine.csv", index=False)
    name = {"KPO": "KPO", "NEITHER": r"out-of-scope \(NEITHER\)"}[label]
    message = (rf"every {name} posting \({(frame['label'] == label).sum()}\) is in one group \('{label.lower()}'\), "
               rf"and cross-validation holds out whole groups, so a fold would have none to learn from")  # fmt: skip
    result = run("train", "--data", tmp_path / "mine.csv", "--model", tmp_path / "m.joblib", "--cv-folds", "2")
    # Every scheme's folds are made before the line that says what it trains on, the scope model's too.
    assert_one_error_line(result, 1, message)
    assert "trained in" not in result.stderr and not (tmp_path / "m.joblib").exists()


def test_postings_that_all_share_one_group_are_named_before_any_fit(tmp_path):
    """Postings all in one group: cross-validation had one group to hold out, and train and tune stopped with
    "unexpected ValueError: Cannot have number of splits n_splits=2 greater than the number of groups: 1". (Texts
    that differ only in their digits, labelled both ways, are one text given two labels, refused before this.)"""
    rows = [f"r{i},Role {chr(97 + i) * 3},{'KPO' if i % 2 else 'BPO'},shared" for i in range(20)]
    (tmp_path / "refs.csv").write_text("id,text,label,group\n" + "\n".join(rows) + "\n")
    message = (
        r"Error: every posting \(20\) is in one group \('shared'\), and cross-validation holds out whole "
        r"groups, so it needs postings in at least 2: add postings in other groups \(the group column; without one, "
        r"near copies of a text share a group\)"
    )
    for command, output in (("train", tmp_path / "m.joblib"), ("tune", tmp_path / "tuning.json")):
        result = run(command, "--data", tmp_path / "refs.csv", "--model" if command == "train" else "--output", output)
        assert result.returncode == 1 and "unexpected" not in result.stderr, result.stderr
        assert re.fullmatch(message, result.stderr.splitlines()[-1]), result.stderr
        assert not output.exists()


@pytest.mark.parametrize("column", ["group", "form"])
def test_a_shift_scheme_that_cannot_split_the_data_stops_train_before_any_fit(tmp_path, column):
    """With areas, the folds that hold out role families or forms were made only after the calibration folds had
    been fitted: every posting in one group, or one form, stopped train after minutes, not before its first fit."""
    from pipeline.dataset import read_split

    frame = read_split(config.TRAIN_PATH).groupby("label").head(120).assign(**{column: "one"})
    frame.to_csv(tmp_path / "mine.csv", index=False)
    result = run("train", "--data", tmp_path / "mine.csv", "--model", tmp_path / "m.joblib")
    assert_one_error_line(result, 1, rf"every posting \(240\) is in one {column} \('one'\), and cross-validation holds "
                                     rf"out whole {column}s, so it needs postings in at least 2")  # fmt: skip
    assert not (tmp_path / "m.joblib").exists()


def test_too_few_out_of_scope_postings_for_the_folds_are_counted_before_any_fit(catalogue, tmp_path):
    """One out-of-scope posting among forty: the scope model's folds stopped with "unexpected ValueError: n_splits=2
    cannot be greater than the number of members in each class", after the BPO/KPO model was fitted."""
    from pipeline.generate import generate_postings

    generate_postings(catalogue, 40, seed=4, n_out_of_scope=1).to_csv(tmp_path / "mine.csv", index=False)
    result = run("train", "--data", tmp_path / "mine.csv", "--model", tmp_path / "m.joblib", "--cv-folds", "2")
    assert_one_error_line(result, 1, r"the scope model needs at least 2 out-of-scope \(NEITHER\) postings and 2 "
                                     r"BPO/KPO postings beside them, .*; the data gives it 1 and 3 ")  # fmt: skip
    assert not (tmp_path / "m.joblib").exists()


@pytest.mark.parametrize("name", ["postings.xlsx", "postings.txt", "postings"])
def test_other_files_in_the_labelled_folder_are_refused_by_name(tmp_path, name):
    result, _ = prepare_in_process(tmp_path, {name: "text,label\nx,BPO\n"})
    assert_one_error_line(result, 1, rf"{name}")


def test_a_folder_in_the_labelled_folder_is_refused_not_left_out(tmp_path):
    """Postings kept in batch folders (labelled/2025-01/) were left out of training without a word."""
    batch = tmp_path / "labelled" / "2025-01"
    batch.mkdir(parents=True)
    (batch / "mine.csv").write_text(f"text,label\n{USER_TEXTS[0]},BPO\n", encoding="utf-8")
    (tmp_path / "labelled" / ".checkpoints").mkdir()  # hidden: skipped, as hidden files are
    result, out = prepare_in_process(tmp_path, {})
    assert_one_error_line(result, 1, r"labelled/2025-01 is a folder, and only the files directly in .*labelled are "
                                     r"read: move its files up")  # fmt: skip
    assert not (out / "train.csv").exists()


@pytest.mark.parametrize(
    ("value", "shown"), [("null", "null"), ("12345", "12345"), ('["a", "b"]', r'\["a","b"\]'), ("true", "true")]
)
def test_labelled_texts_must_be_strings(tmp_path, value, shown):
    content = json.dumps({"text": "Answer calls", "label": "BPO"}) + f'\n{{"text": {value}, "label": "KPO"}}\n'
    result, _ = prepare_in_process(tmp_path, {"mine.jsonl": content})
    assert_one_error_line(result, 1, rf"mine\.jsonl line 2: 'text' must be a string, not {shown}")


def test_ids_repeated_across_files_or_taken_from_generated_postings_are_refused(tmp_path):
    across, _ = prepare_in_process(tmp_path / "a", {"one.csv": "id,text,label\nX1,Answer calls,BPO\n",
                                                    "two.csv": "id,text,label\nX1,Do research,KPO\n"})  # fmt: skip
    assert_one_error_line(across, 1, r"repeat ids: X1 \(one\.csv, two\.csv\)")
    generated, _ = prepare_in_process(tmp_path / "b", {"one.csv": "id,text,label\nsyn-42-000001,Answer calls,BPO\n"})
    assert_one_error_line(generated, 1, r"use ids of generated postings: syn-42-000001")
    same_stem, out = prepare_in_process(tmp_path / "c", {"m.csv": f"text,label\n{USER_TEXTS[0]},BPO\n",
                                                         "m.jsonl": json.dumps({"text": USER_TEXTS[1],
                                                                                "label": "KPO"}) + "\n"})  # fmt: skip
    assert same_stem.returncode == 0, same_stem.stderr
    assert user_texts(out) == set(USER_TEXTS[:2])


@pytest.fixture()
def make_project(tmp_path):
    """The Makefile with what `make data` looks at, in a folder of its own, its environment already installed."""
    root = copy_make_project(tmp_path / "project")
    (root / "data" / "processed").mkdir()
    stamp = root / ".venv" / ".installed"
    stamp.parent.mkdir()
    stamp.touch()
    past = time.time() - 1000
    for path in root.rglob("*"):
        os.utime(path, (past, past))
    os.utime(stamp, (past + 10, past + 10))
    return root


def make_would_prepare(root: Path) -> bool:
    result = subprocess.run(["make", "-n", f"PYTHON={sys.executable}", "data"], cwd=root, capture_output=True,
                            text=True, timeout=60, env=MAKE_ENV)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return "bpo-kpo prepare" in result.stdout


def pretend_prepared(root: Path) -> None:
    listing = (root / "data" / "processed" / ".raw-files").stat()
    summary = root / "data" / "processed" / "summary.json"
    summary.write_text("{}")
    os.utime(summary, ns=(listing.st_mtime_ns, listing.st_mtime_ns))


def test_make_sees_added_removed_and_edited_labelled_files_with_any_name(make_project):
    root, labelled = make_project, make_project / "data" / "raw" / "labelled"
    assert make_would_prepare(root)
    pretend_prepared(root)
    assert not make_would_prepare(root)
    (labelled / "my postings (v2).csv").write_text("text,label\nAnswer calls,BPO\n")
    assert make_would_prepare(root)
    pretend_prepared(root)
    assert not make_would_prepare(root)
    (labelled / "my postings (v2).csv").write_text("text,label\nAnswer calls,BPO\nDo research,KPO\n")
    assert make_would_prepare(root)
    pretend_prepared(root)
    (labelled / "my postings (v2).csv").unlink()
    assert make_would_prepare(root)


# -- 16-19: security --------------------------------------------------------------------------------------------
class _Touch:
    """Unpickling this creates a file: the stand-in for an attacker's code."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_pickle_named_skops_is_never_unpickled(model_copy, tmp_path):
    import pickle

    marker = tmp_path / "code-ran"
    evil = tmp_path / "model.skops"
    evil.write_bytes(pickle.dumps(_Touch(marker)))
    meta = json.loads(metadata_path(model_copy).read_text())
    meta |= {"format": "joblib", "model_file": evil.name, "model_sha256": sha256_file(evil)}
    metadata_path(evil).write_text(json.dumps(resigned(meta)))
    result = run("predict", "--model", evil, "Answer calls")
    assert_one_error_line(result, 1, r"model\.skops is named or recorded as a skops model but is not a skops \(zip\)")
    assert not marker.exists()


def test_a_pickle_recorded_as_skops_is_never_unpickled(model_copy, tmp_path):
    meta_path = metadata_path(model_copy)
    edit_metadata(str(model_copy), resign=True, format="skops")
    assert json.loads(meta_path.read_text())["format"] == "skops"
    result = run("predict", "--model", model_copy, "Answer calls")
    assert_one_error_line(result, 1, r"recorded as a skops model but is not a skops \(zip\) file")


def test_readme_says_what_the_checksum_protects_against():
    readme = (config.PROJECT_ROOT / "README.md").read_text()
    section = readme.split("What the checksum protects")[1].split("\n## ")[0]
    for promise in ("corruption", "swap", "do not protect", "skops", "read-only"):
        assert promise in section


def test_make_predict_passes_the_text_without_a_shell(fast_model, tmp_path):
    text = 'Pay $50k; `touch {m}` "; touch {m}; " $(touch {m}) \\ \' end'.format(m=tmp_path / "ran")
    recorder = tmp_path / "record"
    recorder.write_text(f"#!{sys.executable}\nimport json, sys\nopen({str(tmp_path / 'argv')!r}, 'w').write("
                        "json.dumps(sys.argv[1:]))\n")  # fmt: skip
    recorder.chmod(0o755)
    common = ["make", "-s", "-C", str(config.PROJECT_ROOT), "-o", fast_model, "predict", f"MODEL={fast_model}",
              f"TEXT={text}"]  # fmt: skip
    with checkout_make():
        recorded = subprocess.run([*common, f"CLI={recorder}"], capture_output=True, text=True, timeout=60,
                                  env=MAKE_ENV)  # fmt: skip
        real = subprocess.run(common, capture_output=True, text=True, timeout=120, env=MAKE_ENV)
    assert recorded.returncode == 0, recorded.stderr
    assert json.loads((tmp_path / "argv").read_text()) == ["predict", "--model", fast_model, "--", text]
    assert real.returncode == 0, real.stderr
    assert len(jsonl(real.stdout)) == 1
    assert not (tmp_path / "ran").exists()


def test_table_output_strips_control_characters(model, tmp_path):
    path = tmp_path / "hostile.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["id", "text"], ["\x1b[2J\x1b]0;pwned\x07", "\x1b]52;c;ZXZpbA==\x07Answer calls"],
                                      ["ok\x9b31m", "Do\x01 research \x1b[31m"],
                                      ["rtl\u202egpj.exe", "Audit \u2067the\u2069 accounts"]])  # fmt: skip
    result = run("predict", "--model", model, "--input", path, "--id-column", "id", "--format", "table")
    assert result.returncode == 0, result.stderr
    assert not any((ord(c) < 32 and c != "\n") or 0x7F <= ord(c) <= 0x9F for c in result.stdout)
    assert "Answer calls" in result.stdout and "ok31m" in result.stdout
    # A right-to-left override reversed the rest of the line on the terminal ("exe.jpg" for "gpj.exe").
    assert not set(result.stdout) & {"\u202e", "\u2067", "\u2069"} and "rtlgpj.exe" in result.stdout


def test_csv_output_neutralises_formula_ids_unless_asked_to_keep_them(model, tmp_path):
    # A tab first starts a formula too in some spreadsheets (OWASP's CSV injection list).
    ids = ['=HYPERLINK("http://x")', "+1+1", "-2", "@SUM(A1)", "\t=1+1", "plain"]
    path = tmp_path / "ids.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["id", "text"], *[[i, "Answer calls"] for i in ids]])
    args = ["predict", "--model", model, "--input", path, "--id-column", "id", "--format", "csv"]
    safe = list(csv.DictReader(io.StringIO(run(*args).stdout, newline="")))
    assert [row["id"] for row in safe] == ["'" + i for i in ids[:5]] + ["plain"]
    raw = list(csv.DictReader(io.StringIO(run(*args, "--keep-formulas").stdout, newline="")))
    assert [row["id"] for row in raw] == ids


def test_csv_output_quotes_a_lone_cr_in_an_id_or_a_kept_value(model, tmp_path):
    """The writer quoted fields holding its line end, LF, but not a lone CR, at which CSV readers end a row: the
    row split in two when read back, and labels moved onto the wrong ids."""
    path = tmp_path / "cr.csv"
    path.write_bytes(b'id,title,text\n"a\rb","Agent\rnights",Answer calls\nc,Analyst,Build credit models\n')
    out = tmp_path / "out.csv"
    result = run("predict", "--model", model, "--input", path, "--keep-column", "title", "--output", out)
    assert result.returncode == 0, result.stderr
    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(row["id"], row["title"]) for row in rows] == [("a\rb", "Agent\rnights"), ("c", "Analyst")]
    assert all(row["label"] in config.LABELS for row in rows)
    import pandas as pd

    assert pd.read_csv(out, keep_default_na=False)["id"].tolist() == ["a\rb", "c"]


def test_an_output_over_the_file_standard_input_is_redirected_from_is_refused(fast_model, tmp_path):
    """`--output jobs.csv < jobs.csv` renamed the scores over the postings, exit 0; --input jobs.csv was refused."""
    path = tmp_path / "jobs.csv"
    path.write_text("id,text\n1,Answer inbound calls\n")
    before = path.read_bytes()
    args = [SCRIPT, "predict", "--model", fast_model, "-", "--input-format", "csv", "--output"]
    with open(path, "rb") as stdin:
        result = subprocess.run([*args, path], stdin=stdin, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "--output" in result.stderr
    assert f"{path} is the file standard input reads from: write to another file" in result.stderr
    assert path.read_bytes() == before
    with open(path, "rb") as stdin:  # another file is written as ever
        other = subprocess.run([*args, tmp_path / "out.csv"], stdin=stdin, capture_output=True, timeout=120)
    assert other.returncode == 0 and (tmp_path / "out.csv").read_text().startswith("id,label")


def test_a_text_column_named_twice_is_read_once(shipped_model_path, tmp_path):
    """Each --text-column's value was joined in: a column named twice doubled the text, whose bigram across the
    join ("models build") moved its score (0.999996 to 0.999337)."""
    path = tmp_path / "jobs.csv"
    path.write_text("id,text\n1,build models\n2,Answer calls about billing\n")
    args = ["predict", "--model", shipped_model_path, "--input", path, "--format", "jsonl"]
    once, twice = (jsonl(run(*args, *["--text-column", "text"] * n).stdout) for n in (1, 2))
    assert twice == once and len(once) == 2


# -- 20: messages -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("mark", "encoding"), [(codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")])
def test_utf16_input_with_its_byte_order_mark_is_read_without_the_encoding(fast_model, tmp_path, mark, encoding):
    """A byte order mark names its encoding beyond doubt (Excel's "Unicode Text", PowerShell's exports), yet such
    input was refused, `looks like UTF-16 text; pass --encoding utf-16 to read it`, until the encoding was given."""
    content = "id,text\n1,Answer inbound calls\n2,Build credit-risk models in Python\n"
    plain, path = tmp_path / "plain.csv", tmp_path / "wide.csv"
    plain.write_text(content)
    path.write_bytes(mark + content.encode(encoding))
    args = ("predict", "--model", fast_model, "--format", "jsonl")
    expected = jsonl(run(*args, "--input", plain).stdout)
    piped = run(*args, "-", "--input-format", "csv", stdin=path.read_bytes())
    for result in (run(*args, "--input", path), run(*args, "--input", path, "--encoding", "utf-16"), piped):
        assert result.returncode == 0, result.stderr
        assert jsonl(result.stdout) == expected and len(expected) == 2
    # An encoding given is the one read.
    assert_one_error_line(run(*args, "--input", path, "--encoding", "utf-8-sig"), 1,
                          r"wide\.csv looks like UTF-16 text; pass --encoding utf-16 to read it")  # fmt: skip
    # evaluate reads a labelled file so too.
    labelled = tmp_path / "labelled.csv"
    labelled.write_bytes(mark + "text,label\nAnswer inbound calls,BPO\nBuild credit-risk models,KPO\n".encode(encoding))
    evaluated = run("evaluate", "--model", fast_model, "--data", labelled, "--format", "json")
    assert evaluated.returncode == 0, evaluated.stderr
    assert [metrics["n"] for metrics in json.loads(evaluated.stdout).values()] == [2]


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_the_encoding_help_shows_as_default_reads_as_no_encoding_does(fast_model, tmp_path, command):
    """--help showed `[default: utf-8-sig]`, yet given, utf-8-sig refused the UTF-16 input with its mark that no
    --encoding reads (`looks like UTF-16 text; pass --encoding utf-16`). What the help says of the default is what
    leaving the option out does."""
    path = tmp_path / "labelled.csv"
    path.write_bytes("text,label\nAnswer inbound calls,BPO\nBuild credit-risk models,KPO\n".encode("utf-16"))
    args = {"predict": ("predict", "--model", fast_model, "--input", path, "--format", "jsonl"),
            "evaluate": ("evaluate", "--model", fast_model, "--data", path, "--format", "json")}[command]  # fmt: skip
    shown = " ".join(run(command, "--help").stdout.split())
    encoding_help = re.search(r" --encoding TEXT (.*?) --", shown)[1]
    without = run(*args)
    assert without.returncode == 0, without.stderr
    default = re.search(r"\[default: (.*?)\]", encoding_help)
    if default:
        given = run(*args, "--encoding", default[1])
        assert (given.returncode, given.stdout) == (0, without.stdout), given.stderr
    assert "default: UTF-8, or UTF-16 where the input starts with UTF-16's byte order mark" in encoding_help


@pytest.mark.parametrize("mark", [codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE])
def test_a_utf16_byte_order_mark_before_bytes_that_are_not_utf16_is_refused(fast_model, tmp_path, mark):
    """The mark alone decided: UTF-8 text behind a stray one was read as UTF-16, and its two lines scored as one row
    of another script's characters, exit 0. Given --encoding utf-16, such bytes are named too."""
    path = tmp_path / "marked.txt"
    path.write_bytes(mark + b"Process supplier invoices in SAP\nBuild credit-risk models in Python\n")
    args = ("predict", "--model", fast_model, "--input", path, "--format", "jsonl")
    result = run(*args)
    assert_one_error_line(result, 1, r"marked\.txt starts with UTF-16's byte order mark, but the bytes after it do "
                                     r"not look like UTF-16 text: delete the mark \(its first two bytes\); if it is "
                                     r"UTF-16 text, pass --encoding utf-16 to read it$")  # fmt: skip
    assert result.stdout == ""
    assert_one_error_line(run(*args, "--encoding", "utf-16"), 1,
                          r"marked\.txt is not UTF-16 text from its start: its bytes there are one-byte text \(ASCII "
                          r"or UTF-8\), which read as UTF-16 would be characters of another script; pass the file's "
                          r"encoding with --encoding$")  # fmt: skip


# The first row's text, in characters: one row in one block, or one that ends the UTF-16 part 40 bytes before the end
# of the first block of 64 KiB, so that the UTF-8 text after it runs across two blocks, neither with 64 of its bytes.
@pytest.mark.parametrize("text_chars", [40, (65536 - 40 - 2) // 2 - len("id,text\n1,\n")])
def test_utf16_input_joined_to_utf8_input_is_refused_where_the_join_is(fast_model, tmp_path, text_chars):
    """A UTF-16 file and a UTF-8 one joined with cat were read as UTF-16 to the end: the UTF-8 rows became one row
    whose id was characters of another script (`ⰳ湁睳牥...`), exit 0."""
    text = ("Process supplier invoices in SAP " * (text_chars // 33 + 1))[:text_chars]
    wide = f"id,text\n1,{text}\n".encode("utf-16")
    path = tmp_path / "joined.csv"
    path.write_bytes(wide + b"2,Answer inbound calls for a bank\n3,Design pricing models for derivatives\n")
    result = run("predict", "--model", fast_model, "--input", path, "--format", "jsonl")
    assert_one_error_line(result, 1, rf"joined\.csv is not UTF-16 text from byte {len(wide)} on: its bytes there are "
                                     r"one-byte text \(ASCII or UTF-8\), which read as UTF-16 would be characters of "
                                     r"another script; it joins text of two encodings, as cat of a UTF-16 file "
                                     r"and a UTF-8 one does: save the parts in one encoding before joining "
                                     r"them$")  # fmt: skip
    assert result.stdout == ""


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_wide_text_without_a_byte_order_mark_names_its_byte_order(model, tmp_path, encoding):
    """Without a mark, the advice was --encoding utf-16, which then stopped with `unexpected UnicodeError: UTF-16
    stream does not start with BOM`; UTF-32 was called UTF-16. Cyrillic letters keep the rule honest: their high
    bytes are not zero, only those of the spaces, digits and punctuation between them are."""
    path = tmp_path / "wide.csv"
    path.write_bytes('id,text\n1,"Отвечать на звонки клиентов, 24 часа"\n'.encode(encoding))
    result = run("predict", "--model", model, "--input", path)
    assert_one_error_line(result, 1, rf"wide\.csv looks like {encoding.upper()} text; pass --encoding {encoding}")
    # Python's codecs of the plain names read the order from a mark, and fail on these bytes in one way or another.
    plain = run("predict", "--model", model, "--input", path, "--encoding", encoding[:6])
    assert_one_error_line(plain, 1, rf"(byte order mark that --encoding {encoding[:6]} needs|is not valid "
                                    rf"{encoding[:6]} at byte 0 \(0x00\)); pass --encoding {encoding}")  # fmt: skip
    named = run("predict", "--model", model, "--input", path, "--encoding", encoding, "--format", "jsonl")
    assert [row["id"] for row in jsonl(named.stdout)] == ["1"], named.stderr
    # The other byte order named: every character was another, and the rows were scored as such without a word.
    other = encoding[:-2] + ("be" if encoding.endswith("le") else "le")
    crossed = run("predict", "--model", model, "--input", path, "--encoding", other)
    assert_one_error_line(crossed, 1, rf"looks like {encoding.upper()} text, not {other.upper()}; pass --encoding")


@pytest.mark.parametrize(
    ("mark", "encoded", "asked", "named", "advice"),
    [(codecs.BOM_UTF16_LE, "utf-16-le", "utf-16-be", "UTF-16-LE", "utf-16"),
     (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16-le", "UTF-16-BE", "utf-16"),
     (codecs.BOM_UTF32_LE, "utf-32-le", "utf-16-le", "UTF-32-LE", "utf-32"),
     (codecs.BOM_UTF32_LE, "utf-32-le", "utf-16", "UTF-32-LE", "utf-32"),
     (codecs.BOM_UTF16_LE, "utf-16-le", "utf-32", "UTF-16-LE", "utf-16"),
     (codecs.BOM_UTF8, "utf-8", "utf-16-le", "UTF-8", "utf-8"),
     (codecs.BOM_UTF8, "utf-8", "utf-32", "UTF-8", "utf-8"),
     (codecs.BOM_UTF8, "utf-8", "u16", "UTF-8", "utf-8")],  # Python's alias: the mark was not looked at
)  # fmt: skip
def test_a_byte_order_mark_that_names_another_encoding_is_refused(model, tmp_path, mark, encoded, asked, named,
                                                                  advice):  # fmt: skip
    """Only unmarked text was looked at: a Windows 'Unicode' file (UTF-16-LE with its mark) read with
    --encoding utf-16-be, or UTF-32 read as UTF-16, was scored as garbage, two lines as one or one as two, exit 0."""
    path = tmp_path / "marked.txt"
    path.write_bytes(mark + "Process supplier invoices\nAnswer inbound calls\n".encode(encoded))
    result = run("predict", "--model", model, "--input", path, "--encoding", asked)
    asked = codecs.lookup(asked).name
    assert_one_error_line(result, 1, rf"marked\.txt looks like {named} text \(its byte order mark says so\), not "
                                     rf"{asked.upper()}; pass --encoding {advice} to read it")  # fmt: skip


def test_a_short_utf16_file_is_named_utf16(model, tmp_path):
    """Under eight bytes the byte columns were not looked at, and 'ok' in UTF-16 was called a binary file."""
    path = tmp_path / "short.csv"
    path.write_bytes("ok\n".encode("utf-16-le"))
    assert_one_error_line(run("predict", "--model", model, "--input", path), 1,
                          r"short\.csv looks like UTF-16-LE text; pass --encoding utf-16-le")  # fmt: skip


def test_a_program_or_workbook_under_a_csv_name_is_binary_not_utf16(model, tmp_path):
    """Zeros in both byte columns are no text: a program and an old Excel workbook were called UTF-16, and the
    advice led to the error above. UTF-8 read as UTF-16 is told apart too."""
    program, workbook = tmp_path / "ls.csv", tmp_path / "old.csv"
    program.write_bytes(
        b"\x7fELF\x02\x01\x01" + bytes(9) + b"\x03\x00>\x00\x01\x00\x00\x00" + bytes(range(0, 256, 3)) * 8
    )
    workbook.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16) + b">\x00\x03\x00\xfe\xff" + bytes(500))
    assert_one_error_line(run("predict", "--model", model, "--input", program), 1,
                          r"ls\.csv looks like a binary file, not CSV, JSONL or text")  # fmt: skip
    # The workbook is named for what it is, with what to do.
    assert_one_error_line(run("predict", "--model", model, "--input", workbook), 1,
                          r"old\.csv is an Office document of the 1997-2003 kind \(\.doc or \.xls\), not CSV, JSONL or "
                          r"text; save it as CSV \(UTF-8\) or plain text")  # fmt: skip
    utf8 = tmp_path / "plain.csv"
    utf8.write_text("id,text\n1,Answer calls\n")
    result = run("predict", "--model", model, "--input", utf8, "--encoding", "utf-16")
    assert_one_error_line(result, 1, r"needs; pass --encoding utf-16-le or -be if it is such text, else the file's own")


@pytest.mark.parametrize(
    ("args", "code", "pattern"),
    [(["--encoding", "bogus"], 2, r"'bogus' is not an encoding Python knows; try utf-8"),
     (["--sep", "::"], 2, r"'::' is not a single separator character")],
)  # fmt: skip
def test_bad_reading_options_are_usage_errors(model, tmp_path, args, code, pattern):
    path = tmp_path / "a.csv"
    path.write_text("text\nAnswer calls\n")
    assert_one_error_line(run("predict", "--model", model, "--input", path, *args), code, pattern)


def test_deeply_nested_json_is_named(model, tmp_path):
    path = tmp_path / "deep.jsonl"
    path.write_text('{"text": "ok"}\n' + '{"text": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    assert_one_error_line(run("predict", "--model", model, "--input", path), 1,
                          r"deep\.jsonl line 2 nests JSON arrays or objects too deeply")  # fmt: skip


def test_a_huge_integer_in_model_metadata_is_named(model_copy):
    meta_path = metadata_path(model_copy)
    meta_path.write_text(meta_path.read_text().replace('"params"', '"big": ' + "9" * 5000 + ', "params"', 1))
    assert_one_error_line(run("predict", "--model", model_copy, "x"), 1, r"model\.joblib\.json is not valid JSON")


def test_a_full_disk_names_the_output_not_the_temporary_file(model, tmp_path, monkeypatch):
    def full(descriptor):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    output = tmp_path / "out.jsonl"
    result = run("predict", "--model", model, "--output", output, "Answer calls")
    assert_one_error_line(result, 1, rf"cannot write {output}: No space left on device")
    assert ".tmp" not in result.stderr and no_temporaries(tmp_path) and not output.exists()


@linux_only("/dev/full")
def test_a_full_device_is_named(model):
    result = run("predict", "--model", model, "--output", "/dev/full", "Answer calls")
    assert_one_error_line(result, 1, r"cannot write /dev/full: No space left on device")


def test_a_busy_target_names_the_output_not_the_temporary_file(model, tmp_path, monkeypatch):
    def busy(source, target):
        raise OSError(errno.EBUSY, os.strerror(errno.EBUSY), str(source), None, str(target))

    monkeypatch.setattr(os, "replace", busy)
    output = tmp_path / "out.jsonl"
    result = run("predict", "--model", model, "--output", output, "Answer calls")
    assert_one_error_line(result, 1, rf"cannot write {output}: Device or resource busy")
    assert ".tmp" not in result.stderr


def test_postings_given_as_arguments_are_read_as_utf8_under_an_ascii_locale(shipped_model_path):
    """Under LC_ALL=C without Python's UTF-8 mode, each byte of "nóminas" beyond ASCII arrived as a lone surrogate,
    and the posting scored otherwise than from a file or a UTF-8 terminal (P(KPO) 0.565 against 0.491)."""
    text = "Gestión de nóminas y facturación de proveedores, atención al cliente, résumé screening for recruitment"
    ascii_locale = {"LC_ALL": "C", "LANG": None, "LC_CTYPE": None, "PYTHONUTF8": "0"}
    result = run_script("predict", "--model", shipped_model_path, "--format", "jsonl", text, env=ascii_locale)
    assert result.returncode == 0, result.stderr
    assert jsonl(result.stdout) == jsonl(
        run("predict", "--model", shipped_model_path, "--format", "jsonl", text).stdout
    )


def test_a_removed_working_directory_is_named(fast_model, tmp_path):
    """It said "Error: No such file or directory", naming nothing: Path.resolve() failed on the folder itself."""
    gone = tmp_path / "gone"
    result = shell(f'mkdir "{gone}" && cd "{gone}" && rmdir "{gone}" && "{SCRIPT}" predict --model "{fast_model}" '
                   '--output out.csv "Answer calls"')  # fmt: skip
    assert_one_error_line(result, 1, "the working directory was removed while this shell was in it: cd to a folder")
    # A relative input there reads as missing: the message says why.
    relative = shell(f'mkdir "{gone}" && cd "{gone}" && rmdir "{gone}" && "{SCRIPT}" predict --model "{fast_model}" '
                     '--input jobs.csv')  # fmt: skip
    assert_one_error_line(relative, 1, "jobs.csv does not exist; the working directory was removed while this shell")
    # Absolute paths alone need no working directory: such a run still scores, as it did before.
    absolute = shell(f'mkdir "{gone}" && cd "{gone}" && rmdir "{gone}" && "{SCRIPT}" predict --model "{fast_model}" '
                     '--format jsonl "Answer calls"')  # fmt: skip
    assert absolute.returncode == 0 and jsonl(absolute.stdout)[0]["id"] == "1", absolute.stderr


# Linux's fcntl command for a pipe's capacity (Python's fcntl names it from 3.10, but only where the headers did).
F_GETPIPE_SZ = getattr(fcntl, "F_GETPIPE_SZ", 1032)


def unread_bytes(descriptor: int) -> int:
    """How many bytes a pipe holds that nobody has read yet."""
    return int.from_bytes(fcntl.ioctl(descriptor, termios.FIONREAD, bytes(4)), sys.byteorder)


@linux_only("a pipe's capacity from fcntl")
@pytest.mark.parametrize("unbuffered", ["1", ""])
@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_a_non_blocking_pipe_to_a_slow_reader_gets_every_byte(fast_model, tmp_path, command, unbuffered):
    """Unbuffered (PYTHONUNBUFFERED), a pipe set non-blocking dropped what found the pipe full: evaluate's report
    stopped at 65,536 bytes with exit 0. Buffered, Python's writer stopped there (`write could not complete without
    blocking`, exit 120), and the rest was lost. Every byte now waits for room."""
    postings = tmp_path / "postings.txt"
    postings.write_text("Answer customer calls and log each one in the CRM\n" * 2000)
    args = {
        "predict": ["predict", "--input", postings, "--format", "jsonl"],
        "evaluate": ["evaluate", "--data", config.FIELD_PATH, "--data", config.CHALLENGE_PATH, "--format", "json"],
    }[command]
    expected = run(*args, "--model", fast_model).stdout.encode()
    assert len(expected) > 1 << 16  # more than a pipe holds
    reader, writer = os.pipe()
    fcntl.fcntl(writer, fcntl.F_SETFL, fcntl.fcntl(writer, fcntl.F_GETFL) | os.O_NONBLOCK)
    script = subprocess.Popen([SCRIPT, *map(str, args), "--model", fast_model], stdout=writer,
                              stderr=subprocess.DEVNULL, env=os.environ | {"PYTHONUNBUFFERED": unbuffered})  # fmt: skip
    os.close(writer)
    # Nobody reads until the pipe is full, or the script has ended without filling it (the bug).
    capacity = fcntl.fcntl(reader, F_GETPIPE_SZ)
    wait_for(lambda: unread_bytes(reader) > capacity - 4096 or script.poll() is not None, "the pipe to fill")
    with os.fdopen(reader, "rb") as pipe:
        received = pipe.read()
    assert script.wait(timeout=120) == 0
    assert received == expected
