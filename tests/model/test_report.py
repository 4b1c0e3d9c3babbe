"""What `make train` leaves for a reviewer: metrics.json, plots, errors.csv and a model card that agree with the
model and with what predict does."""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from artifacts import edit_metadata
from console import jsonl, run

from pipeline import config, load_model
from pipeline.dataset import data_hash, in_scope, read_split, read_splits
from pipeline.export import export_model
from pipeline.generate import generate_postings
from pipeline.held_out import Overlap, fitted_without_part_of
from pipeline.model import metadata_path
from pipeline.plots import PLOT_FILES

# What the shipped model learns from (make train), in order: its validation folds cover both splits.
SHIPPED_PATHS = (config.TRAIN_PATH, config.TEST_PATH)
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


def test_the_challenge_set_is_reported_by_register_and_clarity(metrics, shipped_model_path):
    """The issue's bars are per register and clarity: each pair has its own row, with the accuracy its postings
    give, and the rows cover every BPO/KPO posting once."""
    from pipeline.evaluate import FORM_CLARITY_SLICE, form_clarity_value
    from pipeline.report import default_evaluation_sets

    rows = metrics["challenge"]["slices"][FORM_CLARITY_SLICE]
    challenge = default_evaluation_sets()["challenge"]
    model = load_model(shipped_model_path)
    assert sum(row["n"] for row in rows.values()) == len(challenge) == metrics["challenge"]["n"]
    for (register, borderline), part in challenge.groupby(["form", "borderline"]):
        row = rows[form_clarity_value(register, "borderline" if borderline else "clear")]
        predicted = np.array(model.predict(part["text"].tolist()))
        assert row["n"] == len(part)
        assert row["accuracy"] == pytest.approx((predicted == part["label"].to_numpy()).mean())
    # By area, the challenge set is read by the service of each posting's policy rule: the whole rule made 346
    # slices, most of one posting, and "Neither" and "NEITHER" apart.
    from pipeline.dataset import policy_service

    assert policy_service("Neither: hospitality — kitchen porters") == "NEITHER: hospitality"
    areas = metrics["challenge"]["slices"]["area"]
    assert set(areas) == {policy_service(rule) for rule in challenge["area"]} and not any(" — " in a for a in areas)
    # The model card's honest figures give the same pairs in one line.
    line = next(line for line in config.MODEL_CARD_PATH.read_text().splitlines() if "by register" in line)
    for register in challenge["form"].unique():
        clear, borderline = (rows[f"{register} / {clarity}"]["accuracy"] for clarity in ("clear", "borderline"))
        assert f"{register} {clear:.3f} / {borderline:.3f}" in line


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


def test_every_plot_exists_the_scope_plot_too(metrics):
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
    # The full text, not a cut: every row's text is the posting's whole text in its split. Validation rows are
    # the shipped model's out-of-fold scores over everything it learnt from: the training and test splits.
    sources = {"validation": SHIPPED_PATHS, "test": (config.TEST_PATH,), "field": (config.FIELD_PATH,),
               "challenge": (config.CHALLENGE_PATH,)}  # fmt: skip
    splits = {name: read_splits(paths).set_index("id")["text"] for name, paths in sources.items()}
    for _, row in errors.iterrows():
        assert row["text"] == splits[row["set"]][row["id"]]


def test_scope_errors_list_the_ngrams_behind_each_wrong_verdict(document):
    errors = pd.read_csv(config.SCOPE_ERRORS_PATH, keep_default_na=False)
    for name in ("test", "field", "challenge"):
        figures = document["scope"][name]
        missed = round(figures["n_out_of_scope"] * (1 - figures["out_of_scope_recall"]))
        flagged = round(figures["n_in_scope"] * figures["in_scope_flagged_share"])
        assert (errors["set"] == name).sum() == missed + flagged, name
    # Each wrong verdict's n-grams push toward it: toward out of scope (+) for a flagged in-scope posting,
    # toward in scope (-) for a missed out-of-scope one.
    assert ((errors["true_label"] == config.NEITHER) != errors["flagged_out_of_scope"]).all()
    for _, row in errors[errors["top_ngrams"] != ""].iterrows():
        signs = set(re.findall(r"\(([+-])", row["top_ngrams"]))
        assert signs == ({"+"} if row["flagged_out_of_scope"] else {"-"}), row["top_ngrams"]
    assert (errors["top_ngrams"] != "").mean() > 0.5


