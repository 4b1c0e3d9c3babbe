"""evaluate's cache of what training files hold: read back where the bytes are the same, read again where not."""

import os

import numpy as np
import pytest

from pipeline import config, learnt_index
from pipeline.dataset import read_split
from pipeline.learnt_index import build_index, index_of


@pytest.fixture
def cache_folder(tmp_path, monkeypatch):
    monkeypatch.setenv(config.CACHE_HOME_VAR, str(tmp_path / "cache"))
    return tmp_path / "cache" / "bpo-kpo" / "near-copies"


@pytest.fixture
def training_file(tmp_path):
    path = tmp_path / "train.csv"
    frame = read_split(config.TEST_PATH).head(60)
    frame.loc[0, config.TEXT_COLUMN] = "Answer inbound calls and log every ticket"
    frame.to_csv(path, index=False)
    return path


def assert_same(index, other):
    assert (index.in_scope_digest, index.every_row_digest, index.keys) == (
        other.in_scope_digest,
        other.every_row_digest,
        other.keys,
    )
    assert np.array_equal(index.runs.numbers, other.runs.numbers)
    assert np.array_equal(index.runs.starts, other.runs.starts)


def no_reading(path):
    raise AssertionError(f"{path} was read again")


def test_an_index_read_back_from_the_cache_is_the_one_read_from_the_postings(cache_folder, training_file, monkeypatch):
    built = index_of(training_file)
    assert len(list(cache_folder.glob("*.npz"))) == 1
    monkeypatch.setattr(learnt_index, "build_index", no_reading)
    assert_same(index_of(training_file), built)
    assert_same(built, build_index(training_file))


def test_a_file_edited_keeping_its_size_and_times_is_read_again(cache_folder, training_file):
    before = index_of(training_file)
    times = os.stat(training_file)
    training_file.write_text(training_file.read_text().replace("inbound calls", "inbound chats", 1))
    os.utime(training_file, ns=(times.st_atime_ns, times.st_mtime_ns))
    assert os.stat(training_file).st_size == times.st_size
    after = index_of(training_file)
    assert after.every_row_digest != before.every_row_digest
    assert_same(after, build_index(training_file))
    assert len(list(cache_folder.glob("*.npz"))) == 2


@pytest.mark.parametrize("damage", ["cut", "empty", "other npz"])
def test_a_damaged_entry_is_read_again_and_replaced(cache_folder, training_file, damage):
    built = index_of(training_file)
    (entry,) = cache_folder.glob("*.npz")
    if damage == "cut":
        entry.write_bytes(entry.read_bytes()[: entry.stat().st_size // 2])
    elif damage == "empty":
        entry.write_bytes(b"")
    else:
        np.savez(entry, numbers=np.arange(3))
    assert_same(index_of(training_file), built)
    with np.load(entry) as stored:
        assert set(stored.files) == {"numbers", "starts", "keys", "digests"}


def test_without_a_cache_folder_to_write_the_index_is_still_read(tmp_path, training_file, monkeypatch):
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(config.CACHE_HOME_VAR, str(blocker))
    assert_same(index_of(training_file), build_index(training_file))


def test_the_cache_keeps_the_entries_used_last(cache_folder, tmp_path, training_file, monkeypatch):
    monkeypatch.setattr(config, "NEAR_COPY_CACHE_ENTRIES", 2)
    others = []
    for rows in (40, 50):
        other = tmp_path / f"train-{rows}.csv"
        read_split(config.TEST_PATH).head(rows).to_csv(other, index=False)
        others.append(other)
    index_of(training_file)
    (first,) = cache_folder.glob("*.npz")
    index_of(others[0])
    (second,) = set(cache_folder.glob("*.npz")) - {first}
    past = os.stat(first).st_mtime_ns - 10**11
    os.utime(first, ns=(past, past))
    os.utime(second, ns=(past + 10**9, past + 10**9))
    index_of(training_file)  # used again: now the most recent
    index_of(others[1])
    kept = set(cache_folder.glob("*.npz"))
    assert len(kept) == 2 and first in kept and second not in kept


def test_an_entry_written_by_other_code_is_not_read(cache_folder, training_file, monkeypatch):
    """The index depends on how the words are read: after an upgrade that reads them otherwise, the old entry is
    another file, and the postings are read again."""
    index_of(training_file)
    reads = []
    monkeypatch.setattr(learnt_index, "build_index", lambda path: reads.append(path) or build_index(path))
    index_of(training_file)
    assert reads == []
    monkeypatch.setattr(learnt_index, "_MODULES_THAT_BUILD_IT", learnt_index._MODULES_THAT_BUILD_IT[:-1])
    index_of(training_file)
    assert reads == [training_file] and len(list(cache_folder.glob("*.npz"))) == 2


def test_a_cache_that_may_be_read_but_not_written_is_still_read(cache_folder, training_file, monkeypatch):
    built = index_of(training_file)

    def refused(*args, **kwargs):
        raise PermissionError("read-only file system")

    monkeypatch.setattr(learnt_index.os, "utime", refused)
    monkeypatch.setattr(learnt_index, "build_index", no_reading)
    assert_same(index_of(training_file), built)
