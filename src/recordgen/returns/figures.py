"""The figures of the monitoring returns, each defined once, here, and computed from the records
store only: the case files it accepted (:mod:`recordgen.records.case_files`) and the statutory
clocks it keeps. Every figure carries the case references behind it, so that a commissioner's
question ("which 3 people?") is answered from the return itself.

The definitions (the README's table repeats them, with the policy and section):

* **The days counted**: every day of the period, to the end of its last day, once it has ended. A
  period that has not ended is counted so far, every figure alike, up to today
  (:func:`recordgen.returns.period.so_far`): a leaving date, an admission or a deadline still to
  come is not counted as if it had happened, and a stay in hospital not yet ended counts the nights
  up to today (not tonight).
* **Open caseload**: cases whose support had started and not ended at the end of the last day
  counted (a case closed on that day is closed). Service standard, "How do we monitor our
  performance?".
* **Referrals received**: referrals received in the period, each once however many case files
  gave it (a referral case file, or an assessment's referral block).
* **Cases opened** / **cases closed**: spells of support that started / ended on a day in the
  period (:mod:`recordgen.records.case_status` says which day). A case that opens and closes in one
  period counts in both. **Cases opened this year** counts from the start of the reporting year to
  the period's end (the Service standard's "cumulative total"). A referral that ended before its
  support started (the person died on the waiting list, or an exit letter came first) opened no
  spell of support: it is counted as the referral received, and is not a case closed nor a leaver.
* **Money secured**: awards (money_secured with status "awarded", exactly) decided in the period,
  by type (one of the Service standard's five), in pounds and pence; an application not yet
  awarded, or refused, is not money secured. Each application or award is known by its money
  reference (the latest case file for it counts); an old case file giving none is one of its own.
  An award that cannot be placed in the totals (its amount, its decision date, its type or its
  status cannot be read or is not one recordgen knows) is never guessed, nor silently left out: it
  is counted under **Money secured not counted**, shown only when there is one, and each is listed
  with its case and money references and why. It is listed in the period of its decision date, or,
  when that cannot be read, in the period its case file was received. A status recordgen does not
  know (not "applied for", "awarded" or "refused") is listed in the same way.
* **People supported in the quarter**: cases whose support was open on at least one day of it. A
  person supported in two quarters counts in each; within one quarter, once however many spells.
* **Leavers**: spells of support that ended in the period (as cases closed: never a referral that
  ended before support started). Each leaver's outcomes form is the one for that spell; a leaver
  without one is counted as "outcomes form missing", listed, and left out of every figure drawn
  from the form: never guessed. A leaver who died is left out of KPI 1 and KPI 2 (a move-on cannot
  be planned, nor independence kept, by someone who has died) and listed.
* A KPI with no one to count is never 0% or 100%: it says why, "no leavers", "no leavers with an
  outcomes form", "no leavers with this need" (outcomes 1 and 2), "every leaver with an outcomes
  form died" (KPI 1 and KPI 2) or "no one supported".
* **Statutory clocks**: a clock falls due on the day of its due date or time. One is **overdue at
  the end** when it had started, fell due on or before the last day and was not answered by the
  end of that day; counted so far, as ``recordgen due`` judges today: due before today and not
  answered.
* **Per support worker**: a case is the support worker's named on its latest case file about a day
  on or before the day counted, of the kinds whose ``worker`` is the person's support worker: the
  needs assessment, the support plan, a review, money secured and the leaver's outcomes form. The
  member of staff on any other kind is not (who took the referral, wrote an exit letter, recorded
  the end of support, took a request for a hard copy, or handled a subject access request, as the
  Information Governance Officer does; a serious incident names who reported it).
"""

from __future__ import annotations

import bisect
import datetime as dt
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from recordgen.dates import day_of, parse_when, uk_date
from recordgen.deadlines.clocks import ClockName, clock_words
from recordgen.records.case_files import pounds
from recordgen.records.rows import ClockRecord
from recordgen.returns.facts import CaseFacts, Leaving, Money
from recordgen.returns.period import Period
from recordgen.settings import Returns


class Unit(StrEnum):
    """What a figure counts."""

    CASES = "cases"
    REFERRALS = "referrals"
    PEOPLE = "people"
    PENCE = "pounds"  # kept in whole pence, shown in pounds
    DAYS = "days"
    ADMISSIONS = "admissions"
    AWARDS = "awards"


