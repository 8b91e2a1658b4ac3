"""The one-shot pipeline end to end: files in the inbox become filed Word documents, exactly once,
and nothing dropped is ever lost."""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docx
import pytest

from recordgen.clock import FixedClock
from recordgen.errors import StoreError
from recordgen.intake.claim import HOST, STALE_AFTER_SECONDS, ClaimArea
from recordgen.pipeline import Services, process_batch
from recordgen.pipeline.inbox import process_inbox
from recordgen.records.seal import SEAL_FILE
from recordgen.records.store import DocumentRecord
from recordgen.services import open_services
from recordgen.settings import Settings

from conftest import REPO, example, make_settings

Drop = Callable[..., Path]


def text_of(path: Path) -> str:
    document = docx.Document(str(path))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    for section in document.sections:
        parts.extend(p.text for p in section.header.paragraphs)
    return "\n".join(parts)


@pytest.fixture
def services(settings: Settings, clock: FixedClock) -> Iterator[Services]:
    with open_services(settings, clock) as opened:
        yield opened


def outbox_files(settings: Settings) -> list[str]:
    outbox = settings.folders.outbox
    if not outbox.exists():
        return []
    # The seal file (the audit trail's witness, written after each run) is not a document.
    return sorted(str(p.relative_to(outbox)) for p in outbox.rglob("*")
                  if p.is_file() and p.name != SEAL_FILE)


def test_every_example_becomes_a_filed_word_document(
    services: Services, settings: Settings, drop: Drop
) -> None:
    for kind in ("needs_assessment", "support_plan", "exit_letter", "serious_incident"):
        drop(example(kind), f"{kind}.json")
    outcomes = process_inbox(services)
    assert [o.status for o in outcomes] == ["produced"] * 4
    assert outbox_files(settings) == [
        "THS-2026-0097/2026-11-23_THS-2026-0097_serious-incident-report_INC-2026-017_v1.docx",
        "THS-2026-0142/2026-09-10_THS-2026-0142_needs-and-risk-assessment_v1.docx",
        "THS-2026-0142/2026-09-14_THS-2026-0142_support-plan_v1.docx",
        "THS-2026-0142/2026-11-23_THS-2026-0142_exit-confirmation-letter_v1.docx",
    ]
    letter = text_of(settings.folders.outbox / outbox_files(settings)[3])
    assert "Siân O'Brien" in letter
    assert "Flat 4, Marsh & Quay House" in letter
    assert "16 November 2026" in letter  # the date the request was received
    assert "23 November 2026" in letter  # the letter's date: the day it was produced
    incident = text_of(settings.folders.outbox / outbox_files(settings)[0])
    assert "Siân" not in incident and "Daniel Okafor" in incident
    # the inbox is empty and nothing is left claimed
    assert list(settings.folders.inbox.glob("*.json")) == []
    assert list(settings.folders.work.rglob("*.json")) == []


def test_outputs_are_read_only_and_not_readable_by_other_users(
    services: Services, settings: Settings, drop: Drop
) -> None:
    drop(example("support_plan"))
    process_inbox(services)
    (path,) = settings.folders.outbox.rglob("*.docx")
    assert path.stat().st_mode & 0o777 == 0o440  # issued: the record, never edited in place
    assert path.parent.stat().st_mode & 0o007 == 0


def test_the_store_records_input_output_and_hashes(
    services: Services, settings: Settings, drop: Drop
) -> None:
    source = drop(example("support_plan"))
    raw = source.read_bytes()
    process_inbox(services)
    (submission,) = services.store.submissions("THS-2026-0142")
    assert submission.outcome == "accepted" and submission.raw == raw
    (record,) = services.store.documents("THS-2026-0142")
    path = settings.folders.outbox / record.file_name
    import hashlib

    assert record.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert record.template_sha256 == hashlib.sha256(
        (REPO / "templates" / "support_plan.docx").read_bytes()).hexdigest()
    assert record.version == 1 and record.software_version


