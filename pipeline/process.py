"""The console script's process set-up: standard streams, termination signals, the exit code of an interrupt, and
the numeric libraries' threads and kernels."""

from __future__ import annotations

import contextlib
import errno
import io
import os
import shlex
import signal
import sys

# Imported before anything heavy, so that Ctrl-C or SIGTERM while Python imports scikit-learn is already handled.
from pipeline import config
from pipeline.errors import Interrupted

TERMINATION_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
PR_SET_PDEATHSIG = 1  # linux/prctl.h: the signal a process gets when its parent dies
INTERRUPT_SIGNALS = (signal.SIGINT, *TERMINATION_SIGNALS)


# Set once predict starts its own worker processes: see finish().
_pool_started = False


def pool_started() -> None:
    """Note that this run has worker processes of its own, so a failed run must not wait on their threads."""
    global _pool_started
    _pool_started = True


# Where this run has written results that no rename keeps from view (standard output, a device or a pipe), if it
# has: an interrupt or an error then leaves them part-written there, which its message must say. And the output
# file that was there before the run, which an interrupt leaves as it was.
_streamed_to: str | None = None
_kept_output: str | None = None
# What an interrupt stops in a command that writes no output file (serve), said in place of any file's fate.
_stopped_instead: str | None = None


def results_streamed(name: str) -> None:
    """Note that results went to `name` as they came, so that an interrupt or an error says they stop part-way."""
    global _streamed_to
    _streamed_to = name


def streamed_output() -> str | None:
    """Where this run has written results as they came, if it has."""
    return _streamed_to


def no_output_file(stopped: str) -> None:
    """Note that this command writes no output file, so that an interrupt says what it `stopped` instead: serve's
    said no output file was left behind, as if it could have written one."""
    global _stopped_instead
    _stopped_instead = stopped


def output_kept(path) -> None:
    """Note that the output file `path` was there before the run: an interrupt leaves it as it was, and says so
    (it said no output file was left behind, which read as if the file was gone)."""
    global _kept_output
    _kept_output = str(path)


class ReaderGone(SystemExit):
    """The reader of stdout went away (`| head`): a successful end, taken at once like a failed one."""

    def __init__(self) -> None:
        super().__init__(0)


# The interrupt this run received, if any. Python does not always deliver one as KeyboardInterrupt: during an
# import a C extension can turn it into ImportError ("initialization failed"), and in a callback of the import
# machinery it is printed as "Exception ignored" and dropped, so the run would go on. The record lets the run
# still end as interrupted.
_received: int | None = None


def _interrupt(signum: int, frame) -> None:
    global _received
    _received = signum
    raise KeyboardInterrupt


def _terminate(signum: int, frame) -> None:
    global _received
    _received = signum
    # The first signal wins: later ones must not interrupt the clean-up it starts.
    for other in INTERRUPT_SIGNALS:
        signal.signal(other, signal.SIG_IGN)
    raise Interrupted(signum)


def install_signal_handlers() -> None:
    """Turn SIGTERM and SIGHUP (timeout, kill, systemd, docker) into the same clean stop as Ctrl-C, and note
    every interrupt, so that one Python swallowed or turned into another error still ends the run.

    A signal ignored when the program starts stays ignored, as Python leaves an ignored SIGINT: `nohup` ignores
    SIGHUP so that closing the terminal leaves the run going, and a script's shell starts its background jobs with
    SIGINT ignored. Both were taken over, so a `nohup bpo-kpo predict ... &` stopped when its terminal closed."""
    for signum, handler in ((signal.SIGINT, _interrupt), *((other, _terminate) for other in TERMINATION_SIGNALS)):
        if not ignored(signum):
            signal.signal(signum, handler)
    sys.unraisablehook = _unraisable


def ignored(signum: int) -> bool:
    """Whether the process ignores the signal: so it was at start (install_signal_handlers leaves it so)."""
    return signal.getsignal(signum) is signal.SIG_IGN


def _unraisable(report) -> None:
    # An interrupt Python cannot raise (it arrived in a callback) is already recorded: keep its "Exception
    # ignored" report off the user's terminal, and report everything else as Python would.
    if isinstance(report.exc_value, KeyboardInterrupt) and _received is not None:
        return
    sys.__unraisablehook__(report)


