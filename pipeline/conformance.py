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
    # The scope model's cases: work outside BPO and KPO, and text that is no job posting (the known-word rule).
    ("scope_care_work", "Provide personal care to elderly residents on the ward: washing, dressing, medication."),
    ("scope_trade_work", "Install and repair domestic boilers and central heating; Gas Safe registered engineer."),
    ("scope_lorem_ipsum", "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt."),
    ("scope_other_language", "Atender llamadas de clientes y resolver incidencias de facturación en el sistema."),
)


def long_cases(vocabulary: list[str]) -> list[tuple[str, str]]:
    """Very long postings: one real posting repeated, and 3,000 words drawn from the vocabulary (seeded)."""
    rng = random.Random(15)
    drawn = [rng.choice(vocabulary) for _ in range(3000)]
    return [
        ("long_repeated_posting", " ".join([CASES[1][1]] * 300)),
        ("long_vocabulary_draw", " ".join(drawn)),
    ]


def known_share_cases(vocabulary, stop_words: frozenset[str]) -> list[tuple[str, str]]:
    """Texts at the known-word rule's edge: half the words known (not flagged by the rule), and just under half.

    Known words are single-word terms of the scope vocabulary (seeded); unknown ones are made up and checked to
    be neither in the vocabulary nor stop words, so the cases stay at the edge whatever the model learnt.
    """
    rng = random.Random(16)
    words = sorted(term for term in vocabulary if " " not in term and term.isalpha() and term.isascii())
    known = [rng.choice(words) for _ in range(10)] if words else []
    unknown = [w for w in ("zorvaquent", "blimtrax", "quoxibel", "frandulite", "vexomarn", "trilquosh", "glumphary",
                           "snorvelix", "pradnoquet", "wibzanter", "kloffimung") if w not in vocabulary
               and w not in stop_words][:10]  # fmt: skip
    return [
        ("scope_half_known", " ".join(w for pair in zip(known, unknown, strict=False) for w in pair)),
        ("scope_under_half_known", " ".join(known[:4] + unknown[:5])),
    ]


def _reference(pipeline, texts: list[str]) -> tuple[list[dict], list[dict], list[list[str]]]:
    """scikit-learn's probabilities, in-vocabulary features and tokens (after stop words) for each text."""
    from pipeline.model import pipeline_parts

    vectorizer, _ = pipeline_parts(pipeline)
    preprocess, tokenize = vectorizer.build_preprocessor(), vectorizer.build_tokenizer()
    stop_words = vectorizer.get_stop_words() or frozenset()
    terms = vectorizer.get_feature_names_out()
    matrix = vectorizer.transform(texts).tocsr()
    probabilities = pipeline.predict_proba(texts)
    labels = [str(label) for label in pipeline.classes_]
    features = []
    for row in range(len(texts)):
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        pairs = zip(matrix.indices[start:end], matrix.data[start:end], strict=True)
        features.append(dict(sorted((str(terms[j]), float(v)) for j, v in pairs)))
    tokens = [[t for t in tokenize(preprocess(text)) if t not in stop_words] for text in texts]
    return [dict(zip(labels, map(float, row), strict=True)) for row in probabilities], features, tokens


