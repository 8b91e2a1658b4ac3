"""``recordgen store copy --to postgresql://...``: move the whole record into a PostgreSQL store.

Everything is copied as it is, ids included: the case files received, the documents and their
version numbers (reservations too), the statutory clocks, the seals noted in the store, and the
audit trail entry by entry, so every hash and every seal in the outbox's seal file still matches
and ``recordgen verify`` passes on the copy. The copy then adds one audit entry saying where it
came from.

Rows are copied in batches, each committed, table by table. An interrupted copy is simply run
again: it checks that what the target already holds is this store's own (the same rows under the
same ids), and goes on after it. A target that holds another record is refused, never mixed in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from recordgen.errors import StoreError
from recordgen.records.postgres import PostgresStore
from recordgen.records.store import SqlStore

# In the order their references need: submissions before the documents made from them, documents
# before the clocks they start and stop; the audit trail last, then the seals that name it.
COPIED_TABLES = ("submissions", "documents", "clocks", "versions", "audit", "seals")
_IDENTITY_TABLES = ("submissions", "documents", "clocks", "versions", "seals")
BATCH = 500
COPIED = "store copied"


@dataclass(frozen=True)
class Copied:
    """How many rows of each table the target holds after the copy, and how many this run added."""

    held: dict[str, int]
    added: dict[str, int]
    already_complete: bool


def copy_store(source: SqlStore, target: PostgresStore,
               progress: Callable[[str, int], None] | None = None) -> Copied:
    """Copy every row of ``source`` into ``target`` (see the module's docstring)."""
    held, added = {}, {}
    finished = _last_entry_is_the_copy(target)
    for table in COPIED_TABLES:
        if finished:
            held[table], added[table] = _count(target, table), 0
            continue
        start = _check_overlap(source, target, table)
        count = 0
        while True:
            rows = source.rows_after(table, start, BATCH)
            if not rows:
                break
            with target.transaction():
                for row in rows:
                    target.insert_copied(table, row)
            count += len(rows)
            start = int(rows[-1]["id"])
            if progress is not None:
                progress(table, count)
        added[table] = count
        held[table] = _count(target, table)
    if not finished:
        with target.transaction():
            target.after_copy(_IDENTITY_TABLES)
            target.audit(COPIED, None, {
                "from": source.describe(),
                "rows": {t: held[t] for t in COPIED_TABLES if t != "audit"},
                "entries": held["audit"],
                "what": "Every row and audit entry above this one was copied, as it stood, from "
                        "the store named here; from here on the record is kept in this database.",
            })
        held["audit"] += 1
    return Copied(held, added, finished)


def _last_entry_is_the_copy(target: PostgresStore) -> bool:
    entries = target.audit_entries()
    return bool(entries) and entries[-1].action == COPIED


def _count(store: SqlStore, table: str) -> int:
    return len(store.rows_after(table, 0, None))


def _check_overlap(source: SqlStore, target: PostgresStore, table: str) -> int:
    """The id after which to go on copying ``table``; the row the target already holds last must
    be the source's row of that id, exactly (and so, batch by batch, everything before it)."""
    last = target.last_row(table)
    if last is None:
        return 0
    ours = source.rows_after(table, int(last["id"]) - 1, 1)
    if not ours or not _same_row(ours[0], last):
        raise StoreError(
            f"The database {target.describe()} already holds a records store that is not a copy "
            f"of {source.describe()} ({table} row {last['id']} differs). Nothing was copied. "
            "Copy into a new, empty database.")
    return int(last["id"])


def _same_row(left: Mapping[str, Any], right: Mapping[str, Any]) -> bool:
    return dict(left) == dict(right)
