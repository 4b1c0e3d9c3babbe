"""Near copies by runs of words: a posting edited by a word or two, or a template filled in another way."""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass, field

import numpy as np

from pipeline import config

# A Mersenne prime above every 32-bit shingle number: (a * x + b) mod p stays below 2**62, inside uint64.
_PRIME = (1 << 31) - 1


def shingles(words: list[str], size: int) -> frozenset[int]:
    """A text's runs of `size` words, each as a stable 32-bit number (not Python's hash, which changes by process);
    a text shorter than a run is one run of all its words."""
    if len(words) <= size:
        return frozenset({zlib.crc32(" ".join(words).encode())}) if words else frozenset()
    return frozenset(zlib.crc32(" ".join(words[i : i + size]).encode()) for i in range(len(words) - size + 1))


def jaccard(first: frozenset[int], second: frozenset[int]) -> float:
    """The share of runs two texts have in common, of all the runs either has."""
    if not first or not second:
        return 0.0
    common = len(first & second)
    return common / (len(first) + len(second) - common)


@dataclass
class NearCopies:
    """What near_copies found: `groups`, for each of the first texts, the smallest index of the texts it is joined
    to through near copies of its own kind; `of_others`, those of the first texts with a near copy among the rest."""

    groups: list[int] = field(default_factory=list)
    of_others: set[int] = field(default_factory=set)


def near_copies(
    word_lists: list[list[str]],
    among: int,
    kinds: list | None = None,
    settings: config.NearCopySettings = config.NEAR_COPY,
) -> NearCopies:
    """Near copies (runs of words overlapping by at least `settings.min_jaccard`) of the first `among` texts: joined
    into groups with those of the same kind (`kinds`, one per text among the first), and named where one of the
    rest is a copy. The rest are never grouped with one another.

    MinHash with banded locality-sensitive hashing finds candidates without comparing every pair, and each is
    checked exactly. Among the first texts, a text is checked against the latest `settings.per_group` texts of each
    other group met before it in a bucket, the `settings.scan` most alike by their signatures: a template filled in
    thousands of times made millions of candidate pairs (three and a half minutes for 6,000), where a few joins
    link them all. A copy is missed only behind more than `scan` texts whose signatures agree with it more, or
    behind `per_group` later texts of its group in every bucket the two share. Against the rest, every candidate is
    checked. The same texts give the same answer in any process."""
    runs = [shingles(words, settings.shingle_words) for words in word_lists]
    draw = random.Random(settings.seed)
    count = settings.bands * settings.rows
    slopes = np.array([draw.randrange(1, _PRIME) for _ in range(count)], dtype=np.uint64)[:, None]
    offsets = np.array([draw.randrange(0, _PRIME) for _ in range(count)], dtype=np.uint64)[:, None]
    buckets: dict[tuple[int, bytes], list[int]] = {}
    signatures = np.zeros((len(runs), count), dtype=np.uint64)
    for index, text_runs in enumerate(runs):
        if not text_runs:
            continue
        numbers = np.fromiter(text_runs, dtype=np.uint64, count=len(text_runs))[None, :] % _PRIME
        signature = signatures[index] = ((slopes * numbers + offsets) % _PRIME).min(axis=1)
        for band in range(settings.bands):
            key = (band, signature[band * settings.rows : (band + 1) * settings.rows].tobytes())
            buckets.setdefault(key, []).append(index)
    parent = list(range(among))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    found = NearCopies()
    merges = 0  # joins so far: a bucket's groups are looked up again only after one

    def join(first: int, second: int) -> None:
        nonlocal merges
        parent[max(first, second)] = min(first, second)
        merges += 1

    for members in buckets.values():
        others = [m for m in members if m >= among]
        # The texts met in this bucket by group: the latest `per_group` of each, so that a text is checked against
        # the one of a group it copies (a copy of a copy: C copies B, which joined A's group, but not A), while a
        # template's thousand copies, one group after the first join, are no candidates for one another.
        by_group: dict[int, list[int]] = {}
        looked_up = merges
        for member in (m for m in members if m < among):
            if member not in found.of_others and any(
                jaccard(runs[member], runs[other]) >= settings.min_jaccard for other in others
            ):
                found.of_others.add(member)
            if looked_up != merges:  # groups joined since: gather their texts under one name
                by_group, looked_up = _regrouped(by_group, root, settings.per_group), merges
            own = root(member)
            candidates = [
                text
                for group, texts in by_group.items()
                if group != own
                for text in texts
                if kinds is None or kinds[text] == kinds[member]
            ]
            if len(candidates) > settings.scan:
                # The most alike first, by the share of their signatures that agree (an estimate of the overlap):
                # behind hundreds of postings that share a paragraph, a copy is still among the first checked.
                agree = (signatures[candidates] == signatures[member]).sum(axis=1)
                candidates = [candidates[i] for i in np.argsort(-agree, kind="stable")[: settings.scan]]
            for text in candidates:
                first, second = root(text), root(member)
                if first != second and jaccard(runs[text], runs[member]) >= settings.min_jaccard:
                    join(first, second)
            if looked_up != merges:
                by_group, looked_up = _regrouped(by_group, root, settings.per_group), merges
            group = root(member)
            by_group[group] = [*by_group.get(group, []), member][-settings.per_group :]
    found.groups = [root(index) for index in range(among)]
    return found


def _regrouped(by_group: dict[int, list[int]], root, keep: int) -> dict[int, list[int]]:
    """The texts of a bucket under the name each group has now, the latest `keep` of each."""
    regrouped: dict[int, list[int]] = {}
    for group, texts in by_group.items():
        regrouped.setdefault(root(group), []).extend(texts)
    return {group: sorted(texts)[-keep:] for group, texts in regrouped.items()}
