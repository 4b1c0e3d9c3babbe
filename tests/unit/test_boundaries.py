"""Module boundaries: only pipeline/model.py reads a Pipeline's steps, and no stage imports what it does not need."""

import ast

import pytest

from pipeline import config

PACKAGE = config.PROJECT_ROOT / "pipeline"
# Modules allowed to name a Pipeline's steps: config declares the names and model reads them (pipeline_parts).
NAMES_STEPS = {"config.py", "model.py"}
# Imports that would tie a module to a stage it does not belong to: the report to the scoring loop of predict,
# the model card to the whole training module.
FORBIDDEN_IMPORTS = {"report.py": {"pipeline.predict"}, "model_card.py": {"pipeline.train"}}
MODULES = sorted(path.name for path in PACKAGE.glob("*.py"))


def parse(name: str) -> ast.AST:
    return ast.parse((PACKAGE / name).read_text(encoding="utf-8"))


def step_reads(tree: ast.AST) -> list[int]:
    """Lines that reach into a Pipeline's steps: `.named_steps`, `.steps`, or a step's name as a string."""
    return [
        node.lineno
        for node in ast.walk(tree)
        if (isinstance(node, ast.Attribute) and node.attr in ("named_steps", "steps"))
        or (isinstance(node, ast.Constant) and node.value in (config.VECTORIZER_STEP, config.CLASSIFIER_STEP))
    ]


def imported_modules(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("name", [m for m in MODULES if m not in NAMES_STEPS])
def test_only_model_reads_a_pipelines_steps(name):
    reads = step_reads(parse(name))
    assert not reads, f"pipeline/{name} reads a Pipeline's steps on lines {reads}: use Model or pipeline_parts"


@pytest.mark.parametrize("name", sorted(FORBIDDEN_IMPORTS))
def test_no_module_imports_across_stages(name):
    forbidden = imported_modules(parse(name)) & FORBIDDEN_IMPORTS[name]
    assert not forbidden, f"pipeline/{name} imports {forbidden}"


def test_the_checks_catch_the_old_code():
    """What report.py, predict.py and model_card.py used to do is caught, and model.py is where the reading is."""
    assert set(step_reads(ast.parse("vectorizer = model.pipeline.named_steps['tfidf']"))) == {1}
    assert step_reads(ast.parse("vectorizer = model.pipeline['tfidf']")) == [1]
    assert imported_modules(ast.parse("from pipeline.predict import explain_rows")) & FORBIDDEN_IMPORTS["report.py"]
    assert (
        imported_modules(ast.parse("from pipeline.train import REVIEW_ERROR_SHARE"))
        & FORBIDDEN_IMPORTS["model_card.py"]
    )
    assert step_reads(parse("model.py"))
    assert {"model.py", "predict.py", "report.py", "export.py", "scope.py"} <= set(MODULES)
