"""What a long command tells the person waiting: a progress line while it runs, and predict's summary at the end."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from typing import TextIO

from pipeline import config

# Erase from the cursor to the end of the line (ANSI): a shorter line never leaves the tail of a longer one.
CLEAR_LINE = "\r\033[K"
BAR_WIDTH = 24
# The narrowest the bar is drawn before it is dropped: a shorter one barely moves.
MIN_BAR_WIDTH = 10
REDRAW_SECONDS = 0.2


def duration(seconds: float) -> str:
    """A short human duration: 0.4s, 12s, 3m05s, 1h02m."""
    if seconds < 1:
        return f"{max(seconds, 0.0):.1f}s"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def progress_line(
    rows: int,
    elapsed: float,
    done_bytes: int | None = None,
    total_bytes: int | None = None,
    width: int | None = None,
) -> str:
    """`[#####.....]  42%  8,000 rows  4,100 rows/s  12s left` when the input size is known, else rows and rate;
    fitted into `width` characters when given (see _with_bar)."""
    rate = rows / elapsed if elapsed > 0 else 0.0
    counts = (f"{rows:,} rows", f"{rate:,.0f} rows/s")
    if not total_bytes or done_bytes is None:
        return _fitted(("  ".join(counts), counts[0]), width)
    return _with_bar(min(done_bytes / total_bytes, 1.0), counts, elapsed, width)


def steps_line(done: int, total: int, elapsed: float, unit: str, width: int | None = None) -> str:
    """`[#####.....]  42%  200 of 480 fits  3m10s left`: work of a known number of steps, such as tune's fits."""
    return _with_bar(min(done / total, 1.0) if total else 1.0, (f"{done:,} of {total:,} {unit}",), elapsed, width)


def _with_bar(share: float, counts: tuple[str, ...], elapsed: float, width: int | None) -> str:
    """The bar, the percentage, the counts and the time left, in `width` characters when given.

    A line longer than its terminal wraps, and redrawing it from the line start then leaves the rows above behind,
    one per redraw. So parts go as the terminal narrows, the least telling first: the counts after the first (the
    rate), then the bar (shortened first), the first count and the time left; a percentage alone is cut.
    """
    percent = f"{share:.0%}"
    left = (f"{duration(elapsed * (1 - share) / share)} left",) if share > 0 else ()

    def line(bar_width: int, parts: tuple[str, ...]) -> str:
        filled = int(share * bar_width)
        bar = "[" + "#" * filled + "." * (bar_width - filled) + "]"
        return "  ".join((f"{bar} {percent:>4}" if bar_width else percent, *parts))

    return _fitted(
        (
            line(BAR_WIDTH, (*counts, *left)),
            *(line(bar_width, (*counts[:1], *left)) for bar_width in range(BAR_WIDTH, MIN_BAR_WIDTH - 1, -1)),
            line(0, (*counts[:1], *left)),
            line(0, left),
            percent,
        ),
        width,
    )


def _fitted(lines: Iterable[str], width: int | None) -> str:
    """The first of `lines` (the fullest first) that fits in `width` characters, else the last one cut to it; the
    first one, whole, when there is no width to fit."""
    for line in lines:
        if width is None or len(line) <= width:
            return line
    return line[: max(width, 0)]


def live_width(stream: TextIO) -> int:
    """The characters a live line may hold on `stream`'s terminal: one fewer than its columns, since some terminals
    wrap as soon as the last column is written. Where the terminal does not say (a size of 0, as some report, or
    no terminal), the COLUMNS variable, else config.PROGRESS_WIDTH."""
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):  # no descriptor (a StringIO), or one that is no terminal
        columns = 0
    if columns <= 0:
        variable = os.environ.get("COLUMNS", "")
        columns = int(variable) if variable.isdigit() and int(variable) > 0 else config.PROGRESS_WIDTH
    return columns - 1


def summary_line(counts: dict[str, int], elapsed: float, destination: str) -> str:
    """One line for the end of a run: every count, the time taken and where the results went."""
    parts = ", ".join(f"{name} {value:,}" for name, value in counts.items() if name != "rows")
    rows = counts.get("rows", 0)
    return f"scored {rows:,} row{'' if rows == 1 else 's'} in {duration(elapsed)}: {parts}; {destination}"


class LiveLine:
    """A line redrawn in place on a terminal's stderr, at most every REDRAW_SECONDS, erased before anything else."""

    def __init__(self, stream: TextIO, live: bool) -> None:
        self.stream = stream
        self.live = live
        self.started = time.perf_counter()
        self.last_drawn = 0.0
        self.shown = False

    def draw(self, line_of: Callable[[float, int], str], force: bool = False) -> None:
        """Redraw the line `line_of(seconds elapsed, width)` gives, when live and due (or `force`d); the width is
        asked of the terminal at each redraw, so a window made narrower still gets one line."""
        now = time.perf_counter()
        if self.live and (force or now - self.last_drawn >= REDRAW_SECONDS):
            self.last_drawn = now
            self.stream.write(CLEAR_LINE + line_of(now - self.started, live_width(self.stream)))
            self.stream.flush()
            self.shown = True

    def clear(self) -> None:
        """Erase the progress line, so that nothing else is ever written after it on the same line."""
        if self.shown:
            self.stream.write(CLEAR_LINE)
            self.stream.flush()
            self.shown = False


class StepProgress(LiveLine):
    """The live line of work counted in steps of a known number (tune's fits); where stderr is no terminal (a log,
    a CI job), a plain line at each tenth of the work instead, which a search of ten minutes lacked."""

    def __init__(self, stream: TextIO, live: bool, unit: str) -> None:
        super().__init__(stream, live)
        self.unit = unit
        self.tenths_written = 0

    def update(self, done: int, total: int) -> None:
        """`done` of `total` steps are done; the first is drawn at once, so the bar shows from the start."""
        self.draw(lambda elapsed, width: steps_line(done, total, elapsed, self.unit, width), force=done == 1)
        tenths = 10 * done // total if total else 10
        if not self.live and tenths > self.tenths_written:
            self.tenths_written = tenths
            self.stream.write(steps_line(done, total, time.perf_counter() - self.started, self.unit) + "\n")
            self.stream.flush()


class Progress(LiveLine):
    """The live progress line on a terminal's stderr (redrawn in place) and the summary at the end."""

    def __init__(
        self,
        stream: TextIO,
        live: bool,
        summary: bool,
        names: tuple[str, ...] = ("rows",),
        total_bytes: int | None = None,
    ) -> None:
        super().__init__(stream, live)
        self.summary = summary
        self.total_bytes = total_bytes
        # Every count starts at zero, so an empty input still gets a complete summary.
        self.counts: dict[str, int] = dict.fromkeys(names, 0)
        self.position: int | None = None

    def update(self, counts: dict[str, int], position: int | None = None) -> None:
        """Add one scored chunk's counts; redraw the line at most every REDRAW_SECONDS."""
        for name, value in counts.items():
            self.counts[name] = self.counts.get(name, 0) + value
        if position is not None:
            self.position = position
        rows = self.counts.get("rows", 0)
        self.draw(lambda elapsed, width: progress_line(rows, elapsed, self.position, self.total_bytes, width))

    def finish(self, destination: str) -> None:
        self.clear()
        if self.summary:
            self.stream.write(summary_line(self.counts, time.perf_counter() - self.started, destination) + "\n")
            self.stream.flush()
