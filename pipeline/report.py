"""Evaluate the project's evaluation sets together: metrics, error analysis and the model card."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline import config
from pipeline.dataset import read_split
from pipeline.decision import labels_at
from pipeline.errors import DataError
from pipeline.evaluate import LENGTH_SLICE, evaluate_frame
from pipeline.model import Model
from pipeline.predict import explain_rows, linear_weights

# Slices reported for every evaluation set that has the column.
DEFAULT_SLICES = (config.BORDERLINE_COLUMN, config.AREA_COLUMN, config.FORM_COLUMN, LENGTH_SLICE)
ERROR_COLUMNS = (
    "set", "id", "true_label", "predicted", "p_kpo", "confidence", "area", "borderline", "top_ngrams", "text",
)  # fmt: skip
EXPLAIN_NGRAMS = 5
TOP_NGRAMS = 20


def default_evaluation_sets() -> dict[str, pd.DataFrame]:
    """The held-out test split and, when it has rows, the hand-written field set."""
    sets = {"test": read_split(config.TEST_PATH)}
    field = read_split(config.FIELD_PATH) if config.FIELD_PATH.exists() else pd.DataFrame()
    if len(field):
        sets["field"] = field
    return sets


def score_sets(model: Model, sets: dict[str, pd.DataFrame]) -> dict[str, np.ndarray]:
    """P(KPO) for every row of every set."""
    return {
        name: model.p_kpo(frame[config.TEXT_COLUMN].fillna("").astype(str).tolist()) for name, frame in sets.items()
    }


def evaluate_sets(
    model: Model,
    sets: dict[str, pd.DataFrame],
    p_kpo: dict[str, np.ndarray],
    by: tuple[str, ...] | None = None,
) -> dict:
    """Every metric for each named labelled frame from its P(KPO), sliced by `by` (default: the standard slices).

    Explicit `by` columns must exist in every set (`length` needs none); the defaults are used where present.
    """
    results = {}
    for name, frame in sets.items():
        if by is None:
            columns = tuple(c for c in DEFAULT_SLICES if c == LENGTH_SLICE or c in frame)
        else:
            missing = [c for c in by if c != LENGTH_SLICE and c not in frame]
            if missing:
                raise DataError(
                    f"{name} has no column {', '.join(map(repr, missing))} to slice by; its columns are: "
                    f"{', '.join(map(repr, frame.columns))}"
                )
            columns = tuple(by)
        results[name] = evaluate_frame(frame, p_kpo[name], model.threshold, columns)
    return results


def label_scores(sets: dict[str, pd.DataFrame], p_kpo: dict[str, np.ndarray]) -> dict:
    """For the curves: each set's true labels as 0/1 for KPO, with its P(KPO)."""
    return {
        name: ((frame[config.LABEL_COLUMN] == config.POSITIVE_LABEL).to_numpy(), p_kpo[name])
        for name, frame in sets.items()
    }


def top_ngrams(model: Model, k: int = TOP_NGRAMS) -> dict[str, list[tuple[str, float]]]:
    """The k n-grams with the largest weight toward each label."""
    features, weights = linear_weights(model)
    order = np.argsort(weights)
    return {
        config.BPO: [(str(features[i]), round(float(weights[i]), 4)) for i in order[:k]],
        config.KPO: [(str(features[i]), round(float(weights[i]), 4)) for i in order[::-1][:k]],
    }


def validation_set(model: Model, n_jobs: int = 1) -> tuple[pd.DataFrame, np.ndarray] | None:
    """The training split with the out-of-fold P(KPO) its validation metrics came from, or None if it changed.

    The scores are not stored with the model, so they are recomputed with the recorded parameters, folds and
    calibration sigmoid; that is only faithful for the very data the model was trained on, checked by its hash.
    """
    from dataclasses import fields

    from pipeline.dataset import data_hash
    from pipeline.train import fold_of_rows, out_of_fold_scores, validation_p_kpo

    if not config.TRAIN_PATH.exists():
        return None
    frame = read_split(config.TRAIN_PATH)
    if data_hash(frame) != model.metadata.get("training_data", {}).get("sha256"):
        return None
    recorded = model.metadata.get("params", {})
    known = {f.name for f in fields(config.TrainParams)}
    params = config.TrainParams(**{k: v for k, v in recorded.items() if k in known})
    folds = fold_of_rows(frame, params.cv_folds)
    scores = out_of_fold_scores(frame, params, folds, n_jobs=n_jobs)
    return frame, validation_p_kpo(scores, model.metadata.get("calibration", {}).get("sigmoid"))


def error_table(model: Model, sets: dict[str, pd.DataFrame], p_kpo: dict[str, np.ndarray]) -> pd.DataFrame:
    """Misclassified rows of every set in one list, most confident mistakes first, with the full text and the
    n-grams that drove each one."""
    features, weights = linear_weights(model)
    vectorizer = model.pipeline.named_steps["tfidf"]
    frames = []
    for name, frame in sets.items():
        scores = np.asarray(p_kpo[name], dtype=float)  # float64, so rounding gives 0.9999, not 0.99989998
        predicted = labels_at(scores, model.threshold)
        wrong = np.flatnonzero(predicted != frame[config.LABEL_COLUMN].to_numpy())
        if not len(wrong):
            continue
        rows = frame.iloc[wrong]
        matrix = vectorizer.transform(rows[config.TEXT_COLUMN].tolist()).tocsr()
        explanations = explain_rows(features, weights, matrix, list(predicted[wrong]), EXPLAIN_NGRAMS)
        frames.append(
            pd.DataFrame(
                {
                    "set": name,
                    "id": rows[config.ID_COLUMN].to_numpy(),
                    "true_label": rows[config.LABEL_COLUMN].to_numpy(),
                    "predicted": predicted[wrong],
                    "p_kpo": np.round(scores[wrong], 4),
                    "confidence": np.round(np.maximum(scores[wrong], 1 - scores[wrong]), 4),
                    "area": rows.get(config.AREA_COLUMN, pd.Series([""] * len(rows))).to_numpy(),
                    "borderline": rows.get(config.BORDERLINE_COLUMN, pd.Series([""] * len(rows))).to_numpy(),
                    "top_ngrams": [
                        "; ".join(f"{e['ngram']} ({e['weight']:+.2f})" for e in row) for row in explanations
                    ],
                    "text": rows[config.TEXT_COLUMN].to_numpy(),
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=list(ERROR_COLUMNS))
    table = pd.concat(frames, ignore_index=True)
    # One order for all sets: a reviewer reads the most confident mistakes first, wherever they come from.
    return table.sort_values("confidence", ascending=False, kind="stable")[list(ERROR_COLUMNS)].reset_index(drop=True)
