"""Read the text of a Word document back, for tests: body paragraphs and tables (nested ones too),
then the page headers and footers.

    from docx_text import docx_text, docx_lines, docx_tables, docx_header_footer_text

Each function takes a path, the document's bytes, or an open python-docx ``Document``. A line break
inside a paragraph (``<w:br/>``) reads back as ``"\\n"``, a tab as ``"\\t"``.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docx
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph

Source = str | Path | bytes | Any  # Any: an open docx.Document

_P, _TBL, _TR, _TC, _SDT, _SDT_CONTENT = (
    qn("w:p"), qn("w:tbl"), qn("w:tr"), qn("w:tc"), qn("w:sdt"), qn("w:sdtContent")
)


def open_docx(source: Source) -> Any:
    """A python-docx Document from a path, bytes, or an already open Document."""
    if isinstance(source, bytes):
        return docx.Document(io.BytesIO(source))
    if isinstance(source, str | Path):
        return docx.Document(str(source))
    return source


def _paragraph_text(element: Any) -> str:
    parent: Any = None  # reading text needs no parent part
    return str(Paragraph(element, parent).text)


def _block_lines(element: Any) -> Iterator[str]:
    """Paragraph texts of a body, cell, header or footer element, in reading order; a table's
    cells are read row by row, and nested tables inside them."""
    for child in element.iterchildren():
        if child.tag == _P:
            yield _paragraph_text(child)
        elif child.tag == _TBL:
            for row in child.iterchildren(_TR):
                for cell in row.iterchildren(_TC):
                    yield from _block_lines(cell)
        elif child.tag == _SDT:
            for content in child.iterchildren(_SDT_CONTENT):
                yield from _block_lines(content)


def _header_footer_elements(document: Any) -> Iterator[Any]:
    """Every header and footer part of the document (first page, default and even pages)."""
    for reltype in (RT.HEADER, RT.FOOTER):
        for rel in document.part.rels.values():
            if rel.reltype == reltype and not rel.is_external:
                yield rel.target_part.element


def docx_body_lines(source: Source) -> list[str]:
    """The text of every paragraph in the body (tables included), one item per paragraph."""
    return list(_block_lines(open_docx(source).element.body))


def docx_header_footer_lines(source: Source) -> list[str]:
    document = open_docx(source)
    return [line for part in _header_footer_elements(document) for line in _block_lines(part)]


def docx_lines(source: Source) -> list[str]:
    """Body paragraphs (tables included), then header and footer paragraphs."""
    document = open_docx(source)
    return docx_body_lines(document) + docx_header_footer_lines(document)


def docx_text(source: Source) -> str:
    """All the text of the document (body, tables, headers, footers), one paragraph a line."""
    return "\n".join(docx_lines(source))


def docx_header_footer_text(source: Source) -> str:
    return "\n".join(docx_header_footer_lines(source))


def _tables_in(element: Any) -> Iterator[Any]:
    for child in element.iterchildren():
        if child.tag == _TBL:
            yield child
            for row in child.iterchildren(_TR):
                for cell in row.iterchildren(_TC):
                    yield from _tables_in(cell)
        elif child.tag == _SDT:
            for content in child.iterchildren(_SDT_CONTENT):
                yield from _tables_in(content)


def docx_tables(source: Source) -> list[list[list[str]]]:
    """Every table (body, nested, headers and footers) as rows of cell texts. A cell's text is its
    paragraphs joined with ``"\\n"`` (a nested table's text is part of its cell's text too)."""
    document = open_docx(source)
    roots = [document.element.body, *_header_footer_elements(document)]
    return [
        [
            ["\n".join(_block_lines(cell)) for cell in row.iterchildren(_TC)]
            for row in table.iterchildren(_TR)
        ]
        for root in roots
        for table in _tables_in(root)
    ]


def docx_rows(source: Source) -> list[list[str]]:
    """The rows of every table, in one list."""
    return [row for table in docx_tables(source) for row in table]
