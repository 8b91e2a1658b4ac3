"""The returns' workbooks: a sheet of words written straight into its XML is the sheet openpyxl
writes, byte for byte, and words from case files are never made formulas."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from recordgen.returns import spreadsheet
from recordgen.returns.spreadsheet import workbook_bytes
from recordgen.returns.tables import Format, Table

# Characters a worksheet cannot hold (openpyxl refuses them) and lone surrogates (no encoding
# holds them) are left out: the workbook is refused for those, whichever way it is written.
WORDS = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"],
                           blacklist_characters=[*(chr(c) for c in range(32) if c not in (9, 10, 13)),
                                                 "\ufffe", "\uffff"]),
    min_size=1, max_size=300)


def sheets(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        return {name: book.read(name) for name in book.namelist()}


def by_openpyxl(monkeypatch: pytest.MonkeyPatch, tables: list[Table]) -> bytes:
    """The workbook with every row written by openpyxl itself."""
    with monkeypatch.context() as patch:
        patch.setattr(spreadsheet, "_plain_words", lambda value: False)
        return workbook_bytes(tables, "A return")


def counted(rows: list[tuple[str, ...]]) -> Table:
    return Table("Counted", ("Table", "Figure", "Case reference"), (Format.TEXT,) * 3,
                 tuple(rows), wrap=False)


@settings(max_examples=150, deadline=None)
@example(rows=[("Siân O’Brien & <Marsh>", " a space before", "=SUM(A1:A9)"),
               ("tab\there", "line\r\nbreaks\n", "#N/A"), ("😀 \u2028 \x85 \x7f", "é", "ß")])
@given(rows=st.lists(st.tuples(WORDS, WORDS, WORDS), min_size=1, max_size=30))
def test_a_sheet_of_words_is_written_as_openpyxl_writes_it(rows: list[tuple[str, ...]]) -> None:
    written: list[int] = []
    original = spreadsheet._text_rows

    def counting(*args: Any, **kwargs: Any) -> bytes:
        written.append(1)
        return original(*args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(spreadsheet, "_text_rows", counting)
        fast = workbook_bytes([counted(rows)], "A return")
    assert written, "the rows were not written straight into the sheet"
    reference = by_openpyxl(pytest.MonkeyPatch(), [counted(rows)])
    assert sheets(fast) == sheets(reference)
    assert fast == reference
    read = load_workbook(io.BytesIO(fast))["Counted"]
    assert list(read.iter_rows(min_row=2, values_only=True)) == rows


def test_the_counted_sheet_reads_back_whole_among_other_sheets(
        monkeypatch: pytest.MonkeyPatch) -> None:
    figures = Table("Monthly figures", ("Figure", "Value"), (Format.TEXT, Format.WHOLE),
                    (("Open caseload", 3), ("Referrals received", 2)))
    rows = [("Monthly figures", "Open caseload", f"THS-{n:04d}") for n in range(2000)]
    content = workbook_bytes([figures, counted(rows)], "A return")
    assert content == by_openpyxl(monkeypatch, [figures, counted(rows)])
    book = load_workbook(io.BytesIO(content))
    assert book["Counted"].freeze_panes == "A2"
    assert book["Counted"]["A1"].font.bold
    assert list(book["Counted"].iter_rows(min_row=2, values_only=True)) == rows
    assert [r for r in book["Monthly figures"].iter_rows(min_row=2, values_only=True)] == [
        ("Open caseload", 3), ("Referrals received", 2)]


@pytest.mark.parametrize("name", ['=HYPERLINK("http://example.invalid/x","Open the file")',
                                  "=1+1", "#N/A", "#REF!"])
def test_a_support_worker_s_name_is_shown_as_typed_never_made_a_formula(name: str) -> None:
    """A name comes from a case file: typed as "=...", Excel would run it as a formula when the
    manager opens the support workers' workbook."""
    workers = Table("Support workers", ("Support worker", "Caseload at the end"),
                    (Format.TEXT, Format.WHOLE), ((name, 4),))
    rows = counted([("Support workers", f"{name}: caseload", "THS-0001")])
    content = workbook_bytes([workers, rows], "A return")
    for part, xml in sheets(content).items():
        if part.startswith("xl/worksheets/"):
            assert not re.search(rb"<f[ >]", xml), part
            assert b' t="e"' not in xml, part
    book = load_workbook(io.BytesIO(content))
    cell = book["Support workers"]["A2"]
    assert (cell.value, cell.data_type) == (name, "s")
    assert book["Support workers"]["B2"].value == 4
    cell = book["Counted"]["B2"]
    assert (cell.value, cell.data_type) == (f"{name}: caseload", "s")


CUT_SHORT = re.compile(r" \[cut short here: a spreadsheet cell holds at most 32,767 characters, "
                       r"and ([\d,]+) more are not shown\]$")


def excel_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2  # Excel counts an emoji as two


@pytest.mark.parametrize("unit", ["THS-2026-0142, ", "Siân 😀 "])
def test_words_longer_than_a_cell_holds_are_cut_short_visibly_never_silently(
        unit: str) -> None:
    """A cell listing very many case references, say: Excel refuses a cell over 32,767
    characters, and openpyxl would cut it short without a word."""
    long = unit * (40_000 // len(unit))
    listed = counted([("Monthly figures", "Open caseload", long),
                      ("Monthly figures", "Open caseload", "THS-0001")])
    figures = Table("Monthly figures", ("Figure", "Value", "Definition"),
                    (Format.TEXT, Format.WHOLE, Format.TEXT), (("Open caseload", 3, long),))
    book = load_workbook(io.BytesIO(workbook_bytes([figures, listed], "A return")))
    for cell in (book["Counted"]["C2"], book["Monthly figures"]["C2"]):
        shown = cell.value
        assert excel_length(shown) <= 32_767
        note = CUT_SHORT.search(shown)
        assert note is not None, shown[-200:]
        kept = shown[:note.start()]
        assert long.startswith(kept) and excel_length(kept) > 32_000  # as much as fits
        assert len(kept) + int(note.group(1).replace(",", "")) == len(long)  # the rest, counted
    assert book["Counted"]["C3"].value == "THS-0001"  # the next row as it was
    assert book["Monthly figures"]["B2"].value == 3


def test_words_that_just_fit_are_kept_whole() -> None:
    whole = "x" * 32_767
    book = load_workbook(io.BytesIO(workbook_bytes(
        [counted([("Monthly figures", "Open caseload", whole)])], "A return")))
    assert book["Counted"]["C2"].value == whole
