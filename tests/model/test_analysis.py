"""Both models' matrices from one tokenisation: bit for bit what each Pipeline computes on its own."""

import copy
import functools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import load_model
from pipeline.analysis import analyse, scope_of, tokenises_alike
from pipeline.model import Model

HARD_TEXTS = ["", " ", "İstanbul ΟΔΥΣΣΕΥΣ Straße", "ﬁnancial ＦＵＬＬ ½", "the and of", "data data data", "x y z",
              "• Answer “calls” – daily", "re\u0301sume\u0301 • Excel™ ½", "한국어 분석가 · data"]  # fmt: skip


@functools.cache
def shipped(path):
    return load_model(path)


def assert_same_matrix(got, expected):
    assert got.shape == expected.shape and got.dtype == expected.dtype
    assert np.array_equal(got.indptr, expected.indptr) and np.array_equal(got.indices, expected.indices)
    assert got.data.tobytes() == expected.data.tobytes()


def assert_analysed_like_the_pipelines(model, texts):
    analysed = analyse(model, texts, with_scope=True)
    assert_same_matrix(analysed.matrix, model.pipeline.named_steps["tfidf"].transform(texts))
    assert_same_matrix(analysed.scope_matrix, model.scope_pipeline.named_steps["tfidf"].transform(texts))
    p_out, flags, reasons = scope_of(model, texts, model.scope_threshold, analysed)
    expected_p, expected_flags, expected_reasons = model.scope(texts)
    assert p_out.tobytes() == expected_p.tobytes()
    assert (flags, reasons) == (expected_flags, expected_reasons)


def test_shared_tokens_give_each_pipelines_own_numbers_on_every_set(shipped_model_path, evaluation_texts):
    # The shipped models drop different stop words (the BPO/KPO model masks some words): tokens are shared, the
    # n-grams are not.
    model = shipped(shipped_model_path)
    vectorizer, scope_vectorizer = (p.named_steps["tfidf"] for p in (model.pipeline, model.scope_pipeline))
    assert tokenises_alike(vectorizer, scope_vectorizer)
    for texts in evaluation_texts.values():
        assert_analysed_like_the_pipelines(model, texts + HARD_TEXTS)


@settings(max_examples=100, deadline=None)
@given(texts=st.lists(st.text(max_size=200), min_size=1, max_size=5))
def test_shared_tokens_give_each_pipelines_own_numbers_on_any_text(shipped_model_path, texts):
    assert_analysed_like_the_pipelines(shipped(shipped_model_path), texts)


def test_vectorizers_that_tokenise_differently_each_tokenise_on_their_own(shipped_model_path):
    # A scope model that keeps case would see other words: sharing tokens then would change its numbers.
    model = shipped(shipped_model_path)
    scope_pipeline = copy.deepcopy(model.scope_pipeline)
    scope_pipeline.named_steps["tfidf"].lowercase = False
    other = Model(model.pipeline, model.metadata, model.path, (scope_pipeline, model.scope_metadata))
    assert not tokenises_alike(model.pipeline.named_steps["tfidf"], scope_pipeline.named_steps["tfidf"])
    texts = ["Provide personal CARE to Residents", "Answer inbound calls", "Lorem ipsum"]
    analysed = analyse(other, texts, with_scope=True)
    assert analysed.words is None
    assert_same_matrix(analysed.scope_matrix, scope_pipeline.named_steps["tfidf"].transform(texts))
