"""Strict loading of case files: bytes in, a plain JSON object out, or a clear :class:`LoadError`.

Python's json module quietly accepts things a records system must not: duplicate keys (the last one
silently wins), NaN and Infinity, nesting deep enough to crash the interpreter, and escaped characters
that Word's XML cannot hold. Each of these is refused here with a message an admin can act on.
A file that is not a case file at all (a Word document, a PDF, a scan, a spreadsheet) is named by
what it seems to be (:mod:`recordgen.intake.foreign`). Files are read without following links.
"""

from __future__ import annotations

import codecs
import errno
import itertools
import json
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from recordgen.documents.problems import MAX_PROBLEMS, cap_problems, more_problems
from recordgen.errors import CaseFileError, LoadError, Problem
from recordgen.intake.foreign import (
    describe_by_name,
    identify,
    identify_bytes,
    identify_text,
    not_a_case_file,
)

_SAVE_AS_UTF8 = (
    'Open it in Notepad, choose File, Save As, set Encoding to "UTF-8", save, and drop it in again. '
    "If it came from another system, ask for a UTF-8 export."
)

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)

# Far more than any real case file holds (the schemas allow at most 50 entries in a list), and
# few enough that checking each entry stays quick.
MAX_LIST_ITEMS = 1000
MAX_OBJECT_FIELDS = 200
_CHECK_EXPORT = ("Check that this is the right file: an export that went wrong can repeat an "
                 "entry thousands of times. Remove the extra entries, or export the case again.")
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK

# Strings (with their escapes) are blanked before brackets are counted, so a "[" inside text does
# not count as nesting.
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def read_case_file(path: Path, max_bytes: int, max_depth: int) -> dict[str, Any]:
    """Read and strictly parse the case file at ``path`` (``recordgen validate``)."""
    return parse_case_bytes(read_case_bytes(path, max_bytes), max_depth, path.name)


def read_case_bytes(path: Path, max_bytes: int, *, sole_name: bool = False) -> bytes:
    """The bytes of the file at ``path``, read without following a link. A file that is not a
    case file at all (a Word document, a PDF, a picture...) is named by its content, whatever its
    size; a file larger than a case file may be is refused before it is read into memory. With
    ``sole_name`` (a file about to be moved or rejected), a file with other names elsewhere (a
    hard link) is refused, since whatever is done to it would reach them."""
    try:
        descriptor = os.open(path, _READ_FLAGS)
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    status = os.fstat(descriptor)
    if not stat.S_ISREG(status.st_mode):
        os.close(descriptor)
        if stat.S_ISDIR(status.st_mode):
            raise LoadError("This is a folder, not a file.",
                            "Give the case files inside it (for example folder/*.json).")
        raise LoadError("This is not a plain file (it is a device or a pipe).",
                        "Give a case file saved on disk.")
    with os.fdopen(descriptor, "rb") as handle:
        if sole_name and status.st_nlink > 1:
            raise LoadError(
                f"This file has {status.st_nlink - 1} other name(s) elsewhere on the disk (a hard "
                "link), so moving or changing it here would change it there too.",
                "Drop a copy of the file (not a link to it) into the inbox.",
            )
        what = identify(handle, path.name)
        if what is not None:
            raise not_a_case_file(what, _size(status.st_size))
        refuse_oversize(status.st_size, max_bytes)
        handle.seek(0)
        raw = handle.read(max_bytes + 1)
    if len(raw) > max_bytes:  # it grew while we looked
        raise LoadError(
            f"The file is larger than the {_size(max_bytes)} a case file may be.",
            "Split it into one file per document.",
        )
    return raw


def _unreadable(path: Path, exc: OSError) -> LoadError:
    if exc.errno == errno.ELOOP:
        return LoadError(
            "This is a link to another file, and recordgen never follows links (the file it "
            "points to may not be the one meant, or may belong to someone else).",
            "Give the path of the case file itself, or drop a copy of it into the inbox.",
        )
    if exc.errno == errno.ENOENT:
        return LoadError("There is no file by this name.", "Check the name and the folder.")
    return LoadError(
        f"The file could not be read ({exc.strerror or exc}).",
        "Check that the file is not open in another program, then drop it in again.",
    )


def refuse_oversize(size: int, max_bytes: int) -> None:
    """Refuse a file larger than a case file may be, before anything reads it into memory."""
    if size <= max_bytes:
        return
    shown, limit = _size(size), _size(max_bytes)
    if shown == limit:  # 1.0 MB is larger than 1.0 MB: say it in bytes instead
        shown, limit = f"{size:,} bytes", f"{max_bytes:,} bytes"
    raise LoadError(
        f"The file is {shown}, larger than the {limit} a case file may be.",
        "Check that this is really a case file (not a scan or an export of many cases); "
        "if it is, split it into one file per document.",
    )


