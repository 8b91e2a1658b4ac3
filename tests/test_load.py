"""Strict loading, one bad input at a time (issue 2 §5; DESIGN.md §3 "load").

Each test feeds recordgen.intake.load the bytes an admin might really drop in and checks what the admin would
read in NAME.errors.txt: where the problem is (the JSON path), what is wrong (key words of the
message, not the whole sentence) and that there is always something to do about it (``fix``).
"""

from __future__ import annotations

import codecs
import json
import os
import time
from pathlib import Path

import pytest

from recordgen.errors import CaseFileError, LoadError, Problem
from recordgen.intake.load import parse_case_bytes, read_case_file
from recordgen.settings import Limits

from conftest import example

MAX_BYTES = Limits().max_case_file_bytes
MAX_DEPTH = Limits().max_nesting_depth


def refused(raw: bytes, max_depth: int = MAX_DEPTH) -> Problem:
    """The one problem a LoadError reports for ``raw``."""
    with pytest.raises(LoadError) as info:
        parse_case_bytes(raw, max_depth)
    (problem,) = info.value.problems
    assert problem.message.strip()
    assert problem.fix.strip()
    return problem


def unwritable(raw: bytes) -> list[Problem]:
    """Every problem reported for text Word cannot hold (all at once, each with a fix)."""
    with pytest.raises(CaseFileError) as info:
        parse_case_bytes(raw, MAX_DEPTH)
    problems = list(info.value.problems)
    assert problems
    for problem in problems:
        assert problem.message.strip()
        assert problem.fix.strip()
    return problems


def case_json(kind: str = "support_plan") -> str:
    """A bundled example as an admin's system would export it (UTF-8 text, real accents)."""
    return json.dumps(example(kind), ensure_ascii=False, indent=2)


def nested(opener: str, depth: int) -> bytes:
    """A JSON value nested ``depth`` levels deep, counting the outermost container."""
    if opener == "[":
        return ("[" * depth + "]" * depth).encode()
    return ('{"a":' * depth + "1" + "}" * depth).encode()


# --- the good file, as the baseline every refusal is measured against ----------------------------


def test_an_example_case_file_loads_as_it_was_written() -> None:
    assert parse_case_bytes(case_json().encode("utf-8"), MAX_DEPTH) == example("support_plan")


def test_read_case_file_reads_an_example_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text(case_json(), encoding="utf-8")
    assert read_case_file(path, MAX_BYTES, MAX_DEPTH) == example("support_plan")


# --- size ----------------------------------------------------------------------------------------


def test_a_file_over_the_size_limit_is_refused_naming_its_size(tmp_path: Path) -> None:
    path = tmp_path / "scan.json"
    path.write_bytes(b'{"a": 1}' + b" " * (3 * 1024 * 1024))
    with pytest.raises(LoadError) as info:
        read_case_file(path, MAX_BYTES, MAX_DEPTH)
    (problem,) = info.value.problems
    assert problem.path == "$"
    assert "3.0 MB" in problem.message  # the file's own size
    assert "1.0 MB" in problem.message  # the limit
    assert problem.fix.strip()


def test_a_file_exactly_at_the_size_limit_is_read(tmp_path: Path) -> None:
    body = case_json().encode("utf-8")
    path = tmp_path / "padded.json"
    path.write_bytes(body + b" " * (MAX_BYTES - len(body)))
    assert path.stat().st_size == MAX_BYTES
    assert read_case_file(path, MAX_BYTES, MAX_DEPTH) == example("support_plan")


def test_a_file_one_byte_over_the_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "padded.json"
    path.write_bytes(b'{"a": 1}' + b" " * (MAX_BYTES - 7))
    with pytest.raises(LoadError) as info:
        read_case_file(path, MAX_BYTES, MAX_DEPTH)
    assert "larger than" in info.value.problems[0].message


def test_the_size_message_does_not_say_a_file_is_larger_than_its_own_size(tmp_path: Path) -> None:
    path = tmp_path / "padded.json"
    path.write_bytes(b'{"a": 1}' + b" " * (MAX_BYTES - 7))
    with pytest.raises(LoadError) as info:
        read_case_file(path, MAX_BYTES, MAX_DEPTH)
    message = info.value.problems[0].message
    assert "is 1.0 MB, larger than the 1.0 MB" not in message


