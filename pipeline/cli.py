"""The bpo-kpo command line: thin commands that parse options, read and write files, and call the stages."""

from __future__ import annotations

import codecs
import contextlib
import gc
import io
import itertools
import json
import os
import shlex
import shutil
import stat
import sys
import time
import traceback
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pipeline import config
from pipeline.errors import BpoKpoError, DataError, VocabularyError
from pipeline.files import follow_links
from pipeline.options import (
    ColumnName,
    FiniteFloatRange,
    FolderPath,
    FormatChoice,
    Jobs,
    ModelPath,
    OutputPath,
    check_encoding,
    check_separator,
    complete_files,
    given_params,
    param_options,
)
from pipeline.process import (
    OUT_OF_MEMORY,
    interrupt_message,
    interrupt_received,
    no_output_file,
    out_of_memory,
    output_kept,
    reader_gone,
    results_streamed,
    silence_stdout,
    standard_output_error,
    stop_if_interrupted,
    streamed_output,
)
from pipeline.readers import (
    DATA_SUFFIXES,
    file_name_given_as_text,
    format_suffix,
    unread_document_message,
)

if TYPE_CHECKING:
    import pandas as pd

EXIT_ERROR = 1


def _exit_interrupted(interrupt: KeyboardInterrupt) -> None:
    """End the run as the interrupt says: its one line on stderr and its exit code (130, or 128 + signal)."""
    message, code = interrupt_message(interrupt)
    click.echo(message, err=True)
    sys.exit(code)


class Group(click.Group):
    """A click group that turns the project's errors into one `Error:` line and exit code 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except BrokenPipeError:  # the reader went away (`| head`): stop quietly
            raise reader_gone() from None
        except KeyboardInterrupt as error:  # Ctrl-C, or SIGTERM / SIGHUP turned into Interrupted
            _exit_interrupted(error)
        except Exception as error:  # every failure ends in one line; --debug shows the traceback
            if (ctx.obj or {}).get("debug"):
                traceback.print_exc()
            interrupt = interrupt_received()
            if interrupt is not None:  # the interrupt surfaced as another error (an import's ImportError)
                _exit_interrupted(interrupt)
            folder_removed = not _working_folder_exists()
            if isinstance(error, BpoKpoError):
                message = str(error)
            elif out_of_memory(error):
                message = OUT_OF_MEMORY
            elif folder_removed and isinstance(error, FileNotFoundError) and error.filename is None:
                # A relative path, or Path.resolve(), fails on the removed folder with no name to give.
                message = FOLDER_REMOVED
            elif isinstance(error, OSError):
                message = standard_output_error(error)
                if message is not None:
                    silence_stdout()  # what the buffer still holds would fail again at exit: "Exception ignored", 120
                else:
                    message = f"{error.strerror or error}{f': {error.filename}' if error.filename else ''}"
            else:
                message = f"unexpected {type(error).__name__}: {error} (rerun with --debug for details)"
            if folder_removed and message != FOLDER_REMOVED:
                # A relative path there reads as missing ("input file jobs.csv does not exist"): say why.
                message += f"; {FOLDER_REMOVED}"
            line = _one_line(message)
            streamed = streamed_output()
            if streamed is not None:  # the rows above the error on stdout look like the whole output otherwise
                line += f"; the results on {streamed} stop part-way"
            click.echo(f"Error: {line}", err=True)
            sys.exit(EXIT_ERROR)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(
    version=None, package_name=config.PROGRAM_NAME, prog_name=config.PROGRAM_NAME, message="%(prog)s %(version)s"
)
@click.option("--debug", is_flag=True, help="Show Python tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Classify job postings as BPO (business process) or KPO (knowledge process) outsourcing work.

    Stages: prepare -> train -> report (make train runs all three); then predict, and evaluate on any labelled
    file. Every command runs with no options, using the project's default paths. Results go to stdout,
    messages to stderr.
    """
    ctx.obj = {"debug": debug}


def path_option(*names: str, default: Path, help: str):
    """A file or folder option with a default shown in --help; relative paths are taken from the working folder."""
    return click.option(*names, type=click.Path(path_type=Path), default=default, show_default=True, help=help)


def folder_option(*names: str, default: Path | None, help: str):
    """A folder to write files into, made when missing; a file of that name is refused before any work."""
    return click.option(*names, type=FolderPath(), default=default, show_default=default is not None, help=help)


def path_options(table: tuple[tuple[str, str, Path, str], ...]):
    """path_option for each (option, parameter, default, help) of a table, in its order in --help."""

    def decorate(command):
        for name, parameter, default, help in reversed(table):
            command = path_option(name, parameter, default=default, help=help)(command)
        return command

    return decorate


# The folders prepare reads and writes: option, parameter, default, help.
PREPARE_FOLDERS = (
    ("--catalogue", "catalogue_dir", config.CATALOGUE_DIR, "Folder of catalogue JSON files."),
    ("--labelled", "labelled_dir", config.USER_LABELLED_DIR,
     "Folder of your own labelled postings (CSV/JSONL with text, label), or one such file."),
    ("--written", "written_dir", config.WRITTEN_DIR,
     "Folder of the postings written for the project by other hands, trained on beside the generated ones (an "
     "empty folder leaves them out)."),
    ("--field", "field_dir", config.FIELD_DIR, "Folder of the hand-written field set (evaluated, never trained on)."),
    ("--challenge", "challenge_dir", config.CHALLENGE_DIR,
     "Folder of the challenge set (JSONL; evaluated and perturbed, never trained on)."),
    ("--output-dir", "output_dir", config.PROCESSED_DIR,
     "Where train.csv, test.csv, field.csv, challenge.csv and summary.json are written."),
)  # fmt: skip


def value_option(*names: str, type: click.ParamType, default=None, help: str):
    """An option taking a checked value (a choice, a range); its default, when it has one, shown in --help."""
    return click.option(*names, type=type, default=default, show_default=default is not None, help=help)


def engine_option(help: str):
    """--engine of predict and serve: which scorer reads the model."""
    return value_option("--engine", type=click.Choice(config.ENGINES), default="auto", help=help)


def output_option(*names: str, default: Path | None, help: str):
    """A file the command writes: '-' is standard output; a name ending in '/' is refused."""
    return click.option(*names, type=OutputPath(), default=default, show_default=default is not None, help=help)


# The --model option of every command that reads a model.
model_option = click.option(
    "--model",
    "model_path",
    type=ModelPath(),
    default=config.MODEL_PATH,
    show_default=True,
    envvar=config.MODEL_ENV_VAR,
    show_envvar=True,
    help="Model file (its metadata sits beside it, with .json added to its name).",
)

# The --encoding option of every command that reads the user's postings. Not given, it is None, and the readers
# read UTF-8 or follow a UTF-16 byte order mark: no encoding's name does both, so none is shown as the default
# (`[default: utf-8-sig]` was shown, and given, utf-8-sig refused the UTF-16 input that no --encoding read).
encoding_option = click.option(
    "--encoding",
    default=None,
    callback=check_encoding,
    help="Input encoding; default: UTF-8, or UTF-16 where the input starts with UTF-16's byte order mark.",
)


def _one_line(message: str) -> str:
    """An error message as one line fit for a terminal. Ids and file names come from the input: an escape sequence
    or a bidirectional control in one reached the terminal, and a line break made the one line two."""
    try:
        from pipeline.predict import strip_control
    except MemoryError:  # out of memory, even for the import: a traceback from the handler itself hid the message
        return message.replace("\n", " ")
    return strip_control(message.replace("\n", " "))


FOLDER_REMOVED = "the working directory was removed while this shell was in it: cd to a folder that exists"


def _working_folder_exists() -> bool:
    try:
        os.getcwd()
    except FileNotFoundError:
        return False
    return True


def _say(message: str) -> None:
    click.echo(message, err=True)


