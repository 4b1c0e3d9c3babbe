"""How much of each figure is the generator's draw: prepare, train and report under several seeds, in copies."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pipeline import config
from pipeline.files import write_text_atomic
from pipeline.invariance import PARAGRAPH_FAMILIES
from pipeline.process import reader_gone

HERE = Path(__file__).resolve().parent
# What the stages read; each seed runs in a copy of these, so the checkout's data and models are never touched.
COPIED = ("pipeline", "params", "data/raw")
DEFAULT_SEEDS = (42, 1, 2, 3, 4, 5)
# The scope probes' means, written in each copy by benchmarks/scope_probes.py: one seed's probe figures move by a
# few postings, so a rule on them is judged over the seeds.
PROBES_FILE = "scope_probes.json"
# The bare titles' figures, written in each copy by benchmarks/bare_titles.py.
TITLES_FILE = "bare_titles.json"
# make train's two fits: the held-out model on the training split (the test figures are its own), then the shipped
# model on the splits it learns from.
TRAINING = (
    ["train", "--model", str(config.held_out_model_path(config.MODEL_PATH).relative_to(config.PROJECT_ROOT))],
    ["train", *(f"--data={(config.PROCESSED_DIR / f'{name}.csv').relative_to(config.PROJECT_ROOT)}"
                for name in config.SHIPPED_SPLITS)],
)  # fmt: skip


def copy_project(root: Path) -> None:
    for relative in COPIED:
        shutil.copytree(
            config.PROJECT_ROOT / relative, root / relative, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )


def run_stage(root: Path, arguments: list[str], log: Path) -> None:
    """One CLI stage on the copy."""
    run_in_copy(root, ["-m", "pipeline", *arguments], log)


def run_in_copy(root: Path, arguments: list[str], log: Path) -> None:
    """Python with these arguments on the copy: PYTHONPATH puts the copy's package, and so its paths, first."""
    environment = {**os.environ, "PYTHONPATH": str(root)}
    with log.open("a") as output:
        subprocess.run(
            [sys.executable, *arguments], cwd=root, env=environment, stdout=output, stderr=output, check=True
        )


def worst_register(metrics: dict, clarity: str) -> float:
    """The lowest accuracy among a set's registers (forms) on their postings of one clarity (clear, borderline)."""
    # Imported here, as in figures: the module brings scikit-learn, a second or two of start-up that --compare
    # and a refused command line need none of.
    from pipeline.evaluate import FORM_CLARITY_SEPARATOR, FORM_CLARITY_SLICE

    rows = metrics["slices"][FORM_CLARITY_SLICE]
    return min(row["accuracy"] for value, row in rows.items() if value.endswith(FORM_CLARITY_SEPARATOR + clarity))


def figures(root: Path) -> dict[str, float]:
    """The figures a change is judged by, from the copy's summary, metrics and model metadata."""
    from pipeline.model import metadata_path

    def read(path: Path) -> dict:
        return json.loads((root / path.relative_to(config.PROJECT_ROOT)).read_text())

    summary, metrics = read(config.DATASET_SUMMARY_PATH), read(config.METRICS_PATH)
    metadata = read(metadata_path(config.MODEL_PATH))
    probes = json.loads((root / PROBES_FILE).read_text())
    titles = json.loads((root / TITLES_FILE).read_text())
    sets = metrics["sets"]
    flips = {row["family"]: row["flipped_share"] for row in metrics["invariance"]}
    newly_out = {row["family"]: row["newly_out_of_scope_share"] for row in metrics["invariance"]}
    return {
        "data_audit_shortcuts": summary["shortcut_audit"]["n_shortcuts"],
        "model_audit_shortcuts": metrics["model_shortcut_audit"]["n_shortcuts"],
        "validation_accuracy": sets["validation"]["accuracy"],
        "test_accuracy": sets["test"]["accuracy"],
        "field_accuracy": sets["field"]["accuracy"],
        "challenge_accuracy": sets["challenge"]["accuracy"],
        # The challenge set's bars are per register and clarity too: the worst register is the figure.
        "challenge_worst_register_clear": worst_register(sets["challenge"], "clear"),
        "challenge_worst_register_borderline": worst_register(sets["challenge"], "borderline"),
        "field_ece": sets["field"]["ece"],
        "challenge_ece": sets["challenge"]["ece"],
        # Log loss scores every probability, not only the binned ones: a change that trades accuracy for
        # confidence shows here first.
        "field_log_loss": sets["field"]["log_loss"],
        "challenge_log_loss": sets["challenge"]["log_loss"],
        # The invariance target holds every appended-paragraph family to 2%: the worst of them is the figure.
        "worst_paragraph_flips": max(flips[family] for family in PARAGRAPH_FAMILIES),
        # Each family too: a change aimed at one of them must show what it does to the others.
        **{f"flips_{family}": flips[family] for family in PARAGRAPH_FAMILIES},
        "title_removed_flips": flips["title_removed"],
        "title_removed_flips_held_out": metadata["validation_invariance"]["title_removed"]["flipped_share"],
        # A bare title is another input, reported rather than held to the target: how often it gets another label
        # than its posting, and how often the scope model flags it.
        "title_alone_flips": flips["title_alone"],
        "title_alone_newly_out_of_scope": newly_out["title_alone"],
        **{
            f"scope_{name}_{figure}": metrics["scope"][name][key]
            for name in ("test", "field", "challenge")
            for figure, key in (("recall", "out_of_scope_recall"), ("in_scope_flagged", "in_scope_flagged_share"))
        },
        # In-scope work in hospitals, factories and warehouses: where the scope model's false flags would gather.
        "scope_test_hard_in_scope_flagged": metrics["scope"]["test"]["hard_cases"]["in_scope_flagged_share"],
        # One appended line about a credential: in-scope postings newly flagged, out-of-scope ones newly cleared.
        **{f"probe_{family}_{figure}": means[figure] for family, means in probes.items() for figure in means},
        # A title scored alone, from titles another hand wrote: flagged out of scope, and labelled right.
        **{f"bare_{group}_{figure}": values[figure] for group, values in titles.items() for figure in values},
    }


