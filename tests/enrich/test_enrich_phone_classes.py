"""Phone obfuscation classes seen on marketplaces AdWatch did not write (issue 11), one behaviour per test.

Numbers are real-format valid numbers of each country; expected values are written from them.
"""

import pytest

from enrich.identifiers import extract_ad_contacts
from enrich.phones import extract_phones


def _phones(text, country):
    return [p.normalised for p in extract_phones(text, country) if not p.placeholder]


NUMBER_WORDS = [
    ("en", "US", "call six one seven two oh one four five six seven", "+16172014567"),
    ("es", "ES", "Llámame al seis cinco cero uno dos tres cuatro cinco seis", "+34650123456"),
    ("pt", "PT", "ligue nove um dois três quatro cinco seis sete oito", "+351912345678"),
    ("fr", "FR", "appelle-moi : zéro six un deux trois quatre cinq six sept huit", "+33612345678"),
    ("it", "IT", "chiamami tre quattro sette uno due tre quattro cinque sei sette", "+393471234567"),
    ("de", "DE", "Ruf an null eins fünf eins zwo drei vier fünf sechs sieben acht neun", "+4915123456789"),
    ("ro", "RO", "sună-mă: zero șapte doi doi unu doi trei patru cinci șase", "+40722123456"),
]


@pytest.mark.parametrize(("lang", "country", "text", "e164"), NUMBER_WORDS, ids=[c[0] for c in NUMBER_WORDS])
def test_number_words_of_every_supported_language_are_digits(lang, country, text, e164):
    assert _phones(text, country) == [e164]


def test_number_words_of_another_language_than_the_ads_country_are_read():
    assert _phones("llámame seis uno siete dos cero uno cuatro cinco seis siete", "US") == ["+16172014567"]


@pytest.mark.parametrize(
    ("country", "text", "e164"),
    [
        ("ES", "seis cinco cero, doce, treinta y cuatro, cincuenta y seis", "+34650123456"),
        ("FR", "zéro six, douze, trente-quatre, cinquante-six, soixante-dix-huit", "+33612345678"),
        ("DE", "null eins sieben sechs, achtundvierzig, einundzwanzig, neununddreißig, siebenundfünfzig", "+4917648213957"),
        ("US", "six seventeen two oh one forty five sixty seven", "+16172014567"),
    ],
)
def test_tens_and_teens_are_two_digit_groups(country, text, e164):
    assert _phones(text, country) == [e164]


@pytest.mark.parametrize(
    ("country", "text", "e164"),
    [
        ("PT", "novecentos e doze, trezentos e quarenta e cinco, seiscentos e setenta e oito", "+351912345678"),
        ("IT", "trecentoquarantasette centoventitre quarantacinque sessantasette", "+393471234567"),
        ("RO", "zero șapte sute douăzeci și doi, o sută douăzeci și trei, patru sute cincizeci și șase", "+40722123456"),
        ("US", "six seventeen two hundred one forty five sixty seven", "+16172014567"),
    ],
)
def test_hundreds_add_up_with_the_group_after_them(country, text, e164):
    assert _phones(text, country) == [e164]


@pytest.mark.parametrize(
    ("country", "text", "e164"),
    [
        ("GB", "oh seven nine double one one two three four five six", "+447911123456"),
        ("ES", "seis doble dos cuatro ocho uno nueve tres siete", "+34622481937"),
        ("IT", "tripla tre nove uno otto due due sei quattro", "+393339182264"),
        ("RO", "zero șapte trei doi dublu opt zero unu patru șase", "+40732880146"),
    ],
)
def test_double_and_triple_in_any_language_repeat_the_next_digit(country, text, e164):
    assert _phones(text, country) == [e164]


@pytest.mark.parametrize(
    ("text", "e164"),
    [("call 6one7-2zero1-45six7", "+16172014567"), ("5ONE8-4TWO3-0EIGHT3FOUR", "+15184230834"),
     ("7OH2-38FOUR-11NINE0", "+17023841190"), ("six17 201 45six7", "+16172014567")],
)
def test_digit_words_glued_to_digits_are_digits(text, e164):
    assert _phones(text, "US") == [e164]


def test_tens_word_glued_to_a_digit_is_one_group():
    assert _phones("tel 06 12 trente4 56 78", "FR") == ["+33612345678"]


