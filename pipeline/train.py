"""Fit the Pipeline, estimate it on held-out groups, tune the threshold and review band, and search parameters."""

from __future__ import annotations

from dataclasses import asdict, replace

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import GridSearchCV, GroupKFold, PredefinedSplit, cross_val_predict
from sklearn.pipeline import Pipeline

from pipeline import config
from pipeline.dataset import data_hash
from pipeline.evaluate import compute_metrics
from pipeline.model import build_pipeline

# The review band is the widest band around the threshold inside which validation accuracy is at most this:
# flagged postings are ones the model really is unsure of (at least one in ten wrong), not merely close calls.
REVIEW_MAX_ACCURACY = 0.9
MAX_REVIEW_BAND = 0.5


def grouped_folds(frame: pd.DataFrame, n_folds: int) -> GroupKFold:
    n_groups = frame[config.GROUP_COLUMN].nunique()
    return GroupKFold(n_splits=max(2, min(n_folds, n_groups)))


def fold_of_rows(frame: pd.DataFrame, n_folds: int) -> np.ndarray:
    """The grouped fold each row is held out in; whole role families stay together."""
    folds = np.empty(len(frame), dtype=np.int64)
    splitter = grouped_folds(frame, n_folds)
    for fold, (_, held_out) in enumerate(splitter.split(frame, groups=frame[config.GROUP_COLUMN].to_numpy())):
        folds[held_out] = fold
    return folds


def out_of_fold_scores(frame: pd.DataFrame, params: config.TrainParams, folds: np.ndarray, n_jobs: int = 1):
    """The uncalibrated decision value of every training row from a model that never saw its family."""
    return cross_val_predict(
        build_pipeline(params),
        frame[config.TEXT_COLUMN].tolist(),
        frame[config.LABEL_COLUMN].to_numpy(),
        cv=PredefinedSplit(folds),
        method="decision_function",
        n_jobs=n_jobs,
    )


def fit(frame: pd.DataFrame, params: config.TrainParams, folds: np.ndarray | None = None, n_jobs: int = 1) -> Pipeline:
    """Fit the Pipeline on all of `frame`; with calibration, Platt scaling is fitted on the grouped folds.

    The calibrated classifier stays inside the one Pipeline (ensemble=False: a single logistic regression
    trained on everything, plus a sigmoid fitted on its out-of-fold scores), so the artifact is still one
    plain scikit-learn object and its log-odds stay linear in the features, which keeps explanations exact.
    """
    pipeline = build_pipeline(params)
    if params.calibration != "none":
        folds = fold_of_rows(frame, params.cv_folds) if folds is None else folds
        classifier = pipeline.named_steps["clf"]
        pipeline.steps[-1] = (
            "clf",
            CalibratedClassifierCV(
                classifier, method=params.calibration, cv=PredefinedSplit(folds), ensemble=False, n_jobs=n_jobs
            ),
        )
    pipeline.fit(frame[config.TEXT_COLUMN].tolist(), frame[config.LABEL_COLUMN].to_numpy())
    return pipeline


def validation_p_kpo(pipeline: Pipeline, scores: np.ndarray) -> np.ndarray:
    """Turn out-of-fold decision values into the fitted Pipeline's probabilities of KPO."""
    classifier = pipeline.named_steps["clf"]
    if isinstance(classifier, CalibratedClassifierCV):
        # The same sigmoid the calibrated classifier applies, fitted on exactly these out-of-fold scores.
        return classifier.calibrated_classifiers_[0].calibrators[0].predict(scores)
    return 1.0 / (1.0 + np.exp(-scores))


def tune_threshold(labels: pd.Series, p_kpo: np.ndarray) -> float:
    """The P(KPO) cut that maximises macro-F1 on validation data; ties go to the cut nearest 0.5."""
    candidates = np.round(np.arange(0.2, 0.81, 0.01), 2)
    scores = [compute_metrics(labels, p_kpo, t)["macro_f1"] for t in candidates]
    best = max(scores)
    ties = [t for t, s in zip(candidates, scores, strict=True) if s >= best - 1e-12]
    return float(min(ties, key=lambda t: abs(t - 0.5)))


