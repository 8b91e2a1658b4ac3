"""The leak-test corpus: other people's details planted in every free-text field of every kind, in
every way staff write them, and an independent check that none of them survives.

    from leak_corpus import THIRD_PARTIES, variants, free_text_fields, plant, leaks

The third parties fill every entry the schemas mark as another person's (a private referrer, a
contact, an advocate at a plan and at a review, an other resident and another service user in an
incident, a request's representative). Each of their identifying values (names, phones, address
lines, postcodes) is planted in each free-text field in each variant: as written, in capitals, in
lower case, without accents, with combining accents, with the other apostrophe, with a dash, with
odd spacing, as a possessive, the family name in the plural ("the Vasquezes’"), with characters
that show nothing inside (direction marks and isolates pasted from other programs), each word of a
name alone (as written, in capitals, in lower case), phone numbers in nine formats, postcodes in
six, address lines as written and their street without its number.

The check (:func:`leaks`) does not use recordgen's matching: it folds text its own way (Unicode
compatibility decomposition, marks dropped, case folded), squashes out everything but letters and
digits, and looks for each distinctive piece of each value, so a value that survives in any
spelling, spacing or format is found.
"""

from __future__ import annotations

import copy
import json
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

from recordgen.documents.validate import SchemaSet
from recordgen.subject_access.name_match import Requester
from recordgen.subject_access.redaction import PersonSpec, Standing, merged_node, people

from conftest import example

REQUESTER = "Siân O'Brien"
SIAN = Requester((REQUESTER, "Siân"))
STAFF_AND_REQUESTER_WORDS = ("sian", "brien", "priya", "natarajan", "tom", "reilly", "gareth",
                             "pryce")


@dataclass(frozen=True)
class ThirdParty:
    role: str
    name: str
    phone: str = ""
    lines: tuple[str, ...] = ()
    postcode: str = ""


THIRD_PARTIES = (
    ThirdParty("private referrer", "Ophélie D'Arcy-Thistlewood", "07700 900 552",
               ("12 Quillfeather Row",), "QX5 2ZR"),
    ThirdParty("contact", "Zébédée O'Quatermain-Vasquez", "07700 900 773",
               ("99 Quixotic Lane", "Thameside"), "QX7 7QZ"),
    ThirdParty("advocate", "Barnabé Krumholtz-Núñez", "07700 900 884", ("3 Zanzibar Yard",),
               "ZX8 4KQ"),
    ThirdParty("other resident", "Ignácio Wolfenden"),
    ThirdParty("another service user", "Clémentine Axelrod-Þórsdóttir"),
    ThirdParty("representative", "Hortensia Vandersloot"),
)


def street(line: str) -> str:
    """An address line's street without its number ("Quixotic Lane" of "99 Quixotic Lane")."""
    match = re.fullmatch(r"\d+\w? (.+)", line)
    return match.group(1) if match else ""


def short(street_name: str) -> str:
    shorter = re.sub(r" Lane$", " Ln", re.sub(r" Road$", " Rd", street_name))
    return shorter if shorter != street_name else ""


# --- the independent check -----------------------------------------------------------------------


