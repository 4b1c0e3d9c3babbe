"""Which model may score a labelled set: never one that learnt from its postings."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline import config
from pipeline.dataset import data_hash, in_scope, key_of_words, letter_words
from pipeline.errors import DataError
from pipeline.learnt_index import FileIndex, index_of
from pipeline.model import Model
from pipeline.near_copies import Runs, copied_from, runs_of


@dataclass
class Scorers:
    """The model that scores each set, and why each set left out could not be scored honestly."""

    by_set: dict[str, Model] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)


def training_files(metadata: dict) -> list[dict]:
    """The files a model's metadata says it was trained on: path (relative to the project), hash and rows.
    Metadata from before training took several files names one path, whose hash is the whole data's."""
    data = metadata.get("training_data", {})
    if "files" in data:
        return list(data["files"])
    return [{"path": data["path"], "sha256": data.get("sha256"), "rows": data.get("rows")}] if data.get("path") else []


def training_path(entry: dict) -> Path:
    """A training file's path as the metadata records it: relative paths are the project's."""
    path = Path(entry["path"])
    return path if path.is_absolute() else config.PROJECT_ROOT / path


@dataclass
class Learnt:
    """What a model (with its scope model) learnt from, as far as its training files still show it: the
    near-duplicate keys and runs of words of the files still there and unchanged, the hashes of the files gone, and
    the files that changed since training, whose postings can no longer be told."""

    keys: set[str] = field(default_factory=set)
    runs: dict[str, Runs] = field(default_factory=dict)
    gone: set[str] = field(default_factory=set)
    changed: list[str] = field(default_factory=list)


def learnt_from(model: Model) -> Learnt:
    """Read the training files of the model and of its scope model again, and sort them by what they still show."""
    learnt = Learnt()
    entries = training_files(model.metadata) + (training_files(model.scope_metadata) if model.has_scope else [])
    files = dict.fromkeys(
        (entry["path"], entry["sha256"], bool(entry.get(config.EVERY_ROW_HASHED))) for entry in entries
    )
    for path_text, digest, every_row in files:
        path = training_path({"path": path_text})
        if not path.is_file():
            learnt.gone.add(digest)
            continue
        status = path.stat()
        index = _read_training_file(str(path), status.st_size, status.st_mtime_ns)
        if (index.every_row_digest if every_row else index.in_scope_digest) != digest:
            if path_text not in learnt.changed:
                learnt.changed.append(path_text)
            continue
        learnt.keys |= index.keys
        learnt.runs[path_text] = index.runs
    return learnt


@functools.lru_cache(maxsize=16)
def _read_training_file(path: str, size: int, modified_ns: int) -> FileIndex:
    """A training file's index (learnt_index), kept while its size and modification time stay (the arguments), so
    a process that evaluates again does not even hash the file again."""
    return index_of(Path(path))


class UnknownOverlap(Exception):
    """The model's training files changed since training: which postings it learnt can no longer be told."""


class Overlap:
    """How many postings of a set a model learnt from: by near-copy against its training files where they are
    still there (the near-duplicate key, then runs of words as prepare compares users' postings: a word or two
    edited, a sentence appended), by the hashes its metadata keeps where they are gone (a set that is exactly one of
    those files, or all of them); UnknownOverlap where a file changed since training."""

    def __init__(self) -> None:
        self._learnt: dict[int, Learnt] = {}
        # Each set's texts, read once for every model asked about it (the test split is asked of both).
        self._asked: dict[int, tuple[pd.DataFrame, Asked]] = {}

    def count(self, model: Model, frame: pd.DataFrame) -> int:
        if not len(frame):
            return 0
        if id(model) not in self._learnt:
            self._learnt[id(model)] = learnt_from(model)
        learnt = self._learnt[id(model)]
        if learnt.changed:
            raise UnknownOverlap(
                f"{', '.join(learnt.changed)} changed since {_file(model)} was trained on it, so which postings "
                "it learnt can no longer be told: retrain with make train"
            )
        seen = int(_copies(self._asked_of(frame), learnt).sum())
        if (
            not seen
            and learnt.gone
            and {data_hash(in_scope(frame)), data_hash(frame)} & (learnt.gone | _whole_data(model))
        ):
            return len(frame)
        return seen

    def _asked_of(self, frame: pd.DataFrame) -> Asked:
        held = self._asked.get(id(frame))
        if held is None or held[0] is not frame:  # the frame is held with its entry, so its id stays its own
            held = self._asked[id(frame)] = (frame, Asked(frame[config.TEXT_COLUMN].fillna("").astype(str).tolist()))
        return held[1]


