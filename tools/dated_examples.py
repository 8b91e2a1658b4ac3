"""The bundled example case files, moved in time so that they tell the same story on any day.

The examples in ``examples/`` are fixed (the tests rely on them), and are written as if today were
23 November 2026: a request to leave received a week ago, a visit promised for later this week, an
incident four days ago. ``scripts/demo`` runs them through recordgen on the day it is run, so it
first moves every date in them (ISO dates and times, and dates written out in words in the text) by
the days between 23 November 2026 and today. Whatever the day, nothing the demo produces is late and
no letter promises a visit on a date already past.

    python tools/dated_examples.py OUT_FOLDER [--today YYYY-MM-DD]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from recordgen.clock import SystemClock
from recordgen.dates import uk_date

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
# The day the examples were written for: every date in them is placed relative to it.
WRITTEN_FOR = dt.date(2026, 11, 23)

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$")
_WORDS_DATE = re.compile(r"\b(\d{1,2}) (" + "|".join(_MONTHS) + r") (\d{4})\b")


def moved(value: Any, days: dt.timedelta) -> Any:
    """``value`` (a case file or any part of it) with every date in it moved by ``days``."""
    if isinstance(value, dict):
        return {key: moved(item, days) for key, item in value.items()}
    if isinstance(value, list):
        return [moved(item, days) for item in value]
    if not isinstance(value, str):
        return value
    if _ISO_DATE.match(value):
        return (dt.date.fromisoformat(value) + days).isoformat()
    if _ISO_MOMENT.match(value):
        moment = dt.datetime.fromisoformat(value) + days
        return moment.isoformat(timespec="seconds" if value.count(":") == 2 else "minutes")
    return _WORDS_DATE.sub(lambda m: uk_date(
        dt.date(int(m.group(3)), _MONTHS.index(m.group(2)) + 1, int(m.group(1))) + days), value)


def write_dated_examples(out: Path, today: dt.date) -> list[Path]:
    """Each example case file, moved to ``today``, written into ``out``; returns the paths."""
    days = today - WRITTEN_FOR
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for source in sorted(EXAMPLES.glob("*.json")):
        case = moved(json.loads(source.read_text(encoding="utf-8")), days)
        # The file name starts with the example's date: move that too, so names still sort.
        name = re.sub(r"^\d{4}-\d{2}-\d{2}", lambda m: moved(m.group(), days), source.name)
        target = out / name
        target.write_text(json.dumps(case, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        written.append(target)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the folder to write the case files into")
    parser.add_argument("--today", type=dt.date.fromisoformat, default=None,
                        help="the day to move them to (default: today)")
    args = parser.parse_args()
    today = args.today or SystemClock().now().date()
    for path in write_dated_examples(args.out, today):
        print(f"{path.name}")


if __name__ == "__main__":
    main()
