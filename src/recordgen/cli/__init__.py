"""The command line: each command parses options, calls one library function, and turns recordgen's
errors into a plain message and a non-zero exit code."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from recordgen import __version__
from recordgen.cli.context import clock_of, keep_clock
from recordgen.cli.deadline import deadline
from recordgen.cli.exit_codes import (  # noqa: F401 (EXIT_OK and EXIT_FAULT: for tests and readers)
    EXIT_FAULT,
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_SETTINGS,
    exit_code_for,
)
from recordgen.cli.watch import watch
from recordgen.dates import uk_date
from recordgen.deadlines.clocks import ClockName
from recordgen.deadlines.due import due_csv, due_rows, run_notes
from recordgen.documents.regenerate import Selection
from recordgen.documents.regenerate import regenerate as regenerate_documents
from recordgen.documents.template_check import check_templates
from recordgen.documents.validate import SchemaSet, canonical_case_ref
from recordgen.errors import CaseFileError, RecordgenError
from recordgen.intake.inbox import NOT_TAKEN, init_store, open_services, outbox_holdings, process_inbox
from recordgen.intake.load import read_case_file
from recordgen.intake.rejected import friendly_path
from recordgen.kinds import CASE_FILE_KINDS, KINDS
from recordgen.pipeline import Outcome
from recordgen.records.seal import current_seal
from recordgen.records.seal import describe as describe_seal
from recordgen.records.verify import HOW_TO_CHANGE_A_DOCUMENT, case_history, verify_advice
from recordgen.records.verify import verify as verify_store
from recordgen.settings import DEFAULT_SETTINGS_NAME, Settings, load_settings
from recordgen.subject_access.requests import validate_case_file


def _console() -> Console:
    # Not on a terminal (a log, an email from cron), rich would fold every column at 80 characters.
    return Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 200)


class RecordgenGroup(click.Group):
    """Turns recordgen's own errors into a message and an exit code, never a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except RecordgenError as exc:
            click.echo(f"recordgen: {exc}", err=True)
            ctx.exit(EXIT_SETTINGS if ctx.obj is None else exit_code_for(exc))


