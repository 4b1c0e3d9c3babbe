"""Invariance on paragraphs written after every design decision: does the suite's figure hold on paragraphs no
decision was taken on? Appends each of them to every BPO/KPO posting of the field and challenge sets."""

from __future__ import annotations

import argparse
import json

from pipeline import config

UNSEEN_PATH = config.PERTURBATIONS_PATH.with_name("unseen_paragraphs.json")


def paragraph_table(model, sets, paragraphs: dict[str, list[str]]) -> list[dict]:
    """The invariance table of the paragraph families, every paragraph appended to every posting."""
    from pipeline.invariance import load_perturbations
    from pipeline.report import invariance_results

    pool = load_perturbations() | paragraphs
    per_posting = max(len(items) for items in paragraphs.values())
    rows = invariance_results(model, sets, pool, per_posting=per_posting, families=tuple(paragraphs))
    return [row for row in rows if row["family"] in paragraphs]


def confident_flips(model, sets, paragraphs: dict[str, list[str]]) -> dict[str, float]:
    """Per family, the share of pairs whose label flips and whose new P(KPO) lies outside the review band: a
    flip the user is not asked to check."""
    import pandas as pd

    from pipeline.decision import in_review_band
    from pipeline.invariance import perturbed_pairs

    postings = pd.concat([sets["field"], sets["challenge"]], ignore_index=True)
    pairs = perturbed_pairs(postings, paragraphs, per_posting=max(map(len, paragraphs.values())),
                            families=tuple(paragraphs))  # fmt: skip
    pairs = pairs[pairs["family"].isin(paragraphs)]
    texts = list(dict.fromkeys([*pairs["original"], *pairs["perturbed"]]))
    p_kpo = dict(zip(texts, model.p_kpo(texts), strict=True))
    before = pairs["original"].map(p_kpo).to_numpy()
    after = pairs["perturbed"].map(p_kpo).to_numpy()
    flipped = (before >= model.threshold) != (after >= model.threshold)
    unchecked = flipped & ~in_review_band(after, model.threshold, model.review_band)
    return {family: float(unchecked[(pairs["family"] == family).to_numpy()].mean()) for family in paragraphs}


def main() -> None:
    # No options; --help says what the script does instead of running it (about a minute), before the imports.
    argparse.ArgumentParser(description=__doc__).parse_args()
    from pipeline import load_model
    from pipeline.catalogue import load_catalogue
    from pipeline.invariance import catalogue_runs, format_table, word_runs
    from pipeline.report import default_evaluation_sets

    unseen = json.loads(UNSEEN_PATH.read_text(encoding="utf-8"))
    paragraphs = {family: items for family, items in unseen.items() if not family.startswith("_")}
    known = catalogue_runs(load_catalogue(config.CATALOGUE_DIR))
    untaught = {family: [p for p in items if not word_runs(p) & known] for family, items in paragraphs.items()}
    model, sets = load_model(config.MODEL_PATH), default_evaluation_sets()
    for name, pool in (("every unseen paragraph", paragraphs), ("those sharing no five-word run with the catalogue",
                                                                  untaught)):  # fmt: skip
        counts = ", ".join(f"{family} {len(items)}" for family, items in pool.items())
        print(f"{name} ({counts}):")
        print(format_table(paragraph_table(model, sets, pool)))
    unchecked = confident_flips(model, sets, paragraphs)
    print("\nflips that land outside the review band, so no one is asked to check them:")
    print("\n".join(f"  {family:32} {share:8.1%}" for family, share in unchecked.items()))


if __name__ == "__main__":
    main()
