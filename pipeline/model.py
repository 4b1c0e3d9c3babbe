"""Build the text Pipeline, save it with its metadata, and load it back with every check of the contract."""

from __future__ import annotations

import copy
import hashlib
import json
import pickle
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from pipeline import config
from pipeline.accents import strip_accents
from pipeline.config import metadata_path, model_path_given
from pipeline.decision import check_count, check_cut, labels_at, posting_texts, text_list
from pipeline.errors import LibraryVersionError, ModelError, model_files_read, require_model_file, train_hint
from pipeline.files import atomic_path, follow_links, sha256_file, write_text_atomic
from pipeline.metadata import (
    CURRENT_DIGEST_VERSION,
    DIGEST_VERSION,
    METADATA_DIGEST,
    check_checksum,
    check_labels,
    check_pair,
    metadata_digest,
    not_this_model,
    read_metadata,
    sklearn_version_problem,
    training_time,
)

VERSIONED_LIBRARIES = ("scikit-learn", "numpy", "scipy", "pandas", "joblib")
# Every skops file is a zip archive; a pickle never starts like one.
ZIP_MAGIC = b"PK\x03\x04"
# Types a skops file may hold beyond skops' own defaults (scikit-learn estimators, numpy): none, since the
# model is a plain TF-IDF + LogisticRegression Pipeline. Anything else in a file is refused before loading.
SKOPS_TRUSTED_TYPES: list[str] = []


