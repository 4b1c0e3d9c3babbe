"""The portable scorer against scikit-learn: every posting of the test split and the field set, and other models."""

import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from pipeline import config
from pipeline.export import export_model
from pipeline.generate import generate_postings
from pipeline.model import load_model, pipeline_parts, save_model
from pipeline.portable import load_portable
from pipeline.train import fit

TOLERANCE = config.PORTABLE.tolerance


@pytest.fixture(scope="module")
def shipped(shipped_model_path):
    return load_model(shipped_model_path), load_portable(shipped_model_path)


def test_matches_scikit_learn_on_every_evaluation_set(shipped, evaluation_texts):
    # The scope model's probability and verdict as well as the label model's.
    model, portable = shipped
    for name, texts in evaluation_texts.items():
        expected = model.predict_proba(texts)
        got = np.array(portable.predict_proba(texts))
        assert got.shape == expected.shape, name
        assert np.max(np.abs(got - expected)) <= TOLERANCE, name
        assert portable.predict(texts) == model.predict(texts), name
        p_out, flags, reasons = model.scope(texts)
        verdicts = [portable.scope.scope_verdict(text) for text in texts]
        assert np.max(np.abs(np.array([v[0] for v in verdicts]) - p_out)) <= TOLERANCE, name
        assert [(v[1], v[2]) for v in verdicts] == list(zip(flags, reasons, strict=True)), name


def test_matches_scikit_learn_on_a_model_trained_otherwise(catalogue, tmp_path):
    # Unigrams and bigrams, no stop words, no calibration: the export carries the settings, none is assumed.
    frame = generate_postings(catalogue, 500, seed=3)
    params = replace(config.TRAIN, ngram_max=2, min_df=1, stop_words=None, calibration="none", cv_folds=3)
    pipeline, _ = fit(frame, params)
    path = tmp_path / "other.joblib"
    save_model(pipeline, path, {"params": {}, "threshold": 0.4, "review_band": 0.05})
    export_model(load_model(path))
    portable = load_portable(path)
    texts = generate_postings(catalogue, 300, seed=4)[config.TEXT_COLUMN].tolist() + ["", "Ünïcödé ＦＵＬＬ ﬁ"]
    # probabilities_of: the empty text too, which predict_proba refuses.
    got = np.array([portable.probabilities_of(text) for text in texts])
    assert np.max(np.abs(got - pipeline.predict_proba(texts))) <= TOLERANCE
    assert portable.threshold == 0.4 and portable.review_band == 0.05
    # Double-precision weights, as the calibrated models have: fitted on float32 tf-idf they stayed float32, and
    # the printed probabilities of the two engines differed in the 6th digit for some postings.
    _, regression = pipeline_parts(pipeline)
    assert regression.coef_.dtype == regression.intercept_.dtype == np.float64
    assert np.max(np.abs(got - pipeline.predict_proba(texts))) < 1e-12


def test_imports_neither_numpy_scipy_nor_scikit_learn(shipped_model_path):
    code = (
        "import sys\n"
        "from pipeline.portable import load_portable\n"
        "import pipeline.engines, pipeline.predict, pipeline.cli\n"
        f"model = load_portable({str(shipped_model_path)!r})\n"
        "assert model.predict(['Answer inbound calls', 'Build credit-risk models']) == ['BPO', 'KPO']\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules} & {'numpy', 'scipy', 'sklearn', 'pandas'})))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_a_word_repeated_any_number_of_times_scores_the_same_on_both_engines(shipped):
    """scikit-learn took 1 + ln(count) in float32, where numpy's vectorised log (picked by the CPU) is not correctly
    rounded for some counts (7, 37, 47 on AVX-512 machines): a posting with a word 7 times differed by up to 2e-7
    between the engines, printed other digits and, near the threshold, got the other label. In double precision a
    log's last-bit error moves the probability by about 1e-16."""
    model, portable = shipped
    texts = [f"Analyse claims data and advise the team. {' '.join(['claims'] * count)}" for count in range(1, 80)]
    texts += [" ".join([word] * count) for word in ("contract", "invoices", "research") for count in range(1, 50)]
    gap = np.abs(np.array(portable.predict_proba(texts)) - model.predict_proba(texts))
    assert np.max(gap) < 1e-12
    p_out, _, _ = model.scope(texts)
    assert np.max(np.abs(np.array([portable.scope.scope_verdict(text)[0] for text in texts]) - p_out)) < 1e-12
