"""``recordgen process`` and ``recordgen validate``: case files, once, from the command line."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

import click

from recordgen.cli.context import clock_of, settings_of
from recordgen.cli.exit_codes import EXIT_PROBLEMS
from recordgen.deadlines.due import run_notes
from recordgen.documents.validate import SchemaSet, validate_case_file
from recordgen.errors import CaseFileError, StoreMissing
from recordgen.intake.load import read_case_file
from recordgen.intake.rejected import friendly_path
from recordgen.kinds import KINDS
from recordgen.pipeline import FileStatus, Outcome
from recordgen.pipeline.inbox import process_inbox
from recordgen.records.case_files import accepted_case_files
from recordgen.records.store import Store
from recordgen.records.verify import HOW_TO_CHANGE_A_DOCUMENT
from recordgen.services import open_records, open_services
from recordgen.settings import Settings
from recordgen.status.board import after_run

# What the summary counts, in this order.
_COUNTED = (FileStatus.PRODUCED, FileStatus.RECORDED, FileStatus.UNCHANGED, FileStatus.DUPLICATE,
            FileStatus.REJECTED, FileStatus.HELD, FileStatus.NOT_TAKEN)
_NEEDS_ATTENTION = (FileStatus.REJECTED, FileStatus.HELD, FileStatus.NOT_TAKEN)


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.pass_context
def process(ctx: click.Context, paths: Sequence[Path]) -> None:
    """Process every case file in the inbox (or just PATHS) once, then stop."""
    settings = settings_of(ctx)
    clock = clock_of(ctx)
    with open_services(settings, clock) as services:
        outcomes = process_inbox(services, paths)
        now = clock.now()
        notes = run_notes(services.store, settings.calendar,
                          now.date(), [d for o in outcomes for d in o.documents],
                          settings.rules, now=now)
        # The status page in the shared folder (a failure to write it is logged, never fatal).
        after_run(settings, services.store, clock, outcomes, looked=not paths)
    _summary(outcomes, settings)
    for note in notes:
        click.echo(note)
    if any(o.status in _NEEDS_ATTENTION for o in outcomes):
        ctx.exit(EXIT_PROBLEMS)


def _summary(outcomes: Sequence[Outcome], settings: Settings) -> None:
    """What happened to each file, a few plain lines per file: a file or document name is never
    broken over lines (a table folds them at 80 columns in a log or an email)."""
    if not outcomes:
        click.echo(f"No case files waiting in {settings.folders.inbox}.")
        return
    click.echo("recordgen: what happened to each file")
    for outcome in outcomes:
        about = ", ".join(x for x in (outcome.case_ref, _kind_words(outcome.kind, outcome.status))
                          if x)
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
    counts = {s: sum(1 for o in outcomes if o.status is s) for s in _COUNTED}
    click.echo("\n" + ", ".join(f"{n} {s}" for s, n in counts.items() if n))
    click.echo(f"Documents are in {settings.folders.outbox}. {HOW_TO_CHANGE_A_DOCUMENT}")
    if counts[FileStatus.REJECTED]:
        click.echo(f"Rejected files and notes saying what to fix are in {settings.folders.rejected}")
    if counts[FileStatus.HELD]:
        click.echo("Held files stay in the work area and are tried again on the next run.")
    if counts[FileStatus.NOT_TAKEN]:
        click.echo("Files not taken were left where they are; the reason is beside each.")


def _kind_words(kind: str | None, status: FileStatus) -> str:
    """What the file was, as the summary says it: the document made from it, or, for a case file
    that issues nothing, the case file itself ("recorded (THS-2026-0142, money secured)")."""
    if kind is None:
        return ""
    if kind not in KINDS:
        return kind
    found = KINDS[kind]
    return (found.request_title if status is FileStatus.RECORDED else found.title).lower()


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.pass_context
def validate(ctx: click.Context, files: Sequence[Path]) -> None:
    """Check case files without producing anything; list every problem found."""
    settings = settings_of(ctx)
    with ExitStack() as stack:
        try:  # a review is checked against the case's current plan, when there is a store
            store: Store | None = stack.enter_context(
                open_records(settings, clock_of(ctx), may_create=False, seal=False))
        except StoreMissing:
            store = None
        _validate_files(ctx, settings, files, store)


def _validate_files(ctx: click.Context, settings: Settings, files: Sequence[Path],
                    store: Store | None) -> None:
    schemas = SchemaSet(settings.folders.schemas)
    today = clock_of(ctx).now().date()
    lookup = None if store is None else (lambda ref: accepted_case_files(store, ref))
    failed = 0
    for path in files:
        try:
            document = read_case_file(path, settings.limits.max_case_file_bytes,
                                      settings.limits.max_nesting_depth)
            case = validate_case_file(document, schemas, settings, today, case_files=lookup)
        except CaseFileError as exc:
            failed += 1
            click.echo(f"{path}: {len(exc.problems)} problem(s)")
            for problem in exc.problems:
                click.echo(f"  - Where: {friendly_path(problem.path)} ({problem.path})")
                click.echo(f"    What is wrong: {problem.message}")
                click.echo(f"    How to fix it: {problem.fix}")
            continue
        click.echo(f"{path}: OK ({case.kind.request_title}, case {case.case_ref})")
        if store is None and case.kind.checked_against_case:
            click.echo("  Checked without the records store (there is none yet): what it says "
                       "about the case's earlier records is checked when it is processed.")
    if failed:
        ctx.exit(EXIT_PROBLEMS)
