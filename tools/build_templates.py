"""Build the Word templates in templates/ with python-docx.

Run from the repository root:

    .venv/bin/python tools/build_templates.py [--out FOLDER]

The templates are committed as .docx files because staff edit them in Word; this script is how they
were first made and how they can be made again from scratch. Rebuilding overwrites any edits made
in Word, so compare before committing a rebuilt template.

The {{ ... }} and {% ... %} tags are docxtpl/Jinja tags (see src/recordgen/render.py for the
context). Each tag is written inside one run of text so that Word and docxtpl see it whole. Table
row loops sit in rows of their own ({%tr ... %}) and paragraph conditionals in paragraphs of their
own ({%p ... %}). Case data reaches a template only as ``data.<field>`` (the names in schemas/);
dates are ISO strings and always go through ``|uk_date`` or ``|uk_datetime``; long free text goes
through ``|multiline`` so its line breaks survive.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

REPO = Path(__file__).resolve().parent.parent

FONT = "Arial"
INK = RGBColor(0x1A, 0x1A, 0x1A)
ACCENT = RGBColor(0x1F, 0x4E, 0x79)  # dark blue: headings and the provider's name
GREY = RGBColor(0x59, 0x59, 0x59)
HEADER_FILL = "DCE6F1"  # table heading rows
LABEL_FILL = "F2F2F2"  # label column of two-column tables

PAGE_WIDTH, PAGE_HEIGHT = Cm(21.0), Cm(29.7)  # A4
MARGIN = Cm(2.0)  # left and right
MARGIN_TOP_BOTTOM = Cm(1.6)
TEXT_WIDTH_CM = 17.0

# A part of a paragraph: plain text, or (text, {"bold": True, "italic": True, "size": 9}).
Part = str | tuple[str, dict[str, Any]]


# --- document set-up --------------------------------------------------------------------------


def new_document(title: str, running_title: str = "{{ document.title }}") -> Any:
    doc = Document()
    _styles(doc)
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = PAGE_WIDTH, PAGE_HEIGHT
    section.top_margin = section.bottom_margin = MARGIN_TOP_BOTTOM
    section.left_margin = section.right_margin = MARGIN
    section.header_distance = section.footer_distance = Cm(0.8)
    _running_header_and_footer(section, running_title)
    core = doc.core_properties
    core.title = title
    core.author = core.last_modified_by = "recordgen"
    # docxtpl renders the document properties as templates too: no braces in them.
    core.comments = (
        "recordgen template: the tags in double curly brackets and curly-bracket-percent signs "
        "are filled in from the case file. Keep each tag whole when editing."
    )
    core.created = core.modified = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    core.revision = 1
    return doc


def _set_font(style_or_run: Any, name: str = FONT) -> None:
    """Set every font slot (and drop the theme fonts that would otherwise win)."""
    rpr = style_or_run.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
        fonts.attrib.pop(qn(f"w:{attr}"), None)
    for attr in ("ascii", "hAnsi", "eastAsia", "cs"):
        fonts.set(qn(f"w:{attr}"), name)


def _set_language(style: Any, lang: str = "en-GB") -> None:
    rpr = style.element.get_or_add_rPr()
    for old in rpr.findall(qn("w:lang")):
        rpr.remove(old)
    element = OxmlElement("w:lang")
    element.set(qn("w:val"), lang)
    element.set(qn("w:eastAsia"), lang)
    element.set(qn("w:bidi"), "ar-SA")
    rpr.append(element)


def _styles(doc: Any) -> None:
    styles = doc.styles
    normal = styles["Normal"]
    _set_font(normal)
    _set_language(normal)
    normal.font.size = Pt(11)
    normal.font.color.rgb = INK
    normal.paragraph_format.space_before = Pt(0)
    normal.paragraph_format.space_after = Pt(6)
    normal.paragraph_format.line_spacing = 1.1

    for level, size, before in ((1, 13, 14), (2, 11.5, 10)):
        heading = styles[f"Heading {level}"]
        _set_font(heading)
        heading.font.size = Pt(size)
        heading.font.bold = True
        heading.font.italic = False
        heading.font.color.rgb = ACCENT
        heading.paragraph_format.space_before = Pt(before)
        heading.paragraph_format.space_after = Pt(4)
        heading.paragraph_format.keep_with_next = True

    title = styles["Title"]
    _set_font(title)
    title.font.size = Pt(18)
    title.font.bold = True
    title.font.color.rgb = ACCENT
    title.paragraph_format.space_before = Pt(6)
    title.paragraph_format.space_after = Pt(6)
    ppr = title.element.get_or_add_pPr()
    for border in ppr.findall(qn("w:pBdr")):  # python-docx's Title has a rule under it
        ppr.remove(border)
    rpr = title.element.get_or_add_rPr()
    for spacing in rpr.findall(qn("w:spacing")) + rpr.findall(qn("w:kern")):
        rpr.remove(spacing)

    bullet = styles["List Bullet"]
    _set_font(bullet)
    bullet.paragraph_format.space_after = Pt(4)

    def paragraph_style(
        name: str, size: float, after: float, *, bold: bool = False, colour: RGBColor | None = None
    ) -> Any:
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = normal
        style.quick_style = True
        style.font.size = Pt(size)
        if bold:
            style.font.bold = True
        if colour is not None:
            style.font.color.rgb = colour
        style.paragraph_format.space_before = Pt(0)
        style.paragraph_format.space_after = Pt(after)
        style.paragraph_format.line_spacing = 1.0
        return style

    paragraph_style("Table Text", 10, 2)
    paragraph_style("Table Heading", 10, 2, bold=True)
    paragraph_style("Letterhead Name", 16, 0, bold=True, colour=ACCENT)
    paragraph_style("Letterhead Service", 11, 0, colour=ACCENT)
    paragraph_style("Letterhead Detail", 9, 0, colour=GREY)
    paragraph_style("Address", 11, 0)
    paragraph_style("Small", 8.5, 0, colour=GREY)
    paragraph_style("Template Tag", 8, 0, colour=GREY)
    signature = paragraph_style("Signature Line", 11, 0)
    signature.paragraph_format.space_before = Pt(14)


def _running_header_and_footer(section: Any, running_title: str) -> None:
    """Page 1 carries the letterhead in the body; later pages get a one-line running header.
    Every page gets the document reference and page number in the footer."""
    section.different_first_page_header_footer = True
    first_header = section.first_page_header.paragraphs[0]
    first_header.style = "Small"

    header = section.header.paragraphs[0]
    header.style = "Small"
    header.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    header.add_run(f"{{{{ provider.name }}}} · {running_title} · Our reference: {{{{ case_ref }}}}")

    for footer in (section.footer, section.first_page_footer):
        paragraph = footer.paragraphs[0]
        paragraph.style = "Small"
        paragraph.paragraph_format.tab_stops.add_tab_stop(
            Cm(TEXT_WIDTH_CM), WD_TAB_ALIGNMENT.RIGHT
        )
        paragraph.add_run("{{ document.reference }}")
        paragraph.add_run("\tPage ")
        _field(paragraph, "PAGE", "1")
        paragraph.add_run(" of ")
        _field(paragraph, "NUMPAGES", "1")


def _field(paragraph: Any, instruction: str, placeholder: str) -> None:
    """A Word field (PAGE, NUMPAGES) as begin / instruction / separate / result / end runs."""

    def run_with(child: Any) -> None:
        run = paragraph.add_run()
        run._r.append(child)

    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    run_with(begin)
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    run_with(instr)
    separate = OxmlElement("w:fldChar")
    separate.set(qn("w:fldCharType"), "separate")
    run_with(separate)
    paragraph.add_run(placeholder)
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run_with(end)


# --- paragraphs ---------------------------------------------------------------------------------


def para(
    container: Any,
    *parts: Part,
    style: str | None = None,
    align: Any = None,
    first: bool = False,
) -> Any:
    """Add a paragraph made of runs; every tag must sit whole inside one part.

    With ``first``, fill the container's existing empty paragraph (a new table cell has one).
    """
    paragraph = container.paragraphs[0] if first else container.add_paragraph()
    if style:
        paragraph.style = style
    if align is not None:
        paragraph.alignment = align
    for part in parts:
        text, fmt = (part, {}) if isinstance(part, str) else part
        run = paragraph.add_run(text)
        if fmt.get("bold"):
            run.bold = True
        if fmt.get("italic"):
            run.italic = True
        if "size" in fmt:
            run.font.size = Pt(fmt["size"])
    return paragraph


def bold(text: str) -> Part:
    return (text, {"bold": True})


def heading(doc: Any, text: str, level: int = 1) -> Any:
    paragraph = doc.add_paragraph(style=f"Heading {level}")
    paragraph.add_run(text)
    return paragraph


def control(container: Any, tag: str, *, first: bool = False) -> None:
    """A paragraph holding only a {%p ... %} tag (docxtpl removes the whole paragraph). It gets
    the grey "Template Tag" style so that editors can tell it from text that is printed."""
    para(container, tag, style="Template Tag", first=first)


# Elements that follow w:pBdr in w:pPr, and w:tblCellMar in w:tblPr (ECMA-376 order; Word is strict).
_AFTER_PBDR = (
    "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
    "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd",
    "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents",
    "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment", "w:textboxTightWrap",
    "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange",
)
_AFTER_TBLCELLMAR = ("w:tblLook", "w:tblCaption", "w:tblDescription", "w:tblPrChange")


def ruled(doc: Any) -> None:
    """A thin rule across the page (a paragraph with a bottom border)."""
    paragraph = doc.add_paragraph()
    paragraph.paragraph_format.space_after = Pt(8)
    ppr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("val", "single"), ("sz", "8"), ("space", "1"), ("color", "1F4E79")):
        bottom.set(qn(f"w:{key}"), value)
    borders.append(bottom)
    ppr.insert_element_before(borders, *_AFTER_PBDR)
    _font_size(paragraph, 4)


def _font_size(paragraph: Any, size: float) -> None:
    ppr = paragraph._p.get_or_add_pPr()
    rpr = OxmlElement("w:rPr")
    sz = OxmlElement("w:sz")
    sz.set(qn("w:val"), str(int(size * 2)))
    rpr.append(sz)
    ppr.append(rpr)


def signature_block(
    doc: Any, who: str, name_tag: str, date_tag: str | None = None, *, last: bool = False
) -> None:
    """Who signs, then "Signed: ____ Date: ____". The whole signatures section keeps together."""
    keep_with_next(para(doc, bold(f"{who}: "), name_tag, style="Signature Line"))
    date_text = date_tag if date_tag else "____________________"
    line = para(doc, "Signed: ________________________________      Date: ", date_text,
                style="Signature Line")
    line.paragraph_format.keep_with_next = not last


def keep_with_next(paragraph: Any) -> Any:
    paragraph.paragraph_format.keep_with_next = True
    return paragraph


# --- tables -------------------------------------------------------------------------------------


def _shade(cell: Any, fill: str) -> None:
    tcpr = cell._tc.get_or_add_tcPr()
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    tcpr.append(shading)


def _repeat_as_header(row: Any) -> None:
    trpr = row._tr.get_or_add_trPr()
    element = OxmlElement("w:tblHeader")
    element.set(qn("w:val"), "true")
    trpr.append(element)


def _no_split(row: Any) -> None:
    trpr = row._tr.get_or_add_trPr()
    trpr.append(OxmlElement("w:cantSplit"))


def _table(doc: Any, widths_cm: Sequence[float], *, grid: bool = True) -> Any:
    table = doc.add_table(rows=0, cols=len(widths_cm))
    if grid:
        table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    table.autofit = False
    for column, width in zip(table.columns, widths_cm, strict=True):
        column.width = Cm(width)
    _cell_margins(table, top=40, bottom=40, left=100 if grid else 0, right=100 if grid else 0)
    return table


def _cell_margins(table: Any, **twips: int) -> None:
    tblpr = table._tbl.tblPr
    margins = OxmlElement("w:tblCellMar")
    for side in ("top", "left", "bottom", "right"):
        element = OxmlElement(f"w:{side}")
        element.set(qn("w:w"), str(twips[side]))
        element.set(qn("w:type"), "dxa")
        margins.append(element)
    tblpr.insert_element_before(margins, *_AFTER_TBLCELLMAR)


def _keep_together(table: Any) -> None:
    """Keep a short table on one page: every paragraph but the last row's keeps with the next."""
    for row in table.rows[:-1]:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                paragraph.paragraph_format.keep_with_next = True


