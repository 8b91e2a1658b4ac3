"""Who is a third party in a subject access bundle: one rule, for every kind (issue: "only the
requester is exempt").

The rule is :func:`recordgen.subject_access.redaction.standing`; the schemas say, with
``x-third-party-person``, which of their objects describe a person and how to tell who. These tests
walk every schema and every kind's example, so a new kind is covered as soon as it has a schema and
an example: an object with a name that does not say who it is fails here, and every person in every
kind is checked against the rule, with the requester, with someone else in the requester's place,
and with every role a person can be given.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from recordgen.documents.validate import SchemaSet
from recordgen.kinds import KINDS, SUBJECT_ACCESS_REQUEST
from recordgen.subject_access.name_match import Requester
from recordgen.subject_access.redaction import (
    MARKER,
    PERSON_KEY,
    REASON_KEY,
    PersonSpec,
    Standing,
    merged_node,
    people,
    redact,
    scrubber_for,
    survey,
)

from conftest import REPO, example

REQUESTER_NAME = "Siân O'Brien"
SIAN = Requester((REQUESTER_NAME, "Siân"))
STRANGER = "Quentin Zaragoza-Ffinch"


@pytest.fixture(scope="module")
def schemas() -> SchemaSet:
    return SchemaSet(REPO / "schemas")


def kind_schema(schemas: SchemaSet, name: str) -> Mapping[str, Any]:
    if name == SUBJECT_ACCESS_REQUEST.name:
        return schemas.documents["subject_access_request"]
    return schemas.documents[name]


def data_node(schemas: SchemaSet, name: str) -> Mapping[str, Any]:
    node = kind_schema(schemas, name)["properties"]["data"]
    assert isinstance(node, Mapping)
    return node


def object_nodes(schemas: SchemaSet, node: Any, path: str, depth: int = 0
                 ) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every object a schema describes (refs followed), with a path to it."""
    if not isinstance(node, Mapping) or depth > 12:
        return
    resolved = merged_node(schemas.resolve, node)
    if isinstance(resolved.get("properties"), Mapping):
        yield path, resolved
        for key, child in resolved["properties"].items():
            yield from object_nodes(schemas, child, f"{path}.{key}", depth + 1)
    if isinstance(resolved.get("items"), Mapping):
        yield from object_nodes(schemas, resolved["items"], f"{path}[]", depth + 1)


ALL_KINDS = sorted(KINDS)


def test_every_kind_is_checked_here() -> None:
    assert set(ALL_KINDS) >= {"needs_assessment", "support_plan", "exit_letter",
                              "serious_incident", "subject_access_request"}


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_every_object_that_names_someone_says_who_they_are(schemas: SchemaSet, kind: str) -> None:
    for path, node in object_nodes(schemas, data_node(schemas, kind), "$.data"):
        if "name" not in node["properties"]:
            continue
        raw = node.get(PERSON_KEY)
        assert isinstance(raw, Mapping), f"{kind} {path}: a name without {PERSON_KEY}"
        spec = PersonSpec.parse(raw)
        assert spec is not None and raw.get("who") in PersonSpec.WHO, (kind, path, raw)
        assert set(spec.identified_by) <= set(node["properties"]), (kind, path)
        assert "name" in spec.identified_by, (kind, path)
        if spec.who in ("another person", "by role"):
            assert node.get(REASON_KEY), f"{kind} {path}: no {REASON_KEY} reason for the log"
        if spec.who == "by role":
            role = merged_node(schemas.resolve, node["properties"][spec.role_field])
            assert set(spec.person_roles) | set(spec.staff_roles) <= set(role["enum"]), path


