"""PNG plots of an evaluation: confusion matrices, ROC and precision-recall curves, reliability, top n-grams."""

from __future__ import annotations

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
}


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: never needs a display
        import matplotlib.pyplot as plt
    except ImportError:
        raise BpoKpoError("plots need matplotlib: pip install 'matplotlib>=3.7,<4'") from None
    return plt


def write_plots(
    folder: Path, metrics: dict[str, dict], scores: dict[str, tuple[np.ndarray, np.ndarray]], top_ngrams: dict
) -> list[Path]:
    """Write the five plots for every evaluation set into `folder`; return their paths.

    `scores` maps a set name to (y_true as 0/1 for KPO, P(KPO)); `top_ngrams` maps a label to (ngram, weight) pairs.
    """
    from sklearn.metrics import precision_recall_curve, roc_curve

    plt = _pyplot()
    folder.mkdir(parents=True, exist_ok=True)
    names = list(metrics)
    written = []

    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.8), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        matrix = np.array(metrics[name]["confusion_matrix"]["matrix"])
        labels = metrics[name]["confusion_matrix"]["labels"]
        ax.imshow(matrix, cmap="Blues")
        for (row, column), value in np.ndenumerate(matrix):
            ax.text(column, row, str(value), ha="center", va="center",
                    color="white" if value > matrix.max() / 2 else "black")  # fmt: skip
        ax.set_xticks(range(len(labels)), labels)
        ax.set_yticks(range(len(labels)), labels)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(f"{name} (n={metrics[name]['n']})")
    written.append(_finish(plt, fig, folder / PLOT_FILES["confusion"]))

    fig, ax = plt.subplots(figsize=(5, 4.5))
    both_classes = {name: (y, p) for name, (y, p) in scores.items() if 0 < y.sum() < len(y)}
    for name, (y, p) in both_classes.items():
        fpr, tpr, _ = roc_curve(y, p)
        ax.plot(fpr, tpr, label=f"{name} (AUC {metrics[name]['roc_auc']:.3f})")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":")
    ax.set_xlabel("false positive rate (BPO called KPO)")
    ax.set_ylabel("true positive rate (KPO found)")
    ax.legend(loc="lower right")
    written.append(_finish(plt, fig, folder / PLOT_FILES["roc"]))

    fig, ax = plt.subplots(figsize=(5, 4.5))
    for name, (y, p) in both_classes.items():
        precision, recall, _ = precision_recall_curve(y, p)
        ax.plot(recall, precision, label=f"{name} (AP {metrics[name]['average_precision']:.3f})")
    ax.set_xlabel("recall (KPO)")
    ax.set_ylabel("precision (KPO)")
    ax.legend(loc="lower left")
    written.append(_finish(plt, fig, folder / PLOT_FILES["pr"]))

    fig, ax = plt.subplots(figsize=(5, 4.5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect calibration")
    for name in names:
        rows = [r for r in metrics[name]["reliability"] if r["count"]]
        line = ax.plot([r["mean_predicted"] for r in rows], [r["observed_rate"] for r in rows], alpha=0.6,
                       label=f"{name} (ECE {metrics[name]['ece']:.3f})")[0]  # fmt: skip
        # Marker area follows the bin's size: a sparse middle bin should not look as certain as a full one.
        sizes = [20 + 400 * r["count"] / metrics[name]["n"] for r in rows]
        ax.scatter([r["mean_predicted"] for r in rows], [r["observed_rate"] for r in rows], s=sizes,
                   color=line.get_color(), alpha=0.8)  # fmt: skip
    ax.set_xlabel("mean predicted P(KPO) in bin (marker size: share of postings)")
    ax.set_ylabel("observed share of KPO")
    ax.legend(loc="upper left")
    written.append(_finish(plt, fig, folder / PLOT_FILES["reliability"]))

    fig, axes = plt.subplots(1, 2, figsize=(11, 5.5))
    for ax, label in zip(axes, config.LABELS, strict=True):
        items = top_ngrams[label]
        ax.barh(range(len(items))[::-1], [abs(w) for _, w in items],
                color="tab:orange" if label == config.BPO else "tab:blue")  # fmt: skip
        ax.set_yticks(range(len(items))[::-1], [n for n, _ in items])
        ax.set_title(f"n-grams pushing toward {label}")
        ax.set_xlabel("|log-odds weight|")
    written.append(_finish(plt, fig, folder / PLOT_FILES["ngrams"]))
    return written


def _finish(plt, fig, path: Path) -> Path:
    fig.tight_layout()
    with atomic_path(path) as temporary:
        fig.savefig(temporary, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path