def _row(table: Any, widths_cm: Sequence[float]) -> Any:
    row = table.add_row()
    for cell, width in zip(row.cells, widths_cm, strict=True):
        cell.width = Cm(width)
    return row


def _control_row(table: Any, widths_cm: Sequence[float], tag: str) -> None:
    row = _row(table, widths_cm)
    control(row.cells[0], tag, first=True)


def _after_table(doc: Any) -> None:
    """Word needs a paragraph between two tables; this one also gives a little space."""
    paragraph = doc.add_paragraph()
    paragraph.paragraph_format.space_after = Pt(0)
    _font_size(paragraph, 6)


CellFill = Callable[[Any], None]


def _cell(content: str | Sequence[Part] | CellFill) -> CellFill:
    """Cell content: a string (one run), a list of parts (one paragraph), or a function."""
    if callable(content):
        return content
    parts: Sequence[Part] = [content] if isinstance(content, str) else content

    def fill(cell: Any) -> None:
        para(cell, *parts, style="Table Text", first=True)

    return fill


Row = tuple[str, str | Sequence[Part] | CellFill] | tuple[str, str | Sequence[Part] | CellFill, str]


def details_table(doc: Any, rows: Sequence[Row], widths_cm: Sequence[float] = (5.2, 11.8)) -> Any:
    """Two columns: a shaded label and its value. A third item in a row is a condition: the row
    is printed only when it holds (wrapped in {%tr if %} ... {%tr endif %})."""
    table = _table(doc, widths_cm)
    for item in rows:
        label, value = item[0], item[1]
        condition = item[2] if len(item) == 3 else None
        if condition:
            _control_row(table, widths_cm, f"{{%tr if {condition} %}}")
        row = _row(table, widths_cm)
        _no_split(row)
        para(row.cells[0], label, style="Table Heading", first=True)
        _shade(row.cells[0], LABEL_FILL)
        _cell(value)(row.cells[1])
        if condition:
            _control_row(table, widths_cm, "{%tr endif %}")
    _keep_together(table)
    _after_table(doc)
    return table


