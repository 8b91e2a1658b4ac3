"""Redaction at source: information about other people is taken out of case data before anything
is rendered. Drawing boxes over PDF text is not redaction: the text stays in the file.

**Who is a third party** is decided in one place, :func:`standing`, for every kind of case file:

- *the person who asked* (the requester: the case's ``data.person``, named as in the request) is
  not a third party: a bundle holds their information;
- *staff acting in their job* are not third parties;
- *everyone else is*: relatives, friends, advocates, representatives, private referrers, other
  residents, members of the public, and any other service user.

The schemas say which of their objects describe a person, and how to tell who, with the
annotation ``x-third-party-person`` (:class:`PersonSpec`): ``"who"`` is ``"the person"`` (whom the
case is about: the requester when the name matches the request's, anyone else otherwise),
``"staff"``, ``"another person"``, or ``"by role"`` (decided by a role field: the roles listed as
``"the_person"`` are the requester when the name matches; the roles listed as ``"staff"`` are
staff; every other role, and another person in a "the person" role, is a third party).
``"identified_by"`` lists the fields that identify them (name, phone, address, email).
``x-third-party`` gives the reason the redaction log prints. Adding a kind with people in it is a
matter of these two annotations; an object with a ``name`` that carries neither is treated as a
third party (and ``tests/test_third_parties.py`` fails until it is annotated).

A third party's record is withheld whole, wherever it appears: their identifying fields and their
descriptive ones (a relationship, what they did) alike, so that a "Sister" withheld in one place
is not shown in another. Only fixed choices from the schema's lists (a role such as "other
resident", yes/no answers) are kept: they say what kind of person was involved, not who.

Free text can name third parties too ("her brother Tom came along"), and no schema can mark that.
So a case is redacted in two passes:

1. :func:`survey` every record of the case, gathering what identifies a third party (their
   identifying fields' values) and what belongs to the person or to staff (theirs);
2. :func:`redact` each record: third parties' records are withheld, and in every text each
   identifying value found by the survey is withheld wherever it appears, matched by meaning
   (:mod:`recordgen.subject_access.name_match`: any letter case, accents, apostrophes, hyphens, spacing, phone
   and postcode formats; whole words only). When in doubt, withhold and say so: a word that is part
   of both a third party's name and the person's own or a staff member's name is withheld where it
   stands alone (the full name of the person or staff member stays), and the log lists it.

Each withholding is a :class:`Withholding` (JSON path and reason) for the redaction log; the log
never holds the values themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from recordgen.cases import CaseFile
from recordgen.dates import uk_date_time
from recordgen.documents.validate import SchemaSet
from recordgen.subject_access.holdings import HeldRecord, Surveyed, requester_of
from recordgen.subject_access.name_match import (
    Requester,
    Shape,
    TextScrubber,
    folded,
    name_words,
    shape_of,
    targets,
)

MARKER = "[withheld: information about another person]"
UNDESCRIBED = "not described by the schema, so it could not be checked for information about others"
IN_TEXT = "names or contact details of another person, found in the text"
ANOTHER_PERSON = "another person"
NOT_THE_REQUESTER = ("names someone other than the person who asked (the name differs from the "
                     "one in the request)")
UNANNOTATED = "names a person the schema does not say is the person who asked or a member of staff"
ORDINARY_LEFT = ("a word of another person's name that is also an ordinary English word was left "
                 "where it is written in lower case: read it to check it is the ordinary word")

PERSON_KEY = "x-third-party-person"
REASON_KEY = "x-third-party"

# (schema node) -> the node with $ref followed and allOf merged in.
Resolver = Callable[[Mapping[str, Any]], Mapping[str, Any]]


class Standing(Enum):
    REQUESTER = "the person"
    STAFF = "a member of staff"
    THIRD_PARTY = "another person"


@dataclass(frozen=True)
class PersonSpec:
    """A schema's ``x-third-party-person`` annotation: how to tell who a person record is."""

    who: str  # "the person", "staff", "another person" or "by role"
    identified_by: tuple[str, ...] = ("name",)
    role_field: str = ""
    person_roles: tuple[str, ...] = ()
    staff_roles: tuple[str, ...] = ()

    WHO = ("the person", "staff", "another person", "by role")

    @classmethod
    def parse(cls, raw: Any) -> PersonSpec | None:
        """The annotation read; anything malformed means "another person" (the safe reading)."""
        if raw is None:
            return None
        if not isinstance(raw, Mapping) or raw.get("who") not in cls.WHO:
            return cls(ANOTHER_PERSON)
        return cls(who=str(raw["who"]), identified_by=_strings(raw.get("identified_by", ["name"])),
                   role_field=str(raw.get("role_field", "")),
                   person_roles=_strings(raw.get("the_person", [])),
                   staff_roles=_strings(raw.get("staff", [])))


