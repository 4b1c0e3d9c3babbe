"""Run the installed `bpo-kpo` console script as a user would, and read its JSON-lines output."""

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = str(Path(sys.executable).with_name("bpo-kpo"))


def run(*args, stdin=None, cwd=None, timeout=300):
    return subprocess.run([SCRIPT, *args], input=stdin, capture_output=True, text=True, cwd=cwd, timeout=timeout)


def jsonl(stdout):
    return [json.loads(line) for line in stdout.splitlines()]