def list_table(
    doc: Any,
    headings: Sequence[str],
    widths_cm: Sequence[float],
    loop: str,
    cells: Sequence[str | Sequence[Part] | CellFill],
) -> Any:
    """A heading row, then one row per item of ``loop`` ("r in data.risks")."""
    table = _table(doc, widths_cm)
    head = _row(table, widths_cm)
    _repeat_as_header(head)
    _no_split(head)
    for cell, text in zip(head.cells, headings, strict=True):
        para(cell, text, style="Table Heading", first=True)
        _shade(cell, HEADER_FILL)
    _control_row(table, widths_cm, f"{{%tr for {loop} %}}")
    row = _row(table, widths_cm)
    for cell, content in zip(row.cells, cells, strict=True):
        _cell(content)(cell)
    _control_row(table, widths_cm, "{%tr endfor %}")
    _after_table(doc)
    return table


# --- shared blocks -----------------------------------------------------------------------------


def letterhead(doc: Any) -> None:
    """Provider name and service on the left, address and contact details on the right."""
    widths = (9.0, 8.0)
    table = _table(doc, widths, grid=False)
    row = _row(table, widths)
    left, right = row.cells
    para(left, "{{ provider.name }}", style="Letterhead Name", first=True)
    para(left, "{{ provider.service_name }}", style="Letterhead Service")
    right_align = WD_ALIGN_PARAGRAPH.RIGHT
    control(right, "{%p for line in provider.address %}", first=True)
    para(right, "{{ line }}", style="Letterhead Detail", align=right_align)
    control(right, "{%p endfor %}")
    para(right, "Phone: {{ provider.phone }}", style="Letterhead Detail", align=right_align)
    para(right, "Email: {{ provider.email }}", style="Letterhead Detail", align=right_align)
    ruled(doc)


def reference_lines(doc: Any, *extra: Sequence[Part]) -> None:
    para(doc, bold("Our reference: "), "{{ case_ref }}", style="Address")
    for parts in extra:
        para(doc, *parts, style="Address")
    para(
        doc,
        bold("Document reference: "),
        "{{ document.reference }}, version {{ document.version }}",
        style="Address",
    )
    spacer = doc.add_paragraph()
    spacer.paragraph_format.space_after = Pt(0)


def address_value(path: str) -> str:
    """One line: the address lines joined with commas, then the postcode."""
    return f'{{{{ {path}.lines|join(", ") }}}}, {{{{ {path}.postcode }}}}'


def notes_section(doc: Any) -> None:
    """The case file's notes under their own heading, when there are any."""
    control(doc, "{%p if data.notes %}")
    heading(doc, "Notes")
    para(doc, "{{ data.notes|multiline }}")
    control(doc, "{%p endif %}")


def complaints_bullets(doc: Any) -> None:
    para(doc, 'In writing to: {{ provider.complaints_contact|join(", ") }}', style="List Bullet")
    para(doc, "By email: {{ provider.complaints_email }}", style="List Bullet")
    para(doc, "By telephone: {{ provider.complaints_phone }}", style="List Bullet")


def worker_value(path: str) -> str:
    return (
        f"{{{{ {path}.name }}}}, {{{{ {path}.role }}}}"
        f"{{% if {path}.phone %}} (phone {{{{ {path}.phone }}}}){{% endif %}}"
        f"{{% if {path}.email %}} ({{{{ {path}.email }}}}){{% endif %}}"
    )


# --- the needs and risk assessment -------------------------------------------------------------


def needs_assessment() -> Any:
    doc = new_document("Needs and risk assessment")
    letterhead(doc)
    para(doc, "{{ document.title }}", style="Title")
    reference_lines(doc, [bold("Date of assessment: "), "{{ data.assessment_date|uk_date }}"])

    para(
        doc,
        "This assessment records the housing support needs and risks we agreed with "
        "{{ data.person.name }}. We use it to write the support plan.",
    )

    heading(doc, "About the person")
    person = "data.person"
    details_table(doc, [
        ("Name", "{{ data.person.name }}"),
        ("Preferred name", "{{ data.person.preferred_name }}", "data.person.preferred_name"),
        ("Date of birth", "{{ data.person.date_of_birth|uk_date }}", "data.person.date_of_birth"),
        ("Address", address_value(f"{person}.address"), "data.person.address"),
        ("Phone", "{{ data.person.phone }}", "data.person.phone"),
        ("Email", "{{ data.person.email }}", "data.person.email"),
        ("Preferred language", "{{ data.person.preferred_language }}",
         "data.person.preferred_language"),
        ("Support worker", worker_value("data.worker")),
    ])

    heading(doc, "Referral")
    details_table(doc, [
        ("How the referral came to us", "{{ data.referral.route }}"),
        ("Referring agency", "{{ data.referral.referring_agency }}",
         "data.referral.referring_agency"),
        ("Referred by", "{{ data.referral.private_referrer.name }} "
         "({{ data.referral.private_referrer.relationship }})",
         "data.referral.private_referrer"),
        ("Referral received", "{{ data.referral.received_at|uk_datetime }}"),
        ("First contact made", "{{ data.referral.first_contact_at|uk_datetime }}",
         "data.referral.first_contact_at"),
        ("First contact due by", "{{ due.referral_contact|uk_datetime }}",
         "due.referral_contact and not data.referral.first_contact_at"),
    ])

    heading(doc, "Dates and housing")
    details_table(doc, [
        ("Entered the service", "{{ data.entered_service_on|uk_date }}"),
        ("Assessment date", "{{ data.assessment_date|uk_date }}"),
        ("Assessment due by", "{{ due.assessment|uk_date }}", "due.assessment"),
        ("Support starts", "{{ data.support_start_date|uk_date }}"),
        ("Housing (tenure)", "{{ data.tenure }}"),
        ("Crisis support needed (within 24 hours of referral)",
         "{{ data.crisis_support_needed|yes_no }}"),
    ])

    heading(doc, "Housing support needs")
    list_table(
        doc,
        ["Area", "What the need is", "Support we will give"],
        (3.4, 6.8, 6.8),
        "n in data.needs",
        ["{{ n.area }}", "{{ n.description|multiline }}", "{{ n.support|multiline }}"],
    )

    heading(doc, "Risks")
    list_table(
        doc,
        ["Risk (hazard)", "Likelihood", "Impact", "How we will reduce the risk (controls)"],
        (5.4, 2.3, 2.3, 7.0),
        "r in data.risks",
        [
            "{{ r.hazard|multiline }}",
            "{{ r.likelihood|capitalize }}",
            "{{ r.impact|capitalize }}",
            "{{ r.controls|multiline }}",
        ],
    )

    heading(doc, "Needs arising from ethnicity, religion, culture, gender, sexuality, disability "
                 "or age")
    details_table(doc, [
        ("Ethnicity", "{{ data.diversity.ethnicity }}"),
        ("Religion or belief", "{{ data.diversity.religion }}"),
        ("Culture", "{{ data.diversity.culture }}"),
        ("Gender", "{{ data.diversity.gender }}"),
        ("Sexuality", "{{ data.diversity.sexuality }}"),
        ("Disability", "{{ data.diversity.disability }}"),
        ("Age", "{{ data.diversity.age }}"),
        ("Interpreter needed", "{{ data.diversity.interpreter_needed|yes_no }}",
         "data.diversity.interpreter_needed is defined"),
    ])

    heading(doc, "Consent to share information")
    details_table(doc, [
        ("Consent given", "{{ data.consent_to_share.given|yes_no }}"),
        ("Agencies we may share with",
         '{{ data.consent_to_share.agencies|join(", ") }}', "data.consent_to_share.agencies"),
        ("Consent recorded on", "{{ data.consent_to_share.recorded_on|uk_date }}"),
    ])

    control(doc, "{%p if data.contacts %}")
    heading(doc, "Contacts")
    list_table(
        doc,
        ["Name", "Relationship", "Phone", "Address"],
        (4.2, 3.4, 3.4, 6.0),
        "c in data.contacts",
        [
            "{{ c.name }}",
            "{{ c.relationship }}",
            # A blank cell leaves the reader wondering whether something failed to print.
            "{% if c.phone %}{{ c.phone }}{% else %}Not recorded{% endif %}",
            "{% if c.address %}" + address_value("c.address") + "{% else %}Not recorded"
            "{% endif %}",
        ],
    )
    control(doc, "{%p endif %}")

    notes_section(doc)

    heading(doc, "Signatures")
    keep_with_next(para(doc, "We agree that this is a true record of the assessment."))
    signature_block(doc, "Service user", "{{ data.person.name }}")
    signature_block(doc, "Worker", "{{ data.worker.name }}, {{ data.worker.role }}", last=True)
    return doc


