"""Putting a PDF bundle together with pypdf: front pages, an index drawn here, the records; then a
stamp on every page ("Page N of M" and the case reference), links from the index, a bookmark per
record, and metadata that says what the file is and nothing more.

The index and the stamps are drawn with a small PDF content stream in the standard Helvetica fonts
(every PDF reader has them, so nothing is embedded). They only ever hold text recordgen writes
itself (titles, dates, page numbers, the case reference), all of it in Windows-1252, the encoding
those fonts use. Page numbers are for the whole bundle, so they are stamped after assembly.

What is left behind on purpose: each source page's annotations (links and the like) and every
source document's own metadata, bookmarks and named destinations. A bundle carries only what this
module writes, and pages are copied without those parts so no unreachable copy of them is written.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pypdf import PageObject, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NumberObject,
    RectangleObject,
    StreamObject,
    TextStringObject,
)

from recordgen.errors import ConversionError, InvariantBroken

A4 = (595.28, 841.89)
MARGIN = 56.69  # 2 cm, as the Word templates
STAMP_FONT = "/RecordgenStamp"
STAMP_SIZE = 7.5
STAMP_BASELINE = 14.0  # points above the page's bottom edge: below the templates' own footers
# Parts of a source page never copied into a bundle (see the module docstring).
EXCLUDED_PAGE_KEYS = ("/Annots", "/B", "/Metadata", "/PieceInfo", "/StructParents", "/Thumb")

# Advance widths (1/1000 em) of Helvetica and Helvetica-Bold for ASCII 32-126, from Adobe's AFM
# files for the standard 14 fonts. Other characters are taken as 556, which only affects where
# right-aligned text starts.
_HELVETICA = (
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667,
    611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500,
    222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
)
_HELVETICA_BOLD = (
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667,
    611, 778, 722, 278, 556, 722, 611, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 333, 278, 333, 584, 556, 333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556,
    278, 889, 611, 611, 611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584,
)
_EXTRA_WIDTHS = {"·": 278, "…": 1000, "–": 556, "—": 1000, "’": 222, "‘": 222}


def text_width(text: str, size: float, bold: bool = False) -> float:
    table = _HELVETICA_BOLD if bold else _HELVETICA
    units = 0
    for char in text:
        code = ord(char)
        units += table[code - 32] if 32 <= code <= 126 else _EXTRA_WIDTHS.get(char, 556)
    return units * size / 1000


def fit(text: str, size: float, width: float, bold: bool = False) -> str:
    """``text``, cut short with an ellipsis if it is wider than ``width``."""
    if text_width(text, size, bold) <= width:
        return text
    while text and text_width(text + "…", size, bold) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _literal(text: str) -> bytes:
    """A PDF literal string in WinAnsiEncoding (characters it lacks become "?")."""
    raw = text.encode("cp1252", errors="replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _text(font: str, size: float, x: float, y: float, text: str, grey: float = 0.1) -> bytes:
    return (f"BT {grey:g} {grey:g} {grey:g} rg {font} {size:g} Tf 1 0 0 1 {x:.2f} {y:.2f} Tm "
            .encode() + _literal(text) + b" Tj ET\n")


# --- the index -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndexEntry:
    number: int
    date: str
    title: str


@dataclass(frozen=True)
class _Row:
    entry: IndexEntry
    y: float


_ROW_STEP = 15.0
_FIRST_ROW = A4[1] - 150.0
_NEXT_ROW = A4[1] - 118.0
_LAST_ROW = 72.0
_COLUMNS = {"number": MARGIN, "date": MARGIN + 30, "title": MARGIN + 135, "page": A4[0] - MARGIN}


def _rows_on(first: bool) -> int:
    return int(((_FIRST_ROW if first else _NEXT_ROW) - _LAST_ROW) // _ROW_STEP) + 1


def index_page_count(entries: int) -> int:
    """How many pages an index of ``entries`` takes (at least one, which may say there are none)."""
    pages, left = 1, entries - _rows_on(True)
    while left > 0:
        pages, left = pages + 1, left - _rows_on(False)
    return pages


def _index_layout(entries: Sequence[IndexEntry]) -> list[list[_Row]]:
    pages: list[list[_Row]] = []
    remaining = list(entries)
    while True:
        first = not pages
        top, count = (_FIRST_ROW if first else _NEXT_ROW), _rows_on(first)
        pages.append([_Row(e, top - i * _ROW_STEP) for i, e in enumerate(remaining[:count])])
        remaining = remaining[count:]
        if not remaining:
            return pages


def _index_content(rows: Sequence[_Row], first: bool, heading: Sequence[str],
                   pages_of: Mapping[int, int]) -> bytes:
    regular, bold = "/RecordgenIndex", "/RecordgenIndexBold"
    top = A4[1] - 72
    out = [_text(bold, 16, MARGIN, top, "Index of records" if first else
                 "Index of records (continued)", grey=0.12)]
    header_y = (_FIRST_ROW if first else _NEXT_ROW) + 18
    if first:
        for i, line in enumerate(heading):
            out.append(_text(regular, 9.5, MARGIN, top - 22 - i * 13, line, grey=0.35))
    for column, name in (("number", "No."), ("date", "Date"), ("title", "Record")):
        out.append(_text(bold, 9, _COLUMNS[column], header_y, name))
    out.append(_text(bold, 9, _COLUMNS["page"] - text_width("Page", 9, True), header_y, "Page"))
    out.append(f"0.6 0.6 0.6 RG 0.5 w {MARGIN:.2f} {header_y - 5:.2f} m "
               f"{_COLUMNS['page']:.2f} {header_y - 5:.2f} l S\n".encode())
    if first and not rows:
        out.append(_text(regular, 10, MARGIN, _FIRST_ROW,
                         "No records are held within the scope of this request."))
    title_width = _COLUMNS["page"] - 40 - _COLUMNS["title"]
    for row in rows:
        page = str(pages_of[row.entry.number])
        out.append(_text(regular, 10, _COLUMNS["number"], row.y, f"{row.entry.number}."))
        out.append(_text(regular, 10, _COLUMNS["date"], row.y, row.entry.date))
        out.append(_text(regular, 10, _COLUMNS["title"], row.y,
                         fit(row.entry.title, 10, title_width), grey=0.0))
        out.append(_text(regular, 10, _COLUMNS["page"] - text_width(page, 10), row.y, page))
    return b"".join(out)


# --- the bundle ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordPages:
    """One record of the bundle: its index entry and its pages (from a PdfReader)."""

    entry: IndexEntry
    pages: Sequence[PageObject]

    @property
    def bookmark(self) -> str:
        return f"{self.entry.number}. {self.entry.title} ({self.entry.date})"


@dataclass(frozen=True)
class BundleLayout:
    """Where everything starts (0-based page indexes) and how many pages there are."""

    index_start: int
    index_pages: int
    record_starts: tuple[int, ...]
    total: int


def layout(front_pages: int, records: Sequence[RecordPages]) -> BundleLayout:
    index_pages = index_page_count(len(records))
    starts, page = [], front_pages + index_pages
    for record in records:
        starts.append(page)
        page += len(record.pages)
    return BundleLayout(front_pages, index_pages, tuple(starts), page)


@dataclass(frozen=True)
class BundleInfo:
    """What the bundle's metadata and stamps say."""

    case_ref: str
    title: str
    author: str
    subject: str
    creator: str
    created: dt.datetime
    stamp: str  # the left half of every page's stamp; the right half is "Page N of M"
    front_bookmark: str
    index_heading: tuple[str, ...]


