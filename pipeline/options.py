"""Click parameter types that refuse, as usage errors, values the commands cannot use; options from declarations."""

from __future__ import annotations

import codecs
import dataclasses
import math
import os
from pathlib import Path

import click

from pipeline import config, params
from pipeline.errors import BpoKpoError
from pipeline.files import follow_links

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


class FormatChoice(click.Choice):
    """A choice of formats that, for a format named as another command or tool names it, says which one is meant:
    evaluate writes `json`, predict writes JSON lines."""

    def __init__(self, choices, meant: dict[str, str]):
        super().__init__(choices)
        self.meant = meant

    def convert(self, value, param, ctx):
        if isinstance(value, str) and value.lower() in self.meant and value not in self.choices:
            choices = ", ".join(self.choices)
            self.fail(f"{value!r} is not one of {choices}: {self.meant[value.lower()]}", param, ctx)
        return super().convert(value, param, ctx)


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


def complete_files(ctx, param, incomplete: str) -> list:
    """Tab completion offers the shell's own file names (for an option whose value is text, such as --input)."""
    from click.shell_completion import CompletionItem

    return [CompletionItem(incomplete, type="file")]


class ModelPath(click.ParamType):
    """A model file to read, a symlink followed to its target: an empty name (`--model "$MODEL"` with MODEL unset, or
    the variable set empty) and a path with no file name ('/') are refused; each ended in an "unexpected ValueError",
    or the empty variable was taken for no variable, and the checkout's own model scored."""

    name = "path"

    def shell_complete(self, ctx, param, incomplete: str) -> list:
        return complete_files(ctx, param, incomplete)

    def convert(self, value, param, ctx):
        if isinstance(value, Path):
            source = ctx.get_parameter_source(param.name) if ctx is not None else None
            if source is click.core.ParameterSource.DEFAULT and os.environ.get(param.envvar or "") == "":
                self.fail(f"{param.envvar} is set but empty: name the model file, or unset it", param, ctx)
            return follow_links(value)
        text = os.fspath(value)
        if not text:
            self.fail("is empty: give the model file", param, ctx)
        if not Path(text).name:
            self.fail(f"{text!r} is a folder, not a model file", param, ctx)
        # A link is the model it names, with the files beside it: its held-out model, and the model's own files that
        # an --output may not overwrite (through the link, the metadata was overwritten with scores).
        target = follow_links(Path(text))
        if target != Path(text) and not target.exists():
            # Named by its target alone, the fault read as a missing model at a path the user never typed.
            self.fail(f"{text!r} is a link to {os.fspath(target)!r}, which does not exist", param, ctx)
        return target


class ColumnName(click.ParamType):
    """A column's name: an empty one is refused as a usage error (exit 2), as predict refuses it, rather than looked
    for in each file and reported as a missing column (exit 1)."""

    name = "column"

    def convert(self, value, param, ctx):
        if value == "":
            self.fail("is empty: give a column's name", param, ctx)
        return value


class OutputPath(click.ParamType):
    """A file to write: '-' is standard output; a name ending in '/' is a folder, not a file, and is refused."""

    name = "path"

    def shell_complete(self, ctx, param, incomplete: str) -> list:
        return complete_files(ctx, param, incomplete)

    def convert(self, value, param, ctx):
        if isinstance(value, Path):
            return value
        text = os.fspath(value)
        if text.endswith(("/", os.sep)):
            self.fail(f"{text!r} ends with '/': give a file name, not a folder", param, ctx)
        refuse_windows_path(self, text, param, ctx)
        if not text:
            self.fail("is empty: give a file name", param, ctx)
        from pipeline.readers import document_named, is_archive_named

        kind = document_named(text)
        if kind is not None:
            # CSV under a workbook's or an archive's name is a file the spreadsheet or unzip refuses to open: what
            # --format csv wrote.
            plain = Path(text).with_suffix("") if config.compression_of(Path(text)) else Path(text)
            if is_archive_named(text):
                advice = _unarchived_name_advice(plain.with_suffix(""))
            else:
                advice = f" ({plain.with_suffix('.csv').name} opens in a spreadsheet)"
            self.fail(f"{text} names {kind}, which bpo-kpo does not write: name the file for what the command writes"
                      f"{advice}", param, ctx)  # fmt: skip
        return Path(text)