# --- the SMART support plan ---------------------------------------------------------------------


def support_plan() -> Any:
    doc = new_document("Support plan")
    letterhead(doc)
    para(doc, "{{ document.title }}", style="Title")
    reference_lines(doc, [bold("Plan date: "), "{{ data.plan_date|uk_date }}"])

    para(
        doc,
        "This plan sets out what {{ data.person.name }} wants to achieve with our support, what "
        "each of us will do, and by when. We wrote it together.",
    )

    heading(doc, "About this plan")
    details_table(doc, [
        ("Name", "{{ data.person.name }}"),
        ("Preferred name", "{{ data.person.preferred_name }}", "data.person.preferred_name"),
        ("Date of birth", "{{ data.person.date_of_birth|uk_date }}", "data.person.date_of_birth"),
        ("Address", address_value("data.person.address"), "data.person.address"),
        ("Support worker", worker_value("data.worker")),
        ("Plan date", "{{ data.plan_date|uk_date }}"),
        ("Version", "Version {{ document.version }}"),
        ("Support started", "{{ data.support_started_on|uk_date }}"),
        ("Hours of support a week",
         "{{ '%g'|format(data.hours_per_week) }} (this service gives up to "
         "{{ rules.max_hours_per_week }} hours a week)"),
        ("Support beyond two years", "Agreed with the care practitioner",
         "data.extended_support_agreed"),
        ("Next review by", "{{ data.review_date|uk_date }}"),
    ])
    para(
        doc,
        "We review support plans at least every {{ rules.max_review_interval }}, and sooner if "
        "your circumstances change. Any changes are made in a new version of this plan.",
    )

    heading(doc, "What we will work on together")
    para(
        doc,
        "Each goal below is linked to one of the five outcomes and says how we will know it has "
        "been reached, who will do what, and by when. Reviews of this plan refer to each goal by "
        "its objective reference.",
    )

    def actions(cell: Any) -> None:
        control(cell, "{%p for a in o.actions %}", first=True)
        para(cell, "{{ a.action|multiline }} — ", bold("{{ a.by_whom }}"), style="Table Text")
        control(cell, "{%p endfor %}")

    list_table(
        doc,
        [
            "Outcome",
            "Objective",
            "How we will measure it",
            "Why it is achievable and realistic",
            "Who does what",
            "Target date",
        ],
        # The target date gets room for "30 September 2026" on one line (it wrapped a word a line).
        (2.2, 2.8, 2.5, 2.5, 3.2, 3.8),
        "o in data.objectives",
        [
            [bold("{{ o.outcome }}"), " (objective {{ o.ref or loop.index }})"],
            "{{ o.objective|multiline }}",
            "{{ o.measure|multiline }}",
            "{{ o.achievable|multiline }}",
            actions,
            "{{ o.target_date|uk_date|replace(' ', '\u00a0') }}",  # never broken over lines
        ],
    )

    control(doc, "{%p if data.advocate %}")
    heading(doc, "Advocate or representative")
    para(
        doc,
        "{{ data.advocate.name }} ({{ data.advocate.relationship }}) took part in making this "
        "plan as {{ data.person.name }}'s representative.",
    )
    control(doc, "{%p endif %}")

    heading(doc, "A paper copy of your plan")
    para(
        doc,
        "You can ask for a paper copy of this plan at any time; we will give it to you within "
        "{{ rules.hard_copy_working_days }} working days.",
    )

    heading(doc, "If you are unhappy with your plan")
    para(
        doc,
        "If you are unhappy with any part of your support plan, please talk to your support "
        "worker or their manager first. If that does not put things right, you can make a "
        "complaint through our complaints process:",
    )
    complaints_bullets(doc)

    heading(doc, "Signatures")
    keep_with_next(para(
        doc,
        "By signing, you agree that the information in this plan is correct and that we may share "
        "what is needed with the agencies named in your consent to share information.",
    ))
    keep_with_next(para(doc, bold("Plan agreed by the service user: "),
                        "{{ data.signatures.service_user_agreed|yes_no }}"))
    signature_block(
        doc,
        "Service user",
        "{{ data.person.name }}",
        "{% if data.signatures.service_user_signed_on %}"
        "{{ data.signatures.service_user_signed_on|uk_date }}"
        "{% else %}____________________{% endif %}",
    )
    signature_block(
        doc,
        "Worker",
        "{{ data.worker.name }}, {{ data.worker.role }}",
        "{% if data.signatures.worker_signed_on %}"
        "{{ data.signatures.worker_signed_on|uk_date }}"
        "{% else %}____________________{% endif %}",
        last=True,
    )
    return doc


# --- the exit confirmation letter ---------------------------------------------------------------

PROVIDER_ENDED = 'data.ended_by == "provider"'

REASONS = (
    (
        "two-year limit reached",
        "You have now had housing support from us for two years. This service is designed to "
        "give support for up to two years, unless a longer time has been agreed.",
    ),
    (
        "unwilling to engage",
        "You have told us, or shown us, that you do not want the support we have been offering, "
        "so we cannot go on offering it.",
    ),
    (
        "three missed appointments",
        "We made appointments to see you, but we were not able to meet you on three occasions.",
    ),
    (
        "risk to staff unmanageable",
        "We have decided that we can no longer keep our staff safe while they support you.",
    ),
    (
        "structured review",
        "When we reviewed your support with you, we found that you need a different service, or "
        "no longer need support from us.",
    ),
)

HOW_REQUEST_CAME = (
    '{% if data.request_made_by == "letter" %}by letter'
    '{% elif data.request_made_by == "email" %}by email'
    '{% elif data.request_made_by == "telephone" %}by telephone'
    '{% elif data.request_made_by == "in person" %}in person'
    "{% else %}from your advocate, on your behalf{% endif %}"
)


def sign_off(doc: Any, what: str) -> None:
    """Who to ask about the letter, then "Yours sincerely" and the worker's name and role. The
    sign-off is one paragraph with line breaks, kept on one page, so the name is never stranded."""
    para(
        doc,
        f"If you have any questions about this {what}, please contact {{{{ data.worker.name }}}}"
        "{% if data.worker.phone %} on {{ data.worker.phone }}{% endif %}.",
    )
    closing = doc.add_paragraph(style="Address")
    closing.paragraph_format.keep_together = True
    closing.paragraph_format.space_before = Pt(4)
    closing.add_run("Yours sincerely")
    for _ in range(4):
        closing.add_run().add_break()
    closing.add_run("{{ data.worker.name }}").bold = True
    closing.add_run().add_break()
    closing.add_run("{{ data.worker.role }}")
    closing.add_run().add_break()
    closing.add_run("{{ provider.service_name }}, {{ provider.name }}")


