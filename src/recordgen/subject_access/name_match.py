"""Finding a person's name and contact details in free text by what they mean, not by their bytes.

Staff type names as they hear them: in capitals or in lower case, with or without their accents,
with a straight apostrophe or a curly one, a hyphen or a dash, one space or two. Phone numbers come
as 07700 900773, +44 7700 900773 or (07700) 900-773; postcodes as TS3 9QP or ts39qp. So both the
value searched for and the text searched are first *folded* (:func:`fold`): letter case, accents
(precomposed or written as separate combining characters), apostrophe, hyphen and space styles are
made the same, and invisible characters are dropped (every Unicode format character: soft hyphens,
zero-width spaces and joiners, direction marks and isolates pasted in from other programs), and a
match in the folded text is mapped back to the characters it came from. The patterns
(:func:`pattern_for`) then allow any spacing or punctuation between the words of a value, and any
format of a phone number or postcode (TS3 9QP, ts39qp, TS3-9QP). Matches are whole words only
("Ann" is not found in "Annual"), except at the edge of a script written without spaces (Chinese,
Japanese, Thai and the like), where there are no word edges to find.

A word of a name is found in the plural too, as a family is named ("the Morgans", "the Morgans'
house"). A third party's address line is found without its house or flat number as well ("lives
on Quixotic Lane" for "14 Quixotic Lane"), where what is left names a place of its own: a street
whose every word is common to streets everywhere ("High Street", "Station Road", "Church Lane") is
found only in full, with its number.

A single word of a name that is also an ordinary English word (:data:`ORDINARY_WORDS`: "will",
"rose", "brown") is matched only where it is written with a capital letter, as names are; written in
lower case it is taken for the ordinary word and left, and the redaction log says where.

What cannot be found this way (and the redaction log says so): nicknames and short forms, initials,
misspellings, a name written in another script, and descriptions such as "her neighbour".
"""

from __future__ import annotations

import functools
import re
import string
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

_APOSTROPHES = frozenset("'’‘‛ʼʹʻʽ`´′＇")
_HYPHENS = frozenset("-‐‑‒–—―⁃﹘﹣－−")
# Invisible characters: every Unicode format character (category Cf: soft hyphens, zero-width spaces
# and joiners, direction marks, embeddings, overrides and isolates, invisible operators, tags), and
# the other default-ignorable characters that are not marks (marks are dropped anyway).
_INVISIBLE = frozenset("\u00ad\u200b\u200c\u200d\u2060\ufeff\u180e\u034f"
                       "\u115f\u1160\u17b4\u17b5\u3164\uffa0")
# Letters that are not written with an accent in Unicode, but that people leave out all the same.
_PLAIN_LETTERS = {"ø": "o", "đ": "d", "ł": "l", "æ": "ae", "œ": "oe", "ı": "i", "ð": "d",
                  "þ": "th", "ħ": "h", "ŧ": "t"}
# Honorifics are not names: "Mrs" must not be withheld wherever it appears.
TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "rev", "revd",
                    "lady", "lord", "master"})

# Words that are names and also ordinary English words (first names, surnames and the particles of
# names). Such a word of a third party's name is withheld only where it is written with a capital;
# the log lists where a lower-case one was left. A word missing from this list is withheld in any
# letter case, which costs a reader a word, never another person's name.
_ORDINARY = """
will mark bill frank grace hope faith joy patience prudence charity honour honor merry carol
rose lily daisy ivy holly hazel heather iris violet poppy amber ruby pearl crystal jade jasmine
summer autumn april may june august dawn eve sky rain river storm sunny penny sue pat pip rob bob
jack nick ray guy dean drew chase miles rich rusty sandy stone wade reed cliff glen dale lane brook
heath forest robin wren jay finch earl baron duke king prince major bishop page mason carter baker
cook butler porter turner walker fisher hunter archer farmer smith brown green white black grey
gray young long short little small strong hill wood woods field fields ford marsh moss lake bush
bell bird fox lamb hart bull crow swan hall house street church chapel castle bridge bank banks
barn mill mills well wells noble gold silver read rice fry frost snow west north south east day
knight power price cross hardy sharp cash chance best bright good love friend gentle booth don art
gene sol bud buck chip kit skip max ward case chambers waters rivers burns wise moody bond ball
temple gates lodge wall walls pool yard court park garden gardens grove glass nurse warden
judge keeper shepherd singer painter gardener weaver potter priest monk pope smart sweet strange
savage salmon fish bacon pepper honey cotton steel iron bean pike hay oak ash birch elm pine thorn
law sterling golden summers winter winters spring march fair free hale hood horn lock lucky mercy
liberty star sun moon wolf lion hawk drake dove peacock parrot rook sparrow starling lark
van von de la le du da di del della des den der ter bin ibn al el ap mac st
"""
ORDINARY_WORDS = frozenset(_ORDINARY.split())

