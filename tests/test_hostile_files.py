"""Bad files and faults through the whole pipeline (issue 7 §3, §4): each gets a clear outcome, the
input is never lost, and processing goes on with the next file."""

from __future__ import annotations

import errno
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docx
import pytest

from recordgen.clock import FixedClock
from recordgen.documents.render import build_context, render_document
from recordgen.errors import TemplateError
from recordgen.pipeline import Services
from recordgen.pipeline.inbox import process_inbox
from recordgen.services import open_services
from recordgen.settings import Settings

from conftest import REPO, TODAY, example, make_settings

GOOD = json.dumps(example("support_plan")).encode()


def utf16() -> bytes:
    return json.dumps(example("support_plan"), ensure_ascii=False).encode("utf-16")


def cp1252_pound() -> bytes:
    plan = example("support_plan")
    return json.dumps(plan, ensure_ascii=False).replace("Siân", "Sian").encode("cp1252")


BAD_FILES: dict[str, tuple[bytes, str]] = {
    "duplicate keys": (b'{"kind": "support_plan", "kind": "exit_letter"}', 'field "kind" appears '
                       "twice"),
    "NaN": (GOOD.replace(b'"hours_per_week": 2.5', b'"hours_per_week": NaN'), "NaN"),
    "deep nesting": (b"[" * 100_000 + b"]" * 100_000, "nested more than"),
    "UTF-16": (utf16(), "UTF-16"),
    "cp1252 with a pound sign": (cp1252_pound(), "Windows-1252"),
    "empty": (b"", "The file is empty"),
    "a JSON array": (b"[1, 2, 3]", "holds a JSON list, not a case file"),
    "not JSON at all": (b"Dear Sir, please find attached", "not valid JSON"),
    # Python refuses to read a number of over 4,300 digits; 1e999 would be read as infinity.
    "a number of 5,000 digits": (GOOD.replace(b'"hours_per_week": 2.5',
                                              b'"hours_per_week": ' + b"1" * 5000),
                                 "a number 5,000 digits long"),
    "1e999": (GOOD.replace(b'"hours_per_week": 2.5', b'"hours_per_week": 1e999'),
              "1e999, which is too large"),
}


@pytest.fixture
def services(settings: Settings, clock: FixedClock) -> Iterator[Services]:
    with open_services(settings, clock) as opened:
        yield opened


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_a_bad_file_is_rejected_with_a_clear_note_and_kept_byte_for_byte(
    name: str, services: Services, settings: Settings
) -> None:
    content, words = BAD_FILES[name]
    (settings.folders.inbox / "bad.json").write_bytes(content)
    (settings.folders.inbox / "good.json").write_bytes(GOOD)
    outcomes = {o.file_name: o for o in process_inbox(services)}
    assert outcomes["bad.json"].status == "rejected"
    assert outcomes["good.json"].status == "produced"  # the next file is processed as usual
    assert (settings.folders.rejected / "bad.json").read_bytes() == content
    note = (settings.folders.rejected / "bad.json.errors.txt").read_text(encoding="utf-8")
    assert words in note
    assert "drop it into the inbox again" in note


@pytest.mark.parametrize(
    ("dropped", "known_as"),
    # A claim adds 32 characters ("20261123T090000000000-0a1b2c3d--"): 223 bytes are left.
    [("p" * 240 + ".json", "p" * (223 - len("\u2026.json".encode())) + "\u2026.json"),
     (os.fsdecode(b"caf\xe9 plan.json"), "caf\ufffd plan.json"),
     ("plan\nfor Si\u202ean.json", "plan_for Si_an.json")],
    ids=["240 characters", "not UTF-8", "line break and direction override"])
@pytest.mark.parametrize("good", [True, False], ids=["good", "bad"])
def test_a_name_too_long_or_unshowable_is_taken_under_one_that_can_be_shown(
    dropped: str, known_as: str, good: bool, services: Services, settings: Settings
) -> None:
    # Taking a file adds 34 characters to its name: a 240-character name (Windows allows 255)
    # stopped every run with "File name too long"; a name that is not UTF-8 could not be recorded;
    # a line break broke the summary over lines. Each is now taken, worked on and rejected under
    # a name that can be shown, and nothing else about it changes.
    content = GOOD if good else b'{"kind": "support_plan"'
    (settings.folders.inbox / dropped).write_bytes(content)
    (settings.folders.inbox / "zz next.json").write_text(json.dumps(example("exit_letter")))
    outcomes = {o.file_name: o for o in process_inbox(services)}
    assert set(outcomes) == {known_as, "zz next.json"}
    assert outcomes["zz next.json"].status == "produced"  # the files after it go on
    assert outcomes[known_as].status == ("produced" if good else "rejected")
    assert {s.file_name for s in services.store.submissions()} == {known_as, "zz next.json"}
    assert list(settings.folders.inbox.glob("*.json")) == []
    if not good:
        assert (settings.folders.rejected / known_as).read_bytes() == content
        assert (settings.folders.rejected / f"{known_as}.errors.txt").is_file()


