"""Country inference: the page's country first, then the city, the numbers' own format, the language."""

from enrich.country import infer_country, national_regions
from enrich.profile import profile_ad


def test_spanish_ad_in_sevilla_without_country_gets_spain_and_an_e164_phone():
    doc = {"title": "Chica nueva en Sevilla", "body": "Hola, soy muy cariñosa. Llámame al 612 345 678", "city": "Sevilla"}
    fields = profile_ad(doc, {}).fields
    assert (fields["country_inferred"], fields["country_how"], fields["language"]) == ("ES", "city", "es")
    assert [c["normalised"] for c in fields["contacts"] if c["kind"] == "phone"] == ["+34612345678"]


def test_city_shared_by_countries_is_resolved_by_the_numbers_format():
    # "Valencia" is mostly Venezuela by population; a Spanish mobile written the Spanish way settles it.
    guess = infer_country({"city": "Valencia", "body": "llama al 612 345 678"}, None)
    assert (guess.country, guess.how) == ("ES", "phone")


def test_number_valid_in_one_region_only_gives_that_region():
    # A São Paulo mobile with its area code fits Brazil's numbering plan and no other.
    assert national_regions("11961234567") == frozenset({"BR"})
    guess = infer_country({"body": "me chama no zap (11) 96123-4567"}, None)
    assert (guess.country, guess.how) == ("BR", "phone")


def test_ad_without_any_clue_gets_no_country_and_keeps_bare_digits():
    fields = profile_ad({"body": "call me on 0612345678 xx"}, {}).fields
    assert (fields["country_inferred"], fields["country_how"]) == (None, None)
    assert [c["normalised"] for c in fields["contacts"]] == ["0612345678"]


def test_odd_field_values_give_no_country_and_no_error():
    assert infer_country({"city": 12, "region": ["x"], "body": None, "country": ""}, "xx").country is None
    assert profile_ad({"title": b"\xff", "city": {"a": 1}}, {}).fields["country_inferred"] is None


def test_page_country_is_kept_and_never_overwritten():
    fields = profile_ad({"country": "ES", "city": "Paris", "body": "appelle-moi 06 12 34 56 78"}, {}).fields
    assert (fields["country_inferred"], fields["country_how"]) == (None, "page")
    assert [c["normalised"] for c in fields["contacts"]] == ["+34612345678"] or not fields["contacts"]


def test_site_default_is_recorded_as_site():
    assert infer_country({"country": "it", "country_source": "site"}, None).how == "site"


def test_numbers_invalid_in_the_citys_country_override_the_city():
    # A Romanian number in a Madrid ad: Spain would lose it (ten digits cannot be Spanish).
    guess = infer_country({"city": "Madrid", "body": "Sună-mă: 0740 123 456"}, "ro")
    assert guess.country == "RO"


def test_city_that_the_gazetteer_knows_in_another_language_is_found():
    assert infer_country({"city": "Bukarest"}, None).country == "RO"
    assert infer_country({"city": "Lisboa", "body": "liga 912 345 678"}, "pt").country == "PT"


def test_international_number_gives_its_country_when_nothing_else_does():
    guess = infer_country({"body": "WhatsApp +40 740 123 456"}, None)
    assert (guess.country, guess.how) == ("RO", "phone")


def test_language_breaks_a_tie_between_regions_where_the_number_fits():
    # "0740 123 456" fits Romania and a score of other numbering plans; Romanian text settles it.
    assert len(national_regions("0740123456")) > 1
    guess = infer_country({"body": "Sună-mă la 0740 123 456"}, "ro")
    assert (guess.country, guess.how) == ("RO", "language")


def test_language_spoken_in_two_candidate_countries_gives_no_country():
    # A French-looking mobile fits France and Monaco, both French-speaking: no guess rather than a wrong one.
    assert infer_country({"body": "Appelle-moi au 06 12 34 56 78"}, "fr").country is None


def test_language_alone_gives_no_country():
    assert infer_country({"body": "Olá, sou nova na cidade"}, "pt").country is None
