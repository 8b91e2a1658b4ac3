"""Case files set out readably, for a subject access bundle: headings and labelled fields in the
order the schema gives them, never raw JSON.

Every case file of a bundle goes into one Word document, each starting on a new page under a
"Heading 1" title, because LibreOffice converts one long document far faster than many short ones
(its cost is per document, not per page). The bundle finds where each case file starts from the
bookmarks LibreOffice makes of those titles; nothing else in the document is a Heading 1.

Labels come from the field names ("entered_service_on" reads "Entered service on"), with the
friendlier wording below where the name alone reads badly. Dates are written the UK way, yes/no
fields as Yes and No, and a group of fields (the person, the referral) gets a heading of its own.
"""

from __future__ import annotations

import functools
import io
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

import docx
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from recordgen.documents.render import date_filter, date_time_filter
from recordgen.errors import InvariantBroken
from recordgen.subject_access.redaction import MARKER, Resolver, merged_node

TITLE_STYLE = "Heading 1"  # one per case file, and nothing else: the bundle finds them by it
_TEXT_WIDTH_CM = 17.0
_LABEL_CM = 5.2
_ACCENT = RGBColor(0x1F, 0x4E, 0x79)
_GREY = RGBColor(0x59, 0x59, 0x59)

LABELS = {
    "person": "The person",
    "worker": "Support worker",
    "reported_by": "Reported by",
    "date_of_birth": "Date of birth",
    "lines": "Address",
    "received_at": "Referral received",
    "route": "How the referral came to us",
    "private_referrer": "Referred by (a private individual)",
    "first_contact_at": "First contact made",
    "entered_service_on": "Entered the service",
    "support_start_date": "Support starts",
    "crisis_support_needed": "Crisis support needed",
    "tenure": "Housing (tenure)",
    "needs": "Housing support needs",
    "area": "Area of need",
    "support": "Support to be given",
    "hazard": "Risk",
    "controls": "How the risk is managed",
    "diversity": "Diversity needs",
    "interpreter_needed": "Interpreter needed",
    "consent_to_share": "Consent to share information",
    "given": "Consent given",
    "agencies": "Agencies it may be shared with",
    "contacts": "Contacts",
    "support_started_on": "Support started",
    "hours_per_week": "Hours of support a week",
    "extended_support_agreed": "Support beyond two years agreed",
    "objectives": "Objectives",
    "measure": "How progress is measured",
    "achievable": "Why it is achievable",
    "actions": "Agreed actions",
    "by_whom": "By whom",
    "advocate": "Advocate or representative",
    "signatures": "Signatures",
    "service_user_agreed": "Agreed by the person",
    "service_user_signed_on": "Signed by the person on",
    "worker_signed_on": "Signed by the worker on",
    "request_received_on": "Request received",
    "request_made_by": "How the request was made",
    "ended_by": "Support ended by",
    "leaving_date": "Leaving date",
    "arrangements_agreed": "Arrangements agreed",
    "effects_of_leaving": "What leaving means",
    "how_to_return": "How to come back to the service",
    "specialist": "Specialist accommodation",
    "provider_reason": "Reason the service ended support",
    "reason_details": "More about the reason",
    "incident_ref": "Incident reference",
    "occurred_at": "When it happened",
    "people_involved": "People involved",
    "what_happened": "What happened",
    "immediate_actions": "What was done straight away",
    "emergency_services": "Emergency services",
    "called": "Called",
    "services": "Which services",
    "safeguarding": "Safeguarding",
    "referral_made": "Referral made",
    "consent": "The person's consent",
    "reason_without_consent": "Why the referral was made without consent",
    "referred_to": "Referred to",
    "referred_at": "Referred at",
    "commissioner_notified_at": "Commissioning team told",
    "received_on": "Request received",
    "received_by": "How the request reached us",
    "requested_by": "Asked for by",
    "representative": "Representative",
    "authority_checked_on": "Authority checked on",
    "identity_checked_on": "Identity checked on",
    "identity_evidence": "How identity was checked",
    "scope": "What was asked for",
    "extended": "Deadline extended",
    "extension_told_on": "Person told of the extension on",
    "extension_reason": "Why more time was needed",
    "record_types": "Kinds of record",
}
SINGULAR = {
    "needs": "Need",
    "risks": "Risk",
    "objectives": "Objective",
    "actions": "Action",
    "contacts": "Contact",
    "people_involved": "Person involved",
}


def label(key: str) -> str:
    return LABELS.get(key) or key.replace("_", " ").capitalize()


@dataclass(frozen=True)
class CaseFileRecord:
    """One case file to set out: its title (a Heading 1), lines under it, and its data (already
    redacted) with the schema node that describes it."""

    title: str
    lines: tuple[str, ...]
    data: Mapping[str, Any]
    node: Mapping[str, Any]