def _strings(raw: Any) -> tuple[str, ...]:
    return tuple(str(item) for item in raw) if isinstance(raw, list) else ()


def standing(person: Mapping[str, Any], spec: PersonSpec, requester: Requester) -> Standing:
    """Who a person named in a case file is, for a subject access bundle: the one rule.

    Only the requester is exempt, and staff acting in their job. Anyone else is a third party,
    another service user included.
    """
    if spec.who == "staff":
        return Standing.STAFF
    if spec.who == "by role":
        role = person.get(spec.role_field)
        if role in spec.staff_roles:
            return Standing.STAFF
        if role in spec.person_roles and requester.is_named(person.get("name")):
            return Standing.REQUESTER
        return Standing.THIRD_PARTY
    if spec.who == "the person" and requester.is_named(person.get("name")):
        return Standing.REQUESTER
    return Standing.THIRD_PARTY


@dataclass(frozen=True)
class Withholding:
    """One field withheld, for the redaction log: where, and why (never the value)."""

    path: str
    reason: str
    count: int = 1  # places in a text where an identifying value was found
    ambiguous: int = 0  # of them, words shared with the person's own or a staff member's name


@dataclass(frozen=True)
class Redacted:
    data: Any
    withheld: tuple[Withholding, ...]
    read_for: tuple[Withholding, ...] = ()  # places left that the officer should read

    @property
    def changed(self) -> bool:
        return bool(self.withheld)


@dataclass(frozen=True)
class Found:
    """A value that identifies someone, where it was found and whose it is (for the log)."""

    value: str
    shape: Shape
    whose: Standing
    where: str


@dataclass
class Findings:
    """What a survey of one or more records found."""

    third_party: list[Found] = field(default_factory=list)
    protected: list[Found] = field(default_factory=list)  # the person's own, and staff's

    def update(self, other: Findings) -> None:
        self.third_party += other.third_party
        self.protected += other.protected


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


def survey(data: Any, node: Mapping[str, Any], resolve: Resolver, requester: Requester,
           source: str = "") -> Findings:
    """Gather, from one record, what identifies third parties and what belongs to the person and
    to staff. ``source`` says which record it is, for the log."""
    walker = _Walker(resolve, requester, scrubber=None, source=source)
    walker.walk(data, node, "$.data")
    return walker.findings


def redact(data: Any, node: Mapping[str, Any], resolve: Resolver, requester: Requester,
           scrubber: TextScrubber | None = None) -> Redacted:
    """A copy of ``data`` with every third-party value replaced by :data:`MARKER`."""
    walker = _Walker(resolve, requester, scrubber)
    out = walker.walk(data, node, "$.data")
    return Redacted(out, tuple(walker.withheld), tuple(walker.read_for))


def people(data: Any, node: Mapping[str, Any], resolve: Resolver, requester: Requester
           ) -> list[tuple[str, Standing]]:
    """Every person record in ``data`` (its JSON path) and who they are, by :func:`standing`."""
    walker = _Walker(resolve, requester, scrubber=None)
    walker.walk(data, node, "$.data")
    return walker.people


