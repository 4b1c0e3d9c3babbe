"""Generated postings read as one writer's: verbs agree with their subjects, only agencies speak for a client, and
the employer's setting is drawn alike for work in and out of scope."""

import re
from collections import Counter

import pandas as pd
import pytest

from pipeline import config
from pipeline.dataset import read_split
from pipeline.generate import known_verbs
from pipeline.phrasing import third_person

# The plural subjects the occupation profiles open with.
PLURAL_SUBJECTS = ("Workers in this occupation", "People in this role", "They", "These workers", "Job holders")


@pytest.fixture(scope="module")
def generated():
    return read_split(config.TRAIN_PATH)


@pytest.fixture(scope="module")
def learnt_from():
    """Every generated posting the shipped models learn from."""
    return pd.concat([read_split(config.TRAIN_PATH), read_split(config.TEST_PATH)], ignore_index=True)


def test_plural_subjects_take_the_base_form_of_the_verb(generated, catalogue):
    third_person_forms = {third_person(verb) for verb in known_verbs(catalogue)} - set(known_verbs(catalogue))
    opening = re.compile(rf"\b(?:{'|'.join(PLURAL_SUBJECTS)}) (\w+)")
    slips = [
        match.group(0)
        for text in generated[config.TEXT_COLUMN]
        for match in opening.finditer(text)
        if match.group(1) in third_person_forms
    ]
    # Occupation profiles open with these subjects in about one posting in twelve: the check has rows to read.
    assert sum(bool(opening.search(text)) for text in generated[config.TEXT_COLUMN]) > 100
    assert not slips, slips[:5]


def test_only_agency_ads_speak_for_a_client(generated):
    speaks_for_a_client = generated[config.TEXT_COLUMN].str.contains(
        r"\bour client\b(?!s)|\bon behalf of\b", case=False, regex=True
    )
    assert speaks_for_a_client[generated["form"] == "agency_ad"].any()
    assert set(generated.loc[speaks_for_a_client, "form"]) == {"agency_ad"}


def _industry_shares(texts, catalogue) -> Counter:
    """How often each industry's company blurb appears, found by each blurb's longest fixed stretch of words."""
    fragments = {
        max(re.split(r"\{\w+\}", blurb), key=len).strip(): industry
        for industry, blurbs in catalogue.register.company_blurbs.items()
        for blurb in blurbs
    }
    counts = Counter(industry for text in texts for industry in {i for f, i in fragments.items() if f in text})
    total = sum(counts.values())
    return Counter({industry: count / total for industry, count in counts.items()})


def test_the_employer_says_nothing_about_scope(learnt_from, catalogue):
    """Out-of-scope postings take their employers as in-scope ones do. Drawn from every industry alike, they had a
    staffing firm 23 times as often and a distribution business 2.8 times: the distributions were 0.30 apart."""
    is_out = learnt_from[config.LABEL_COLUMN] == config.NEITHER
    inside = _industry_shares(learnt_from.loc[~is_out, config.TEXT_COLUMN], catalogue)
    outside = _industry_shares(learnt_from.loc[is_out, config.TEXT_COLUMN], catalogue)
    assert len(inside) == len(outside) == len(catalogue.register.company_blurbs)
    # Total variation distance. Chance leaves about 0.07 between ~900 and ~3,000 blurbs of 22 industries, and the
    # split by role family a little more: the shipped data sit at 0.10.
    assert sum(abs(inside[i] - outside[i]) for i in inside) / 2 < 0.15


def test_where_the_job_is_based_joins_ads_in_and_out_of_scope_but_no_agencys(learnt_from, catalogue):
    lines = [line for lines in catalogue.register.workplaces.values() for line in lines]
    fixed = [max(line.split("{location}"), key=len).strip() for line in lines]
    has_line = learnt_from[config.TEXT_COLUMN].map(lambda text: any(f in text for f in fixed))
    forms = set(learnt_from.loc[has_line, config.FORM_COLUMN])
    for label in (*config.LABELS, config.NEITHER):
        assert has_line[learnt_from[config.LABEL_COLUMN] == label].any(), label
    assert {"short_ad", "full_ad", "careers_page"} <= forms
    assert "agency_ad" not in forms
    # A remote job names no place to be based: "our distribution centre in Remote (UK)" is no sentence.
    before_place = [line.split("{location}")[0] for line in lines if "{location}" in line]
    texts = learnt_from.loc[has_line, config.TEXT_COLUMN]
    assert not [t for t in texts if any(f"{start}Remote" in t for start in before_place)]


