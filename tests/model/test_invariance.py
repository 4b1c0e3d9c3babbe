"""The invariance suite: label-neutral edits of the field and challenge postings must not move the label."""

import re

import pytest

from pipeline import config, load_model
from pipeline.invariance import (
    PARAGRAPH_FAMILIES,
    clerical_pairs,
    failing_families,
    invariance_table,
    load_perturbations,
    perturbed_pairs,
)
from pipeline.report import default_evaluation_sets


@pytest.fixture(scope="module")
def pool():
    return load_perturbations()


@pytest.fixture(scope="module")
def table(shipped_model_path, pool):
    import pandas as pd

    model = load_model(shipped_model_path)
    sets = default_evaluation_sets()
    postings = pd.concat([sets["field"], sets["challenge"]], ignore_index=True)
    pairs = pd.concat([perturbed_pairs(postings, pool), clerical_pairs(pool)], ignore_index=True)
    return invariance_table(pairs, model.p_kpo, model.threshold)


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


def test_no_family_moves_labels_beyond_the_guard(table):
    failing = failing_families(table, guard=True)
    assert not failing, [(r["family"], round(r["flipped_share"], 3), round(r["mean_abs_delta"], 3)) for r in failing]


def test_no_appended_paragraph_flags_in_scope_work_out_of_scope(shipped_model_path, pool):
    """The scope model reads the work, not the register: a company blurb, shifts and pay, benefits or an agency's
    boilerplate appended to a BPO or KPO posting leaves it in scope (one paragraph per posting and family)."""
    import numpy as np
    import pandas as pd

    model = load_model(shipped_model_path)
    sets = default_evaluation_sets()
    postings = pd.concat([sets["field"], sets["challenge"]], ignore_index=True)
    pairs = perturbed_pairs(postings, pool, per_posting=1)
    pairs = pairs[pairs["family"].isin(PARAGRAPH_FAMILIES)]
    table = invariance_table(pairs, model.p_kpo, model.threshold, lambda texts: np.asarray(model.scope(texts)[1]))
    assert [row["family"] for row in table] == list(PARAGRAPH_FAMILIES)
    limit = config.INVARIANCE.max_newly_out_of_scope_share
    assert all(row["newly_out_of_scope_share"] <= limit for row in table), table


def test_the_same_clerical_duties_stay_bpo_in_every_knowledge_setting(shipped_model_path, pool):
    model = load_model(shipped_model_path)
    pairs = clerical_pairs(pool)
    labels = model.predict(pairs["perturbed"].tolist())
    assert labels.count(config.BPO) / len(labels) >= 0.9


def _runs(text, n=5):
    words = re.findall(r"[a-z0-9']+", text.lower())
    return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}


def test_the_perturbation_pool_shares_no_five_word_run_with_the_catalogue(pool, catalogue):
    """The paragraphs were written for this test only: the generator must not be able to learn them."""
    catalogue_text = [p for a in catalogue.areas for p in a.duties + a.requirements + a.metrics + a.ways_of_working]
    catalogue_text += [p for f in catalogue.families for p in f.duties + f.requirements + f.titles]
    catalogue_text += [item for items in catalogue.neutral.values() for item in items]
    catalogue_text += [item for items in catalogue.register.lists.values() for item in items]
    catalogue_text += [item for items in catalogue.register.company_blurbs.values() for item in items]
    catalogue_text += [item for items in catalogue.register.workplaces.values() for item in items]
    catalogue_runs = set().union(*map(_runs, catalogue_text))
    paragraphs = [p for key in PARAGRAPH_FAMILIES for p in pool[key]] + list(pool["clerical_templates"])
    shared = sorted({run for p in paragraphs for run in _runs(p) & catalogue_runs})
    assert not shared, shared[:10]
