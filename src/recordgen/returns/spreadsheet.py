"""A return's tables as an Excel workbook (a sheet per table, frozen header row, numbers as
numbers, dates as dates) and as CSV files, as bytes.

The bytes depend only on the tables: the workbook's own dates and the times inside its zip are
fixed, so the same return over the same records is the same file, byte for byte, and is filed
once.

Words are always words: a support worker's name as a case file gives it, starting with "=" or
reading "#N/A", is shown as typed, never made a formula (which Excel would run) or an error.
Words longer than a cell holds (32,767 characters) are cut short with a note in the cell saying
so and how many characters are not shown: Excel refuses a longer cell, and openpyxl would cut one
short without a word. (The CSV files have no such limit and keep every word.)

A sheet of words only (the "Counted" sheets: a row for every case behind every figure, 100,000
rows in a quarter of a service of 10,000 people) has its rows written here, straight into the
sheet's XML as openpyxl's write-only mode writes them, byte for byte (tests/test_spreadsheet.py
compares the two): openpyxl spends about 20 microseconds on a cell, 6 seconds on such a
quarter's 300,000 cells, which this writes in about a third of a second. Every other sheet is
openpyxl's own.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from recordgen.returns.tables import Cell, Format, Table

Rows = Sequence[Sequence[Cell]]

_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can record
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")
_WIDE = 60  # characters: a wider column's words wrap
_WIDEST = 255  # characters: the widest column Excel has
_BOLD = Font(bold=True)
_WRAP = Alignment(wrap_text=True, vertical="top")
_LONGEST_CELL = 32_767  # characters (UTF-16 units): Excel refuses more; openpyxl cuts them off
_CUT_SHORT = (" [cut short here: a spreadsheet cell holds at most 32,767 characters, and {more} "
              "more are not shown]")
_PRESERVE = ' xml:space="preserve"'
_ROWS_AT_A_TIME = 1000
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")  # no XML document can hold these


def workbook_bytes(tables: Sequence[Table], title: str) -> bytes:
    """The workbook: one sheet per table, its heading row bold and frozen, written as a stream
    (openpyxl's write-only mode)."""
    book = Workbook(write_only=True)
    text_rows: list[tuple[Any, Rows]] = []  # a sheet, and the rows written here
    for table in tables:
        sheet = book.create_sheet(table.name[:31])
        sheet.freeze_panes = "A2"
        columns = [{row[index] for row in table.rows} for index in range(len(table.headings))]
        too_long = {value: _cut_short(value) for values in columns for value in values
                    if isinstance(value, str) and len(value) > _LONGEST_CELL // 2}
        if any(value != fitted for value, fitted in too_long.items()):
            table = _with_cells(table, too_long)
            columns = [{row[index] for row in table.rows}
                       for index in range(len(table.headings))]
        widths = [max([len(heading), *(len(_shown(value)) for value in values)])
                  for heading, values in zip(table.headings, columns, strict=True)]
        widest = _WIDE if table.wrap else _WIDEST
        for index, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = min(widest, width + 2)
        wrapped = {index for index, width in enumerate(widths) if width > widest and table.wrap}
        sheet.append([_heading(sheet, text) for text in table.headings])
        if not wrapped and all(_plain_words(value) for values in columns for value in values):
            text_rows.append((sheet, table.rows))
            continue
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
    # A sheet knows its part in the zip once the workbook is saved.
    return _with_fixed_times(out.getvalue(),
                             {sheet.path.lstrip("/"): rows for sheet, rows in text_rows})


def _cut_short(text: str) -> str:
    """``text`` as a cell can hold it: whole when it fits, else as much as fits with a note
    saying it was cut short and by how much. Excel counts a character beyond the Basic
    Multilingual Plane (an emoji) as two."""
    if _length_in_excel(text) <= _LONGEST_CELL:
        return text
    room = _LONGEST_CELL - len(_CUT_SHORT.format(more=f"{len(text):,}"))  # the longest note
    kept = text[:room]
    while (over := _length_in_excel(kept) - room) > 0:
        kept = kept[:-max(1, over // 2)]  # a character is one unit or two: never too many
    return kept + _CUT_SHORT.format(more=f"{len(text) - len(kept):,}")


def _length_in_excel(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _with_cells(table: Table, replaced: Mapping[str, str]) -> Table:
    """The table with some of its values replaced (only a table that has such values is made
    again: a "Counted" sheet of 100,000 rows is not copied for nothing)."""
    rows = tuple(tuple(replaced.get(value, value) if isinstance(value, str) else value
                       for value in row) for row in table.rows)
    return dataclasses.replace(table, rows=rows)


def _heading(sheet: Any, text: str) -> Any:
    cell = WriteOnlyCell(sheet, value=text)
    cell.font = _BOLD
    return cell


def _cell(sheet: Any, value: Cell, column_format: Format, wrap: bool) -> Any:
    """A value as it goes in the sheet: a plain value where Excel's own format does, a cell with
    its number format (dates, pounds, percentages) or wrapping where it needs one, and words as
    words (openpyxl would make "=..." a formula and "#N/A" an error)."""
    number_format = _number_format(value, column_format)
    as_words = isinstance(value, str) and (value.startswith("=") or value in ERROR_CODES)
    if number_format == "General" and not wrap and not as_words:
        return value
    cell = WriteOnlyCell(sheet, value=value)
    if as_words:
        cell.data_type = "s"
    cell.number_format = number_format
    if wrap:
        cell.alignment = _WRAP
    return cell


def _plain_words(value: Cell) -> bool:
    """Whether a value is words that :func:`_text_rows` writes as openpyxl would: not empty, no
    character a worksheet cannot hold (openpyxl refuses those, and so the workbook is refused),
    no longer than a cell holds."""
    return (isinstance(value, str) and 0 < len(value) <= _LONGEST_CELL
            and ILLEGAL_CHARACTERS_RE.search(value) is None and _NOT_XML.search(value) is None)


def _text_rows(rows: Rows, first: int) -> Iterator[bytes]:
    """Rows of words as a sheet's XML, from row number ``first``, a thousand rows at a time:
    each cell an inline string, exactly as openpyxl's write-only mode writes one (in ASCII,
    every other character as a numbered reference). A "Counted" sheet repeats its tables' and
    figures' names on every row, so each different value is made XML once."""
    letters = [get_column_letter(index) for index in range(1, 1 + max(map(len, rows), default=0))]
    inline: dict[Cell, str] = {}
    for start in range(0, len(rows), _ROWS_AT_A_TIME):
        written = []
        for number, row in enumerate(rows[start:start + _ROWS_AT_A_TIME], start=first + start):
            cells = []
            for letter, value in zip(letters, row, strict=False):
                text = inline.get(value)
                if text is None:
                    words = str(value)
                    space = _PRESERVE if words != words.strip() else ""
                    text = inline[value] = (f'" t="inlineStr"><is><t{space}>{_escaped(words)}'
                                            "</t></is></c>")
                cells.append(f'<c r="{letter}{number}{text}')
            written.append(f'<row r="{number}">{"".join(cells)}</row>')
        yield "".join(written).encode("ascii", "xmlcharrefreplace")


def _escaped(text: str) -> str:
    """Text as lxml writes it in an element: &, < and > as entities, a carriage return as a
    character reference (so that it survives reading), every other character as itself."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\r", "&#13;"))


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


def _with_fixed_times(content: bytes, text_rows: dict[str, Rows]) -> bytes:
    """The same zip with every entry dated alike, so equal workbooks are equal bytes, and the
    rows written here put in their sheets after the heading row openpyxl wrote."""
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
            if item.filename in text_rows:
                head, end, tail = content.rpartition(b"</sheetData>")
                if not end:
                    raise ValueError(f"openpyxl wrote {item.filename} without its rows")
                # Written into the zip as they are made: never the whole sheet in memory.
                with target.open(fixed, "w") as sheet:
                    sheet.write(head)
                    for rows in _text_rows(text_rows[item.filename], first=2):
                        sheet.write(rows)
                    sheet.write(end + tail)
                continue
            target.writestr(fixed, content)
    return out.getvalue()