# --- encodings -----------------------------------------------------------------------------------


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_a_byte_order_mark_is_refused_naming_utf16(codec: str) -> None:
    raw = case_json().encode(codec)
    if codec != "utf-16":  # Python's "utf-16" writes the BOM itself
        raw = (codecs.BOM_UTF16_LE if codec.endswith("le") else codecs.BOM_UTF16_BE) + raw
    problem = refused(raw)
    assert "UTF-16" in problem.message
    assert "UTF-8" in problem.fix


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_refused_naming_utf16(codec: str) -> None:
    # The support plan has accented letters ("Siân"), which UTF-8 cannot decode from UTF-16 bytes.
    problem = refused(case_json("support_plan").encode(codec))
    assert "UTF-16" in problem.message
    assert "UTF-8" in problem.fix


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_plain_ascii_utf16_without_a_byte_order_mark_is_refused_naming_utf16(codec: str) -> None:
    text = case_json("serious_incident")  # the incident example is all plain ASCII
    assert text.isascii()
    problem = refused(text.encode(codec))
    assert "UTF-16" in problem.message


@pytest.mark.parametrize("codec", ["utf-32", "utf-32-be"])
def test_utf32_with_a_byte_order_mark_is_refused_naming_utf32(codec: str) -> None:
    raw = case_json().encode(codec)
    if codec == "utf-32-be":
        raw = codecs.BOM_UTF32_BE + raw
    problem = refused(raw)
    assert "UTF-32" in problem.message
    assert "UTF-16" not in problem.message  # the UTF-32 LE mark starts with the UTF-16 LE one


def test_utf32_without_a_byte_order_mark_is_refused_naming_utf32() -> None:
    problem = refused(case_json().encode("utf-32-le"))
    assert "UTF-32" in problem.message


def test_windows_1252_text_is_refused_naming_the_encoding_and_showing_the_pound_sign() -> None:
    raw = '{"kind": "support_plan", "data": {"note": "Rent arrears of £612"}}'.encode("cp1252")
    problem = refused(raw)
    assert "Windows-1252" in problem.message
    assert '"£"' in problem.message
    # The admin can find the place: the byte number of the pound sign (counting from 1).
    pound_at = raw.index("£".encode("cp1252")) + 1
    assert f"byte {pound_at}" in problem.message
    assert "UTF-8" in problem.fix


def test_utf8_with_a_byte_order_mark_gives_the_same_data_as_without() -> None:
    raw = case_json().encode("utf-8")
    assert parse_case_bytes(codecs.BOM_UTF8 + raw, MAX_DEPTH) == parse_case_bytes(raw, MAX_DEPTH)
    assert parse_case_bytes(codecs.BOM_UTF8 + raw, MAX_DEPTH)["data"]["person"]["name"] == (
        "Siân O'Brien"
    )


def test_utf8_with_a_byte_order_mark_is_read_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "notepad.json"
    path.write_bytes(codecs.BOM_UTF8 + case_json().encode("utf-8"))
    assert read_case_file(path, MAX_BYTES, MAX_DEPTH) == example("support_plan")


# --- empty files ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [b"", b"   ", b"\n\n", b" \t\r\n ", codecs.BOM_UTF8, codecs.BOM_UTF8 + b"\r\n"],
    ids=["empty", "spaces", "newlines", "mixed-whitespace", "bom-only", "bom-and-newline"],
)
def test_an_empty_or_whitespace_only_file_is_refused_as_empty(raw: bytes) -> None:
    problem = refused(raw)
    assert problem.path == "$"
    assert "empty" in problem.message


def test_an_empty_file_on_disk_is_refused_as_empty(tmp_path: Path) -> None:
    path = tmp_path / "still-copying.json"
    path.write_bytes(b"")
    with pytest.raises(LoadError) as info:
        read_case_file(path, MAX_BYTES, MAX_DEPTH)
    assert "empty" in info.value.problems[0].message


# --- strict JSON: duplicate keys, NaN and Infinity -----------------------------------------------


def test_a_duplicate_key_at_the_top_level_is_refused_naming_the_key() -> None:
    raw = b'{"kind": "support_plan", "case_ref": "THS-1", "case_ref": "THS-2", "data": {}}'
    problem = refused(raw)
    assert '"case_ref"' in problem.message
    assert "twice" in problem.message
    assert "case_ref" in problem.fix