def interrupt_received() -> KeyboardInterrupt | None:
    """The interrupt this process received, as the exception to report it with; None if there was none."""
    if _received is None:
        return None
    return KeyboardInterrupt() if _received == signal.SIGINT else Interrupted(_received)


def stop_if_interrupted() -> None:
    """Raise the interrupt this process received, if Python dropped it: called before a run commits its output."""
    interrupt = interrupt_received()
    if interrupt is not None:
        raise interrupt


def reset_signals_in_worker() -> None:
    """Workers leave interrupts to the main process, which stops them and reports once, without tracebacks."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for signum in TERMINATION_SIGNALS:
        if not ignored(signum):  # under nohup, a worker that died of SIGHUP stopped the run it was spared
            signal.signal(signum, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        # A worker whose main process is killed outright (SIGKILL) would otherwise wait for chunks forever.
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def interrupt_message(error: KeyboardInterrupt) -> tuple[str, int]:
    """The one line and the exit code (128 + signal number) of an interrupted run."""
    signum = getattr(error, "signum", signal.SIGINT)
    what = "interrupted" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}"
    if _streamed_to is not None:
        return f"Error: {what}; the results on {_streamed_to} stop part-way", 128 + signum
    if _kept_output is not None:
        return f"Error: {what}; {_kept_output} was left as it was", 128 + signum
    if _stopped_instead is not None:
        return f"Error: {what}; {_stopped_instead}", 128 + signum
    return f"Error: {what}; no output file was left behind", 128 + signum


# The standard descriptors the process started without: /dev/null stands in for them, and a name of one
# (--output /dev/stdout) must not be taken for a place the results reach (files.atomic_writer).
CLOSED_AT_START: set[int] = set()


def reopen_closed_standard_streams() -> None:
    """Give closed descriptors 0-2 to /dev/null, so no file the run opens can land on them.

    A closed stderr (`2>&-`) must not stop a run that writes its results to stdout; a closed stdin or stdout
    stays None in `sys`, and the commands that need them say so.
    """
    for descriptor in (0, 1, 2):
        try:
            os.fstat(descriptor)
        except OSError:
            CLOSED_AT_START.add(descriptor)
            null = os.open(os.devnull, os.O_RDWR)
            if null != descriptor:
                os.dup2(null, descriptor)
                os.close(null)
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process


def whole_standard_output() -> None:
    """Make standard output write every byte or fail, buffered or not, by putting files.WholeWrites under its buffer
    or, unbuffered, straight under its text layer. Unbuffered, the text layer dropped what a short write left, so
    results and reports on a full disk were cut short with exit 0; buffered, into a pipe set non-blocking whose reader
    is slow, Python's writer stopped at the full pipe (`write could not complete without blocking`, exit 120) and
    the output was lost."""
    stream = sys.stdout
    if not isinstance(stream, io.TextIOWrapper):
        return
    from pipeline.files import WholeWrites

    buffered = isinstance(stream.buffer, io.BufferedWriter)
    raw = stream.buffer.raw if buffered else stream.buffer
    if not isinstance(raw, io.FileIO) or isinstance(raw, WholeWrites):  # the test suite's stream, or done already
        return
    stream.flush()
    whole = WholeWrites(stream.fileno(), "w", closefd=False)
    sys.stdout = io.TextIOWrapper(
        io.BufferedWriter(whole) if buffered else whole,
        encoding=stream.encoding,
        errors=stream.errors,
        line_buffering=stream.line_buffering,
        write_through=not buffered,
    )


def main() -> None:  # pragma: no cover - the console-script entry point, exercised through subprocess tests
    install_signal_handlers()
    reopen_closed_standard_streams()
    finish(run())


def blas_settings(environment, flags: frozenset[str]) -> dict[str, str]:
    """The BLAS settings to add to `environment` before numpy loads its BLAS library, so that a model fitted from
    the same data and seed has the same bytes on any machine: one thread, and the same kernels where the CPU has
    their instructions (`flags`). A setting the user made is kept."""
    settings = [] if any(name in environment for name in config.BLAS_THREAD_VARIABLES) else [config.BLAS_THREADS]
    if flags >= config.BLAS_KERNEL_CPU_FLAGS:
        settings.append(config.BLAS_KERNELS)
    return {name: value for name, value in settings if name not in environment}


def cpu_flags() -> frozenset[str]:
    """The instruction-set flags of this machine's x86-64 CPU, from /proc/cpuinfo; empty elsewhere (another
    architecture or system), where the BLAS library picks its own kernels."""
    import platform

    if platform.machine() not in ("x86_64", "AMD64"):
        return frozenset()
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            for line in info:
                if line.startswith("flags"):
                    return frozenset(line.partition(":")[2].split())
    except OSError:
        pass
    return frozenset()


def run(args: list[str] | None = None) -> int:
    """Run the command line on `args` (default: the process's own) and return the exit code the script ends with.

    The console script's whole handling of errors, usage errors and interrupts, apart from the process set-up, so
    that the test suite can run a command in its own process and see what a user would see.
    """
    global _streamed_to, _kept_output, _stopped_instead
    # A run of its own, even where the test suite runs many in one process.
    _streamed_to = _kept_output = _stopped_instead = None
    try:
        whole_standard_output()  # a no-op in the test suite's process, whose stdout is click's runner's
        from pipeline.metadata import set_aside_bad_source_date_epoch

        set_aside_bad_source_date_epoch()  # before numpy is imported, which stopped on it with a ValueError
        # Before numpy loads its BLAS library too; in the test suite's process, where it is loaded, this changes
        # only what the commands it starts inherit.
        os.environ.update(blas_settings(os.environ, cpu_flags()))
        import click

        from pipeline.cli import cli

        args = sys.argv[1:] if args is None else args
        try:
            code = dispatch(cli, args)
        except click.ClickException as error:
            if isinstance(error, click.NoSuchOption):
                error.message = unknown_option_message(error, cli, args)
            error.show()
            code = error.exit_code
    except KeyboardInterrupt as error:  # while Python imports, or before a command starts: still one line
        message, code = interrupt_message(error)
        print(message, file=sys.stderr)
    except SystemExit as stop:
        code = stop.code
        if isinstance(stop, ReaderGone) and _pool_started:
            os._exit(0)  # stdout is already /dev/null: nothing to flush
    return code if isinstance(code, int) else 0


def unknown_option_message(error, group, args: list[str]) -> str:
    """Click's message for an option it does not know, with the two mistakes behind most of them named: a text
    that starts with a dash (a bullet pasted with its posting), which click reads as options, and an option of
    the program itself given after the command."""
    import click

    text = next((arg for arg in args if arg.startswith("-") and len(arg.split()) > 1), None)
    command = error.ctx.command if error.ctx is not None else group
    takes_texts = any(isinstance(param, click.Argument) and param.nargs == -1 for param in command.params)
    if text is not None and (takes_texts or command is group):
        # At the program's own level, the posting was meant for predict.
        path = error.ctx.command_path if takes_texts else f"{config.PROGRAM_NAME} predict"
        shown = shlex.quote(text) if len(text) <= _SHOWN_TEXT else "TEXT"
        return (f"{error.message} A text that starts with '-' goes after '--', which ends the options: "
                f"{path} -- {shown}")  # fmt: skip
    if any(error.option_name in param.opts for param in group.params):
        return (f"{error.message} {error.option_name} is an option of {config.PROGRAM_NAME} itself, so it goes "
                f"before the command: {config.PROGRAM_NAME} {error.option_name} COMMAND ...")  # fmt: skip
    return error.message


# The longest posting the hint repeats whole, for pasting; a longer one is named TEXT.
_SHOWN_TEXT = 80


def dispatch(command, args: list[str]) -> int | None:
    """Parse `args` and run the command, as click's own main does outside standalone mode, less its handling of
    Ctrl-C: click writes a blank line to stderr and raises Abort, so an interrupt while it parsed the options
    ended in two lines. Here the interrupt reaches run() as it came. Returns the exit code of --help and --version,
    else what the command returns."""
    import click

    # Tab completion: the shell runs the program with this variable set (see the README), as click's main does.
    instruction = os.environ.get(config.COMPLETION_VARIABLE)
    if instruction:
        from click.shell_completion import shell_complete

        return shell_complete(command, {}, config.PROGRAM_NAME, config.COMPLETION_VARIABLE, instruction)
    try:
        try:
            with command.make_context(config.PROGRAM_NAME, list(args)) as context:
                code = command.invoke(context)
        except click.exceptions.Exit as stop:
            code = stop.exit_code
            if code == 0 and sys.stdout is None:
                # --help or --version with standard output closed (`>&-`): click's echo dropped the text, and the run
                # ended with exit 0 and not a word, where predict and evaluate say that it is closed.
                raise click.ClickException(closed_standard_output_message(args)) from None
        if sys.stdout is not None:
            # What a buffered stdout still holds goes out now, where a full disk is one line, not at exit, where
            # Python prints "Exception ignored" and ends with 120.
            sys.stdout.flush()
        return code
    except BrokenPipeError:  # --help or --version into a reader that went away
        raise reader_gone() from None
    except OSError as error:
        message = standard_output_error(error)
        if message is None:
            raise
        # --help or --version into a full disk (`> /dev/full`): a traceback from click's echo.
        silence_stdout()
        raise click.ClickException(message) from None


# The options click answers on standard output before any command runs, and what each writes there.
_ANSWERED_OPTIONS = {"--version": "the version", "--help": "the help", "-h": "the help"}


def closed_standard_output_message(args: list[str]) -> str:
    """The message for --help or --version given with standard output closed, naming the option as given."""
    options = args[: args.index("--")] if "--" in args else args
    given = next((arg for arg in options if arg in _ANSWERED_OPTIONS), "--help")
    what = _ANSWERED_OPTIONS[given]
    return f"standard output is closed; {given} writes {what} there: run it with standard output open"


OUT_OF_MEMORY = (
    "out of memory: the machine, or a limit set on the process (ulimit -v), left it too little; free some memory, "
    "or lower --jobs, and --chunk-size where the command has it"
)
# What the loader says of a library it had no memory to map in (numpy's or scikit-learn's, imported late).
_IMPORT_MEMORY_FAILURES = ("failed to map segment", "cannot allocate memory")


def out_of_memory(error: BaseException) -> bool:
    """Whether an error means memory ran out: a MemoryError, an import whose library could not be mapped in, or a
    thread with no memory for its stack (`--jobs 2`). Each was reported as "unexpected", and pandas' own
    out-of-memory words as a CSV that is not well formed."""
    if isinstance(error, MemoryError):
        return True
    if isinstance(error, RuntimeError):
        return "can't start new thread" in str(error)
    return isinstance(error, ImportError) and any(words in str(error).lower() for words in _IMPORT_MEMORY_FAILURES)


# Errors only a write gives: one without a file name came from standard output, as every file the project writes
# is named in its own message (files.atomic_path).
_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def standard_output_error(error: OSError) -> str | None:
    """The message for a failed write to standard output; None for any other OSError."""
    if error.filename is not None or error.errno not in _WRITE_ERRNOS:
        return None
    return f"cannot write standard output: {error.strerror}"


def silence_stdout() -> None:
    """Point stdout at /dev/null, so Python's flush at exit cannot fail on it again (a stream with no descriptor of
    its own, the test suite's, is left as it is)."""
    try:
        descriptor = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, descriptor)
    os.close(devnull)  # the descriptor stdout writes to is a copy of it now


def reader_gone() -> ReaderGone:
    """Point stdout at /dev/null, so Python's flush at exit cannot fail on the closed pipe, and say so."""
    silence_stdout()
    return ReaderGone()


def finish(code: int) -> None:
    """Exit with `code`; a failed run that had worker processes of its own exits at once, without waiting.

    Its files are already cleaned up by then, but a worker stopped while it wrote a result leaves the process
    pool's internal threads waiting on a pipe forever, and a normal exit joins those threads. Other runs exit
    normally, so libraries (joblib's workers in train) clean up after themselves.
    """
    if code == 0 or not _pool_started:
        sys.exit(code)
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # a closed or broken stream has nothing left to say
            pass
    os._exit(code)
