"""Service settings: the repository's file, defaults from the seeds, and every bad value refused with a
message that names the file and says what to write instead (issue 2 §4 and §9; DESIGN.md §4).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from recordgen.calendar import Interval
from recordgen.errors import SettingsError
from recordgen.settings import Returns, Settings, load_settings, settings_from_mapping

from conftest import REPO


def write_settings(folder: Path, text: str, name: str = "recordgen.toml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def refused(path: Path) -> str:
    """The message of the SettingsError ``load_settings(path)`` raises; it always names the file."""
    with pytest.raises(SettingsError) as info:
        load_settings(path)
    message = str(info.value)
    assert str(path) in message
    return message


# --- the repository's settings file --------------------------------------------------------------


def test_the_repository_settings_file_loads() -> None:
    settings = load_settings(REPO / "recordgen.toml")
    assert settings.source == REPO / "recordgen.toml"
    assert settings.folders.inbox == REPO / "inbox"
    assert settings.folders.outbox == REPO / "outbox"
    assert settings.folders.rejected == REPO / "rejected"
    assert settings.folders.store == REPO / "var" / "recordgen.sqlite3"
    assert settings.folders.schemas == REPO / "schemas"
    assert settings.folders.templates == REPO / "templates"
    assert settings.nation == "england-and-wales"
    assert settings.provider.name == "Thameside Housing Support"
    assert settings.provider.address[-1] == "TS1 4AB"
    assert settings.rules.max_review_interval == Interval(12, "weeks")


def test_the_repository_settings_file_is_found_in_the_current_folder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(REPO)
    assert load_settings().folders.inbox == REPO / "inbox"


# --- defaults from the seeds ---------------------------------------------------------------------


@pytest.fixture
def defaults(tmp_path: Path) -> Settings:
    """Settings from a file that only names the provider: everything else is a default."""
    return load_settings(write_settings(tmp_path, '[provider]\nname = "Anytown Floating Support"\n'))


def test_the_review_interval_defaults_to_twelve_weeks(defaults: Settings) -> None:
    # Service standard: support plans reviewed "no later than every 12 weeks".
    assert defaults.rules.max_review_interval == Interval(12, "weeks")
    assert str(defaults.rules.max_review_interval) == "12 weeks"


def test_the_hours_cap_defaults_to_three(defaults: Settings) -> None:
    # Floating support specification §5.1.2: "a maximum of three hours per week per Service User".
    assert defaults.rules.max_hours_per_week == 3


def test_the_exit_letter_defaults_to_seven_working_days(defaults: Settings) -> None:
    # Service standard: receipt of a request to leave confirmed "within seven working days".
    assert defaults.rules.exit_letter_working_days == 7


def test_the_support_limit_defaults_to_two_years(defaults: Settings) -> None:
    # Floating support specification §1.8 and §5.1.2.
    assert defaults.rules.max_support_years == 2


def test_the_other_seed_defaults(defaults: Settings) -> None:
    assert defaults.rules.assessment_days == 7  # Service standard
    assert defaults.rules.referral_contact_hours == 48  # Floating support specification §4.3.1
    assert defaults.rules.hard_copy_working_days == 5  # Support planning policy §5.10
    assert defaults.nation == "england-and-wales"
    assert defaults.closure_days == ()
    assert defaults.provider.name == "Anytown Floating Support"


def test_an_empty_mapping_gives_the_same_defaults(tmp_path: Path) -> None:
    settings = settings_from_mapping({}, base_dir=tmp_path)
    assert settings.rules.max_review_interval == Interval(12, "weeks")
    assert settings.rules.max_hours_per_week == 3
    assert settings.rules.exit_letter_working_days == 7
    assert settings.rules.max_support_years == 2
    assert settings.folders.inbox == tmp_path.resolve() / "inbox"


# --- paths are relative to the settings file -----------------------------------------------------


def test_folders_are_relative_to_the_settings_file_not_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_settings(
        tmp_path / "service",
        '[folders]\ninbox = "shared/drop"\noutbox = "shared/out"\nstore = "../db/records.sqlite3"\n',
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    settings = load_settings(path)
    base = (tmp_path / "service").resolve()
    assert settings.folders.inbox == base / "shared" / "drop"
    assert settings.folders.outbox == base / "shared" / "out"
    assert settings.folders.store == tmp_path.resolve() / "db" / "records.sqlite3"
    assert settings.folders.rejected == base / "rejected"  # a default, also beside the file
    assert settings.folders.schemas == base / "schemas"


def test_a_relative_path_to_the_settings_file_still_places_folders_beside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_settings(tmp_path / "service", '[folders]\ninbox = "drop"\n')
    monkeypatch.chdir(tmp_path)
    settings = load_settings(Path("service/recordgen.toml"))
    assert settings.folders.inbox == (tmp_path / "service" / "drop").resolve()


def test_an_absolute_folder_is_kept_as_it_is(tmp_path: Path) -> None:
    inbox = (tmp_path / "share" / "inbox").resolve()
    path = write_settings(tmp_path / "service", f'[folders]\ninbox = "{inbox.as_posix()}"\n')
    assert load_settings(path).folders.inbox == inbox


# --- the store is never inside the shared folders ------------------------------------------------


@pytest.mark.parametrize(
    ("store", "folder"),
    [
        ("inbox/records.sqlite3", "inbox"),
        ("inbox/.recordgen-work/records.sqlite3", "inbox"),
        ("var/../inbox/records.sqlite3", "inbox"),
        ("outbox/records.sqlite3", "outbox"),
        ("outbox/THS-2026-0142/records.sqlite3", "outbox"),
        ("rejected/records.sqlite3", "rejected"),
    ],
)
def test_a_store_inside_a_shared_folder_is_refused(tmp_path: Path, store: str, folder: str) -> None:
    message = refused(write_settings(tmp_path, f'[folders]\nstore = "{store}"\n'))
    assert "store" in message
    assert f"inside the {folder} folder" in message
    assert "outside the shared folders" in message


def test_a_store_inside_a_moved_inbox_is_refused(tmp_path: Path) -> None:
    text = '[folders]\ninbox = "//share/inbox"\nstore = "//share/inbox/records.sqlite3"\n'
    text = text.replace("//share", (tmp_path / "share").as_posix())
    message = refused(write_settings(tmp_path / "service", text))
    assert "inside the inbox folder" in message


def test_a_store_beside_the_shared_folders_is_accepted(tmp_path: Path) -> None:
    path = write_settings(tmp_path, '[folders]\nstore = "inbox-records.sqlite3"\n')
    assert load_settings(path).folders.store == tmp_path.resolve() / "inbox-records.sqlite3"


# --- bad values ----------------------------------------------------------------------------------


@pytest.mark.parametrize("nation", ["wales", "England and Wales", "england", "uk", ""])
def test_a_nation_recordgen_does_not_know_is_refused(tmp_path: Path, nation: str) -> None:
    message = refused(write_settings(tmp_path, f'[service]\nnation = "{nation}"\n'))
    assert "nation" in message
    assert f'"{nation}"' in message
    assert "england-and-wales, scotland, northern-ireland" in message


@pytest.mark.parametrize("nation", ["england-and-wales", "scotland", "northern-ireland"])
def test_each_nation_is_accepted(tmp_path: Path, nation: str) -> None:
    assert load_settings(write_settings(tmp_path, f'[service]\nnation = "{nation}"\n')).nation == nation


@pytest.mark.parametrize("interval", ["fortnightly", "12", "twelve weeks", "0 weeks", "6 month s",
                                      "3 days", "-6 months"])
def test_an_interval_recordgen_does_not_understand_is_refused(tmp_path: Path, interval: str) -> None:
    message = refused(write_settings(tmp_path, f'[rules]\nmax_review_interval = "{interval}"\n'))
    assert f'"{interval}"' in message
    assert "not an interval" in message
    assert '"12 weeks"' in message
    assert '"6 months"' in message


def test_a_bad_interval_message_names_the_setting(tmp_path: Path) -> None:
    message = refused(write_settings(tmp_path, '[rules]\nmax_review_interval = "fortnightly"\n'))
    assert "max_review_interval" in message


@pytest.mark.parametrize(
    ("section", "key"),
    [("rules", "max_hours_per_week"), ("rules", "max_support_years"),
     ("rules", "exit_letter_working_days"), ("limits", "max_case_file_bytes"),
     ("watch", "settle_seconds")],
)
def test_a_negative_number_is_refused(tmp_path: Path, section: str, key: str) -> None:
    message = refused(write_settings(tmp_path, f"[{section}]\n{key} = -1\n"))
    assert f"[{section}] {key}" in message
    assert "zero or more" in message


@pytest.mark.parametrize("value", ['"3"', "true", "[3]"])
def test_a_number_written_as_something_else_is_refused(tmp_path: Path, value: str) -> None:
    message = refused(write_settings(tmp_path, f"[rules]\nmax_hours_per_week = {value}\n"))
    assert "[rules] max_hours_per_week" in message
    assert "must be a number" in message


@pytest.mark.parametrize("key", ["max_support_years", "exit_letter_working_days"])
def test_a_fraction_where_a_whole_number_is_needed_is_refused(tmp_path: Path, key: str) -> None:
    refused(write_settings(tmp_path, f"[rules]\n{key} = 2.5\n"))


@pytest.mark.parametrize(
    "text",
    ['[rules]\nmax_review_intervall = "6 months"\n', '[rule]\nmax_review_interval = "6 months"\n'],
    ids=["misspelt-key", "misspelt-section"],
)
def test_a_misspelt_setting_is_refused_not_ignored(tmp_path: Path, text: str) -> None:
    message = refused(write_settings(tmp_path, text))
    assert "max_review_interval" in message or "[rules]" in message


def test_a_section_that_is_not_a_table_is_refused(tmp_path: Path) -> None:
    message = refused(write_settings(tmp_path, "rules = 3\n"))
    assert "[rules]" in message
    assert "table" in message


def test_a_folder_that_is_not_text_is_refused(tmp_path: Path) -> None:
    message = refused(write_settings(tmp_path, "[folders]\ninbox = 5\n"))
    assert "[folders] inbox" in message
    assert "text in quotes" in message


# --- the settings file itself --------------------------------------------------------------------


def test_a_missing_settings_file_says_so_and_mentions_config(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "recordgen.toml"
    with pytest.raises(SettingsError) as info:
        load_settings(path)
    message = str(info.value)
    assert str(path) in message
    assert "does not exist" in message
    assert "--config" in message


def test_no_settings_file_in_the_current_folder_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert "recordgen.toml" in str(info.value)
    assert "--config" in str(info.value)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('[rules\nmax_hours_per_week = 3\n', "line 1"),
        ('[rules]\nmax_hours_per_week = 3\nmax_hours_per_week = 4\n', "line 3"),
        ('[provider]\nname = "Thameside\n', "line 2"),
        ('[rules]\nmax_review_interval = 12 weeks\n', "line 2"),
    ],
    ids=["unclosed-section", "key-twice", "unclosed-quote", "unquoted-text"],
)
def test_invalid_toml_is_refused_naming_the_file_and_line(tmp_path: Path, text: str, line: str) -> None:
    message = refused(write_settings(tmp_path, text))
    assert "not valid TOML" in message
    assert line in message


def test_a_settings_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "recordgen.toml"
    path.write_bytes('[provider]\nname = "Caf\u00e9 & Co \u00a3"\n'.encode("cp1252"))
    message = refused(path)
    assert "could not be read" in message


@pytest.mark.parametrize("day", ["29/12/2026", "2026-02-30", "next Monday", "2026-12-29T09:00"])
def test_a_closure_day_that_is_not_a_date_is_refused(tmp_path: Path, day: str) -> None:
    message = refused(write_settings(tmp_path, f'[service]\nclosure_days = ["2026-12-29", "{day}"]\n'))
    assert "[service] closure_days" in message
    assert f'"{day}"' in message
    assert "YYYY-MM-DD" in message


def test_closure_days_written_as_toml_dates_are_refused_with_a_message(tmp_path: Path) -> None:
    message = refused(write_settings(tmp_path, "[service]\nclosure_days = [2026-12-29]\n"))
    assert "[service] closure_days" in message


def test_closure_days_are_read_as_dates(tmp_path: Path) -> None:
    path = write_settings(tmp_path, '[service]\nclosure_days = ["2026-12-29", "2026-12-30"]\n')
    assert load_settings(path).closure_days == (dt.date(2026, 12, 29), dt.date(2026, 12, 30))


# --- intervals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "interval"),
    [("12 weeks", Interval(12, "weeks")), ("6 months", Interval(6, "months")),
     ("1 month", Interval(1, "months")), (" 12  months ", Interval(12, "months")),
     ("1 week", Interval(1, "weeks"))],
)
def test_intervals_are_read_from_plain_words(text: str, interval: Interval) -> None:
    assert Interval.parse(text) == interval


def test_six_months_from_31_august_is_28_february() -> None:
    assert Interval(6, "months").after(dt.date(2026, 8, 31)) == dt.date(2027, 2, 28)


def test_six_months_from_31_august_is_29_february_in_a_leap_year() -> None:
    assert Interval(6, "months").after(dt.date(2027, 8, 31)) == dt.date(2028, 2, 29)


def test_six_months_from_a_day_every_month_has_is_the_same_day() -> None:
    assert Interval(6, "months").after(dt.date(2026, 9, 14)) == dt.date(2027, 3, 14)


def test_months_across_the_new_year() -> None:
    assert Interval(12, "months").after(dt.date(2026, 11, 23)) == dt.date(2027, 11, 23)
    assert Interval(2, "months").after(dt.date(2026, 12, 31)) == dt.date(2027, 2, 28)
    assert Interval(12, "months").after(dt.date(2028, 2, 29)) == dt.date(2029, 2, 28)


def test_one_month_from_31_march_is_30_april() -> None:
    assert Interval(1, "months").after(dt.date(2026, 3, 31)) == dt.date(2026, 4, 30)


def test_twelve_weeks_adds_84_days() -> None:
    start = dt.date(2026, 9, 14)
    assert Interval(12, "weeks").after(start) == start + dt.timedelta(days=84)
    assert Interval(12, "weeks").after(start) == dt.date(2026, 12, 7)


def test_intervals_print_as_they_are_written() -> None:
    assert str(Interval(12, "weeks")) == "12 weeks"
    assert str(Interval(1, "months")) == "1 month"


def test_subject_access_wording_keys_are_the_ones_the_cover_letter_uses(tmp_path: Path) -> None:
    from recordgen.settings import SUBJECT_ACCESS_KEYS
    from recordgen.subject_access.requests import DEFAULT_WORDING

    assert set(SUBJECT_ACCESS_KEYS) == set(DEFAULT_WORDING)
    path = tmp_path / "recordgen.toml"
    path.write_text('[subject_access]\nretension = "Six years."\n', encoding="utf-8")
    with pytest.raises(SettingsError, match=r'retension.*Did you mean "retention"'):
        load_settings(path)


# --- [returns] ---------------------------------------------------------------------------------


def test_returns_targets_default_to_the_specifications(tmp_path: Path) -> None:
    settings = load_settings(write_settings(tmp_path, ""))
    assert settings.returns == Returns()
    assert (settings.returns.independence_target, settings.returns.planned_move_on_target,
            settings.returns.gp_registered_target) == (85.0, 80.0, 100.0)
    assert settings.returns.year_starts_in == 1
    financial = load_settings(write_settings(tmp_path, '[returns]\nquarters = "financial"\n'
                                                       "independence_target = 90\n", name="f.toml"))
    assert financial.returns.year_starts_in == 4
    assert financial.returns.independence_target == 90.0


@pytest.mark.parametrize(("text", "expected"), [
    ('[returns]\nquarters = "fiscal"\n', 'quarters is "fiscal"; it must be "calendar"'),
    ("[returns]\nindependence_target = 185\n", "a percentage from 0 to 100"),
    ("[returns]\nplanned_move_on_target = -5\n", "must be a number of zero or more"),
    ('[returns]\ngp_registered_target = "all"\n', "must be a number of zero or more"),
    ("[returns]\nkpi1_target = 85\n", "kpi1_target is not a setting recordgen knows"),
])
def test_a_bad_returns_setting_is_refused_plainly(tmp_path: Path, text: str,
                                                   expected: str) -> None:
    assert expected in refused(write_settings(tmp_path, text))


# --- how many LibreOffice processes convert at once ---------------------------------------------


def test_conversion_processes_default_to_one_per_core(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 6)
    assert load_settings(write_settings(tmp_path, "")).output.processes == 6
    chosen = load_settings(write_settings(tmp_path, "[output]\nconversion_processes = 3\n"))
    assert chosen.output.processes == 3


@pytest.mark.parametrize(("value", "said"), [
    ("-1", "[output] conversion_processes must be a number of zero or more"),
    ("1.5", "[output] conversion_processes must be a whole number, not 1.5"),
    ('"two"', "[output] conversion_processes must be a number of zero or more"),
])
def test_a_wrong_number_of_conversion_processes_is_named(tmp_path: Path, value: str,
                                                         said: str) -> None:
    assert said in refused(write_settings(tmp_path, f"[output]\nconversion_processes = {value}\n"))