def test_the_same_file_twice_makes_nothing_new(
    services: Services, settings: Settings, drop: Drop
) -> None:
    drop(example("support_plan"), "plan.json")
    process_inbox(services)
    before = outbox_files(settings)
    drop(example("support_plan"), "plan again.json")
    (outcome,) = process_inbox(services)
    assert outcome.status == "duplicate"
    assert outbox_files(settings) == before
    assert len(services.store.documents()) == 1
    assert [s.outcome for s in services.store.submissions()] == ["accepted", "duplicate"]


def test_a_changed_plan_is_a_new_version_and_the_first_is_untouched(
    services: Services, settings: Settings, drop: Drop
) -> None:
    plan = example("support_plan")
    drop(plan, "plan.json")
    process_inbox(services)
    (first,) = settings.folders.outbox.rglob("*_v1.docx")
    first_bytes = first.read_bytes()
    plan["data"]["objectives"][0]["measure"] = "Rent account clear for three months."
    drop(plan, "plan amended.json")
    (outcome,) = process_inbox(services)
    assert outcome.status == "produced"
    (second,) = settings.folders.outbox.rglob("*_v2.docx")
    assert first.read_bytes() == first_bytes
    assert "Rent account clear for three months." in text_of(second)
    assert "Rent account clear for three months." not in text_of(first)
    assert [d.version for d in services.store.documents()] == [1, 2]


def test_a_reformatted_file_with_the_same_data_is_unchanged(
    services: Services, settings: Settings, drop: Drop
) -> None:
    drop(example("support_plan"), "plan.json")
    process_inbox(services)
    drop(json.dumps(example("support_plan"), ensure_ascii=True), "plan compact.json")
    (outcome,) = process_inbox(services)
    assert outcome.status == "unchanged"
    assert len(outbox_files(settings)) == 1


def test_separate_incidents_are_separate_documents(
    services: Services, settings: Settings, drop: Drop
) -> None:
    first = example("serious_incident")
    second = example("serious_incident")
    second["data"]["incident_ref"] = "INC-2026-018"
    drop(first, "a.json")
    drop(second, "b.json")
    process_inbox(services)
    names = outbox_files(settings)
    assert any("INC-2026-017_v1" in n for n in names)
    assert any("INC-2026-018_v1" in n for n in names)


def test_an_incident_reference_in_other_letter_case_is_the_same_incident(
    services: Services, settings: Settings, drop: Drop
) -> None:
    # "inc-2026-017" corrects INC-2026-017: its second version, not a second v1 beside it whose
    # name differs only in letter case (which a Windows share cannot hold).
    first = example("serious_incident")
    drop(first, "a.json")
    process_inbox(services)
    corrected = example("serious_incident")
    corrected["data"]["incident_ref"] = "inc-2026-017"
    corrected["data"]["what_happened"] += " Corrected after the manager's review."
    drop(corrected, "b.json")
    process_inbox(services)
    names = sorted(n for n in outbox_files(settings) if n.endswith(".docx"))
    assert [n.rsplit("_", 2)[-2:] for n in names] == [["INC-2026-017", "v1.docx"],
                                                       ["INC-2026-017", "v2.docx"]]
    assert {d.series for d in services.store.documents()} == {"serious_incident/INC-2026-017"}


def test_a_bad_file_is_moved_to_rejected_with_a_note_and_nothing_is_produced(
    services: Services, settings: Settings, drop: Drop
) -> None:
    plan = example("support_plan")
    del plan["data"]["objectives"][1]["measure"]
    plan["data"]["hours_per_week"] = 5
    source = drop(plan, "siân plan.json")
    source.chmod(0o600)
    source_mode = source.stat().st_mode
    raw = source.read_bytes()
    (outcome,) = process_inbox(services)
    assert outcome.status == "rejected"
    rejected = settings.folders.rejected / "siân plan.json"
    assert rejected.read_bytes() == raw  # kept, unchanged
    assert rejected.stat().st_mode == source_mode  # permissions untouched
    note = (settings.folders.rejected / "siân plan.json.errors.txt").read_text(encoding="utf-8")
    assert "2 problems" in note
    assert "objectives → item 2 → measure" in note
    assert 'The field "measure" is missing.' in note
    assert "5 hours of support a week" in note and "at most 3" in note
    assert "drop it into the inbox again" in note
    assert outbox_files(settings) == []
    (submission,) = services.store.submissions()
    assert submission.outcome == "rejected" and submission.raw == raw
    assert any("measure" in reason for reason in submission.reasons)


