"""A return as tables: the rows of each sheet of the workbook and of each CSV file, for the copy
that goes to the commissioner (no names, no case references) or the internal one (case
references in a "Counted" table, never names). Per-worker figures are a table of their own, in
their own output, because they are about staff.

Cells hold numbers as numbers (money as pounds, a percentage as a fraction to show as one), dates
as dates, and words where a figure cannot be worked out ("no leavers"). Nothing here writes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from recordgen.dates import uk_date
from recordgen.returns.figures import Figure, MonitoringReturn, Unit

Cell = str | int | float | Decimal | dt.date | None


class Copy(StrEnum):
    """Who a return's outputs are for."""

    COMMISSIONER = "commissioner"  # figures only: no names, no case references
    INTERNAL = "internal"  # the figures and the case references behind them; no names
    WORKERS = "workers"  # per support worker, for one-to-ones: staff names and case references


class Format(StrEnum):
    """How a column's numbers are shown in the workbook."""

    TEXT = "@"
    WHOLE = "0"
    POUNDS = "£#,##0.00"
    PERCENT = "0.0%"
    DATE = "d mmmm yyyy"
    DECIMAL = "0.0"


@dataclass(frozen=True)
class Table:
    """One sheet of the workbook, one CSV file."""

    name: str  # the sheet's name, and the CSV file's (lower case, hyphens)
    headings: tuple[str, ...]
    formats: tuple[Format, ...]
    rows: tuple[tuple[Cell, ...], ...]
    # Long words wrap in their cells (definitions); a list to filter (the "Counted" sheets)
    # keeps each row on one line, its columns as wide as their longest words.
    wrap: bool = True

    @property
    def file_stem(self) -> str:
        return self.name.lower().replace(" ", "-")


def _value(figure: Figure) -> Cell:
    return Decimal(figure.value) / 100 if figure.unit is Unit.PENCE else figure.value


def _figures_table(name: str, figures: Sequence[Figure]) -> Table:
    return Table(name, ("Figure", "Value", "Counted in", "Definition"),
                 (Format.TEXT, Format.WHOLE, Format.TEXT, Format.TEXT),
                 tuple((f.name, _value(f), str(f.unit), f.definition) for f in figures))


def about_table(found: MonitoringReturn, service: str, kind: str) -> Table:
    rows: list[tuple[Cell, ...]] = [
        ("Service", service),
        ("Return", kind),
        ("Period", found.period.label),
        ("First day", found.period.first),
        ("Last day", found.period.last),
        ("Open and overdue judged on", found.as_of),
        ("Days counted", f"so far, up to {uk_date(found.as_of)}: the period has not ended"
         if found.so_far else f"to the end of {uk_date(found.as_of)}: the whole period"),
    ]
    return Table("About", ("What", "Value"), (Format.TEXT, Format.DATE), tuple(rows))


def tables(found: MonitoringReturn, copy: Copy, service: str, kind: str) -> list[Table]:
    """Every table of one copy of a return, in the order the workbook shows them."""
    if copy is Copy.WORKERS:
        return [about_table(found, service, kind), workers_table(found), counted_table(found, copy)]
    result = [about_table(found, service, kind), _figures_table("Monthly figures", found.monthly)]
    if found.kpis:
        result.append(kpi_table(found))
        result.append(_figures_table("Quarterly counts", found.quarterly))
    result.append(clocks_table(found))
    if copy is Copy.INTERNAL:
        result.append(counted_table(found, copy))
    return result


def kpi_table(found: MonitoringReturn) -> Table:
    rows = []
    for kpi in found.kpis:
        percentage = kpi.percentage
        rows.append((kpi.number, kpi.name, len(kpi.numerator), len(kpi.denominator),
                     percentage / 100 if percentage is not None else kpi.empty_words,
                     kpi.target / 100 if kpi.target is not None else kpi.target_words,
                     str(kpi.result), kpi.definition))
    return Table("Appendix 1", ("No", "Indicator", "Numerator", "Denominator", "Percentage",
                                "Target", "Result", "Definition"),
                 (Format.TEXT, Format.TEXT, Format.WHOLE, Format.WHOLE, Format.PERCENT,
                  Format.PERCENT, Format.TEXT, Format.TEXT), tuple(rows))


