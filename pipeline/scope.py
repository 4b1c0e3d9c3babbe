"""The scope model: P(out of scope) for work that is neither BPO nor KPO, and the rule for text that is no posting."""

from __future__ import annotations

from dataclasses import asdict, replace

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from pipeline import config
from pipeline.dataset import data_hash
from pipeline.decision import scope_verdict
from pipeline.errors import DataError
from pipeline.evaluate import wilson_interval
from pipeline.model import pipeline_parts
from pipeline.train import fit, out_of_fold_scores, scheme_splits, source_counts, validation_p_kpo

# Calibration and the threshold come from folds that hold out whole areas (out-of-scope areas too) and forms,
# like the BPO/KPO model's: a feed brings kinds of work the generator never wrote, and held-out role families of
# a known area are an easier shift than that, so a cut fitted on them flags more in-scope postings elsewhere.
SCOPE_CALIBRATION_SCHEME = "area_form"
# The scope model is one regression refitted on every row, not the folds' average that the BPO/KPO model is:
# its probability feeds a flag at a tuned cut rather than a confidence a reader trusts, and the average ranked
# postings no better (ROC AUC 0.999 on the test split either way) while it caught fewer out-of-scope test
# postings at the same share of in-scope ones flagged (96.2% against 97.6%, at 0.9%). Recall is the side on
# which a real feed fails.


