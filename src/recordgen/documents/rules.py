"""The service's rules that one case file can show, beyond what its JSON Schema says.

Each rule reads the data defensively (a value the schema already refused is skipped here, so that
every problem is still reported at once) and yields :class:`Problem` objects. The rules cite the
policy they come from.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from recordgen.calendar import one_calendar_month
from recordgen.dates import parse_date, parse_moment, uk_date
from recordgen.errors import Problem
from recordgen.settings import Settings

Rule = Callable[[Mapping[str, Any], Settings, dt.date], Iterator[Problem]]


def rule_problems(
    kind: str, data: Mapping[str, Any], settings: Settings, today: dt.date
) -> list[Problem]:
    return [p for rule in RULES.get(kind, ()) for p in rule(data, settings, today)]


def _date(data: Mapping[str, Any], key: str) -> dt.date | None:
    return parse_date(data.get(key))


def _datetime(data: Mapping[str, Any], key: str) -> dt.datetime | None:
    return parse_moment(data.get(key))


def _mapping(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    return value if isinstance(value, list) else []


def _not_in_future(
    data: Mapping[str, Any], key: str, today: dt.date, what: str
) -> Iterator[Problem]:
    day = _date(data, key)
    if day is None:
        moment = _datetime(data, key)
        day = moment.date() if moment else None
    if day is not None and day > today:
        yield Problem(
            f"$.data.{key}",
            f"The {what} is {uk_date(day)}, which is after today ({uk_date(today)}).",
            "Check the date: it should be the day this already happened.",
        )


# --- needs and risk assessment ------------------------------------------------------------------


def assessment_dates(data: Mapping[str, Any], _: Settings, today: dt.date) -> Iterator[Problem]:
    yield from _not_in_future(data, "assessment_date", today, "assessment date")
    referral = _mapping(data, "referral")
    received, contact = _datetime(referral, "received_at"), _datetime(referral, "first_contact_at")
    if received and contact and contact < received:
        yield Problem(
            "$.data.referral.first_contact_at",
            "The first contact is recorded as before the referral was received.",
            "Check both dates and times; first contact comes after the referral.",
        )


# --- SMART support plan -------------------------------------------------------------------------


def smart_objectives(data: Mapping[str, Any], settings: Settings, _: dt.date) -> Iterator[Problem]:
    # Support planning policy §5.6 and Floating support specification §5.1.1: objectives are
    # Time-bound, so each has a target date after the plan is agreed.
    plan_date = _date(data, "plan_date")
    if plan_date is None:
        return
    for index, objective in enumerate(_list(data, "objectives")):
        if not isinstance(objective, Mapping):
            continue
        target = _date(objective, "target_date")
        if target is not None and target <= plan_date:
            yield Problem(
                f"$.data.objectives[{index}].target_date",
                f"Objective {index + 1} has a target date of {uk_date(target)}, which is not "
                f"after the plan date ({uk_date(plan_date)}).",
                "Give each objective a target date after the date of the plan.",
            )


def review_within_interval(
    data: Mapping[str, Any], settings: Settings, _: dt.date
) -> Iterator[Problem]:
    # Service standard: plans are reviewed "no later than every 12 weeks"; Support planning policy
    # §5.11 offers 6 or 12 months. The service's choice is the setting rules.max_review_interval.
    plan_date, review = _date(data, "plan_date"), _date(data, "review_date")
    if plan_date is None or review is None:
        return
    interval = settings.rules.max_review_interval
    latest = interval.after(plan_date)
    if review <= plan_date:
        yield Problem(
            "$.data.review_date",
            f"The review date ({uk_date(review)}) is not after the plan date "
            f"({uk_date(plan_date)}).",
            f"Set a review date after the plan date and no later than {uk_date(latest)}.",
        )
    elif review > latest:
        yield Problem(
            "$.data.review_date",
            f"The review date ({uk_date(review)}) is more than {interval} after the plan date "
            f"({uk_date(plan_date)}); this service reviews plans at least every {interval}.",
            f"Set the review date on or before {uk_date(latest)}.",
        )


def hours_within_cap(data: Mapping[str, Any], settings: Settings, _: dt.date) -> Iterator[Problem]:
    # Floating support specification §5.1.2: "a maximum of three hours per week per Service User".
    hours, cap = data.get("hours_per_week"), settings.rules.max_hours_per_week
    if isinstance(hours, int | float) and not isinstance(hours, bool) and hours > cap:
        yield Problem(
            "$.data.hours_per_week",
            f"The plan gives {hours:g} hours of support a week; this service offers at most "
            f"{cap:g}.",
            f"Reduce the hours to {cap:g} or fewer, or agree extra support with the commissioner "
            "and have the settings changed.",
        )


def within_support_limit(
    data: Mapping[str, Any], settings: Settings, _: dt.date
) -> Iterator[Problem]:
    # Floating support specification §1.8 and §5.1.2: support is limited to two years unless a
    # continuation is agreed with the care practitioner (§1.9, §1.10).
    started = _date(data, "support_started_on")
    if started is None or data.get("extended_support_agreed") is True:
        return
    years = settings.rules.max_support_years
    try:
        end = started.replace(year=started.year + years)
    except ValueError:  # 29 February
        end = started.replace(year=started.year + years, day=28)
    dated = [("$.data.review_date", _date(data, "review_date"))] + [
        (f"$.data.objectives[{i}].target_date", _date(o, "target_date"))
        for i, o in enumerate(_list(data, "objectives"))
        if isinstance(o, Mapping)
    ]
    for path, day in dated:
        if day is not None and day > end:
            yield Problem(
                path,
                f"{uk_date(day)} is after the end of the {years}-year support period that began "
                f"on {uk_date(started)} (it ends on {uk_date(end)}).",
                'Bring the date within the support period, or, if a longer period has been agreed '
                'with the care practitioner, add "extended_support_agreed": true.',
            )


def signature_dates(data: Mapping[str, Any], _: Settings, today: dt.date) -> Iterator[Problem]:
    signatures = _mapping(data, "signatures")
    if signatures.get("service_user_agreed") is True and "service_user_signed_on" not in signatures:
        yield Problem(
            "$.data.signatures.service_user_signed_on",
            "The plan says the service user agreed it, but not the date they signed.",
            "Add the date they signed, as YYYY-MM-DD.",
        )
    for key in ("service_user_signed_on", "worker_signed_on"):
        yield from (
            Problem(f"$.data.signatures.{key}", p.message, p.fix)
            for p in _not_in_future(signatures, key, today, "signature date")
        )


# --- exit confirmation letter -------------------------------------------------------------------


def exit_reason(data: Mapping[str, Any], _: Settings, today: dt.date) -> Iterator[Problem]:
    yield from _not_in_future(data, "request_received_on", today, "date the request was received")
    ended_by, reason = data.get("ended_by"), data.get("provider_reason")
    if ended_by == "provider" and reason is None:
        # Floating support specification §5.4.1 lists the only reasons support may be withdrawn.
        yield Problem(
            "$.data.provider_reason",
            "The service is ending this person's support, but the reason is not given.",
            "Add provider_reason: two-year limit reached, three missed appointments, risk to "
            "staff unmanageable, or structured review (floating support specification, "
            "section 5.4.1).",
        )
    if ended_by == "service user" and reason is not None:
        yield Problem(
            "$.data.provider_reason",
            "The person asked to leave, but a reason for the service ending support is also "
            "given.",
            'Remove provider_reason, or set "ended_by" to "provider" if the service ended it.',
        )
    missed = [d for d in _list(data, "missed_appointments") if isinstance(d, str)]
    if reason == "three missed appointments" and len(missed) < 3:
        yield Problem(
            "$.data.missed_appointments",
            f"The reason given is three missed appointments, but {len(missed)} "
            f"{'is' if len(missed) == 1 else 'are'} listed.",
            "List the dates of the three appointments that were missed (floating support "
            "specification, section 5.4.1).",
        )


# --- serious incident ---------------------------------------------------------------------------


def incident_timing(data: Mapping[str, Any], _: Settings, today: dt.date) -> Iterator[Problem]:
    yield from _not_in_future(data, "occurred_at", today, "time of the incident")
    occurred, notified = _datetime(data, "occurred_at"), _datetime(data, "commissioner_notified_at")
    if occurred and notified and notified < occurred:
        yield Problem(
            "$.data.commissioner_notified_at",
            "The commissioning team is recorded as told before the incident happened.",
            "Check both dates and times.",
        )
    services = _mapping(data, "emergency_services")
    if services.get("called") is True and not _list(services, "services"):
        yield Problem(
            "$.data.emergency_services.services",
            "Emergency services are recorded as called, but not which.",
            "List them: police, ambulance, fire and rescue, mental health crisis team, or other.",
        )


def safeguarding_consent(data: Mapping[str, Any], _: Settings, __: dt.date) -> Iterator[Problem]:
    # Service standard "Confidentiality": consent is sought before a safeguarding referral, but one may be
    # made without it where a person is in danger, an adult or child is at risk or a crime has been
    # committed; the reason must then be recorded.
    safeguarding = _mapping(data, "safeguarding")
    if safeguarding.get("referral_made") is not True:
        return
    consent = safeguarding.get("consent")
    if consent is None:
        yield Problem(
            "$.data.safeguarding.consent",
            "A safeguarding referral was made, but the file does not say whether the person "
            "consented.",
            "Add consent: given, refused, or not sought.",
        )
    reason = safeguarding.get("reason_without_consent")
    if consent in ("refused", "not sought") and not (isinstance(reason, str) and reason.strip()):
        yield Problem(
            "$.data.safeguarding.reason_without_consent",
            "A safeguarding referral was made without the person's consent, but the reason is "
            "not recorded.",
            "Add reason_without_consent: why the referral was made without consent (for example, "
            "the person was in danger, an adult or child was at risk, or a crime had been "
            "committed).",
        )
    if "referred_to" not in safeguarding:
        yield Problem(
            "$.data.safeguarding.referred_to",
            "A safeguarding referral was made, but not to whom.",
            "Add referred_to: the team the referral went to.",
        )


# --- subject access request --------------------------------------------------------------------

def subject_access_request(
    data: Mapping[str, Any], settings: Settings, today: dt.date
) -> Iterator[Problem]:
    """Dates that already happened are not in the future; an extension is told within the first
    month (UK GDPR Article 12(3)); a representative goes with a request made by one; a scope's
    dates are in order."""
    received = _date(data, "received_on")
    for key, what in (("received_on", "date the request was received"),
                      ("identity_checked_on", "date the person's identity was checked"),
                      ("extension_told_on", "date the person was told of the extension")):
        day = _date(data, key)
        if day is not None and day > today:
            yield Problem(f"$.data.{key}", f"The {what} is {uk_date(day)}, which is after today "
                          f"({uk_date(today)}).", "Check the date: it should be the day this "
                          "already happened.")
    told = _date(data, "extension_told_on")
    if told is not None and data.get("extended") is False:
        yield Problem("$.data.extension_told_on", "This gives a date the person was told of an "
                      "extension, but \"extended\" is false.", "Set \"extended\" to true if the "
                      "deadline was extended; otherwise remove \"extension_told_on\".")
    if told is not None and received is not None and data.get("extended") is True:
        # Article 12(3) and the ICO: the person must be told of an extension "within one month of
        # receipt of the request", with the reasons.
        latest = one_calendar_month(settings.calendar, received)
        if told < received:
            yield Problem("$.data.extension_told_on", f"The person was told of the extension on "
                          f"{uk_date(told)}, before the request was received "
                          f"({uk_date(received)}).", "Check both dates.")
        elif told > latest:
            yield Problem("$.data.extension_told_on", f"The person was told of the extension on "
                          f"{uk_date(told)}, after the first month ended ({uk_date(latest)}). The "
                          "law allows an extension only when the person is told within the first "
                          "month.", "Check the date. If it is right, the deadline cannot be "
                          "extended: set \"extended\" to false and answer by the one-month date.")
    if "representative" in data and data.get("requested_by") == "the person":
        yield Problem("$.data.representative", "A representative is given, but \"requested_by\" "
                      "says the person asked for themselves.", "Set \"requested_by\" to "
                      "\"representative\", or remove \"representative\".")
    scope = data.get("scope")
    if isinstance(scope, Mapping):
        start, end = _date(scope, "from"), _date(scope, "to")
        if start is not None and end is not None and end < start:
            yield Problem("$.data.scope.to", f"The scope ends on {uk_date(end)}, before it starts "
                          f"({uk_date(start)}).", "Check the two dates; they may be the wrong way "
                          "round.")


RULES: Mapping[str, tuple[Rule, ...]] = {
    "needs_assessment": (assessment_dates,),
    "support_plan": (
        smart_objectives,
        review_within_interval,
        hours_within_cap,
        within_support_limit,
        signature_dates,
    ),
    "exit_letter": (exit_reason,),
    "serious_incident": (incident_timing, safeguarding_consent),
    "subject_access_request": (subject_access_request,),
}
