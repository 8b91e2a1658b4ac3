"""A child process for the concurrency tests: it gets ready, says so, then waits on START ("W,R":
W the read end of a pipe every child shares, R the write end of one the test reads "ready" from)
until the test closes W's write end: every child wakes at the same moment and does one thing.

    python tests/concurrent_runner.py START cli ARGS...        run ``recordgen ARGS...``
    python tests/concurrent_runner.py START open CONFIG
        open the services every command opens (the store first), then close them
    python tests/concurrent_runner.py START versions STORE NAME COUNT CASES
        reserve, publish (a made-up file) and record COUNT versions across CASES cases of one
        store, as a producer called NAME; a few are retried as after a crash, a few given back as
        if rejected before publishing. Prints what it recorded as JSON.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sys
from pathlib import Path


def wait_for(start: str) -> None:
    """Say "ready" on the second pipe, then block until the test closes its end of the first
    (then read returns nothing)."""
    wait, ready = (int(n) for n in start.split(","))
    os.write(ready, b"r")
    os.close(ready)
    while os.read(wait, 1):
        pass
    os.close(wait)


def versions(store_path: Path, name: str, count: int, cases: int) -> None:
    from recordgen.clock import SystemClock
    from recordgen.records.store import DocumentRecord, SqliteStore, VersionRequest

    recorded, released = [], []
    with SqliteStore(store_path, clock=SystemClock()) as store:
        for number in range(count):
            case_ref, holder = f"RACE-{number % cases:02d}", f"{name}-{number}"
            content = hashlib.sha256(holder.encode()).hexdigest()
            request = VersionRequest(case_ref, "support_plan", holder, "t" * 64, content)
            reservation = store.reserve_version(request)
            if reservation.status != "reserved":
                raise SystemExit(f"{holder}: {reservation.status}")
            if number % 11 == 5:  # rejected before anything was published
                store.release_version(holder)
                released.append(holder)
                continue
            if number % 7 == 3:  # killed after publishing: the retry must get the same number
                again = store.reserve_version(request)
                if again.version != reservation.version:
                    raise SystemExit(f"{holder}: retried as {again.version}, "
                                     f"first {reservation.version}")
            file_name = f"{case_ref}/support-plan_v{reservation.version}.docx"
            store.record_document(DocumentRecord(
                case_ref=case_ref, kind="support_plan", series="support_plan",
                version=reservation.version, document_date=dt.date(2026, 11, 23),
                file_name=file_name, sha256=content, content_sha256=content,
                template_sha256="t" * 64, context_sha256=content, software_version="test",
                produced_at=SystemClock().now()))
            recorded.append([case_ref, reservation.version, content])
    print(json.dumps({"recorded": recorded, "released": released}))


def main() -> None:
    start, mode, *rest = sys.argv[1:]
    if mode == "cli":
        from recordgen.cli import cli

        wait_for(start)
        cli(rest, prog_name="recordgen")
    elif mode == "open":
        from recordgen.clock import SystemClock
        from recordgen.services import open_services
        from recordgen.settings import load_settings

        settings = load_settings(Path(rest[0]))
        wait_for(start)
        with open_services(settings, SystemClock()):
            pass
    elif mode == "versions":
        import recordgen.records.store  # noqa: F401 (imported before the start, as the cli is)

        store, name, count, cases = rest
        wait_for(start)
        versions(Path(store), name, int(count), int(cases))
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