def test_validation_slices_are_the_held_out_areas_of_the_validation_errors(metrics):
    """Each held-out service area's and form's validation accuracy counts exactly the out-of-fold mistakes
    errors.csv lists for it, over every training posting of that area or form."""
    slices = metrics["validation"]["slices"]
    assert {"borderline", "area", "form", "length"} <= set(slices)
    errors = pd.read_csv(config.ERRORS_PATH, keep_default_na=False)
    errors = errors[errors["set"] == "validation"]
    train = in_scope(read_splits(SHIPPED_PATHS))
    for column in ("area", "form"):
        # A blank cell (the written postings name no area) is the slice "(not given)".
        train[column] = train[column].where(train[column].str.strip() != "", config.SLICE_NOT_GIVEN)
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
    rows, ratio = (
        model.scope_metadata["training_data"]["rows"],
        model.scope_metadata["scope"]["in_scope_per_out_of_scope"],
    )
    scope_sources = model.scope_metadata["training_data"]["sources"]
    # The scope model's rows by source add up to its rows, as the BPO/KPO model's do: its metadata had no sources.
    assert set(scope_sources) == {config.SOURCE_SYNTHETIC, config.SOURCE_WRITTEN}
    assert sum(scope_sources.values()) == rows
    learnt = (
        f"It learnt from {rows:,} postings ({scope_sources[config.SOURCE_SYNTHETIC]:,} generated, "
        f"{scope_sources[config.SOURCE_WRITTEN]:,} written by other hands (`data/raw/written/`)): every out-of-scope "
        f"posting, every BPO/KPO posting written by other hands or a user, and generated ones up to {ratio:g} for "
        "each in all"
    )
    assert learnt in card
    masked = model.metadata["params"]["masked_words"]
    # The 1,350 masked words once filled one line of the parameter table; the metadata keeps them all.
    shown = f"{len(masked):,} items ({', '.join(masked[:8])}, ...; all in the model's metadata)"
    assert f"| masked_words | {shown} |" in card
    data = model.metadata["training_data"]
    sources = data["sources"]
    assert set(sources) == {config.SOURCE_SYNTHETIC, config.SOURCE_WRITTEN} and sum(sources.values()) == data["rows"]
    assert (
        f"- {data['rows']:,} postings: {sources[config.SOURCE_SYNTHETIC]:,} generated, "
        f"{sources[config.SOURCE_WRITTEN]:,} written by other hands (`data/raw/written/`) (`data/processed/train.csv`, "
        "`data/processed/test.csv`"
    ) in card


def test_the_card_names_the_folds_its_validation_figures_come_from(shipped_model_path):
    """The card said validation "holds out whole service areas"; its figures are the folds' that hold out areas and
    forms both, and the folds that hold out areas alone score otherwise."""
    from pipeline.model_card import SET_DESCRIPTIONS
    from pipeline.train import CALIBRATION_SCHEME

    metrics = load_model(shipped_model_path).metrics
    accuracy = {scheme: figures["accuracy"] for scheme, figures in metrics["cross_validation_by_scheme"].items()}
    assert CALIBRATION_SCHEME == "area_form"
    assert metrics["validation_grouped_cv"]["accuracy"] == accuracy["area_form"] != accuracy["area"]
    assert SET_DESCRIPTIONS["validation"].endswith("that holds out whole service areas and forms")


