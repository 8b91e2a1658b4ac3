"""Shared fixtures: settings pointing at temporary folders, the bundled examples, a fixed clock."""

from __future__ import annotations

import copy
import datetime as dt
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from recordgen.clock import UK, FixedClock
from recordgen.settings import Settings, load_settings, settings_from_mapping

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
TODAY = dt.date(2026, 11, 23)

# Helpers shared by test modules (docx_text, ...) live beside this file.
sys.path.insert(0, str(Path(__file__).resolve().parent))


def example(kind: str) -> dict[str, Any]:
    """A fresh, mutable copy of the bundled example case file of ``kind``."""
    (path,) = EXAMPLES.glob(f"*_{kind}.json")
    return copy.deepcopy(json.loads(path.read_text(encoding="utf-8")))


def make_settings(tmp_path: Path, **sections: dict[str, Any]) -> Settings:
    """The repository's settings, with every folder moved under ``tmp_path``."""
    raw = {
        "folders": {
            "inbox": str(tmp_path / "inbox"),
            "outbox": str(tmp_path / "outbox"),
            "rejected": str(tmp_path / "rejected"),
            "store": str(tmp_path / "var" / "store.sqlite3"),
            "templates": str(REPO / "templates"),
            "schemas": str(REPO / "schemas"),
        },
        "output": {"pdf": False},
    }
    base = load_settings(REPO / "recordgen.toml")
    provider = {k: list(v) if isinstance(v, tuple) else v
                for k, v in vars(base.provider).items()}
    raw["provider"] = provider
    for name, values in sections.items():
        raw[name] = {**raw.get(name, {}), **values}
    (tmp_path / "inbox").mkdir(exist_ok=True)
    return settings_from_mapping(raw, base_dir=tmp_path)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(dt.datetime(2026, 11, 23, 10, 0, tzinfo=UK))


@pytest.fixture
def drop(settings: Settings) -> Iterator[Any]:
    """Write a case file (dict, str or bytes) into the inbox; returns its path."""

    def _drop(content: dict[str, Any] | str | bytes, name: str = "case.json") -> Path:
        path = settings.folders.inbox / name
        if isinstance(content, dict):
            content = json.dumps(content, ensure_ascii=False, indent=2)
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        return path

    yield _drop
