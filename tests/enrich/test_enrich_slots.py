"""Slot masking: the varying parts of a template become placeholders."""

from enrich.normalise import normalise_text
from enrich.slots import mask_slots


def _mask(text, places=()):
    return mask_slots(normalise_text(text).text, places)


def test_phone_email_handle_and_url_are_masked():
    masked = _mask("call 555-201-4567 or jane@mail.com or @jane_x, pics at https://t.example.org/jane")
    assert masked == "call <phone> or <email> or <handle>, pics at <url>"


def test_phone_written_in_words_is_masked():
    assert _mask("text five five five two zero one four five six seven now") == "text <phone> now"


def test_prices_ages_and_other_numbers_are_masked():
    assert _mask("$150 hh, 250 roses 1 hr, 22 yo, room 12") == "<price> hh, <price> <num> hr, <age>, room <num>"


def test_name_after_an_introduction_is_masked():
    assert _mask("Hi my name is Jessica and i'm new") == "hi my name is <name> and i'm new"


def test_city_after_a_travel_phrase_is_masked():
    assert _mask("just arrived in Los Angeles, visiting Denver") == "just arrived in <place>, visiting <place>"


def test_known_places_from_the_ad_are_masked():
    assert _mask("the best in Chicago area", ["chicago"]) == "the best in <place> area"


def test_two_fillings_of_one_template_mask_to_the_same_text():
    first = _mask("Hi, I'm Amber, 22 yo, new in Miami. $150/hr. Call 305-201-4567 💋")
    second = _mask("Hi, I'm Crystal, 25 yo, new in Dallas. $200/hr. Call 214 555 9876 😘")
    assert first == second


def test_empty_text_masks_to_empty():
    assert mask_slots("") == ""


def test_common_first_names_and_big_cities_are_masked_anywhere():
    assert _mask("Contact Anna, work in Dubai or New York") == "contact <name>, work in <place> or <place>"