@contextlib.contextmanager
def _solver_warnings():
    """scikit-learn's ConvergenceWarning silenced, in the worker processes too (scikit-learn's Parallel hands them
    the filters), and the project's SolverStopped said once, as one `Warning:` line: `train --max-iter 1` printed
    thirty warnings of source lines and links, about 280 lines, and the model was written without another word."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from pipeline.train import SolverStopped

    shown_before, said = warnings.showwarning, set()

    def show(message, category, filename, lineno, file=None, line=None):
        if not issubclass(category, SolverStopped):
            shown_before(message, category, filename, lineno, file, line)
        elif str(message) not in said:
            said.add(str(message))
            _say(f"Warning: {message}")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("always", SolverStopped)
        warnings.showwarning = show
        yield


def _report_goes_to_stderr(outputs: dict[str, Path | None]) -> bool:
    """True when one of a command's --output files is standard output ('-'): stdout then carries that document
    alone, and the readable report goes to stderr. Printed beside it, `evaluate --output -` wrote its metrics JSON
    twice, or JSON above a text report, and neither could be parsed. Two outputs on stdout are refused."""
    on_stdout = [option for option, path in outputs.items() if path is not None and _is_stdout(path)]
    if len(on_stdout) > 1:
        raise click.UsageError(f"{', '.join(on_stdout)}: only one output can be standard output ('-'); give the "
                               "others a file")  # fmt: skip
    return bool(on_stdout)


def _is_stdout(path: Path) -> bool:
    """'-', or a path to the file standard output is (/dev/stdout, /proc/self/fd/1): the same stream either way."""
    if str(path) == config.STANDARD_STREAM:
        return True
    try:
        return os.path.samestat(os.stat(path), os.fstat(sys.stdout.fileno()))
    except (OSError, ValueError, AttributeError):  # no such file, or stdout closed or not a real descriptor
        return False


def _check_project_data(path: Path, command: str, instead: str) -> None:
    """Refuse a default data path inside an installed package, which carries no data, with what to do instead.

    Without this, a wheel's user is told to run `bpo-kpo prepare`, which then fails the same way.
    """
    path = Path(path)
    if config.in_checkout() or path.exists() or not path.resolve().is_relative_to(config.PROJECT_ROOT.resolve()):
        return
    raise DataError(
        f"this installed bpo-kpo has no project data ({path} does not exist): run `bpo-kpo {command}` in a "
        f"checkout of bpo-kpo (`make train` does every stage), or {instead}"
    )


def _refuse_writing_over_input(output: Path | None, inputs, option: str = "--output") -> None:
    """An output naming an input file would replace the postings with scores or a model: refused before any
    work. Devices and pipes are left alone (a terminal is both /dev/stdin and /dev/stdout)."""
    if output is None or not Path(output).is_file():
        return
    for path in inputs:
        if path and str(path) == config.STANDARD_STREAM and _standard_input_is(output):
            raise click.UsageError(f"{option} {output} is the file standard input reads from: write to another file")
        if path and str(path) != config.STANDARD_STREAM and Path(path).is_file() and os.path.samefile(output, path):
            raise click.UsageError(f"{option} {output} is the input file {path}: write to another file")


def _standard_input_is(path: Path) -> bool:
    """Whether standard input is redirected from the file `path` (`< jobs.csv`): its rename over the file left the
    scores where the postings had been."""
    try:
        reading = os.fstat(sys.stdin.fileno())
        return stat.S_ISREG(reading.st_mode) and os.path.samestat(reading, os.stat(path))
    except (AttributeError, OSError, ValueError):  # no stdin, or one without a descriptor (a test's runner)
        return False


def _refuse_writing_over_model(model_path: Path, outputs: dict[str, Path | None]) -> None:
    """An output named as one of the model's files (report --output models/model.joblib.json, the metadata) would
    replace it with a report or scores: refused before any work."""
    own = {path.resolve() for path in config.model_files(model_path)}
    for option, path in outputs.items():
        if path is not None and str(path) != config.STANDARD_STREAM and Path(path).resolve() in own:
            raise click.UsageError(f"{option} {path} is one of the model's own files: write to another file")


def _given(parameter: str) -> bool:
    """Whether the current command's option `parameter` was given (on the command line or by its variable), rather
    than left at its default."""
    return click.get_current_context().get_parameter_source(parameter) is not click.core.ParameterSource.DEFAULT


def _check_given_folders(table: tuple[tuple[str, str, Path, str], ...], values: dict[str, Path]) -> None:
    """A folder named on the command line must be one: a mistyped --field gave an empty field set without a word,
    and --output-dir /dev/null failed only after the data was built. --labelled and --written take one file too."""
    for option, parameter, _, _ in table:
        if not _given(parameter):
            continue
        path = Path(values[parameter])
        if parameter == "output_dir":
            if path.exists() and not path.is_dir():
                raise click.BadParameter(f"{path} exists and is not a folder", param_hint=option)
        elif not path.exists():
            raise click.BadParameter(f"{path} does not exist", param_hint=option)
        elif not path.is_dir() and parameter not in ("labelled_dir", "written_dir"):
            raise click.BadParameter(f"{path} is a file: pass the folder that holds it", param_hint=option)


# -- prepare ---------------------------------------------------------------------------------------------------
@cli.command()
@param_options(config.PrepareParams)
@path_options(PREPARE_FOLDERS)
@click.option(
    "--allow-shortcuts",
    is_flag=True,
    help="Report words that tie one class without being function terms, but do not stop on them.",
)
def prepare(
    catalogue_dir, labelled_dir, written_dir, field_dir, challenge_dir, output_dir, allow_shortcuts, **values
) -> None:
    """Build the labelled dataset from data/raw into train, test and field splits, and audit it for shortcuts.

    The shortcut audit checks every word and bigram in at least 1% of either class's postings in the training
    and test splits (what the shipped model learns from): one whose frequency differs more than threefold between
    the classes must be a function term of the lexicon.
    """
    # Before the imports: a wheel's user hears it at once, not after a second of loading scikit-learn.
    _check_project_data(catalogue_dir, "prepare", "pass --catalogue with a folder of catalogue files")
    _check_given_folders(
        PREPARE_FOLDERS,
        {"catalogue_dir": catalogue_dir, "labelled_dir": labelled_dir, "written_dir": written_dir,
         "field_dir": field_dir, "challenge_dir": challenge_dir, "output_dir": output_dir},
    )  # fmt: skip
    import pandas as pd

    from pipeline.audit import (
        audit_data,
        audit_user_postings,
        class_frequencies,
        features_brought,
        format_data_audit,
        format_user_audit,
        shortcut_features,
        shortcut_message,
        user_shortcut_message,
    )
    from pipeline.catalogue import breadth_counts, load_catalogue
    from pipeline.dataset import (
        build_dataset,
        format_user_postings,
        in_scope,
        load_challenge_set,
        load_field_set,
        load_user_postings,
        near_copies_of_another_label,
        summarise,
        user_postings_placed,
    )
    from pipeline.files import atomic_path, write_text_atomic

    params = given_params(config.PREPARE, values)
    catalogue = load_catalogue(catalogue_dir)
    user_postings = load_user_postings(labelled_dir)
    written_postings = load_user_postings(written_dir, config.SOURCE_WRITTEN)
    splits = build_dataset(
        catalogue,
        params,
        user_postings,
        load_field_set(field_dir),
        load_challenge_set(challenge_dir),
        written_postings,
    )
    if warning := near_copies_of_another_label(user_postings, labelled_dir, written_postings):
        _say(warning)
    # The audit reads what the shipped model learns from: the training and test splits (see the Makefile).
    learnt = in_scope(pd.concat([splits[name] for name in config.SHIPPED_SPLITS], ignore_index=True))
    frequencies = class_frequencies(
        learnt[config.TEXT_COLUMN].tolist(), learnt[config.LABEL_COLUMN].tolist(), catalogue.lexicon.masked
    )
    audit = audit_data(frequencies, catalogue.lexicon)
    click.echo(format_data_audit(audit))
    # Users' postings apart: too few to reach the audit's share, they can still teach the model a habit of theirs.
    # A warning, not a stop: a word of theirs may name a function the lexicon lacks.
    theirs = learnt[learnt[config.SOURCE_COLUMN] == config.SOURCE_USER]
    user_audit, yours = None, frozenset()
    if len(theirs):
        brought = features_brought(
            frequencies, theirs[config.TEXT_COLUMN].tolist(), catalogue.lexicon, config.AUDIT.user_min_count
        )
        user_audit, yours = audit_user_postings(brought, len(theirs)), frozenset(brought["feature"])
    if audit["n_shortcuts"]:
        message = shortcut_message(
            audit,
            shortcuts=shortcut_features(frequencies, catalogue.lexicon),
            yours=yours,
            folder=labelled_dir,
            allowed=allow_shortcuts,
        )
        if not allow_shortcuts:
            raise DataError(message)
        _say("Warning: " + message)
    if user_audit is not None:
        click.echo(format_user_audit(user_audit, labelled_dir))
        if user_audit["n_shortcuts"]:
            _say("Warning: " + user_shortcut_message(user_audit, labelled_dir))
    output_dir.mkdir(parents=True, exist_ok=True)
    for name, frame in splits.items():
        with atomic_path(output_dir / f"{name}.csv") as temporary:
            frame.to_csv(temporary, index=False, lineterminator="\n")
    summary = {
        "params": asdict(params),
        "breadth": breadth_counts(catalogue),
        "splits": summarise(splits),
        "shortcut_audit": audit,
        "user_postings": user_postings_placed(user_postings, splits),
        "written_postings": user_postings_placed(written_postings, splits, config.SOURCE_WRITTEN),
    }
    if user_audit is not None:
        summary["user_postings_audit"] = user_audit
    write_text_atomic(output_dir / config.DATASET_SUMMARY_PATH.name, json.dumps(summary, indent=2) + "\n")
    click.echo("breadth: " + ", ".join(f"{k}={v}" for k, v in summary["breadth"].items()))
    for name, counts in summary["splits"].items():
        click.echo(f"{name:>5}: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
    if summary["written_postings"]["read"]:
        click.echo(format_user_postings(summary["written_postings"], written_dir, "written postings"))
    else:  # an empty --written folder is a choice: the run says what it trains on, as it does for a full one
        click.echo(f"written postings in {written_dir}: none, so the BPO/KPO postings are generated ones alone")
    if summary["user_postings"]["read"]:
        click.echo(format_user_postings(summary["user_postings"], labelled_dir))


# -- train -----------------------------------------------------------------------------------------------------
@cli.command()
@click.option(
    "--data",
    "data_paths",
    type=click.Path(path_type=Path),
    multiple=True,
    help="Labelled split written by prepare, or a CSV or JSON-lines file of your own with text and label; repeat "
    "it, or give more files as arguments, to train on several "
    f"(default: {config.TRAIN_PATH.relative_to(config.PROJECT_ROOT)}; make train fits the shipped model on "
    "train.csv and test.csv, after a model on train.csv alone that the test figures come from).",
)
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@output_option(
    "--model",
    "model_path",
    default=config.MODEL_PATH,
    help="Where to write the model; its metadata goes beside it, with .json added to its name.",
)
@value_option(
    "--format",
    "model_format",
    type=click.Choice(config.MODEL_FORMATS),
    help="joblib, or skops for models that cross a trust boundary; default: from --model's suffix, else joblib.",
)
@param_options(config.TrainParams)
@value_option("--jobs", type=Jobs(), default=2, help="Processes for the cross-validation.")
def train(data_paths, files, model_path, model_format, jobs, **values) -> None:
    """Fit the TF-IDF + logistic-regression Pipeline and save it with its metadata.

    The labelled files come from --data and the arguments alike, so `--data splits/*.csv` reads every file the
    shell expands it to."""
    data_paths = (*data_paths, *files) or (config.TRAIN_PATH,)
    # A link is trained as its target: the model went through it while its metadata and scope model landed beside it,
    # and neither path then loaded.
    model_path = follow_links(model_path)
    for data_path in data_paths:
        _check_project_data(data_path, "train", "pass --data with a labelled CSV or JSON-lines file")
    if format_suffix(model_path) in DATA_SUFFIXES:  # train --data mine.csv --model mine.csv pickled over the data
        raise click.UsageError(f"--model {model_path} is named as a data file: name the model NAME.joblib or .skops")
    if config.compression_of(model_path):
        # It wrote an uncompressed pickle under the .gz name, beside a scope model named NAME.joblib.scope.gz.
        raise click.UsageError(
            f"--model {model_path} names a compressed file, and a model is saved uncompressed: name it "
            f"{Path(model_path).with_suffix('').name}"
        )
    if Path(model_path).stem.endswith(config.SCOPE_MODEL_INFIX):
        # The name of the scope model that training NAME.joblib writes: one would take the other's place.
        raise click.UsageError(
            f"--model {model_path} is named as the scope model of another model (NAME{config.SCOPE_MODEL_INFIX}"
            f"{Path(model_path).suffix} beside NAME{Path(model_path).suffix}): name the model otherwise"
        )
    _refuse_writing_over_input(model_path, data_paths, "--model")
    from pipeline.files import check_folder_can_be, check_folder_writable, refuse_what_stands_in_the_way
    from pipeline.metadata import training_time

    check_folder_can_be(model_path.parent, model_path)  # before the minutes of fitting, not after
    check_folder_writable(model_path.parent, model_path)
    written = [model_path, config.scope_model_path(model_path)]
    refuse_what_stands_in_the_way([*written, *map(config.metadata_path, written)])
    training_time()  # a $SOURCE_DATE_EPOCH that is no time, too
    from pipeline.audit import audit_pipeline, beyond_chance, model_shortcut_message
    from pipeline.dataset import check_files_labels_agree, in_scope, join_splits, read_split
    from pipeline.metadata import PAIRED_MODEL
    from pipeline.model import save_model, scope_path
    from pipeline.scope import scope_params, scope_splits, train_scope_model
    from pipeline.train import all_scheme_splits, check_label_counts, held_out_units, train_model, training_warnings

    params = given_params(config.TRAIN, values)
    model_format = model_format or config.MODEL_SUFFIXES.get(model_path.suffix.lower(), "joblib")
    lexicon = _lexicon()
    params = replace(params, masked_words=_masked_words(lexicon))
    # Each file is read once: for the models, and for what their metadata keeps of it.
    splits = [(path, read_split(path)) for path in data_paths]
    everything = join_splits(splits)
    check_files_labels_agree(splits)  # as prepare refuses them: one text given two labels in the data
    frame = in_scope(everything)
    # Read before either model is fitted: a broken params/scope.toml stops the run with no model written, not
    # between the BPO/KPO model and its scope model.
    scope_rules = config.SCOPE if (everything[config.LABEL_COLUMN] == config.NEITHER).any() else None
    # Data whose folds either model could not learn from stops the run here, the BPO/KPO model's counts first.
    check_label_counts(frame[config.LABEL_COLUMN], params.cv_folds)
    scheme_folds = all_scheme_splits(frame, params)
    if scope_rules is not None:
        scope_splits(everything, scope_params(params, scope_rules), scope_rules)
    minutes = round(len(everything) * config.TRAIN_SECONDS_PER_POSTING / 60)
    _say(
        f"training on {len(frame)} BPO/KPO postings from {', '.join(map(str, data_paths))}: {params.cv_folds}-fold "
        "cross-validation under three shifts, calibration and the final fit"
        + (", then the scope model (" if scope_rules is not None else " (")
        + (f"about {minutes} minute{'s' * (minutes > 1)} on 2 cores)" if minutes else "under a minute)")
    )
    started = time.perf_counter()
    training_files = _training_files(splits)
    with _solver_warnings():
        pipeline, metadata = train_model(frame, params, n_jobs=jobs, scheme_folds=scheme_folds)
    metadata["training_data"] |= training_files
    validation = metadata["metrics"]["validation_grouped_cv"]
    threshold, review_band = metadata["threshold"], metadata["review_band"]
    _say(f"trained in {time.perf_counter() - started:.1f}s")
    if scope_rules is not None:
        _say(
            "training the scope model (out of scope: NEITHER) on every out-of-scope posting, every written or "
            "user's one, then generated BPO/KPO postings in the order drawn, up to "
            f"{scope_rules.in_scope_per_out_of_scope:g} BPO/KPO postings per out-of-scope one in all"
        )
        with _solver_warnings():
            scope_pipeline, scope_metadata = train_scope_model(everything, params, scope_rules, n_jobs=jobs)
        scope_metadata["training_data"] |= _training_files(splits, every_row=True)
    # Both are fitted before either file is written, so the pair already there stays whole while they train,
    # and a training stopped on the way leaves it as it was.
    model_path.parent.mkdir(parents=True, exist_ok=True)
    saved = save_model(pipeline, model_path, metadata, model_format)
    _say(f"wrote {model_path} ({model_path.stat().st_size:,} bytes)")
    scope_recall = None
    if scope_rules is not None:
        scope_metadata[PAIRED_MODEL] = saved["model_sha256"]
        save_model(scope_pipeline, scope_path(model_path), scope_metadata, model_format)
        figures = scope_metadata["metrics"]["validation_grouped_cv"]
        scope_recall = figures["out_of_scope_recall"]
        click.echo(
            f"scope ({scope_metadata['training_data']['rows']} postings; held-out {held_out_units(everything)}): "
            f"out-of-scope recall {figures['out_of_scope_recall']:.3f}, in-scope flagged "
            f"{figures['in_scope_flagged_share']:.3f}; threshold {scope_metadata['threshold']:.2f}"
        )
    else:
        _say("no out-of-scope (NEITHER) postings: no scope model was fitted, and predict gives no out_of_scope flags")
        _remove_stale_scope_model(scope_path(model_path))
    click.echo(
        f"validation (held-out {held_out_units(frame)}): accuracy {validation['accuracy']:.3f}, "
        f"macro-F1 {validation['macro_f1']:.3f}, ECE {validation['ece']:.3f}; "
        f"threshold {threshold:.2f}, review band ±{review_band:.2f}; sha256 {saved['model_sha256'][:12]}"
    )
    for warning in training_warnings(len(frame), params.cv_folds, scope_recall):
        _say(f"Warning: {warning}")
    # report audits make train's model; train audits any model it fits, since a file of one's own (train --data)
    # never met prepare's audit of the data.
    audit = audit_pipeline(pipeline, frame, lexicon) if lexicon is not None else None
    shortcuts = beyond_chance(audit) if audit is not None else []
    if shortcuts:
        _say(f"Warning: {model_shortcut_message(shortcuts, audit['top_k'])}")
    untitled = metadata["validation_invariance"]["title_removed"]
    if untitled:
        click.echo(
            f"title removed (held-out {held_out_units(frame)}): {untitled['flipped_share']:.1%} of {untitled['n']:,} "
            f"labels flip, mean |dP(KPO)| {untitled['mean_abs_delta']:.3f}"
        )


def _output_name(path: Path) -> str:
    """How messages name an output: its path, or "standard output" for '-' (it said "wrote -")."""
    return "standard output" if str(path) == config.STANDARD_STREAM else str(path)


def _set_name(path: Path) -> str:
    """How reports name a set: its path, or "standard input" for '-'."""
    return config.STANDARD_STREAM_NAME if str(path) == config.STANDARD_STREAM else str(path)


def _remove_stale_scope_model(path: Path) -> None:
    """A scope model from an earlier training beside a model fitted on data without out-of-scope postings would
    be loaded with it, though fitted on other data: remove it and its metadata."""
    from pipeline.model import metadata_path

    stale = [file for file in (path, metadata_path(path)) if file.exists()]
    for file in stale:
        file.unlink()
    if stale:
        _say(f"removed {path} and its metadata: the data holds no out-of-scope postings to fit a scope model on")


def _lexicon():
    """The function-term lexicon; None, said so, where it is absent: training then masks no word."""
    from pipeline.audit import load_lexicon

    if not config.FUNCTION_TERMS_PATH.is_file():
        _say(f"no function-term lexicon at {config.FUNCTION_TERMS_PATH}: training without masked words")
        return None
    return load_lexicon()


def _masked_words(lexicon) -> tuple[str, ...]:
    """The lexicon's masked words, which the model does not read."""
    return tuple(sorted(lexicon.masked)) if lexicon is not None else ()


