"""The return as a short Word report, from a template staff can edit
(``templates/monitoring_return.docx``): the tables and the charts, for the commissioner, so no
names and no case references. Rendered like every document (sandboxed, autoescaped), with the
charts put in as images.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from recordgen.dates import uk_date
from recordgen.documents.render import RenderedDocument, render_document
from recordgen.documents.template_check import REPORT_TEMPLATE
from recordgen.returns.aside import Waiting, waiting
from recordgen.returns.figures import MonitoringReturn
from recordgen.settings import Settings


def report_context(found: MonitoringReturn, settings: Settings, kind: str,
                   version: int) -> dict[str, Any]:
    """What the report's template may use: ``report`` (the figures, as text), ``provider`` and
    ``document``, as the other templates have them."""
    provider = settings.provider
    reference = f"{found.period.key} {kind} return"
    return {
        "case_ref": reference,
        "document": {"title": f"{kind.capitalize()} return", "date": found.as_of,
                     "version": version, "reference": reference},
        "provider": {"name": provider.name, "service_name": provider.service_name,
                     "address": list(provider.address), "phone": provider.phone,
                     "email": provider.email},
        "report": {
            # A period not ended is said to be counted so far, where the report names it.
            "period": f"{found.period.label}, so far: counted up to {uk_date(found.as_of)}"
            if found.so_far else found.period.label,
            "first": found.period.first,
            "last": found.period.last,
            "as_of": found.as_of,
            "monthly": [{"name": f.name, "value": f.shown} for f in found.monthly],
            "counts": [{"name": f.name, "value": f.shown} for f in found.quarterly],
            # Every count as words, its thousands separated, as the terminal shows it.
            "kpis": [{"number": k.number, "name": k.name, "numerator": f"{len(k.numerator):,}",
                      "denominator": f"{len(k.denominator):,}", "percentage": k.percentage_words,
                      "target": k.target_words, "result": str(k.result)} for k in found.kpis],
            "clocks": [{"name": c.words, "fell_due": f"{len(c.fell_due):,}",
                        "met": f"{len(c.met):,}", "late": f"{len(c.late):,}",
                        "median": "-" if c.median_late is None else f"{c.median_late:,g}",
                        "worst": "-" if c.worst_late is None else f"{c.worst_late:,}",
                        "overdue": f"{len(c.overdue):,}"} for c in found.clocks],
        },
    }


def report_charts(found: MonitoringReturn) -> dict[str, bytes]:
    """The report's charts, as PNG pictures by the names its template uses. matplotlib is
    imported here, when a report is drawn, not whenever recordgen starts (it took half a second
    of every command's start)."""
    from recordgen.returns.charts import charts

    return charts(found)


@contextmanager
def chart_drawer() -> Iterator[Waiting[MonitoringReturn, dict[str, bytes]]]:
    """A process of its own to draw a return's charts (:func:`report_charts`) on another core,
    forked now and given the return once it is counted (``give``); ``result`` waits for the
    pictures. Forked before the count, while this process is small, it shares most of its memory
    with it. Where a process cannot be forked safely now, they are drawn when asked for."""
    with waiting(report_charts, "Drawing the report's charts") as drawer:
        yield drawer


def render_report(found: MonitoringReturn, settings: Settings, kind: str, version: int,
                  pictures: Mapping[str, bytes]) -> RenderedDocument:
    """The Word report of a return, with its charts (:func:`report_charts`)."""
    return render_document(settings.folders.templates / REPORT_TEMPLATE,
                           report_context(found, settings, kind, version), images=pictures)