class Result(StrEnum):
    """How a KPI stands against its target."""

    MET = "met"
    MISSED = "missed"
    # With no one to count, why (a KPI is then neither met nor missed):
    NO_LEAVERS = "no leavers"
    NO_FORMS = "no leavers with an outcomes form"
    NO_NEED = "no leavers with this need"
    ALL_DIED = "every leaver with an outcomes form died"
    NO_ONE = "no one supported"
    NO_TARGET = "no target"


@dataclass(frozen=True)
class Figure:
    """One number of a return, what it means, and the cases behind it (a case appears once for
    each thing it adds: a case with two referrals in the month is listed twice)."""

    name: str
    value: int
    unit: Unit
    definition: str
    refs: tuple[str, ...] = ()
    # What each case behind the figure stands for, where its case reference alone does not say
    # (an award's money reference): none, or one for each of ``refs``.
    notes: tuple[str, ...] = ()

    @property
    def shown(self) -> str:
        """The value as the report and the terminal show it: money in pounds and pence, any
        other number with its thousands separated (``1,234``)."""
        return pounds(self.value) if self.unit is Unit.PENCE else f"{self.value:,}"


@dataclass(frozen=True)
class Kpi:
    """A quarterly figure against its target: numerator over denominator."""

    number: str  # Appendix 1's number
    name: str
    definition: str
    numerator: tuple[str, ...]
    denominator: tuple[str, ...]
    target: float | None  # a percentage; None: the specification sets none
    target_words: str
    empty_words: str = Result.NO_LEAVERS.value

    @property
    def percentage(self) -> float | None:
        """Numerator over denominator, as a percentage; None when there is no denominator."""
        if not self.denominator:
            return None
        return 100.0 * len(self.numerator) / len(self.denominator)

    @property
    def result(self) -> Result:
        percentage = self.percentage
        if percentage is None:
            return Result(self.empty_words)
        if self.target is None:
            return Result.NO_TARGET
        return Result.MET if percentage >= self.target - 1e-9 else Result.MISSED

    @property
    def percentage_words(self) -> str:
        percentage = self.percentage
        return self.empty_words if percentage is None else f"{percentage:.1f}%"


@dataclass(frozen=True)
class ClockFigures:
    """One statutory clock over the period."""

    clock: ClockName | str  # the name as stored, for a clock this version does not know
    fell_due: tuple[str, ...]
    met: tuple[str, ...]
    late: tuple[str, ...]
    late_days: tuple[int, ...]  # working days late, for each one answered late
    still_open: tuple[str, ...]  # fell due in the period, not answered by its end
    overdue: tuple[str, ...]  # open and past due at the end of the last day counted

    @property
    def words(self) -> str:
        return clock_words(self.clock)

    @property
    def median_late(self) -> float | None:
        return statistics.median(self.late_days) if self.late_days else None

    @property
    def worst_late(self) -> int | None:
        return max(self.late_days) if self.late_days else None


@dataclass(frozen=True)
class WorkerFigures:
    """One support worker's figures for one-to-ones (Service standard, "How do we monitor our
    performance?"; Support planning policy §7.2)."""

    worker: str
    caseload: tuple[str, ...]
    plans_due: tuple[str, ...]
    plans_on_time: tuple[str, ...]
    reviews_due: tuple[str, ...]
    reviews_on_time: tuple[str, ...]
    overdue: tuple[str, ...]


@dataclass(frozen=True)
class MonitoringReturn:
    """Everything a return holds for one period."""

    period: Period
    as_of: dt.date  # the last day counted: the period's last, or today when it has not ended
    monthly: tuple[Figure, ...]
    so_far: bool = False  # the period has not ended: counted up to today (``as_of``)
    kpis: tuple[Kpi, ...] = ()
    quarterly: tuple[Figure, ...] = ()  # the other quarterly counts: supported, leavers, days
    clocks: tuple[ClockFigures, ...] = ()
    workers: tuple[WorkerFigures, ...] = field(default=())
    # For the report's charts: the KPIs of the last four quarters (quarterly returns), and the
    # referrals received and cases closed in each of the last twelve months.
    kpi_history: tuple[tuple[str, tuple[Kpi, ...]], ...] = ()
    month_history: tuple[MonthCounts, ...] = ()


@dataclass(frozen=True)
class MonthCounts:
    """One month's referrals received and cases closed, for the chart of the last year."""

    label: str  # "Nov 2026"
    referrals: int
    closed: int


