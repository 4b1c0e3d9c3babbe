"""The exploration notebook runs top to bottom against the package, and is stored executed, with conclusions."""

import ast

from pipeline import config

NOTEBOOK = config.PROJECT_ROOT / "notebooks" / "1.0-bk-explore-dataset.ipynb"


def read_notebook():
    # Imported here: collecting the suite on a worker that runs no notebook test need not load Jupyter.
    import nbformat

    return nbformat.read(NOTEBOOK, as_version=4)


def test_explore_notebook_executes(shipped_model_path, tmp_path):
    from nbclient import NotebookClient

    notebook = read_notebook()
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs)


def test_the_stored_notebook_is_executed_and_concludes_in_prose():
    """A reviewer opening the file sees results and conclusions without running anything."""
    notebook = read_notebook()
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


# What only the package may do: reach into the scikit-learn Pipeline (its steps, fitted attributes such as coef_
# or vocabulary_) or rank the model's weights; the notebook calls Model.top_ngrams and friends instead.
PACKAGE_ONLY_ATTRIBUTES = {"pipeline", "named_steps", "steps", "ngram_weights", "argsort"}
OLD_TOP_NGRAMS_CELL = """features, weights = linear_weights(model)
order = weights.argsort()
top = {"BPO": [(features[i], weights[i]) for i in order[:20]],
       "KPO": [(features[i], weights[i]) for i in order[::-1][:20]]}
"""


def own_logic(source: str) -> list[str]:
    """What a code cell does that the package should: definitions, and reaching into the model's internals."""
    problems = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            problems.append(f"defines {getattr(node, 'name', 'a lambda')}")
        elif isinstance(node, ast.Attribute) and (
            node.attr in PACKAGE_ONLY_ATTRIBUTES or (node.attr.endswith("_") and not node.attr.startswith("_"))
        ):
            problems.append(f"uses .{node.attr}")
    return problems


def test_the_notebook_defines_no_logic_of_its_own():
    """The notebook imports the package and calls it; re-implementing its logic lets the two drift apart."""
    assert own_logic(OLD_TOP_NGRAMS_CELL) == ["uses .argsort"]
    assert own_logic("def top_ngrams(model): pass") == ["defines top_ngrams"]
    assert own_logic("v = model.pipeline[0].vocabulary_") == ["uses .vocabulary_", "uses .pipeline"]
    notebook = read_notebook()
    cells = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    assert cells and {problem for source in cells for problem in own_logic(source)} == set()
    assert any("model.top_ngrams(" in source for source in cells)