@click.group(cls=RecordgenGroup)
@click.version_option(__version__, prog_name="recordgen")
@click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"The settings file (default: ./{DEFAULT_SETTINGS_NAME}).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log each file processed.")
@click.pass_context
def cli(ctx: click.Context, config: Path | None, verbose: bool) -> None:
    """recordgen: statutory documents and records for housing-support services."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    keep_clock(ctx)
    ctx.obj = load_settings(config)


def _case_ref(_: click.Context, __: click.Parameter, value: str | None) -> str | None:
    """A case reference typed on the command line, in the one form cases are stored under
    (``ths-b1`` finds THS-B1); spaces copied in around it are dropped."""
    if value is None:
        return None
    try:
        return canonical_case_ref(value.strip())
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _settings(ctx: click.Context) -> Settings:
    settings = ctx.find_object(Settings)
    assert settings is not None
    return settings


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.pass_context
def process(ctx: click.Context, paths: Sequence[Path]) -> None:
    """Process every case file in the inbox (or just PATHS) once, then stop."""
    settings = _settings(ctx)
    clock = clock_of(ctx)
    with open_services(settings, clock) as services:
        outcomes = process_inbox(services, paths)
        notes = run_notes(services.store, settings.calendar,
                          clock.now().date(), [d for o in outcomes for d in o.documents])
    _summary(outcomes, settings)
    for note in notes:
        click.echo(note)
    if any(o.status in ("rejected", "held", NOT_TAKEN) for o in outcomes):
        ctx.exit(EXIT_PROBLEMS)


def _summary(outcomes: Sequence[Outcome], settings: Settings) -> None:
    """What happened to each file, a few plain lines per file: a file or document name is never
    broken over lines (a table folds them at 80 columns in a log or an email)."""
    if not outcomes:
        click.echo(f"No case files waiting in {settings.folders.inbox}.")
        return
    click.echo("recordgen: what happened to each file")
    for outcome in outcomes:
        about = ", ".join(x for x in (outcome.case_ref, _kind_words(outcome.kind)) if x)
        click.echo(f"\n{outcome.file_name}")
        click.echo(f"  {outcome.status}{f' ({about})' if about else ''}")
        for document in outcome.documents:
            click.echo(f"  {document}")
        if outcome.message and not outcome.documents:
            click.echo(f"  {outcome.message}")
        if outcome.problems:
            count = len(outcome.problems)
            click.echo(f"  {count} {'problem' if count == 1 else 'problems'}, the first: "
                       f"{outcome.problems[0].message} See the .errors.txt note beside the file.")
    counts = {s: sum(1 for o in outcomes if o.status == s) for s in
              ("produced", "unchanged", "duplicate", "rejected", "held", NOT_TAKEN)}
    click.echo("\n" + ", ".join(f"{n} {s}" for s, n in counts.items() if n))
    click.echo(f"Documents are in {settings.folders.outbox}. {HOW_TO_CHANGE_A_DOCUMENT}")
    if counts["rejected"]:
        click.echo(f"Rejected files and notes saying what to fix are in {settings.folders.rejected}")
    if counts["held"]:
        click.echo("Held files stay in the work area and are tried again on the next run.")
    if counts[NOT_TAKEN]:
        click.echo("Files not taken were left where they are; the reason is beside each.")


def _kind_words(kind: str | None) -> str:
    if kind is None:
        return ""
    return CASE_FILE_KINDS[kind].title.lower() if kind in CASE_FILE_KINDS else kind


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.pass_context
def validate(ctx: click.Context, files: Sequence[Path]) -> None:
    """Check case files without producing anything; list every problem found."""
    settings = _settings(ctx)
    schemas = SchemaSet(settings.folders.schemas)
    today = clock_of(ctx).now().date()
    failed = 0
    for path in files:
        try:
            document = read_case_file(path, settings.limits.max_case_file_bytes,
                                      settings.limits.max_nesting_depth)
            case = validate_case_file(document, schemas, settings, today)
        except CaseFileError as exc:
            failed += 1
            click.echo(f"{path}: {len(exc.problems)} problem(s)")
            for problem in exc.problems:
                click.echo(f"  - Where: {friendly_path(problem.path)} ({problem.path})")
                click.echo(f"    What is wrong: {problem.message}")
                click.echo(f"    How to fix it: {problem.fix}")
            continue
        click.echo(f"{path}: OK ({case.kind.title}, case {case.case_ref})")
    if failed:
        ctx.exit(EXIT_PROBLEMS)


@cli.command()
@click.option("--overdue", is_flag=True, help="Only clocks already past their due date.")
@click.option("--within", type=click.IntRange(min=0), metavar="N",
              help="Only clocks due within N working days (overdue ones included).")
@click.option("--case", "case_ref", metavar="CASE_REF", callback=_case_ref,
              help="Only this case.")
@click.option("--kind", "clock_name", type=click.Choice([c.value for c in ClockName]),
              help="Only this kind of clock.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV for a spreadsheet.")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), hidden=True)
@click.pass_context
def due(ctx: click.Context, overdue: bool, within: int | None, case_ref: str | None,
        clock_name: str | None, as_csv: bool, today: dt.datetime | None) -> None:
    """List every open statutory clock, soonest first."""
    settings = _settings(ctx)
    day = today.date() if today else clock_of(ctx).now().date()
    with open_services(settings, clock_of(ctx)) as services:
        rows = due_rows(services.store.clocks(open_only=True),
                        settings.calendar, day, overdue_only=overdue,
                        within=within, case_ref=case_ref,
                        clock=ClockName(clock_name) if clock_name else None)
    if as_csv:
        click.echo(due_csv(rows), nl=False)
        return
    if not rows:
        click.echo("Nothing is due: no open clocks match.")
        return
    table = Table(title=f"Open statutory clocks on {uk_date(day)}")
    for column in ("Case", "What is due", "Due by", "Working days left"):
        table.add_column(column, overflow="fold")
    for row in rows:
        left = str(row.working_days_left) if row.working_days_left >= 0 else \
            f"{row.working_days_left} (overdue)"
        table.add_row(row.case_ref, row.what_in_full, row.due_text, left)
    _console().print(table)


@cli.command()
@click.option("--case", "case_ref", metavar="CASE_REF", callback=_case_ref,
              help="Only this case.")
@click.option("--kind", type=click.Choice(sorted(KINDS)), help="Only this kind of document.")
@click.option("--from", "received_from", type=click.DateTime(["%Y-%m-%d"]),
              help="Only case files received on or after this date.")
@click.option("--to", "received_to", type=click.DateTime(["%Y-%m-%d"]),
              help="Only case files received on or before this date.")
@click.option("--dry-run", is_flag=True, help="List what would change; write nothing.")
@click.option("--workers", type=click.IntRange(min=1), help="Rendering processes (default: "
              "one per core).")
@click.pass_context
def regenerate(ctx: click.Context, case_ref: str | None, kind: str | None,
               received_from: dt.datetime | None, received_to: dt.datetime | None,
               dry_run: bool, workers: int | None) -> None:
    """Re-render documents with the current templates and settings; changed ones become new
    versions, unchanged ones are left alone."""
    settings = _settings(ctx)
    selection = Selection(case_ref, kind, received_from.date() if received_from else None,
                          received_to.date() if received_to else None)
    console = _console()
    processes = min(workers or os.cpu_count() or 1, os.cpu_count() or 1)
    with open_services(settings, clock_of(ctx), pdf_processes=processes) as services, Progress(
        TextColumn("Regenerating"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        console=console, transient=True, disable=dry_run,
    ) as bar:
        task = bar.add_task("regenerate", total=None)
        try:
            results = regenerate_documents(
                services, selection, dry_run=dry_run, workers=workers,
                progress=lambda done, total: bar.update(task, completed=done, total=total))
        except KeyboardInterrupt:
            console.print("Stopped. Run the same command again to finish: what was done is "
                          "recorded, and nothing will be done twice.")
            ctx.exit(130)
    for result in results:
        if result.status in ("would regenerate", "superseded", "failed", "left alone"):
            console.print(f"{result.status}: {result.case_ref} {result.series}"
                          + (f" ({result.reason})" if result.reason else ""))
    counts = {s: sum(1 for r in results if r.status == s) for s in
              ("regenerated", "would regenerate", "unchanged", "superseded", "left alone",
               "failed")}
    console.print(", ".join(f"{n} {s}" for s, n in counts.items() if n) or
                  "No documents match.")
    if counts["failed"]:
        ctx.exit(EXIT_PROBLEMS)


@cli.command()
@click.argument("case_ref", callback=_case_ref)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.pass_context
def history(ctx: click.Context, case_ref: str, as_json: bool) -> None:
    """Everything received and produced for CASE_REF, in order, with hashes."""
    settings = _settings(ctx)
    with open_services(settings, clock_of(ctx)) as services:
        events = case_history(services.store, case_ref)
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


@cli.command()
@click.pass_context
def verify(ctx: click.Context) -> None:
    """Check the audit trail's hash chain against its seals, every stored row against the trail,
    and every output file against the store."""
    settings = _settings(ctx)
    with open_services(settings, clock_of(ctx), read_only=True) as services:
        result = verify_store(services.store, settings.folders.outbox)
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


@cli.group("store")
def store_group() -> None:
    """Look after the records store."""


@store_group.command("init")
@click.pass_context
def store_init(ctx: click.Context) -> None:
    """Make a new, empty records store where the settings say (never over an existing one)."""
    settings = _settings(ctx)
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
    settings = _settings(ctx)
    with open_services(settings, clock_of(ctx), read_only=True) as services:
        seal = current_seal(services.store)
    if seal is None:
        click.echo("The audit trail is empty: there is nothing to seal yet.")
        return
    click.echo(f"The records store's seal, {describe_seal(seal)}")


@cli.group()
def templates() -> None:
    """Look after the Word templates."""


@templates.command("check")
@click.pass_context
def templates_check(ctx: click.Context) -> None:
    """Report template tags Jinja cannot parse and fields no schema defines."""
    settings = _settings(ctx)
    findings = check_templates(settings.folders.templates, SchemaSet(settings.folders.schemas))
    for finding in findings:
        click.echo(str(finding))
    if findings:
        ctx.exit(EXIT_PROBLEMS)
    click.echo("All templates parse, and every field they use is defined by a schema.")


cli.add_command(deadline)
cli.add_command(watch)


def main() -> None:
    cli(prog_name="recordgen")
