"""Handles must look like handles: number words and ordinary words after a platform word are not accounts."""

import pytest

from enrich.identifiers import extract_contacts


def _handles(text, country="US"):
    return [(h.normalised, h.placeholder) for h in extract_contacts(text, country) if h.kind == "handle"]


def test_spanish_number_words_are_a_phone_not_a_handle():
    contacts = extract_contacts("WhatsApp seis cinco cero uno dos tres cuatro cinco seis", "ES")
    assert sorted((c.kind, c.normalised) for c in contacts) == [("handle", "whatsapp:+34650123456"), ("phone", "+34650123456")]


@pytest.mark.parametrize("word", ["seis", "cero", "zero", "sei", "null", "cinq", "doi", "six02"])
def test_number_word_after_a_platform_is_not_a_handle(word):
    assert _handles(f"WhatsApp {word}") == []


@pytest.mark.parametrize(
    "text", ["whatsapp disponible 24h", "Telegram seulement", "WhatsApp nur Nachrichten", "telegram doar mesaje",
             "whats somente mensagem", "wsp solo mensajes", "snap only"],
)
def test_common_word_of_a_supported_language_after_a_platform_is_not_a_handle(text):
    assert _handles(text) == []


def test_common_word_written_with_at_is_a_handle():
    assert _handles("telegram @kitty") == [("telegram:kitty", False)]


@pytest.mark.parametrize(("text", "country"), [("whatsapp: 000 000 0000", "US"), ("Signal: 000-000-0000", "US"),
                                               ("whatsapp 000 000 000", "ES")])
def test_placeholder_phone_written_as_a_handle_is_a_placeholder(text, country):
    handles = _handles(text, country)
    assert len(handles) == 1 and handles[0][1]


@pytest.mark.parametrize(("text", "country", "normalised"), [
    ("zap 11 98765-4321", "BR", "whatsapp:+5511987654321"),
    ("wsp 622 481 937", "ES", "whatsapp:+34622481937"),
    ("Telegram: tre due zero quattro quattro sette otto nove uno cinque", "IT", "telegram:+393204478915"),
])
def test_platform_followed_by_a_phone_in_any_language_names_the_account_by_the_phone(text, country, normalised):
    assert _handles(text, country) == [(normalised, False)]


def test_quantity_after_a_platform_is_not_a_handle():
    assert _handles("whatsapp 24hrs") == []