def test_where_the_job_is_based_leaves_the_rest_of_every_posting_as_it_was(catalogue, monkeypatch):
    """The line draws on a stream of its own: with or without it, every other word of every posting is the same,
    so its effect on the models can be measured on the same postings."""
    from pipeline import generate

    monkeypatch.setattr(generate.Posting, "workplace", lambda posting: " <workplace>")
    with_line = generate.generate_postings(catalogue, 300, seed=7, n_out_of_scope=100)
    monkeypatch.setattr(generate, "WORKPLACE_RATE", 0.0)
    without = generate.generate_postings(catalogue, 300, seed=7, n_out_of_scope=100)
    assert with_line[config.TEXT_COLUMN].str.contains("<workplace>", regex=False).sum() > 20
    pd.testing.assert_series_equal(
        with_line[config.TEXT_COLUMN].str.replace(" <workplace>", "", regex=False), without[config.TEXT_COLUMN]
    )


def _practical_lines(catalogue) -> dict[str, tuple[str, ...]]:
    """The checks anyone might be asked for, and the lines that need a place to go to (travel and site rules)."""
    local = catalogue.register.local_requirements.values()
    return {
        "checks": tuple(line for groups in local for line in groups["checks"]),
        "on_site": tuple(line for groups in local for line in groups["travel"])
        + catalogue.register.lists["practical_requirements"],
    }


def test_checks_licences_and_site_rules_join_ads_in_and_out_of_scope_alike(learnt_from, catalogue):
    """A driving licence, a DBS check or safety boots once came from out-of-scope families only, and so told scope;
    the shared lines now reach every class at one rate."""
    lines = _practical_lines(catalogue)
    everything = lines["checks"] + lines["on_site"]
    texts = learnt_from[config.TEXT_COLUMN].str.lower()
    has_line = texts.map(lambda text: any(line.lower() in text for line in everything))
    shares = has_line.groupby(learnt_from[config.LABEL_COLUMN]).mean()
    assert set(shares.index) == {*config.LABELS, config.NEITHER}
    # One rate of 0.3 for every class; forms without a requirements block and sampling leave about 0.25 each.
    assert shares.min() > 0.15 and shares.max() / shares.min() < 1.3, shares.to_dict()
    # A remote job has no site to visit. Its location is its region's "Remote (US)" or "Remote (UK)".
    remote = learnt_from[config.TEXT_COLUMN].str.contains(r"Remote \((?:US|UK)\)")
    on_site = texts[remote].map(lambda text: any(line.lower() in text for line in lines["on_site"]))
    checks = texts[remote].map(lambda text: any(line.lower() in text for line in lines["checks"]))
    assert remote.sum() > 50 and checks.sum() > 5 and not on_site.any()


def test_checks_licences_and_site_rules_leave_the_rest_of_every_posting_as_it_was(catalogue, monkeypatch):
    """The line draws on a stream of its own: a posting that draws none reads as it did before the pool existed."""
    from pipeline import generate

    with_pool = generate.generate_postings(catalogue, 300, seed=7, n_out_of_scope=100)
    monkeypatch.setattr(generate, "PRACTICAL_RATE", 0.0)
    without = generate.generate_postings(catalogue, 300, seed=7, n_out_of_scope=100)
    everything = tuple(line.lower() for group in _practical_lines(catalogue).values() for line in group)
    drew = with_pool[config.TEXT_COLUMN].str.lower().map(lambda text: any(line in text for line in everything))
    pd.testing.assert_series_equal(with_pool.loc[~drew, config.TEXT_COLUMN], without.loc[~drew, config.TEXT_COLUMN])
    # About one posting in four takes a line; a few others carry such a line of their own family's.
    assert 60 < (with_pool[config.TEXT_COLUMN] != without[config.TEXT_COLUMN]).sum() <= drew.sum() < 140