def month_history(cases: Sequence[CaseFacts], months: Sequence[Period]
                  ) -> tuple[MonthCounts, ...]:
    """Referrals received and cases closed in each of ``months``, as :func:`monthly_figures`
    counts them, from one pass over the cases: the days referrals were received and spells of
    support ended are gathered once, in order, and each month's count is the number of those
    days it holds."""
    received = sorted(r.received_at.date() for c in cases for r in c.referrals)
    closed = sorted(leaving.closed_on for c in cases for leaving in c.leavings)
    return tuple(MonthCounts(f"{m.first:%b %Y}", _days_within(received, m), _days_within(closed, m))
                 for m in months)


def _days_within(days: Sequence[dt.date], period: Period) -> int:
    """How many of ``days`` (in order) the period holds."""
    return bisect.bisect_right(days, period.last) - bisect.bisect_left(days, period.first)


# --- The Service standard's monthly list --------------------------------------------------------

MONEY_TYPES = ("Discretionary Housing Payment", "Emergency Local Fund", "other hardship fund",
               "other funds", "food vouchers")
MONEY_STATUSES = ("applied for", "awarded", "refused")
MONEY_NOT_COUNTED = "Money secured not counted"


def monthly_figures(cases: Sequence[CaseFacts], period: Period, year_from: dt.date
                    ) -> tuple[Figure, ...]:
    """The Service standard's list ("How do we monitor our performance?") for ``period``;
    ``year_from`` is the first day of the reporting year, for the cumulative count."""
    caseload = [c.case_ref for c in cases if c.open_on(period.last)]
    referred = [c.case_ref for c in cases for r in c.referrals
                if period.holds(r.received_at.date())]
    opened = [c.case_ref for c in cases for s in c.spells if period.holds(s.opened_on)]
    year = Period(year_from, period.last, "", "")
    opened_this_year = [c.case_ref for c in cases for s in c.spells if year.holds(s.opened_on)]
    closed = [leaving.case_ref for leaving in _leavers(cases, period)]
    found = [
        Figure("Open caseload", len(caseload), Unit.CASES,
               "Cases whose support had started and not ended at the end of the last day counted "
               "(the period's last day, or today for a period not ended).",
               tuple(caseload)),
        Figure("Referrals received", len(referred), Unit.REFERRALS,
               "Referrals received in the period, each once.", tuple(referred)),
        Figure("Cases opened", len(opened), Unit.CASES,
               "Spells of support that started in the period.", tuple(opened)),
        Figure("Cases opened this year", len(opened_this_year), Unit.CASES,
               "Spells of support that started from the start of the reporting year to the end "
               "of the period.", tuple(opened_this_year)),
        Figure("Cases closed", len(closed), Unit.CASES,
               "Spells of support that ended in the period (not a referral that ended before "
               "support started).", tuple(closed)),
    ]
    return (*found, *_money_figures(cases, period))


def _money_figures(cases: Sequence[CaseFacts], period: Period) -> list[Figure]:
    """Money secured in the period by type, and, when there is one, the awards that cannot be
    counted in those totals, each with why."""
    awarded: dict[str, list[tuple[str, int]]] = {money_type: [] for money_type in MONEY_TYPES}
    left: list[tuple[str, str]] = []  # (case reference, what the award is and why not counted)
    found = []
    for case in cases:  # one pass for every type, each type's awards in case order
        for money in case.money:
            # An application or a refusal is not money secured; any other status may be.
            if money.status in ("applied for", "refused") \
                    or not period.holds(money.decided_on or money.recorded_on):
                continue
            why = _not_countable(money)
            if why:
                left.append((case.case_ref, f"{_money_words(money)}: {'; '.join(why)}"))
            elif money.in_pence is not None:
                awarded[money.type].append((case.case_ref, money.in_pence))
    for money_type, awards in awarded.items():
        found.append(Figure(f"Money secured: {money_type}", sum(p for _, p in awards), Unit.PENCE,
                            f"{money_type} awarded in the period, in pounds.",
                            tuple(ref for ref, _ in awards)))
    if left:  # never guessed, never left out without a word; shown only when there is one
        found.append(Figure(
            MONEY_NOT_COUNTED, len(left), Unit.AWARDS,
            "Awards of the period left out of the money totals above, which may be short by "
            "them: the amount, the decision date, the type or the status cannot be read or is not "
            "one recordgen knows (one whose decision date cannot be read is listed in the period "
            "its case file was received; one whose status is not known, in case it is an award). "
            "The Counted sheet lists each with its case and money references and why.",
            tuple(ref for ref, _ in left), tuple(note for _, note in left)))
    return found


