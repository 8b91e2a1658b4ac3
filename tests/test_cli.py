"""Every command through click's CliRunner, as an admin or operator would run it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from recordgen.cli import EXIT_PROBLEMS, EXIT_SETTINGS, cli
from recordgen.cli.exit_codes import EXIT_INBOX_MISSING

from conftest import REPO, example


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A settings file of the shape the README documents, with relative folders."""
    path = tmp_path / "recordgen.toml"
    path.write_text(
        f'[folders]\ntemplates = "{REPO / "templates"}"\nschemas = "{REPO / "schemas"}"\n'
        '[output]\npdf = false\n',
        encoding="utf-8",
    )
    (tmp_path / "inbox").mkdir()
    return path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_process_produces_documents_and_prints_a_summary(config: Path) -> None:
    for example_file in (REPO / "examples").glob("*.json"):
        if "subject_access_request" not in example_file.name:  # a bundle needs PDF output
            shutil.copy(example_file, config.parent / "inbox")
    code, output = run("--config", str(config), "process")
    assert code == 0, output
    # Seven documents; money secured, a request for a paper copy and support ended issue nothing.
    assert "7 produced, 3 recorded" in output
    assert "recorded (THS-2026-0142, money secured)" in output
    assert str(config.parent / "outbox") in output
    assert len(list((config.parent / "outbox" / "THS-2026-0142").glob("*.docx"))) == 5
    # relative folders are taken from the settings file's folder
    assert (config.parent / "var" / "recordgen.sqlite3").exists()


def test_process_with_an_empty_inbox_says_so(config: Path) -> None:
    code, output = run("--config", str(config), "process")
    assert code == 0
    assert "No case files waiting" in output


def test_process_exits_1_and_points_to_the_rejected_folder(config: Path) -> None:
    (config.parent / "inbox" / "bad.json").write_text("{", encoding="utf-8")
    code, output = run("--config", str(config), "process")
    assert code == EXIT_PROBLEMS
    assert "rejected" in output and str(config.parent / "rejected") in output
    assert (config.parent / "rejected" / "bad.json.errors.txt").exists()


def test_process_given_paths_processes_only_those(config: Path, tmp_path: Path) -> None:
    (config.parent / "inbox" / "waiting.json").write_text(json.dumps(example("support_plan")))
    given = tmp_path / "given.json"
    given.write_text(json.dumps(example("exit_letter")))
    code, output = run("--config", str(config), "process", str(given))
    assert code == 0, output
    assert "1 produced" in output
    assert (config.parent / "inbox" / "waiting.json").exists()


def test_a_missing_inbox_is_explained(config: Path) -> None:
    (config.parent / "inbox").rmdir()
    code, output = run("--config", str(config), "process")
    assert code == EXIT_INBOX_MISSING
    assert "inbox folder" in output and "does not exist" in output


def test_a_missing_settings_file_is_explained(tmp_path: Path) -> None:
    code, output = run("--config", str(tmp_path / "nowhere.toml"), "process")
    assert code == EXIT_SETTINGS
    assert "does not exist" in output and "--config" in output


def test_a_bad_setting_is_named(tmp_path: Path) -> None:
    path = tmp_path / "recordgen.toml"
    path.write_text('[service]\nnation = "wales"\n')
    code, output = run("--config", str(path), "process")
    assert code == EXIT_SETTINGS
    assert "nation" in output and "england-and-wales" in output


def test_validate_reports_ok_and_every_problem_without_moving_anything(
    config: Path, tmp_path: Path
) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(example("support_plan")))
    plan = example("support_plan")
    plan["case_ref"] = "../x"
    plan["data"]["objectives"][0]["outcome"] = "Be Happy"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(plan))
    code, output = run("--config", str(config), "validate", str(good), str(bad))
    assert code == EXIT_PROBLEMS
    assert f"{good}: OK (Support plan, case THS-2026-0142)" in output
    assert f"{bad}: 2 problem(s)" in output
    assert "$.case_ref" in output and "objectives → item 1 → outcome" in output
    assert bad.exists() and good.exists()
    assert not (config.parent / "outbox").exists()