# Scripts written without spaces between words: no word edges to match on.
_UNSPACED = ((0x0E00, 0x0EFF), (0x0F00, 0x0FFF), (0x1000, 0x109F), (0x1780, 0x17FF),
             (0x3040, 0x30FF), (0x31F0, 0x31FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF),
             (0xA000, 0xA4CF), (0xF900, 0xFAFF), (0x20000, 0x3FFFF))


def _unspaced(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _UNSPACED)


def _invisible(char: str) -> bool:
    return char in _INVISIBLE or unicodedata.category(char) == "Cf"


@functools.lru_cache(maxsize=8192)
def _fold_char(char: str) -> str:
    if _invisible(char):
        return ""
    if char in _APOSTROPHES:
        return "'"
    if char in _HYPHENS:
        return "-"
    if char.isspace():
        return " "
    out = []
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", char).casefold())
    for part in decomposed:
        if unicodedata.category(part).startswith("M") or _invisible(part):
            continue  # accents and other marks, precomposed or combining
        if part in _APOSTROPHES:
            part = "'"
        elif part in _HYPHENS:
            part = "-"
        elif part.isspace():
            part = " "
        out.append(_PLAIN_LETTERS.get(part, part))
    return "".join(out)


@dataclass(frozen=True)
class Folded:
    """Text folded for matching, and for each folded character the index of the original one."""

    text: str
    origin: tuple[int, ...]

    def span(self, start: int, end: int, original: str) -> tuple[int, int]:
        """The characters of ``original`` that folded into ``text[start:end]`` (with any invisible
        characters among them), and any combining marks that follow the last (its accents). An
        invisible character before or after the match is not part of it, and stays: the text
        around a match is left as it was."""
        first, last = self.origin[start], self.origin[end - 1] + 1
        while last < len(original) and unicodedata.category(original[last]).startswith("M"):
            last += 1
        return first, last


def fold(text: str) -> Folded:
    """``text`` folded (see the module docstring); runs of spaces become one space."""
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        for part in _fold_char(char):
            if part == " " and chars and chars[-1] == " ":
                continue
            chars.append(part)
            origin.append(index)
    return Folded("".join(chars), tuple(origin))


def folded(value: str) -> str:
    """``value`` folded and trimmed: the key two values that mean the same share."""
    return fold(value).text.strip()


def words(value: str) -> list[str]:
    """The folded words of ``value``."""
    return re.findall(r"\w+", folded(value))


# --- what is searched for ------------------------------------------------------------------------


class Shape(Enum):
    """What a value is, which decides how it may be written."""

    NAME = "name"  # a person's name: found in full, and word by word
    WORD = "word"  # one word of a name
    PHONE = "phone"
    POSTCODE = "postcode"
    EMAIL = "email"
    TEXT = "text"  # anything else identifying (an address line): found in full