def test_the_schemas_say_who_every_person_is(schemas: SchemaSet) -> None:
    """Relatives and contacts, private referrers, advocates, people involved in an incident and a
    request's representative are other people; the person and staff are not."""
    found = {}
    for kind in ALL_KINDS:
        for path, node in object_nodes(schemas, data_node(schemas, kind), "$.data"):
            if PERSON_KEY in node:
                found[f"{kind} {path}"] = node[PERSON_KEY]["who"]
    assert {k: v for k, v in found.items() if v != "the person" and "worker" not in k
            and "reported_by" not in k} == {
        "needs_assessment $.data.referral.private_referrer": "another person",
        "needs_assessment $.data.contacts[]": "another person",
        "support_plan $.data.advocate": "another person",
        "serious_incident $.data.people_involved[]": "by role",
        "subject_access_request $.data.representative": "another person",
        "referral $.data.referrer": "by role",
        "support_review $.data.participants[]": "by role",
    }
    assert all(found[f"{kind} $.data.person"] == "the person" for kind in ALL_KINDS)
    assert all(v == "staff" for k, v in found.items() if "worker" in k or "reported_by" in k)


def with_person(kind: str, name: str) -> dict[str, Any]:
    """The kind's example, about ``name`` (every mention of the example's person changed)."""
    data = example(kind)["data"]
    own = data["person"]["name"]
    return json.loads(json.dumps(data, ensure_ascii=False).replace(own, name))


def expected(spec_who: str, record: Mapping[str, Any], spec: PersonSpec) -> Standing:
    """The rule, written out independently of the code: only the requester and staff are
    exempt."""
    if spec_who == "staff" or (spec_who == "by role" and record.get(spec.role_field)
                               in spec.staff_roles):
        return Standing.STAFF
    if record.get("name") == REQUESTER_NAME and (
            spec_who == "the person"
            or (spec_who == "by role" and record.get(spec.role_field) in spec.person_roles)):
        return Standing.REQUESTER
    return Standing.THIRD_PARTY


def records_at(data: Any, schemas: SchemaSet, node: Any, path: str = "$.data"
               ) -> Iterator[tuple[str, Mapping[str, Any], PersonSpec]]:
    """Each person record in ``data`` with its spec (walked here, not by the code under test)."""
    resolved = merged_node(schemas.resolve, node) if isinstance(node, Mapping) else {}
    if isinstance(data, Mapping):
        spec = PersonSpec.parse(resolved.get(PERSON_KEY))
        if spec is not None:
            yield path, data, spec
            return
        for key, value in data.items():
            child = resolved.get("properties", {}).get(key, {})
            yield from records_at(value, schemas, child, f"{path}.{key}")
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from records_at(value, schemas, resolved.get("items", {}), f"{path}[{index}]")


def variants(kind: str, schemas: SchemaSet) -> Iterator[tuple[str, dict[str, Any]]]:
    """The example about the requester; then, for every person record, that record given to a
    stranger; and, for every record decided by role, that record given every role, both with the
    requester's name and a stranger's."""
    base = with_person(kind, REQUESTER_NAME)
    node = data_node(schemas, kind)
    yield "as it is", base
    for path, _, spec in list(records_at(base, schemas, node)):
        changed = copy.deepcopy(base)
        locate(changed, path)["name"] = STRANGER
        yield f"{path} a stranger", changed
        if spec.who != "by role":
            continue
        role_node = merged_node(schemas.resolve, merged_node(
            schemas.resolve, node_at(schemas, node, path))["properties"][spec.role_field])
        for role in role_node["enum"]:
            for name in (REQUESTER_NAME, STRANGER):
                changed = copy.deepcopy(base)
                locate(changed, path).update({"name": name, spec.role_field: role})
                yield f"{path} {name} as {role}", changed


def locate(data: Any, path: str) -> dict[str, Any]:
    target = data
    for part in path.removeprefix("$.data").replace("]", "").replace("[", ".").split("."):
        if part:
            target = target[int(part)] if part.isdigit() else target[part]
    assert isinstance(target, dict)
    return target


