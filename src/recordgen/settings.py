"""Service settings: one TOML file, read once, handed to everything that needs it.

Paths in the file are relative to the file itself, so a settings file can live anywhere. Every value
has a default taken from the policies the service works to (cited beside each by name and section),
so a settings file only needs what differs for a service.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from recordgen.calendar import NATIONS, Interval, ServiceCalendar
from recordgen.errors import SettingsError

DEFAULT_SETTINGS_NAME = "recordgen.toml"
# The paragraphs of the subject access cover letter that [subject_access] may reword (UK GDPR
# Article 15(1)-(2)); their default wording is in recordgen.subject_access.requests.DEFAULT_WORDING.
SUBJECT_ACCESS_KEYS = (
    "purposes", "categories", "recipients", "retention", "source", "automated_decisions",
    "transfers", "rectification", "erasure", "restriction", "objection", "complaint", "dpo_contact",
)


@dataclass(frozen=True)
class Folders:
    inbox: Path
    outbox: Path
    rejected: Path
    store: Path
    templates: Path
    schemas: Path

    @property
    def work(self) -> Path:
        """Where claimed files wait while they are processed: inside the inbox, so that claiming is
        an atomic rename on one filesystem, and hidden, so watchers and people leave it alone."""
        return self.inbox / ".recordgen-work"


@dataclass(frozen=True)
class Provider:
    name: str
    service_name: str
    address: tuple[str, ...]
    phone: str
    email: str
    complaints_contact: tuple[str, ...]
    complaints_email: str
    complaints_phone: str


@dataclass(frozen=True)
class Rules:
    # Service standard "review support plans ... no later than every 12 weeks"; Support planning
    # policy §5.11 offers 6 or 12 months instead, so the interval is a per-service setting.
    max_review_interval: Interval = Interval(12, "weeks")
    # Floating support specification §5.1.2: "a maximum of three hours per week per Service User".
    max_hours_per_week: float = 3.0
    # Floating support specification §1.8 and §5.1.2: support is time limited to two years unless
    # otherwise agreed.
    max_support_years: int = 2
    # Service standard: "We will write and confirm receipt of the request within seven working days".
    exit_letter_working_days: int = 7
    # Service standard: assessments and support plans "finished within seven days of you entering
    # the service".
    assessment_days: int = 7
    # Floating support specification §4.3.1: contact "within 48 hours" of referral.
    referral_contact_hours: int = 48
    # Support planning policy §5.10: a hard copy of the plan "within 5 working days".
    hard_copy_working_days: int = 5
    # Employment development project specification "Additional reporting": serious incidents
    # reported "as soon as it is practical"; the number of hours that means is the commissioner's to
    # set.
    incident_notification_hours: int = 24
    # Service standard "When you leave or stop using the Housing Support Service": "housing support
    # is provided within 24 hours of a referral when required, for example in a crisis situation".
    crisis_support_hours: int = 24
    # Service standard: "assessments/support plans finished within seven days of you entering the
    # service" (Support planning policy §5.1 gives 4 weeks: 28).
    plan_days: int = 7
    # Service standard: plans reviewed "at a minimum period of every four weeks": a review at
    # least this often, besides the plan's own review date. None: the service sets no such clock.
    review_at_least_every: Interval | None = None
    # Support planning policy §5.11: "Residents will be given the choice to review their plan every
    # six or 12 months". Empty: the service offers no choice (the Service standard's interval).
    resident_review_choices: tuple[Interval, ...] = ()
    # Floating support specification §1.8: the two-year limit; staff are warned this many weeks
    # before it, to plan the move-on or agree a continuation (§1.9, §1.10).
    support_limit_warning_weeks: int = 8
    # Employment development project specification, "National Supporting People Outcomes
    # Framework": an outcomes form "for every person who leaves the service"; the working days
    # allowed are the service's to set.
    outcomes_form_working_days: int = 10
    # Floating support specification §1.8: "18 years of age or above" (the Employment development
    # project specification takes 16 to 65). 0 for max_age: no upper limit.
    min_age: int = 18
    max_age: int = 0


@dataclass(frozen=True)
class Limits:
    max_case_file_bytes: int = 1_048_576
    max_nesting_depth: int = 32


@dataclass(frozen=True)
class Watch:
    settle_seconds: float = 2.0
    poll_seconds: float = 0.0  # 0 means native file events
    rescan_seconds: float = 60.0


@dataclass(frozen=True)
class Output:
    pdf: bool = True
    pdf_off_for: tuple[str, ...] = ()
    conversion_timeout_seconds: float = 120.0
    conversion_processes: int = 0  # LibreOffice processes converting at once; 0: one per core

    @property
    def processes(self) -> int:
        """How many LibreOffice processes convert at once: the setting, or one per core."""
        return self.conversion_processes or max(1, os.cpu_count() or 1)

    def wants_pdf(self, kind: str) -> bool:
        """Whether a document of ``kind`` gets a PDF beside its Word document."""
        return self.pdf and kind not in self.pdf_off_for


@dataclass(frozen=True)
class StoreSettings:
    """Where the records are kept: the SQLite file at ``[folders] store`` (the default, one server),
    or a PostgreSQL database shared by several (``url``). The database password is never in the
    settings file: it is read from an environment variable or from a file only the service account
    can read."""

    url: str = ""  # empty: the SQLite store
    password_env: str = ""
    password_file: Path | None = None

    @property
    def postgresql(self) -> bool:
        return bool(self.url)


@dataclass(frozen=True)
class Status:
    """Where the status page staff open in their browser is written ([status] page)."""

    page: Path


STATUS_PAGE_NAME = "status.html"


@dataclass(frozen=True)
class Returns:
    """The monitoring returns ([returns]): how quarters are numbered, and the targets each
    quarterly figure is judged against (percentages), defaulting to the specifications'."""

    # "calendar": 2026-Q1 is January to March 2026. "financial": 2026-Q1 is April to June 2026
    # and 2026-Q4 is January to March 2027, for a commissioner who numbers by financial year.
    quarters: str = "calendar"
    # Floating support specification, Appendix 1, outcomes 1 and 2: "90% achieved between" paid
    # work and training or education.
    meaningful_occupation_target: float = 90.0
    # Floating support specification, Appendix 1, outcome 3: registered with a GP, 100%.
    gp_registered_target: float = 100.0
    # Floating support specification, Appendix 1, outcome 5; Employment development project
    # specification, KPI 1: independence maintained, 85%.
    independence_target: float = 85.0
    # Floating support specification, Appendix 1, outcome 6; Employment development project
    # specification, KPI 2: planned move-on, 80%.
    planned_move_on_target: float = 80.0
    # Processes counting a return at once, each reading part of the cases; 0: one per core.
    counting_processes: int = 0

    @property
    def processes(self) -> int:
        """How many processes count a return: the setting, or one per core."""
        return self.counting_processes or max(1, os.cpu_count() or 1)

    @property
    def year_starts_in(self) -> int:
        """The month the reporting year, and so its first quarter, begins in."""
        return 4 if self.quarters == "financial" else 1


