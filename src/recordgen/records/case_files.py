"""The case files a case has had accepted, read back from the store, in the order they arrived:
what a case's status, its clocks and the rules that read a case's earlier records are worked out
from (and, later, the service's monitoring returns).

Only case files that were accepted count (a rejected file said nothing; a duplicate or an unchanged
file says again what one already counted said). A case file was valid when it arrived, so its data
is read as it was received; one that can no longer be read as JSON is left out here and reported
by ``recordgen verify``. Nothing here writes.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from recordgen.records.rows import SubmissionOutcome, SubmissionRecord


class HoldsSubmissions(Protocol):
    """What reading case files needs of a store."""

    def submissions(self, case_ref: str | None = None) -> list[SubmissionRecord]: ...


@dataclass(frozen=True)
class StoredCaseFile:
    """One accepted case file: its kind and data as received, when, and its row in the store."""

    kind: str
    case_ref: str
    data: Mapping[str, Any]
    received_at: dt.datetime
    submission_id: int | None = None


def stored_case_file(submission: SubmissionRecord) -> StoredCaseFile | None:
    """The accepted case file a submission holds, or None (not accepted, or not readable)."""
    if submission.outcome is not SubmissionOutcome.ACCEPTED or submission.case_ref is None \
            or submission.kind is None:
        return None
    data = _data(submission.raw)
    if data is None:
        return None
    return StoredCaseFile(submission.kind, submission.case_ref, data, submission.received_at,
                          submission.id)


def case_file_of_row(row: Mapping[str, Any]) -> StoredCaseFile | None:
    """An accepted case file from the columns ``id, case_ref, kind, received_at, raw`` of its
    submission row, or None when it cannot be read as one."""
    raw, received = row["raw"], row["received_at"]
    if not isinstance(raw, bytes | str) or not isinstance(received, str):
        return None
    try:
        received_at = dt.datetime.fromisoformat(received)
    except ValueError:
        return None
    data = _data(raw)
    if data is None:
        return None
    return StoredCaseFile(str(row["kind"]), str(row["case_ref"]), data, received_at,
                          int(row["id"]))


def _data(raw: bytes | str) -> Mapping[str, Any] | None:
    """The ``data`` of a case file as received, or None when it cannot be read as one."""
    try:
        document = json.loads(raw)
    except ValueError:
        return None
    data = document.get("data") if isinstance(document, Mapping) else None
    return data if isinstance(data, Mapping) else None


def picked_case_file(row: Mapping[str, Any], fields: Sequence[str]) -> StoredCaseFile | None:
    """An accepted case file with only ``fields`` of its data, from the columns ``id, case_ref,
    kind, received_at`` and ``picked`` (those fields' values, in order, as a JSON array or a
    list: what the database picked out); a field with no value is left out. None when it
    cannot be read as one."""
    picked, received = row["picked"], row["received_at"]
    try:
        if isinstance(picked, bytes):
            picked = picked.decode("utf-8")
        values = _json_array(picked) if isinstance(picked, str) else picked
        received_at = dt.datetime.fromisoformat(received) if isinstance(received, str) else None
    except ValueError:
        return None
    if not isinstance(values, list) or len(values) != len(fields) or received_at is None:
        return None
    data = {key: value for key, value in zip(fields, values, strict=True) if value is not None}
    return StoredCaseFile(str(row["kind"]), str(row["case_ref"]), data, received_at,
                          int(row["id"]))


_DECODER = json.JSONDecoder()


def _json_array(text: str) -> object:
    """What ``json.loads`` reads from the text the database wrote (its JSON functions write no
    spaces around it), without its checks and wrappers: this runs once for each case file a
    return counts. ValueError (json.JSONDecodeError) if it is not JSON, or more than one value."""
    value, end = _DECODER.raw_decode(text)
    if end != len(text):
        raise ValueError("more than one JSON value")
    return value


def accepted_case_files(store: HoldsSubmissions, case_ref: str | None = None
                        ) -> list[StoredCaseFile]:
    """Every accepted case file of ``case_ref`` (of every case when None), oldest first."""
    return of_submissions(store.submissions(case_ref))


def of_submissions(submissions: Iterable[SubmissionRecord]) -> list[StoredCaseFile]:
    read = (stored_case_file(s) for s in submissions)
    return sorted((c for c in read if c is not None),
                  key=lambda c: (c.received_at, c.submission_id or 0))


def by_case(case_files: Iterable[StoredCaseFile]) -> dict[str, list[StoredCaseFile]]:
    """The case files grouped by case reference, each group oldest first."""
    grouped: dict[str, list[StoredCaseFile]] = {}
    for case_file in case_files:
        grouped.setdefault(case_file.case_ref, []).append(case_file)
    return grouped


def pence(amount: object) -> int:
    """An amount of money in a case file (pounds, as a JSON number with at most two figures after
    the point) in whole pence, exactly: 480.1 is 48010, never 48009.999. ValueError for anything
    else (three figures after the point, a negative amount, text)."""
    if isinstance(amount, bool) or not isinstance(amount, int | float):
        raise ValueError(f"{amount!r} is not an amount of money")
    try:
        pounds = Decimal(repr(amount))  # the shortest text that reads back as the number written
        if not pounds.is_finite():
            raise ValueError(f"{amount!r} is not an amount of money")
        in_pence = pounds * 100
        if pounds < 0 or in_pence != in_pence.to_integral_value():
            raise ValueError(f"{amount!r} is not an amount in pounds and pence")
        return int(in_pence)
    except InvalidOperation as exc:
        raise ValueError(f"{amount!r} is not an amount of money") from exc


def pounds(in_pence: int) -> str:
    """``48010`` -> ``£480.10``; thousands are separated (``£1,250.00``)."""
    return f"£{in_pence // 100:,}.{in_pence % 100:02d}"
