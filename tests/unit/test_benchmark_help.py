"""A benchmark script with no options of its own answers --help with its usage, and runs nothing."""

import subprocess
import sys

from benchmark_scripts import benchmark_path


def test_help_describes_the_unseen_paragraphs_benchmark_without_running_it():
    # It took no options, so --help ran the whole benchmark: a minute of tables. The other scripts have options,
    # and argparse's --help with them.
    result = subprocess.run([sys.executable, str(benchmark_path("unseen_paragraphs")), "--help"], capture_output=True,
                            text=True, timeout=120, stdin=subprocess.DEVNULL)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage:") and "Invariance on paragraphs" in result.stdout, result.stdout[:200]
