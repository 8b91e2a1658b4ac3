"""The service's rules beyond what a case file's JSON Schema says: what one case file can show,
and, for a kind checked against its case (a review, against the current support plan), what the
case's earlier records show.

Each rule reads the data defensively (a value the schema already refused is skipped here, so that
every problem is still reported at once) and yields :class:`Problem` objects. The rules cite the
policy they come from. :data:`RULES` is the one list of them, by kind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

from recordgen.calendar import Interval, one_calendar_month
from recordgen.dates import parse_date, parse_moment, uk_date, uk_date_time
from recordgen.errors import Problem, SettingsError
from recordgen.kinds import SUPPORT_PLAN
from recordgen.records.case_files import StoredCaseFile, pence
from recordgen.settings import Settings

# The case's accepted case files, oldest first, looked up by case reference.
CaseFiles = Callable[[str], Sequence[StoredCaseFile]]


@dataclass(frozen=True)
class Checking:
    """What a rule may use besides the case file's data: the settings, today, and the case's
    earlier records (None when a case file is checked without the records store, as
    ``recordgen validate`` may be: the rules that need them are then left to processing)."""

    settings: Settings
    today: dt.date
    case_ref: str = ""
    case_files: CaseFiles | None = None

    def earlier(self) -> Sequence[StoredCaseFile] | None:
        if self.case_files is None or not self.case_ref:
            return None
        return self.case_files(self.case_ref)


Rule = Callable[[Mapping[str, Any], Checking], Iterator[Problem]]


def rule_problems(kind: str, data: Mapping[str, Any], check: Checking) -> list[Problem]:
    return [p for rule in RULES.get(kind, ()) for p in rule(data, check)]


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


def assessment_dates(data: Mapping[str, Any], check: Checking) -> Iterator[Problem]:
    yield from _not_in_future(data, "assessment_date", check.today, "assessment date")
    referral = _mapping(data, "referral")
    received, contact = _datetime(referral, "received_at"), _datetime(referral, "first_contact_at")
    if received and contact and contact < received:
        yield Problem(
            "$.data.referral.first_contact_at",
            "The first contact is recorded as before the referral was received.",
            "Check both dates and times; first contact comes after the referral.",
        )


# --- SMART support plan -------------------------------------------------------------------------


def smart_objectives(data: Mapping[str, Any], _: Checking) -> Iterator[Problem]:
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


def review_within_interval(data: Mapping[str, Any], check: Checking) -> Iterator[Problem]:
    # Service standard: plans are reviewed "no later than every 12 weeks"; Support planning policy
    # §5.11 offers 6 or 12 months. The service's choice is the setting rules.max_review_interval.
    plan_date, review = _date(data, "plan_date"), _date(data, "review_date")
    if plan_date is None or review is None:
        return
    interval = check.settings.rules.max_review_interval
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


def hours_within_cap(data: Mapping[str, Any], check: Checking) -> Iterator[Problem]:
    # Floating support specification §5.1.2: "a maximum of three hours per week per Service User".
    hours, cap = data.get("hours_per_week"), check.settings.rules.max_hours_per_week
    if isinstance(hours, int | float) and not isinstance(hours, bool) and hours > cap:
        yield Problem(
            "$.data.hours_per_week",
            f"The plan gives {hours:g} hours of support a week; this service offers at most "
            f"{cap:g}.",
            f"Reduce the hours to {cap:g} or fewer, or agree extra support with the commissioner "
            "and have the settings changed.",
        )


def within_support_limit(data: Mapping[str, Any], check: Checking) -> Iterator[Problem]:
    # Floating support specification §1.8 and §5.1.2: support is limited to two years unless a
    # continuation is agreed with the care practitioner (§1.9, §1.10).
    started = _date(data, "support_started_on")
    if started is None or data.get("extended_support_agreed") is True:
        return
    years = check.settings.rules.max_support_years
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


def signature_dates(data: Mapping[str, Any], check: Checking) -> Iterator[Problem]:
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
            for p in _not_in_future(signatures, key, check.today, "signature date")
        )


# --- exit confirmation letter -------------------------------------------------------------------


def exit_reason(data: Mapping[str, Any], check: Checking) -> Iterator[Problem]:
    yield from _not_in_future(data, "request_received_on", check.today,
                              "date the request was received")
    ended_by, reason = data.get("ended_by"), data.get("provider_reason")
    if ended_by == "provider" and reason is None:
        # Floating support specification §5.4.1 lists the only reasons support may be withdrawn.
        yield Problem(
            "$.data.provider_reason",
            "The service is ending this person's support, but the reason is not given.",
            "Add provider_reason: two-year limit reached, unwilling to engage, three missed "
            "appointments, risk to staff unmanageable, or structured review (floating support "
            "specification, section 5.4.1).",
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


def onward_referral_when_vulnerable(data: Mapping[str, Any], _: Checking) -> Iterator[Problem]:
    # Floating support specification §5.4.1: "Where a Service User is discharged but the Provider
    # assesses that the Service User remains vulnerable, then (with the Service User's agreement) a
    # referral should be made to another appropriate organisation." The assessment is recorded;
    # a person still vulnerable has the referral, or the reason there is none.
    vulnerable, why_not = data.get("still_vulnerable"), data.get("no_onward_referral_reason")
    if data.get("ended_by") == "provider" and vulnerable is None:
        yield Problem(
            "$.data.still_vulnerable",
            "The service is ending this person's support, but the file does not say whether they "
            "remain vulnerable.",
            'Add "still_vulnerable": true or false (floating support specification, section '
            "5.4.1: a person who remains vulnerable is referred on, with their agreement).",
        )
    if vulnerable is True and "onward_referral" not in data and why_not is None:
        yield Problem(
            "$.data.onward_referral",
            "The person remains vulnerable as their support ends, but no onward referral is "
            "recorded, nor why there is none.",
            "Add onward_referral (the organisation and the date of the referral), or "
            "no_onward_referral_reason (for example, the person did not agree to one).",
        )
    if why_not is not None and vulnerable is not True:
        yield Problem(
            "$.data.no_onward_referral_reason",
            "A reason for making no onward referral is given, but the person is not recorded as "
            "remaining vulnerable.",
            'Set "still_vulnerable" to true if they remain vulnerable; otherwise remove '
            "no_onward_referral_reason.",
        )


# --- serious incident ---------------------------------------------------------------------------


def incident_timing(data: Mapping[str, Any], check: Checking) -> Iterator[Problem]:
    yield from _not_in_future(data, "occurred_at", check.today, "time of the incident")
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


def safeguarding_consent(data: Mapping[str, Any], _: Checking) -> Iterator[Problem]:
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

def subject_access_request(data: Mapping[str, Any], check: Checking) -> Iterator[Problem]:
    """Dates that already happened are not in the future; an extension is told within the first
    month (UK GDPR Article 12(3)); a representative goes with a request made by one; a scope's
    dates are in order."""
    today, settings = check.today, check.settings
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


# --- referral ------------------------------------------------------------------------------------

# Referral routes through an agency (Floating support specification §4.2.1): made by a professional.
_AGENCY_ROUTES = ("Care Trust", "Citizens Advice", "Health", "Housing Department",
                  "Social Services Department", "Probation", "Other agency")


def _after(data: Mapping[str, Any], key: str, start: dt.datetime | dt.date | None,
           what: str, start_what: str) -> Iterator[Problem]:
    """A problem when the date or moment at ``key`` comes before ``start``."""
    moment = _datetime(data, key) or _date(data, key)
    if moment is None or start is None:
        return
    early = (moment < start if isinstance(moment, dt.datetime) == isinstance(start, dt.datetime)
             else _day(moment) < _day(start))
    if early:
        timed = isinstance(moment, dt.datetime) or isinstance(start, dt.datetime)
        yield Problem(f"$.data.{key}", f"The {what} ({_words(moment)}) is before the "
                      f"{start_what} ({_words(start)}).",
                      "Check both dates and times." if timed else "Check both dates.")


def _day(when: dt.date) -> dt.date:
    return when.date() if isinstance(when, dt.datetime) else when


def _words(when: dt.date) -> str:
    return uk_date_time(when) if isinstance(when, dt.datetime) else uk_date(when)


def age_on(born: dt.date, day: dt.date) -> int:
    """Whole years of age on ``day`` (a birthday on 29 February comes on 1 March in other years)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def referral_timing(data: Mapping[str, Any], check: Checking) -> Iterator[Problem]:
    received = _datetime(data, "received_at")
    for key, what in (("received_at", "time the referral was received"),
                      ("first_contact_at", "time of first contact"),
                      ("crisis_support_given_at", "time crisis support was given")):
        yield from _not_in_future(data, key, check.today, what)
    yield from _after(data, "first_contact_at", received, "first contact",
                      "referral being received")
    yield from _after(data, "crisis_support_given_at", received, "crisis support",
                      "referral being received")
    if "crisis_support_given_at" in data and data.get("crisis") is False:
        yield Problem("$.data.crisis_support_given_at", "Crisis support is recorded, but the "
                      "referral is not marked as a crisis.", 'Set "crisis" to true, or remove '
                      "crisis_support_given_at.")
    decision = _mapping(data, "decision")
    yield from (Problem("$.data.decision.decided_on", p.message, p.fix)
                for p in chain(_not_in_future(decision, "decided_on", check.today, "decision date"),
                               _after(decision, "decided_on", received.date() if received else None,
                                      "decision", "referral being received")))


