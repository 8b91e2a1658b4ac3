"""Rendering: a case file and a Word template become a Word document, in memory.

Each document gets a fresh template object (docxtpl mutates the one it renders) and a sandboxed Jinja
environment with autoescape on. Case data is only ever a value in the context: it is never parsed
as a template, so ``{{ 7*7 }}`` typed into a field is printed as typed, and
``Siân O'Brien & Sons <Ltd>`` is escaped for Word's XML, not interpreted.

One document may cost only so much (:class:`RenderLimits`): a template that runs longer than the
time allowed, takes more steps than any real document needs (a loop inside a loop, say) or writes
more than a document's worth of text is stopped with :class:`TemplateTooCostly`, and its case file
is held rather than holding every file after it. The budget is checked at every loop step,
attribute, item and call the sandbox sees, and at every piece of text the template writes.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import hashlib
import io
import json
import operator
import threading
import time
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import jinja2.sandbox
from docx.shared import Mm
from docxtpl import DocxTemplate, InlineImage
from jinja2 import nodes
from lxml import etree  # type: ignore[import-untyped]  # python-docx's own XML library; no stubs
from markupsafe import Markup, escape

from recordgen import dates
from recordgen.cases import CaseFile
from recordgen.documents.prepared import UNDERSCORE_KEPT, PreparedTemplate, prepare
from recordgen.errors import TemplateError, TemplateTooCostly
from recordgen.settings import Settings

_IMAGE_MM = 165  # an image across the text of an A4 page with 2 cm margins


@dataclass(frozen=True)
class RenderedDocument:
    """A finished Word document, not yet written anywhere."""

    content: bytes
    content_sha256: str  # of the document's parts, so the same content always hashes the same
    template_sha256: str


def date_filter(value: Any) -> str:
    """The templates' ``uk_date`` filter: '2026-11-23', a date or a moment -> '23 November 2026'."""
    day = _as_date(value)
    return "" if day is None else dates.uk_date(day)


def date_time_filter(value: Any) -> str:
    """The templates' ``uk_datetime`` filter: '2026-11-19T02:20' or a moment -> '2:20am on Thursday
    19 November 2026' (:func:`recordgen.dates.uk_date_time`)."""
    moment = value if isinstance(value, dt.datetime) else dates.parse_moment(value)
    if moment is None:
        return "" if value is None else str(value)
    return dates.uk_date_time(moment)


def yes_no(value: Any) -> str:
    return "Yes" if value is True else "No" if value is False else ""


def multiline(value: Any) -> Markup:
    """Keep the line breaks of a text as line breaks in Word (text is escaped first)."""
    if value is None or isinstance(value, jinja2.Undefined):
        return Markup("")
    lines = str(escape(str(value))).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return Markup('</w:t><w:br/><w:t xml:space="preserve">'.join(lines))  # noqa: S704 (escaped above)


def hospital_days(value: Any) -> int:
    """The templates' ``hospital_days`` filter: the days in hospital of one stay, or of a list of
    stays, each counted as the NHS counts a length of stay (the day home less the day admitted);
    a stay not yet ended counts nothing (Floating support specification, Appendix 1, outcome 4)."""
    stays = value if isinstance(value, list | tuple) else [value]
    total = 0
    for stay in stays:
        if not isinstance(stay, Mapping):
            continue
        admitted, home = dates.parse_date(stay.get("admitted_on")), \
            dates.parse_date(stay.get("discharged_on"))
        if admitted is not None and home is not None and home >= admitted:
            total += (home - admitted).days
    return total


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return dates.day_of(value)
    return dates.parse_date(value[:10]) if isinstance(value, str) else None


@dataclass(frozen=True)
class RenderLimits:
    """What one document may cost. A real document takes well under a second, a few thousand
    steps and a few hundred kilobytes of text; these limits are far above that."""

    seconds: float = 30.0
    steps: int = 2_000_000  # loop steps, attributes, items and calls, together
    output_chars: int = 20_000_000  # of the document's XML


