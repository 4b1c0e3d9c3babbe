"""Near copies by runs of words: a posting edited by a word or two, or a template filled in another way."""

from __future__ import annotations

import functools
import itertools
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
    # map over zip rather than a generator of slices: evaluate reads every training posting's runs, 2 million of them.
    runs = zip(*(words[start:] for start in range(size)), strict=False)
    return frozenset(map(zlib.crc32, map(str.encode, map(" ".join, runs))))


def jaccard(first: frozenset[int], second: frozenset[int]) -> float:
    """The share of runs two texts have in common, of all the runs either has."""
    if not first or not second:
        return 0.0
    common = len(first & second)
    return common / (len(first) + len(second) - common)


@dataclass(frozen=True)
class Runs:
    """Texts' runs of words: text i's distinct run numbers are `numbers[starts[i]:starts[i + 1]]`. One array holds the
    2.5 million runs of the postings a model learns from in 20 MB, where a set per text took 200 MB."""

    numbers: np.ndarray
    starts: np.ndarray

    def __len__(self) -> int:
        return len(self.starts) - 1

    def sizes(self) -> np.ndarray:
        return np.diff(self.starts)

    def of(self, index: int) -> frozenset[int]:
        return frozenset(self.numbers[self.starts[index] : self.starts[index + 1]].tolist())

    def among(self, pool: np.ndarray) -> np.ndarray:
        """Whether each of the runs, in `numbers`' order, is one of `pool`'s (sorted and distinct)."""
        distinct, places = self._distinct
        # The pool (a file's runs) is looked up among these runs' distinct numbers, not each of the millions of runs a
        # model learnt from in the pool: evaluate asks the same training runs about every set.
        found = np.zeros(len(distinct), dtype=bool)
        if len(pool) and len(distinct):
            spots = np.minimum(np.searchsorted(distinct, pool), len(distinct) - 1)
            found[spots[distinct[spots] == pool]] = True
        return found[places]

    @functools.cached_property
    def _distinct(self) -> tuple[np.ndarray, np.ndarray]:
        """The distinct run numbers, sorted, and where each run's number is among them."""
        return np.unique(self.numbers, return_inverse=True)

    def only(self, indices: np.ndarray) -> Runs:
        """The runs of the texts at `indices`, in that order."""
        sizes = self.sizes()[indices]
        taken = [self.numbers[self.starts[index] : self.starts[index + 1]] for index in indices]
        numbers = np.concatenate(taken) if taken else np.zeros(0, dtype=np.uint64)
        return Runs(numbers, np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64))


def runs_of(word_lists: list[list[str]], settings: config.NearCopySettings = config.NEAR_COPY) -> Runs:
    """The runs of texts given as their words."""
    return _packed([shingles(words, settings.shingle_words) for words in word_lists])


def _packed(sets: list[frozenset[int]]) -> Runs:
    """Texts' runs, given as one set per text, in one array."""
    sizes = [len(runs) for runs in sets]
    numbers = np.fromiter(itertools.chain.from_iterable(sets), dtype=np.uint64, count=sum(sizes))
    return Runs(numbers, np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]).astype(np.int64))


def signatures_of(runs: Runs, settings: config.NearCopySettings = config.NEAR_COPY) -> np.ndarray:
    """Each text's MinHash signature, one row per text (zeros for a text without words)."""
    draw = random.Random(settings.seed)
    count = settings.bands * settings.rows
    slopes = np.array([draw.randrange(1, _PRIME) for _ in range(count)], dtype=np.uint64)[:, None]
    offsets = np.array([draw.randrange(0, _PRIME) for _ in range(count)], dtype=np.uint64)[:, None]
    signatures = np.zeros((len(runs), count), dtype=np.uint64)
    sizes = runs.sizes()
    # Texts a block at a time, each one's minimum taken over its own columns: one text at a time took twice as long
    # for the thousands of postings a model learnt from, which evaluate signs on every run.
    for first, last in _blocks(runs.starts, _BLOCK_RUNS):
        texts = first + np.flatnonzero(sizes[first:last])
        if not len(texts):
            continue
        numbers = runs.numbers[runs.starts[first] : runs.starts[last]] % _PRIME
        hashed = (slopes * numbers[None, :] + offsets) % _PRIME
        signatures[texts] = np.minimum.reduceat(hashed, runs.starts[texts] - runs.starts[first], axis=1).T
    return signatures


