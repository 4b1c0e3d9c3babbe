"""PNG plots of an evaluation: confusion matrices, ROC and precision-recall curves, reliability, top n-grams, and
what the scope threshold flags."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline import config
from pipeline.errors import BpoKpoError
from pipeline.files import atomic_path

PLOT_FILES = {
    "confusion": "confusion_matrix.png",
    "roc": "roc_curve.png",
    "pr": "precision_recall_curve.png",
    "reliability": "reliability_diagram.png",
    "ngrams": "top_ngrams.png",
    # Only where a scope model scored out-of-scope postings.
    "scope": "scope_threshold.png",
}
# The thresholds the scope plot traces.
SCOPE_GRID = np.linspace(0, 1, 201)
# Reliability bins with fewer postings than this are marked as sparse.
SPARSE_BIN = 10


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: never needs a display
        import matplotlib.pyplot as plt
    except ImportError:
        raise BpoKpoError("plots need matplotlib: pip install 'matplotlib>=3.7,<4'") from None
    return plt


def set_colour(name: str, names: list[str]) -> str:
    """A set's colour: fixed for the project's sets, never a class colour, so orange always means BPO."""
    if name in config.SET_COLOURS:
        return config.SET_COLOURS[name]
    others = [n for n in names if n not in config.SET_COLOURS]
    return config.EXTRA_SET_COLOURS[others.index(name) % len(config.EXTRA_SET_COLOURS)]


def confusion_figure(plt, metrics: dict[str, dict]):
    """One matrix per set: each cell's count and its share of the true class, coloured by that share."""
    names = list(metrics)
    fig, axes = plt.subplots(1, len(names), figsize=(4.6 * len(names), 3.9), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        matrix = np.array(metrics[name]["confusion_matrix"]["matrix"])
        labels = metrics[name]["confusion_matrix"]["labels"]
        totals = matrix.sum(axis=1, keepdims=True)
        rates = np.divide(matrix, totals, out=np.zeros(matrix.shape), where=totals > 0)
        image = ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
        for (row, column), value in np.ndenumerate(matrix):
            ax.text(column, row, f"{value:,}\n{rates[row, column]:.1%}", ha="center", va="center",
                    color="white" if rates[row, column] > 0.5 else "black")  # fmt: skip
        ax.set_xticks(range(len(labels)), labels)
        ax.set_yticks(range(len(labels)), labels)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(f"{name} (n={metrics[name]['n']:,})")
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="share of the true class")
    fig.suptitle("Confusion matrices: count and share of each true class")
    return fig


def roc_figure(plt, metrics: dict[str, dict], scores: dict):
    from sklearn.metrics import roc_curve

    names = list(metrics)
    fig, ax = plt.subplots(figsize=(5, 4.5))
    for name, (y, p) in _both_classes(scores).items():
        fpr, tpr, _ = roc_curve(y, p)
        ax.plot(fpr, tpr, color=set_colour(name, names), label=f"{name} (AUC {metrics[name]['roc_auc']:.3f})")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="chance")
    ax.set_xlabel("false positive rate (BPO called KPO)")
    ax.set_ylabel("true positive rate (KPO found)")
    ax.set_title("ROC curve, KPO as the positive class")
    ax.legend(loc="lower right")
    return fig


def pr_figure(plt, metrics: dict[str, dict], scores: dict):
    from sklearn.metrics import precision_recall_curve

    names = list(metrics)
    fig, ax = plt.subplots(figsize=(5, 4.5))
    for name, (y, p) in _both_classes(scores).items():
        precision, recall, _ = precision_recall_curve(y, p)
        ax.plot(recall, precision, color=set_colour(name, names),
                label=f"{name} (AP {metrics[name]['average_precision']:.3f})")  # fmt: skip
    ax.set_xlabel("recall (KPO)")
    ax.set_ylabel("precision (KPO)")
    ax.set_title("Precision-recall curve, KPO as the positive class")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower left")
    else:  # an empty legend is a warning on stderr
        ax.text(0.5, 0.5, "no set holds both BPO and KPO postings", ha="center", va="center")
    return fig