def _not_countable(money: Money) -> list[str]:
    """Why an award (or money of a status recordgen does not know) cannot be counted in the
    money totals, in words; none when it can."""
    why = []
    if money.status not in MONEY_STATUSES:
        why.append(f'the status "{money.status}" is not one recordgen knows (applied for, '
                   "awarded or refused)" if money.status else "no status is given")
    if money.type not in MONEY_TYPES:
        why.append(f'the type "{money.type}" is not one of the five the Service standard lists'
                   if money.type else "no type is given")
    if money.in_pence is None:
        why.append("the amount cannot be read")
    if money.decided_on is None:
        why.append("the decision date cannot be read")
    return why


def _money_words(money: Money) -> str:
    """"food vouchers, money reference F1, decided 3 November 2026": which award, for the Counted
    sheet (an old case file with no money reference is named by the day it was received)."""
    reference = f"money reference {money.money_ref}" if money.money_ref \
        else "no money reference"
    day = f"decided {uk_date(money.decided_on)}" if money.decided_on is not None \
        else f"recorded {uk_date(money.recorded_on)}"
    return f"{money.type or 'no type'}, {reference}, {day}"


# --- The Floating support specification's Appendix 1 ------------------------------------------


def _leavers(cases: Sequence[CaseFacts], period: Period) -> list[Leaving]:
    """The spells of support that ended in the period (cases closed, leavers)."""
    return [leaving for c in cases for leaving in c.leavings if period.holds(leaving.closed_on)]


def _nobody(leavers: Sequence[Leaving], forms: Sequence[object], then: Result) -> str:
    """Why a KPI over leavers has no one to count: no leavers, none with an outcomes form, or
    ``then`` (none with the need it counts, or every one with a form died)."""
    if not leavers:
        return Result.NO_LEAVERS.value
    return Result.NO_FORMS.value if not forms else then.value


