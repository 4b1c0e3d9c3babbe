"""Click parameter types that refuse, as usage errors, values the commands cannot use."""

from __future__ import annotations

import codecs
import math
import os
from pathlib import Path

import click

# A worker per core already saturates the machine; four per core leaves room for I/O waits and no more.
JOBS_PER_CPU = 4
ALL_CORES = -1


def max_jobs() -> int:
    return JOBS_PER_CPU * (os.cpu_count() or 1)


class FiniteFloatRange(click.FloatRange):
    """A float range that also refuses nan and inf, which pass every comparison-based range check."""

    def convert(self, value, param, ctx):
        number = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return super().convert(number, param, ctx)


class Jobs(click.ParamType):
    """A number of worker processes: 1 up to four per CPU core, or -1 for one per core."""

    name = "integer"

    def convert(self, value, param, ctx):
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            text = str(value).strip()
            if not text.lstrip("+-").isdigit():
                self.fail(f"{value!r} is not a whole number", param, ctx)
            # Compared as text first: int() of a number thousands of digits long is itself refused by Python.
            number = int(text) if len(text) <= 20 else max_jobs() + 1
        if number != ALL_CORES and not 1 <= number <= max_jobs():
            self.fail(
                f"{value} is out of range: give 1 to {max_jobs()} (four per CPU core), or -1 for one per core",
                param,
                ctx,
            )
        return number


class OutputPath(click.ParamType):
    """A file to write: '-' is standard output; a name ending in '/' is a folder, not a file, and is refused."""

    name = "path"

    def convert(self, value, param, ctx):
        if isinstance(value, Path):
            return value
        text = os.fspath(value)
        if text.endswith(("/", os.sep)):
            self.fail(f"{text!r} ends with '/': give a file name, not a folder", param, ctx)
        if not text:
            self.fail("is empty: give a file name", param, ctx)
        return Path(text)


def check_encoding(ctx, param, value: str) -> str:
    """Refuse an encoding Python does not know, naming some it does."""
    try:
        codecs.lookup(value)
    except LookupError:
        raise click.BadParameter(
            f"{value!r} is not an encoding Python knows; try utf-8, utf-16, latin-1 or cp1252"
        ) from None
    return value


def check_separator(ctx, param, value: str | None) -> str | None:
    """A CSV separator is one character (a tab may be given as \\t)."""
    if value is None:
        return None
    if value == "\\t":
        return "\t"
    if len(value) != 1 or value in '"\r\n':
        raise click.BadParameter(f"{value!r} is not a single separator character such as , ; | or \\t")
    return value