def test_a_50_megabyte_file_is_refused_without_being_read_and_kept(
    services: Services, settings: Settings
) -> None:
    big = settings.folders.inbox / "export.json"
    with big.open("wb") as handle:
        handle.write(b'{"kind": "support_plan", "padding": "')
        handle.seek(50 * 1024 * 1024)
        handle.write(b'"}')
    size = big.stat().st_size
    (outcome,) = process_inbox(services)
    assert outcome.status == "rejected"
    kept = settings.folders.rejected / "export.json"
    assert kept.stat().st_size == size
    note = (settings.folders.rejected / "export.json.errors.txt").read_text()
    assert "50.0 MB" in note and "larger than" in note
    (submission,) = services.store.submissions()
    assert submission.raw == b"" and len(submission.sha256) == 64  # only the hash is stored
    from recordgen.documents.publish import sha256_of_file

    assert submission.sha256 == sha256_of_file(kept)  # the hash of the file itself


def test_a_link_to_a_file_outside_the_inbox_is_never_followed(
    services: Services, settings: Settings, tmp_path: Path
) -> None:
    secret = tmp_path / "elsewhere" / "someone-else.json"
    secret.parent.mkdir()
    secret.write_bytes(GOOD)
    link = settings.folders.inbox / "link.json"
    link.symlink_to(secret)
    assert process_inbox(services) == []
    assert link.is_symlink() and secret.read_bytes() == GOOD
    assert services.store.submissions() == []


def test_a_file_that_vanishes_before_it_is_claimed_is_skipped_quietly(
    services: Services, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = settings.folders.inbox / "gone.json"
    path.write_bytes(GOOD)
    from recordgen.pipeline import inbox

    real = inbox.inbox_files

    def listed_then_removed(folder: Path) -> list[Path]:
        files = real(folder)
        path.unlink()  # a colleague moved it away between the listing and the claim
        return files

    monkeypatch.setattr(inbox, "inbox_files", listed_then_removed)
    assert process_inbox(services) == []
    assert services.store.submissions() == []


def test_a_full_disk_holds_the_file_for_a_retry(
    services: Services, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    (settings.folders.inbox / "plan.json").write_bytes(GOOD)
    from recordgen.documents import publish

    real_fdopen = os.fdopen
    outbox = str(settings.folders.outbox)

    class FullDisk:
        def __init__(self, handle: Any) -> None:
            self.handle = handle

        def __enter__(self) -> FullDisk:
            return self

        def __exit__(self, *exc: object) -> None:
            self.handle.close()

        def write(self, data: bytes) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    def fdopen(descriptor: int, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = real_fdopen(descriptor, mode, *args, **kwargs)
        writing_to_outbox = "w" in mode and os.readlink(f"/proc/self/fd/{descriptor}").startswith(
            outbox)
        return FullDisk(handle) if writing_to_outbox else handle

    monkeypatch.setattr(publish.os, "fdopen", fdopen)
    (outcome,) = process_inbox(services)
    assert outcome.status == "held"
    assert "No space left on device" in outcome.message
    assert len(list(settings.folders.work.rglob("*--plan.json"))) == 1
    assert not any(p.is_file() for p in settings.folders.outbox.rglob("*"))  # nothing half-written
    monkeypatch.undo()
    (retry,) = process_inbox(services)
    assert retry.status == "produced"


def test_a_read_only_outbox_holds_the_file_and_says_where(tmp_path: Path, clock: FixedClock) -> None:
    outbox = tmp_path / "outbox"
    outbox.write_text("not a folder")  # as root, permissions cannot stop us; a file can
    settings = make_settings(tmp_path, folders={"outbox": str(outbox)})
    (settings.folders.inbox / "plan.json").write_bytes(GOOD)
    with open_services(settings, clock) as services:
        (outcome,) = process_inbox(services)
    assert outcome.status == "held" and "outbox" in outcome.message
    assert len(list(settings.folders.work.rglob("*--plan.json"))) == 1


def _template_with(tmp_path: Path, text: str) -> Path:
    document = docx.Document(str(REPO / "templates" / "exit_letter.docx"))
    document.add_paragraph(text)
    path = tmp_path / "exit_letter.docx"
    document.save(str(path))
    return path


@pytest.mark.parametrize("attack", [
    "{{ cycler.__init__.__globals__ }}",
    "{{ cycler.__init__.__globals__.os.system('touch /tmp/recordgen-pwned') }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ joiner.__init__.__globals__['os'].popen('id').read() }}",
    "{{ lipsum.__globals__['os'].system('id') }}",
    "{% set x = data.__class__ %}{{ x }}",
])
def test_a_template_that_reaches_for_python_internals_fails_and_starts_no_process(
    attack: str, tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_process(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"a template started a process: {args}")

    monkeypatch.setattr(subprocess, "Popen", no_process)
    monkeypatch.setattr(os, "system", no_process)
    monkeypatch.setattr(os, "popen", no_process)
    from recordgen.documents.validate import SchemaSet, validate_case_file

    case = validate_case_file(example("exit_letter"), SchemaSet(REPO / "schemas"), settings, TODAY)
    with pytest.raises(TemplateError, match=r"may not do|could not be filled in"):
        render_document(_template_with(tmp_path, attack),
                        build_context(case, settings, version=1, document_date=TODAY))
    assert not Path("/tmp/recordgen-pwned").exists()