def test_the_card_counts_users_postings_apart_from_the_generated_ones():
    """A user's 28 postings were counted among "16,028 generated postings"."""
    from pipeline.model_card import training_rows

    data = {"rows": 16_028, "sources": {config.SOURCE_SYNTHETIC: 16_000, config.SOURCE_USER: 28}}
    assert training_rows(data) == "16,028 postings: 16,000 generated, 28 of users' own (`data/raw/labelled/`)"
    assert training_rows({"rows": 40, "sources": {}}) == "40 postings: 40 from files that name no source"


@pytest.mark.parametrize(("name", "path"), [("test", config.TEST_PATH), ("field", config.FIELD_PATH)])
def test_the_report_counts_the_labels_predict_gives(shipped_model_path, metrics, name, path):
    """metrics.json's figures are those of the labels `predict` gives with the set's scorer (the test split's is
    the held-out model): P(KPO) at or above that model's threshold, read from its metadata; a report or a
    predict deciding at 0.5, or with the other model's threshold, would count others."""
    model_path = config.held_out_model_path(shipped_model_path) if name == "test" else shipped_model_path
    model = load_model(model_path)
    threshold = json.loads(metadata_path(model_path).read_text())["threshold"]
    assert metrics[name]["threshold"] == threshold == model.metrics["validation_grouped_cv"]["threshold"]
    frame = in_scope(read_split(path))
    p_kpo = model.p_kpo(frame[config.TEXT_COLUMN].tolist())
    predicted = model.predict(frame[config.TEXT_COLUMN].tolist())
    assert predicted == np.where(p_kpo >= threshold, config.KPO, config.BPO).tolist()
    truth = frame[config.LABEL_COLUMN].tolist()
    counted = [[sum(t == row and p == column for t, p in zip(truth, predicted, strict=True))
                for column in config.LABELS] for row in config.LABELS]  # fmt: skip
    assert metrics[name]["confusion_matrix"] == {"labels": list(config.LABELS), "matrix": counted}


def test_the_test_split_is_scored_by_the_model_that_never_saw_it(shipped_model_path, metrics):
    """The shipped model learns from the training and test splits; the test split's figures are those of the
    model fitted the same way without it, and the other sets' figures are the shipped model's own."""
    shipped = load_model(shipped_model_path)
    held_out = load_model(config.held_out_model_path(shipped_model_path))
    # A sample of the training split: which rows a model learnt is told row by row, and the split has some 17,000.
    train = read_split(config.TRAIN_PATH).sample(n=1000, random_state=0)
    test, overlap = read_split(config.TEST_PATH), Overlap()
    assert overlap.count(shipped, train) == len(train) and overlap.count(shipped, test) == len(test)
    assert overlap.count(held_out, train) == len(train) and overlap.count(held_out, test) == 0
    assert fitted_without_part_of(held_out, shipped) and not fitted_without_part_of(shipped, held_out)
    scorers = {name: metrics[name]["scored_by"]["model_sha256"] for name in ("test", "field", "challenge")}
    assert scorers == {"test": held_out.metadata["model_sha256"], "field": shipped.metadata["model_sha256"],
                       "challenge": shipped.metadata["model_sha256"]}  # fmt: skip
    assert metrics["test"]["scored_by"]["trained_on"] == [str(config.TRAIN_PATH.relative_to(config.PROJECT_ROOT))]
    # Each set is cut and banded by its own scorer; the model card's parameter table gives the shipped model's, so
    # the test split's own threshold and band, which no document stated, are named beside its figures.
    for name, scorer in (("test", held_out), ("field", shipped), ("challenge", shipped)):
        assert (metrics[name]["threshold"], metrics[name]["review"]["band"]) == (scorer.threshold, scorer.review_band)
    card = config.MODEL_CARD_PATH.read_text()
    assert f"at its own threshold {held_out.threshold:.2f} and review band ±{held_out.review_band:.2f}" in card


def copy_models(source: Path, folder: Path, held_out: bool) -> Path:
    """The shipped model with its scope model and metadata in `folder`, and the held-out ones if asked."""
    models = [source] + ([config.held_out_model_path(source)] if held_out else [])
    for model in models:
        for path in (model, config.scope_model_path(model)):
            for name in (path, metadata_path(path)):
                (folder / name.name).write_bytes(name.read_bytes())
    return folder / source.name


