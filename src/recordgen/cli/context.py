"""What every command takes from the command line's context: the clock.

The clock is a collaborator like the store and the converter. A real run uses the system's; tests
hand in a fixed one with ``CliRunner().invoke(cli, args, obj=clock)``.
"""

from __future__ import annotations

import click

from recordgen.clock import Clock, SystemClock

CLOCK_KEY = "recordgen.clock"


def keep_clock(ctx: click.Context) -> None:
    """Keep the clock handed in as the context's object (if any) for every command to use."""
    injected = ctx.obj
    ctx.meta[CLOCK_KEY] = injected if callable(getattr(injected, "now", None)) else SystemClock()


def clock_of(ctx: click.Context) -> Clock:
    """The clock every command takes the time from."""
    clock = ctx.meta.get(CLOCK_KEY)
    return clock if clock is not None else SystemClock()
