"""Validation: JSON Schema (draft 2020-12) plus the service's rules, every problem reported at once.

Each problem carries its JSON path, what is wrong and how to fix it, in words an admin can act on.
Schema errors are translated keyword by keyword; a schema node may carry an ``x-fix`` text that says
how to fix a value in its place. The rules beyond the schema live in
:mod:`recordgen.documents.rules`; those of a kind checked against its case read the case's earlier
records through the lookup the caller gives (none: they are left to processing).
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import referencing
import referencing.jsonschema
from jsonschema import Draft202012Validator, FormatChecker

from recordgen.cases import CaseFile, case_ref_or_none
from recordgen.dates import EARLIEST_YEAR, LATEST_YEAR, mistyped_year, parse_date, parse_moment
from recordgen.documents.problems import MAX_PROBLEMS, cap_problems, clip
from recordgen.documents.rules import CaseFiles, Checking, rule_problems
from recordgen.errors import Problem, SettingsError, ValidationFailed
from recordgen.kinds import KINDS, DocumentKind
from recordgen.settings import Settings

COMMON_SCHEMA = "common.schema.json"
# The pattern of short_text in the common schema. Patterns end in \\Z, not $: jsonschema matches
# them with Python's re.search, where $ also matches before a final line break.
ONE_LINE = "^[^\\r\\n\\t\\u2028\\u2029]*\\Z"
SCHEMA_VERSION = 1
_FORMATS = FormatChecker()


@_FORMATS.checks("uk-local-datetime")  # type: ignore[untyped-decorator,unused-ignore]
def _is_local_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return parse_moment(value) is not None


@_FORMATS.checks("date")  # type: ignore[untyped-decorator,unused-ignore]
def _is_date(value: object) -> bool:
    """A real date, in the years a case file's dates may fall in."""
    if not isinstance(value, str):
        return True
    return parse_date(value) is not None


class SchemaSet:
    """The schemas in a folder, loaded once, with a validator per kind (every kind of case file,
    subject access requests included)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        documents: dict[str, dict[str, Any]] = {}
        for kind in KINDS.values():
            documents[kind.name] = _read_schema(folder / kind.schema_file)
        common = _read_schema(folder / COMMON_SCHEMA)
        resources = [
            (doc["$id"], referencing.jsonschema.DRAFT202012.create_resource(doc))
            for doc in [common, *documents.values()]
        ]
        self.registry: referencing.Registry[Any] = referencing.Registry().with_resources(resources)
        self.common = common
        self.documents = documents
        self.validators = {
            name: Draft202012Validator(doc, registry=self.registry, format_checker=_FORMATS)
            for name, doc in documents.items()
        }

    def resolve(self, node: Mapping[str, Any]) -> Mapping[str, Any]:
        """Follow ``$ref`` chains (all of which point into the common schema)."""
        seen = 0
        while "$ref" in node and seen < 10:
            pointer = node["$ref"].split("#", 1)[1]
            target: Any = self.common
            for part in pointer.strip("/").split("/"):
                target = target[part]
            node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
            seen += 1
        return node

    def data_node(self, kind: DocumentKind) -> Mapping[str, Any]:
        """The schema of a kind's ``data``: what each field holds, and which are other people's."""
        node = self.documents[kind.name].get("properties", {}).get("data")
        if not isinstance(node, Mapping):
            raise SettingsError(f"The schema {kind.schema_file} does not describe its case files' "
                                "data (properties.data is missing or not an object). Restore it.")
        return node


def _read_schema(path: Path) -> dict[str, Any]:
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)
    except (OSError, ValueError, jsonschema.SchemaError) as exc:
        raise SettingsError(f"The schema {path} could not be loaded: {exc}") from exc
    if not isinstance(schema, dict):
        raise SettingsError(f"The schema {path} is not a JSON object.")
    return schema


def validate_case_file(
    document: Mapping[str, Any], schemas: SchemaSet, settings: Settings, today: dt.date,
    case_files: CaseFiles | None = None,
) -> CaseFile:
    """Check a loaded case file of any kind against its schema and the service's rules; return a
    :class:`CaseFile` or raise :class:`ValidationFailed` listing every problem found.
    ``case_files`` looks up a case's accepted case files, for the rules that read them."""
    kind = _kind_of(document)
    validator = schemas.validators[kind.name]
    problems = [
        problem
        for error in validator.iter_errors(document)
        if not _shadowed(error)
        for problem in _translate(error, schemas, schemas.documents[kind.name])
    ]
    data = document.get("data")
    if isinstance(data, Mapping):
        # Not a case reference: "" (the schema reports it, and nothing is looked up).
        check = Checking(settings, today, case_ref_or_none(document.get("case_ref")) or "",
                         case_files)
        problems.extend(rule_problems(kind.name, data, check))
    if problems:
        raise ValidationFailed(list(_unique(sorted(problems, key=_path_order))))
    return CaseFile(
        kind=kind,
        case_ref=str(document["case_ref"]),
        schema_version=int(document["schema_version"]),
        data=data if isinstance(data, Mapping) else {},
    )


