"""What one case's accepted case files say that the returns count: its spells of support (from
:mod:`recordgen.records.case_status`), its referrals, the money secured, each leaver's outcomes
form, GP registration and hospital stays as last recorded, and who its support worker was.

A case's support worker is the ``worker`` of the kinds whose worker is the person's support worker
(:data:`SUPPORT_WORKER_KINDS`): the needs assessment, the support plan, a review, money secured
and the leaver's outcomes form, whose documents and schemas call them the support worker. The
member of staff another kind names is not: who took or decided a referral, is the contact on an
exit letter, recorded the end of support, took a request for a hard copy, or handled a subject
access request (the Information Governance Officer); a serious incident names who reported it.

Read once per case, from the store's accepted case files, and never written: a figure can always be
traced back to the case files behind it. A correction is a later case file for the same thing (the
same money reference, the same day support ended, the same admission), and the latest one counts.
"""

from __future__ import annotations

import bisect
import datetime as dt
import operator
import sys
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol, TypeVar, runtime_checkable

from recordgen.clock import UK
from recordgen.dates import parse_date
from recordgen.kinds import (
    EXIT_LETTER,
    LEAVER_OUTCOMES,
    MONEY_SECURED,
    NEEDS_ASSESSMENT,
    REFERRAL,
    SUPPORT_ENDED,
    SUPPORT_PLAN,
    SUPPORT_REVIEW,
)
from recordgen.records.case_files import StoredCaseFile, by_case, pence
from recordgen.records.case_status import Episode, Referral, episodes, referrals
from recordgen.returns.aside import aside, fork_is_safe

# The kinds whose ``worker`` is the person's support worker, each with the day it is about: the
# worker it names is the case's support worker from that day.
SUPPORT_WORKER_KINDS = {
    NEEDS_ASSESSMENT.name: "assessment_date",
    SUPPORT_PLAN.name: "plan_date",
    SUPPORT_REVIEW.name: "review_date",
    MONEY_SECURED.name: "decided_on",
    LEAVER_OUTCOMES.name: "support_ended_on",
}

V = TypeVar("V")


@dataclass(frozen=True)
class Money:
    """One application or award of money, as its latest case file records it."""

    money_ref: str  # "": an old case file gives none (it is then one of its own)
    type: str
    status: str  # "applied for", "awarded", "refused"
    in_pence: int | None  # None: the amount cannot be read (the return lists it, uncounted)
    decided_on: dt.date | None  # None for an award: the date cannot be read (listed, uncounted)
    recorded_on: dt.date  # the UK day its latest case file was received


@dataclass(frozen=True)
class OutcomesForm:
    """A leaver's outcomes form (Employment development project specification), as read for the
    Floating support specification's Appendix 1."""

    support_ended_on: dt.date
    completed_on: dt.date | None
    ended_because: str
    planned_move_on: bool
    died: bool
    paid_work_needed: bool
    paid_work_achieved: bool
    training_needed: bool
    training_achieved: bool
    independence_maintained: bool


@dataclass(frozen=True)
class Leaving:
    """A spell of support that ended, and the outcomes form for it (None: no form recorded)."""

    case_ref: str
    closed_on: dt.date
    form: OutcomesForm | None


@dataclass(frozen=True)
class HospitalStay:
    admitted_on: dt.date
    discharged_on: dt.date | None  # None: still in hospital when last recorded


_FIRST = operator.itemgetter(0)  # the day of a (day, ...) record


@dataclass(frozen=True)
class CaseFacts:
    """Everything the returns count about one case."""

    case_ref: str
    spells: tuple[Episode, ...]
    referrals: tuple[Referral, ...]
    money: tuple[Money, ...]
    leavings: tuple[Leaving, ...]
    gp_records: tuple[tuple[dt.date, bool], ...]  # (recorded for, registered), oldest first
    stays: tuple[HospitalStay, ...]
    workers: tuple[tuple[dt.date, str], ...]  # (from, worker's name), oldest first

    def open_on(self, day: dt.date) -> bool:
        """Support had started by ``day`` and had not ended before it: the spell is open at the end
        of that day when it ends later (a case closed on ``day`` is closed at its end)."""
        return any(s.opened_on is not None and s.opened_on <= day
                   and (s.closed_on is None or s.closed_on > day) for s in self.spells)

    def supported_between(self, first: dt.date, last: dt.date) -> bool:
        """Support was open on at least one day from ``first`` to ``last``."""
        return any(s.opened_on is not None and s.opened_on <= last
                   and (s.closed_on is None or s.closed_on >= first) for s in self.spells)

    def gp_registered_on(self, day: dt.date) -> bool | None:
        """Registration with a GP as last recorded on or before ``day``; None: never recorded."""
        # The records are in date order, one a day.
        index = bisect.bisect_right(self.gp_records, day, key=_FIRST)
        return self.gp_records[index - 1][1] if index else None

    def worker_on(self, day: dt.date) -> str | None:
        """The support worker named on the case's latest case file about a day on or before
        ``day`` (the earliest named, when none is that early)."""
        if not self.workers:
            return None
        # The last named on or before the day (workers are in date order), else the first.
        index = bisect.bisect_right(self.workers, day, key=_FIRST)
        return self.workers[max(index, 1) - 1][1]


