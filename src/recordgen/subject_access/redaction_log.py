"""The redaction log of a subject access bundle, for the data protection officer: what was
withheld from each record and why, what was left out and why, where a name could belong to more
than one person, and, plainly, what a machine cannot find. It names fields (JSON paths) and
reasons, never the values withheld, and cites the law by name, never a file the reader does not
have.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from recordgen.cases import CaseFile
from recordgen.dates import date_field, uk_date, uk_date_time
from recordgen.subject_access.redaction import (
    MARKER,
    CaseScrubber,
    Redacted,
    Shared,
    Standing,
    Withholding,
    searched,
)

_MOST_PLACES = 4  # places listed for one shared word before "and N more"
_WIDTH = 100


def _wrap(text: str, first: str = "  ", rest: str = "  ") -> list[str]:
    return textwrap.wrap(text, _WIDTH, initial_indent=first, subsequent_indent=rest,
                         break_long_words=False, break_on_hyphens=False)


@dataclass(frozen=True)
class LogRecord:
    """One record of the bundle, as the log describes it."""

    number: int
    title: str  # as shown in the bundle
    date: str
    case_file: int  # the store's submission id: records made from one case file share it
    is_document: bool
    shown_as: str  # how a document is shown
    redacted: Redacted


def redaction_log(bundle_name: str, request: CaseFile, received_at: dt.datetime, due: dt.date,
                  records: Sequence[LogRecord], request_redacted: Redacted,
                  scrubber: CaseScrubber, left_out: Sequence[str]) -> str:
    received = uk_date(date_field(request.data["received_on"]))
    lines = [
        f"Redaction log for the subject access bundle {bundle_name}",
        "For the data protection officer. This log is not part of the bundle: do not send it.",
        "",
        f"Case reference: {request.case_ref}",
        f"Request received: {received} (case file taken in at {uk_date_time(received_at)})",
        f"Response due by: {uk_date(due)}",
        f"Records in the bundle: {len(records)}",
        f'Withheld information is replaced in the bundle by "{MARKER}".',
        "",
        "Who is a third party:",
        *_wrap("Only the person who asked (named as the person in the request) and staff acting "
               "in their job are not third parties. Everyone else named in the records is one: "
               "relatives, friends, advocates and representatives, people who referred the "
               "person, other residents, members of the public, and other service users (UK GDPR "
               "Article 15(4); Data Protection Act 2018, Schedule 2, Part 3). A third party's "
               "entry is withheld whole, wherever it appears: their name, contact details, "
               "relationship and what they did. Only fixed choices from a list, such as their "
               "role, are kept."),
        "",
        "Withheld, record by record:",
    ]
    first_number: dict[int, int] = {}
    for record in records:
        lines.append(f"  {record.number}. {record.title} ({record.date})")
        if record.is_document:
            lines.append(f"     shown as: {record.shown_as}")
        withheld = record.redacted.withheld
        if record.case_file in first_number and (withheld or record.redacted.read_for):
            lines.append(f"     the same information as in record {first_number[record.case_file]}")
            continue
        first_number.setdefault(record.case_file, record.number)
        lines.extend(_withholding_lines(record.redacted))
    lines += ["", "The covering letter (from the request itself):"]
    lines.extend(_withholding_lines(request_redacted))
    lines += ["", "Names and details recorded for more than one person (review these):"]
    lines.extend(_shared_lines(scrubber.shared))
    lines += ["", "Not in the bundle:"]
    for reason in (
        *left_out,
        "The request itself, and any earlier subject access bundle (a copy of these records).",
        f"Records under any case reference other than {request.case_ref}. If the person may be "
        "named in other cases (for example as another resident in an incident report), search "
        "for them there and consider those records separately.",
    ):
        lines.extend(_wrap(reason, "  - ", "    "))
    lines += [
        "",
        *_checked_lines(searched(scrubber)),
        "",
    ]
    return "\n".join(lines)


def _withholding_lines(redacted: Redacted) -> list[str]:
    if not redacted.withheld and not redacted.read_for:
        return ["     nothing withheld"]
    out = [f"     {w.path}: withheld ({w.reason}{_places(w)})" for w in redacted.withheld]
    out += [f"     {w.path}: read this ({w.reason}{_places(w)})" for w in redacted.read_for]
    return out


def _places(withholding: Withholding) -> str:
    shared = "a word shared with the name of the person or of a member of staff: see below"
    if withholding.count <= 1:
        return f", {shared}" if withholding.ambiguous else ""
    text = f", {withholding.count} places"
    return f"{text}; {withholding.ambiguous} of them {shared}" if withholding.ambiguous else text


def _shared_lines(shared: Sequence[Shared]) -> list[str]:
    if not shared:
        return ["  None found."]
    out: list[str] = []
    for item in shared:
        third = _where(item.third_party)
        whose = sorted({w for w, _ in item.protected}, key=lambda w: w.value)
        others = " and ".join(_whose(w) for w in whose)
        own = _where(tuple(where for _, where in item.protected))
        if item.withheld:
            out += _wrap(f"A word of the name of another person ({third}) is also part of "
                       f"{others} ({own}). When in doubt we withhold: the word is withheld "
                       "wherever it stands alone, and the full name of the person or member of "
                       "staff is kept. Read the places above marked as a shared word: where the "
                       "text is about the person or the member of staff, the word may be "
                       "released.", "  - ", "    ")
        else:
            out += _wrap(f"A value recorded for another person ({third}) is also recorded as "
                       f"{others}'s own ({own}), for example a shared home address or phone. It "
                       "is kept wherever it appears, because it is theirs too: check that "
                       "nothing around it identifies the other person.", "  - ", "    ")
    return out


def _whose(standing: Standing) -> str:
    return "the person's own name" if standing is Standing.REQUESTER else \
        "the name of a member of staff"


def _where(places: Sequence[str]) -> str:
    shown = list(places[:_MOST_PLACES])
    more = len(places) - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more else "")


def _checked_lines(count: int) -> list[str]:
    cannot = (
        "nicknames and short forms of a name (a \"Kate\" for \"Katherine\"), initials, and "
        "misspellings;",
        "descriptions that identify someone without naming them (\"her neighbour\", \"her "
        "son\", \"the man in flat 3\");",
        "people named only in free text, never in an entry of their own in this case's records "
        "(as a contact, a referrer, an advocate, a person involved): the search knows only the "
        "names recorded in such entries under this case reference, not those recorded in other "
        "cases;",
        "a name written in another script or spelling than the one recorded;",
        "what a third party told us in confidence about the person: the information itself can "
        "identify them even when their name is withheld.",
    )
    return [
        "What was checked automatically:",
        *_wrap(f"{count} names, name words and contact details of other people, taken from their "
               "entries in this case's records, were searched for in every text of every record, "
               "in the covering letter and in the record titles: in any letter case, with or "
               "without accents, whatever the apostrophe, hyphen or spacing; phone numbers in any "
               "format (+44 or 0, spaces, brackets, dashes); postcodes in any case, spacing or "
               "separator; a family name in the plural; a street or building without its house "
               "or flat number, unless its words are common to streets everywhere; invisible "
               "characters inside any of these ignored; whole words only. A word of a name that "
               "is also an ordinary English word is "
               "withheld where it is written with a capital letter; written in lower case it is "
               "left, and listed above as \"read this\"."),
        "",
        "What cannot be found automatically (read the bundle for these before sending it):",
        *(line for item in cannot for line in _wrap(item, "  - ", "    ")),
    ]