def letter_opening(doc: Any, *, address_optional: bool) -> None:
    """The top of a letter under the letterhead: the recipient's name and address beside our
    reference and who to ask for, then the date and "Dear ..."."""
    widths = (8.5, 8.5)
    table = _table(doc, widths, grid=False)
    row = _row(table, widths)
    recipient, refs = row.cells
    para(recipient, "{{ data.person.name }}", style="Address", first=True)
    if address_optional:
        control(recipient, "{%p if data.person.address %}")
    control(recipient, "{%p for line in data.person.address.lines %}")
    para(recipient, "{{ line }}", style="Address")
    control(recipient, "{%p endfor %}")
    para(recipient, "{{ data.person.address.postcode }}", style="Address")
    if address_optional:
        control(recipient, "{%p endif %}")
    para(refs, bold("Our reference: "), "{{ case_ref }}", style="Address", first=True)
    para(refs, bold("Please ask for: "), "{{ data.worker.name }}", style="Address")
    para(
        refs,
        bold("Phone: "),
        "{% if data.worker.phone %}{{ data.worker.phone }}{% else %}{{ provider.phone }}"
        "{% endif %}",
        style="Address",
    )
    para(
        refs,
        bold("Email: "),
        "{% if data.worker.email %}{{ data.worker.email }}{% else %}{{ provider.email }}"
        "{% endif %}",
        style="Address",
    )
    para(doc, "{{ document.date|uk_date }}").paragraph_format.space_before = Pt(12)
    para(doc, "Dear {{ data.person.name }}").paragraph_format.space_before = Pt(12)


def exit_letter() -> Any:
    doc = new_document("Exit confirmation letter", running_title="{{ data.person.name }}")
    letterhead(doc)

    letter_opening(doc, address_optional=False)
    para(
        doc,
        bold(
            f"{{% if {PROVIDER_ENDED} %}}"
            "Your housing support from the {{ provider.service_name }} is ending"
            "{% else %}Confirmation of your request to leave the service{% endif %}"
        ),
    )

    # Why this letter: the person asked to leave, or the service is ending their support.
    control(doc, f"{{%p if {PROVIDER_ENDED} %}}")
    para(
        doc,
        "We are writing to tell you that the {{ provider.service_name }} will stop giving you "
        "housing support on {{ data.leaving_date|uk_date }}.",
    )
    keyword = "if"
    for reason, words in REASONS:
        control(doc, f'{{%p {keyword} data.provider_reason == "{reason}" %}}')
        para(doc, words)
        keyword = "elif"
    control(doc, "{%p endif %}")
    control(doc, "{%p if data.missed_appointments %}")
    para(
        doc,
        "The appointments you missed were on "
        "{% for day in data.missed_appointments %}{{ day|uk_date }}"
        "{% if loop.revindex == 2 %} and {% elif not loop.last %}, {% endif %}{% endfor %}.",
    )
    control(doc, "{%p endif %}")
    control(doc, "{%p if data.reason_details %}")
    para(doc, "{{ data.reason_details|multiline }}")
    control(doc, "{%p endif %}")
    control(doc, "{%p if data.onward_referral %}")
    para(
        doc,
        "So that you can still get help, we referred you to "
        "{{ data.onward_referral.organisation }} on "
        "{{ data.onward_referral.referred_on|uk_date }}, as we agreed with you.",
    )
    # Floating support specification §5.4.1: a person who remains vulnerable is referred on, with
    # their agreement; when they did not agree, the door stays open.
    control(doc, "{%p elif data.still_vulnerable %}")
    para(
        doc,
        "We think you may still need support. If you would like us to refer you to another "
        "organisation that can help, please contact us at any time and we will do it.",
    )
    control(doc, "{%p endif %}")
    control(doc, "{%p else %}")
    para(
        doc,
        "Thank you for letting us know that you want to stop using the "
        "{{ provider.service_name }}. We received your request to leave the service "
        + HOW_REQUEST_CAME
        + " on {{ data.request_received_on|uk_date }}. This letter confirms that we have "
        "recorded your request.",
    )
    para(doc, "Your housing support will end on {{ data.leaving_date|uk_date }}.")
    control(doc, "{%p if data.onward_referral %}")
    para(
        doc,
        "As we agreed with you, we referred you to {{ data.onward_referral.organisation }} on "
        "{{ data.onward_referral.referred_on|uk_date }}.",
    )
    control(doc, "{%p endif %}")
    control(doc, "{%p endif %}")

    heading(doc, "What we have agreed", level=2)
    control(doc, "{%p for item in data.arrangements_agreed %}")
    para(doc, "{{ item|multiline }}", style="List Bullet")
    control(doc, "{%p endfor %}")

    heading(doc, "What leaving the service means for you", level=2)
    para(doc, "{{ data.effects_of_leaving|multiline }}")
    para(
        doc,
        "Please remember that stopping housing support may affect your ability to keep your "
        "accommodation.",
    )
    # Service standard: in specialist accommodation the tenancy may not allow leaving the service.
    control(doc, f"{{%p if data.accommodation.specialist and not {PROVIDER_ENDED} %}}")
    para(
        doc,
        bold(
            "Because you live in specialist accommodation, such as sheltered housing, the terms "
            "of your tenancy may mean you cannot leave the housing support service. Please talk "
            "to us before you decide."
        ),
    )
    control(doc, "{%p elif data.accommodation.specialist %}")
    para(
        doc,
        bold(
            "Because you live in specialist accommodation, such as sheltered housing, the terms "
            "of your tenancy may mean you need to keep receiving housing support. Please talk to "
            "us or your landlord about what this means for you."
        ),
    )
    control(doc, "{%p endif %}")

    heading(doc, "If you want support again", level=2)
    para(doc, "{{ data.how_to_return|multiline }}")

    heading(doc, "If you are not happy with our service", level=2)
    para(
        doc,
        "If you are not happy with the service you have had, or would like to compliment it, you "
        "can contact us:",
    )
    complaints_bullets(doc)

    sign_off(doc, "letter")
    return doc


# --- the serious incident report ----------------------------------------------------------------


