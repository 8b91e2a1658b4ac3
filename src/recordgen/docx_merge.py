"""Word documents rendered from one template, joined into one document so that LibreOffice converts
them in one go (its cost is per document far more than per page), and found again in the PDF.

Each document becomes a section of its own, starting on a new page, with its own headers and
footers (copied as parts of their own) and its page numbers restarting at 1. LibreOffice has no
field for the pages of a section, so the "of N" after a page number is dropped from the joined
footers; the bundle stamps "Page N of M" on every page anyway.

To find each document in the PDF, the first paragraph of text in each document's body gets outline
level 1 and every other paragraph none, so the PDF's top-level bookmarks are exactly one per
document, on its first page (the bookmarks are only read, never copied into the bundle).

Only documents whose other parts (styles, numbering, settings, relationships) are identical can be
joined; :func:`join` returns None otherwise, and the caller converts them one by one.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from typing import Any

from lxml import etree  # type: ignore[import-untyped]  # python-docx's own XML library; no stubs

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
_HEADER_FOOTER = (f"{R}/header", f"{R}/footer")
_OWN_PARTS = ("word/document.xml", "word/_rels/document.xml.rels", "[Content_Types].xml")
BODY_TEXT_LEVEL = "9"  # Word's outline level for body text: not a bookmark

# ECMA-376 element order inside w:pPr and w:sectPr: a new child goes before the first of these.
_AFTER_OUTLINE_LEVEL = ("divId", "cnfStyle", "rPr", "sectPr", "pPrChange")
_AFTER_PAGE_NUMBERS = ("cols", "formProt", "vAlign", "noEndnote", "titlePg", "textDirection",
                       "bidi", "rtlGutter", "docGrid", "printerSettings", "sectPrChange")


def _w(tag: str) -> str:
    return f"{{{W}}}{tag}"


def join(documents: Sequence[bytes]) -> bytes | None:
    """One Word document holding ``documents`` in order, each from a new page; or None when they
    cannot be joined safely."""
    if not documents:
        return None
    packages = [_read(d) for d in documents]
    base = packages[0]
    shared = {name for name in base if name not in _OWN_PARTS and not _own_part(name)}
    base_rels = _shared_rels(base)
    for package in packages[1:]:
        names = {name for name in package if name not in _OWN_PARTS and not _own_part(name)}
        if names != shared or _shared_rels(package) != base_rels or any(
                package[name] != base[name] for name in shared if not name.startswith("docProps/")):
            return None
    parts = {name: base[name] for name in shared}
    rels = etree.fromstring(base["word/_rels/document.xml.rels"])
    for rel in list(rels):
        if rel.get("Type") in _HEADER_FOOTER:
            rels.remove(rel)
    types = etree.fromstring(base["[Content_Types].xml"])
    for override in list(types):
        if _own_part(str(override.get("PartName", "")).lstrip("/")):
            types.remove(override)
    root = etree.fromstring(base["word/document.xml"])
    body = root.find(_w("body"))
    assert body is not None
    for child in list(body):
        body.remove(child)
    for number, package in enumerate(packages):
        section = _add_section(package, number, parts, rels, types, body)
        if section is None:
            return None
        if number < len(packages) - 1:  # a section break: the properties end the section
            holder = etree.SubElement(body, _w("p"))
            etree.SubElement(holder, _w("pPr")).append(section)
        else:  # the last section's properties belong to the body itself
            body.append(section)
    parts["word/document.xml"] = _xml(root)
    parts["word/_rels/document.xml.rels"] = _xml(rels)
    parts["[Content_Types].xml"] = _xml(types)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name in ("[Content_Types].xml", *sorted(n for n in parts if n != "[Content_Types].xml")):
            target.writestr(name, parts[name])
    return out.getvalue()


def _add_section(package: dict[str, bytes], number: int, parts: dict[str, bytes], rels: Any,
                 types: Any, body: Any) -> Any | None:
    """Append one document's content to ``body`` and return its section properties (headers and
    footers re-pointed at copies of their own); None if it cannot be joined."""
    if any(name.startswith(("word/_rels/header", "word/_rels/footer")) for name in package):
        return None  # headers or footers with pictures or links: not worth the risk
    root = etree.fromstring(package["word/document.xml"])
    own_body = root.find(_w("body"))
    assert own_body is not None
    children = list(own_body)
    if not children or children[-1].tag != _w("sectPr"):
        return None
    section, content = children[-1], children[:-1]
    own_rels = {rel.get("Id"): rel for rel in etree.fromstring(
        package["word/_rels/document.xml.rels"])}
    for reference in section:
        if reference.tag not in (_w("headerReference"), _w("footerReference")):
            continue
        rel = own_rels.get(reference.get(f"{{{R}}}id"))
        if rel is None:
            return None
        kind = "footer" if reference.tag == _w("footerReference") else "header"
        name = f"{kind}_s{number}_{len(parts)}.xml"
        data = package.get(f"word/{rel.get('Target')}")
        if data is None:
            return None
        parts[f"word/{name}"] = _without_page_count(data) if kind == "footer" else data
        new_id = f"rIdSection{number}x{len(parts)}"
        etree.SubElement(rels, f"{{{PACKAGE_RELS}}}Relationship",
                         Id=new_id, Type=str(rel.get("Type")), Target=name)
        etree.SubElement(types, f"{{{CONTENT_TYPES}}}Override", PartName=f"/word/{name}",
                         ContentType="application/vnd.openxmlformats-officedocument."
                                     f"wordprocessingml.{kind}+xml")
        reference.set(f"{{{R}}}id", new_id)
    _restart_page_numbers(section)
    if not _anchor(content):
        return None
    body.extend(content)
    return section


def _anchor(content: Sequence[Any]) -> bool:
    """Outline level 1 for the document's first top-level paragraph with text; none for the
    rest. False when there is no such paragraph."""
    anchored = False
    for element in content:
        if element.tag == _w("p") and not anchored and "".join(element.itertext()).strip():
            _outline_level(element, "0")
            anchored = True
            continue
        for paragraph in element.iter(_w("p")):  # the element itself too, if a paragraph
            _outline_level(paragraph, BODY_TEXT_LEVEL)
    return anchored


def _outline_level(paragraph: Any, level: str) -> None:
    properties = paragraph.find(_w("pPr"))
    if properties is None:
        properties = etree.Element(_w("pPr"))
        paragraph.insert(0, properties)
    for old in properties.findall(_w("outlineLvl")):
        properties.remove(old)
    element = etree.Element(_w("outlineLvl"))
    element.set(_w("val"), level)
    _insert_before(properties, element, _AFTER_OUTLINE_LEVEL)


def _restart_page_numbers(section: Any) -> None:
    numbers = section.find(_w("pgNumType"))
    if numbers is None:
        numbers = etree.Element(_w("pgNumType"))
        _insert_before(section, numbers, _AFTER_PAGE_NUMBERS)
    numbers.set(_w("start"), "1")


def _insert_before(parent: Any, element: Any, later: Sequence[str]) -> None:
    for index, child in enumerate(parent):
        if etree.QName(child).localname in later:
            parent.insert(index, element)
            return
    parent.append(element)


def _without_page_count(footer: bytes) -> bytes:
    """The footer without its NUMPAGES field (and the " of " before it): in a joined document it
    would count every document's pages."""
    root = etree.fromstring(footer)
    for simple in list(root.iter(_w("fldSimple"))):
        if "NUMPAGES" in str(simple.get(_w("instr"), "")).upper():
            _trim_of_before(simple)
            simple.getparent().remove(simple)
    for paragraph in root.iter(_w("p")):
        runs = list(paragraph.iter(_w("r")))
        index = 0
        while index < len(runs):
            if _field_char(runs[index]) != "begin":
                index += 1
                continue
            end, depth, instruction = index, 0, ""
            for end in range(index, len(runs)):
                kind = _field_char(runs[end])
                depth += kind == "begin"
                depth -= kind == "end"
                instruction += "".join(t.text or "" for t in runs[end].iter(_w("instrText")))
                if depth == 0:
                    break
            if instruction.strip().upper().startswith("NUMPAGES"):
                _trim_of_before(runs[index])
                for run in runs[index:end + 1]:
                    run.getparent().remove(run)
            index = end + 1
    return _xml(root)