def referral_decision(data: Mapping[str, Any], _: Checking) -> Iterator[Problem]:
    decision = _mapping(data, "decision")
    outcome = decision.get("outcome")
    if outcome == "declined" and "reason" not in decision:
        yield Problem("$.data.decision.reason", "The referral was declined, but the reason is not "
                      "recorded.", "Add reason: why it was declined, and where the person was "
                      "signposted.")
    if outcome == "declined" and "first_contact_at" not in data:
        # Floating support specification §4.3.1: every person referred is contacted within 48
        # hours "to establish the urgency and nature of support", those declined included.
        yield Problem("$.data.first_contact_at", "The referral was declined, but when the person "
                      "was first contacted is not recorded.", "Add first_contact_at: the "
                      "floating support specification (section 4.3.1) asks for contact with "
                      "everyone referred within 48 hours, before a referral is declined.")


def referral_referrer(data: Mapping[str, Any], _: Checking) -> Iterator[Problem]:
    # Floating support specification §4.2: who referred, by which route.
    route, referrer = data.get("route"), data.get("referrer")
    if route == "Self-referral" and referrer is not None:
        yield Problem("$.data.referrer", "The route is Self-referral, but a referrer is named.",
                      'Remove referrer, or choose the route the referral came by.')
    if route != "Self-referral" and route is not None and referrer is None:
        yield Problem("$.data.referrer", f'The referral came through "{route}", but who made it '
                      "is not recorded.", "Add referrer: acting_as, name, and for a professional "
                      "their organisation.")
    if not isinstance(referrer, Mapping):
        return
    acting = referrer.get("acting_as")
    if route in _AGENCY_ROUTES and isinstance(acting, str) and acting != "professional":
        yield Problem("$.data.referrer.acting_as", f'The referral came through "{route}", an '
                      f'agency, but the referrer is recorded as "{acting}".',
                      'Set acting_as to "professional", or choose the route the referral came '
                      'by (Family or friend, for a relative).')
    if route == "Family or friend" and acting == "professional":
        yield Problem("$.data.referrer.acting_as", "The route is Family or friend, but the "
                      "referrer is recorded as a professional.", 'Set acting_as to "family '
                      'member or friend", or choose the agency\'s route.')
    if acting == "professional" and "organisation" not in referrer:
        yield Problem("$.data.referrer.organisation", "The referrer is a professional, but their "
                      "organisation is not recorded.", "Add organisation: who they work for.")


