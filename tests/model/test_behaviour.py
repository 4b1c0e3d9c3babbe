"""Behaviour of the shipped model: field-set quality, one posting per area, invariance and direction."""

import json
import random
from pathlib import Path

import pytest

from pipeline import config, load_model
from pipeline.dataset import read_split
from pipeline.evaluate import compute_metrics

AREA_POSTINGS = json.loads((Path(__file__).parent / "area_postings.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def model(shipped_model_path):
    return load_model(shipped_model_path)


def test_field_set_quality(model):
    field = read_split(config.FIELD_PATH)
    overall = compute_metrics(field["label"], model.p_kpo(field["text"].tolist()), model.threshold)
    assert overall["accuracy"] >= 0.95
    assert overall["macro_f1"] >= 0.95
    borderline = field[field["borderline"]]
    near = compute_metrics(borderline["label"], model.p_kpo(borderline["text"].tolist()), model.threshold)
    assert near["accuracy"] >= 0.85


def test_every_area_has_a_posting_here(catalogue):
    assert {p["area"] for p in AREA_POSTINGS} == {a.area for a in catalogue.areas}


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