def test_evaluate_scores_no_posting_with_a_model_that_learnt_it(shipped_model_path, tmp_path):
    """Figures on postings the scorer saw in training would not be held out. Whatever the file (the test split
    whole, shuffled or cut, or mixed with training rows), a posting the shipped model learnt from is scored by
    the held-out model beside it, or the set is refused in one line; the project's own sets go on without it."""
    alone = copy_models(shipped_model_path, tmp_path, held_out=False)
    project_sets = run("evaluate", "--model", alone)
    assert project_sets.returncode == 0, project_sets.stderr
    n = len(read_split(config.TEST_PATH))  # out-of-scope postings too: the scope model learnt from them
    assert re.fullmatch(rf"Warning: test left out: {n} of the {n} postings of test are in the training data of "
                        r".*model\.joblib, so .*\(model\.held-out\.joblib\).*\n", project_sets.stderr)  # fmt: skip
    assert "== field (" in project_sets.stdout and "== test (" not in project_sets.stdout
    # A quality gate that could not check the test split does not pass.
    gate = run("evaluate", "--model", alone, "--min-macro-f1", "0.5")
    assert gate.returncode == 1 and "--min-macro-f1 could not check test" in gate.stderr, gate.stderr
    test = in_scope(read_split(config.TEST_PATH))
    cut = tmp_path / "cut.csv"
    test.sample(n=200, random_state=3).to_csv(cut, index=False)
    refused = run("evaluate", "--model", alone, "--data", cut)
    assert refused.returncode == 1 and refused.stdout == ""
    assert re.fullmatch(
        r"Error: 200 of the 200 postings of .*cut\.csv are in the training data of .*\n", refused.stderr
    )
    # Beside the held-out model, the cut is that model's to score.
    (tmp_path / "paired").mkdir()
    paired = copy_models(shipped_model_path, tmp_path / "paired", held_out=True)
    scored = run("evaluate", "--model", paired, "--data", cut, "--format", "json")
    assert scored.returncode == 0, scored.stderr
    assert json.loads(scored.stdout)[str(cut)]["scored_by"]["model_file"] == "model.held-out.joblib"
    # Training rows the held-out model learnt too: refused, with what each model learnt (the held-out model learnt
    # the 5 training rows, not the 10 of the test split: "learnt from them too" said all 15).
    mixed = tmp_path / "mixed.csv"
    field, train = in_scope(read_split(config.FIELD_PATH)), in_scope(read_split(config.TRAIN_PATH))
    pd.concat([field, train.head(5), test.head(10)]).to_csv(mixed, index=False)
    both = run("evaluate", "--model", paired, "--data", mixed)
    assert both.returncode == 1
    assert re.fullmatch(rf"Error: 15 of the {len(field) + 15} postings of .*mixed\.csv are in the training data of "
                        r".*model\.joblib, so figures on them would not be held out, and .*model\.held-out\.joblib "
                        r"learnt 5 of them: evaluate postings neither saw\n", both.stderr)  # fmt: skip
    # Near copies are learnt as exact ones are, by the measure prepare joins them by: a sentence appended to
    # training rows hid them from the near-duplicate key, and the model that learnt them scored them, exit 0.
    appended = tmp_path / "appended.csv"
    train.head(20).assign(text=train["text"].head(20) + " Apply today.").to_csv(appended, index=False)
    near = run("evaluate", "--model", paired, "--data", appended)
    assert near.returncode == 1 and near.stdout == ""
    assert re.fullmatch(r"Error: 20 of the 20 postings of .*appended\.csv are in the training data of .*model\.joblib, "
                        r"so .*model\.held-out\.joblib learnt 20 of them: evaluate postings neither saw\n",
                        near.stderr)  # fmt: skip
    # A held-out model fitted another way (here: another C) is not the shipped model's to stand in for.
    meta = json.loads(metadata_path(config.held_out_model_path(paired)).read_text())
    meta["params"]["C"] *= 2
    metadata_path(config.held_out_model_path(paired)).write_text(json.dumps(meta))
    stale = run("evaluate", "--model", paired, "--data", cut)
    assert stale.returncode == 1 and "was not fitted the same way" in stale.stderr, stale.stderr


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


