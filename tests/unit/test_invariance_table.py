"""The invariance table by hand: label flips, probability shifts and postings newly flagged out of scope."""

import numpy as np
import pandas as pd
import pytest

from pipeline import config
from pipeline.invariance import (
    PARAGRAPH_FAMILIES,
    failing_families,
    format_table,
    invariance_table,
    perturbed_pairs,
)

PAIRS = pd.DataFrame(
    [
        {"family": "blurb", "row": 0, "original": "a", "perturbed": "a+"},
        {"family": "blurb", "row": 1, "original": "b", "perturbed": "b+"},
        {"family": "blurb", "row": 2, "original": "c", "perturbed": "c+"},
        {"family": "blurb", "row": 3, "original": "d", "perturbed": "d+"},
        {"family": "title", "row": 0, "original": "a", "perturbed": "-a"},
        {"family": "title", "row": 1, "original": "b", "perturbed": "-b"},
    ]
)
P_KPO = {"a": 0.9, "a+": 0.8, "b": 0.2, "b+": 0.6, "c": 0.1, "c+": 0.1, "d": 0.7, "d+": 0.7, "-a": 0.9, "-b": 0.2}
# "c" is flagged before and after its edit: only "a+" and "-b" are newly flagged.
OUT_OF_SCOPE = {"a+", "c", "c+", "-b"}


def p_kpo(texts):
    return np.array([P_KPO[t] for t in texts])


def out_of_scope(texts):
    return np.array([t in OUT_OF_SCOPE for t in texts])


def test_flips_shifts_and_newly_flagged_postings_by_hand():
    blurb, title = invariance_table(PAIRS, p_kpo, threshold=0.5, out_of_scope=out_of_scope)
    assert blurb == {
        "family": "blurb", "n": 4, "flipped_share": 0.25, "mean_abs_delta": pytest.approx(0.125),
        "max_abs_delta": pytest.approx(0.4), "newly_out_of_scope_share": 0.25,
    }  # fmt: skip
    assert title["newly_out_of_scope_share"] == 0.5 and title["flipped_share"] == 0.0


def test_without_a_scope_model_the_column_is_left_out():
    table = invariance_table(PAIRS, p_kpo, threshold=0.5)
    assert all("newly_out_of_scope_share" not in row for row in table)
    assert "new OOS" not in format_table(table)


def test_a_family_that_flags_in_scope_work_fails_its_limit():
    table = invariance_table(PAIRS, p_kpo, threshold=0.5, out_of_scope=out_of_scope)
    # Flips and shifts within every limit, so only the scope column can fail the title family.
    for row in table:
        row.update(flipped_share=0.0, mean_abs_delta=0.0)
    assert [row["family"] for row in failing_families(table)] == ["blurb", "title"]
    table[0]["newly_out_of_scope_share"] = config.INVARIANCE.max_newly_out_of_scope_share
    assert [row["family"] for row in failing_families(table)] == ["title"]
    assert "new OOS" in format_table(table) and "OVER LIMIT" in format_table(table)


def test_perturbed_pairs_appends_the_families_asked_for_and_no_other():
    postings = pd.DataFrame({config.TEXT_COLUMN: ["Payroll Clerk\nKey timesheets.", "Draft contracts."]})
    pool = {family: [f"{family} paragraph"] for family in PARAGRAPH_FAMILIES} | {"asides": ["One aside."]}
    pairs = perturbed_pairs(postings, pool, per_posting=1, families=("asides",))
    appended = pairs[~pairs["family"].str.startswith(("seniority_", "title_"))]
    assert appended["family"].unique().tolist() == ["asides"]
    assert appended["perturbed"].tolist() == [
        "Payroll Clerk\nKey timesheets.\n\nOne aside.",
        "Draft contracts.\n\nOne aside.",
    ]
    default = perturbed_pairs(postings, pool, per_posting=1)
    assert set(default["family"]) >= set(PARAGRAPH_FAMILIES) and "asides" not in set(default["family"])