class _Walker:
    def __init__(self, resolve: Resolver, requester: Requester, scrubber: TextScrubber | None,
                 source: str = "") -> None:
        self.resolve = resolve
        self.requester = requester
        self.scrubber = scrubber
        self.source = source
        self.findings = Findings()
        self.withheld: list[Withholding] = []
        self.read_for: list[Withholding] = []
        self.people: list[tuple[str, Standing]] = []

    def walk(self, value: Any, node: Mapping[str, Any], path: str, *, own_name: bool = False
             ) -> Any:
        resolved = merged_node(self.resolve, node)
        spec = PersonSpec.parse(resolved.get(PERSON_KEY))
        if isinstance(value, Mapping) and (spec is not None or _names_someone(resolved)):
            return self._person(value, resolved, path, spec)
        reason = resolved.get(REASON_KEY)
        if reason:  # a field marked as another person's information, not a person record
            self.withheld.append(Withholding(path, str(reason)))
            return self._withheld(value, resolved)
        if isinstance(value, Mapping):
            return self._object(value, resolved, path)
        if isinstance(value, list):
            items = resolved.get("items", {})
            return [self.walk(item, items if isinstance(items, Mapping) else {}, f"{path}[{i}]",
                              own_name=own_name) for i, item in enumerate(value)]
        return self._kept(value, resolved, path, own_name)

    def _object(self, value: Mapping[str, Any], node: Mapping[str, Any], path: str,
                own_names: Iterable[str] = ()) -> dict[str, Any]:
        properties = node.get("properties", {})
        names = set(own_names)
        out: dict[str, Any] = {}
        for name, item in value.items():
            child = properties.get(name)
            child_path = f"{path}.{name}"
            if not isinstance(child, Mapping):
                self.withheld.append(Withholding(child_path, UNDESCRIBED))
                out[name] = self._withheld(item, {})
                continue
            out[name] = self.walk(item, child, child_path, own_name=name in names)
        return out

    def _person(self, value: Mapping[str, Any], node: Mapping[str, Any], path: str,
                spec: PersonSpec | None) -> Any:
        reason = node.get(REASON_KEY)
        if spec is None:  # a name the schema says nothing about: the safe reading
            spec, reason = PersonSpec(ANOTHER_PERSON), UNANNOTATED
        who = standing(value, spec, self.requester)
        self.people.append((path, who))
        for key in spec.identified_by:
            for found in _strings_in(value.get(key)):
                shape = shape_of(found, is_name="name" in key)
                bucket = (self.findings.third_party if who is Standing.THIRD_PARTY
                          else self.findings.protected)
                where = f"{self.source}, {path}.{key}" if self.source else f"{path}.{key}"
                bucket.append(Found(found.strip(), shape, who, where))
        if who is not Standing.THIRD_PARTY:
            own = [k for k in spec.identified_by if "name" in k]
            return self._object(value, node, path, own_names=own)
        if spec.who == "the person" and not reason:
            reason = NOT_THE_REQUESTER
        self.withheld.append(Withholding(path, str(reason or ANOTHER_PERSON)))
        return self._withheld(value, node)

    def _withheld(self, value: Any, node: Mapping[str, Any]) -> Any:
        """``value`` withheld, keeping only fixed choices (a role from the schema's list, a yes or
        no): they say what kind of person was involved, not who."""
        node = merged_node(self.resolve, node) if node else node
        if isinstance(value, bool) or (("enum" in node or "const" in node)
                                       and not isinstance(value, Mapping | list)):
            return value
        if isinstance(value, Mapping):
            properties = node.get("properties", {})
            return {k: self._withheld(v, properties.get(k, {})
                                      if isinstance(properties.get(k), Mapping) else {})
                    for k, v in value.items()}
        if isinstance(value, list):
            if value and not any(isinstance(v, Mapping | list) for v in value):
                return [MARKER]  # "[withheld]" once, not once per address line
            items = node.get("items", {})
            return [self._withheld(v, items if isinstance(items, Mapping) else {}) for v in value]
        return MARKER

    def _kept(self, value: Any, node: Mapping[str, Any], path: str, own_name: bool) -> Any:
        if not isinstance(value, str) or self.scrubber is None or own_name:
            return value  # the person's or a staff member's own name field is theirs
        if any(k in node for k in ("enum", "const", "format")):
            return value
        scrubbed = self.scrubber.scrub(value)
        if scrubbed.withheld:
            self.withheld.append(Withholding(path, IN_TEXT, scrubbed.withheld, scrubbed.ambiguous))
        if scrubbed.ordinary_left:
            self.read_for.append(Withholding(path, ORDINARY_LEFT, scrubbed.ordinary_left))
        return scrubbed.text


