"""A subject access bundle never names anyone else: the leak-test corpus (tests/leak_corpus.py).

Every identifying value of every third party the schemas mark is planted in every free-text field
of every kind, in every variant, and searched for, by an independent check, in everything the
bundle is made of:

- ``test_every_plant_is_withheld_from_every_word_of_the_bundle`` (fast): one case file of each
  kind with every variant in every free-text field, redacted as a bundle redacts a case, then
  read back from each Word document the bundle converts (the documents re-created from their
  templates, headers and footers included, the case files set out, the covering letter), the
  record titles and the redaction log;
- ``test_no_plant_reaches_any_channel_of_a_real_bundle`` (slow, real LibreOffice): the same plants
  in valid case files put through the pipeline, and the bundle's PDF searched in every channel:
  text by pypdf and by pdftotext, bookmarks, link annotations, document information and XMP
  metadata, every object decompressed, the file names in the outbox, and the redaction log;
- a Hypothesis property with generated names (Latin with accents, Greek, Cyrillic, Arabic,
  Hebrew, Devanagari, Chinese; apostrophes and hyphens between their parts).

Over-redaction is measured in the same runs: the person's own name, address, needs and plan must
still be there, so that withholding everything cannot pass.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from leak_corpus import (
    ALL_NEEDLES,
    ALL_VARIANTS,
    KINDS,
    Field,
    base,
    data_node,
    free_text_fields,
    get,
    leaks,
    own_texts,
    planted,
    put,
    schema_text_pointers,
    squash,
    takes_free_text,
)
from recordgen.cases import CaseFile
from recordgen.clock import UK, FixedClock
from recordgen.deadlines.tracking import document_clock, response_due
from recordgen.documents.render import build_context, render_document
from recordgen.documents.validate import SchemaSet
from recordgen.kinds import KINDS as RECORDGEN_KINDS
from recordgen.kinds import Answer
from recordgen.pipeline.inbox import process_inbox
from recordgen.services import open_services
from recordgen.settings import Settings
from recordgen.subject_access.bundle import LOG_SUFFIX, cover_letter
from recordgen.subject_access.holdings import requester_of
from recordgen.subject_access.name_match import ORDINARY_WORDS, TITLES
from recordgen.subject_access.readable import CaseFileRecord, case_files_document
from recordgen.subject_access.redaction import Redacted, redact, scrubber_for, survey
from recordgen.subject_access.redaction_log import LogRecord, redaction_log

from conftest import REPO, example, make_settings
from docx_text import docx_text

CASE = "THS-2026-0142"
PROPERTY_EXAMPLES = int(os.environ.get("RECORDGEN_LEAK_EXAMPLES", "25"))
FIGURES: dict[str, int] = {}  # what the runs checked, printed for TESTING.md


@pytest.fixture(scope="module")
def schemas() -> SchemaSet:
    return SchemaSet(REPO / "schemas")


@pytest.fixture(scope="module")
def repo_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(tmp_path_factory.mktemp("corpus"), output={"pdf": True})


def fields_of(schemas: SchemaSet, kind: str, document: Mapping[str, Any]) -> list[Field]:
    return [f for f in free_text_fields(schemas, kind, document["data"]) if takes_free_text(f)]


def current_request() -> dict[str, Any]:
    """The request the bundle answers: the person's own, with its free text planted too."""
    document = example("subject_access_request")
    document["data"].update(extended=True, extension_told_on="2026-11-20",
                            extension_reason="Your records are held in two systems.")
    return document


# --- the words of the bundle ------------------------------------------------------------------


@dataclass(frozen=True)
class Words:
    texts: dict[str, str]  # what each part of the bundle says
    plants: int