def _training_files(splits: list[tuple[Path, pd.DataFrame]], every_row: bool = False) -> dict:
    """What a model's metadata keeps of each training file: its path and the hash of the rows it learns from, by
    which evaluate and report find the postings the models learnt (pipeline/held_out.py). The BPO/KPO model's are
    the BPO/KPO rows; the scope model's, `every_row`, all of them, so that an edit to out-of-scope rows alone is
    seen too (it was not, and the scope model was scored on postings it had learnt)."""
    from pipeline.dataset import data_hash, in_scope

    files = []
    for path, frame in splits:
        rows = frame if every_row else in_scope(frame)
        entry = {"path": _relative(path), "sha256": data_hash(rows), "rows": len(rows)}
        files.append(entry | ({config.EVERY_ROW_HASHED: True} if every_row else {}))
    return {"files": files}


def _relative(path: Path) -> str:
    """A path inside the project relative to it (a clone elsewhere finds it); any other path absolute."""
    try:
        return str(Path(path).resolve().relative_to(config.PROJECT_ROOT))
    except ValueError:
        return str(Path(path).resolve())


# -- tune ------------------------------------------------------------------------------------------------------
@cli.command()
@path_option(
    "--data",
    "data_path",
    default=config.TRAIN_PATH,
    help="Training split written by prepare, or a labelled CSV or JSON-lines file of your own.",
)
@output_option("--output", default=config.TUNING_PATH, help="Where to write every configuration's grouped-CV score.")
@value_option("--jobs", type=Jobs(), default=-1, help="Processes for the search (-1: all cores).")
@click.option(
    "--apply",
    is_flag=True,
    help="Write the chosen values into params/train.toml (atomically); make train then retrains with them.",
)
def tune(data_path, output, jobs, apply) -> None:
    """Search TF-IDF and logistic-regression parameters by cross-validation holding out areas and forms."""
    _check_project_data(data_path, "tune", "pass --data with a labelled CSV or JSON-lines file")
    _refuse_writing_over_input(output, [data_path])  # the search takes minutes, then wrote over its data
    from pipeline.dataset import check_files_labels_agree, in_scope, join_splits, read_split
    from pipeline.files import write_text_atomic
    from pipeline.params import format_params
    from pipeline.progress import StepProgress, duration
    from pipeline.train import params_from_search, tune_parameters

    train_file = config.params_path("TRAIN")
    if str(output) != config.STANDARD_STREAM:
        from pipeline.files import check_folder_can_be, check_folder_writable

        check_folder_can_be(Path(output).parent, output)  # before the search's minutes, not after
        check_folder_writable(Path(output).parent, output)
    if apply and not config.in_checkout():
        raise DataError(f"--apply writes {train_file.name} in a checkout of bpo-kpo; run tune there, or drop --apply")
    # Read as train reads its files, so an id repeated in the file is refused here too.
    splits = [(data_path, read_split(data_path))]
    frame = in_scope(join_splits(splits))
    check_files_labels_agree(splits)
    for scheme, column in (("areas", config.AREA_COLUMN), ("forms", config.FORM_COLUMN)):
        if column not in frame:  # the two columns below would be one search twice, named for shifts it never made
            _say(f"{data_path} has no {column!r} column: the '{scheme} held out' search holds out groups instead")
    n_configs = 1
    for values in config.TUNING_GRID.values():
        n_configs *= len(values)
    _say(
        f"searching {n_configs} configurations x {config.TRAIN.cv_folds} grouped folds, with areas and then forms "
        f"held out, on {len(frame)} postings"
    )
    params = replace(config.TRAIN, masked_words=_masked_words(_lexicon()))
    # The search takes minutes: a bar on a terminal, and how long it took anywhere.
    progress = StepProgress(sys.stderr, live=sys.stderr.isatty(), unit="fits")
    try:
        with _solver_warnings():
            result = tune_parameters(frame, params, n_jobs=jobs, on_fit=progress.update)
    except VocabularyError as error:
        # Its advice names train's options; the search takes min_df and max_features from its grid instead.
        min_dfs = " and ".join(map(str, config.TUNING_GRID[f"{config.VECTORIZER_STEP}__min_df"]))
        raise DataError(
            f"{error.problem}: tune's grid sets min_df to {min_dfs}, too many for {data_path}: tune on more "
            "postings, or train on it with --min-df 1"
        ) from None
    finally:
        progress.clear()
    _say(f"searched in {duration(time.perf_counter() - progress.started)}")
    output.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(output, json.dumps(result, indent=2) + "\n")
    to_stderr = _report_goes_to_stderr({"--output": output})
    click.echo(f"{'areas held out':>17}  {'forms held out':>17}  parameters", err=to_stderr)
    for row in result["results"][:10]:
        area, form = (f"{row[f'{key}_macro_f1']:.4f} ± {row[f'{key}_std']:.4f}" for key in ("area", "form"))
        click.echo(f"{area:>17}  {form:>17}  {row['params']}", err=to_stderr)
    click.echo(f"chosen ({result['rule']}): {result['best']['params']}", err=to_stderr)
    best = params_from_search(result["best"], config.TRAIN)
    changed = {k: v for k, v in asdict(best).items() if getattr(config.TRAIN, k) != v}
    if not apply:
        _say(
            f"wrote {_output_name(output)}; chosen changes: {changed or 'none'}; rerun with --apply to write them to "
            f"{train_file}"
        )
        return
    write_text_atomic(train_file, format_params(config.TrainParams, asdict(best)))
    _say(f"wrote {_output_name(output)} and {train_file} ({changed or 'no change'}); `make train` retrains with it")


