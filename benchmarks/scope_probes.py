"""Scope probes: does one appended line about a credential, a check or the workplace move postings across the scope
model's cut? Appends each probe line to every posting of the field and challenge sets, in and out of scope alike."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline import config, load_model
from pipeline.files import write_text_atomic
from pipeline.report import all_evaluation_sets

PROBES_PATH = config.PERTURBATIONS_PATH.with_name("scope_probes.json")


def scope_flags(model, postings: pd.DataFrame) -> np.ndarray:
    """The scope model's flag on each posting as it stands."""
    return np.asarray(model.scope(postings[config.TEXT_COLUMN].astype(str).tolist())[1], dtype=bool)


def scope_moves(model, postings: pd.DataFrame, before: np.ndarray, lines: list[str]) -> pd.DataFrame:
    """For each line: the share of in-scope postings it newly flags and of out-of-scope ones it newly clears;
    `before` holds the postings' own flags (scope_flags)."""
    texts = postings[config.TEXT_COLUMN].astype(str).tolist()
    is_out = (postings[config.LABEL_COLUMN] == config.NEITHER).to_numpy()
    rows = []
    for line in lines:
        after = np.asarray(model.scope([f"{text}\n\n{line}" for text in texts])[1], dtype=bool)
        rows.append({"line": line, "newly_flagged": float((after & ~before)[~is_out].mean()),
                     "newly_cleared": float((before & ~after)[is_out].mean())})  # fmt: skip
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=Path, help="Also write each family's means here, as JSON.")
    args = parser.parse_args()
    probes = json.loads(PROBES_PATH.read_text(encoding="utf-8"))
    model, sets = load_model(config.MODEL_PATH), all_evaluation_sets()
    postings = pd.concat([sets["field"], sets["challenge"]], ignore_index=True)
    is_out = postings[config.LABEL_COLUMN] == config.NEITHER
    print(f"{(~is_out).sum()} in-scope and {is_out.sum()} out-of-scope postings, each with one line appended")
    means, before = {}, scope_flags(model, postings)
    for family, lines in probes.items():
        if family.startswith("_"):
            continue
        moves = scope_moves(model, postings, before, lines)
        print(f"\n{family}: in-scope newly flagged, out-of-scope newly cleared, line")
        for row in moves.itertuples():
            print(f"  {row.newly_flagged:6.1%} {row.newly_cleared:6.1%}  {row.line}")
        flagged, cleared = float(moves["newly_flagged"].mean()), float(moves["newly_cleared"].mean())
        means[family] = {"newly_flagged": flagged, "newly_cleared": cleared}
        print(f"  {flagged:6.1%} {cleared:6.1%}  mean of {len(moves)} lines")
    if args.output:
        write_text_atomic(args.output, json.dumps(means, indent=2) + "\n")


if __name__ == "__main__":
    main()
