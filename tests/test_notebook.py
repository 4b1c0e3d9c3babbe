"""The exploration notebook runs top to bottom against the package, so it never rots."""

import nbformat
from nbclient import NotebookClient

from pipeline import config


def test_explore_notebook_executes(shipped_model_path, tmp_path):
    path = config.PROJECT_ROOT / "notebooks" / "1.0-bk-explore-dataset.ipynb"
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs)