def referral_eligibility(data: Mapping[str, Any], check: Checking) -> Iterator[Problem]:
    # Floating support specification §1.8 (18 or over: the service's age range is a setting),
    # §4.1.3 (living in the area, or placed outside it temporarily and to be rehoused in it; the
    # person consents to the referral). A referral accepted or put on the waiting list meets them,
    # or records the exception agreed.
    outcome = _mapping(data, "decision").get("outcome")
    eligibility = _mapping(data, "eligibility")
    received = _datetime(data, "received_at")
    born = _date(_mapping(data, "person"), "date_of_birth")
    born_later = False
    if born is not None and received is not None and born > received.date():
        born_later = True
        yield Problem("$.data.person.date_of_birth", f"The date of birth ({uk_date(born)}) is after "
                      "the referral was received.", "Check the date of birth.")
    if outcome not in ("accepted", "waiting list"):
        return
    exception = "exception_agreed" in eligibility
    rules = check.settings.rules
    # An age is judged only from a date of birth that can be right (one problem per mistake).
    if born is not None and received is not None and not exception and not born_later:
        age = age_on(born, received.date())
        if age < rules.min_age or (rules.max_age and age > rules.max_age):
            limits = (f"aged {rules.min_age} to {rules.max_age}" if rules.max_age
                      else f"aged {rules.min_age} or over")
            yield Problem("$.data.person.date_of_birth", f"The referral is {outcome}, but the "
                          f"person was {age} when it was received; this service takes people "
                          f"{limits}.", "Check the date of birth. If an exception was agreed, "
                          "record who agreed it and why in eligibility.exception_agreed; "
                          "otherwise the referral is declined.")
    if eligibility.get("lives_in_area") is False and not exception \
            and eligibility.get("placed_outside_area_temporarily") is not True:
        yield Problem("$.data.eligibility.lives_in_area", f"The referral is {outcome}, but the "
                      "person does not live in the area.", 'If they are in temporary '
                      'accommodation outside the area and expected to be rehoused in it, add '
                      '"placed_outside_area_temporarily": true (floating support specification, '
                      "section 4.1.3); if an exception was agreed, record it in "
                      "eligibility.exception_agreed; otherwise the referral is declined.")
    if eligibility.get("consented_to_referral") is False:
        yield Problem("$.data.eligibility.consented_to_referral", f"The referral is {outcome}, but "
                      "the person has not consented to it.", "The person must consent to the "
                      "referral (floating support specification, section 4.1.3): record their "
                      "consent, or decline the referral.")


