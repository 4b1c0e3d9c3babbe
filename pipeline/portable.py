"""Score postings from the portable JSON export with the standard library alone: no numpy, scipy or scikit-learn."""

from __future__ import annotations

import json
import math
import re
from array import array
from pathlib import Path

from pipeline import config
from pipeline.accents import strip_accents
from pipeline.decision import check_cut, one_text, posting_texts, scope_verdict
from pipeline.errors import ModelError, model_files_read, require_model_file
from pipeline.export import portable_path, scope_rules_of, split_checked
from pipeline.files import follow_links
from pipeline.metadata import checked_metadata, is_number


class PortableModel:
    """One model section of an export: turns texts into P(label) exactly as docs/portable-model.md says.

    Computes in double precision, as scikit-learn does for this project's models; for a model whose tf-idf is
    float32 (`reference_dtype`), it rounds where scikit-learn does (tf-idf values, squares before summing). Its
    probabilities agree with scikit-learn's to about 1e-12, so the printed six digits match.
    """

    def __init__(self, section: dict, path: Path | None = None, labels: tuple[str, ...] = config.LABELS) -> None:
        _check_section(section, path, labels)
        self.section = section
        self.path = path
        self.metadata: dict = section.get("metadata", {})
        self.labels: tuple[str, ...] = tuple(section["labels"])
        self._positive = self.labels.index(section["positive_label"])
        analyser, weighting = section["analyser"], section["weighting"]
        self._lowercase = analyser["lowercase"]
        self._strip_accents = analyser["strip_accents"] == "unicode"
        self._findall = re.compile(analyser["token_pattern"]).findall
        self._stop_words = frozenset(analyser["stop_words"])
        self._ngram_low, self._ngram_high = analyser["ngram_range"]
        self._binary, self._sublinear = weighting["binary"], weighting["sublinear_tf"]
        self._norm = weighting["norm"] == "l2"
        self._float32 = weighting.get("reference_dtype") == "float32"
        self.vocabulary: list[str] = section["vocabulary"]
        self._index = {term: column for column, term in enumerate(self.vocabulary)}
        self._idf: list[float] = section["idf"]
        self._coef: list[float] = section["coef"]
        self._intercept = float(section["intercept"])
        self._tf_cache: dict[int, float] = {}
        self.scope_rules: dict = section.get("scope_rules", {})
        # The scope model beside this one, when the export has it (load_portable attaches it).
        self.scope: PortableModel | None = None

    def known_word_share(self, text: str) -> tuple[int, float]:
        """How many words a text has, and the share the vocabulary or the stop list knows (the scope rule)."""
        words = self._findall(self._preprocess(text))
        if not words:
            return 0, 0.0
        known = sum(1 for word in words if word in self._index or word in self._stop_words)
        return len(words), known / len(words)

    def scope_verdict(
        self, text: str, threshold: float | None = None, features: tuple[list[int], list[float]] | None = None
    ) -> tuple[float, bool, str]:
        """For a scope section: P(out of scope), the flag and its reason (the known-word rule first, then the
        threshold, by default the exported one), as docs/portable-model.md section 3.1 says; `features`, the
        text's own from `features`, when the caller has them already."""
        p_out = self.positive_of(*(features if features is not None else self.features(text)))
        words, share = self.known_word_share(text)
        cut = self.threshold if threshold is None else threshold
        flag, reason = scope_verdict(words, share, p_out, cut, self.scope_rules)
        return p_out, flag, reason

    def _preprocess(self, text: str) -> str:
        # Every single-text method (probabilities_of, decision, features, analyse, scope_verdict, known_word_share)
        # reads its text here first; the list methods have checked theirs already.
        text = one_text(text)
        if self._lowercase:
            text = text.lower()
        return strip_accents(text) if self._strip_accents else text

    @property
    def threshold(self) -> float:
        return float(self.section["threshold"])

    @property
    def review_band(self) -> float:
        return float(self.section["review_band"])

    @property
    def model_sha256(self) -> str:
        return self.section["source"]["model_sha256"]

    def analyse(self, text: str) -> list[str]:
        """The n-grams of a text, in scikit-learn's order: lowercase, strip accents, tokens, stop words, n-grams."""
        tokens = [token for token in self._findall(self._preprocess(text)) if token not in self._stop_words]
        low, high = self._ngram_low, self._ngram_high
        grams = list(tokens) if low == 1 else []
        for n in range(max(low, 2), min(high, len(tokens)) + 1):
            grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
        return grams

    def features(self, text: str) -> tuple[list[int], list[float]]:
        """Columns (ascending) and the l2-normalised tf-idf values of a text's in-vocabulary n-grams."""
        counts: dict[int, int] = {}
        index = self._index
        for gram in self.analyse(text):
            column = index.get(gram)
            if column is not None:
                counts[column] = counts.get(column, 0) + 1
        columns = sorted(counts)
        idf = self._idf
        values = [self._tf(counts[column]) * idf[column] for column in columns]
        values = self._round(values)
        if self._norm and values:
            # Squares rounded like scikit-learn's float32 products, then summed in double, in column order.
            total = 0.0
            for square in self._round([v * v for v in values]):
                total += square
            if total:
                length = math.sqrt(total)
                values = self._round([v / length for v in values])
        return columns, values

    def decision(self, text: str) -> float:
        """The linear score (log-odds of labels[1]) of a text."""
        return self.decision_of(*self.features(text))

    def decision_of(self, columns: list[int], values: list[float]) -> float:
        """The linear score of a feature vector: the dot product in column order, then the intercept."""
        coef = self._coef
        total = 0.0
        for column, value in zip(columns, values, strict=True):
            total += value * coef[column]
        return total + self._intercept

    def positive_of(self, columns: list[int], values: list[float]) -> float:
        """P(positive label) of a feature vector, so callers that also explain transform a text once."""
        p = _expit(self.decision_of(columns, values))
        return p if self._positive == 1 else 1.0 - p

    def probabilities_of(self, text: str) -> list[float]:
        """[P(labels[0]), P(labels[1])] of any one text, the empty one too, as the conformance vectors hold them."""
        p = _expit(self.decision(text))
        return [1.0 - p, p]

    def predict_proba(self, texts: list[str]) -> list[list[float]]:
        """[P(labels[0]), P(labels[1])] for each text, as scikit-learn's predict_proba; an empty or blank text is
        refused, as Model.predict_proba refuses it (there is no posting to give a probability to)."""
        return [self.probabilities_of(text) for text in posting_texts(texts)]

    def p_positive(self, texts: list[str]) -> list[float]:
        return [self.positive_of(*self.features(text)) for text in posting_texts(texts)]

    def predict(self, texts: list[str], threshold: float | None = None) -> list[str]:
        """Labels by the exported (tuned) threshold on P(positive label), or by `threshold` when given."""
        # Checked as Model.predict checks it: a threshold of 5 or NaN gave every posting one label.
        cut = self.threshold if threshold is None else check_cut("threshold", threshold)
        other = self.labels[1 - self._positive]
        return [self.labels[self._positive] if p >= cut else other for p in self.p_positive(texts)]

    def weights_toward_positive(self) -> list[float]:
        """Per-feature log-odds weight toward the positive label (coef points toward labels[1])."""
        return self._coef if self._positive == 1 else [-w for w in self._coef]

    def _tf(self, count: int) -> float:
        if self._binary:
            count = 1
        if not self._sublinear:
            return float(count)
        tf = self._tf_cache.get(count)
        if tf is None:
            tf = self._tf_cache[count] = self._round([self._round([math.log(count)])[0] + 1.0])[0]
        return tf

    def _round(self, values: list[float]) -> list[float]:
        # array('f') rounds each double to the nearest float32, as numpy does when it stores a float32 result.
        return array("f", values).tolist() if self._float32 else values


