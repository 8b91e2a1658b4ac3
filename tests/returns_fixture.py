"""A year of case files for 30 fictional people (P01 to P30), for the monitoring returns' tests.

Each person is one line of ``PEOPLE``; :func:`case_files` turns the lines into case files of the
kinds the returns read (referral, support_plan, support_review, support_ended, leaver_outcomes,
money_secured), starting from the bundled examples, deterministically. :func:`fill_store` records
them, accepted, in a store, with the hand-made statutory clocks in ``CLOCKS``. The figures these
people make are worked out by hand in tests/test_returns.py, not here.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from recordgen.records.rows import ClockRecord, SubmissionOutcome, SubmissionRecord
from recordgen.records.store import Store

from conftest import example

A, B, C = "Priya Natarajan", "Tom Reilly", "Jo Evans"


@dataclass(frozen=True)
class Form:
    """A leaver's outcomes form: planned move-on, independence kept, (need, achieved) for paid
    work and for training or education, registered with a GP, died."""

    planned: bool = True
    independent: bool = True
    paid: tuple[bool, bool] = (False, False)
    training: tuple[bool, bool] = (False, False)
    gp: bool = True
    died: bool = False


@dataclass(frozen=True)
class Spell:
    referred_at: str  # YYYY-MM-DDTHH:MM, UK local
    opened: str | None = None  # support started
    closed: str | None = None  # support ended
    form: Form | None = None  # None with ``closed``: the outcomes form is missing
    decision: str = "accepted"


@dataclass(frozen=True)
class Person:
    ref: str
    worker: str
    spells: tuple[Spell, ...]
    # (review date, registered with a GP, ((admitted, discharged or ""), ...))
    reviews: tuple[tuple[str, bool, tuple[tuple[str, str], ...]], ...] = ()
    # (money ref, type, status, amount, applied or decided on)
    money: tuple[tuple[str, str, str, float, str], ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


def p(ref: str, worker: str, *spells: Spell, **more: Any) -> Person:
    return Person(ref, worker, spells, **more)


PEOPLE = (
    p("P01", A, Spell("2026-01-12T10:00", "2026-01-20"),
      reviews=(("2026-04-20", True, ()), ("2026-07-20", True, ())),
      money=(("DHP-1", "Discretionary Housing Payment", "awarded", 480.00, "2026-09-10"),)),
    p("P02", B, Spell("2026-02-02T10:00", "2026-02-10", "2026-07-15",
                      Form(planned=True, independent=True, paid=(True, True)))),
    p("P03", A, Spell("2026-03-03T10:00", "2026-03-09", "2026-08-31",
                      Form(planned=False, independent=True, training=(True, True)))),
    # Closed on the last day of Q3, in British Summer Time.
    p("P04", C, Spell("2026-03-16T10:00", "2026-03-23", "2026-09-30",
                      Form(planned=True, independent=True, paid=(True, False),
                           training=(True, False), gp=False))),
    p("P05", B, Spell("2026-04-01T10:00", "2026-04-08", "2026-09-14")),  # form missing
    p("P06", A, Spell("2026-04-15T10:00", "2026-04-20", "2026-09-03",
                      Form(planned=False, independent=False, died=True))),
    p("P07", B, Spell("2026-05-05T10:00", "2026-05-11"),
      reviews=(("2026-08-10", False, (("2026-08-01", "2026-08-06"),)),),
      money=(("ELF-1", "Emergency Local Fund", "awarded", 120.50, "2026-11-05"),)),
    p("P08", C, Spell("2026-05-20T10:00", "2026-06-01"),
      reviews=(("2026-09-01", True, ()), ("2026-10-05", True, (("2026-09-28", "2026-10-03"),)))),
    p("P09", A, Spell("2026-06-10T10:00", "2026-06-15", "2026-10-20",
                      Form(planned=True, independent=True, paid=(True, True),
                           training=(True, False)))),
    p("P10", B, Spell("2026-06-22T10:00", "2026-07-01")),
    p("P11", C, Spell("2026-07-06T09:00", "2026-07-13", "2026-11-18",
                      Form(planned=False, independent=False, paid=(True, False))),
      money=(("FV-1", "food vouchers", "awarded", 30.00, "2026-11-12"),
             ("FV-2", "food vouchers", "applied for", 20.00, "2026-11-20"))),
    p("P12", A, Spell("2026-07-20T10:00", "2026-07-27"),
      reviews=(("2026-10-26", True, (("2026-11-02", ""),)),
               ("2026-11-16", True, (("2026-11-02", "2026-11-09"),))),
      money=(("DHP-2", "Discretionary Housing Payment", "applied for", 350.25, "2026-10-20"),
             ("DHP-2", "Discretionary Housing Payment", "awarded", 350.25, "2026-11-25"))),
    p("P13", B, Spell("2026-08-03T10:00", decision="declined")),
    p("P14", C, Spell("2026-08-17T10:00", "2026-08-24", "2026-08-28", Form())),
    p("P15", A, Spell("2026-09-01T09:30", "2026-09-07"),
      money=(("HSF-1", "other hardship fund", "awarded", 75.00, "2026-09-22"),)),
    p("P16", B, Spell("2026-09-15T14:00", "2026-09-21")),
    # Referred at 23:30 on the last day of Q3 (British Summer Time): Q3's.
    p("P17", C, Spell("2026-09-30T23:30", decision="waiting list")),
    p("P18", A, Spell("2026-10-01T00:10", "2026-10-05")),
    p("P19", B, Spell("2026-10-12T10:00", "2026-10-19"),
      money=(("OF-1", "other funds", "awarded", 200.00, "2026-11-30"),)),
    p("P20", C, Spell("2026-11-02T11:00", "2026-11-09"),
      money=(("DHP-3", "Discretionary Housing Payment", "refused", 500.00, "2026-11-15"),)),
    p("P21", A, Spell("2026-11-16T15:00", "2026-11-23", "2026-11-30")),  # form missing
    p("P22", B, Spell("2026-11-27T16:45", decision="waiting list")),
    p("P23", C, Spell("2026-12-07T10:00", "2026-12-14")),
    p("P24", A, Spell("2025-11-03T10:00", "2025-11-10", "2026-01-30", Form())),
    p("P25", B, Spell("2025-12-01T10:00", "2025-12-08"),
      reviews=(("2026-06-08", True, ()), ("2026-12-07", True, ()))),
    p("P26", C, Spell("2026-02-16T10:00", "2026-02-23", "2026-05-29", Form()),
      Spell("2026-10-05T10:00", "2026-10-12")),
    p("P27", A, Spell("2026-03-02T10:00", "2026-03-09", "2026-11-04",
                      Form(planned=True, independent=False, training=(True, True)))),
    p("P28", B, Spell("2026-06-01T10:00", "2026-06-08", "2026-12-18",
                      Form(planned=False, independent=True, gp=False))),
    p("P29", C, Spell("2026-01-05T10:00", "2026-01-12", "2026-06-30", Form())),
    p("P30", A, Spell("2026-07-01T08:00", "2026-07-06"), reviews=(("2026-09-28", True, ()),),
      money=(("DHP-4", "Discretionary Housing Payment", "awarded", 100.00, "2026-12-01"),)),
)

# Hand-made clocks: (case, clock, started, due, closed, met, working days late).
CLOCKS = (
    ("P15", "referral", "2026-09-01T09:30", "2026-09-03T09:30", "2026-09-02T10:00", True, 0),
    ("P16", "referral", "2026-09-15T14:00", "2026-09-17T14:00", "2026-09-18T09:00", False, 1),
    ("P17", "referral", "2026-09-30T23:30", "2026-10-02T23:30", None, None, None),
    ("P10", "review", "2026-07-01", "2026-09-23", None, None, None),
    ("P12", "plan", "2026-07-27", "2026-08-03", "2026-08-10", False, 5),
    ("P30", "plan", "2026-07-06", "2026-07-13", "2026-07-16", False, 3),
    ("P01", "review", "2026-04-20", "2026-07-20", "2026-07-20", True, 0),
    ("P04", "outcomes-form", "2026-09-30", "2026-10-14", "2026-10-12", True, 0),
    ("P05", "outcomes-form", "2026-09-14", "2026-09-28", None, None, None),
)


def _worker(name: str) -> dict[str, str]:
    return {"name": name, "role": "Housing Support Officer"}


def case_file(kind: str, ref: str, worker: str, **changes: Any) -> dict[str, Any]:
    document = example(kind)
    document["case_ref"] = ref
    data = document["data"]
    data["person"] = {"name": f"Person {ref}"}
    data["worker"] = _worker(worker)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = copy.deepcopy(value)
    return document


def _need(pair: tuple[bool, bool]) -> dict[str, bool]:
    return {"need_identified": pair[0], "achieved": pair[0] and pair[1]}


def _person_files(person: Person) -> list[dict[str, Any]]:
    files = []
    ref, worker = person.ref, person.worker
    for spell in person.spells:
        decided_on = spell.referred_at[:10]
        files.append(case_file(
            "referral", ref, worker, received_at=spell.referred_at,
            decision={"outcome": spell.decision, "decided_on": decided_on}
            if spell.decision != "declined"
            else {"outcome": "declined", "decided_on": decided_on, "reason": "not eligible"},
            first_contact_at=None))
        if spell.opened:
            files.append(case_file("support_plan", ref, worker, plan_date=spell.opened,
                                       support_started_on=spell.opened,
                                       review_date=spell.opened))
        if spell.closed:
            files.append(case_file("support_ended", ref, worker,
                                       support_ended_on=spell.closed, reason="evicted",
                                       learned_on=spell.closed))
        if spell.closed and spell.form and spell.opened:
            form = spell.form
            hard = {"paid_work": _need(form.paid), "training_or_education": _need(form.training),
                    "registered_with_gp": form.gp, "hospital_stays": [],
                    "independence_maintained": form.independent}
            files.append(case_file(
                "leaver_outcomes", ref, worker, support_started_on=spell.opened,
                support_ended_on=spell.closed, completed_on=spell.closed,
                ended_because="died" if form.died else "goals achieved",
                planned_move_on=form.planned,
                destination="not applicable: the person died" if form.died
                else "stayed in their own home", hard_outcomes=hard, notes=None))
    for day, gp, stays in person.reviews:
        files.append(case_file(
            "support_review", ref, worker, review_date=day, next_review_date=day,
            hard_outcomes={"registered_with_gp": gp, "hospital_stays": [
                {"admitted_on": a, **({"discharged_on": d} if d else {})} for a, d in stays]}))
    for money_ref, money_type, status, amount, on in person.money:
        dated = {"applied_on": on, "decided_on": None} if status == "applied for" \
            else {"decided_on": on, "applied_on": None}
        files.append(case_file("money_secured", ref, worker, money_ref=money_ref,
                                   type=money_type, status=status, amount=amount, **dated))
    return files


def case_files(people: tuple[Person, ...] = PEOPLE) -> list[dict[str, Any]]:
    """Every case file of ``people``, in the order they are recorded."""
    return [f for person in people for f in _person_files(person)]


def record(store: Store, documents: list[dict[str, Any]], start: int = 0,
           base: dt.datetime = dt.datetime(2027, 1, 2, 9, 0, tzinfo=dt.UTC)) -> None:
    """Record ``documents`` in ``store`` as accepted case files, in order, received a minute
    apart from ``base``."""
    for index, document in enumerate(documents, start=start):
        raw = json.dumps(document, ensure_ascii=False).encode("utf-8")
        store.record_submission(SubmissionRecord(
            claim_id=f"fixture-{index}", file_name=f"{index:04d}.json",
            sha256=hashlib.sha256(raw).hexdigest(),
            received_at=base + dt.timedelta(minutes=index), outcome=SubmissionOutcome.ACCEPTED,
            raw=raw, case_ref=document["case_ref"], kind=document["kind"]))


def fill_store(store: Store) -> None:
    """The fixture's case files and clocks, in ``store``."""
    record(store, case_files())
    for ref, name, started, due, closed, met, late in CLOCKS:
        store.open_clock(ClockRecord(ref, name, "fixture", started, due, closed, met, late))
