"""`recordgen verify` looks at everything in the outbox, not only the files it recorded.

Each test makes one change a person with write access to the outbox could make (a reviewer found
every one of them passed as "The record is intact"): an issued document made writable, a hidden or
``.tmp`` file added, a link (dangling, or to a folder), an empty folder, a named pipe. Only what
recordgen itself writes there is passed over: the seal file, each case's folder and the returns'
folder, and a temporary file of its own that is the issued document itself under a second name
(what a crash between placing a document and tidying up leaves).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from recordgen.cli import EXIT_PROBLEMS, cli
from recordgen.clock import UK, FixedClock
from recordgen.documents import publish as publish_module
from recordgen.records.verify import HOW_TO_CHANGE_A_DOCUMENT, Finding, verify_advice

from conftest import REPO, example

CLOCK = FixedClock(dt.datetime(2026, 11, 23, 10, 0, tzinfo=UK))
CASE = "THS-2026-0142"
INTACT = "The record is intact"


@pytest.fixture(scope="module")
def processed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One normal run over the four examples (PDFs off), made once and copied for each test."""
    folder = tmp_path_factory.mktemp("processed")
    path = folder / "recordgen.toml"
    path.write_text(f'[folders]\ntemplates = "{REPO / "templates"}"\nschemas = "{REPO / "schemas"}"'
                    '\n[output]\npdf = false\n')
    inbox = folder / "inbox"
    inbox.mkdir()
    for kind in ("needs_assessment", "support_plan", "exit_letter", "serious_incident"):
        (inbox / f"{kind}.json").write_text(json.dumps(example(kind)))
    result = CliRunner().invoke(cli, ["--config", str(path), "process"], obj=CLOCK)
    assert result.exit_code == 0, result.output
    return folder


@pytest.fixture
def config(processed: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "run"
    shutil.copytree(processed, copy, symlinks=True)  # modes kept: the documents stay 0440
    return copy / "recordgen.toml"


def run(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args], obj=CLOCK)
    return result.exit_code, " ".join(result.output.split())


def case_folder(config: Path) -> Path:
    return config.parent / "outbox" / CASE


def issued(config: Path, pattern: str) -> Path:
    (path,) = case_folder(config).glob(pattern)
    return path


def test_a_normal_run_verifies_clean_with_its_seal_file_and_read_only_documents(
    config: Path,
) -> None:
    outbox = config.parent / "outbox"
    assert (outbox / ".recordgen-seals").is_file()
    documents = [p for p in outbox.rglob("*") if p.is_file() and p.name != ".recordgen-seals"]
    assert documents and all(stat.S_IMODE(p.stat().st_mode) == 0o440 for p in documents)
    code, output = run(config, "verify")
    assert code == 0, output
    assert INTACT in output


# --- permissions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("pattern", "mode", "said"), [
    ("*support-plan_v1.docx", 0o640, "so the account that owns it can change it"),
    ("*exit-confirmation-letter_v1.docx", 0o666,
     "so the account that owns it, its group and every account on the server can change it, and "
     "every account on the server can read it"),
    ("*needs-and-risk-assessment_v1.docx", 0o444, "so every account on the server can read it"),
    ("*support-plan_v1.docx", 0o550, "so it can be run as a program"),
], ids=["owner-writable-0640", "world-writable-0666", "world-readable-0444", "executable-0550"])
def test_an_issued_document_whose_permissions_were_widened_is_named(
    config: Path, pattern: str, mode: int, said: str,
) -> None:
    document = issued(config, pattern)
    document.chmod(mode)
    code, output = run(config, "verify")
    assert code == EXIT_PROBLEMS, output
    assert INTACT not in output
    assert (f"outbox/{CASE}/{document.name}: has wider permissions than recordgen issued it "
            f"with: they are {mode:04o}, where recordgen issues every document read-only (0440), "
            f"{said}") in output
    assert "was altered" not in output  # what it says still matches the store
    assert "make it read-only again (permissions 0440" in output