def squash(text: str) -> str:
    """Letters and digits only, folded: what survives of a value however it was written."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    kept = "".join(c for c in decomposed if not unicodedata.category(c).startswith("M"))
    for old, new in (("ø", "o"), ("đ", "d"), ("ł", "l"), ("æ", "ae"), ("œ", "oe"), ("þ", "th"),
                     ("ð", "d")):
        kept = kept.replace(old, new)
    return "".join(c for c in kept if c.isalnum())


def needles(party: ThirdParty) -> list[str]:
    """The distinctive pieces of a third party's values: each word of the name (joined across
    apostrophes), the phone's national digits, each address line that is theirs alone and its
    street without the number (in full and in short), the postcode."""
    pieces = re.split(r"[\s\-]+", party.name)
    out = [squash(piece) for piece in pieces if len(squash(piece)) >= 4]
    out += [squash(part) for piece in pieces for part in re.split(r"['’]", piece)
            if "'" in piece and len(squash(part)) >= 5]
    if party.phone:
        out.append(re.sub(r"\D", "", party.phone)[1:])
    out += [squash(line) for line in party.lines if line != "Thameside"]  # hers too: kept
    out += [squash(s) for line in party.lines for s in (street(line), short(street(line))) if s]
    if party.postcode:
        out.append(squash(party.postcode))
    return out


ALL_NEEDLES = tuple(n for party in THIRD_PARTIES for n in needles(party))


def leaks(text: str, found_in: Sequence[str] = ALL_NEEDLES) -> list[str]:
    squashed = squash(text)
    return [needle for needle in found_in if needle in squashed]


# --- the variants ----------------------------------------------------------------------------------


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text)
                   if not unicodedata.category(c).startswith("M"))


def _plural(word: str) -> str:
    return word + ("es" if word.endswith(("s", "x", "z", "ch", "sh")) else "s")


def _showing_nothing(text: str) -> str:
    """``text`` as pasted from another program: isolated, with a direction mark after the first
    letter of each word (it reads the same)."""
    return "\u2066" + re.sub(r"\b(\w)", "\\1\u200e", text) + "\u2069"


def name_variants(name: str) -> list[str]:
    family = re.split(r"[\s\-]+", name)[-1]
    out = [name, name.upper(), name.lower(), _strip_accents(name),
           unicodedata.normalize("NFD", name), name.replace("'", "’"), name.replace("-", "–"),
           name.replace(" ", "  ").replace("-", " - "), name + "’s", f"the {_plural(family)}’",
           _showing_nothing(name)]
    for word in re.split(r"[\s\-]+", name):
        out += [word, word.upper(), word.lower()]
    return out


def phone_variants(phone: str) -> list[str]:
    national = re.sub(r"\D", "", phone)[1:]
    a, b, c = national[:4], national[4:7], national[7:]
    return [phone, f"0{national}", f"+44 {a} {b}{c}", f"+44 (0){a} {b} {c}", f"(0{a}) {b}-{c}",
            f"0044 {a} {b}{c}", f"0{a}-{b}-{c}", f"+44{national}",
            f"+\u200e44 {a}\u200e {b}{c}"]


def postcode_variants(postcode: str) -> list[str]:
    return [postcode, postcode.lower(), postcode.replace(" ", ""),
            postcode.lower().replace(" ", ""), postcode.replace(" ", "-"),
            postcode.lower().replace(" ", " – ")]


def line_variants(line: str) -> list[str]:
    out = [line, line.upper(), line.lower(), line.replace(" ", "  ")]
    if street(line):
        out += [street(line), street(line).lower()]
    if short(street(line)):
        out.append(short(street(line)))
    return out


def variants(party: ThirdParty) -> list[str]:
    out = name_variants(party.name)
    if party.phone:
        out += phone_variants(party.phone)
    for line in party.lines:
        if line != "Thameside":
            out += line_variants(line)
    if party.postcode:
        out += postcode_variants(party.postcode)
    return out


ALL_VARIANTS = tuple(v for party in THIRD_PARTIES for v in variants(party))


# --- the case files ----------------------------------------------------------------------------


def _party(role: str) -> ThirdParty:
    (party,) = (p for p in THIRD_PARTIES if p.role == role)
    return party


def _entry(party: ThirdParty, relationship: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": party.name, "relationship": relationship,
                             "phone": party.phone}
    if party.lines:
        entry["address"] = {"lines": list(party.lines), "postcode": party.postcode}
    return entry


def base(kind: str) -> dict[str, Any]:
    """The kind's example, about the requester, with every third-party entry filled in."""
    document = example(kind)
    data = document["data"]
    text = json.dumps(data, ensure_ascii=False).replace(data["person"]["name"], REQUESTER)
    data = json.loads(text.replace("Daniel", "Siân"))
    if kind == "needs_assessment":
        data["referral"]["private_referrer"] = _entry(_party("private referrer"), "Neighbour")
        data["contacts"] = [_entry(_party("contact"), "Cousin")]
    elif kind == "support_plan":
        data["advocate"] = _entry(_party("advocate"), "Advocate")
    elif kind == "serious_incident":
        data["people_involved"] += [
            {"name": _party("another service user").name, "role": "service user",
             "involvement": "Lives in the next room"}]
        data["people_involved"][2]["name"] = _party("other resident").name
    elif kind == "subject_access_request":
        data["requested_by"] = "representative"
        data["representative"] = {"name": _party("representative").name,
                                  "organisation": "Riverside Law",
                                  "authority": "solicitor acting for the person",
                                  "authority_checked_on": "2026-11-20"}
    elif kind == "support_review":
        advocate = next(p for p in data["participants"] if p["role"] == "advocate")
        advocate["name"] = _party("advocate").name
    # Optional free-text fields the examples leave out, so that every one is planted.
    data["person"]["preferred_language"] = "English"
    data["person"].setdefault("address", {"lines": ["Flat 4, Marsh & Quay House", "27 Wharf Road",
                                                    "Thameside"], "postcode": "TS3 9QP"})
    if kind == "needs_assessment":
        data["referral"]["referring_agency"] = "Thameside Citizens Advice"
        data["notes"] = "Seen at home."
    elif kind == "exit_letter":
        data["reason_details"] = "Siân has found work and no longer needs support."
        data["onward_referral"] = {"organisation": "Thameside Debt Advice",
                                   "referred_on": "2026-11-16"}
        data.update(still_vulnerable=True,
                    no_onward_referral_reason="She did not want a referral to the mental health "
                                              "team.")
    elif kind == "subject_access_request":
        data.update(extended=True, extension_told_on="2026-11-20",
                    extension_reason="Your records are held in two systems.")
    elif kind == "referral":
        # A professional referring in their job is not a third party: their entry is planted in.
        data.update(route="Health", notes="Seen at the surgery.")
        data["referrer"] = {"acting_as": "professional", "name": "Dr Ama Mensah",
                            "role": "GP", "organisation": "Wharf Road Surgery",
                            "address": {"lines": ["Wharf Road Surgery", "Thameside"],
                                        "postcode": "TS3 9QA"}}
        data["decision"].update(outcome="waiting list", reason="No worker free this week.")
        data["eligibility"]["exception_agreed"] = "Agreed with the commissioner."
    elif kind == "support_review":
        data.update(plan_must_change=True, plan_changes="Add a goal about work.",
                    notes="Met at home.")
    elif kind == "money_secured":
        data["fund"] = "Household Support Fund"
    elif kind == "leaver_outcomes":
        for group in ("outcomes", "hard_outcomes"):
            for answer in data[group].values():
                if isinstance(answer, dict):
                    answer.setdefault("note", "Talked through at the last visit.")
    elif kind == "hard_copy_request":
        data.update(sent_on="2026-11-20", sent_by="post")
    document["data"] = data
    document["case_ref"] = "THS-2026-0142"  # one case: the example incident is filed elsewhere
    return document


