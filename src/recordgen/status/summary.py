"""``recordgen status`` in words for a terminal and as JSON for monitoring: the same facts as the
page, and a verdict a server's monitoring can alert on."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

from recordgen.dates import uk_date, uk_date_time, uk_when, working_days_words
from recordgen.status.facts import DueItem, Health, StatusReport, at_least
from recordgen.status.folders import HeldState
from recordgen.status.heartbeat import NOTES_FOLDER
from recordgen.status.page import ago


class Verdict(StrEnum):
    """What ``recordgen status`` concludes (its exit code says the same)."""

    ALL_WELL = "all well"  # a watcher is looking, and nothing needs attention
    NEEDS_ATTENTION = "needs attention"  # a watcher is looking; something needs attention
    NOT_WATCHING = "not watching"  # no watcher has looked at the inbox for a few minutes


def verdict(report: StatusReport) -> Verdict:
    if not report.working.ok:
        return Verdict.NOT_WATCHING
    return Verdict.NEEDS_ATTENTION if report.attention else Verdict.ALL_WELL


def working_words(report: StatusReport) -> str:
    w = report.working
    look = w.watcher
    if w.health is Health.UNKNOWN:
        return (f"Warning: recordgen cannot tell whether a watcher is looking at the inbox. The "
                f"folder where it keeps its notes, {NOTES_FOLDER} in the inbox, cannot be used: "
                f"{w.notes_trouble}. Ask the system administrator to delete what is there in its "
                "place; recordgen makes the folder again at its next look.")
    if w.health is Health.WATCHING and look is not None and w.since_last_look is not None:
        return (f"Yes: the watcher on {look.host} last looked at the inbox at "
                f"{uk_date_time(look.looked_at)} ({ago(w.since_last_look)}).")
    if w.health is Health.SILENT and look is not None and w.since_last_look is not None:
        return (f"Warning: recordgen has not looked at the inbox since "
                f"{uk_date_time(look.looked_at)} ({ago(w.since_last_look)}): the watcher on "
                f"{look.host} has stopped or is stuck. Check the recordgen service on "
                f"{look.host}.")
    if w.health is Health.STOPPED and look is not None and look.stopped_at is not None:
        why = f" ({look.stop_reason})" if look.stop_reason else ""
        return (f"Warning: the watcher is not running. The watcher on {look.host} was stopped at "
                f"{uk_date_time(look.stopped_at)}{why}.")
    ran = w.last_process
    return ("Warning: no recordgen watcher has looked at this inbox." + (
        f" recordgen process last ran on {ran.host} at {uk_date_time(ran.looked_at)}."
        if ran else ""))


def due_words(item: DueItem) -> str:
    if item.overdue:
        when = "OVERDUE" + (f" by {working_days_words(-item.working_days_left)}"
                            if item.working_days_left < 0 else "")
    elif item.working_days_left == 0:
        when = "due today"
    else:
        when = f"{'due soon, ' if item.soon else ''}in {working_days_words(item.working_days_left)}"
    return f"{item.case_ref}: {item.what}, due by {uk_when(item.due)}: {when}"


def summary_lines(report: StatusReport, page: Path, rejected: Path) -> list[str]:
    """The summary for a terminal: what is wrong first, then what is due, then this week."""
    w = report.working
    lines = [f"recordgen status for {report.service} at {uk_date_time(report.now)}", "",
             "Is recordgen working?", f"  {working_words(report)}"]
    if w.case_files_waiting and w.oldest_waiting is not None:
        lines.append(f"  {at_least(w.case_files_waiting, w.waiting_complete)} case file(s) waiting "
                     f"in the inbox, the oldest saved at {uk_date_time(w.oldest_waiting)}.")
    else:
        lines.append("  No case files are waiting in the inbox.")
    lines += ["", "Needs your attention: "
              + (report.attention_words if report.attention else "nothing")]
    for r in report.rejected.items:
        lines.append(f"  Rejected: {r.name} (received at {r.received or 'a time not known'}): "
                     f"{r.what} The note: {rejected / r.note_name}")
    for h in report.held.items:
        if h.state is not HeldState.IN_HAND:
            taken = uk_date_time(h.taken_at) if h.taken_at else "a time not known"
            lines.append(f"  Held: case {h.case_ref or 'not known yet'}, taken at {taken}: "
                         f"{h.reason}")
    for i in report.never_read.items:
        lines.append(f"  In the inbox since {uk_date_time(i.since)}: {i.what}. {i.advice}")
    for d in report.late.items:
        lines.append(f"  Produced late: {d.what} for case {d.case_ref} was due by "
                     f"{uk_when(d.due)}; met on {uk_date(d.met_on)}, "
                     f"{working_days_words(d.working_days_late)} late.")
    for listed, what in ((report.rejected, "rejected files, in the rejected folder"),
                         (report.held, "held files, in the work folder"),
                         (report.never_read, "files in the inbox that are not case files"),
                         (report.late, "documents produced late in the last seven days")):
        if listed.more or not listed.complete:
            lines.append(f"  And {listed.more_words} more {what}.{listed.cut_short_words}")
    pressing = [d for d in report.due.items if d.overdue or d.soon]
    lines += ["", f"Due soon and overdue: {report.overdue} overdue, {report.due_soon} due within "
                  f"two working days, {report.due.total} open in all"]
    lines += [f"  {due_words(d)}" for d in pressing]
    unlisted = report.overdue + report.due_soon - len(pressing)
    if unlisted:
        lines.append(f"  And {unlisted:,} more overdue or due soon: recordgen due lists every one.")
    later = report.due.total - report.overdue - report.due_soon
    if later:
        lines.append(f"  And {later:,} due later: recordgen due lists every one.")
    lines += ["", "Today and this week",
              f"  {report.produced_today.total} document(s) produced today, "
              f"{report.produced_earlier.total} in the six days before."]
    lines += [f"  {p.case_ref}: {p.title}, at {uk_date_time(p.produced_at)}"
              for p in report.produced_today.items]
    if report.produced_today.more:
        lines.append(f"  And {report.produced_today.more_words} more produced today, in the "
                     "outbox.")
    lines += ["", f"The status page: {page}"]
    return lines


def summary_json(report: StatusReport, page: Path) -> dict[str, Any]:
    """The same facts for monitoring tools (moments in ISO 8601 with their offset)."""
    w = report.working
    return {
        "verdict": verdict(report).value,
        "now": report.now.isoformat(),
        "page": str(page),
        "working": {
            "health": w.health.value,
            "watching": w.ok,
            "host": w.watcher.host if w.watcher else None,
            "last_looked_at": w.watcher.looked_at.isoformat() if w.watcher else None,
            "seconds_since_last_look": round(w.since_last_look.total_seconds())
            if w.since_last_look is not None else None,
            "stopped_at": w.watcher.stopped_at.isoformat()
            if w.watcher and w.watcher.stopped_at else None,
            "watchers": [look.as_json() for look in w.watchers],
            "last_process_run": w.last_process.as_json() if w.last_process else None,
            "case_files_waiting": w.case_files_waiting,
            "notes_problem": w.notes_trouble,
        },
        "needs_attention": report.attention,
        "rejected": [{"file": r.name, "note": r.note_name, "received": r.received,
                      "problems": r.problems, "first_problem": r.what}
                     for r in report.rejected.items],
        "rejected_total": report.rejected.total,
        "held_total": report.held.total,
        "not_case_files_in_inbox_total": report.never_read.total,
        "produced_late_total": report.late.total,
        "due_total": report.due.total,
        "produced_today_total": report.produced_today.total,
        "lists_cut_short": report.cut_short,
        "held": [{"case_ref": h.case_ref, "state": h.state.value,
                  "taken_at": h.taken_at.isoformat() if h.taken_at else None,
                  "reason": h.reason} for h in report.held.items],
        "not_case_files_in_inbox": [{"what": i.what, "since": i.since.isoformat(),
                                     "what_to_do": i.advice} for i in report.never_read.items],
        "produced_late": [{"case_ref": d.case_ref, "what": d.what, "due": d.due.isoformat(),
                           "met_on": d.met_on.isoformat(),
                           "working_days_late": d.working_days_late, "document": d.document}
                          for d in report.late.items],
        "overdue": report.overdue,
        "due_soon": report.due_soon,
        "due": [{"case_ref": d.case_ref, "what": d.what, "due": d.due.isoformat(),
                 "working_days_left": d.working_days_left, "overdue": d.overdue,
                 "soon": d.soon} for d in report.due.items],
        "produced_today": [{"case_ref": p.case_ref, "document": p.title, "file": p.document,
                            "pdf": p.pdf, "produced_at": p.produced_at.isoformat()}
                           for p in report.produced_today.items],
        "produced_in_the_six_days_before": report.produced_earlier.total,
    }
