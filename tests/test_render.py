"""Rendering details the pipeline relies on: the same document always has the same bytes."""

from __future__ import annotations

import io
import zipfile

from recordgen.documents.render import date_time_filter, normalise_docx


def _zip(stamp: tuple[int, int, int, int, int, int]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(zipfile.ZipInfo("word/document.xml", date_time=stamp), b"<w:document/>")
        archive.writestr(zipfile.ZipInfo("[Content_Types].xml", date_time=stamp), b"<Types/>")
    return out.getvalue()


def test_the_same_document_saved_at_different_times_has_the_same_bytes() -> None:
    morning, evening = _zip((2026, 11, 23, 9, 0, 0)), _zip((2026, 11, 23, 17, 30, 2))
    assert morning != evening
    assert normalise_docx(morning) == normalise_docx(evening)
    with zipfile.ZipFile(io.BytesIO(normalise_docx(morning))) as archive:
        assert archive.namelist() == ["word/document.xml", "[Content_Types].xml"]
        assert archive.read("word/document.xml") == b"<w:document/>"


def test_times_are_written_the_uk_way() -> None:
    # One way of writing a moment, in documents and in messages alike (GOV.UK's style).
    assert date_time_filter("2026-11-19T02:20") == "2:20am on Thursday 19 November 2026"
    assert date_time_filter("2026-11-19T14:05") == "2:05pm on Thursday 19 November 2026"
    assert date_time_filter("2026-11-19T15:00") == "3pm on Thursday 19 November 2026"
    assert date_time_filter("2026-11-19T00:00") == "midnight on Thursday 19 November 2026"
    assert date_time_filter("2026-11-19T12:00") == "midday on Thursday 19 November 2026"
    assert date_time_filter("not a time") == "not a time"