def test_a_mistyped_year_rejects_its_file_and_the_others_go_on(
    services: Services, settings: Settings, drop: Drop
) -> None:
    # 2206 for 2026: its deadline would need bank holidays nobody has published. It was a
    # settings error that stopped every run, the good files with it; now it is the file's own.
    letter = example("exit_letter")
    letter["data"]["leaving_date"] = "2206-11-30"
    drop(letter, "letter.json")
    drop(example("support_plan"), "plan.json")
    outcomes = {o.file_name: o for o in process_inbox(services)}
    assert (outcomes["letter.json"].status, outcomes["plan.json"].status) == (
        "rejected", "produced")
    note = (settings.folders.rejected / "letter.json.errors.txt").read_text(encoding="utf-8")
    assert "The year 2206 looks mistyped" in note and "leaving_date" in note
    assert [name for name in outbox_files(settings) if "support-plan" in name]


def test_a_review_waits_for_its_plan_however_many_files_are_dropped_with_them(
    services: Services, settings: Settings, drop: Drop
) -> None:
    # Files are taken 20 at a time. "b_review.json" sorts into the first 20 and its plan,
    # "z_plan.json", into the next: the review was rejected ("no support plan is recorded") and
    # its plan then produced. The files of one case now go together, the plan before the review.
    drop(example("support_review"), "b_review.json")
    for number in range(25):
        money = example("money_secured")
        money["case_ref"] = f"OTHER-{number:02d}"
        drop(money, f"m_{number:02d}.json")
    drop(example("support_plan"), "z_plan.json")
    outcomes = {o.file_name: o for o in process_inbox(services)}
    assert len(outcomes) == 27
    assert outcomes["z_plan.json"].status == "produced"
    assert outcomes["b_review.json"].status == "produced", outcomes["b_review.json"].message
    assert {o.status for name, o in outcomes.items() if name.startswith("m_")} == {"recorded"}
    assert not settings.folders.rejected.exists() or not list(settings.folders.rejected.iterdir())


def test_a_second_rejection_with_the_same_name_keeps_both(
    services: Services, settings: Settings, drop: Drop
) -> None:
    drop(b"not json", "case.json")
    process_inbox(services)
    drop(b"[]", "case.json")
    process_inbox(services)
    assert (settings.folders.rejected / "case.json").read_bytes() == b"not json"
    assert (settings.folders.rejected / "case (2).json").read_bytes() == b"[]"
    assert (settings.folders.rejected / "case (2).json.errors.txt").exists()


def test_a_broken_template_rejects_with_a_message_about_the_template(
    tmp_path: Path, clock: FixedClock
) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(REPO / "templates", templates)
    (templates / "support_plan.docx").write_bytes(b"this is not a word document")
    settings = make_settings(tmp_path, folders={"templates": str(templates)})
    (settings.folders.inbox / "plan.json").write_text(json.dumps(example("support_plan")))
    with open_services(settings, clock) as services:
        (outcome,) = process_inbox(services)
    assert outcome.status == "rejected"
    note = (settings.folders.rejected / "plan.json.errors.txt").read_text()
    assert "support_plan.docx" in note and "Your case file is fine" in note
    assert not settings.folders.outbox.exists() or outbox_files(settings) == []


def test_junk_links_and_folders_in_the_inbox_are_left_alone(
    services: Services, settings: Settings, drop: Drop, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps(example("support_plan")))
    (settings.folders.inbox / "link.json").symlink_to(outside)
    for junk in ("~$plan.json", "plan.json.tmp", ".hidden.json", "._plan.json", "Thumbs.db",
                 "desktop.ini", "download.crdownload", "copy.part", "plan.json~"):
        drop(b"{}", junk)
    (settings.folders.inbox / "folder.json").mkdir()
    assert process_inbox(services) == []
    assert outside.exists() and (settings.folders.inbox / "link.json").is_symlink()
    assert (settings.folders.inbox / "~$plan.json").exists()


