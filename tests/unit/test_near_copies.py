"""Near copies by runs of words: edited copies are found, postings that only share a paragraph are not."""

import random

from pipeline import config
from pipeline.near_copies import jaccard, near_copies, shingles


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
    assert near_copies(texts, among=len(texts)).groups == [0, 0, 0, 3, 4]
    # What joins them is the measure's limit: the pairs joined overlap by at least it, the others by less.
    overlap = {(i, j): jaccard(shingles(texts[i], 2), shingles(texts[j], 2)) for i in range(5) for j in range(i + 1, 5)}
    assert all((value >= config.NEAR_COPY.min_jaccard) == (j < 3) for (i, j), value in overlap.items())


def test_copies_of_the_rest_are_named_and_the_rest_never_grouped():
    """A user's posting against the evaluation sets: named where one copies an evaluation posting; two evaluation
    postings that copy each other are not the question."""
    texts = [POSTING, words("draft supply contracts"), [*POSTING, "now"], [*POSTING, "today"]]
    found = near_copies(texts, among=2)
    assert found.of_others == {0} and found.groups == [0, 1]


def test_near_copies_of_another_kind_are_not_grouped():
    """Postings of two labels that differ by a word or two (counterfactual pairs, a long shared company paragraph)
    are not grouped: one group of both labels took a whole employer's postings out of the test split."""
    texts = [POSTING, [*POSTING, "now"], [*POSTING, "today"]]
    found = near_copies(texts, among=3, kinds=["BPO", "KPO", "BPO"])
    assert found.groups == [0, 1, 0]
    # They are tied instead, which keeps them on one side of the split, by a pair prepare names.
    assert found.ties == [0, 0, 0] and len(found.across) == 1 and {1} < set(found.across[0])


def test_the_hashing_finds_every_near_copy_among_many_texts():
    """The banded signatures must not miss what the exact measure finds: 300 random texts, 60 of them edited
    copies of others (a word changed in 40 words), are grouped pair for pair."""
    draw = random.Random(5)
    vocabulary = [f"w{i}" for i in range(2000)]
    texts = [[draw.choice(vocabulary) for _ in range(40)] for _ in range(240)]
    for k in range(60):
        copy = list(texts[k])
        copy[draw.randrange(40)] = "edited"
        texts.append(copy)
    groups = near_copies(texts, among=len(texts)).groups
    assert groups == [*range(240), *range(60)]


def test_a_template_filled_thousands_of_times_is_one_group():
    """Each is checked against a few before it in a bucket, not every one: 2,000 postings of one template, a city
    apart, made two million candidate pairs; a chain of links joins them all the same."""
    cities = [f"city{i}" for i in range(2000)]
    texts = [[*POSTING[:10], city, *POSTING[10:]] for city in cities]
    assert set(near_copies(texts, among=len(texts)).groups) == {0}


def test_a_copy_behind_hundreds_of_postings_that_share_its_paragraph_is_found():
    """Four hundred postings share three quarters of their words (a company paragraph), just below the limit, so
    they fill the signatures' buckets without being copies; a copy of the first, at the end, is still found: the
    most alike are checked first, not the latest."""
    draw = random.Random(0)
    vocabulary = [f"v{i}" for i in range(5000)]
    paragraph = [f"b{i}" for i in range(45)]
    texts = [paragraph + [draw.choice(vocabulary) for _ in range(15)] for _ in range(400)]
    texts.append([*texts[0], "extra"])
    assert near_copies(texts, among=len(texts)).groups[-1] == 0


def test_a_copy_of_a_copy_joins_the_group_through_the_one_it_copies():
    """C copies B and B copies A, but C is no copy of A: C was checked against A alone, the first of the group B had
    joined, and stayed apart; its twin B could then sit on the other side of the split. Two hundred such chains."""
    draw = random.Random(1)
    vocabulary = [f"v{i}" for i in range(5000)]
    chains = 0
    for _ in range(200):
        first = [draw.choice(vocabulary) for _ in range(30)]
        second, third = list(first), []
        for place in draw.sample(range(30), 3):
            second[place] = f"x{place}"
        third = list(second)
        for place in draw.sample(range(30), 3):
            third[place] = f"y{place}"
        runs = [shingles(text, 2) for text in (first, second, third)]
        if min(jaccard(runs[0], runs[1]), jaccard(runs[1], runs[2])) < config.NEAR_COPY.min_jaccard:
            continue
        chains += 1
        assert near_copies([first, second, third], among=3, kinds=["BPO"] * 3).groups == [0, 0, 0]
    assert chains > 50


def test_texts_shorter_than_a_run_and_empty_texts():
    assert shingles(["nurse"], 2) == shingles(["nurse"], 2) != shingles(["driver"], 2)
    assert shingles([], 2) == frozenset() and jaccard(frozenset(), frozenset()) == 0.0
    assert near_copies([["nurse"], ["nurse"], [], []], among=4).groups == [0, 0, 2, 3]