def test_predict_flags_for_review_by_the_band_in_the_metadata(model_copy, catalogue):
    """The review band set in the metadata (re-signed) decides needs_review in `Model.decide` and on the command
    line, both engines, when no --review-band is given: a default of the code's own (0.1) went unseen, as every
    other test of the band passed one."""
    texts = generate_postings(catalogue, 200, seed=22)[config.TEXT_COLUMN].tolist()
    model = load_model(model_copy)
    p_kpo = model.p_kpo(texts)
    threshold = model.metadata["threshold"]
    # A band wide enough that the flags differ from any other band's near it.
    band = float(np.quantile(np.abs(p_kpo - threshold), 0.6))
    edit_metadata(model_copy, resign=True, review_band=band)
    rounded = np.round(p_kpo, 6)
    expected = (np.abs(rounded - threshold) < band).tolist()
    assert expected != (np.abs(rounded - threshold) < 0.1).tolist()
    model = load_model(model_copy)
    assert [row["needs_review"] for row in model.decide(texts)] == expected
    export_model(model)
    for engine in ("portable", "sklearn"):
        result = run("predict", "--model", model_copy, "--engine", engine, "--format", "jsonl", *texts)
        assert result.returncode == 0, result.stderr
        assert [row["needs_review"] for row in jsonl(result.stdout)] == expected, engine


