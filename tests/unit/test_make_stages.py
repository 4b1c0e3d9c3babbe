"""`make -n` in a copy of the project: touching a module, a parameter or a data file reruns exactly the stages
that read it, and nothing else."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from console import MAKE_ENV, copy_make_project

STAGES = ("prepare", "train", "report", "export")
# What a stage's output feeds: a rerun stage reruns everything after it.
DOWNSTREAM = {
    "prepare": set(STAGES),
    "train": {"train", "report", "export"},
    "report": {"report"},
    "export": {"export"},
}
OUTPUTS = {
    ".venv/.installed": 1,
    "data/processed/summary.json": 2,
    "models/model.joblib": 3,
    "models/model.joblib.json": 3,
    "models/model.scope.joblib": 3,
    "models/model.scope.joblib.json": 3,
    "models/model.held-out.joblib": 3,
    "models/model.held-out.joblib.json": 3,
    "models/model.held-out.scope.joblib": 3,
    "models/model.held-out.scope.joblib.json": 3,
    "models/metrics.json": 4,
    "models/model.portable.json": 4,
}

# The models the two fits of train write: the held-out model, then the shipped one.
TRAIN_FITS = ("models/model.held-out.joblib", "models/model.joblib")

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")


def make(root: Path, *args: str) -> str:
    return make_dry(root, *args, "train")


def make_dry(root: Path, *args: str) -> str:
    """What `make -n ARGS` would run."""
    result = subprocess.run(
        ["make", "-n", f"PYTHON={sys.executable}", *args],
        cwd=root, capture_output=True, text=True, timeout=120, env=MAKE_ENV,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


# Files make rewrites at every run, when their content changes: the include, the parameter values, the listings.
REGENERATED = (".make/deps.mk", ".make/install-inputs", ".make/report-data", "data/processed/.raw-files")


def reruns(root: Path, *args: str, regenerate: bool = False) -> set[str]:
    """The stages `make -n train` would run. Unless a file was really edited, -o keeps make from regenerating
    what -W leaves as it is anyway: a tenth of the time, and nothing written."""
    old = [] if regenerate else [option for name in REGENERATED for option in ("-o", name)]
    out = make(root, *old, *args)
    stages = {stage for stage in STAGES if re.search(rf"bpo-kpo {stage}\b", out)}
    # train is two fits, the held-out model's and the shipped model's: one without the other is no train.
    fits = [re.search(rf"bpo-kpo train .*--model {re.escape(path)}$", out, flags=re.M) for path in TRAIN_FITS]
    if any(fits) and not all(fits):
        stages.add("one of the two fits")
    return stages


def settle(root: Path) -> None:
    """Make every stage up to date: inputs in the past, then each stage's outputs newer than what it reads."""
    past = time.time() - 10_000
    for path in root.rglob("*"):
        if path.is_file() and str(path.relative_to(root)) not in OUTPUTS:
            os.utime(path, (past, past))
    make(root)  # rewrites the data listings and the include for these times
    for path in root.rglob("*"):
        relative = str(path.relative_to(root))
        moment = past + 100 * OUTPUTS.get(relative, 0) if path.is_file() else None
        if moment is not None:
            os.utime(path, (moment, moment))


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """What the Makefile reads, in a folder of its own, with every stage's outputs in place and up to date."""
    root = copy_make_project(tmp_path_factory.mktemp("make") / "project")
    for output in OUTPUTS:
        (root / output).parent.mkdir(parents=True, exist_ok=True)
        (root / output).write_text("{}")
    settle(root)
    assert reruns(root) == set(), "nothing should rerun in a settled copy"
    return root


def stage_code(root: Path) -> dict[str, set[str]]:
    """The modules each stage depends on, as the generated include says."""
    include = (root / ".make" / "deps.mk").read_text()
    return {
        stage: set(re.search(rf"^{stage.upper()}_CODE := (.*)$", include, flags=re.M).group(1).split())
        for stage in STAGES
    }


def expected(stages: set[str]) -> set[str]:
    return set().union(*(DOWNSTREAM[stage] for stage in stages)) if stages else set()


@pytest.fixture(scope="module")
def module_reruns(project) -> dict[str, set[str]]:
    """Module name -> the stages `make -n -W pipeline/<module>.py train` would run."""
    return {path.stem: reruns(project, "-W", f"pipeline/{path.name}") for path in (project / "pipeline").glob("*.py")}


def test_each_module_reruns_the_stages_whose_code_reaches_it(project, module_reruns):
    code = stage_code(project)
    for module, stages in module_reruns.items():
        name = f"pipeline/{module}.py"
        assert stages == expected({s for s in STAGES if name in code[s]}), name


@pytest.mark.parametrize(
    ("module", "stages"),
    [
        # The label rule at the threshold is used in training.
        ("decision", {"train", "report", "export"}),
        # The commands' bodies all live in cli.py; errors and files are used by every command.
        ("cli", set(STAGES)),
        ("errors", set(STAGES)),
        ("files", set(STAGES)),
        ("generate", set(STAGES)),
        ("export", {"export"}),
        ("conformance", {"export"}),
        # Train also measures the invariance suite's title-removed edit on held-out rows.
        ("invariance", {"train", "report", "export"}),
        ("plots", {"report"}),
        ("model_card", {"report"}),
        # Scoring code that no stage runs.
        ("serve", set()),
        ("engines", set()),
        ("portable", set()),
    ],
)
def test_what_each_module_holds_decides_which_stages_rerun(module_reruns, module, stages):
    assert module_reruns[module] == stages


