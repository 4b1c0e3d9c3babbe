"""Shared fixtures: the real catalogue and shipped model, and a small model trained in a temporary folder."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline import config
from pipeline.catalogue import load_catalogue
from pipeline.generate import generate_postings
from pipeline.model import save_model
from pipeline.train import fit


@pytest.fixture(scope="session")
def catalogue():
    return load_catalogue()


@pytest.fixture(scope="session")
def shipped_model_path() -> Path:
    """The model `make train` built; `make test` builds it first."""
    if not config.MODEL_PATH.is_file():
        pytest.fail(f"{config.MODEL_PATH} is missing: run `make train` (make test does it for you)")
    return config.MODEL_PATH


@pytest.fixture(scope="session")
def small_model_dir(tmp_path_factory, catalogue) -> Path:
    """A quickly trained model (and its metadata) in a folder of its own, for tests that damage files."""
    folder = tmp_path_factory.mktemp("small-model")
    frame = generate_postings(catalogue, 600, seed=7)
    params = replace(config.TRAIN, cv_folds=3, calibration="none")
    pipeline, _ = fit(frame, params)
    save_model(pipeline, folder / "model.joblib", {"params": {}, "threshold": 0.5, "review_band": 0.1})
    return folder


@pytest.fixture(scope="session")
def tiny_pipeline(catalogue):
    """A Pipeline of the shipped model's kind fitted on a hundred postings, a few hundred features: for tests of
    file formats and loading, which need the model's classes, not its quality."""
    frame = generate_postings(catalogue, 100, seed=5)
    pipeline, _ = fit(frame, replace(config.TRAIN, ngram_max=1, min_df=2, calibration="none", cv_folds=2))
    return pipeline


@pytest.fixture()
def model_copy(small_model_dir, tmp_path) -> Path:
    """A private copy of the small model and its metadata that a test may damage."""
    for path in small_model_dir.iterdir():
        shutil.copy(path, tmp_path / path.name)
    return tmp_path / "model.joblib"
