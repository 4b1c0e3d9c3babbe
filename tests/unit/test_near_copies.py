"""Near copies by runs of words: edited copies are found, postings that only share a paragraph are not."""

import random

from pipeline import config
from pipeline.near_copies import jaccard, near_copy_pairs, shingles


def words(text: str) -> list[str]:
    return text.split()


POSTING = words(
    "answer inbound customer calls about billing and refunds log every case in the crm and escalate complaints to "
    "the team lead within one hour of the call"
)


def test_a_word_edited_or_a_sentence_appended_is_a_near_copy_and_other_duties_are_not():
    edited = [*POSTING[:5], "questions", *POSTING[6:]]
    appended = [*POSTING, "apply", "today"]
    other_duties = [*POSTING[:8], *words("draft supply contracts advise the board on regulatory risk")]
    unrelated = words("model credit risk for the retail lending book and present findings to the risk committee")
    texts = [POSTING, edited, appended, other_duties, unrelated]
    assert near_copy_pairs(texts) == [(0, 1), (0, 2), (1, 2)]
    # Each pair found is one whose runs of words overlap by at least the limit, and each other pair's do not.
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            overlap = jaccard(shingles(texts[i], 2), shingles(texts[j], 2))
            assert (overlap >= config.NEAR_COPY.min_jaccard) == ((i, j) in [(0, 1), (0, 2), (1, 2)]), (i, j)


def test_among_keeps_the_pairs_whose_first_text_is_one_of_the_first():
    """A user's posting against the evaluation sets: pairs of two evaluation postings are not asked for."""
    texts = [POSTING, words("draft supply contracts"), [*POSTING, "now"], [*POSTING, "today"]]
    assert near_copy_pairs(texts, among=1) == [(0, 2), (0, 3)]
    assert near_copy_pairs(texts) == [(0, 2), (0, 3), (2, 3)]


def test_the_hashing_finds_every_near_copy_among_many_texts():
    """The banded signatures must not miss what the exact measure finds: 300 random texts, 60 of them edited
    copies of others (a word changed in 40 words), are found pair for pair."""
    draw = random.Random(5)
    vocabulary = [f"w{i}" for i in range(2000)]
    texts = [[draw.choice(vocabulary) for _ in range(40)] for _ in range(240)]
    expected = []
    for k in range(60):
        copy = list(texts[k])
        copy[draw.randrange(40)] = "edited"
        texts.append(copy)
        expected.append((k, 240 + k))
    assert near_copy_pairs(texts) == expected


def test_texts_shorter_than_a_run_and_empty_texts():
    assert shingles(["nurse"], 2) == shingles(["nurse"], 2) != shingles(["driver"], 2)
    assert shingles([], 2) == frozenset() and jaccard(frozenset(), frozenset()) == 0.0
    assert near_copy_pairs([["nurse"], ["nurse"], [], []]) == [(0, 1)]
