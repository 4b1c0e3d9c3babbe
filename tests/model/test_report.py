"""What `make train` leaves for a reviewer: metrics.json, plots, errors.csv and a model card that agree with the
model and with what predict does."""

import json

import numpy as np
import pandas as pd
import pytest
from artifacts import edit_metadata
from console import jsonl, run

from pipeline import config, load_model
from pipeline.dataset import in_scope, read_split
from pipeline.export import export_model
from pipeline.generate import generate_postings
from pipeline.model import metadata_path
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


def test_validation_slices_are_the_held_out_areas_of_the_validation_errors(metrics):
    """Each held-out service area's and form's validation accuracy counts exactly the out-of-fold mistakes
    errors.csv lists for it, over every training posting of that area or form."""
    slices = metrics["validation"]["slices"]
    assert {"borderline", "area", "form", "length"} <= set(slices)
    errors = pd.read_csv(config.ERRORS_PATH, keep_default_na=False)
    errors = errors[errors["set"] == "validation"]
    train = in_scope(read_split(config.TRAIN_PATH))
    for column in ("area", "form"):
        assert set(slices[column]) == set(train[column])
        wrong = errors.merge(train[["id", column]], on="id", how="left", suffixes=("_error", ""))[column].value_counts()
        for value, figures in slices[column].items():
            assert figures["n"] == (train[column] == value).sum(), (column, value)
            assert round(figures["n"] * (1 - figures["accuracy"])) == wrong.get(value, 0), (column, value)


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


def test_the_report_counts_the_labels_predict_gives(shipped_model_path, metrics):
    """metrics.json's test figures are those of the labels `predict` gives: P(KPO) at or above the model's
    threshold, read from its metadata; a report or a predict deciding at 0.5 would count others."""
    model = load_model(shipped_model_path)
    threshold = json.loads(metadata_path(shipped_model_path).read_text())["threshold"]
    assert metrics["test"]["threshold"] == threshold == model.metrics["validation_grouped_cv"]["threshold"]
    test = in_scope(read_split(config.TEST_PATH))
    p_kpo = model.p_kpo(test[config.TEXT_COLUMN].tolist())
    predicted = model.predict(test[config.TEXT_COLUMN].tolist())
    assert predicted == np.where(p_kpo >= threshold, config.KPO, config.BPO).tolist()
    truth = test[config.LABEL_COLUMN].tolist()
    counted = [[sum(t == row and p == column for t, p in zip(truth, predicted, strict=True))
                for column in config.LABELS] for row in config.LABELS]  # fmt: skip
    assert metrics["test"]["confusion_matrix"] == {"labels": list(config.LABELS), "matrix": counted}


def test_calibration_lowered_the_validation_error(shipped_model_path):
    calibration = load_model(shipped_model_path).metadata["calibration"]
    assert calibration["validation_ece_after"] <= calibration["validation_ece_before"]


def test_predict_decides_at_the_threshold_in_the_metadata(model_copy, catalogue):
    """A threshold set in the metadata (re-signed, as training writes it) moves the labels of `Model.predict` and
    of the command line, both engines: none of them may fall back to 0.5 or any other number of its own."""
    texts = generate_postings(catalogue, 200, seed=21)[config.TEXT_COLUMN].tolist()
    p_kpo = load_model(model_copy).p_kpo(texts)
    # Well away from 0.5, with postings on both sides and some between the two.
    threshold = float(np.quantile(p_kpo, 0.8 if np.median(p_kpo) >= 0.5 else 0.2))
    edit_metadata(model_copy, resign=True, threshold=threshold)
    expected = np.where(p_kpo >= threshold, config.KPO, config.BPO).tolist()
    assert expected != np.where(p_kpo >= 0.5, config.KPO, config.BPO).tolist()
    model = load_model(model_copy)
    assert model.predict(texts) == expected
    export_model(model)
    for engine in ("portable", "sklearn"):
        result = run("predict", "--model", model_copy, "--engine", engine, "--format", "jsonl", *texts)
        assert result.returncode == 0, result.stderr
        assert [row["label"] for row in jsonl(result.stdout)] == expected, engine
