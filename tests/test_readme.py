"""Every `bash` and `python` block of the README runs as written, and the layout it describes is the real one."""

import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from console import checkout_make

from pipeline import config

README = (config.PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
BIN = Path(sys.executable).parent


def blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README, flags=re.M | re.S)


def test_the_readme_has_runnable_examples():
    assert len(blocks("bash")) >= 2 and len(blocks("python")) >= 2


@pytest.mark.parametrize("index", range(len(blocks("bash"))))
def test_every_shell_block_runs(shipped_model_path, tmp_path, index):
    """Run from a scratch folder that has the shipped examples: outputs land there, not in the project.

    `make` lines run as `make -n` in the project (what they would do, without retraining or recursing into the
    test suite); `.venv/bin/` means the environment running these tests.
    """
    (tmp_path / "examples").symlink_to(config.PROJECT_ROOT / "examples")
    script = blocks("bash")[index].replace(".venv/bin/", f"{BIN}/")
    script = re.sub(r"^make ", f"make -n -C '{config.PROJECT_ROOT}' ", script, flags=re.M)
    env = {k: v for k, v in os.environ.items() if k not in (config.MODEL_ENV_VAR, "MAKEFLAGS", "MAKELEVEL")}
    with checkout_make():
        result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, capture_output=True,
                                text=True, env=env, timeout=300)  # fmt: skip
    assert result.returncode == 0, (script, result.stderr)
    assert "Error" not in result.stderr and "Traceback" not in result.stderr
    if "bpo-kpo predict" in script:
        assert result.stdout.strip() or (tmp_path / "scored.csv").is_file()
    if "scored.csv" in script:
        rows = (tmp_path / "scored.csv").read_text().splitlines()
        source = (config.PROJECT_ROOT / "examples" / "jobs.csv").read_text().splitlines()
        assert len(rows) == len(source) and rows[1].startswith("JOB-2026-000123,")


def test_the_readme_scores_the_example_csv():
    assert any("scored.csv" in block for block in blocks("bash"))


# Each block in a namespace of its own, all in one fresh Python: a user's session, without paying for the imports
# once per block. A failing block is named in the traceback.
RUN_BLOCKS = """
import json, sys
for index, block in enumerate(json.loads(sys.argv[1])):
    exec(compile(block, f"<README python block {index}>", "exec"), {"__name__": "__main__"})
"""


def test_every_python_block_runs(shipped_model_path):
    env = {k: v for k, v in os.environ.items() if k != config.MODEL_ENV_VAR}
    result = subprocess.run([sys.executable, "-c", RUN_BLOCKS, json.dumps(blocks("python"))],
                            cwd=config.PROJECT_ROOT, capture_output=True, text=True, env=env, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_the_command_reference_names_every_option():
    """Each command's row names every option its --help lists, the training parameters aside (the Parameters table
    lists them). The rows once left out predict's --input-format and --engine, and prepare's folders."""
    from pipeline.cli import cli

    reference = README[README.index("## Command reference") :]
    trained = {field.name for field in dataclasses.fields(config.TrainParams)}
    for name, command in cli.commands.items():
        row = re.search(rf"^\| `bpo-kpo {name}` \|(.*)$", reference, flags=re.M).group(1)
        for option in command.params:
            if not isinstance(option, click.Option) or (name == "train" and option.name in trained):
                continue
            assert re.search(rf"`{option.opts[0]}(?![\w-])", row), (name, option.opts[0])


def test_the_layout_names_every_module_and_make_target():
    layout = README[README.index("## Layout") :]
    for module in sorted((config.PROJECT_ROOT / "pipeline").glob("*.py")):
        assert f"  {module.name} " in layout, module.name
    makefile = (config.PROJECT_ROOT / "Makefile").read_text()
    phony = re.search(r"^\.PHONY: (.*)$", makefile, flags=re.M).group(1).split()
    targets = set(re.findall(r"^([a-z-]+):", makefile, flags=re.M))
    assert set(phony) <= targets, set(phony) - targets  # every declared target exists
    listed = re.search(r"^Makefile\s+(.*)$", layout, flags=re.M).group(1)
    assert set(re.findall(r"[a-z]+", listed.replace("(default)", ""))) == set(phony)


def test_the_metadata_digest_is_what_the_readme_says(shipped_model_path):
    """A service with joblib alone checks the metadata by the README's recipe: it named five fields after the
    digest came to cover eight, so the recipe gave another digest than every model's."""
    import hashlib
    import json

    row = next(line for line in README.splitlines() if line.startswith("| `metadata_sha256`"))
    listed = row[row.index("version` 2, of") : row.index("(a field")]
    fields = re.findall(r"`(\w+)`", listed)
    assert len(fields) == 8, fields
    for path in (shipped_model_path, config.scope_model_path(shipped_model_path)):
        meta = json.loads(config.metadata_path(path).read_text())
        digest = hashlib.sha256(json.dumps({key: meta.get(key) for key in fields}, sort_keys=True).encode())
        assert digest.hexdigest() == meta["metadata_sha256"], path
