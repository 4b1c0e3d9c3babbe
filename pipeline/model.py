"""Build the text Pipeline, save it with its metadata, and load it back with every check of the contract."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from pipeline import config
from pipeline.decision import labels_at
from pipeline.errors import ModelError
from pipeline.files import atomic_path, sha256_file, write_text_atomic

VERSIONED_LIBRARIES = ("scikit-learn", "numpy", "scipy", "pandas", "joblib")
REQUIRED_METADATA = ("model_sha256", "labels", "versions", "threshold", "format")
# Types a skops file may hold beyond skops' own defaults (scikit-learn estimators, numpy): none, since the
# model is a plain TF-IDF + LogisticRegression Pipeline. Anything else in a file is refused before loading.
SKOPS_TRUSTED_TYPES: list[str] = []


def default_model_path() -> Path:
    """The model to load when none is named: $BPO_KPO_MODEL when set, else the project's models/model.joblib."""
    return Path(os.environ.get(config.MODEL_ENV_VAR) or config.MODEL_PATH)


def train_hint() -> str:
    """How to (re)train a model, in words that hold where the package runs: a checkout has the Makefile."""
    if config.in_checkout():
        return "`make train`"
    # Installed from a wheel: the data and the Makefile live only in a checkout of the project.
    return "`make train` in a checkout of bpo-kpo"


def build_pipeline(params: config.TrainParams = config.TRAIN) -> Pipeline:
    """The whole model as one estimator: raw text in, class probabilities out; only scikit-learn inside."""
    return Pipeline(
        [
            (
                "tfidf",
                TfidfVectorizer(
                    ngram_range=(1, params.ngram_max),
                    min_df=params.min_df,
                    max_df=params.max_df,
                    sublinear_tf=params.sublinear_tf,
                    stop_words=params.stop_words,
                    max_features=params.max_features,
                    strip_accents="unicode",
                    lowercase=True,
                    dtype=np.float32,
                ),
            ),
            (
                "clf",
                LogisticRegression(
                    C=params.C,
                    class_weight=params.class_weight,
                    max_iter=2000,
                    random_state=params.seed,
                ),
            ),
        ]
    )


def library_versions() -> dict[str, str]:
    """Versions of Python, this package and the libraries a saved model depends on."""
    import platform
    from importlib import metadata as importlib_metadata

    versions = {"python": platform.python_version(), "bpo-kpo": package_version()}
    for name in VERSIONED_LIBRARIES:
        versions[name] = importlib_metadata.version(name)
    return versions


def package_version() -> str:
    # Imported here: importlib.metadata costs start-up time that scoring a posting does not need.
    from importlib import metadata as importlib_metadata

    try:
        return importlib_metadata.version("bpo-kpo")
    except importlib_metadata.PackageNotFoundError:  # pragma: no cover - only when run from a bare checkout
        return "0+unknown"


def metadata_path(model_path: Path) -> Path:
    """The metadata file of one model file: models/model.joblib -> models/model.joblib.json.

    The whole file name is kept, so models/model.skops gets models/model.skops.json: two models in one folder
    never share, or overwrite, each other's metadata.
    """
    model_path = Path(model_path)
    return model_path.with_name(model_path.name + config.METADATA_SUFFIX)


