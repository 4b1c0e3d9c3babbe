"""Parameter values: checked against their declarations in config, read from and written to params/*.toml."""

from __future__ import annotations

import json
import math
from dataclasses import fields
from pathlib import Path

from pipeline.config import FALSE_WORDS, NONE_WORD, TRUE_WORDS
from pipeline.errors import DataError


def settable(group) -> list:
    """The fields of a parameter dataclass that options and files may set, in declaration order."""
    return [f for f in fields(group) if f.metadata.get("cli", False)]


def parse_param(spec, value):
    """A parameter's value from a file (TOML) or the command line (text), checked against its declaration.

    Raises ValueError with a message that says what the value must be.
    """
    default, meta = spec.default, spec.metadata
    choices = meta["choices"]
    if choices is not None:
        words = [NONE_WORD if c is None else c for c in choices]
        word = NONE_WORD if value is None else value
        if not isinstance(word, str) or word.lower() not in [w.lower() for w in words]:
            raise ValueError(f"must be one of {', '.join(words)}, not {value!r}")
        chosen = word.lower()
        if chosen == NONE_WORD and None in choices:
            return None
        return next(c for c in choices if c is not None and c.lower() == chosen)
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in TRUE_WORDS + FALSE_WORDS:
            return value.lower() in TRUE_WORDS
        raise ValueError(f"must be true or false, not {value!r}")
    if isinstance(default, tuple):
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
            raise ValueError(f"must be a list of words, not {value!r}")
        return tuple(i.strip() for i in items if i.strip())
    if isinstance(default, int):
        number = _number(value, int, "a whole number")
    elif isinstance(default, float):
        number = _number(value, float, "a number")
        if not math.isfinite(number):
            raise ValueError(f"{value!r} is not a finite number")
    else:
        if not isinstance(value, str):
            raise ValueError(f"must be text, not {value!r}")
        return value
    low, high = meta["low"], meta["high"]
    too_low = low is not None and (number <= low if meta["open_low"] else number < low)
    too_high = high is not None and (number >= high if meta["open_high"] else number > high)
    if too_low or too_high:
        raise ValueError(f"must be {describe_range(spec)}, not {value!r}")
    return number


def _number(value, kind, what: str):
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"must be {what}, not {value!r}")
    if kind is int and isinstance(value, float):
        raise ValueError(f"must be {what}, not {value!r}")
    try:
        return kind(value)
    except ValueError:
        raise ValueError(f"must be {what}, not {value!r}") from None


def describe_range(spec) -> str:
    """A parameter's range in words: 'above 0', 'from 1 to 4', '' when it has none."""
    meta = spec.metadata
    low, high = meta["low"], meta["high"]
    low_text = f"above {low}" if meta["open_low"] else f"at least {low}"
    high_text = f"below {high}" if meta["open_high"] else f"at most {high}"
    if low is not None and high is not None:
        return f"from {low} to {high}" if not (meta["open_low"] or meta["open_high"]) else f"{low_text} and {high_text}"
    return low_text if low is not None else high_text if high is not None else ""


def param_word(value) -> str:
    """A value as the command line and the parameter files write it."""
    if value is None:
        return NONE_WORD
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value)


def load_params(group: type, path: Path):
    """A group's values: its declared defaults, overridden by the file at `path` when there is one."""
    if not path.is_file():
        return group()
    import tomllib  # here, not at the top: a command that reads no parameter file does not load the parser

    try:
        with open(path, "rb") as handle:
            values = tomllib.load(handle)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise DataError(f"{path} is not valid TOML ({error}); fix it, or delete it to use the defaults") from None
    known = {spec.name: spec for spec in settable(group)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise DataError(f"{path}: no parameter named {', '.join(unknown)}; {group.__name__} has {', '.join(known)}")
    checked = {}
    for name, value in values.items():
        try:
            checked[name] = parse_param(known[name], value)
        except ValueError as error:
            raise DataError(
                f"{path}: {name} {error}; fix it, or delete the line to use the default "
                f"{param_word(known[name].default)}"
            ) from None
    return group(**checked)


def format_params(group: type, values: dict) -> str:
    """A parameter file's text: a header, then one `name = value` line for each value that is not the default."""
    lines = [
        f"# {group.__doc__.splitlines()[0]}",
        f"# Each line overrides a default declared in pipeline/config.py ({group.__name__}); the README lists them.",
        "# make reruns the stages that read this file when it changes.",
    ]
    for spec in settable(group):
        if spec.name in values and values[spec.name] != spec.default:
            lines.append(f"{spec.name} = {toml_value(values[spec.name])}")
    return "\n".join(lines) + "\n"


def toml_value(value) -> str:
    if value is None:
        return f'"{NONE_WORD}"'
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return json.dumps(str(value))  # a JSON string is a valid TOML basic string
