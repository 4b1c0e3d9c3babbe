"""predict's two engines give the same rows; auto picks the portable scorer only when its export fits the model."""

import gzip
import html
import json
import os
import shutil
import subprocess
import sys

import pandas as pd
import pytest
from console import jsonl, run

from pipeline import config
from pipeline.engines import prefers_portable
from pipeline.export import portable_path


@pytest.fixture(scope="module")
def postings_csv(tmp_path_factory):
    """Test-split postings, with rows that have no text, as a CSV with ids."""
    frame = pd.read_csv(config.TEST_PATH, keep_default_na=False).head(150)[[config.ID_COLUMN, config.TEXT_COLUMN]]
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
    assert len(jsonl(portable.stdout)) == 150


HEAVY = ("numpy", "scipy", "sklearn", "pandas")


def _heavy_imports(*args: str, exit_code: str = "0", stdin: str = "") -> tuple[str, str]:
    """Run predict in a fresh Python with `stdin` piped in; return which heavy libraries it imported (sklearn: the
    sklearn engine) and stderr, once it ended with `exit_code`."""
    code = (
        "import sys\nfrom pipeline.cli import cli\n"
        f"try:\n    cli.main({list(args)!r}, prog_name='bpo-kpo')\nexcept SystemExit as e:\n    code = e.code\n"
        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules) or 'none', code, file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], input=stdin, capture_output=True, text=True)
    *_, last = result.stderr.strip().splitlines()
    heavy, _, ended_with = last.rpartition(" ")
    assert ended_with == exit_code, result.stderr
    return heavy, result.stderr


def test_auto_scores_arguments_and_small_files_without_scikit_learn(shipped_model_path, postings_csv, tmp_path):
    # One posting must not pay for importing numpy, pandas or scikit-learn: that is the whole start-up budget.
    assert _heavy_imports("predict", "Answer inbound calls")[0] == "none"
    text_file = tmp_path / "postings.txt"
    text_file.write_text("Answer inbound calls\nBuild credit-risk models\n", encoding="utf-8")
    assert _heavy_imports("predict", "--input", str(text_file), "--quiet")[0] == "none"
    # A model that is not there is said at once, whichever engine would have scored.
    for engine in ("auto", "sklearn"):
        missing = ("predict", "--engine", engine, "--model", "/nowhere/m.joblib", "x")
        heavy, stderr = _heavy_imports(*missing, exit_code="1")
        assert heavy == "none" and "no model at /nowhere/m.joblib" in stderr
    # A CSV needs pandas to be read, but not scikit-learn to be scored.
    assert "sklearn" not in _heavy_imports("predict", "--input", str(postings_csv), "--quiet")[0]
    # A few postings piped in (1.3 s with scikit-learn): the first chunk ends the pipe, so it is all there is.
    assert (
        _heavy_imports("predict", "-", "--quiet", stdin="Answer inbound calls\nBuild credit-risk models\n")[0] == "none"
    )
    # A pipe that fills its first chunk may be long: scikit-learn scores it.
    assert "sklearn" in _heavy_imports("predict", "-", "--quiet", "--chunk-size", "2", stdin="a b\nc d\ne f\n")[0]
    # A compressed file's size does not tell its text's (prefers_portable is false for it, below): it is chosen for
    # as a pipe is, by its first chunk, which here is all of it.
    packed = tmp_path / "postings.txt.gz"
    packed.write_bytes(gzip.compress(text_file.read_bytes()))
    assert _heavy_imports("predict", "--input", str(packed), "--quiet")[0] == "none"


