"""The number-word lexicon: generated from num2words for every supported language, folded like ad text."""

import pytest

from enrich.number_words import LANGUAGES, fold, lexicon, number_forms, split_glued, value_of


@pytest.mark.parametrize(
    ("lang", "written", "value"),
    [
        ("en", "ninety-eight", 98), ("es", "noventa y ocho", 98), ("pt", "noventa e oito", 98),
        ("fr", "quatre-vingt-dix-huit", 98), ("it", "novantotto", 98), ("de", "achtundneunzig", 98),
        ("ro", "nouăzeci și opt", 98), ("ro", "doisprezece", 12), ("pt", "dezesseis", 16), ("pt", "dezasseis", 16),
        ("fr", "nonante", 90), ("es", "novecientos", 900), ("de", "zweitausend", 2000),
    ],
)
def test_tens_teens_hundreds_and_thousands_come_from_num2words(lang, written, value):
    assert lexicon()[lang][fold(written)] == value


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_language_has_all_ten_digits(lang):
    assert set(range(10)) <= set(lexicon()[lang].values())


@pytest.mark.parametrize(("written", "value"), [("zéro", 0), ("cero", 0), ("null", 0), ("oh", 0), ("zwo", 2), ("meia", 6)])
def test_zero_forms_and_phone_idioms_are_digits(written, value):
    assert value_of(fold(written)) == value


@pytest.mark.parametrize("written", ["noventa y ocho", "noventa-y-ocho", "noventayocho"])
def test_a_compound_may_be_spaced_hyphenated_or_glued(written):
    assert value_of(written) == 98


def test_glued_forms_split_into_the_fewest_pieces():
    assert split_glued("seiscincocero") == ["seis", "cinco", "cero"]
    assert split_glued("twentytwo") == ["twentytwo"]
    assert split_glued("5one8") == ["5", "one", "8"]


def test_ordinary_words_that_are_number_words_elsewhere_are_weak():
    _, strong, weak = number_forms()
    assert {"sei", "due", "un", "for", "to", "o"} <= weak  # Portuguese "I know", English "due", articles, homophones
    assert {"one", "two", "seis", "cinq", "zwei", "patru"} <= strong