def build_vectors(pipeline, metadata: dict, scope: tuple | None = None) -> dict:
    """Every case with scikit-learn's own tokens (after stop words), in-vocabulary features and probability, and,
    with a scope model (`scope` = its Pipeline and metadata), the scope fields it gives.

    Computed by scikit-learn from the fitted Pipelines and the scope rule of the scikit-learn path
    (pipeline/scope.py), never by the portable scorer, so the vectors are the reference a scorer in any language
    is held to.
    """
    from pipeline.model import pipeline_parts

    vectorizer, _ = pipeline_parts(pipeline)
    cases = list(CASES) + long_cases(sorted(vectorizer.vocabulary_))
    if scope is not None:
        scope_vectorizer, _ = pipeline_parts(scope[0])
        cases += known_share_cases(scope_vectorizer.vocabulary_, frozenset(scope_vectorizer.get_stop_words() or ()))
    texts = [text for _, text in cases]
    probabilities, features, tokens = _reference(pipeline, texts)
    vectors = []
    for row, (name, text) in enumerate(cases):
        case = {"name": name, "text": text, "probabilities": probabilities[row]}
        if len(text) < 1000:
            # Intermediate results, for finding which step of a new scorer goes wrong; omitted for long texts.
            case["tokens"], case["features"] = tokens[row], features[row]
        vectors.append(case)
    document = {
        "model_sha256": metadata["model_sha256"],
        "model_section": config.PORTABLE.primary_model,
        "tolerance": config.PORTABLE.tolerance,
        "feature_tolerance": 1e-5,
    }
    if scope is not None:
        document["scope"] = _scope_reference(*scope, texts, vectors)
    return document | {"cases": vectors}


def _scope_reference(scope_pipeline, scope_metadata: dict, texts: list[str], vectors: list[dict]) -> dict:
    """Add each case's scope fields (`case["scope"]`) from the scope Pipeline; return what the vectors hold."""
    from pipeline.scope import known_word_shares, scope_decisions, scope_rules

    threshold = float(scope_metadata["threshold"])
    probabilities, features, tokens = _reference(scope_pipeline, texts)
    p_out = [row[config.OUT_OF_SCOPE] for row in probabilities]
    counts, shares = known_word_shares(scope_pipeline, texts)
    flags, reasons = scope_decisions(scope_pipeline, scope_metadata, texts, p_out, threshold)
    for row, case in enumerate(vectors):
        case["scope"] = {
            "probabilities": probabilities[row],
            "words": int(counts[row]),
            "known_share": float(shares[row]),
            config.OUT_OF_SCOPE_FIELD: bool(flags[row]),
            config.SCOPE_REASON_FIELD: reasons[row],
        }
        if "tokens" in case:
            case["scope"]["tokens"], case["scope"]["features"] = tokens[row], features[row]
    return {
        "model_sha256": scope_metadata["model_sha256"],
        "model_section": config.PORTABLE.scope_model,
        "threshold": threshold,
        "scope_rules": scope_rules(scope_metadata),
    }


def write_vectors(path: Path, vectors: dict) -> None:
    write_text_atomic(path, json.dumps(vectors, ensure_ascii=True, indent=1) + "\n")


def check_scorer(vectors: dict, probability_of, scope_of=None) -> list[str]:
    """The cases a scorer fails; empty when it conforms.

    `probability_of(text)` returns {label: probability} from the main section. `scope_of(text)`, needed when the
    vectors hold a scope model, returns {"probabilities": {label: probability}, "out_of_scope": bool,
    "scope_reason": str} from the scope section and the known-word rule.
    """
    if "scope" in vectors and scope_of is None:
        return ["the vectors hold a scope model: check it too (scope_of)"]
    failures = []
    for case in vectors["cases"]:
        failures += _probability_failures(case["name"], probability_of(case["text"]), case["probabilities"], vectors)
        if scope_of is None or "scope" not in case:
            continue
        expected, got = case["scope"], scope_of(case["text"])
        failures += _probability_failures(
            f"{case['name']} (scope)", got.get("probabilities", {}), expected["probabilities"], vectors
        )
        for field in (config.OUT_OF_SCOPE_FIELD, config.SCOPE_REASON_FIELD):
            if got.get(field) != expected[field]:
                failures.append(f"{case['name']}: {field} {got.get(field)!r} expected {expected[field]!r}")
    return failures


def _probability_failures(name: str, got: dict, expected: dict, vectors: dict) -> list[str]:
    return [
        f"{name}: P({label}) {got.get(label)} expected {value}"
        for label, value in expected.items()
        if not math.isclose(got.get(label, math.nan), value, rel_tol=0.0, abs_tol=vectors["tolerance"])
    ]