def serious_incident() -> Any:
    doc = new_document("Serious incident report")
    letterhead(doc)
    para(doc, "{{ document.title }}", style="Title")
    reference_lines(
        doc,
        [bold("Incident reference: "), "{{ data.incident_ref }}"],
        [bold("Report date: "), "{{ document.date|uk_date }}"],
        [bold("To: "), "the commissioning team"],
        [bold("From: "), "{{ provider.service_name }}, {{ provider.name }}"],
    )
    para(
        doc,
        "A serious incident is one where a service user, a member of staff or a member of the "
        "public is attacked, is seriously injured or comes to harm in another way (for example "
        "an overdose), and any death in the service, whatever the cause.",
        style="Small",
    )
    para(doc, "")

    heading(doc, "The incident")
    details_table(doc, [
        ("Service user", "{{ data.person.name }}"
         "{% if data.person.date_of_birth %} (born {{ data.person.date_of_birth|uk_date }})"
         "{% endif %}"),
        ("When", "{{ data.occurred_at|uk_datetime }}"),
        ("Where", "{{ data.location }}"),
        ("Category", "{{ data.category|capitalize }}"),
        ("Reported by", worker_value("data.reported_by")),
    ])

    heading(doc, "People involved")
    list_table(
        doc,
        ["Name", "Role", "How they were involved"],
        (4.6, 3.6, 8.8),
        "p in data.people_involved",
        ["{{ p.name }}", "{{ p.role|capitalize }}", "{{ p.involvement }}"],
    )

    heading(doc, "What happened")
    para(doc, "{{ data.what_happened|multiline }}")

    heading(doc, "What we did straight away")
    para(doc, "{{ data.immediate_actions|multiline }}")

    heading(doc, "Emergency services")
    details_table(doc, [
        ("Emergency services called", "{{ data.emergency_services.called|yes_no }}"),
        ("Which services", '{{ data.emergency_services.services|join(", ")|capitalize }}',
         "data.emergency_services.services"),
        ("Their reference", "{{ data.emergency_services.reference }}",
         "data.emergency_services.reference"),
    ])

    heading(doc, "Safeguarding")
    details_table(doc, [
        ("Safeguarding referral made", "{{ data.safeguarding.referral_made|yes_no }}"),
        ("The person's consent", "{{ data.safeguarding.consent|capitalize }}",
         "data.safeguarding.consent"),
        ("Why the referral was made without consent",
         "{{ data.safeguarding.reason_without_consent|multiline }}",
         "data.safeguarding.reason_without_consent"),
        ("Referred to", "{{ data.safeguarding.referred_to }}", "data.safeguarding.referred_to"),
        ("Referred at", "{{ data.safeguarding.referred_at|uk_datetime }}",
         "data.safeguarding.referred_at"),
    ])

    heading(doc, "Notifying the commissioning team")
    details_table(doc, [
        ("Commissioning team told",
         "{% if data.commissioner_notified_at %}{{ data.commissioner_notified_at|uk_datetime }}"
         "{% elif due.notification %}Not yet notified — due by "
         "{{ due.notification|uk_datetime }}{% else %}Not yet notified{% endif %}"),
    ])
    para(
        doc,
        "This report holds personal information about the service user and other people. "
        "Keep it confidential and share it only with those who need it.",
        style="Small",
    )
    return doc


# --- the referral acknowledgement -------------------------------------------------------------

ROUTE_WORDS = (
    '{% if data.route == "Self-referral" %}from you'
    '{% elif data.route == "Family or friend" %}from someone who knows you'
    "{% else %}from {{ data.route }}{% endif %}"
)


def referral_acknowledgement() -> Any:
    doc = new_document("Referral acknowledgement", running_title="{{ data.person.name }}")
    letterhead(doc)
    letter_opening(doc, address_optional=True)
    para(doc, bold("Your referral to the {{ provider.service_name }}"))
    para(
        doc,
        "We received a referral for housing support for you " + ROUTE_WORDS
        + " at {{ data.received_at|uk_datetime }}.",
    )
    control(doc, '{%p if data.decision.outcome == "accepted" %}')
    para(
        doc,
        "We have looked at the referral and on {{ data.decision.decided_on|uk_date }} we decided "
        "that we can offer you support.",
    )
    control(doc, "{%p else %}")
    para(
        doc,
        "We have looked at the referral and we can offer you support, but not straight away. On "
        "{{ data.decision.decided_on|uk_date }} we put you on our waiting list. We will contact "
        "you as soon as a support worker is free, and you can ask us at any time how long the "
        "wait is likely to be.",
    )
    control(doc, "{%p endif %}")

    # Service standard: support within 24 hours of a referral in a crisis.
    control(doc, "{%p if data.crisis %}")
    para(
        doc,
        "{% if data.crisis_support_given_at %}Because you needed support urgently, we gave you "
        "support at {{ data.crisis_support_given_at|uk_datetime }}.{% else %}Because you need "
        "support urgently, we will give you support by {{ due.crisis|uk_datetime }}.{% endif %}",
    )
    control(doc, "{%p endif %}")

    heading(doc, "What happens next", level=2)
    # Floating support specification §4.3.1: contact within 48 hours of the referral.
    para(
        doc,
        "{% if data.first_contact_at %}We first spoke to you at "
        "{{ data.first_contact_at|uk_datetime }}.{% else %}We will contact you by "
        "{{ due.referral_contact|uk_datetime }} to talk about the support you need.{% endif %} "
        "Before your support starts, your support worker will meet you to understand your "
        "housing support needs and any risks, and then agree a support plan with you.",
    )
    para(
        doc,
        "You told us you agree to this referral. If you do not want our support, please tell us "
        "and we will close it.",
    )

    heading(doc, "Your referral", level=2)
    details_table(doc, [
        ("Referral received", "{{ data.received_at|uk_datetime }}"),
        ("What you were referred for", "{{ data.reason_for_referral|multiline }}"),
        ("Decision", '{% if data.decision.outcome == "accepted" %}Accepted{% else %}On the '
         "waiting list{% endif %}, {{ data.decision.decided_on|uk_date }}"),
        ("First contact", "{% if data.first_contact_at %}{{ data.first_contact_at|uk_datetime }}"
         "{% else %}Due by {{ due.referral_contact|uk_datetime }}{% endif %}"),
    ])

    heading(doc, "If you are not happy with our service", level=2)
    para(
        doc,
        "If you are not happy with how we have dealt with your referral, you can contact us:",
    )
    complaints_bullets(doc)
    sign_off(doc, "letter")
    return doc


# --- the support plan review --------------------------------------------------------------------

PROGRESS = (
    '{% if o.progress == "achieved" %}Achieved'
    '{% elif o.progress == "partly achieved" %}Partly achieved'
    '{% elif o.progress == "not yet achieved" %}Not yet achieved'
    "{% else %}No longer relevant{% endif %}"
)


def support_review() -> Any:
    doc = new_document("Support plan review")
    letterhead(doc)
    para(doc, "{{ document.title }}", style="Title")
    reference_lines(doc, [bold("Review date: "), "{{ data.review_date|uk_date }}"])
    para(
        doc,
        "This is the record of the review of {{ data.person.name }}'s support plan, held on "
        "{{ data.review_date|uk_date }}: how each goal of the plan is going, what has changed, "
        "and when we will review it next.",
    )

    heading(doc, "About this review")
    details_table(doc, [
        ("Name", "{{ data.person.name }}"),
        ("Support worker", worker_value("data.worker")),
        ("Review date", "{{ data.review_date|uk_date }}"),
        ("Why it was held", "{{ data.reason|capitalize }}"),
        ("Who took part", "{% for p in data.participants %}{{ p.name }} ({{ p.role }}"
         "{% if p.organisation %}, {{ p.organisation }}{% endif %})"
         "{% if not loop.last %}; {% endif %}{% endfor %}"),
        ("Next review by", "{{ data.next_review_date|uk_date }}"),
        ("Review interval chosen", "Every {{ data.chosen_interval }}", "data.chosen_interval"),
        ("Support beyond two years", "Agreed with the care practitioner",
         "data.extended_support_agreed"),
    ])

    heading(doc, "How each goal is going")
    list_table(
        doc,
        ["Objective", "Progress", "What we found"],
        (3.0, 3.6, 10.4),
        "o in data.objectives",
        [[bold("{{ o.objective_ref }}")], PROGRESS, "{{ o.note|multiline }}"],
    )

    heading(doc, "Changes")
    details_table(doc, [
        ("Circumstances changed", "{{ data.circumstances_changed|yes_no }}"),
        ("What changed", "{{ data.changes_in_circumstances|multiline }}",
         "data.changes_in_circumstances"),
        ("The plan must change", "{{ data.plan_must_change|yes_no }}"),
        ("What must change in the plan", "{{ data.plan_changes|multiline }}",
         "data.plan_changes"),
    ])
    control(doc, "{%p if data.plan_must_change %}")
    para(doc, "We will write these changes into a new version of your support plan.")
    control(doc, "{%p endif %}")

    heading(doc, "Health")
    details_table(doc, [
        ("Registered with a GP", "{{ data.hard_outcomes.registered_with_gp|yes_no }}"),
        ("Hospital admissions since the last review",
         "{{ data.hard_outcomes.hospital_stays|length }}"),
    ])
    hospital_stays_table(doc, "data.hard_outcomes.hospital_stays")

    notes_section(doc)

    heading(doc, "If you are unhappy with your plan or this review")
    para(
        doc,
        "Please talk to your support worker or their manager first. If that does not put things "
        "right, you can make a complaint through our complaints process:",
    )
    complaints_bullets(doc)

    heading(doc, "Signatures")
    signature_block(doc, "Service user", "{{ data.person.name }}")
    signature_block(doc, "Worker", "{{ data.worker.name }}, {{ data.worker.role }}", last=True)
    return doc