def reliability_figure(plt, metrics: dict[str, dict]):
    """Observed share of KPO against mean P(KPO) per bin, with every bin's count written beside its point.

    A bin of a handful of postings swings by chance: bins under SPARSE_BIN postings are drawn hollow and left
    out of the line, so the eye follows the bins that carry evidence.
    """
    names = list(metrics)
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect calibration")
    for name in names:
        colour = set_colour(name, names)
        rows = [r for r in metrics[name]["reliability"] if r["count"]]
        full = [r for r in rows if r["count"] >= SPARSE_BIN]
        sparse = [r for r in rows if r["count"] < SPARSE_BIN]
        ax.plot([r["mean_predicted"] for r in full], [r["observed_rate"] for r in full], color=colour, marker="o",
                label=f"{name} (ECE {metrics[name]['ece']:.3f})")  # fmt: skip
        if sparse:
            ax.scatter([r["mean_predicted"] for r in sparse], [r["observed_rate"] for r in sparse],
                       facecolors="none", edgecolors=colour, marker="o", s=50)  # fmt: skip
        for r in rows:
            # Labels sit inside the axes: to the left of points near the right edge.
            offset = (-22, -10) if r["mean_predicted"] > 0.9 else (4, -10)
            ax.annotate(f"{r['count']:,}", (r["mean_predicted"], r["observed_rate"]), textcoords="offset points",
                        xytext=offset, fontsize=7, color=colour)  # fmt: skip
    ax.scatter([], [], facecolors="none", edgecolors="grey", label=f"hollow: bin of fewer than {SPARSE_BIN} postings")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("mean predicted P(KPO) in bin (numbers: postings in the bin)")
    ax.set_ylabel("observed share of KPO")
    ax.set_title("Reliability diagram (10 equal-width bins)")
    # Below the axes: inside, it would hide the bins near 0 and 1, where most postings are.
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize=8)
    return fig


def ngrams_figure(plt, top_ngrams: dict):
    fig, axes = plt.subplots(1, 2, figsize=(11, 5.5))
    for ax, label in zip(axes, config.LABELS, strict=True):
        items = top_ngrams[label]
        ax.barh(range(len(items))[::-1], [abs(w) for _, w in items], color=config.CLASS_COLOURS[label])
        ax.set_yticks(range(len(items))[::-1], [n for n, _ in items])
        ax.set_title(f"n-grams pushing toward {label}")
        ax.set_xlabel("|log-odds weight|")
    fig.suptitle("Largest model weights per class")
    return fig


@dataclass(frozen=True)
class ScopeCurve:
    """One set's flag shares along SCOPE_GRID, its scope model's threshold and how many postings of each kind."""

    out_flagged: np.ndarray
    in_flagged: np.ndarray
    threshold: float
    # The shares flagged at `threshold` itself: the figures the report gives.
    out_at_threshold: float
    in_at_threshold: float
    n: dict[str, int]


def scope_curve(is_out: np.ndarray, p_out: np.ndarray, by_rule: np.ndarray, threshold: float) -> ScopeCurve:
    """The shares a threshold would flag: a posting is flagged by the known-word rule (`by_rule`) whatever the
    threshold, else when P(out of scope) reaches it, as scope.scope_decisions decides."""
    flagged = by_rule[:, None] | (p_out[:, None] >= SCOPE_GRID[None, :])
    at_threshold = by_rule | (p_out >= threshold)

    def share(rows: np.ndarray, kind: np.ndarray):
        # NaN, and no warning, for a set with none of a kind (a file of out-of-scope postings only).
        return rows[kind].mean(axis=0) if kind.any() else np.full(rows.shape[1:], np.nan)

    return ScopeCurve(
        out_flagged=share(flagged, is_out),
        in_flagged=share(flagged, ~is_out),
        threshold=threshold,
        out_at_threshold=float(share(at_threshold, is_out)),
        in_at_threshold=float(share(at_threshold, ~is_out)),
        n={"out of scope": int(is_out.sum()), "in scope": int((~is_out).sum())},
    )


