"""The invariance suite: label-neutral edits of the field and challenge postings must move neither the label nor
the scope flag."""

import pytest

from pipeline import config, load_model
from pipeline.invariance import (
    PARAGRAPH_FAMILIES,
    catalogue_runs,
    clerical_pairs,
    failing_families,
    load_perturbations,
    word_runs,
)
from pipeline.report import default_evaluation_sets, invariance_results


@pytest.fixture(scope="module")
def pool():
    return load_perturbations()


@pytest.fixture(scope="module")
def table(shipped_model_path, pool):
    """The table report writes, every family scored for labels and for the scope flag; one appended paragraph per
    posting and family where report draws three, which is enough for the guard and a third of the time."""
    return invariance_results(load_model(shipped_model_path), default_evaluation_sets(), pool, per_posting=1)


def test_every_family_of_perturbations_is_run(table):
    families = {row["family"] for row in table}
    assert set(PARAGRAPH_FAMILIES) <= families
    assert {
        "title_removed",
        "title_alone",
        "seniority_head_of",
        "clerical_at_court",
        "clerical_at_law_firm",
    } <= families
    assert all(row["n"] > 0 for row in table)


def test_no_family_moves_labels_or_the_scope_flag_beyond_the_guard(table):
    """The scope model reads the work, not the register: no edit may newly flag more than the limit of these
    in-scope postings out of scope, as no edit may flip more than the guard of their labels."""
    assert all("newly_out_of_scope_share" in row for row in table)
    failing = failing_families(table, guard=True)
    assert not failing, [
        (r["family"], round(r["flipped_share"], 3), round(r["mean_abs_delta"], 3), r["newly_out_of_scope_share"])
        for r in failing
    ]


def test_the_suite_reads_each_text_as_predict_does(shipped_model_path, pool):
    """A link alone appended to a posting leaves the text predict scores as it was, so it moves nothing; read raw,
    its words ("jobs", "linkedin") moved P(KPO) as a duty's words would."""
    links = pool | {"web_links": ["https://careers.example.com/jobs/48213?utm_source=linkedin"]}
    sets = {name: frame.head(40) for name, frame in default_evaluation_sets().items() if name == "field"}
    (row,) = [r for r in invariance_results(load_model(shipped_model_path), sets, links, families=("web_links",))
              if r["family"] == "web_links"]  # fmt: skip
    assert row["n"] == 40 and row["max_abs_delta"] == 0 and row["newly_out_of_scope_share"] == 0


def test_the_same_clerical_duties_stay_bpo_in_every_knowledge_setting(shipped_model_path, pool):
    model = load_model(shipped_model_path)
    pairs = clerical_pairs(pool)
    labels = model.predict(pairs["perturbed"].tolist())
    assert labels.count(config.BPO) / len(labels) >= 0.9


def test_the_perturbation_pool_shares_no_five_word_run_with_the_catalogue(pool, catalogue):
    """The paragraphs were written for this test only: the generator must not be able to learn them."""
    catalogue = catalogue_runs(catalogue)
    assert "customer enquiries by phone email" in catalogue  # the catalogue's phrases are read
    paragraphs = [p for key in PARAGRAPH_FAMILIES for p in pool[key]] + list(pool["clerical_templates"])
    shared = sorted({run for p in paragraphs for run in word_runs(p) & catalogue})
    assert not shared, shared[:10]
