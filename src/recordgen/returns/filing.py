"""Counting a return and putting its files in the outbox (``recordgen report``).

Returns are filed in ``outbox/_returns/``: a folder name that can never be a case's, since a case
reference starts with a letter or a digit. Each file is written whole and read-only, never over
another (:func:`recordgen.documents.publish.publish`), and named by its period, its kind, its copy
and its version: the same return over the same records is the same bytes, so it is found already
filed and not made again; a return for the same period over changed records is the next version.
Each file is recorded in the audit trail with its SHA-256, so ``recordgen verify`` finds one
missing or altered.

    2026-Q3_quarterly-return_v1_commissioner.xlsx    figures only: no names, no case references
    2026-Q3_quarterly-return_v1_internal.xlsx        the figures and the case references behind them
    2026-Q3_quarterly-return_v1_support-workers.xlsx each support worker's figures (staff names)
    2026-Q3_quarterly-return_v1_appendix-1.csv       the commissioner's tables, one CSV each
    2026-Q3_quarterly-return_v1_report.docx (.pdf)   the short report with charts (no names)
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from recordgen.documents.convert import Converter
from recordgen.documents.publish import publish, read_published, sha256_of
from recordgen.documents.template_check import REPORT_TEMPLATE
from recordgen.errors import PublishError, StoreError, TemplateError
from recordgen.records.rows import AuditEntry
from recordgen.records.verify import extra_recorded_files
from recordgen.returns.build import HoldsRecords, monitoring_return
from recordgen.returns.figures import MonitoringReturn
from recordgen.returns.period import Period
from recordgen.returns.report import chart_drawer, render_report
from recordgen.returns.spreadsheet import csv_bytes, workbook_bytes
from recordgen.returns.tables import Copy, tables
from recordgen.settings import Settings

RETURNS_FOLDER = "_returns"
REPORT_KIND = "monitoring_return"  # for [output] pdf_off_for
RETURN_WRITTEN = "monitoring return written"  # "... written": verify checks the file it names


class FilesRecords(HoldsRecords, Protocol):
    """What filing a return needs of a store: reading it, and its audit trail."""

    def audit(self, action: str, case_ref: str | None, detail: Mapping[str, Any]) -> None: ...

    def audit_entries(self, action: str | None = None) -> list[AuditEntry]: ...

    def transaction(self) -> Any: ...


_MOST_VERSIONS = 999


@dataclass(frozen=True)
class FiledReturn:
    """A return counted and filed: its figures, the files (relative to the outbox), and whether
    they were already there (the same records gave the same return before)."""

    figures: MonitoringReturn
    files: tuple[str, ...]
    version: int
    already_filed: bool


def return_files(found: MonitoringReturn, settings: Settings, kind: str
                 ) -> dict[str, bytes]:
    """Every file of a return, by the last part of its name: the three workbooks and the
    commissioner's CSV files."""
    service = settings.provider.service_name
    title = f"{kind.capitalize()} return, {found.period.label}"
    files = {f"{copy_name}.xlsx": workbook_bytes(tables(found, copy, service, title), title)
             for copy_name, copy in (("commissioner", Copy.COMMISSIONER),
                                     ("internal", Copy.INTERNAL),
                                     ("support-workers", Copy.WORKERS))}
    for table in tables(found, Copy.COMMISSIONER, service, title):
        files[f"{table.file_stem}.csv"] = csv_bytes(table)
    return files


def file_return(store: FilesRecords, settings: Settings, period: Period, today: dt.date, *,
                quarterly: bool, converter: Converter) -> FiledReturn:
    """Count the return for ``period`` and file it in the outbox, unless the very same return is
    filed already. The charts are drawn by a process started before the count (while this one is
    small) and given the figures once they are counted."""
    with chart_drawer() as drawer:
        found = monitoring_return(store, settings.returns, period, today, quarterly=quarterly)
        drawer.give(found)
        return file_counted(store, settings, found, "quarterly" if quarterly else "monthly",
                            converter, drawer.result)


