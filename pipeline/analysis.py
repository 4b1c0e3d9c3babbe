"""Tokenise each text once for the BPO/KPO model, the scope model and the known-word rule, with scikit-learn's steps."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from pipeline import config
from pipeline.accents import strip_accents

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy as np

    from pipeline.model import Model

# The settings that decide a word vectorizer's tokens: two plain word vectorizers that agree on them give every
# text the same tokens, whatever their stop words, n-gram ranges and vocabularies.
TOKEN_SETTINGS = ("lowercase", "strip_accents", "token_pattern")


@dataclass(frozen=True)
class Analysed:
    """The texts of a chunk as both models see them."""

    matrix: object  # the BPO/KPO model's tf-idf matrix, exactly `tfidf.transform(texts)`
    scope_matrix: object | None = None  # the scope model's, when scoring with it
    # Each text's words (lowercased, accents stripped, tokenised; stop words kept), for the known-word rule; None
    # when the two vectorizers tokenise differently and the rule tokenises on its own.
    words: list[list[str]] | None = None


def tokenises_alike(first, second) -> bool:
    """Whether two fitted TfidfVectorizers turn every text into the same tokens (before stop words)."""

    def plain(vectorizer) -> bool:
        return (
            vectorizer.analyzer == "word"
            and vectorizer.input == "content"
            and vectorizer.tokenizer is None
            and vectorizer.preprocessor is None
        )

    return plain(first) and plain(second) and all(getattr(first, s) == getattr(second, s) for s in TOKEN_SETTINGS)


def from_words(vectorizer):
    """A shallow copy of a fitted vectorizer whose `transform` takes each text's words instead of the text.

    It runs the vectorizer's own n-gram step (stop words, then n-grams), vocabulary lookup, counting and tf-idf on
    them, so its matrix is bit for bit `vectorizer.transform(texts)`. The model file is untouched: the copy lives
    only while a chunk is scored.
    """
    twin = copy.copy(vectorizer)
    # A callable analyzer replaces preprocess + tokenise + n-grams in scikit-learn's `_analyze`; this one keeps
    # the n-gram step, with the same stop-word set `build_analyzer` would use.
    twin.analyzer = partial(vectorizer._word_ngrams, stop_words=vectorizer.get_stop_words())
    return twin


def preprocessor(vectorizer) -> Callable[[str], str]:
    """The vectorizer's own preprocessing, lowercase then strip accents, with the same strip in less time."""
    if vectorizer.preprocessor is not None or vectorizer.strip_accents != "unicode":
        return vectorizer.build_preprocessor()
    return (lambda text: strip_accents(text.lower())) if vectorizer.lowercase else strip_accents


def analyse(model: Model, texts: list[str], with_scope: bool) -> Analysed:
    """Both models' matrices for the texts, lowercasing and tokenising each text once when the two vectorizers
    tokenise alike (the same numbers as transforming the texts twice, in less time); otherwise each on its own."""
    from pipeline.model import pipeline_parts

    vectorizer, _ = pipeline_parts(model.pipeline)
    if not (with_scope and model.has_scope):
        return Analysed(vectorizer.transform(texts))
    scope_vectorizer, _ = pipeline_parts(model.scope_pipeline)
    if not tokenises_alike(vectorizer, scope_vectorizer):
        return Analysed(vectorizer.transform(texts), scope_vectorizer.transform(texts))
    preprocess, tokenize = preprocessor(vectorizer), vectorizer.build_tokenizer()
    words = [tokenize(preprocess(text)) for text in texts]
    return Analysed(from_words(vectorizer).transform(words), from_words(scope_vectorizer).transform(words), words)


def scope_of(
    model: Model, texts: list[str], threshold: float, analysed: Analysed
) -> tuple[np.ndarray, list[bool], list[str]]:
    """What `Model.scope` gives, from the analysed texts: P(out of scope), the flag and its reason."""
    from pipeline.model import pipeline_parts
    from pipeline.scope import scope_decisions

    _, classifier = pipeline_parts(model.scope_pipeline)
    p_out = classifier.predict_proba(analysed.scope_matrix)[:, list(classifier.classes_).index(config.OUT_OF_SCOPE)]
    flags, reasons = scope_decisions(
        model.scope_pipeline, model.scope_metadata, texts, p_out, threshold, words=analysed.words
    )
    return p_out, flags, reasons
