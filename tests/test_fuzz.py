"""Property-based fuzzing of case files (issue 7 §1): hostile text in every kind of document is
either refused with a message naming the field, or printed in the Word document exactly as typed.
Never an unhandled exception, never a silently altered value.

At least 500 examples per kind run in the normal suite; set RECORDGEN_FUZZ_EXAMPLES to run more.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recordgen.documents.render import build_context, render_document
from recordgen.documents.validate import SchemaSet, validate_case_file
from recordgen.errors import CaseFileError
from recordgen.intake.load import parse_case_bytes
from recordgen.settings import Settings

from conftest import REPO, TODAY, example, make_settings
from docx_text import docx_text

EXAMPLES = int(os.environ.get("RECORDGEN_FUZZ_EXAMPLES", "500"))

# Text fields each document prints exactly as given (a path into the case file's data).
PRINTED_VERBATIM: dict[str, list[tuple[str | int, ...]]] = {
    "needs_assessment": [("person", "name"), ("needs", 0, "description"), ("risks", 1, "controls"),
                         ("diversity", "culture")],
    "support_plan": [("person", "name"), ("objectives", 0, "objective"),
                     ("objectives", 2, "actions", 0, "by_whom")],
    "exit_letter": [("person", "name"), ("arrangements_agreed", 1), ("how_to_return",)],
    "serious_incident": [("location",), ("what_happened",), ("people_involved", 2, "involvement")],
}

HOSTILE = st.sampled_from([
    "Siân O'Brien & Sons <Ltd>", "{{ 7*7 }}", "{% if true %}x{% endif %}", "{{ cycler.__init__ }}",
    '"quoted" & \'single\'', "<w:t>injected</w:t>", "]]>", "&amp;", "\\n", "Zoë Ní Bhriain",
    "Łukasz Żółć", "Αθηνά", "Дмитрий", "محمد", "李小龍", "😀👍🏽", "\u200b", "a\u0301", "\t",
    "line one\nline two", "windows\r\nline", "\x00", "\x07", "\x1b[31m", "\ud800", "\ufffe",
    " ", "", "x" * 400, "y" * 21000, "\u2028",
])
TEXT = st.one_of(
    HOSTILE,
    st.text(st.characters(codec="utf-8"), max_size=60),
    st.lists(HOSTILE, min_size=1, max_size=4).map("".join),
)


@pytest.fixture(scope="module")
def fuzz_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(tmp_path_factory.mktemp("fuzz"))


@pytest.fixture(scope="module")
def schemas(fuzz_settings: Settings) -> SchemaSet:
    return SchemaSet(fuzz_settings.folders.schemas)


def put(data: dict[str, Any], path: tuple[str | int, ...], value: str) -> None:
    target: Any = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value


def json_path(path: tuple[str | int, ...]) -> str:
    return "$.data" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def as_printed(value: str) -> str:
    """What Word shows for a value: line breaks of any kind read back as one line break."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


def check(kind: str, values: list[str], settings_: Settings, schemas: SchemaSet) -> None:
    document = example(kind)
    paths = PRINTED_VERBATIM[kind][: len(values)]
    for path, value in zip(paths, values, strict=False):
        put(document["data"], path, value)
    raw = json.dumps(document, ensure_ascii=False).encode("utf-8", "surrogatepass")
    try:
        loaded = parse_case_bytes(raw, settings_.limits.max_nesting_depth)
        case = validate_case_file(loaded, schemas, settings_, TODAY)
    except CaseFileError as refused:
        fuzzed = {json_path(p) for p in paths}
        assert refused.problems, "a refusal must say why"
        for problem in refused.problems:
            # every problem names one of the fields that was fuzzed, and says how to fix it
            assert problem.path in fuzzed or problem.path == "$", (problem, fuzzed)
            assert problem.message and problem.fix
        return
    rendered = render_document(settings_.folders.templates / case.kind.template_file,
                               build_context(case, settings_, version=1,
                                             document_date=dt.date(2026, 11, 23)))
    text = docx_text(rendered.content)
    for value in values[: len(paths)]:
        assert as_printed(value) in text, f"{value!r} was not printed exactly"


@pytest.mark.parametrize("value", ["%_}", "{_{", "}_}", "{_%", "Ann %_} {_{ x }_} {_% Bee",
                                   "&#95; %_}"])
def test_docxtpls_brace_marks_in_a_value_are_printed_as_typed(
    value: str, fuzz_settings: Settings, schemas: SchemaSet
) -> None:
    # docxtpl turns "%_}" into "%}" across a filled part (a template's way to print braces): a
    # name holding it printed "%}" (found by the fuzzing below). Every such mark prints as typed.
    check("exit_letter", [value, value, value], fuzz_settings, schemas)


@pytest.mark.parametrize("kind", sorted(PRINTED_VERBATIM))
def test_hostile_text_is_refused_by_field_or_printed_exactly(
    kind: str, fuzz_settings: Settings, schemas: SchemaSet
) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(values=st.lists(TEXT, min_size=1, max_size=len(PRINTED_VERBATIM[kind])))
    def run(values: list[str]) -> None:
        check(kind, values, fuzz_settings, schemas)

    run()


@pytest.mark.parametrize("value", ["2026-02-29", "2028-02-29", "0000-01-01", "9999-12-31",
                                   "2026-13-01", "2026-00-10", "2026-11-31"])
def test_boundary_dates_are_refused_or_printed_as_the_real_date(value: str, tmp_path: Path) -> None:
    settings_ = make_settings(tmp_path)
    schemas = SchemaSet(REPO / "schemas")
    document = example("exit_letter")
    document["data"]["leaving_date"] = value
    try:
        case = validate_case_file(document, schemas, settings_, TODAY)
    except CaseFileError as refused:
        assert [p.path for p in refused.problems] == ["$.data.leaving_date"]
        return
    day = dt.date.fromisoformat(value)
    rendered = render_document(settings_.folders.templates / "exit_letter.docx",
                               build_context(case, settings_, version=1, document_date=TODAY))
    assert f"{day.day} {day:%B} {day.year}" in docx_text(rendered.content)


@pytest.mark.parametrize("value", ["Siân\nO'Brien", "Siân\tO'Brien", "Siân\r\nO'Brien",
                                   "Siân\u2028O'Brien"])
def test_a_line_break_in_a_one_line_field_is_refused_not_flattened(value: str,
                                                                     tmp_path: Path) -> None:
    settings_ = make_settings(tmp_path)
    document = example("exit_letter")
    document["data"]["person"]["name"] = value
    with pytest.raises(CaseFileError) as refused:
        validate_case_file(document, SchemaSet(REPO / "schemas"), settings_, TODAY)
    (problem,) = refused.value.problems
    assert problem.path == "$.data.person.name"
    assert "line break or a tab" in problem.message