def bundle_words(schemas: SchemaSet, settings: Settings, plants: Sequence[str],
                 documents: Mapping[str, dict[str, Any]] | None = None) -> Words:
    """Every word a bundle would hold for a case with one case file of each kind, each free-text
    field followed by ``plants``: redacted as :func:`recordgen.subject_access.bundle.redact_case` does, then
    rendered as the bundle renders it."""
    documents = documents or {kind: base(kind) for kind in KINDS}
    request_document = current_request()
    count = 0
    filled: dict[str, dict[str, Any]] = {}
    for kind, document in {**documents, "request": request_document}.items():
        real_kind = "subject_access_request" if kind == "request" else kind
        fields = fields_of(schemas, real_kind, document)
        filled[kind] = planted(document, fields, plants)
        count += len(fields) * len(plants)
    request = CaseFile(RECORDGEN_KINDS["subject_access_request"], CASE, 1,
                       filled["request"]["data"])
    requester = requester_of(request)
    nodes = {kind: data_node(schemas, kind) for kind in KINDS}
    findings = [survey(filled[k]["data"], nodes[k], schemas.resolve, requester, k) for k in KINDS]
    findings.append(survey(request.data, nodes["subject_access_request"], schemas.resolve,
                           requester, "request"))
    case_scrubber = scrubber_for(findings)
    redacted = {k: redact(filled[k]["data"], nodes[k], schemas.resolve, requester,
                          case_scrubber.scrubber) for k in KINDS}
    request_redacted = redact(request.data, nodes["subject_access_request"], schemas.resolve,
                              requester, case_scrubber.scrubber)
    texts: dict[str, str] = {}
    for kind in KINDS:
        texts[f"case file {kind}"] = docx_text(case_files_document(
            [CaseFileRecord(f"Case file received: {kind}", (), redacted[kind].data, nodes[kind])],
            schemas.resolve))
        if RECORDGEN_KINDS[kind].answer_for(redacted[kind].data) is Answer.DOCUMENT:
            texts[f"document {kind}"] = docx_text(rerendered(kind, redacted[kind], settings))
    due = response_due(request, settings.calendar)
    texts["covering letter"] = docx_text(cover_letter(request, request_redacted, 1,
                                                       dt.date(2026, 11, 23), due, 9, settings))
    incident_ref = filled["serious_incident"]["data"]["incident_ref"]
    title = f"Serious incident report {incident_ref}, version 1"
    texts["titles"] = case_scrubber.scrubber.scrub(title).text
    texts["redaction log"] = redaction_log(
        "bundle.pdf", request, dt.datetime(2026, 11, 23, 10, tzinfo=UK), due,
        [LogRecord(n, k, "23 November 2026", n, False, "", redacted[k])
         for n, k in enumerate(KINDS, start=1)], request_redacted, case_scrubber, ())
    texts["planted (for the check itself)"] = json.dumps(filled, ensure_ascii=False)
    return Words(texts, count)


def rerendered(kind: str, redacted: Redacted, settings: Settings) -> bytes:
    case = CaseFile(RECORDGEN_KINDS[kind], CASE, 1, redacted.data)
    try:
        due = document_clock(case, dt.date(2026, 11, 23), settings).shown
    except (KeyError, ValueError, TypeError):
        due = {}
    context = build_context(case, settings, version=1, document_date=dt.date(2026, 11, 23),
                            due=due)
    return render_document(settings.folders.templates / case.kind.template_file,
                           context).content


def test_the_corpus_plants_in_every_free_text_field_of_every_kind(schemas: SchemaSet) -> None:
    """A new free-text field, or a new kind, fails here until the corpus plants in it."""
    assert set(KINDS) == set(RECORDGEN_KINDS)
    for kind in KINDS:
        planted_in = {f.pointer for f in fields_of(schemas, kind, base(kind))}
        assert planted_in == schema_text_pointers(schemas, kind), kind


def test_every_plant_is_withheld_from_every_word_of_the_bundle(
    schemas: SchemaSet, repo_settings: Settings
) -> None:
    words = bundle_words(schemas, repo_settings, ALL_VARIANTS)
    planted_text = words.texts.pop("planted (for the check itself)")
    assert leaks(planted_text) == list(ALL_NEEDLES)  # every value was planted, and is findable
    for part, text in words.texts.items():
        assert leaks(text) == [], part
    # Over-redaction: the person's own name, address, needs and plan are all still there.
    everything = squash(" ".join(words.texts.values()))
    own = [text for kind in KINDS for text in own_texts(base(kind))]
    missing = [text for text in own if squash(text) not in everything]
    assert missing == []
    FIGURES["plants checked in the words of the bundle"] = words.plants
    FIGURES["own texts of the person kept (of as many)"] = len(own)
    assert words.plants > 10_000


# --- a real bundle ------------------------------------------------------------------------------


