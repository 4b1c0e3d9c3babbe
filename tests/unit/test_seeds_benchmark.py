"""The seeds benchmark's comparison of two runs: seed by seed, never one run's seed against another's."""

import json
import os
import subprocess
import sys

import pytest
from benchmark_scripts import benchmark_path, load_benchmark

SCRIPT = benchmark_path("seeds")


@pytest.fixture(scope="module")
def seeds():
    return load_benchmark("seeds")


def test_runs_are_paired_by_seed_not_by_order(seeds):
    before = [{"seed": 1, "accuracy": 0.90}, {"seed": 2, "accuracy": 0.80}]
    after = [{"seed": 2, "accuracy": 0.84}, {"seed": 1, "accuracy": 0.88}, {"seed": 3, "accuracy": 0.10}]

    row = seeds.paired(before, after)["accuracy"]

    assert row["seeds"] == 2  # seed 3 has no counterpart
    assert row["mean_difference"] == pytest.approx((0.04 - 0.02) / 2)
    assert (row["seeds_up"], row["seeds_down"]) == (1, 1)
    assert row["before"] == pytest.approx(0.85) and row["after"] == pytest.approx(0.86)


def test_a_figure_only_one_run_has_is_left_out(seeds):
    """A baseline written before a figure was added (log loss, say) still compares on the figures it has."""
    table = seeds.paired([{"seed": 1, "a": 1.0}], [{"seed": 1, "a": 2.0, "b": 5.0}])
    assert list(table) == ["a"]


def test_runs_without_a_common_seed_are_refused(seeds):
    with pytest.raises(SystemExit, match="no seed"):
        seeds.paired([{"seed": 1, "a": 1.0}], [{"seed": 2, "a": 1.0}])


def test_comparing_against_the_file_the_run_would_overwrite_is_refused_before_any_work(tmp_path):
    baseline = tmp_path / "seeds.json"
    baseline.write_text(json.dumps({"seeds": [{"seed": 1, "a": 1.0}]}))
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--seeds", "1", "--against", str(baseline), "--output", str(baseline)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "overwrite" in result.stderr
    assert json.loads(baseline.read_text()) == {"seeds": [{"seed": 1, "a": 1.0}]}


def test_a_comparison_into_a_closed_pipe_ends_quietly(tmp_path):
    """`--compare A B | head` must not end in a traceback once the reader has gone."""
    run = tmp_path / "seeds.json"
    run.write_text(json.dumps({"seeds": [{"seed": 1, "a": 1.0, "b": 2.0}]}))
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line is written
    try:
        result = subprocess.run(
            [sys.executable, str(SCRIPT), "--compare", str(run), str(run)],
            stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=60,
        )  # fmt: skip
    finally:
        os.close(write_end)
    assert result.returncode == 0
    assert result.stderr == ""


def test_the_worst_register_is_taken_per_clarity(seeds):
    metrics = {"slices": {"form_clarity": {
        "agency / clear": {"accuracy": 1.0}, "agency / borderline": {"accuracy": 0.8},
        "short / clear": {"accuracy": 0.9}, "short / borderline": {"accuracy": 0.95},
    }}}  # fmt: skip
    assert seeds.worst_register(metrics, "clear") == 0.9
    assert seeds.worst_register(metrics, "borderline") == 0.8