def assemble(front: Sequence[PageObject], records: Sequence[RecordPages], info: BundleInfo) -> bytes:
    """The bundle: ``front`` pages (cover sheet and letter), the index, then each record."""
    plan = layout(len(front), records)
    writer = PdfWriter()
    fonts = {name: writer._add_object(_font(base)) for name, base in (
        ("/RecordgenIndex", "/Helvetica"), ("/RecordgenIndexBold", "/Helvetica-Bold"),
        (STAMP_FONT, "/Helvetica"))}
    for page in front:
        writer.add_page(page, excluded_keys=EXCLUDED_PAGE_KEYS)
    pages_of = {r.entry.number: start + 1 for r, start in zip(records, plan.record_starts,
                                                               strict=True)}
    rows_by_page = _index_layout([r.entry for r in records])
    for number, rows in enumerate(rows_by_page):
        page = writer.add_blank_page(*A4)
        page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject(
            {NameObject(k): v for k, v in fonts.items() if k != STAMP_FONT})})
        page[NameObject("/Contents")] = writer._add_object(_stream(
            _index_content(rows, number == 0, info.index_heading, pages_of)))
    for record in records:
        for page in record.pages:
            writer.add_page(page, excluded_keys=EXCLUDED_PAGE_KEYS)
    if len(writer.pages) != plan.total:
        raise InvariantBroken(f"The bundle has {len(writer.pages)} pages where its index counted "
                              f"{plan.total}; it was not published.")
    _stamp_all(writer, fonts[STAMP_FONT], info.stamp)
    _link_index(writer, plan, rows_by_page)
    _bookmarks(writer, plan, records, info.front_bookmark)
    writer.add_metadata({
        "/Title": info.title, "/Author": info.author, "/Subject": info.subject,
        "/Creator": info.creator, "/Producer": info.creator,
        "/CreationDate": _pdf_date(info.created), "/ModDate": _pdf_date(info.created),
    })
    writer.page_mode = "/UseOutlines"
    writer.root_object[NameObject("/Lang")] = TextStringObject("en-GB")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _font(base: str) -> DictionaryObject:
    return DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject(base),
        NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
    })


