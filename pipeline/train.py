"""Fit the Pipeline, estimate it on held-out groups, tune the threshold and review band, and search parameters."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from dataclasses import asdict, replace

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.special import expit
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import ParameterGrid, StratifiedGroupKFold, cross_validate
from sklearn.pipeline import Pipeline
from sklearn.utils.parallel import Parallel, delayed

from pipeline import config
from pipeline.accents import strip_accents
from pipeline.audit import class_ratio
from pipeline.dataset import data_hash, salted_hash
from pipeline.decision import in_review_band, labels_at
from pipeline.errors import DataError, VocabularyError
from pipeline.evaluate import compute_metrics, macro_f1, review_summary
from pipeline.invariance import label_shift, without_title
from pipeline.model import build_pipeline, forget_process_state, pipeline_parts

# Cross-validation schemes, by what a fold holds out whole. "<x>_form" holds out <x> (role families or whole
# service areas) and, from each fold's training rows, whole posting forms too. Calibration, the threshold and the
# review band come from CALIBRATION_SCHEME, so the probabilities are fitted on text whose area and form the
# model never saw: generated postings are easier to tell apart than real ones, and a sigmoid fitted on an easier
# shift claims certainty that text from elsewhere does not earn. The others are reported beside it.
CV_SCHEMES = {"area": config.AREA_COLUMN, "form": config.FORM_COLUMN, "family_form": config.GROUP_COLUMN}
CALIBRATION_SCHEME = "area_form"


def held_out_groups(frame: pd.DataFrame, column: str) -> tuple[str, np.ndarray]:
    """What a fold holds out whole, by row: `column`'s value, else the group's (data without areas or forms, a
    user's own file, is held out by its groups), else each row alone; and the column that is."""
    if column not in frame:
        column = config.GROUP_COLUMN
    if column not in frame:
        return column, frame.index.astype(str).to_numpy()
    return column, frame[column].fillna("").astype(str).to_numpy()


def fold_of_rows(frame: pd.DataFrame, n_folds: int, column: str = config.GROUP_COLUMN, seed: int = 0) -> np.ndarray:
    """The fold each row is held out in: all rows sharing a value of `column` (an area, a form, a role family)
    stay together, and folds keep both classes where the groups allow."""
    folds = np.empty(len(frame), dtype=np.int64)
    held_out, groups = held_out_groups(frame, column)
    if len(set(groups)) < 2:
        # scikit-learn's words ("Cannot have number of splits n_splits=2 greater than the number of groups: 1")
        # named neither the group nor what to add.
        unit = _UNIT_NAMES.get(held_out, held_out)
        where = " (the group column; without one, near copies of a text share a group)"
        raise DataError(
            f"every posting ({len(frame)}) is in one {unit} ({groups[0]!r}), and cross-validation holds out whole "
            f"{unit}s, so it needs postings in at least 2: add postings in other {unit}s"
            + (where if held_out == config.GROUP_COLUMN else "")
        )
    n_splits = max(2, min(n_folds, len(set(groups))))
    generated = _generated_rows(frame)
    if generated is not None and len(set(groups[generated])) >= n_splits:
        # Users' postings are dealt to folds apart, by a hash of their group: dealt with the generated ones, one
        # posting of a user's re-dealt every generated area, and moved the validation figures past their interval.
        folds[generated] = fold_of_rows(frame.loc[generated], n_folds, column, seed)
        fold_of_group = dict(zip(groups[generated], folds[generated], strict=True))
        for row in np.flatnonzero(~generated):
            folds[row] = fold_of_group.get(groups[row], _hashed_fold(groups[row], seed, n_splits))
        return folds
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    for fold, (_, held_out) in enumerate(splitter.split(frame, frame[config.LABEL_COLUMN], groups=groups)):
        folds[held_out] = fold
    return folds


def _generated_rows(frame: pd.DataFrame) -> np.ndarray | None:
    """Which rows are generated postings, where users' postings sit beside them; None for data of one source."""
    if config.SOURCE_COLUMN not in frame:
        return None
    generated = (frame[config.SOURCE_COLUMN].fillna("").astype(str) == config.SOURCE_SYNTHETIC).to_numpy()
    return generated if generated.any() and not generated.all() else None


def _hashed_fold(group: str, seed: int, n_splits: int) -> int:
    """A fold for a group of users' postings that depends on that group and the seed alone."""
    return salted_hash(seed, group) % n_splits


def held_out_units(frame: pd.DataFrame) -> str:
    """What the calibration folds hold out, in words: service areas (groups, when the data names no area: its
    group column, or near copies of a text) and forms, and which of the two a user's own file does not name."""
    has_area, has_form = config.AREA_COLUMN in frame, config.FORM_COLUMN in frame
    units = f"{'service areas' if has_area else 'groups'}{' and forms' if has_form else ''}"
    missing = " or ".join(name for name, present in (("area", has_area), ("form", has_form)) if not present)
    return f"{units}; the data names no {missing}" if missing else units


def scheme_splits(frame: pd.DataFrame, scheme: str, n_folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train rows, held-out rows) of every fold of a scheme; the held-out rows of the folds partition the frame."""
    if not scheme.endswith("_form"):
        folds = fold_of_rows(frame, n_folds, CV_SCHEMES[scheme], seed)
        splits = [(np.flatnonzero(folds != k), np.flatnonzero(folds == k)) for k in np.unique(folds)]
        return require_both_classes(frame, splits, CV_SCHEMES[scheme])
    column = config.AREA_COLUMN if scheme == "area_form" and config.AREA_COLUMN in frame else config.GROUP_COLUMN
    family_folds = fold_of_rows(frame, n_folds, column, seed)
    # The forms of the generated postings alone decide which fold holds each out, as for the groups above: a
    # user's posting of another form (or none) is held out by a hash of it.
    generated = _generated_rows(frame)
    dealt = frame if generated is None else frame.loc[generated]
    forms = sorted(dealt[config.FORM_COLUMN].fillna("").astype(str).unique()) if config.FORM_COLUMN in frame else [""]
    rng = np.random.default_rng(seed)
    n_family_folds = max(1, len(np.unique(family_folds)))
    form_fold = dict(zip(forms, rng.permutation(len(forms)) % n_family_folds, strict=True))
    row_form_folds = (
        frame[config.FORM_COLUMN]
        .fillna("")
        .astype(str)
        .map(lambda form: form_fold.get(form, _hashed_fold(form, seed, n_family_folds)))
        .to_numpy()
        if config.FORM_COLUMN in frame
        else np.full(len(frame), -1)
    )
    splits = []
    for k in np.unique(family_folds):
        train = np.flatnonzero((family_folds != k) & (row_form_folds != k))
        if len(np.unique(frame[config.LABEL_COLUMN].to_numpy()[train])) < 2:
            train = np.flatnonzero(family_folds != k)  # too few forms to hold any out and keep both classes
        splits.append((train, np.flatnonzero(family_folds == k)))
    return require_both_classes(frame, splits, column)


# How a refusal names what a fold holds out, and the scope model's labels.
_UNIT_NAMES = {config.AREA_COLUMN: "service area", config.FORM_COLUMN: "form", config.GROUP_COLUMN: "group"}
_LABEL_NAMES = {config.IN_SCOPE: "BPO or KPO", config.OUT_OF_SCOPE: "out-of-scope (NEITHER)"}


def require_both_classes(
    frame: pd.DataFrame, splits: list[tuple[np.ndarray, np.ndarray]], column: str
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The splits, unless a fold would learn from one class alone: scikit-learn's refusal of it ("needs samples
    of at least 2 classes") names neither the label nor that the postings of it sit in the groups held out."""
    labels = frame[config.LABEL_COLUMN].to_numpy()
    for train, _ in splits:
        missing = sorted(set(labels) - set(labels[train]))
        if missing:
            column, groups = held_out_groups(frame, column)
            unit, name = _UNIT_NAMES.get(column, column), _LABEL_NAMES.get(missing[0], missing[0])
            units = pd.unique(groups[labels == missing[0]])
            where = f"one {unit} ({units[0]!r})" if len(units) == 1 else f"{len(units)} {unit}s that one fold holds"
            raise DataError(
                f"every {name} posting ({int((labels == missing[0]).sum())}) is in {where}, and cross-validation "
                f"holds out whole {unit}s, so a fold would have none to learn from: add {name} postings in other "
                f"{unit}s" + (" (the group column)" if column == config.GROUP_COLUMN else "")
            )
    return splits


# What scikit-learn's TfidfVectorizer says when min_df and max_df leave it no n-gram to read.
DOCUMENT_FREQUENCY_ERRORS = ("max_df corresponds to < documents than min_df", "After pruning, no terms remain")


def fit_vectorizer(
    params: config.TrainParams, texts: list[str], labels: np.ndarray
) -> tuple[TfidfVectorizer, csr_matrix]:
    """The Pipeline's TF-IDF step fitted on `texts`, reading only the n-grams that tell the classes apart, and the
    texts' features from it (so callers need not tokenise them again).

    With params.min_class_ratio above 1, the vocabulary is cut to the n-grams at least that many times more
    common in one class's postings than in the other's (audit.class_ratio), and the step is refitted with that
    fixed vocabulary, so the words left out count neither in the weights nor in each row's unit length. Labels
    shape the vocabulary: fit it on training rows only, never on rows that are scored to estimate the model.
    """
    vectorizer, _ = pipeline_parts(build_pipeline(params))
    # Training reads every posting many times (each fold, then again with the cut vocabulary), and scikit-learn's
    # accent strip, a Python pass over every character of a text beyond ASCII, took a fifth of it. The project's
    # twin gives the same strings (pipeline/accents.py); the saved step gets scikit-learn's "unicode" back
    # (model.forget_process_state), so the file holds no project code and its bytes are the same.
    vectorizer.set_params(strip_accents=strip_accents)
    try:
        features = vectorizer.fit_transform(texts)
    except ValueError as error:
        # scikit-learn's own words name neither the options nor how many postings the fit had.
        if "empty vocabulary" in str(error):
            raise DataError(
                f"the {len(texts)} postings fitted on hold no word the model reads: only stop words, or no text"
            ) from error
        if not any(words in str(error) for words in DOCUMENT_FREQUENCY_ERRORS):
            raise
        raise VocabularyError(
            f"no n-gram is in at least {params.min_df} (min_df) and at most {params.max_df:.4g} (max_df, as a share) "
            f"of the {len(texts)} postings fitted on (cross-validation fits part of the data)",
            "lower --min-df or raise --max-df (params/train.toml for make train)",
        ) from error
    if params.min_class_ratio <= 1:
        return vectorizer, features
    labels = np.asarray(labels)
    ratio = class_ratio(features, labels == np.unique(labels)[-1])
    kept = vectorizer.get_feature_names_out()[ratio >= params.min_class_ratio]
    if not len(kept):
        # Few rows (a small file, then split into folds) leave few n-grams in min_df postings: say how many.
        cap = f", among the {params.max_features} most frequent," if params.max_features else ""
        raise VocabularyError(
            f"no n-gram is in {params.min_df} of the {len(texts)} postings fitted on (cross-validation fits part "
            f"of the data){cap} and {params.min_class_ratio:g} times more common in one class than the other",
            "add postings, lower --min-df or --min-class-ratio, raise --max-features, or check the labels",
        )
    vectorizer = clone(vectorizer).set_params(vocabulary=kept.tolist())
    return vectorizer, vectorizer.fit_transform(texts)


def _fold_scores(
    params: config.TrainParams, texts: list[str], labels: np.ndarray, train: np.ndarray, held_out, variants=None
) -> tuple[np.ndarray, np.ndarray]:
    """Decision values of the held-out rows, and of their variant texts (NaN where a row has none), from a
    vocabulary and a regression fitted on the training rows."""
    vectorizer, features = fit_vectorizer(params, [texts[i] for i in train], labels[train])
    _, regression = pipeline_parts(build_pipeline(params))
    regression.fit(features, labels[train])
    scores = regression.decision_function(vectorizer.transform([texts[i] for i in held_out]))
    variant_scores = np.full(len(held_out), np.nan)
    varied = [] if variants is None else [k for k, i in enumerate(held_out) if variants[i] is not None]
    if varied:
        variant_texts = [variants[held_out[k]] for k in varied]
        variant_scores[varied] = regression.decision_function(vectorizer.transform(variant_texts))
    return scores, variant_scores


def out_of_fold_scores(frame: pd.DataFrame, params: config.TrainParams, splits: list, n_jobs: int = 1):
    """The uncalibrated decision value of every training row from a model that never saw what its fold holds out:
    each fold fits its own vocabulary, so no held-out row's text or label shaped the features that score it."""
    return out_of_fold_variant_scores(frame, params, splits, None, n_jobs)[0]


def out_of_fold_variant_scores(
    frame: pd.DataFrame, params: config.TrainParams, splits: list, variants: list[str | None] | None, n_jobs: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """out_of_fold_scores, and the score each row's variant text (`variants[i]`, an edit of the posting; None for
    none) gets from the same fold model: how the edit moves a posting the model never saw. NaN where none."""
    texts, labels = frame[config.TEXT_COLUMN].tolist(), frame[config.LABEL_COLUMN].to_numpy()
    fold_scores = Parallel(n_jobs=n_jobs)(
        delayed(_fold_scores)(params, texts, labels, train, held_out, variants) for train, held_out in splits
    )
    scores, variant_scores = np.empty(len(texts)), np.full(len(texts), np.nan)
    for (_, held_out), (values, variant_values) in zip(splits, fold_scores, strict=True):
        scores[held_out] = values
        variant_scores[held_out] = variant_values
    return scores, variant_scores


def fit(
    frame: pd.DataFrame,
    params: config.TrainParams,
    splits: list | None = None,
    n_jobs: int = 1,
    average_folds: bool = True,
    scores: np.ndarray | None = None,
) -> tuple[Pipeline, dict | None]:
    """Fit the Pipeline on `frame`: with calibration, the average of the grouped folds' regressions, calibrated.

    A Platt sigmoid is fitted on the out-of-fold scores of the grouped cross-validation (`scores`, computed here
    when not given), one regression is fitted per fold on the vocabulary of every row, and the saved regression
    is the fold regressions' average with the sigmoid folded in. Why not one regression on every row: it scores
    text from areas it was trained on further from zero than the fold models scored the held-out areas the
    sigmoid was fitted on, so the sigmoid's steep slope turned those larger scores into 0.999 claims that text
    from elsewhere does not earn. The average scores text on the scale the sigmoid was fitted on, and a word that
    only some folds' training rows carry (one area's vocabulary) keeps only its share of weight. A sigmoid of a
    linear score, and an average of linear scores, are linear in the log-odds, so the saved Pipeline is a plain
    TF-IDF + LogisticRegression whose probabilities are the calibrated average's, and explanations stay exact.
    With `average_folds` false, one regression refitted on every row takes the sigmoid instead (the scope model:
    see pipeline/scope.py). Returns the Pipeline and the sigmoid's parameters (None without calibration), in
    scikit-learn's convention: P(positive) = 1 / (1 + exp(a f + b)) for a fold regression's score f.
    """
    texts, labels = frame[config.TEXT_COLUMN].tolist(), frame[config.LABEL_COLUMN].to_numpy()
    vectorizer, features = fit_vectorizer(params, texts, labels)
    _, regression = pipeline_parts(build_pipeline(params))
    if params.calibration == "none":
        regression.fit(features, labels)
        warn_if_stopped([regression])
        return fitted_pipeline(vectorizer, regression), None
    splits = scheme_splits(frame, CALIBRATION_SCHEME, params.cv_folds, params.seed) if splits is None else splits
    scores = out_of_fold_scores(frame, params, splits, n_jobs) if scores is None else scores
    sigmoid = platt_sigmoid(scores, labels == np.unique(labels)[-1])
    if average_folds:
        folds = cross_validate(regression, features, labels, cv=splits, n_jobs=n_jobs, return_estimator=True)
        regressions = folds["estimator"]
    else:
        regressions = [regression.fit(features, labels)]
    warn_if_stopped(regressions)
    return fitted_pipeline(vectorizer, calibrated_average(regressions, sigmoid)), sigmoid


class SolverStopped(UserWarning):
    """A saved regression's solver reached its iteration cap before converging: its weights are not the optimum."""


def warn_if_stopped(regressions: list[LogisticRegression]) -> None:
    """Warn, in one message that names the fix, when a regression the saved model is made of stopped at max_iter.
    scikit-learn's own ConvergenceWarning, one per fit with its source line and a link, is for the caller to
    silence (train does): thirty of them buried the one line that mattered."""
    if any(int(np.max(regression.n_iter_)) >= regression.max_iter for regression in regressions):
        warnings.warn(
            f"the logistic regression stopped at --max-iter {regressions[0].max_iter} before it converged, so the "
            "model's weights are not the fit's optimum: raise --max-iter",
            SolverStopped,
            stacklevel=2,
        )


def fitted_pipeline(vectorizer: TfidfVectorizer, regression: LogisticRegression) -> Pipeline:
    """The two fitted steps as the saved Pipeline, without what they remember of this process."""
    return forget_process_state(Pipeline([(config.VECTORIZER_STEP, vectorizer), (config.CLASSIFIER_STEP, regression)]))


def platt_sigmoid(scores: np.ndarray, is_positive: np.ndarray) -> dict:
    """Platt's sigmoid P(positive) = 1 / (1 + exp(a f + b)) fitted to the scores f, as {"a": a, "b": b}.

    As in Platt (1999) and scikit-learn's calibration, the targets are (N+ + 1) / (N+ + 2) and 1 / (N- + 2)
    rather than 1 and 0, so scores that separate the classes perfectly still give a finite slope. Each row is
    entered as a positive weighted by its target and a negative weighted by the rest.
    """
    is_positive = np.asarray(is_positive, dtype=bool)
    n_positive, n_negative = int(is_positive.sum()), int((~is_positive).sum())
    target = np.where(is_positive, (n_positive + 1) / (n_positive + 2), 1 / (n_negative + 2))
    column = np.asarray(scores, dtype=np.float64).reshape(-1, 1)
    regression = LogisticRegression(C=np.inf, tol=1e-10, max_iter=10_000).fit(
        np.vstack([column, column]),
        np.r_[np.ones(len(column)), np.zeros(len(column))],
        sample_weight=np.r_[target, 1 - target],
    )
    return {"a": -float(regression.coef_[0, 0]), "b": -float(regression.intercept_[0])}


def calibrated_average(regressions: list[LogisticRegression], sigmoid: dict) -> LogisticRegression:
    """One LogisticRegression whose log-odds are the sigmoid applied to the regressions' mean score: weights
    -a mean(w) and intercept -(a mean(c) + b), for P = 1 / (1 + exp(a f + b)) and scores f = w.x + c."""
    averaged = copy.deepcopy(regressions[0])
    # In double precision, as the fold regressions' own weights are (the tf-idf is float64): the portable engine
    # (pipeline/portable.py) reproduces the scores of double weights to the last digit.
    averaged.coef_ = -sigmoid["a"] * np.mean([r.coef_ for r in regressions], axis=0, dtype=np.float64)
    averaged.intercept_ = -(
        sigmoid["a"] * np.mean([r.intercept_ for r in regressions], axis=0, dtype=np.float64) + sigmoid["b"]
    )
    # The folded-in sigmoid adds a constant to the decision function even where the folds fitted none.
    averaged.fit_intercept = True
    return averaged


def validation_p_kpo(scores: np.ndarray, sigmoid: dict | None) -> np.ndarray:
    """Out-of-fold scores as the fitted model's P(KPO): through the calibration sigmoid when there is one."""
    if sigmoid is None:
        return expit(scores)
    return expit(-(sigmoid["a"] * scores + sigmoid["b"]))


def tune_threshold(labels: pd.Series, p_kpo: np.ndarray) -> float:
    """The P(KPO) cut that maximises macro-F1 on validation data; ties go to the cut nearest 0.5."""
    candidates = np.round(np.arange(0.2, 0.81, 0.01), 2)
    scores = [macro_f1(labels, labels_at(p_kpo, t)) for t in candidates]
    best = max(scores)
    ties = [t for t, s in zip(candidates, scores, strict=True) if s >= best - 1e-12]
    return float(min(ties, key=lambda t: abs(t - 0.5)))


def tune_review_band(labels: pd.Series, p_kpo: np.ndarray, threshold: float) -> float:
    """The narrowest band around the threshold that holds config.REVIEW_ERROR_SHARE of the validation errors.

    Validation scores hold out role families and posting forms, so their errors are the kind a new posting
    makes: a band that holds most of them is one a reviewer can trust to catch most mistakes.
    """
    wrong = np.asarray(labels) != labels_at(p_kpo, threshold)
    if not wrong.any():
        return 0.0
    for band in np.round(np.arange(0.01, config.MAX_REVIEW_BAND + 1e-9, 0.01), 2):
        if wrong[in_review_band(p_kpo, threshold, band)].sum() >= config.REVIEW_ERROR_SHARE * wrong.sum():
            return float(band)
    return config.MAX_REVIEW_BAND


def check_label_counts(labels: pd.Series, folds: int) -> None:
    """Refuse, by name and count, data with fewer BPO or KPO postings than cross-validation folds: scikit-learn's
    own message ("After pruning, no terms remain") does not say that a label is missing."""
    counts = {label: int((labels == label).sum()) for label in config.LABELS}
    if min(counts.values()) < folds:
        raise DataError(
            f"training needs at least {folds} BPO and {folds} KPO postings, one for each cross-validation fold "
            f"(--cv-folds); the data has {counts[config.BPO]} BPO and {counts[config.KPO]} KPO"
        )


def training_warnings(n_postings: int, cv_folds: int, scope_recall: float | None) -> list[str]:
    """What train warns of once both models are fitted: too few BPO/KPO postings for its figures to hold, and a
    scope model that flagged few of the out-of-scope postings held out in validation (None: no scope model)."""
    warnings = []
    if n_postings < config.FEW_POSTINGS_WARNING:
        warnings.append(
            f"{n_postings} BPO/KPO postings are few: each of the {cv_folds} validation folds holds about "
            f"{n_postings // cv_folds}, so the figures above, the threshold and the review band move with --seed; "
            "add postings before relying on them"
        )
    if scope_recall is not None and scope_recall < config.LOW_SCOPE_RECALL_WARNING:
        warnings.append(
            f"the scope model flagged {scope_recall:.0%} of the out-of-scope postings held out in validation: its "
            "out_of_scope flags will miss most such work; add out-of-scope (NEITHER) postings"
        )
    return warnings


def source_counts(frame: pd.DataFrame) -> dict[str, int]:
    """How many training rows came from each source (generated, users' own), every row counted: a row of a file that
    names no source (no source column, or a blank cell) as unnamed. Counting only the sources named left out the
    rows of such a file trained beside the splits, and the sources added up to fewer rows than the model learnt."""
    sources = pd.Series("", index=frame.index, dtype=object)
    if config.SOURCE_COLUMN in frame:
        sources = frame[config.SOURCE_COLUMN].fillna("").astype(str).str.strip()
    sources = sources.mask(sources == "", config.SOURCE_UNNAMED)
    return {str(source): int(n) for source, n in sorted(sources.value_counts().items())}


def all_scheme_splits(frame: pd.DataFrame, params: config.TrainParams) -> dict[str, list]:
    """The folds of the calibration scheme, then of each shift scheme whose column the data has: made before any
    fit, so data one of them cannot split (one service area, one form) stops the run before minutes of fitting."""
    splits = {CALIBRATION_SCHEME: scheme_splits(frame, CALIBRATION_SCHEME, params.cv_folds, params.seed)}
    for scheme, column in CV_SCHEMES.items():
        if column in frame and scheme != CALIBRATION_SCHEME:
            splits[scheme] = scheme_splits(frame, scheme, params.cv_folds, params.seed)
    return splits


def train_model(
    frame: pd.DataFrame, params: config.TrainParams, n_jobs: int = 1, scheme_folds: dict[str, list] | None = None
) -> tuple[Pipeline, dict]:
    """Fit the model on `frame` and describe it: validation metrics, calibration, threshold and review band.

    Validation figures come from grouped out-of-fold scores, so every number is for role families the scoring
    model never saw; the threshold and band are tuned on those same scores, never on the test split.
    `scheme_folds` is what all_scheme_splits gives, when the caller has made them already.
    """
    labels = frame[config.LABEL_COLUMN]
    check_label_counts(labels, params.cv_folds)
    scheme_folds = all_scheme_splits(frame, params) if scheme_folds is None else scheme_folds
    splits = scheme_folds[CALIBRATION_SCHEME]
    scores, untitled_scores = out_of_fold_variant_scores(frame, params, splits, untitled_texts(frame), n_jobs)
    pipeline, sigmoid = fit(frame, params, splits, n_jobs=n_jobs, scores=scores)
    shift = {CALIBRATION_SCHEME: scores}
    for scheme, folds in scheme_folds.items():
        if scheme != CALIBRATION_SCHEME:
            shift[scheme] = out_of_fold_scores(frame, params, folds, n_jobs)
    p_validation = validation_p_kpo(scores, sigmoid)
    uncalibrated = compute_metrics(labels, expit(scores), 0.5)
    threshold = tune_threshold(labels, p_validation)
    review_band = tune_review_band(labels, p_validation, threshold)
    validation = compute_metrics(labels, p_validation, threshold)
    metadata = {
        "params": asdict(params),
        "threshold": threshold,
        "review_band": review_band,
        "review_on_validation": review_summary(labels, p_validation, threshold, review_band),
        # The invariance suite's title-removed edit on held-out rows: a check of leaning on titles that needs
        # neither the field nor the challenge set, so changes can be judged by it without tuning to those.
        "validation_invariance": {
            "title_removed": title_removed_shift(p_validation, validation_p_kpo(untitled_scores, sigmoid), threshold)
        },
        "training_data": {"sha256": data_hash(frame), "rows": len(frame), "sources": source_counts(frame)},
        "metrics": {
            "validation_grouped_cv": validation,
            # Macro-F1 and accuracy of every held-out scheme, through the same calibration and threshold.
            "cross_validation_by_scheme": {
                scheme: {
                    k: v
                    for k, v in compute_metrics(labels, validation_p_kpo(s, sigmoid), threshold).items()
                    if k in ("accuracy", "macro_f1", "ece", "wrong_at_high_confidence_share")
                }
                for scheme, s in shift.items()
            },
        },
        "calibration": {
            "method": params.calibration,
            "sigmoid": sigmoid,
            "validation_ece_before": uncalibrated["ece"],
            "validation_ece_after": validation["ece"],
        },
    }
    return pipeline, metadata


def untitled_texts(frame: pd.DataFrame) -> list[str | None] | None:
    """Each posting without the title on its first line (None where it does not start with its title)."""
    if config.TITLE_COLUMN not in frame:
        return None
    titles = frame[config.TITLE_COLUMN].fillna("").astype(str)
    return [without_title(text, title) for text, title in zip(frame[config.TEXT_COLUMN], titles, strict=True)]


def title_removed_shift(p_kpo: np.ndarray, p_untitled: np.ndarray, threshold: float) -> dict | None:
    """How removing the title moves held-out postings (rows without an untitled score left out); None if none."""
    has_variant = ~np.isnan(p_untitled)
    if not has_variant.any():
        return None
    return label_shift(p_kpo[has_variant], p_untitled[has_variant], threshold)


def tune_parameters(
    frame: pd.DataFrame,
    params: config.TrainParams,
    grid: dict = config.TUNING_GRID,
    n_jobs: int = -1,
    on_fit: Callable[[int, int], None] | None = None,
) -> dict:
    """Grid-search the training parameters by cross-validation that holds out whole service areas, and whole forms.

    Every fold fits what train fits, the vocabulary cut included, on its training rows only. Both schemes are
    reported. The choice follows the area scheme, the harder shift: among the configurations within one
    standard error of the best macro-F1 it takes the most regularised (smallest C, then fewest features), which
    is the one least likely to lean on wording that held-out areas do not share.
    """
    check_label_counts(frame[config.LABEL_COLUMN], params.cv_folds)
    texts, labels = frame[config.TEXT_COLUMN].tolist(), frame[config.LABEL_COLUMN].to_numpy()
    candidates = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in c.items()} for c in ParameterGrid(grid)]
    folds = {scheme: scheme_splits(frame, scheme, params.cv_folds, params.seed) for scheme in ("area", "form")}
    jobs = [(i, scheme, split) for i in range(len(candidates)) for scheme, splits in folds.items() for split in splits]
    # Results come back one by one, in order, so that `on_fit(fits done, fits in all)` can count them.
    fold_f1 = []
    for f1 in Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(_fold_macro_f1)(params_from_search({"params": candidates[i]}, params), texts, labels, *split)
        for i, _, split in jobs
    ):
        fold_f1.append(f1)
        if on_fit is not None:
            on_fit(len(fold_f1), len(jobs))
    by_candidate: dict[tuple[int, str], list[float]] = {}
    for (i, scheme, _), f1 in zip(jobs, fold_f1, strict=True):
        by_candidate.setdefault((i, scheme), []).append(f1)
    table = sorted(
        (
            {
                "params": candidate,
                "area_macro_f1": float(np.mean(by_candidate[i, "area"])),
                "area_std": float(np.std(by_candidate[i, "area"])),
                "form_macro_f1": float(np.mean(by_candidate[i, "form"])),
                "form_std": float(np.std(by_candidate[i, "form"])),
            }
            for i, candidate in enumerate(candidates)
        ),
        key=lambda row: -row["area_macro_f1"],
    )
    best = table[0]
    standard_error = best["area_std"] / np.sqrt(len(folds["area"]))
    eligible = [row for row in table if row["area_macro_f1"] >= best["area_macro_f1"] - standard_error]
    chosen = min(eligible, key=lambda row: _complexity(row["params"]))
    return {"best": chosen, "rule": "most regularised within one standard error of the best area-held-out macro-F1",
            "results": table}  # fmt: skip


