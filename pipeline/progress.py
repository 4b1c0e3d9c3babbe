"""What `bpo-kpo predict` tells the person waiting: a progress line while it runs and a summary at the end."""

from __future__ import annotations

import time
from typing import TextIO

# Erase from the cursor to the end of the line (ANSI): a shorter line never leaves the tail of a longer one.
CLEAR_LINE = "\r\033[K"
BAR_WIDTH = 24
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


def progress_line(rows: int, elapsed: float, done_bytes: int | None = None, total_bytes: int | None = None) -> str:
    """`[#####.....]  42%  8,000 rows  4,100 rows/s  12s left` when the input size is known, else rows and rate."""
    rate = rows / elapsed if elapsed > 0 else 0.0
    counts = f"{rows:,} rows  {rate:,.0f} rows/s"
    if not total_bytes or done_bytes is None:
        return counts
    share = min(done_bytes / total_bytes, 1.0)
    filled = int(share * BAR_WIDTH)
    bar = "[" + "#" * filled + "." * (BAR_WIDTH - filled) + "]"
    left = f"  {duration(elapsed * (1 - share) / share)} left" if share > 0 else ""
    return f"{bar} {share:4.0%}  {counts}{left}"


def summary_line(counts: dict[str, int], elapsed: float, destination: str) -> str:
    """One line for the end of a run: every count, the time taken and where the results went."""
    parts = ", ".join(f"{name} {value:,}" for name, value in counts.items() if name != "rows")
    rows = counts.get("rows", 0)
    return f"scored {rows:,} row{'' if rows == 1 else 's'} in {duration(elapsed)}: {parts}; {destination}"


class Progress:
    """The live progress line on a terminal's stderr (redrawn in place) and the summary at the end."""

    def __init__(
        self,
        stream: TextIO,
        live: bool,
        summary: bool,
        names: tuple[str, ...] = ("rows",),
        total_bytes: int | None = None,
    ) -> None:
        self.stream = stream
        self.live = live
        self.summary = summary
        self.total_bytes = total_bytes
        # Every count starts at zero, so an empty input still gets a complete summary.
        self.counts: dict[str, int] = dict.fromkeys(names, 0)
        self.position: int | None = None
        self.started = time.perf_counter()
        self.last_drawn = 0.0
        self.shown = False

    def update(self, counts: dict[str, int], position: int | None = None) -> None:
        """Add one scored chunk's counts; redraw the line at most every REDRAW_SECONDS."""
        for name, value in counts.items():
            self.counts[name] = self.counts.get(name, 0) + value
        if position is not None:
            self.position = position
        now = time.perf_counter()
        if self.live and now - self.last_drawn >= REDRAW_SECONDS:
            self.last_drawn = now
            line = progress_line(self.counts.get("rows", 0), now - self.started, self.position, self.total_bytes)
            self.stream.write(CLEAR_LINE + line)
            self.stream.flush()
            self.shown = True

    def clear(self) -> None:
        """Erase the progress line, so that nothing else is ever written after it on the same line."""
        if self.shown:
            self.stream.write(CLEAR_LINE)
            self.stream.flush()
            self.shown = False

    def finish(self, destination: str) -> None:
        self.clear()
        if self.summary:
            self.stream.write(summary_line(self.counts, time.perf_counter() - self.started, destination) + "\n")
            self.stream.flush()
