"""Verb inflection and list joining used by the generator."""

import pytest

from pipeline.phrasing import capitalise, gerund, inflect, join_list, sentence, third_person


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
