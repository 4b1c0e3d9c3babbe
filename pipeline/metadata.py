"""Read and check the metadata beside a model file and its scope model, with the standard library alone."""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from pathlib import Path

from pipeline import config
from pipeline.config import metadata_path
from pipeline.errors import ModelError, require_model_file, train_hint
from pipeline.files import sha256_file

METADATA_DIGEST = "metadata_sha256"
# The metadata fields that decide what a posting is labelled: a digest of them, recorded at training, is checked
# on load, so an edited threshold or review band is refused rather than silently obeyed.
DECISION_FIELDS = ("format", "labels", "model_sha256", "review_band", "threshold")
REQUIRED_METADATA = ("model_sha256", "labels", "versions", "threshold", "format", METADATA_DIGEST)
# In a scope model's metadata: the checksum of the BPO/KPO model file trained beside it, in the same run. A scope
# model left from another run (a training stopped between the two files, a file copied in) is refused on load.
PAIRED_MODEL = "paired_model_sha256"
# The scope model's rule for text that is no job posting decides the out_of_scope flag as the threshold does, and
# the pairing decides which model it serves: metadata written since this field was added digests both too. A file
# without it, written before, is checked as it was then; one whose field was removed no longer matches its digest.
DIGEST_VERSION = "metadata_digest_version"
DIGEST_VERSION_2_FIELDS = (*DECISION_FIELDS, "scope", PAIRED_MODEL, DIGEST_VERSION)
CURRENT_DIGEST_VERSION = 2
# Each digested field as a message names it, in the order it names them.
_DIGESTED_FIELD_NAMES = {
    "threshold": "threshold",
    "review_band": "review band",
    "labels": "labels",
    "format": "format",
    "model_sha256": "model checksum (model_sha256)",
    "scope": "scope rules",
    PAIRED_MODEL: "pairing",
    DIGEST_VERSION: "digest version",
}


def metadata_digest(meta: dict) -> str:
    """SHA-256 of the decision fields (threshold, review band, labels, format, model checksum and, since version 2,
    the scope rules and the pairing) as canonical JSON."""
    fields = {key: meta.get(key) for key in _digested_fields(meta)}
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def _digested_fields(meta: dict) -> tuple[str, ...]:
    """The fields the digest of this metadata covers, by the digest version it records."""
    return DIGEST_VERSION_2_FIELDS if meta.get(DIGEST_VERSION) == CURRENT_DIGEST_VERSION else DECISION_FIELDS


def _digested_fields_named(meta: dict) -> str:
    """The fields the digest covers, in words: 'threshold, review band, ... or pairing'."""
    digested = _digested_fields(meta)
    names = [name for field, name in _DIGESTED_FIELD_NAMES.items() if field in digested]
    return f"{', '.join(names[:-1])} or {names[-1]}"


def read_metadata(model_path: Path) -> dict:
    """Read and check the metadata beside a model file: present, JSON, every field of the right kind, and the
    decision fields still those its digest was taken of."""
    meta_path = metadata_path(model_path)
    if meta_path.is_dir():
        # Said to be missing, it sent the user to retrain, which cannot write the metadata over a folder either.
        raise ModelError(
            f"model metadata {meta_path} is a folder, not a metadata file; move it away, then restore the metadata "
            f"file there or retrain with {train_hint()}"
        )
    if not meta_path.is_file():
        raise ModelError(f"model metadata {meta_path} is missing; retrain with {train_hint()}")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError):  # bad JSON, bad UTF-8, a number too long to read, nesting too deep
        raise ModelError(f"model metadata {meta_path} is not valid JSON; retrain with {train_hint()}") from None
    if not isinstance(meta, dict):
        raise ModelError(f"model metadata {meta_path} is not a JSON object; retrain with {train_hint()}")
    missing = [key for key in REQUIRED_METADATA if key not in meta]
    if missing:
        raise ModelError(
            f"model metadata {meta_path} lacks {', '.join(missing)} (written by an older bpo-kpo, or edited); "
            f"retrain with {train_hint()}"
        )
    written = meta.get(DIGEST_VERSION)
    if isinstance(written, int) and not isinstance(written, bool) and written > CURRENT_DIGEST_VERSION:
        # Retraining with this bpo-kpo would not help: it cannot read what a newer one wrote.
        raise ModelError(
            f"model metadata {meta_path} was written by a newer bpo-kpo ({DIGEST_VERSION} {written}; this one reads "
            f"up to {CURRENT_DIGEST_VERSION}): upgrade bpo-kpo to load it"
        )
    problem = _field_problem(meta)
    if problem:
        raise ModelError(f"model metadata {meta_path}: {problem}; retrain with {train_hint()}")
    if metadata_digest(meta) != meta[METADATA_DIGEST]:
        # Every field the digest covers is named: the model checksum, edited, was left out of the list.
        raise ModelError(
            f"model metadata {meta_path} was changed after training: its {_digested_fields_named(meta)} do not match "
            f"{METADATA_DIGEST}; restore the file or retrain with {train_hint()}"
        )
    return meta