def case_facts(case_ref: str, case_files: Sequence[StoredCaseFile]) -> CaseFacts:
    """The facts of one case, from its accepted case files, oldest first."""
    spells = tuple(episodes(case_files))
    # Each helper reads only the kinds it counts from (most of a case's files are reviews).
    money = [c for c in case_files if c.kind == MONEY_SECURED.name]
    health = [c for c in case_files if c.kind in (SUPPORT_REVIEW.name, LEAVER_OUTCOMES.name)]
    hard = [found for found in map(_hard_outcomes, health) if found is not None]
    return CaseFacts(
        case_ref=case_ref,
        spells=spells,
        referrals=tuple(referrals(case_files)),
        money=_money(money),
        leavings=_leavings(case_ref, spells,
                           [c for c in health if c.kind == LEAVER_OUTCOMES.name]),
        gp_records=_gp_records(hard),
        stays=_stays(hard),
        workers=_workers(case_files),
    )


def all_case_facts(case_files: Sequence[StoredCaseFile]) -> list[CaseFacts]:
    """The facts of every case, in case reference order, from the kinds the returns read
    (:data:`FIELDS`), as :func:`case_facts_of_store` reads them."""
    read = [c for c in case_files if c.kind in FIELDS]
    return [case_facts(ref, files) for ref, files in sorted(by_case(read).items())]


class ReadsByCase(Protocol):
    """What reading every case's facts a page at a time needs of a store."""

    def accepted_by_case(self, after: tuple[str, int], limit: int,
                         fields: Mapping[str, Sequence[str]], before: str | None = None
                         ) -> tuple[list[StoredCaseFile], tuple[str, int] | None]: ...


class Reader(ReadsByCase, Protocol):
    """A connection of its own to a store, for reading, closed after use."""

    def close(self) -> None: ...


@runtime_checkable
class ReadsInParts(ReadsByCase, Protocol):
    """A store whose cases can be read in runs, each by a process of its own."""

    def case_ref_splits(self, parts: int) -> list[str]: ...

    def another_reader(self) -> Reader: ...


PAGE = 2000  # accepted case files read at a time
# Every key of a case file's data that a case's status (recordgen.records.case_status) and its
# facts here read, by kind: the store picks out only these kinds, and only these keys, sparing the
# rest (a serious incident, a request for a hard copy and a subject access request say nothing
# counted here: none names the support worker).
FIELDS: Mapping[str, tuple[str, ...]] = {
    REFERRAL.name: ("received_at", "route", "crisis", "decision"),
    NEEDS_ASSESSMENT.name: ("referral", "crisis_support_needed", "support_start_date",
                            "assessment_date", "worker"),
    SUPPORT_PLAN.name: ("support_started_on", "plan_date", "worker"),
    SUPPORT_REVIEW.name: ("review_date", "hard_outcomes", "worker"),
    MONEY_SECURED.name: ("money_ref", "type", "status", "amount", "decided_on", "worker"),
    EXIT_LETTER.name: ("leaving_date", "ended_by", "provider_reason"),
    SUPPORT_ENDED.name: ("support_ended_on", "reason"),
    LEAVER_OUTCOMES.name: ("support_started_on", "support_ended_on", "completed_on",
                           "ended_because", "planned_move_on", "destination", "hard_outcomes",
                           "worker"),
}


def case_facts_of_store(store: ReadsByCase, page: int = PAGE, processes: int = 1,
                        meanwhile: Callable[[], object] | None = None) -> list[CaseFacts]:
    """The facts of every case in the store, in case reference order.

    With ``processes`` above one (and a store that can be read in parts, where a process can be
    forked safely: :func:`recordgen.returns.aside.fork_is_safe`), the cases are divided into
    that many runs by case reference, and each run after the first is read by a process of its
    own, with a connection of its own, while this process reads the first: reading and working
    out the facts is nearly all of a return's time, and it divides cleanly by case. A helper
    that fails or dies stops the count here, with its reason; none outlives it.

    ``meanwhile()``, when given, is done here after this process's own run, while the helpers
    finish theirs and send them (the rest of a return's reading: its clocks), or after the count
    when one process counts."""
    if processes < 2 or not fork_is_safe() or not isinstance(store, ReadsInParts):
        return _then(_run_facts(store, "", None, page), meanwhile)
    splits = store.case_ref_splits(processes)
    if not splits:
        return _then(_run_facts(store, "", None, page), meanwhile)
    with ExitStack() as running:
        helpers = [running.enter_context(aside(partial(_facts_aside, store, first, before, page),
                                               "Counting the return"))
                   for first, before in zip(splits, [*splits[1:], None], strict=True)]
        found = _then(_run_facts(store, "", splits[0], page), meanwhile)
        for helper in helpers:
            found.extend(helper.result())
    return found