def test_auto_leaves_workers_pipes_and_large_files_to_scikit_learn(postings_csv, tmp_path):
    assert prefers_portable(1, None) and prefers_portable(1, str(postings_csv))
    assert not prefers_portable(2, None) and not prefers_portable(2, str(postings_csv))
    large = tmp_path / "large.txt"
    large.write_text("Answer inbound calls\n" * (config.PORTABLE.max_auto_input_bytes // 20))
    assert not prefers_portable(1, str(large))
    packed = tmp_path / "small.txt.gz"
    packed.write_bytes(gzip.compress(b"Answer inbound calls\n"))
    assert not prefers_portable(1, str(packed))
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert not prefers_portable(1, str(fifo))


def test_auto_falls_back_when_the_export_names_another_model(shipped_model_path, small_model_dir, tmp_path):
    model = tmp_path / "model.joblib"
    for path in small_model_dir.iterdir():
        shutil.copy(path, tmp_path / path.name)
    shutil.copy(portable_path(shipped_model_path), portable_path(model))
    auto = run("predict", "--model", str(model), "--format", "jsonl", "Answer inbound calls")
    assert auto.returncode == 0 and "was exported from another model" in auto.stderr
    # The small model's own numbers, not the shipped model's that the stray export holds.
    sklearn = run("predict", "--model", str(model), "--format", "jsonl", "--engine", "sklearn", "Answer inbound calls")
    shipped = run("predict", "--format", "jsonl", "Answer inbound calls")
    assert jsonl(auto.stdout) == jsonl(sklearn.stdout) != jsonl(shipped.stdout)
    strict = run("predict", "--model", str(model), "--engine", "portable", "Answer inbound calls")
    assert strict.returncode == 1 and strict.stderr.startswith("Error: ") and "re-export" in strict.stderr
    assert "Traceback" not in strict.stderr


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ({"threshold": 0.9}, "model.joblib.json was changed after training"),
        ({"scope": {"min_words": 1000, "min_known_share": 0.5}}, "model.scope.joblib.json was changed after training"),
        (None, "model.scope.joblib.json is missing"),
        # Outside the digest: load_model took it for another scikit-learn, which the export does not need, so the
        # portable engine scored and told of `install scikit-learn==banana`.
        ({"versions": {"scikit-learn": "banana"}}, "'versions.scikit-learn' must be a version such as \"1.6.1\""),
    ],
    ids=["threshold", "scope-rules", "no-scope-metadata", "sklearn-version"],
)
def test_every_engine_refuses_what_load_model_refuses(shipped_model_path, tmp_path, damage, message):
    """The portable engine read neither metadata file: `auto` served an edited threshold or scope rule (every posting
    out of scope) that load_model and --engine sklearn refused, and the input's size decided which happened."""
    import json

    from pipeline.model import metadata_path, scope_path

    model = tmp_path / "model.joblib"
    for path in (shipped_model_path, metadata_path(shipped_model_path), scope_path(shipped_model_path),
                 metadata_path(scope_path(shipped_model_path)), portable_path(shipped_model_path)):  # fmt: skip
        shutil.copy(path, tmp_path / path.name)
    edited = metadata_path(scope_path(model)) if "scope" in message else metadata_path(model)
    if damage is None:
        edited.unlink()
    else:
        edited.write_text(json.dumps(json.loads(edited.read_text()) | damage))
    for engine in ("auto", "portable", "sklearn"):
        result = run("predict", "--model", str(model), "--engine", engine, "Answer inbound calls")
        assert result.returncode == 1 and message in result.stderr, (engine, result.stderr)
        assert "note:" not in result.stderr and result.stdout == ""


def test_a_model_of_another_scikit_learn_is_scored_by_its_export_whatever_the_input_size(
    small_portable_model_dir, tmp_path
):
    """auto scored a small input with the export and refused a large one (or --jobs 2) for the scikit-learn
    version: the input's size decided. The export, plain numbers, scores under any version; the scikit-learn
    engine still refuses, and so does auto with no export to fall back on."""
    from artifacts import edit_metadata

    model = tmp_path / "model.joblib"
    for path in small_portable_model_dir.iterdir():
        shutil.copy(path, tmp_path / path.name)
    versions = json.loads((tmp_path / "model.joblib.json").read_text())["versions"] | {"scikit-learn": "1.0.0"}
    edit_metadata(model, resign=True, versions=versions)
    small = run("predict", "--model", model, "--format", "jsonl", "Answer inbound calls")
    workers = run("predict", "--model", model, "--format", "jsonl", "--jobs", "2", "Answer inbound calls")
    assert workers.returncode == 0 and jsonl(workers.stdout) == jsonl(small.stdout), workers.stderr
    # The same note either way: a small input, scored by the export from the start, said nothing of the version.
    for result in (small, workers):
        assert result.stderr.startswith("note: ") and "trained with scikit-learn 1.0.0" in result.stderr
        assert "scoring with its portable export" in result.stderr
    chosen = run("predict", "--model", model, "--engine", "portable", "--format", "jsonl", "Answer inbound calls")
    assert chosen.returncode == 0 and "scikit-learn" not in chosen.stderr  # the engine asked for: nothing to tell
    strict = run("predict", "--model", model, "--engine", "sklearn", "Answer inbound calls")
    assert strict.returncode == 1 and "trained with scikit-learn 1.0.0" in strict.stderr
    portable_path(model).unlink()
    without = run("predict", "--model", model, "--jobs", "2", "Answer inbound calls")
    assert without.returncode == 1 and "trained with scikit-learn 1.0.0" in without.stderr