def _kind_of(document: Mapping[str, Any]) -> DocumentKind:
    known = ", ".join(KINDS)
    kind = document.get("kind")
    if kind is None:
        raise ValidationFailed(
            [Problem("$.kind", 'The file does not say what kind of document it is for (the field '
                     '"kind" is missing).', f'Add "kind" with one of: {known}.')]
        )
    if not isinstance(kind, str):
        raise ValidationFailed(
            [Problem("$.kind", f"The kind should be text in quotes, but it is {_describe(kind)}.",
                     f'Write one kind, in quotes, for example "support_plan": one of {known}.')])
    if kind not in KINDS:
        close = difflib.get_close_matches(kind, KINDS, n=1)
        hint = f' Did you mean "{close[0]}"?' if close else ""
        raise ValidationFailed(
            [Problem("$.kind", f"{_show(kind)} is not a kind of document recordgen produces.{hint}",
                     f"Use one of: {known}.")]
        )
    return KINDS[kind]


_TYPE_WORDS = {
    "string": "text in quotes",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false (without quotes)",
    "array": "a list in square brackets",
    "object": "a group of fields in curly brackets",
    "null": "null",
}


def json_path(parts: Iterable[str | int]) -> str:
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _shadowed(error: jsonschema.ValidationError) -> bool:
    """An empty text breaks both minLength and the "not only spaces" pattern; say it once."""
    return error.validator == "pattern" and error.validator_value == "\\S" and error.instance == ""


def _fix_at(schemas: SchemaSet, root: Mapping[str, Any], parts: Iterable[str | int]) -> str | None:
    """The x-fix written for the field at this path: a fix written beside a ``$ref`` (for this
    field) wins over the fix of the shared definition it refers to."""
    node: Mapping[str, Any] = root
    for part in parts:
        resolved = schemas.resolve(node)
        for extra in resolved.get("allOf", []):
            resolved = {**resolved, **schemas.resolve(extra)}
        child = (resolved.get("items") if isinstance(part, int)
                 else resolved.get("properties", {}).get(part))
        if not isinstance(child, Mapping):
            return None
        node = child
    fix = node.get("x-fix", schemas.resolve(node).get("x-fix"))
    return str(fix) if fix else None


def _translate(
    error: jsonschema.ValidationError, schemas: SchemaSet, root: Mapping[str, Any]
) -> list[Problem]:
    path = json_path(error.absolute_path)
    node = schemas.resolve(error.schema) if isinstance(error.schema, Mapping) else {}
    fix = _fix_at(schemas, root, error.absolute_path) or str(
        node.get("x-fix", "Correct this value; the examples folder shows a valid file."))
    return [_problem(error, schemas, node, path, fix)] if error.validator != "additionalProperties" \
        else _unknown_fields(error, node, path)