# Runs hashed at once: a block's hashes take 8 bytes times the signature's length times this, 30 MB.
_BLOCK_RUNS = 50_000


def _blocks(starts: np.ndarray, limit: int) -> list[tuple[int, int]]:
    """Consecutive texts, as (first, past the last), whose runs add up to `limit` or fewer (or one text's more)."""
    blocks, first = [], 0
    while first < len(starts) - 1:
        last = max(int(np.searchsorted(starts, starts[first] + limit, side="right")) - 1, first + 1)
        blocks.append((first, last))
        first = last
    return blocks


def _band(signatures: np.ndarray, band: int, settings: config.NearCopySettings) -> np.ndarray:
    """Each signature's hashes in one band folded into one number, equal where all of them are (and, about once in
    2**64, where they are not: one candidate more, checked as any is). Numbers sort far faster than the band's
    bytes do."""
    folded = np.zeros(len(signatures), dtype=np.uint64)
    for column in range(band * settings.rows, (band + 1) * settings.rows):
        folded = folded * _FOLD + signatures[:, column]  # wraps around modulo 2**64, as meant
    return folded


# An odd multiplier with well-mixed bits (2**64 over the golden ratio), for folding a band's hashes into one number.
_FOLD = np.uint64(0x9E3779B97F4A7C15)


def copied_from(asked: Runs, known: Runs, settings: config.NearCopySettings = config.NEAR_COPY) -> set[int]:
    """The indices of the `asked` texts that have a near copy among the `known` ones: every text that shares a band
    of its signature with one is checked exactly, as near_copies checks the rest."""
    # A known text copies an asked one only if that text holds `min_jaccard` of its runs or more, so all the asked
    # texts together do: the rest are never signed (all but a few of a model's postings, against a small file).
    inside = np.concatenate([[0], np.cumsum(known.among(np.unique(asked.numbers)))])
    sizes = known.sizes()
    shares = (inside[known.starts[1:]] - inside[known.starts[:-1]]) / np.maximum(sizes, 1)
    plausible = np.flatnonzero((sizes > 0) & (shares >= settings.min_jaccard))
    asking = np.flatnonzero(asked.sizes())
    if not len(plausible) or not len(asking):
        return set()
    known = known.only(plausible)
    theirs, mine = signatures_of(known, settings), signatures_of(asked.only(asking), settings)
    candidates: dict[int, set[int]] = {}
    for band in range(settings.bands):
        values = _band(theirs, band, settings)
        order = np.argsort(values, kind="stable")
        values = values[order]
        wanted = _band(mine, band, settings)
        low, high = np.searchsorted(values, wanted, "left"), np.searchsorted(values, wanted, "right")
        for position in np.flatnonzero(high > low):
            candidates.setdefault(int(position), set()).update(order[low[position] : high[position]].tolist())
    known_runs = functools.cache(known.of)
    return {
        int(asking[position])
        for position, others in candidates.items()
        if any(jaccard(asked.of(int(asking[position])), known_runs(other)) >= settings.min_jaccard for other in others)
    }


@dataclass
class NearCopies:
    """What near_copies found: `groups`, for each of the first texts, the smallest index of the texts it is joined
    to through near copies of its own kind; `ties`, the same through near copies of any kind; `across`, pairs of
    near copies of different kinds that tied two sets of them; `of_others`, those of the first texts with a near
    copy among the rest."""

    groups: list[int] = field(default_factory=list)
    ties: list[int] = field(default_factory=list)
    across: list[tuple[int, int]] = field(default_factory=list)
    of_others: set[int] = field(default_factory=set)