KINDS = ("needs_assessment", "support_plan", "exit_letter", "serious_incident",
         "subject_access_request", "referral", "support_review", "money_secured",
         "leaver_outcomes", "support_ended", "hard_copy_request")


def data_node(schemas: SchemaSet, kind: str) -> Mapping[str, Any]:

    schema = schemas.documents["subject_access_request"] if kind == "subject_access_request" \
        else schemas.documents[kind]
    node = schema["properties"]["data"]
    assert isinstance(node, Mapping)
    return node


@dataclass(frozen=True)
class Field:
    path: tuple[str | int, ...]
    pointer: str  # where the schema describes it
    max_length: int
    node: Mapping[str, Any]  # the field's schema, $ref followed


def free_text_fields(schemas: SchemaSet, kind: str, data: Mapping[str, Any]) -> list[Field]:
    """Every free-text field in ``data``: strings that are not a fixed choice, a date or a
    time, outside other people's own entries (withheld whole), and not the person's or a staff
    member's own name field."""
    node = data_node(schemas, kind)
    withheld = {path for path, who in people(data, node, schemas.resolve, SIAN)
                if who is Standing.THIRD_PARTY}
    out: list[Field] = []

    def walk(value: Any, schema: Any, path: tuple[str | int, ...], pointer: str,
             own_names: Sequence[str]) -> None:
        resolved = merged_node(schemas.resolve, schema) if isinstance(schema, Mapping) else {}
        json_path = "$.data" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
        if json_path in withheld:
            return
        if isinstance(value, Mapping):
            spec = PersonSpec.parse(resolved.get("x-third-party-person"))
            names = [k for k in spec.identified_by if "name" in k] if spec else []
            for key, item in value.items():
                if key in names:
                    continue
                walk(item, resolved.get("properties", {}).get(key, {}), (*path, key),
                     f"{pointer}/properties/{key}", names)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, resolved.get("items", {}), (*path, index), f"{pointer}/items",
                     own_names)
        elif isinstance(value, str) and not any(k in resolved for k in ("enum", "const",
                                                                         "format")):
            out.append(Field(path, pointer, int(resolved.get("maxLength", 300)), resolved))

    walk(data, node, (), "#/properties/data", ())
    return out