def edited(root: Path, name: str, text: str):
    """Run `make -n` with `text` appended to a file (or a new file), then put the copy back as it was."""
    path = root / name
    before = path.read_bytes() if path.exists() else None
    path.write_bytes((before or b"") + text.encode())
    try:
        return reruns(root, regenerate=True)
    finally:
        path.unlink()
        if before is not None:
            path.write_bytes(before)
        settle(root)


@pytest.mark.parametrize(
    ("name", "text", "stages"),
    [
        # A training parameter retrains without preparing the data again...
        ("params/train.toml", "C = 0.5\n", {"train", "report", "export"}),
        ("params/train.toml", "max_iter = 3000\n", {"train", "report", "export"}),
        # ...except the stop words, which the shortcut audit of prepare tokenizes with, like the model.
        ("params/train.toml", 'stop_words_kept = ["call"]\n', set(STAGES)),
        ("params/prepare.toml", "n_postings = 500\n", set(STAGES)),
        ("params/scope.toml", "min_words = 2\n", {"train", "report", "export"}),
        ("params/invariance.toml", "per_posting = 2\n", {"report"}),
        # The audit's thresholds are read by prepare; its top-k by the audits of the model, train's and report's.
        ("params/audit.toml", "max_ratio = 4.0\n", set(STAGES)),
        ("params/audit.toml", "model_top_k = 100\n", {"train", "report", "export"}),
        # A tool setting needs neither a reinstall nor a rerun; notes under data/raw are not data.
        ("pyproject.toml", "\n[tool.ruff.format]\nquote-style = 'double'\n", set()),
        ("data/raw/labelled/README.md", "\nA note.\n", set()),
        ("data/raw/labelled/mine.csv", "text,label\nAnswer calls,BPO\n", set(STAGES)),
        ("data/raw/invariance/perturbations.json", " ", {"report"}),
        ("data/raw/catalogue/function_terms.json", " ", set(STAGES)),
        ("constraints.txt", "\n", set(STAGES)),
    ],
)
def test_parameters_and_data_rerun_the_stages_that_read_them(project, name, text, stages):
    assert edited(project, name, text) == stages


def test_an_edited_dependency_reinstalls_but_a_tool_setting_does_not(project):
    pyproject = project / "pyproject.toml"
    before = pyproject.read_text()
    try:
        pyproject.write_text(before.replace("line-length = 120", "line-length = 100"))
        assert "pip install" not in make(project)
        pyproject.write_text(before.replace('"click>=8.1,<9",', '"click>=8.1,<9",\n    "tqdm",'))
        assert "pip install" in make(project)
    finally:
        pyproject.write_text(before)
        settle(project)


def test_the_include_follows_a_new_import(project):
    """A module that starts importing another makes its stages depend on that one too, with no list to edit."""
    phrasing = project / "pipeline" / "phrasing.py"
    before = phrasing.read_text()
    assert "prepare" not in reruns(project, "-W", "pipeline/portable.py")
    try:
        phrasing.write_text(before + "\n\nfrom pipeline import portable  # noqa: E402\n")
        make(project)  # regenerates the include
        assert reruns(project, "-W", "pipeline/portable.py") == set(STAGES)
    finally:
        phrasing.write_text(before)
        settle(project)


def test_make_predict_without_a_text_stops_before_building_anything(project):
    """A fresh clone's `make predict` with no TEXT installed, prepared and trained for minutes, then printed its
    usage line: the check now comes when make reads the Makefile, before any prerequisite."""
    for text in ([], ["TEXT=  "]):
        refused = subprocess.run(["make", "-n", f"PYTHON={sys.executable}", "-W", "pipeline/train.py", "predict",
                                  *text], cwd=project, capture_output=True, text=True, timeout=120,
                                 env={**MAKE_ENV, "TEXT": ""})  # fmt: skip
        assert refused.returncode == 2 and refused.stdout == "", refused.stdout
        usage = r"\*\*\* usage: make predict TEXT=\"a job posting\"\.  Stop\.\n\Z"
        assert re.search(usage, refused.stderr), refused.stderr
    planned = make_dry(project, "-W", "pipeline/train.py", "predict", "TEXT=a $x `b`")
    predict = r"bpo-kpo predict --model models/model\.joblib -- \"\$BPO_KPO_TEXT\"$"
    assert re.search(r"bpo-kpo train .*\n.*" + predict, planned, flags=re.S | re.M), planned


@pytest.mark.parametrize("tool", ["stage_deps.py", "install_inputs.py"])
def test_the_tools_take_help_as_an_option_not_a_path(tool, tmp_path):
    """`tools/stage_deps.py --help` once wrote its include into a file named --help."""
    script = str(Path(__file__).resolve().parents[2] / "tools" / tool)
    shown = subprocess.run([sys.executable, script, "--help"], cwd=tmp_path, capture_output=True, text=True)
    assert shown.returncode == 0 and shown.stdout.startswith("Write ")
    refused = subprocess.run([sys.executable, script, "-o"], cwd=tmp_path, capture_output=True, text=True)
    assert refused.returncode == 2 and refused.stderr.startswith("Error: no such option: -o")
    assert list(tmp_path.iterdir()) == []
