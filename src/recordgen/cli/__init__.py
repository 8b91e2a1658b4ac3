"""The command line (``recordgen``): one module a subject, gathered by :mod:`recordgen.cli.main`."""

from recordgen.cli.exit_codes import EXIT_FAULT, EXIT_OK, EXIT_PROBLEMS, EXIT_SETTINGS
from recordgen.cli.main import cli, main

__all__ = ["EXIT_FAULT", "EXIT_OK", "EXIT_PROBLEMS", "EXIT_SETTINGS", "cli", "main"]
