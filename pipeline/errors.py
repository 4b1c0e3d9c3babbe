"""The project's exception types: each carries a one-line message meant for the user."""

from __future__ import annotations

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


def require_model_file(path: Path) -> None:
    """Raise the one message for a model file that is not there, before anything heavy is imported to load it."""
    from pipeline import config

    if not Path(path).is_file():
        raise ModelError(
            f"no model at {path}; train one with {train_hint()}, or pass --model (or set {config.MODEL_ENV_VAR}) "
            "to a model file"
        )
