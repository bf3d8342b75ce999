"""First names, places and languages from maintained packages, and how slot masking uses them."""

from enrich.first_names import first_names, word_names
from enrich.language import detect_language
from enrich.normalise import normalise_text
from enrich.places import countries_for
from enrich.slots import mask_slots


def _mask(text, places=()):
    return mask_slots(normalise_text(text).text, places)


def test_names_that_are_common_words_are_not_masked_anywhere():
    # Checked on words other than the ones the thresholds were set on.
    assert {"rose", "may", "angel"} <= word_names()
    assert _mask("a rose for you in may, my angel") == "a rose for you in may, my angel"


def test_first_names_of_several_languages_are_masked_anywhere():
    assert {"ioana", "jessica", "giulia", "ines", "sabine", "manon"} <= first_names()
    assert _mask("besos, Ioana") == "besos, <name>"
    assert _mask("bisous, Manon") == "bisous, <name>"


def test_name_after_an_introduction_is_masked_in_each_language():
    cases = {
        "me llamo Xiomara y soy nueva": "me llamo <name> y soy nueva",
        "meu nome é Xiomara": "meu nome e <name>",
        "je m'appelle Xiomara": "je m'appelle <name>",
        "mi chiamo Xiomara": "mi chiamo <name>",
        "ich heiße Xiomara": "ich heisse <name>",
        "mă numesc Xiomara": "ma numesc <name>",
    }
    assert {text: _mask(text) for text in cases} == cases


def test_word_after_a_weak_introduction_is_masked_only_when_it_is_a_name():
    assert _mask("soy Rosa, sono nuova") == "soy <name>, sono nuova"


def test_place_after_an_arrival_is_masked_in_each_language():
    cases = {
        "recién llegada a Málaga": "recien llegada a <place>",
        "nova em Braga": "nova em <place>",
        "nouvelle à Toulouse": "nouvelle a <place>",
        "appena arrivata a Bergamo": "appena arrivata a <place>",
        "neu in Offenbach": "neu in <place>",
        "nouă în Sibiu": "noua in <place>",
    }
    assert {text: _mask(text) for text in cases} == cases


def test_arrival_followed_by_a_common_word_is_left_alone():
    assert _mask("nueva en la ciudad, new in town") == "nueva en la ciudad, new in town"


def test_big_cities_are_masked_anywhere_in_their_own_languages():
    assert _mask("trabajo en Sevilla y Lisboa, vivo a Milano") == "trabajo en <place> y <place>, vivo a <place>"


def test_towns_named_by_common_words_are_not_masked_anywhere():
    assert _mask("very nice and sweet, split the cost") == "very nice and sweet, split the cost"


def test_gazetteer_knows_a_town_by_its_names_in_other_languages():
    assert max(countries_for("Siviglia"), key=countries_for("Siviglia").get) == "ES"
    assert countries_for("Nowhereville") == {}


def test_language_of_short_ads_is_detected_in_the_supported_languages():
    texts = {
        "en": "Hi gentlemen, sweet and discreet girl, available tonight, call me",
        "es": "Hola cariño, soy una chica dulce y discreta, disponible esta noche",
        "pt": "Olá amor, sou uma menina carinhosa e discreta, disponível hoje à noite",
        "fr": "Bonjour, je suis une fille douce et discrète, disponible ce soir",
        "it": "Ciao tesoro, sono una ragazza dolce e riservata, disponibile stasera",
        "de": "Hallo, ich bin ein süßes und diskretes Mädchen, heute Abend frei",
        "ro": "Bună, sunt o fată dulce și discretă, disponibilă în seara asta",
    }
    assert {lang: detect_language(text).language for lang, text in texts.items()} == {lang: lang for lang in texts}


def test_text_without_letters_has_no_language():
    assert detect_language("+34 612 345 678 !!!") is None
    assert detect_language(None) is None