SAMPLE = "Seen with Zébédée O'Quatermain."


def takes_free_text(field: Field) -> bool:
    """Whether a field accepts a sentence with a name in it (a phone number, a postcode or a
    reference with a pattern does not)."""
    return Draft202012Validator(dict(field.node)).is_valid(SAMPLE)


def schema_text_pointers(schemas: SchemaSet, kind: str) -> set[str]:
    """Every free-text field the kind's schema describes, as a JSON pointer, outside other
    people's own entries and the person's and staff's own name fields: what the corpus must
    plant in (a new field or kind fails the corpus test until its case files cover it)."""
    out: set[str] = set()

    def walk(node: Any, pointer: str, depth: int) -> None:
        resolved = merged_node(schemas.resolve, node) if isinstance(node, Mapping) else {}
        if depth > 12:
            return
        spec = PersonSpec.parse(resolved.get("x-third-party-person"))
        if spec is not None and spec.who == "another person":
            return
        if resolved.get("type") == "string":
            if not any(k in resolved for k in ("enum", "const", "format")) and \
                    Draft202012Validator(dict(resolved)).is_valid(SAMPLE):
                out.add(pointer)
        elif isinstance(resolved.get("items"), Mapping):
            walk(resolved["items"], f"{pointer}/items", depth + 1)
        elif isinstance(resolved.get("properties"), Mapping):
            names = [k for k in spec.identified_by if "name" in k] if spec else []
            for key, child in resolved["properties"].items():
                if key not in names:
                    walk(child, f"{pointer}/properties/{key}", depth + 1)

    walk(data_node(schemas, kind), "#/properties/data", 0)
    return out


def get(data: Any, path: Sequence[str | int]) -> Any:
    for part in path:
        data = data[part]
    return data


def put(data: Any, path: Sequence[str | int], value: Any) -> None:
    get(data, path[:-1])[path[-1]] = value


def planted(document: dict[str, Any], fields: Sequence[Field], plants: Sequence[str]
            ) -> dict[str, Any]:
    """``document`` with every field holding its own text followed by every plant."""
    out = copy.deepcopy(document)
    for field in fields:
        put(out["data"], field.path, f"{get(out['data'], field.path)} Also: {'; '.join(plants)}.")
    return out


def own_texts(document: Mapping[str, Any]) -> list[str]:
    """What belongs to the person and must survive redaction: their name and address, and the
    texts of their needs and plan (before any plant)."""
    data = document["data"]
    out = [data["person"]["name"]]
    address = data["person"].get("address")
    if address:
        out += [*address["lines"], address["postcode"]]
    for need in data.get("needs", []):
        out += [need["area"], need["description"], need["support"]]
    for objective in data.get("objectives", []):
        if "objective" in objective:  # a plan's objective
            out += [objective["objective"], objective["measure"],
                    *(action["action"] for action in objective["actions"])]
        else:  # a review's progress on one
            out.append(objective["note"])
    return out


def iter_kinds() -> Iterator[str]:
    yield from KINDS
