"""The report's charts, drawn with matplotlib as PNG bytes: each KPI against its target over the
last four quarters, referrals and closures month by month over the last year, and each statutory
clock met and missed in the period. Drawn with the Agg renderer (no screen, no window) and
without pyplot, whose figures are shared by the whole process.

The PNG carries no date or time, so the same figures always make the same picture (and the same
report). A chart shows figures only: no names and no case references.
"""

from __future__ import annotations

import io

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from recordgen.returns.figures import MonitoringReturn

_SIZE = (7.5, 3.6)  # inches: the width of the text of an A4 page
_DPI = 150
_BLUE, _GREY, _RED, _GREEN = "#1F4E79", "#8C8C8C", "#B22222", "#2E7D32"


def _drawing() -> tuple[Figure, Axes]:
    figure = Figure(figsize=_SIZE)
    return figure, figure.subplots()


def _png(figure: Figure) -> bytes:
    out = io.BytesIO()
    figure.tight_layout()
    figure.savefig(out, format="png", dpi=_DPI, metadata={"Software": None})
    return out.getvalue()


def kpi_chart(found: MonitoringReturn) -> bytes:
    """For each KPI with a target, its percentage in each of the last four quarters (a bar, or
    why there is nothing to count, "no leavers", written in its place), and the target as a
    line. Each quarter is named in the legend by its first bar."""
    figure, axes = _drawing()
    quarters = [label for label, _ in found.kpi_history]
    targeted = [k.name for k in (found.kpi_history[-1][1] if found.kpi_history else ())
                if k.target is not None]
    width = 0.8 / max(1, len(quarters))
    for index, (label, kpis) in enumerate(found.kpi_history):
        by_name = {k.name: k for k in kpis}
        named = False
        for position, name in enumerate(targeted):
            kpi = by_name[name]
            x = position + (index - (len(quarters) - 1) / 2) * width
            if kpi.percentage is None:
                axes.text(x, 2, kpi.empty_words, rotation=90, ha="center", va="bottom",
                          fontsize=6, color=_GREY)
                continue
            axes.bar(x, kpi.percentage, width * 0.9, color=_BLUE, alpha=0.4 + 0.6 * (
                index + 1) / len(quarters), label=None if named else label)
            named = True
    for position, name in enumerate(targeted):
        target = next(k.target for k in found.kpi_history[-1][1] if k.name == name)
        if target is not None:
            axes.hlines(target, position - 0.45, position + 0.45, colors=_RED, linestyles="--",
                        label="target" if position == 0 else "_nolegend_")
    axes.set_xticks(range(len(targeted)), [_short(n) for n in targeted], fontsize=7)
    axes.set_ylim(0, 105)
    axes.set_ylabel("per cent")
    axes.set_title("Key performance indicators against target, last four quarters", fontsize=9)
    # Below the axes: inside, it hid the words written where a quarter has no one to count.
    axes.legend(fontsize=6, ncols=5, loc="upper center", bbox_to_anchor=(0.5, -0.1))
    return _png(figure)


def _short(name: str) -> str:
    return name.split(":")[0] if name.startswith("KPI") else name.split(":")[0].replace(
        "Registered with a GP", "GP registration")


def month_chart(found: MonitoringReturn) -> bytes:
    """Referrals received and cases closed in each of the last twelve months."""
    figure, axes = _drawing()
    labels = [m.label for m in found.month_history]
    positions = range(len(labels))
    axes.bar([p - 0.2 for p in positions], [m.referrals for m in found.month_history], 0.4,
             color=_BLUE, label="referrals received")
    axes.bar([p + 0.2 for p in positions], [m.closed for m in found.month_history], 0.4,
             color=_GREY, label="cases closed")
    axes.set_xticks(list(positions), labels, rotation=45, ha="right", fontsize=7)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title("Referrals and closures, month by month over the last year", fontsize=9)
    axes.legend(fontsize=7)
    return _png(figure)


def clocks_chart(found: MonitoringReturn) -> bytes:
    """For each statutory clock that fell due in the period: met, late, not answered by the end."""
    figure, axes = _drawing()
    shown = [c for c in found.clocks if c.fell_due] or list(found.clocks)
    names = [c.words for c in shown]
    met = [len(c.met) for c in shown]
    late = [len(c.late) for c in shown]
    open_ = [len(c.still_open) for c in shown]
    axes.barh(names, met, color=_GREEN, label="met")
    axes.barh(names, late, left=met, color=_RED, label="late")
    axes.barh(names, open_, left=[m + n for m, n in zip(met, late, strict=True)], color=_GREY,
              label="not answered by the end")
    axes.invert_yaxis()
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.tick_params(axis="y", labelsize=7)
    axes.set_title("Statutory clocks that fell due in the period", fontsize=9)
    axes.legend(fontsize=7)
    return _png(figure)


def charts(found: MonitoringReturn) -> dict[str, bytes]:
    """Every chart of the report, by the name its template uses (``charts.kpis`` and so on)."""
    drawn = {"months": month_chart(found), "clocks": clocks_chart(found)}
    if found.kpi_history:
        drawn["kpis"] = kpi_chart(found)
    return drawn