def test_files_given_on_the_command_line_are_processed(
    services: Services, settings: Settings, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    path = elsewhere / "plan.json"
    path.write_text(json.dumps(example("support_plan")))
    before = path.read_bytes(), path.stat().st_mode
    (outcome,) = process_inbox(services, [path])
    assert outcome.status == "produced"
    assert (path.read_bytes(), path.stat().st_mode) == before  # copied in, left untouched


def test_a_file_left_claimed_by_a_crashed_worker_is_finished_once(
    services: Services, settings: Settings
) -> None:
    dead = settings.folders.work / f"{HOST}-999-abc"  # killed on this machine: lock released
    dead.mkdir(parents=True)
    (dead / ".lock").touch()
    claimed = dead / "20261123T090000000000-deadbeef--plan.json"
    claimed.write_text(json.dumps(example("support_plan")))
    (outcome,) = process_inbox(services)
    assert outcome.status == "produced"
    assert not dead.exists()
    (submission,) = services.store.submissions()
    assert submission.claim_id == "20261123T090000000000-deadbeef"
    assert process_inbox(services) == []


def test_a_live_workers_claims_are_not_taken(services: Services, settings: Settings) -> None:
    with ClaimArea(settings.folders.work, worker_id="live-worker") as live:
        path = settings.folders.inbox / "plan.json"
        path.write_text(json.dumps(example("support_plan")))
        assert live.claim(path) is not None
        assert process_inbox(services) == []
        assert len(list(live.folder.glob("*--plan.json"))) == 1


class FailingStore:
    """A store that fails to record documents the first ``failures`` times (a crash stand-in)."""

    def __init__(self, inner: Any, failures: int = 1) -> None:
        self.inner, self.failures = inner, failures

    def record_document(self, document: DocumentRecord) -> int:
        if self.failures:
            self.failures -= 1
            raise StoreError("The records store could not save: disk I/O error.")
        return int(self.inner.record_document(document))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_store_failure_after_publishing_holds_the_file_and_a_retry_duplicates_nothing(
    services: Services, settings: Settings, drop: Drop
) -> None:
    from dataclasses import replace

    drop(example("support_plan"), "plan.json")
    failing = replace(services, store=FailingStore(services.store))
    (first,) = process_inbox(failing)
    assert first.status == "held" and "disk I/O error" in first.message
    assert len(list(settings.folders.work.rglob("*--plan.json"))) == 1  # kept, claimed
    assert services.store.submissions() == []  # the failed transaction left nothing
    (second,) = process_inbox(services)
    assert second.status == "produced", second.message
    assert len(outbox_files(settings)) == 1
    assert [d.version for d in services.store.documents()] == [1]
    assert list(settings.folders.work.rglob("*--plan.json")) == []


def test_an_outbox_that_cannot_be_written_holds_the_file(
    tmp_path: Path, clock: FixedClock
) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the outbox folder should be")
    settings = make_settings(tmp_path, folders={"outbox": str(blocked)})
    (settings.folders.inbox / "plan.json").write_text(json.dumps(example("support_plan")))
    with open_services(settings, clock) as services:
        (outcome,) = process_inbox(services)
        assert outcome.status == "held"
        assert "could not be written to the outbox" in outcome.message
        assert services.store.submissions() == []
    assert len(list(settings.folders.work.rglob("*--plan.json"))) == 1
    assert not settings.folders.rejected.exists()


def test_logs_name_the_case_but_never_the_person(
    services: Services, drop: Drop, caplog: pytest.LogCaptureFixture
) -> None:
    drop(example("needs_assessment"), "a.json")
    bad = example("exit_letter")
    bad["data"]["effects_of_leaving"] = " "
    drop(bad, "b.json")
    with caplog.at_level(logging.DEBUG, logger="recordgen"):
        process_inbox(services)
    text = caplog.text
    assert "THS-2026-0142" in text
    for private in ("Siân", "O'Brien", "Carys", "Marsh", "arrears"):
        assert private not in text


def test_an_exit_letter_records_its_deadline_and_a_late_one_is_still_produced(
    services: Services, settings: Settings, drop: Drop
) -> None:
    on_time = example("exit_letter")  # received Monday 16 November 2026, produced 23 November
    late = example("exit_letter")
    late["case_ref"] = "THS-2026-0150"
    late["data"]["request_received_on"] = "2026-11-02"  # due Wednesday 11 November 2026
    drop(on_time, "a.json")
    drop(late, "b.json")
    assert [o.status for o in process_inbox(services)] == ["produced", "produced"]
    first, second = services.store.documents()
    assert (first.due_on, first.met, first.working_days_late) == (
        dt.date(2026, 11, 25), True, 0)
    # 12, 13, 16, 17, 18, 19, 20 and 23 November: eight working days late
    assert (second.due_on, second.met, second.working_days_late) == (
        dt.date(2026, 11, 11), False, 8)
    letter = text_of(settings.folders.outbox / second.file_name)
    assert "2 November 2026" in letter


def test_support_ended_by_the_provider_needs_no_request_and_starts_no_clock(
    services: Services, settings: Settings, drop: Drop
) -> None:
    letter = example("exit_letter")
    letter["data"].update(ended_by="provider", provider_reason="structured review",
                          still_vulnerable=False)
    del letter["data"]["request_received_on"], letter["data"]["request_made_by"]
    drop(letter, "ended.json")
    asked = example("exit_letter")
    asked["case_ref"] = "THS-2026-0151"
    del asked["data"]["request_received_on"]
    drop(asked, "asked.json")
    no_date, ended = process_inbox(services)  # asked.json sorts first
    assert ended.status == "produced"
    (document,) = services.store.documents()
    assert (document.due_on, document.met) == (None, None)
    assert no_date.status == "rejected"
    assert [p.path for p in no_date.problems] == ["$.data.request_received_on"]


def test_a_worker_folder_still_being_made_is_never_adopted(
    services: Services, settings: Settings
) -> None:
    starting = settings.folders.work / ".new-otherhost-1-abc"
    starting.mkdir(parents=True)
    (starting / "20261123T090000000000-cafe0001--plan.json").write_text("{}")
    assert process_inbox(services) == []
    assert len(list(starting.iterdir())) == 1


def test_a_rejection_recorded_just_before_a_crash_is_finished_by_moving_the_file(
    services: Services, settings: Settings
) -> None:
    from recordgen.records.store import SubmissionRecord

    dead = settings.folders.work / f"{HOST}-999-abc"
    dead.mkdir(parents=True)
    claimed = dead / "20261123T090000000000-deadbeef--bad.json"
    claimed.write_bytes(b"{")
    services.store.record_submission(SubmissionRecord(
        claim_id="20261123T090000000000-deadbeef", file_name="bad.json", sha256="0" * 64,
        received_at=services.clock.now(), outcome="rejected", raw=b"{",
        reasons=("$: The file is not valid JSON.",)))
    (outcome,) = process_inbox(services)
    assert outcome.status == "rejected"
    assert (settings.folders.rejected / "bad.json").read_bytes() == b"{"
    assert "not valid JSON" in (settings.folders.rejected / "bad.json.errors.txt").read_text()
    assert len(services.store.submissions()) == 1


def test_a_half_written_temporary_file_from_a_crash_is_cleared_when_the_file_is_written(
    services: Services, settings: Settings, drop: Drop
) -> None:
    folder = settings.folders.outbox / "THS-2026-0142"
    folder.mkdir(parents=True)
    leftover = folder / ".2026-09-14_THS-2026-0142_support-plan_v1.docx.0badc0de.tmp"
    leftover.write_bytes(b"PK\x03\x04 half a document")
    drop(example("support_plan"))
    (outcome,) = process_inbox(services)
    assert outcome.status == "produced"
    assert not leftover.exists()


def test_two_versions_of_one_document_in_one_batch_become_versions_1_and_2(
    services: Services, settings: Settings, drop: Drop
) -> None:
    plan = example("support_plan")
    drop(plan, "a-plan.json")
    plan["data"]["hours_per_week"] = 2
    drop(plan, "b-plan-amended.json")
    drop(plan, "c-plan-amended-again.json")  # the same file as b, dropped twice
    outcomes = process_inbox(services)
    assert [o.status for o in outcomes] == ["produced", "produced", "duplicate"]
    assert [d.version for d in services.store.documents()] == [1, 2]


@pytest.mark.real_clock  # compares with real file modification times
def test_a_worker_on_another_machine_is_adopted_only_once_its_heartbeat_is_stale(
    services: Services, settings: Settings
) -> None:
    import os
    import time

    other = settings.folders.work / "fileserver2-4242-beef"  # flock may not reach across machines
    other.mkdir(parents=True)
    (other / ".lock").touch()
    (other / "20261123T090000000000-0000beef--plan.json").write_text(
        json.dumps(example("support_plan")))
    assert process_inbox(services) == []  # touched lately: that worker may be alive
    old = time.time() - STALE_AFTER_SECONDS - 60
    os.utime(other / ".lock", (old, old))
    (outcome,) = process_inbox(services)
    assert outcome.status == "produced"


# --- version numbers reserved before a document is made ------------------------------------------------


def test_a_retry_after_a_crash_records_its_own_version_though_another_was_made_meanwhile(
    services: Services, settings: Settings, drop: Drop
) -> None:
    """The held file published version 2; a later file made version 3 before the retry: the retry
    records version 2 (the file already issued), not a 4th, and nothing issued is unrecorded."""
    from dataclasses import replace

    from recordgen.records.verify import verify_records

    plan = example("support_plan")
    drop(plan, "v1.json")
    process_inbox(services)
    plan["data"]["hours_per_week"] = 2
    held_worker = ClaimArea(settings.folders.work, clock=services.clock)  # alive throughout
    claimed = held_worker.claim(drop(plan, "v2.json"))
    assert claimed is not None
    (held,) = process_batch([claimed], replace(services, store=FailingStore(services.store)))
    assert held.status == "held"
    assert len(list(settings.folders.outbox.rglob("*_v2.docx"))) == 1  # issued, not recorded
    plan["data"]["hours_per_week"] = 1
    drop(plan, "v3.json")
    assert [o.status for o in process_inbox(services)] == ["produced"]  # another worker
    (retried,) = process_batch([claimed], services)
    held_worker.close()
    assert retried.status == "produced"
    assert [d.version for d in services.store.documents()] == [1, 3, 2]
    assert verify_records(services.store, settings.folders.outbox) == []


def test_a_second_file_in_a_batch_saying_the_same_as_the_first_is_unchanged(
    services: Services, drop: Drop
) -> None:
    plan = example("support_plan")
    drop(plan, "a-plan.json")
    plan["data"]["hours_per_week"] = 2
    drop(plan, "b-plan.json")
    drop(json.dumps(plan, indent=4), "c-plan-saved-again.json")  # the same data, other bytes
    outcomes = process_inbox(services)
    assert [o.status for o in outcomes] == ["produced", "produced", "unchanged"]
    assert "Version 2 already says exactly this" in outcomes[2].message
    assert [d.version for d in services.store.documents()] == [1, 2]


def test_a_file_rejected_for_its_template_gives_its_version_number_back(
    tmp_path: Path, clock: FixedClock
) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(REPO / "templates", templates)
    good = (templates / "support_plan.docx").read_bytes()
    (templates / "support_plan.docx").write_bytes(b"this is not a word document")
    settings = make_settings(tmp_path, folders={"templates": str(templates)})
    (settings.folders.inbox / "plan.json").write_text(json.dumps(example("support_plan")))
    with open_services(settings, clock) as services:
        assert [o.status for o in process_inbox(services)] == ["rejected"]
        (templates / "support_plan.docx").write_bytes(good)
        (settings.folders.inbox / "plan.json").write_text(json.dumps(example("support_plan")))
        assert [o.status for o in process_inbox(services)] == ["produced"]
        assert [d.version for d in services.store.documents()] == [1]
    assert len(list(settings.folders.outbox.rglob("*_v1.docx"))) == 1
