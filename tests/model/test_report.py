"""What `make train` leaves for a reviewer: metrics.json, plots, errors.csv and a model card that agree."""

import json

import pandas as pd
import pytest

from pipeline import config, load_model
from pipeline.plots import PLOT_FILES

METRIC_KEYS = ("accuracy", "macro_f1", "per_class", "confusion_matrix", "roc_auc", "average_precision", "log_loss",
               "brier", "ece", "reliability")  # fmt: skip


@pytest.fixture(scope="module")
def document(shipped_model_path):
    return json.loads(config.METRICS_PATH.read_text())


@pytest.fixture(scope="module")
def metrics(document):
    return document["sets"]


def test_every_metric_for_every_evaluation_set(metrics):
    assert {"validation", "test", "field", "challenge"} <= set(metrics)
    for name, m in metrics.items():
        for key in METRIC_KEYS:
            assert key in m, (name, key)
        assert len(m["reliability"]) == 10
        assert sum(row["count"] for row in m["reliability"]) == m["n"]
    for name in ("test", "field", "challenge"):
        assert {"borderline", "area", "form", "length"} <= set(metrics[name]["slices"])
        low, high = metrics[name]["accuracy_ci95"]
        assert low <= metrics[name]["accuracy"] <= high
        assert 0 <= metrics[name]["review"]["flagged_share"] <= 1


def test_the_trained_model_leans_on_no_shortcut(document):
    """None of the heaviest features may be a non-lexicon word or n-gram tied to one class in the training data."""
    audit = document["model_shortcut_audit"]
    assert audit["top_k"] == config.AUDIT.model_top_k
    assert audit["n_shortcuts"] == 0, audit["shortcuts"]
    assert audit["function_terms_in_top_k"] >= audit["top_k"] // 2


def test_scope_figures_for_every_set_with_out_of_scope_postings(document):
    assert {"test", "field", "challenge"} <= set(document["scope"])
    for figures in document["scope"].values():
        assert figures["n_out_of_scope"] > 0 and figures["n_in_scope"] > 0
        low, high = figures["out_of_scope_recall_ci95"]
        assert low <= figures["out_of_scope_recall"] <= high


def test_the_five_plots_exist(metrics):
    for file_name in PLOT_FILES.values():
        path = config.PLOTS_DIR / file_name
        assert path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_errors_csv_lists_exactly_the_misclassified_rows(metrics):
    errors = pd.read_csv(config.ERRORS_PATH, keep_default_na=False)
    # Validation errors (out of fold) are there too, as many as the validation confusion matrix counts.
    for name in ("validation", "test", "field"):
        matrix = metrics[name]["confusion_matrix"]["matrix"]
        assert (errors["set"] == name).sum() == matrix[0][1] + matrix[1][0], name
    assert (errors["true_label"] != errors["predicted"]).all()
    # One order across all sets, most confident mistake first.
    assert errors["confidence"].is_monotonic_decreasing
    # The full text, not a cut: every row's text is the posting's whole text in its split.
    splits = {name: pd.read_csv(path, keep_default_na=False).set_index("id")["text"]
              for name, path in (("validation", config.TRAIN_PATH), ("test", config.TEST_PATH),
                                 ("field", config.FIELD_PATH), ("challenge", config.CHALLENGE_PATH))}  # fmt: skip
    for _, row in errors.iterrows():
        assert row["text"] == splits[row["set"]][row["id"]]


def test_model_card_numbers_come_from_metrics_json(metrics, shipped_model_path):
    card = config.MODEL_CARD_PATH.read_text()
    model = load_model(shipped_model_path)
    for name, m in metrics.items():
        row = next(line for line in card.splitlines() if line.startswith(f"| {name} | {m['n']} |"))
        assert f"| {m['accuracy']:.3f} | {m['macro_f1']:.3f} |" in row
        assert f"| {m['ece']:.3f} |" in row
    assert model.metadata["model_sha256"] in card
    assert f"{model.threshold:.2f}" in card
    assert model.versions["scikit-learn"] in card


def test_threshold_in_metadata_is_what_predict_uses(shipped_model_path):
    model = load_model(shipped_model_path)
    assert 0.2 <= model.metadata["threshold"] <= 0.8
    assert model.metrics["validation_grouped_cv"]["threshold"] == model.threshold
    calibration = model.metadata["calibration"]
    assert calibration["validation_ece_after"] <= calibration["validation_ece_before"]