def quarterly_figures(cases: Sequence[CaseFacts], period: Period, targets: Returns
                      ) -> tuple[tuple[Kpi, ...], tuple[Figure, ...]]:
    """Appendix 1's items for ``period``, with the counts behind them."""
    supported = [c for c in cases if c.supported_between(period.first, period.last)]
    people = tuple(c.case_ref for c in supported)

    def refs(found: Iterable[Leaving]) -> tuple[str, ...]:
        return tuple(leaving.case_ref for leaving in found)

    leavers = _leavers(cases, period)
    forms = [(leaving, leaving.form) for leaving in leavers if leaving.form is not None]
    with_form = [lv for lv, _ in forms]
    missing = tuple(leaving.case_ref for leaving in leavers if leaving.form is None)
    alive_forms = [(lv, f) for lv, f in forms if not f.died]
    alive = [lv for lv, _ in alive_forms]
    died = refs(lv for lv, f in forms if f.died)
    paid_need = refs(lv for lv, f in forms if f.paid_work_needed)
    paid_done = refs(lv for lv, f in forms if f.paid_work_needed and f.paid_work_achieved)
    training_need = refs(lv for lv, f in forms if f.training_needed)
    training_done = refs(lv for lv, f in forms if f.training_needed and f.training_achieved)
    occupation_need = refs(lv for lv, f in forms if f.paid_work_needed or f.training_needed)
    occupation_done = refs(lv for lv, f in forms
                           if (f.paid_work_needed and f.paid_work_achieved)
                           or (f.training_needed and f.training_achieved))
    gp = [(c.case_ref, c.gp_registered_on(period.last)) for c in supported]
    registered = tuple(ref for ref, on_record in gp if on_record is True)
    unrecorded = tuple(ref for ref, on_record in gp if on_record is None)
    admitted = tuple(c.case_ref for c in supported
                     if any(period.holds(s.admitted_on) for s in c.stays))
    admissions = [c.case_ref for c in supported for s in c.stays if period.holds(s.admitted_on)]
    days = [(c.case_ref, _nights_within(s.admitted_on, s.discharged_on, period))
            for c in supported for s in c.stays]
    days = [(ref, n) for ref, n in days if n > 0]
    no_need = _nobody(leavers, forms, Result.NO_NEED)
    all_died = _nobody(leavers, forms, Result.ALL_DIED)
    kpis = (
        Kpi("1 and 2", "Meaningful occupation: paid work or training or education",
            "Leavers with an outcomes form who had a need for paid work or for training or "
            "education, and achieved one they needed.", occupation_done, occupation_need,
            targets.meaningful_occupation_target,
            f"{targets.meaningful_occupation_target:g}% between outcomes 1 and 2", no_need),
        Kpi("1", "Obtaining paid work",
            "Leavers with an outcomes form and a need for paid work who obtained it.",
            paid_done, paid_need, None, "increasing overall", no_need),
        Kpi("2", "Participating in training or education",
            "Leavers with an outcomes form and a need for training or education who took part.",
            training_done, training_need, None, "increasing overall", no_need),
        Kpi("3", "Registered with a GP",
            "People supported in the quarter registered with a GP as last recorded by its end "
            "(a review or an outcomes form); a person with nothing recorded counts as not "
            "registered and is listed.", registered, people, targets.gp_registered_target,
            f"{targets.gp_registered_target:g}%", Result.NO_ONE.value),
        Kpi("4a", "Admitted to hospital",
            "People supported in the quarter admitted to hospital in it, as a proportion of all "
            "supported.", admitted, people, None, "stable or decreasing overall",
            Result.NO_ONE.value),
        Kpi("5", "KPI 1: independence maintained",
            "Leavers with an outcomes form (not counting those who died) supported to establish "
            "or keep independent living.",
            refs(lv for lv, f in alive_forms if f.independence_maintained), refs(alive),
            targets.independence_target, f"{targets.independence_target:g}%", all_died),
        Kpi("6", "KPI 2: planned move-on",
            "Leavers with an outcomes form (not counting those who died) who moved on in a "
            "planned way.", refs(lv for lv, f in alive_forms if f.planned_move_on), refs(alive),
            targets.planned_move_on_target, f"{targets.planned_move_on_target:g}%", all_died),
    )
    counts = (
        Figure("People supported", len(people), Unit.PEOPLE,
               "People whose support was open on at least one day of the quarter, each once.",
               people),
        Figure("Leavers", len(leavers), Unit.PEOPLE,
               "Spells of support that ended in the quarter (not a referral that ended before "
               "support started).", refs(leavers)),
        Figure("Leavers with an outcomes form", len(with_form), Unit.PEOPLE,
               "Leavers whose outcomes form is recorded.", refs(with_form)),
        Figure("Outcomes forms missing", len(missing), Unit.PEOPLE,
               "Leavers with no outcomes form recorded: left out of every figure from the form.",
               missing),
        Figure("Leavers who died", len(died), Unit.PEOPLE,
               "Leavers whose outcomes form records their death: left out of KPI 1 and KPI 2.",
               died),
        Figure("GP registration not recorded", len(unrecorded), Unit.PEOPLE,
               "People supported in the quarter with no record of GP registration by its end.",
               unrecorded),
        Figure("Hospital admissions", len(admissions), Unit.ADMISSIONS,
               "Admissions to hospital that began in the quarter, of people supported in it.",
               tuple(admissions)),
        Figure("Days in hospital", sum(n for _, n in days), Unit.DAYS,
               "Nights spent in hospital within the quarter by people supported in it (a stay "
               "not yet ended counts to the quarter's end, or, in a quarter not yet ended, to "
               "today).", tuple(ref for ref, _ in days)),
    )
    return kpis, counts


def _nights_within(admitted: dt.date, discharged: dt.date | None, period: Period) -> int:
    """Nights of a stay that fall in the period, each night counted on the day it begins: from
    admission to discharge (or the period's end, when not discharged), counted within the
    period, so no night counts in two quarters. Counted so far, tonight is still to come: the
    nights up to today."""
    stop = period.last + dt.timedelta(days=0 if period.so_far else 1)
    end = min(discharged or stop, stop)
    return max(0, (end - max(admitted, period.first)).days)


# --- The statutory clocks -----------------------------------------------------------------------

# Every clock recordgen keeps but the two-year limit, which is a warning, not a deadline.
REPORTED_CLOCKS = tuple(c for c in ClockName if c is not ClockName.SUPPORT_LIMIT)


@dataclass(frozen=True, slots=True)
class _DatedClock:
    """A clock with its days read once (a clock in hours falls due on the day of its due moment):
    the day it started, fell due, and was answered (None: not answered)."""

    record: ClockRecord
    started_on: dt.date
    due_on: dt.date
    closed_on: dt.date | None

    def answered_by(self, day: dt.date) -> bool:
        return self.closed_on is not None and self.closed_on <= day

    def overdue_at_end(self, period: Period) -> bool:
        """Started by the period's last day and not answered by its end, and due on or before
        that day; counted so far (the last day is today, not over), due before it, as
        ``recordgen due`` judges."""
        day = period.last
        due = self.due_on < day if period.so_far else self.due_on <= day
        return due and self.started_on <= day and not self.answered_by(day)


