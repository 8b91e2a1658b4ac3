"""No link is followed, and no permission is changed on anything recordgen did not make.

Each test plants what an insider with write access to the shared folders could plant (a link in a
dead worker's claim folder, a hard link in the inbox, a case folder in the outbox that links to
another case's folder, a link where a document or a note belongs) and checks what the records
manager would check: the file the link points to was not read into the store, not moved, not
changed, its permissions are what they were, and the message says what was found.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from recordgen.clock import FixedClock
from recordgen.documents.publish import publish
from recordgen.intake.claim import HOST, ClaimArea
from recordgen.pipeline import FileStatus, Services
from recordgen.pipeline.inbox import process_inbox
from recordgen.services import open_services
from recordgen.settings import Settings

from conftest import example

GOOD = json.dumps(example("support_plan")).encode()
BAD = b'{"kind": "support_plan", "case_ref": "THS-2026-0142"}'  # a case file missing its data


@pytest.fixture
def services(settings: Settings, clock: FixedClock) -> Iterator[Services]:
    with open_services(settings, clock) as opened:
        yield opened


def secret_file(tmp_path: Path, content: bytes = GOOD, mode: int = 0o600) -> Path:
    """A file outside every recordgen folder, readable by its owner only."""
    path = tmp_path / "elsewhere" / "someone-else.json"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(content)
    path.chmod(mode)
    return path


def dead_worker_folder(settings: Settings) -> Path:
    """The claim folder of a worker on this machine that died: its lock is released."""
    folder = settings.folders.work / f"{HOST}-999-dead"
    folder.mkdir(parents=True)
    (folder / ".lock").touch()
    return folder


# --- claim folders of dead workers ---------------------------------------------------------------


@pytest.mark.parametrize("content", [GOOD, BAD], ids=["good", "bad"])
def test_a_link_in_a_dead_workers_claim_folder_is_not_adopted_followed_or_read(
    content: bytes, services: Services, settings: Settings, tmp_path: Path
) -> None:
    secret = secret_file(tmp_path, content)
    folder = dead_worker_folder(settings)
    link = folder / "20261123T090000000000-deadbeef--plan.json"
    link.symlink_to(secret)
    real = folder / "20261123T090000000000-cafef00d--real.json"
    real.write_bytes(GOOD)
    outcomes = process_inbox(services)
    by_status = {o.status: o for o in outcomes}
    assert set(by_status) == {"produced", FileStatus.NOT_TAKEN}  # the real claim is finished
    refusal = by_status[FileStatus.NOT_TAKEN]
    assert refusal.file_name == link.name
    assert "It is a link" in refusal.message and "did not follow it, read it or move it" in \
        refusal.message
    assert str(folder) in refusal.message
    # The file it points to was not read into the store, moved or changed in any way.
    assert [s.claim_id for s in services.store.submissions()] == ["20261123T090000000000-cafef00d"]
    assert secret.read_bytes() == content and stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert link.is_symlink()  # left where it was, for the administrator to look at
    assert not any(p.is_symlink() for p in settings.folders.rejected.rglob("*")) \
        if settings.folders.rejected.exists() else True
    # Each run says so again while it is there, and still does not touch it.
    assert [o.status for o in process_inbox(services)] == [FileStatus.NOT_TAKEN]
    assert secret.read_bytes() == content and len(services.store.submissions()) == 1


def test_a_watcher_reports_a_planted_link_once_not_at_every_rescan(
    settings: Settings, tmp_path: Path
) -> None:
    folder = dead_worker_folder(settings)
    (folder / "20261123T090000000000-deadbeef--plan.json").symlink_to(secret_file(tmp_path))
    with ClaimArea(settings.folders.work) as area:
        assert area.pending() == []
        assert [r.name for r in area.take_refusals()] == [
            "20261123T090000000000-deadbeef--plan.json"]
        assert area.pending() == []
        assert area.take_refusals() == []


def test_a_hard_link_in_a_dead_workers_claim_folder_is_copied_and_the_original_left_alone(
    services: Services, settings: Settings, tmp_path: Path
) -> None:
    original = secret_file(tmp_path, BAD, mode=0o600)
    folder = dead_worker_folder(settings)
    os.link(original, folder / "20261123T090000000000-deadbeef--plan.json")
    (outcome,) = process_inbox(services)
    assert outcome.status == "rejected"
    kept = settings.folders.rejected / "plan.json"
    assert kept.read_bytes() == BAD
    assert kept.stat().st_ino != original.stat().st_ino  # a copy, not the original
    assert stat.S_IMODE(original.stat().st_mode) == 0o600  # not widened
    assert original.read_bytes() == BAD and original.stat().st_nlink == 1
    assert not folder.exists()  # adopted whole, so the dead worker's folder is gone


def test_a_dead_workers_folder_that_is_a_link_is_never_adopted(
    services: Services, settings: Settings, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere-folder"
    elsewhere.mkdir()
    (elsewhere / ".lock").touch()
    planted = elsewhere / "20261123T090000000000-deadbeef--plan.json"
    planted.write_bytes(GOOD)
    settings.folders.work.mkdir(parents=True)
    (settings.folders.work / f"{HOST}-999-dead").symlink_to(elsewhere)
    assert process_inbox(services) == []
    assert planted.read_bytes() == GOOD
    assert services.store.submissions() == []


def test_the_work_area_is_recordgens_alone(services: Services, settings: Settings) -> None:
    process_inbox(services)
    assert stat.S_IMODE(settings.folders.work.stat().st_mode) == 0o700


# --- files in the inbox --------------------------------------------------------------------------


@pytest.mark.parametrize(("content", "status"), [(GOOD, "produced"), (BAD, "rejected")])
def test_a_hard_linked_inbox_file_is_copied_and_the_other_name_keeps_its_permissions(
    content: bytes, status: str, services: Services, settings: Settings, tmp_path: Path
) -> None:
    original = secret_file(tmp_path, content, mode=0o600)
    os.link(original, settings.folders.inbox / "plan.json")
    (outcome,) = process_inbox(services)
    assert outcome.status == status
    assert stat.S_IMODE(original.stat().st_mode) == 0o600
    assert original.read_bytes() == content
    if status == "rejected":
        kept = settings.folders.rejected / "plan.json"
        assert kept.read_bytes() == content and kept.stat().st_ino != original.stat().st_ino
    assert not (settings.folders.inbox / "plan.json").exists()


def test_a_rejected_file_keeps_the_permissions_it_was_dropped_with(
    services: Services, settings: Settings
) -> None:
    for name, mode in (("private.json", 0o600), ("shared.json", 0o644)):
        path = settings.folders.inbox / name
        path.write_bytes(BAD)
        path.chmod(mode)
    process_inbox(services)
    assert stat.S_IMODE((settings.folders.rejected / "private.json").stat().st_mode) == 0o600
    assert stat.S_IMODE((settings.folders.rejected / "shared.json").stat().st_mode) == 0o644
    # The rejected folder itself is the service's and its group's only.
    assert stat.S_IMODE(settings.folders.rejected.stat().st_mode) & 0o007 == 0


# --- the rejected folder -------------------------------------------------------------------------


def test_a_link_planted_where_a_note_belongs_is_not_written_through(
    services: Services, settings: Settings, tmp_path: Path
) -> None:
    target = secret_file(tmp_path, b"do not overwrite me")
    settings.folders.rejected.mkdir()
    (settings.folders.rejected / "case.json.errors.txt").symlink_to(target)
    (settings.folders.rejected / "other.json").symlink_to(tmp_path / "nowhere")  # dangling
    (settings.folders.inbox / "case.json").write_bytes(BAD)
    (settings.folders.inbox / "other.json").write_bytes(BAD)
    assert [o.status for o in process_inbox(services)] == ["rejected", "rejected"]
    assert target.read_bytes() == b"do not overwrite me"
    assert not (tmp_path / "nowhere").exists()  # the dangling link was not written through
    assert (settings.folders.rejected / "case (2).json").read_bytes() == BAD
    assert "could not use" in (settings.folders.rejected / "case (2).json.errors.txt").read_text()
    assert (settings.folders.rejected / "other (2).json").read_bytes() == BAD


# --- the outbox ----------------------------------------------------------------------------------


def test_a_case_folder_that_links_to_another_cases_folder_receives_nothing(
    services: Services, settings: Settings
) -> None:
    other = settings.folders.outbox / "THS-2026-0097"
    other.mkdir(parents=True)
    (settings.folders.outbox / "THS-2026-0142").symlink_to(other)
    (settings.folders.inbox / "plan.json").write_bytes(GOOD)
    (outcome,) = process_inbox(services)
    assert outcome.status == "held"
    assert "THS-2026-0142 in the outbox" in outcome.message
    assert "is a link" in outcome.message and "never writes through a link" in outcome.message
    assert "cannot be used as a folder name" not in outcome.message
    assert list(other.iterdir()) == []  # the other person's folder received nothing
    assert services.store.documents() == []
    # Once the administrator removes the link, the held file is finished.
    (settings.folders.outbox / "THS-2026-0142").unlink()
    (retry,) = process_inbox(services)
    assert retry.status == "produced"
    assert (settings.folders.outbox / "THS-2026-0142").is_dir()
    assert not (settings.folders.outbox / "THS-2026-0142").is_symlink()


def test_a_case_folder_that_links_out_of_the_outbox_receives_nothing(
    services: Services, settings: Settings, tmp_path: Path
) -> None:
    outside = tmp_path / "public-share"
    outside.mkdir()
    settings.folders.outbox.mkdir()
    (settings.folders.outbox / "THS-2026-0142").symlink_to(outside)
    (settings.folders.inbox / "plan.json").write_bytes(GOOD)
    (outcome,) = process_inbox(services)
    assert outcome.status == "held" and "is a link" in outcome.message
    assert list(outside.iterdir()) == []


def test_a_dangling_link_planted_where_a_document_belongs_is_named_as_a_link(
    services: Services, settings: Settings, tmp_path: Path
) -> None:
    folder = settings.folders.outbox / "THS-2026-0142"
    folder.mkdir(parents=True)
    name = "2026-09-14_THS-2026-0142_support-plan_v1.docx"
    (folder / name).symlink_to(tmp_path / "where-it-would-land.docx")
    (settings.folders.inbox / "plan.json").write_bytes(GOOD)
    (outcome,) = process_inbox(services)
    assert outcome.status == "held"
    assert f"THS-2026-0142/{name} in the outbox is a link that recordgen did not make" in \
        outcome.message
    assert "appeared in the outbox while it was written" not in outcome.message
    assert not (tmp_path / "where-it-would-land.docx").exists()


def test_a_file_where_a_case_folder_belongs_is_named(
    services: Services, settings: Settings
) -> None:
    settings.folders.outbox.mkdir()
    (settings.folders.outbox / "THS-2026-0142").write_text("a stray file")
    (settings.folders.inbox / "plan.json").write_bytes(GOOD)
    (outcome,) = process_inbox(services)
    assert outcome.status == "held"
    assert "There is a file called THS-2026-0142 in the outbox" in outcome.message


def test_a_retry_republishes_the_same_read_only_document_without_complaint(
    settings: Settings,
) -> None:
    first = publish(settings.folders.outbox, "THS-1", "letter.docx", b"issued")
    assert stat.S_IMODE(first.path.stat().st_mode) == 0o440
    again = publish(settings.folders.outbox, "THS-1", "letter.docx", b"issued")
    assert again == first
    assert first.path.read_bytes() == b"issued"


def test_a_file_swapped_for_a_link_as_it_is_taken_is_dropped_not_followed(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from recordgen.intake import claim

    secret = secret_file(tmp_path)
    link = settings.folders.inbox / "plan.json"
    link.symlink_to(secret)
    # The look before the rename saw a plain file; by the rename, it is a link.
    monkeypatch.setattr(claim, "is_inbox_file", lambda path: True)
    with ClaimArea(settings.folders.work) as area:
        assert area.claim(link) is None
        assert list(area.folder.iterdir()) == [area.folder / ".lock"]
    assert secret.read_bytes() == GOOD and stat.S_IMODE(secret.stat().st_mode) == 0o600