def is_number(value, low: float = -math.inf, high: float = math.inf) -> bool:
    """Whether a JSON value is a finite number in [low, high]: not true or false, and not a whole number too big for
    a float (math.isfinite raised OverflowError on one)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value) and low <= value <= high
    except OverflowError:
        return False


def _is_digest(value) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)


def _scope_rules_fit(rules) -> bool:
    """The scope rules a model records: an object whose rule for unrecognisable text, where given, is in range."""
    if not isinstance(rules, dict):
        return False
    words, share = rules.get("min_words", 0), rules.get("min_known_share", 0)
    whole = isinstance(words, int) and not isinstance(words, bool) and words >= 0
    return whole and is_number(share, 0, 1)


# A library's version (1.6.1, 1.7rc1, 1.8.dev0, 1.6.1+local): the version check compares its first two numbers, and
# the advice names it in `install scikit-learn==VERSION`. What follows them is left free, as packagers write it.
_VERSION = re.compile(r"\d+\.\d+[0-9A-Za-z.+!_-]*")


def _library_versions_problem(versions: dict) -> str | None:
    """The first library version recorded that is not one, named by its library; None if all are fine. A bad one was
    named only by the whole object, cut mid-value, and scikit-learn's "banana" passed, to be advised as
    `install scikit-learn==banana` (and the portable engine, which needs no scikit-learn, scored with it)."""
    for library, version in versions.items():
        if library == "scikit-learn":
            valid, expected = isinstance(version, str) and _VERSION.fullmatch(version), 'a version such as "1.6.1"'
        else:
            valid, expected = isinstance(version, str) and version.strip(), "a non-empty string"
        if not valid:
            return f"'versions.{library}' must be {expected}, not {json.dumps(version)[:40]}"
    return None


def _field_problem(meta: dict) -> str | None:
    """The first metadata field with the wrong type or an out-of-range value, described; None if all are fine."""
    checks = {
        "model_sha256": (_is_digest, "a SHA-256 hex digest"),
        # The BPO/KPO model's labels, or the scope model's beside it.
        "labels": (lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v)
                   and sorted(v) in (sorted(config.LABELS), sorted(config.SCOPE_LABELS)),
                   f"a list of the labels {list(config.LABELS)} (or {list(config.SCOPE_LABELS)} for a scope model)"),
        # The version check reads scikit-learn's (without it, it advised installing scikit-learn==unknown), and serve
        # bpo-kpo's (a null stopped it after it said it was serving); each version is checked below.
        "versions": (lambda v: isinstance(v, dict) and "scikit-learn" in v,
                     "an object of library versions, each a non-empty string, that names scikit-learn's"),
        "threshold": (lambda v: is_number(v, 0, 1), "a number from 0 to 1"),
        "review_band": (lambda v: is_number(v, 0, config.MAX_REVIEW_BAND),
                        f"a number from 0 to {config.MAX_REVIEW_BAND}"),
        "format": (lambda v: v in config.MODEL_FORMATS, f"one of {', '.join(config.MODEL_FORMATS)}"),
        # Read by every scored posting: a null or a string here loaded, then failed every request with a TypeError.
        "scope": (_scope_rules_fit, "an object whose min_words is a whole number of at least 0 and whose "
                  "min_known_share is a number from 0 to 1"),
        PAIRED_MODEL: (_is_digest, "a SHA-256 hex digest"),
        DIGEST_VERSION: (lambda v: v == CURRENT_DIGEST_VERSION, f"{CURRENT_DIGEST_VERSION}"),
        METADATA_DIGEST: (lambda v: isinstance(v, str), "a SHA-256 hex digest"),
    }  # fmt: skip
    for field, (valid, expected) in checks.items():
        if field in meta and not valid(meta[field]):
            return f"{field!r} must be {expected}, not {json.dumps(meta[field])[:40]}"
    return _library_versions_problem(meta["versions"])


def check_pair(path: Path, meta: dict, scope_file: Path, scope_meta: dict) -> None:
    """Refuse a scope model that another run trained. One written before the pairing was recorded loads as before."""
    paired = scope_meta.get(PAIRED_MODEL)
    if paired is not None and paired != meta["model_sha256"]:
        raise ModelError(
            f"scope model {scope_file} was trained with another model than {path} (paired with SHA-256 "
            f"{str(paired)[:12]}…, this one is {str(meta['model_sha256'])[:12]}…); if a training is writing them, "
            f"load again when it ends, else retrain with {train_hint()}"
        )


# The SHA-256 of no bytes at all: an empty file is named so, on every engine (the portable one called it a
# checksum mismatch).
_EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def check_checksum(path: Path, meta: dict, actual: str) -> None:
    """Refuse a model file whose SHA-256 is not the one its metadata records."""
    if actual == _EMPTY_SHA256 and meta["model_sha256"] != _EMPTY_SHA256:
        raise ModelError(f"model file {path} is empty; retrain with {train_hint()}")
    if actual != meta["model_sha256"]:
        raise ModelError(
            f"model file {path} does not match its metadata (SHA-256 {actual[:12]}… expected "
            f"{str(meta['model_sha256'])[:12]}…); refusing to load it: retrain with {train_hint()}"
        )


def checked_metadata(model_path: Path) -> tuple[dict, dict | None]:
    """The metadata of a model file and of the scope model beside it (None when neither its file nor its metadata
    is there), each read and checked, each file's checksum against it, and the pair: the contract's checks that
    need no scikit-learn. The portable scorer runs them too, so that no engine serves what load_model refuses."""
    model_path = Path(model_path)
    require_model_file(model_path)
    meta = read_metadata(model_path)
    check_labels(model_path, meta, config.LABELS)
    check_checksum(model_path, meta, sha256_file(model_path))
    scope_file = config.scope_model_path(model_path)
    if not (scope_file.exists() or metadata_path(scope_file).exists()):
        return meta, None
    require_model_file(scope_file, main=False)
    scope_meta = read_metadata(scope_file)
    check_labels(scope_file, scope_meta, config.SCOPE_LABELS)
    check_checksum(scope_file, scope_meta, sha256_file(scope_file))
    check_pair(model_path, meta, scope_file, scope_meta)
    return meta, scope_meta


def check_labels(model_path: Path, meta: dict, labels: tuple[str, ...]) -> None:
    """Refuse a model whose metadata names the other model's labels (a scope model in the BPO/KPO model's place, or
    the reverse), before its file is read: it was unpickled first, and each engine named the fault otherwise."""
    if sorted(meta["labels"]) != sorted(labels):
        raise ModelError(not_this_model(model_path, labels))


def not_this_model(model_path: Path, labels: tuple[str, ...]) -> str:
    """The message for a file that is not the model asked for."""
    return f"{model_path} is not a bpo-kpo model with labels {list(labels)}; retrain with {train_hint()}"


def sklearn_version_problem(meta: dict, model_path: Path, installed: str) -> str | None:
    """What is wrong when a model trained under one scikit-learn minor version meets `installed`, which scikit-learn
    does not support; None when the two are of one minor version. `meta` is read_metadata's, which holds the version
    recorded to be one."""
    trained = meta["versions"]["scikit-learn"]
    if trained.split(".")[:2] == installed.split(".")[:2]:
        return None
    return (
        f"{model_path} was trained with scikit-learn {trained} but {installed} is installed; retrain with "
        f"{train_hint()} or install scikit-learn=={trained}"
    )


# A $SOURCE_DATE_EPOCH that is no time, taken out of the environment by set_aside_bad_source_date_epoch.
_set_aside_epoch: str | None = None


def training_time() -> str:
    """A model's created_at: $SOURCE_DATE_EPOCH where set (seconds since 1970, UTC), else now."""
    from datetime import UTC, datetime

    problem = source_date_epoch_problem()
    if problem:
        raise ModelError(problem)
    epoch = os.environ.get(config.SOURCE_DATE_EPOCH_VAR)
    if epoch is None:
        return datetime.now(UTC).isoformat(timespec="seconds")
    return _epoch_time(epoch).isoformat(timespec="seconds")