# -- evaluate --------------------------------------------------------------------------------------------------
@cli.command()
@model_option
@click.option(
    "--data",
    "data_paths",
    type=click.Path(path_type=Path),
    multiple=True,
    help="Labelled CSV/JSONL file to score (repeat it, or give more files as arguments); - for stdin; default: "
    "the test split, the field set and the challenge set.",
)
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--text-column",
    type=ColumnName(),
    default=config.TEXT_COLUMN,
    show_default=True,
    help="Column holding the posting.",
)
@click.option(
    "--label-column", type=ColumnName(), default=config.LABEL_COLUMN, show_default=True, help="Column holding BPO/KPO."
)
@encoding_option
@click.option(
    "--by",
    "by",
    type=ColumnName(),
    multiple=True,
    help="Report metrics per value of this column too (repeatable); 'length' buckets by word count, "
    "'form_clarity' pairs the form with clear or borderline.",
)
@value_option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    help="A readable report, or every metric as JSON on stdout.",
)
@value_option(
    "--threshold",
    type=FiniteFloatRange(0, 1),
    help="P(KPO) at which the label becomes KPO, as predict --threshold sets it; default: the tuned value of the "
    "model that scores each set.",
)
@value_option(
    "--min-macro-f1", type=FiniteFloatRange(0, 1), help="Exit 1 when any evaluated set's macro-F1 is below this."
)
@output_option("--output", default=None, help="Also write the metrics JSON here ('-': stdout).")
@folder_option("--plots", "plots_dir", default=None, help="Also write the PNG plots into this folder.")
def evaluate(
    model_path,
    data_paths,
    files,
    text_column,
    label_column,
    encoding,
    by,
    output_format,
    threshold,
    min_macro_f1,
    output,
    plots_dir,
) -> None:
    """Score labelled postings and report per-class metrics and the confusion matrix.

    The labelled files come from --data and the arguments alike, so `--data field/*.jsonl` scores every file
    the shell expands it to."""
    data_paths = (*data_paths, *files)
    by = _slices_after_renames(by, text_column, label_column) if by else None
    if not data_paths:
        _check_project_data(config.TEST_PATH, "evaluate", "pass --data with your own labelled CSV or JSONL file")
    _refuse_writing_over_input(output, data_paths)
    _refuse_writing_over_model(model_path, {"--output": output})
    to_stderr = _report_goes_to_stderr({"--output": output})
    if output is None and sys.stdout is None:  # the report would go into the /dev/null standing in for it, exit 0
        raise DataError("standard output is closed; write the metrics to a file with --output FILE")
    from pipeline.evaluate import format_report, sets_below
    from pipeline.files import write_text_atomic
    from pipeline.model import load_model
    from pipeline.readers import read_labelled
    from pipeline.report import (
        evaluate_model,
        evaluation_document,
        evaluation_warnings,
        format_scope,
        nothing_evaluated,
        write_evaluation_plots,
    )

    if plots_dir:
        from pipeline.files import check_folder_can_be

        check_folder_can_be(plots_dir)
    model = load_model(model_path)
    fix = "choose with --text-column / --label-column"
    sets = {
        _set_name(p): read_labelled(
            p, text_column, label_column, encoding=encoding, column_fix=fix, encoding_option=True
        )
        for p in data_paths
    } or None
    # The project's own sets go on without one that no model here may score honestly; a file you name does not.
    evaluation = evaluate_model(
        model, sets, by, lambda: _held_out_model(model_path), skip_unscorable=sets is None, threshold=threshold
    )
    warnings, results = evaluation_warnings(evaluation), evaluation_document(evaluation)
    if not results:
        raise DataError(nothing_evaluated(evaluation))
    for warning in warnings:
        _say(f"Warning: {warning}")
    if min_macro_f1 is not None and evaluation.skipped:
        # A quality gate that passed without checking a set would say more than it knows.
        raise BpoKpoError(f"--min-macro-f1 could not check {', '.join(evaluation.skipped)}: see the warning above")
    # Nor may it pass on a file of out-of-scope postings alone, which has no macro-F1 to hold to it.
    unlabelled = [name for name in sets or {} if name not in evaluation.results]
    if min_macro_f1 is not None and unlabelled:
        raise BpoKpoError(f"--min-macro-f1 could not check {', '.join(unlabelled)}: no BPO or KPO postings in it")
    if plots_dir:
        write_evaluation_plots(plots_dir, evaluation, model.top_ngrams())
    if output:
        write_text_atomic(output, json.dumps(results, indent=2) + "\n")
    if output_format == "json":
        if not to_stderr:  # else the same document is on stdout already
            click.echo(json.dumps(results, indent=2))
    else:
        parts = [format_report(name, metrics) for name, metrics in evaluation.results.items()]
        click.echo("\n\n".join(parts + ([format_scope(evaluation.scope)] if evaluation.scope else [])), err=to_stderr)
    below = sets_below(evaluation.results, min_macro_f1) if min_macro_f1 is not None else {}
    if below:
        raise BpoKpoError(
            f"macro-F1 below --min-macro-f1 {min_macro_f1}: " + ", ".join(f"{k} {v:.3f}" for k, v in below.items())
        )