def _field_char(run: Any) -> str | None:
    char = run.find(_w("fldChar"))
    return None if char is None else str(char.get(_w("fldCharType")))


def _trim_of_before(element: Any) -> None:
    previous = element.getprevious()
    while previous is not None and previous.tag != _w("r"):
        previous = previous.getprevious()
    if previous is None:
        return
    texts = previous.findall(_w("t"))
    if texts and (texts[-1].text or "").rstrip().endswith(("of", "/")):
        stripped = (texts[-1].text or "").rstrip()
        texts[-1].text = stripped[:-2] if stripped.endswith("of") else stripped[:-1]
        texts[-1].text = texts[-1].text.rstrip()


def _own_part(name: str) -> bool:
    """Parts each document has its own copy of: headers, footers and their relationships."""
    base = name.rsplit("/", 1)[-1]
    return name.startswith("word/") and (base.startswith(("header", "footer"))
                                         or "/_rels/header" in name or "/_rels/footer" in name)


def _shared_rels(package: dict[str, bytes]) -> set[tuple[str, str, str]]:
    rels = etree.fromstring(package["word/_rels/document.xml.rels"])
    return {(str(r.get("Id")), str(r.get("Type")), str(r.get("Target"))) for r in rels
            if r.get("Type") not in _HEADER_FOOTER}


def _read(document: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(document)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _xml(root: Any) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True))
