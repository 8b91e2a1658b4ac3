"""What the status page and ``recordgen status`` say, computed from what recordgen already knows:
the store (open clocks, clocks met late, documents produced), the rejected folder and its notes,
the work area (held files, and when each server last looked), and the inbox; "now" is the clock's.

:func:`gather` reads; nothing here writes. Every list is capped, so a store or a folder of any size
costs a bounded time (the page says how many more there are, and "at least" where a folder held
more entries than are looked at).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from recordgen.calendar import working_days_left
from recordgen.clock import Clock
from recordgen.dates import When, day_of, parse_when
from recordgen.deadlines.clocks import clock_words, known_clock
from recordgen.deadlines.due import DUE_SOON_WORKING_DAYS, DueRow, due_rows, is_overdue
from recordgen.kinds import KINDS
from recordgen.records.store import ClockRecord, DocumentRecord, Store
from recordgen.settings import Settings
from recordgen.status import folders
from recordgen.status.folders import (
    NEVER_READ,
    Found,
    HeldFile,
    HeldState,
    InboxItem,
    Rejection,
    Waiting,
    held_files,
    inbox_items,
    rejected_files,
)
from recordgen.status.heartbeat import Command, Look, notes_folder, notes_trouble, read_looks
from recordgen.status.held import read_reasons

# A watcher looks at the inbox at least once a minute; no look for this long means it has stopped
# (or is stuck), and the page says so.
STALE_AFTER = dt.timedelta(minutes=5)
# A file taken this recently, with no reason kept, is being worked on, not held.
IN_HAND_FOR = dt.timedelta(minutes=10)
# A temporary file unchanged for this long was left behind, not being written.
TEMPORARY_AFTER = dt.timedelta(minutes=10)
# "This week": documents produced, and documents produced late, in the last seven days.
RECENT_DAYS = 7
MAX_ROWS = 200  # per list on the page


class Health(StrEnum):
    """Is recordgen working?"""

    WATCHING = "watching"  # a watcher looked at the inbox within STALE_AFTER
    SILENT = "silent"  # a watcher was running, but has not looked for longer than that
    STOPPED = "stopped"  # the last watcher was stopped (Ctrl-C, SIGTERM, systemctl stop)
    NEVER = "never"  # no watcher has looked at this inbox
    UNKNOWN = "not known"  # the notes folder cannot be used (a link in its place): nobody can tell


@dataclass(frozen=True)
class Working:
    health: Health
    watcher: Look | None  # the latest watcher's last look
    watchers: tuple[Look, ...]  # every server's watcher, latest first
    last_process: Look | None  # the last `recordgen process` run
    case_files_waiting: int
    oldest_waiting: dt.datetime | None
    since_last_look: dt.timedelta | None
    notes_trouble: str | None = None  # why the notes folder cannot be used, in words
    waiting_complete: bool = True  # False: the inbox holds more than is looked at ("at least")

    @property
    def ok(self) -> bool:
        return self.health is Health.WATCHING


@dataclass(frozen=True)
class DueItem:
    case_ref: str
    what: str  # "exit confirmation letter", "serious incident notification (INC-2026-017)"
    due: When
    working_days_left: int  # negative when overdue
    overdue: bool
    soon: bool  # due within DUE_SOON_WORKING_DAYS working days (and not overdue)


@dataclass(frozen=True)
class LateDocument:
    case_ref: str
    what: str
    due: When
    met_on: dt.date
    working_days_late: int
    document: str | None  # the document that met it, relative to the outbox


@dataclass(frozen=True)
class Produced:
    case_ref: str
    title: str  # "Support plan, version 2"
    produced_at: dt.datetime
    document: str  # relative to the outbox
    pdf: str | None
    reason: str | None  # a regenerated version: why


T = TypeVar("T")


@dataclass(frozen=True)
class Listed(Generic[T]):
    """Up to MAX_ROWS items of a list, and how many there are in all (at least, when the folder
    they were found in holds more entries than are looked at: ``complete`` is then False)."""

    items: tuple[T, ...]
    total: int
    complete: bool = True

    @classmethod
    def of(cls, items: Sequence[T], *, complete: bool = True) -> Listed[T]:
        return cls(tuple(items[:MAX_ROWS]), len(items), complete)

    @classmethod
    def found(cls, found: Found[T]) -> Listed[T]:
        return cls.of(found.items, complete=found.complete)

    @property
    def more(self) -> int:
        return self.total - len(self.items)

    @property
    def total_words(self) -> str:
        """"12", or "at least 9,800" when the folder was not looked at whole."""
        return at_least(self.total, self.complete)

    @property
    def more_words(self) -> str:
        """"5", "at least 9,800", or "perhaps" (more may be in a folder not looked at whole)."""
        return "perhaps" if not self.complete and not self.more else at_least(self.more,
                                                                             self.complete)

    @property
    def cut_short_words(self) -> str:
        """What the "more" line adds when the folder was not looked at whole."""
        return "" if self.complete else (
            f" The folder holds more than {folders.MAX_LISTED:,} entries, and recordgen looks at "
            f"{folders.MAX_LISTED:,} of them.")


def at_least(count: int, complete: bool) -> str:
    return f"{count:,}" if complete else f"at least {count:,}"


@dataclass(frozen=True)
class StatusReport:
    now: dt.datetime
    service: str
    working: Working
    rejected: Listed[Rejection]
    held: Listed[HeldFile]
    never_read: Listed[InboxItem]  # in the inbox, and recordgen will not take it as it is
    late: Listed[LateDocument]
    due: Listed[DueItem]
    produced_today: Listed[Produced]
    produced_earlier: Listed[Produced]  # the six days before today
    overdue: int  # of every open clock, not only those listed
    due_soon: int  # the same: due within DUE_SOON_WORKING_DAYS working days, not overdue

    @property
    def attention(self) -> int:
        """How many things need someone's attention (the page's "Needs your attention")."""
        held = sum(1 for h in self.held.items if h.state is not HeldState.IN_HAND) + self.held.more
        return self.rejected.total + held + self.never_read.total + self.late.total

    @property
    def attention_complete(self) -> bool:
        """False when a folder held more than is looked at: ``attention`` is then a least."""
        return self.rejected.complete and self.held.complete and self.never_read.complete

    @property
    def attention_words(self) -> str:
        return at_least(self.attention, self.attention_complete)

    @property
    def cut_short(self) -> list[str]:
        """The lists whose folder held more entries than are looked at (for monitoring)."""
        lists = (("rejected", self.rejected.complete), ("held", self.held.complete),
                 ("not_case_files_in_inbox", self.never_read.complete),
                 ("case_files_waiting", self.working.waiting_complete))
        return [name for name, complete in lists if not complete]


def gather(settings: Settings, store: Store | None, clock: Clock) -> StatusReport:
    """Everything the page shows, as it stands at the clock's "now". ``store`` is None where
    none has been made yet (nothing was ever recorded)."""
    now = clock.now()
    folders = settings.folders
    inbox = inbox_items(folders.inbox)
    notes = notes_folder(folders.inbox)
    documents = store.documents() if store else []
    clocks = store.clocks() if store else []
    open_clocks = [c for c in clocks if c.closed is None]
    overdue, due_soon = pressing(open_clocks, settings, now)
    return StatusReport(
        now=now,
        service=settings.provider.service_name,
        working=working(read_looks(notes), inbox.items, now, notes_trouble(notes),
                        waiting_complete=inbox.complete),
        rejected=Listed.found(rejected_files(folders.rejected)),
        held=Listed.found(held_files(folders.work, read_reasons(notes), now, IN_HAND_FOR)),
        never_read=Listed.of([i for i in inbox.items if _never_read(i, now)],
                             complete=inbox.complete),
        late=Listed.of(late_documents(clocks, documents, now)),
        due=_due(open_clocks, settings, now),
        produced_today=Listed.of(produced(documents, now, today=True)),
        produced_earlier=Listed.of(produced(documents, now, today=False)),
        overdue=overdue,
        due_soon=due_soon,
    )


def working(looks: Sequence[Look], inbox: Sequence[InboxItem], now: dt.datetime,
            trouble: str | None = None, *, waiting_complete: bool = True) -> Working:
    """Is recordgen working? ``trouble`` says why the notes of the looks cannot be read (then
    nobody can tell)."""
    watchers = tuple(look for look in looks if look.command is Command.WATCH)
    runs = [look for look in looks if look.command is Command.PROCESS]
    latest = watchers[0] if watchers else None
    since = now - latest.looked_at if latest else None
    if trouble is not None:
        health = Health.UNKNOWN
    elif latest is None:
        health = Health.NEVER
    elif latest.stopped_at is not None and not any(
            w.stopped_at is None and now - w.looked_at <= STALE_AFTER for w in watchers):
        health = Health.STOPPED
    elif since is not None and since <= STALE_AFTER:
        health = Health.WATCHING
    else:
        health = Health.SILENT
    waiting = [i.since for i in inbox if i.waiting is Waiting.CASE_FILE]
    return Working(health, latest, watchers, runs[0] if runs else None, len(waiting),
                   min(waiting, default=None), since, trouble, waiting_complete)


def _never_read(item: InboxItem, now: dt.datetime) -> bool:
    if item.waiting is Waiting.TEMPORARY:
        return now - item.since >= TEMPORARY_AFTER  # still being written, perhaps
    return item.waiting in NEVER_READ or item.waiting is Waiting.NOT_A_CASE_FILE


def _due(open_clocks: Sequence[ClockRecord], settings: Settings,
         now: dt.datetime) -> Listed[DueItem]:
    """The open clocks, soonest first: working days are counted only for the ones shown (a
    store of ten thousand open clocks costs no more than one of two hundred)."""
    rows = due_rows(soonest(open_clocks, MAX_ROWS), settings.calendar, now.date(),
                    rules=settings.rules, now=now)
    return Listed(tuple(due_items(rows, now)[:MAX_ROWS]), len(open_clocks))


def pressing(open_clocks: Sequence[ClockRecord], settings: Settings,
             now: dt.datetime) -> tuple[int, int]:
    """How many of all the open clocks are overdue, and how many due soon, however many there are
    beyond those listed. Overdue is told from the due date alone; working days are counted only
    for the clocks not overdue, soonest first, up to the first due later than soon."""
    overdue, later = 0, []
    for record in open_clocks:
        due = parse_when(record.due)
        if is_overdue(due, now):
            overdue += 1
        else:
            later.append((day_of(due), record))
    soon, today = 0, now.date()
    for day, record in sorted(later, key=lambda pair: pair[0]):
        if working_days_left(settings.calendar, today, day) > DUE_SOON_WORKING_DAYS:
            break
        # None before its warning day (the service's own warning weeks, as `due` lists them).
        soon += len(due_rows([record], settings.calendar, today, rules=settings.rules))
    return overdue, soon


def soonest(clocks: Sequence[ClockRecord], count: int) -> list[ClockRecord]:
    """The ``count`` clocks due soonest, and any others due the same day as the last of them."""
    ordered = sorted(clocks, key=lambda c: c.due[:10])
    if len(ordered) <= count:
        return ordered
    last_day = ordered[count - 1].due[:10]
    return [c for c in ordered if c.due[:10] <= last_day]


def due_items(rows: Sequence[DueRow], now: dt.datetime) -> list[DueItem]:
    items = []
    for row in rows:
        overdue = is_overdue(row.due, now)
        items.append(DueItem(row.case_ref, row.what_in_full, row.due, row.working_days_left,
                             overdue, not overdue and row.working_days_left
                             <= DUE_SOON_WORKING_DAYS))
    return items


def late_documents(clocks: Sequence[ClockRecord], documents: Sequence[DocumentRecord],
                   now: dt.datetime) -> list[LateDocument]:
    """Clocks met late in the last seven days, latest first, with the document that met each."""
    by_id = {d.id: d for d in documents}
    since = now.date() - dt.timedelta(days=RECENT_DAYS - 1)
    late = []
    for record in clocks:
        if record.met is not False or record.closed is None:
            continue
        met_on = day_of(parse_when(record.closed))
        if met_on < since:
            continue
        document = by_id.get(record.closed_by)
        _, _, own_ref = record.subject.partition("/")
        what = clock_words(known_clock(record.clock)) + (f" ({own_ref})" if own_ref else "")
        late.append(LateDocument(record.case_ref, what, parse_when(record.due), met_on,
                                 record.working_days_late or 0,
                                 document.pdf_file_name or document.file_name if document
                                 else None))
    return sorted(late, key=lambda d: (d.met_on, d.case_ref), reverse=True)


def produced(documents: Sequence[DocumentRecord], now: dt.datetime, *,
             today: bool) -> list[Produced]:
    """Documents produced today, or in the six days before it; latest first."""
    day = now.date()
    since = day - dt.timedelta(days=RECENT_DAYS - 1)
    found = []
    for document in documents:
        produced_on = document.produced_at.astimezone(now.tzinfo).date()
        if (produced_on == day) if today else (since <= produced_on < day):
            kind = KINDS.get(document.kind)
            title = kind.title if kind else document.kind.replace("_", " ").capitalize()
            found.append(Produced(document.case_ref, f"{title}, version {document.version}",
                                  document.produced_at, document.file_name,
                                  document.pdf_file_name, document.reason))
    return sorted(found, key=lambda p: (p.produced_at, p.document), reverse=True)
