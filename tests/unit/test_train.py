"""Threshold and review-band tuning on validation scores."""

import numpy as np
import pandas as pd

from pipeline import config
from pipeline.evaluate import review_summary
from pipeline.train import scheme_splits, tune_review_band, tune_threshold


def test_threshold_separates_shifted_scores():
    labels = pd.Series(["BPO"] * 5 + ["KPO"] * 5)
    p_kpo = np.array([0.05, 0.1, 0.2, 0.3, 0.35, 0.62, 0.7, 0.8, 0.9, 0.95])
    threshold = tune_threshold(labels, p_kpo)
    assert 0.35 < threshold <= 0.62


def test_threshold_prefers_half_when_anything_works():
    labels = pd.Series(["BPO", "KPO"])
    assert tune_threshold(labels, np.array([0.01, 0.99])) == 0.5


def test_review_band_is_the_narrowest_band_that_holds_most_errors():
    labels = np.array(["BPO"] * 50 + ["KPO"] * 50)
    # Five errors at distances 0.03, 0.05, 0.08, 0.2 and 0.4 from the cut; everything else is right and far out.
    p_kpo = np.concatenate(
        [np.full(45, 0.02), [0.53, 0.55, 0.58, 0.7, 0.9], np.full(45, 0.97), [0.47, 0.45, 0.42, 0.3, 0.1]]
    )
    band = tune_review_band(labels, p_kpo, 0.5)
    wrong = labels != np.where(p_kpo >= 0.5, "KPO", "BPO")
    inside = np.abs(p_kpo - 0.5) < band
    # It holds the required share of errors, and one step narrower would not.
    assert wrong[inside].sum() >= config.REVIEW_ERROR_SHARE * wrong.sum()
    assert wrong[np.abs(p_kpo - 0.5) < band - 0.01].sum() < config.REVIEW_ERROR_SHARE * wrong.sum()
    assert band == 0.09
    summary = review_summary(labels, p_kpo, 0.5, band)
    assert summary["errors_caught_share"] == wrong[inside].sum() / wrong.sum()
    assert summary["flagged_share"] == inside.mean()
    assert tune_review_band(np.array(["BPO", "KPO"]), np.array([0.1, 0.9]), 0.5) == 0.0


def test_calibration_folds_hold_out_families_and_forms():
    frame = pd.DataFrame(
        {
            "label": ["BPO", "KPO"] * 40,
            "group": [f"family-{i % 10}" for i in range(80)],
            "form": [f"form-{i % 4}" for i in range(80)],
            "area": [f"area-{i % 5}" for i in range(80)],
        }
    )
    splits = scheme_splits(frame, "family_form", 4, seed=1)
    by_area = scheme_splits(frame, "area_form", 4, seed=1)
    assert [sorted(test) for _, test in by_area] != [sorted(test) for _, test in splits]
    held_out = np.concatenate([test for _, test in splits])
    assert sorted(held_out) == list(range(80))  # every row is scored exactly once
    for train, test in splits:
        assert set(frame["group"].iloc[train]).isdisjoint(frame["group"].iloc[test])
        # Each fold also keeps at least one form out of its training rows.
        assert set(frame["form"].iloc[train]) < set(frame["form"])
    for train, test in scheme_splits(frame, "area", 4, seed=1) + scheme_splits(frame, "area_form", 4, seed=1):
        assert set(frame["area"].iloc[train]).isdisjoint(frame["area"].iloc[test])


def test_folding_the_calibration_keeps_the_calibrated_probabilities(catalogue):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.model_selection import PredefinedSplit
    from sklearn.pipeline import Pipeline

    from pipeline import config
    from pipeline.generate import generate_postings
    from pipeline.model import build_pipeline
    from pipeline.train import fold_calibration, fold_of_rows

    frame = generate_postings(catalogue, 400, seed=3)
    base = build_pipeline(config.TRAIN)
    calibrated = Pipeline([
        ("tfidf", base.named_steps["tfidf"]),
        ("clf", CalibratedClassifierCV(base.named_steps["clf"], cv=PredefinedSplit(fold_of_rows(frame, 3)),
                                       ensemble=False)),
    ]).fit(frame["text"].tolist(), frame["label"].to_numpy())  # fmt: skip
    folded, sigmoid = fold_calibration(calibrated)
    probes = ["Answer calls and log tickets", "Design clinical trials", "Reconcile ledgers", "x"]
    # Equal up to float32 rounding: the tf-idf matrix is float32, the sigmoid is applied in float64.
    np.testing.assert_allclose(folded.predict_proba(probes), calibrated.predict_proba(probes), rtol=0, atol=1e-6)
    assert type(folded.named_steps["clf"]).__name__ == "LogisticRegression"
    assert sigmoid["a"] < 0  # a higher raw score means more KPO after calibration too
