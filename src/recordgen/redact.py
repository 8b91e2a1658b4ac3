"""Redaction at source: information about other people is taken out of case data before anything
is rendered (DESIGN.md §5). Drawing boxes over PDF text is not redaction: the text stays in the file.

The schemas mark the fields that hold other people's personal data with ``x-third-party`` (the
text says why); every value of such a field, and every value inside an object so marked, becomes
:data:`MARKER`. A field may carry ``x-not-third-party-when-role``: people involved in an incident
whose role is "service user" or "staff" are not third parties (staff acting in their job are not).

Free text can name third parties too ("her brother Tom came along"), and no schema can mark that.
So a case is redacted in two passes:

1. :func:`survey` every record of the case, gathering what identifies a third party (the values of
   marked name and contact fields, and each word of a third party's name) and what must never be
   taken for one (the person's own details and the names of staff, who are not third parties);
2. :func:`redact` each record: marked fields are withheld, and in every other text each identifying
   value found by the survey, wherever it appears, is replaced too (:class:`TextScrubber`: whole
   words, longest first; full values in any letter case, name words as capitalised).

Descriptive fields of a withheld person (their relationship, what they did) are withheld where
they stand but not searched for elsewhere, because they are ordinary words ("Sister"). Fields the
schema does not describe cannot be judged, so they are withheld too.

Each withholding is a :class:`Withholding` (JSON path and reason) for the redaction log; the log
never holds the values themselves.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

MARKER = "[withheld: information about another person]"
UNDESCRIBED = "not described by the schema, so it could not be checked for information about others"
IN_TEXT = "names or contact details of another person, found in the text"

# Honorifics are not names: "Mrs" must not be withheld wherever it appears.
_TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "rev", "revd"})
_WORD_SPLIT = re.compile(r"[\s\-‐‑–—]+")
_PHONE_LIKE = re.compile(r"^[+\d\s()\-]+$")

# (schema node) -> the node with $ref followed and allOf merged in.
Resolver = Callable[[Mapping[str, Any]], Mapping[str, Any]]


@dataclass(frozen=True)
class Withholding:
    """One field withheld, for the redaction log: where, and why (never the value)."""

    path: str
    reason: str
    count: int = 1  # places in a text where an identifying value was found


@dataclass(frozen=True)
class Redacted:
    data: Any
    withheld: tuple[Withholding, ...]

    @property
    def changed(self) -> bool:
        return bool(self.withheld)


@dataclass
class Findings:
    """What a survey of one or more records found."""

    identifying: set[str] = field(default_factory=set)  # searched for in all text
    names: set[str] = field(default_factory=set)  # third parties' names: their words are searched
    protected: set[str] = field(default_factory=set)  # the person's own details, staff names

    def update(self, other: Findings) -> None:
        self.identifying |= other.identifying
        self.names |= other.names
        self.protected |= other.protected


def merged_node(resolve: Resolver, node: Mapping[str, Any]) -> Mapping[str, Any]:
    """``node`` with its ``$ref`` followed and the properties of any ``allOf`` parts merged in."""
    resolved = resolve(node)
    parts = resolved.get("allOf")
    if not parts:
        return resolved
    merged = dict(resolved)
    properties = dict(resolved.get("properties", {}))
    for part in parts:
        if isinstance(part, Mapping):
            extra = merged_node(resolve, part)
            properties.update(extra.get("properties", {}))
            for key, value in extra.items():
                if key not in ("properties", "allOf"):
                    merged.setdefault(key, value)
    merged["properties"] = properties
    return merged


def survey(data: Any, node: Mapping[str, Any], resolve: Resolver) -> Findings:
    """Gather, from one record, what identifies third parties and what belongs to the person."""
    walker = _Walker(resolve, scrubber=None)
    walker.walk(data, node, "$.data")
    return walker.findings


def redact(data: Any, node: Mapping[str, Any], resolve: Resolver,
           scrubber: TextScrubber | None = None) -> Redacted:
    """A copy of ``data`` with every third-party value replaced by :data:`MARKER`."""
    walker = _Walker(resolve, scrubber)
    out = walker.walk(data, node, "$.data")
    return Redacted(out, tuple(walker.withheld))


class _Walker:
    def __init__(self, resolve: Resolver, scrubber: TextScrubber | None) -> None:
        self.resolve = resolve
        self.scrubber = scrubber
        self.findings = Findings()
        self.withheld: list[Withholding] = []

    def walk(self, value: Any, node: Mapping[str, Any], path: str, *, key: str = "",
             withheld: bool = False, identifying: bool = False, exempt: bool = False) -> Any:
        resolved = merged_node(self.resolve, node)
        mark = None if exempt else node.get("x-third-party", resolved.get("x-third-party"))
        if mark and not withheld:
            self.withheld.append(Withholding(path, str(mark)))
            # A withheld person's own marked fields (name, phone, address) identify them; the
            # rest of their record (relationship, involvement) only describes them.
            withheld, identifying = True, not _is_person_record(resolved)
        elif mark:
            identifying = True
        if isinstance(value, Mapping):
            return self._object(value, resolved, path, withheld, identifying)
        if isinstance(value, list):
            items = resolved.get("items", {})
            if withheld and value and not any(isinstance(v, Mapping | list) for v in value):
                for item in value:
                    self._note_withheld(item, key, identifying)
                return [MARKER]  # "[withheld]" once, not once per address line
            return [self.walk(item, items if isinstance(items, Mapping) else {}, f"{path}[{i}]",
                              key=key, withheld=withheld, identifying=identifying)
                    for i, item in enumerate(value)]
        if withheld:
            self._note_withheld(value, key, identifying)
            return MARKER
        return self._kept(value, resolved, path, key)

    def _object(self, value: Mapping[str, Any], node: Mapping[str, Any], path: str,
                withheld: bool, identifying: bool) -> dict[str, Any]:
        properties = node.get("properties", {})
        out: dict[str, Any] = {}
        for name, item in value.items():
            child = properties.get(name)
            child_path = f"{path}.{name}"
            if not isinstance(child, Mapping):
                if not withheld:
                    self.withheld.append(Withholding(child_path, UNDESCRIBED))
                out[name] = self.walk(item, {}, child_path, key=name, withheld=True,
                                      identifying=identifying)
                continue
            resolved_child = merged_node(self.resolve, child)
            roles = child.get("x-not-third-party-when-role",
                              resolved_child.get("x-not-third-party-when-role", ()))
            exempt = isinstance(roles, list) and value.get("role") in roles
            out[name] = self.walk(item, child, child_path, key=name, withheld=withheld,
                                  identifying=identifying, exempt=exempt)
        return out

    def _note_withheld(self, value: Any, key: str, identifying: bool) -> None:
        if identifying and isinstance(value, str) and value.strip():
            self.findings.identifying.add(value.strip())
            if key == "name":
                self.findings.names.add(value.strip())

    def _kept(self, value: Any, node: Mapping[str, Any], path: str, key: str) -> Any:
        if not isinstance(value, str):
            return value
        if key in ("name", "preferred_name") or path.startswith("$.data.person."):
            # The person's own details and staff names: never mistaken for a third party's.
            self.findings.protected.add(value.strip())
        if self.scrubber is None or any(k in node for k in ("enum", "const", "format")):
            return value
        text, count = self.scrubber.scrub(value)
        if count:
            self.withheld.append(Withholding(path, IN_TEXT, count))
        return text


def _is_person_record(node: Mapping[str, Any]) -> bool:
    properties = node.get("properties")
    return isinstance(properties, Mapping) and "name" in properties


class TextScrubber:
    """Finds the identifying values of a case's third parties in any text, and withholds them."""

    def __init__(self, findings: Findings) -> None:
        protected = {p.casefold() for p in findings.protected if p}
        protected_words = {w.casefold() for p in findings.protected for w in _WORD_SPLIT.split(p)}
        patterns: list[tuple[int, str]] = []
        for value in findings.identifying:
            if len(value) >= 3 and value.casefold() not in protected and value != MARKER:
                patterns.append((len(value), f"(?i:{_flexible(value)})"))
        for word in {w for name in findings.names for w in _WORD_SPLIT.split(name)}:
            if _usable_name_word(word) and word.casefold() not in protected_words:
                patterns.append((len(word), f"(?-i:{re.escape(word)})"))
        patterns.sort(key=lambda p: (-p[0], p[1]))  # longest first: "Carys Morgan" before "Carys"
        self.count = len(patterns)
        self._regex = (re.compile(r"(?<!\w)(?:" + "|".join(p for _, p in patterns) + r")(?!\w)")
                       if patterns else None)

    def scrub(self, text: str) -> tuple[str, int]:
        """``text`` with each identifying value replaced by :data:`MARKER`, and how many were."""
        if self._regex is None:
            return text, 0
        return self._regex.subn(MARKER, text)


def _flexible(value: str) -> str:
    """A pattern for ``value`` that also matches it spaced or broken over lines differently; a
    phone number also matches with or without its spaces."""
    if _PHONE_LIKE.match(value) and sum(c.isdigit() for c in value) >= 6:
        return r"[\s()\-]*".join(re.escape(c) for c in value if c.isdigit() or c == "+")
    return r"\s+".join(re.escape(word) for word in value.split())


def _usable_name_word(word: str) -> bool:
    """A word of a name worth searching for: a capitalised word of two letters or more."""
    letters = word.strip(".,'’")
    return (len(letters) >= 2 and letters[0].isupper() and any(c.isalpha() for c in letters)
            and letters.casefold() not in _TITLES)


def scrubber_for(findings: Iterable[Findings]) -> TextScrubber:
    total = Findings()
    for each in findings:
        total.update(each)
    return TextScrubber(total)