needs_libreoffice = pytest.mark.skipif(
    shutil.which("soffice") is None or shutil.which("pdftotext") is None,
    reason="LibreOffice and poppler-utils are not installed (run scripts/setup)",
)


def chunks(plants: Sequence[str], room: int) -> list[list[str]]:
    """``plants`` in groups that fit in ``room`` characters as "; "-joined text."""
    out: list[list[str]] = [[]]
    used = 0
    for plant in plants:
        cost = len(plant) + 2
        if out[-1] and used + cost > room:
            out.append([])
            used = 0
        out[-1].append(plant)
        used += cost
    return out


def valid_case_files(schemas: SchemaSet) -> tuple[list[tuple[str, dict[str, Any]]], int]:
    """Case files that pass validation and between them hold every plant in every free-text
    field of every kind: a long field holds them all in the first case file of its kind, a
    short one (300 characters) as many as fit, the rest in further case files."""
    files: list[tuple[str, dict[str, Any]]] = []
    count = 0
    for kind in KINDS:
        document = base(kind)
        fields = fields_of(schemas, kind, document)
        groups = {}
        for field in fields:
            room = field.max_length - len(get(document["data"], field.path)) - 10
            groups[field.path] = chunks(ALL_VARIANTS, room)
        copies = 1 if kind == "subject_access_request" else max(len(g) for g in groups.values())
        for number in range(copies):
            copy_ = json.loads(json.dumps(document, ensure_ascii=False))
            for field in fields:
                group = groups[field.path]
                if number < len(group):
                    own = get(copy_["data"], field.path)
                    put(copy_["data"], field.path, f"{own} Also: {'; '.join(group[number])}.")
                    count += len(group[number])
            if kind == "serious_incident":
                copy_["data"]["incident_ref"] = f"INC-2026-{300 + number}"
            files.append((f"{kind}-{number:02d}.json", copy_))
    return files, count


@dataclass(frozen=True)
class RealBundle:
    settings: Settings
    pdf: Path
    plants: int


@pytest.fixture(scope="module")
def real_bundle(schemas: SchemaSet, tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[RealBundle]:
    settings = make_settings(tmp_path_factory.mktemp("real-corpus"), output={"pdf": True})
    clock = FixedClock(dt.datetime(2026, 11, 23, 10, 0, tzinfo=UK))
    files, count = valid_case_files(schemas)
    request = current_request()
    fields = fields_of(schemas, "subject_access_request", request)
    for field in fields:
        room = field.max_length - len(get(request["data"], field.path)) - 10
        first = chunks(ALL_VARIANTS, room)[0]
        put(request["data"], field.path, f"{get(request['data'], field.path)} Also: "
                                         f"{'; '.join(first)}.")
        count += len(first)
    earlier = [f for f in files if f[0].startswith("subject_access_request")]
    others = [f for f in files if f not in earlier]
    # The earlier request first, so that its own bundle (not searched here) is quick to build.
    for batch in (earlier, others, [("zz-request.json", request)]):
        for name, document in batch:
            (settings.folders.inbox / name).write_text(json.dumps(document, ensure_ascii=False),
                                                       encoding="utf-8")
        with open_services(settings, clock) as services:  # real LibreOffice
            outcomes = process_inbox(services)
        assert len(outcomes) == len(batch), outcomes
        assert all(o.status in ("produced", "recorded") for o in outcomes), outcomes
    bundles = sorted((settings.folders.outbox / CASE).glob("*subject-access-bundle_v*.pdf"))
    yield RealBundle(settings, bundles[-1], count)


@needs_libreoffice
@pytest.mark.libreoffice
@pytest.mark.real_clock
@pytest.mark.slow
def test_no_plant_reaches_any_channel_of_a_real_bundle(real_bundle: RealBundle) -> None:
    from test_redaction_leaks import channels

    found = channels(real_bundle.pdf)
    for channel, text in found.items():
        assert leaks(text) == [], channel
    log = real_bundle.pdf.with_name(real_bundle.pdf.name.replace(".pdf", LOG_SUFFIX))
    assert leaks(log.read_text(encoding="utf-8")) == [], "redaction log"
    names = "\n".join(str(p.relative_to(real_bundle.settings.folders.outbox))
                      for p in real_bundle.settings.folders.outbox.rglob("*"))
    assert leaks(names) == [], "file names"
    # Over-redaction: the person's own name, address, needs and plan are all there.
    text = squash(found["pdftotext"])
    own = [t for kind in KINDS for t in own_texts(base(kind))]
    assert [t for t in own if squash(t) not in text] == []
    FIGURES["plants checked in a real bundle"] = real_bundle.plants
    assert real_bundle.plants > 5_000


# --- generated names ------------------------------------------------------------------------------


_SCRIPTS = {
    "latin": "abcdefghijklmnopqrstuvwxyzàáâãäåçèéêëìíîïñòóôõöøùúûüýÿāăąćčďēęěğīįłńňōőřśşšţťūůűųźżž",
    "greek": "αβγδεζηθικλμνξοπρστυφχψωάέήίόύώ",
    "cyrillic": "абвгдежзийклмнопрстуфхцчшщыэюяёії",
    "arabic": "ابتثجحخدذرزسشصضطظعغفقكلمنهوي",
    "hebrew": "אבגדהוזחטיכלמנסעפצקרשת",
    "devanagari": "अआइईउऊएऐओऔकखगघङचछजझञटठडढणतथदधनपफबभमयरलवशषसह",
    "chinese": ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
                "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
                "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"),
}