def test_a_duplicate_key_nested_deep_in_the_data_is_refused_naming_the_key() -> None:
    document = case_json()
    # Give the first objective a second target date, as a hand edit might.
    first = '"target_date": "2026-11-30"'
    assert first in document
    raw = document.replace(first, f'{first}, "target_date": "2027-01-31"', 1).encode()
    problem = refused(raw)
    assert '"target_date"' in problem.message
    assert "twice" in problem.message


def test_a_duplicate_key_says_on_which_lines_it_is_written() -> None:
    # A repeat deep in a long file cannot be found from its name alone: the lines say where.
    document = json.dumps(example("support_plan"), indent=2, ensure_ascii=False)
    first = '"target_date": "2026-11-30"'
    assert first in document
    raw = document.replace(first, f'{first},\n"target_date": "2027-01-31"', 1)
    lines = [number for number, line in enumerate(raw.splitlines(), start=1)
             if '"target_date"' in line]
    problem = refused(raw.encode())
    listed = ", ".join(map(str, lines[:-1])) + f" and {lines[-1]}"
    assert f"It is written at lines {listed}" in problem.message
    assert len(lines) > 2 and "two of them are in the same group" in problem.message


def test_a_duplicate_key_written_with_an_escape_is_still_a_duplicate() -> None:
    problem = refused(b'{"data": {"hours_per_week": 2, "hours\\u005fper_week": 9}}')
    assert '"hours_per_week"' in problem.message


def test_the_same_key_in_different_objects_is_not_a_duplicate() -> None:
    value = parse_case_bytes(b'{"a": {"name": "x"}, "b": {"name": "y"}, "name": "z"}', MAX_DEPTH)
    assert value == {"a": {"name": "x"}, "b": {"name": "y"}, "name": "z"}


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused_by_name(constant: str) -> None:
    problem = refused(f'{{"data": {{"hours_per_week": {constant}}}}}'.encode())
    assert constant in problem.message
    assert "number" in problem.message
    assert constant in problem.fix


def test_nan_deep_inside_a_list_is_refused() -> None:
    problem = refused(b'{"data": {"objectives": [{"scores": [1, 2, NaN]}]}}')
    assert "NaN" in problem.message


# --- nesting -------------------------------------------------------------------------------------


@pytest.mark.parametrize("opener", ["[", "{"])
def test_very_deep_nesting_is_refused_cleanly_and_quickly(opener: str) -> None:
    # 100,000 levels: Python's json would raise RecursionError (or worse) on this.
    raw = (opener * 100_000).encode()
    started = time.perf_counter()
    problem = refused(raw)
    assert time.perf_counter() - started < 2.0
    assert "nested" in problem.message
    assert str(MAX_DEPTH) in problem.message


@pytest.mark.parametrize("opener", ["[", "{"])
def test_very_deep_but_balanced_nesting_is_refused_cleanly(opener: str) -> None:
    started = time.perf_counter()
    problem = refused(nested(opener, 100_000))
    assert time.perf_counter() - started < 2.0
    assert "nested" in problem.message


def test_very_deep_nesting_inside_a_case_file_is_refused_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_bytes(b'{"kind": "support_plan", "data": ' + nested("[", 100_000) + b"}")
    with pytest.raises(LoadError) as info:
        read_case_file(path, MAX_BYTES, MAX_DEPTH)
    assert "nested" in info.value.problems[0].message


@pytest.mark.parametrize("opener", ["[", "{"])
def test_nesting_exactly_at_the_limit_is_accepted(opener: str) -> None:
    # The outermost value must be an object to be a case file, so wrap the lists in one.
    raw = (b'{"a": ' + nested("[", MAX_DEPTH - 1) + b"}") if opener == "[" else nested("{", MAX_DEPTH)
    value = parse_case_bytes(raw, MAX_DEPTH)
    assert isinstance(value, dict)


@pytest.mark.parametrize("opener", ["[", "{"])
def test_nesting_one_level_past_the_limit_is_refused(opener: str) -> None:
    raw = (b'{"a": ' + nested("[", MAX_DEPTH) + b"}") if opener == "[" else nested("{", MAX_DEPTH + 1)
    problem = refused(raw)
    assert "nested" in problem.message
    assert str(MAX_DEPTH) in problem.message


def test_the_nesting_limit_is_the_one_given() -> None:
    raw = nested("{", 5)
    assert parse_case_bytes(raw, 5) == json.loads(raw)
    assert "4 levels" in refused(raw, max_depth=4).message


