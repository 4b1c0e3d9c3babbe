"""Write a fitted Pipeline as the portable JSON model that any language can score (docs/portable-model.md)."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from pathlib import Path

from pipeline import config
from pipeline.config import portable_path
from pipeline.errors import ModelError
from pipeline.files import atomic_path

# The file is these bytes, the 64 hex digits of SHA-256(content), MIDDLE, the content's JSON, and SUFFIX:
# a reader in any language finds the checked bytes at fixed offsets, with no canonical JSON to reproduce.
PREFIX = b'{"content_sha256":"'
MIDDLE = b'","content":'
SUFFIX = b"}\n"
DIGEST_CHARS = 64
# The only token pattern whose meaning docs/portable-model.md spells out for other languages.
SUPPORTED_TOKEN_PATTERN = r"(?u)\b\w\w+\b"


def model_section(pipeline, metadata: dict) -> dict:
    """One model of the export: analyser, weighting, vocabulary with idf, coefficients, labels and decision rule.

    Pure: reads the fitted Pipeline and its metadata, changes neither. Refuses any setting the portable format
    cannot express exactly, so an export never scores differently from the model it came from.
    """
    # Imported here: the portable scorer reads this module's envelope helpers without numpy or scikit-learn.
    from pipeline.model import pipeline_parts

    vectorizer, classifier = pipeline_parts(pipeline)
    _check_exportable(vectorizer, classifier)
    labels = [str(label) for label in classifier.classes_]
    if labels != list(metadata["labels"]):
        raise ModelError(f"the model's classes {labels} differ from its metadata's {metadata['labels']}")
    terms = [""] * len(vectorizer.vocabulary_)
    for term, column in vectorizer.vocabulary_.items():
        terms[column] = term
    stop_words = vectorizer.get_stop_words()
    low, high = vectorizer.ngram_range
    return {
        "labels": labels,
        # The scope model's positive class is out of scope; the BPO/KPO model's is KPO.
        "positive_label": config.OUT_OF_SCOPE if labels == list(config.SCOPE_LABELS) else config.POSITIVE_LABEL,
        "threshold": float(metadata.get("threshold", config.PREDICT.threshold)),
        "review_band": float(metadata.get("review_band", config.PREDICT.review_band)),
        "source": {
            # What the model file was named when trained: for people; nothing is checked against it.
            "model_file": metadata.get("model_file"),
            "model_sha256": metadata["model_sha256"],
            "format": metadata["format"],
            "created_at": metadata.get("created_at"),
            "versions": metadata.get("versions", {}),
        },
        "analyser": {
            "lowercase": bool(vectorizer.lowercase),
            "strip_accents": vectorizer.strip_accents,
            # Lowercasing, NFKD and the \w class all follow the Unicode tables of the exporting Python.
            "unicode_version": unicodedata.unidata_version,
            "token_pattern": vectorizer.token_pattern,
            "min_token_chars": 2,
            "stop_words": sorted(stop_words) if stop_words else [],
            "ngram_range": [int(low), int(high)],
            "ngram_separator": " ",
        },
        "weighting": {
            "binary": bool(vectorizer.binary),
            "sublinear_tf": bool(vectorizer.sublinear_tf),
            "use_idf": bool(vectorizer.use_idf),
            "smooth_idf": bool(vectorizer.smooth_idf),
            "norm": vectorizer.norm,
            "reference_dtype": _dtype_name(vectorizer.dtype),
            "dtype_note": (
                "scikit-learn holds tf, tf-idf and the normalised vector in this dtype and sums the linear score "
                "in float64; computing every step in float64 stays within the tolerance"
            ),
        },
        "vocabulary": terms,
        # idf_ has the vectorizer's dtype (float64 here, float32 in some models): float() keeps each value exactly.
        "idf": [float(x) for x in vectorizer.idf_] if vectorizer.use_idf else [1.0] * len(terms),
        "coef": [float(x) for x in classifier.coef_[0]],
        "intercept": float(classifier.intercept_[0]),
        "metadata": metadata,
        # Only in a scope section: the unrecognised-text rule (docs/portable-model.md, "The scope model").
        **({"scope_rules": scope_rules_of(metadata)} if labels == list(config.SCOPE_LABELS) else {}),
    }


def scope_rules_of(metadata: dict) -> dict:
    """The scope rule's limits recorded at training, else the defaults (as the scikit-learn path reads them)."""
    from dataclasses import asdict

    return {**asdict(config.SCOPE), **metadata.get("scope", {})}


