"""``recordgen templates check``: find template faults before a case file meets them.

For each kind's Word template it reports tags Jinja cannot parse (with the offending text),
every ``data.…`` field the template uses that the kind's schema does not define, so a typo in a
template is caught when the template is edited, not when a letter comes out blank, and, as a
warning, loops over ``range(...)`` nested inside each other, which can run long enough to be
stopped (see :class:`recordgen.documents.render.RenderLimits`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from docx import Document
from docx.oxml import parse_xml
from docxtpl import DocxTemplate
from jinja2 import nodes

from recordgen.documents.render import make_environment
from recordgen.documents.validate import SchemaSet
from recordgen.kinds import KINDS

# Context names every template may use besides data.* (see render.build_context).
_KNOWN_ROOTS = {"case_ref", "document", "provider", "rules", "due", "loop", "data"}


@dataclass(frozen=True)
class Finding:
    template: str
    message: str

    def __str__(self) -> str:
        return f"{self.template}: {self.message}"


def template_source(path: Path) -> str:
    """The template's Jinja source as docxtpl sees it: body, headers and footers."""
    template = DocxTemplate(path)
    document = Document(str(path))
    xml = template.patch_xml(template.xml_to_string(document._element.body))
    # docxtpl also fills in the document's properties (File > Properties in Word).
    properties = document.core_properties
    for name in ("author", "category", "comments", "content_status", "identifier", "keywords",
                 "language", "last_modified_by", "subject", "title", "version"):
        xml += f"<property>{getattr(properties, name, '') or ''}</property>"
    for rel in document.part.rels.values():
        if rel.reltype in (template.HEADER_URI, template.FOOTER_URI) and rel.target_part.blob:
            xml += template.patch_xml(template.xml_to_string(parse_xml(rel.target_part.blob)))
    return str(xml)


def check_templates(folder: Path, schemas: SchemaSet) -> list[Finding]:
    findings: list[Finding] = []
    env = make_environment()
    for kind in KINDS.values():
        if not kind.template_file:
            continue  # a kind that issues nothing has no template
        path = folder / kind.template_file
        if not path.exists():
            findings.append(Finding(kind.template_file, f"missing: there is no template for "
                                    f"{kind.title.lower()} in {folder}."))
            continue
        try:
            source = template_source(path)
        except Exception as exc:
            findings.append(Finding(kind.template_file, f"cannot be opened as a Word document "
                                    f"({exc})."))
            continue
        try:
            tree = env.parse(source)
        except jinja2.TemplateSyntaxError as exc:
            findings.append(Finding(kind.template_file, f"a tag cannot be read: {exc.message}. "
                                    f"Near: {_culprit(env, source, exc.lineno)}"))
            continue
        if _nested_range_loops(tree):
            findings.append(Finding(kind.template_file, _NESTED_RANGES))
        schema = schemas.documents[kind.name]
        for path_parts in sorted(set(_data_paths(tree))):
            if path_parts[0] not in _KNOWN_ROOTS:
                findings.append(Finding(kind.template_file, f'uses "{path_parts[0]}", which '
                                        "recordgen does not provide to templates."))
            elif path_parts[0] == "data" and not _defined(schemas, schema, path_parts[1:]):
                shown = ".".join(p for p in path_parts if p != "[]")
                findings.append(Finding(kind.template_file, f'uses "{shown}", which the '
                                        f"{kind.schema_file} schema does not define."))
    return findings


_NESTED_RANGES = (
    "warning: it has a loop over range(...) inside another loop over range(...). Such loops can "
    "repeat millions of times; a document that takes too long to fill in is stopped and its case "
    "file held until the template is fixed. Loop over the case's own lists (data.objectives, for "
    "example) instead."
)


def _nested_range_loops(tree: nodes.Template) -> bool:
    """True if a loop over ``range(...)`` holds another loop over ``range(...)``."""
    return any(_over_range(inner.iter)
               for outer in tree.find_all(nodes.For) if _over_range(outer.iter)
               for inner in outer.find_all(nodes.For))


