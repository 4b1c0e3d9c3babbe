"""Measure scoring speed, memory, load time and start-up; print a table and write benchmarks/results.json."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
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


def in_memory_sample(texts: list[str], rows: int) -> list[str]:
    """The first rows of a file write_postings_csv(texts, rows) writes, up to 50,000: the bare baselines' input."""
    return (texts * (rows // len(texts) + 1))[: min(rows, 50_000)]


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


def one_posting_times(repeats: int) -> dict[str, float]:
    """Wall time of one posting through the CLI, both engines, against bare Python and `import sklearn`."""
    posting = "Answer inbound calls and resolve billing queries in Salesforce, working to AHT and CSAT targets."

    def timed(command: list[str]) -> float:
        return median_time(lambda: subprocess.run(command, check=True, stdout=subprocess.DEVNULL), repeats)

    times = {
        "python_pass_s": timed([sys.executable, "-c", "pass"]),
        "import_sklearn_s": timed([sys.executable, "-c", "import sklearn"]),
        "single_posting_cli_s": timed([CLI, "predict", posting]),
        "single_posting_cli_sklearn_s": timed([CLI, "predict", "--engine", "sklearn", posting]),
    }
    times["cli_minus_python_pass_s"] = times["single_posting_cli_s"] - times["python_pass_s"]
    times["cli_sklearn_minus_import_sklearn_s"] = times["single_posting_cli_sklearn_s"] - times["import_sklearn_s"]
    return times


def evaluate_times(repeats: int) -> dict[str, float]:
    """Wall time of `evaluate` on a file of two postings: with the near-copy cache empty, when it reads the model's
    training files to find the postings the model learnt (pipeline/learnt_index.py), and with the cache filled."""
    labelled = WORK / "two.csv"
    labelled.write_text("text,label\nAnswer customer emails within SLA,BPO\nAdvise clients on tax structuring,KPO\n")
    command = [CLI, "evaluate", "--data", str(labelled)]
    times: dict[str, list[float]] = {"empty": [], "filled": []}
    with tempfile.TemporaryDirectory() as cache_home:
        environment = os.environ | {config.CACHE_HOME_VAR: cache_home}
        for _ in range(repeats):
            shutil.rmtree(Path(cache_home) / "bpo-kpo", ignore_errors=True)
            for state in ("empty", "filled"):
                started = time.perf_counter()
                subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=environment)
                times[state].append(time.perf_counter() - started)
    labelled.unlink()
    return {f"evaluate_two_postings_cache_{state}_s": statistics.median(runs) for state, runs in times.items()}


def portable_vs_bare(model, texts: list[str], repeats: int) -> dict[str, float]:
    """Postings per second of the portable scorer and of the Pipeline's predict_proba, in one process."""
    from pipeline.portable import load_portable

    portable = load_portable(config.MODEL_PATH)
    bare = median_time(lambda: model.pipeline.predict_proba(texts), repeats)
    pure = median_time(lambda: portable.predict_proba(texts), repeats)
    return {
        "portable_load_s": median_time(lambda: load_portable(config.MODEL_PATH), max(5, repeats)),
        "portable_per_s": len(texts) / pure,
        "portable_vs_bare": bare / pure,
    }


def broad_postings(n: int, seed: int, known_words: list[str]) -> list[str]:
    """Postings of 120 words, half from the words of the project's postings, half from 40,000 made-up words.

    A vocabulary far broader than the model's: most n-grams are unknown to it, so the model itself costs less
    per posting than on the generated postings, and the overhead of reading and writing shows more.
    """
    rng = random.Random(seed)
    syllables = [c + v for c in "bcdfghjklmnprstvwz" for v in "aeiou"] + ["qu", "th", "sh", "ch", "st", "tr"]
    made_up = list({"".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(45_000)})[:40_000]
    return [
        " ".join(rng.choice(known_words) if rng.random() < 0.5 else rng.choice(made_up) for _ in range(120))
        for _ in range(n)
    ]


def bare_both(model, texts: list[str]) -> None:
    """What scoring computes at the least: both Pipelines' predict_proba, BPO/KPO and scope, on the same texts."""
    model.pipeline.predict_proba(texts)
    if model.has_scope:
        model.scope_pipeline.predict_proba(texts)


def timed_cli(args: list[str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system, workers included) of one CLI run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    run_cli(args)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def timed_here(function) -> tuple[float, float]:
    """Wall time and CPU time of `function()` in this process."""
    started, cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - started, time.process_time() - cpu


def batch_throughput(path: Path, rows: int, sample: list[str], model, repeats: int, prefix: str = "") -> dict:
    """File scoring (one process and --jobs 2) against bare predict_proba, measured in interleaved rounds.

    Each round times bare BPO/KPO predict_proba, bare predict_proba of both models (the fair baseline: every row
    is scored by the BPO/KPO and the scope model), then `predict` in one process and with --jobs 2, so that other
    work on a shared machine slows all four alike; each figure is the median over the rounds. The CPU-time ratio
    (bare CPU seconds per posting over the CLI's, workers included) does not depend on that other work.
    """
    output = WORK / f"{prefix}out.jsonl"
    args = ["predict", "--input", str(path), "--format", "jsonl", "--output", str(output), "--quiet"]
    times: dict[str, list[float]] = {name: [] for name in ("main", "both", "both_cpu", "one", "one_cpu", "two")}
    for _ in range(repeats):
        times["main"].append(timed_here(lambda: model.pipeline.predict_proba(sample))[0])
        wall, cpu = timed_here(lambda: bare_both(model, sample))
        times["both"].append(wall)
        times["both_cpu"].append(cpu)
        wall, cpu = timed_cli(args)
        times["one"].append(wall)
        times["one_cpu"].append(cpu)
        times["two"].append(timed_cli([*args, "--jobs", "2"])[0])
    median = {name: statistics.median(values) for name, values in times.items()}
    output.unlink(missing_ok=True)
    bare_main, bare = len(sample) / median["main"], len(sample) / median["both"]
    single, double = rows / median["one"], rows / median["two"]
    return {
        f"{prefix}bare_predict_proba_per_s": bare_main,
        f"{prefix}bare_both_predict_proba_per_s": bare,
        f"{prefix}cli_jsonl_per_s": single,
        f"{prefix}cli_vs_bare": single / bare_main,
        f"{prefix}cli_vs_bare_both": single / bare,
        f"{prefix}cli_cpu_vs_bare_both_cpu": (median["both_cpu"] / len(sample)) / (median["one_cpu"] / rows),
        f"{prefix}cli_jobs2_per_s": double,
        f"{prefix}jobs2_speedup": median["one"] / median["two"],
    }


def markup_times(repeats: int) -> dict[str, float]:
    """Seconds to read a million characters through pipeline.markup.plain_text, in the forms that cost most: prose,
    HTML, and crafted runs of tag openings, escaped openings, unclosed quotes and comment openings, whose cost must
    grow with the length alone (a run of escaped openings once took 44 s)."""
    from pipeline.markup import plain_text

    units = {
        "prose": "Answer inbound calls & resolve queries within <5 days. ",
        "html": '<p style="margin: 0">Answer <b>calls</b> &amp; resolve queries</p>',
        "tag_openings": "<p ",
        "escaped_openings": "&lt;p ",
        "unclosed_quotes": '<p "',
        "comment_openings": "<!--",
    }
    size = 1_000_000
    return {
        f"markup_s_1m_chars_{name}": median_time(lambda unit=unit: plain_text(unit * (size // len(unit))), repeats)
        for name, unit in units.items()
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def service_load(texts: list[str], clients: int, requests: int, batch: int) -> dict[str, float]:
    """Throughput and latency of `bpo-kpo serve` on localhost, `clients` keep-alive connections at a time."""
    port = free_port()
    server = subprocess.Popen([CLI, "serve", "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/health")
                connection.getresponse().read()
                break
            except OSError:
                time.sleep(0.05)
        latencies: list[float] = []
        lock = threading.Lock()
        per_client = requests // clients

        def client(index: int) -> None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            mine = []
            for i in range(per_client):
                start = (index * per_client + i) * batch % len(texts)
                body = json.dumps({"texts": texts[start : start + batch]})
                started = time.perf_counter()
                connection.request("POST", "/predict", body, {"content-type": "application/json"})
                response = connection.getresponse()
                response.read()
                mine.append(time.perf_counter() - started)
                assert response.status == 200
            with lock:
                latencies.extend(mine)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    latencies.sort()
    tag = f"serve_batch{batch}_clients{clients}"
    return {
        f"{tag}_requests_per_s": len(latencies) / elapsed,
        f"{tag}_postings_per_s": len(latencies) * batch / elapsed,
        f"{tag}_p50_ms": 1000 * latencies[len(latencies) // 2],
        f"{tag}_p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000, help="postings for the throughput runs")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement (the median is reported)")
    parser.add_argument("--skip-train", action="store_true", help="do not time `make -B train`")
    parser.add_argument("--skip-memory", action="store_true", help="do not measure peak memory (1M rows)")
    parser.add_argument("--broad-rows", type=int, default=100_000, help="postings for the broad-vocabulary runs")
    parser.add_argument("--service-requests", type=int, default=2000, help="requests for the service load")
    options = parser.parse_args()
    WORK.mkdir(exist_ok=True)

    from pipeline.model import load_model

    model = load_model(config.MODEL_PATH)
    texts = generate_postings(load_catalogue(), UNIQUE_POSTINGS, seed=2024)[config.TEXT_COLUMN].tolist()
    words = statistics.mean(len(t.split()) for t in texts)
    big = WORK / "postings.csv"
    write_postings_csv(big, texts, options.rows)
    results: dict[str, float | str] = {"rows": options.rows, "mean_words_per_posting": round(words, 1)}

    results["baselines"] = (
        "bare_both: predict_proba of the BPO/KPO and the scope Pipeline on the same postings, what predict computes "
        "for every row (the fair baseline); bare: the BPO/KPO Pipeline alone"
    )
    results["load_average_1_5_15_min_at_start"] = " ".join(f"{load:.1f}" for load in os.getloadavg())
    sample = in_memory_sample(texts, options.rows)
    results |= batch_throughput(big, options.rows, sample, model, options.repeats)
    output = WORK / "out.jsonl"

    for rows in () if options.skip_memory else (100_000, 1_000_000):
        path = WORK / f"rss_{rows}.csv"
        write_postings_csv(path, texts, rows)
        rss = [peak_rss_mb(["predict", "--input", str(path), "--format", "jsonl", "--output", str(output), "--quiet"])
               for _ in range(max(1, options.repeats - 1))]  # fmt: skip
        results[f"peak_rss_mb_{rows}"] = statistics.median(rss)
        path.unlink()
    if not options.skip_memory:
        results["rss_growth_1m_vs_100k"] = results["peak_rss_mb_1000000"] / results["peak_rss_mb_100000"] - 1

    results["model_load_s"] = median_time(lambda: load_model(config.MODEL_PATH), max(5, options.repeats))
    results |= one_posting_times(max(9, options.repeats))
    results |= evaluate_times(options.repeats)
    results |= portable_vs_bare(model, sample[:5000], options.repeats)
    results |= markup_times(options.repeats)
    results |= service_load(texts, clients=8, requests=options.service_requests, batch=1)
    results |= service_load(texts, clients=2, requests=max(20, options.service_requests // 20), batch=100)
    known_words = sorted({word.strip(".,;:()").lower() for text in texts[:5000] for word in text.split()})
    known_words = [word for word in known_words if word.isalpha()]
    broad = broad_postings(20_000, seed=15, known_words=known_words)
    broad_path = WORK / "broad.csv"
    write_postings_csv(broad_path, broad, options.broad_rows)
    broad_sample = in_memory_sample(broad, options.broad_rows)
    results |= batch_throughput(broad_path, options.broad_rows, broad_sample, model, options.repeats, "broad_")
    broad_path.unlink()
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
    # Other work on a shared machine slows every figure: the load average says how quiet the run was.
    results["load_average_1_5_15_min_at_end"] = " ".join(f"{load:.1f}" for load in os.getloadavg())
    results["model_bytes"] = config.MODEL_PATH.stat().st_size
    for key, value in results.items():
        shown = f"{value:,.3f}" if isinstance(value, float) else str(value)
        print(f"{key:<32} {shown}")
    rounded = {k: round(v, 4) if isinstance(v, float) else v for k, v in results.items()}
    write_text_atomic(HERE / "results.json", json.dumps(rounded, indent=2) + "\n")


if __name__ == "__main__":
    main()
