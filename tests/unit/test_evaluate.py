"""Metrics against values computed by hand on a tiny fixed example."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.metrics import f1_score

from pipeline import config
from pipeline.evaluate import (
    HIGH_CONFIDENCE,
    average_precision,
    class_counts,
    compute_metrics,
    confidence_profile,
    evaluate_frame,
    expected_calibration_error,
    format_report,
    group_interval,
    length_bucket,
    log_loss,
    macro_f1,
    reliability_table,
    roc_auc,
    wilson_interval,
)

# Four postings: true labels and P(KPO).
LABELS = ["BPO", "BPO", "KPO", "KPO"]
P_KPO = np.array([0.15, 0.65, 0.85, 0.45])


def test_counts_and_per_class_scores_by_hand():
    m = compute_metrics(LABELS, P_KPO, threshold=0.5)
    # Predictions: BPO, KPO, KPO, BPO -> one error of each kind.
    assert m["confusion_matrix"]["matrix"] == [[1, 1], [1, 1]]
    assert m["accuracy"] == pytest.approx(0.5)
    for label in ("BPO", "KPO"):
        assert m["per_class"][label] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert m["macro_f1"] == pytest.approx(0.5)


def test_probability_scores_by_hand():
    m = compute_metrics(LABELS, P_KPO, threshold=0.5)
    # Brier: mean of (p - y)^2 = (0.0225 + 0.4225 + 0.0225 + 0.3025) / 4.
    assert m["brier"] == pytest.approx(0.1925)
    # Log loss: -mean(log(0.85), log(0.35), log(0.85), log(0.45)).
    assert m["log_loss"] == pytest.approx(-(2 * math.log(0.85) + math.log(0.35) + math.log(0.45)) / 4)
    # ROC-AUC: of the 4 (KPO, BPO) pairs, KPO scores higher in 3 (0.85>0.15, 0.85>0.65, 0.45>0.15), not 0.45<0.65.
    assert m["roc_auc"] == pytest.approx(0.75)


def test_threshold_moves_decisions():
    assert compute_metrics(LABELS, P_KPO, threshold=0.35)["confusion_matrix"]["matrix"] == [[1, 1], [0, 2]]


def test_reliability_and_ece_by_hand():
    y = np.array([0, 0, 1, 1])
    table = reliability_table(y, P_KPO)
    filled = {row["bin"]: row for row in table if row["count"]}
    assert set(filled) == {"0.1-0.2", "0.6-0.7", "0.8-0.9", "0.4-0.5"}
    assert filled["0.6-0.7"]["observed_rate"] == 0.0
    # Each bin holds one posting: ECE = mean |p - y| = (0.15 + 0.65 + 0.15 + 0.55) / 4.
    assert expected_calibration_error(y, P_KPO) == pytest.approx(0.375)
    assert sum(row["count"] for row in table) == 4
    assert len(table) == 10


def test_probability_one_lands_in_last_bin():
    table = reliability_table(np.array([1]), np.array([1.0]))
    assert table[-1]["count"] == 1


def test_a_probability_on_a_bin_edge_falls_in_the_bin_it_opens():
    """The bins are closed on the left and open on the right (the last one closed on both sides): P = 0.5, exactly
    on the edge of the fifth and sixth of ten bins, belongs to 0.5-0.6. Binned closed on the right, it fell in
    0.4-0.5, and so did its calibration gap."""
    table = reliability_table(np.array([1, 0, 1]), np.array([0.5, 0.0, 0.5]))
    assert {row["bin"]: row["count"] for row in table if row["count"]} == {"0.0-0.1": 1, "0.5-0.6": 2}
    halves = reliability_table(np.array([1, 0]), np.array([0.5, 0.25]), bins=2)
    assert [row["count"] for row in halves] == [1, 1]
    assert halves[1]["mean_predicted"] == 0.5 and halves[1]["observed_rate"] == 1.0


def test_a_wrong_prediction_exactly_at_the_high_confidence_cut_counts_as_confident():
    """Mistakes are counted "at or above" the high-confidence cut, as the README's "wrong at ≥ 0.97" says: a wrong
    P(KPO) of exactly the cut counts, one a hair below does not. Compared with `>`, the edge went uncounted."""
    below = np.nextafter(HIGH_CONFIDENCE, 0.0)
    profile = confidence_profile(
        np.array([False, False, True, False]), np.array([HIGH_CONFIDENCE, below, HIGH_CONFIDENCE, 0.5])
    )
    assert profile["wrong_at_high_confidence_share"] == 1 / 4
    # Through compute_metrics: a BPO posting at P(KPO) = the cut is labelled KPO, wrongly, at the cut's confidence.
    metrics = compute_metrics(["BPO", "KPO"], np.array([HIGH_CONFIDENCE, 0.9]), 0.5)
    assert metrics["wrong_at_high_confidence_share"] == 0.5


@pytest.mark.parametrize(
    ("words", "bucket"),
    [(0, "0-29 words"), (29, "0-29 words"), (30, "30-99 words"), (99, "30-99 words"), (100, "100-249 words"),
     (249, "100-249 words"), (250, "250+ words"), (1000, "250+ words")],
)  # fmt: skip
def test_a_posting_of_a_buckets_edge_word_count_falls_in_the_bucket_its_name_gives(words, bucket):
    """Each bucket's name gives its word counts, both ends included ("30-99 words"): a posting of exactly 30 words is
    in 30-99, not 0-29, and one of 250 in 250+. Bucketed open on the left and closed on the right, each edge count
    fell into the bucket below, and a posting of no words into 250+."""
    assert length_bucket(" ".join(["word"] * words)) == bucket


def test_slices_report_each_value_and_length_buckets():
    frame = pd.DataFrame({"text": ["a b", "a " * 40, "x " * 300, "y"], "label": LABELS, "source": list("ppqq")})
    result = evaluate_frame(frame, P_KPO, 0.5, by=("source", "length"))
    assert set(result["slices"]["source"]) == {"p", "q"}
    assert result["slices"]["source"]["p"]["n"] == 2
    assert list(result["slices"]["length"]) == ["0-29 words", "30-99 words", "250+ words"]
    assert length_bucket("word " * 120) == "100-249 words"


def test_form_by_clarity_pairs_each_form_with_clear_or_borderline():
    frame = pd.DataFrame(
        {"text": ["a", "b", "c", "d"], "label": LABELS, "form": list("xxyy"), "borderline": [True, False, False, False]}
    )
    result = evaluate_frame(frame, P_KPO, 0.5, by=("form_clarity",))
    assert {k: v["n"] for k, v in result["slices"]["form_clarity"].items()} == {
        "x / borderline": 1, "x / clear": 1, "y / clear": 2,
    }  # fmt: skip


@pytest.mark.parametrize("p_kpo", [[0.9, 0.8, 0.7], [0.9, 0.8, 0.1]])
def test_a_single_class_set_reports_accuracy_only(p_kpo):
    """One error among KPO-only postings once read as macro-F1 0.4 and a BPO precision of 0.0 with support 0."""
    m = compute_metrics(["KPO"] * 3, np.array(p_kpo), 0.5)
    assert m["accuracy"] == pytest.approx(sum(p >= 0.5 for p in p_kpo) / 3)
    assert m["macro_f1"] is None and m["roc_auc"] is None
    assert m["per_class"]["BPO"] == {"precision": None, "recall": None, "f1": None, "support": 0}
    assert m["per_class"]["KPO"]["support"] == 3
    assert "macro-F1 n/a" in format_report("kpo only", m)


@settings(max_examples=80, deadline=None)
@given(pairs=st.lists(st.tuples(st.sampled_from(config.LABELS), st.sampled_from(config.LABELS)), min_size=2))
def test_macro_f1_is_scikit_learns(pairs):
    # The threshold search counts F1 itself; a slip in its formula would move every tuned threshold.
    y_true, y_pred = (list(column) for column in zip(*pairs, strict=True))
    assume(len(set(y_true)) == 2)
    assert macro_f1(y_true, y_pred) == f1_score(y_true, y_pred, average="macro", zero_division=0)


def test_scope_figures_stand_under_their_headings_whatever_the_set_is_called():
    from pipeline.report import format_scope

    figures = {"out_of_scope_recall": 0.977, "in_scope_flagged_share": 0.022, "n_out_of_scope": 88, "n_in_scope": 272}
    for name in ("test", "/a/long/path/to/the/field/set.csv"):
        heading, row = format_scope({name: figures}).splitlines()
        # Each figure ends where its heading does, and the set's name is whole.
        assert row.index("0.977 of 88") + len("0.977 of 88") == heading.index("caught") + len("caught")
        assert row.endswith("0.022 of 272") and len(row) == len(heading) and name in row


def test_a_blank_slice_value_is_named():
    """Users' postings without an area or form made a slice with no name: `  n=12` in the report, the key "" in
    metrics.json, an empty cell in the model card."""
    frame = pd.DataFrame({"text": ["a b", "c d", "e f"], "label": ["BPO", "KPO", "BPO"], "area": ["x", " ", None],
                          "form": ["f", "", None], "borderline": [False, True, False]})  # fmt: skip
    result = evaluate_frame(frame, np.array([0.1, 0.9, 0.2]), 0.5, ("area", "form_clarity"))
    assert list(result["slices"]["area"]) == [config.SLICE_NOT_GIVEN, "x"]
    assert result["slices"]["area"][config.SLICE_NOT_GIVEN]["n"] == 2
    assert list(result["slices"]["form_clarity"]) == [
        f"{config.SLICE_NOT_GIVEN} / borderline",
        f"{config.SLICE_NOT_GIVEN} / clear",
        "f / clear",
    ]


@given(pairs=st.lists(st.tuples(st.sampled_from(config.CATALOGUE_LABELS), st.sampled_from(config.LABELS)), min_size=1))
def test_class_counts_are_scikit_learns_to_the_last_bit(pairs):
    """Counted in numpy for speed, they must be the numbers scikit-learn gives, whatever the set holds (one label,
    or out-of-scope rows, which the matrix leaves out and the precision counts)."""
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    y_true, y_pred = (np.array(column) for column in zip(*pairs, strict=True))
    assume(set(y_true) & set(config.LABELS))  # scikit-learn's matrix refuses a set with no BPO/KPO row
    counts = class_counts(y_true, y_pred)
    assert counts["accuracy"] == accuracy_score(y_true, y_pred)
    labels = list(config.LABELS)
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    for i, label in enumerate(labels):
        assert counts["per_class"][label] == {"precision": precision[i], "recall": recall[i], "f1": f1[i],
                                              "support": support[i]}  # fmt: skip
    assert counts["matrix"] == confusion_matrix(y_true, y_pred, labels=labels).tolist()


# Scores as a model gives them, and as sets made of few distinct values, where ties decide the ranking scores.
SCORES = st.one_of(st.floats(0.0, 1.0), st.sampled_from([0.0, 1e-300, 1e-16, 0.25, 0.5, 0.5 + 1e-16, 0.75, 1.0]))


@given(pairs=st.lists(st.tuples(st.sampled_from([0, 1]), SCORES), min_size=1, max_size=80))
def test_ranking_and_loss_scores_are_scikit_learns(pairs):
    """Computed in numpy for speed, they must be the numbers scikit-learn gives, to rounding: ties (a tied run is
    one threshold, a tied pair counts half), probabilities of exactly 0 or 1, sets of one class."""
    from sklearn.metrics import average_precision_score, roc_auc_score
    from sklearn.metrics import log_loss as sklearn_log_loss

    y, p = (np.array(column) for column in zip(*pairs, strict=True))
    p = p.astype(float)
    assert log_loss(y, p) == pytest.approx(sklearn_log_loss(y, np.clip(p, 1e-15, 1 - 1e-15), labels=[0, 1]),
                                           rel=1e-12)  # fmt: skip
    assume(len(set(y)) == 2)  # scikit-learn gives no ranking score for a set of one class, nor does compute_metrics
    assert roc_auc(y, p) == pytest.approx(roc_auc_score(y, p), rel=1e-12, abs=1e-15)
    assert average_precision(y, p) == pytest.approx(average_precision_score(y, p), rel=1e-12, abs=1e-15)


def test_a_missing_probability_gives_no_ranking_score():
    """average_precision gave 0.5 for [nan, 0.2], where roc_auc and log_loss gave nan."""
    metrics = compute_metrics(["KPO", "BPO"], np.array([np.nan, 0.2]))
    assert all(math.isnan(metrics[key]) for key in ("roc_auc", "average_precision", "log_loss"))


def test_a_set_of_generated_and_users_postings_is_sliced_by_where_they_came_from():
    """Users who add postings of their own want their figure apart from the generated postings', and had none: a
    set that mixes sources (the test split with users' postings in it) is sliced by source by default; a set of
    one source is not, as the slice would only repeat the whole."""
    from pipeline.report import evaluate_sets

    mixed = pd.DataFrame({"text": ["a b", "c d", "e f", "g h"], "label": LABELS,
                          "source": [config.SOURCE_SYNTHETIC, config.SOURCE_SYNTHETIC, config.SOURCE_USER,
                                     config.SOURCE_USER]})  # fmt: skip
    single = mixed.assign(source=config.SOURCE_SYNTHETIC)
    results = evaluate_sets({"mixed": mixed, "single": single}, {"mixed": P_KPO, "single": P_KPO},
                            {"mixed": 0.5, "single": 0.5})  # fmt: skip
    by_source = results["mixed"]["slices"]["source"]
    assert {name: figures["n"] for name, figures in by_source.items()} == {
        config.SOURCE_SYNTHETIC: 2,
        config.SOURCE_USER: 2,
    }
    assert "source" not in results["single"]["slices"]


def test_an_interval_over_groups_widens_where_postings_of_a_group_stand_or_fall_together():
    """Four role families of ten postings, two wholly right and two wholly wrong: counted as forty independent
    postings (Wilson) accuracy 0.5 looks known to within 0.15; the families are four observations, and the interval
    is Wilson's over four. Families that are each right as often as the whole are forty observations; one group
    gives none."""
    groups = pd.Series([f"family-{g}" for g in range(4) for _ in range(10)])
    correct = np.repeat([True, True, False, False], 10)
    assert group_interval(correct, groups) == (wilson_interval(2, 4), 10.0)
    low, high = wilson_interval(20, 40)
    assert low > 0.3 and high < 0.7
    mixed = np.tile([True, False], 20)  # every family half right
    assert group_interval(mixed, groups) == (wilson_interval(20, 40), 1.0)
    assert group_interval(correct, pd.Series(["one"] * 40)) is None


@pytest.mark.parametrize(
    ("errors", "sizes"),
    [((), (4, 4, 3)), ((0,), (4, 4, 3)), ((0, 5, 12), [3] * 13 + [1]), ((0, 1), (10, 10, 10, 10))],
    ids=["all-right-3-groups", "one-wrong-3-groups", "errors-spread", "errors-in-one-group"],
)
def test_the_interval_over_groups_is_never_narrower_than_wilsons(errors, sizes):
    """Resampling whole groups gave 1.000-1.000 for 11 postings in 3 families, all right, where Wilson's interval
    over postings was 0.741-1.000: a narrower interval for a set that holds fewer independent observations. With
    every posting right there is no spread to measure, so each family counts as one posting."""
    groups = pd.Series([f"g{g}" for g, size in enumerate(sizes) for _ in range(size)])
    correct = np.ones(len(groups), dtype=bool)
    correct[list(errors)] = False
    (low, high), effect = group_interval(correct, groups)
    plain_low, plain_high = wilson_interval(int(correct.sum()), len(correct))
    assert low <= plain_low and high >= plain_high and 1.0 <= effect <= len(groups) / len(sizes)
    assert high > low
    if not errors:
        assert (low, high) == wilson_interval(len(sizes), len(sizes))


def test_a_set_in_groups_gets_the_group_interval_and_one_of_single_postings_does_not():
    """The test split holds whole role families: its figures carry the interval over families (the one readers
    should quote); the field and challenge sets, postings written one by one, carry Wilson's only."""
    frame = pd.DataFrame({"text": ["a", "b", "c", "d"], "label": LABELS, "group": ["g1", "g1", "g2", "g2"]})
    grouped = evaluate_frame(frame, P_KPO, 0.5)
    assert grouped["n_groups"] == 2 and grouped["accuracy_ci95_by_group"] is not None
    # evaluate's text report gives it beside Wilson's, as report's summary and the model card do.
    low, high = grouped["accuracy_ci95_by_group"]
    effect = grouped["accuracy_design_effect"]
    assert f"; {low:.3f}-{high:.3f} allowing for its 2 groups (design effect {effect:.2f})" in format_report(
        "mine.csv", grouped
    )
    single = evaluate_frame(frame.assign(group=["g1", "g2", "g3", "g4"]), P_KPO, 0.5)
    assert "accuracy_ci95_by_group" not in single
    assert "accuracy_ci95_by_group" not in evaluate_frame(frame.drop(columns="group"), P_KPO, 0.5)


def test_the_group_interval_reads_postings_without_a_group_as_groups_of_their_own_in_any_row_order():
    """A null group stopped the interval with a ValueError (np.bincount of factorize's -1), and blank cells were
    pooled into one group, where prepare gives each such posting a group of its own; the interval also moved a
    little with the rows' order, as the groups were numbered as met."""
    draw = np.random.default_rng(1)
    groups = pd.Series([f"g{i % 7}" for i in range(60)], dtype=object)
    groups[[3, 10, 40]] = [None, "", "  "]
    correct = draw.random(60) < 0.7
    interval = group_interval(correct, groups)
    assert interval is not None and 0 <= interval[0][0] <= interval[0][1] <= 1
    order = draw.permutation(60)
    assert group_interval(correct[order], groups.iloc[order]) == interval
    frame = pd.DataFrame({"text": ["a"] * 4, "label": LABELS, "group": ["g1", "g1", None, ""]})
    assert evaluate_frame(frame, P_KPO, 0.5)["n_groups"] == 3  # g1, and the two without a group


def test_one_group_that_holds_most_postings_is_allowed_for_and_one_group_alone_gives_no_interval():
    """1,000 postings of one family, half right, beside one posting of another: the sum of squared deviations
    across groups gave a design effect of 1, as if the 1,001 postings were independent. Left out in turn, the big
    family moves accuracy from 0.5 to 1, which the jackknife sees. A file of one group stopped evaluate with a
    TypeError (no interval to unpack)."""
    correct = np.array([True, False] * 500 + [True])
    groups = pd.Series(["big"] * 1000 + ["small"])
    (low, high), effect = group_interval(correct, groups)
    assert effect > 100 and high - low > 0.5
    frame = pd.DataFrame({"text": ["a"] * 1000, "label": ["BPO", "KPO"] * 500, "group": ["big"] * 1000})
    one = evaluate_frame(frame, np.tile([0.2, 0.2], 500), 0.5)
    assert one["n_groups"] == 1 and "accuracy_ci95_by_group" not in one
    assert "allowing for" not in format_report("one.csv", one)