@dataclass
class _Budget:
    limits: RenderLimits
    template: str
    deadline: float = 0.0
    steps: int = 0
    written: int = 0
    started: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.deadline = self.started + self.limits.seconds

    def step(self) -> None:
        self.steps += 1
        if self.steps > self.limits.steps:
            raise self._stopped(f"took more than {self.limits.steps:,} steps (a loop inside a "
                                "loop is the usual cause)")
        if self.steps % 256 == 0 and time.monotonic() > self.deadline:
            raise self._stopped(f"ran for more than {self.limits.seconds:g} seconds")

    def write(self, chars: int) -> None:
        self.written += chars
        if self.written > self.limits.output_chars:
            raise self._stopped(f"wrote more than {self.limits.output_chars:,} characters")
        if time.monotonic() > self.deadline:
            raise self._stopped(f"ran for more than {self.limits.seconds:g} seconds")

    def _stopped(self, what: str) -> TemplateTooCostly:
        return template_too_costly(self.template, what)


def template_too_costly(template: str, what: str) -> TemplateTooCostly:
    return TemplateTooCostly(
        f"The Word template {template} {what} filling in this document, far more than any "
        "document needs, so it was stopped. The case file is fine: it is kept and tried again. "
        "Ask whoever looks after the templates to run 'recordgen templates check' and fix the "
        "template."
    )


_BUDGET: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar("render_budget",
                                                                         default=None)
_LOOP_GUARD = "recordgen_counted_loop"  # a filter every {% for %} is made to go through


def _step() -> None:
    budget = _BUDGET.get()
    if budget is not None:
        budget.step()


def _counted(iterable: Iterable[Any]) -> Iterator[Any]:
    """Each step of a loop counts against the document's budget."""
    for item in iterable:
        _step()
        yield item


def _counted_range(*args: int) -> Iterator[int]:
    _step()
    return _counted(jinja2.sandbox.safe_range(*args))


