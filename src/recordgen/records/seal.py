"""Seals: the audit chain's head, written outside the store after every run.

Someone with access to the database alone could rewrite a row and re-chain the whole audit trail
after it, and the chain would check out. The seal file is the witness outside the store: one line
per run, appended to ``.recordgen-seals`` in the outbox, each naming the chain's last entry, how many
entries there were and that entry's hash. ``recordgen verify`` checks the store against every line.
Each seal is also noted in the store, so a seal file cut short or removed is noticed too.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from pathlib import Path

from recordgen import permissions
from recordgen.clock import UK
from recordgen.dates import uk_date_time
from recordgen.errors import PublishError
from recordgen.records.store import Seal, Store, lock_within

SEAL_FILE = ".recordgen-seals"
SEAL_MODE = permissions.GROUP_READABLE  # appended to after every run, so not read-only as documents are
LOCK_WAIT_SECONDS = 30.0
_HEADER = (
    "# recordgen seals: the head of the records store's audit trail after each run, one line per "
    "run.\n# Do not edit, move or delete this file: 'recordgen verify' checks the store against "
    "it.\n"
)


def current_seal(store: Store) -> Seal | None:
    """The audit chain's head as it stands now (None while the trail is empty)."""
    return store.chain_head()


def when_sealed(iso: str) -> str:
    """A stored moment (UTC) as staff read it: "10:00 on Monday 23 November 2026", UK time."""
    try:
        moment = dt.datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return uk_date_time(moment.astimezone(UK) if moment.tzinfo else moment)


def describe(seal: Seal) -> str:
    return (f"made at {when_sealed(seal.sealed_at)}: audit entry {seal.entry}, {seal.entries} "
            f"entries in all, SHA-256 {seal.hash}")


def seal_line(seal: Seal) -> str:
    return json.dumps({"sealed_at": seal.sealed_at, "entry": seal.entry,
                       "entries": seal.entries, "hash": seal.hash}, sort_keys=True) + "\n"


def write_seal(store: Store, outbox: Path) -> Seal | None:
    """Append the chain's head to the seal file, unless the last line already says it; note it in
    the store. The file is locked while the head is read and the line written, so lines from
    processes sealing together follow the chain's order; each line goes in one append."""
    path = outbox / SEAL_FILE
    if store.chain_head() is None:
        return None  # nothing recorded yet: nothing to seal
    try:
        outbox.mkdir(parents=True, exist_ok=True, mode=permissions.OUTBOX_FOLDER)
        descriptor = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW
                             | os.O_CLOEXEC, SEAL_MODE)
    except OSError as exc:
        raise PublishError(f"The seal file {path} could not be opened ({exc.strerror or exc}). "
                           "Check that the outbox exists and is writable.") from exc
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise PublishError(f"{path} is not a plain file, so no seal was written. Ask the "
                               "system administrator to check the outbox.")
        _lock(descriptor, path)
        seal = store.chain_head()  # read again under the lock: the chain only grows
        if seal is None:
            return None
        size = os.fstat(descriptor).st_size
        last = _last_line(descriptor, size)
        if last is not None and _same_head(last, seal):
            return seal
        # A line cut off by a power cut or a full disk stays a line of its own (verify names it).
        cut_off = size > 0 and os.pread(descriptor, 1, size - 1) != b"\n"
        text = (_HEADER if size == 0 else "\n" if cut_off else "") + seal_line(seal)
        os.write(descriptor, text.encode("utf-8"))
        os.fsync(descriptor)
    except OSError as exc:
        raise PublishError(f"The seal file {path} could not be written ({exc.strerror or exc}). "
                           "Check that the outbox is writable and has free space.") from exc
    finally:
        os.close(descriptor)
    store.record_seal(seal)
    return seal


def _lock(descriptor: int, path: Path) -> None:
    """Wait for other processes sealing at the same moment. The outbox may be on a network share
    whose locks do not work: then the line is written unlocked (one append, still whole)."""
    try:
        taken = lock_within(descriptor, LOCK_WAIT_SECONDS)
    except OSError:
        return  # locks are not supported here
    if not taken:
        raise PublishError(f"The seal file {path} stayed locked by another recordgen process for "
                           f"{LOCK_WAIT_SECONDS:.0f} seconds, so no seal was written this time.")


def read_seals(outbox: Path) -> tuple[list[Seal], list[str]]:
    """The seals in the seal file, and a sentence for each line that cannot be read."""
    path = outbox / SEAL_FILE
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return [], []
    except OSError as exc:
        return [], [f"cannot be read ({exc.strerror or exc}); it may be a link or not a file"]
    with os.fdopen(descriptor, "rb") as handle:
        data = handle.read()
    seals, problems = [], []
    for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        seal = _parse(line)
        if seal is None:
            problems.append(f"line {number} is not a seal recordgen wrote")
        else:
            seals.append(seal)
    return seals, problems


def _parse(line: str) -> Seal | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    at, entry, entries, digest = (value.get(k) for k in ("sealed_at", "entry", "entries", "hash"))
    if not (isinstance(at, str) and isinstance(entry, int) and isinstance(entries, int)
            and isinstance(digest, str)):
        return None
    return Seal(at, entry, entries, digest)


def _last_line(descriptor: int, size: int) -> str | None:
    if size == 0:
        return None
    tail = os.pread(descriptor, min(size, 4096), max(0, size - 4096))
    lines = tail.decode("utf-8", "replace").strip().splitlines()
    return lines[-1] if lines else None


def _same_head(line: str, seal: Seal) -> bool:
    last = _parse(line)
    return last is not None and (last.entry, last.entries, last.hash) == (
        seal.entry, seal.entries, seal.hash)
