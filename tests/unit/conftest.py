"""A tiny model, fitted in milliseconds, for tests of what a Model does rather than how well."""

from dataclasses import replace

import pytest

from pipeline import config
from pipeline.model import Model, build_pipeline

TRAINING = [
    ("answer inbound customer calls and log tickets", config.BPO),
    ("handle customer calls and follow the script", config.BPO),
    ("process supplier invoices and log payments", config.BPO),
    ("answer calls and update customer tickets daily", config.BPO),
    ("build statistical models and advise clients", config.KPO),
    ("draft legal opinions and advise clients on litigation", config.KPO),
    ("research drug trials and build statistical models", config.KPO),
    ("advise the board on valuation models and risk", config.KPO),
]


@pytest.fixture(scope="session")
def tiny_model() -> Model:
    # Unigrams and bigrams, every n-gram kept, no masked or stop words: eight postings are enough.
    params = replace(config.TRAIN, ngram_max=2, min_df=1, max_df=1.0, stop_words=None, max_features=None)
    texts, labels = zip(*TRAINING, strict=True)
    pipeline = build_pipeline(params).fit(list(texts), list(labels))
    return Model(pipeline, {"labels": list(pipeline.classes_), "threshold": 0.5, "review_band": 0.1})