def _slices_after_renames(by: tuple[str, ...], text_column: str, label_column: str) -> tuple[str, ...]:
    """--by names as the file names its columns: the chosen text and label columns are read as `text` and `label`,
    and a column of those names that they displace is left out. `--label-column gold --by gold` said the file had
    no column 'gold', and `--by label` sliced by gold without a word."""
    chosen = {text_column: config.TEXT_COLUMN, label_column: config.LABEL_COLUMN}
    for option, column, standard in (("--text-column", text_column, config.TEXT_COLUMN),
                                     ("--label-column", label_column, config.LABEL_COLUMN)):  # fmt: skip
        if standard in by and column != standard:
            raise click.UsageError(
                f"--by {standard}: the file's own {standard!r} column is left out, as {option} {column} reads "
                f"{column!r} in its place; slice by {column!r}"
            )
    return tuple(chosen.get(column, column) for column in by)


def _refuse_project_outputs_for_another_model(model_path: Path, outputs: dict[str, Path]) -> None:
    """report on a model of one's own (train --model models/exp.joblib) wrote its figures over the shipped model's
    metrics, errors, plots and card, which make then took as up to date: each default output needs naming anew."""
    if Path(model_path).resolve() == config.MODEL_PATH.resolve():
        return
    # The shipped model's record: where the command's own options write by default.
    record = {param.opts[0]: param.default for param in click.get_current_context().command.params}
    kept = [option for option, path in outputs.items() if Path(path).resolve() == Path(record[option]).resolve()]
    if kept:
        raise click.UsageError(
            f"report --model {model_path} would write over the shipped model's record in {config.MODELS_DIR}: give "
            f"{', '.join(kept)} a place of their own (for example beside the model)"
        )


def _held_out_model(model_path: Path):
    """The model fitted without the test split beside `model_path` (config.held_out_model_path), or None."""
    from pipeline.model import load_model

    path = config.held_out_model_path(model_path)
    return load_model(path) if path.exists() else None


# -- report ---------------------------------------------------------------------------------------------------
@cli.command()
@model_option
@output_option("--output", default=config.METRICS_PATH, help="Where to write every metric of every evaluation set.")
@output_option("--errors", "errors_path", default=config.ERRORS_PATH, help="Where to write the misclassified rows.")
@output_option(
    "--scope-errors", "scope_errors_path", default=config.SCOPE_ERRORS_PATH, help="Where to write the scope mistakes."
)
@folder_option("--plots", "plots_dir", default=config.PLOTS_DIR, help="Folder for the PNG plots.")
@output_option("--model-card", "card_path", default=config.MODEL_CARD_PATH, help="Where to write the model card.")
@value_option("--jobs", type=Jobs(), default=2, help="Processes for the validation scores (-1: all cores).")
def report(model_path, output, errors_path, scope_errors_path, plots_dir, card_path, jobs) -> None:
    """Evaluate the test split, field set and challenge set; audit the model for shortcuts and run the invariance
    suite; write metrics, errors, plots and the model card (make train)."""
    _check_project_data(config.TEST_PATH, "report", "use `bpo-kpo evaluate --data FILE` on your own labelled file")
    outputs = {
        "--output": output,
        "--errors": errors_path,
        "--scope-errors": scope_errors_path,
        "--model-card": card_path,
    }
    _refuse_writing_over_model(model_path, outputs)
    _refuse_project_outputs_for_another_model(model_path, outputs | {"--plots": plots_dir})
    from pipeline.files import check_folder_can_be

    check_folder_can_be(plots_dir)
    to_stderr = _report_goes_to_stderr(outputs)
    for option, path in outputs.items():  # the sets report scores, and the training split
        _refuse_writing_over_input(
            path, [config.TRAIN_PATH, config.TEST_PATH, config.FIELD_PATH, config.CHALLENGE_PATH], option
        )
    from pipeline.evaluate import format_report, format_summary
    from pipeline.files import atomic_writer, write_text_atomic
    from pipeline.invariance import failing_families, format_table
    from pipeline.model import load_model
    from pipeline.model_card import render_model_card
    from pipeline.report import build_report, format_model_audit, format_scope, write_evaluation_plots

    model = load_model(model_path)
    _say("evaluating every set; recomputing the out-of-fold validation scores for errors.csv (about 30 s)")
    built = build_report(model, lambda: _held_out_model(model_path), n_jobs=jobs)
    if not built.has_validation:
        _say("the model's training files are missing or changed since training: errors.csv leaves out validation")
    document, errors = built.document, built.errors
    write_evaluation_plots(plots_dir, built.evaluation, built.ngrams)
    for path, table in ((errors_path, errors), (scope_errors_path, built.scope_errors)):
        with atomic_writer(path, "w", encoding="utf-8", newline="") as handle:
            table.to_csv(handle, index=False, lineterminator="\n")
    write_text_atomic(output, json.dumps(document, indent=2) + "\n")
    write_text_atomic(
        card_path, render_model_card(model.metadata, document, errors, built.ngrams, model.scope_metadata)
    )
    results = document["sets"]
    parts = [
        *(format_report(name, metrics) for name, metrics in results.items()),
        "summary (accuracy of borderline and clear-cut postings where the set marks them):\n" + format_summary(results),
        format_scope(document["scope"]),
        format_model_audit(document["model_shortcut_audit"]),
        format_table(document["invariance"]),
    ]
    click.echo("\n\n".join(parts), err=to_stderr)
    _say(
        f"wrote {_output_name(output)}, {_output_name(errors_path)} ({len(errors)} rows), {_output_name(card_path)} "
        f"and plots in {plots_dir}"
    )
    if failing_families(document["invariance"]):
        _say("Warning: some perturbation families exceed the invariance limits (see the table above)")


