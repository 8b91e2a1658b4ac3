"""Word templates prepared once, so that each document costs only the parts that carry its data.

docxtpl (the reference: its own preprocessing is reused here, and the tests compare every part of
every document with what it makes) opens the whole .docx for every document, parses every XML part
(a template's styles alone are close to a megabyte), runs its clean-up of the tags, fills in the
parts with tags, then serialises and compresses every part again. Nearly all of that is the same
for every document made from one template. :func:`prepare` does it once:

* each part docxtpl fills in (the body, headers, footers, footnotes and the core properties) has
  its XML cleaned as docxtpl cleans it, and becomes a compiled template of the sandbox the caller
  gives (autoescaping, with the budget of :mod:`recordgen.documents.render`); a part with no tag in
  it is filled in once, here, since its result cannot depend on the data;
* every other part is kept as python-docx would write it, already compressed.

:meth:`PreparedTemplate.fill` then runs only the compiled templates, with docxtpl's own steps after
each (the paragraph breaks, ``resolve_listing``, ``fix_tables``, the drawing numbers), serialises
those parts as python-docx would, and writes the .docx with every other part's compressed bytes
copied as they are. The document says exactly what docxtpl's would, part for part; its zip wrapping
is recordgen's own (each entry stamped 1 January 1980, as :func:`normalise_docx` stamps docxtpl's).

A template this cannot reproduce exactly (no core properties part, footnotes with tags in them) is
not prepared: :func:`prepare` returns None and the caller renders it with docxtpl.
"""

from __future__ import annotations

import copy
import hashlib
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jinja2
from docx import Document
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.coreprops import CoreProperties
from docx.oxml.ns import nsmap, qn
from docx.oxml.parser import parse_xml
from docxtpl import DocxTemplate
from lxml import etree  # type: ignore[import-untyped]  # python-docx's own XML library; no stubs

# docxtpl's own clean-up and finishing steps, used as methods of a template that is never loaded.
_DOCXTPL = DocxTemplate(io.BytesIO(b""))
_JINJA_SYNTAX = re.compile(r"\{[{%#]")
_CORE_PROPERTIES = ("author", "comments", "identifier", "language", "subject", "title")
_FOOTNOTES = "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"
_DOS_TIME_DATE = b"\x00\x00\x21\x00"  # 00:00:00, 1 January 1980


@dataclass(frozen=True)
class _Stored:
    """One zip entry, compressed, ready to be copied into every document."""

    name: bytes
    crc: int
    compressed: bytes
    size: int
    sha256: bytes  # of the uncompressed part, for the document's content hash


Part = Callable[[Mapping[str, Any]], bytes]  # context -> the part's XML, as python-docx writes it


@dataclass(frozen=True)
class PreparedTemplate:
    """A Word template ready to fill in: each zip entry either stored or a part to fill in."""

    entries: tuple[_Stored | tuple[bytes, Part], ...]

    def fill(self, context: Mapping[str, Any]) -> tuple[bytes, str]:
        """The .docx for ``context`` (the parts with tags filled in, every other part copied) and
        its content hash, as :func:`recordgen.documents.render.docx_content_sha256` computes it."""
        stored = [entry if isinstance(entry, _Stored) else _compress(entry[0], entry[1](context))
                  for entry in self.entries]
        digest = hashlib.sha256()
        for entry in sorted(stored, key=lambda e: e.name):
            digest.update(entry.name + b"\0")
            digest.update(entry.sha256)
        return _zip(stored), digest.hexdigest()


def prepare(template_bytes: bytes, environment: jinja2.Environment) -> PreparedTemplate | None:
    """Prepare the template (compile its parts in ``environment``); None if only docxtpl can
    render it exactly. Raises what docxtpl would: a zip or Jinja syntax error."""
    document = Document(io.BytesIO(template_bytes))
    package = document.part.package
    try:
        package.part_related_by(RT.CORE_PROPERTIES)
    except KeyError:
        return None  # python-docx would make one stamped with the time of saving
    dynamic: dict[str, Part] = {"/word/document.xml": _body(document, environment)}
    for rel in document.part.rels.values():
        if rel.reltype in (RT.HEADER, RT.FOOTER) and rel.target_part.blob:
            name, part = _header_or_footer(rel.target_part, environment)
            if part is not None:
                dynamic[name] = part
            else:
                # Filled in once: docxtpl replaces the part with one loaded from its result.
                rel._target = _loaded(rel.target_part, _header_footer_xml(rel.target_part,
                                                                          environment, {}))
    core = _core_properties(document, environment)
    if core is not None:
        dynamic["/docProps/core.xml"] = core
    sections = len(document.sections)
    for part in package.parts:
        if part.content_type == _FOOTNOTES:
            xml = part.blob.decode("utf-8") if isinstance(part.blob, bytes) else part.blob
            if _JINJA_SYNTAX.search(_DOCXTPL.patch_xml(xml)):
                return None
            for _ in range(sections):  # docxtpl fills the footnotes in once per section
                xml = _fill_xml(environment.from_string(_paragraph_lines(_DOCXTPL.patch_xml(xml))),
                                {})
            part._blob = xml.encode("utf-8")
    saved = io.BytesIO()
    document.save(saved)
    entries: list[_Stored | tuple[bytes, Part]] = []
    with zipfile.ZipFile(saved) as archive:
        for info in archive.infolist():
            part_name = "/" + info.filename
            if part_name in dynamic:
                entries.append((info.filename.encode(), dynamic[part_name]))
            else:
                entries.append(_compress(info.filename.encode(), archive.read(info)))
    return PreparedTemplate(tuple(entries))


