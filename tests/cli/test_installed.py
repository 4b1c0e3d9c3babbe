"""The package installed without its project (as from a wheel): what each command says, and BPO_KPO_MODEL."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from pipeline import config


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A copy of the package alone on PYTHONPATH, which is what a wheel installs: no data, models or Makefile."""
    site = tmp_path_factory.mktemp("site")
    shutil.copytree(config.PROJECT_ROOT / "pipeline", site / "pipeline", ignore=shutil.ignore_patterns("__pycache__"))
    env = {k: v for k, v in os.environ.items() if k != config.MODEL_ENV_VAR} | {"PYTHONPATH": str(site)}
    return site, env


def bpo_kpo(env, *args, cwd):
    return subprocess.run([sys.executable, "-m", "pipeline", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=300)  # fmt: skip


def test_the_copy_is_the_one_that_runs(installed, tmp_path):
    site, env = installed
    code = "import pipeline.config as c; print(c.PROJECT_ROOT, c.in_checkout())"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert result.stdout.split() == [str(site), "False"]


STAGES = {
    "prepare": "--catalogue",
    "train": "--data",
    "tune": "--data",
    "evaluate": "--data",
    "report": "evaluate --data",
}

# Each stage run as the console script runs it, all in one process of the installed copy, which is started once.
RUN_EACH = """
import contextlib, io, json, sys
from pipeline.process import run
results = {}
for command in sys.argv[1:]:
    with contextlib.redirect_stderr(io.StringIO()) as stderr:
        results[command] = [run([command]), stderr.getvalue()]
results["loaded"] = [name for name in ("sklearn", "scipy") if name in sys.modules]
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def stages_run_outside(installed, tmp_path_factory):
    _, env = installed
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    result = subprocess.run([sys.executable, "-c", RUN_EACH, *STAGES], capture_output=True, text=True, env=env,
                            cwd=elsewhere, stdin=subprocess.DEVNULL, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr
    results = json.loads(result.stdout)
    loaded = results.pop("loaded")
    return loaded, {command: subprocess.CompletedProcess([command], code, "", stderr)
                    for command, (code, stderr) in results.items()}  # fmt: skip


@pytest.mark.parametrize(("command", "instead"), STAGES.items())
def test_stages_outside_a_checkout_say_where_to_run_them(stages_run_outside, command, instead):
    result = stages_run_outside[1][command]
    assert result.returncode == 1 and "Traceback" not in result.stderr
    line = result.stderr.strip()
    assert line.startswith("Error: this installed bpo-kpo has no project data")
    assert f"run `bpo-kpo {command}` in a checkout of bpo-kpo" in line and instead in line
    assert "make data" not in line  # the advice that sent people in circles


def test_stages_outside_a_checkout_refuse_before_loading_scikit_learn(stages_run_outside):
    loaded, _ = stages_run_outside
    assert loaded == []


def test_predict_outside_a_checkout_finds_the_model_through_the_environment(installed, tmp_path, fast_model):
    _, env = installed
    missing = bpo_kpo(env, "predict", "Answer calls", cwd=tmp_path)
    assert missing.returncode == 1
    assert "in a checkout of bpo-kpo" in missing.stderr and config.MODEL_ENV_VAR in missing.stderr
    # A model with its portable export: finding the model is the point, and the portable scorer starts at once.
    found = bpo_kpo(env | {config.MODEL_ENV_VAR: fast_model}, "predict", "--format", "jsonl", "Answer calls",
                    cwd=tmp_path)  # fmt: skip
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["label"] in config.LABELS
