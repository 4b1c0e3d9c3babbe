"""The exploration notebook runs top to bottom against the package, and is stored executed, with conclusions."""

import nbformat
from nbclient import NotebookClient

from pipeline import config

NOTEBOOK = config.PROJECT_ROOT / "notebooks" / "1.0-bk-explore-dataset.ipynb"


def test_explore_notebook_executes(shipped_model_path, tmp_path):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs)


def test_the_stored_notebook_is_executed_and_concludes_in_prose():
    """A reviewer opening the file sees results and conclusions without running anything."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(cell.get("outputs") for cell in code)
    assert all(o.get("output_type") != "error" for cell in code for o in cell["outputs"])
    assert any("image/png" in o.get("data", {}) for cell in code for o in cell["outputs"])
    conclusions = [
        cell.source for cell in notebook.cells if cell.cell_type == "markdown" and "## Conclusions" in cell.source
    ]
    assert conclusions and len(conclusions[0].split()) > 150
    readme = (config.PROJECT_ROOT / "README.md").read_text()
    assert "make notebook" in readme and NOTEBOOK.name in readme