# How a value's "_" in "{_{", "}_}", "{_%" or "%_}" is written while a part is filled in, so that
# docxtpl's replacing of those marks leaves it (see render.py); written "_" again after.
UNDERSCORE_KEPT = "&#95;"


def _paragraph_lines(xml: str) -> str:
    return re.sub(r"<w:p([ >])", r"\n<w:p\1", xml)


def _fill_xml(template: jinja2.Template, context: Mapping[str, Any]) -> str:
    """docxtpl's ``render_xml_part`` after its template is compiled: fill in, then its finishing."""
    xml = re.sub(r"\n<w:p([ >])", r"<w:p\1", template.render(context))
    xml = xml.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}")
    # A value's "_" kept from that (render.py): written "_" as docxtpl's saving writes it.
    xml = xml.replace(UNDERSCORE_KEPT, "_")
    if any(mark in xml for mark in "\t\a\n\f"):  # resolve_listing changes only these
        xml = _DOCXTPL.resolve_listing(xml)
    return str(xml)


def _body(document: Any, environment: jinja2.Environment) -> Part:
    root = document.element
    body = root.find(qn("w:body"))
    source = _DOCXTPL.patch_xml(etree.tostring(body, encoding="unicode", pretty_print=False))
    template = environment.from_string(_paragraph_lines(source))
    skeleton = copy.deepcopy(root)
    skeleton.replace(skeleton.find(qn("w:body")), etree.Element(qn("w:body")))

    def fill(context: Mapping[str, Any]) -> bytes:
        tree = _DOCXTPL.fix_tables(_fill_xml(template, context))
        for number, drawing in enumerate(tree.xpath("//wp:docPr", namespaces=nsmap), start=1001):
            drawing.attrib["id"] = str(number)  # docxtpl's fix_docpr_ids
        filled = copy.deepcopy(skeleton)
        filled.replace(filled.find(qn("w:body")), tree)
        return bytes(etree.tostring(filled, encoding="UTF-8", standalone=True))

    return fill


def _header_footer_source(part: Any) -> str:
    xml = etree.tostring(parse_xml(part.blob), encoding="unicode", pretty_print=False)
    return _paragraph_lines(_DOCXTPL.patch_xml(xml))


def _header_or_footer(part: Any, environment: jinja2.Environment) -> tuple[str, Part | None]:
    source = _header_footer_source(part)
    if not _JINJA_SYNTAX.search(source):
        return str(part.partname), None
    template = environment.from_string(source)

    def fill(context: Mapping[str, Any]) -> bytes:
        filled = parse_xml(_fill_xml(template, context).encode("utf-8"))
        return bytes(etree.tostring(filled, encoding="UTF-8", standalone=True))

    return str(part.partname), fill


def _header_footer_xml(part: Any, environment: jinja2.Environment,
                       context: Mapping[str, Any]) -> bytes:
    return _fill_xml(environment.from_string(_header_footer_source(part)), context).encode("utf-8")


def _loaded(part: Any, xml: bytes) -> Any:
    """docxtpl's ``map_headers_footers_xml``: a part loaded from the filled-in XML, same links."""
    from docx.opc.part import XmlPart

    new_part = XmlPart.load(part.partname, part.content_type, xml, part.package)
    for rel in part.rels.values():
        new_part.load_rel(rel.reltype, rel._target, rel.rId, rel.is_external)
    return new_part


def _core_properties(document: Any, environment: jinja2.Environment) -> Part | None:
    """docxtpl fills in six of the core properties (and writes each back, even unchanged). Without
    tags they are filled in here, once; with tags, for each document."""
    properties = document.core_properties
    initial = {name: getattr(properties, name) for name in _CORE_PROPERTIES}
    if not any(_JINJA_SYNTAX.search(value) for value in initial.values()):
        for name, value in initial.items():
            setattr(properties, name, environment.from_string(value).render({}))
        return None
    templates = {name: environment.from_string(value) for name, value in initial.items()}
    element = properties._element

    def fill(context: Mapping[str, Any]) -> bytes:
        filled = copy.deepcopy(element)
        wrapper = CoreProperties(filled)
        for name, template in templates.items():
            setattr(wrapper, name, template.render(context))
        return bytes(etree.tostring(filled, encoding="UTF-8", standalone=True))

    return fill


def _compress(name: bytes, data: bytes) -> _Stored:
    deflate = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    return _Stored(name, zlib.crc32(data), deflate.compress(data) + deflate.flush(), len(data),
                   hashlib.sha256(data).digest())


def _zip(entries: list[_Stored]) -> bytes:
    """A zip archive of already-compressed entries, every one stamped 1 January 1980."""
    out, central, offset = [], [], 0
    for entry in entries:
        fields = struct.pack("<HHH4sIII", 20, 0, zipfile.ZIP_DEFLATED, _DOS_TIME_DATE, entry.crc,
                             len(entry.compressed), entry.size)
        local = b"PK\x03\x04" + fields + struct.pack("<HH", len(entry.name), 0) + entry.name
        out += [local, entry.compressed]
        central.append(b"PK\x01\x02" + struct.pack("<H", 20 | 3 << 8) + fields
                       + struct.pack("<HHHHHII", len(entry.name), 0, 0, 0, 0, 0o600 << 16, offset)
                       + entry.name)
        offset += len(local) + len(entry.compressed)
    directory = b"".join(central)
    end = b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, len(entries), len(entries),
                                      len(directory), offset, 0)
    return b"".join(out) + directory + end
