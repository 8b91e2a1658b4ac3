"""No link is followed, and no permission is changed on anything recordgen did not make.

Each test plants what an insider with write access to the shared folders could plant (a link in a
dead worker's claim folder, a hard link in the inbox, a case folder in the outbox that links to
another case's folder, a link where a document or a note belongs) and checks what the records
manager would check: the file the link points to was not read into the store, not moved, not
changed, its permissions are what they were, and the message says what was found.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from recordgen.clock import FixedClock
from recordgen.inbox import open_services, process_inbox
from recordgen.pipeline import Services
from recordgen.publish import publish
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