def _then(found: list[CaseFacts], meanwhile: Callable[[], object] | None) -> list[CaseFacts]:
    if meanwhile is not None:
        meanwhile()
    return found


def _facts_aside(store: ReadsInParts, first: str, before: str | None, page: int
                 ) -> list[CaseFacts]:
    """In a helper process: the facts of the cases from ``first`` to before ``before``, read
    through a connection of the helper's own, never the parent's."""
    reader = store.another_reader()
    try:
        return _run_facts(reader, first, before, page)
    finally:
        reader.close()


def _run_facts(store: ReadsByCase, first: str, before: str | None, page: int
               ) -> list[CaseFacts]:
    """The facts of the cases from ``first`` (``""``: the first) to before ``before`` (None: to
    the last), in case reference order, reading their accepted case files a page at a time:
    only one case's case files and two pages are held at once, however large the record.

    The next page is read in a helper thread while the facts of the page before are worked out
    here: the database finds a page's rows without holding Python's lock, so on a machine with
    a core to spare the reading and the counting overlap.
    The store is still used by one thread at a time: the helper reads a page only after the
    page before it is in hand, nothing else uses the store until this returns, and an error
    reading any page is raised here, after which no other page is read."""
    found: list[CaseFacts] = []
    current: str | None = None
    pending: list[StoredCaseFile] = []
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="recordgen-read") as reader:
        following: Future[tuple[list[StoredCaseFile], tuple[str, int] | None]] | None = \
            reader.submit(store.accepted_by_case, (first, 0), page, FIELDS, before)
        while following is not None:
            case_files, after = following.result()
            following = None if after is None else reader.submit(
                store.accepted_by_case, after, page, FIELDS, before)
            for case_file in case_files:
                if case_file.case_ref != current and current is not None:
                    found.append(case_facts(current, _in_order(pending)))
                    pending = []
                current = case_file.case_ref
                pending.append(case_file)
    if current is not None:
        found.append(case_facts(current, _in_order(pending)))
    return found


def _in_order(case_files: list[StoredCaseFile]) -> list[StoredCaseFile]:
    """As :func:`recordgen.records.case_files.of_submissions` orders them: as they arrived, by
    when they were received and then by row. The store gives them by row, and a sort keeps the
    order of those received at the same moment, so sorting by when received is enough."""
    return sorted(case_files, key=_RECEIVED)


_RECEIVED = operator.attrgetter("received_at")


def _money(case_files: Sequence[StoredCaseFile]) -> tuple[Money, ...]:
    """Each application or award's latest case file, from the case's money_secured case files:
    known by its money reference, or, for an old case file that gives none (validation requires
    one), by that case file alone, so that it neither replaces another nor is replaced."""
    latest: dict[tuple[str, int], Money] = {}
    for order, case_file in enumerate(case_files, start=1):
        data = case_file.data
        try:
            amount: int | None = pence(data.get("amount"))
        except ValueError:  # validation refuses such an amount; an old record may hold one
            amount = None
        given = data.get("money_ref")
        ref = str(given).strip() if given is not None else ""
        latest[(ref, 0) if ref else ("", order)] = Money(
            ref, _words(data.get("type")), _words(data.get("status")), amount,
            parse_date(data.get("decided_on")), case_file.received_at.astimezone(UK).date())
    return tuple(latest[key] for key in sorted(latest))


def _words(value: object) -> str:
    """A word a case file gives, as given ("" when it gives none)."""
    return "" if value is None else str(value)


def _form(data: Mapping[str, Any]) -> OutcomesForm | None:
    ended = parse_date(data.get("support_ended_on"))
    hard = data.get("hard_outcomes")
    if ended is None or not isinstance(hard, Mapping):
        return None

    def need(key: str) -> tuple[bool, bool]:
        block = hard.get(key)
        if not isinstance(block, Mapping):
            return False, False
        return block.get("need_identified") is True, block.get("achieved") is True

    paid = need("paid_work")
    training = need("training_or_education")
    died = data.get("ended_because") == "died" \
        or data.get("destination") == "not applicable: the person died"
    return OutcomesForm(ended, parse_date(data.get("completed_on")),
                        str(data.get("ended_because", "")), data.get("planned_move_on") is True,
                        died, paid[0], paid[1], training[0], training[1],
                        hard.get("independence_maintained") is True)


