"""The label and review rules at their edges, and the Model using the threshold it was tuned with."""

import numpy as np

from pipeline import config
from pipeline.decision import in_review_band, label_for, labels_at, needs_review
from pipeline.model import Model


def test_a_posting_exactly_at_the_threshold_is_kpo():
    assert labels_at(np.array([0.5, 0.4999999, 0.31]), 0.31).tolist() == ["KPO", "KPO", "KPO"]
    assert labels_at(np.array([0.30999, 0.31]), 0.31).tolist() == ["BPO", "KPO"]
    # The portable scorer's rule, one posting at a time, must agree at the edge.
    assert [label_for(p, 0.31) for p in (0.30999, 0.31)] == ["BPO", "KPO"]


def test_the_review_band_is_open_at_its_edges():
    # 0.25 and 0.75 lie exactly on the edges of 0.5 ± 0.25 (binary floats hold all three exactly).
    p_kpo = [0.5, 0.55, 0.65, 0.35, 0.45, 0.25, 0.75, 0.2500001]
    expected = [True, True, True, True, True, False, False, True]
    assert in_review_band(np.array(p_kpo), 0.5, 0.25).tolist() == expected
    assert [needs_review(p, 0.5, 0.25) for p in p_kpo] == expected


class FixedPipeline:
    """Stands in for the fitted Pipeline: returns fixed probabilities, so the decision rule alone is tested."""

    classes_ = config.LABELS

    def __init__(self, p_kpo):
        self.p_kpo = np.asarray(p_kpo)

    def predict_proba(self, texts):
        return np.column_stack([1 - self.p_kpo[: len(texts)], self.p_kpo[: len(texts)]])


def test_model_predict_uses_the_tuned_threshold_not_one_half():
    model = Model(FixedPipeline([0.6, 0.75, 0.85]), {"labels": list(config.LABELS), "threshold": 0.8})
    assert model.predict(["a", "b", "c"]) == ["BPO", "BPO", "KPO"]
    assert model.predict(["a", "b", "c"], threshold=0.5) == ["KPO", "KPO", "KPO"]
