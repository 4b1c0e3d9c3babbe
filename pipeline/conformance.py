"""Conformance vectors: texts with scikit-learn's tokens and probabilities, which every portable scorer must match."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

from pipeline import config
from pipeline.files import write_text_atomic

# Each case exercises one step of docs/portable-model.md; the long ones are built below from a fixed seed.
CASES: tuple[tuple[str, str], ...] = (
    ("bpo_plain", "Answer inbound customer calls and resolve billing queries in Salesforce, working to AHT targets."),
    ("kpo_plain", "Build credit-risk models in Python and present valuation findings to the investment committee."),
    ("empty", ""),
    ("whitespace_only", " \t\n "),
    ("stop_words_only", "the and of to in for with on at by from"),
    ("stop_words_split_ngrams", "Handle the calls of the customers and the billing of the accounts."),
    ("repeated_terms_sublinear_tf", "data data data data data analysis analysis analysis research"),
    ("accents", "Café résumé naïve: gérer les réclamations clients à São Paulo, Zürich et Kraków."),
    ("uppercase_accents", "ÉTUDE ÀNALYSE ÇA MARCHE; ÅNGSTRÖM ØRESUND"),
    ("compatibility_forms", "ﬁnancial ﬂows, Ｆｕｌｌｗｉｄｔｈ ｓｕｐｐｏｒｔ, Ⅻ², ½ time, ℌilbert"),
    ("special_casing", "İstanbul KİŞİ ΟΔΥΣΣΕΥΣ Straße ß ǅ"),
    ("punctuation", "customer-care/back-office (L1/L2) support; KPIs: AHT, CSAT & NPS!!! e-mail: a@b.co, 24/7."),
    ("digits_and_underscores", "Handle 200+ tickets per day; SLA_99 and ISO-27001; x1 y2 3d; __init__ a_b"),
    ("single_letters", "a b c d e f g h i j k l m n o p q r s t u v w x y z"),
    ("whitespace_kinds", "data\tanalyst\nfinancial\u00a0modelling\u2003research\r\ncall\u200bcentre"),
    ("other_scripts", "数据分析师 данные аналитик 데이터 분석가 محلل بيانات 📞☎️ call centre 🙂"),
    ("combining_marks", "re\u0301sume\u0301 cafe\u0301 hindi हिन्दी विश्लेषक"),
    ("only_punctuation", "!!! ??? ... --- /// *** ###"),
    ("one_word", "paralegal"),
)


def long_cases(vocabulary: list[str]) -> list[tuple[str, str]]:
    """Very long postings: one real posting repeated, and 3,000 words drawn from the vocabulary (seeded)."""
    rng = random.Random(15)
    drawn = [rng.choice(vocabulary) for _ in range(3000)]
    return [
        ("long_repeated_posting", " ".join([CASES[1][1]] * 300)),
        ("long_vocabulary_draw", " ".join(drawn)),
    ]


def conformance_path(model_path: Path) -> Path:
    """The vectors beside a model: models/model.joblib -> models/model.conformance.json."""
    return Path(model_path).with_suffix(config.CONFORMANCE_SUFFIX)


def build_vectors(pipeline, metadata: dict) -> dict:
    """Every case with scikit-learn's own tokens (after stop words), in-vocabulary features and probability.

    Computed by scikit-learn from the fitted Pipeline, never by the portable scorer, so the vectors are the
    reference a scorer in any language is held to.
    """
    from pipeline.model import pipeline_parts

    vectorizer, _ = pipeline_parts(pipeline)
    preprocess, tokenize = vectorizer.build_preprocessor(), vectorizer.build_tokenizer()
    stop_words = vectorizer.get_stop_words() or frozenset()
    terms = vectorizer.get_feature_names_out()
    cases = list(CASES) + long_cases(sorted(vectorizer.vocabulary_))
    texts = [text for _, text in cases]
    matrix = vectorizer.transform(texts).tocsr()
    probabilities = pipeline.predict_proba(texts)
    labels = [str(label) for label in pipeline.classes_]
    vectors = []
    for row, (name, text) in enumerate(cases):
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        features = {
            str(terms[j]): float(v) for j, v in zip(matrix.indices[start:end], matrix.data[start:end], strict=True)
        }
        case = {
            "name": name,
            "text": text,
            "probabilities": dict(zip(labels, map(float, probabilities[row]), strict=True)),
        }
        if len(text) < 1000:
            # Intermediate results, for finding which step of a new scorer goes wrong; omitted for long texts.
            case["tokens"] = [t for t in tokenize(preprocess(text)) if t not in stop_words]
            case["features"] = dict(sorted(features.items()))
        vectors.append(case)
    return {
        "model_sha256": metadata["model_sha256"],
        "model_section": config.PORTABLE.primary_model,
        "tolerance": config.PORTABLE.tolerance,
        "feature_tolerance": 1e-5,
        "cases": vectors,
    }


def write_vectors(path: Path, vectors: dict) -> None:
    write_text_atomic(path, json.dumps(vectors, ensure_ascii=True, indent=1) + "\n")


def check_scorer(vectors: dict, probability_of) -> list[str]:
    """The cases a scorer fails: `probability_of(text)` returns {label: probability}; empty when it conforms."""
    failures = []
    for case in vectors["cases"]:
        got = probability_of(case["text"])
        for label, expected in case["probabilities"].items():
            if not math.isclose(got.get(label, math.nan), expected, rel_tol=0.0, abs_tol=vectors["tolerance"]):
                failures.append(f"{case['name']}: P({label}) {got.get(label)} expected {expected}")
    return failures
