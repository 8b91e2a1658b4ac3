"""The clock, passed in so that every date decision can be tested with a fixed "now".

This is the one module that reads the system time. Everything that reaches a document, a record or
a deadline takes its time from a :class:`Clock` passed in (a test in the suite fails the build if
any other module asks the system for the date or time). Durations (``time.monotonic``) are not
times of day and may be measured anywhere.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

UK = ZoneInfo("Europe/London")


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current time, in UK local time (aware)."""
        ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(UK)


@dataclass(frozen=True)
class FixedClock:
    moment: dt.datetime

    def now(self) -> dt.datetime:
        return self.moment if self.moment.tzinfo else self.moment.replace(tzinfo=UK)


def filesystem_seconds() -> float:
    """The real time in seconds since the epoch, for comparing with the modification times the
    filesystem stamps on files (a worker's heartbeat). Never for a record: use a :class:`Clock`."""
    return time.time()
