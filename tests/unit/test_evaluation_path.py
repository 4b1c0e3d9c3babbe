"""The one path from a model to its metrics that `evaluate` and `report` share, and the --min-macro-f1 rule."""

import numpy as np
import pandas as pd
import pytest

from pipeline import config
from pipeline.errors import DataError
from pipeline.evaluate import evaluate_frame, sets_below
from pipeline.report import evaluate_model, scorer_summary

SETS = {
    "mine": pd.DataFrame(
        {
            "text": ["answer customer calls", "build statistical models", "log supplier invoices", "advise clients"],
            "label": [config.BPO, config.KPO, config.BPO, config.KPO],
            "team": ["a", "a", "b", "b"],
        }
    ),
    "theirs": pd.DataFrame({"text": ["answer calls and log tickets", None], "label": [config.BPO, config.KPO]}),
}


def test_every_set_is_scored_by_the_model_and_evaluated_at_its_threshold(tiny_model):
    evaluation = evaluate_model(tiny_model, SETS, by=())
    assert set(evaluation.sets) == set(evaluation.p_kpo) == set(evaluation.results) == set(SETS)
    for name, frame in SETS.items():
        texts = frame["text"].fillna("").tolist()  # a missing text is scored as an empty one
        p_kpo = tiny_model.score(tiny_model.transform(texts))
        assert np.array_equal(evaluation.p_kpo[name][:1], tiny_model.p_kpo(texts[:1]))
        assert np.array_equal(evaluation.p_kpo[name], p_kpo)
        expected = evaluate_frame(frame, p_kpo, tiny_model.threshold, ())
        assert evaluation.results[name] == expected | {"scored_by": scorer_summary(tiny_model)}


def test_slices_by_a_named_column_and_refuses_a_missing_one(tiny_model):
    evaluation = evaluate_model(tiny_model, {"mine": SETS["mine"]}, by=("team",))
    assert set(evaluation.results["mine"]["slices"]["team"]) == {"a", "b"}
    assert evaluation.results["mine"]["slices"]["team"]["a"]["n"] == 2
    with pytest.raises(DataError, match="theirs has no column 'team'"):
        evaluate_model(tiny_model, SETS, by=("team",))


def test_sets_below_the_minimum_macro_f1():
    results = {
        "good": {"macro_f1": 0.9, "accuracy": 0.5},
        "poor": {"macro_f1": 0.6, "accuracy": 0.95},
        # One class only: no macro-F1, so its accuracy is what the minimum applies to.
        "one_class_good": {"macro_f1": None, "accuracy": 0.8},
        "one_class_poor": {"macro_f1": None, "accuracy": 0.4},
    }
    assert sets_below(results, 0.7) == {"poor": 0.6, "one_class_poor": 0.4}
    assert sets_below(results, 0.6) == {"one_class_poor": 0.4}  # at the minimum is not below it
    assert sets_below(results, 0.0) == {}
