"""Calibration, threshold and review-band tuning on validation scores."""

import numpy as np
import pandas as pd
import pytest

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


def test_the_model_is_the_calibrated_average_of_the_fold_regressions(catalogue):
    """fit saves one regression whose P(KPO) is Platt's sigmoid, fitted on the folds' pooled out-of-fold scores,
    applied to the fold regressions' mean score: checked against scikit-learn's own sigmoid on the same folds and
    fold regressions fitted here. A model refitted on every row, or a sigmoid fitted per fold, fails it."""
    from sklearn.base import clone
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.pipeline import Pipeline

    from pipeline.generate import generate_postings
    from pipeline.model import build_pipeline
    from pipeline.train import fit, fold_of_rows

    frame = generate_postings(catalogue, 400, seed=3)
    texts, labels = frame["text"].tolist(), frame["label"].to_numpy()
    folds = fold_of_rows(frame, 3)
    splits = [(np.flatnonzero(folds != k), np.flatnonzero(folds == k)) for k in range(3)]
    model, sigmoid = fit(frame, config.TRAIN, splits)

    base = build_pipeline(config.TRAIN)
    reference = Pipeline([
        ("tfidf", clone(base.named_steps["tfidf"])),
        ("clf", CalibratedClassifierCV(clone(base.named_steps["clf"]), cv=splits, ensemble=False)),
    ]).fit(texts, labels)  # fmt: skip
    platt = reference.named_steps["clf"].calibrated_classifiers_[0].calibrators[0]
    assert sigmoid["a"] == pytest.approx(platt.a_, rel=1e-3) and sigmoid["b"] == pytest.approx(platt.b_, abs=1e-3)
    assert sigmoid["a"] < 0  # a higher raw score means more KPO after calibration too

    features = reference.named_steps["tfidf"].transform(texts)
    probes = ["Answer calls and log tickets", "Design clinical trials", "Reconcile ledgers", "x"]
    probe_features = reference.named_steps["tfidf"].transform(probes)
    mean_score = np.mean(
        [clone(base.named_steps["clf"]).fit(features[train], labels[train]).decision_function(probe_features)
         for train, _ in splits],
        axis=0,
    )  # fmt: skip
    expected = 1 / (1 + np.exp(platt.a_ * mean_score + platt.b_))
    # Equal up to float32 rounding and the two sigmoid fits' tolerance.
    np.testing.assert_allclose(model.predict_proba(probes)[:, 1], expected, rtol=0, atol=1e-3)
    assert [type(step).__name__ for _, step in model.steps] == ["TfidfVectorizer", "LogisticRegression"]
    # Double weights, as a regression's own are: float32 ones would lose digits the portable engine keeps.
    assert model.named_steps["clf"].coef_.dtype == np.float64

    # The scope model's way: the same sigmoid on one regression refitted on every row.
    refitted, same_sigmoid = fit(frame, config.TRAIN, splits, average_folds=False)
    assert same_sigmoid == sigmoid
    refit_score = clone(base.named_steps["clf"]).fit(features, labels).decision_function(probe_features)
    np.testing.assert_allclose(
        refitted.predict_proba(probes)[:, 1], 1 / (1 + np.exp(platt.a_ * refit_score + platt.b_)), rtol=0, atol=1e-3
    )


def test_platt_sigmoid_stays_finite_on_separable_scores():
    """Perfectly separated scores would drive an unsmoothed fit to an infinite slope; Platt's targets keep the
    probabilities at most (N+ + 1) / (N+ + 2) sure."""
    from pipeline.train import platt_sigmoid

    scores = np.array([-3.0, -2.0, -1.0, 1.0, 2.0, 3.0])
    sigmoid = platt_sigmoid(scores, scores > 0)
    assert np.isfinite(sigmoid["a"]) and sigmoid["a"] < 0
    p = 1 / (1 + np.exp(sigmoid["a"] * scores + sigmoid["b"]))
    assert (p[scores > 0] > 0.5).all() and (p[scores < 0] < 0.5).all()
    assert p.max() < 0.95 and p.min() > 0.05  # three rows a side cannot earn more certainty than that
