"""The plots a reviewer reads: titled, one colour per class, rates on the confusion matrices, honest bins."""

import numpy as np
import pytest

from pipeline import config
from pipeline.evaluate import compute_metrics
from pipeline.plots import (
    SPARSE_BIN,
    confusion_figure,
    ngrams_figure,
    pr_figure,
    reliability_figure,
    roc_figure,
    scope_curve,
    scope_figure,
    set_colour,
)


# matplotlib is imported by the tests that draw, not when the suite is collected: a worker that runs none of
# them does not pay for it.
@pytest.fixture(scope="module")
def plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot

    return matplotlib.pyplot


def to_hex(colour) -> str:
    from matplotlib.colors import to_hex as hex_of

    return hex_of(colour)


@pytest.fixture(scope="module")
def evaluation():
    rng = np.random.default_rng(3)
    sets = {}
    for name, n in (("test", 400), ("field", 60), ("my-export", 80)):
        y = rng.integers(0, 2, n)
        p = np.clip(y * 0.8 + rng.normal(0.1, 0.15, n), 0, 1)
        sets[name] = (y.astype(bool), p)
    metrics = {name: compute_metrics(np.where(y, "KPO", "BPO"), p, 0.5) for name, (y, p) in sets.items()}
    return metrics, sets


def test_every_plot_has_a_title(evaluation, plt):
    metrics, scores = evaluation
    ngrams = {"BPO": [("calls", -2.0)], "KPO": [("research", 2.0)]}
    figures = [confusion_figure(plt, metrics), roc_figure(plt, metrics, scores), pr_figure(plt, metrics, scores),
               reliability_figure(plt, metrics), ngrams_figure(plt, ngrams)]  # fmt: skip
    for figure in figures:
        titles = [ax.get_title() for ax in figure.axes] + [figure._suptitle.get_text() if figure._suptitle else ""]
        assert any(titles), figure
        plt.close(figure)


def test_class_colours_are_never_set_colours(evaluation, plt):
    metrics, scores = evaluation
    names = list(metrics)
    class_colours = {to_hex(c) for c in config.CLASS_COLOURS.values()}
    set_colours = {to_hex(set_colour(name, names)) for name in names}
    assert len(set_colours) == len(names) and not set_colours & class_colours
    figure = roc_figure(plt, metrics, scores)
    drawn = {line.get_label().split(" ")[0]: to_hex(line.get_color()) for line in figure.axes[0].get_lines()}
    assert all(drawn[name] == to_hex(set_colour(name, names)) for name in names)
    plt.close(figure)
    figure = ngrams_figure(plt, {"BPO": [("calls", -2.0)], "KPO": [("research", 2.0)]})
    for ax, label in zip(figure.axes, config.LABELS, strict=True):
        assert to_hex(ax.patches[0].get_facecolor()) == to_hex(config.CLASS_COLOURS[label])
    plt.close(figure)


def test_confusion_matrices_show_rates_and_a_colour_bar(evaluation, plt):
    metrics, _ = evaluation
    figure = confusion_figure(plt, metrics)
    assert len(figure.axes) == 2 * len(metrics)  # one colour bar per matrix
    test_ax = figure.axes[0]
    matrix = np.array(metrics["test"]["confusion_matrix"]["matrix"])
    texts = [t.get_text() for t in test_ax.texts]
    expected = f"{matrix[0, 0]:,}\n{matrix[0, 0] / matrix[0].sum():.1%}"
    assert expected in texts
    plt.close(figure)


def test_reliability_shows_counts_and_marks_sparse_bins(evaluation, plt):
    metrics, _ = evaluation
    figure = reliability_figure(plt, metrics)
    ax = figure.axes[0]
    for name, m in metrics.items():
        counts = [r["count"] for r in m["reliability"] if r["count"]]
        labels = [t.get_text() for t in ax.texts if to_hex(t.get_color()) == to_hex(set_colour(name, list(metrics)))]
        assert sorted(labels) == sorted(f"{c:,}" for c in counts)
        line = next(line for line in ax.get_lines() if line.get_label().startswith(name + " "))
        assert len(line.get_xdata()) == sum(c >= SPARSE_BIN for c in counts)
    assert any(c < SPARSE_BIN for m in metrics.values() for c in (r["count"] for r in m["reliability"]) if c)
    hollow = [c for c in ax.collections if len(c.get_offsets()) and not c.get_facecolor().any()]
    assert hollow
    plt.close(figure)


