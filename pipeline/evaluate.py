"""Metrics of a model on labelled postings: per class, calibration, slices, and readable reports."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from pipeline import config
from pipeline.decision import in_review_band, labels_at

RELIABILITY_BINS = 10
# Mistakes at or above this confidence are the ones a user cannot catch by looking at the probability.
HIGH_CONFIDENCE = 0.97
LENGTH_SLICE = "length"
# Form by clarity ("agency / borderline"): the bars are per register and clarity, so each pair gets a row.
FORM_CLARITY_SLICE = "form_clarity"
FORM_CLARITY_SEPARATOR = " / "
# Word-count buckets for `--by length`: occupation-style lines, snippets, short ads, full ads.
LENGTH_BUCKETS = ((0, 30, "0-29 words"), (30, 100, "30-99 words"), (100, 250, "100-249 words"),
                  (250, math.inf, "250+ words"))  # fmt: skip


def reliability_table(y_positive: np.ndarray, p_positive: np.ndarray, bins: int = RELIABILITY_BINS) -> list[dict]:
    """Equal-width probability bins: how many predictions fell in each, their mean, and the observed rate."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    # The last bin is closed on the right so that p == 1.0 lands in it.
    index = np.clip(np.digitize(p_positive, edges[1:-1], right=False), 0, bins - 1)
    table = []
    for b in range(bins):
        mask = index == b
        count = int(mask.sum())
        table.append(
            {
                "bin": f"{edges[b]:.1f}-{edges[b + 1]:.1f}",
                "count": count,
                "mean_predicted": float(p_positive[mask].mean()) if count else None,
                "observed_rate": float(y_positive[mask].mean()) if count else None,
            }
        )
    return table


def expected_calibration_error(y_positive: np.ndarray, p_positive: np.ndarray, bins: int = RELIABILITY_BINS) -> float:
    """Count-weighted mean gap between predicted probability and observed rate over equal-width bins."""
    total = len(p_positive)
    if total == 0:
        return float("nan")
    gaps = [
        row["count"] / total * abs(row["mean_predicted"] - row["observed_rate"])
        for row in reliability_table(y_positive, p_positive, bins)
        if row["count"]
    ]
    return float(sum(gaps))


def wilson_interval(successes: int, n: int, z: float = 1.959964) -> tuple[float, float] | None:
    """The 95% Wilson score interval of a proportion: honest for small sets and for rates near 0 or 1."""
    return _wilson(successes / n, n, z) if n else None


