"""``recordgen history``, ``recordgen verify`` and ``recordgen store``: the record, read back and
looked after."""

from __future__ import annotations

import json

import click

from recordgen.cli.context import case_ref_option, clock_of, settings_of
from recordgen.cli.exit_codes import EXIT_PROBLEMS
from recordgen.dates import parse_when, uk_date, uk_when, working_days_words
from recordgen.deadlines.clocks import clock_words, known_clock
from recordgen.records.history import HistoryEvent, case_history, status_of
from recordgen.records.opening import copy_to, init_store, migrate_store, outbox_holdings
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
    today = clock_of(ctx).now().date()
    with open_records(settings, clock_of(ctx), seal=False) as store:
        events = case_history(store, case_ref)
        status = status_of(store, case_ref, today)
    if as_json:
        click.echo(json.dumps([{"at": e.at, "what": e.what, **e.detail} for e in events],
                              indent=2, ensure_ascii=False))
        return
    if not events:
        click.echo(f"Nothing is recorded for case {case_ref}.")
        ctx.exit(EXIT_PROBLEMS)
    # Plain lines, not a table: a SHA-256 is shown whole, and is never folded over lines.
    click.echo(f"History of case {case_ref}")
    click.echo(f"Case status on {uk_date(today)}: {status.words}")
    for event in events:
        click.echo(f"\n{_line(event)}")
        for label, key in (("SHA-256", "sha256"), ("PDF", "pdf"), ("PDF SHA-256", "pdf_sha256")):
            if event.detail.get(key):
                click.echo(f"    {label}: {event.detail[key]}")


def _line(event: HistoryEvent) -> str:
    """An event as staff read it: a UK date (and time), and a clock in words."""
    at = uk_when(parse_when(event.at))
    detail = event.detail
    if "clock" not in detail:
        return f"{at}  {event.what}"
    what = clock_words(known_clock(str(detail["clock"])))
    state = ("still open" if detail.get("closed") is None else "met" if detail.get("met")
             else f"late by {working_days_words(detail.get('working_days_late') or 0)}")
    return (f"{at}  {what[0].upper()}{what[1:]} started, due by "
            f"{uk_when(parse_when(str(detail['due'])))}: {state}")


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


_URL_HELP = ("A PostgreSQL database to use instead of the settings' [store] url, as "
             "postgresql://ROLE@HOST/DATABASE (no password: PostgreSQL takes it from PGPASSWORD "
             "or ~/.pgpass). Use the role that owns the store's tables.")
_GRANT_HELP = "Grant this PostgreSQL role what a watcher needs, and nothing more."


@store_group.command("init")
@click.option("--url", default=None, help=_URL_HELP)
@click.option("--grant-to", "grant_to", default=None, metavar="ROLE", help=_GRANT_HELP)
@click.pass_context
def store_init(ctx: click.Context, url: str | None, grant_to: str | None) -> None:
    """Make a new, empty records store where the settings say (never over an existing one)."""
    settings = settings_of(ctx)
    held = outbox_holdings(settings.folders.outbox)
    path = init_store(settings, clock_of(ctx), url=url, grant_to=grant_to)
    click.echo(f"A new, empty records store was made at {path}.")
    if grant_to:
        click.echo(f"The role {grant_to} may now record, and may not alter or delete what is "
                   "recorded.")
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


@store_group.command("migrate")
@click.option("--url", default=None, help=_URL_HELP)
@click.option("--grant-to", "grant_to", default=None, metavar="ROLE", help=_GRANT_HELP)
@click.pass_context
def store_migrate(ctx: click.Context, url: str | None, grant_to: str | None) -> None:
    """Bring a PostgreSQL store's tables up to this version of recordgen, as their owner."""
    where = migrate_store(settings_of(ctx), clock_of(ctx), url=url, grant_to=grant_to)
    click.echo(f"The records store at {where} is up to date.")
    if grant_to:
        click.echo(f"The role {grant_to} has a watcher's rights, and no more.")


@store_group.command("copy")
@click.option("--to", "to", required=True, metavar="URL",
              help="The PostgreSQL database to copy into, as postgresql://ROLE@HOST/DATABASE "
                   "(no password: PostgreSQL takes it from PGPASSWORD or ~/.pgpass).")
@click.option("--grant-to", "grant_to", default=None, metavar="ROLE", help=_GRANT_HELP)
@click.pass_context
def store_copy(ctx: click.Context, to: str, grant_to: str | None) -> None:
    """Copy the whole record (case files, documents, versions, clocks, seals and the audit trail)
    into a PostgreSQL database, and check the copy with verify. Stop every watcher first.
    Interrupted, it can simply be run again."""
    settings = settings_of(ctx)
    result = copy_to(settings, to, clock_of(ctx), grant_to=grant_to,
                     progress=lambda table, n: click.echo(f"  {table}: {n} rows", err=True)
                     if n % 5000 == 0 else None)
    if result.copied.already_complete:
        click.echo(f"{result.where} already holds a complete copy; nothing more was copied.")
    else:
        held = result.copied.held
        click.echo(f"Copied into {result.where}: {held['submissions']} case file(s) received, "
                   f"{held['documents']} document(s), {held['clocks']} clock(s), "
                   f"{held['versions']} version number(s), {held['seals']} seal(s) and "
                   f"{held['audit']} audit entries (the last says where the copy came from).")
    for finding in result.findings:
        click.echo(str(finding))
    if result.findings:
        click.echo(f"recordgen verify found {len(result.findings)} problem(s) in the copy; keep "
                   "using the old store until they are understood.")
        ctx.exit(EXIT_PROBLEMS)
    click.echo("recordgen verify passes on the copy. To use it, set [store] url (and the "
               "password) in the settings file, then start the watchers again.")