def _unarchived_name_advice(inner: Path) -> str:
    """The end of the message refusing an archive's name for an output, from the name inside the archive's suffix:
    the file compressed as written (scored.csv.gz for scored.csv.zip), or a model's own name, which train never
    compresses (model.joblib for model.joblib.zip)."""
    if config.compression_of(inner):
        inner = inner.with_suffix("")
    if inner.suffix.lower() in config.MODEL_SUFFIXES:
        return f" ({inner.name})"
    example = f" ({inner.name}{next(iter(config.COMPRESSION_SUFFIXES))})" if inner.suffix else ""
    from pipeline.readers import compressions_written

    return f", and end it in {compressions_written()} to compress it{example}"


def refuse_windows_path(param_type: click.ParamType, text: str, param, ctx) -> None:
    """Refuse a path written as Windows writes one: here it is one file or folder name, made in the current folder,
    with exit 0."""
    from pipeline.readers import windows_path

    if windows_path(text):
        param_type.fail(f"{text} holds '\\', which separates no folders on this system: write them with '/'", param,
                        ctx)  # fmt: skip


class FolderPath(click.ParamType):
    """A folder to write files into, made when missing; a path that exists and is no folder is refused before any
    work, not after the scoring it would have held."""

    name = "folder"

    def shell_complete(self, ctx, param, incomplete: str) -> list:
        from click.shell_completion import CompletionItem

        return [CompletionItem(incomplete, type="dir")]

    def convert(self, value, param, ctx):
        path = value if isinstance(value, Path) else Path(os.fspath(value))
        if not os.fspath(path):
            self.fail("is empty: give a folder", param, ctx)
        refuse_windows_path(self, os.fspath(path), param, ctx)
        if path.exists() and not path.is_dir():
            self.fail(f"{os.fspath(path)!r} exists and is not a folder", param, ctx)
        return path


def check_encoding(ctx, param, value: str | None) -> str | None:
    """Refuse an encoding Python does not know, naming some it does; None (not given) stays None."""
    if value is None:
        return None
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


class ParamValue(click.ParamType):
    """The values one declared parameter takes, checked by the same rule as its parameter file."""

    def __init__(self, spec) -> None:
        self.spec = spec
        choices = spec.metadata["choices"]
        kind = "words" if isinstance(spec.default, tuple) else type(spec.default).__name__
        self.name = "|".join(params.param_word(c) for c in choices) if choices else kind

    def convert(self, value, param, ctx):
        try:
            checked = params.parse_param(self.spec, value)
        except ValueError as error:
            self.fail(str(error), param, ctx)
        # None means "not given" to click: a value of None given on purpose (--class-weight none) is marked.
        return GIVEN_NONE if checked is None else checked


# An option given as `none`, told apart from an option not given.
GIVEN_NONE = object()


class ParamOption(click.Option):
    """An option whose default shown in --help is the value in force: the declaration's, or its group file's."""

    def __init__(self, *args, group: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.group = group

    def get_help_extra(self, ctx):
        extra = super().get_help_extra(ctx)
        try:
            value = getattr(getattr(config, self.group), self.name)
        except BpoKpoError:  # a broken parameter file: the command itself will say so
            value = next(f.default for f in params.settable(config.PARAM_GROUPS[self.group]) if f.name == self.name)
        extra["default"] = params.param_word(value)
        return extra


def param_options(group: type):
    """Click options for every settable parameter of a group (a dataclass of config.PARAM_GROUPS), from its
    declarations: the option's name, type, help and shown default all come from the field.

    Each option's default is None, meaning "the value in force" (see given_params): the parameter file is read
    when the command runs, never when the program starts.
    """
    name = next(key for key, value in config.PARAM_GROUPS.items() if value is group)

    def decorate(command):
        for spec in reversed(params.settable(group)):
            flag = "--" + spec.name.lower().replace("_", "-")
            names = [f"{flag}/--no-{flag[2:]}"] if isinstance(spec.default, bool) else [flag]
            extent = params.describe_range(spec)
            command = click.option(
                *names,
                spec.name,
                cls=ParamOption,
                group=name,
                type=None if isinstance(spec.default, bool) else ParamValue(spec),
                default=None,
                help=spec.metadata["help"] + (f" ({extent})" if extent else ""),
            )(command)
        return command

    return decorate


def given_params(in_force, values: dict):
    """A group's values in force (config.TRAIN: defaults, then its file) with the options given on the command line."""
    given = {name: None if value is GIVEN_NONE else value for name, value in values.items() if value is not None}
    return dataclasses.replace(in_force, **given)