def _over_range(node: nodes.Node) -> bool:
    while isinstance(node, nodes.Filter) and node.node is not None:
        node = node.node
    return (isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name)
            and node.node.name == "range")


def _culprit(env: jinja2.Environment, source: str, lineno: int) -> str:
    """The first {{ }} tag that does not parse on its own, or the text near the error's line."""
    text = re.sub(r"<[^>]+>", "", source)
    for match in re.finditer(r"\{\{.*?\}\}", text, re.DOTALL):
        try:
            env.parse(match.group())
        except jinja2.TemplateSyntaxError:
            return match.group()[:120]
    return _near(source, lineno)


def _near(source: str, lineno: int) -> str:
    line = source.splitlines()[lineno - 1] if 0 < lineno <= len(source.splitlines()) else source
    text = re.sub(r"<[^>]+>", "", line)
    match = re.search(r"(\{[{%][^}]*[}%]?\}?)", text)
    return (match.group(1) if match else text)[:120]


def _data_paths(tree: nodes.Template) -> Iterator[tuple[str, ...]]:
    """Every attribute chain a template reads, with loop variables expanded to their source."""
    yield from _walk(tree, {})


def _walk(node: nodes.Node, scope: Mapping[str, tuple[str, ...]]) -> Iterator[tuple[str, ...]]:
    if isinstance(node, nodes.For):
        source = _chain(node.iter, scope)
        if source:
            yield source
        inner = dict(scope)
        targets = [node.target] if isinstance(node.target, nodes.Name) else list(
            getattr(node.target, "items", []))
        for target in targets:
            if isinstance(target, nodes.Name):
                # A loop over something that is not data (range(...), say) makes a local name.
                inner[target.name] = (*source, "[]") if source else ("loop",)
        for child in [*node.body, *node.else_]:
            yield from _walk(child, inner)
        if node.test is not None:
            yield from _walk(node.test, inner)
        return
    if isinstance(node, nodes.Getattr | nodes.Getitem | nodes.Name):
        chain = _chain(node, scope)
        if chain:
            yield chain
            return
    for child in node.iter_child_nodes():
        yield from _walk(child, scope)


def _chain(node: nodes.Node, scope: Mapping[str, tuple[str, ...]]) -> tuple[str, ...] | None:
    if isinstance(node, nodes.Name):
        if node.ctx != "load":
            return None
        return scope.get(node.name, (node.name,))
    if isinstance(node, nodes.Getattr):
        base = _chain(node.node, scope)
        return (*base, node.attr) if base else None
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        base = _chain(node.node, scope)
        if base and isinstance(node.arg.value, str):
            return (*base, node.arg.value)
        return (*base, "[]") if base else None
    if isinstance(node, nodes.Filter) and node.node is not None:
        return _chain(node.node, scope)
    return None


def _defined(schemas: SchemaSet, schema: Mapping[str, Any], parts: tuple[str, ...]) -> bool:
    node: Mapping[str, Any] = schemas.resolve(schema["properties"]["data"])
    for part in parts:
        node = _merge_all_of(schemas, node)
        if part == "[]":
            if "items" not in node:
                return False
            node = schemas.resolve(node["items"])
            continue
        if part in ("items", "keys", "values"):  # dict methods used in loops
            return True
        properties = node.get("properties", {})
        if part not in properties:
            return False
        node = schemas.resolve(properties[part])
    return True


def _merge_all_of(schemas: SchemaSet, node: Mapping[str, Any]) -> Mapping[str, Any]:
    if "allOf" not in node:
        return node
    merged: dict[str, Any] = {k: v for k, v in node.items() if k != "allOf"}
    for part in node["allOf"]:
        resolved = schemas.resolve(part)
        merged.setdefault("properties", {}).update(resolved.get("properties", {}))
    return merged