# --- support plan review ------------------------------------------------------------------------


def review_dates(data: Mapping[str, Any], check: Checking) -> Iterator[Problem]:
    # Service standard: reviews "no later than every 12 weeks"; Support planning policy §5.11:
    # every six or 12 months by the resident's choice, where the service offers the choice.
    yield from _not_in_future(data, "review_date", check.today, "review date")
    review, following = _date(data, "review_date"), _date(data, "next_review_date")
    rules = check.settings.rules
    chosen_text = data.get("chosen_interval")
    interval = rules.max_review_interval
    if isinstance(chosen_text, str):
        choices = rules.resident_review_choices
        try:
            chosen: Interval | None = Interval.parse(chosen_text)
        except SettingsError:
            chosen = None  # the schema's pattern reports it
        if not choices:
            yield Problem("$.data.chosen_interval", "A review interval chosen by the person is "
                          f"given, but this service reviews every {interval} and offers no "
                          "choice.", "Remove chosen_interval, or ask for the service's "
                          "settings to offer the choice (resident_review_choices).")
        elif chosen is not None and chosen not in choices:
            offered = " or ".join(str(c) for c in choices)
            yield Problem("$.data.chosen_interval", f"The person chose a review every {chosen}; "
                          f"this service offers {offered}.", f"Choose {offered}.")
        elif chosen is not None:
            interval = chosen
    if review is None or following is None:
        return
    latest = interval.after(review)
    if following <= review:
        yield Problem("$.data.next_review_date", f"The next review date ({uk_date(following)}) is "
                      f"not after this review ({uk_date(review)}).",
                      f"Set it after the review and no later than {uk_date(latest)}.")
    elif following > latest:
        yield Problem("$.data.next_review_date", f"The next review date ({uk_date(following)}) is "
                      f"more than {interval} after this review ({uk_date(review)}).",
                      f"Set the next review on or before {uk_date(latest)}.")


def _stays(data: Mapping[str, Any], path: str, today: dt.date,
           ended: dt.date | None = None) -> Iterator[Problem]:
    """Each hospital stay: not in the future, discharged on or after admission, and (for a leaver)
    admitted while supported."""
    for index, stay in enumerate(_list(data, "hospital_stays")):
        if not isinstance(stay, Mapping):
            continue
        where = f"{path}.hospital_stays[{index}]"
        admitted, discharged = _date(stay, "admitted_on"), _date(stay, "discharged_on")
        for key, day in (("admitted_on", admitted), ("discharged_on", discharged)):
            if day is not None and day > today:
                yield Problem(f"{where}.{key}", f"Stay {index + 1} gives {uk_date(day)}, which is "
                              f"after today ({uk_date(today)}).", "Check the date.")
        if admitted is not None and discharged is not None and discharged < admitted:
            yield Problem(f"{where}.discharged_on", f"Stay {index + 1} ends ({uk_date(discharged)}) "
                          f"before it starts ({uk_date(admitted)}).", "Check both dates.")
        if admitted is not None and ended is not None and admitted > ended:
            yield Problem(f"{where}.admitted_on", f"Stay {index + 1} began on {uk_date(admitted)}, "
                          f"after support ended ({uk_date(ended)}).", "List only admissions "
                          "while the person was supported.")