def hospital_stays_table(doc: Any, path: str) -> None:
    """The stays in hospital at ``path``, when there are any."""
    control(doc, f"{{%p if {path} %}}")
    list_table(
        doc,
        ["Admitted", "Came home", "Days in hospital"],
        (5.0, 5.0, 7.0),
        f"s in {path}",
        ["{{ s.admitted_on|uk_date }}",
         "{% if s.discharged_on %}{{ s.discharged_on|uk_date }}{% else %}Still in hospital"
         "{% endif %}",
         "{% if s.discharged_on %}{{ s|hospital_days }}{% else %}Not yet known{% endif %}"],
    )
    control(doc, "{%p endif %}")


# --- the leaver's short-term outcomes form ------------------------------------------------------

OUTCOME_ROWS = (
    ("Economic well-being", "economic_wellbeing"),
    ("Enjoy and achieve", "enjoy_and_achieve"),
    ("Be healthy", "be_healthy"),
    ("Stay safe", "stay_safe"),
    ("Make a positive contribution", "make_a_positive_contribution"),
)


def _needs_table(doc: Any, rows: Sequence[tuple[str, str]]) -> None:
    widths = (5.0, 2.6, 2.6, 6.8)
    table = _table(doc, widths)
    head = _row(table, widths)
    _repeat_as_header(head)
    for cell, text in zip(head.cells, ("Outcome", "Need identified", "Achieved", "Note"),
                          strict=True):
        para(cell, text, style="Table Heading", first=True)
        _shade(cell, HEADER_FILL)
    for label, path in rows:
        row = _row(table, widths)
        _no_split(row)
        para(row.cells[0], label, style="Table Heading", first=True)
        para(row.cells[1], f"{{{{ {path}.need_identified|yes_no }}}}", style="Table Text",
             first=True)
        para(row.cells[2], f"{{{{ {path}.achieved|yes_no }}}}", style="Table Text", first=True)
        para(row.cells[3], f"{{{{ {path}.note|multiline }}}}", style="Table Text", first=True)
    _keep_together(table)
    _after_table(doc)


def leaver_outcomes() -> Any:
    doc = new_document("Short-term outcomes form")
    letterhead(doc)
    para(doc, "{{ document.title }}", style="Title")
    reference_lines(doc, [bold("Completed on: "), "{{ data.completed_on|uk_date }}"])
    para(
        doc,
        "The outcomes form completed for every person who leaves the service (Supporting People "
        "Outcomes Framework for short-term services). The figures are counted in the service's "
        "returns to the commissioner.",
        style="Small",
    )
    para(doc, "")

    heading(doc, "The person and their support")
    details_table(doc, [
        ("Name", "{{ data.person.name }}"),
        ("Date of birth", "{{ data.person.date_of_birth|uk_date }}", "data.person.date_of_birth"),
        ("Support worker", worker_value("data.worker")),
        ("Support started", "{{ data.support_started_on|uk_date }}"),
        ("Support ended", "{{ data.support_ended_on|uk_date }}"),
        ("Why support ended", "{{ data.ended_because|capitalize }}"),
        ("Where the person went", "{{ data.destination|capitalize }}"),
        ("Moved on in a planned way (KPI 2)", "{{ data.planned_move_on|yes_no }}"),
    ])

    heading(doc, "The five outcomes")
    _needs_table(doc, [(label, f"data.outcomes.{key}") for label, key in OUTCOME_ROWS])

    heading(doc, "Hard outcomes")
    _needs_table(doc, [("Obtaining paid work", "data.hard_outcomes.paid_work"),
                       ("Training or education", "data.hard_outcomes.training_or_education")])
    details_table(doc, [
        ("Registered with a GP", "{{ data.hard_outcomes.registered_with_gp|yes_no }}"),
        ("Independent living established or kept (KPI 1)",
         "{{ data.hard_outcomes.independence_maintained|yes_no }}"),
        ("Hospital admissions while supported", "{{ data.hard_outcomes.hospital_stays|length }}"),
        ("Days in hospital", "{{ data.hard_outcomes.hospital_stays|hospital_days }}"),
    ])
    hospital_stays_table(doc, "data.hard_outcomes.hospital_stays")

    notes_section(doc)

    heading(doc, "Completed by")
    signature_block(doc, "Worker", "{{ data.worker.name }}, {{ data.worker.role }}",
                    "{{ data.completed_on|uk_date }}", last=True)
    return doc


# --- the subject access bundle's cover sheet and covering letter --------------------------------

REPRESENTATIVE = 'data.requested_by == "representative"'
# The Article 15 information, in the order of Article 15(1) and (2): (heading, key in
# provider.privacy, which is the settings file's [subject_access] wording).
ARTICLE_15 = (
    ("Why we hold your information", "purposes"),
    ("What information we hold", "categories"),
    ("Who we share it with", "recipients"),
    ("How long we keep it", "retention"),
    ("Where your information came from", "source"),
    ("Decisions made by computer", "automated_decisions"),
    ("Sending information abroad", "transfers"),
)
RIGHTS = ("rectification", "erasure", "restriction", "objection")


def _footer_without_page_numbers(doc: Any) -> None:
    """The bundle numbers its pages as a whole ("Page N of M" on every page), so the letter's
    own footer gives only the bundle's reference."""
    section = doc.sections[0]
    for footer in (section.footer, section.first_page_footer):
        paragraph = footer.paragraphs[0]
        for run in list(paragraph._p.iterchildren(qn("w:r"))):
            paragraph._p.remove(run)
        paragraph.add_run("{{ document.reference }}")


