"""Run ``recordgen watch`` in a child process for the tests (the same as the console script).

Usage: python tests/watch_runner.py --config FILE [-v] watch [--poll S] [--settle S] [--rescan S]
"""

from __future__ import annotations

from recordgen.cli import cli

cli(prog_name="recordgen")