def _expit(x: float) -> float:
    """1 / (1 + e^-x), as scipy's expit, without overflow for very negative x."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def load_portable(
    model_path: Path | str | None = None,
    export_path: Path | None = None,
    checked: tuple[dict, dict | None] | None = None,
) -> PortableModel:
    """Load the export beside a model after the checks of the model contract, without scikit-learn.

    Checks, in order: the model file exists (as load_model says where it does not); the export exists, is a bpo-kpo
    portable file whose bytes match its own SHA-256, of a supported version; the model files' metadata passes every
    check load_model makes that needs no scikit-learn (present, of the right kinds, its decision fields unedited,
    each file's checksum, the pair); the export names the SHA-256 of the model file beside it (so it was exported
    from exactly that model); its labels, threshold and review band are the project's and in range, and they and the
    scope rules are the ones the metadata records.
    `checked` is what `checked_metadata` returned for this model, when the caller has run it already. With no
    path, the model load_model takes: $BPO_KPO_MODEL when set, else the project's models/model.joblib. A path that
    is a symlink is read as its target, as load_model reads it.
    """
    # The export, metadata and scope model sit beside the link's target: beside the link, the export was "missing;
    # write it with bpo-kpo export", though load_model and the command line loaded the same path.
    model_path = follow_links(config.model_path_given(model_path))
    with model_files_read():
        return _load_portable(model_path, export_path, checked)


def _load_portable(
    model_path: Path, export_path: Path | None, checked: tuple[dict, dict | None] | None
) -> PortableModel:
    # Before the export's name is made from the model's: '/' or '' has no name to add a suffix to (a bare pathlib
    # ValueError), and a folder or the metadata named as the model was told its export was missing. A model that is
    # not there (a dangling link's target) was too, and told to export it, which needs the model.
    require_model_file(model_path)
    export_path = Path(export_path) if export_path is not None else portable_path(model_path)
    document = read_export(export_path)
    section = document["models"][document["primary"]]
    meta, scope_meta = checked if checked is not None else checked_metadata(model_path)
    actual = meta["model_sha256"]  # the file's own: checked_metadata hashed it
    named = section.get("source", {}).get("model_sha256")
    if actual != named:
        raise ModelError(
            f"{export_path} was exported from another model (SHA-256 {str(named)[:12]}…, {model_path} has "
            f"{actual[:12]}…); re-export with `bpo-kpo export`"
        )
    portable = PortableModel(section, export_path)
    _agrees_with_metadata(section, meta, export_path, ("labels", "threshold", "review_band"))
    portable.scope = _scope_of(document, model_path, export_path, scope_meta)
    if portable.scope is not None and scope_meta is not None:
        _agrees_with_metadata(portable.scope.section, scope_meta, export_path, ("labels", "threshold"))
        recorded = scope_rules_of(scope_meta)
        for rule in SCOPE_RULES:
            if portable.scope.scope_rules.get(rule) != recorded.get(rule):
                raise _disagreement(export_path, f"scope rule {rule}", portable.scope.scope_rules.get(rule), scope_meta)
    return portable


# The scope rules a portable scorer applies (docs/portable-model.md, section 3.1).
SCOPE_RULES = ("min_words", "min_known_share")


def _agrees_with_metadata(section: dict, meta: dict, export_path: Path, fields: tuple[str, ...]) -> None:
    """The export's decision fields are its model's, as the checked metadata records them. The export's own checksum
    is no digest of the model's: edited and re-summed, its threshold or scope rule was obeyed (or crashed every
    request) where scikit-learn's engine, reading the metadata, applied another."""
    for field in fields:
        if section.get(field) != meta.get(field):
            raise _disagreement(export_path, field, section.get(field), meta)