@st.composite
def generated_names(draw: st.DrawFn) -> str:
    script = draw(st.sampled_from(sorted(_SCRIPTS)))
    letters = _SCRIPTS[script]
    size = (2, 3) if script == "chinese" else (4, 9)
    words = draw(st.lists(st.text(alphabet=letters, min_size=size[0], max_size=size[1]),
                          min_size=1, max_size=3))
    if script == "latin":
        words = [w.capitalize() for w in words]
    joins = draw(st.lists(st.sampled_from([" ", "-", " O'", "’", " d’"]), min_size=len(words),
                          max_size=len(words)))
    return "".join(w + (j if i < len(words) - 1 else "") for i, (w, j) in
                   enumerate(zip(words, joins, strict=True))).strip()


def _tokens(text: str) -> list[str]:
    return re.findall(r"\w+", squash_keep_spaces(text))


def squash_keep_spaces(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    return "".join(c if not unicodedata.category(c).startswith("M") else ""
                   for c in decomposed).replace("ø", "o").replace("ł", "l")


@pytest.fixture(scope="module")
def words_without_plants(schemas: SchemaSet, repo_settings: Settings) -> set[str]:
    """Every word of a bundle with nothing planted: a generated name must not be one of them."""
    clean = bundle_words(schemas, repo_settings, ())
    return set(_tokens(" ".join(clean.texts.values())))


@settings(max_examples=PROPERTY_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(name=generated_names(), phone_tail=st.integers(100, 999))
def test_a_generated_name_is_never_left_anywhere(
    schemas: SchemaSet, repo_settings: Settings, words_without_plants: set[str], name: str,
    phone_tail: int
) -> None:
    pieces = [t for t in _tokens(name) if len(t) >= 3]
    assume(pieces and all(t not in words_without_plants and t not in ORDINARY_WORDS
                          and t not in TITLES for t in pieces))
    phone = f"07700 900 {phone_tail}"
    assume(phone not in ("07700 900 142",))
    documents = {kind: base(kind) for kind in KINDS}
    documents["needs_assessment"]["data"]["contacts"] = [
        {"name": name, "relationship": "Friend", "phone": phone}]
    plants = [name, name.upper(), name.lower(), unicodedata.normalize("NFD", name),
              name.replace("'", "’"), name + "’s", *re.split(r"[\s\-]+", name),
              phone.replace(" ", ""), "+44 " + phone[1:]]
    words = bundle_words(schemas, repo_settings, plants, documents)
    words.texts.pop("planted (for the check itself)")
    digits = re.sub(r"\D", "", phone)[1:]
    for part, text in words.texts.items():
        tokens = set(_tokens(text))
        assert not [p for p in pieces if p in tokens], (part, name)
        assert digits not in re.sub(r"\D", "", text), (part, phone)


@pytest.fixture(scope="module", autouse=True)
def report_figures() -> Iterator[None]:
    yield
    if FIGURES:
        print("\nleak corpus:", ", ".join(f"{k}: {v:,}" for k, v in FIGURES.items()))

