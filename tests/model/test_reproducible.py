"""Same seed, same bytes: two processes that prepare and train from one seed write identical files."""

import json
import subprocess
import sys

# One process's whole run: prepare through the command line, then the training recipe on its training split.
PREPARE_AND_TRAIN = """
import sys
from dataclasses import replace
from pathlib import Path

from pipeline import config
from pipeline.dataset import in_scope, read_split
from pipeline.model import save_model
from pipeline.process import run
from pipeline.train import train_model

folder, empty = Path(sys.argv[1]), Path(sys.argv[2])
# A dataset this small has sampling-noise skews the audit would stop on; reproducibility is the point here.
code = run(["prepare", "--n-postings", "400", "--seed", "5", "--output-dir", str(folder), "--allow-shortcuts",
            "--field", str(empty), "--challenge", str(empty), "--written", str(empty)])
assert code == 0, code
pipeline, metadata = train_model(in_scope(read_split(folder / "train.csv")), replace(config.TRAIN, cv_folds=2))
save_model(pipeline, folder / "model.joblib", metadata)
"""

WRITTEN = ("train.csv", "test.csv", "summary.json", "model.joblib")


def test_two_processes_with_one_seed_write_identical_datasets_and_models(tmp_path):
    """Catches unseeded randomness in the generator, the split or the fit, and anything process-specific (memory
    addresses, hash order) reaching a file, whose checksum would then drift.

    Two processes, not two runs in one: inside one process CPython may share equal strings between two fits,
    which changes pickle's back-references but not a single value. They run side by side, one per core.
    """
    (tmp_path / "empty").mkdir()
    folders = [tmp_path / name for name in ("a", "b")]
    processes = [
        subprocess.Popen([sys.executable, "-c", PREPARE_AND_TRAIN, str(folder), str(tmp_path / "empty")],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for folder in folders
    ]  # fmt: skip
    for process in processes:
        _, stderr = process.communicate(timeout=600)
        assert process.returncode == 0, stderr
    for name in WRITTEN:
        assert (folders[0] / name).read_bytes() == (folders[1] / name).read_bytes(), name
    # The metadata too, but for the time it was written.
    first, second = (json.loads((folder / "model.joblib.json").read_text()) for folder in folders)
    assert first.pop("created_at") != "" and second.pop("created_at") != ""
    assert first == second
