"""Contacts other than phones: emails (plain and spelled out), messaging handles, URLs."""

import pytest

from enrich.identifiers import extract_contacts


def _only(kind, text, country="US"):
    return [c for c in extract_contacts(text, country) if c.kind == kind]


@pytest.mark.parametrize(
    "written",
    [
        "Jane.Doe@Gmail.com",
        "jane.doe at gmail dot com",
        "jane.doe (at) gmail (dot) com",
        "jane.doe[at]gmail[dot]com",
        "jane dot doe at gmail dot com",
        "jane.doe @ gmail . com",
        "jane.doe [at] gmail [.] com",
    ],
)
def test_email_forms_normalise_to_one_address(written):
    text = f"write to {written} for info"
    emails = _only("email", text)
    assert [e.normalised for e in emails] == ["jane.doe@gmail.com"]
    assert text[emails[0].span[0] : emails[0].span[1]] == written


@pytest.mark.parametrize(
    "written",
    ["jane.doe arroba gmail punto com", "jane.doe[arroba]gmail[ponto]com", "jane.doe (arobase) gmail point com",
     "jane.doe chiocciola gmail punto com", "jane.doe ät gmail punkt com", "jane.doe[arond]gmail[punct]com"],
)
def test_email_spelled_out_in_another_language_is_an_email(written):
    assert [e.normalised for e in _only("email", f"scrivi a {written} grazie")] == ["jane.doe@gmail.com"]


def test_at_without_a_domain_is_not_an_email():
    assert _only("email", "meet me at home dot later at the hotel") == []
    assert _only("email", "meet at noon. com") == []


@pytest.mark.parametrize(
    ("written", "normalised"),
    [
        ("Telegram: @Jane_Doe", "telegram:jane_doe"),
        ("t.me/jane_doe", "telegram:jane_doe"),
        ("snap: janey22", "snapchat:janey22"),
        ("snapchat.com/add/janey22", "snapchat:janey22"),
        ("insta @janey.x", "instagram:janey.x"),
        ("instagram.com/janey.x", "instagram:janey.x"),
        ("kik: sweetkik", "kik:sweetkik"),
        ("wechat id: lilyw88", "wechat:lilyw88"),
        ("WhatsApp +1 555 201 4567", "whatsapp:+15552014567"),
        ("wa.me/15552014567", "whatsapp:+15552014567"),
        ("signal: 555-201-4567", "signal:+15552014567"),
    ],
)
def test_messaging_handles_normalise_to_platform_and_name(written, normalised):
    text = f"contact {written} now"
    handles = _only("handle", text)
    assert [h.normalised for h in handles] == [normalised]
    assert text[handles[0].span[0] : handles[0].span[1]] == written


def test_platform_word_followed_by_ordinary_words_is_not_a_handle():
    assert _only("handle", "text me on telegram or whatsapp only") == []


def test_bare_at_handle_is_kept_without_a_platform():
    assert [h.normalised for h in _only("handle", "follow @candy_girl99 xx")] == ["at:candy_girl99"]


def test_whatsapp_phone_is_also_a_phone_contact():
    assert [p.normalised for p in _only("phone", "WhatsApp +1 555 201 4567")] == ["+15552014567"]


def test_url_is_normalised_without_scheme_and_www():
    urls = _only("url", "see https://www.Example.com/jane/ for pics.")
    assert [u.normalised for u in urls] == ["example.com/jane"]
    assert urls[0].value == "https://www.Example.com/jane/"


def test_digits_in_an_email_address_are_not_a_phone():
    text = "mail jane5552014567@gmail.com"
    assert _only("phone", text) == []
    assert [e.normalised for e in _only("email", text)] == ["jane5552014567@gmail.com"]


def test_non_text_input_gives_no_contacts():
    assert extract_contacts(None, "US") == []  # type: ignore[arg-type]


def test_ad_contacts_point_into_their_own_fields():
    from enrich.identifiers import extract_ad_contacts

    fields = {"title": "Room in London", "body": "Nice room. Rest of the number: ...23456", "contact_text": "Call: +44 7400 1... | Telegram: @sunny_star12"}
    contacts = extract_ad_contacts(fields, "GB")
    phone = next(c for c in contacts if c.kind == "phone")
    assert phone.normalised == "+447400123456"
    assert (phone.field, fields["contact_text"][slice(*phone.span)]) == ("contact_text", "+44 7400 1")
    assert (phone.tail_field, fields["body"][slice(*phone.tail_span)]) == ("body", "23456")
    handle = next(c for c in contacts if c.kind == "handle")
    assert (handle.field, handle.normalised) == ("contact_text", "telegram:sunny_star12")


def test_numbers_in_separate_fields_are_not_joined():
    from enrich.identifiers import extract_ad_contacts

    assert _only("phone", "x") == []
    contacts = extract_ad_contacts({"title": "Rooms 1204", "body": "555 2014 floor"}, "US")
    assert [c for c in contacts if c.kind == "phone"] == []


def test_text_beyond_the_cap_is_not_searched():
    text = "x" * 100 + " call 555-201-4567"
    assert extract_contacts(text, "US", max_chars=100) == []
    assert [c.normalised for c in extract_contacts(text, "US")] == ["+15552014567"]