def near_copies(
    word_lists: list[list[str]],
    among: int,
    kinds: list | None = None,
    settings: config.NearCopySettings = config.NEAR_COPY,
) -> NearCopies:
    """Near copies (runs of words overlapping by at least `settings.min_jaccard`) of the first `among` texts: joined
    into groups with those of the same kind (`kinds`, one per text among the first), tied to those of other kinds
    without joining them, and named where one of the rest is a copy. The rest are never grouped with one another.

    MinHash with banded locality-sensitive hashing finds candidates without comparing every pair, and each is
    checked exactly. Among the first texts, a text is checked against the latest `settings.per_group` texts of each
    other group met before it in a bucket, the `settings.scan` most alike by their signatures: a template filled in
    thousands of times made millions of candidate pairs (three and a half minutes for 6,000), where a few joins
    link them all. A copy is missed only behind more than `scan` texts whose signatures agree with it more, or
    behind `per_group` later texts of its group in every bucket the two share. Against the rest, every candidate is
    checked (copied_from). The same texts give the same answer in any process."""
    runs = [shingles(words, settings.shingle_words) for words in word_lists[:among]]
    first_texts = _packed(runs)
    signatures = signatures_of(first_texts, settings)
    buckets: dict[tuple[int, bytes], list[int]] = {}
    for index, text_runs in enumerate(runs):
        if not text_runs:
            continue
        for band in range(settings.bands):
            key = (band, signatures[index, band * settings.rows : (band + 1) * settings.rows].tobytes())
            buckets.setdefault(key, []).append(index)
    parent, tied = list(range(among)), list(range(among))

    def root(index: int) -> int:
        return _root(parent, index)

    found = NearCopies(of_others=copied_from(first_texts, runs_of(word_lists[among:], settings), settings))
    merges = 0  # joins so far: a bucket's groups are looked up again only after one

    def join(first: int, second: int) -> None:
        nonlocal merges
        parent[max(first, second)] = min(first, second)
        merges += 1
        tie(first, second)

    def tie(first: int, second: int) -> None:
        first, second = _root(tied, first), _root(tied, second)
        tied[max(first, second)] = min(first, second)

    def most_alike(candidates: list[int], member: int) -> list[int]:
        """The candidates to check, the `scan` most alike by the share of their signatures that agree (an estimate
        of the overlap): behind hundreds of postings that share a paragraph, a copy is still among the first."""
        if len(candidates) <= settings.scan:
            return candidates
        agree = (signatures[candidates] == signatures[member]).sum(axis=1)
        return [candidates[i] for i in np.argsort(-agree, kind="stable")[: settings.scan]]

    for members in buckets.values():
        # The texts met in this bucket by group: the latest `per_group` of each, so that a text is checked against
        # the one of a group it copies (a copy of a copy: C copies B, which joined A's group, but not A), while a
        # template's thousand copies, one group after the first join, are no candidates for one another.
        by_group: dict[int, list[int]] = {}
        looked_up = merges
        for member in members:
            if looked_up != merges:  # groups joined since: gather their texts under one name
                by_group, looked_up = _regrouped(by_group, root, settings.per_group), merges
            own = root(member)
            met = [text for group, texts in by_group.items() if group != own for text in texts]
            for text in most_alike([t for t in met if kinds is None or kinds[t] == kinds[member]], member):
                first, second = root(text), root(member)
                if first != second and jaccard(runs[text], runs[member]) >= settings.min_jaccard:
                    join(first, second)
            # Copies of another kind are tied, not joined: a group per kind keeps each kind's share of the split.
            for text in most_alike([t for t in met if kinds is not None and kinds[t] != kinds[member]], member):
                if (
                    _root(tied, text) != _root(tied, member)
                    and jaccard(runs[text], runs[member]) >= settings.min_jaccard
                ):
                    tie(text, member)
                    found.across.append((text, member))
            if looked_up != merges:
                by_group, looked_up = _regrouped(by_group, root, settings.per_group), merges
            group = root(member)
            by_group[group] = [*by_group.get(group, []), member][-settings.per_group :]
    found.groups = [root(index) for index in range(among)]
    found.ties = [_root(tied, index) for index in range(among)]
    return found


def _root(parents: list[int], index: int) -> int:
    """The set an index belongs to in a union-find forest, halving the path on the way."""
    while parents[index] != index:
        parents[index] = parents[parents[index]]
        index = parents[index]
    return index


def _regrouped(by_group: dict[int, list[int]], root, keep: int) -> dict[int, list[int]]:
    """The texts of a bucket under the name each group has now, the latest `keep` of each."""
    regrouped: dict[int, list[int]] = {}
    for group, texts in by_group.items():
        regrouped.setdefault(root(group), []).extend(texts)
    return {group: sorted(texts)[-keep:] for group, texts in regrouped.items()}
