"""Import a script of benchmarks/ as a module, so tests can call its functions and read its constants."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from pipeline import config

BENCHMARKS_DIR = config.PROJECT_ROOT / "benchmarks"


def benchmark_path(name: str) -> Path:
    """benchmarks/<name>.py, for the tests that run it as a script."""
    return BENCHMARKS_DIR / f"{name}.py"


def load_benchmark(name: str) -> ModuleType:
    """benchmarks/<name>.py, imported under a name of its own."""
    spec = importlib.util.spec_from_file_location(f"{name}_benchmark", benchmark_path(name))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
