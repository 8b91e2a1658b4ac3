"""The rejected folder: a file that cannot be used is moved here, unchanged, with a note beside it
(``NAME.errors.txt``) that tells a non-technical reader what is wrong, where, and how to fix it."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Sequence
from pathlib import Path

from recordgen.claim import Claimed
from recordgen.errors import Problem
from recordgen.publish import FOLDER_MODE

FILE_MODE = 0o640  # issued documents are read-only; a rejected file and its note are not


def friendly_path(path: str) -> str:
    """'$.data.objectives[1].measure' -> 'data → objectives → item 2 → measure'."""
    if not path.startswith("$"):
        return path
    parts = []
    for name, index in re.findall(r"\.([^.\[]+)|\[(\d+)\]", path):
        parts.append(name if name else f"item {int(index) + 1}")
    return " → ".join(parts) if parts else "the whole file"


def errors_text(file_name: str, problems: Sequence[Problem], received: dt.datetime) -> str:
    count = len(problems)
    lines = [
        f'recordgen could not use the file "{file_name}", received on '
        f"{received.day} {received:%B %Y at %H:%M}.",
        "Nothing was produced from it. The file is kept here, unchanged, beside this note.",
        "",
        f"What needs fixing ({count} {'problem' if count == 1 else 'problems'}):",
        "",
    ]
    for number, problem in enumerate(problems, start=1):
        where = friendly_path(problem.path)
        lines.append(f"{number}. Where: {where}" + (f"   ({problem.path})" if where != problem.path
                                                    else ""))
        lines.append(f"   What is wrong: {problem.message}")
        lines.append(f"   How to fix it: {problem.fix}")
        lines.append("")
    lines.append("When you have fixed the file, drop it into the inbox again.")
    return "\n".join(lines) + "\n"


def reject_file(
    claimed: Claimed, problems: Sequence[Problem], rejected: Path, received: dt.datetime
) -> Path:
    """Move the claimed file into the rejected folder (never replacing a file already there) and
    write its note. Returns the file's new path."""
    rejected.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
    target = _free_name(rejected, claimed.original_name)
    note = target.with_name(target.name + ".errors.txt")
    descriptor = os.open(note, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(errors_text(claimed.original_name, problems, received))
    os.rename(claimed.path, target)
    os.chmod(target, FILE_MODE)
    return target


def _free_name(folder: Path, name: str) -> Path:
    candidate = folder / name
    stem, suffix = os.path.splitext(name)
    number = 2
    while candidate.exists() or candidate.with_name(candidate.name + ".errors.txt").exists():
        candidate = folder / f"{stem} ({number}){suffix}"
        number += 1
    return candidate
