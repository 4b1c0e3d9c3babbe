"""Threshold and review-band tuning on validation scores."""

import numpy as np
import pandas as pd

from pipeline.train import review_summary, tune_review_band, tune_threshold


def test_threshold_separates_shifted_scores():
    labels = pd.Series(["BPO"] * 5 + ["KPO"] * 5)
    p_kpo = np.array([0.05, 0.1, 0.2, 0.3, 0.35, 0.62, 0.7, 0.8, 0.9, 0.95])
    threshold = tune_threshold(labels, p_kpo)
    assert 0.35 < threshold <= 0.62


def test_threshold_prefers_half_when_anything_works():
    labels = pd.Series(["BPO", "KPO"])
    assert tune_threshold(labels, np.array([0.01, 0.99])) == 0.5


def test_review_band_is_the_widest_band_where_the_model_is_unsure():
    labels = np.array(["BPO"] * 50 + ["KPO"] * 50)
    # Near the cut (within 0.1): 4 postings, 2 wrong. Further out everything is right.
    p_kpo = np.concatenate([np.full(47, 0.02), [0.55, 0.45, 0.58], np.full(47, 0.97), [0.46, 0.55, 0.9]])
    band = tune_review_band(labels, p_kpo, 0.5)
    assert 0.08 < band <= 0.5
    inside = np.abs(p_kpo - 0.5) < band
    correct = labels == np.where(p_kpo >= 0.5, "KPO", "BPO")
    assert correct[inside].mean() <= 0.9
    summary = review_summary(labels, p_kpo, 0.5, band)
    assert summary["errors_caught_share"] == 1.0
    assert summary["flagged_share"] == inside.mean()
    assert tune_review_band(np.array(["BPO", "KPO"]), np.array([0.1, 0.9]), 0.5) == 0.0
