"""A return's tables as an Excel workbook (a sheet per table, frozen header row, numbers as
numbers, dates as dates) and as CSV files, as bytes.

The bytes depend only on the tables: the workbook's own dates and the times inside its zip are
fixed, so the same return over the same records is the same file, byte for byte, and is filed
once.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from recordgen.returns.tables import Cell, Format, Table

_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can record
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")
_WIDE = 60
_BOLD = Font(bold=True)
_WRAP = Alignment(wrap_text=True, vertical="top")


def workbook_bytes(tables: Sequence[Table], title: str) -> bytes:
    """The workbook: one sheet per table, its heading row bold and frozen. Written as a stream
    (openpyxl's write-only mode), so a "Counted" sheet of many thousand rows costs little."""
    book = Workbook(write_only=True)
    for table in tables:
        sheet = book.create_sheet(table.name[:31])
        sheet.freeze_panes = "A2"
        widths = [max([len(heading), *(len(_shown(r[index])) for r in table.rows)])
                  for index, heading in enumerate(table.headings)]
        for index, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = min(_WIDE, width + 2)
        wrapped = {index for index, width in enumerate(widths) if width > _WIDE}
        sheet.append([_heading(sheet, text) for text in table.headings])
        for row in table.rows:
            sheet.append([_cell(sheet, value, column_format, index in wrapped)
                          for index, (value, column_format)
                          in enumerate(zip(row, table.formats, strict=False))])
    fixed = dt.datetime(2000, 1, 1)
    book.properties.creator = "recordgen"
    book.properties.title = title
    book.properties.created = fixed
    book.properties.modified = fixed
    out = io.BytesIO()
    book.save(out)
    return _with_fixed_times(out.getvalue())


def _heading(sheet: Any, text: str) -> Any:
    cell = WriteOnlyCell(sheet, value=text)
    cell.font = _BOLD
    return cell


def _cell(sheet: Any, value: Cell, column_format: Format, wrap: bool) -> Any:
    """A value as it goes in the sheet: a plain value where Excel's own format does, a cell with
    its number format (dates, pounds, percentages) or wrapping where it needs one."""
    number_format = _number_format(value, column_format)
    if number_format == "General" and not wrap:
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = number_format
    if wrap:
        cell.alignment = _WRAP
    return cell


def csv_bytes(table: Table) -> bytes:
    """One table as CSV in UTF-8 (with the mark Excel needs to read £ correctly): money in pounds
    with two figures after the point, percentages as percentages, dates as YYYY-MM-DD."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.headings)
    for row in table.rows:
        writer.writerow([_csv(value, column_format)
                         for value, column_format in zip(row, table.formats, strict=False)])
    return out.getvalue().encode("utf-8-sig")


def _number_format(value: object, column_format: Format) -> str:
    """How a cell shows its value: dates and pounds by their type, a fraction as a percentage
    where its column holds percentages, a whole number as one."""
    if isinstance(value, dt.date):
        return Format.DATE.value
    if isinstance(value, Decimal):
        return Format.POUNDS.value
    if isinstance(value, float) and column_format in (Format.PERCENT, Format.DECIMAL):
        return column_format.value
    if isinstance(value, int) and not isinstance(value, bool):
        return Format.WHOLE.value
    return "General"


def _csv(value: Cell, column_format: Format) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, float):
        return f"{value * 100:.1f}" if column_format is Format.PERCENT else f"{value:g}"
    return str(value)


def _shown(value: Cell) -> str:
    return "30 September 2026" if isinstance(value, dt.date) else str(value)


def _with_fixed_times(content: bytes) -> bytes:
    """The same zip with every entry dated alike, so equal workbooks are equal bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            fixed = zipfile.ZipInfo(item.filename, _FIXED_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = item.external_attr
            content = source.read(item.filename)
            if item.filename == "docProps/core.xml":
                # openpyxl stamps the time of saving, whatever the workbook says.
                content = _MODIFIED.sub(rb"\g<1>2000-01-01T00:00:00Z\g<2>", content)
            target.writestr(fixed, content)
    return out.getvalue()
