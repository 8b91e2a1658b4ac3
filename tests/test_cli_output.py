"""What the commands print, read as the admin or the log reader would: whole file names and hashes,
PDFs listed beside their Word documents, and every document a count leaves out named."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from recordgen.cli import cli
from recordgen.clock import UK, FixedClock
from recordgen.pipeline import Services
from recordgen.pipeline.inbox import process_inbox
from recordgen.services import open_services
from recordgen.settings import Settings

from conftest import REPO, example, make_settings
from test_bundle import TextConverter

CLOCK = FixedClock(dt.datetime(2026, 11, 23, 10, 0, tzinfo=UK))
LONG_NAME = "2026-11-16_THS-2026-0142_exit_letter_exported_from_the_case_management_system.json"


@pytest.fixture
def pdf_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, output={"pdf": True})


@pytest.fixture
def services(pdf_settings: Settings) -> Iterator[Services]:
    with open_services(pdf_settings, CLOCK) as opened:
        yield replace(opened, converter=TextConverter())


def config_for(settings: Settings) -> Path:
    folders = settings.folders
    path = folders.inbox.parent / "recordgen.toml"
    path.write_text(
        f'[folders]\ninbox = "{folders.inbox}"\noutbox = "{folders.outbox}"\n'
        f'rejected = "{folders.rejected}"\nstore = "{folders.store}"\n'
        f'templates = "{REPO / "templates"}"\nschemas = "{REPO / "schemas"}"\n'
        "[output]\npdf = false\n", encoding="utf-8")
    return path


def drop(settings: Settings, name: str, content: dict[str, object]) -> None:
    (settings.folders.inbox / name).write_text(json.dumps(content, ensure_ascii=False),
                                               encoding="utf-8")


def run(settings: Settings, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(config_for(settings)), *args], obj=CLOCK)
    return result.exit_code, result.output


def test_the_process_summary_never_breaks_a_file_name_over_lines(settings: Settings) -> None:
    # CliRunner is not a terminal, like a log file or an email from cron.
    drop(settings, LONG_NAME, example("exit_letter"))
    drop(settings, "broken.json", {"kind": "exit_letter"})
    code, output = run(settings, "process")
    assert code == 1, output
    lines = output.splitlines()
    assert LONG_NAME in lines
    (document,) = [line.strip() for line in lines if line.strip().endswith(".docx")]
    assert (settings.folders.outbox / document).is_file()
    assert any(line.strip().startswith("rejected") for line in lines)
    assert any("the first: The field" in line and ".errors.txt" in line for line in lines)
    assert "1 produced, 1 rejected" in lines


def test_history_shows_whole_hashes_and_the_pdf_of_each_document(services: Services) -> None:
    settings = services.settings
    drop(settings, "plan.json", example("support_plan"))
    process_inbox(services)
    (document,) = services.store.documents()
    assert document.pdf_file_name and document.pdf_sha256
    code, output = run(settings, "history", "THS-2026-0142")
    assert code == 0, output
    assert f"SHA-256: {document.sha256}" in output
    assert f"PDF: {document.pdf_file_name}" in output
    assert f"PDF SHA-256: {document.pdf_sha256}" in output
    hashes = re.findall(r"SHA-256: ([0-9a-f]+)", output)
    assert hashes and all(len(h) == 64 for h in hashes)


def test_a_dry_run_names_the_bundle_it_leaves_alone(services: Services) -> None:
    settings = services.settings
    for number, kind in enumerate(("needs_assessment", "support_plan", "exit_letter",
                                   "subject_access_request")):
        drop(settings, f"{number}_{kind}.json", example(kind))
    outcomes = process_inbox(services)
    assert [o.status for o in outcomes] == ["produced"] * 4
    code, output = run(settings, "regenerate", "--dry-run")
    assert code == 0, output
    # Every document of the case is counted: three re-rendered (the settings file differs), one
    # left alone with the reason.
    assert "3 would regenerate, 1 left alone" in output
    assert re.search(r"left alone: THS-2026-0142 subject_access_request \(a subject access bundle "
                     r"is the answer given on the day it was made", output), output


def test_each_file_of_a_batch_is_logged_when_it_is_done_with_its_own_seconds(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    for number, kind in enumerate(("needs_assessment", "support_plan", "exit_letter",
                                   "serious_incident")):
        drop(settings, f"{number}_{kind}.json", example(kind))
    with caplog.at_level(logging.INFO, logger="recordgen"), open_services(settings, CLOCK) as opened:
        outcomes = process_inbox(opened)
    assert [o.status for o in outcomes] == ["produced"] * 4
    lines = [r for r in caplog.records if "outcome=" in r.getMessage()]
    assert len(lines) == 4
    # Logged one by one as each file is done, not all at the end of the batch with one figure.
    times = [r.created for r in lines]
    assert times == sorted(times) and len(set(times)) == 4
    seconds = [float(re.search(r"seconds=([\d.]+)", r.getMessage()).group(1))  # type: ignore[union-attr]
               for r in lines]
    assert len({o.seconds for o in outcomes}) == 4
    assert sorted(seconds) == sorted(round(o.seconds, 2) for o in outcomes)
