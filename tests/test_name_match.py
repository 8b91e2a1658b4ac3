"""Another person's name and details are found in free text by what they mean, not by their bytes:
letter case, accents (precomposed or combining), apostrophe, hyphen and space styles, phone number
and postcode formats; whole words only; a word that is also an ordinary word only when it is
written with a capital."""

from __future__ import annotations

import unicodedata

import pytest

from recordgen.subject_access.name_match import Requester, Shape, TextScrubber, folded, name_words, targets

W = "[w]"


def scrubber(*third_party: tuple[str, Shape], protected: tuple[tuple[str, Shape], ...] = ()
             ) -> TextScrubber:
    found, _, _ = targets(list(third_party), list(protected))
    return TextScrubber(found, W)


NAME = ("Zoë O'Connor-Blythe", Shape.NAME)


@pytest.mark.parametrize("written", [
    "Zoë O'Connor-Blythe",
    "ZOË O'CONNOR-BLYTHE",  # capitals
    "zoë o'connor-blythe",  # lower case
    "Zoe O'Connor-Blythe",  # without its accent
    unicodedata.normalize("NFD", "Zoë O'Connor-Blythe"),  # the accent as a combining character
    "Zoë O’Connor-Blythe",  # a typographic apostrophe
    "Zoë O‘Connor–Blythe",  # another apostrophe, an en dash
    "Zoë O'Connor‑Blythe",  # a non-breaking hyphen
    "Zoë OConnor Blythe",  # neither
    "Zoë  O'Connor -\nBlythe",  # spacing and a line break
    "Zoë\u00a0O'Con\u00adnor-Blythe",  # a no-break space and a soft hyphen
])
def test_a_name_is_found_however_it_is_written(written: str) -> None:
    text = f"We met {written}, who helped."
    assert scrubber(NAME).scrub(text).text == f"We met {W}, who helped."


@pytest.mark.parametrize("word", ["Zoë", "ZOE", "zoe", "O'Connor", "O’CONNOR", "oconnor",
                                  "Blythe", "BLYTHE", "blythe"])
def test_each_word_of_a_name_is_found_alone(word: str) -> None:
    assert scrubber(NAME).scrub(f"Ask {word} today.").text == f"Ask {W} today."


def test_a_possessive_keeps_its_s_and_the_name_goes() -> None:
    assert scrubber(NAME).scrub("Zoë’s van and Blythe's car").text == f"{W}’s van and {W}'s car"


def test_whole_words_only() -> None:
    ann = scrubber(("Ann Lee", Shape.NAME))
    assert ann.scrub("Annual leave; Leeds; annex; Ann; then LEE.").text == \
        f"Annual leave; Leeds; annex; {W}; then {W}."


@pytest.mark.parametrize("written", [
    "07700 900 773", "07700900773", "07700-900-773", "(07700) 900773", "07700 900773",
    "+44 7700 900 773", "+447700900773", "+44 (0)7700 900773", "0044 7700 900773",
    "+44-7700-900-773", "０７７００ ９００ ７７３",  # full-width digits
])
def test_a_phone_number_is_found_in_any_format(written: str) -> None:
    phone = scrubber(("07700 900 773", Shape.PHONE))
    result = phone.scrub(f"Ring {written} after six.")
    assert result.text.startswith("Ring ") and "773" not in result.text and result.withheld == 1


def test_an_international_phone_number_given_as_plus_44_is_found_in_national_form() -> None:
    phone = scrubber(("+44 7700 900 773", Shape.PHONE))
    assert phone.scrub("Ring 07700 900773.").text == f"Ring {W}."


def test_a_phone_number_inside_a_longer_number_is_not_matched() -> None:
    phone = scrubber(("07700 900 773", Shape.PHONE))
    assert phone.scrub("Reference 1077009007731").withheld == 0


@pytest.mark.parametrize("written", ["TS7 7QX", "ts7 7qx", "TS77QX", "ts77qx", "Ts7  7Qx"])
def test_a_postcode_is_found_in_any_case_and_spacing(written: str) -> None:
    postcode = scrubber(("TS7 7QX", Shape.POSTCODE))
    assert postcode.scrub(f"Lives at {written}.").text == f"Lives at {W}."


def test_an_email_address_in_any_case() -> None:
    email = scrubber(("Carys.Morgan@example.net", Shape.EMAIL))
    assert email.scrub("Write to CARYS.MORGAN@EXAMPLE.NET now").text == f"Write to {W} now"


def test_names_in_scripts_written_without_spaces_are_found_inside_a_sentence() -> None:
    chinese = scrubber(("王小明", Shape.NAME))
    assert chinese.scrub("今天王小明来了").text == f"今天{W}来了"
    greek = scrubber(("Σωκράτης Παπαδόπουλος", Shape.NAME))
    assert greek.scrub("ΣΩΚΡΆΤΗΣ called; σωκρατης again").text == f"{W} called; {W} again"


