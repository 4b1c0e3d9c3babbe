"""predict's two engines give the same rows; auto picks the portable scorer only when its export fits the model."""

import shutil
import subprocess
import sys

import pandas as pd
import pytest
from console import jsonl, run

from pipeline import config
from pipeline.export import portable_path


@pytest.fixture(scope="module")
def postings_csv(tmp_path_factory):
    """Test-split postings, with rows that have no text, as a CSV with ids."""
    frame = pd.read_csv(config.TEST_PATH, keep_default_na=False).head(300)[[config.ID_COLUMN, config.TEXT_COLUMN]]
    frame.loc[5, config.TEXT_COLUMN] = ""
    frame.loc[17, config.TEXT_COLUMN] = "   "
    path = tmp_path_factory.mktemp("engines") / "postings.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("explain", ["0", "3"])
def test_engines_give_identical_rows(shipped_model_path, postings_csv, explain):
    common = ["predict", "--input", str(postings_csv), "--id-column", "id", "--format", "jsonl", "--explain", explain]
    portable = run(*common, "--engine", "portable")
    sklearn = run(*common, "--engine", "sklearn")
    assert portable.returncode == 0 and sklearn.returncode == 0, portable.stderr + sklearn.stderr
    assert jsonl(portable.stdout) == jsonl(sklearn.stdout)
    assert len(jsonl(portable.stdout)) == 300


def _engine_used(*args: str) -> tuple[int, str]:
    """Run predict in-process and report whether scikit-learn was imported (the sklearn engine) or not."""
    code = (
        "import sys\nfrom pipeline.cli import cli\n"
        f"try:\n    cli.main({list(args)!r}, prog_name='bpo-kpo')\nexcept SystemExit as e:\n    code = e.code\n"
        "print('sklearn' if 'sklearn' in sys.modules else 'portable', code, file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return result.returncode, result.stderr


def test_auto_scores_arguments_and_small_files_without_scikit_learn(shipped_model_path, postings_csv):
    assert _engine_used("predict", "Answer inbound calls")[1].endswith("portable 0\n")
    assert _engine_used("predict", "--input", str(postings_csv), "--quiet")[1].endswith("portable 0\n")
    assert _engine_used("predict", "--input", str(postings_csv), "--jobs", "2")[1].endswith("sklearn 0\n")
    assert _engine_used("predict", "--engine", "sklearn", "Answer calls")[1].endswith("sklearn 0\n")


def test_auto_falls_back_when_the_export_names_another_model(shipped_model_path, small_model_dir, tmp_path):
    model = tmp_path / "model.joblib"
    for path in small_model_dir.iterdir():
        shutil.copy(path, tmp_path / path.name)
    shutil.copy(portable_path(shipped_model_path), portable_path(model))
    _, stderr = _engine_used("predict", "--model", str(model), "Answer inbound calls")
    assert "was exported from another model" in stderr and stderr.endswith("sklearn 0\n")
    strict = run("predict", "--model", str(model), "--engine", "portable", "Answer inbound calls")
    assert strict.returncode == 1 and strict.stderr.startswith("Error: ") and "re-export" in strict.stderr
    assert "Traceback" not in strict.stderr


def test_portable_engine_without_export_and_with_jobs(small_model_dir):
    missing = run("predict", "--model", str(small_model_dir / "model.joblib"), "--engine", "portable", "x y")
    assert missing.returncode == 1 and "bpo-kpo export" in missing.stderr and "Traceback" not in missing.stderr
    jobs = run("predict", "--engine", "portable", "--jobs", "2", "x y")
    assert jobs.returncode == 2 and "--jobs" in jobs.stderr


def test_export_command(shipped_model_path, tmp_path):
    result = run("export", "--output", str(tmp_path / "m.portable.json"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "m.portable.json").read_bytes() == portable_path(shipped_model_path).read_bytes()
    assert (tmp_path / "m.conformance.json").is_file()
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*"))
    missing = run("export", "--output", str(tmp_path / "nowhere" / "m.portable.json"))
    assert missing.returncode == 1 and missing.stderr.startswith("Error: output folder")