def _fold_macro_f1(params: config.TrainParams, texts: list[str], labels: np.ndarray, train, held_out) -> float:
    """Macro-F1 on the held-out rows of the uncalibrated model fitted on the training rows, cut at 0.5."""
    scores, _ = _fold_scores(params, texts, labels, train, held_out)
    classes = np.unique(labels[train])
    return macro_f1(labels[held_out], np.where(scores > 0, classes[-1], classes[0]))


def _complexity(grid_params: dict) -> tuple:
    """Order configurations from most to least regularised."""
    return (
        grid_params.get("clf__C", 0.0),
        grid_params.get("tfidf__max_features") or float("inf"),
        grid_params.get("tfidf__ngram_range", (1, 1))[1],
        -grid_params.get("tfidf__min_df", 1),
    )


def params_from_search(best: dict, base: config.TrainParams) -> config.TrainParams:
    """Turn a grid-search parameter dict back into TrainParams."""
    values = best["params"]
    return replace(
        base,
        ngram_max=int(values.get("tfidf__ngram_range", (1, base.ngram_max))[1]),
        min_df=int(values.get("tfidf__min_df", base.min_df)),
        sublinear_tf=bool(values.get("tfidf__sublinear_tf", base.sublinear_tf)),
        stop_words=values.get("tfidf__stop_words", base.stop_words),
        C=float(values.get("clf__C", base.C)),
        max_features=values.get("tfidf__max_features", base.max_features),
        class_weight=values.get("clf__class_weight", base.class_weight),
    )