def test_evaluate_reads_out_of_scope_postings_as_scope_figures(shipped_model_path, tmp_path):
    """A labelled file with out-of-scope postings (NEITHER): the BPO/KPO metrics count its BPO and KPO postings
    only, and its out-of-scope ones give the scope figures, as report gives them for the field set."""
    field = read_split(config.FIELD_PATH)
    result = run("evaluate", "--data", config.FIELD_PATH, "--format", "json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)[str(config.FIELD_PATH)]
    assert figures["n"] == len(in_scope(field)) and sum(map(sum, figures["confusion_matrix"]["matrix"])) == figures["n"]
    assert figures["scope"]["n_out_of_scope"] == (field[config.LABEL_COLUMN] == config.NEITHER).sum() > 0
    # The same figures as report's, the borderline (hard) cases too: a file read by evaluate keeps its flags as
    # text, and "False" once counted as borderline.
    assert figures["scope"] == json.loads(config.METRICS_PATH.read_text())["scope"]["field"]
    # A file of out-of-scope postings only has scope figures and no BPO/KPO metrics.
    only = tmp_path / "neither.csv"
    field[field[config.LABEL_COLUMN] == config.NEITHER].to_csv(only, index=False)
    scope_only = run("evaluate", "--data", only, "--format", "json")
    assert scope_only.returncode == 0, scope_only.stderr
    assert json.loads(scope_only.stdout)[str(only)].keys() == {"scope"}
    # A file of BPO/KPO postings only: how many of them the scope model flags, though no recall can be measured.
    # Without out-of-scope rows the scope section was left out, and a posting wrongly flagged went unseen.
    kept = tmp_path / "in_scope.csv"
    in_scope(field).to_csv(kept, index=False)
    in_only = run("evaluate", "--data", kept, "--format", "json")
    assert in_only.returncode == 0, in_only.stderr
    report_field = json.loads(config.METRICS_PATH.read_text())["scope"]["field"]
    assert json.loads(in_only.stdout)[str(kept)]["scope"] | {"hard_cases": None, "reasons": None} == {
        "n_out_of_scope": 0,
        "n_in_scope": report_field["n_in_scope"],
        "out_of_scope_recall": None,
        "out_of_scope_recall_ci95": None,
        "in_scope_flagged_share": report_field["in_scope_flagged_share"],
        "in_scope_flagged_share_ci95": report_field["in_scope_flagged_share_ci95"],
        "hard_cases": None,
        "reasons": None,
    }
    text = run("evaluate", "--data", kept)
    assert re.search(rf"in_scope\.csv +n/a of 0 +{report_field['in_scope_flagged_share']:.3f} of \d+\n", text.stdout)


def test_a_model_whose_training_files_changed_scores_nothing(shipped_model_path, tmp_path):
    """Once a file the model learnt from has changed (prepare rerun without training), which postings it learnt
    can no longer be told: every set is refused rather than scored by a model that may have learnt it."""
    copied = copy_models(shipped_model_path, tmp_path, held_out=False)
    # The models' metadata points at a few rows of each training file, hashed as train hashes them: whether a file
    # changed is told by its hash alone, and reading 20,000 postings again at every run took most of the test.
    meta = json.loads(metadata_path(copied).read_text())
    few_rows = {}
    for entry in meta["training_data"]["files"]:
        rows = read_split(config.PROJECT_ROOT / entry["path"])
        few_path = tmp_path / Path(entry["path"]).name
        pd.concat([rows.head(30), rows[rows[config.LABEL_COLUMN] == config.NEITHER].head(3)]).to_csv(
            few_path, index=False
        )
        few = read_split(few_path)
        few_rows[entry["path"]] = few_path, few
        entry["path"] = str(few_path)
        entry["sha256"], entry["rows"] = data_hash(in_scope(few)), len(in_scope(few))
    metadata_path(copied).write_text(json.dumps(meta))
    # A few field postings: which set is scored does not matter here, only whether the model may score it.
    field = tmp_path / "field.csv"
    read_split(config.FIELD_PATH).head(20).to_csv(field, index=False)
    assert run("evaluate", "--model", copied, "--data", field).returncode == 0
    train = read_split(tmp_path / "train.csv")
    train.iloc[1:].to_csv(tmp_path / "train.csv", index=False)
    changed = run("evaluate", "--model", copied, "--data", field)
    assert changed.returncode == 1 and re.fullmatch(
        r"Error: cannot evaluate .*field\.csv: .*train\.csv changed since "
        r".*retrain with make train\n",
        changed.stderr,
    ), changed.stderr
    # Out-of-scope rows alone: the scope model learns from them, yet its metadata hashed the BPO/KPO rows, so the
    # edit went unseen, and the scope model was scored on out-of-scope postings it had learnt, with exit 0.
    scope_meta_path = metadata_path(config.scope_model_path(copied))
    scope_meta = json.loads(scope_meta_path.read_text())
    for entry in scope_meta["training_data"]["files"]:
        assert entry[config.EVERY_ROW_HASHED] is True
        few_path, few = few_rows[entry["path"]]
        entry["path"] = str(few_path)
        entry["sha256"], entry["rows"] = data_hash(few), len(few)
    scope_meta_path.write_text(json.dumps(scope_meta))
    train.to_csv(tmp_path / "train.csv", index=False)
    assert run("evaluate", "--model", copied, "--data", field).returncode == 0
    neither = train.index[train[config.LABEL_COLUMN] == config.NEITHER]
    train.drop(index=neither[-1]).to_csv(tmp_path / "train.csv", index=False)
    scope_changed = run("evaluate", "--model", copied, "--data", field)
    assert scope_changed.returncode == 1 and "train.csv changed since" in scope_changed.stderr, scope_changed.stderr
    train.iloc[1:].to_csv(tmp_path / "train.csv", index=False)
    # The project's own sets, each left out for that one reason: the error named only the first set, as "test left
    # out: cannot evaluate test: ...", and said nothing of the field and challenge sets.
    plain = run("evaluate", "--model", copied)
    assert plain.returncode == 1 and re.fullmatch(
        r"Error: test, field and challenge left out: .*train\.csv changed since .*retrain with make train\n",
        plain.stderr,
    ), plain.stderr
