"""Threshold and review-band tuning on validation scores."""

import numpy as np
import pandas as pd

from pipeline.train import tune_review_band, tune_threshold


def test_threshold_separates_shifted_scores():
    labels = pd.Series(["BPO"] * 5 + ["KPO"] * 5)
    p_kpo = np.array([0.05, 0.1, 0.2, 0.3, 0.35, 0.62, 0.7, 0.8, 0.9, 0.95])
    threshold = tune_threshold(labels, p_kpo)
    assert 0.35 < threshold <= 0.62


def test_threshold_prefers_half_when_anything_works():
    labels = pd.Series(["BPO", "KPO"])
    assert tune_threshold(labels, np.array([0.01, 0.99])) == 0.5


def test_review_band_covers_the_errors_near_the_threshold():
    labels = np.array(["BPO"] * 50 + ["KPO"] * 50)
    p_kpo = np.concatenate([np.full(49, 0.05), [0.55], np.full(49, 0.95), [0.46]])
    band = tune_review_band(labels, p_kpo, 0.5)
    # The two mistakes sit 0.05 and 0.04 from the cut: the band must reach past both.
    assert 0.05 < band <= 0.06
    assert tune_review_band(np.array(["BPO", "KPO"]), np.array([0.1, 0.9]), 0.5) == 0.0
