"""Verb inflection, list joining and the regional wording (spelling, UK terms) used by the generator."""

import pytest

from pipeline import phrasing
from pipeline.phrasing import capitalise, gerund, inflect, join_list, regional_spelling, sentence, third_person


@pytest.mark.parametrize(
    ("verb", "expected"),
    [
        ("answer", "answers"),
        ("process", "processes"),
        ("reply", "replies"),
        ("play", "plays"),
        ("do", "does"),
        ("watch", "watches"),
        ("have", "has"),
    ],
)
def test_third_person(verb, expected):
    assert third_person(verb) == expected


@pytest.mark.parametrize(
    ("verb", "expected"),
    [
        ("resolve", "resolving"),
        ("log", "logging"),
        ("audit", "auditing"),
        ("submit", "submitting"),
        ("see", "seeing"),
        ("tie", "tying"),
        ("plan", "planning"),
        ("review", "reviewing"),
        ("fix", "fixing"),
    ],
)
def test_gerund(verb, expected):
    assert gerund(verb) == expected


def test_inflect_changes_known_verbs_after_and_only():
    verbs = frozenset({"monitor", "escalate"})
    assert inflect("monitor queues and escalate issues", "gerund", verbs) == "monitoring queues and escalating issues"
    assert inflect("monitor queues and escalate issues", "third", verbs) == "monitors queues and escalates issues"
    assert inflect("monitor queues and pay bills", "gerund", verbs) == "monitoring queues and pay bills"


def test_inflect_leaves_acronym_led_phrases_alone():
    assert inflect("QA calls against the scorecard", "gerund") == "QA calls against the scorecard"


def test_join_and_sentence():
    assert join_list(["a"]) == "a"
    assert join_list(["a", "b"]) == "a and b"
    assert join_list(["a", "b", "c"], "or", oxford=True) == "a, b, or c"
    assert sentence("hello") == "Hello."
    assert sentence("done!") == "Done!"
    assert capitalise("eBay listings") == "EBay listings"


@pytest.mark.parametrize(
    ("text", "spelling", "expected"),
    [
        ("a full driving licence", "us", "a full driving license"),
        ("a valid driver's license", "uk", "a valid driver's licence"),
        ("FINRA Series 7 and Series 66 licenses", "uk", "FINRA Series 7 and Series 66 licences"),
        ("Licence and permit checks", "us", "License and permit checks"),
        # Only the noun: the participle and the gerund are spelt alike everywhere, and a longer word is left alone.
        ("a licensed attorney in the licensing team", "uk", "a licensed attorney in the licensing team"),
        ("licensee records", "us", "licensee records"),
        ("a state license", "us", "a state license"),
    ],
)
def test_regional_spelling_spells_the_noun_licence_as_the_region_does(text, spelling, expected):
    assert regional_spelling(text, spelling) == expected


# A UK term the catalogue's writers used for every region, and what another region's ads call it.
UK_TERMS = {
    "regional_record_check": [
        ("an enhanced DBS check covering adults and children", "background check",
         "an enhanced background check covering adults and children"),
        ("a basic DBS check for secure buildings", "police check", "a basic police check for secure buildings"),
        ("two DBS checks a year", "criminal record check", "two criminal record checks a year"),
        ("a current DBS check", "DBS check", "a current DBS check"),
        # The UK's shared line names the service, not "a DBS check": it is drawn for UK postings only.
        ("a basic criminal record check (DBS, Disclosure Scotland or AccessNI)", "background check",
         "a basic criminal record check (DBS, Disclosure Scotland or AccessNI)"),
    ],
    "regional_vocational_qualification": [
        ("an NVQ Level 3 in Plumbing and Domestic Heating", "vocational qualification",
         "a Level 3 vocational qualification in Plumbing and Domestic Heating"),
        ("An NVQ Level 2 or 3 in Site Carpentry", "vocational qualification",
         "A Level 2 or 3 vocational qualification in Site Carpentry"),
        ("an NVQ in Upholstery", "vocational qualification", "a vocational qualification in Upholstery"),
        ("a quarry operations NVQ", "vocational qualification", "a quarry operations vocational qualification"),
        # Where the region's ads say NVQ, the text stays as the catalogue wrote it.
        ("an NVQ Level 3 in Machining", "NVQ", "an NVQ Level 3 in Machining"),
    ],
}  # fmt: skip


@pytest.mark.parametrize(
    ("rewrite", "text", "name", "expected"),
    [(rewrite, *case) for rewrite, cases in UK_TERMS.items() for case in cases],
)
def test_a_uk_term_is_named_as_the_posting_region_names_it(rewrite, text, name, expected):
    assert getattr(phrasing, rewrite)(text, name) == expected