@pytest.mark.parametrize("mode", [0o400, 0o040, 0o000], ids=["0400", "0040", "0000"])
def test_an_issued_document_made_stricter_still_is_not_reported(config: Path, mode: int) -> None:
    issued(config, "*support-plan_v1.docx").chmod(mode)  # read by root in the tests
    code, output = run(config, "verify")
    assert code == 0, output


# --- files added ---------------------------------------------------------------------------------


def test_a_hidden_file_added_to_a_case_folder_is_named(config: Path) -> None:
    (case_folder(config) / ".notes.docx").write_text("hi")
    code, output = run(config, "verify")
    assert code == EXIT_PROBLEMS, output
    assert (f"outbox/{CASE}/.notes.docx: was added: the store has no record of it (its name "
            "starts with a dot, so some computers hide it)") in output
    assert "Something was added to the outbox by hand." in output
    assert "Move anything added by hand (a file, a folder, a link) out of the outbox." in output
    assert "put back any issued file" not in output.lower()  # nothing issued was touched


def test_a_tmp_file_added_to_a_case_folder_is_named(config: Path) -> None:
    (case_folder(config) / "secret-notes.tmp").write_text("hi")
    code, output = run(config, "verify")
    assert code == EXIT_PROBLEMS, output
    assert f"outbox/{CASE}/secret-notes.tmp: was added: the store has no record of it" in output


@pytest.mark.parametrize("name", [
    ".support-plan.docx.tmp",  # no 8-hex tag
    ".secret.docx.0123ABCD.tmp",  # upper-case hex: never what recordgen writes
], ids=["untagged", "upper-case-tag"])
def test_a_tmp_file_shaped_almost_like_recordgens_own_is_an_added_file(
    config: Path, name: str,
) -> None:
    (case_folder(config) / name).write_text("hi")
    code, output = run(config, "verify")
    assert code == EXIT_PROBLEMS, output
    assert f"outbox/{CASE}/{name}: was added: the store has no record of it" in output


def test_a_file_added_at_the_top_of_the_outbox_beside_the_seal_file_is_named(config: Path) -> None:
    (config.parent / "outbox" / ".recordgen-seals.bak").write_text("copy")
    code, output = run(config, "verify")
    assert code == EXIT_PROBLEMS, output
    assert "outbox/.recordgen-seals.bak: was added" in output
    assert "outbox/.recordgen-seals:" not in output  # the seal file itself is recordgen's


def test_a_seal_file_name_inside_a_case_folder_is_not_recordgens(config: Path) -> None:
    (case_folder(config) / ".recordgen-seals").write_text("# not here\n")
    code, output = run(config, "verify")
    assert code == EXIT_PROBLEMS, output
    assert f"outbox/{CASE}/.recordgen-seals: was added" in output


def test_a_file_manager_s_own_file_is_named_and_explained(config: Path) -> None:
    (case_folder(config) / "Thumbs.db").write_bytes(b"\0\0")
    code, output = run(config, "verify")
    assert code == EXIT_PROBLEMS, output
    assert (f"outbox/{CASE}/Thumbs.db: was added: the store has no record of it (Windows or a Mac "
            "makes a file by this name when someone browses the folder)") in output


# --- links, folders and other things that are not files ------------------------------------------


def test_a_dangling_link_is_named(config: Path) -> None:
    (case_folder(config) / "extra.pdf").symlink_to("/nonexistent")
    code, output = run(config, "verify")
    assert code == EXIT_PROBLEMS, output
    assert (f"outbox/{CASE}/extra.pdf: is a link (to '/nonexistent'), which recordgen never makes "
            "and does not follow: someone put it there by hand") in output


def test_a_link_to_a_folder_is_named_and_not_followed(config: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "f.pdf").write_text("x")
    (case_folder(config) / "linkeddir").symlink_to(elsewhere)
    code, output = run(config, "verify")
    assert code == EXIT_PROBLEMS, output
    assert f"outbox/{CASE}/linkeddir: is a link (to '{elsewhere}')" in output
    assert "f.pdf" not in output  # what it points to is not looked at