# -- export ----------------------------------------------------------------------------------------------------
@cli.command()
@model_option
@path_option(
    "--output",
    default=None,
    help="Where to write the portable model, named NAME.portable.json; default: beside the model.",
)
def export(model_path, output) -> None:
    """Write the model as portable JSON, and its conformance vectors, for scorers in any language (make train)."""
    from pipeline.export import export_model
    from pipeline.model import load_model

    if output is not None:
        _check_export_output(output)
    written, vectors = export_model(load_model(model_path), output)
    _say(f"wrote {written} ({written.stat().st_size:,} bytes) and {vectors}")


def _check_export_output(output: Path) -> None:
    """--output of export: a new or regular file named *.portable.json, so that neither it nor the conformance
    vectors written beside it can land on another file of the model's (--output models/model.joblib replaced the
    model, and a metadata file ends in .json too)."""
    if not output.name.endswith(config.PORTABLE_SUFFIX) or output.name == config.PORTABLE_SUFFIX:
        raise click.UsageError(f"--output {output} must be named NAME{config.PORTABLE_SUFFIX}, as the export is")
    if output.exists() and not output.is_file():
        raise click.UsageError(f"--output {output} is not a regular file: the conformance vectors go beside it")
    from pipeline.files import check_output_folder

    check_output_folder(output)


# -- predict ---------------------------------------------------------------------------------------------------
@cli.command()
@click.argument("texts", nargs=-1)
@click.option(
    "--input",
    "input_path",
    default=None,
    help="CSV, JSONL or TXT file (one posting per line), or one compressed (.gz, .bz2, .xz); - for stdin.",
    shell_complete=complete_files,
)
@value_option(
    "--input-format",
    type=click.Choice(config.INPUT_FORMATS),
    help="Input format; default: from the file suffix, and txt for stdin, but a table read so (a CSV header, or "
    "JSON objects) is refused: name its format.",
)
@click.option(
    "--text-column",
    "text_columns",
    multiple=True,
    default=(config.TEXT_COLUMN,),
    show_default=True,
    help="Column(s) holding the posting; repeat to join several, e.g. title and description.",
)
@click.option(
    "--id-column",
    default=None,
    help=f"Column passed through as the id; default: the input's '{config.ID_COLUMN}' column when it has one, else the "
    "row number.",
)
@click.option(
    "--keep-column",
    "keep_columns",
    multiple=True,
    help="Input column copied into each output row after the id, e.g. title; repeat to keep several. CSV and JSON "
    "lines, in and out.",
)
@value_option(
    "--format",
    "output_format",
    type=FormatChoice(config.OUTPUT_FORMATS, config.OUTPUT_FORMATS_MEANT),
    help="Output format; default: table on a terminal, else jsonl (or from --output's suffix).",
)
@output_option(
    "--output",
    default=None,
    help="Write results here (atomically) instead of stdout ('-': stdout); compressed if named .gz, .bz2 or .xz.",
)
@model_option
@value_option(
    "--threshold",
    type=FiniteFloatRange(0, 1),
    help="P(KPO) at which the label becomes KPO; default: the model's tuned value.",
)
@value_option(
    "--review-band",
    type=FiniteFloatRange(0, 0.5),
    help="needs_review when P(KPO) is this close to the threshold; default: the model's tuned value.",
)
@value_option(
    "--scope-threshold",
    type=FiniteFloatRange(0, 1),
    help="P(out of scope) at which a posting is flagged out_of_scope; default: the scope model's tuned value.",
)
@value_option(
    "--explain",
    type=click.IntRange(min=0),
    default=config.PREDICT.explain,
    help="Add the K n-grams that pushed each posting most toward its label; weights are log-odds toward KPO "
    "(+ pushes toward KPO, - toward BPO). With the scope model, also the K that pushed it most toward its scope "
    "verdict (scope_explanation; + toward out of scope).",
)
@value_option("--jobs", type=Jobs(), default=1, help="Worker processes (-1: all cores; at most 4 per core).")
@value_option(
    "--chunk-size",
    type=click.IntRange(min=1),
    default=config.PREDICT.chunk_size,
    help="Postings read and scored at a time.",
)
@value_option(
    "--max-text-chars",
    type=click.IntRange(min=1),
    default=config.PREDICT.max_text_chars,
    help="A longer posting gets an error row; a line found running past 16 times this as the input is read (in "
    "blocks of 64 KiB) stops the run.",
)
@encoding_option
@click.option("--sep", default=None, callback=check_separator, help="CSV separator; default: detected from the header.")
@value_option(
    "--on-error",
    type=click.Choice(["row", "fail"]),
    default="row",
    help="A posting that cannot be scored (no text, or over --max-text-chars): keep its row with an error field, "
    "or stop with exit 1.",
)
@click.option(
    "--keep-formulas",
    is_flag=True,
    help="In CSV output, write ids and kept columns starting with = + - @ as they are; by default a ' keeps "
    "spreadsheets from running them as formulas.",
)
@click.option(
    "--quiet", is_flag=True, help="No progress line, summary or notes on stderr; errors and warnings still show."
)
@engine_option(
    help="portable: the JSON export, no scikit-learn (fast start); sklearn: the Pipeline (fastest on large "
    "files, --jobs); auto: portable for arguments and small files when its export matches the model.",
)
def predict(
    texts,
    input_path,
    input_format,
    text_columns,
    id_column,
    keep_columns,
    output_format,
    output,
    model_path,
    threshold,
    review_band,
    scope_threshold,
    explain,
    jobs,
    chunk_size,
    max_text_chars,
    encoding,
    sep,
    keep_formulas,
    on_error,
    quiet,
    engine,
) -> None:
    """Label postings given as arguments, or every row of a file or of stdin (a lone - or --input -).

    One output row per input row, in input order, with its id, label, p_bpo, p_kpo and needs_review, and, with
    the scope model beside the model, out_of_scope, p_out_of_scope and scope_reason: a posting of work that is
    neither BPO nor KPO (or text that is no job posting) keeps its BPO/KPO label but is flagged out of scope.
    """
    if input_path is not None and not str(input_path).strip():  # `--input "$FILE"` with FILE unset: read as none
        raise click.UsageError("--input is empty: give a file name, or - for standard input")
    if config.STANDARD_STREAM in texts:
        # `... | bpo-kpo predict -`: the lone dash means standard input, as it does for --input and other tools,
        # not a posting whose text is a dash.
        if len(texts) > 1:
            raise click.UsageError("- reads postings from standard input; give it alone, without other postings")
        if not input_path:  # beside --input it is a second input: the check below refuses both
            texts, input_path = (), config.STANDARD_STREAM
    if texts and input_path:
        raise click.UsageError("give postings as arguments or --input, not both")
    if (given := file_name_given_as_text(texts)) is not None:
        name, exists = given
        # --input would only refuse such a file in turn; one that is not there is no file to extract or save as text.
        unread = unread_document_message(name) if exists else None
        if unread:
            raise click.UsageError(f"{unread}, then pass that file with --input (an argument is a posting)")
        what = "is a file" if exists else "looks like a file name (and there is no such file)"
        raise click.UsageError(
            f"{name!r} {what}, not a posting: pass --input {shlex.quote(name)} to score the rows of a file"
        )
    if not texts and not input_path:
        raise click.UsageError("give postings as arguments, - to read them from standard input, or --input FILE")
    _refuse_table_options_without_a_table(texts, input_path, input_format)
    _refuse_empty_column_names(text_columns, id_column, keep_columns, input_path, input_format, encoding, sep)
    jobs = (os.cpu_count() or 1) if jobs == -1 else jobs
    if output is not None and str(output) == config.STANDARD_STREAM:
        output = None
    if output is None and sys.stdout is None:
        raise DataError("standard output is closed; write the results to a file with --output FILE")
    if input_path == config.STANDARD_STREAM and sys.stdin is None:
        raise DataError("standard input is closed; pipe postings in, or pass --input FILE")
    from pipeline.files import atomic_writer, check_output_folder, writes_in_place

    # Rows that go out as they come, where no rename keeps a part-written output from view.
    streamed = output is None or writes_in_place(output)
    if output is not None:
        check_output_folder(output)
        if not streamed and Path(output).exists():
            output_kept(output)  # from here on, as an interrupt while the model loads leaves it as it was too
    _refuse_writing_over_input(output, [input_path])
    _refuse_writing_over_model(model_path, {"--output": output})
    if engine == "portable" and jobs > 1:
        raise click.UsageError("--jobs needs --engine sklearn (or auto); the portable scorer runs in one process")
    _refuse_a_format_the_output_name_contradicts(output_format, output)
    output_format = output_format or _default_output_format(output)
    keep_columns = _check_kept_columns(keep_columns, output_format, keep_formulas)
    with _startup():
        from pipeline.engines import chooses_after_first_chunk, open_engine, prefers_portable, whole_and_small
        from pipeline.predict import (
            FORMATTERS,
            SUMMARY_COUNTS,
            ScoreOptions,
            TableFormatter,
            bare_title_note,
            output_fields,
            table_id_width,
        )
        from pipeline.progress import Progress
        from pipeline.readers import Chunk, argument_text, iter_chunks

        # A pipe's length is known only once it ends, and a compressed file's once it is read: `auto` reads their
        # first chunk before choosing, so that a few postings start in a tenth of a second, as they do from a
        # small file, and a long stream gets the faster scikit-learn engine.
        prefer_portable = prefers_portable(jobs, input_path)
        choose_after_first = not prefer_portable and chooses_after_first_chunk(engine, jobs, input_path)
        if not choose_after_first:
            model = open_engine(engine, model_path, prefer_portable, on_fallback=_say)
    if texts:
        texts = tuple(argument_text(text) for text in texts)
        chunks = iter([Chunk(ids=[str(i + 1) for i in range(len(texts))], texts=[t.strip() or None for t in texts])])
    else:
        if input_path == config.STANDARD_STREAM and sys.stdin is not None and sys.stdin.isatty() and not quiet:
            # Otherwise a person who typed `--input -` sees a command that seems to hang.
            _say("reading postings from the terminal, one per line; end with Ctrl-D")
        chunks = iter_chunks(
            input_path,
            input_format,
            tuple(dict.fromkeys(text_columns)),  # a column named twice was scored twice over
            id_column,
            chunk_size,
            encoding,
            sep,
            max_text_chars,
            keep_columns,
        )
    # The first chunk is read before anything is written: input it cannot read (a missing column, a table piped as
    # text) ends the run with stdout empty, not with a CSV header above no rows; and a table's id column is sized
    # from it, so every line aligns.
    first = next(chunks, None)
    chunks = itertools.chain([first] if first else [], chunks)
    id_like = [column for column in (first.id_like if first is not None else []) if column not in keep_columns]
    if id_like:
        # A warning that --quiet keeps: the ids such a column holds are not in the output (unless kept), and
        # nothing said so.
        _say(f"Warning: {id_like_message(id_like, config.ID_COLUMN)}")
    if first is not None and first.repeats_left_out:
        # A warning that --quiet keeps, as the id one is: columns of the input are not in the output.
        repeated = ", ".join(map(repr, first.repeats_left_out))
        _say(f"Warning: the input repeats the column name(s) {repeated}, which this run does not read: those columns "
             "were left out (give each its own name to read or keep one)")  # fmt: skip
    kept_with_values: set[str] = set()
    header_again: list[int] = []
    chunks = _noting(chunks, kept_with_values, header_again)
    if choose_after_first:
        with _startup():
            model = open_engine(engine, model_path, whole_and_small(first, chunk_size), on_fallback=_say)
    if scope_threshold is not None and not model.has_scope:
        raise click.UsageError(
            f"--scope-threshold needs the scope model beside the model ({config.scope_model_path(model_path)}), "
            "and there is none: retrain with make train"
        )
    options = ScoreOptions.of(model, threshold, review_band, explain, scope_threshold, max_text_chars)
    if output_format == "table":
        width = shutil.get_terminal_size((config.TABLE_WIDTH, 24)).columns
        formatter = TableFormatter(
            output_fields(options), width, table_id_width(first.ids if first else [], width), keep_formulas
        )
    else:
        formatter = FORMATTERS[output_format](output_fields(options, keep_columns), keep_formulas=keep_formulas)
    to_terminal = (output is None and sys.stdout.isatty()) or _is_the_terminal_of_stderr(output)
    progress = Progress(
        sys.stderr,
        # Live only where a person watches stderr, and never over results being written to that terminal.
        live=bool(input_path) and not quiet and sys.stderr.isatty() and not to_terminal,
        # A file or a stream of postings gets a summary, wherever stderr goes; postings given as arguments don't.
        summary=bool(input_path or output) and not quiet,
        names=tuple(name for name, _ in SUMMARY_COUNTS),
        total_bytes=_input_size(input_path),
    )
    results = model.score_chunks(chunks, options, formatter, jobs)
    bare_titles = 0
    stream_name = _output_name(output) if output is not None else "standard output"

    def write_all(handle) -> None:
        nonlocal bare_titles
        handle.write(formatter.header())
        for scored in results:
            bare_titles += scored.bare_titles
            if on_error == "fail" and scored.first_error is not None:
                index, row_id, error = scored.first_error
                # By its number too: an empty id once named no row at all ("row with id  cannot be scored").
                row = f"row {progress.counts['rows'] + index + 1} ({f'id {row_id}' if row_id else 'no id'})"
                raise DataError(f"{row} cannot be scored: {error} (--on-error fail)")
            try:
                handle.write(scored.text)
                handle.flush()
            except KeyboardInterrupt:
                # A full pipe held the write up, and its reader may have read rows of it already.
                if streamed and scored.text:
                    results_streamed(stream_name)
                raise
            if streamed and scored.text:  # rows are out where no rename keeps them from view: an end now cuts them
                results_streamed(stream_name)
            progress.update(scored.counts, scored.position)
        stop_if_interrupted()  # an interrupt Python dropped must not end in a complete-looking output

    try:
        if output is None:
            write_all(_results_stream(output_format))
        else:
            with atomic_writer(output, "w", encoding="utf-8", newline="") as handle:
                write_all(handle)
    finally:
        # Stop the workers now, whatever ended the run: a closed pipe, an error, an interrupt.
        results.close()
        # An error or Ctrl-C must not print its message after a half-drawn progress line.
        progress.clear()
    progress.finish(f"wrote {_output_name(output)}" if output is not None else "results on standard output")
    if bare_titles and not quiet:
        # Of the rows scored, which are the rows counted: an error row is neither a title nor a posting read.
        _say(bare_title_note(bare_titles, progress.counts["rows"] - progress.counts["errors"]))
    if header_again:
        # A warning that --quiet keeps, as a scored header is a row of nonsense among the results.
        _say(f"Warning: {header_again_message(header_again)}")
    empty = [column for column in keep_columns if column not in kept_with_values]
    # A warning that --quiet keeps: a script that misspells a kept field gets an empty column, and said nothing.
    if empty and progress.counts["rows"]:
        _say(f"Warning: no row had a value for {', '.join(map(repr, empty))} (--keep-column): check the name")


