"""A case's status, derived from its records: referred, referral declined, open or closed, with the
dates, on any day. ``recordgen due`` and ``recordgen history`` show it, and the monitoring returns
count from it (the Service standard's caseload, cases opened and closed).

Nothing here is stored: the status is worked out afresh from the case files the case has had
accepted (:mod:`recordgen.records.case_files`), so it can never disagree with them. A case may have
had several spells of support (referred, supported, closed, referred again); each is an
:class:`Episode`. The definitions, stated once:

* **referred** on the day a referral was received: a referral case file, or the referral block of
  a needs assessment when no referral case file has the same received_at. A referral is known by
  the moment it was received; the latest case file for it gives its decision.
* **declined** on the day a referral was declined, when support had not started.
* **opened** on the day support started: the earliest of a needs assessment's
  ``support_start_date``, a support plan's ``support_started_on`` and an outcomes form's
  ``support_started_on`` in the spell.
* **closed** on the day support ended: the earliest of an exit letter's ``leaving_date``, a
  support-ended record's ``support_ended_on`` and an outcomes form's ``support_ended_on`` in the
  spell.
* A later case file of the same kind that moves one of these dates, with nothing between the two
  dates that starts or ends a spell, corrects it (a leaving date put back a week replaces the
  first one); otherwise it belongs to another spell.
* A referral, or a start of support, dated after a spell closed (or was declined) begins a new
  spell.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import IntEnum, StrEnum
from typing import Any

from recordgen.dates import parse_date, parse_moment, uk_date
from recordgen.kinds import (
    EXIT_LETTER,
    LEAVER_OUTCOMES,
    NEEDS_ASSESSMENT,
    REFERRAL,
    SUPPORT_ENDED,
    SUPPORT_PLAN,
)
from recordgen.records.case_files import HoldsSubmissions, StoredCaseFile, accepted_case_files, by_case


class Stage(StrEnum):
    """Where a case stands on a day."""

    NONE = "nothing recorded"  # no referral or support recorded by that day
    REFERRED = "referred"
    DECLINED = "referral declined"
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class Referral:
    """A referral received, as its latest case file records it (or an assessment's referral
    block, which has no decision of its own: the person was assessed)."""

    received_at: dt.datetime
    route: str
    crisis: bool
    decision: str  # "accepted", "declined", "waiting list", or "assessed" (from an assessment)
    decided_on: dt.date | None
    from_kind: str


@dataclass(frozen=True)
class Episode:
    """One spell of a case: referred (perhaps), opened (perhaps), then declined or closed."""

    referral: Referral | None = None
    opened_on: dt.date | None = None
    declined_on: dt.date | None = None
    closed_on: dt.date | None = None
    end_reason: str = ""  # why support ended, in a few words

    @property
    def referred_on(self) -> dt.date | None:
        return self.referral.received_at.date() if self.referral else None

    @property
    def starts_on(self) -> dt.date:
        return min(d for d in (self.referred_on, self.opened_on) if d is not None)

    @property
    def finished(self) -> bool:
        return self.closed_on is not None or self.declined_on is not None


@dataclass(frozen=True)
class CaseStatus:
    """Where a case stands on ``on``, and since when."""

    case_ref: str
    on: dt.date
    stage: Stage
    since: dt.date | None = None
    episode: Episode | None = None
    closing_on: dt.date | None = None  # open, with the day support ends still to come
    episodes: int = 0  # spells recorded so far, this one included

    @property
    def words(self) -> str:
        """"open since 14 September 2026 (support ends 30 November 2026)"."""
        if self.stage is Stage.NONE or self.since is None:
            return str(self.stage)
        text = f"{self.stage} {'on' if self.stage is Stage.DECLINED else 'since'} " \
               f"{uk_date(self.since)}"
        if self.stage is Stage.REFERRED and self.episode and self.episode.referral:
            decision = self.episode.referral.decision
            if decision == "waiting list":
                text += " (on the waiting list)"
            elif decision == "accepted":
                text += " (accepted, support not started yet)"
        if self.closing_on is not None:
            text += f" (support ends {uk_date(self.closing_on)})"
        return text


# --- what each kind of case file says about the spells ---------------------------------------


class _Order(IntEnum):
    """Events of one day, in the order they happen."""

    REFERRED = 0
    DECLINED = 1
    OPENED = 2
    ENDED = 3


@dataclass(frozen=True)
class _Event:
    on: dt.date
    order: _Order
    kind: str
    arrived: int  # position among the case's accepted case files
    referral: Referral | None = None
    reason: str = ""


def _day(data: Mapping[str, Any], key: str) -> dt.date | None:
    return parse_date(data.get(key))


def _referrals(case_files: Sequence[StoredCaseFile]) -> dict[dt.datetime, Referral]:
    """Every referral, by the moment it was received: the latest referral case file for it, or an
    assessment's referral block when no referral case file has that moment."""
    found: dict[dt.datetime, Referral] = {}
    assessed: dict[dt.datetime, Referral] = {}
    for case_file in case_files:
        data = case_file.data
        if case_file.kind == REFERRAL.name:
            received = parse_moment(data.get("received_at"))
            decision = data.get("decision")
            if received is None or not isinstance(decision, Mapping):
                continue
            found[received] = Referral(received, str(data.get("route", "")),
                                       data.get("crisis") is True, str(decision.get("outcome")),
                                       _day(decision, "decided_on"), REFERRAL.name)
        elif case_file.kind == NEEDS_ASSESSMENT.name:
            block = data.get("referral")
            received = parse_moment(block.get("received_at")) if isinstance(block, Mapping) else None
            if received is not None and isinstance(block, Mapping):
                assessed[received] = Referral(received, str(block.get("route", "")),
                                              data.get("crisis_support_needed") is True, "assessed",
                                              None, NEEDS_ASSESSMENT.name)
    return {**assessed, **found}


