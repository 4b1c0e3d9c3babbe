"""Evaluate the project's evaluation sets together: metrics, error analysis and the model card."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline import config
from pipeline.analysis import analyse, scope_of
from pipeline.audit import Lexicon, audit_pipeline
from pipeline.dataset import in_scope, read_split, read_splits, with_flags
from pipeline.decision import labels_at
from pipeline.errors import DataError
from pipeline.evaluate import FORM_CLARITY_SLICE, LENGTH_SLICE, derived_slice_available, evaluate_frame, review_summary
from pipeline.held_out import choose_scorers, require_all, training_files, training_path
from pipeline.invariance import PARAGRAPH_FAMILIES, clerical_pairs, invariance_table, perturbed_pairs
from pipeline.markup import plain_text
from pipeline.model import Model
from pipeline.readers import case_hint
from pipeline.scope import scope_figures

# Slices reported for every evaluation set that has the column.
DEFAULT_SLICES = (config.BORDERLINE_COLUMN, config.AREA_COLUMN, config.FORM_COLUMN, FORM_CLARITY_SLICE, LENGTH_SLICE)
ERROR_COLUMNS = (
    "set", "id", "true_label", "predicted", "p_kpo", "confidence", "area", "borderline", "top_ngrams", "text",
)  # fmt: skip


def all_evaluation_sets() -> dict[str, pd.DataFrame]:
    """The held-out test split and, when they have rows, the field set and the challenge set, every label."""
    sets = {"test": read_split(config.TEST_PATH)}
    for name, path in (("field", config.FIELD_PATH), ("challenge", config.CHALLENGE_PATH)):
        frame = read_split(path) if path.exists() else pd.DataFrame()
        if len(frame):
            sets[name] = frame
    return sets


def default_evaluation_sets() -> dict[str, pd.DataFrame]:
    """The BPO/KPO postings of every evaluation set: what the BPO/KPO metrics and the invariance suite use."""
    return {name: in_scope(frame) for name, frame in all_evaluation_sets().items()}


@dataclass(frozen=True)
class ScopeVerdicts:
    """The scope model's verdict on every row of one set: truly out of scope, P(out of scope), flag and reason."""

    is_out: np.ndarray
    p_out: np.ndarray
    flagged: np.ndarray
    reasons: np.ndarray


def scope_verdicts(scorers: dict[str, Model], sets: dict[str, pd.DataFrame]) -> dict[str, ScopeVerdicts]:
    """Each set's scorer's scope verdicts, for every set a scope model scores: a set without out-of-scope postings
    still shows how many of its BPO/KPO postings the model flags."""
    verdicts = {}
    for name, frame in sets.items():
        is_out = (frame[config.LABEL_COLUMN] == config.NEITHER).to_numpy()
        model = scorers[name]
        if not model.has_scope:
            continue
        p_out, flags, reasons = model.scope(frame[config.TEXT_COLUMN].astype(str).tolist())
        verdicts[name] = ScopeVerdicts(is_out, p_out, np.asarray(flags, dtype=bool), np.asarray(reasons, dtype=object))
    return verdicts


def scope_results(sets: dict[str, pd.DataFrame], verdicts: dict[str, ScopeVerdicts]) -> dict[str, dict]:
    """For each set with verdicts: recall on out-of-scope postings and the share of BPO/KPO postings flagged,
    overall and for the borderline (hard) cases, plus how often each reason fired."""
    results = {}
    for name, v in verdicts.items():
        frame = sets[name]
        figures = scope_figures(v.is_out, v.flagged)
        if config.BORDERLINE_COLUMN in frame:
            hard = frame[config.BORDERLINE_COLUMN].to_numpy(dtype=bool)  # read as booleans by evaluate_model
            figures["hard_cases"] = scope_figures(v.is_out[hard], v.flagged[hard])
        figures["reasons"] = {
            reason: int(count) for reason, count in pd.Series(v.reasons)[v.flagged].value_counts().items()
        }
        results[name] = figures
    return results