def test_homophones_inside_a_number_are_digits():
    assert _phones("call six one seven to oh one for five six seven", "US") == ["+16172014567"]
    assert _phones("3 1 to 4 o 7 4 9 3 5", "US") == ["+13124074935"]


def test_homophone_after_a_complete_number_stays_a_word():
    assert _phones("call 617 201 4567 for a good time", "US") == ["+16172014567"]


@pytest.mark.parametrize("text", ["Call 617-201-4567Roses 150 for half hour", "617.201.4567CALL NOW"])
def test_number_glued_to_the_next_word_is_read(text):
    assert _phones(text, "US") == ["+16172014567"]


@pytest.mark.parametrize(
    "after", ["in the evening", "$150 half hour", "hh 100", "cc ok", '" no blocked calls', "h 24", "x favor"]
)
def test_word_that_can_be_a_unit_does_not_drop_a_complete_valid_number(after):
    assert _phones(f'call "617 201 4567 {after}', "US") == ["+16172014567"]


def test_spaced_money_word_after_a_number_makes_it_an_amount():
    assert _phones("d3p0517 491 EUR, bills included", "DE") == []


def test_digits_of_a_leet_word_are_letters():
    assert _phones("Looking for h057355 to work", "DE") == []  # "hostess", not 057355 + "to"


def test_unit_word_still_makes_a_short_group_a_quantity():
    assert _phones("call 617 201 45 67 yo", "US") == []


@pytest.mark.parametrize("separator", ["@", "!", "?", "•", "·", " ' ", " - - - ", " . . . . . . "])
def test_unusual_separators_and_long_separator_runs_join_a_number(separator):
    assert _phones(separator.join(["617", "201", "4567"]), "US") == ["+16172014567"]


def test_feet_and_inches_quote_does_not_join_digits():
    assert _phones("I'm 6'1 7201 4567", "US") == []  # joined, 6 1 7201 4567 would read as +1 617 201 4567


@pytest.mark.parametrize(
    ("text", "e164"),
    [("3Ι2-4Ο7-4935", "+13124074935"),  # Greek capital iota and omicron
     ("call 6l7 2О1 4567", "+16172014567"),  # Cyrillic O
     ("7Ø2 384 ll9Ø", "+17023841190")],  # slashed O
)
def test_letters_of_other_scripts_that_look_like_digits_are_digits(text, e164):
    assert _phones(text, "US") == [e164]


def test_s_and_z_stand_for_five_and_two_in_a_number():
    assert _phones("6S0 l23 4S6", "ES") == ["+34650123456"]
    assert _phones("07ZZ lZ3 4S6", "RO") == ["+40722123456"]


def test_decade_plural_is_not_a_five():
    assert _phones("back in the 90s 555 1234 567", "US") == []


def test_halves_split_between_title_and_body_are_one_phone():
    contacts = extract_ad_contacts({"title": "Sweet new girl 617 201", "body": "4567 call me anytime"}, "US")
    phone = next(c for c in contacts if c.kind == "phone")
    assert (phone.normalised, phone.field, phone.tail_field) == ("+16172014567", "title", "body")


def test_numbers_at_field_edges_are_not_joined_without_a_phone_idiom():
    contacts = extract_ad_contacts({"title": "Sweet new girl 617 201", "body": "4567 kisses"}, "US")
    assert [c for c in contacts if c.kind == "phone"] == []


def test_possible_but_invalid_number_needs_a_phone_idiom():
    assert _phones("ref 555 201 4567 in the catalogue", "US") == []
    assert _phones("llámame 555 201 4567", "US") == ["+15552014567"]


@pytest.mark.parametrize("text", ["23 23 23 23 23 sexy", "19 19 19 19 años"])
def test_repeated_ages_are_not_a_phone(text):
    assert extract_phones(text, "ES") == []


@pytest.mark.parametrize("text", ["rates 100 150 200 250 300 400", "tarifs 100 150 200 250 350", "50 100 150 200 euros"])
def test_rising_round_amounts_are_a_price_list(text):
    assert extract_phones(text, "DE") == []


@pytest.mark.parametrize(("text", "country", "e164"), [("Tel: (415) 705-1110", "US", "+14157051110"),
                                                       ("Mob: 320 495 4165", "IT", "+393204954165"),
                                                       ("WhatsApp: 320 340 7450", "IT", "+393203407450")])
