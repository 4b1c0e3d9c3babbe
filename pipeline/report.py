"""Evaluate the project's evaluation sets together: the artefacts `make train` leaves for a reviewer."""

from __future__ import annotations

import pandas as pd

from pipeline import config
from pipeline.dataset import read_split
from pipeline.evaluate import LENGTH_SLICE, evaluate_frame
from pipeline.model import Model

# Slices reported for every evaluation set that has the column.
DEFAULT_SLICES = (config.BORDERLINE_COLUMN, config.AREA_COLUMN, config.FORM_COLUMN, LENGTH_SLICE)


def evaluate_sets(model: Model, sets: dict[str, pd.DataFrame]) -> dict[str, dict]:
    """Every metric, with the default slices, for each named labelled frame."""
    results = {}
    for name, frame in sets.items():
        p_kpo = model.p_kpo(frame[config.TEXT_COLUMN].fillna("").astype(str).tolist())
        by = tuple(c for c in DEFAULT_SLICES if c == LENGTH_SLICE or c in frame)
        results[name] = evaluate_frame(frame, p_kpo, model.threshold, by)
    return results


def default_evaluation_sets() -> dict[str, pd.DataFrame]:
    """The held-out test split and, when it has rows, the hand-written field set."""
    sets = {"test": read_split(config.TEST_PATH)}
    field = read_split(config.FIELD_PATH) if config.FIELD_PATH.exists() else pd.DataFrame()
    if len(field):
        sets["field"] = field
    return sets