def referrals(case_files: Sequence[StoredCaseFile]) -> list[Referral]:
    """Every referral of one case, oldest first, each once however many case files gave it (the
    monitoring returns count referrals received from these)."""
    return sorted(_referrals(case_files).values(), key=lambda r: r.received_at)


# For each kind that starts or ends support, the fields whose date does, in the order they are
# read: the one that starts it first (a leaver's outcomes form gives both).
_BOUNDARIES: Mapping[str, tuple[tuple[_Order, str], ...]] = {
    NEEDS_ASSESSMENT.name: ((_Order.OPENED, "support_start_date"),),
    SUPPORT_PLAN.name: ((_Order.OPENED, "support_started_on"),),
    LEAVER_OUTCOMES.name: ((_Order.OPENED, "support_started_on"),
                           (_Order.ENDED, "support_ended_on")),
    EXIT_LETTER.name: ((_Order.ENDED, "leaving_date"),),
    SUPPORT_ENDED.name: ((_Order.ENDED, "support_ended_on"),),
}


def _end_reason(case_file: StoredCaseFile) -> str:
    data = case_file.data
    if case_file.kind == EXIT_LETTER.name:
        return (f"ended by the service: {data.get('provider_reason')}"
                if data.get("ended_by") == "provider" else "the person asked to leave")
    if case_file.kind == SUPPORT_ENDED.name:
        return str(data.get("reason", ""))
    return str(data.get("ended_because", ""))


def _events(case_files: Sequence[StoredCaseFile]) -> list[_Event]:
    events = []
    for referral in _referrals(case_files).values():
        events.append(_Event(referral.received_at.date(), _Order.REFERRED, referral.from_kind, -1,
                             referral))
        if referral.decision == "declined" and referral.decided_on is not None:
            events.append(_Event(referral.decided_on, _Order.DECLINED, REFERRAL.name, -1,
                                 referral))
    for arrived, case_file in enumerate(case_files):
        for order, key in _BOUNDARIES.get(case_file.kind, ()):
            day = _day(case_file.data, key)
            if day is None:
                continue
            if order is _Order.OPENED:
                events.append(_Event(day, order, case_file.kind, arrived))
            else:
                events.append(_Event(day, order, case_file.kind, arrived,
                                     reason=_end_reason(case_file)))
    return _corrected(events)