def parse_case_bytes(raw: bytes, max_depth: int, name: str = "") -> dict[str, Any]:
    """Decode and strictly parse case-file bytes (``name``, the file's name, helps to say what a
    file that is not a case file seems to be)."""
    what = identify_bytes(raw, name)
    if what is not None:
        raise not_a_case_file(what, _size(len(raw)))
    try:
        text = decode_utf8(raw)
    except LoadError:
        what = describe_by_name(name)
        if what is not None:  # a .txt or .csv saved as Windows text, say: not a case file at all
            raise not_a_case_file(what) from None
        raise
    if not text.strip():
        raise LoadError(
            "The file is empty.",
            "It may not have finished saving or copying. Save the case file again and drop it in.",
        )
    check_nesting(text, max_depth)
    try:
        value = json.loads(
            text, object_pairs_hook=_refuse_duplicate_keys, parse_constant=_refuse_constant,
            parse_int=_whole_number, parse_float=_number,
        )
    except _StrictJsonError as exc:
        raise LoadError(exc.message + _lines_of(text, exc.key), exc.fix) from None
    except json.JSONDecodeError as exc:
        what = identify_text(text, name)
        if what is not None:
            raise not_a_case_file(what) from None
        if exc.msg.startswith("Invalid control character"):
            raise LoadError(
                f"A text value holds a hidden character (such as a tab or a line break typed "
                f"straight into it) at line {exc.lineno}, column {exc.colno}.",
                "Retype that value on one line; a line break inside text is written \\n.",
            ) from None
        raise LoadError(
            f"The file is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.",
            "Look near that place for a missing comma, quote or bracket. Files exported from the "
            "case management system are always valid; a file edited by hand may not be.",
        ) from None
    except RecursionError:
        raise LoadError(
            "The file is nested too deeply to read.",
            "This is not a case file recordgen can read; check where it came from.",
        ) from None
    if not isinstance(value, dict):
        raise LoadError(
            f"The file holds a JSON {_json_type(value)}, not a case file. A case file is one JSON "
            'object that starts with "{" and names its "kind", "schema_version", "case_ref" and '
            '"data".',
            "Drop in one case file per document; see the examples folder for the shape.",
        )
    oversized = list(itertools.islice(find_oversized(value), MAX_PROBLEMS + 1))
    if oversized:
        raise CaseFileError(cap_problems(oversized))
    found = find_unwritable_text(value)
    problems = [
        Problem(
            path=path,
            message=f"This text holds {what}, which a Word document cannot contain.",
            fix="Retype this value by hand (copying from some programs brings hidden characters "
            "with it), then drop the file in again.",
        )
        for path, what in itertools.islice(found, MAX_PROBLEMS)
    ]
    if problems:
        more = sum(1 for _ in found)
        raise CaseFileError([*problems, *([more_problems(more)] if more else [])])
    return value


def decode_utf8(raw: bytes) -> str:
    """UTF-8 with or without a byte-order mark; anything else is refused, naming what it looks like."""
    for bom, name in _BOMS:
        if raw.startswith(bom):
            raise LoadError(
                f"The file is saved as {name} text, but recordgen reads only UTF-8.", _SAVE_AS_UTF8
            )
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    if b"\x00" in raw[:4096]:
        # Plain ASCII saved as UTF-16 or UTF-32 is valid UTF-8 byte by byte (with NULs between),
        # so look at the pattern of NULs rather than trusting the decoder.
        raise LoadError(f"The file is not saved as UTF-8: {_wide_encoding(raw)}.", _SAVE_AS_UTF8)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LoadError(
            f"The file is not saved as UTF-8: {_guess_encoding(raw, exc.start)}.", _SAVE_AS_UTF8
        ) from None


def _wide_encoding(raw: bytes) -> str:
    sample = raw[:4096]
    if len(sample) >= 4 and (sample[1:4] == b"\x00\x00\x00" or sample[:3] == b"\x00\x00\x00"):
        return "it looks like UTF-32 text saved without a byte-order mark"
    if sample.count(b"\x00") > len(sample) // 4:
        return "it looks like UTF-16 text saved without a byte-order mark"
    return "it holds NUL bytes, so it is not a text file"


def _guess_encoding(raw: bytes, bad_at: int) -> str:
    sample = raw[:4096]
    if sample.count(b"\x00") > len(sample) // 4:
        return "it looks like UTF-16 text saved without a byte-order mark"
    byte = raw[bad_at]
    try:
        char = bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:
        return f"byte {bad_at + 1} (0x{byte:02X}) is not valid UTF-8"
    return (
        f"it looks like Windows-1252 (Western European) text; byte {bad_at + 1} would be "
        f'"{char}" there'
    )


