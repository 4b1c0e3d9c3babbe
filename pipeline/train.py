"""Fit the Pipeline, estimate it on held-out groups, tune the threshold and review band, and search parameters."""

from __future__ import annotations

import copy
from dataclasses import asdict, replace

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import GridSearchCV, GroupKFold, PredefinedSplit, cross_val_predict
from sklearn.pipeline import Pipeline

from pipeline import config
from pipeline.dataset import data_hash
from pipeline.decision import in_review_band, labels_at
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


def fit(
    frame: pd.DataFrame, params: config.TrainParams, folds: np.ndarray | None = None, n_jobs: int = 1
) -> tuple[Pipeline, dict | None]:
    """Fit the Pipeline on all of `frame`; with calibration, Platt scaling is fitted on the grouped folds.

    Calibration is scikit-learn's CalibratedClassifierCV with ensemble=False: one logistic regression trained on
    everything plus a sigmoid fitted on its out-of-fold scores. A sigmoid of a linear score is itself linear in
    the log-odds, so the sigmoid is then folded into the regression's coefficients: the saved Pipeline is a
    plain TF-IDF + LogisticRegression that gives exactly the calibrated probabilities, and explanations stay
    exact. Returns the Pipeline and the sigmoid's parameters (None without calibration).
    """
    pipeline = build_pipeline(params)
    texts, labels = frame[config.TEXT_COLUMN].tolist(), frame[config.LABEL_COLUMN].to_numpy()
    if params.calibration == "none":
        return pipeline.fit(texts, labels), None
    folds = fold_of_rows(frame, params.cv_folds) if folds is None else folds
    calibrated_step = CalibratedClassifierCV(
        pipeline.named_steps["clf"], method=params.calibration, cv=PredefinedSplit(folds), ensemble=False,
        n_jobs=n_jobs,
    )  # fmt: skip
    calibrated = Pipeline([("tfidf", pipeline.named_steps["tfidf"]), ("clf", calibrated_step)]).fit(texts, labels)
    return fold_calibration(calibrated)


def fold_calibration(calibrated: Pipeline) -> tuple[Pipeline, dict]:
    """Fold a fitted Platt sigmoid into its logistic regression; the probabilities stay the same.

    The calibrated P(KPO) is expit(-(a f + b)) for the regression's score f = w.x + c, which is a logistic
    regression with weights -a w and intercept -(a c + b).
    """
    fitted = calibrated.named_steps["clf"].calibrated_classifiers_[0]
    sigmoid = fitted.calibrators[0]
    regression = copy.deepcopy(fitted.estimator)
    regression.coef_ = -sigmoid.a_ * regression.coef_
    regression.intercept_ = -(sigmoid.a_ * regression.intercept_ + sigmoid.b_)
    folded = Pipeline([("tfidf", calibrated.named_steps["tfidf"]), ("clf", regression)])
    return folded, {"a": float(sigmoid.a_), "b": float(sigmoid.b_)}


def validation_p_kpo(scores: np.ndarray, sigmoid: dict | None) -> np.ndarray:
    """Out-of-fold scores as the fitted model's P(KPO): through the calibration sigmoid when there is one."""
    if sigmoid is None:
        return expit(scores)
    # The sigmoid was fitted on exactly these out-of-fold scores, by CalibratedClassifierCV.
    return expit(-(sigmoid["a"] * scores + sigmoid["b"]))


def tune_threshold(labels: pd.Series, p_kpo: np.ndarray) -> float:
    """The P(KPO) cut that maximises macro-F1 on validation data; ties go to the cut nearest 0.5."""
    candidates = np.round(np.arange(0.2, 0.81, 0.01), 2)
    scores = [compute_metrics(labels, p_kpo, t)["macro_f1"] for t in candidates]
    best = max(scores)
    ties = [t for t, s in zip(candidates, scores, strict=True) if s >= best - 1e-12]
    return float(min(ties, key=lambda t: abs(t - 0.5)))


def tune_review_band(labels: pd.Series, p_kpo: np.ndarray, threshold: float) -> float:
    """The widest band around the threshold inside which validation accuracy is at most REVIEW_MAX_ACCURACY."""
    correct = np.asarray(labels) == labels_at(p_kpo, threshold)
    chosen = 0.0
    for band in np.round(np.arange(0.01, MAX_REVIEW_BAND + 1e-9, 0.01), 2):
        inside = in_review_band(p_kpo, threshold, band)
        if inside.any() and correct[inside].mean() <= REVIEW_MAX_ACCURACY:
            chosen = float(band)
    return chosen


def review_summary(labels: pd.Series, p_kpo: np.ndarray, threshold: float, band: float) -> dict:
    """How many validation postings the band flags, and what share of the errors it holds."""
    wrong = np.asarray(labels) != labels_at(p_kpo, threshold)
    inside = in_review_band(p_kpo, threshold, band)
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
    pipeline, sigmoid = fit(frame, params, folds, n_jobs=n_jobs)
    p_validation = validation_p_kpo(scores, sigmoid)
    uncalibrated = compute_metrics(labels, expit(scores), 0.5)
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
            "sigmoid": sigmoid,
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