def _disagreement(export_path: Path, what: str, value, meta: dict) -> ModelError:
    return ModelError(
        f"{export_path} does not match the model's metadata ({what} {json.dumps(value)[:40]} in the export, "
        f"another in {meta.get('model_file', 'the metadata')}'s); re-export with `bpo-kpo export`"
    )


def _scope_of(document: dict, model_path: Path, export_path: Path, scope_meta: dict | None) -> PortableModel | None:
    """The export's scope section, checked against the scope model file beside the model like the main one (its
    checksum as `scope_meta` records it, which checked_metadata held the file to).

    With a scope model beside the model, an export without its section is stale: scoring without it would drop
    the out-of-scope flag that the scikit-learn path gives.
    """
    scope_file = config.scope_model_path(model_path)
    section = document["models"].get(config.PORTABLE.scope_model)
    if section is None:
        if scope_file.exists():
            raise ModelError(
                f"{export_path} has no scope model but {scope_file} exists; re-export with `bpo-kpo export`"
            )
        return None
    if scope_meta is None:
        raise ModelError(
            f"{export_path} has a scope model but there is no {scope_file}; re-export with `bpo-kpo export`"
        )
    actual, named = scope_meta["model_sha256"], section.get("source", {}).get("model_sha256")
    if actual != named:
        raise ModelError(
            f"{export_path} was exported from another scope model (SHA-256 {str(named)[:12]}…, {scope_file} has "
            f"{actual[:12]}…); re-export with `bpo-kpo export`"
        )
    return PortableModel(section, export_path, config.SCOPE_LABELS)


