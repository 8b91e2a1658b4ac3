"""A case file once it is valid, and its case reference's one canonical form.

Data only: nothing here touches the disk. Every part of recordgen that holds a case file holds a
:class:`CaseFile`; :mod:`recordgen.documents.validate` makes them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from recordgen.kinds import Answer, DocumentKind

# A case reference (the common schema's case_ref, which must say the same): letters, digits,
# hyphens and underscores, and not a name Windows keeps for a device.
CASE_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
_DEVICE_NAMES = re.compile(r"CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9]", re.IGNORECASE)


def canonical_case_ref(text: str) -> str:
    """The one form of a case reference that is stored, filed and looked up: upper case, so that
    ``ths-b1`` and ``THS-B1`` are one case (one folder, one history, one subject access bundle).
    Raises :class:`ValueError`, with a reason in plain English, for text that is not a case
    reference (a space or line break at either end, a character other than letters, digits,
    hyphens and underscores, or a name Windows keeps for a device)."""
    if not CASE_REF.fullmatch(text):
        raise ValueError(_not_a_case_ref(text))
    if _DEVICE_NAMES.fullmatch(text):
        raise ValueError(f"{text!r} is a name Windows keeps for a device, so it cannot be a case "
                         "reference (a case's documents are filed in a folder of that name).")
    return text.upper()


def case_ref_or_none(value: object) -> str | None:
    """The canonical case reference ``value`` is, or None for anything that is not one (a value
    declared in a file that failed its checks may be anything, even a name)."""
    if not isinstance(value, str):
        return None
    try:
        return canonical_case_ref(value)
    except ValueError:
        return None


def _not_a_case_ref(text: str) -> str:
    shown = repr(text[:60])
    if text != text.strip():
        where = "starts" if text[:1].isspace() else "ends"
        return (f"{shown} {where} with a space or a line break, which is invisible in a document "
                "and would make it a different case. Remove it.")
    if not text:
        return "The case reference is empty."
    return (f"{shown} is not a case reference: use only letters, numbers, hyphens and "
            "underscores (at most 40), starting with a letter or number.")


@dataclass(frozen=True)
class CaseFile:
    """A case file that passed validation. Holds data only; nothing here touches the disk.

    ``case_ref`` is the canonical reference (see :func:`canonical_case_ref`), under which the
    case is stored and filed; ``case_ref_as_written`` is the reference as the file wrote it, for
    display. Building a CaseFile canonicalises its reference."""

    kind: DocumentKind
    case_ref: str
    schema_version: int
    data: Mapping[str, Any]
    case_ref_as_written: str = ""

    def __post_init__(self) -> None:
        written = self.case_ref_as_written or self.case_ref
        try:
            canonical = canonical_case_ref(self.case_ref)
        except ValueError:
            canonical = self.case_ref  # a reference stored before it was checked: kept as it is
        object.__setattr__(self, "case_ref_as_written", written)
        object.__setattr__(self, "case_ref", canonical)

    @property
    def series(self) -> str:
        return self.kind.series(self.data)

    @property
    def answer(self) -> Answer:
        """What this case file is answered with: its kind's answer, or, for data its kind only
        records (a declined referral), nothing issued."""
        return self.kind.answer_for(self.data)
