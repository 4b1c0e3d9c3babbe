"""Measure scoring speed, memory, load time and start-up; print a table and write benchmarks/results.json."""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from pipeline import config
from pipeline.catalogue import load_catalogue
from pipeline.files import write_text_atomic
from pipeline.generate import generate_postings

HERE = Path(__file__).resolve().parent
WORK = HERE / "work"
CLI = str(Path(sys.executable).with_name("bpo-kpo"))
UNIQUE_POSTINGS = 20_000


def median_time(function, repeats: int) -> float:
    """Median wall time of `function()` over `repeats` runs."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def write_postings_csv(path: Path, texts: list[str], rows: int) -> None:
    """A CSV of `rows` postings, cycling through `texts`, written in blocks to keep this script's memory low."""
    block = pd.DataFrame({"id": range(len(texts)), "text": texts})
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write("id,text\n")
        written = 0
        while written < rows:
            part = block.iloc[: rows - written].copy()
            part["id"] = [f"r{written + i}" for i in range(len(part))]
            part.to_csv(handle, header=False, index=False, lineterminator="\n")
            written += len(part)


def run_cli(args: list[str]) -> None:
    subprocess.run([CLI, *args], check=True, stdout=subprocess.DEVNULL)


def peak_rss_mb(args: list[str]) -> float:
    """Peak resident memory of one CLI run, measured in a fresh wrapper so runs do not mix."""
    code = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    output = subprocess.run([sys.executable, "-c", code, CLI, *args], check=True, capture_output=True, text=True)
    return int(output.stdout.strip()) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000, help="postings for the throughput runs")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement (the median is reported)")
    parser.add_argument("--skip-train", action="store_true", help="do not time `make -B train`")
    options = parser.parse_args()
    WORK.mkdir(exist_ok=True)

    from pipeline.model import load_model

    model = load_model(config.MODEL_PATH)
    texts = generate_postings(load_catalogue(), UNIQUE_POSTINGS, seed=2024)[config.TEXT_COLUMN].tolist()
    words = statistics.mean(len(t.split()) for t in texts)
    big = WORK / "postings.csv"
    write_postings_csv(big, texts, options.rows)
    results: dict[str, float | str] = {"rows": options.rows, "mean_words_per_posting": round(words, 1)}

    sample = (texts * (options.rows // len(texts) + 1))[: min(options.rows, 50_000)]
    bare = median_time(lambda: model.pipeline.predict_proba(sample), options.repeats)
    results["bare_predict_proba_per_s"] = len(sample) / bare

    output = WORK / "out.jsonl"
    args = ["predict", "--input", str(big), "--format", "jsonl", "--output", str(output), "--quiet"]
    single = median_time(lambda: run_cli(args), options.repeats)
    results["cli_jsonl_per_s"] = options.rows / single
    results["cli_vs_bare"] = results["cli_jsonl_per_s"] / results["bare_predict_proba_per_s"]
    double = median_time(lambda: run_cli([*args, "--jobs", "2"]), options.repeats)
    results["cli_jobs2_per_s"] = options.rows / double
    results["jobs2_speedup"] = single / double

    for rows in (100_000, 1_000_000):
        path = WORK / f"rss_{rows}.csv"
        write_postings_csv(path, texts, rows)
        rss = [peak_rss_mb(["predict", "--input", str(path), "--format", "jsonl", "--output", str(output), "--quiet"])
               for _ in range(max(1, options.repeats - 1))]  # fmt: skip
        results[f"peak_rss_mb_{rows}"] = statistics.median(rss)
        path.unlink()
    results["rss_growth_1m_vs_100k"] = results["peak_rss_mb_1000000"] / results["peak_rss_mb_100000"] - 1

    results["model_load_s"] = median_time(lambda: load_model(config.MODEL_PATH), max(5, options.repeats))
    results["single_posting_cli_s"] = median_time(lambda: run_cli(["predict", "Answer inbound calls"]), 5)
    results["import_sklearn_s"] = median_time(
        lambda: subprocess.run([sys.executable, "-c", "import sklearn"], check=True), 5
    )
    results["cli_minus_import_sklearn_s"] = results["single_posting_cli_s"] - results["import_sklearn_s"]
    if not options.skip_train:
        results["make_train_s"] = median_time(
            lambda: subprocess.run(
                ["make", "-B", "train"],
                cwd=config.PROJECT_ROOT,
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            ),
            1,
        )
    output.unlink(missing_ok=True)
    big.unlink()

    results["machine"] = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    results["model_bytes"] = config.MODEL_PATH.stat().st_size
    for key, value in results.items():
        shown = f"{value:,.3f}" if isinstance(value, float) else str(value)
        print(f"{key:<32} {shown}")
    rounded = {k: round(v, 4) if isinstance(v, float) else v for k, v in results.items()}
    write_text_atomic(HERE / "results.json", json.dumps(rounded, indent=2) + "\n")


if __name__ == "__main__":
    main()