def read_export(path: Path) -> dict:
    """The checked content of an export file: envelope, checksum, format name and version, primary section."""
    path = Path(path)
    if path.is_dir():
        # Said to be missing, the advice was to export it, which then stopped at the folder.
        raise ModelError(
            f"{path} is a folder, not a portable model; move it away, then write the export there with "
            "`bpo-kpo export` (make train does)"
        )
    if not path.is_file():
        raise ModelError(f"no portable model at {path}; write it with `bpo-kpo export` (make train does)")
    content = split_checked(path.read_bytes(), str(path))
    try:
        document = json.loads(content)
    # ValueError: JSONDecodeError, bad UTF-8, and a whole number of more digits than Python converts.
    except (ValueError, RecursionError):
        raise ModelError(f"{path} is not valid JSON; re-export it with `bpo-kpo export`") from None
    if not isinstance(document, dict) or document.get("format") != config.PORTABLE.format_name:
        raise ModelError(f"{path} is not a bpo-kpo portable model; re-export it with `bpo-kpo export`")
    version = document.get("format_version")
    # `true` equals 1 in Python, and "1" printed as 1 was told that this bpo-kpo reads 1.
    if type(version) is not int or version != config.PORTABLE.format_version:
        raise ModelError(
            f"{path} has format version {json.dumps(version)}, this bpo-kpo reads "
            f"{config.PORTABLE.format_version}; re-export it with `bpo-kpo export`"
        )
    problem = _shape_problem(document)
    if problem:
        raise ModelError(f"{path}: {problem}; re-export it with `bpo-kpo export`")
    return document


def _texts(value) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _numbers_from(low: float, high: float):
    """A check that a value is a list of numbers in [low, high]: bounds that no fitted model comes near and that
    keep every sum finite (an idf of 1e308 made inf / inf, and NaN probabilities)."""
    return lambda value: isinstance(value, list) and _all_numbers_in(value, low, high)


def _all_numbers_in(values: list, low: float, high: float) -> bool:
    """Whether every value is a JSON number (not true or false) in the finite range [low, high]: is_number on each,
    in C loops: a value at a time took 30 of the 50 ms that loading the shipped export took."""
    if not values:
        return True
    if not set(map(type, values)) <= {int, float}:
        return False
    # A NaN fails any comparison, so a min or max that met one is refused here, or is caught below; bounds that pass
    # also keep math.isnan from a whole number too big for a float.
    return low <= min(values) and max(values) <= high and not any(map(math.isnan, values))


def _token_pattern(value) -> bool:
    """A regular expression with at most one group, as scikit-learn allows: with two, findall gives tuples."""
    try:
        return isinstance(value, str) and re.compile(value).groups <= 1
    except re.error:
        return False


# The largest weight or intercept an export may hold; fitted models' are below 100.
_MAX_WEIGHT = 1e6