def review_hospital_stays(data: Mapping[str, Any], check: Checking) -> Iterator[Problem]:
    yield from _stays(_mapping(data, "hard_outcomes"), "$.data.hard_outcomes", check.today)


def current_plan(case_files: Sequence[StoredCaseFile],
                 on: dt.date) -> tuple[StoredCaseFile, dt.date] | None:
    """The support plan in force on ``on``: the latest plan dated on or before it (of two with one
    date, the later received), with its date."""
    found = [(day, number, case_file) for number, case_file in enumerate(case_files)
             if case_file.kind == SUPPORT_PLAN.name
             and (day := parse_date(case_file.data.get("plan_date"))) is not None and day <= on]
    if not found:
        return None
    day, _, plan = max(found, key=lambda f: (f[0], f[1]))
    return plan, day


def objective_refs(plan: Mapping[str, Any]) -> list[str]:
    """The references of a plan's objectives: each one's ref, or its number when it has none."""
    objectives = plan.get("objectives")
    return [str(o.get("ref") or number) for number, o in
            enumerate(objectives if isinstance(objectives, list) else [], start=1)
            if isinstance(o, Mapping)]


def review_of_current_plan(data: Mapping[str, Any], check: Checking) -> Iterator[Problem]:
    # Service standard and Support planning policy §5.11: a review looks at the plan in force, each
    # of its objectives in turn. Checked against the case's records (not by `recordgen validate`
    # without the store).
    case_files, review = check.earlier(), _date(data, "review_date")
    if case_files is None or review is None:
        return
    found = current_plan(case_files, review)
    if found is None:
        yield Problem("$.data.objectives", f"No support plan dated on or before the review date "
                      f"({uk_date(review)}) is recorded for case {check.case_ref}, so there is no "
                      "plan to review.", "Send the support plan first, then this review again "
                      "(or check the case reference and the review date).")
        return
    plan, plan_date = found
    refs = objective_refs(plan.data)
    shown = ", ".join(refs)
    seen: set[str] = set()
    for index, objective in enumerate(_list(data, "objectives")):
        ref = objective.get("objective_ref") if isinstance(objective, Mapping) else None
        if not isinstance(ref, str):
            continue
        if ref not in refs:
            yield Problem(f"$.data.objectives[{index}].objective_ref", f'Objective "{ref}" is not '
                          f"in the current support plan (dated {uk_date(plan_date)}), whose "
                          f"objectives are {shown}.", "Use one of those references. If the "
                          "objective was added in a newer version of the plan, send that plan "
                          "first.")
        elif ref in seen:
            yield Problem(f"$.data.objectives[{index}].objective_ref", f'Objective "{ref}" is '
                          "reviewed twice.", "Give each objective's progress once.")
        seen.add(ref)
    missing = [ref for ref in refs if ref not in seen]
    if missing:
        yield Problem("$.data.objectives", f"The review gives no progress on objective"
                      f"{'s' if len(missing) > 1 else ''} {', '.join(missing)} of the current "
                      f"support plan (dated {uk_date(plan_date)}).", "Add progress for each "
                      'objective of the plan ("no longer relevant", with a note, if it no longer '
                      "applies).")


# --- money secured ------------------------------------------------------------------------------


def money_amount_and_dates(data: Mapping[str, Any], check: Checking) -> Iterator[Problem]:
    # Service standard, "How do we monitor our performance?": funds accessed are reported in pounds
    # and pence, so an amount is exact.
    amount = data.get("amount")
    if isinstance(amount, int | float) and not isinstance(amount, bool) and amount > 0:
        try:
            pence(amount)
        except ValueError:
            yield Problem("$.data.amount", f"The amount {amount} has more than two figures after "
                          "the point.", "Write the amount in pounds and pence, for example "
                          "480.00 or 12.50.")
    for key, what in (("applied_on", "application date"), ("decided_on", "decision date")):
        yield from _not_in_future(data, key, check.today, what)
    yield from _after(data, "decided_on", _date(data, "applied_on"), "decision", "application")
    if data.get("status") == "applied for" and "decided_on" in data:
        yield Problem("$.data.decided_on", "A decision date is given, but the status is still "
                      '"applied for".', 'Set the status to "awarded" or "refused", or remove '
                      "decided_on.")
    if data.get("type") in ("other hardship fund", "other funds") and "fund" not in data:
        yield Problem("$.data.fund", f'The type is "{data.get("type")}", but the fund is not '
                      "named.", "Add fund: the name of the fund or scheme.")


