"""Run ``recordgen watch`` in a child process, before cli.py registers the command itself.

Usage: python tests/watch_runner.py --config FILE [-v] watch [--poll S] [--settle S] [--rescan S]
"""

from __future__ import annotations

from recordgen.cli import cli
from recordgen.watch_cli import watch

if watch.name not in cli.commands:
    cli.add_command(watch)
cli(prog_name="recordgen")