def _names_someone(node: Mapping[str, Any]) -> bool:
    properties = node.get("properties")
    return isinstance(properties, Mapping) and "name" in properties


def _strings_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        if value.strip():
            yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings_in(item)


# --- the scrubber for a whole case ---------------------------------------------------------------


@dataclass(frozen=True)
class Shared:
    """A value or name word recorded both for a third party and for the person or staff: where,
    never what (for the redaction log)."""

    withheld: bool  # a name word, withheld where it stands alone; else a full value, kept
    third_party: tuple[str, ...]  # where it was recorded for a third party
    protected: tuple[tuple[Standing, str], ...]  # whose else it is, and where


@dataclass(frozen=True)
class CaseScrubber:
    scrubber: TextScrubber
    shared: tuple[Shared, ...]


def scrubber_for(findings: Iterable[Findings]) -> CaseScrubber:
    """One scrubber for every record of a case, from every record's survey."""
    total = Findings()
    for each in findings:
        total.update(each)
    found, words, values = targets([(f.value, f.shape) for f in total.third_party],
                                   [(f.value, f.shape) for f in total.protected])
    scrubber = TextScrubber(found, MARKER)
    return CaseScrubber(scrubber, _shared(total, words, values))


def _shared(total: Findings, words: set[str], values: set[str]) -> tuple[Shared, ...]:
    out = []
    for key in sorted(words | values):
        is_word = key in words

        def has(found: Found, key: str = key, is_word: bool = is_word) -> bool:
            if is_word and found.shape in (Shape.NAME, Shape.WORD):
                return key in name_words(found.value) or folded(found.value) == key
            return folded(found.value) == key

        out.append(Shared(
            withheld=is_word,
            third_party=tuple(dict.fromkeys(f.where for f in total.third_party if has(f))),
            protected=tuple(dict.fromkeys((f.whose, f.where) for f in total.protected
                                          if has(f))),
        ))
    return tuple(out)


def searched(scrubber: CaseScrubber) -> int:
    """How many values and name words of other people are searched for in the text."""
    return scrubber.scrubber.count


# --- redaction over the whole case ---------------------------------------------------------------


@dataclass(frozen=True)
class CaseRedaction:
    by_submission: Mapping[int, Redacted]
    request: Redacted
    scrubber: CaseScrubber

    def title(self, record: HeldRecord) -> str:
        """The record's title with any third party's name in it withheld (a reference such as an
        incident's is typed by staff, and titles become bookmarks and index entries)."""
        return self.scrubber.scrubber.scrub(record.title).text


def redact_case(records: Sequence[HeldRecord], request: CaseFile, schemas: SchemaSet,
                surveyed: Sequence[Surveyed] = ()) -> CaseRedaction:
    """Survey every case file of the case (and the request), then redact each record's case
    file once."""
    requester = requester_of(request)
    sources = {r.submission.id or 0: r for r in records}
    everything = [Surveyed(request.kind, request.data, "The request"), *surveyed,
                  *(Surveyed(r.kind, r.data, f"{r.kind.request_title} received "
                             f"{uk_date_time(r.submission.received_at)}")
                    for r in sources.values())]
    findings: list[Findings] = [survey(s.data, schemas.data_node(s.kind), schemas.resolve,
                                       requester, s.source) for s in everything]
    scrubber = scrubber_for(findings)
    return CaseRedaction(
        by_submission={key: redact(r.data, schemas.data_node(r.kind), schemas.resolve,
                                   requester, scrubber.scrubber)
                       for key, r in sources.items()},
        request=redact(request.data, schemas.data_node(request.kind), schemas.resolve,
                       requester, scrubber.scrubber),
        scrubber=scrubber,
    )