# --- leaver's outcomes form and support ended ---------------------------------------------------

# Endings that are not a planned move-on (KPI 2: moved on "in a planned way").
_UNPLANNED = ("unwilling to engage", "three missed appointments", "risk to staff unmanageable",
              "moved away without notice", "evicted", "died")
_DIED = "not applicable: the person died"


def leaver_dates(data: Mapping[str, Any], check: Checking) -> Iterator[Problem]:
    for key, what in (("support_started_on", "day support started"),
                      ("support_ended_on", "day support ended"),
                      ("completed_on", "day the form was completed")):
        yield from _not_in_future(data, key, check.today, what)
    started, ended = _date(data, "support_started_on"), _date(data, "support_ended_on")
    yield from _after(data, "support_ended_on", started, "day support ended",
                      "day support started")
    yield from _after(data, "completed_on", ended, "day the form was completed",
                      "day support ended")
    yield from _stays(_mapping(data, "hard_outcomes"), "$.data.hard_outcomes", check.today, ended)


def leaver_answers_agree(data: Mapping[str, Any], _: Checking) -> Iterator[Problem]:
    # The short-term outcomes form: an outcome achieved is one where a need was identified; a
    # death or an eviction is not a planned move-on (KPI 2).
    groups = (("outcomes", _mapping(data, "outcomes")),
              ("hard_outcomes", _mapping(data, "hard_outcomes")))
    for group, values in groups:
        for key, answer in values.items():
            if isinstance(answer, Mapping) and answer.get("achieved") is True \
                    and answer.get("need_identified") is False:
                yield Problem(f"$.data.{group}.{key}.achieved", "This outcome is recorded as "
                              "achieved, but no need was identified for it.", "Set "
                              "need_identified to true if the person had the need, or achieved "
                              "to false.")
    ended_because, destination = data.get("ended_because"), data.get("destination")
    if (ended_because == "died") != (destination == _DIED) and isinstance(ended_because, str) \
            and isinstance(destination, str):  # anything else is the schema's to report
        yield Problem("$.data.destination", f'Support ended because "{ended_because}", and the '
                      f'destination is "{destination}".', f'Use the destination "{_DIED}" when, '
                      "and only when, the person died.")
    if data.get("planned_move_on") is True and ended_because in _UNPLANNED:
        yield Problem("$.data.planned_move_on", f'Support ended because "{ended_because}", which '
                      "is not a planned move-on.", 'Set "planned_move_on" to false.')


def support_ended_dates(data: Mapping[str, Any], check: Checking) -> Iterator[Problem]:
    yield from _not_in_future(data, "support_ended_on", check.today, "day support ended")
    yield from _not_in_future(data, "learned_on", check.today, "day the service learned of it")
    yield from _after(data, "learned_on", _date(data, "support_ended_on"),
                      "day the service learned of it", "day support ended")


# --- request for a paper copy of the plan ---------------------------------------------------------


def hard_copy_dates(data: Mapping[str, Any], check: Checking) -> Iterator[Problem]:
    # Support planning policy §5.10.
    yield from _not_in_future(data, "requested_on", check.today, "day of the request")
    yield from _not_in_future(data, "sent_on", check.today, "day the copy was sent")
    yield from _after(data, "sent_on", _date(data, "requested_on"), "day the copy was sent",
                      "request")
    if "sent_by" in data and "sent_on" not in data:
        yield Problem("$.data.sent_on", "How the copy was sent is given, but not when.",
                      "Add sent_on: the day the copy was posted or handed over.")


RULES: Mapping[str, tuple[Rule, ...]] = {
    "needs_assessment": (assessment_dates,),
    "support_plan": (
        smart_objectives,
        review_within_interval,
        hours_within_cap,
        within_support_limit,
        signature_dates,
    ),
    "exit_letter": (exit_reason, onward_referral_when_vulnerable),
    "serious_incident": (incident_timing, safeguarding_consent),
    "subject_access_request": (subject_access_request,),
    "referral": (referral_timing, referral_decision, referral_referrer, referral_eligibility),
    "support_review": (review_dates, review_hospital_stays, review_of_current_plan),
    "money_secured": (money_amount_and_dates,),
    "leaver_outcomes": (leaver_dates, leaver_answers_agree),
    "support_ended": (support_ended_dates,),
    "hard_copy_request": (hard_copy_dates,),
}