def _dated(records: Iterable[ClockRecord]) -> list[_DatedClock]:
    """Each clock with its days, each date or moment read once however many clocks share it."""
    days: dict[str, dt.date] = {}

    def day(text: str) -> dt.date:
        found = days.get(text)
        if found is None:
            found = days[text] = day_of(parse_when(text))
        return found

    return [_DatedClock(r, day(r.started), day(r.due), day(r.closed) if r.closed is not None
                        else None) for r in records]


def clock_figures(records: Sequence[ClockRecord], period: Period) -> tuple[ClockFigures, ...]:
    """For each clock: how many fell due in the period, were met, were late (by how many working
    days), were still unanswered at its end, and how many were overdue at its end
    (:meth:`_DatedClock.overdue_at_end`).

    A clock falls due on the day it is due (a clock in hours, on the day of its due moment). It was
    met when it was answered in time; it was late when answered after its due date or time; one
    still unanswered at the end of the period's last day is counted as still open, not as met or
    late. A period counted so far ends today: a clock due later in it has not fallen due."""
    by_clock: dict[str, list[_DatedClock]] = {}
    for dated in _dated(records):
        by_clock.setdefault(dated.record.clock, []).append(dated)
    found = []
    # A clock this version does not know (a later version's, or the store altered) is counted
    # under the name stored, after the others: never left out without a word.
    known = {c.value for c in ClockName}
    names: list[ClockName | str] = [*REPORTED_CLOCKS, *sorted(set(by_clock) - known)]
    for name in names:
        mine = by_clock.get(name.value if isinstance(name, ClockName) else name, [])
        due = [d for d in mine if period.holds(d.due_on)]
        answered = [d.record for d in due if d.answered_by(period.last)]
        late = [r for r in answered if r.met is False]
        found.append(ClockFigures(
            name,
            fell_due=tuple(d.record.case_ref for d in due),
            met=tuple(r.case_ref for r in answered if r.met is True),
            late=tuple(r.case_ref for r in late),
            late_days=tuple(r.working_days_late or 0 for r in late),
            still_open=tuple(d.record.case_ref for d in due if not d.answered_by(period.last)),
            overdue=tuple(d.record.case_ref for d in mine if d.overdue_at_end(period))))
    return tuple(found)


# --- Per support worker -------------------------------------------------------------------------


def worker_figures(cases: Sequence[CaseFacts], records: Sequence[ClockRecord], period: Period
                   ) -> tuple[WorkerFigures, ...]:
    """Each support worker's caseload at the end of the period, first plans and reviews that fell
    due in it and how many were on time, and clocks overdue at its end (as
    :func:`clock_figures`). A case is its support worker's as named on its latest case file
    about a day on or before the one counted (:meth:`CaseFacts.worker_on`); a clock is the
    worker's on the day it fell due (the last day counted, for one due later)."""
    as_of = period.last
    by_ref = {c.case_ref: c for c in cases}
    rows: dict[str, dict[str, list[str]]] = {}

    def add(worker: str | None, column: str, ref: str) -> None:
        name = worker or "no support worker named"
        rows.setdefault(name, {}).setdefault(column, []).append(ref)

    for case in cases:
        if case.open_on(period.last):
            add(case.worker_on(period.last), "caseload", case.case_ref)
    not_reported = ClockName.SUPPORT_LIMIT.value
    columns = {ClockName.PLAN.value: "plans", ClockName.REVIEW.value: "reviews"}
    for dated in _dated(records):
        record = dated.record
        column = columns.get(record.clock)
        due_in_period = column is not None and period.holds(dated.due_on)
        overdue = record.clock != not_reported and dated.overdue_at_end(period)
        if not due_in_period and not overdue:
            continue  # most clocks: whose they were need not be looked up
        owner = by_ref.get(record.case_ref)
        worker = owner.worker_on(min(dated.due_on, as_of)) if owner else None
        if due_in_period:
            add(worker, f"{column}_due", record.case_ref)
            if record.met is True and dated.answered_by(as_of):
                add(worker, f"{column}_on_time", record.case_ref)
        if overdue:
            add(worker, "overdue", record.case_ref)
    return tuple(
        WorkerFigures(name, *(tuple(columns.get(key, ())) for key in (
            "caseload", "plans_due", "plans_on_time", "reviews_due", "reviews_on_time", "overdue")))
        for name, columns in sorted(rows.items()))
