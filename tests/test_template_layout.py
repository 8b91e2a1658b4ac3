"""How the documents lay out for the person reading them: dates kept whole on one line, and no cell
left blank where a value was not recorded."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from recordgen.clock import UK, FixedClock
from recordgen.pipeline.inbox import process_inbox
from recordgen.services import open_services
from recordgen.settings import Settings

from conftest import example, make_settings
from docx_text import docx_tables

CLOCK = FixedClock(dt.datetime(2026, 11, 23, 10, 0, tzinfo=UK))


def produce(settings: Settings, kind: str, document: dict[str, object]) -> Path:
    (settings.folders.inbox / f"{kind}.json").write_text(json.dumps(document, ensure_ascii=False),
                                                         encoding="utf-8")
    with open_services(settings, CLOCK) as services:
        (outcome,) = process_inbox(services)
    assert outcome.status == "produced", outcome
    return settings.folders.outbox / next(d for d in outcome.documents if d.endswith(".docx"))


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_the_plan_prints_each_target_date_whole_on_one_line(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, output={"pdf": True})
    plan = example("support_plan")
    plan["data"]["objectives"][0]["target_date"] = "2026-09-30"  # the longest month name
    docx = produce(settings, "support_plan", plan)
    text = subprocess.run(["pdftotext", "-layout", str(docx.with_suffix(".pdf")), "-"],
                          capture_output=True, text=True, check=True).stdout
    for target in ("30 September 2026", "16 October 2026", "27 November 2026"):
        assert any(target in line for line in text.splitlines()), target


def test_a_contact_without_an_address_or_phone_says_so(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    assessment = example("needs_assessment")
    assessment["data"]["contacts"] = [
        {"name": "Carys Morgan", "relationship": "Sister"},
        {"name": "Gwen Price", "relationship": "Friend", "phone": "07700 900 612",
         "address": {"lines": ["2 Mill Lane", "Thameside"], "postcode": "TS3 1AA"}},
    ]
    docx = produce(settings, "needs_assessment", assessment)
    contacts = next(t for t in docx_tables(docx) if t[0][:2] == ["Name", "Relationship"])
    assert contacts[1] == ["Carys Morgan", "Sister", "Not recorded", "Not recorded"]
    assert contacts[2] == ["Gwen Price", "Friend", "07700 900 612", "2 Mill Lane, Thameside, TS3 1AA"]
