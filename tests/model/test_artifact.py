"""The artifact contract: a plain scikit-learn Pipeline, metadata beside it, and every loading check."""

import json
import subprocess
import sys
import textwrap

import joblib
import numpy as np
import pytest
from sklearn.pipeline import Pipeline

from pipeline import ModelError, config, load_model
from pipeline.model import metadata_path

ALLOWED_MODULES = ("sklearn.", "numpy", "scipy.", "joblib.", "builtins", "copyreg", "_codecs", "collections")
PROBES = ["Answer calls from customers about delivery and refunds", "Conduct econometric research on pricing"]


def test_saved_model_is_a_plain_pipeline_of_library_classes(shipped_model_path, monkeypatch):
    """Every class the pickle names comes from the libraries: no project code, lambdas or custom functions."""
    from joblib import numpy_pickle

    named = set()
    original = numpy_pickle.NumpyUnpickler.find_class

    def recording_find_class(self, module, name):
        named.add(f"{module}.{name}")
        return original(self, module, name)

    monkeypatch.setattr(numpy_pickle.NumpyUnpickler, "find_class", recording_find_class)
    pipeline = joblib.load(shipped_model_path)
    assert isinstance(pipeline, Pipeline)
    assert [name for name, _ in pipeline.steps] == ["tfidf", "clf"]
    assert any(n.startswith("sklearn.") for n in named)
    outside = {n for n in named if not n.startswith(ALLOWED_MODULES)}
    assert not outside
    assert not any("lambda" in n or n.startswith("pipeline.") for n in named)


def test_metadata_beside_the_model(shipped_model_path):
    meta = json.loads(metadata_path(shipped_model_path).read_text())
    for key in (
        "versions",
        "labels",
        "params",
        "training_data",
        "metrics",
        "model_sha256",
        "created_at",
        "threshold",
        "review_band",
    ):
        assert key in meta
    for library in ("python", "scikit-learn", "numpy", "pandas", "joblib", "bpo-kpo"):
        assert meta["versions"][library]
    # Fitted by the console script under one BLAS thread, and the same kernels on any CPU that has them: with the
    # machine's own, a second core or another CPU family gave other model bytes from the same data and seed.
    from pipeline.process import cpu_flags

    libraries = meta["versions"]["blas"].split("; ")
    assert libraries and all(library.endswith(", 1 thread)") for library in libraries), libraries
    if cpu_flags() >= config.BLAS_KERNEL_CPU_FLAGS:
        assert all("(Haswell kernels" in library for library in libraries), libraries
    assert meta["labels"] == ["BPO", "KPO"]
    assert len(meta["training_data"]["sha256"]) == 64 and meta["training_data"]["rows"] > 1000
    assert shipped_model_path.stat().st_size < 5 * 1024 * 1024


def test_loads_where_only_scikit_learn_and_joblib_exist(shipped_model_path):
    """A service with neither this package nor pandas nor click gets the same probabilities."""
    code = textwrap.dedent(f"""
        import json, sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("pipeline", "pandas", "click"):
                    raise ImportError("blocked: " + name)
        sys.meta_path.insert(0, Block())
        sys.path = [p for p in sys.path if p not in ("", {str(shipped_model_path.parents[1])!r})]
        import joblib
        model = joblib.load({str(shipped_model_path)!r})
        print(json.dumps(model.predict_proba({PROBES!r}).tolist()))
        assert "pipeline" not in sys.modules and "pandas" not in sys.modules
    """)
    result = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    expected = load_model(shipped_model_path).predict_proba(PROBES)
    assert np.array_equal(np.array(json.loads(result.stdout)), expected)


def test_load_model_api(shipped_model_path):
    model = load_model(shipped_model_path)
    probabilities = model.predict_proba(PROBES)
    assert probabilities.shape == (2, 2)
    assert np.allclose(probabilities.sum(axis=1), 1)
    assert model.predict(PROBES) == ["BPO", "KPO"]
    assert model.labels == ("BPO", "KPO")
    assert 0 < model.threshold < 1
    assert "scikit-learn" in model.versions


def test_tampered_model_is_refused_before_unpickling(model_copy, monkeypatch):
    with open(model_copy, "ab") as handle:
        handle.write(b"tampered")
    import pickle

    monkeypatch.setattr(pickle, "load", lambda *a, **k: pytest.fail("unpickled a tampered file"))
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: pytest.fail("unpickled a tampered file"))
    monkeypatch.setattr(joblib, "load", lambda *a, **k: pytest.fail("unpickled a tampered file"))
    with pytest.raises(ModelError, match=r"model\.joblib does not match its metadata \(SHA-256"):
        load_model(model_copy)


def test_other_scikit_learn_minor_version_is_refused(model_copy):
    meta_file = metadata_path(model_copy)
    meta = json.loads(meta_file.read_text())
    meta["versions"]["scikit-learn"] = "0.99.0"
    meta_file.write_text(json.dumps(meta))
    with pytest.raises(ModelError, match=r"trained with scikit-learn 0\.99\.0 .* `make train` or install"):
        load_model(model_copy)


