"""Run the command line as a user would, in this process or as the installed console script, and read JSON lines.

`run` runs a command in the test process, through click's test runner and the console script's own handling of
errors and interrupts (`pipeline.process.run`): the same exit code, stdout and stderr, without a second of
importing scikit-learn again for every command. `run_script` starts the real console script, for what only a
process of its own has: signals, pipes, closed or inherited descriptors, devices and worker processes.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

SCRIPT = str(Path(sys.executable).with_name("bpo-kpo"))


def linux_only(what: str):
    """Skip a test elsewhere: `what` (a /proc file, util-linux's `script -qec`, /dev/full) exists only on Linux."""
    return pytest.mark.skipif(not sys.platform.startswith("linux"), reason=f"needs {what}, which only Linux has")


# The warning filters Python starts with (no -W, no PYTHONWARNINGS), in its order: a command run in process prints
# on stderr the warnings a fresh console script would, and no others.
STARTUP_WARNING_FILTERS = (
    ("default", DeprecationWarning, "__main__"),
    ("ignore", DeprecationWarning, ""),
    ("ignore", PendingDeprecationWarning, ""),
    ("ignore", ImportWarning, ""),
    ("ignore", ResourceWarning, ""),
)
# Signals whose handlers a command could change (serve does); restored after every run in process.
HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@dataclass(frozen=True)
class Completed:
    """What a finished command left: the shape of subprocess.CompletedProcess, so either runner fits a test."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


def _text(data: bytes) -> str:
    """Decode as subprocess's text mode does: UTF-8 with universal newlines."""
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="replace").read()


def run(*args, stdin: str | bytes | None = None, cwd=None, env: dict[str, str | None] | None = None) -> Completed:
    """Run `bpo-kpo ARGS` in this process: stdin from `stdin` (empty if None), in folder `cwd`, with `env`'s
    variables set (None unsets one). Standard output and error are neither terminals nor real descriptors."""
    from pipeline import process

    args = tuple(str(arg) for arg in args)
    folder = os.getcwd()
    handlers = {signum: signal.getsignal(signum) for signum in HANDLED_SIGNALS}
    try:
        if cwd is not None:
            os.chdir(cwd)
        with CliRunner().isolation(input=stdin, env=env) as (out, err, _), warnings.catch_warnings(record=True) as seen:
            warnings.resetwarnings()
            for action, category, module in STARTUP_WARNING_FILTERS:
                warnings.filterwarnings(action, category=category, module=module, append=True)
            try:
                code = process.run(list(args))
            finally:
                for warning in seen:
                    sys.stderr.write(warnings.formatwarning(warning.message, warning.category, warning.filename,
                                                            warning.lineno, warning.line))  # fmt: skip
                sys.stdout.flush()
                sys.stderr.flush()
            stdout, stderr = out.getvalue(), err.getvalue()
    finally:
        # What a process of its own would have taken with it when it ended.
        os.chdir(folder)
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
        process._pool_started = False
        gc.unfreeze()  # predict freezes what it loaded, for a process that ends soon; this one goes on
    return Completed(args, code, _text(stdout), _text(stderr))


def run_script(
    *args, stdin: str | None = None, cwd=None, env: dict[str, str | None] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """Run the installed console script `bpo-kpo ARGS` as a process of its own; `env` as for `run`.

    Without `stdin` it reads an empty /dev/null, never the terminal of a suite run in the background.
    """
    environment = os.environ.copy()
    for key, value in (env or {}).items():
        if value is None:
            environment.pop(key, None)
        else:
            environment[key] = value
    return subprocess.run(
        [SCRIPT, *(str(arg) for arg in args)],
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment,
        timeout=timeout,
    )


# Run by a Python of its own just before the console script replaces it (exec keeps the disposition it set).
_DEFAULT_SIGNALS_THEN_EXEC = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); signal.signal(signal.SIGHUP, "
    "signal.SIG_IGN if sys.argv[1] == 'nohup' else signal.SIG_DFL); os.execv(sys.argv[2], sys.argv[2:])"
)