def export_document(sections: dict[str, dict], primary: str = config.PORTABLE.primary_model) -> dict:
    """The whole export: format, version and one section per model (the label model, later a scope model)."""
    if primary not in sections:
        raise ModelError(f"the export has no model section {primary!r}")
    from pipeline.model import package_version

    return {
        "format": config.PORTABLE.format_name,
        "format_version": config.PORTABLE.format_version,
        "exported_by": f"bpo-kpo {package_version()}",
        "primary": primary,
        "models": sections,
    }


def render(document: dict) -> bytes:
    """The file's bytes: the content as ASCII JSON, wrapped with its own SHA-256 at a fixed offset."""
    content = json.dumps(document, ensure_ascii=True, separators=(",", ":"), allow_nan=False).encode("ascii")
    digest = hashlib.sha256(content).hexdigest().encode("ascii")
    return PREFIX + digest + MIDDLE + content + SUFFIX


def split_checked(data: bytes, name: str) -> bytes:
    """The content bytes of an export after checking its envelope and checksum; ModelError names the file."""
    start = len(PREFIX) + DIGEST_CHARS + len(MIDDLE)
    if not data.startswith(PREFIX) or data[start - len(MIDDLE) : start] != MIDDLE or not data.endswith(SUFFIX):
        if _reformatted_export(data):
            raise ModelError(
                f"{name} is an export whose bytes were rewritten (reformatted, as json.dump or jq . does): its "
                "checksum covers them as written; re-export it with `bpo-kpo export`"
            )
        raise ModelError(f"{name} is not a bpo-kpo portable model; re-export it with `bpo-kpo export`")
    content = data[start : -len(SUFFIX)]
    expected = data[len(PREFIX) : len(PREFIX) + DIGEST_CHARS].decode("ascii", errors="replace")
    actual = hashlib.sha256(content).hexdigest()
    if actual != expected:
        raise ModelError(
            f"{name} does not match its own checksum (SHA-256 {actual[:12]}… expected {expected[:12]}…): it was "
            "changed or cut short; re-export it with `bpo-kpo export`"
        )
    return content


def _reformatted_export(data: bytes) -> bool:
    """Whether `data` is an export's envelope as JSON, laid out otherwise than export writes it."""
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):
        return False
    return isinstance(document, dict) and set(document) == {"content_sha256", "content"}


def write_export(path: Path, document: dict) -> bytes:
    """Write the export atomically, like every other artefact; return the bytes written."""
    data = render(document)
    with atomic_path(path) as temporary:
        temporary.write_bytes(data)
    return data


def _check_exportable(vectorizer, classifier) -> None:
    problems = []
    if vectorizer.analyzer != "word" or vectorizer.tokenizer is not None or vectorizer.preprocessor is not None:
        problems.append("a custom analyser, tokenizer or preprocessor")
    if vectorizer.token_pattern != SUPPORTED_TOKEN_PATTERN or re.compile(vectorizer.token_pattern).groups:
        problems.append(f"token_pattern {vectorizer.token_pattern!r}")
    if vectorizer.strip_accents not in (None, "unicode"):
        problems.append(f"strip_accents={vectorizer.strip_accents!r}")
    if vectorizer.norm not in (None, "l2"):
        problems.append(f"norm={vectorizer.norm!r}")
    if len(classifier.classes_) != 2 or classifier.coef_.shape[0] != 1:
        problems.append(f"{len(classifier.classes_)} classes")
    if problems:
        raise ModelError(f"the portable format cannot express {', '.join(problems)}; score with --engine sklearn")


def _dtype_name(dtype) -> str:
    return getattr(dtype, "__name__", str(dtype))


def export_model(model, output: Path | None = None) -> tuple[Path, Path]:
    """Write the export of a loaded Model and the conformance vectors beside it; return both paths."""
    from pipeline.conformance import build_vectors, write_vectors

    output = Path(output) if output is not None else portable_path(model.path)
    sections = {config.PORTABLE.primary_model: model_section(model.pipeline, model.metadata)}
    if model.has_scope:
        sections[config.PORTABLE.scope_model] = model_section(model.scope_pipeline, model.scope_metadata)
    document = export_document(sections)
    write_export(output, document)
    vectors_path = config.conformance_path_of_export(output)
    scope = (model.scope_pipeline, model.scope_metadata) if model.has_scope else None
    write_vectors(vectors_path, build_vectors(model.pipeline, model.metadata, scope))
    return output, vectors_path