class Smuggled:
    """A type no model of ours contains."""


def test_skops_format_round_trip_and_untrusted_types(tmp_path, tiny_pipeline):
    import skops.io as skops_io

    from pipeline.model import save_model

    pipeline = tiny_pipeline
    path = tmp_path / "model.skops"
    save_model(pipeline, path, {"params": {}, "threshold": 0.5}, model_format="skops")
    loaded = load_model(path)
    assert loaded.metadata["format"] == "skops"
    assert np.array_equal(loaded.predict_proba(PROBES), pipeline.predict_proba(PROBES))
    # A file holding a type outside the trusted list is refused, with the type named.
    evil = tmp_path / "evil.skops"
    skops_io.dump({"model": pipeline, "extra": Smuggled()}, evil)
    meta = json.loads(metadata_path(path).read_text())
    from pipeline.files import sha256_file
    from pipeline.model import METADATA_DIGEST, metadata_digest

    meta["model_sha256"] = sha256_file(evil)
    meta[METADATA_DIGEST] = metadata_digest(meta)  # an attacker who can write both files recomputes both digests
    metadata_path(evil).write_text(json.dumps(meta))
    with pytest.raises(ModelError, match=r"does not trust: .*Smuggled"):
        load_model(evil)


def test_load_and_predict_from_several_threads(shipped_model_path):
    from concurrent.futures import ThreadPoolExecutor

    expected = load_model(shipped_model_path).predict_proba(PROBES)

    def load_and_score(_):
        return load_model(shipped_model_path).predict_proba(PROBES)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(load_and_score, range(8)))
    assert all(np.array_equal(result, expected) for result in results)


def test_source_date_epoch_makes_a_retrains_metadata_the_same_bytes(tiny_pipeline, tmp_path, monkeypatch):
    """created_at was the clock's: two runs of the same data and seed gave the same model bytes but another
    metadata file and another portable export checksum. With SOURCE_DATE_EPOCH, as reproducible builds set it,
    they are the same bytes; a value that is no time is refused, not passed over."""
    from pipeline.model import save_model

    metadata = {"params": {}, "threshold": 0.5, "review_band": 0.1}
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    for folder in "abc":
        (tmp_path / folder).mkdir()
    written = [save_model(tiny_pipeline, tmp_path / f"{run}" / "model.joblib", metadata) for run in "ab"]
    assert written[0]["created_at"] == "2026-01-01T00:00:00+00:00"
    assert (
        metadata_path(tmp_path / "a" / "model.joblib").read_bytes()
        == metadata_path(tmp_path / "b" / "model.joblib").read_bytes()
    )
    for value in ("yesterday", "-5", "1.5", "9" * 30, "１２"):
        monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
        with pytest.raises(ModelError, match=r"^SOURCE_DATE_EPOCH='.*' is not a time in whole seconds since 1970"):
            save_model(tiny_pipeline, tmp_path / "c" / "model.joblib", metadata)
    assert not (tmp_path / "c" / "model.joblib").exists()


@pytest.mark.parametrize("value", ["soon", "", "1.5"])
def test_a_source_date_epoch_that_is_no_time_stops_train_alone_in_one_line(tmp_path, value):
    """numpy reads SOURCE_DATE_EPOCH as it is imported, and stopped a real process on such a value with `unexpected
    ValueError` (an empty one too), in any command; checked when the model was saved, it also cost the minutes of
    fitting first. Run as the console script, where numpy is imported afresh. Only train dates a model: --help,
    --version and predict once refused the value too, though none of them reads it."""
    from console import run_script

    data = tmp_path / "mine.csv"
    data.write_text("text,label\nAnswer calls,BPO\nDraft contracts,KPO\n")
    result = run_script("train", "--data", data, "--model", tmp_path / "m.joblib", env={"SOURCE_DATE_EPOCH": value})
    assert (result.returncode, result.stderr) == (
        1,
        f"Error: SOURCE_DATE_EPOCH={value!r} is not a time in whole seconds since 1970: set it to one (date +%s) "
        "or unset it\n",
    )
    assert not (tmp_path / "m.joblib").exists()
    if value != "soon":  # the other commands for one value: they pass over any value that is no time alike
        return
    scored = run_script("predict", "--engine", "sklearn", "--format", "jsonl", "Answer inbound customer calls",
                        env={"SOURCE_DATE_EPOCH": value})  # fmt: skip
    assert (scored.returncode, scored.stderr, json.loads(scored.stdout)["label"]) == (0, "", "BPO"), scored.stderr
    helped = run_script("train", "--help", env={"SOURCE_DATE_EPOCH": value})
    assert (helped.returncode, helped.stderr) == (0, "") and "Usage:" in helped.stdout
