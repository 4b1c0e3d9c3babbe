"""The project's exception types: each carries a one-line message meant for the user."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path


class BpoKpoError(Exception):
    """An error the user can act on; the CLI prints it as one `Error:` line and exits 1."""


class DataError(BpoKpoError):
    """Input data is missing, malformed or inconsistent."""


class VocabularyError(DataError):
    """The TF-IDF step found no n-gram to read under its options; `problem` is that, without the advice on which
    options to change, which differs from command to command (tune sets min_df from its grid, not an option)."""

    def __init__(self, problem: str, advice: str) -> None:
        super().__init__(f"{problem}: {advice}")
        self.problem, self.advice = problem, advice

    def __reduce__(self):
        # Raised in tune's worker processes: pickled by its args alone, it could not be rebuilt in the parent.
        return type(self), (self.problem, self.advice)


class ModelError(BpoKpoError):
    """A model file or its metadata is missing, damaged or incompatible."""


class LibraryVersionError(ModelError):
    """The model was trained under another scikit-learn minor version, which cannot load it safely; its portable
    export, plain numbers, needs no scikit-learn."""


class WorkerError(BpoKpoError):
    """A worker process died (killed, or out of memory) before it returned its chunk."""


class Interrupted(KeyboardInterrupt):
    """A termination signal (SIGTERM, SIGHUP), handled like Ctrl-C: clean up, one line, exit 128 + signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def train_hint() -> str:
    """How to (re)train a model, in words that hold where the package runs: a checkout has the Makefile."""
    from pipeline import config

    if config.in_checkout():
        return "`make train`"
    # Installed from a wheel: the data and the Makefile live only in a checkout of the project.
    return "`make train` in a checkout of bpo-kpo"


@contextmanager
def model_files_read():
    """An OSError while the model's files are read, raised as the ModelError a service catches, naming the file: a
    name too long for the file system, or a file the service's user may not read, let the OSError out."""
    try:
        yield
    except OSError as error:
        what = error.filename if error.filename is not None else "the model's files"
        raise ModelError(f"cannot read {what}: {error.strerror or error}") from None


def require_model_file(path: Path, main: bool = True) -> None:
    """Raise the one message for a model file that is not there, before anything heavy is imported to load it; for
    the model a user names (`main`), also for a file beside it named in its place, which was told to retrain."""
    from pipeline import config

    if main:
        refuse_a_neighbour_of_the_model(Path(path))
    if not Path(path).is_file():
        raise ModelError(
            f"no model at {path}; train one with {train_hint()}, or pass --model (or set {config.MODEL_ENV_VAR}) "
            "to a model file"
        )


def refuse_a_neighbour_of_the_model(path: Path) -> None:
    """--model naming a folder, or a file that sits beside a model (its metadata, export, vectors or scope model):
    say which model file to pass. Each was told to retrain ("model.joblib.json.json is missing")."""
    from pipeline import config

    if path.is_dir():
        inside = _model_named(path / config.MODEL_PATH.stem)
        hint = f"pass the model file in it ({inside})" if inside.is_file() else "pass a model file (NAME.joblib)"
        raise ModelError(f"{path} is a folder, not a model file; {hint}")
    neighbours = (
        (config.PORTABLE_SUFFIX, "is the portable export of a model"),
        (config.CONFORMANCE_SUFFIX, "holds the conformance vectors of a model"),
        (config.METADATA_SUFFIX, "is the metadata of a model"),
    )
    for suffix, what in neighbours:
        stem = path.name.removesuffix(suffix)
        if not (path.name.endswith(suffix) and path.is_file()):
            continue
        if suffix == config.METADATA_SUFFIX:
            if Path(stem).suffix not in config.MODEL_SUFFIXES:
                continue  # a JSON file of another kind: the loader says what it lacks
            model = _main_model_of(path.with_name(stem)) or path.with_name(stem)
        else:
            # NAME.portable.json is NAME.joblib's (or NAME.skops's, when only that is there); the export of a
            # model of another format keeps its suffix in the name (model.skops.portable.json).
            named = path.with_name(stem)
            model = named if Path(stem).suffix.lower() in config.MODEL_SUFFIXES else _model_named(named)
        raise ModelError(f"{path} {what}, not the model itself; pass the model file ({model})")
    main = _main_model_of(path)
    if main is not None:
        raise ModelError(f"{path} is the scope model of {main}; pass {main}, which loads its scope model too")


def _model_named(stem: Path) -> Path:
    """The model file of a name without suffix: the one there of each format, else NAME.joblib."""
    from pipeline import config

    found = [stem.with_name(stem.name + suffix) for suffix in config.MODEL_SUFFIXES]
    return next((path for path in found if path.is_file()), found[0])


def _main_model_of(path: Path) -> Path | None:
    """The BPO/KPO model whose scope model `path` is named as (NAME.scope.joblib beside NAME.joblib), when that
    model is there; a model of its own that is merely named so is no scope model."""
    from pipeline import config

    for suffix in config.MODEL_SUFFIXES:
        scope_suffix = config.SCOPE_MODEL_INFIX + suffix
        if path.name.endswith(scope_suffix):
            main = path.with_name(path.name.removesuffix(scope_suffix) + suffix)
            return main if main.is_file() else None
    return None