def save_model(pipeline: Pipeline, path: Path, metadata: dict, model_format: str = "joblib") -> dict:
    """Write the model and then its metadata, each atomically; return the metadata as written.

    The model is renamed into place before the metadata, so a crash in between leaves a new model beside old
    metadata, which the checksum check then refuses, rather than a silently mismatched pair.
    """
    from datetime import UTC, datetime

    path = Path(path)
    for _, step in pipeline.steps:
        # TfidfVectorizer caches id(stop_words), a memory address that differs in every process, to skip a
        # repeated check it redoes on first use anyway; without it, the same data gives the same model bytes.
        vars(step).pop("_stop_words_id", None)
    with atomic_path(path) as temporary:
        if model_format == "skops":
            skops_io = _import_skops()
            skops_io.dump(pipeline, temporary)
        else:
            # A plain, uncompressed pickle: joblib.load reads it like its own files, and the C unpickler loads
            # it about ten times faster than joblib's Python one (0.03 s against 0.3 s for this model).
            with open(temporary, "wb") as handle:
                pickle.dump(pipeline, handle, protocol=5)
        checksum = sha256_file(temporary)
    full = {
        **metadata,
        "format": model_format,
        "model_file": path.name,
        "model_sha256": checksum,
        "labels": list(pipeline.classes_),
        "versions": library_versions(),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    write_text_atomic(metadata_path(path), json.dumps(full, indent=2, sort_keys=True) + "\n")
    return full


def _import_skops():
    try:
        import skops.io as skops_io
    except ImportError:
        raise ModelError("the skops format needs the optional skops package: pip install 'skops>=0.10,<1'") from None
    return skops_io


class Model:
    """A loaded model: the plain scikit-learn Pipeline plus its metadata, with the project's defaults."""

    def __init__(self, pipeline: Pipeline, metadata: dict, path: Path | None = None) -> None:
        self.pipeline = pipeline
        self.metadata = metadata
        self.path = path
        self.labels: tuple[str, ...] = tuple(metadata["labels"])
        self._positive = self.labels.index(config.POSITIVE_LABEL)

    @property
    def threshold(self) -> float:
        return float(self.metadata.get("threshold", config.PREDICT.threshold))

    @property
    def review_band(self) -> float:
        return float(self.metadata.get("review_band", config.PREDICT.review_band))

    @property
    def metrics(self) -> dict:
        return self.metadata.get("metrics", {})

    @property
    def versions(self) -> dict:
        return self.metadata.get("versions", {})

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """Probabilities, one row per text, columns in the order of `labels` (BPO, KPO)."""
        return self.pipeline.predict_proba(text_list(texts))

    def p_kpo(self, texts: list[str]) -> np.ndarray:
        return self.predict_proba(texts)[:, self._positive]

    def predict(self, texts: list[str], threshold: float | None = None) -> list[str]:
        """Labels by the stored (tuned) threshold on P(KPO), or by `threshold` when given."""
        cut = self.threshold if threshold is None else threshold
        return labels_at(self.p_kpo(texts), cut).tolist()

    def decide(
        self,
        texts: list[str],
        threshold: float | None = None,
        review_band: float | None = None,
        explain: int = 0,
    ) -> list[dict]:
        """The rows `bpo-kpo predict` writes, without the id: one dict per text, in order.

        Each has `label`, `p_bpo`, `p_kpo`, `needs_review`, `error` (set, with an empty label and no
        probabilities, for an empty or missing text) and, with `explain` > 0, `explanation`: the n-grams that
        pushed the posting most toward its label. The stored threshold and review band apply unless given.
        """
        # Imported here: predict imports this module.
        from pipeline.predict import ScoreOptions, score_texts

        options = ScoreOptions(
            threshold=self.threshold if threshold is None else threshold,
            review_band=self.review_band if review_band is None else review_band,
            explain=explain,
        )
        return score_texts(self, text_list(texts, allow_missing=True), options)


def text_list(texts, allow_missing: bool = False) -> list:
    """The texts as a list; a bare string is refused, since iterating it would score one character at a time."""
    if isinstance(texts, str | bytes):
        raise TypeError(f"expected a list of texts, got a single {type(texts).__name__}; wrap it in a list: [text]")
    texts = list(texts)
    if not allow_missing:
        bad = next((t for t in texts if not isinstance(t, str)), None)
        if bad is not None:
            raise TypeError(f"expected every text to be a str, got {type(bad).__name__}")
    return texts


def read_metadata(model_path: Path) -> dict:
    """Read and check the metadata beside a model file."""
    meta_path = metadata_path(model_path)
    if not meta_path.is_file():
        raise ModelError(f"model metadata {meta_path} is missing; retrain with {train_hint()}")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ModelError(f"model metadata {meta_path} is not valid JSON; retrain with {train_hint()}") from None
    if not isinstance(meta, dict):
        raise ModelError(f"model metadata {meta_path} is not a JSON object; retrain with {train_hint()}")
    missing = [key for key in REQUIRED_METADATA if key not in meta]
    if missing:
        raise ModelError(f"model metadata {meta_path} lacks {', '.join(missing)}; retrain with {train_hint()}")
    return meta


def check_versions(meta: dict, model_path: Path) -> None:
    """Refuse a model trained under another scikit-learn minor version: scikit-learn does not support it."""
    import sklearn

    trained = str(meta["versions"].get("scikit-learn", "unknown"))
    installed = sklearn.__version__
    if trained.split(".")[:2] != installed.split(".")[:2]:
        raise ModelError(
            f"{model_path} was trained with scikit-learn {trained} but {installed} is installed; retrain with "
            f"{train_hint()} or install scikit-learn=={trained}"
        )


def load_model(path: Path | str | None = None) -> Model:
    """Load a model after checking its metadata, checksum and library versions, in that order.

    With no path: $BPO_KPO_MODEL when set, else the project's models/model.joblib.

    The checksum is verified before anything is unpickled, because unpickling runs code: a swapped or
    tampered file is refused without being executed.
    """
    path = default_model_path() if path is None else Path(path)
    if not path.is_file():
        raise ModelError(
            f"no model at {path}; train one with {train_hint()}, or pass --model (or set {config.MODEL_ENV_VAR}) "
            "to a model file"
        )
    meta = read_metadata(path)
    if path.stat().st_size == 0:
        raise ModelError(f"model file {path} is empty; retrain with {train_hint()}")
    # Read once: the bytes that are checked are the bytes that are loaded.
    data = path.read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != meta["model_sha256"]:
        raise ModelError(
            f"model file {path} does not match its metadata (SHA-256 {actual[:12]}… expected "
            f"{str(meta['model_sha256'])[:12]}…); refusing to load it: retrain with {train_hint()}"
        )
    check_versions(meta, path)
    pipeline = _unpickle(path, data, meta.get("format", "joblib"))
    if not isinstance(pipeline, Pipeline) or list(getattr(pipeline, "classes_", [])) != list(meta["labels"]):
        raise ModelError(f"{path} is not a bpo-kpo model with labels {meta['labels']}; retrain with {train_hint()}")
    return Model(pipeline, meta, path)


def _unpickle(path: Path, data: bytes, model_format: str) -> Pipeline:
    try:
        if model_format == "skops":
            skops_io = _import_skops()
            untrusted = set(skops_io.get_untrusted_types(data=data)) - set(SKOPS_TRUSTED_TYPES)
            if untrusted:
                raise ModelError(f"{path} holds types this project does not trust: {', '.join(sorted(untrusted))}")
            return skops_io.loads(data, trusted=SKOPS_TRUSTED_TYPES)
        return pickle.loads(data)
    except ModelError:
        raise
    except Exception as error:  # a damaged file fails in many ways: EOFError, UnpicklingError, zlib errors...
        raise ModelError(
            f"model file {path} cannot be read ({type(error).__name__}); retrain with {train_hint()}"
        ) from None
