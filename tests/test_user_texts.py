"""Every text a user reads names what they have: a policy by its name and section, or the rule
itself; never a file, a folder or an issue number that does not ship with recordgen."""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from recordgen.cli import cli

from conftest import REPO

# What readers of recordgen do not have: the policy files' numbered copies, the design notes and
# the issue tracker of its developers.
NOT_SHIPPED = re.compile(
    r"\bseeds?\b|\.\./shared|shared/seeds|(?<!docs/)DESIGN\.md|STYLE\.md|\bissue \d|\bissues? #?\d",
    re.IGNORECASE)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield prefix
    context = click.Context(group)
    # Commands are loaded when asked for (cli/main.py): ask for each, as `--help` does.
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        assert command is not None, name
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))
        else:
            yield (*prefix, name)


def test_the_help_of_every_command_cites_only_what_users_have() -> None:
    commands = list(_commands(cli))
    assert len(commands) > 8  # every command is walked, the deadline group's included
    for command in commands:
        result = CliRunner().invoke(cli, [*command, "--help"])
        assert result.exit_code == 0, result.output
        assert not NOT_SHIPPED.search(result.output), (command, NOT_SHIPPED.search(result.output))


@pytest.mark.parametrize("name", ["README.md", "recordgen.toml"])
def test_the_readme_and_the_settings_file_cite_only_what_users_have(name: str) -> None:
    text = (REPO / name).read_text(encoding="utf-8")
    assert [m.group() for m in NOT_SHIPPED.finditer(text)] == []


@pytest.mark.parametrize("schema", sorted((REPO / "schemas").glob("*.json")), ids=lambda p: p.name)
def test_the_schemas_texts_cite_only_what_users_have(schema: Path) -> None:
    # Descriptions, fixes (shown in rejection notes) and third-party reasons (shown in the
    # redaction log) are all read by someone.
    found = [s for s in _strings(json.loads(schema.read_text(encoding="utf-8")))
             if NOT_SHIPPED.search(s)]
    assert found == []


@pytest.mark.parametrize("template", sorted((REPO / "templates").glob("*.docx")),
                         ids=lambda p: p.name)
def test_the_templates_cite_only_what_users_have(template: Path) -> None:
    with zipfile.ZipFile(template) as archive:
        text = " ".join(archive.read(n).decode("utf-8") for n in archive.namelist()
                        if n.endswith(".xml"))
    plain = re.sub(r"<[^>]+>", "", text)
    assert [m.group() for m in NOT_SHIPPED.finditer(plain)] == []


def test_the_check_finds_what_it_looks_for() -> None:
    for cited in ("seed 000", "(seed 001 §5.3)", "see ../shared/DESIGN", "DESIGN.md §3", "issue 5 §1"):
        assert NOT_SHIPPED.search(cited), cited
    for fine in ("Support planning policy §5.3", "Service standard", "UK GDPR Art. 12(3)",
                 "Floating support specification §5.4.1", "docs/design.md §3"):
        assert not NOT_SHIPPED.search(fine), fine
