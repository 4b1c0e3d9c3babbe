"""Render models/MODEL_CARD.md from the metadata, metrics.json and the error analysis; no number is typed twice."""

from __future__ import annotations

import math

import pandas as pd

from pipeline import config
from pipeline.evaluate import (
    FORM_CLARITY_SEPARATOR,
    FORM_CLARITY_SLICE,
    RELIABILITY_BINS,
    borderline_accuracies,
    form_clarity_value,
)
from pipeline.held_out import training_files

SET_DESCRIPTIONS = {
    "validation": "out-of-fold scores of {folds}-fold cross-validation that holds out whole service areas and forms",
    "test": "held-out role families, generated (in-distribution), scored by the model fitted without them",
    "field": "hand-written postings, never trained on (our stand-in for real postings)",
    "challenge": "postings written apart from the generator in five registers, never trained or calibrated on",
}


def parameter_value(value) -> str:
    """A parameter as the card's table shows it: a long list (the 1,350 masked words) by its length and first few
    items, which printed whole made one line of some 20,000 characters; the metadata keeps it whole."""
    if isinstance(value, list | tuple) and len(value) > config.CARD_LIST_ITEMS:
        shown = ", ".join(map(str, value[: config.CARD_LIST_ITEMS]))
        return f"{len(value):,} items ({shown}, ...; all in the model's metadata)"
    return str(value)


def training_rows(data: dict) -> str:
    """What the model learnt from, by source: users' postings added through data/raw/labelled were once counted
    among the generated ones."""
    if (data.get("sources") or {}).get(config.SOURCE_SYNTHETIC) == data["rows"]:
        return f"{data['rows']:,} generated postings"
    return f"{data['rows']:,} postings: {', '.join(source_parts(data))}"


def source_parts(data: dict) -> list[str]:
    """A model's training rows counted by source, generated first."""
    sources = dict(data.get("sources") or {})
    generated = sources.pop(config.SOURCE_SYNTHETIC, 0)
    written = sources.pop(config.SOURCE_WRITTEN, 0)
    users = sources.pop(config.SOURCE_USER, 0)
    parts = [f"{generated:,} generated"] if generated else []
    parts += [f"{written:,} written by other hands (`data/raw/written/`)"] if written else []
    parts += [f"{users:,} of users' own (`data/raw/labelled/`)"] if users else []
    rest = data["rows"] - generated - written - users
    parts += [f"{rest:,} from files that name no source"] if rest else []
    return parts


def held_out_note(metadata: dict, document: dict) -> str:
    """Which model scored the test split, as the report recorded it, and what that means for its figures."""
    test = document["sets"].get("test", {})
    scorer = test.get("scored_by")
    if not scorer:
        return "- No test split was scored."
    if scorer["model_sha256"] == metadata.get("model_sha256"):
        return (
            "- Split by role family: no generated test posting's family or title is among the generated training "
            "postings."
        )
    band = test.get("review", {}).get("band")
    return (
        "- Split by role family: no generated test posting's family or title is among the generated training "
        "postings (the written postings' hands named jobs as they chose: a title of theirs may be a generated one). "
        "The test split's "
        f"figures come from `{scorer['model_file']}` (SHA-256 `{str(scorer['model_sha256'])[:12]}…`), fitted by "
        "the same procedure on the training split alone, at its own threshold "
        f"{test['threshold']:.2f}{'' if band is None else f' and review band ±{band:.2f}'} (the table below gives "
        "the shipped model's); the shipped model is then fitted on both splits, so it "
        "learns from every role family. The test figure estimates how the procedure does on role families it "
        "never saw; the field and challenge sets, never trained on, are scored by the shipped model itself."
    )