def test_many_containers_side_by_side_are_not_deep() -> None:
    # 50 objectives each holding a list of actions is wide (five levels), not 150 levels deep.
    raw = json.dumps({"objectives": [{"actions": [{"by_whom": "Priya"}]} for _ in range(50)]})
    assert len(parse_case_bytes(raw.encode(), 5)["objectives"]) == 50
    assert "4 levels" in refused(raw.encode(), max_depth=4).message


@pytest.mark.parametrize(
    "text",
    ["[" * 100, "{" * 100, "[[[{{{" * 20, '\\"' + "[" * 100, "]" * 100 + "[" * 100],
    ids=["brackets", "braces", "mixed", "after-escaped-quote", "closing-then-opening"],
)
def test_brackets_inside_text_do_not_count_as_nesting(text: str) -> None:
    raw = json.dumps({"data": {"notes": text}}).encode()
    assert parse_case_bytes(raw, MAX_DEPTH)["data"]["notes"] == json.loads(raw)["data"]["notes"]


def test_brackets_inside_a_key_do_not_count_as_nesting() -> None:
    raw = json.dumps({"[" * 50: 1}).encode()
    assert parse_case_bytes(raw, MAX_DEPTH) == {"[" * 50: 1}


# --- not a case file -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "called"),
    [
        (b'[{"kind": "support_plan"}]', "list"),
        (b'"THS-2026-0142"', "text"),
        (b"42", "value"),
        (b"3.5", "value"),
        (b"true", "value"),
        (b"null", "null"),
    ],
    ids=["array", "string", "integer", "number", "boolean", "null"],
)
def test_a_json_value_that_is_not_an_object_is_not_a_case_file(raw: bytes, called: str) -> None:
    problem = refused(raw)
    assert problem.path == "$"
    assert "not a case file" in problem.message
    assert called in problem.message


# --- invalid JSON --------------------------------------------------------------------------------


def test_invalid_json_gives_the_line_and_column() -> None:
    lines = case_json().splitlines()
    # Line 4 (counting from 1), the case reference, loses the comma at its end, as a hand edit might.
    assert lines[3] == '  "case_ref": "THS-2026-0142",'
    lines[3] = lines[3][:-1]
    problem = refused("\n".join(lines).encode())
    assert "not valid JSON" in problem.message
    # The parser notices at the next field: line 5, column 3, where "data" begins.
    assert "line 5, column 3" in problem.message


@pytest.mark.parametrize(
    "raw",
    [b'{"a": 1,}', b"{'a': 1}", b'{"a": 1', b'{"a": 1} {"b": 2}', b'{"a": 01}', b'{"a": "x}'],
    ids=["trailing-comma", "single-quotes", "unclosed", "two-objects", "leading-zero", "open-text"],
)
def test_invalid_json_is_refused_with_a_place_to_look(raw: bytes) -> None:
    problem = refused(raw)
    assert "not valid JSON" in problem.message
    assert "line 1" in problem.message
    assert "column" in problem.message


def test_a_raw_control_character_in_text_is_described_in_plain_words() -> None:
    problem = refused(b'{"data": {"name": "Si\x01n"}}')
    assert "line 1" in problem.message
    assert "at at" not in problem.message


# --- text Word cannot hold -----------------------------------------------------------------------


def test_an_escaped_control_character_is_refused_at_its_path_and_position() -> None:
    document = example("support_plan")
    document["data"]["person"]["name"] = "Siân\u0001 O'Brien"
    (problem,) = unwritable(json.dumps(document).encode())
    assert problem.path == "$.data.person.name"
    assert "control character" in problem.message
    assert "U+0001" in problem.message
    assert "character 5" in problem.message


def test_a_control_character_in_a_list_item_is_refused_at_its_index() -> None:
    document = example("support_plan")
    document["data"]["objectives"][2]["actions"][0]["action"] = "Sort post\u000b together"
    (problem,) = unwritable(json.dumps(document).encode())
    assert problem.path == "$.data.objectives[2].actions[0].action"
    assert "U+000B" in problem.message


def test_a_lone_surrogate_is_refused_at_its_path() -> None:
    (problem,) = unwritable(b'{"data": {"person": {"name": "Si\\ud800n"}}}')
    assert problem.path == "$.data.person.name"
    assert "surrogate" in problem.message
    assert "character 3" in problem.message


