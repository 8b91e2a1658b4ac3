"""Templates prepared once say exactly what docxtpl says (docxtpl is the reference): every part of
every document, for every example, for hostile and fuzzed case data, and for templates with tags in
their headers, footers and properties; and the content hash of a document is the one docxtpl's
would have, so a version's hash never changes for the same content."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import docx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recordgen.documents.render import (
    build_context,
    docx_content_sha256,
    render_document,
    render_docxtpl_document,
)
from recordgen.documents.validate import SchemaSet, validate_case_file
from recordgen.errors import CaseFileError, TemplateError
from recordgen.intake.load import parse_case_bytes
from recordgen.kinds import KINDS, Answer
from recordgen.settings import Settings

from conftest import EXAMPLES, REPO, TODAY, example, make_settings
from docx_text import docx_text
from test_fuzz import HOSTILE, PRINTED_VERBATIM, TEXT, put

FUZZ_EXAMPLES = 60


def parts(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def assert_same_as_docxtpl(template: Path, context: dict[str, Any]) -> str:
    """The prepared template's document has docxtpl's parts, byte for byte, in docxtpl's order,
    and docxtpl's content hash. Returns the document's text."""
    fast, reference = render_document(template, context), render_docxtpl_document(template, context)
    fast_parts, reference_parts = parts(fast.content), parts(reference.content)
    assert list(fast_parts) == list(reference_parts)
    for name, data in reference_parts.items():
        assert fast_parts[name] == data, f"{template.name}: {name} differs from docxtpl's"
    assert fast.content_sha256 == reference.content_sha256 == docx_content_sha256(fast.content)
    assert fast.template_sha256 == reference.template_sha256
    return docx_text(fast.content)


@pytest.fixture(scope="module")
def module_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(tmp_path_factory.mktemp("prepared"))


@pytest.fixture(scope="module")
def schemas() -> SchemaSet:
    return SchemaSet(REPO / "schemas")


def context_of(document: dict[str, Any], settings_: Settings, schemas: SchemaSet) -> tuple[
        Path, dict[str, Any]]:
    case = validate_case_file(document, schemas, settings_, TODAY)
    context = build_context(case, settings_, version=3, document_date=dt.date(2026, 11, 23),
                            due={"review": dt.date(2026, 12, 7)})
    return settings_.folders.templates / case.kind.template_file, context


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.stem)
def test_every_example_says_exactly_what_docxtpl_says(path: Path, module_settings: Settings,
                                                      schemas: SchemaSet) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    answer = KINDS[document["kind"]].answer
    if answer is not Answer.DOCUMENT:
        pytest.skip(f"answered with {answer.value}, not one template filled in")
    template, context = context_of(document, module_settings, schemas)
    text = assert_same_as_docxtpl(template, context)
    assert document["case_ref"] in text


@pytest.mark.parametrize("kind", sorted(PRINTED_VERBATIM))
@pytest.mark.parametrize("value", [
    "Siân O'Brien & Sons <Ltd>", "{{ 7*7 }}", "{% if true %}x{% endif %}", "line one\nline two",
    "tab\there", "windows\r\nline", "]]>", "&amp;", "😀👍🏽", "x" * 400,
])
def test_hostile_text_comes_out_as_docxtpl_prints_it(kind: str, value: str,
                                                     module_settings: Settings,
                                                     schemas: SchemaSet) -> None:
    document = example(kind)
    for where in PRINTED_VERBATIM[kind][1:]:  # free text: line breaks and tabs are allowed there
        put(document["data"], where, value)
    try:
        template, context = context_of(document, module_settings, schemas)
    except CaseFileError:
        pytest.skip("refused as a case file, so never rendered")
    text = assert_same_as_docxtpl(template, context)
    assert value.replace("\r\n", "\n").replace("\t", "") in text.replace("\t", "")


@pytest.mark.parametrize("kind", sorted(PRINTED_VERBATIM))
def test_fuzzed_case_data_comes_out_as_docxtpl_prints_it(kind: str, module_settings: Settings,
                                                         schemas: SchemaSet) -> None:
    @settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(values=st.lists(st.one_of(TEXT, HOSTILE), min_size=1,
                           max_size=len(PRINTED_VERBATIM[kind])))
    def run(values: list[str]) -> None:
        document = example(kind)
        for where, value in zip(PRINTED_VERBATIM[kind], values, strict=False):
            put(document["data"], where, value)
        raw = json.dumps(document, ensure_ascii=False).encode("utf-8", "surrogatepass")
        try:
            loaded = parse_case_bytes(raw, module_settings.limits.max_nesting_depth)
            template, context = context_of(dict(loaded), module_settings, schemas)
        except CaseFileError:
            return
        assert_same_as_docxtpl(template, context)

    run()


def templates_with(tmp_path: Path, edit: Any) -> Path:
    folder = tmp_path / "templates"
    shutil.copytree(REPO / "templates", folder)
    path = folder / "exit_letter.docx"
    document = docx.Document(str(path))
    edit(document)
    document.save(str(path))
    return path


def exit_letter_context(settings_: Settings, schemas: SchemaSet) -> dict[str, Any]:
    return context_of(example("exit_letter"), settings_, schemas)[1]


def test_tags_in_headers_footers_and_properties_are_filled_in_as_docxtpl_does(
        tmp_path: Path, module_settings: Settings, schemas: SchemaSet) -> None:
    def edit(document: Any) -> None:
        section = document.sections[0]
        section.header.paragraphs[0].add_run(" Case {{ case_ref }} for {{ data.person.name }}")
        section.footer.add_paragraph("{% for line in provider.address %}{{ line }}, {% endfor %}")
        document.core_properties.title = "Letter {{ document.reference }}"
        document.core_properties.subject = "{{ data.person.name }}"

    template = templates_with(tmp_path, edit)
    context = exit_letter_context(module_settings, schemas)
    assert_same_as_docxtpl(template, context)
    rendered = render_document(template, context)
    with zipfile.ZipFile(io.BytesIO(rendered.content)) as archive:
        core = archive.read("docProps/core.xml").decode()
    assert f"Letter {context['document']['reference']}" in core
    assert "<dc:subject>Siân O" in core


def test_a_table_row_loop_and_pictures_numbering_match_docxtpl(
        tmp_path: Path, module_settings: Settings, schemas: SchemaSet) -> None:
    def edit(document: Any) -> None:
        table = document.add_table(rows=3, cols=2)
        table.cell(0, 0).text = "{%tr for line in data.arrangements_agreed %}"
        table.cell(1, 0).text = "{{ loop.index }}"
        table.cell(1, 1).text = "{{ line }}"
        table.cell(2, 0).text = "{%tr endfor %}"

    template = templates_with(tmp_path, edit)
    context = exit_letter_context(module_settings, schemas)
    text = assert_same_as_docxtpl(template, context)
    for line in context["data"]["arrangements_agreed"]:
        assert line in text


def test_a_template_changed_on_disk_is_prepared_again(tmp_path: Path, module_settings: Settings,
                                                      schemas: SchemaSet) -> None:
    template = templates_with(tmp_path, lambda d: d.add_paragraph("First wording."))
    context = exit_letter_context(module_settings, schemas)
    first = render_document(template, context)
    assert "First wording." in docx_text(first.content)
    document = docx.Document(str(template))
    document.paragraphs[-1].text = "Second wording."
    document.save(str(template))
    second = render_document(template, context)
    assert "Second wording." in docx_text(second.content)
    assert "First wording." not in docx_text(second.content)
    assert second.template_sha256 != first.template_sha256


def test_parts_without_data_are_copied_compressed_as_they_are(
        module_settings: Settings, schemas: SchemaSet) -> None:
    """Two letters to different people share every part that carries no data, compressed bytes
    and all: only the parts with tags are made for each document."""
    first = example("exit_letter")
    second = example("exit_letter")
    second["data"]["person"]["name"] = "Daniel Okafor"
    documents = [render_document(*context_of(d, module_settings, schemas)).content
                 for d in (first, second)]
    raw: list[dict[str, bytes]] = []
    for content in documents:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            raw.append({info.filename: content[info.header_offset + 30 + len(info.filename):][
                :info.compress_size] for info in archive.infolist()})
    assert raw[0]["word/styles.xml"] == raw[1]["word/styles.xml"]
    assert raw[0]["word/document.xml"] != raw[1]["word/document.xml"]


def test_footnotes_with_tags_are_rendered_by_docxtpl_itself(
        tmp_path: Path, module_settings: Settings, schemas: SchemaSet) -> None:
    """A template whose footnotes hold tags is left to docxtpl (the prepared path does not
    reproduce docxtpl's footnote handling); the document still says what docxtpl says."""
    template = tmp_path / "footnoted.docx"
    source = REPO / "templates" / "exit_letter.docx"
    footnotes = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                 '<w:footnotes xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/'
                 'main"><w:footnote w:id="1"><w:p><w:r><w:t>{{ case_ref }}</w:t></w:r></w:p>'
                 '</w:footnote></w:footnotes>')
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(template, "w") as copy_:
        for info in original.infolist():
            data = original.read(info)
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", b'<Override PartName="/word/footnotes.xml" '
                                    b'ContentType="application/vnd.openxmlformats-officedocument.'
                                    b'wordprocessingml.footnotes+xml"/></Types>')
            if info.filename == "word/_rels/document.xml.rels":
                data = data.replace(b"</Relationships>", b'<Relationship Id="rIdFn" Type="http://'
                                    b'schemas.openxmlformats.org/officeDocument/2006/relationships/'
                                    b'footnotes" Target="footnotes.xml"/></Relationships>')
            copy_.writestr(info, data)
        copy_.writestr("word/footnotes.xml", footnotes)
    context = exit_letter_context(module_settings, schemas)
    assert_same_as_docxtpl(template, context)
    footnote = parts(render_document(template, context).content)["word/footnotes.xml"]
    assert context["case_ref"].encode() in footnote


@pytest.mark.parametrize("broken", [b"", b"not a zip at all", b"PK\x03\x04 truncated"])
def test_a_damaged_template_is_named_as_it_was_before(broken: bytes, tmp_path: Path,
                                                      module_settings: Settings,
                                                      schemas: SchemaSet) -> None:
    template = tmp_path / "exit_letter.docx"
    template.write_bytes(broken)
    with pytest.raises(TemplateError, match="is not a Word document recordgen can open"):
        render_document(template, exit_letter_context(module_settings, schemas))
