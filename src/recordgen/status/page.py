"""The status page: one self-contained HTML file that staff open from the shared folder.

It needs nothing from anywhere: the styles are in the page, there are no fonts, images or
scripts to fetch, and its Content-Security-Policy forbids fetching any. A small script in the page
only adds the page's own age as it is read (the page reads the same without it). Every value is
escaped by Jinja's autoescaping; links to rejected files and to documents are relative to the
page, so they work wherever the shared folder is mounted (a Windows drive letter, a UNC path).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import urllib.parse
from pathlib import Path

import jinja2
from markupsafe import Markup

from recordgen.dates import uk_date, uk_date_time, uk_when, working_days_words
from recordgen.settings import Folders
from recordgen.status.facts import Health, StatusReport, at_least
from recordgen.status.folders import HeldState, Waiting
from recordgen.status.heartbeat import NOTES_FOLDER

TEMPLATE = "page.html.j2"

# Shows how old the page is as it is read, and a warning once it is older than a few minutes (the
# watcher rewrites it at least once a minute). Only this script may run (its hash is in the
# page's Content-Security-Policy); the page says its age in words without it.
AGE_SCRIPT = """
(function () {
  var age = document.getElementById("page-age");
  var stale = document.getElementById("page-stale");
  var written = Date.parse(age.getAttribute("data-written"));
  function words(minutes) {
    if (minutes < 1) { return "less than a minute"; }
    if (minutes < 120) { return minutes + (minutes === 1 ? " minute" : " minutes"); }
    var hours = Math.floor(minutes / 60);
    if (hours < 48) { return hours + " hours"; }
    return Math.floor(hours / 24) + " days";
  }
  function show() {
    var minutes = Math.floor((Date.now() - written) / 60000);
    if (isNaN(minutes) || minutes < 0) { return; }
    age.textContent = ", " + words(minutes) + " ago";
    if (minutes >= 5) {
      document.getElementById("page-stale-age").textContent = words(minutes);
      stale.hidden = false;
    }
  }
  show();
  window.setInterval(show, 30000);
})();
"""
_SCRIPT_HASH = base64.b64encode(hashlib.sha256(AGE_SCRIPT.encode("utf-8")).digest()).decode()
POLICY = (f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{_SCRIPT_HASH}'; "
          "base-uri 'none'; form-action 'none'")

_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def link(target: Path, page: Path) -> str:
    """A link from the page to ``target``, relative to the page's folder, each part encoded (a
    file name may hold spaces, ``#``, ``%`` or accents)."""
    try:
        relative = os.path.relpath(target, page.parent)
    except ValueError:  # another drive: no relative way there
        return target.as_uri()
    return "/".join(urllib.parse.quote(part, safe="") for part in Path(relative).parts)


def ago(delta: dt.timedelta) -> str:
    """"3 minutes ago", "2 hours ago", "4 days ago"."""
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return "less than a minute ago"
    if minutes < 120:
        return f"{minutes} minute{'s' if minutes != 1 else ''} ago"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} hours ago"
    return f"{hours // 24} days ago"


def render_page(report: StatusReport, page: Path, folders: Folders) -> str:
    """The page as HTML text, for ``page`` (its links are relative to where it is written)."""
    template = _environment.get_template(TEMPLATE)
    return template.render(
        report=report,
        policy=POLICY,
        script=Markup(AGE_SCRIPT),  # noqa: S704 (a constant of this module, hashed in the policy)
        Health=Health,
        notes_folder_name=NOTES_FOLDER,
        HeldState=HeldState,
        Waiting=Waiting,
        written_iso=report.now.isoformat(),
        rejected_link=lambda name: link(folders.rejected / name, page),
        outbox_link=lambda name: link(folders.outbox / name, page),
        basename=lambda name: Path(name).name,
        uk_date=uk_date,
        uk_date_time=uk_date_time,
        uk_when=uk_when,
        ago=ago,
        at_least=at_least,
        days=working_days_words,
    )