def check_nesting(text: str, max_depth: int) -> None:
    """Refuse JSON nested deeper than ``max_depth`` before the parser can recurse into it."""
    depth = 0
    for match in _BRACKET.finditer(_JSON_STRING.sub('""', text)):
        if match.group() in "[{":
            depth += 1
            if depth > max_depth:
                raise LoadError(
                    f"The file is nested more than {max_depth} levels deep, deeper than any case "
                    "file should be.",
                    "This is not a case file recordgen can read; check where it came from.",
                )
        else:
            depth -= 1


def find_oversized(value: Any, path: str = "$") -> Iterator[Problem]:
    """A list or a group of fields larger than any case file needs: refused here, before the
    schema's checks would spend time and memory on each of its entries."""
    if isinstance(value, dict):
        if len(value) > MAX_OBJECT_FIELDS:
            yield Problem(path, f"This part of the file has {len(value):,} fields; no part of a "
                          f"case file has more than {MAX_OBJECT_FIELDS:,}.", _CHECK_EXPORT)
            return
        for key, item in value.items():
            yield from find_oversized(item, f"{path}.{key}" if _plain_key(key)
                                      else f"{path}[{json.dumps(key)[:60]}]")
    elif isinstance(value, list):
        if len(value) > MAX_LIST_ITEMS:
            yield Problem(path, f"This list has {len(value):,} entries; no list in a case file "
                          f"may have more than {MAX_LIST_ITEMS:,}.", _CHECK_EXPORT)
            return
        for index, item in enumerate(value):
            yield from find_oversized(item, f"{path}[{index}]")


def find_unwritable_text(value: Any, path: str = "$") -> Iterator[tuple[str, str]]:
    """Yield (JSON path, description) for each key or string Word's XML cannot hold: control
    characters other than tab and line breaks, lone surrogates, and the non-characters U+FFFE and
    U+FFFF (XML 1.0 §2.2)."""
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if _plain_key(key) else f"{path}[{json.dumps(key)}]"
            bad = _unwritable(key)
            if bad:
                yield child, f"{bad} in its field name"
            yield from find_unwritable_text(item, child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from find_unwritable_text(item, f"{path}[{index}]")
    elif isinstance(value, str):
        bad = _unwritable(value)
        if bad:
            yield path, bad


def _unwritable(text: str) -> str | None:
    for position, char in enumerate(text, start=1):
        code = ord(char)
        if code < 0x20 and char not in "\t\n\r":
            return f"a hidden control character (U+{code:04X}) at character {position}"
        if 0xD800 <= code <= 0xDFFF:
            return f"a broken character (a lone surrogate, U+{code:04X}) at character {position}"
        if code in (0xFFFE, 0xFFFF):
            return f"a character that is not allowed (U+{code:04X}) at character {position}"
    return None


def _plain_key(key: str) -> bool:
    return key.isidentifier() and key.isascii()


class _StrictJsonError(Exception):
    def __init__(self, message: str, fix: str, key: str | None = None) -> None:
        super().__init__(message)
        self.message, self.fix, self.key = message, fix, key


def _lines_of(text: str, key: str | None) -> str:
    """Where a field named ``key`` is written, by line, so a repeat deep in a file can be found
    (" It is written at lines 12 and 40."); nothing when there is no key or too many places."""
    if key is None:
        return ""
    written = re.compile(rf'"{re.escape(json.dumps(key)[1:-1])}"\s*:')
    lines = [text.count("\n", 0, found.start()) + 1 for found in written.finditer(text)]
    if not 2 <= len(lines) <= 20:
        return ""
    where = f"{', '.join(map(str, lines[:-1]))} and {lines[-1]}"
    if len(lines) == 2:
        return f" It is written at lines {where}."
    return f" It is written at lines {where}: two of them are in the same group."


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _StrictJsonError(
                f'The field "{key}" appears twice in the same part of the file, so it is not '
                "clear which value is meant.",
                f'Keep one "{key}" with the right value and delete the other.', key,
            )
        result[key] = value
    return result


def _refuse_constant(name: str) -> Any:
    raise _StrictJsonError(
        f"The file holds the value {name}, which is not a number a record can hold.",
        f"Replace {name} with the real number, or remove the field if it is not known.",
    )


# No figure a case file holds (an amount, hours, a count) needs more digits than this; a longer
# number is a mistake, and Python refuses to read one of over 4,300 digits at all.
_MOST_DIGITS = 30


def _whole_number(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > _MOST_DIGITS:
        raise _StrictJsonError(
            f"The file holds a number {digits:,} digits long, which is not a figure a record can "
            "hold.", "Check the number: it may have been pasted in more than once, or run into "
            "other figures.")
    return int(text)


def _number(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _StrictJsonError(
            f"The file holds the number {text[:40]}, which is too large for any record to hold.",
            "Check the number: it may have been typed with an extra exponent or too many digits.")
    return value


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "text value"
    if value is None:
        return "null"
    return "single value"


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} bytes"