def _refuse_table_options_without_a_table(
    texts: tuple[str, ...], input_path: str | None, input_format: str | None
) -> None:
    """--text-column and --id-column name columns, and --sep splits a CSV's: beside postings given as arguments, or
    an input of another format, they were ignored without a word, and a table exported as jobs.txt had its header
    and every row, ids and separators included, scored as postings. Standard input without --input-format is
    plain text too: the options were ignored there, and the lines scored as they are."""
    options = (
        ("--text-column", "text_columns"),
        ("--id-column", "id_column"),
        ("--keep-column", "keep_columns"),
        ("--sep", "sep"),
    )
    given = [option for option, parameter in options if _given(parameter)]
    if not given:
        return
    what = f"{' and '.join(given)} {'apply' if len(given) > 1 else 'applies'} to"
    if texts:
        raise click.UsageError(f"{what} the columns of a CSV or JSON-lines input, which postings given as arguments "
                               "do not have")  # fmt: skip
    from pipeline.readers import detect_format

    kind = detect_format(input_path, input_format)
    if kind == "txt" or (kind == "jsonl" and "--sep" in given):
        read_as = "plain text, one posting per line" if kind == "txt" else "JSON lines"
        name, csv_only = _set_name(input_path), "--sep" in given
        formats = "csv (a tab-separated one too)" if csv_only else "csv (a tab-separated one too) or jsonl"
        raise click.UsageError(
            f"{what} the columns of a CSV{'' if csv_only else ' or JSON-lines input'}, and {name} is read as "
            f"{read_as}: if it is a table, name its format with --input-format {formats}"
        )


def _refuse_empty_column_names(
    text_columns: tuple[str, ...],
    id_column: str | None,
    keep_columns: tuple[str, ...],
    input_path: str,
    input_format: str | None,
    encoding: str | None,
    sep: str | None,
) -> None:
    """An empty column name is refused, naming the name pandas reads a column with an empty header cell by: an empty
    --id-column was taken for none, and the rows numbered without a word (`--id-column "$COLUMN"` with COLUMN unset,
    or the empty first name of a header pandas' to_csv wrote with its index)."""
    from pipeline.readers import detect_format, unnamed_columns

    for option, names in (
        ("--text-column", text_columns),
        ("--id-column", () if id_column is None else (id_column,)),
        ("--keep-column", keep_columns),
    ):
        if "" not in names:
            continue
        # Standard input is read for its header only where it is no terminal, which would wait for a person to type.
        readable = input_path != config.STANDARD_STREAM or not (sys.stdin is None or sys.stdin.isatty())
        csv_header = readable and detect_format(input_path, input_format) == "csv"
        unnamed = unnamed_columns(input_path, encoding, sep) if csv_header else []
        hint = (
            f"; the input's column with no name (pandas' to_csv writes its index so) is read as {unnamed[0]!r}: pass "
            f"{option} {shlex.quote(unnamed[0])}"
            if unnamed
            else ""
        )
        raise click.BadParameter(f"is empty: give a column's name{hint}", param_hint=f"'{option}'")


