"""``recordgen history``, ``recordgen verify`` and ``recordgen store``: the record, read back and
looked after."""

from __future__ import annotations

import json

import click

from recordgen.cli.context import case_ref_option, clock_of, settings_of
from recordgen.cli.exit_codes import EXIT_PROBLEMS
from recordgen.records.history import case_history
from recordgen.records.opening import init_store, outbox_holdings
from recordgen.records.seal import current_seal
from recordgen.records.seal import describe as describe_seal
from recordgen.records.verify import verify as verify_store
from recordgen.records.verify import verify_advice
from recordgen.services import open_records


@click.command()
@click.argument("case_ref", callback=case_ref_option)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.pass_context
def history(ctx: click.Context, case_ref: str, as_json: bool) -> None:
    """Everything received and produced for CASE_REF, in order, with hashes."""
    settings = settings_of(ctx)
    with open_records(settings, clock_of(ctx), seal=False) as store:
        events = case_history(store, case_ref)
    if as_json:
        click.echo(json.dumps([{"at": e.at, "what": e.what, **e.detail} for e in events],
                              indent=2, ensure_ascii=False))
        return
    if not events:
        click.echo(f"Nothing is recorded for case {case_ref}.")
        ctx.exit(EXIT_PROBLEMS)
    # Plain lines, not a table: a SHA-256 is shown whole, and is never folded over lines.
    click.echo(f"History of case {case_ref}")
    for event in events:
        click.echo(f"\n{event.at.replace('T', ' ')}  {event.what}")
        for label, key in (("SHA-256", "sha256"), ("PDF", "pdf"), ("PDF SHA-256", "pdf_sha256")):
            if event.detail.get(key):
                click.echo(f"    {label}: {event.detail[key]}")


@click.command()
@click.pass_context
def verify(ctx: click.Context) -> None:
    """Check the audit trail's hash chain against its seals, every stored row against the trail,
    and every output file against the store."""
    settings = settings_of(ctx)
    with open_records(settings, clock_of(ctx), may_create=False, seal=False) as store:
        result = verify_store(store, settings.folders.outbox)
    for finding in result.findings:
        click.echo(str(finding))
    if result.findings:
        click.echo(f"{len(result.findings)} problem(s) found.")
        for advice in verify_advice(result.findings):
            click.echo(advice)
        ctx.exit(EXIT_PROBLEMS)
    seals = (f"it agrees with all {result.seals} seals written outside the store" if result.seals
             else "no seal has been written outside the store yet (one is written after every "
                  "run)")
    click.echo(f"The record is intact: {result.entries} audit entries chained, every stored row "
               f"matches the trail, {seals}, and every output file matches the store.")


@click.group("store")
def store_group() -> None:
    """Look after the records store."""


@store_group.command("init")
@click.pass_context
def store_init(ctx: click.Context) -> None:
    """Make a new, empty records store where the settings say (never over an existing one)."""
    settings = settings_of(ctx)
    held = outbox_holdings(settings.folders.outbox)
    path = init_store(settings, clock_of(ctx))
    click.echo(f"A new, empty records store was made at {path}.")
    if held:
        click.echo(f"The outbox already holds {len(held)} item(s) this store has no record of; "
                   "'recordgen verify' will list each one until they are moved out.")


@store_group.command("seal")
@click.pass_context
def store_seal(ctx: click.Context) -> None:
    """Print the audit trail's seal as it stands, to keep a copy outside recordgen."""
    settings = settings_of(ctx)
    with open_records(settings, clock_of(ctx), may_create=False, seal=False) as store:
        seal = current_seal(store)
    if seal is None:
        click.echo("The audit trail is empty: there is nothing to seal yet.")
        return
    click.echo(f"The records store's seal, {describe_seal(seal)}")
