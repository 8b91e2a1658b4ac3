"""Case references are canonical: one case is one case, and no reference hides a character.

A reference with a line break or a space at either end is refused (the schema's patterns end in
\\Z, because jsonschema matches them with Python's re.search, where $ also matches before a final
line break). Letter case does not make a new case: ``ths-2026-0142`` and ``THS-2026-0142`` are
filed in one folder, have one history and one subject access bundle, and the commands that take a
case reference find the case whichever way it is typed.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import docx
import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from recordgen.cases import CASE_REF, canonical_case_ref
from recordgen.cli import cli
from recordgen.clock import UK, FixedClock
from recordgen.documents.validate import SchemaSet, validate_case_file
from recordgen.errors import ValidationFailed
from recordgen.pipeline import Services
from recordgen.pipeline.inbox import process_inbox
from recordgen.services import open_services
from recordgen.settings import Settings

from conftest import REPO, TODAY, example, make_settings
from test_bundle import TextConverter

CASE = "THS-2026-0142"
CLOCK = FixedClock(dt.datetime(2026, 11, 23, 10, 0, tzinfo=UK))


def with_ref(kind: str, ref: str) -> dict[str, Any]:
    document = example(kind)
    document["case_ref"] = ref
    return document


def drop(settings: Settings, name: str, document: dict[str, Any]) -> None:
    (settings.folders.inbox / name).write_text(json.dumps(document, ensure_ascii=False),
                                               encoding="utf-8")


@pytest.fixture
def services(settings: Settings, clock: FixedClock) -> Iterator[Services]:
    with open_services(settings, clock) as opened:
        yield opened


# --- one canonical form --------------------------------------------------------------------------


@pytest.mark.parametrize(("written", "canonical"), [
    ("THS-2026-0142", "THS-2026-0142"), ("ths-2026-0142", "THS-2026-0142"),
    ("Ths_b1", "THS_B1"), ("9", "9"),
])
def test_the_canonical_form_is_upper_case(written: str, canonical: str) -> None:
    assert canonical_case_ref(written) == canonical


@pytest.mark.parametrize(("text", "words"), [
    ("THS-B1\n", "ends with a space or a line break"),
    ("THS-B1 ", "ends with a space or a line break"),
    (" THS-B1", "starts with a space or a line break"),
    ("\tTHS-B1", "starts with a space or a line break"),
    ("THS B1", "not a case reference"),
    ("a/b", "not a case reference"),
    ("", "empty"),
    ("nul", "a name Windows keeps for a device"),
])
def test_text_that_is_not_a_case_reference_is_refused_with_the_reason(
    text: str, words: str
) -> None:
    with pytest.raises(ValueError, match=words):
        canonical_case_ref(text)


@pytest.mark.parametrize("ref", ["THS-B1\n", "THS-B1\r\n", "THS-B1 ", " THS-B1", "THS-B1\t",
                                 "\nTHS-B1"])
def test_a_case_file_whose_reference_hides_a_space_or_line_break_is_refused(
    ref: str, settings: Settings
) -> None:
    with pytest.raises(ValidationFailed) as info:
        validate_case_file(with_ref("support_plan", ref), SchemaSet(settings.folders.schemas),
                      settings, TODAY)
    (problem,) = info.value.problems
    assert problem.path == "$.case_ref"
    assert json.dumps(ref) in problem.message  # the hidden character is shown as \n, \t...
    assert "no spaces or line breaks, not even at the start or the end" in problem.fix


def test_a_reference_with_a_trailing_line_break_makes_no_folder_and_no_record(
    services: Services, settings: Settings
) -> None:
    drop(settings, "plan.json", with_ref("support_plan", "THS-B1\n"))
    (outcome,) = process_inbox(services)
    assert outcome.status == "rejected"
    assert not settings.folders.outbox.exists() or list(settings.folders.outbox.iterdir()) == []
    (submission,) = services.store.submissions()
    assert submission.outcome == "rejected"
    assert submission.case_ref is None  # a reference that is not one is not recorded as one
    note = (settings.folders.rejected / "plan.json.errors.txt").read_text(encoding="utf-8")
    assert '"THS-B1\\n" is not in the right form' in note


def test_a_rejected_file_is_recorded_under_its_cases_canonical_reference(
    services: Services, settings: Settings
) -> None:
    document = with_ref("support_plan", "ths-2026-0142")
    document["data"]["hours_per_week"] = 50
    drop(settings, "plan.json", document)
    (outcome,) = process_inbox(services)
    assert outcome.status == "rejected"
    assert [s.outcome for s in services.store.submissions(CASE)] == ["rejected"]


@pytest.mark.parametrize(("field", "value"), [
    (("data", "plan_date"), "2026-09-14\n"),
    (("data", "person", "email"), "sian@example.org\n"),
    (("data", "person", "phone"), "01632 960 123\n"),
    (("data", "person", "address", "postcode"), "TS3 9QP\n"),
    (("data", "person", "name"), "Siân O'Brien\n"),
])
def test_no_pattern_lets_a_final_line_break_through(
    field: tuple[str, ...], value: str, settings: Settings
) -> None:
    document = example("support_plan")
    person = document["data"]["person"]
    person.setdefault("email", "sian@example.org")
    person.setdefault("phone", "01632 960 123")
    person.setdefault("address", {"lines": ["Flat 4"], "postcode": "TS3 9QP"})
    target = document
    for key in field[:-1]:
        target = target[key]
    target[field[-1]] = value
    with pytest.raises(ValidationFailed) as info:
        validate_case_file(document, SchemaSet(settings.folders.schemas), settings, TODAY)
    assert {p.path for p in info.value.problems} == {"$." + ".".join(field)}


def test_every_schema_pattern_is_anchored_at_the_very_end() -> None:
    for path in sorted((REPO / "schemas").glob("*.json")):
        for pattern in re.findall(r'"pattern": "((?:[^"\\]|\\.)*)"', path.read_text()):
            assert not pattern.endswith("$"), (path.name, pattern)
            if pattern.startswith("^"):
                assert pattern.endswith("\\\\Z"), (path.name, pattern)


def test_the_schema_and_canonical_case_ref_agree_on_what_a_reference_is() -> None:
    common = json.loads((REPO / "schemas" / "common.schema.json").read_text())
    assert common["$defs"]["case_ref"]["pattern"] == f"^{CASE_REF.pattern}\\Z"


# --- one case, whatever the letter case ----------------------------------------------------------


def test_two_spellings_of_one_reference_are_one_case_folder_and_one_history(
    services: Services, settings: Settings
) -> None:
    drop(settings, "1.json", with_ref("needs_assessment", "ths-2026-0142"))
    drop(settings, "2.json", with_ref("support_plan", CASE))
    outcomes = process_inbox(services)
    assert [o.status for o in outcomes] == ["produced", "produced"]
    assert [p.name for p in settings.folders.outbox.iterdir()] == [CASE]
    assert len(services.store.documents(CASE)) == 2
    assert len(services.store.submissions(CASE)) == 2
    # The document shows the reference as the case file wrote it; it is filed under one form.
    (assessment,) = (settings.folders.outbox / CASE).glob("*needs-and-risk*.docx")
    assert assessment.name.startswith(f"2026-09-10_{CASE}_")
    text = "\n".join(p.text for p in docx.Document(str(assessment)).paragraphs)
    for table in docx.Document(str(assessment)).tables:
        text += "\n".join(c.text for row in table.rows for c in row.cells)
    assert "ths-2026-0142" in text


def test_the_same_file_with_its_reference_in_other_letters_is_not_a_new_version(
    services: Services, settings: Settings
) -> None:
    drop(settings, "1.json", with_ref("support_plan", CASE))
    process_inbox(services)
    drop(settings, "2.json", with_ref("support_plan", "Ths-2026-0142"))
    (outcome,) = process_inbox(services)
    assert outcome.status == "unchanged"
    assert len(services.store.documents(CASE)) == 1


@pytest.mark.parametrize("typed", ["ths-2026-0142", "THS-2026-0142", "  ths-2026-0142 "])
def test_history_finds_the_case_however_its_reference_is_typed(
    typed: str, tmp_path: Path
) -> None:
    settings, config = _configured(tmp_path)
    drop(settings, "1.json", with_ref("needs_assessment", "ths-2026-0142"))
    drop(settings, "2.json", with_ref("support_plan", CASE))
    assert _cli(config, "process").exit_code == 0
    result = _cli(config, "history", typed, "--json")
    assert result.exit_code == 0, result.output
    events = json.loads(result.output)
    assert sum(e["what"].startswith("received ") for e in events) == 2
    assert sum(e["what"].startswith("produced ") for e in events) == 2


def test_due_and_regenerate_find_the_case_however_its_reference_is_typed(
    tmp_path: Path,
) -> None:
    settings, config = _configured(tmp_path)
    drop(settings, "1.json", with_ref("support_plan", "ths-2026-0142"))
    assert _cli(config, "process").exit_code == 0
    due = _cli(config, "due", "--case", "ths-2026-0142", "--csv")
    assert due.exit_code == 0 and CASE in due.output
    regenerate = _cli(config, "regenerate", "--case", "ths-2026-0142", "--dry-run")
    assert regenerate.exit_code == 0 and "1 unchanged" in regenerate.output


def test_a_command_given_something_that_is_not_a_reference_says_why(tmp_path: Path) -> None:
    _, config = _configured(tmp_path)
    result = _cli(config, "history", "THS 2026")
    assert result.exit_code == 2
    assert "not a case reference" in result.output


def test_one_subject_access_bundle_holds_the_case_under_either_spelling(
    tmp_path: Path, clock: FixedClock
) -> None:
    settings = make_settings(tmp_path, output={"pdf": True})
    with open_services(settings, clock) as opened:
        services = replace(opened, converter=TextConverter())
        drop(settings, "1.json", with_ref("needs_assessment", "ths-2026-0142"))
        drop(settings, "2.json", with_ref("support_plan", CASE))
        drop(settings, "3.json", with_ref("subject_access_request", "tHs-2026-0142"))
        outcomes = process_inbox(services)
    assert [o.status for o in outcomes] == ["produced"] * 3
    (bundle,) = (settings.folders.outbox / CASE).glob("*subject-access-bundle*.pdf")
    titles = [str(item.title) for item in PdfReader(bundle).outline]
    assert any("Needs and risk assessment, version 1" in t for t in titles), titles
    assert any("Support plan, version 1" in t for t in titles), titles


def _configured(tmp_path: Path) -> tuple[Settings, Path]:
    settings = make_settings(tmp_path)
    config = tmp_path / "recordgen.toml"
    folders = settings.folders
    config.write_text(
        "[folders]\n" + "".join(f'{name} = "{getattr(folders, name)}"\n' for name in
                                ("inbox", "outbox", "rejected", "store", "templates", "schemas"))
        + "[output]\npdf = false\n", encoding="utf-8")
    return settings, config


def _cli(config: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--config", str(config), *args], obj=CLOCK)