def case_files_document(records: Sequence[CaseFileRecord], resolve: Resolver) -> bytes:
    """One Word document holding every case file, each from a new page."""
    body: list[str] = []
    writer = _Writer(body, resolve)
    for number, record in enumerate(records):
        body.append(_paragraph(record.title, TITLE_STYLE_ID, page_break=number > 0))
        body.extend(_paragraph(line, "RecordDetail") for line in record.lines)
        writer.group(record.data, record.node, level=2)
    return _with_body(_base_package(), "".join(body))


# The document's XML is written directly: python-docx builds the styled, empty package once, and
# adding thousands of paragraphs and cells through its object model would take seconds.
TITLE_STYLE_ID = "Heading1"
_TWIPS_PER_CM = 567


@functools.cache
def _base_package() -> bytes:
    document = docx.Document()
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)  # A4, like the templates
    section.left_margin = section.right_margin = Cm(2.0)
    section.top_margin, section.bottom_margin = Cm(1.8), Cm(2.0)  # room for the bundle's stamp
    styles = document.styles
    normal = styles["Normal"]
    normal.font.name, normal.font.size = "Arial", Pt(10)
    normal.paragraph_format.space_after = Pt(3)
    _plain_fonts(normal)
    for level, size in ((1, 15), (2, 12), (3, 11), (4, 10)):
        heading = styles[f"Heading {level}"]
        heading.font.name, heading.font.size = "Arial", Pt(size)
        heading.font.color.rgb = _ACCENT
        heading.font.italic = False
        heading.paragraph_format.space_before = Pt(12 if level < 3 else 8)
        heading.paragraph_format.space_after = Pt(4)
        heading.paragraph_format.keep_with_next = True
        _plain_fonts(heading)
    if styles[TITLE_STYLE].style_id != TITLE_STYLE_ID:
        raise InvariantBroken(f"The case files document's title style is not {TITLE_STYLE_ID}, "
                              "so the bundle could not find its records' bookmarks.")
    detail = styles.add_style("Record Detail", WD_STYLE_TYPE.PARAGRAPH)
    detail.base_style = normal
    detail.font.size, detail.font.color.rgb = Pt(9), _GREY
    cell = styles.add_style("Cell Text", WD_STYLE_TYPE.PARAGRAPH)
    cell.base_style = normal
    cell.font.size = Pt(9.5)
    cell.paragraph_format.space_after = Pt(1)
    document.core_properties.author = document.core_properties.last_modified_by = "recordgen"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _with_body(package: bytes, body: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "word/document.xml":
                xml = content.decode("utf-8")
                start = xml.index(">", xml.index("<w:body")) + 1
                content = (xml[:start] + body + xml[xml.index("<w:sectPr", start):]).encode()
            target.writestr(info.filename, content)
    return out.getvalue()


def _plain_fonts(style: Any) -> None:
    """Drop the theme fonts that would otherwise win over the style's own."""
    fonts = style.element.get_or_add_rPr().find(qn("w:rFonts"))
    if fonts is not None:
        for attr in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
            fonts.attrib.pop(qn(f"w:{attr}"), None)


def _runs(text: str, bold: bool = False) -> str:
    """Runs of text; a line break in the text is a line break in Word."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    props = "<w:rPr><w:b/></w:rPr>" if bold else ""
    inner = "<w:br/>".join(f'<w:t xml:space="preserve">{escape(line)}</w:t>' for line in lines)
    return f"<w:r>{props}{inner}</w:r>"


def _paragraph(text: str, style: str, *, bold: bool = False, page_break: bool = False) -> str:
    brk = "<w:pageBreakBefore/>" if page_break else ""
    return f'<w:p><w:pPr><w:pStyle w:val="{style}"/>{brk}</w:pPr>{_runs(text, bold)}</w:p>'


def _cell(text: str, width: int, *, bold: bool = False, shade: bool = False) -> str:
    fill = '<w:shd w:val="clear" w:color="auto" w:fill="F2F2F2"/>' if shade else ""
    return (f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/>{fill}</w:tcPr>'
            f"{_paragraph(text, 'CellText', bold=bold)}</w:tc>")


def _table(widths: Sequence[int], rows: Sequence[str]) -> str:
    grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in widths)
    margins = "".join(f'<w:{side} w:w="{twips}" w:type="dxa"/>' for side, twips in
                      (("top", 30), ("left", 90), ("bottom", 30), ("right", 90)))
    return (f'<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="{sum(widths)}" '
            f'w:type="dxa"/><w:tblLayout w:type="fixed"/><w:tblCellMar>{margins}</w:tblCellMar>'
            f"</w:tblPr><w:tblGrid>{grid}</w:tblGrid>{''.join(rows)}</w:tbl>"
            '<w:p><w:pPr><w:spacing w:after="0"/></w:pPr></w:p>')


def _is_address(node: Mapping[str, Any]) -> bool:
    properties = node.get("properties")
    return isinstance(properties, Mapping) and set(properties) == {"lines", "postcode"}


class _Writer:
    def __init__(self, body: list[str], resolve: Resolver) -> None:
        self.body = body
        self.resolve = resolve

    def node(self, node: Any) -> Mapping[str, Any]:
        return merged_node(self.resolve, node) if isinstance(node, Mapping) else {}

    def is_field(self, value: Any, node: Mapping[str, Any]) -> bool:
        """A value shown in one row: anything but a group of fields or a list of groups."""
        if isinstance(value, Mapping):
            return _is_address(node)
        if isinstance(value, list):
            return not any(isinstance(v, Mapping) for v in value)
        return True

    def group(self, value: Mapping[str, Any], node: Mapping[str, Any], level: int) -> None:
        """The fields of an object in schema order: runs of plain fields as a two-column table,
        each group of fields or list of groups under a heading of its own."""
        properties = node.get("properties", {})
        order = [k for k in properties if k in value] + [k for k in value if k not in properties]
        rows: list[tuple[str, str]] = []
        for key in order:
            child = self.node(properties.get(key, {}))
            item = value[key]
            if self.is_field(item, child):
                rows.append((label(key), self.text(item, child)))
                continue
            self.rows(rows)
            rows = []
            self.heading(label(key), level)
            if isinstance(item, Mapping):
                self.group(item, child, level + 1)
            else:
                self.groups(key, item, self.node(child.get("items", {})), level + 1)
        self.rows(rows)

    def groups(self, key: str, items: list[Any], node: Mapping[str, Any], level: int) -> None:
        """A list of groups: one table with a column per field when every field is plain,
        otherwise a numbered heading per item."""
        properties = node.get("properties", {})
        flat = all(isinstance(i, Mapping) and all(
            self.is_field(v, self.node(properties.get(k, {}))) for k, v in i.items())
            for i in items)
        if flat:
            columns = [k for k in properties if any(k in i for i in items)]
            columns += sorted({k for i in items for k in i} - set(columns))
            self.columns(columns, items, properties)
            return
        singular = SINGULAR.get(key, label(key))
        for number, item in enumerate(items, start=1):
            self.heading(f"{singular} {number} of {len(items)}", level)
            if isinstance(item, Mapping):
                self.group(item, node, level + 1)
            else:
                self.rows([(singular, self.text(item, node))])

    def text(self, value: Any, node: Mapping[str, Any]) -> str:
        if isinstance(value, bool):
            return "Yes" if value else "No"
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float):
            return f"{value:g}"
        if isinstance(value, str):
            if value == MARKER:
                return value
            if node.get("format") == "date":
                return date_filter(value) or value
            if node.get("format") == "uk-local-datetime":
                return date_time_filter(value)
            if "enum" in node and value:
                return value[0].upper() + value[1:]
            return value
        if isinstance(value, list):
            items = self.node(node.get("items", {}))
            return "\n".join(self.text(v, items) for v in value)
        if isinstance(value, Mapping):  # an address
            parts = [*value.get("lines", []), value.get("postcode", "")]
            shown = [str(p) for p in parts if p]
            if shown and all(p == MARKER for p in shown):
                return MARKER
            return ", ".join(shown)
        return "" if value is None else str(value)

    def heading(self, text: str, level: int) -> None:
        self.body.append(_paragraph(text, f"Heading{min(level, 4)}"))

    def rows(self, rows: list[tuple[str, str]]) -> None:
        if not rows:
            return
        label_width = int(_LABEL_CM * _TWIPS_PER_CM)
        value_width = int((_TEXT_WIDTH_CM - _LABEL_CM) * _TWIPS_PER_CM)
        self.body.append(_table([label_width, value_width], [
            # Rows may break across pages: a long text in a row that may not would be cut off.
            f"<w:tr>{_cell(name, label_width, bold=True, shade=True)}{_cell(text, value_width)}</w:tr>"
            for name, text in rows]))

    def columns(self, keys: list[str], items: list[Any],
                properties: Mapping[str, Any]) -> None:
        width = int(_TEXT_WIDTH_CM * _TWIPS_PER_CM / len(keys))
        header = ('<w:tr><w:trPr><w:cantSplit/><w:tblHeader/></w:trPr>'
                  + "".join(_cell(label(k), width, bold=True, shade=True) for k in keys)
                  + "</w:tr>")
        rows = [header]
        for item in items:
            cells = []
            for key in keys:
                value = item.get(key) if isinstance(item, Mapping) else None
                text = "" if value is None else self.text(value, self.node(properties.get(key, {})))
                cells.append(_cell(text, width))
            rows.append("<w:tr>" + "".join(cells) + "</w:tr>")
        self.body.append(_table([width] * len(keys), rows))
