"""What the audit trail's hash chain covers, and how each entry is hashed.

Every entry carries the hash of the one before it, so altering, removing or inserting an entry
breaks every later hash. Every stored fact that decides what a person or a commissioner is told is
in the chain: each time recordgen writes a row of ``submissions``, ``documents`` or ``clocks``, the
entry it appends carries that row's *facts* (:func:`row_facts`), every column as it now stands.
``recordgen verify`` replays the chain and compares each row with the facts last written for it.

Two columns are carried as a SHA-256 rather than as themselves, to keep the trail small: the stored
case file (``raw``) and the reasons a file was rejected (``reasons``). Both are still covered: a
change to either changes its hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

GENESIS_HASH = "0" * 64

# The tables whose rows the chain covers (their ``id`` is the row's name, not a fact).
COVERED_TABLES = ("submissions", "documents", "clocks")
# Columns carried as a hash: name in the table -> name in the facts.
_HASHED = {"raw": "raw_sha256", "reasons": "reasons_sha256"}


def audit_hash(prev_hash: str, at: str, action: str, case_ref: str | None, detail: str) -> str:
    """Each entry's hash covers the one before it, so altering any entry breaks every later one."""
    payload = json.dumps([prev_hash, at, action, case_ref, detail], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def row_facts(row: Mapping[str, Any]) -> dict[str, Any]:
    """Every column of a stored row, as stored (numbers stay numbers, text stays text), except its
    id; the stored case file and the rejection reasons as their SHA-256. JSON can hold every value
    this returns, so the facts can go into an audit entry as they are."""
    facts: dict[str, Any] = {}
    for column, value in row.items():
        if column == "id":
            continue
        if column in _HASHED:
            facts[_HASHED[column]] = value_sha256(value)
        elif isinstance(value, bytes):
            facts[column] = f"bytes with SHA-256 {hashlib.sha256(value).hexdigest()}"
        else:
            facts[column] = value
    return facts


def value_sha256(value: object) -> str:
    """The SHA-256 of a stored value: bytes as they are, text as UTF-8, nothing as no bytes."""
    if value is None:
        data = b""
    elif isinstance(value, bytes):
        data = value
    else:
        data = str(value).encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()


def reasons_text(reasons: list[str] | tuple[str, ...]) -> str:
    """The ``reasons`` column as recordgen writes it (a JSON list)."""
    return json.dumps(list(reasons), ensure_ascii=False)