class _BudgetedTemplate(jinja2.Template):
    """Counts what the template writes as it writes it, so a template that would write gigabytes
    is stopped at the limit, not when memory runs out."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        budget = _BUDGET.get()
        if budget is None:
            return super().render(*args, **kwargs)
        context = self.new_context(dict(*args, **kwargs))
        parts: list[str] = []
        try:
            for part in self.root_render_func(context):
                budget.write(len(part))
                parts.append(part)
        except TemplateTooCostly:
            raise
        except Exception:
            self.environment.handle_exception()
        return "".join(parts)


# docxtpl turns "{_{", "}_}", "{_%" and "%_}" into "{{", "}}", "{%" and "%}" in the whole part
# after it is filled in (a template's way to print braces), so a value holding one lost its "_"
# ("%_}" in a name printed "%}"). In a value, that "_" is written as a character reference, which
# the replacing does not see and Word reads as "_" (the prepared templates write it as "_" again).
_DOCXTPL_MARKS = {mark: mark.replace("_", UNDERSCORE_KEPT) for mark in ("{_{", "}_}", "{_%", "%_}")}


def _printed_as_given(value: Any) -> Any:
    """A value as Jinja prints it (escaped for Word's XML), with docxtpl's marks kept as typed."""
    if not isinstance(value, str) or not any(mark in value for mark in _DOCXTPL_MARKS):
        return value
    text = str(value if isinstance(value, Markup) else escape(value))
    for mark, kept in _DOCXTPL_MARKS.items():
        text = text.replace(mark, kept)
    return Markup(text)  # noqa: S704 (escaped above, or already Markup)


class _Sandbox(jinja2.sandbox.ImmutableSandboxedEnvironment):
    """Jinja's sandbox quietly prints nothing for an unsafe attribute; a template that reaches for
    Python internals is an attack or a mistake, so it fails loudly instead. Every loop, attribute,
    item and call is counted against the document's budget (see :class:`RenderLimits`)."""

    template_class = _BudgetedTemplate
    intercepted_binops = frozenset({"*", "**"})

    def __init__(self) -> None:
        super().__init__(autoescape=True, undefined=jinja2.ChainableUndefined,
                         finalize=_printed_as_given)
        self.filters.update(
            uk_date=date_filter, uk_datetime=date_time_filter, yes_no=yes_no, multiline=multiline,
            hospital_days=hospital_days,
        )
        self.filters[_LOOP_GUARD] = _counted
        self.globals["range"] = _counted_range
        self._compiled: dict[str, jinja2.Template] = {}

    def unsafe_undefined(self, obj: Any, attribute: str) -> jinja2.Undefined:
        raise jinja2.exceptions.SecurityError(
            f"it reads {attribute!r} of a {type(obj).__name__}, which templates may not touch"
        )

    def getattr(self, obj: Any, attribute: str) -> Any:
        _step()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _step()
        return super().getitem(obj, argument)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _step()
        return super().call(__context, __obj, *args, **kwargs)

    def call_binop(self, context: Any, operator_: str, left: Any, right: Any) -> Any:
        """``"x" * 100000000`` or ``9 ** 9 ** 9`` would take the memory or the time of the whole
        service in one step: refused before they are worked out."""
        _step()
        if operator_ == "**" and isinstance(left, int) and isinstance(right, int) \
                and abs(right) > 1000 and abs(left) > 1:
            raise jinja2.exceptions.SecurityError("it raises a number to a power too large to "
                                                  "work out")
        if operator_ == "*":
            sized = next((v for v in (left, right) if isinstance(v, str | list | tuple)), None)
            times = right if sized is left else left
            if sized is not None and isinstance(times, int) and len(sized) * times > 1_000_000:
                raise jinja2.exceptions.SecurityError("it repeats a text or a list more than a "
                                                      "million characters long")
            return operator.mul(left, right)
        return super().call_binop(context, operator_, left, right)

    def from_string(self, source: str | jinja2.nodes.Template, globals: Any = None,
                    template_class: Any = None) -> jinja2.Template:
        """Compiling a Word template's XML is most of the cost of a document, and the same
        template is compiled for every document: keep the compiled code (never the data) of
        the last few sources. docxtpl still opens a fresh copy of the .docx for each document.
        Every ``{% for %}`` is compiled to count its steps."""
        if not isinstance(source, str) or globals or template_class:
            return super().from_string(source, globals, template_class)
        compiled = self._compiled.get(source)
        if compiled is None:
            compiled = super().from_string(_count_loops(self.parse(source)))
            if len(self._compiled) >= 32:
                self._compiled.pop(next(iter(self._compiled)))
            self._compiled[source] = compiled
        return compiled


def _count_loops(tree: nodes.Template) -> nodes.Template:
    """Make every loop of the template go through the step counter (a filter on its list)."""
    for loop in tree.find_all(nodes.For):
        loop.iter = nodes.Filter(loop.iter, _LOOP_GUARD, [], [], None, None, lineno=loop.lineno)
    return tree


_ENVIRONMENT = _Sandbox()


def make_environment() -> jinja2.sandbox.ImmutableSandboxedEnvironment:
    """The sandbox every template runs in: no access to Python internals, no mutation of data.
    One environment serves every document, so compiled templates are reused."""
    return _ENVIRONMENT


def build_context(
    case: CaseFile,
    settings: Settings,
    *,
    version: int,
    document_date: dt.date,
    due: Mapping[str, dt.date | dt.datetime] | None = None,
) -> dict[str, Any]:
    """Everything a template may use. Templates reach case data as ``data.<field>``. The case
    reference is shown as the case file wrote it (the case is filed under its canonical form)."""
    provider = settings.provider
    return {
        "case_ref": case.case_ref_as_written,
        "data": case.data,
        "document": {
            "title": case.kind.title,
            "date": document_date,
            "version": version,
            "reference": f"{case.case_ref_as_written}/{case.kind.slug}/v{version}",
        },
        "provider": {
            "name": provider.name,
            "service_name": provider.service_name,
            "address": list(provider.address),
            "phone": provider.phone,
            "email": provider.email,
            "complaints_contact": list(provider.complaints_contact),
            "complaints_email": provider.complaints_email,
            "complaints_phone": provider.complaints_phone,
        },
        "rules": {
            "max_review_interval": str(settings.rules.max_review_interval),
            "max_hours_per_week": f"{settings.rules.max_hours_per_week:g}",
            "exit_letter_working_days": settings.rules.exit_letter_working_days,
            "hard_copy_working_days": settings.rules.hard_copy_working_days,
        },
        "due": dict(due or {}),
    }


def render_document(template_path: Path, context: Mapping[str, Any],
                    limits: RenderLimits | None = None,
                    images: Mapping[str, bytes] | None = None) -> RenderedDocument:
    """Render one Word document from ``template_path``; raise :class:`TemplateError` on any
    template fault (missing file, bad syntax, an attempt to reach Python internals), and
    :class:`TemplateTooCostly` when it goes past ``limits``. ``images`` (PNG bytes by name) are
    offered to the template as ``charts.<name>``, each the width of the text.

    The template is prepared once (:mod:`recordgen.documents.prepared`) and then costs only the
    parts that carry data; a template that cannot be prepared exactly, or a document with
    pictures (which need docxtpl's own relationships), is rendered by docxtpl."""
    template_bytes = _read_template(template_path)
    template_sha256 = hashlib.sha256(template_bytes).hexdigest()
    with _template_faults(template_path.name, limits):
        prepared = None if images else _prepared(template_sha256, template_bytes)
        if prepared is not None:
            content, content_sha256 = prepared.fill(dict(context))
            return RenderedDocument(content, content_sha256, template_sha256)
        content = normalise_docx(render_with_docxtpl(template_bytes, context, images))
    return RenderedDocument(content=content, content_sha256=docx_content_sha256(content),
                            template_sha256=template_sha256)


def render_with_docxtpl(template_bytes: bytes, context: Mapping[str, Any],
                        images: Mapping[str, bytes] | None = None) -> bytes:
    """docxtpl's own way, the reference the prepared templates are held to: a fresh copy of the
    template, rendered whole and saved whole (zip entries stamped with the time of saving)."""
    template = DocxTemplate(io.BytesIO(template_bytes))
    filled = dict(context)
    if images:
        filled["charts"] = {name: InlineImage(template, io.BytesIO(png), width=Mm(_IMAGE_MM))
                            for name, png in images.items()}
    template.render(filled, jinja_env=make_environment(), autoescape=True)
    out = io.BytesIO()
    template.save(out)
    return out.getvalue()


def render_docxtpl_document(template_path: Path, context: Mapping[str, Any],
                            limits: RenderLimits | None = None) -> RenderedDocument:
    """:func:`render_document` by docxtpl alone, with the same limits and errors (the reference
    in the tests, and the benchmarks' "before")."""
    template_bytes = _read_template(template_path)
    with _template_faults(template_path.name, limits):
        content = normalise_docx(render_with_docxtpl(template_bytes, context))
    return RenderedDocument(content=content, content_sha256=docx_content_sha256(content),
                            template_sha256=hashlib.sha256(template_bytes).hexdigest())


_PREPARED: dict[str, PreparedTemplate | None] = {}
_PREPARED_LOCK = threading.Lock()


def _prepared(template_sha256: str, template_bytes: bytes) -> PreparedTemplate | None:
    """The prepared template for these bytes (a changed template is a new entry); the last few
    are kept. Preparing raises what rendering would (a damaged file, a syntax error)."""
    with _PREPARED_LOCK:
        if template_sha256 in _PREPARED:
            return _PREPARED[template_sha256]
    prepared = prepare(template_bytes, make_environment())
    with _PREPARED_LOCK:
        if len(_PREPARED) >= 16:
            _PREPARED.pop(next(iter(_PREPARED)))
        _PREPARED[template_sha256] = prepared
    return prepared


def _read_template(template_path: Path) -> bytes:
    try:
        return template_path.read_bytes()
    except OSError as exc:
        raise TemplateError(
            f"The Word template {template_path} could not be read ({exc.strerror or exc})."
        ) from exc


@contextlib.contextmanager
def _template_faults(name: str, limits: RenderLimits | None) -> Iterator[None]:
    """Within, the document's budget runs, and a template's fault becomes a TemplateError (or
    TemplateTooCostly) saying what to do."""
    budget = _BUDGET.set(_Budget(limits or RenderLimits(), name))
    try:
        yield
    except RecursionError as exc:
        raise template_too_costly(name, "called itself over and over (a macro that calls "
                                  "itself, say)") from exc
    except MemoryError as exc:
        raise template_too_costly(name, "needed more memory than the service has") from exc
    except jinja2.exceptions.SecurityError as exc:
        raise TemplateError(
            f"The Word template {name} tried to do something templates may not do "
            f"({exc}). Remove that part of the template."
        ) from exc
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(
            f"The Word template {name} has a mistake in a {{{{ }}}} or {{% %}} tag: "
            f"{exc.message}. Run 'recordgen templates check' to find it."
        ) from exc
    except jinja2.TemplateError as exc:
        raise TemplateError(f"The Word template {name} could not be filled in: {exc}.") from exc
    except (zipfile.BadZipFile, KeyError, ValueError, etree.LxmlError) as exc:
        raise TemplateError(
            f"The Word template {name} is not a Word document recordgen can open "
            f"({exc}). Save it from Word as a .docx file."
        ) from exc
    finally:
        _BUDGET.reset(budget)


def normalise_docx(content: bytes) -> bytes:
    """The same .docx with every zip entry stamped 1 January 1980, so that the same document always
    has the same bytes and SHA-256 (the zip writer stamps the time of saving otherwise). A retry
    after a crash can then recognise the file it already published. Only the two date fields of
    each local and central header change, in place; nothing is compressed again."""
    data = bytearray(content)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        entries = archive.infolist()
        central = archive.start_dir
    fixed_time_date = b"\x00\x00\x21\x00"  # 00:00:00, 1 January 1980 (DOS format)
    for info in entries:
        if data[info.header_offset:info.header_offset + 4] != b"PK\x03\x04":
            return _rewrite_docx(content)
        data[info.header_offset + 10:info.header_offset + 14] = fixed_time_date
    offset = central
    for _ in entries:
        if data[offset:offset + 4] != b"PK\x01\x02":
            return _rewrite_docx(content)
        data[offset + 12:offset + 16] = fixed_time_date
        name, extra, comment = (int.from_bytes(data[offset + k:offset + k + 2], "little")
                                for k in (28, 30, 32))
        offset += 46 + name + extra + comment
    return bytes(data)


def _rewrite_docx(content: bytes) -> bytes:
    """The slow way, for an archive laid out unlike python-docx's."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(
        out, "w", zipfile.ZIP_DEFLATED
    ) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            target.writestr(fixed, source.read(info.filename))
    return out.getvalue()


def docx_content_sha256(content: bytes) -> str:
    """A hash of what a .docx says, not of its zip wrapping (which stamps the time of saving)."""
    digest = hashlib.sha256()
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for name in sorted(archive.namelist()):
            digest.update(name.encode() + b"\0")
            digest.update(hashlib.sha256(archive.read(name)).digest())
    return digest.hexdigest()


def context_fingerprint(context: Mapping[str, Any]) -> str:
    """A hash of everything the template is given, apart from the version number and the letter
    case of the reference (``ths-b1`` and ``THS-B1`` are one case, so a file that differs only
    there says nothing new). The same template and context make the same document, those two
    apart; a different context need not make a different one (every setting is in it, printed
    or not): :class:`recordgen.documents.versions.Comparison` tells by rendering."""
    document = {k: v for k, v in context["document"].items() if k not in ("version", "reference")}
    payload = {**context, "case_ref": str(context.get("case_ref", "")).upper(),
               "document": document}
    return hashlib.sha256(
        json.dumps(payload, sort_keys=True, default=str, ensure_ascii=False).encode()
    ).hexdigest()
