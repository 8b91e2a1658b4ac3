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
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from recordgen.documents.publish import publish, read_published, sha256_of
from recordgen.errors import PublishError
from recordgen.records.rows import AuditEntry
from recordgen.records.verify import extra_recorded_files
from recordgen.returns.build import HoldsRecords, monitoring_return
from recordgen.returns.figures import MonitoringReturn
from recordgen.returns.period import Period
from recordgen.returns.spreadsheet import csv_bytes, workbook_bytes
from recordgen.returns.tables import Copy, tables
from recordgen.settings import Settings

RETURNS_FOLDER = "_returns"
RETURN_WRITTEN = "monitoring return written"  # "... written": verify checks the file it names


class FilesRecords(HoldsRecords, Protocol):
    """What filing a return needs of a store: reading it, and its audit trail."""

    def audit(self, action: str, case_ref: str | None, detail: Mapping[str, Any]) -> None: ...

    def audit_entries(self) -> list[AuditEntry]: ...
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
                quarterly: bool) -> FiledReturn:
    """Count the return for ``period`` and file it in the outbox, unless the very same return is
    filed already."""
    found = monitoring_return(store, settings.returns, period, today, quarterly=quarterly)
    kind = "quarterly" if quarterly else "monthly"
    files = return_files(found, settings, kind)
    outbox = settings.folders.outbox
    for version in range(1, _MOST_VERSIONS + 1):
        names = {f"{period.key}_{kind}-return_v{version}_{part}": content
                 for part, content in files.items()}
        filed = {name: read_published(outbox, RETURNS_FOLDER, name) for name in names}
        if all(existing is None or existing == names[name] for name, existing in filed.items()):
            # Nothing filed under this version, or this very return (perhaps cut short by a
            # crash, so the rest is filed now).
            for name, content in names.items():
                if filed[name] is None:
                    publish(outbox, RETURNS_FOLDER, name, content)
            _record(store, found.period, kind, version, names)
            already = all(existing is not None for existing in filed.values())
            return FiledReturn(found, _relative(names), version, already_filed=already)
    raise PublishError(f"{period.label} has {_MOST_VERSIONS} versions of its {kind} return "
                     "already; move the old ones out of the outbox's _returns folder.")


def _record(store: FilesRecords, period: Period, kind: str, version: int,
            names: dict[str, bytes]) -> None:
    """Record each file in the audit trail, once (``recordgen verify`` then checks it is still
    there, unaltered, as it checks every document)."""
    recorded = extra_recorded_files(store.audit_entries())
    for name, content in names.items():
        relative = f"{RETURNS_FOLDER}/{name}"
        if relative not in recorded:
            store.audit(RETURN_WRITTEN, None, {"file": relative, "sha256": sha256_of(content),
                                               "period": period.key, "return": kind,
                                               "version": version})


def _relative(names: dict[str, bytes]) -> tuple[str, ...]:
    return tuple(str(Path(RETURNS_FOLDER) / name) for name in names)
