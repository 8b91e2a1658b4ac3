"""The clock, passed in so that every date decision can be tested with a fixed "now"."""

from __future__ import annotations

import datetime as dt
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
