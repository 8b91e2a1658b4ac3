"""Every time that reaches a document, a record or a deadline comes from the injected clock.

The suite runs on any day (CI also runs it with the system date moved), which holds only if no
module but the clock module asks the system for the date or the time of day. This test reads the
source of every module and fails on any such call, so a new one cannot slip in.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "recordgen"
CLOCK_MODULES = {"clock.py"}
# Calls that read the date or the time of day. time.monotonic and time.perf_counter measure
# durations, not times of day, and stay allowed.
FORBIDDEN_ATTRIBUTES = {"now", "today", "utcnow", "time", "time_ns", "localtime", "gmtime",
                        "ctime", "asctime", "strftime", "fromtimestamp", "utcfromtimestamp"}
TIME_MODULE_NAMES = {"time", "datetime", "date", "dt", "_dt", "_time"}


def _receiver(node: ast.expr) -> str:
    """The dotted name a method is called on: "dt.datetime" for dt.datetime.now()."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_receiver(node.value)}.{node.attr}"
    return ""


def system_time_reads(source: str) -> list[tuple[int, str]]:
    found = []
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in ("time", "datetime"):
            for alias in node.names:
                if alias.name in FORBIDDEN_ATTRIBUTES:
                    found.append((node.lineno, f"from {node.module} import {alias.name}"))
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        receiver = _receiver(node.func.value)
        parts = set(receiver.split("."))
        if node.func.attr in FORBIDDEN_ATTRIBUTES and parts & TIME_MODULE_NAMES:
            if node.func.attr == "strftime" or (node.func.attr == "time" and receiver != "time"):
                continue  # a method on a value (moment.strftime, moment.time()), not a clock read
            found.append((node.lineno, f"{receiver}.{node.func.attr}()"))
    return found


def test_no_module_but_the_clock_reads_the_system_time() -> None:
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        if path.name in CLOCK_MODULES:
            continue
        for line, call in system_time_reads(path.read_text(encoding="utf-8")):
            offenders.append(f"{path.relative_to(SRC)}:{line}: {call}")
    assert offenders == [], (
        "These read the system date or time outside the clock module; take the time from the "
        "Clock passed in instead:\n" + "\n".join(offenders))


def test_the_check_recognises_every_way_of_reading_the_time() -> None:
    source = "\n".join([
        "import datetime as dt, time",
        "from datetime import date, datetime",
        "a = dt.datetime.now(dt.UTC)",
        "b = dt.date.today()",
        "c = time.time()",
        "d = datetime.now()",
        "e = date.today()",
        "f = dt.datetime.utcnow()",
        "g = dt.datetime.fromtimestamp(0)",
        "h = time.localtime()",
        "ok1 = time.monotonic()",
        "ok2 = moment.strftime('%H')",
        "ok3 = clock.now()",
        "ok4 = moment.time()",
    ])
    found = [call for _, call in system_time_reads(source)]
    assert found == ["dt.datetime.now()", "dt.date.today()", "time.time()", "datetime.now()",
                     "date.today()", "dt.datetime.utcnow()", "dt.datetime.fromtimestamp()",
                     "time.localtime()"]
    assert system_time_reads("from time import time") == [(1, "from time import time")]