def file_counted(store: FilesRecords, settings: Settings, found: MonitoringReturn, kind: str,
                 converter: Converter, charts: Callable[[], dict[str, bytes]] | None = None
                 ) -> FiledReturn:
    """File a return already counted: the first version whose files are all absent (a new
    version) or all this very return's (filed before, or cut short by a crash: the rest is filed
    now). The PDF, which LibreOffice stamps with the time, is not compared: it is made from the
    Word report when that is new.

    The charts are ``charts()`` (a drawer already given ``found``), or else drawn in a process of
    their own; either way, while the workbooks are written."""
    with ExitStack() as drawing:
        if charts is None:
            drawer = drawing.enter_context(chart_drawer())
            drawer.give(found)
            charts = drawer.result
        files = return_files(found, settings, kind)
        pictures = charts()  # the same in every version's report
    outbox = settings.folders.outbox
    # One filer at a time chooses the version and files it (the store's write lock, which every
    # recordgen sharing the store takes, on one server or several): two asking for the same
    # period over different records get a version each, never the same name.
    with store.transaction():
        for version in range(1, _MOST_VERSIONS + 1):
            report = render_report(found, settings, kind, version, pictures)
            prefix = f"{found.period.key}_{kind}-return_v{version}_"
            names = {prefix + part: content
                     for part, content in {**files, "report.docx": report.content}.items()}
            filed = {name: read_published(outbox, RETURNS_FOLDER, name) for name in names}
            if all(old is None or old == names[name] for name, old in filed.items()):
                break
        else:
            versions = "version" if _MOST_VERSIONS == 1 else "versions"
            raise PublishError(f"{found.period.label} has {_MOST_VERSIONS:,} {versions} of its "
                               f"{kind} return already; move the old ones out of the outbox's "
                               "_returns folder.")
        for name, content in names.items():
            if filed[name] is None:
                publish(outbox, RETURNS_FOLDER, name, content)
        # Recorded before the PDF is made: a converter that fails leaves no unrecorded file.
        _record(store, found.period, kind, version, names, report.template_sha256)
    pdf_name = prefix + "report.pdf"
    if settings.output.wants_pdf(REPORT_KIND):
        pdf = read_published(outbox, RETURNS_FOLDER, pdf_name)
        if pdf is None:
            pdf = _pdf(converter, report.content, prefix + "report")
            if pdf is not None:
                try:
                    publish(outbox, RETURNS_FOLDER, pdf_name, pdf)
                except PublishError:  # another filer of this very return made its PDF meanwhile
                    pdf = read_published(outbox, RETURNS_FOLDER, pdf_name)
                    if pdf is None:
                        raise
        if pdf is not None:
            names[pdf_name] = pdf
            with store.transaction():
                _record(store, found.period, kind, version, {pdf_name: pdf},
                        report.template_sha256)
    return FiledReturn(found, _relative(names), version,
                       already_filed=all(old is not None for old in filed.values()))


def _pdf(converter: Converter, docx: bytes, stem: str) -> bytes | None:
    """The Word report as PDF, or None when PDFs are switched off."""
    with tempfile.TemporaryDirectory(prefix="recordgen-return-") as work:
        source = Path(work) / f"{stem}.docx"
        source.write_bytes(docx)
        made = converter.convert([source], Path(work) / "pdf")
        return made[source].read_bytes() if source in made else None


def _record(store: FilesRecords, period: Period, kind: str, version: int,
            names: dict[str, bytes], template_sha256: str) -> None:
    """Record each file in the audit trail, once (``recordgen verify`` then checks it is still
    there, unaltered, as it checks every document)."""
    recorded = extra_recorded_files(store.audit_entries(RETURN_WRITTEN))
    for name, content in names.items():
        relative = f"{RETURNS_FOLDER}/{name}"
        if relative not in recorded:
            store.audit(RETURN_WRITTEN, None, {
                "file": relative, "sha256": sha256_of(content), "period": period.key,
                "label": period.label, "first": period.first.isoformat(),
                "last": period.last.isoformat(), "return": kind, "version": version,
                "template_sha256": template_sha256})