def _unknown_fields(
    error: jsonschema.ValidationError, node: Mapping[str, Any], path: str
) -> list[Problem]:
    known = list(node.get("properties", {}))
    value: Any = error.instance
    extra = sorted(set(value) - set(known)) if isinstance(value, Mapping) else []
    problems: list[Problem] = []
    for number, name in enumerate(extra):
        # Suggestions cost time; past the problems anyone reads, none are looked for.
        close = difflib.get_close_matches(name, known, n=1) if number < MAX_PROBLEMS else []
        hint = f' Did you mean "{close[0]}"?' if close else ""
        shown = clip(name, 80)
        problems.append(_UnknownField(
            f"{path}.{shown}",
            f'There is a field "{shown}" that recordgen does not know here.{hint}',
            "Check the spelling against the examples folder, or remove the field.",
            parent=path, name=name, suggestion=close[0] if close else None,
        ))
    return problems


def _problem(
    error: jsonschema.ValidationError, schemas: SchemaSet, node: Mapping[str, Any], path: str,
    fix: str,
) -> Problem:
    keyword = error.validator
    value: Any = error.instance
    expected: Any = error.validator_value
    if keyword == "required":
        missing = str(error.message).split("'")[1]
        child = schemas.resolve(node.get("properties", {}).get(missing, {}))
        return _MissingField(
            f"{path}.{missing}",
            f'The field "{missing}" is missing.',
            str(child.get("x-fix", f'Add "{missing}"; the examples folder shows what it holds.')),
            parent=path, name=missing,
        )
    if keyword == "type":
        wanted = expected
        words = " or ".join(_TYPE_WORDS.get(t, t) for t in ([wanted] if isinstance(wanted, str)
                                                            else wanted))
        return Problem(path, f"This should be {words}, but it is {_describe(value)}.", fix)
    if keyword == "const":
        if path == "$.schema_version":
            return Problem(path, f"The file says schema version {_show(value)}; this version of "
                           f"recordgen reads version {SCHEMA_VERSION}.",
                           f'Set "schema_version" to {SCHEMA_VERSION}, or ask for a new export.')
        return Problem(path, f"This should be {_show(expected)}, not {_show(value)}.",
                       fix)
    if keyword == "enum":
        choices = ", ".join(str(c) for c in expected)
        return Problem(path, f"{_show(value)} is not one of the allowed choices.",
                       str(node.get("x-fix", f"Choose one of: {choices}.")))
    if keyword == "minLength":
        return Problem(path, "This is empty.", "Fill it in: it is needed for the document.")
    if keyword == "pattern" and expected == ONE_LINE:
        return Problem(path, "This holds a line break or a tab, but it is printed on one line.",
                       "Write it on one line, without line breaks or tabs.")
    if keyword == "pattern" and expected == "\\S":
        return Problem(path, "This holds only spaces.", "Fill it in: it is needed for the "
                       "document.")
    if keyword == "format" and isinstance(value, str) and _shaped_right(expected, value) \
            and (year := mistyped_year(value)) is not None:
        return Problem(path, f"The year {year} looks mistyped: the dates in a case file fall "
                       f"between {EARLIEST_YEAR} and {LATEST_YEAR}.",
                       "Check the year: two of its figures may have changed places, or one "
                       "may be missing or typed twice.")
    if keyword == "format" and isinstance(value, str) and _shaped_right(expected, value):
        return Problem(path, f"{_show(value)} is written the right way, but there is no such date "
                       "or time.",
                       f"Check the day, month and time (there is no 30 February, and no hour 25). "
                       f"{fix}")
    if keyword in ("pattern", "format"):
        return Problem(path, f"{_show(value)} is not in the right form.", fix)
    if keyword == "not":
        return Problem(path, f"{_show(value)} is a name Windows keeps for devices, so it cannot be "
                       "used as a folder name.", fix)
    if keyword == "maxLength":
        return Problem(path, f"This text is {len(value)} characters long; the most allowed is "
                       f"{expected}.", "Shorten it, or move detail into the notes.")
    if keyword == "minItems":
        return Problem(path, f"This list needs at least {expected} "
                       f"{'entry' if expected == 1 else 'entries'}.", fix)
    if keyword == "maxItems":
        return Problem(path, f"This list has more than {expected} entries.",
                       "Split the information over more than one document.")
    if keyword in ("exclusiveMinimum", "minimum"):
        return Problem(path, f"{_show(value)} is too small here.", fix)
    if keyword in ("exclusiveMaximum", "maximum"):
        return Problem(path, f"{_number_words(value)} is more than this can be: at most "
                       f"{_number_words(expected)}.", fix)
    if keyword == "minProperties":
        return Problem(path, "This is empty: it needs at least one of its fields filled in.", fix)
    if keyword == "uniqueItems":
        return Problem(path, "This list names the same thing twice.", "Remove the repeat.")
    return Problem(path, str(error.message), fix)


