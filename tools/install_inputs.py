"""Write what the install reads from pyproject.toml, so make reinstalls when dependencies change, not ruff settings.

`python3 tools/install_inputs.py .make/install-inputs` rewrites the file only when its content changes: the build
system, the [project] table (dependencies, extras, console script, version) and setuptools' package list.
The tool settings (ruff, pytest) are left out: changing them needs no reinstall.
"""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path

from stage_deps import refuse_options, write_if_changed  # this folder is the script's, so first on the path

ROOT = Path(__file__).resolve().parents[1]
INSTALL_TABLES = ("build-system", "project")


def install_inputs(pyproject: dict) -> str:
    chosen = {name: pyproject.get(name) for name in INSTALL_TABLES}
    chosen["tool.setuptools"] = pyproject.get("tool", {}).get("setuptools")
    return json.dumps(chosen, indent=1, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    if (code := refuse_options(argv, __doc__)) is not None:
        return code
    with open(ROOT / "pyproject.toml", "rb") as handle:
        text = install_inputs(tomllib.load(handle))
    if len(argv) < 2:
        sys.stdout.write(text)
        return 0
    write_if_changed(Path(argv[1]), text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
