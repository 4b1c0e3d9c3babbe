"""Same seed, same bytes: the dataset files and the model's predictions are reproducible."""

import pickle
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
from console import SCRIPT

from pipeline import config
from pipeline.dataset import build_dataset
from pipeline.train import train_model


def prepare_into(folder: Path, seed: int) -> None:
    subprocess.run([SCRIPT, "prepare", "--n-postings", "500", "--seed", str(seed), "--output-dir", str(folder)],
                   check=True, capture_output=True)  # fmt: skip


def test_two_prepare_runs_with_one_seed_write_identical_bytes(tmp_path):
    prepare_into(tmp_path / "a", 5)
    prepare_into(tmp_path / "b", 5)
    prepare_into(tmp_path / "c", 6)
    for name in ("train.csv", "test.csv", "field.csv", "summary.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert (tmp_path / "a" / "train.csv").read_bytes() != (tmp_path / "c" / "train.csv").read_bytes()


def test_two_train_runs_give_identical_models_and_predictions(catalogue):
    frame = build_dataset(catalogue, config.PrepareParams(seed=9, n_postings=600))["train"]
    params = replace(config.TRAIN, cv_folds=3)
    first, first_meta = train_model(frame, params)
    second, second_meta = train_model(frame, params)
    probes = frame[config.TEXT_COLUMN].tolist()[:50] + ["Answer calls", "Design clinical trials"]
    assert np.array_equal(first.predict_proba(probes), second.predict_proba(probes))
    assert pickle.dumps(first, protocol=5) == pickle.dumps(second, protocol=5)
    assert first_meta == second_meta