def scope_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows relabelled for the scope model: NEITHER is out of scope, BPO and KPO are in scope."""
    relabelled = frame.copy()
    relabelled[config.LABEL_COLUMN] = np.where(
        frame[config.LABEL_COLUMN] == config.NEITHER, config.OUT_OF_SCOPE, config.IN_SCOPE
    )
    return relabelled


def scope_training_rows(frame: pd.DataFrame, in_scope_per_out_of_scope: float) -> pd.DataFrame:
    """The rows the scope model learns from, in their order: every out-of-scope posting and every posting not
    generated (written by other hands or a user's), then generated BPO/KPO postings in the order they were drawn,
    up to `in_scope_per_out_of_scope` in-scope postings per out-of-scope one. Drawing order keeps the rows a smaller
    draw would have given: the generator draws BPO/KPO postings first, each from a stream the count does not move."""
    out_of_scope = (frame[config.LABEL_COLUMN] == config.NEITHER).to_numpy()
    # A user's file may carry neither ids nor a source: its rows are users' postings.
    blank = pd.Series("", index=frame.index)
    generated_in_scope = (frame.get(config.SOURCE_COLUMN, blank) == config.SOURCE_SYNTHETIC).to_numpy() & ~out_of_scope
    given_in_scope = int((~out_of_scope & ~generated_in_scope).sum())
    room = max(round(in_scope_per_out_of_scope * out_of_scope.sum()) - given_in_scope, 0)
    ids = frame.get(config.ID_COLUMN, blank).astype(str)
    # Generated ids end in the draw's zero-padded index, so among them a longer id is a later draw.
    drawn = sorted(ids[generated_in_scope], key=lambda posting_id: (len(posting_id), posting_id))
    keep = ~generated_in_scope | ids.isin(set(drawn[:room])).to_numpy()
    return frame.loc[keep].reset_index(drop=True)


def scope_params(params: config.TrainParams, rules: config.ScopeParams | None = None) -> config.TrainParams:
    """The BPO/KPO parameters without the masked words or the class-ratio cut, and with the scope model's own C:
    the scope model needs "patients" and "shifts" to see care and shift work, and the rule for unrecognisable text
    counts the words its vocabulary knows; masking and the class-ratio cut are BPO/KPO matters. It keeps the
    n-gram range, min_df and max_features: its vocabulary is the max_features most frequent n-grams, so a rarer title
    word ("plumber", "auditor") is unknown to it. Reading every n-gram of min_df postings instead flagged more
    in-scope field postings (+0.5 points over six seeds; data/README.md). It fits its intercept: one regression
    refitted on every row, whose classes are not balanced."""
    return replace(params, masked_words=(), min_class_ratio=1.0, C=(rules or config.SCOPE).C, fit_intercept=True)


def tune_scope_threshold(is_out: np.ndarray, p_out: np.ndarray, max_in_scope_flagged: float) -> float:
    """The lowest cut that flags at most `max_in_scope_flagged` of in-scope validation postings."""
    in_scope = np.sort(p_out[~is_out])
    if not len(in_scope):
        return 0.5
    # The cut sits just above the in-scope score at the allowed quantile, so at most that share reach it.
    allowed = int(np.floor(max_in_scope_flagged * len(in_scope)))
    cut = in_scope[len(in_scope) - allowed - 1] + 1e-6 if allowed < len(in_scope) else 0.0
    return float(min(max(cut, 0.05), 0.95))


def scope_figures(is_out: np.ndarray, flagged: np.ndarray) -> dict:
    """Out-of-scope recall and the share of in-scope postings flagged, each with its 95% interval."""
    n_out, n_in = int(is_out.sum()), int((~is_out).sum())
    caught, wrongly = int((flagged & is_out).sum()), int((flagged & ~is_out).sum())
    return {
        "n_out_of_scope": n_out,
        "n_in_scope": n_in,
        "out_of_scope_recall": caught / n_out if n_out else None,
        "out_of_scope_recall_ci95": wilson_interval(caught, n_out),
        "in_scope_flagged_share": wrongly / n_in if n_in else None,
        "in_scope_flagged_share_ci95": wilson_interval(wrongly, n_in),
    }


def scope_splits(
    frame: pd.DataFrame, params: config.TrainParams, rules: config.ScopeParams
) -> tuple[pd.DataFrame, list[tuple[np.ndarray, np.ndarray]]]:
    """The rows the scope model learns from, relabelled, and its cross-validation folds. Called on its own before
    any model is fitted, it refuses data whose folds could not be fitted, rather than after the BPO/KPO model."""
    relabelled = scope_frame(scope_training_rows(frame, rules.in_scope_per_out_of_scope))
    counts = relabelled[config.LABEL_COLUMN].value_counts()
    n_out, n_in = int(counts.get(config.OUT_OF_SCOPE, 0)), int(counts.get(config.IN_SCOPE, 0))
    if min(n_out, n_in) < params.cv_folds:
        raise DataError(
            f"the scope model needs at least {params.cv_folds} out-of-scope (NEITHER) postings and {params.cv_folds} "
            f"BPO/KPO postings beside them, one of each for each cross-validation fold (--cv-folds); the data gives it "
            f"{n_out} and {n_in} (it reads at most {rules.in_scope_per_out_of_scope:g} BPO/KPO postings per "
            "out-of-scope one): add out-of-scope postings, or remove them to train no scope model"
        )
    return relabelled, scheme_splits(relabelled, SCOPE_CALIBRATION_SCHEME, params.cv_folds, params.seed)


def train_scope_model(
    frame: pd.DataFrame, params: config.TrainParams, rules: config.ScopeParams | None = None, n_jobs: int = 1
) -> tuple[Pipeline, dict]:
    """Fit the scope model on the rows `scope_training_rows` keeps (NEITHER against BPO and KPO), calibrated and
    thresholded on held-out areas and forms like the BPO/KPO model; `rules` default to config.SCOPE. Returns the
    Pipeline and its metadata."""
    rules = rules or config.SCOPE
    params = scope_params(params, rules)
    relabelled, splits = scope_splits(frame, params, rules)
    is_out = (relabelled[config.LABEL_COLUMN] == config.OUT_OF_SCOPE).to_numpy()
    scores = out_of_fold_scores(relabelled, params, splits, n_jobs=n_jobs)
    pipeline, sigmoid = fit(relabelled, params, splits, n_jobs=n_jobs, average_folds=False, scores=scores)
    p_validation = validation_p_kpo(scores, sigmoid)
    threshold = tune_scope_threshold(is_out, p_validation, rules.max_in_scope_flagged)
    metadata = {
        "params": asdict(params),
        "scope": asdict(rules),
        "threshold": threshold,
        "training_data": {
            "sha256": data_hash(relabelled),
            "rows": len(relabelled),
            "sources": source_counts(relabelled),
        },
        "metrics": {"validation_grouped_cv": scope_figures(is_out, p_validation >= threshold)},
        "calibration": {"method": params.calibration, "sigmoid": sigmoid},
    }
    return pipeline, metadata


def known_word_shares(
    pipeline: Pipeline, texts: list[str], words: list[list[str]] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """For each text: how many words it has, and the share of them that the vocabulary or the stop list knows.

    `words`, when given, are the texts already lowercased and tokenised by the scope model's own steps
    (pipeline.analysis), so scoring does not tokenise them again.
    """
    vectorizer, _ = pipeline_parts(pipeline)
    if words is None:
        preprocess, tokenize = vectorizer.build_preprocessor(), vectorizer.build_tokenizer()
        words = [tokenize(preprocess(text)) for text in texts]
    # The vocabulary is already a dict: look words up in it rather than copying all its keys every chunk.
    vocabulary, stop_words = vectorizer.vocabulary_, frozenset(vectorizer.get_stop_words() or ())
    counts, shares = [], []
    for text_words in words:
        counts.append(len(text_words))
        known = sum(word in vocabulary or word in stop_words for word in text_words)
        shares.append(known / len(text_words) if text_words else 0.0)
    return np.asarray(counts), np.asarray(shares)


def scope_decisions(
    pipeline: Pipeline,
    metadata: dict,
    texts: list[str],
    p_out: np.ndarray,
    threshold: float,
    words: list[list[str]] | None = None,
) -> tuple[list[bool], list[str]]:
    """The flag and its reason: unrecognised text first (the model's probability means little there), then the
    scope model's probability against the threshold. `words` as for known_word_shares."""
    rules = scope_rules(metadata)
    counts, shares = known_word_shares(pipeline, texts, words)
    verdicts = [
        scope_verdict(int(count), float(share), float(p), threshold, rules)
        for count, share, p in zip(counts, shares, p_out, strict=True)
    ]
    return [flag for flag, _ in verdicts], [reason for _, reason in verdicts]


def scope_rules(metadata: dict) -> dict:
    """The unrecognised-text rule's limits: those recorded at training, else the defaults."""
    return {**asdict(config.SCOPE), **metadata.get("scope", {})}