def clocks_table(found: MonitoringReturn) -> Table:
    rows = []
    for clock in found.clocks:
        median = clock.median_late
        rows.append((clock.words, len(clock.fell_due), len(clock.met),
                     len(clock.late), median if median is not None else "none late",
                     clock.worst_late if clock.worst_late is not None else "none late",
                     len(clock.still_open), len(clock.overdue)))
    return Table("Statutory clocks", (
        "Clock", "Fell due", "Met", "Late", "Median working days late",
        "Worst working days late", "Not answered by the end", _overdue_heading(found, "Overdue")),
        (Format.TEXT, Format.WHOLE, Format.WHOLE, Format.WHOLE, Format.DECIMAL, Format.WHOLE,
         Format.WHOLE, Format.WHOLE), tuple(rows))


def workers_table(found: MonitoringReturn) -> Table:
    rows = [(w.worker, len(w.caseload), len(w.plans_due), len(w.plans_on_time),
             len(w.reviews_due), len(w.reviews_on_time), len(w.overdue)) for w in found.workers]
    return Table("Support workers", (
        "Support worker", "Caseload at the end", "First plans due", "First plans on time",
        "Reviews due", "Reviews on time", f"Clocks {_overdue_heading(found, 'overdue')}"),
        (Format.TEXT, *([Format.WHOLE] * 6)), tuple(rows))


def _overdue_heading(found: MonitoringReturn, overdue: str) -> str:
    """"Overdue at the end of 30 September 2026", or, counted so far, "Overdue on 20 November
    2026" (due before today, as ``recordgen due`` says)."""
    return f"{overdue} on {uk_date(found.as_of)}" if found.so_far \
        else f"{overdue} at the end of {uk_date(found.as_of)}"


def counted_rows(found: MonitoringReturn, copy: Copy) -> list[tuple[str, str, str]]:
    """(table, figure, case reference) for every case behind every figure."""
    rows: list[tuple[str, str, str]] = []

    def add(table: str, figure: str, refs: Sequence[str], notes: Sequence[str] = ()) -> None:
        if notes:  # each case with what it stands for: "...: food vouchers, money reference F1"
            rows.extend((table, f"{figure}: {note}", ref)
                        for ref, note in zip(refs, notes, strict=True))
        else:
            rows.extend((table, figure, ref) for ref in refs)

    if copy is Copy.WORKERS:
        for w in found.workers:
            for column, refs in (("caseload", w.caseload), ("first plans due", w.plans_due),
                                 ("first plans on time", w.plans_on_time),
                                 ("reviews due", w.reviews_due),
                                 ("reviews on time", w.reviews_on_time),
                                 ("clocks overdue", w.overdue)):
                add("Support workers", f"{w.worker}: {column}", refs)
        return rows
    for figure in found.monthly:
        add("Monthly figures", figure.name, figure.refs, figure.notes)
    for kpi in found.kpis:
        add("Appendix 1", f"{kpi.number} {kpi.name}: numerator", kpi.numerator)
        add("Appendix 1", f"{kpi.number} {kpi.name}: denominator", kpi.denominator)
    for figure in found.quarterly:
        add("Quarterly counts", figure.name, figure.refs, figure.notes)
    for clock in found.clocks:
        name = clock.words
        for column, refs in (("fell due", clock.fell_due), ("met", clock.met),
                             ("late", clock.late), ("not answered by the end", clock.still_open),
                             ("overdue", clock.overdue)):
            add("Statutory clocks", f"{name}: {column}", refs)
    return rows


def counted_table(found: MonitoringReturn, copy: Copy) -> Table:
    return Table("Counted", ("Table", "Figure", "Case reference"),
                 (Format.TEXT, Format.TEXT, Format.TEXT), tuple(counted_rows(found, copy)),
                 wrap=False)
