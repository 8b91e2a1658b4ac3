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