def _f(value, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def metric_rows(metrics: dict[str, dict]) -> list[str]:
    rows = [
        "| set | n | accuracy | macro-F1 | BPO F1 | KPO F1 | ROC-AUC | avg precision | log loss | Brier | ECE |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, m in metrics.items():
        rows.append(
            f"| {name} | {m['n']} | {_f(m['accuracy'])} | {_f(m['macro_f1'])} | {_f(m['per_class']['BPO']['f1'])} | "
            f"{_f(m['per_class']['KPO']['f1'])} | {_f(m['roc_auc'])} | {_f(m['average_precision'])} | "
            f"{_f(m['log_loss'])} | {_f(m['brier'])} | {_f(m['ece'])} |"
        )
    return rows


def slice_rows(metrics: dict[str, dict]) -> list[str]:
    rows = ["| set | slice | value | n | accuracy | macro-F1 |", "|---|---|---|---|---|---|"]
    for name, m in metrics.items():
        for column, slices in m.get("slices", {}).items():
            for value, sub in slices.items():
                rows.append(
                    f"| {name} | {column} | {value} | {sub['n']} | {_f(sub['accuracy'])} | {_f(sub['macro_f1'])} |"
                )
    return rows


def ci_text(m: dict) -> str:
    """Wilson's interval, and where the set comes in groups, the one that allows for postings of a group being right
    or wrong together (evaluate.group_interval)."""
    interval = m.get("accuracy_ci95")
    text = f"{interval[0]:.3f}–{interval[1]:.3f}" if interval else "n/a"
    grouped = m.get("accuracy_ci95_by_group")
    if grouped:
        text += f"; {grouped[0]:.3f}–{grouped[1]:.3f} allowing for its {m['n_groups']} groups (role families)"
    return text


def honesty_rows(metrics: dict[str, dict]) -> list[str]:
    rows = [
        "| set | n | accuracy (95% CI) | clear | borderline | ECE | wrong at ≥ 0.97 | beyond 0.99 "
        "| review band holds |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, m in metrics.items():
        near, clear = borderline_accuracies(m)
        review = m.get("review", {})
        rows.append(
            f"| {name} | {m['n']} | {_f(m['accuracy'])} ({ci_text(m)}) | {_f(clear)} | {_f(near)} | {_f(m['ece'])} | "
            f"{_f(m.get('wrong_at_high_confidence_share'))} | {_f(m.get('beyond_0_99_share'))} | "
            f"{_f(review.get('errors_caught_share'))} of errors |"
        )
    return rows


def register_lines(metrics: dict) -> list[str]:
    """The challenge set by register, clear / borderline accuracy, as one paragraph (none without the slice)."""
    rows = metrics.get("slices", {}).get(FORM_CLARITY_SLICE)
    if not rows:
        return []
    registers = sorted({value.rsplit(FORM_CLARITY_SEPARATOR, 1)[0] for value in rows})
    pairs = [
        f"{register} {_f(rows.get(form_clarity_value(register, 'clear'), {}).get('accuracy'))} / "
        f"{_f(rows.get(form_clarity_value(register, 'borderline'), {}).get('accuracy'))}"
        for register in registers
    ]
    return [f"Challenge accuracy by register, clear / borderline: {', '.join(pairs)}.", ""]


def invariance_rows(table: list[dict]) -> list[str]:
    scope = any("newly_out_of_scope_share" in r for r in table)
    rows = [
        "| perturbation family | n | flipped | mean \\|ΔP(KPO)\\| | max \\|ΔP(KPO)\\| |"
        + (" newly out of scope |" if scope else ""),
        "|---|---|---|---|---|" + ("---|" if scope else ""),
    ]
    rows += [
        f"| {r['family']} | {r['n']} | {r['flipped_share']:.1%} | {r['mean_abs_delta']:.3f} "
        f"| {r['max_abs_delta']:.3f} |" + (f" {r['newly_out_of_scope_share']:.1%} |" if scope else "")
        for r in table
    ]
    return rows


def untitled_validation_lines(shift: dict | None) -> list[str]:
    """The title-removed edit on held-out generated postings, when train measured it."""
    if not shift:
        return []
    return [
        f"The same title removal on the training postings, each scored by a fold model that never saw its service "
        f"area or form: {shift['flipped_share']:.1%} of {shift['n']:,} labels flip, mean |ΔP(KPO)| "
        f"{shift['mean_abs_delta']:.3f}. It needs neither evaluation set, so a change can be judged by it without "
        "tuning to them.",
        "",
    ]


def scope_rows(scope: dict[str, dict]) -> list[str]:
    rows = [
        "| set | out of scope | flagged (95% CI) | in scope | flagged (95% CI) |",
        "|---|---|---|---|---|",
    ]
    for name, r in scope.items():
        out_low, out_high = r["out_of_scope_recall_ci95"] or (0, 0)
        in_low, in_high = r["in_scope_flagged_share_ci95"] or (0, 0)
        rows.append(
            f"| {name} | {r['n_out_of_scope']} | {_f(r['out_of_scope_recall'])} ({out_low:.3f}–{out_high:.3f}) | "
            f"{r['n_in_scope']} | {_f(r['in_scope_flagged_share'])} ({in_low:.3f}–{in_high:.3f}) |"
        )
    return rows


def scope_training_line(scope_metadata: dict | None) -> list[str]:
    """What the scope model learnt from, in one paragraph, when there is one."""
    if not scope_metadata:
        return []
    rows = scope_metadata["training_data"]["rows"]
    ratio = scope_metadata.get("scope", {}).get("in_scope_per_out_of_scope")
    share = (
        f", every BPO/KPO posting written by other hands or a user, and generated ones up to {ratio:g} for each in all"
        if ratio
        else ""
    )
    # The scope model's metadata counts its sources since the written postings joined: older ones do not.
    by_source = source_parts(scope_metadata["training_data"]) if scope_metadata["training_data"].get("sources") else []
    counted = f" ({', '.join(by_source)})" if by_source else ""
    return [f"It learnt from {rows:,} postings{counted}: every out-of-scope posting{share}.", ""]


def render_model_card(
    metadata: dict, document: dict, errors: pd.DataFrame, ngrams: dict, scope_metadata: dict | None = None
) -> str:
    """The model card as Markdown, from the metadata (the scope model's too, when there is one) and metrics.json's
    sets, invariance table and model audit."""
    metrics: dict[str, dict] = document["sets"]
    audit = document.get("model_shortcut_audit", {})
    params = metadata["params"]
    versions = metadata["versions"]
    calibration = metadata.get("calibration", {})
    data = metadata["training_data"]
    files = ", ".join(f"`{entry['path']}`" for entry in training_files(metadata))
    review = metadata.get("review_on_validation", {})
    lines = [
        "# Model card: bpo-kpo",
        "",
        "_Generated by `make train` from `models/model.joblib.json` and `models/metrics.json`; do not edit by hand._",
        "",
        "## What it does",
        "",
        "Reads the text of a job posting and returns P(KPO) and P(BPO), and a label by a tuned threshold.",
        "",
        "- **BPO** (business process outsourcing): front-office, customer-facing and administrative work done to "
        "set standards, scripts and guidelines: customer care and call centres, technical support, HR, "
        "recruitment, advertising and marketing execution, quality assurance, the administrative back office.",
        "- **KPO** (knowledge process outsourcing): work whose output is a professional judgment within a "
        "conceptual framework, by specialists: legal, research and development, data analytics, financial "
        "advisory and analysis, consultancy, medical specialists, technical analysis and design.",
        "- Labels follow the function of the work and how it is done, never seniority (see `data/README.md`).",
        "",
        "## Intended use",
        "",
        "- Sorting and routing job postings, and sizing BPO versus KPO demand, with a person reviewing the postings "
        "flagged `needs_review`.",
        "- Not for: work that is neither BPO nor KPO (care, trades, driving, hospitality, retail floor, teaching "
        "children): the scope model flags it `out_of_scope`, and its BPO/KPO label should not be used; postings "
        "not in English (flagged as not recognisable when the vocabulary knows too few of their words); "
        "decisions about individual people.",
        "",
        "## Training data",
        "",
        f"- {training_rows(data)} ({files}, SHA-256 `{data['sha256'][:16]}…`); the generated ones are built from "
        "the project's hand-written catalogue of service areas; see `data/README.md`.",
        held_out_note(metadata, document),
        "",
        "## Model and parameters",
        "",
        "One scikit-learn `Pipeline`: `TfidfVectorizer` then `LogisticRegression`"
        + (
            ": the average of the regressions fitted on the folds that hold out whole service areas and forms, "
            f"calibrated by a {calibration.get('method')} (Platt) fitted on their pooled out-of-fold scores and "
            "folded into the coefficients. The average scores new text on the scale the sigmoid was fitted on, "
            "where one regression refitted on every row would score familiar text further out and claim more "
            "certainty than held-out text earns."
            if calibration.get("method", "none") != "none"
            else "."
        )
        + (
            " The folds fit no intercept, so the sigmoid alone sets where text with no word the model reads scores "
            f"(P(KPO) {1 / (1 + math.exp(calibration['sigmoid']['b'])):.2f}), toward which an added paragraph dilutes "
            "a posting's evidence, since every row has unit length."
            if params.get("fit_intercept") is False and calibration.get("sigmoid")
            else ""
        )
        + (
            f" The vectorizer reads a fixed vocabulary: the n-grams at least {params['min_class_ratio']:g} times more "
            "common in one class's postings than in the other's (`min_class_ratio`). A word both classes use alike "
            "would carry no weight, yet count in each row's unit length and shrink the words that matter."
            if params.get("min_class_ratio", 1) > 1
            else ""
        ),
        "",
        "| parameter | value |",
        "|---|---|",
        *[f"| {key} | {parameter_value(value)} |" for key, value in sorted(params.items())],
        f"| threshold (P(KPO) for KPO) | {metadata['threshold']:.2f} |",
        f"| review band | ±{metadata['review_band']:.2f} |",
        "",
        "The threshold maximises macro-F1 on out-of-fold validation scores. The review band is the narrowest band "
        f"around it that holds {config.REVIEW_ERROR_SHARE:.0%} of the validation errors: on validation it flags "
        f"{_f(review.get('flagged_share'))} of postings and holds {_f(review.get('errors_caught_share'))} of "
        "the errors.",
        "",
        "## Metrics",
        "",
        *[
            f"- **{name}**: {SET_DESCRIPTIONS.get(name, 'labelled file').format(folds=params['cv_folds'])}"
            for name in metrics
        ],
        "",
        *metric_rows(metrics),
        "",
        "Confusion matrices (rows true, columns predicted, order BPO, KPO): "
        + "; ".join(f"{name} {m['confusion_matrix']['matrix']}" for name, m in metrics.items()),
        "",
        "### The honest figures",
        "",
        "Text we write ourselves is an easy test: the generated test split and even the hand-written sets score "
        "higher than real postings do. Judge the model by the challenge set, by how often it is wrong while "
        "sure, and by the invariance table below, not by the in-distribution accuracy.",
        "",
        "Neither hand-written set is an untouched holdout. No model trains or calibrates on them, but changes to "
        "the generator and the parameters were kept or dropped partly on their figures (the grid's edges at C 0.25 "
        "and min_df 5, the masked words, the vocabulary cut, the scope rules: each measurement is in the data "
        "card), so their figures are those of a chosen model and lean optimistic. The untouched test is real "
        "postings kept outside this repository.",
        "",
        *honesty_rows({k: v for k, v in metrics.items() if k != "validation"}),
        "",
        *register_lines(metrics.get("challenge", {})),
        "### Out of scope",
        "",
        "A second plain Pipeline beside the model (`model.scope.joblib`) scores P(out of scope): work that is "
        "neither BPO nor KPO (care, trades, driving, hospitality, retail floor, teaching children...). Text the "
        "vocabulary barely knows (gibberish, another language, a few characters) is out of scope by rule. The "
        "BPO/KPO label is given either way; `out_of_scope` says whether to trust it.",
        "",
        *scope_training_line(scope_metadata),
        *scope_rows(document.get("scope", {})),
        "",
        "`plots/scope_threshold.png` shows what every other scope threshold would flag on these sets, and "
        "`errors_scope.csv` the n-grams behind each wrong verdict (`predict --explain` gives them for any posting).",
        "",
        "### Shortcut audit of the model",
        "",
        f"{audit.get('function_terms_in_top_k', 'n/a')} of the {audit.get('top_k', 'n/a')} heaviest features are "
        "function terms of the reviewed lexicon (`data/raw/catalogue/function_terms.json`); "
        f"{audit.get('n_shortcuts', 'n/a')} are non-lexicon features whose frequency differs more than threefold "
        "between the classes in the training data"
        + (
            ": " + ", ".join(f"`{r['feature']}`" for r in audit.get("shortcuts", [])[:20])
            if audit.get("shortcuts")
            else ""
        )
        + ".",
        "",
        "### Invariance",
        "",
        "Label-neutral edits of the field and challenge postings (paragraphs written for this test only; seniority "
        "swaps and the title removed or alone, on the postings that record a title, the challenge set's; the same "
        "clerical duties in six knowledge settings): the share of "
        "labels that flip, how far P(KPO) moves and, with a scope model, the share of these in-scope postings the "
        "edit newly flags out of scope.",
        "",
        *invariance_rows(document.get("invariance", [])),
        "",
        *untitled_validation_lines(metadata.get("validation_invariance", {}).get("title_removed")),
        "### Calibration",
        "",
        f"Expected calibration error on validation before calibration {_f(calibration.get('validation_ece_before'))}, "
        f"after {_f(calibration.get('validation_ece_after'))}. Per set ({RELIABILITY_BINS} equal-width bins): "
        + ", ".join(f"{name} {_f(m['ece'])}" for name, m in metrics.items())
        + ". See `plots/reliability_diagram.png`.",
        "",
        "### Slices",
        "",
        *slice_rows({k: v for k, v in metrics.items() if v.get("slices")}),
        "",
        "## Known failure modes",
        "",
    ]
    if len(errors):
        lines.append(
            f"{len(errors)} misclassified rows across the evaluation sets, validation (out of fold) included "
            "(`errors.csv`). Most confident:"
        )
        lines.append("")
        for _, row in errors.sort_values("confidence", ascending=False).head(8).iterrows():
            lines.append(
                f"- [{row['set']}] {row['area']}: true {row['true_label']}, predicted {row['predicted']} "
                f"(P(KPO) {row['p_kpo']:.2f}); driven by {row['top_ngrams'] or 'no single n-gram'}"
            )
    else:
        lines.append("No misclassified rows in the evaluation sets.")
    lines += [
        "",
        "Expect the most errors on the grey zone the label policy decides: managers of BPO functions, sales and "
        "account roles, accountants and auditors, claims examiners, IT operations versus development, clinicians.",
        "",
        "## Top n-grams",
        "",
        "| toward BPO | weight | toward KPO | weight |",
        "|---|---|---|---|",
        *[
            f"| {b[0]} | {b[1]:+.2f} | {k[0]} | {k[1]:+.2f} |"
            for b, k in zip(ngrams[config.BPO], ngrams[config.KPO], strict=True)
        ],
        "",
        "## Versions and file",
        "",
        "| | |",
        "|---|---|",
        *[f"| {name} | {version} |" for name, version in versions.items()],
        f"| model file | `{metadata['model_file']}` ({metadata['format']}) |",
        f"| SHA-256 | `{metadata['model_sha256']}` |",
        f"| created | {metadata['created_at']} |",
        "",
        "## How to load it",
        "",
        "```python",
        "from pipeline import load_model  # checks the checksum and the scikit-learn version first",
        "model = load_model('models/model.joblib')",
        "model.predict_proba(['Process supplier invoices in SAP'])",
        "",
        "import joblib  # or, with only scikit-learn and joblib installed",
        "joblib.load('models/model.joblib').predict_proba(['Process supplier invoices in SAP'])",
        "```",
        "",
    ]
    return "\n".join(lines)
