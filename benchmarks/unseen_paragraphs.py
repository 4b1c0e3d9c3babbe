"""Invariance on paragraphs written after every design decision: does the suite's figure hold on paragraphs no
decision was taken on? Appends each of them to every BPO/KPO posting of the field and challenge sets."""

from __future__ import annotations

import json

from pipeline import config, load_model
from pipeline.catalogue import load_catalogue
from pipeline.invariance import PARAGRAPH_FAMILIES, catalogue_runs, format_table, load_perturbations, word_runs
from pipeline.report import default_evaluation_sets, invariance_results

UNSEEN_PATH = config.PERTURBATIONS_PATH.with_name("unseen_paragraphs.json")


def paragraph_table(model, sets, paragraphs: dict[str, list[str]]) -> list[dict]:
    """The invariance table of the paragraph families, every paragraph appended to every posting."""
    pool = load_perturbations() | paragraphs
    per_posting = max(len(items) for items in paragraphs.values())
    rows = invariance_results(model, sets, pool, per_posting=per_posting)
    return [row for row in rows if row["family"] in PARAGRAPH_FAMILIES]


def main() -> None:
    unseen = json.loads(UNSEEN_PATH.read_text(encoding="utf-8"))
    paragraphs = {family: unseen[family] for family in PARAGRAPH_FAMILIES}
    known = catalogue_runs(load_catalogue(config.CATALOGUE_DIR))
    untaught = {family: [p for p in items if not word_runs(p) & known] for family, items in paragraphs.items()}
    model, sets = load_model(config.MODEL_PATH), default_evaluation_sets()
    for name, pool in (("every unseen paragraph", paragraphs), ("those sharing no five-word run with the catalogue",
                                                                  untaught)):  # fmt: skip
        counts = ", ".join(f"{family} {len(items)}" for family, items in pool.items())
        print(f"{name} ({counts}):")
        print(format_table(paragraph_table(model, sets, pool)))


if __name__ == "__main__":
    main()