def _number_words(value: Any) -> str:
    """A number as staff write it: 2,500,000 (a whole amount), 12.5."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return _show(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}"


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, str):
        return f'the text "{value[:60]}"'
    if isinstance(value, int | float):
        return f"the number {value}"
    if value is None:
        return "null (empty)"
    if isinstance(value, list):
        return "a list"
    return "a group of fields"


def _show(value: Any) -> str:
    """A value as it is written in the file: a hidden character (a line break, a tab) shows as
    the two characters that write it (\\n, \\t), so a note can point at it."""
    if isinstance(value, str):
        return json.dumps(value[:80], ensure_ascii=False)[:-1] + ('..."' if len(value) > 80
                                                                  else '"')
    return json.dumps(value)[:80]


def _shaped_right(format_name: str, value: str) -> bool:
    """Written as the format asks (digits in the right places), so only the values are wrong."""
    shape = r"\d{4}-\d{2}-\d{2}" if format_name == "date" else r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?"
    return bool(re.fullmatch(shape, value))


def _path_order(problem: Problem) -> tuple[str, str]:
    """Paths in reading order: objective 3 before objective 11."""
    return (re.sub(r"\d+", lambda m: m.group().zfill(6), problem.path), problem.message)


@dataclass(frozen=True)
class _UnknownField(Problem):
    """A field the schema does not define, with the defined field its name is closest to."""

    parent: str = ""
    name: str = ""
    suggestion: str | None = None


@dataclass(frozen=True)
class _MissingField(Problem):
    """A required field that is not there."""

    parent: str = ""
    name: str = ""


def _unique(problems: Iterable[Problem]) -> Iterator[Problem]:
    """Each problem once, in the order given; a misspelt field that names a missing one is one
    problem with one fix ("rename reveiw_date to review_date"), not two; capped at
    :data:`~recordgen.documents.problems.MAX_PROBLEMS` with a count of the rest."""
    listed = list(dict.fromkeys(problems))
    missing = {(p.parent, p.name): p for p in listed if isinstance(p, _MissingField)}
    renamed: set[Problem] = set()
    merged: list[Problem] = []
    for problem in listed:
        if isinstance(problem, _UnknownField) and problem.suggestion is not None:
            wanted = missing.get((problem.parent, problem.suggestion))
            if wanted is not None and wanted not in renamed:
                renamed.add(wanted)
                merged.append(_renamed(problem, problem.suggestion))
                continue
        merged.append(problem)
    yield from cap_problems(p for p in merged if p not in renamed)


def _renamed(unknown: _UnknownField, wanted: str) -> Problem:
    shown = clip(unknown.name, 80)
    return Problem(
        unknown.path,
        f'The field "{shown}" is not one recordgen knows, and "{wanted}" is missing: '
        f'"{shown}" looks like "{wanted}" misspelt.',
        f'Rename "{shown}" to "{wanted}".',
    )