def test_phone_whose_groups_end_in_five_or_zero_is_no_price_list(text, country, e164):
    assert _phones(text, country) == [e164]


@pytest.mark.parametrize("text", ["voir pages 1201-1248", "págs. 3401-3455 del informe", "siehe S. 1203-1250"])
def test_page_range_is_not_a_phone(text):
    assert _phones(text, "DE") == []


def test_sept_between_a_day_and_a_year_is_september():
    assert extract_phones("disponible du 12 sept 2024 au 30 sept 2024", "FR") == []


def test_sept_among_number_words_is_seven():
    assert _phones("tel zéro sept, quatre-vingt-un, vingt-deux, quatre-vingt-dix, quarante-trois", "FR") == ["+33781229043"]


@pytest.mark.parametrize(("text", "country"), [("pedido 512 345 678 enviado", "ES"), ("Artikel-Nr. 471108154242", "DE"),
                                               ("CPF 123.456.789-09", "BR")])
def test_number_after_an_order_reference_or_id_word_is_not_a_phone(text, country):
    assert _phones(text, country) == []


def test_id_word_after_a_platform_still_announces_a_phone():
    assert _phones("WhatsApp ID: 612 345 678", "ES") == ["+34612345678"]


def test_glued_number_forms_that_spell_a_common_word_are_that_word():
    assert _phones("siehe Seiten 2301-2345", "DE") == []  # not "sei"+"ten" = 6 10


def test_number_word_ending_the_title_is_left_out_of_a_split_number():
    contacts = extract_ad_contacts({"title": "Fată nouă 0753 219", "body": "844 sună-mă"}, "RO")
    assert [c.normalised for c in contacts if c.kind == "phone"] == ["+40753219844"]


def test_groups_that_cannot_be_a_day_and_month_are_no_date():
    assert _phones("Portable: 0494/76.37.57", "BE") == ["+32494763757"]


def test_german_number_words_without_umlauts_are_read():
    assert _phones("null eins fuenf eins - null acht fuenf fuenf vier null sechs sechs", "DE") == ["+4915108554066"]


def test_weak_word_before_the_head_of_a_cut_number_is_left_out():
    fields = {"body": "Il resto del numero: ...9 3462", "contact_text": "Chiamare il: 347 67... | Telegram: @giulia_mi93"}
    contacts = extract_ad_contacts(fields, "IT")
    assert [c.normalised for c in contacts if c.kind == "phone"] == ["+393476793462"]  # not +39 11 347...


def test_weak_word_before_a_number_does_not_hide_its_start():
    assert _phones("Chiamare il: 34 . 79 . 583 . 83 . 4", "IT") == ["+393479583834"]
    assert _phones("Chiama il: +39 347 888 0896", "DE") == ["+393478880896"]


def test_italian_hundreds_before_a_vowel_lose_their_o():
    assert _phones("tre quattro sette ottocentottantotto zero otto nove sei", "IT") == ["+393478880896"]


def test_a_spaced_dash_separates_groups_that_would_add_up():
    assert _phones("Llamar al: trescientos - siete uno tres - sesenta y seis setenta y tres", "CO") == ["+573007136673"]


def test_ellipsis_after_a_bracketed_area_code_cuts_the_number():
    fields = {"body": "Rest der Nummer: ...35300296", "contact_text": "Tel: (0160) ..."}
    assert [c.normalised for c in extract_ad_contacts(fields, "DE") if c.kind == "phone"] == ["+4916035300296"]


def test_date_shaped_groups_glued_to_a_group_before_them_are_a_phone():
    assert _phones("Tél: 0478/15.12.93", "BE") == ["+32478151293"]


@pytest.mark.parametrize(("text", "e164"), [
    ("zéro-zéro-trois-neuf trois-cent-vingt quatre-trois-huit soixante-quatorze-quatre-vingt-un", "+393204387481"),
    ("zéro six vingt-huit cinquante-neuf quarante quatre-vingt-deux", "+33628594082"),
])
def test_spaces_between_hyphenated_groups_cut_a_spaced_compound(text, e164):
    assert _phones(text, "FR") == [e164]


def test_romanian_spoken_teens_are_numbers():
    assert _phones("Telefon: +cinci doi optzeci şi unu, 0188, şaişpe treizeci şi nouă", "BR") == ["+528101881639"]
