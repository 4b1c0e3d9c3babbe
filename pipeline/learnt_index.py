"""What a training file holds for the near-copy check, kept in a cache folder so evaluate reads its postings once."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline import config
from pipeline.dataset import data_hash, in_scope, key_of_words, letter_words, read_split
from pipeline.near_copies import Runs, runs_of

# The modules whose code decides what an index holds: reading the file, the words, the keys, the runs. An index
# written by other code is another entry, never read as this code's.
_MODULES_THAT_BUILD_IT = ("pipeline.config", "pipeline.readers", "pipeline.markup", "pipeline.dataset",
                          "pipeline.near_copies", __name__)  # fmt: skip
_FORMAT = "1"


@dataclass(frozen=True)
class FileIndex:
    """A training file's hashes (of its BPO/KPO rows, and of all its rows) and its postings' near-duplicate keys
    and runs of words."""

    in_scope_digest: str
    every_row_digest: str
    keys: frozenset[str]
    runs: Runs


def index_of(path: Path) -> FileIndex:
    """The file's index: from the cache when an entry for exactly these bytes (and this code) is there, else read
    from its postings and cached for the next process. A cache that cannot be read or written is only slower."""
    entry = _entry_for(Path(path))
    if entry is not None and (cached := _load(entry)) is not None:
        return cached
    index = build_index(Path(path))
    if entry is not None:
        _store(entry, index)
    return index


def build_index(path: Path) -> FileIndex:
    """The index of a file, read from its postings."""
    frame = read_split(path)
    words = [letter_words(text) for text in frame[config.TEXT_COLUMN].astype(str)]
    keys = frozenset(map(key_of_words, words))
    return FileIndex(data_hash(in_scope(frame)), data_hash(frame), keys, runs_of(words))


def _entry_for(path: Path) -> Path | None:
    """The cache file for the training file's bytes as they are now, or None where there is no cache folder to use."""
    folder = config.near_copy_cache_dir()
    if folder is None:
        return None
    with open(path, "rb") as file:  # read a block at a time: a user's training file may be larger than memory spares
        digest = hashlib.file_digest(file, lambda: hashlib.blake2b(digest_size=20))
    digest.update(_code_digest(_MODULES_THAT_BUILD_IT))
    return folder / f"{digest.hexdigest()}.npz"


@functools.cache
def _code_digest(modules: tuple[str, ...]) -> bytes:
    """The digest of the modules' source, read once a process: the code that runs is the code first imported."""
    digest = hashlib.blake2b(_FORMAT.encode(), digest_size=20)
    for name in modules:
        digest.update(Path(sys.modules[name].__file__).read_bytes())
    return digest.digest()


def _load(entry: Path) -> FileIndex | None:
    """The index in a cache file, or None when it is missing, cut short or not one."""
    try:
        with np.load(entry, allow_pickle=False) as stored:
            numbers, starts, keys = stored["numbers"], stored["starts"], stored["keys"]
            digests = stored["digests"]
        if numbers.dtype != np.uint64 or starts.dtype != np.int64 or len(digests) != 2:
            return None
        if not len(starts) or starts[0] != 0 or starts[-1] != len(numbers) or (np.diff(starts) < 0).any():
            return None
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    with contextlib.suppress(OSError):  # a cache one may read but not write is still read
        os.utime(entry)  # used: the last to be pruned
    return FileIndex(str(digests[0]), str(digests[1]), frozenset(keys.tolist()), Runs(numbers, starts))


def _store(entry: Path, index: FileIndex) -> None:
    """Write the cache file whole or not at all (a temporary file renamed into place), then prune the folder."""
    with contextlib.suppress(OSError):
        entry.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{entry.name}.", suffix=".tmp", dir=entry.parent)
        try:
            with os.fdopen(handle, "wb") as file:
                np.savez(file, numbers=index.runs.numbers, starts=index.runs.starts,
                         keys=np.array(sorted(index.keys), dtype=str),
                         digests=np.array([index.in_scope_digest, index.every_row_digest]))  # fmt: skip
            os.replace(temporary, entry)
        finally:
            Path(temporary).unlink(missing_ok=True)
        _prune(entry.parent)


def _prune(folder: Path) -> None:
    """Keep the most recently used entries: each training file that changed left one behind."""
    entries = sorted(folder.glob("*.npz"), key=lambda entry: entry.stat().st_mtime_ns, reverse=True)
    for stale in entries[config.NEAR_COPY_CACHE_ENTRIES :]:
        stale.unlink(missing_ok=True)