def _wilson(rate: float, n: float, z: float = 1.959964) -> tuple[float, float]:
    """Wilson's interval of a rate measured on n observations (n need not be whole: an effective number)."""
    centre = (rate + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def group_interval(correct: np.ndarray, groups: pd.Series) -> tuple[tuple[float, float], float] | None:
    """The 95% interval of accuracy where postings of one group (a role family) are right or wrong together, and
    its design effect; None with fewer than two groups. A posting with no group (blank, null) is a group of its own,
    as prepare reads it.

    Wilson's interval over the effective number of postings: their number over the design effect, the variance of
    accuracy across groups over that of independent postings. The variance across groups is the jackknife's, each
    group left out in turn, which sees a group that holds most postings (the sum of squared deviations from the
    mean accuracy did not: 1,000 postings of one family beside one of another counted as 1,001 independent ones).
    The effect is kept from 1 (never narrower than Wilson's over postings) to the mean group size (never wider than
    one posting a group); where every posting is right, or every one wrong, there is no variance to measure, and
    the worst case stands. Resampling whole groups, as this once did, gave a narrower interval than Wilson's (a
    point, with every posting right) on small sets of few groups."""
    codes, names = pd.factorize(posting_groups(groups))
    n_groups = len(names)
    if n_groups < 2:
        return None
    right = np.bincount(codes, weights=np.asarray(correct, dtype=float), minlength=n_groups)
    sizes = np.bincount(codes, minlength=n_groups).astype(float)
    # The groups in one order whatever the rows' (which numbers them as met), so the sums below are the same bits.
    order = np.lexsort((sizes, right))
    right, sizes = right[order], sizes[order]
    n = sizes.sum()
    rate = right.sum() / n
    independent = rate * (1 - rate) / n
    most = n / n_groups
    if independent == 0:
        effect = most
    else:
        left_out = (right.sum() - right) / (n - sizes)
        across = (n_groups - 1) / n_groups * float(((left_out - left_out.mean()) ** 2).sum())
        effect = min(max(across / independent, 1.0), most)
    return _wilson(rate, n / effect), float(effect)


# The start of the group name a posting without one is given: no group read from a file starts with it.
_NO_GROUP = "\x00posting "


def posting_groups(groups) -> pd.Series:
    """Each posting's group as text, a posting with none (blank, null) in a group of its own: pooled, they made one
    group of every ungrouped posting, and a null stopped the interval with a ValueError."""
    named = pd.Series(groups).reset_index(drop=True)
    text = named.astype(str).str.strip()
    blank = named.isna() | (text == "")
    return text.where(~blank, _NO_GROUP + pd.Series(range(len(named))).astype(str))


def confidence_profile(correct: np.ndarray, p_kpo: np.ndarray) -> dict:
    """How sure the model is when it is wrong: the shares that matter for trusting a probability."""
    confidence = np.maximum(p_kpo, 1 - p_kpo)
    n = max(len(p_kpo), 1)
    return {
        "wrong_at_high_confidence_share": float(((~correct) & (confidence >= HIGH_CONFIDENCE)).sum() / n),
        "beyond_0_99_share": float((confidence > 0.99).sum() / n),
    }


def macro_f1(y_true, y_pred) -> float:
    """The mean over both labels of F1 = 2 TP / (true + predicted), 0 for a label neither holds: scikit-learn's
    f1_score(average="macro", zero_division=0) when both labels occur, in numpy alone. The threshold search
    calls it sixty times a fit, where scikit-learn's argument checks cost more than the counting."""
    return _mean_f1(class_counts(y_true, y_pred))


def _mean_f1(counts: dict) -> float:
    """The macro-F1 of class_counts' figures."""
    return float(np.mean(np.array([scores["f1"] for scores in counts["per_class"].values()], dtype=np.float64)))


def class_counts(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    """Accuracy, each label's precision, recall, F1 and support, and the confusion matrix over config.LABELS: the
    numbers scikit-learn's accuracy_score, precision_recall_fscore_support(labels=LABELS, zero_division=0) and
    confusion_matrix(labels=LABELS) give, to the last bit, from counts. evaluate calls it for every slice of every
    set, two hundred times on the project's sets, where scikit-learn's checks of its arguments took most of the
    time."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    truths = [y_true == label for label in config.LABELS]
    predictions = [y_pred == label for label in config.LABELS]
    per_class = {}
    for label, true, predicted in zip(config.LABELS, truths, predictions, strict=True):
        hits, n_true, n_predicted = int((true & predicted).sum()), int(true.sum()), int(predicted.sum())
        per_class[label] = {
            "precision": hits / n_predicted if n_predicted else 0.0,
            "recall": hits / n_true if n_true else 0.0,
            "f1": 2.0 * hits / (n_true + n_predicted) if n_true + n_predicted else 0.0,
            "support": n_true,
        }
    return {
        "accuracy": int((y_true == y_pred).sum()) / len(y_true) if len(y_true) else float("nan"),
        "per_class": per_class,
        "matrix": [[int((true & predicted).sum()) for predicted in predictions] for true in truths],
    }


# The three scores below are scikit-learn's roc_auc_score, average_precision_score and log_loss(labels=[0, 1]) to
# rounding, in numpy alone: evaluate scores every slice of every set, two hundred sets on the project's own, and
# scikit-learn's checks of its arguments took ten times the arithmetic (a second of each `evaluate`).


def roc_auc(y_positive: np.ndarray, p_positive: np.ndarray) -> float:
    """The area under the ROC curve, as the Mann-Whitney statistic: the share of (positive, negative) pairs the
    scores order rightly, a tie counting half. Both classes must occur."""
    positive = np.asarray(y_positive) == 1
    n_positive, n_negative = int(positive.sum()), int((~positive).sum())
    rank_sum = float(rankdata(p_positive)[positive].sum())
    return (rank_sum - n_positive * (n_positive + 1) / 2) / (n_positive * n_negative)


def average_precision(y_positive: np.ndarray, p_positive: np.ndarray) -> float:
    """The precision at each distinct score, from the highest down, weighted by the recall it adds. Both classes
    must occur."""
    p = np.asarray(p_positive, dtype=float)
    if np.isnan(p).any():
        return float("nan")  # as roc_auc and log_loss give: no ranking holds a missing score
    order = np.argsort(-p, kind="mergesort")
    scores, hits = p[order], np.asarray(y_positive, dtype=float)[order]
    # The last row of each run of equal scores: a threshold takes a tied run whole.
    last = np.r_[np.flatnonzero(np.diff(scores)), len(scores) - 1]
    true_positives = np.cumsum(hits)[last]
    precision = true_positives / (last + 1)
    recall = true_positives / true_positives[-1]
    return float(np.sum(np.diff(recall, prepend=0.0) * precision))


def log_loss(y_positive: np.ndarray, p_positive: np.ndarray) -> float:
    """The mean negative log-likelihood of the true labels, probabilities kept 1e-15 from 0 and 1 so that one
    certain mistake gives a large finite loss, not infinity."""
    p = np.clip(np.asarray(p_positive, dtype=float), 1e-15, 1 - 1e-15)
    positive = np.asarray(y_positive) == 1
    return float(-np.mean(np.where(positive, np.log(p), np.log(1 - p))))


def compute_metrics(labels: list[str] | pd.Series, p_kpo: np.ndarray, threshold: float = 0.5) -> dict:
    """Every metric of one evaluation set from its true labels and P(KPO)."""
    y_true = np.asarray(list(labels))
    p_kpo = np.asarray(p_kpo, dtype=float)
    y_pred = labels_at(p_kpo, threshold)
    y_positive = (y_true == config.POSITIVE_LABEL).astype(int)
    counts = class_counts(y_true, y_pred)
    both_classes = len(set(y_true)) == 2
    correct = y_true == y_pred
    metrics = {
        "n": len(y_true),
        "threshold": float(threshold),
        "accuracy": counts["accuracy"],
        "accuracy_ci95": wilson_interval(int(correct.sum()), len(y_true)),
        # With one class absent, F1 averages in a class with no support (a slice of 30 BPO postings with one
        # error scored 0.49): such sets report accuracy, and None for macro-F1 and the absent class's scores.
        "macro_f1": _mean_f1(counts) if both_classes else None,
        "per_class": {
            label: {
                "precision": scores["precision"] if scores["support"] else None,
                "recall": scores["recall"] if scores["support"] else None,
                "f1": scores["f1"] if scores["support"] else None,
                "support": scores["support"],
            }
            for label, scores in counts["per_class"].items()
        },
        "confusion_matrix": {"labels": list(config.LABELS), "matrix": counts["matrix"]},
        "roc_auc": roc_auc(y_positive, p_kpo) if both_classes else None,
        "average_precision": average_precision(y_positive, p_kpo) if both_classes else None,
        "log_loss": log_loss(y_positive, p_kpo) if len(y_true) else None,
        "brier": float(np.mean((p_kpo - y_positive) ** 2)) if len(y_true) else None,
        "ece": expected_calibration_error(y_positive, p_kpo),
        "reliability": reliability_table(y_positive, p_kpo),
        **confidence_profile(correct, p_kpo),
    }
    return metrics


def length_bucket(text: str) -> str:
    words = len(str(text).split())
    for low, high, name in LENGTH_BUCKETS:
        if low <= words < high:
            return name
    return LENGTH_BUCKETS[-1][2]  # pragma: no cover - the last bucket is unbounded


def _slice_order(value: str) -> tuple:
    """Length buckets in size order, anything else alphabetically."""
    names = [name for _, _, name in LENGTH_BUCKETS]
    return (names.index(value), "") if value in names else (len(names), value)


def derived_slice_available(frame: pd.DataFrame, column: str) -> bool:
    """Whether `column` is a slice computed from the frame's own columns (length, form by clarity) it can give."""
    if column == LENGTH_SLICE:
        return True
    return column == FORM_CLARITY_SLICE and {config.FORM_COLUMN, config.BORDERLINE_COLUMN} <= set(frame.columns)


def slice_values(frame: pd.DataFrame, column: str) -> pd.Series:
    """The slice each row belongs to; `length` buckets by word count and needs no column, and `form_clarity` pairs
    the form with clear or borderline."""
    if column in frame:
        # A JSON null is a blank slice, as an empty CSV cell is: sorted beside the values given, it stopped the run.
        return _named(frame[column])
    if column == LENGTH_SLICE:
        return frame[config.TEXT_COLUMN].map(length_bucket)
    clarity = np.where(frame[config.BORDERLINE_COLUMN].astype(bool), "borderline", "clear")
    return _named(frame[config.FORM_COLUMN]) + FORM_CLARITY_SEPARATOR + clarity


def _named(values: pd.Series) -> pd.Series:
    """Slice values as text, a blank one named: users' postings without an area or form made a slice with no name
    (`  n=12` in the report, the key "" in metrics.json, an empty cell in the model card)."""
    text = values.fillna("").astype(str)
    return text.where(text.str.strip() != "", config.SLICE_NOT_GIVEN)


def form_clarity_value(form: str, clarity: str) -> str:
    """The `form_clarity` slice of a form's postings of one clarity ("clear" or "borderline")."""
    return f"{form}{FORM_CLARITY_SEPARATOR}{clarity}"


def evaluate_frame(frame: pd.DataFrame, p_kpo: np.ndarray, threshold: float, by: tuple[str, ...] = ()) -> dict:
    """Metrics of a labelled frame, overall and for each slice of each `by` column."""
    result = compute_metrics(frame[config.LABEL_COLUMN], p_kpo, threshold)
    groups = posting_groups(frame[config.GROUP_COLUMN]) if config.GROUP_COLUMN in frame else None
    if groups is not None and groups.nunique() < len(frame):
        correct = labels_at(p_kpo, threshold) == frame[config.LABEL_COLUMN].to_numpy()
        result["n_groups"] = int(groups.nunique())
        # One group (every posting in it) gives no interval over groups: it once stopped evaluate with a TypeError.
        grouped = group_interval(correct, groups)
        if grouped is not None:
            result["accuracy_ci95_by_group"], effect = grouped
            result["accuracy_design_effect"] = round(effect, 3)
    if by:
        result["slices"] = {}
        for column in by:
            values = slice_values(frame, column)
            result["slices"][column] = {
                str(value): compute_metrics(frame.loc[mask, config.LABEL_COLUMN], p_kpo[mask.to_numpy()], threshold)
                for value in sorted(values.unique(), key=_slice_order)
                for mask in [values == value]
            }
    return result


def _number(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def _threshold(value: float) -> str:
    """A threshold as given: two decimals, or every digit it has (--threshold 0.999 read as 1.00, and 0.9999999 as 1
    under six significant digits)."""
    return f"{value:.2f}" if round(value, 2) == value else repr(float(value))


def format_report(name: str, metrics: dict) -> str:
    """A classification report and confusion matrix as plain text."""
    scorer = metrics.get("scored_by", {}).get("model_file")
    scored_by = f", scored by {scorer}" if scorer else ""
    lines = [f"== {name} (n={metrics['n']}, threshold={_threshold(metrics['threshold'])}{scored_by}) =="]
    lines.append(f"{'':>8} {'precision':>9} {'recall':>7} {'f1':>7} {'support':>8}")
    for label, row in metrics["per_class"].items():
        lines.append(
            f"{label:>8} {_number(row['precision']):>9} {_number(row['recall']):>7} {_number(row['f1']):>7} "
            f"{row['support']:>8d}"
        )
    lines.append(
        f"accuracy {metrics['accuracy']:.3f}   macro-F1 {_number(metrics['macro_f1'])}   "
        f"ROC-AUC {_number(metrics['roc_auc'])}   AP {_number(metrics['average_precision'])}"
    )
    lines.append(
        f"log loss {_number(metrics['log_loss'])}   Brier {_number(metrics['brier'])}   ECE {_number(metrics['ece'])}"
    )
    interval, grouped = metrics.get("accuracy_ci95"), metrics.get("accuracy_ci95_by_group")
    if interval:
        lines.append(
            f"accuracy 95% CI {interval[0]:.3f}-{interval[1]:.3f}"
            + (
                f"; {grouped[0]:.3f}-{grouped[1]:.3f} allowing for its {metrics['n_groups']} groups (design effect "
                f"{metrics['accuracy_design_effect']:.2f})"
                if grouped
                else ""
            )
        )
    matrix = metrics["confusion_matrix"]
    lines.append("confusion matrix (rows true, columns predicted):")
    lines.append(f"{'':>8} " + " ".join(f"{label:>6}" for label in matrix["labels"]))
    for label, row in zip(matrix["labels"], matrix["matrix"], strict=True):
        lines.append(f"{label:>8} " + " ".join(f"{value:>6d}" for value in row))
    for column, slices in metrics.get("slices", {}).items():
        lines.append(f"by {column}:")
        for value, sub in slices.items():
            lines.append(
                f"  {value[:40]:<40} n={sub['n']:<6d} accuracy {_number(sub['accuracy'])}  "
                f"macro-F1 {_number(sub['macro_f1'])}"
            )
    return "\n".join(lines)


def borderline_accuracies(metrics: dict) -> tuple[float | None, float | None]:
    """Accuracy on the borderline postings of a set and on the clear-cut ones; None where the set has none."""
    parts = metrics.get("slices", {}).get(config.BORDERLINE_COLUMN, {})
    return parts.get("True", {}).get("accuracy"), parts.get("False", {}).get("accuracy")


def format_summary(results: dict[str, dict]) -> str:
    """One line per evaluation set, side by side: the figures to compare in-distribution and field results."""
    lines = [
        f"{'set':<12} {'n':>6} {'accuracy':>9} {'95% CI':>13} {'macro-F1':>9} {'borderline':>11} {'clear-cut':>10} "
        f"{'ECE':>6} {'wrong@.97':>10}"
    ]
    for name, m in results.items():
        near, clear = borderline_accuracies(m)
        interval = m.get("accuracy_ci95")
        ci = f"{interval[0]:.3f}-{interval[1]:.3f}" if interval else "n/a"
        wrong = m.get("wrong_at_high_confidence_share")
        lines.append(
            f"{name:<12} {m['n']:>6} {_number(m['accuracy']):>9} {ci:>13} {_number(m['macro_f1']):>9} "
            f"{_number(near):>11} {_number(clear):>10} {_number(m['ece']):>6} {_number(wrong):>10}"
        )
    for name, m in results.items():
        if m.get("accuracy_ci95_by_group"):
            low, high = m["accuracy_ci95_by_group"]
            lines.append(
                f"{name}: 95% CI {low:.3f}-{high:.3f} allowing for its {m['n_groups']} groups (the CI above counts "
                "postings as independent, and postings of one role family are not)"
            )
    return "\n".join(lines)


def review_summary(labels: pd.Series, p_kpo: np.ndarray, threshold: float, band: float) -> dict:
    """How many validation postings the band flags, and what share of the errors it holds."""
    wrong = np.asarray(labels) != labels_at(p_kpo, threshold)
    inside = in_review_band(p_kpo, threshold, band)
    return {
        "flagged_share": float(inside.mean()),
        "errors_caught_share": float(wrong[inside].sum() / wrong.sum()) if wrong.any() else None,
        "accuracy_outside": float((~wrong[~inside]).mean()) if (~inside).any() else None,
    }


def sets_below(results: dict[str, dict], minimum: float) -> dict[str, float]:
    """The sets whose macro-F1 is below `minimum`, with that score; a set of one class has no macro-F1 (see
    compute_metrics), so its accuracy stands in for it."""
    scores = {name: m["accuracy"] if m["macro_f1"] is None else m["macro_f1"] for name, m in results.items()}
    return {name: score for name, score in scores.items() if score < minimum}