def spread(rows: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Each figure's mean, standard deviation, lowest and highest over the seeds."""
    out = {}
    for name in rows[0]:
        values = [float(row[name]) for row in rows]
        out[name] = {
            "mean": statistics.fmean(values),
            "sd": statistics.stdev(values) if len(values) > 1 else 0.0,
            "min": min(values),
            "max": max(values),
        }
    return out


def paired(before: list[dict[str, float]], after: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """What a change did to each figure, seed by seed: the mean and standard deviation of after minus before over
    the seeds both runs hold, and in how many seeds it went up or down.

    A change moves a figure far more consistently than the draws spread it, so a paired difference shows an
    effect that the seeds' own spread would hide.
    """
    by_seed = {row["seed"]: row for row in before}
    common = [(by_seed[row["seed"]], row) for row in after if row["seed"] in by_seed]
    if not common:
        raise SystemExit("the two runs share no seed: nothing to compare")
    names = [key for key in common[0][1] if key != "seed" and key in common[0][0]]
    before_stats = spread([{name: old[name] for name in names} for old, _ in common])
    after_stats = spread([{name: new[name] for name in names} for _, new in common])
    changes = [{name: float(new[name]) - float(old[name]) for name in names} for old, new in common]
    change_stats = spread(changes)
    return {
        name: {
            "before": before_stats[name]["mean"],
            "after": after_stats[name]["mean"],
            "mean_difference": change_stats[name]["mean"],
            "sd_difference": change_stats[name]["sd"],
            "seeds_up": sum(row[name] > 0 for row in changes),
            "seeds_down": sum(row[name] < 0 for row in changes),
            "seeds": len(changes),
        }
        for name in names
    }


def print_paired(table: dict[str, dict[str, float]]) -> None:
    print(f"{'figure':32} {'before':>7} {'after':>7} {'change':>8} {'sd':>7}  up/down of seeds")
    for name, row in table.items():
        print(
            f"{name:32} {row['before']:7.3f} {row['after']:7.3f} {row['mean_difference']:+8.4f} "
            f"{row['sd_difference']:7.4f}  {row['seeds_up']}/{row['seeds_down']} of {row['seeds']}"
        )


def read_rows(path: Path) -> list[dict[str, float]]:
    return json.loads(path.read_text(encoding="utf-8"))["seeds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", default=",".join(map(str, DEFAULT_SEEDS)), help="Generator seeds, comma-separated.")
    parser.add_argument("--output", type=Path, default=HERE / "seeds.json", help="Where to write every figure.")
    parser.add_argument(
        "--against", type=Path, help="After the run, compare it seed by seed with this earlier run's file."
    )
    parser.add_argument(
        "--compare", type=Path, nargs=2, metavar=("BEFORE", "AFTER"),
        help="Compare two runs' files seed by seed, without running anything.",
    )  # fmt: skip
    args = parser.parse_args()
    if args.compare:
        print_paired(paired(read_rows(args.compare[0]), read_rows(args.compare[1])))
        return
    if args.against and args.against.resolve() == args.output.resolve():
        parser.error(f"--against {args.against} is also the --output this run would overwrite; write elsewhere")
    # Read first: a missing or broken baseline should stop the run before its work, not after it.
    baseline = read_rows(args.against) if args.against else None
    seeds = [int(seed) for seed in args.seeds.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bpo-kpo-seeds-") as temporary:
        for seed in seeds:
            started = time.perf_counter()
            root = Path(temporary) / f"seed-{seed}"
            copy_project(root)
            log = root / "stages.log"
            # The lexicon was reviewed on seed 42's training and test splits; another seed draws other postings,
            # and a few more words may cross 1% of a class by chance. The run goes on and counts them.
            run_stage(root, ["prepare", "--seed", str(seed), "--allow-shortcuts"], log)
            for arguments in TRAINING:
                run_stage(root, arguments, log)
            run_stage(root, ["report"], log)
            run_in_copy(root, [str(HERE / "scope_probes.py"), "--output", str(root / PROBES_FILE)], log)
            run_in_copy(root, [str(HERE / "bare_titles.py"), "--output", str(root / TITLES_FILE)], log)
            rows.append({"seed": seed, **figures(root)})
            print(f"seed {seed}: done in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    summary = spread([{k: v for k, v in row.items() if k != "seed"} for row in rows])
    print(f"{'figure':32} {'mean':>7} {'sd':>7} {'min':>7} {'max':>7}   " + " ".join(f"{s:>6}" for s in seeds))
    for name, stats in summary.items():
        per_seed = " ".join(f"{row[name]:6.3f}" for row in rows)
        print(f"{name:32} {stats['mean']:7.3f} {stats['sd']:7.3f} {stats['min']:7.3f} {stats['max']:7.3f}   {per_seed}")
    write_text_atomic(args.output, json.dumps({"seeds": rows, "spread": summary}, indent=2) + "\n")
    print(f"wrote {args.output}", file=sys.stderr)
    if baseline is not None:
        print(f"\nagainst {args.against}, seed by seed:")
        print_paired(paired(baseline, rows))


if __name__ == "__main__":
    try:
        main()
    except BrokenPipeError:  # the reader went away (`--compare A B | head`): stop quietly
        reader_gone()