def format_ngrams(explanation: list[dict]) -> str:
    """One row's explanation as 'ngram (+0.12); ...', for the error tables."""
    return "; ".join(f"{item['ngram']} ({item['weight']:+.2f})" for item in explanation)


def scope_error_table(
    scorers: dict[str, Model], sets: dict[str, pd.DataFrame], verdicts: dict[str, ScopeVerdicts]
) -> pd.DataFrame:
    """Scope mistakes of every set: out-of-scope postings not flagged and in-scope postings flagged, with the
    n-grams that pushed each one toward its verdict in the set's scope model."""
    frames = []
    for name, v in verdicts.items():
        frame = sets[name]
        wrong = np.flatnonzero(v.flagged != v.is_out)
        texts = frame[config.TEXT_COLUMN].astype(str).to_numpy()[wrong].tolist()
        model = scorers[name]
        explanations = model.explain_scope(model.scope_transform(texts), v.flagged[wrong].tolist())
        frames.append(
            pd.DataFrame(
                {
                    "set": name,
                    "id": frame[config.ID_COLUMN].to_numpy()[wrong],
                    "true_label": frame[config.LABEL_COLUMN].to_numpy()[wrong],
                    "flagged_out_of_scope": v.flagged[wrong],
                    "p_out_of_scope": np.round(v.p_out[wrong], 4),
                    "reason": v.reasons[wrong],
                    "top_ngrams": [format_ngrams(row) for row in explanations],
                    "text": frame[config.TEXT_COLUMN].to_numpy()[wrong],
                }
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def review_results(
    scorers: dict[str, Model], sets: dict[str, pd.DataFrame], p_kpo: dict[str, np.ndarray]
) -> dict[str, dict]:
    """For each set: its scorer's review band, the share of postings it flags and the share of the errors it holds
    (the test split's scorer, the held-out model, has a band of its own)."""
    return {
        name: {"band": scorers[name].review_band}
        | review_summary(frame[config.LABEL_COLUMN], p_kpo[name], scorers[name].threshold, scorers[name].review_band)
        for name, frame in sets.items()
    }


def invariance_results(
    model: Model,
    sets: dict[str, pd.DataFrame],
    pool: dict,
    per_posting: int = config.INVARIANCE.per_posting,
    families: tuple[str, ...] = PARAGRAPH_FAMILIES,
) -> list[dict]:
    """The invariance table over the field and challenge sets' postings, plus the clerical settings; with a scope
    model, also how many in-scope postings each edit newly flags out of scope."""
    postings = pd.concat([sets[name] for name in ("field", "challenge") if name in sets], ignore_index=True)
    pairs = pd.concat(
        [perturbed_pairs(postings, pool, per_posting=per_posting, families=families), clerical_pairs(pool)],
        ignore_index=True,
    )
    # Each text is tokenised once for both models (pipeline.analysis): the same numbers in about half the time.
    texts = list(dict.fromkeys([*pairs["original"], *pairs["perturbed"]]))
    # Each text as predict reads it (HTML markup and web links out), so the suite measures what users get.
    read = [plain_text(text) for text in texts]
    analysed = analyse(model, read, with_scope=model.has_scope)
    p_kpo = dict(zip(texts, model.score(analysed.matrix), strict=True))
    flags = (
        dict(zip(texts, scope_of(model, read, model.scope_threshold, analysed)[1], strict=True))
        if model.has_scope
        else None
    )
    return invariance_table(
        pairs,
        lambda batch: np.array([p_kpo[text] for text in batch]),
        model.threshold,
        (lambda batch: np.array([flags[text] for text in batch])) if flags is not None else None,
    )


def model_audit(model: Model, train: pd.DataFrame, lexicon: Lexicon) -> dict:
    """The shortcut audit of the trained model's heaviest features against the training data's frequencies."""
    return audit_pipeline(model.pipeline, in_scope(train), lexicon)


def score_sets(scorers: dict[str, Model], sets: dict[str, pd.DataFrame]) -> dict[str, np.ndarray]:
    """P(KPO) for every row of every set, from the set's scorer; a missing text is scored as an empty one, which
    evaluation counts as it comes (Model.p_kpo refuses it, as a service must not store its verdict)."""
    scored = {}
    for name, frame in sets.items():
        scorer = scorers[name]
        scored[name] = scorer.score(scorer.transform(frame[config.TEXT_COLUMN].fillna("").astype(str).tolist()))
    return scored


def evaluate_sets(
    sets: dict[str, pd.DataFrame],
    p_kpo: dict[str, np.ndarray],
    thresholds: dict[str, float],
    by: tuple[str, ...] | None = None,
) -> dict:
    """Every metric for each named labelled frame from its P(KPO) and its scorer's threshold, sliced by `by`
    (default: the standard slices).

    Explicit `by` columns must exist in every set (`length` needs none); the defaults are used where present.
    """
    results = {}
    for name, frame in sets.items():
        if by is None:
            columns = tuple(c for c in DEFAULT_SLICES if c in frame or derived_slice_available(frame, c))
            # Users' postings in a set beside generated ones get their own figure; one source would only repeat it.
            if config.SOURCE_COLUMN in frame and frame[config.SOURCE_COLUMN].nunique() > 1:
                columns += (config.SOURCE_COLUMN,)
        else:
            columns = tuple(dict.fromkeys(by))  # a column given twice is one slice, and named once
            missing = [c for c in columns if c not in frame and not derived_slice_available(frame, c)]
            if missing:
                derived = f" ({FORM_CLARITY_SLICE!r} needs the form and borderline columns)"
                raise DataError(
                    f"{name} has no column {', '.join(map(repr, missing))} to slice by"
                    + (derived if FORM_CLARITY_SLICE in missing else "")
                    + f"; its columns are: {', '.join(map(repr, frame.columns))}"
                    + (f"; {hint.rstrip()}" if (hint := case_hint(missing, list(frame.columns))) else "")
                )
        results[name] = evaluate_frame(frame, p_kpo[name], thresholds[name], columns)
    return results


def label_scores(sets: dict[str, pd.DataFrame], p_kpo: dict[str, np.ndarray]) -> dict:
    """For the curves: each set's true labels as 0/1 for KPO, with its P(KPO)."""
    return {
        name: ((frame[config.LABEL_COLUMN] == config.POSITIVE_LABEL).to_numpy(), p_kpo[name])
        for name, frame in sets.items()
    }


@dataclass(frozen=True)
class Evaluation:
    """Labelled sets scored: the sets, the model that scored each (held_out.choose_scorers), each set's P(KPO)
    and metrics, and the sets left out with the reason (none unless asked to skip them)."""

    sets: dict[str, pd.DataFrame]
    scorers: dict[str, Model]
    p_kpo: dict[str, np.ndarray]
    results: dict[str, dict]
    skipped: dict[str, str]
    # The whole sets (out-of-scope postings too), the scope model's verdicts and figures where a set has some.
    whole_sets: dict[str, pd.DataFrame]
    scope_verdicts: dict[str, ScopeVerdicts]
    scope: dict[str, dict]


def evaluate_model(
    model: Model,
    sets: dict[str, pd.DataFrame] | None = None,
    by: tuple[str, ...] | None = None,
    load_held_out: Callable[[], Model | None] = lambda: None,
    skip_unscorable: bool = False,
    threshold: float | None = None,
) -> Evaluation:
    """Score every set and compute every metric, sliced by `by` (see `evaluate_sets`): the one path from a model
    to its metrics, for `bpo-kpo evaluate` and `bpo-kpo report`. Default sets: `all_evaluation_sets()`. The
    BPO/KPO metrics read a set's BPO and KPO postings; its out-of-scope postings (NEITHER), where it has some,
    give the scope figures. A set the model learnt from is scored by the held-out model beside it
    (`load_held_out`), or, when that may not either, refused with a DataError, or left out with the reason when
    `skip_unscorable`. `threshold` replaces each scorer's tuned one: the cut a service deploys, measured."""
    # A file of one's own may spell its borderline flags "false" or "no", which as text are all true.
    whole = all_evaluation_sets() if sets is None else {name: with_flags(frame) for name, frame in sets.items()}
    chosen = choose_scorers(model, whole, load_held_out)
    scorers = chosen.by_set if skip_unscorable else require_all(chosen)
    whole = {name: frame for name, frame in whole.items() if name in scorers}
    # A set of out-of-scope postings only has scope figures and no BPO/KPO metrics.
    bpo_kpo = {name: in_scope(frame) for name, frame in whole.items()}
    sets = {name: frame for name, frame in bpo_kpo.items() if len(frame)}
    p_kpo = score_sets(scorers, sets)
    thresholds = {name: scorers[name].threshold if threshold is None else threshold for name in sets}
    results = evaluate_sets(sets, p_kpo, thresholds, by)
    for name in sets:
        results[name]["scored_by"] = scorer_summary(scorers[name])
    verdicts = scope_verdicts(scorers, whole)
    return Evaluation(sets, scorers, p_kpo, results, chosen.refused, whole, verdicts, scope_results(whole, verdicts))


def evaluation_document(evaluation: Evaluation) -> dict[str, dict]:
    """Every set's figures as `evaluate` writes them: its BPO/KPO metrics and, where it has out-of-scope
    postings and a scope model, its scope figures under "scope"."""
    return {
        name: evaluation.results.get(name, {}) | ({"scope": evaluation.scope[name]} if name in evaluation.scope else {})
        for name in evaluation.whole_sets
        if name in evaluation.results or name in evaluation.scope
    }


def evaluation_warnings(evaluation: Evaluation) -> list[str]:
    """What an evaluation left out, and why: sets no model here may score honestly, and out-of-scope postings
    that no scope model scored."""
    warnings = [f"{name} left out: {reason}" for name, reason in evaluation.skipped.items()]
    for name, frame in evaluation.whole_sets.items():
        out_of_scope = int((frame[config.LABEL_COLUMN] == config.NEITHER).sum())
        if out_of_scope and name not in evaluation.scope:
            warnings.append(f"{out_of_scope} out-of-scope postings of {name} left out: the model has no scope model")
    return warnings


def nothing_evaluated(evaluation: Evaluation) -> str:
    """Why no set was evaluated: each reason once, with the sets it left out. One first reason stood for all
    (`test left out: cannot evaluate test: ...`), and the field and challenge sets went unmentioned."""
    sets_by_reason: dict[str, list[str]] = {}
    for name, reason in evaluation.skipped.items():
        sets_by_reason.setdefault(reason.removeprefix(f"cannot evaluate {name}: "), []).append(name)
    if not sets_by_reason:  # no set was left out: the one the model could not read, or none with postings
        return next(iter(evaluation_warnings(evaluation)), "no BPO, KPO or out-of-scope posting to evaluate")
    return "; ".join(f"{_listed(names)} left out: {reason}" for reason, names in sets_by_reason.items())


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def write_evaluation_plots(folder: Path, evaluation: Evaluation, ngrams: dict) -> None:
    """The plots of an evaluation, with the model's top n-grams (`Model.top_ngrams`), and the scope plot where
    a scope model scored out-of-scope postings (a recall curve needs some)."""
    from pipeline.plots import scope_curve, write_plots

    scope = {
        name: scope_curve(
            v.is_out, v.p_out, v.reasons == config.SCOPE_REASON_TEXT, evaluation.scorers[name].scope_threshold
        )
        for name, v in evaluation.scope_verdicts.items()
        if v.is_out.any()
    }
    write_plots(folder, evaluation.results, label_scores(evaluation.sets, evaluation.p_kpo), ngrams, scope)


@dataclass(frozen=True)
class Report:
    """Everything `bpo-kpo report` writes: metrics.json's document, the error tables and the top n-grams."""

    evaluation: Evaluation
    document: dict
    errors: pd.DataFrame
    scope_errors: pd.DataFrame
    ngrams: dict
    # False when the training split changed since training, so errors.csv lacks the validation folds.
    has_validation: bool


def build_report(model: Model, load_held_out: Callable[[], Model | None] = lambda: None, n_jobs: int = 1) -> Report:
    """Evaluate the project's evaluation sets, the review band, invariance, scope and the shortcut audit, and list
    the mistakes (the validation folds' too, when the training data is still the model's own). A set the model
    learnt from (the test split, for make train's model) is scored by the held-out model (`load_held_out`)."""
    from pipeline.audit import load_lexicon
    from pipeline.invariance import load_perturbations

    evaluation = evaluate_model(model, None, None, load_held_out)
    sets, scorers, p_kpo = evaluation.sets, evaluation.scorers, evaluation.p_kpo
    everything, verdicts = evaluation.whole_sets, evaluation.scope_verdicts
    results = {"validation": model.metrics["validation_grouped_cv"]} | evaluation.results
    for name, review in review_results(scorers, sets, p_kpo).items():
        results[name]["review"] = review
    learnt = training_data(model)
    document = {
        "sets": results,
        "scope": evaluation.scope,
        "invariance": invariance_results(model, sets, load_perturbations()),
        "model_shortcut_audit": model_audit(model, learnt, load_lexicon()),
    }
    validation = validation_set(model, learnt, n_jobs=n_jobs)
    if validation is None:
        errors = error_table(scorers, sets, p_kpo)
    else:
        # Each slice of validation is a service area (or form) that the scoring fold model never saw: where the model
        # does not carry over to new work.
        frames, scores = {"validation": validation[0]}, {"validation": validation[1]}
        slices = evaluate_sets(frames, scores, {"validation": model.threshold})["validation"]["slices"]
        results["validation"] = results["validation"] | {"slices": slices}
        errors = error_table({"validation": model} | scorers, frames | sets, scores | p_kpo)
    scope_errors = scope_error_table(scorers, everything, verdicts)
    return Report(evaluation, document, errors, scope_errors, model.top_ngrams(), validation is not None)


def scorer_summary(scorer: Model) -> dict:
    """Which model scored a set: its file, SHA-256 and the files it was trained on (metrics.json keeps it)."""
    return {
        "model_file": str(scorer.path.name) if scorer.path else None,
        "model_sha256": scorer.metadata.get("model_sha256"),
        "trained_on": [entry["path"] for entry in training_files(scorer.metadata)],
    }


def training_data(model: Model) -> pd.DataFrame:
    """The files the model was trained on, read again, as its metadata names them (relative to the project);
    the training split when it names none or one is gone (validation_set then finds the hash changed)."""
    paths = tuple(training_path(entry) for entry in training_files(model.metadata))
    if not paths or not all(path.is_file() for path in paths):
        return read_split(config.TRAIN_PATH)
    return read_splits(paths)


def validation_set(model: Model, train: pd.DataFrame, n_jobs: int = 1) -> tuple[pd.DataFrame, np.ndarray] | None:
    """The training data's BPO/KPO postings with the out-of-fold P(KPO) its validation metrics came from, or
    None if `train` (the files as read_split gives them) is not what the model was trained on.

    The scores are not stored with the model, so they are recomputed with the recorded parameters, folds and
    calibration sigmoid; that is only faithful for the very data the model was trained on, checked by its hash.
    """
    from dataclasses import fields

    from pipeline.dataset import data_hash
    from pipeline.train import CALIBRATION_SCHEME, out_of_fold_scores, scheme_splits, validation_p_kpo

    frame = in_scope(train)
    if data_hash(frame) != model.metadata.get("training_data", {}).get("sha256"):
        return None
    recorded = model.metadata.get("params", {})
    known = {f.name for f in fields(config.TrainParams)}
    # JSON stores tuples as lists; the parameters go back into a frozen dataclass as they were.
    params = config.TrainParams(
        **{k: tuple(v) if isinstance(v, list) else v for k, v in recorded.items() if k in known}
    )
    splits = scheme_splits(frame, CALIBRATION_SCHEME, params.cv_folds, params.seed)
    scores = out_of_fold_scores(frame, params, splits, n_jobs=n_jobs)
    return frame, validation_p_kpo(scores, model.metadata.get("calibration", {}).get("sigmoid"))


def error_table(scorers: dict[str, Model], sets: dict[str, pd.DataFrame], p_kpo: dict[str, np.ndarray]) -> pd.DataFrame:
    """Misclassified rows of every set in one list, most confident mistakes first, with the full text and the
    n-grams that drove each one in the set's scorer."""
    frames = []
    for name, frame in sets.items():
        model = scorers[name]
        scores = np.asarray(p_kpo[name], dtype=float)  # float64, so rounding gives 0.9999, not 0.99989998
        predicted = labels_at(scores, model.threshold)
        wrong = np.flatnonzero(predicted != frame[config.LABEL_COLUMN].to_numpy())
        if not len(wrong):
            continue
        rows = frame.iloc[wrong]
        features = model.transform(rows[config.TEXT_COLUMN].tolist())
        explanations = model.explain(features, list(predicted[wrong]), config.EXPLAIN_NGRAMS)
        frames.append(
            pd.DataFrame(
                {
                    "set": name,
                    "id": rows[config.ID_COLUMN].to_numpy(),
                    "true_label": rows[config.LABEL_COLUMN].to_numpy(),
                    "predicted": predicted[wrong],
                    "p_kpo": np.round(scores[wrong], 4),
                    "confidence": np.round(np.maximum(scores[wrong], 1 - scores[wrong]), 4),
                    "area": rows.get(config.AREA_COLUMN, pd.Series([""] * len(rows))).to_numpy(),
                    "borderline": rows.get(config.BORDERLINE_COLUMN, pd.Series([""] * len(rows))).to_numpy(),
                    "top_ngrams": [format_ngrams(row) for row in explanations],
                    "text": rows[config.TEXT_COLUMN].to_numpy(),
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=list(ERROR_COLUMNS))
    table = pd.concat(frames, ignore_index=True)
    # One order for all sets: a reviewer reads the most confident mistakes first, wherever they come from.
    return table.sort_values("confidence", ascending=False, kind="stable")[list(ERROR_COLUMNS)].reset_index(drop=True)


def format_model_audit(audit: dict) -> str:
    """The model audit as text: how many of the heaviest features are function terms, and any shortcut."""
    lines = [
        f"model shortcut audit: {audit['function_terms_in_top_k']} of the {audit['top_k']} heaviest features are "
        f"function terms; {audit['n_shortcuts']} are non-lexicon features with a class ratio above the limit"
    ]
    lines += [
        f"  {row['feature']:28} weight {row['weight']:+.3f} ratio {row['ratio']:.1f}" for row in audit["shortcuts"][:15]
    ]
    return "\n".join(lines)


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def format_scope(results: dict[str, dict]) -> str:
    """The scope figures as text, one line per set."""
    # As wide as the longest set name: evaluate names a set by its path.
    width = max([10, *map(len, results)])
    lines = [f"scope: {'set':<{width}}  {'out of scope caught':>19}  {'in-scope flagged':>17}"]
    for name, r in results.items():
        recall, flagged = (_share(r[key]) for key in ("out_of_scope_recall", "in_scope_flagged_share"))
        caught, kept = f"{recall} of {r['n_out_of_scope']}", f"{flagged} of {r['n_in_scope']}"
        lines.append(f"       {name:<{width}}  {caught:>19}  {kept:>17}")
    return "\n".join(lines)