def test_an_empty_model_file_is_named_empty_on_every_engine(small_portable_model_dir, tmp_path):
    """The portable engine, which auto and serve use for small inputs, called it a checksum mismatch."""
    model = tmp_path / "model.joblib"
    for path in small_portable_model_dir.iterdir():
        shutil.copy(path, tmp_path / path.name)
    model.write_bytes(b"")
    for engine in ("auto", "portable", "sklearn"):
        result = run("predict", "--model", model, "--engine", engine, "Answer inbound calls")
        assert result.returncode == 1 and "model.joblib is empty; retrain with" in result.stderr, (engine, result)


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


def test_a_scope_model_in_the_models_place_is_refused_unread_and_alike_by_every_engine(
    shipped_model_path, tmp_path, monkeypatch
):
    """Its metadata names the scope labels: it was unpickled before it was refused, and the portable engine called
    it a scope model trained with another model, after auto's note that it would score with scikit-learn."""
    import pickle

    from pipeline import ModelError, load_model

    scope = config.scope_model_path(shipped_model_path)
    model = tmp_path / "model.joblib"
    shutil.copy(scope, model)
    shutil.copy(config.metadata_path(scope), config.metadata_path(model))
    shutil.copy(portable_path(shipped_model_path), portable_path(model))

    def unpickled(*args, **kwargs):
        raise AssertionError("unpickled before it was refused")

    monkeypatch.setattr(pickle, "loads", unpickled)
    refused = f"Error: {model} is not a bpo-kpo model with labels ['BPO', 'KPO']; retrain with"
    for engine in ("auto", "portable", "sklearn"):
        result = run("predict", "--model", model, "--engine", engine, "Answer inbound customer calls")
        assert result.returncode == 1 and result.stderr.startswith(refused), (engine, result.stderr)
        assert len(result.stderr.splitlines()) == 1, result.stderr
    with pytest.raises(ModelError, match=r"is not a bpo-kpo model with labels \['BPO', 'KPO'\]"):
        load_model(model)


@pytest.mark.parametrize("engine", ["portable", "sklearn"])
def test_postings_exported_as_html_get_the_rows_of_their_text(shipped_model_path, postings_csv, tmp_path, engine):
    """Job boards and applicant-tracking systems export descriptions as HTML, some escaped once more: read as they
    were, their entities and style attributes were words the vocabulary did not know, and three in four postings
    were flagged out of scope as not recognisable. Markup alone (an empty rich-text cell) was scored as a posting."""
    frame = pd.read_csv(postings_csv, keep_default_na=False)
    page = '<div style="font-size: 14px;"><p style="margin: 0px;">{}&nbsp;</p></div>'
    styled = frame.assign(text=[page.format(html.escape(t)) if t.strip() else t for t in frame[config.TEXT_COLUMN]])
    styled.loc[3, config.TEXT_COLUMN] = "<p><br></p>"
    styled[config.TEXT_COLUMN] = [html.escape(t) if i % 2 else t for i, t in enumerate(styled[config.TEXT_COLUMN])]
    styled.to_csv(tmp_path / "html.csv", index=False)
    common = ["predict", "--id-column", "id", "--format", "jsonl", "--engine", engine]
    plain = jsonl(run(*common, "--input", str(postings_csv)).stdout)
    exported = run(*common, "--input", str(tmp_path / "html.csv"))
    assert exported.returncode == 0, exported.stderr
    rows = jsonl(exported.stdout)
    assert rows[3]["error"] == "no text once its HTML markup and web links are removed" and rows[3]["label"] == ""
    assert rows[:3] + rows[4:] == plain[:3] + plain[4:]
