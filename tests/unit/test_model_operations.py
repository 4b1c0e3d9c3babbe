"""The operations a loaded Model offers callers: features, scores, explanations and its heaviest n-grams."""

import numpy as np
import pytest

from pipeline import config
from pipeline.model import pipeline_parts

POSTINGS = [
    "answer customer calls and log tickets for clients",
    "build statistical models and advise the board",
    "process invoices, then advise clients on litigation risk",
    "words unknown here",
]


def test_transform_is_the_pipelines_first_step_and_score_its_probability(tiny_model):
    model = tiny_model
    features = model.transform(POSTINGS)
    expected = model.pipeline[0].transform(POSTINGS)
    assert features.shape == (len(POSTINGS), model.vocabulary_size)
    assert (features != expected).nnz == 0
    assert np.allclose(model.score(features), model.p_kpo(POSTINGS), rtol=0, atol=1e-12)
    assert np.allclose(model.score(features), model.pipeline.predict_proba(POSTINGS)[:, 1], rtol=0, atol=1e-12)


def test_ngram_weights_are_the_regressions_log_odds_toward_kpo_and_read_only(tiny_model):
    model = tiny_model
    names, weights = model.ngram_weights()
    vocabulary = model.pipeline[0].vocabulary_
    coef = model.pipeline[-1].coef_[0]
    assert list(model.pipeline[-1].classes_).index(config.KPO) == 1  # so coef_ points toward KPO
    for name, weight in zip(names, weights, strict=True):
        assert weight == coef[vocabulary[name]]
    assert len(names) == model.vocabulary_size == len(vocabulary)
    with pytest.raises(ValueError, match="read-only"):
        weights[0] = 0.0
    assert model.ngram_weights()[1] is weights  # computed once


def test_explain_lists_the_ngrams_that_push_toward_each_label(tiny_model):
    model = tiny_model
    features = model.transform(POSTINGS)
    labels = [config.BPO, config.KPO, config.KPO, config.BPO]
    explanations = model.explain(features, labels, k=3)
    vocabulary = model.pipeline[0].vocabulary_
    coef = model.pipeline[-1].coef_[0]
    assert len(explanations) == len(POSTINGS)
    for row, (text, label, items) in enumerate(zip(POSTINGS, labels, explanations, strict=True)):
        assert len(items) <= 3
        for item in items:
            # Each n-gram is in the vocabulary and in this posting, and its weight is tf-idf x coefficient.
            column = vocabulary[item["ngram"]]
            assert item["ngram"] in text
            assert item["weight"] == pytest.approx(features[row, column] * coef[column], abs=1e-4)
            # It pushes toward the label: positive (toward KPO) for KPO, negative for BPO.
            assert (item["weight"] > 0) == (label == config.KPO)
        magnitudes = [abs(item["weight"]) for item in items]
        assert magnitudes == sorted(magnitudes, reverse=True)
    assert explanations[0] and explanations[1]
    assert explanations[-1] == []  # no known n-gram, nothing to explain


def test_explain_without_labels_explains_the_models_own_labels(tiny_model):
    model = tiny_model
    features = model.transform(POSTINGS[:2])
    assert model.predict(POSTINGS[:2]) == [config.BPO, config.KPO]
    assert model.explain(features, k=2) == model.explain(features, [config.BPO, config.KPO], k=2)


def test_top_ngrams_are_the_heaviest_toward_each_label(tiny_model):
    model = tiny_model
    names, weights = model.ngram_weights()
    top = model.top_ngrams(3)
    assert len(top[config.BPO]) == len(top[config.KPO]) == 3
    assert top[config.KPO][0] == (str(names[np.argmax(weights)]), round(float(weights.max()), 4))
    assert top[config.BPO][0] == (str(names[np.argmin(weights)]), round(float(weights.min()), 4))
    kpo = [w for _, w in top[config.KPO]]
    bpo = [w for _, w in top[config.BPO]]
    assert kpo == sorted(kpo, reverse=True) and bpo == sorted(bpo)
    assert min(kpo) >= max(w for _, w in model.top_ngrams(len(names))[config.KPO][3:])
    # A k beyond the n-grams that push one way listed the other label's heaviest at the end of each list.
    every = model.top_ngrams(len(names))
    assert all(w < 0 for _, w in every[config.BPO]) and all(w > 0 for _, w in every[config.KPO])
    assert len(every[config.BPO]) + len(every[config.KPO]) == int((weights != 0).sum())


def test_ngram_range_is_the_trained_one(tiny_model):
    model = tiny_model
    assert model.ngram_range == (1, 2)
    assert max(len(str(name).split()) for name in model.ngram_weights()[0]) == 2


def test_pipeline_parts_are_the_two_fitted_steps(tiny_model):
    model = tiny_model
    vectorizer, classifier = pipeline_parts(model.pipeline)
    assert vectorizer is model.pipeline[0] and classifier is model.pipeline[-1]
    assert [name for name, _ in model.pipeline.steps] == [config.VECTORIZER_STEP, config.CLASSIFIER_STEP]


def test_explain_scope_lists_the_ngrams_that_push_toward_each_scope_verdict():
    """The scope model's weights point toward out of scope whichever class scikit-learn puts first: a flagged
    posting lists positive weights (tf-idf x that coefficient), one kept in scope negative ones."""
    from dataclasses import replace

    from pipeline.model import Model, build_pipeline

    scope_training = [
        ("answer customer calls and log tickets", config.IN_SCOPE),
        ("build statistical models for clients", config.IN_SCOPE),
        ("process invoices and log payments", config.IN_SCOPE),
        ("drive the delivery van and unload parcels", config.OUT_OF_SCOPE),
        ("cook meals in the hotel kitchen", config.OUT_OF_SCOPE),
        ("clean wards and drive the hospital van", config.OUT_OF_SCOPE),
    ]
    params = replace(config.TRAIN, ngram_max=1, min_df=1, max_df=1.0, stop_words=None, max_features=None)
    texts, labels = zip(*scope_training, strict=True)
    scope = build_pipeline(params).fit(list(texts), list(labels))
    assert list(scope.classes_).index(config.OUT_OF_SCOPE) == 1
    bpo_kpo = build_pipeline(params).fit(["answer calls", "build models"], [config.BPO, config.KPO])
    model = Model(bpo_kpo, {"labels": [config.BPO, config.KPO]}, scope=(scope, {"threshold": 0.5}))
    postings = ["drive a van to a kitchen", "answer calls and build models"]
    features = model.scope_transform(postings)
    flags = [bool(p >= 0.5) for p in model.p_out_of_scope(postings)]
    assert flags == [True, False]
    explanations = model.explain_scope(features, flags, k=2)
    vocabulary, coef = scope[0].vocabulary_, scope[-1].coef_[0]
    for row, (flagged, items) in enumerate(zip(flags, explanations, strict=True)):
        assert items
        for item in items:
            column = vocabulary[item["ngram"]]
            assert item["weight"] == pytest.approx(features[row, column] * coef[column], abs=1e-4)
            assert (item["weight"] > 0) == flagged
    assert explanations[0][0]["ngram"] in {"drive", "van", "kitchen"}  # the heaviest is a word of the work