_PHONE = re.compile(r"\+?[\d\s().\-/]+\Z")
_POSTCODE = re.compile(r"^[a-z]{1,2}\d[a-z\d]?\s?\d[a-z]{2}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def shape_of(value: str, *, is_name: bool) -> Shape:
    key = folded(value)
    if is_name:
        return Shape.WORD if len(words(value)) == 1 else Shape.NAME
    if _PHONE.match(key) and sum(c.isdigit() for c in key) >= 6:
        return Shape.PHONE
    if _POSTCODE.match(key):
        return Shape.POSTCODE
    if _EMAIL.match(key):
        return Shape.EMAIL
    return Shape.TEXT


def name_words(name: str) -> list[str]:
    """The words of a name worth searching for on their own: two characters or more, with a
    letter, and not a title ("Mrs"). Words are split at spaces and hyphens, not apostrophes:
    "O'Brien" is one word, so that "Mr O'Brien" loses all of it."""
    out = []
    for piece in re.split(r"[\s\-]+", folded(name)):
        word = "'".join(re.findall(r"\w+", piece))
        if sum(c.isalnum() for c in word) >= 2 and any(c.isalpha() for c in word) \
                and word not in TITLES:
            out.append(word)
    return out


def plural_of(word: str) -> str:
    """A folded name word in the plural, as a family is named ("the Morgans", "the Joneses");
    "" for a word that does not end in a Latin letter."""
    if not word or word[-1] not in string.ascii_lowercase:
        return ""
    return word + ("es" if word.endswith(("s", "x", "z", "ch", "sh")) else "s")


# The kinds of street of an address, with the short forms they are also written in ("Quixotic Ln").
_STREET_TYPES: dict[str, tuple[str, ...]] = {
    "road": ("rd",), "street": ("st",), "lane": ("ln",), "avenue": ("ave", "av"),
    "close": ("cl",), "drive": ("dr",), "court": ("ct",), "crescent": ("cres",),
    "gardens": ("gdns",), "place": ("pl",), "square": ("sq",), "terrace": ("terr",),
    "grove": ("gr",), "park": ("pk",), "parade": ("pde",),
}
_STREET_FORMS = {form: (full, *short) for full, short in _STREET_TYPES.items()
                 for form in (full, *short)}
# Words that do not say which place an address is on their own: kinds of street and building, the
# words of the most common street names in the UK ("High Street", "Station Road", "Church Lane",
# "London Road", "Victoria Road"), and the words that number a flat. A street of a third party's
# address made only of these (and of ordinary words) is found only in full, with its number.
_PLACE = """
way walk row mews hill rise view vale green gate yard end side bank common heights
meadow meadows field fields house houses cottage cottages flats buildings mansions tower towers
lodge estate centre center
high main station church chapel school mill new old north south east west upper lower middle
back front little great manor farm grange market bridge castle hall town village the and saint
london victoria queen queens king kings albert alexandra york windsor george highfield springfield
flat apartment apt unit room suite studio floor block plot ground first second third top basement
"""
_PLACE_WORDS = frozenset(_PLACE.split()) | frozenset(_STREET_FORMS)
_UNIT = r"(?:flat|apartment|apt|unit|room|suite|studio|floor|block|plot)\.?\s*\w{1,4}"
_HOUSE_NUMBER = r"(?:no\.?\s*)?\d+[a-z]?(?:\s*[-/]\s*\d+[a-z]?)?"
_NUMBERED = re.compile(rf"(?:{_UNIT}\s*[,\s]\s*)?(?:{_HOUSE_NUMBER}\s*[,\s]\s*)?")


def address_parts(value: str) -> list[str]:
    """The parts of an address line that name a place without its house or flat number, folded:
    "Quixotic Lane" of "14 Quixotic Lane", "Quillfeather House" of "Flat 2, Quillfeather House".
    Only a part that names a place of its own, with a word that is neither common to streets
    everywhere (:data:`_PLACE_WORDS`) nor an ordinary word: not "High Street" of "12 High
    Street", nor "Rose Court" of "3 Rose Court"."""
    key = folded(value)
    out = []
    for piece in (p.strip() for p in re.split(r"[,;]", key)):
        numbered = _NUMBERED.match(piece)  # always matches: the number may be missing
        part = piece[numbered.end() if numbered else 0:].strip()
        if part and part != key and part not in out and any(
                len(word) >= 3 and not word.isdigit() and word not in _PLACE_WORDS
                and word not in ORDINARY_WORDS for word in re.findall(r"\w+", part)):
            out.append(part)
    return out


def searchable(value: str, shape: Shape) -> bool:
    """Whether a value is worth searching for: long enough to mean something."""
    key = folded(value)
    if shape is Shape.PHONE:
        return sum(c.isdigit() for c in key) >= 6
    alnum = sum(c.isalnum() for c in key)
    return alnum >= 2 if shape is Shape.WORD else alnum >= 3


_GAP = r"[\W_]{0,4}"  # between the words of a value: spaces, punctuation, or nothing
_DIGIT_GAP = r"[\s().\-/]{0,3}"
_POSTCODE_GAP = r"[\W_]{0,3}"  # TS3 9QP, TS39QP, TS3-9QP, TS3 / 9QP, T S 3 9 Q P


def pattern_for(value: str, shape: Shape, *, plural: bool = False, ordinary: bool = False
                ) -> str:
    """A regular expression, over folded text, for every way ``value`` may be written. A name
    word with ``plural`` is found in the plural too ("the Morgans"); an ``ordinary`` one only
    after "the" ("the Browns", never "Bills are paid")."""
    key = folded(value)
    if shape is Shape.PHONE:
        return _phone_pattern(key)
    if shape is Shape.POSTCODE:
        chars = [c for c in key if not c.isspace()]
        return r"(?<![^\W_])" + _POSTCODE_GAP.join(re.escape(c) for c in chars) + r"(?![^\W_])"
    if shape is Shape.EMAIL:
        return r"(?<![\w.+\-])" + re.escape(key) + r"(?![\w\-])"
    tokens = re.findall(r"\w+", key)
    body = _GAP.join(_street_form(t) if shape is Shape.TEXT else re.escape(t) for t in tokens)
    ending = plural_of(key)[len(key):] if plural and shape is Shape.WORD else ""
    if ending and ordinary:
        body = rf"(?:(?<=\bthe ){body}{ending}|{body})"
    elif ending:
        body = rf"{body}(?:{ending})?"
    before = "" if _unspaced(tokens[0][0]) else r"(?<!\w)"
    after = "" if _unspaced(tokens[-1][-1]) else r"(?!\w)"
    return before + body + after


def _place_key(value: str) -> str:
    """A folded address line or part with its kinds of street written in full: "wharf rd" and
    "wharf road" are one street."""
    return " ".join(_STREET_FORMS.get(w, (w,))[0] for w in re.findall(r"\w+", value))


def _street_form(token: str) -> str:
    """A word of an address line: a kind of street in full or in short ("Lane" or "Ln")."""
    forms = _STREET_FORMS.get(token)
    if not forms:
        return re.escape(token)
    return "(?:" + "|".join(sorted(forms, key=len, reverse=True)) + ")"


def _phone_pattern(key: str) -> str:
    digits = re.sub(r"\D", "", key)
    international = key.startswith("+") or digits.startswith("00")
    if international:
        digits = digits[2:] if digits.startswith("00") else digits
        if digits.startswith("44"):  # a UK number: +44 7700 900773 is also 07700 900773
            national, prefix = digits[2:].lstrip("0"), r"(?:(?:\+|00)\s?44\W{0,3}(?:\(?0\)?\W{0,2})?|\(?0)"
        else:
            national, prefix = digits, r"(?:\+|00)?\W{0,2}"
    elif digits.startswith("0"):
        national, prefix = digits[1:], r"(?:(?:\+|00)\s?44\W{0,3}(?:\(?0\)?\W{0,2})?|\(?0)"
    else:
        national, prefix = digits, r"\(?"
    return r"(?<![\d+])" + prefix + _DIGIT_GAP.join(national) + r"(?!\d)"


# --- is this the requester? ----------------------------------------------------------------------


@dataclass(frozen=True)
class Requester:
    """The person a subject access request is about, by the names the request gives."""

    names: tuple[str, ...]

    def is_named(self, name: object) -> bool:
        """Whether ``name`` names the requester: the same words once folded; the same first word
        with the other words all among theirs ("Siân"); or one of their names of two words or
        more, with more words besides ("Siân Eleri O'Brien"). A name of one word (a preferred
        name, "Siân") never stands for a longer one: "Siân Kowalczyk" is someone else."""
        if not isinstance(name, str):
            return False
        given = _name_key(name)
        if not given:
            return False
        for own in (_name_key(n) for n in self.names):
            if not own:
                continue
            if given == own:
                return True
            if given[0] == own[0] and (set(given) <= set(own)
                                       or (len(own) > 1 and set(own) <= set(given))):
                return True
        return False


def _name_key(name: str) -> list[str]:
    """The words of a name, apostrophes dropped ("O'Brien" and "OBrien" are one), no titles."""
    pieces = ("".join(re.findall(r"\w+", p)) for p in re.split(r"[\s\-]+", folded(name)))
    return [p for p in pieces if p and p not in TITLES]


# --- the scrubber --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One thing to find: withheld where found, or kept (the person's own details and staff
    names, matched first so that a word of them is not taken for someone else's)."""

    key: str  # folded value
    shape: Shape
    withhold: bool
    ordinary: bool = False  # a name word that is also an ordinary word: only when capitalised
    ambiguous: bool = False  # a name word shared with the person's own name or a staff name
    plural: bool = False  # a name word also found in the plural: "the Morgans"

    def pattern(self) -> str:
        return pattern_for(self.key, self.shape, plural=self.plural, ordinary=self.ordinary)


@dataclass
class Scrubbed:
    """What scrubbing one text did."""

    text: str
    withheld: int = 0
    ambiguous: int = 0  # of ``withheld``: words shared with the person's or staff's names
    ordinary_left: int = 0  # lower-case ordinary words that are also a third party's name word


class TextScrubber:
    """Finds the identifying values of a case's third parties in any text, and withholds them."""

    def __init__(self, targets: Iterable[Target], marker: str) -> None:
        unique: dict[tuple[str, Shape, bool], Target] = {}
        for target in targets:
            unique.setdefault((target.key, target.shape, target.withhold), target)
        ordered = sorted(unique.values(), key=lambda t: (-len(t.key), not t.withhold, t.key))
        self.targets: tuple[Target, ...] = tuple(ordered)
        self.count = sum(t.withhold for t in ordered)
        self.marker = marker
        self._regex = (re.compile("|".join(f"({t.pattern()})" for t in ordered))
                       if any(t.withhold for t in ordered) else None)

    def scrub(self, text: str) -> Scrubbed:
        """``text`` with each identifying value replaced by the marker."""
        result = Scrubbed(text)
        if self._regex is None or not text:
            return result
        source = fold(text)
        pieces: list[str] = []
        done = 0
        for match in self._regex.finditer(source.text):
            if match.end() == match.start():
                continue
            target = self.targets[(match.lastindex or 1) - 1]
            if not target.withhold:
                continue
            start, end = source.span(match.start(), match.end(), text)
            if start < done:
                continue
            if target.ordinary and not any(c.isupper() for c in text[start:end]):
                result.ordinary_left += 1
                continue
            pieces += [text[done:start], self.marker]
            done = end
            result.withheld += 1
            result.ambiguous += target.ambiguous
        if result.withheld:
            result.text = "".join([*pieces, text[done:]])
        return result


def targets(third_party: Sequence[tuple[str, Shape]], protected: Sequence[tuple[str, Shape]]
            ) -> tuple[list[Target], set[str], set[str]]:
    """What to search for, from the values of third parties and the values that belong to the
    person or to staff; with the folded name words that both share (withheld where they stand
    alone) and the folded full values that both share (kept: they are the person's own too).

    A value of the person's or staff's that is not a name (an address line, say) and holds a third
    party's name or number ("c/o Carys Morgan") is not kept: the name in it is withheld.

    A third party's name word is searched for in the plural too ("the Morgans"), unless the plural
    is a word of the person's or a staff member's name ("Evans" is not "Evan"'s family). A third
    party's address line is searched for without its number too (:func:`address_parts`), unless
    the person or a staff member has the same street or building in a line of their own that is
    kept (a street they share: "Wharf Road" of "3 Wharf Road" and of their "27 Wharf Road"); the
    parts of their own lines are kept as their lines are."""
    kept_values = {folded(v) for v, shape in protected if searchable(v, shape)}
    kept_words = {w for v, shape in protected if shape in (Shape.NAME, Shape.WORD)
                  for w in name_words(v)}
    out: list[Target] = []
    places: dict[str, None] = {}  # the parts of third parties' address lines, in order
    shared_words: set[str] = set()
    shared_values: set[str] = set()
    for value, shape in third_party:
        key = folded(value)
        if shape in (Shape.NAME, Shape.WORD):
            for word in name_words(value):
                ambiguous = word in kept_words or word in kept_values
                if ambiguous:
                    shared_words.add(word)
                ordinary = word in ORDINARY_WORDS
                plural = plural_of(word)
                out.append(Target(word, Shape.WORD, True, ordinary=ordinary, ambiguous=ambiguous,
                                  plural=bool(plural) and plural not in kept_words
                                  and plural not in kept_values
                                  and (ordinary or plural not in ORDINARY_WORDS)))
            if shape is Shape.WORD:
                continue
        if not searchable(value, shape):
            continue
        if key in kept_values:
            shared_values.add(key)
            continue
        out.append(Target(key, shape, True))
        if shape is Shape.TEXT:
            places.update(dict.fromkeys(address_parts(value)))
    withheld_only = TextScrubber(out, "")
    own: list[Target] = []
    for value, shape in protected:
        key = folded(value)
        if not searchable(value, shape) or key in shared_words:
            continue
        if shape not in (Shape.NAME, Shape.WORD) and withheld_only.scrub(value).withheld:
            continue
        own.append(Target(key, shape, False))
        if shape is Shape.TEXT:
            own += [Target(part, Shape.TEXT, False) for part in address_parts(value)]
    own_places = {_place_key(t.key) for t in own}
    out += [Target(part, Shape.TEXT, True) for part in places
            if _place_key(part) not in own_places]
    out += own
    return out, shared_words, shared_values