def scope_figure(plt, scope: dict[str, ScopeCurve]):
    """For each set, the share of out-of-scope and of BPO/KPO postings flagged at every scope threshold, with the
    threshold its scope model uses marked: where to set --scope-threshold, and what it costs either way."""
    names = list(scope)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for name, curve in scope.items():
        colour = set_colour(name, names)
        panels = (
            (axes[0], curve.out_flagged, curve.out_at_threshold, "out of scope"),
            (axes[1], curve.in_flagged, curve.in_at_threshold, "in scope"),
        )
        for ax, flagged, at_threshold, kind in panels:
            ax.plot(SCOPE_GRID, flagged, color=colour, label=f"{name} ({curve.n[kind]:,} {kind})")
            ax.plot([curve.threshold], [at_threshold], color=colour, marker="o")
    # Zoomed on what a threshold choice trades: high recall on the left, a few per cent of false flags on the right.
    usable = SCOPE_GRID <= 0.95
    lowest = min(curve.out_flagged[usable].min() for curve in scope.values())
    axes[0].set_ylim(max(0.0, lowest - 0.05), 1.005)
    axes[1].set_ylim(0, max(0.1, 2 * max(curve.in_at_threshold for curve in scope.values())))
    axes[0].set_title("Out-of-scope postings flagged (recall)")
    axes[1].set_title("BPO/KPO postings flagged (false flags)")
    for ax in axes:
        ax.set_xlabel("scope threshold: P(out of scope) that flags (dot: the model's)")
        ax.set_ylabel("share of the set's postings")
        ax.set_xlim(0, 1)
        ax.legend(loc="lower left" if ax is axes[0] else "upper right", fontsize=8)
    fig.suptitle("What the scope threshold flags (text the vocabulary barely knows is flagged at any threshold)")
    return fig


def _both_classes(scores: dict) -> dict:
    """Curves need both classes: a one-class set has no ROC or precision-recall curve."""
    return {name: (y, p) for name, (y, p) in scores.items() if 0 < y.sum() < len(y)}


def write_plots(
    folder: Path,
    metrics: dict[str, dict],
    scores: dict[str, tuple[np.ndarray, np.ndarray]],
    top_ngrams: dict,
    scope: dict[str, ScopeCurve] | None = None,
) -> list[Path]:
    """Write the plots for every evaluation set into `folder` (the scope plot only with `scope` curves); return
    their paths.

    `scores` maps a set name to (y_true as 0/1 for KPO, P(KPO)); `top_ngrams` maps a label to (ngram, weight) pairs.
    """
    plt = _pyplot()
    folder.mkdir(parents=True, exist_ok=True)
    # The label plots need BPO/KPO postings: a file of out-of-scope postings alone gets the others.
    figures = (
        {
            "confusion": confusion_figure(plt, metrics),
            "roc": roc_figure(plt, metrics, scores),
            "pr": pr_figure(plt, metrics, scores),
            "reliability": reliability_figure(plt, metrics),
        }
        if metrics
        else {}
    )
    figures["ngrams"] = ngrams_figure(plt, top_ngrams)
    if scope:
        figures["scope"] = scope_figure(plt, scope)
    # An earlier run's plot of a kind this run has none of would sit beside this run's as if it were its own.
    for key in PLOT_FILES.keys() - figures.keys():
        (folder / PLOT_FILES[key]).unlink(missing_ok=True)
    return [_finish(plt, figure, folder / PLOT_FILES[key]) for key, figure in figures.items()]


def _finish(plt, fig, path: Path) -> Path:
    fig.tight_layout()
    with atomic_path(path) as temporary:
        fig.savefig(temporary, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path