def _leavings(case_ref: str, spells: Sequence[Episode],
              case_files: Sequence[StoredCaseFile]) -> tuple[Leaving, ...]:
    """Each spell of support that ended, with its outcomes form (``case_files`` are the case's
    outcomes forms): the latest form whose support_ended_on falls in the spell (from its start to
    the next spell's start), the one nearest its end first. A spell whose support never started
    (a referral on the waiting list that ended) is none: no one left support."""
    forms = [f for f in (_form(c.data) for c in case_files) if f is not None]
    found = []
    for index, spell in enumerate(spells):
        if spell.closed_on is None or spell.opened_on is None:
            continue
        until = spells[index + 1].starts_on if index + 1 < len(spells) else dt.date.max
        mine = [(abs((f.support_ended_on - spell.closed_on).days), -order, f)
                for order, f in enumerate(forms) if spell.starts_on <= f.support_ended_on < until]
        form = min(mine, key=lambda m: (m[0], m[1]))[2] if mine else None
        found.append(Leaving(case_ref, spell.closed_on, form))
    return tuple(found)


def _hard_outcomes(case_file: StoredCaseFile
                   ) -> tuple[dt.date | None, Mapping[str, Any]] | None:
    """The hard outcomes a review or an outcomes form records, and the day they are recorded for
    (None: the file gives none); None when it records no hard outcomes."""
    data = case_file.data
    hard = data.get("hard_outcomes")
    if type(hard) is not dict and not isinstance(hard, Mapping):
        return None
    if case_file.kind == SUPPORT_REVIEW.name:
        return parse_date(data.get("review_date")), hard
    if case_file.kind == LEAVER_OUTCOMES.name:
        return parse_date(data.get("support_ended_on")), hard
    return None


def _gp_records(hard: Sequence[tuple[dt.date | None, Mapping[str, Any]]]
                ) -> tuple[tuple[dt.date, bool], ...]:
    found: dict[dt.date, bool] = {}
    for on, outcomes in hard:  # oldest first: a correction for the same day replaces
        if on is not None and isinstance(outcomes.get("registered_with_gp"), bool):
            found[on] = outcomes["registered_with_gp"]
    return _changes(sorted(found.items()))


def _stays(hard: Sequence[tuple[dt.date | None, Mapping[str, Any]]]
           ) -> tuple[HospitalStay, ...]:
    """Each admission once, by the day it began; the latest record giving a discharge day wins."""
    found: dict[dt.date, dt.date | None] = {}
    for _, outcomes in hard:
        stays = outcomes.get("hospital_stays")
        for stay in stays if isinstance(stays, list) else []:
            admitted = parse_date(stay.get("admitted_on")) if isinstance(stay, Mapping) else None
            if admitted is None:
                continue
            discharged = parse_date(stay.get("discharged_on"))
            if discharged is not None or admitted not in found:
                found[admitted] = discharged
    return tuple(HospitalStay(a, d) for a, d in sorted(found.items()))


def _workers(case_files: Sequence[StoredCaseFile]) -> tuple[tuple[dt.date, str], ...]:
    """The support worker from each day the case's case files name one: only the kinds whose
    worker is the support worker (:data:`SUPPORT_WORKER_KINDS`), on the day each is about."""
    found: list[tuple[dt.date, int, str]] = []
    for order, case_file in enumerate(case_files):
        key = SUPPORT_WORKER_KINDS.get(case_file.kind)
        if key is None:
            continue
        worker = case_file.data.get("worker")
        # A case file's data is read from JSON: a dict, checked first as the quickest test.
        name = worker.get("name") if type(worker) is dict or isinstance(worker, Mapping) \
            else None
        if not isinstance(name, str) or not name.strip():
            continue
        on = parse_date(case_file.data.get(key))
        found.append((on or case_file.received_at.date(), order, sys.intern(name.strip())))
    return _changes([(on, name) for on, _, name in sorted(found)])


def _changes(dated: Sequence[tuple[dt.date, V]]) -> tuple[tuple[dt.date, V], ...]:
    """Of values in date order, only those that differ from the one before: the value as last
    recorded on or before a day (:meth:`CaseFacts.worker_on`, :meth:`CaseFacts.gp_registered_on`)
    is the same either way, and a case's facts are held for every case at once while a return is
    counted (the same support worker named on twenty case files took 3 KB a case)."""
    return tuple(item for index, item in enumerate(dated)
                 if index == 0 or item[1] != dated[index - 1][1])