def test_a_low_surrogate_alone_is_refused_too() -> None:
    (problem,) = unwritable(b'{"data": {"notes": "\\udfff"}}')
    assert problem.path == "$.data.notes"
    assert "surrogate" in problem.message


def test_a_correct_surrogate_pair_is_a_real_character_and_is_accepted() -> None:
    value = parse_case_bytes(b'{"data": {"notes": "\\ud83c\\udfe0 home"}}', MAX_DEPTH)
    assert value["data"]["notes"] == "\U0001f3e0 home"


@pytest.mark.parametrize(
    "raw",
    [b'{"data": {"notes": "a\\ufffe"}}', '{"data": {"notes": "a\ufffe"}}'.encode()],
    ids=["escaped", "literal-utf8"],
)
def test_the_non_character_fffe_is_refused(raw: bytes) -> None:
    (problem,) = unwritable(raw)
    assert problem.path == "$.data.notes"
    assert "U+FFFE" in problem.message
    assert "character 2" in problem.message


def test_tab_newline_and_carriage_return_are_accepted() -> None:
    raw = b'{"data": {"notes": "Line one\\r\\nLine two\\n\\tindented"}}'
    assert parse_case_bytes(raw, MAX_DEPTH)["data"]["notes"] == "Line one\r\nLine two\n\tindented"


def test_a_control_character_in_a_key_is_refused_and_named_as_a_field_name() -> None:
    (problem,) = unwritable(b'{"data": {"na\\u0007me": "Si\\u00e2n"}}')
    assert problem.path.startswith("$.data[")
    assert "field name" in problem.message
    assert "U+0007" in problem.message


def test_every_bad_string_is_reported_at_once() -> None:
    document = example("serious_incident")
    document["data"]["person"]["name"] = "Daniel\u0000Okafor"
    document["data"]["people_involved"][2]["name"] = "Marek \ud800Nowak"
    document["data"]["what_happened"] = "At about 02:20\u001b a resident heard a fall."
    document["data"]["location"] = "Room 6\uffff"
    problems = unwritable(json.dumps(document).encode())
    assert {p.path for p in problems} == {
        "$.data.person.name",
        "$.data.people_involved[2].name",
        "$.data.what_happened",
        "$.data.location",
    }
    assert len(problems) == 4


# --- files that cannot be read -------------------------------------------------------------------


def test_a_directory_cannot_be_read_as_a_case_file(tmp_path: Path) -> None:
    folder = tmp_path / "case.json"
    folder.mkdir()
    with pytest.raises(LoadError) as info:
        read_case_file(folder, MAX_BYTES, MAX_DEPTH)
    (problem,) = info.value.problems
    assert problem.message == "This is a folder, not a file."
    assert problem.fix.strip()


def test_a_missing_file_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(LoadError) as info:
        read_case_file(tmp_path / "gone.json", MAX_BYTES, MAX_DEPTH)
    (problem,) = info.value.problems
    assert problem.message == "There is no file by this name."
    assert problem.fix.strip()


def test_validate_reads_a_hard_linked_file_it_only_looks_at(tmp_path: Path) -> None:
    path = tmp_path / "case.json"
    path.write_text(case_json(), encoding="utf-8")
    os.link(path, tmp_path / "other-name.json")
    assert read_case_file(path, MAX_BYTES, MAX_DEPTH) == example("support_plan")


def test_a_hard_linked_file_about_to_be_moved_is_refused(tmp_path: Path) -> None:
    from recordgen.intake.load import read_case_bytes

    path = tmp_path / "case.json"
    path.write_text(case_json(), encoding="utf-8")
    os.link(path, tmp_path / "other-name.json")
    with pytest.raises(LoadError) as info:
        read_case_bytes(path, MAX_BYTES, sole_name=True)
    (problem,) = info.value.problems
    assert "1 other name(s) elsewhere" in problem.message and "a copy" in problem.fix


def test_a_link_is_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.json"
    secret.write_text(case_json(), encoding="utf-8")
    (tmp_path / "link.json").symlink_to(secret)
    with pytest.raises(LoadError) as info:
        read_case_file(tmp_path / "link.json", MAX_BYTES, MAX_DEPTH)
    (problem,) = info.value.problems
    assert "This is a link to another file" in problem.message