def tune_review_band(labels: pd.Series, p_kpo: np.ndarray, threshold: float) -> float:
    """The widest band around the threshold inside which validation accuracy is at most REVIEW_MAX_ACCURACY."""
    correct = np.asarray(labels) == np.where(p_kpo >= threshold, config.KPO, config.BPO)
    distance = np.abs(p_kpo - threshold)
    chosen = 0.0
    for band in np.round(np.arange(0.01, MAX_REVIEW_BAND + 1e-9, 0.01), 2):
        inside = distance < band
        if inside.any() and correct[inside].mean() <= REVIEW_MAX_ACCURACY:
            chosen = float(band)
    return chosen


def review_summary(labels: pd.Series, p_kpo: np.ndarray, threshold: float, band: float) -> dict:
    """How many validation postings the band flags, and what share of the errors it holds."""
    wrong = np.asarray(labels) != np.where(p_kpo >= threshold, config.KPO, config.BPO)
    inside = np.abs(p_kpo - threshold) < band
    return {
        "flagged_share": float(inside.mean()),
        "errors_caught_share": float(wrong[inside].sum() / wrong.sum()) if wrong.any() else None,
        "accuracy_outside": float((~wrong[~inside]).mean()) if (~inside).any() else None,
    }


def train_model(frame: pd.DataFrame, params: config.TrainParams, n_jobs: int = 1) -> tuple[Pipeline, dict]:
    """Fit the model on `frame` and describe it: validation metrics, calibration, threshold and review band.

    Validation figures come from grouped out-of-fold scores, so every number is for role families the scoring
    model never saw; the threshold and band are tuned on those same scores, never on the test split.
    """
    labels = frame[config.LABEL_COLUMN]
    folds = fold_of_rows(frame, params.cv_folds)
    scores = out_of_fold_scores(frame, params, folds, n_jobs=n_jobs)
    pipeline = fit(frame, params, folds, n_jobs=n_jobs)
    p_validation = validation_p_kpo(pipeline, scores)
    uncalibrated = compute_metrics(labels, 1.0 / (1.0 + np.exp(-scores)), 0.5)
    threshold = tune_threshold(labels, p_validation)
    review_band = tune_review_band(labels, p_validation, threshold)
    validation = compute_metrics(labels, p_validation, threshold)
    metadata = {
        "params": asdict(params),
        "threshold": threshold,
        "review_band": review_band,
        "review_on_validation": review_summary(labels, p_validation, threshold, review_band),
        "training_data": {"sha256": data_hash(frame), "rows": len(frame)},
        "metrics": {"validation_grouped_cv": validation},
        "calibration": {
            "method": params.calibration,
            "validation_ece_before": uncalibrated["ece"],
            "validation_ece_after": validation["ece"],
        },
    }
    return pipeline, metadata


def tune_parameters(
    frame: pd.DataFrame, params: config.TrainParams, grid: dict = config.TUNING_GRID, n_jobs: int = -1
) -> dict:
    """Grid-search the Pipeline by grouped cross-validation (macro-F1 on held-out role families)."""
    search = GridSearchCV(
        build_pipeline(params),
        grid,
        scoring="f1_macro",
        cv=grouped_folds(frame, params.cv_folds),
        n_jobs=n_jobs,
        refit=False,
    )
    search.fit(
        frame[config.TEXT_COLUMN].tolist(),
        frame[config.LABEL_COLUMN].to_numpy(),
        groups=frame[config.GROUP_COLUMN].to_numpy(),
    )
    results = pd.DataFrame(search.cv_results_)
    ranked = results.sort_values("rank_test_score")
    table = [
        {
            "params": {k: (list(v) if isinstance(v, tuple) else v) for k, v in row["params"].items()},
            "mean_macro_f1": float(row["mean_test_score"]),
            "std_macro_f1": float(row["std_test_score"]),
        }
        for _, row in ranked.iterrows()
    ]
    return {"best": table[0], "results": table}


def params_from_search(best: dict, base: config.TrainParams) -> config.TrainParams:
    """Turn a grid-search parameter dict back into TrainParams."""
    values = best["params"]
    return replace(
        base,
        ngram_max=int(values.get("tfidf__ngram_range", (1, base.ngram_max))[1]),
        min_df=int(values.get("tfidf__min_df", base.min_df)),
        sublinear_tf=bool(values.get("tfidf__sublinear_tf", base.sublinear_tf)),
        stop_words=values.get("tfidf__stop_words", base.stop_words),
        C=float(values.get("clf__C", base.C)),
        class_weight=values.get("clf__class_weight", base.class_weight),
    )