def _is_the_terminal_of_stderr(output: Path | None) -> bool:
    """Whether --output names the terminal that stderr shows (/dev/stdout, /dev/tty, /dev/fd/1 on it): the
    progress bar was drawn through the results written there."""
    if output is None or sys.stderr is None or not sys.stderr.isatty():
        return False
    if os.path.realpath(output) == "/dev/tty":
        return True  # the process's own terminal, a device of its own that names no other: stderr's, most likely
    try:
        device, terminal = os.stat(output), os.fstat(sys.stderr.fileno())
    except (OSError, ValueError):
        return False
    return stat.S_ISCHR(device.st_mode) and device.st_rdev == terminal.st_rdev


def id_like_message(columns: list[str], id_name: str) -> str:
    """What to do when rows are numbered beside columns that look like ids."""
    named = " or ".join(map(repr, columns[:3]))
    return (f"rows are numbered for ids, as the input has no {id_name!r} column; to keep the ids in {named}, "
            f"pass --id-column {shlex.quote(columns[0])}")  # fmt: skip


def header_again_message(rows: list[int]) -> str:
    """What the rows that repeat a CSV's header are, and what to do: the first five numbers, then a count."""
    if len(rows) == 1:
        return (f"data row {rows[0]} repeats the header, as files joined with cat do, and was scored as a posting: "
                "join CSV files with one header (tail -n +2 of each file after the first)")  # fmt: skip
    shown = ", ".join(map(str, rows[:5])) + (f" and {len(rows) - 5} more" if len(rows) > 5 else "")
    return (f"data rows {shown} repeat the header, as files joined with cat do, and were scored as postings: join "
            "CSV files with one header (tail -n +2 of each file after the first)")  # fmt: skip


def _noting(chunks, kept_with_values: set[str], header_again: list[int]):
    """The chunks, unchanged, noting what is told only once the input ends: each kept column that has a value in
    some row (a JSON-lines field may be missing from any record, so a misspelt one is found only at the end), and
    the data rows that repeat a CSV's header (files joined with cat)."""
    for chunk in chunks:
        kept_with_values.update(column for column, values in chunk.kept.items() if any(v is not None for v in values))
        header_again.extend(chunk.header_again)
        yield chunk


def _check_kept_columns(keep_columns: tuple[str, ...], output_format: str, keep_formulas: bool) -> tuple[str, ...]:
    """The columns --keep-column names, each once, in order: refused where the output has no place for them (the
    table, for a person at a terminal), where one would take the name of a result field, or where two would take one
    name in a CSV header."""
    if not keep_columns:
        return ()
    if output_format == "table":
        raise click.UsageError(
            "--keep-column adds columns to CSV and JSON-lines output, and this output is a table: pass --format csv "
            "or --format jsonl (or --output FILE.csv)"
        )
    taken = [column for column in keep_columns if column in config.RESULT_FIELDS]
    if taken and taken[0] == config.ID_COLUMN:
        raise click.UsageError(
            f"--keep-column {config.ID_COLUMN!r}: every output row has an {config.ID_COLUMN!r} already, the input's "
            f"{config.ID_COLUMN!r} column's value (or --id-column's); to keep another id beside it, name that column"
        )
    if taken:
        raise click.UsageError(
            f"--keep-column {taken[0]!r} would give the output two {taken[0]!r} fields, and predict writes its own: "
            "rename that column in the input (to compare a labelled file with the model, use bpo-kpo evaluate)"
        )
    keep_columns = tuple(dict.fromkeys(keep_columns))
    if output_format == "csv" and not keep_formulas:
        _refuse_kept_names_one_header_cell_would_hold(keep_columns)
    return keep_columns


def _refuse_kept_names_one_header_cell_would_hold(keep_columns: tuple[str, ...]) -> None:
    """A CSV header gives a kept column's name that looks like a formula a leading ', so `=x` is headed as a column
    named `'=x` is: both kept, the header named two columns alike, and reading the output back was refused for it."""
    from pipeline.predict import neutralise_formula

    headed: dict[str, str] = {}
    for column in keep_columns:
        shown = neutralise_formula(column)
        if shown in headed:
            raise click.UsageError(
                f"--keep-column {headed[shown]!r} and --keep-column {column!r} would both be headed {shown!r} in the "
                "CSV output, where a name starting with = + - or @ gets a leading ' so that spreadsheets do not run "
                "it: pass --keep-formulas to write names and values as they are, or keep one of the two"
            )
        headed[shown] = column


def _results_stream(output_format: str):
    """Standard output, made fit for results. CSV and JSON lines go out as UTF-8 whatever the locale's encoding, as
    they do to a file: an ASCII or Latin-1 locale (PYTHONIOENCODING=ascii, an old terminal) stopped the run at the
    first id or n-gram it lacked, after the header. A table, for a person to read, keeps the terminal's encoding
    and shows such a character as '?'."""
    stream = sys.stdout
    if not isinstance(stream, io.TextIOWrapper):
        return stream
    if output_format == "table":
        stream.reconfigure(errors="replace")
    elif codecs.lookup(stream.encoding).name != "utf-8":
        stream.reconfigure(encoding="utf-8")
    return stream


def _input_size(input_path: str | None) -> int | None:
    """The size of a regular input file in bytes, for the percentage; None for stdin, pipes and devices."""
    if not input_path or input_path == config.STANDARD_STREAM:
        return None
    with contextlib.suppress(OSError):
        info = os.stat(input_path)
        if stat.S_ISREG(info.st_mode) and info.st_size > 0:
            return info.st_size
    return None


# -- serve -----------------------------------------------------------------------------------------------------
@cli.command()
@model_option
@engine_option(
    help="portable: the JSON export; sklearn: the Pipeline; auto: portable when its export matches the model.",
)
@click.option("--host", default=config.SERVE.host, show_default=True, help="Address to listen on.")
@value_option("--port", type=click.IntRange(1, 65535), default=config.SERVE.port, help="Port.")
def serve(model_path, engine, host, port) -> None:
    """Serve the model over HTTP: POST /predict, GET /health, GET /model, OpenAPI docs at /docs.

    The model is loaded and checked once, at start. SIGTERM, SIGHUP or Ctrl-C finish open requests, then stop.
    """
    no_output_file("the service did not start")  # until it serves, when the signals end it with exit 0
    try:
        from pipeline.serve import serve as run_service
        from pipeline.serve import url
    except ImportError:
        raise BpoKpoError("serve needs the optional extra: pip install 'bpo-kpo[serve]'") from None
    from pipeline.engines import open_engine

    scorer = open_engine(engine, model_path, on_fallback=_say)
    message = f"serving {model_path} with the {scorer.name} engine on {url(host, port)} (docs at /docs)"
    run_service(scorer, host, port, on_listening=lambda: _say(message))


@contextlib.contextmanager
def _startup():
    """Import scikit-learn and load the model with the cyclic garbage collector paused.

    Start-up makes over 100,000 tracked objects (modules, classes, functions) that live until exit, and
    collecting them while they are made, and again at exit, only rescans them: a quarter of a second of a
    one-posting command. Once loaded they are frozen out of later collections, so streaming a large file never
    rescans them, and forked workers leave the pages holding them shared.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def _refuse_a_format_the_output_name_contradicts(output_format: str | None, output: Path | None) -> None:
    """`--format csv --output scored.jsonl` wrote CSV under a JSON-lines name, and `--format table --output x.csv`
    a table: whatever reads the file by its name then fails on it, or misreads it."""
    if output_format is None or output is None:
        return
    named = config.OUTPUT_SUFFIXES.get(format_suffix(output))
    if named is not None and named != output_format:
        raise click.UsageError(
            f"--format {output_format} and --output {output}, whose name says {named}, disagree: drop --format (the "
            "name decides), or name the file for the format"
        )


def _default_output_format(output: Path | None) -> str:
    """From --output's suffix (.csv, .jsonl); jsonl with no suffix; a table on a terminal, else jsonl."""
    if output is None:
        return "table" if sys.stdout.isatty() else "jsonl"
    suffix = format_suffix(output)
    if suffix in config.OUTPUT_SUFFIXES:
        return config.OUTPUT_SUFFIXES[suffix]
    if not suffix:
        return "jsonl"
    known = ", ".join(config.OUTPUT_SUFFIXES)
    raise click.BadParameter(
        f"cannot tell the format of {output} from its suffix {suffix!r}; name the file with {known} (then .gz, .bz2 "
        f"or .xz to compress it), or pass --format {' / '.join(f for f in config.OUTPUT_FORMATS)}",
        param_hint="--output",
    )