def _corrected(events: list[_Event]) -> list[_Event]:
    """Drop a start or an end that a later case file of the same kind moved: nothing that starts
    or ends a spell lies strictly between the two dates, so they are the same spell's."""
    kept = list(events)
    for order in (_Order.OPENED, _Order.ENDED):
        boundaries = [e.on for e in events if e.order is not order and e.order is not
                      _Order.DECLINED]
        same = sorted((e for e in events if e.order is order), key=lambda e: e.arrived)
        for index, earlier in enumerate(same):
            for later in same[index + 1:]:
                if later.kind != earlier.kind or later.on == earlier.on:
                    continue
                low, high = sorted((earlier.on, later.on))
                if not any(low < day < high for day in boundaries) and earlier in kept:
                    kept.remove(earlier)
                    break
    return kept


def episodes(case_files: Sequence[StoredCaseFile]) -> list[Episode]:
    """The spells of one case, oldest first, from its accepted case files (oldest first)."""
    found: list[Episode] = []
    for event in sorted(_events(case_files), key=lambda e: (e.on, e.order, e.arrived)):
        current = found[-1] if found else None
        if event.order is _Order.REFERRED:
            if current is None or current.finished:
                found.append(Episode(referral=event.referral))
            # A referral received while a spell is under way is a referral of that spell.
        elif event.order is _Order.DECLINED:
            if current is not None and current.referral == event.referral \
                    and current.opened_on is None and not current.finished:
                found[-1] = replace(current, declined_on=event.on)
        elif event.order is _Order.OPENED:
            if current is None or current.finished:
                found.append(Episode(opened_on=event.on))
            elif current.opened_on is None:
                found[-1] = replace(current, opened_on=event.on)
        elif current is not None and not current.finished:
            found[-1] = replace(current, closed_on=event.on, end_reason=event.reason)
    return found


def status_on(case_ref: str, case_files: Sequence[StoredCaseFile], on: dt.date) -> CaseStatus:
    """Where the case stands on ``on``: the spell that had begun by then, and its stage."""
    spells = [e for e in episodes(case_files) if e.starts_on <= on]
    if not spells:
        return CaseStatus(case_ref, on, Stage.NONE)
    spell, count = spells[-1], len(spells)
    if spell.declined_on is not None and spell.declined_on <= on:
        return CaseStatus(case_ref, on, Stage.DECLINED, spell.declined_on, spell, episodes=count)
    if spell.closed_on is not None and spell.closed_on <= on:
        return CaseStatus(case_ref, on, Stage.CLOSED, spell.closed_on, spell, episodes=count)
    if spell.opened_on is not None and spell.opened_on <= on:
        return CaseStatus(case_ref, on, Stage.OPEN, spell.opened_on, spell, spell.closed_on,
                          episodes=count)
    return CaseStatus(case_ref, on, Stage.REFERRED, spell.referred_on, spell,
                      episodes=count)


def case_status(store: HoldsSubmissions, case_ref: str, on: dt.date) -> CaseStatus:
    """The status of one case on ``on``, from the store."""
    return status_on(case_ref, accepted_case_files(store, case_ref), on)


def case_statuses(store: HoldsSubmissions, on: dt.date,
                  case_refs: Iterable[str] | None = None) -> dict[str, CaseStatus]:
    """The status of every case on ``on`` (reading the store once), or of ``case_refs`` (reading
    each of their case files only)."""
    if case_refs is not None:
        return {ref: case_status(store, ref, on) for ref in case_refs}
    return {ref: status_on(ref, files, on)
            for ref, files in by_case(accepted_case_files(store)).items()}
