"""Word documents rendered from one template, joined into one document so that LibreOffice converts
them in one go (its cost is per document far more than per page), and found again in the PDF.

Each document becomes a section of its own, starting on a new page, with its own headers and
footers (copied as parts of their own). A bundle page carries one page numbering, the bundle's
("Page N of M", stamped on every page), so the documents' own page numbers are taken out of their
headers and footers (:func:`without_page_numbers`, also for a document converted on its own).

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
    if body is None:
        return None  # not a Word document's body: cannot be joined
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
    if own_body is None:
        return None
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
        parts[f"word/{name}"] = _without_page_fields(data)
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


_PAGE_FIELDS = ("PAGE", "NUMPAGES", "SECTIONPAGES")


def without_page_numbers(document: bytes) -> bytes:
    """A Word document with the page-number fields (PAGE, NUMPAGES, SECTIONPAGES) and the words
    around them ("Page", "of") taken out of its headers and footers; the rest of it unchanged."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(document)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            base = info.filename.rsplit("/", 1)[-1]
            if info.filename.startswith("word/") and base.startswith(("header", "footer")) \
                    and base.endswith(".xml"):
                content = _without_page_fields(content)
            target.writestr(info, content)
    return out.getvalue()


def _is_page_field(instruction: str) -> bool:
    words = instruction.strip().upper().split()
    return bool(words) and words[0] in _PAGE_FIELDS


def _without_page_fields(part: bytes) -> bytes:
    """A header or footer part without its page-number fields (simple or complex), each with the
    "Page", "of" or "/" written before it."""
    root = etree.fromstring(part)
    found = []
    for simple in root.iter(_w("fldSimple")):
        if _is_page_field(str(simple.get(_w("instr"), ""))):
            found.append([simple])
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
            if _is_page_field(instruction):
                found.append(runs[index:end + 1])
            index = end + 1
    for elements in reversed(found):  # the last first: "Page 1 of 2" loses " of 2", then "Page 1"
        _trim_before(elements[0])
        for element in elements:
            parent = element.getparent()
            if parent is not None:
                parent.remove(element)
    return _xml(root)


def _field_char(run: Any) -> str | None:
    char = run.find(_w("fldChar"))
    return None if char is None else str(char.get(_w("fldCharType")))


def _trim_before(element: Any) -> None:
    """Take "Page", "of" or "/" off the end of the text just before a page-number field."""
    previous = element.getprevious()
    while previous is not None and previous.tag != _w("r"):
        previous = previous.getprevious()
    if previous is None:
        return
    texts = previous.findall(_w("t"))
    if not texts:
        return
    text = (texts[-1].text or "").rstrip()
    for word in ("Page", "page", "of", "/"):
        if text.endswith(word) and (len(text) == len(word) or not text[-len(word) - 1].isalnum()):
            text = text[: -len(word)].rstrip()
            break
    texts[-1].text = text


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