def node_at(schemas: SchemaSet, node: Any, path: str) -> Mapping[str, Any]:
    for part in path.removeprefix("$.data").replace("]", "").replace("[", ".").split("."):
        if not part:
            continue
        resolved = merged_node(schemas.resolve, node)
        node = resolved["items"] if part.isdigit() else resolved["properties"][part]
    assert isinstance(node, Mapping)
    return node


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_only_the_requester_and_staff_are_not_third_parties_in_every_kind(
    schemas: SchemaSet, kind: str
) -> None:
    node = data_node(schemas, kind)
    checked = 0
    for what, data in variants(kind, schemas):
        found = dict(people(data, node, schemas.resolve, SIAN))
        for path, record, spec in records_at(data, schemas, node):
            assert found[path] is expected(spec.who, record, spec), (kind, what, path)
            checked += 1
        # And what the rule says is what the redaction does: a third party's name is nowhere.
        findings = [survey(data, node, schemas.resolve, SIAN)]
        out = redact(data, node, schemas.resolve, SIAN, scrubber_for(findings).scrubber).data
        text = json.dumps(out, ensure_ascii=False)
        for path, record, _spec in records_at(data, schemas, node):
            if found[path] is Standing.THIRD_PARTY and record["name"] not in (
                    REQUESTER_NAME, "Priya Natarajan", "Tom Reilly", "Gareth Pryce"):
                assert record["name"] not in text, (kind, what, path)
                assert locate(out, path)["name"] == MARKER, (kind, what, path)
    assert checked > 0


def test_another_service_user_in_an_incident_is_a_third_party(schemas: SchemaSet) -> None:
    data = with_person("serious_incident", REQUESTER_NAME)
    data["people_involved"].append({"name": "Marek Nowak", "role": "service user",
                                    "involvement": "Lives in Room 7"})
    found = dict(people(data, data_node(schemas, "serious_incident"), schemas.resolve, SIAN))
    assert found["$.data.people_involved[0]"] is Standing.REQUESTER
    assert found["$.data.people_involved[1]"] is Standing.STAFF
    assert found["$.data.people_involved[3]"] is Standing.THIRD_PARTY


def test_another_service_user_sharing_the_preferred_name_is_a_third_party(
        schemas: SchemaSet) -> None:
    # The request gives "Siân" as her preferred name: another resident called Siân is still
    # someone else, withheld from the bundle with what she did, never shown as the requester.
    data = with_person("serious_incident", REQUESTER_NAME)
    data["people_involved"].append({"name": "Siân Kowalczyk", "role": "service user",
                                    "involvement": "Another resident, drunk, lashed out"})
    node = data_node(schemas, "serious_incident")
    found = dict(people(data, node, schemas.resolve, SIAN))
    assert found["$.data.people_involved[0]"] is Standing.REQUESTER
    assert found["$.data.people_involved[3]"] is Standing.THIRD_PARTY
    out = redact(data, node, schemas.resolve, SIAN).data
    assert out["people_involved"][3]["name"] == MARKER
    assert "drunk" not in str(out)


def test_the_persons_own_name_written_shorter_is_still_theirs(schemas: SchemaSet) -> None:
    data = with_person("serious_incident", REQUESTER_NAME)
    data["people_involved"][0]["name"] = "SIAN"
    found = dict(people(data, data_node(schemas, "serious_incident"), schemas.resolve, SIAN))
    assert found["$.data.people_involved[0]"] is Standing.REQUESTER


def test_an_object_with_a_name_and_no_annotation_is_treated_as_a_third_party(
    schemas: SchemaSet
) -> None:
    node = {"type": "object", "properties": {
        "witness": {"type": "object", "properties": {"name": {"type": "string"},
                                                      "note": {"type": "string"}}}}}
    data = {"witness": {"name": "Somebody Else", "note": "Saw it"}}
    out = redact(data, node, schemas.resolve, SIAN).data
    assert out == {"witness": {"name": MARKER, "note": MARKER}}
    assert people(data, node, schemas.resolve, SIAN) == [("$.data.witness", Standing.THIRD_PARTY)]


@pytest.mark.parametrize("raw", ["staff", {"who": "everyone"}, {"who": None}, ["the person"]])
def test_a_malformed_annotation_reads_as_another_person(raw: Any) -> None:
    assert PersonSpec.parse(raw) == PersonSpec("another person")