class Asked:
    """A set's texts as the overlap reads them: words, near-duplicate keys, and runs of words when first needed."""

    def __init__(self, texts: list[str]) -> None:
        self.words = [letter_words(text) for text in texts]
        self.keys = [key_of_words(words) for words in self.words]

    @functools.cached_property
    def runs(self) -> Runs:
        return runs_of(self.words)


def _copies(asked: Asked, learnt: Learnt) -> np.ndarray:
    """Which texts are near copies of a posting the model learnt: by the near-duplicate key, and those it leaves
    by their runs of words, only against the files that are still there."""
    copies = np.array([key in learnt.keys for key in asked.keys], dtype=bool)
    rest = np.flatnonzero(~copies)
    if len(rest) and learnt.runs:
        asked_runs = asked.runs.only(rest)
        for known in learnt.runs.values():
            copies[rest[sorted(copied_from(asked_runs, known))]] = True
    return copies


def _whole_data(model: Model) -> set[str]:
    """The hash of all the model learnt from together, when it learnt from several files."""
    return {model.metadata.get("training_data", {}).get("sha256")} - {None}


def fitted_without_part_of(held_out: Model, model: Model) -> bool:
    """Whether `held_out` is what make train fits beside `model`: the same parameters, on some of its files only."""
    mine = {entry["sha256"] for entry in training_files(model.metadata)}
    theirs = {entry["sha256"] for entry in training_files(held_out.metadata)}
    return held_out.metadata.get("params") == model.metadata.get("params") and bool(theirs) and theirs < mine


def choose_scorers(
    model: Model, sets: dict[str, pd.DataFrame], load_held_out: Callable[[], Model | None] = lambda: None
) -> Scorers:
    """The model that scores each set: `model` when it learnt from none of the set's postings, else the held-out
    model beside it (`load_held_out`, called only then) when that is fitted the same way on part of the model's
    data and learnt from none of them either. A set neither may score is refused, with the reason."""
    overlap, scorers = Overlap(), Scorers()
    load_held_out = functools.cache(load_held_out)
    for name, frame in sets.items():
        try:
            seen = overlap.count(model, frame)
        except UnknownOverlap as unknown:
            scorers.refused[name] = f"cannot evaluate {name}: {unknown}"
            continue
        if not seen:
            scorers.by_set[name] = model
            continue
        candidate = load_held_out()
        problem = (
            f"{seen} of the {len(frame)} postings of {name} are in the training data of {_file(model)}, so figures "
            "on them would not be held out"
        )
        if candidate is None:
            scorers.refused[name] = f"{problem}: {_where_held_out(model)}"
        elif not fitted_without_part_of(candidate, model):
            scorers.refused[name] = (
                f"{problem}, and {_file(candidate)} beside it was not fitted the same way on part of its data "
                "(other parameters or files): retrain both with make train"
            )
        elif also_learnt := _also_learnt(overlap, candidate, frame):
            scorers.refused[name] = f"{problem}, and {also_learnt}"
        else:
            scorers.by_set[name] = candidate
    return scorers


def _also_learnt(overlap: Overlap, model: Model, frame: pd.DataFrame) -> str:
    """What the held-out model learnt of the set, when it learnt any (or may have: its files changed); else ''.
    Its own count, which is often below the other model's: that model learnt the test split too."""
    try:
        seen = overlap.count(model, frame)
    except UnknownOverlap as unknown:
        return str(unknown)
    return f"{_file(model)} learnt {seen} of them: evaluate postings neither saw" if seen else ""


def require_all(scorers: Scorers) -> dict[str, Model]:
    """The scorers of every set, or a DataError naming the first set that none may score."""
    if scorers.refused:
        raise DataError(next(iter(scorers.refused.values())))
    return scorers.by_set


def _file(model: Model) -> str:
    return str(model.path) if model.path else "the model"


def _where_held_out(model: Model) -> str:
    """What to do when no model fitted without the set's postings sits beside the model."""
    if model.path is None or Path(model.path).stem.endswith(config.HELD_OUT_MODEL_INFIX):
        return "evaluate postings it never saw"
    beside = config.held_out_model_path(model.path)
    if Path(model.path).resolve() == config.MODEL_PATH.resolve():
        return (
            f"no model fitted without them sits beside it ({beside.name}: make train fits one without the test split)"
        )
    return f"put the model fitted without them beside it ({beside.name}), or evaluate postings it never saw"
