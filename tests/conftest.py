"""Shared fixtures: the real catalogue and shipped model, and a small model trained in a temporary folder."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline import config
from pipeline.config import near_copy_cache_dir

# The fixtures import the package's heavy modules when they run: pytest-xdist's controller, which loads this file
# but runs no test, then never loads scikit-learn.

# The environment variables that size the BLAS and OpenMP thread pools numpy and scikit-learn start.
THREAD_POOL_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
CACHE_HOME_VAR = config.CACHE_HOME_VAR
_CACHE_HOME = pytest.StashKey[str | None]()


def pytest_configure(config):
    # The suite already runs a worker per core (-n auto): a thread pool per worker as wide as the machine would
    # oversubscribe the cores, and idle pool threads spin. Set before the workers and their commands start.
    for name in THREAD_POOL_VARIABLES:
        os.environ.setdefault(name, "1")
    # evaluate's near-copy cache (pipeline/learnt_index.py): one folder for the run, shared by the workers and their
    # commands, never the user's own. The process that starts the workers makes it and removes it at the end.
    if not hasattr(config, "workerinput"):
        config.stash[_CACHE_HOME] = os.environ.get(CACHE_HOME_VAR)
        users_folder = near_copy_cache_dir()
        os.environ[CACHE_HOME_VAR] = tempfile.mkdtemp(prefix="bpo-kpo-test-cache-")
        _copy_entries(users_folder, near_copy_cache_dir())


def _copy_entries(source: Path | None, destination: Path) -> None:
    """Start the suite's cache with copies of the user's entries, which `make train` has just filled for the shipped
    model: an entry is named by the bytes it was built from and the code that built it, so a copy is only ever read
    for the same file and code, and the suite still never writes to the user's folder."""
    destination.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        for entry in source.glob("*.npz") if source is not None else ():
            with contextlib.suppress(OSError):  # an entry pruned by another process meanwhile
                shutil.copyfile(entry, destination / entry.name)


def pytest_unconfigure(config):
    if _CACHE_HOME in config.stash:
        shutil.rmtree(os.environ[CACHE_HOME_VAR], ignore_errors=True)
        previous = config.stash[_CACHE_HOME]
        if previous is None:
            os.environ.pop(CACHE_HOME_VAR, None)
        else:
            os.environ[CACHE_HOME_VAR] = previous


@pytest.fixture(scope="session")
def catalogue():
    from pipeline.catalogue import load_catalogue

    return load_catalogue()


@pytest.fixture(scope="session")
def shipped_model_path() -> Path:
    """The model `make train` built; `make test` builds it first."""
    if not config.MODEL_PATH.is_file():
        pytest.fail(f"{config.MODEL_PATH} is missing: run `make train` (make test does it for you)")
    return config.MODEL_PATH


# Rows of the test split that checks of the scorers read: see evaluation_texts.
TEST_SPLIT_SAMPLE = 300


@pytest.fixture(scope="session")
def evaluation_texts() -> dict[str, list[str]]:
    """The postings of every set prepare writes but the training split, by file name, for checks that two ways of
    scoring agree: all of the field and challenge sets (and of any set added later), whose writing is of many
    hands, and a fixed sample of the test split, whose text is of the same kind as the training split's."""
    import pandas as pd

    paths = sorted(set(config.PROCESSED_DIR.glob("*.csv")) - {config.TRAIN_PATH})
    assert {config.TEST_PATH, config.FIELD_PATH, config.CHALLENGE_PATH} <= set(paths)
    texts = {}
    for path in paths:
        frame = pd.read_csv(path, keep_default_na=False)
        if path == config.TEST_PATH:
            frame = frame.sample(n=min(TEST_SPLIT_SAMPLE, len(frame)), random_state=0)
        texts[path.name] = frame[config.TEXT_COLUMN].tolist()
    return texts


@pytest.fixture(scope="session")
def small_model_dir(tmp_path_factory, catalogue) -> Path:
    """A quickly trained model (and its metadata) in a folder of its own, for tests that damage files."""
    from pipeline.generate import generate_postings
    from pipeline.model import save_model
    from pipeline.train import fit

    folder = tmp_path_factory.mktemp("small-model")
    frame = generate_postings(catalogue, 600, seed=7)
    params = replace(config.TRAIN, cv_folds=3, calibration="none")
    pipeline, _ = fit(frame, params)
    save_model(pipeline, folder / "model.joblib", {"params": {}, "threshold": 0.5, "review_band": 0.1})
    return folder


@pytest.fixture(scope="session")
def small_portable_model_dir(tmp_path_factory, small_model_dir) -> Path:
    """The small model with its portable export beside it. `auto` then scores arguments and small files without
    importing scikit-learn: a test of what a process does with its streams, signals or make starts a console
    script in a fifth of the time. Tests of the scikit-learn engine's own behaviour use small_model_dir."""
    from pipeline.export import export_model
    from pipeline.model import load_model

    folder = tmp_path_factory.mktemp("small-portable-model")
    for path in small_model_dir.iterdir():
        shutil.copy(path, folder / path.name)
    export_model(load_model(folder / "model.joblib"))
    return folder


@pytest.fixture()
def fast_model(small_portable_model_dir) -> str:
    """For tests of what the process does, whichever engine scores: the portable one starts without scikit-learn."""
    return str(small_portable_model_dir / "model.joblib")


@pytest.fixture(scope="session")
def tiny_pipeline(catalogue):
    """A Pipeline of the shipped model's kind fitted on a hundred postings, a few hundred features: for tests of
    file formats and loading, which need the model's classes, not its quality."""
    from pipeline.generate import generate_postings
    from pipeline.train import fit

    frame = generate_postings(catalogue, 100, seed=5)
    pipeline, _ = fit(frame, replace(config.TRAIN, ngram_max=1, min_df=2, calibration="none"))
    return pipeline


@pytest.fixture()
def model_copy(small_model_dir, tmp_path) -> Path:
    """A private copy of the small model and its metadata that a test may damage."""
    for path in small_model_dir.iterdir():
        shutil.copy(path, tmp_path / path.name)
    return tmp_path / "model.joblib"
