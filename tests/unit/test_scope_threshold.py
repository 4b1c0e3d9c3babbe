"""The scope threshold at its edges: at most the allowed share of in-scope postings reach it, and it is clamped."""

import math

import numpy as np
import pytest

from pipeline import config
from pipeline.scope import tune_scope_threshold

# In-scope validation scores spread over the middle of [0, 1], with a tie, and out-of-scope ones above them that
# the cut must not read: it is set by in-scope postings alone.
IN_SCOPE = np.array([0.12, 0.18, 0.2, 0.23, 0.27, 0.3, 0.3, 0.34, 0.36, 0.4, 0.41, 0.45, 0.5, 0.55, 0.61, 0.7])
OUT_OF_SCOPE = np.array([0.97, 0.99, 0.8, 0.9])


def _scores(in_scope, out_of_scope=OUT_OF_SCOPE):
    is_out = np.concatenate([np.zeros(len(in_scope), bool), np.ones(len(out_of_scope), bool)])
    return is_out, np.concatenate([in_scope, out_of_scope])


def _flagged(in_scope, cut):
    return int((np.asarray(in_scope) >= cut).sum())


@pytest.mark.parametrize("share", [config.SCOPE.max_in_scope_flagged, 0.0, 0.1, 0.125, 0.2, 0.5])
def test_at_most_the_allowed_share_of_in_scope_postings_reach_the_cut_and_no_lower_cut_keeps_to_it(share):
    """The cut flags at most floor(share × n) in-scope postings, and it is the lowest that does: without the step
    just above the in-scope score at the allowed quantile, the posting with that score (and any tied with it)
    reached the cut and one posting too many was flagged; a floor raised above the scores held the cut above them."""
    is_out, p_out = _scores(IN_SCOPE)
    cut = tune_scope_threshold(is_out, p_out, share)
    allowed = math.floor(share * len(IN_SCOPE))
    assert _flagged(IN_SCOPE, cut) <= allowed
    # Every score lies well inside the clamps, so a cut a hair lower flags more than the share allows.
    assert _flagged(IN_SCOPE, cut - 1e-5) > allowed


def test_tied_in_scope_scores_at_the_quantile_are_all_left_below_the_cut():
    """Three in-scope postings tied at the allowed quantile's score: the cut sits above all three, so fewer than
    the allowed share are flagged rather than more."""
    in_scope = np.array([0.2, 0.25, 0.3, 0.35, 0.4, 0.4, 0.4, 0.6, 0.65, 0.7])
    is_out, p_out = _scores(in_scope)
    cut = tune_scope_threshold(is_out, p_out, 0.4)  # floor(0.4 × 10) = 4 may be flagged; the ties make it 3
    assert _flagged(in_scope, cut) == 3
    assert cut > 0.4


def test_the_cut_is_clamped_away_from_zero_and_one():
    """A cut of 0 flags every posting and one at or above 1 none: when the in-scope scores would put it there (all
    near 0, or a share that allows every posting; all at 1), it is held to a floor above 0 and a ceiling below 1,
    and a cut between them is left as the scores put it."""
    n = 8
    floor = tune_scope_threshold(*_scores(np.zeros(n)), 0.0)
    assert floor == tune_scope_threshold(*_scores(np.linspace(0.0, 0.01, n)), 0.25)
    assert floor == tune_scope_threshold(*_scores(np.full(n, 0.5)), 1.0)  # every posting allowed: a cut of 0
    ceiling = tune_scope_threshold(*_scores(np.ones(n)), 0.0)
    assert 0.0 < floor < ceiling < 1.0
    for share in (0.0, 0.02, 0.3, 0.9, 1.0):
        for in_scope in (np.zeros(n), np.ones(n), IN_SCOPE, np.linspace(0.0, 1.0, 11)):
            assert floor <= tune_scope_threshold(*_scores(in_scope), share) <= ceiling
    # The floor lies below, and the ceiling above, the hand-made scores' cuts, which the clamps leave alone.
    assert floor < tune_scope_threshold(*_scores(IN_SCOPE), 1 / len(IN_SCOPE)) < ceiling
    assert floor < IN_SCOPE.min() and ceiling > IN_SCOPE.max()