def sar_cover_letter() -> Any:
    doc = new_document("Subject access response")
    _footer_without_page_numbers(doc)

    # Page 1: the cover sheet, with the legal due date for the staff who send the bundle.
    letterhead(doc)
    para(doc, "Subject access response", style="Title")
    para(
        doc,
        "A copy of the personal information {{ provider.name }} holds about "
        "{{ data.person.name }}, in answer to a request under Article 15 of the UK General Data "
        "Protection Regulation (UK GDPR).",
    )
    details_table(doc, [
        ("Prepared for", "{{ data.person.name }}"),
        ("Our reference", "{{ case_ref }}"),
        ("Request received", "{{ data.received_on|uk_date }}"),
        ("Asked for by", f"{{% if {REPRESENTATIVE} %}}A representative, with the person's "
         "authority{% else %}The person{% endif %}"),
        ("Identity checked on", "{{ data.identity_checked_on|uk_date }}"),
        ("What it covers", "{{ document.scope_summary }}"),
        ("Response due by", [
            bold("{{ due.response|uk_date }}"),
            " ({{ document.allowance }} from receipt{% if data.extended %}, extended: the person "
            "was told on {{ data.extension_told_on|uk_date }}{% endif %})",
        ]),
        ("Prepared on", "{{ document.date|uk_date }}"),
        ("Records enclosed", "{{ document.record_count }}"),
        ("Bundle reference", "{{ document.reference }}"),
    ])
    para(
        doc,
        "The due date is the legal deadline in UK GDPR Article 12(3), counted as the Information "
        "Commissioner's Office counts it: the same date in the following month (or that month's "
        "last day), moved to the next working day when it falls at a weekend or on a bank "
        "holiday.",
        style="Small",
    )

    # The letter, from a new page; its first page has no running header (the letterhead is there).
    letter = doc.add_section(WD_SECTION.NEW_PAGE)
    letter.different_first_page_header_footer = True
    letterhead(doc)
    letter_opening(doc, address_optional=True)
    para(doc, bold("Your request for a copy of your personal information"))
    para(
        doc,
        "We received your request for a copy of the personal information we hold about you on "
        "{{ data.received_on|uk_date }}"
        f"{{% if {REPRESENTATIVE} %}}, made on your behalf by your representative, who showed us "
        "your authority{% endif %}. We checked your identity on "
        "{{ data.identity_checked_on|uk_date }}.",
    )
    para(
        doc,
        "This pack is our answer under Article 15 of the UK GDPR. It holds a copy of "
        "{{ document.scope }}: each case file we received about you, and every document we "
        "produced from them, including earlier versions. The index after this letter lists each "
        "record with the page it starts on.",
    )
    control(doc, "{%p if data.extended %}")
    para(
        doc,
        "On {{ data.extension_told_on|uk_date }} we told you that we needed more time to answer, "
        "as the law allows (UK GDPR Article 12(3)). The reason was:",
    )
    para(doc, "{{ data.extension_reason|multiline }}")
    control(doc, "{%p endif %}")

    heading(doc, "Information about other people", level=2)
    para(
        doc,
        "Some of your records also hold information about other people, such as relatives, "
        "people who referred you to us, or other residents. The law requires us to protect their "
        "information too (UK GDPR Article 15(4), and the Data Protection Act 2018, Schedule 2, "
        "Part 3). Where we have withheld it you will see "
        "[withheld: information about another person] in its place. Information about our staff "
        "doing their jobs has not been withheld. Where we could not be sure whether a name was "
        "someone else's, we have withheld it; you can ask us about anything withheld.",
    )
    para(
        doc,
        "Where something had to be withheld from a document we produced, the document is shown "
        "as we would print it today from the information we recorded, with that information "
        "withheld. Other documents are copies of the ones we issued. Every page of this pack is "
        "numbered as a page of the pack, so the documents' own page numbers are left out.",
    )

    for title, key in ARTICLE_15:
        heading(doc, title, level=2)
        para(doc, f"{{{{ provider.privacy.{key}|multiline }}}}")

    heading(doc, "Your rights", level=2)
    para(doc, "You also have these rights over your information:")
    for key in RIGHTS:
        para(doc, f"{{{{ provider.privacy.{key}|multiline }}}}", style="List Bullet")
    para(
        doc,
        "To use any of these rights, contact {{ data.worker.name }} using the details at the top "
        "of this letter. There is no charge.",
    )

    heading(doc, "If you are unhappy with how we have handled your information", level=2)
    para(doc, "{{ provider.privacy.complaint|multiline }}")
    para(doc, "You can also contact our complaints team:")
    complaints_bullets(doc)
    control(doc, "{%p if provider.privacy.dpo_contact %}")
    para(doc, "{{ provider.privacy.dpo_contact|multiline }}")
    control(doc, "{%p endif %}")

    sign_off(doc, "pack")
    return doc


# --- main ---------------------------------------------------------------------------------------

# --- the monitoring return (a report for the commissioner: figures only) -------------------------


def monitoring_return() -> Any:
    doc = new_document("Monitoring return")
    letterhead(doc)
    para(doc, "{{ document.title }}: {{ report.period }}", style="Title")
    para(doc, bold("Period: "), "{{ report.first|uk_date }} to {{ report.last|uk_date }}",
         style="Address")
    para(doc, bold("Open cases and overdue clocks counted on: "), "{{ report.as_of|uk_date }}",
         style="Address")
    para(doc, bold("Document reference: "),
         "{{ document.reference }}, version {{ document.version }}", style="Address")
    para(
        doc,
        "Counted from the service's records. This report names no one and gives no case "
        "references; the case references behind every figure are in the internal workbook filed "
        "beside it. The definition of every figure is in the workbooks.",
        style="Small",
    )

    heading(doc, "The monthly figures")
    list_table(doc, ["Figure", "Value"], (12.0, 5.0), "f in report.monthly",
               ["{{ f.name }}", "{{ f.value }}"])

    control(doc, "{%p if report.kpis %}")
    heading(doc, "Key performance indicators")
    list_table(
        doc,
        ["No", "Indicator", "Counted", "Percentage", "Target", "Result"],
        (1.3, 5.6, 2.6, 2.4, 3.0, 2.1),
        "k in report.kpis",
        ["{{ k.number }}", "{{ k.name }}", "{{ k.numerator }} of {{ k.denominator }}",
         "{{ k.percentage }}", "{{ k.target }}", "{{ k.result }}"],
    )
    list_table(doc, ["Also counted in the quarter", "Value"], (12.0, 5.0),
               "f in report.counts", ["{{ f.name }}", "{{ f.value }}"])
    heading(doc, "Against target over the last four quarters", level=2)
    para(doc, "{{ charts.kpis }}")
    control(doc, "{%p endif %}")

    heading(doc, "Referrals and closures over the last year")
    para(doc, "{{ charts.months }}")

    heading(doc, "Statutory clocks")
    list_table(
        doc,
        ["Clock", "Fell due", "Met", "Late", "Median late", "Worst late", "Overdue"],
        (5.4, 1.8, 1.6, 1.6, 2.2, 2.2, 2.2),
        "c in report.clocks",
        ["{{ c.name }}", "{{ c.fell_due }}", "{{ c.met }}", "{{ c.late }}", "{{ c.median }}",
         "{{ c.worst }}", "{{ c.overdue }}"],
    )
    para(doc, "Late by working days. Overdue: not answered on {{ report.as_of|uk_date }}.",
         style="Small")
    para(doc, "{{ charts.clocks }}")
    return doc


BUILDERS: dict[str, Callable[[], Any]] = {
    "needs_assessment.docx": needs_assessment,
    "support_plan.docx": support_plan,
    "exit_letter.docx": exit_letter,
    "serious_incident.docx": serious_incident,
    "sar_cover_letter.docx": sar_cover_letter,
    "referral_acknowledgement.docx": referral_acknowledgement,
    "support_review.docx": support_review,
    "leaver_outcomes.docx": leaver_outcomes,
    "monitoring_return.docx": monitoring_return,
}


def _reproducible(docx_bytes: bytes) -> bytes:
    """The same .docx with fixed zip timestamps, so rebuilding an unchanged template gives the same
    bytes (python-docx stamps every part with the time of saving)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(docx_bytes)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, source.read(item.filename))
    return out.getvalue()


def build(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, builder in BUILDERS.items():
        buffer = io.BytesIO()
        builder().save(buffer)
        path = out / name
        path.write_bytes(_reproducible(buffer.getvalue()))
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--out", type=Path, default=REPO / "templates", help="folder to write the templates to"
    )
    args = parser.parse_args(argv)
    for path in build(args.out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