def test_the_scope_plot_traces_what_each_threshold_would_flag(plt):
    """The dot must sit on the figures the report gives, and the rule's flags count at every threshold."""
    is_out = np.array([True, True, True, False, False, False, False])
    p_out = np.array([0.9, 0.6, 0.1, 0.7, 0.2, 0.05, 0.01])
    by_rule = np.array([False, False, True, False, False, False, True])
    curve = scope_curve(is_out, p_out, by_rule, threshold=0.5)
    assert curve.out_at_threshold == pytest.approx(3 / 3) and curve.in_at_threshold == pytest.approx(2 / 4)
    assert curve.n == {"out of scope": 3, "in scope": 4}
    grid = np.linspace(0, 1, len(curve.out_flagged))
    assert curve.out_flagged[grid.searchsorted(0.8)] == pytest.approx(2 / 3)  # 0.9 and the rule's
    assert curve.in_flagged[-1] == pytest.approx(1 / 4)  # at 1.0 only the rule still flags
    assert np.all(np.diff(curve.out_flagged) <= 0) and np.all(np.diff(curve.in_flagged) <= 0)
    figure = scope_figure(plt, {"test": curve})
    recall_axes, false_flag_axes = figure.axes
    assert "recall" in recall_axes.get_title() and "false flags" in false_flag_axes.get_title()
    dot = next(line for line in false_flag_axes.get_lines() if line.get_marker() == "o")
    assert dot.get_xydata().tolist() == [[0.5, 0.5]]
    plt.close(figure)


def test_out_of_scope_postings_alone_get_the_plots_that_need_no_labels(tmp_path):
    """A file of NEITHER postings only has scope figures and no BPO/KPO metrics: evaluate --plots stopped with
    `unexpected ValueError` from the confusion matrices' empty grid."""
    import warnings

    from pipeline.plots import PLOT_FILES, write_plots

    is_out = np.array([True, True])
    curve = scope_curve(is_out, np.array([0.9, 0.7]), np.array([False, False]), 0.5)
    assert np.isnan(curve.in_at_threshold) and curve.out_at_threshold == 1.0
    ngrams = {"BPO": [("calls", -2.0)], "KPO": [("research", 2.0)]}
    stale = tmp_path / PLOT_FILES["confusion"]  # an earlier run's, which would pass for this run's
    stale.write_bytes(b"an earlier run's plot")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a mean of no postings warned on stderr
        written = write_plots(tmp_path, {}, {}, ngrams, {"mine.csv": curve})
    assert sorted(path.name for path in written) == sorted([PLOT_FILES["ngrams"], PLOT_FILES["scope"]])
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(path.name for path in written)


def test_a_precision_recall_plot_of_one_class_sets_says_so_without_a_warning(plt):
    """matplotlib warned "No artists with labels found to put in legend" on stderr."""
    import warnings

    y = np.zeros(5, dtype=bool)
    metrics = {"mine.csv": compute_metrics(np.array(["BPO"] * 5), np.full(5, 0.2), 0.5)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        figure = pr_figure(plt, metrics, {"mine.csv": (y, np.full(5, 0.2))})
    assert [text.get_text() for text in figure.axes[0].texts] == ["no set holds both BPO and KPO postings"]
    plt.close(figure)


def test_a_run_without_a_scope_model_leaves_no_earlier_scope_plot(tmp_path):
    """A model without a scope model (trained before it, or with it removed) writes no scope plot: an earlier
    run's scope_threshold.png stayed beside the new plots as if it were this run's."""
    from pipeline.plots import PLOT_FILES, write_plots

    ngrams = {"BPO": [("calls", -2.0)], "KPO": [("research", 2.0)]}
    curve = scope_curve(np.array([True, False]), np.array([0.9, 0.1]), np.array([False, False]), 0.5)
    write_plots(tmp_path, {}, {}, ngrams, {"test": curve})
    assert (tmp_path / PLOT_FILES["scope"]).exists()
    written = write_plots(tmp_path, {}, {}, ngrams, None)
    assert [path.name for path in written] == [PLOT_FILES["ngrams"]]
    assert sorted(path.name for path in tmp_path.iterdir()) == [PLOT_FILES["ngrams"]]