def stop_word_list(params: config.TrainParams = config.TRAIN, masked: frozenset[str] = frozenset()) -> list[str] | None:
    """The words the model does not read: scikit-learn's English stop words less those that name work, plus the
    lexicon's masked words; a plain list, so the pickle stays plain scikit-learn."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    words = set(ENGLISH_STOP_WORDS) - set(params.stop_words_kept) if params.stop_words == "english" else set()
    return sorted(words | set(masked)) or None


def build_pipeline(params: config.TrainParams = config.TRAIN) -> Pipeline:
    """The whole model as one estimator: raw text in, class probabilities out; only scikit-learn inside."""
    return Pipeline(
        [
            (
                config.VECTORIZER_STEP,
                TfidfVectorizer(
                    ngram_range=(1, params.ngram_max),
                    min_df=params.min_df,
                    max_df=params.max_df,
                    sublinear_tf=params.sublinear_tf,
                    stop_words=stop_word_list(params, frozenset(params.masked_words)),
                    max_features=params.max_features,
                    strip_accents="unicode",
                    lowercase=True,
                    # Double precision: numpy's vectorised float32 log (chosen by the CPU) is not correctly rounded
                    # for some counts, so 1 + ln(7) differed between machines and from the portable engine, by up to
                    # 2e-7 in probability; a float64 log's last-bit error moves it by about 1e-16.
                    dtype=np.float64,
                ),
            ),
            (
                config.CLASSIFIER_STEP,
                LogisticRegression(
                    C=params.C,
                    fit_intercept=params.fit_intercept,
                    class_weight=params.class_weight,
                    max_iter=params.max_iter,
                    random_state=params.seed,
                ),
            ),
        ]
    )


def pipeline_parts(pipeline: Pipeline) -> tuple[TfidfVectorizer, LogisticRegression]:
    """The fitted vectorizer and classifier of a saved Pipeline (the model's or the scope model's).

    The one place that reads a Pipeline's steps: the export, the conformance vectors and the scope rule take a
    bare Pipeline, and `Model` offers the operations built on them.
    """
    return pipeline.named_steps[config.VECTORIZER_STEP], pipeline.named_steps[config.CLASSIFIER_STEP]


def reading_pipeline(pipeline: Pipeline) -> Pipeline:
    """The fitted steps of a Pipeline, reading text with the project's exact twin of scikit-learn's accent strip
    (pipeline/accents.py): the same features and probabilities, without scikit-learn's pass over every character
    of a text beyond ASCII, which postings' bullets and dashes send most texts through. A shallow copy for
    scoring in this process: the Pipeline as loaded, and its file, are untouched."""
    if not isinstance(pipeline, Pipeline):
        return pipeline
    vectorizer, classifier = pipeline_parts(pipeline)
    if vectorizer.strip_accents != "unicode":
        return pipeline
    reader = copy.copy(vectorizer)
    reader.strip_accents = strip_accents
    return Pipeline([(config.VECTORIZER_STEP, reader), (config.CLASSIFIER_STEP, classifier)])


def library_versions() -> dict[str, str]:
    """Versions of Python, this package and the libraries a saved model depends on."""
    import platform
    from importlib import metadata as importlib_metadata

    versions = {"python": platform.python_version(), "bpo-kpo": package_version()}
    for name in VERSIONED_LIBRARIES:
        versions[name] = importlib_metadata.version(name)
    versions["blas"] = blas_libraries()
    return versions


def blas_libraries() -> str:
    """The BLAS libraries loaded, with their versions, kernels and threads: a fit's last bits depend on the last two
    (config.BLAS_THREADS), so the metadata says under which the model was fitted."""
    from threadpoolctl import threadpool_info  # a requirement of scikit-learn's, which uses it for the same

    described = {
        f"{library['internal_api']} {library.get('version') or '(version unknown)'} "
        f"({library.get('architecture') or 'unknown'} kernels, {library['num_threads']} "
        f"thread{'' if library['num_threads'] == 1 else 's'})"
        for library in threadpool_info()
        if library.get("user_api") == "blas"
    }
    return "; ".join(sorted(described)) or "none loaded"


def package_version() -> str:
    # Imported here: importlib.metadata costs start-up time that scoring a posting does not need.
    from importlib import metadata as importlib_metadata

    try:
        return importlib_metadata.version("bpo-kpo")
    except importlib_metadata.PackageNotFoundError:  # pragma: no cover - only when run from a bare checkout
        return "0+unknown"


def forget_process_state(pipeline: Pipeline) -> Pipeline:
    """Drop what a fitted Pipeline remembers of the process that fitted it.

    TfidfVectorizer caches id(stop_words), a memory address that differs in every run, to skip a repeated check
    it redoes on first use anyway; without it, the same data gives the same model bytes. Training strips accents
    with the project's faster twin of scikit-learn's own (train.fit_vectorizer): the step gets scikit-learn's
    name for it back, so the saved Pipeline holds no project function and is byte for byte the one scikit-learn's
    own strip fits.
    """
    for _, step in pipeline.steps:
        vars(step).pop("_stop_words_id", None)
        if getattr(step, "strip_accents", None) is strip_accents:
            step.strip_accents = "unicode"
    return pipeline


def save_model(pipeline: Pipeline, path: Path, metadata: dict, model_format: str = "joblib") -> dict:
    """Write the model and then its metadata, each atomically; return the metadata as written.

    The model is renamed into place before the metadata, so a crash in between leaves a new model beside old
    metadata, which the checksum check then refuses, rather than a silently mismatched pair. A path that is a symlink
    is written as its target, with the metadata beside it, where load_model reads it.
    """
    path = follow_links(Path(path))
    created_at = training_time()  # before any file is written: a bad $SOURCE_DATE_EPOCH leaves none
    forget_process_state(pipeline)
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
        "created_at": created_at,
        DIGEST_VERSION: CURRENT_DIGEST_VERSION,
    }
    full[METADATA_DIGEST] = metadata_digest(full)
    write_text_atomic(metadata_path(path), json.dumps(full, indent=2, sort_keys=True) + "\n")
    return full


def _import_skops():
    try:
        import skops.io as skops_io
    except ImportError:
        raise ModelError("the skops format needs the optional skops package: pip install 'skops>=0.10,<1'") from None
    return skops_io


def weights_toward(pipeline: Pipeline, label: str) -> tuple[np.ndarray, np.ndarray]:
    """A pipeline's n-grams in column order and each one's log-odds weight toward `label`, both read-only."""
    vectorizer, classifier = pipeline_parts(pipeline)
    weights = np.asarray(classifier.coef_[0], dtype=float).copy()
    # coef_ points toward classes_[1]; flip it when `label` is classes_[0].
    if list(classifier.classes_).index(label) == 0:
        weights = -weights
    names = vectorizer.get_feature_names_out()
    names.flags.writeable = weights.flags.writeable = False
    return names, weights


def check_width(features, n_features: int) -> None:
    """Features of the other model (the scope model's, for the BPO/KPO one) are refused: they gave plausible n-grams
    of the wrong words, or scikit-learn's own message. So is what is no matrix (a list of rows, a list of texts),
    which raised an AttributeError."""
    shape = getattr(features, "shape", None)
    if not isinstance(shape, tuple) or len(shape) != 2:
        raise TypeError(
            f"features must be the matrix Model.transform returns (Model.scope_transform for explain_scope), not a "
            f"{type(features).__name__}"
        )
    if features.shape[1] != n_features:
        raise ValueError(
            f"features have {features.shape[1]:,} columns, and the model reads {n_features:,} n-grams: pass that "
            "model's features (Model.transform for score and explain, Model.scope_transform for explain_scope)"
        )


def strongest_contributions(
    features, names: np.ndarray, weights: np.ndarray, toward_positive: list[bool], k: int
) -> list[list[dict]]:
    """For each row, the k n-grams whose weight x tf-idf pushed it most toward its side (`toward_positive`: the
    side the weights point to, or the other), as {"ngram", "weight"} dicts; only n-grams that push that way."""
    features = features.tocsr()
    explanations = []
    for row, positive in enumerate(toward_positive):
        start, end = features.indptr[row], features.indptr[row + 1]
        columns = features.indices[start:end]
        contributions = features.data[start:end] * weights[columns]
        sign = 1.0 if positive else -1.0
        # Stable: tied n-grams (ones that always occur together) keep vocabulary order, as in the portable engine.
        order = np.argsort(-sign * contributions, kind="stable")[:k]
        explanations.append(
            [
                {"ngram": str(names[columns[i]]), "weight": round(float(contributions[i]), 4)}
                for i in order
                if sign * contributions[i] > 0
            ]
        )
    return explanations


LABELS_MISMATCH = (
    "the {what} must be fitted with the classes_ {labels}, and its metadata's labels, where given, must be the "
    "same list in the same order"
)


class Model:
    """A loaded model: the plain scikit-learn Pipeline plus its metadata, with the project's defaults."""

    def __init__(
        self, pipeline: Pipeline, metadata: dict, path: Path | None = None, scope: tuple[Pipeline, dict] | None = None
    ) -> None:
        # Built around a changed Pipeline too (README): labels in another order than its classes' inverted every
        # probability, and a scope model in the BPO/KPO model's place scored as one.
        for what, fitted, meta, labels in (
            ("pipeline", pipeline, metadata, config.LABELS),
            *([("scope pipeline", *scope, config.SCOPE_LABELS)] if scope is not None else []),
        ):
            if not fits_labels(fitted, meta, labels):
                raise ModelError(f"Model: {LABELS_MISMATCH.format(what=what, labels=list(labels))}")
        self.pipeline = pipeline
        self.metadata = metadata
        self.path = path
        self.labels: tuple[str, ...] = tuple(pipeline.classes_)
        self._positive = self.labels.index(config.POSITIVE_LABEL)
        self._weights: tuple[np.ndarray, np.ndarray] | None = None
        self._scope_weights: tuple[np.ndarray, np.ndarray] | None = None
        self.scope_pipeline, self.scope_metadata = scope if scope is not None else (None, None)
        # What scores text: the same fitted steps, with the faster accent strip.
        self._reading = reading_pipeline(pipeline)
        self._scope_reading = reading_pipeline(self.scope_pipeline) if scope is not None else None

    @property
    def has_scope(self) -> bool:
        return self.scope_pipeline is not None

    def _require_scope(self) -> None:
        if not self.has_scope:
            raise ModelError("this model has no scope model beside it; retrain with `make train`")

    @property
    def scope_threshold(self) -> float | None:
        return float(self.scope_metadata["threshold"]) if self.has_scope else None

    def p_out_of_scope(self, texts: list[str]) -> np.ndarray:
        """P(out of scope) from the scope model (without the unrecognised-text rule)."""
        self._require_scope()
        texts = text_list(texts)
        if not texts:  # scikit-learn refuses an empty batch; a service may well send one
            return np.empty(0)
        return self._scope_reading.predict_proba(texts)[:, config.SCOPE_LABELS.index(config.OUT_OF_SCOPE)]

    def scope(self, texts: list[str], threshold: float | None = None) -> tuple[np.ndarray, list[bool], list[str]]:
        """P(out of scope), the flag and its reason for each text: the scope model's verdict, or the rule that a
        text the vocabulary barely knows (gibberish, another language, a few characters) is no job posting."""
        from pipeline.scope import scope_decisions

        texts = text_list(texts)
        p = self.p_out_of_scope(texts)
        cut = self.scope_threshold if threshold is None else check_cut("threshold", threshold)
        flags, reasons = scope_decisions(self._scope_reading, self.scope_metadata, texts, p, cut)
        return p, flags, reasons

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
        texts = posting_texts(texts)
        if not texts:  # scikit-learn refuses an empty batch; a service may well send one
            return np.empty((0, len(self.labels)))
        return self._reading.predict_proba(texts)

    def p_kpo(self, texts: list[str]) -> np.ndarray:
        return self.predict_proba(texts)[:, self._positive]

    def transform(self, texts: list[str]):
        """The TF-IDF features of the texts: a sparse CSR matrix, one row per text, one column per n-gram of
        `ngram_weights()`; the pipeline's own first step, so `score(transform(t))` is `p_kpo(t)`."""
        return _features(self._reading, text_list(texts))

    def scope_transform(self, texts: list[str]):
        """The scope model's TF-IDF features of the texts, for `explain_scope`."""
        self._require_scope()
        return _features(self._scope_reading, text_list(texts))

    def score(self, features) -> np.ndarray:
        """P(KPO) of each row of `features` (from `transform`): transform once, then score and explain the same rows."""
        check_width(features, self.vocabulary_size)
        if not features.shape[0]:
            return np.empty(0)
        _, classifier = pipeline_parts(self.pipeline)
        return classifier.predict_proba(features)[:, self._positive]

    def ngram_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """The vocabulary's n-grams in column order, and each one's log-odds weight toward KPO (negative: BPO).

        Computed once per Model (listing every n-gram takes a while) and returned read-only, since it is shared.
        """
        if self._weights is None:
            self._weights = weights_toward(self.pipeline, config.POSITIVE_LABEL)
        return self._weights

    def scope_ngram_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """The scope model's n-grams in column order, and each one's log-odds weight toward out of scope."""
        self._require_scope()
        if self._scope_weights is None:
            self._scope_weights = weights_toward(self.scope_pipeline, config.OUT_OF_SCOPE)
        return self._scope_weights

    @property
    def ngram_range(self) -> tuple[int, int]:
        """The shortest and longest n-gram the model reads, in words."""
        low, high = pipeline_parts(self.pipeline)[0].ngram_range
        return int(low), int(high)

    @property
    def vocabulary_size(self) -> int:
        return len(pipeline_parts(self.pipeline)[0].vocabulary_)

    def top_ngrams(self, k: int = config.TOP_NGRAMS) -> dict[str, list[tuple[str, float]]]:
        """The k n-grams with the largest weight toward each label, heaviest first, weights rounded to 4 places;
        fewer where fewer n-grams push that way (a k beyond them once listed the other label's n-grams)."""
        k = check_count("k", k)  # a negative k sliced off all but the lightest k n-grams
        names, weights = self.ngram_weights()
        order = np.argsort(weights, kind="stable")
        toward_bpo = [i for i in order[:k] if weights[i] < 0]
        toward_kpo = [i for i in order[::-1][:k] if weights[i] > 0]
        return {
            config.BPO: [(str(names[i]), round(float(weights[i]), 4)) for i in toward_bpo],
            config.KPO: [(str(names[i]), round(float(weights[i]), 4)) for i in toward_kpo],
        }

    def explain(self, features, labels: list[str] | None = None, k: int = config.EXPLAIN_NGRAMS) -> list[list[dict]]:
        """For each row of `features` (from `transform`), the k n-grams whose weight x tf-idf pushed it most toward
        its label: {"ngram", "weight"} dicts, the weight being that contribution to the log-odds of KPO.

        `labels` defaults to the model's own labels at the stored threshold; only n-grams that push toward the
        label are listed, so a row may have fewer than k, or none.
        """
        k = check_count("k", k)
        check_width(features, self.vocabulary_size)
        if labels is None:
            labels = labels_at(self.score(features), self.threshold).tolist()
        labels = _one_per_row("labels", labels, features)
        unknown = [label for label in labels if label not in config.LABELS]
        if unknown:  # 'kpo' was read as BPO, and its posting explained toward the other label
            raise ValueError(f"labels must be {' or '.join(config.LABELS)}, not {unknown[0]!r}")
        return strongest_contributions(features, *self.ngram_weights(), [label == config.KPO for label in labels], k)

    def explain_scope(self, scope_features, flags: list[bool], k: int = config.EXPLAIN_NGRAMS) -> list[list[dict]]:
        """For each row of the scope model's features, the k n-grams that pushed it most toward its scope decision
        (`flags`: out of scope or not); weights are contributions to the log-odds of out of scope."""
        k = check_count("k", k)
        check_width(scope_features, len(self.scope_ngram_weights()[1]))
        flags = _one_per_row("flags", flags, scope_features)
        wrong = [flag for flag in flags if not isinstance(flag, bool | np.bool_)]
        if wrong:
            raise ValueError(f"flags must be true or false, one per row, not {wrong[0]!r}")
        return strongest_contributions(scope_features, *self.scope_ngram_weights(), [bool(f) for f in flags], k)

    def predict(self, texts: list[str], threshold: float | None = None) -> list[str]:
        """Labels by the stored (tuned) threshold on P(KPO), or by `threshold` when given."""
        cut = self.threshold if threshold is None else check_cut("threshold", threshold)
        return labels_at(self.p_kpo(texts), cut).tolist()

    def decide(
        self,
        texts: list[str],
        threshold: float | None = None,
        review_band: float | None = None,
        explain: int = 0,
        scope_threshold: float | None = None,
        max_text_chars: int = config.PREDICT.max_text_chars,
    ) -> list[dict]:
        """The rows `bpo-kpo predict` writes, without the id: one dict per text, in order.

        Each has `label`, `p_bpo`, `p_kpo`, `needs_review`, `error` (set, with an empty label and no
        probabilities, for an empty or missing text, or one longer than `max_text_chars` characters, the limit of
        `bpo-kpo predict`; `predict_proba` scores any length), with the scope model beside the model `out_of_scope`,
        `p_out_of_scope` and `scope_reason`, and, with `explain` > 0, `explanation`: the n-grams that pushed the
        posting most toward its label (and `scope_explanation`: toward its scope verdict, with the scope model).
        The stored thresholds and review band apply unless given.
        """
        # Imported here: predict imports this module.
        from pipeline.predict import ScoreOptions, score_texts

        options = ScoreOptions.of(self, threshold, review_band, explain, scope_threshold, max_text_chars, API_LIMIT)
        texts = text_list(texts, allow_missing=True)
        # In slices of predict's chunk size: every posting's words were held at once, and 100,000 postings took
        # 1.5 GB where predict, scoring a chunk at a time, takes 200 MB. Each row is scored on its own text alone.
        step = config.PREDICT.chunk_size
        return [
            row
            for start in range(0, len(texts), step)
            for row in score_texts(self, texts[start : start + step], options)
        ]


# How an error row names the length limit to a caller of Model.decide, who has no --max-text-chars to pass.
API_LIMIT = "max_text_chars"


def _one_per_row(name: str, values, features) -> list:
    """`values` as a list with one item per row of `features`; otherwise a ValueError naming both counts. Zipped
    with too few, the rows beyond them vanished from the result without a word."""
    # What iterates without giving one item per row in order: a string (characters), a dict (keys), a set (no
    # order: labels landed on rows in hash order), a table or 2-D array (column names, rows).
    if isinstance(values, str | bytes | Mapping | AbstractSet) or getattr(values, "ndim", 1) != 1:
        raise ValueError(f"{name} must be a list with one item per row of features, not a {type(values).__name__}")
    values = list(values)
    rows = features.shape[0]
    if len(values) != rows:
        raise ValueError(f"{name} has {len(values)} item(s) for {rows} row(s) of features; give one per row")
    return values


def _features(pipeline: Pipeline, texts: list[str]):
    """The TF-IDF step's features of the texts as CSR; none at all for no texts, which scikit-learn refuses."""
    vectorizer, _ = pipeline_parts(pipeline)
    if not texts:
        from scipy.sparse import csr_matrix

        return csr_matrix((0, len(vectorizer.vocabulary_)), dtype=vectorizer.dtype)
    return vectorizer.transform(texts).tocsr()


def check_versions(meta: dict, model_path: Path) -> None:
    """Refuse a model trained under another scikit-learn minor version: scikit-learn does not support it."""
    import sklearn

    problem = sklearn_version_problem(meta, model_path, sklearn.__version__)
    if problem:
        raise LibraryVersionError(problem)


scope_path = config.scope_model_path


def load_pipeline(path: Path, labels: tuple[str, ...]) -> tuple[Pipeline, dict]:
    """Load one model file after checking its metadata, checksum and library versions, in that order.

    The checksum is verified before anything is unpickled, because unpickling runs code: a swapped or
    tampered file is refused without being executed.
    """
    path = Path(path)
    require_model_file(path, main=labels == config.LABELS)
    meta = read_metadata(path)
    check_labels(path, meta, labels)
    # Read once: the bytes that are checked are the bytes that are loaded.
    data = path.read_bytes()
    check_checksum(path, meta, hashlib.sha256(data).hexdigest())
    check_versions(meta, path)
    pipeline = _unpickle(path, data, model_format_of(path, data, meta))
    if not isinstance(pipeline, Pipeline) or not fits_labels(pipeline, meta, labels):
        raise ModelError(not_this_model(path, labels))
    return pipeline, meta


def fits_labels(pipeline, meta: dict, labels: tuple[str, ...]) -> bool:
    """Whether `pipeline` is fitted with the classes `labels`, in the order its metadata records, if it records
    them."""
    classes = list(getattr(pipeline, "classes_", []))
    return classes == list(labels) == list(meta.get("labels", classes))


def load_model(path: Path | str | None = None) -> Model:
    """Load the BPO/KPO model and, when it sits beside it, the scope model, each with every check of the contract.

    With no path: $BPO_KPO_MODEL when set, else the project's models/model.joblib. A scope model whose file or
    metadata is missing, damaged or tampered with is refused like the main model; with neither file there, the
    model scores BPO/KPO only and gives no scope fields. A path that is a symlink is read as its target.
    """
    # A link is followed to the model's own folder, where its metadata and scope model sit: read beside the link,
    # the metadata was "missing; retrain", or, with it linked too, the scope model was silently left out.
    path = follow_links(model_path_given(path))
    with model_files_read():
        pipeline, meta = load_pipeline(path, config.LABELS)
        scope_file = scope_path(path)
        scope = None
        if scope_file.exists() or metadata_path(scope_file).exists():
            scope = load_pipeline(scope_file, config.SCOPE_LABELS)
            check_pair(path, meta, scope_file, scope[1])
    return Model(pipeline, meta, path, scope)


def model_format_of(path: Path, data: bytes, meta: dict) -> str:
    """The format a model file really has, from its own bytes: a skops file is a zip archive, anything else a pickle.

    The metadata's "format" is only a claim, and anyone who can write the folder can edit it: a file that is
    named or recorded as skops but is not a zip is refused, so it is never unpickled (unpickling runs code).
    """
    is_zip = data.startswith(ZIP_MAGIC)
    claims_skops = path.suffix.lower() == ".skops" or meta.get("format") == "skops"
    if claims_skops and not is_zip:
        raise ModelError(
            f"{path} is named or recorded as a skops model but is not a skops (zip) file; refusing to unpickle it: "
            "retrain with `bpo-kpo train --format skops`"
        )
    return "skops" if is_zip else "joblib"


def _unpickle(path: Path, data: bytes, model_format: str) -> Pipeline:
    try:
        if model_format == "skops":
            skops_io = _import_skops()
            untrusted = set(skops_io.get_untrusted_types(data=data)) - set(SKOPS_TRUSTED_TYPES)
            if untrusted:
                raise ModelError(f"{path} holds types this project does not trust: {', '.join(sorted(untrusted))}")
            return skops_io.loads(data, trusted=SKOPS_TRUSTED_TYPES)
        return pickle.loads(data)
    except (ModelError, MemoryError):  # no memory to unpickle into says nothing of the file
        raise
    except Exception as error:  # a damaged file fails in many ways: EOFError, UnpicklingError, zlib errors...
        raise ModelError(
            f"model file {path} cannot be read ({type(error).__name__}); retrain with {train_hint()}"
        ) from None
