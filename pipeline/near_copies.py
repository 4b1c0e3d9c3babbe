"""Near copies by runs of words: a posting edited by a word or two, or a template filled in another way."""

from __future__ import annotations

import random
import zlib
from itertools import combinations

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


def near_copy_pairs(
    word_lists: list[list[str]], settings: config.NearCopySettings = config.NEAR_COPY, among: int | None = None
) -> list[tuple[int, int]]:
    """The pairs (i, j), i < j, of texts (as lists of normalised words) whose runs of words overlap by at least
    `settings.min_jaccard`, in order. With `among`, only pairs whose first text is one of the first `among`.

    MinHash with banded locality-sensitive hashing finds the candidates without comparing every pair; each is then
    checked exactly, so a pair named is a near copy, and the same texts give the same pairs in any process."""
    runs = [shingles(words, settings.shingle_words) for words in word_lists]
    draw = random.Random(settings.seed)
    count = settings.bands * settings.rows
    slopes = np.array([draw.randrange(1, _PRIME) for _ in range(count)], dtype=np.uint64)[:, None]
    offsets = np.array([draw.randrange(0, _PRIME) for _ in range(count)], dtype=np.uint64)[:, None]
    buckets: dict[tuple[int, bytes], list[int]] = {}
    for index, text_runs in enumerate(runs):
        if not text_runs:
            continue
        numbers = np.fromiter(text_runs, dtype=np.uint64, count=len(text_runs))[None, :] % _PRIME
        signature = ((slopes * numbers + offsets) % _PRIME).min(axis=1)
        for band in range(settings.bands):
            key = (band, signature[band * settings.rows : (band + 1) * settings.rows].tobytes())
            buckets.setdefault(key, []).append(index)
    limit = len(runs) if among is None else among
    candidates = {
        pair for members in buckets.values() if len(members) > 1 for pair in combinations(members, 2) if pair[0] < limit
    }
    return sorted(pair for pair in candidates if jaccard(runs[pair[0]], runs[pair[1]]) >= settings.min_jaccard)