def source_date_epoch_problem() -> str | None:
    """What is wrong with $SOURCE_DATE_EPOCH, or None when it is unset or a time."""
    epoch = os.environ.get(config.SOURCE_DATE_EPOCH_VAR, _set_aside_epoch)
    if epoch is None:
        return None
    try:
        _epoch_time(epoch)
    except ValueError:
        return (
            f"{config.SOURCE_DATE_EPOCH_VAR}={epoch[:40]!r} is not a time in whole seconds since 1970: set it to one "
            "(date +%s) or unset it"
        )
    return None


def set_aside_bad_source_date_epoch() -> None:
    """Take a $SOURCE_DATE_EPOCH that is no time out of the environment, before numpy is imported: numpy's f2py,
    which scikit-learn imports, reads it and stopped every command on it with a ValueError, --help and predict
    included. Only a command that dates a model (train) needs it, and refuses it by source_date_epoch_problem."""
    global _set_aside_epoch
    if source_date_epoch_problem():
        _set_aside_epoch = os.environ.pop(config.SOURCE_DATE_EPOCH_VAR)


def _epoch_time(epoch: str):
    """The UTC time of whole seconds since 1970 written in ASCII digits; ValueError for anything else."""
    from datetime import UTC, datetime

    if not epoch.isascii() or not epoch.isdigit():
        raise ValueError(epoch)
    try:
        return datetime.fromtimestamp(int(epoch), UTC)
    except (OverflowError, OSError):
        raise ValueError(epoch) from None