def _stream(data: bytes) -> StreamObject:
    stream = StreamObject()
    stream.set_data(data)
    return stream


def _pdf_date(moment: dt.datetime) -> str:
    utc = moment.astimezone(dt.UTC) if moment.tzinfo else moment
    return utc.strftime("D:%Y%m%d%H%M%S+00'00'")


def _stamp_all(writer: PdfWriter, font: IndirectObject, left: str) -> None:
    """Put "<left>" and "Page N of M" at the foot of every page, over what is there. The page's
    own content is wrapped in q/Q so whatever state it leaves cannot move the stamp."""
    total = len(writer.pages)
    save = writer._add_object(_stream(b"q\n"))
    for number, page in enumerate(writer.pages, start=1):
        if page.rotation:
            page.transfer_rotation_to_content()
        box = page.cropbox
        x0, y0, x1 = float(box.left), float(box.bottom), float(box.right)
        right = f"Page {number} of {total}"
        stamp = (b"\nQ\nq\n" + _text(STAMP_FONT, STAMP_SIZE, x0 + MARGIN, y0 + STAMP_BASELINE,
                                     left, grey=0.3)
                 + _text(STAMP_FONT, STAMP_SIZE, x1 - MARGIN - text_width(right, STAMP_SIZE),
                         y0 + STAMP_BASELINE, right, grey=0.3) + b"Q\n")
        existing = [part if isinstance(part, IndirectObject) else writer._add_object(part)
                    for part in _content_parts(page.get(NameObject("/Contents")))]
        page[NameObject("/Contents")] = ArrayObject(
            [save, *existing, writer._add_object(_stream(stamp))])
        _add_font(page, font)


def _content_parts(contents: Any) -> Iterator[Any]:
    """The streams of a page's /Contents (one stream, or an array of them, direct or not)."""
    if contents is None:
        return
    target = contents.get_object() if isinstance(contents, IndirectObject) else contents
    if isinstance(target, ArrayObject):
        yield from target
    else:
        yield contents


def _add_font(page: PageObject, font: IndirectObject) -> None:
    resources = page.get(NameObject("/Resources"))
    if resources is None:
        resources = DictionaryObject()
        page[NameObject("/Resources")] = resources
    resources = resources.get_object()
    if not isinstance(resources, DictionaryObject):
        raise ConversionError("A page of the bundle has damaged resources, so its page number "
                              "cannot be stamped; the request is kept and will be tried again.")
    fonts = resources.get(NameObject("/Font"))
    if fonts is None:
        fonts = DictionaryObject()
        resources[NameObject("/Font")] = fonts
    fonts = fonts.get_object()
    if not isinstance(fonts, DictionaryObject):
        raise ConversionError("A page of the bundle has a damaged font table, so its page number "
                              "cannot be stamped; the request is kept and will be tried again.")
    fonts[NameObject(STAMP_FONT)] = font


def _link_index(writer: PdfWriter, plan: BundleLayout, rows_by_page: list[list[_Row]]) -> None:
    """Each index row is a link to the first page of its record."""
    starts = dict(zip([r.entry.number for rows in rows_by_page for r in rows],
                      plan.record_starts, strict=True))
    for offset, rows in enumerate(rows_by_page):
        page = writer.pages[plan.index_start + offset]
        links = ArrayObject()
        for row in rows:
            target = writer.pages[starts[row.entry.number]].indirect_reference
            links.append(writer._add_object(DictionaryObject({
                NameObject("/Type"): NameObject("/Annot"),
                NameObject("/Subtype"): NameObject("/Link"),
                NameObject("/Rect"): RectangleObject(
                    [MARGIN, row.y - 4, _COLUMNS["page"], row.y + 11]),
                NameObject("/Border"): ArrayObject([NumberObject(0)] * 3),
                NameObject("/Dest"): ArrayObject([target, NameObject("/Fit")]),
            })))
        if links:
            page[NameObject("/Annots")] = links


def _bookmarks(writer: PdfWriter, plan: BundleLayout, records: Sequence[RecordPages],
               front: str) -> None:
    if plan.index_start > 0:
        writer.add_outline_item(title=front, page_number=0)
    writer.add_outline_item(title="Index of records", page_number=plan.index_start)
    for record, start in zip(records, plan.record_starts, strict=True):
        writer.add_outline_item(title=record.bookmark, page_number=start)
