"""Which model may score a labelled set: never one that learnt from its postings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline import config
from pipeline.dataset import data_hash, in_scope, near_duplicate_key, read_split
from pipeline.errors import DataError
from pipeline.model import Model


@dataclass
class Scorers:
    """The model that scores each set, and why each set left out could not be scored honestly."""

    by_set: dict[str, Model] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)


def training_files(model: Model) -> list[dict]:
    """The files the model's metadata says it was trained on: path (relative to the project), hash and rows."""
    return list(model.metadata.get("training_data", {}).get("files", []))


def training_path(entry: dict) -> Path:
    """A training file's path as the metadata records it: relative paths are the project's."""
    path = Path(entry["path"])
    return path if path.is_absolute() else config.PROJECT_ROOT / path


def learnt_keys(model: Model) -> set[str] | None:
    """The near-duplicate keys of every posting the model learnt from, read again from its training files; None
    when a file is gone or changed since training (its hash), so that only the whole-file hashes can be compared."""
    keys: set[str] = set()
    for entry in training_files(model):
        path = training_path(entry)
        if not path.is_file():
            return None
        frame = read_split(path)
        if data_hash(in_scope(frame)) != entry["sha256"]:
            return None
        keys |= set(frame[config.TEXT_COLUMN].astype(str).map(near_duplicate_key))
    return keys if keys else None


class Overlap:
    """How many postings of a set each model learnt from: by near-copy against its training files where they are
    still there, else by the hashes its metadata keeps (a set that is exactly one of its files, or all of them)."""

    def __init__(self) -> None:
        self._keys: dict[int, set[str] | None] = {}

    def count(self, model: Model, frame: pd.DataFrame) -> int:
        if not len(frame):
            return 0
        if id(model) not in self._keys:
            self._keys[id(model)] = learnt_keys(model)
        keys = self._keys[id(model)]
        if keys is not None:
            return int(frame[config.TEXT_COLUMN].astype(str).map(near_duplicate_key).isin(keys).sum())
        return len(frame) if model.trained_on(frame) else 0


def fitted_without_part_of(held_out: Model, model: Model) -> bool:
    """Whether `held_out` is what make train fits beside `model`: the same parameters, on some of its files only."""
    mine = {entry["sha256"] for entry in training_files(model)}
    theirs = {entry["sha256"] for entry in training_files(held_out)}
    return held_out.metadata.get("params") == model.metadata.get("params") and bool(theirs) and theirs < mine


def choose_scorers(
    model: Model, sets: dict[str, pd.DataFrame], load_held_out: Callable[[], Model | None] = lambda: None
) -> Scorers:
    """The model that scores each set: `model` when it learnt from none of the set's postings, else the held-out
    model beside it (`load_held_out`, called only then) when that is fitted the same way on part of the model's
    data and learnt from none of them either. A set neither may score is refused, with the reason."""
    overlap, scorers = Overlap(), Scorers()
    held_out: list[Model | None] = []
    for name, frame in sets.items():
        seen = overlap.count(model, frame)
        if not seen:
            scorers.by_set[name] = model
            continue
        if not held_out:
            held_out.append(load_held_out())
        candidate = held_out[0]
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
        elif overlap.count(candidate, frame):
            scorers.refused[name] = (
                f"{problem}, and {_file(candidate)} learnt from them too: evaluate postings neither saw"
            )
        else:
            scorers.by_set[name] = candidate
    return scorers


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
        return f"make train writes the model fitted without the test split beside it ({beside.name})"
    return f"put the model fitted without them beside it ({beside.name}), or evaluate postings it never saw"