def test_a_link_in_place_of_a_whole_case_folder_is_named(config: Path, tmp_path: Path) -> None:
    real = tmp_path / "moved"
    shutil.move(case_folder(config), real)
    case_folder(config).symlink_to(real)
    code, output = run(config, "verify")
    assert code == EXIT_PROBLEMS, output
    assert f"outbox/{CASE}: is a link (to '{real}')" in output
    assert "is a link (or sits in a linked folder), not the file issued" in output


def test_a_new_empty_folder_is_named(config: Path) -> None:
    (case_folder(config) / "newfolder").mkdir()
    code, output = run(config, "verify")
    assert code == EXIT_PROBLEMS, output
    assert (f"outbox/{CASE}/newfolder: is an empty folder the store has no record of: someone "
            "made it by hand") in output


def test_an_empty_case_folder_is_named(config: Path) -> None:
    (config.parent / "outbox" / "THS-2026-9999").mkdir()
    code, output = run(config, "verify")
    assert code == EXIT_PROBLEMS, output
    assert "outbox/THS-2026-9999: is an empty folder the store has no record of" in output


def test_hidden_folders_and_what_they_hold_are_named(config: Path) -> None:
    (case_folder(config) / ".hid").mkdir()
    (case_folder(config) / ".hid" / "letter.pdf").write_text("x")
    (config.parent / "outbox" / ".THS-9").mkdir()
    (config.parent / "outbox" / ".THS-9" / "a.pdf").write_text("x")
    code, output = run(config, "verify")
    assert code == EXIT_PROBLEMS, output
    assert (f"outbox/{CASE}/.hid: is a folder that holds nothing recordgen issued: someone made "
            "it by hand") in output
    assert f"outbox/{CASE}/.hid/letter.pdf: was added" in output
    assert "outbox/.THS-9: is a folder that holds nothing recordgen issued" in output
    assert "outbox/.THS-9/a.pdf: was added" in output


def test_a_named_pipe_is_named_and_verify_does_not_wait_on_it(config: Path) -> None:
    os.mkfifo(case_folder(config) / "pipe.pdf")
    code, output = run(config, "verify")
    assert code == EXIT_PROBLEMS, output
    assert (f"outbox/{CASE}/pipe.pdf: is a named pipe (a special file that holds no document), "
            "which recordgen never makes: someone put it there by hand") in output


def test_a_named_pipe_in_place_of_an_issued_document_is_named(config: Path) -> None:
    document = issued(config, "*support-plan_v1.docx")
    document.unlink()
    os.mkfifo(document)
    code, output = run(config, "verify")
    assert code == EXIT_PROBLEMS, output
    assert (f"outbox/{CASE}/{document.name}: is a named pipe (a special file that holds no "
            "document), not the file issued") in output


def test_a_folder_in_place_of_an_issued_document_is_named(config: Path) -> None:
    document = issued(config, "*support-plan_v1.docx")
    document.unlink()
    document.mkdir()
    code, output = run(config, "verify")
    assert code == EXIT_PROBLEMS, output
    assert f"outbox/{CASE}/{document.name}: is a folder, not the file issued" in output


@pytest.mark.parametrize("make", [
    lambda path: os.mkfifo(path), lambda path: path.mkdir(),
], ids=["pipe", "folder"])
def test_something_else_in_place_of_the_seal_file_is_named_without_waiting_on_it(
    config: Path, make: Callable[[Path], None],
) -> None:
    seals = config.parent / "outbox" / ".recordgen-seals"
    seals.unlink()
    make(seals)
    code, output = run(config, "verify")
    assert code == EXIT_PROBLEMS, output
    assert "outbox/.recordgen-seals: is a" in output
    assert "not the file of seals recordgen writes" in output
    assert "information governance lead" in output


# --- recordgen's own temporary files -------------------------------------------------------------