# What each field of a model section must be, as docs/portable-model.md gives it, by its path in the section. An
# export edited and re-summed keeps its checksum: a field of another kind loaded and then failed every request, or
# scored in silence (a vocabulary object read as its keys; a NaN weight wrote NaN, which is not JSON).
_SECTION_FIELDS = {
    ("labels",): (_texts, "a list of texts"),
    ("positive_label",): (lambda v: isinstance(v, str), "a text"),
    ("threshold",): (is_number, "a finite number"),
    ("review_band",): (is_number, "a finite number"),
    ("source",): (lambda v: isinstance(v, dict), "an object"),
    # Optional for scoring; serve reads it (a text in its place stopped serve as it started).
    ("metadata",): (lambda v: v is None or isinstance(v, dict), "an object"),
    ("analyser",): (lambda v: isinstance(v, dict), "an object"),
    ("analyser", "lowercase"): (lambda v: isinstance(v, bool), "true or false"),
    ("analyser", "strip_accents"): (lambda v: v in ("unicode", None), '"unicode" or null'),
    ("analyser", "token_pattern"): (_token_pattern, "a regular expression with at most one group"),
    ("analyser", "stop_words"): (_texts, "a list of texts"),
    ("analyser", "ngram_range"): (
        lambda v: isinstance(v, list) and len(v) == 2 and all(type(n) is int for n in v) and 1 <= v[0] <= v[1],
        "two whole numbers, the shortest and longest n-gram",
    ),
    ("weighting",): (lambda v: isinstance(v, dict), "an object"),
    ("weighting", "binary"): (lambda v: isinstance(v, bool), "true or false"),
    ("weighting", "sublinear_tf"): (lambda v: isinstance(v, bool), "true or false"),
    ("weighting", "norm"): (lambda v: v in ("l2", None), '"l2" or null'),
    ("weighting", "reference_dtype"): (lambda v: v in ("float32", "float64", None), '"float32" or "float64"'),
    ("vocabulary",): (_texts, "a list of texts"),
    ("idf",): (_numbers_from(1, 100), "a list of numbers from 1 to 100"),
    ("coef",): (
        _numbers_from(-_MAX_WEIGHT, _MAX_WEIGHT),
        f"a list of numbers from {-_MAX_WEIGHT:g} to {_MAX_WEIGHT:g}",
    ),
    ("intercept",): (lambda v: is_number(v, -_MAX_WEIGHT, _MAX_WEIGHT), "a finite number"),
}


def _shape_problem(document: dict) -> str | None:
    """What in an export's structure is not as docs/portable-model.md gives it, first found; None if nothing."""
    models = document.get("models")
    if not isinstance(models, dict):
        return "'models' must be an object of model sections"
    primary = document.get("primary")
    if not isinstance(primary, str) or primary not in models:
        return f"has no model section {primary!r}"
    # The sections this reader uses; the spec has a reader ignore any other.
    for name in (primary, config.PORTABLE.scope_model):
        if name not in models:
            continue
        section = models[name]
        if not isinstance(section, dict):
            return f"'models.{name}' must be an object"
        for keys, (valid, kind) in _SECTION_FIELDS.items():
            inner = section
            for key in keys:
                inner = inner.get(key) if isinstance(inner, dict) else None
            if not valid(inner):
                return f"'models.{name}.{'.'.join(keys)}' must be {kind}"
        if "scope_rules" in section and not isinstance(section["scope_rules"], dict):
            return f"'models.{name}.scope_rules' must be an object"
    return None


def _check_section(section: dict, path: Path | None, expected: tuple[str, ...] = config.LABELS) -> None:
    name = path or "the portable model"
    labels = section.get("labels")
    positive = config.OUT_OF_SCOPE if expected == config.SCOPE_LABELS else config.POSITIVE_LABEL
    if labels != list(expected) or section.get("positive_label") != positive:
        raise ModelError(f"{name} has labels {labels}, not {list(expected)}; re-export with `bpo-kpo export`")
    threshold, band = section.get("threshold"), section.get("review_band")
    if not (isinstance(threshold, float | int) and 0 <= threshold <= 1 and isinstance(band, float | int)):
        raise ModelError(f"{name} has no threshold in [0, 1]; re-export with `bpo-kpo export`")
    if not 0 <= band <= 0.5:
        raise ModelError(f"{name} has a review band {band} outside [0, 0.5]; re-export with `bpo-kpo export`")
    sizes = {len(section.get(key) or []) for key in ("vocabulary", "idf", "coef")}
    if len(sizes) != 1 or len(set(section["vocabulary"])) != len(section["vocabulary"]):
        raise ModelError(f"{name} has vocabulary, idf and coef of different lengths or repeated terms; re-export it")