QUARTER_NUMBERINGS = ("calendar", "financial")
MAX_COUNTING_PROCESSES = 64


@dataclass(frozen=True)
class Settings:
    source: Path | None
    folders: Folders
    provider: Provider
    nation: str = "england-and-wales"
    closure_days: tuple[dt.date, ...] = ()
    rules: Rules = field(default_factory=Rules)
    limits: Limits = field(default_factory=Limits)
    watch: Watch = field(default_factory=Watch)
    output: Output = field(default_factory=Output)
    sar_wording: Mapping[str, str] = field(default_factory=dict)
    store: StoreSettings = field(default_factory=StoreSettings)
    status: Status | None = None  # None: status.html beside the inbox
    returns: Returns = field(default_factory=Returns)

    @property
    def status_page(self) -> Path:
        """The status page: ``[status] page``, by default ``status.html`` beside the inbox, in the
        shared folder staff already use."""
        return self.status.page if self.status else self.folders.inbox.parent / STATUS_PAGE_NAME

    @property
    def calendar(self) -> ServiceCalendar:
        """The service's working days: its nation's bank holidays and its closure days."""
        return ServiceCalendar(nation=self.nation, closures=frozenset(self.closure_days))


def load_settings(path: Path | None = None) -> Settings:
    """Read the settings file at ``path`` (default ``./recordgen.toml``); paths in it are taken
    relative to the file. Raises :class:`SettingsError` naming the file and the bad key."""
    if path is None:
        path = Path.cwd() / DEFAULT_SETTINGS_NAME
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SettingsError(
            f"The settings file {path} does not exist. Give the right path with --config, or run "
            "recordgen from the folder that holds recordgen.toml."
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"The settings file {path} could not be read: {exc}.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"The settings file {path} is not valid TOML: {exc}.") from exc
    try:
        return settings_from_mapping(raw, base_dir=path.resolve().parent, source=path)
    except SettingsError as exc:
        raise SettingsError(f"In the settings file {path}: {exc}") from exc


def settings_from_mapping(
    raw: Mapping[str, Any], base_dir: Path, source: Path | None = None
) -> Settings:
    """Build :class:`Settings` from parsed TOML (tests use this with a plain dict)."""
    reader = _Reader(raw)
    folders = Folders(
        inbox=_path(base_dir, reader.text("folders", "inbox", "inbox")),
        outbox=_path(base_dir, reader.text("folders", "outbox", "outbox")),
        rejected=_path(base_dir, reader.text("folders", "rejected", "rejected")),
        store=_path(base_dir, reader.text("folders", "store", "var/recordgen.sqlite3")),
        templates=_path(base_dir, reader.text("folders", "templates", "templates")),
        schemas=_path(base_dir, reader.text("folders", "schemas", "schemas")),
    )
    _check_store_location(folders)
    provider = Provider(
        name=reader.text("provider", "name", "Your Housing Support Service"),
        service_name=reader.text("provider", "service_name", "Housing Support Service"),
        address=reader.lines("provider", "address", ()),
        phone=reader.text("provider", "phone", ""),
        email=reader.text("provider", "email", ""),
        complaints_contact=reader.lines("provider", "complaints_contact", ()),
        complaints_email=reader.text("provider", "complaints_email", ""),
        complaints_phone=reader.text("provider", "complaints_phone", ""),
    )
    nation = reader.text("service", "nation", "england-and-wales")
    if nation not in NATIONS:
        raise SettingsError(
            f'[service] nation is "{nation}"; it must be one of {", ".join(NATIONS)}.'
        )
    defaults = Rules()
    whole_numbers = {
        name: reader.whole("rules", name, getattr(defaults, name))
        for name in ("max_support_years", "exit_letter_working_days", "assessment_days",
                     "referral_contact_hours", "hard_copy_working_days",
                     "incident_notification_hours", "crisis_support_hours", "plan_days",
                     "support_limit_warning_weeks", "outcomes_form_working_days", "min_age",
                     "max_age")
    }
    if whole_numbers["max_age"] and whole_numbers["max_age"] < whole_numbers["min_age"]:
        raise SettingsError(f"[rules] max_age is {whole_numbers['max_age']}, below min_age "
                            f"({whole_numbers['min_age']}). Set max_age to 0 for no upper limit.")
    at_least_every = reader.text("rules", "review_at_least_every", "")
    rules = Rules(
        max_review_interval=reader.interval("rules", "max_review_interval",
                                            defaults.max_review_interval),
        max_hours_per_week=reader.number("rules", "max_hours_per_week", defaults.max_hours_per_week),
        review_at_least_every=_interval(at_least_every, "review_at_least_every")
        if at_least_every else None,
        resident_review_choices=tuple(
            _interval(text, "resident_review_choices")
            for text in reader.lines("rules", "resident_review_choices", ())),
        **whole_numbers,
    )
    limits = Limits(
        max_case_file_bytes=reader.whole("limits", "max_case_file_bytes", Limits.max_case_file_bytes),
        max_nesting_depth=reader.whole("limits", "max_nesting_depth", Limits.max_nesting_depth),
    )
    watch = Watch(
        settle_seconds=reader.number("watch", "settle_seconds", Watch.settle_seconds),
        poll_seconds=reader.number("watch", "poll_seconds", Watch.poll_seconds),
        rescan_seconds=reader.number("watch", "rescan_seconds", Watch.rescan_seconds),
    )
    output = Output(
        pdf=reader.flag("output", "pdf", Output.pdf),
        pdf_off_for=reader.lines("output", "pdf_off_for", ()),
        conversion_timeout_seconds=reader.number(
            "output", "conversion_timeout_seconds", Output.conversion_timeout_seconds
        ),
        conversion_processes=reader.whole("output", "conversion_processes",
                                          Output.conversion_processes),
    )
    closures = tuple(_date(d, "service", "closure_days") for d in reader.lines("service", "closure_days", ()))
    store = _store_settings(reader, base_dir)
    page = reader.text("status", "page", "")
    status = Status(page=_path(base_dir, page)) if page else None
    _check_status_page(status.page if status else folders.inbox.parent / STATUS_PAGE_NAME,
                       folders, given=bool(page))
    returns = _returns_settings(reader)
    reader.refuse_unknown()
    sar = raw.get("subject_access", {})
    if not isinstance(sar, Mapping) or not all(isinstance(v, str) for v in sar.values()):
        raise SettingsError("[subject_access] must hold only text values.")
    for key in sar:
        if key not in SUBJECT_ACCESS_KEYS:
            raise SettingsError(f"[subject_access] {key} is not a setting recordgen knows."
                                f"{_suggest(key, list(SUBJECT_ACCESS_KEYS))}")
    return Settings(
        source=source,
        folders=folders,
        provider=provider,
        nation=nation,
        closure_days=closures,
        rules=rules,
        limits=limits,
        watch=watch,
        output=output,
        sar_wording=dict(sar),
        store=store,
        status=status,
        returns=returns,
    )


def _returns_settings(reader: _Reader) -> Returns:
    """``[returns]``: quarter numbering and the targets, each a percentage from 0 to 100."""
    quarters = reader.text("returns", "quarters", Returns.quarters)
    if quarters not in QUARTER_NUMBERINGS:
        raise SettingsError(f'[returns] quarters is "{quarters}"; it must be "calendar" (the first '
                            'quarter is January to March) or "financial" (April to June).')
    targets = {}
    for name in ("meaningful_occupation_target", "gp_registered_target", "independence_target",
                 "planned_move_on_target"):
        value = reader.number("returns", name, getattr(Returns, name))
        if value > 100:
            raise SettingsError(f"[returns] {name} is {value:g}; a target is a percentage from "
                                "0 to 100.")
        targets[name] = value
    processes = reader.whole("returns", "counting_processes", Returns.counting_processes)
    if not 0 <= processes <= MAX_COUNTING_PROCESSES:
        raise SettingsError(f"[returns] counting_processes is {processes}; it must be from 1 to "
                            f"{MAX_COUNTING_PROCESSES}, or 0 for one per core.")
    return Returns(quarters=quarters, counting_processes=processes, **targets)


_POSTGRESQL_SCHEMES = ("postgresql", "postgres")


def _store_settings(reader: _Reader, base_dir: Path) -> StoreSettings:
    """``[store]``: a PostgreSQL URL without a password, and where the password is."""
    url = reader.text("store", "url", "").strip()
    password_env = reader.text("store", "password_env", "").strip()
    password_file = reader.text("store", "password_file", "").strip()
    if not url:
        if password_env or password_file:
            raise SettingsError("[store] password_env and password_file are for a PostgreSQL "
                                "store, but [store] url is not set. Set url, or remove them.")
        return StoreSettings()
    check_database_url(url, "[store] url")
    if password_env and password_file:
        raise SettingsError("[store] has both password_env and password_file; keep one.")
    if password_env and not password_env.replace("_", "a").isalnum():
        raise SettingsError(f'[store] password_env is "{password_env}": it must be the name of '
                            "an environment variable, such as RECORDGEN_DB_PASSWORD.")
    return StoreSettings(url=url, password_env=password_env,
                         password_file=_path(base_dir, password_file) if password_file else None)


def check_database_url(url: str, where: str) -> None:
    """A PostgreSQL URL that holds no password (it belongs in an environment variable or a
    private file, never in the settings file or on a command line)."""
    parts = urlsplit(url)
    if parts.scheme not in _POSTGRESQL_SCHEMES:
        raise SettingsError(
            f'{where} is "{url}", which is not a PostgreSQL address. Write it as '
            "postgresql://ROLE@HOST/DATABASE, or leave it out to keep the SQLite store.")
    if parts.password is not None or "password=" in parts.query.lower():
        raise SettingsError(
            f"{where} holds a password. Never put the database password in the settings "
            "file: take it out of the address, and put it in an environment variable "
            "([store] password_env) or a file only the service account can read "
            "([store] password_file).")
    if not parts.path.strip("/") and "dbname=" not in parts.query:
        raise SettingsError(f'{where} is "{url}", which names no database. Write it as '
                            "postgresql://ROLE@HOST/DATABASE.")


def _suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f' Did you mean "{close[0]}"?' if close else f" Known: {', '.join(known)}."


def _path(base_dir: Path, text: str) -> Path:
    path = Path(text).expanduser()
    return (path if path.is_absolute() else base_dir / path).resolve()


def _check_store_location(folders: Folders) -> None:
    # docs/design.md §4: the store lives on local disk, never inside the shared folders,
    # where a colleague could open, copy or delete it.
    for name in ("inbox", "outbox", "rejected"):
        folder: Path = getattr(folders, name)
        if folders.store.is_relative_to(folder):
            raise SettingsError(
                f"[folders] store is {folders.store}, inside the {name} folder {folder}. "
                "Keep the records store on the server's own disk, outside the shared folders."
            )


def _interval(text: str, key: str) -> Interval:
    try:
        return Interval.parse(text)
    except SettingsError as exc:
        raise SettingsError(f"[rules] {key}: {exc}") from exc


def _check_status_page(page: Path, folders: Folders, *, given: bool) -> None:
    """The status page is read by staff in a browser; where recordgen takes or files things it
    would be taken for a case file (the inbox) or reported as an added file (the outbox)."""
    where = "[status] page" if given else "The status page (by default beside the inbox)"
    if page.suffix.lower() not in (".html", ".htm"):
        raise SettingsError(f"{where} is {page}; give it a name ending .html, so that it opens "
                            "in a web browser when staff double-click it.")
    for name, meaning in (("inbox", "it would be taken as a case file and rejected"),
                          ("outbox", "recordgen verify would report it as a file added to the "
                                     "record"),
                          ("rejected", "staff would take it for a rejected file")):
        folder: Path = getattr(folders, name)
        if page.is_relative_to(folder):
            raise SettingsError(
                f"{where} is {page}, inside the {name} folder {folder}, where {meaning}. Put it "
                "beside the inbox (the default) or anywhere else in the shared folder staff use.")
    if page == folders.store:
        raise SettingsError(f"{where} is {page}, the records store's own name. Give the status "
                            "page a name of its own in the shared folder.")


def _date(text: str, section: str, key: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise SettingsError(
            f'[{section}] {key} holds "{text}", which is not a date. Write dates as YYYY-MM-DD.'
        ) from exc


class _Reader:
    """Typed access to ``[section] key`` values with defaults and plain-English errors."""

    # Sections whose keys are free text, not settings recordgen reads one by one.
    FREE_SECTIONS = ("subject_access",)

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw
        self.read: dict[str, set[str]] = {}

    def _get(self, section: str, key: str, default: Any) -> Any:
        self.read.setdefault(section, set()).add(key)
        table = self.raw.get(section, {})
        if not isinstance(table, Mapping):
            raise SettingsError(f"[{section}] must be a table of settings.")
        return table.get(key, default)

    def refuse_unknown(self) -> None:
        """A misspelt setting must not silently fall back to its default."""
        known_sections = [*self.read, *self.FREE_SECTIONS]
        for section, table in self.raw.items():
            if section not in known_sections:
                close = difflib.get_close_matches(section, known_sections, n=1)
                hint = f" Did you mean [{close[0]}]?" if close else ""
                raise SettingsError(f"[{section}] is not a section recordgen knows.{hint}")
            if section in self.FREE_SECTIONS or not isinstance(table, Mapping):
                continue
            for key in table:
                if key not in self.read[section]:
                    raise SettingsError(f"[{section}] {key} is not a setting recordgen knows."
                                        f"{_suggest(key, sorted(self.read[section]))}")

    def whole(self, section: str, key: str, default: int) -> int:
        value = self.number(section, key, default)
        if value != int(value):
            raise SettingsError(f"[{section}] {key} must be a whole number, not {value:g}.")
        return int(value)

    def interval(self, section: str, key: str, default: Interval) -> Interval:
        text = self.text(section, key, str(default))
        try:
            return Interval.parse(text)
        except SettingsError as exc:
            raise SettingsError(f"[{section}] {key}: {exc}") from exc

    def text(self, section: str, key: str, default: str) -> str:
        value = self._get(section, key, default)
        if not isinstance(value, str):
            raise SettingsError(f"[{section}] {key} must be text in quotes.")
        return value

    def number(self, section: str, key: str, default: float) -> float:
        value = self._get(section, key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise SettingsError(f"[{section}] {key} must be a number of zero or more.")
        return float(value)

    def flag(self, section: str, key: str, default: bool) -> bool:
        value = self._get(section, key, default)
        if not isinstance(value, bool):
            raise SettingsError(f"[{section}] {key} must be true or false.")
        return value

    def lines(self, section: str, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = self._get(section, key, default)
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise SettingsError(f'[{section}] {key} must be a list of text, like ["a", "b"].')
        return tuple(value)
