"""The invariance suite: how far label-neutral edits of a posting move its label and P(KPO)."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline import config
from pipeline.errors import DataError
from pipeline.files import read_json

PARAGRAPH_FAMILIES = (
    "corporate_qualifications",
    "company_blurbs",
    "working_conditions",
    "agency_application",
    "benefits_eeo",
    # Last, so that the families above draw the same paragraphs as before it was added.
    "web_links",
)
SENIORITY_SWAPS = (
    ("junior", "Junior {}"),
    ("senior", "Senior {}"),
    ("lead", "Lead {}"),
    ("head_of", "Head of {}"),
    ("manager", "{} Manager"),
)
# The baseline workplace of the clerical templates: the same duties anywhere else must keep their label.
BASELINE_SETTING = "a regional office"
COMPANY_NAMES = ("Northgate Holdings", "Alder & Finch", "Meridian Group", "Tallis Partners", "Corvane Ltd")


def load_perturbations(path: Path = config.PERTURBATIONS_PATH) -> dict:
    """The paragraphs written for the invariance suite only; the generator never reads them."""
    data = read_json(path, "perturbation pool")
    missing = [k for k in (*PARAGRAPH_FAMILIES, "clerical_templates", "settings") if not data.get(k)]
    if missing:
        raise DataError(f"perturbation pool {path} lacks {', '.join(missing)}")
    return data


def perturbed_pairs(
    postings: pd.DataFrame,
    pool: dict,
    seed: int = config.INVARIANCE.seed,
    per_posting: int = config.INVARIANCE.per_posting,
    families: tuple[str, ...] = PARAGRAPH_FAMILIES,
) -> pd.DataFrame:
    """Every (family, original text, perturbed text) pair the suite scores.

    Each paragraph family of `families` (keys of `pool`) appends `per_posting` paragraphs drawn for each posting;
    seniority and title families need the posting's title (`title` column) on the first line of its text, and
    apply to the rows that have it.
    """
    rng = random.Random(seed)
    rows: list[dict] = []
    texts = postings[config.TEXT_COLUMN].astype(str).tolist()
    titles = (
        postings[config.TITLE_COLUMN].fillna("").astype(str).tolist()
        if config.TITLE_COLUMN in postings
        else [""] * len(texts)
    )
    for family in families:
        for index, full in enumerate(texts):
            for paragraph in rng.sample(pool[family], min(per_posting, len(pool[family]))):
                paragraph = paragraph.replace("{company}", rng.choice(COMPANY_NAMES))
                rows.append({"family": family, "row": index, "original": full, "perturbed": f"{full}\n\n{paragraph}"})
    for index, (title, full) in enumerate(zip(titles, texts, strict=True)):
        body = without_title(full, title)
        if body is None:
            continue
        for name, pattern in SENIORITY_SWAPS:
            rows.append({"family": f"seniority_{name}", "row": index, "original": full,
                         "perturbed": _with_title(pattern.format(_strip_seniority(title)), body)})  # fmt: skip
        rows.append({"family": "title_removed", "row": index, "original": full, "perturbed": body})
        rows.append({"family": "title_alone", "row": index, "original": full, "perturbed": title})
    return pd.DataFrame(rows, columns=["family", "row", "original", "perturbed"])


def clerical_pairs(pool: dict) -> pd.DataFrame:
    """The same clerical duties at a plain office and in each knowledge setting (court, hospital, bank...)."""
    rows = []
    for number, template in enumerate(pool["clerical_templates"]):
        original = template.replace("{setting}", BASELINE_SETTING)
        for setting, phrase in sorted(pool["settings"].items()):
            rows.append({"family": f"clerical_at_{setting}", "row": number, "original": original,
                         "perturbed": template.replace("{setting}", phrase)})  # fmt: skip
    return pd.DataFrame(rows, columns=["family", "row", "original", "perturbed"])


def invariance_table(
    pairs: pd.DataFrame,
    p_kpo: Callable[[list[str]], np.ndarray],
    threshold: float,
    out_of_scope: Callable[[list[str]], np.ndarray] | None = None,
) -> list[dict]:
    """Per family: pairs scored, share whose label flips, mean and largest |ΔP(KPO)|; with `out_of_scope` (the
    scope flag of each text), also the share of in-scope postings the edit newly flags out of scope."""
    originals = pairs["original"].unique().tolist()
    base = dict(zip(originals, p_kpo(originals), strict=True))
    perturbed = p_kpo(pairs["perturbed"].tolist())
    before = pairs["original"].map(base).to_numpy()
    if out_of_scope is not None:
        flagged = dict(zip(originals, out_of_scope(originals), strict=True))
        flagged_before = pairs["original"].map(flagged).to_numpy(dtype=bool)
        flagged_after = np.asarray(out_of_scope(pairs["perturbed"].tolist()), dtype=bool)
    table = []
    for family in dict.fromkeys(pairs["family"]):
        mask = (pairs["family"] == family).to_numpy()
        row = {"family": family} | label_shift(before[mask], perturbed[mask], threshold)
        if out_of_scope is not None:
            row["newly_out_of_scope_share"] = float((flagged_after[mask] & ~flagged_before[mask]).mean())
        table.append(row)
    return table


def label_shift(before: np.ndarray, after: np.ndarray, threshold: float) -> dict:
    """Pairs scored, share whose label flips at `threshold`, mean and largest |ΔP(KPO)| between two scorings."""
    delta = np.abs(np.asarray(after) - np.asarray(before))
    flipped = (np.asarray(after) >= threshold) != (np.asarray(before) >= threshold)
    return {
        "n": len(delta),
        "flipped_share": float(flipped.mean()),
        "mean_abs_delta": float(delta.mean()),
        "max_abs_delta": float(delta.max()),
    }


def without_title(text: str, title: str) -> str | None:
    """The posting without its title line, or None when the text does not start with the title on a line."""
    if not title or not text.startswith(title + "\n"):
        return None
    return text[len(title) + 1 :]


def failing_families(
    table: list[dict], params: config.InvarianceParams = config.INVARIANCE, guard: bool = False
) -> list[dict]:
    """Families over the target limits (or, with `guard`, over the looser guard of flips and P(KPO) shifts; the
    scope limit is one for both); reported-only ones excepted."""
    max_flipped = params.guard_flipped_share if guard else params.max_flipped_share
    max_delta = params.guard_mean_abs_delta if guard else params.max_mean_abs_delta
    return [
        row
        for row in table
        if row["family"] not in params.reported_only
        and (
            row["flipped_share"] > max_flipped
            or row["mean_abs_delta"] > max_delta
            or row.get("newly_out_of_scope_share", 0.0) > params.max_newly_out_of_scope_share
        )
    ]


def format_table(table: list[dict], params: config.InvarianceParams = config.INVARIANCE) -> str:
    scope = any("newly_out_of_scope_share" in row for row in table)
    lines = [
        f"invariance (label-neutral edits; limits: flips <= {params.max_flipped_share:.0%}, "
        f"mean |dP(KPO)| <= {params.max_mean_abs_delta:.2f}"
        + (f", newly out of scope <= {params.max_newly_out_of_scope_share:.0%}):" if scope else "):"),
        f"  {'family':32} {'n':>6} {'flipped':>8} {'mean|dP|':>9} {'max|dP|':>8}"
        + (f" {'new OOS':>8}" if scope else ""),
    ]
    failing = {row["family"] for row in failing_families(table, params)}
    for row in table:
        mark = (
            "  OVER LIMIT"
            if row["family"] in failing
            else ("  (reported only)" if row["family"] in params.reported_only else "")
        )
        newly = f" {row['newly_out_of_scope_share']:8.1%}" if "newly_out_of_scope_share" in row else ""
        lines.append(
            f"  {row['family']:32} {row['n']:6d} {row['flipped_share']:8.1%} {row['mean_abs_delta']:9.3f} "
            f"{row['max_abs_delta']:8.3f}{newly}{mark}"
        )
    return "\n".join(lines)


def _with_title(title: str, body: str) -> str:
    return f"{title}\n{body}" if title else body


def _strip_seniority(title: str) -> str:
    words = title.split()
    while words and words[0].lower() in {"junior", "senior", "lead", "principal", "head", "of", "graduate", "trainee"}:
        words = words[1:]
    if len(words) > 1 and words[-1].lower() == "manager":
        words = words[:-1]
    return " ".join(words) or title


def word_runs(text: str, length: int = 5) -> set[str]:
    """Every run of `length` words in a text, lowercased, punctuation dropped."""
    words = re.findall(r"[a-z0-9']+", text.lower())
    return {" ".join(words[i : i + length]) for i in range(len(words) - length + 1)}


def catalogue_runs(catalogue) -> set[str]:
    """The five-word runs of every text the generator can write from: phrases, titles, shared and register pools,
    blurbs, workplaces, local requirements and pay lines. A paragraph sharing none is one it could not teach."""
    register = catalogue.register
    texts = [p for a in catalogue.areas for p in a.duties + a.requirements + a.metrics + a.ways_of_working]
    texts += [p for f in catalogue.families for p in f.duties + f.requirements + f.titles]
    texts += [item for items in catalogue.neutral.values() for item in items]
    texts += [item for items in register.lists.values() for item in items]
    texts += [item for items in register.company_blurbs.values() for item in items]
    texts += [item for items in register.workplaces.values() for item in items]
    texts += [item for groups in register.local_requirements.values() for group in groups.values() for item in group]
    texts += [text for region in register.regions for text in region.pay]
    texts += [text for region in register.regions for rate in region.rates for text in rate.pay]
    return set().union(*map(word_runs, texts))
