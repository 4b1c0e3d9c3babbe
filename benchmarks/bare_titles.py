"""Bare titles: how the scope flag and the label treat a job title scored alone, as a feed of titles brings them."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from pipeline import config, load_model
from pipeline.catalogue import load_catalogue
from pipeline.files import write_text_atomic

TITLES_PATH = config.PERTURBATIONS_PATH.with_name("bare_titles.json")


def group_figures(model, rows: list[dict], known_titles: set[str]) -> tuple[dict, list[dict]]:
    """One group's figures, and each title's scores. The figures: the share of titles flagged out of scope; the
    share flagged as text that is no posting (the scope model's vocabulary knows too few of the title's words, so
    the rule decides, not the model); the share flagged among the titles the catalogue does not hold (a gain there
    is not the exact title learnt); and, for in-scope titles, the share labelled as their label says."""
    titles = [row["title"] for row in rows]
    p_out, flagged, reasons = model.scope(titles)
    labels = model.predict(titles)
    scored = [
        {**row, "p_out_of_scope": float(p), "flagged": bool(flag), "reason": reason, "predicted": predicted}
        for row, p, flag, reason, predicted in zip(rows, p_out, flagged, reasons, labels, strict=True)
    ]
    in_scope = [row for row in scored if row["label"] != config.NEITHER]
    figures = {
        "flagged": float(np.mean([row["flagged"] for row in scored])),
        "flagged_not_recognisable": float(np.mean([row["reason"] == config.SCOPE_REASON_TEXT for row in scored])),
    }
    not_in_catalogue = [row["flagged"] for row in scored if row["title"].lower() not in known_titles]
    if not_in_catalogue:
        figures["flagged_not_in_catalogue"] = float(np.mean(not_in_catalogue))
    if in_scope:
        figures["accuracy"] = float(np.mean([row["predicted"] == row["label"] for row in in_scope]))
    return figures, scored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=Path, help="Also write each group's figures here, as JSON.")
    parser.add_argument("--all", action="store_true", help="List every title, not only the ones the flag gets wrong.")
    args = parser.parse_args()
    groups = json.loads(TITLES_PATH.read_text(encoding="utf-8"))["groups"]
    model = load_model(config.MODEL_PATH)
    known_titles = {title.lower() for family in load_catalogue().families for title in family.titles}
    results = {}
    for group, rows in groups.items():
        figures, scored = group_figures(model, rows, known_titles)
        results[group] = figures
        shown = ", ".join(f"{name} {value:.1%}" for name, value in figures.items())
        print(f"\n{group} ({len(rows)} titles): {shown}")
        for row in sorted(scored, key=lambda row: -row["p_out_of_scope"]):
            wrong_flag = row["flagged"] != (row["label"] == config.NEITHER)
            if args.all or wrong_flag:
                unknown = f"  ({config.SCOPE_REASON_TEXT})" if row["reason"] == config.SCOPE_REASON_TEXT else ""
                scores = f"p_out {row['p_out_of_scope']:.2f}  {row['label']:7} -> {row['predicted']}"
                print(f"  {scores}  {row['title']}{unknown}")
    if args.output:
        write_text_atomic(args.output, json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