def test_an_ordinary_word_is_a_name_only_with_a_capital() -> None:
    will = scrubber(("Will Brown", Shape.NAME))
    result = will.scrub("Will said he will ring. WILL BROWN. The brown door.")
    assert result.text == f"{W} said he will ring. {W}. The brown door."
    assert result.ordinary_left == 2


def test_a_word_of_a_staff_name_shared_with_a_third_party_goes_where_it_stands_alone() -> None:
    found, shared_words, shared_values = targets(
        [("Priya Jones", Shape.NAME)], [("Priya Natarajan", Shape.NAME)])
    result = TextScrubber(found, W).scrub("Priya Natarajan rang Priya about Priya Jones.")
    assert result.text == f"Priya Natarajan rang {W} about {W}."
    assert shared_words == {"priya"} and shared_values == set()
    assert (result.withheld, result.ambiguous) == (2, 1)


def test_a_value_of_the_persons_own_shared_with_a_third_party_is_kept() -> None:
    found, shared_words, shared_values = targets(
        [("07700 900 142", Shape.PHONE)], [("07700 900 142", Shape.PHONE)])
    assert TextScrubber(found, W).scrub("Ring 07700900142.").text == "Ring 07700900142."
    assert shared_values == {"07700 900 142"} and shared_words == set()


def test_titles_and_short_words_are_not_searched_for_alone() -> None:
    assert name_words("Mrs J. O'Brien-Smith") == ["o'brien", "smith"]
    mrs = scrubber(("Mrs J. Okafor", Shape.NAME))
    assert mrs.scrub("Mrs Jones and J. Smith").text == "Mrs Jones and J. Smith"


def test_a_marker_and_the_text_around_a_match_are_unchanged() -> None:
    text = "Café «Zoë» — naïve. Zoë!"
    assert scrubber(NAME).scrub(text).text == f"Café «{W}» — naïve. {W}!"


def test_folding_keeps_letters_people_leave_out_comparable() -> None:
    assert folded("Łukasz Søren Æbelø Straße") == folded("lukasz soren aebelo strasse")


@pytest.mark.parametrize(("name", "expected"), [
    ("Siân O'Brien", True), ("SIAN O’BRIEN", True), ("Sian OBrien", True), ("Siân", True),
    ("Ms Siân O'Brien", True), ("Siân Eleri O'Brien", True), ("Siân Morgan", False),
    ("Rhys O'Brien", False), ("Mr O'Brien", False), ("", False), (None, False),
])
def test_the_requester_is_recognised_by_the_meaning_of_their_name(
    name: str | None, expected: bool
) -> None:
    assert Requester(("Siân O'Brien",)).is_named(name) is expected
    # With the preferred name the request gives, the answers are the same: "Siân" alone does not
    # make every Siân the requester.
    assert Requester(("Siân O'Brien", "Siân")).is_named(name) is expected


@pytest.mark.parametrize("name", ["Siân Kowalczyk", "SIAN KOWALCZYK", "Siân K"])
def test_another_person_who_shares_the_requesters_preferred_name_is_not_the_requester(
    name: str
) -> None:
    assert Requester(("Siân O'Brien", "Siân")).is_named(name) is False
    assert Requester(("Siân O'Brien", "Siân")).is_named("Siân") is True


# --- forms a hostile review found left in a bundle ------------------------------------------------


def test_a_family_name_in_the_plural_goes() -> None:
    """"The Morgans' house" named Carys Morgan: only the singular "Morgan's" was found."""
    morgan = scrubber(("Carys Morgan", Shape.NAME))
    assert morgan.scrub("At the Morgans' house; the MORGANS; the morgans; Morgan's van.").text == \
        f"At the {W}' house; the {W}; the {W}; {W}'s van."
    jones = scrubber(("Ann Jones", Shape.NAME))
    assert jones.scrub("The Joneses’ car; Jones’ car.").text == f"The {W}’ car; {W}’ car."


def test_an_ordinary_word_is_a_family_name_only_after_the_and_with_a_capital() -> None:
    brown = scrubber(("Bill Brown", Shape.NAME))
    result = brown.scrub("Bills are paid. Browns is a shop. The Browns came; the Bills' son; "
                         "the browns.")
    assert result.text == (f"Bills are paid. Browns is a shop. The {W} came; the {W}' son; "
                           "the browns.")
    assert result.ordinary_left == 1


def test_a_plural_that_is_a_word_of_the_persons_own_name_is_kept() -> None:
    """"Evans" is the requester's surname, not the family of a third party called Evan."""
    found, _, _ = targets([("Evan Pryderi", Shape.NAME)], [("Siân Evans", Shape.NAME)])
    assert TextScrubber(found, W).scrub("Mrs Evans met Evan; the Evans family.").text == \
        f"Mrs Evans met {W}; the Evans family."