def test_validate_all_good_exits_0(config: Path) -> None:
    files = [str(p) for p in sorted((REPO / "examples").glob("*.json"))]
    code, output = run("--config", str(config), "validate", *files)
    assert code == 0
    assert output.count(": OK (") == len(files) == 11


def test_templates_check_passes_for_the_bundled_templates(config: Path) -> None:
    code, output = run("--config", str(config), "templates", "check")
    assert code == 0, output
    assert "All templates parse" in output


def _edited_template(tmp_path: Path, old: str, new: str) -> Path:
    """A copy of the templates folder with one piece of text in the support plan changed."""
    import docx

    folder = tmp_path / "templates"
    shutil.copytree(REPO / "templates", folder)
    path = folder / "support_plan.docx"
    document = docx.Document(str(path))
    for paragraph in document.paragraphs:
        for run_ in paragraph.runs:
            if old in run_.text:
                run_.text = run_.text.replace(old, new)
                document.save(str(path))
                return folder
    raise AssertionError(f"{old!r} not found in the support plan template")


def test_templates_check_names_an_unknown_field(tmp_path: Path) -> None:
    folder = _edited_template(tmp_path, "data.plan_date", "data.plan_dait")
    config = tmp_path / "recordgen.toml"
    config.write_text(f'[folders]\ntemplates = "{folder}"\nschemas = "{REPO / "schemas"}"\n')
    code, output = run("--config", str(config), "templates", "check")
    assert code == EXIT_PROBLEMS
    assert "support_plan.docx" in output and "data.plan_dait" in output


def test_templates_check_shows_a_tag_that_cannot_be_parsed(tmp_path: Path) -> None:
    folder = _edited_template(tmp_path, "{{ data.plan_date", "{{ data.plan_date }")
    config = tmp_path / "recordgen.toml"
    config.write_text(f'[folders]\ntemplates = "{folder}"\nschemas = "{REPO / "schemas"}"\n')
    code, output = run("--config", str(config), "templates", "check")
    assert code == EXIT_PROBLEMS
    assert "support_plan.docx" in output and "cannot be read" in output
    assert "plan_date" in output  # the offending text is shown


def test_python_dash_m_recordgen_runs(config: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "recordgen", "--version"], capture_output=True, text=True,
        check=False,
    )
    assert result.returncode == 0
    assert "recordgen" in result.stdout


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")

    def commands(group: object, prefix: str = "") -> list[str]:
        import click

        assert isinstance(group, click.Group)
        names = []
        context = click.Context(group)
        for name in group.list_commands(context):  # each loaded when asked for, as --help does
            command = group.get_command(context, name)
            if isinstance(command, click.Group):
                names.extend(commands(command, f"{prefix}{name} "))
            else:
                names.append(f"{prefix}{name}")
        return names

    found = commands(cli)
    assert {"process", "report monthly", "store init", "deadline exit-letter"} <= set(found)
    for name in found:
        assert f"recordgen {name}" in readme or f"`{name.split()[-1]}" in readme, name


def test_templates_check_looks_at_the_document_properties_too(tmp_path: Path) -> None:
    import docx

    folder = tmp_path / "templates"
    shutil.copytree(REPO / "templates", folder)
    path = folder / "exit_letter.docx"
    document = docx.Document(str(path))
    document.core_properties.comments = "Draft {{ for the new letterhead"
    document.save(str(path))
    config = tmp_path / "recordgen.toml"
    config.write_text(f'[folders]\ntemplates = "{folder}"\nschemas = "{REPO / "schemas"}"\n')
    code, output = run("--config", str(config), "templates", "check")
    assert code == EXIT_PROBLEMS
    assert "exit_letter.docx" in output and "cannot be read" in output
