"""Phone extraction: every obfuscation form, E.164, spans into the original text, and no false phones."""

import pytest

from enrich.phones import extract_phones, is_placeholder_phone

OBFUSCATED_FORMS = [
    ("dashes", "555-201-4567"),
    ("brackets", "(555) 201 4567"),
    ("dots", "555.201.4567"),
    ("slashes", "555/201/4567"),
    ("no separators", "5552014567"),
    ("country code", "+1 555 201 4567"),
    ("country code without plus", "1-555-201-4567"),
    ("digit words", "five five five two zero one four five six seven"),
    ("glued digit words", "fivefivefive twozeroone fourfivesixseven"),
    ("double and triple", "triple five two oh one four five six seven"),
    ("mixed words and digits", "5 five 5 two 0 one 4 5 six 7"),
    ("letter lookalikes", "555-2Ol-4567"),
    ("capital I lookalike", "555 20I 4567"),
    ("keycap emoji", "5️⃣5️⃣5️⃣2️⃣0️⃣1️⃣4️⃣5️⃣6️⃣7️⃣"),
    ("circled digits", "⑤⑤⑤②⓪①④⑤⑥⑦"),
    ("fullwidth digits", "５５５２０１４５６７"),
    ("split with a filler word", "555 20.. then 14 567"),
    ("spaced dots", "5 . 5 . 5 . 2 . 0 . 1 . 4 . 5 . 6 . 7"),
]


@pytest.mark.parametrize(("form", "written"), OBFUSCATED_FORMS, ids=[f for f, _ in OBFUSCATED_FORMS])
def test_obfuscated_phone_is_recovered_with_e164_and_span(form, written):
    text = f"Hi guys, new in town 💋 call me {written} anytime xx"
    phones = extract_phones(text, "US")
    assert [p.normalised for p in phones] == ["+15552014567"]
    start, end = phones[0].span
    assert text[start:end] == written == phones[0].value


def test_national_number_uses_the_ads_country():
    phones = extract_phones("ring 07911 123456 today", "GB")
    assert [p.normalised for p in phones] == ["+447911123456"]


def test_international_number_overrides_the_ads_country():
    phones = extract_phones("ring +44 7911 123456 today", "US")
    assert [p.normalised for p in phones] == ["+447911123456"]


def test_unknown_country_keeps_national_digits():
    phones = extract_phones("call 555-201-4567", None)
    assert [p.normalised for p in phones] == ["5552014567"]


def test_two_phones_in_one_ad_are_both_found():
    phones = extract_phones("call 555-201-4567 or 555-201-9999", "US")
    assert [p.normalised for p in phones] == ["+15552014567", "+15552019999"]


def test_digits_glued_to_a_word_are_found():
    assert [p.normalised for p in extract_phones("call5552014567", "US")] == ["+15552014567"]


NOT_PHONES = [
    "$150 for 30 min, 250 roses for 1 hour",
    "I'm 22 yo and 5'6, 34dd, 120 lbs",
    "posted 12/05/2024 at 10:30",
    "posted 2024-05-12 open 10am to 11pm",
    "zip 90210-1234, room 1204",
    "available 24/7 since 2019",
    "measurements 34-24-36, 100 percent real",
    "rates 100 150 200 250 300 400",
    "l00king f0r fun, cl13nts 4ever",
    "oh my god one two three go",
    "ref #4444944 in the catalogue",
]


@pytest.mark.parametrize("text", NOT_PHONES)
def test_prices_ages_dates_and_measurements_are_not_phones(text):
    assert extract_phones(text, "US") == []


def test_price_next_to_a_phone_is_not_glued_to_it():
    phones = extract_phones("$200 555-201-4567", "US")
    assert [p.normalised for p in phones] == ["+15552014567"]


def test_date_next_to_a_phone_is_not_glued_to_it():
    phones = extract_phones("posted 16/11/2026 617 201 4567", "US")
    assert [p.normalised for p in phones] == ["+16172014567"]


@pytest.mark.parametrize("written", ["000-000-0000", "123-456-7890", "555-555-5555", "999 999 9999"])
def test_placeholder_phones_are_extracted_and_flagged(written):
    phones = extract_phones(f"call {written}", "US")
    assert len(phones) == 1
    assert phones[0].placeholder


def test_real_looking_phone_is_not_a_placeholder():
    assert not is_placeholder_phone("+15552014567")


def test_phone_written_with_uniform_short_groups_is_not_taken_for_a_date():
    phones = extract_phones("Phone: 3-12-40-7-4-9-35", "US")
    assert [p.normalised for p in phones] == ["+13124074935"]


def test_lookalike_country_code_and_two_letter_groups_are_read():
    assert [p.normalised for p in extract_phones("Tel: +l 2l2-555-Ol23", "GB")] == ["+12125550123"]
    assert [p.normalised for p in extract_phones("Mob: 65l OO O9 O2", "ES")] == ["+34651000902"]


def test_number_cut_with_an_ellipsis_is_joined_with_its_rest():
    text = "Tel: +1 617-... nice room. Rest of the number: ...827-3754"
    phones = extract_phones(text, "GB")
    assert [p.normalised for p in phones] == ["+16178273754"]
    assert text[slice(*phones[0].span)] == "+1 617"
    assert text[slice(*phones[0].tail_span)] == "827-3754"


def test_rest_of_a_cut_number_may_come_first():
    text = "Rest of the number: ...3456789 | Call: 0151 2..."
    assert [p.normalised for p in extract_phones(text, "DE")] == ["+4915123456789"]


@pytest.mark.parametrize("country", ["US", "GB", "DE", "FR", "ES", "IT", "NL", "PL", "RO"])
@pytest.mark.parametrize("written", ["000-000-0000", "123-456-7890"])
def test_placeholder_is_extracted_and_flagged_in_every_country(written, country):
    phones = extract_phones(f"Tel: {written}", country)
    assert [(p.value, p.placeholder) for p in phones] == [(written, True)]


def test_number_followed_by_a_currency_word_is_a_price_not_a_phone():
    assert extract_phones("Budget 2125551234 usd per year", "US") == []


@pytest.mark.parametrize(
    ("written", "country"),
    [("+44 (0) 7911 123456", "GB"), ("0044 7911 123456", "US"), ("011 44 7911 123456", "US"), ("07911 123456", "GB")],
)
def test_international_and_trunk_prefixes_give_one_e164(written, country):
    assert [p.normalised for p in extract_phones(written, country)] == ["+447911123456"]
