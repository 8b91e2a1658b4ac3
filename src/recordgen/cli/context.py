"""What every command takes from the command line's context: the settings, the clock, and a way
to print that suits a terminal or a log.

The clock is a collaborator like the store and the converter. A real run uses the system's; tests
hand in a fixed one with ``CliRunner().invoke(cli, args, obj=clock)``.
"""

from __future__ import annotations

import sys

import click
from rich.console import Console

from recordgen.cases import canonical_case_ref
from recordgen.clock import Clock, SystemClock
from recordgen.errors import InvariantBroken
from recordgen.settings import Settings

CLOCK_KEY = "recordgen.clock"


def keep_clock(ctx: click.Context) -> None:
    """Keep the clock handed in as the context's object (if any) for every command to use."""
    injected = ctx.obj
    ctx.meta[CLOCK_KEY] = injected if callable(getattr(injected, "now", None)) else SystemClock()


def clock_of(ctx: click.Context) -> Clock:
    """The clock every command takes the time from."""
    clock = ctx.meta.get(CLOCK_KEY)
    return clock if clock is not None else SystemClock()


def settings_of(ctx: click.Context) -> Settings:
    """The settings the group read before any command ran."""
    settings = ctx.find_object(Settings)
    if settings is None:
        raise InvariantBroken("A command ran before the settings were read.")
    return settings


def case_ref_option(_: click.Context, __: click.Parameter, value: str | None) -> str | None:
    """A case reference typed on the command line, in the one form cases are stored under
    (``ths-b1`` finds THS-B1); spaces copied in around it are dropped."""
    if value is None:
        return None
    try:
        return canonical_case_ref(value.strip())
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def console() -> Console:
    # Not on a terminal (a log, an email from cron), rich would fold every column at 80 characters.
    return Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 200)