@dataclass(frozen=True)
class FiledPeriod:
    """A return filed before, as the audit trail records it."""

    period: Period
    kind: str
    template_sha256: str


def filed_returns(store: FilesRecords) -> list[FiledPeriod]:
    """Every return filed, once each (its latest version), oldest first. An entry for a return's
    file that cannot be read is an error naming it (:class:`StoreError`), never passed over: a
    return left out here would never be remade."""
    found: dict[tuple[str, str], FiledPeriod] = {}
    for entry in store.audit_entries(RETURN_WRITTEN):
        if entry.action != RETURN_WRITTEN:
            continue
        detail = entry.detail
        name = detail.get("file")
        if not isinstance(name, str) or not name:
            raise _unreadable_entry(entry, "it does not say which file it records")
        if not name.endswith(".docx"):
            continue  # the report says which return it is; the other files say the same
        try:
            period = Period(dt.date.fromisoformat(str(detail["first"])),
                            dt.date.fromisoformat(str(detail["last"])), str(detail["label"]),
                            str(detail["period"]))
            kind, template = detail["return"], detail["template_sha256"]
        except (KeyError, ValueError):
            raise _unreadable_entry(entry, f"it does not say which period {name} is for, or "
                                    "what it was made from") from None
        if kind not in ("monthly", "quarterly") or not isinstance(template, str):
            raise _unreadable_entry(entry, f"it does not say which return {name} is, or what "
                                    "it was made from")
        found[(period.key, kind)] = FiledPeriod(period, kind, template)
    return list(found.values())


def _unreadable_entry(entry: AuditEntry, what: str) -> StoreError:
    return StoreError(
        f"Audit entry {entry.id} (\"{entry.action}\", made at {entry.at}) cannot be read: {what}. "
        "recordgen cannot tell which monitoring return it records, so it cannot say whether that "
        "return needs remaking, and has remade no return. Run `recordgen verify` to see whether "
        "the records store was altered; keep its output and tell your information governance "
        "lead.")


def stale_returns(store: FilesRecords, settings: Settings) -> list[FiledPeriod]:
    """The filed returns whose report template has changed since they were made. With returns
    filed and the report template missing, an error saying so (:class:`TemplateError`): whether
    they are stale cannot be told, and none is passed over."""
    filed = filed_returns(store)
    if not filed:
        return []
    path = settings.folders.templates / REPORT_TEMPLATE
    try:
        current = sha256_of(path.read_bytes())
    except OSError as exc:
        raise TemplateError(
            f"The monitoring return's report template {path} could not be read "
            f"({exc.strerror or exc}), so recordgen cannot tell whether the {len(filed):,} "
            f"{'return' if len(filed) == 1 else 'returns'} filed so far need remaking, and has "
            "remade none. Put the template back (recordgen's own templates folder holds the "
            "original), run `recordgen templates check`, then run this again.") from exc
    return [one for one in filed if one.template_sha256 != current]


def regenerate_returns(store: FilesRecords, settings: Settings, today: dt.date,
                       converter: Converter) -> list[FiledReturn]:
    """Remake every filed return whose report template has changed since it was made, counted
    from the records as they stand: each becomes a new version (``recordgen regenerate``)."""
    return [file_counted(store, settings,
                         monitoring_return(store, settings.returns, filed.period, today,
                                           quarterly=filed.kind == "quarterly"),
                         filed.kind, converter)
            for filed in stale_returns(store, settings)]


def _relative(names: dict[str, bytes]) -> tuple[str, ...]:
    return tuple(str(Path(RETURNS_FOLDER) / name) for name in names)