def start_script(*args, nohup: bool = False, **popen) -> subprocess.Popen:
    """Start the console script as a terminal's foreground job runs, with Ctrl-C (SIGINT) and SIGHUP at their
    defaults, or, with `nohup`, SIGHUP ignored, as `nohup` starts it.

    A shell starts background jobs with SIGINT ignored, nohup ignores SIGHUP, and an ignored signal stays ignored in
    every child: without this, a suite run with `nohup ... &` would give the script no Ctrl-C or SIGHUP to handle.
    Setting them in a wrapper that then execs the script, rather than in a preexec_fn, is safe in a test process that
    runs threads.
    """
    wrapper = [sys.executable, "-c", _DEFAULT_SIGNALS_THEN_EXEC, "nohup" if nohup else "-"]
    return subprocess.Popen([*wrapper, SCRIPT, *(str(a) for a in args)], **popen)


def wait_for(condition, what: str, process: subprocess.Popen | None = None, timeout: float = 120) -> None:
    """Poll `condition` until it holds; fail naming `what` if `process` ends first or `timeout` seconds pass.

    The timeout only keeps a broken run from hanging the suite: it is generous, and never what a test measures.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the command ended (exit {process.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:.0f}s waiting for {what}")
        time.sleep(0.01)


def children(pid: int) -> list[int]:
    """The processes `pid`'s main thread started (Linux /proc)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def signal_mask(pid: int, field: str) -> int:
    """A signal set of /proc/PID/status (SigIgn: ignored, SigCgt: caught) as a bit mask; 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1], 16)
    except OSError:
        pass
    return 0


def has_signal(mask: int, signum: int) -> bool:
    return bool(mask & (1 << (signum - 1)))


# Lines of the file start_long_predict scores: long enough to be running still when a test signals it.
LONG_INPUT_LINE, LONG_INPUT_LINES = "Answer customer emails within the agreed SLA\n", 400_000


def start_long_predict(
    model, folder: Path, jobs: str, engine: str = "auto", lines: int = LONG_INPUT_LINES, nohup: bool = False
) -> tuple[subprocess.Popen, Path]:
    """Start predict on a file long enough to be running still when a test signals it (`lines` of it, under nohup
    if asked); return once it scores.

    Scoring means its temporary output file holds results, and (where /proc tells) each of its `jobs` workers
    has finished its set-up, in which it starts to ignore SIGINT and leave interrupts to the main process.
    """
    source, output = folder / "many.txt", folder / "out.jsonl"
    source.write_text(LONG_INPUT_LINE * lines)  # 18 MB by default, built only here
    process = start_script("predict", "--model", model, "--input", source, "--output", output, "--jobs", jobs,
                           "--engine", engine, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                           start_new_session=True, nohup=nohup)  # fmt: skip

    def scoring() -> bool:
        try:
            if not any(path.stat().st_size for path in folder.glob(f".{output.name}.*")):
                return False
        except OSError:  # renamed into place between the listing and the look
            return False
        if int(jobs) == 1 or not Path("/proc").is_dir():
            return True
        workers = children(process.pid)
        return len(workers) == int(jobs) and all(
            has_signal(signal_mask(pid, "SigIgn"), signal.SIGINT) for pid in workers
        )

    wait_for(scoring, "predict wrote its first results", process)
    return process, output


# The environment for a make a test runs: run under `make test` or not, it sees no flags of an outer make.
MAKE_ENV = {key: value for key, value in os.environ.items() if key not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}


@contextlib.contextmanager
def checkout_make():
    """Held while a test runs make in the checkout, even `make -n`, which rewrites data/processed/.raw-files: tests
    on other workers wait rather than race on that file."""
    from pipeline import config

    name = "bpo-kpo-make-" + hashlib.sha256(str(config.PROJECT_ROOT.resolve()).encode()).hexdigest()[:16] + ".lock"
    with open(Path(tempfile.gettempdir()) / name, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def copy_make_project(root: Path) -> Path:
    """Copy what the Makefile reads (itself, the package, tools, parameters and raw data) into a new folder `root`,
    for tests that run make where they may touch, add and remove files."""
    from pipeline import config

    root.mkdir(parents=True)
    for name in ("Makefile", "pyproject.toml", "constraints.txt"):
        shutil.copy(config.PROJECT_ROOT / name, root / name)
    for folder in ("pipeline", "tools", "params"):
        shutil.copytree(config.PROJECT_ROOT / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(config.RAW_DIR, root / "data" / "raw")
    return root


def jsonl(stdout):
    return [json.loads(line) for line in stdout.splitlines()]
