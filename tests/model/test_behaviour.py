"""Behaviour of the shipped model: field-set quality, one posting per area, invariance and direction."""

import json
import random
from pathlib import Path

import pytest

from pipeline import config, load_model
from pipeline.evaluate import compute_metrics, wilson_interval
from pipeline.report import default_evaluation_sets

AREA_POSTINGS = json.loads((Path(__file__).parent / "area_postings.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def model(shipped_model_path):
    return load_model(shipped_model_path)


# The bars: on the field set, our stand-in for real postings, those for real postings (clear 0.97,
# borderline 0.80); on the challenge set, its clear bar (0.99), and for its borderline postings the bar every
# register must meet (0.85): the 0.93 for them all is not met yet (README, "What is not met yet"). As in the
# test below, a set fails when its 95% interval lies wholly on the wrong side of its bar: when the postings show
# the model misses it, which sampling noise alone does for a model that meets it at most one time in forty. A
# test of the interval's lower end instead fails a model as good as its bar about half the time.
BARS = {("field", False): 0.97, ("field", True): 0.80, ("challenge", False): 0.99, ("challenge", True): 0.85}
# And each challenge register's: 0.97 on its clear postings, 0.85 on its borderline ones.
REGISTER_BARS = {False: 0.97, True: 0.85}


@pytest.mark.parametrize(("name", "borderline"), list(BARS), ids=[f"{n}-{b}" for n, b in BARS])
def test_accuracy_on_postings_never_trained_on_meets_its_bar(model, name, borderline):
    frame = default_evaluation_sets()[name]
    frame = frame[frame["borderline"] == borderline]
    metrics = compute_metrics(frame["label"], model.p_kpo(frame["text"].tolist()), model.threshold)
    _, high = metrics["accuracy_ci95"]
    assert high >= BARS[(name, borderline)], (metrics["accuracy"], metrics["accuracy_ci95"])


@pytest.mark.parametrize("borderline", list(REGISTER_BARS), ids=["clear", "borderline"])
def test_every_challenge_register_meets_its_bar(model, borderline):
    frame = default_evaluation_sets()["challenge"]
    frame = frame[frame["borderline"] == borderline]
    assert frame["form"].nunique() == 5
    for register, part in frame.groupby("form"):
        metrics = compute_metrics(part["label"], model.p_kpo(part["text"].tolist()), model.threshold)
        _, high = metrics["accuracy_ci95"]
        assert high >= REGISTER_BARS[borderline], (register, metrics["accuracy"], metrics["accuracy_ci95"])


def test_accuracy_stays_within_what_redrawing_the_data_explains(model):
    """A regression guard beside the bars: field and challenge accuracy may not fall below the mean minus three
    standard deviations of `make seeds` (benchmarks/seeds.json, the model retrained under six generator seeds).
    A change that costs more accuracy than redrawing the generated data does is a regression, not the draw."""
    spread = json.loads((config.PROJECT_ROOT / "benchmarks" / "seeds.json").read_text(encoding="utf-8"))["spread"]
    for name in ("field", "challenge"):
        frame = default_evaluation_sets()[name]
        accuracy = compute_metrics(frame["label"], model.p_kpo(frame["text"].tolist()), model.threshold)["accuracy"]
        draw = spread[f"{name}_accuracy"]
        assert accuracy >= draw["mean"] - 3 * draw["sd"], (name, accuracy, draw)


def test_few_postings_are_wrong_while_sure(model):
    """Probabilities must not claim 0.97 or more when they are wrong, on text written apart from the generator.

    Held to the bar for real postings (at most 2%), tested against the interval's lower end.
    """
    for name in ("field", "challenge"):
        frame = default_evaluation_sets()[name]
        metrics = compute_metrics(frame["label"], model.p_kpo(frame["text"].tolist()), model.threshold)
        wrong = round(metrics["wrong_at_high_confidence_share"] * metrics["n"])
        low, _ = wilson_interval(wrong, metrics["n"])
        assert low <= 0.02, (name, metrics["wrong_at_high_confidence_share"])


def test_every_area_has_a_posting_here(catalogue):
    assert {p["area"] for p in AREA_POSTINGS} == {a.area for a in catalogue.areas if a.label in config.LABELS}


@pytest.mark.parametrize("posting", AREA_POSTINGS, ids=[p["area"] for p in AREA_POSTINGS])
def test_a_typical_posting_of_each_area_gets_its_label(model, posting):
    assert model.predict([posting["text"]]) == [posting["label"]]


def _neutral_additions(catalogue, rng):
    pool = catalogue.neutral
    company = rng.choice(pool["companies"])
    blurb = rng.choice(pool["company_blurbs"]).replace("{company}", company)
    salary = rng.choice(pool["salary_templates"]).replace("{low}", "38,000").replace("{high}", "52,000")
    location = rng.choice(pool["locations"])
    return [blurb, salary, location, "\n".join([blurb, salary, location])]


@pytest.mark.parametrize("posting", AREA_POSTINGS, ids=[p["area"] for p in AREA_POSTINGS])
def test_company_blurb_salary_or_location_never_flip_the_label(model, catalogue, posting):
    rng = random.Random(posting["area"])
    base = model.predict([posting["text"]])[0]
    variants = []
    for addition in _neutral_additions(catalogue, rng):
        variants += [f"{addition}\n\n{posting['text']}", f"{posting['text']}\n\n{addition}"]
    assert model.predict(variants) == [base] * len(variants)


@pytest.mark.parametrize(
    "posting", [p for p in AREA_POSTINGS if p["kpo_duties"]], ids=[p["area"] for p in AREA_POSTINGS if p["kpo_duties"]]
)
def test_adding_knowledge_work_moves_toward_kpo(model, posting):
    before, after = model.p_kpo([posting["text"], f"{posting['text']}\n{posting['kpo_duties']}"])
    assert after > before


def test_seniority_does_not_decide_the_class(model):
    pairs = [
        ("Junior", "Customer Service Representative"),
        ("Senior", "Customer Service Representative"),
        ("Junior", "Litigation Associate Attorney"),
        ("Head of", "Payroll"),
    ]
    texts = [f"{level} {title}" for level, title in pairs]
    labels = model.predict(texts)
    assert labels[0] == labels[1] == "BPO"
    assert labels[2] == "KPO"
    assert labels[3] == "BPO"
