"""The demo tells the same story on any day: its case files are moved to the day it runs, every one is
produced, nothing is late, and no letter promises something on a date already past."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from types import ModuleType

import pytest

from recordgen.clock import UK, FixedClock
from recordgen.deadlines.due import run_notes
from recordgen.kinds import KINDS, Answer
from recordgen.pipeline.inbox import process_inbox
from recordgen.services import open_services
from recordgen.settings import load_settings

from conftest import REPO, make_settings
from docx_text import docx_text
from test_bundle import TextConverter


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dated_examples",
                                                  REPO / "tools" / "dated_examples.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["dated_examples"] = module
    spec.loader.exec_module(module)
    return module


dated_examples = _tool()

DAYS = [
    dt.date(2026, 11, 30),  # the day the demo was found telling a late story
    dt.date(2026, 12, 24),  # Christmas Eve: Christmas and Boxing Day inside the exit letter's week
    dt.date(2027, 3, 28),  # the clocks go forward
    dt.date(2027, 5, 31),  # a bank holiday in British Summer Time
    dt.date(2028, 2, 29),  # a leap day
    dt.date(2026, 11, 23),  # the day the examples were written for: they come out unchanged
]


@pytest.mark.parametrize("today", DAYS, ids=str)
def test_the_demo_produces_every_document_on_time_on_any_day(tmp_path: Path, today: dt.date) -> None:
    settings = make_settings(tmp_path, output={"pdf": True})
    written = dated_examples.write_dated_examples(settings.folders.inbox, today)
    assert len(written) == len(list((REPO / "examples").glob("*.json")))
    kinds = [json.loads(path.read_text(encoding="utf-8"))["kind"] for path in sorted(written)]
    clock = FixedClock(dt.datetime.combine(today, dt.time(9, 0), tzinfo=UK))
    with open_services(settings, clock) as opened:
        services = replace(opened, converter=TextConverter())
        outcomes = process_inbox(services)
        notes = run_notes(services.store, settings.calendar, today,
                          [d for o in outcomes for d in o.documents], settings.rules)
        clocks = services.store.clocks()
    # Every example is taken: those that issue nothing (money secured, a request for a paper copy,
    # support ended without a letter) are recorded, the others produce their document.
    expected = ["recorded" if KINDS[kind].answer is Answer.RECORD else "produced" for kind in kinds]
    assert [o.status for o in outcomes] == expected, [o.message for o in outcomes]
    assert not [n for n in notes if n.startswith("Produced late")], notes
    assert all(c.met is not False for c in clocks)
    letter = next((settings.folders.outbox / "THS-2026-0142").glob("*exit-confirmation*.docx"))
    text = docx_text(letter)
    visit = re.search(r"last visit on (\d{1,2} \w+ \d{4})", text)
    assert visit is not None
    assert dt.datetime.strptime(visit.group(1), "%d %B %Y").date() > today


def test_the_examples_on_their_own_day_are_written_out_unchanged(tmp_path: Path) -> None:
    for path in dated_examples.write_dated_examples(tmp_path, dated_examples.WRITTEN_FOR):
        original = REPO / "examples" / path.name
        assert json.loads(path.read_text(encoding="utf-8")) == \
            json.loads(original.read_text(encoding="utf-8"))


def test_dates_in_words_and_iso_dates_move_together() -> None:
    week = dt.timedelta(days=7)
    moved = dated_examples.moved({"on": "2026-11-16", "at": "2026-11-19T02:20",
                                  "note": "A visit on 27 November 2026, ref THS-2026-0142.",
                                  "list": ["2026-12-31"], "count": 3}, week)
    assert moved == {"on": "2026-11-23", "at": "2026-11-26T02:20",
                     "note": "A visit on 4 December 2026, ref THS-2026-0142.",
                     "list": ["2027-01-07"], "count": 3}



def test_a_fresh_checkout_ships_no_outbox_so_the_demo_s_first_run_is_a_first_run() -> None:
    """recordgen refuses to start a new records store beside an outbox that holds anything (a
    store gone missing must not silently start again), so a placeholder shipped in the outbox
    made `./scripts/demo` stop at once on a fresh checkout."""
    listed = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z"], capture_output=True,
                            check=False)
    if listed.returncode != 0:
        pytest.skip("not a git checkout: what it ships cannot be listed")
    outbox = load_settings(REPO / "recordgen.toml").folders.outbox.resolve()
    shipped = [name for name in listed.stdout.decode().split("\0")
               if name and (REPO / name).resolve().is_relative_to(outbox)]
    assert shipped == []