@pytest.mark.parametrize("written", ["QX7-7QZ", "qx7-7qz", "QX7–7QZ", "QX7 - 7QZ", "QX7.7QZ",
                                     "QX7/7QZ", "QX7_7QZ", "QX7 — 7QZ"])
def test_a_postcode_is_found_whatever_separates_its_halves(written: str) -> None:
    postcode = scrubber(("QX7 7QZ", Shape.POSTCODE))
    assert postcode.scrub(f"Her postcode is {written}.").text == f"Her postcode is {W}."


def test_a_postcode_inside_a_longer_code_is_not_matched() -> None:
    postcode = scrubber(("QX7 7QZ", Shape.POSTCODE))
    assert postcode.scrub("Ref AQX7-7QZ and QX7-7QZA.").withheld == 0


def test_a_third_partys_street_is_found_without_its_number() -> None:
    street = scrubber(("14 Quixotic Lane", Shape.TEXT))
    assert street.scrub("Lives on Quixotic Lane (14 Quixotic Lane); QUIXOTIC LANE, "
                        "quixotic-lane, Quixotic Ln.").text == \
        f"Lives on {W} ({W}); {W}, {W}, {W}."
    flat = scrubber(("Flat 2, Quillfeather House", Shape.TEXT))
    assert flat.scrub("She moved into Quillfeather House, flat 2.").text == \
        f"She moved into {W}, flat 2."


@pytest.mark.parametrize("line", ["12 High Street", "3 Station Road", "7 Church Lane",
                                  "9 Rose Court", "1 London Road", "Flat 4, 2 Mill Lane"])
def test_a_street_common_everywhere_is_found_only_in_full(line: str) -> None:
    """A street name made of words common to streets everywhere does not say where someone
    lives: withheld everywhere, it would take "the High Street" out of every record."""
    text = ("Shops on the High Street, Station Road, Church Lane, Rose Court, London Road and "
            f"Mill Lane; a lane, a road. She lives at {line}.")
    assert scrubber((line, Shape.TEXT)).scrub(text).text == text.replace(line, W)


def test_a_street_the_person_shares_with_a_third_party_is_kept() -> None:
    found, _, _ = targets(
        [("3 Wharf Road", Shape.TEXT), ("Flat 1, Marsh & Quay House", Shape.TEXT),
         ("2 Quay House", Shape.TEXT)],
        [("Flat 4, Marsh & Quay House", Shape.TEXT), ("27 Wharf Rd", Shape.TEXT)])
    text = ("Siân lives at Flat 4, Marsh & Quay House, 27 Wharf Rd: on Wharf Road, in Marsh & "
            "Quay House. Her cousin: 3 Wharf Road, Flat 1, Marsh & Quay House; a friend in "
            "Quay House.")
    assert TextScrubber(found, W).scrub(text).text == text.replace(
        "3 Wharf Road, Flat 1, Marsh & Quay House; a friend in Quay House",
        f"{W}, {W}; a friend in {W}")


def test_a_third_partys_street_in_the_persons_own_line_beside_their_name_goes() -> None:
    """A line of the person's own that names a third party is not kept (see ``targets``), so it
    does not make the third party's street the person's own."""
    found, _, _ = targets([("Carys Morgan", Shape.NAME), ("99 Quixotic Lane", Shape.TEXT)],
                          [("c/o Carys Morgan, Quixotic Lane", Shape.TEXT)])
    assert TextScrubber(found, W).scrub("She lives on Quixotic Lane.").text == \
        f"She lives on {W}."


_SHOW_NOTHING = ["\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066",
                 "\u2067", "\u2068", "\u2069", "\u061c", "\u2063", "\u2062", "\u200b", "\u00ad",
                 "\ufeff", "\U000e0041"]


@pytest.mark.parametrize("mark", _SHOW_NOTHING, ids=lambda c: f"U+{ord(c):04X}")
def test_characters_that_show_nothing_do_not_hide_a_value(mark: str) -> None:
    """"C\u200earys M\u200eorgan" shows as "Carys Morgan": it is found, and the text around it,
    its invisible characters included, is left exactly as it was."""
    carys = scrubber(("Carys Morgan", Shape.NAME), ("07700 900 611", Shape.PHONE),
                     ("QX7 7QZ", Shape.POSTCODE), ("carys.morgan@example.net", Shape.EMAIL))
    text = (f"Sister \u2066C{mark}arys M{mark}organ\u2069 rang from +{mark}44 7700{mark} "
            f"900611{mark}, post to QX{mark}7 7QZ, mail carys{mark}.morgan@example.net{mark}.\u200f")
    assert carys.scrub(text).text == \
        f"Sister \u2066{W}\u2069 rang from {W}{mark}, post to {W}, mail {W}{mark}.\u200f"


def test_every_format_character_is_invisible_to_matching() -> None:
    format_characters = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf"]
    assert len(format_characters) > 150
    assert [c for c in format_characters if folded(f"Car{c}ys") != "carys"] == []