def test_a_temporary_file_a_crash_left_as_a_second_name_of_the_document_is_passed_over(
    config: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """publish() writes ``.NAME.<8 hex>.tmp``, links it into place as NAME, then removes it; a
    crash before the removal leaves the issued document under two names. The real publish() makes
    that leftover here, so the name verify passes over is the one publish writes."""
    document = issued(config, "*support-plan_v1.docx")
    content = document.read_bytes()
    document.unlink()
    with monkeypatch.context() as patched:
        patched.setattr(publish_module.os, "unlink", lambda *args, **kwargs: None)
        publish_module.publish(config.parent / "outbox", CASE, document.name, content)
    (leftover,) = case_folder(config).glob(f".{document.name}.*.tmp")
    assert leftover.stat().st_ino == document.stat().st_ino
    code, output = run(config, "verify")
    assert code == 0, output


def test_a_temporary_file_of_recordgens_holding_anything_else_is_named_gently(
    config: Path,
) -> None:
    document = issued(config, "*support-plan_v1.docx")
    leftover = case_folder(config) / f".{document.name}.0123abcd.tmp"
    leftover.write_bytes(document.read_bytes()[:100])  # cut off before it was placed
    code, output = run(config, "verify")
    assert code == EXIT_PROBLEMS, output
    assert (f"outbox/{CASE}/{leftover.name}: is a temporary file recordgen writes while it issues "
            f"{document.name}, left behind when recordgen was stopped part-way (a crash, a "
            "restart or a power cut); it is not part of the record") in output
    assert "recordgen was stopped part-way through issuing a document" in output
    assert "correct the case file" not in output  # nobody edited a document


def test_a_copy_of_the_document_under_the_temporary_name_is_named_too(config: Path) -> None:
    """Only the issued file itself under a second name is passed over: a separate copy, even of
    the same bytes, could have been given other permissions or read elsewhere."""
    document = issued(config, "*support-plan_v1.docx")
    copy = case_folder(config) / f".{document.name}.0123abcd.tmp"
    shutil.copyfile(document, copy)
    code, output = run(config, "verify")
    assert code == EXIT_PROBLEMS, output
    assert f"outbox/{CASE}/{copy.name}: is a temporary file recordgen writes" in output


def test_a_file_where_a_case_folder_should_be_is_named_as_such(config: Path, tmp_path: Path) -> None:
    shutil.move(case_folder(config), tmp_path / "moved")
    case_folder(config).write_text("a stray file")
    code, output = run(config, "verify")
    assert code == EXIT_PROBLEMS, output
    assert f"support-plan_v1.docx: is missing: a file stands where its folder, {CASE}, should be" \
        in output
    assert f"outbox/{CASE}: was added: the store has no record of it" in output


def test_the_advice_fits_what_was_found() -> None:
    permissions = verify_advice([Finding("outbox/A/x.docx", "...", "file", "permissions")])
    assert len(permissions) == 1 and "make it read-only again" in permissions[0]
    assert "correct the case file" not in permissions[0]
    leftover = verify_advice([Finding("outbox/A/.x.docx.0123abcd.tmp", "...", "file",
                                      "leftover")])
    assert len(leftover) == 1 and "stopped part-way" in leftover[0]
    changed = verify_advice([Finding("outbox/A/x.docx", "was altered", "file", "changed")])
    assert changed == ["A document in the outbox was changed or removed by hand. "
                       + HOW_TO_CHANGE_A_DOCUMENT + " Put back any issued file changed or removed "
                       "(from the backup: its SHA-256 is shown by 'recordgen history')."]
    both = verify_advice([Finding("outbox/A/x.docx", "was altered", "file", "changed"),
                          Finding("outbox/A/y.docx", "was added", "file", "added")])
    assert len(both) == 1 and both[0].startswith("A document in the outbox was changed, removed "
                                                 "or added by hand.")
    assert both[0].endswith("'recordgen history') and move anything added by hand (a file, a "
                            "folder, a link) out of the outbox.")
    unsorted = verify_advice([Finding("outbox/A/x.docx", "cannot be read", "file")])
    assert len(unsorted) == 1 and "changed, removed or added" in unsorted[0]
    record = verify_advice([Finding("audit entry 3", "was altered")])
    assert len(record) == 1 and "information governance lead" in record[0]
