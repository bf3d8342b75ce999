"""Field cleaning: dates, prices and currencies, countries, location lines (crawler.fields)."""

from __future__ import annotations

from datetime import datetime, timezone

from crawler.fields import Locale, Money, country_code, parse_date, parse_price, split_location

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)
US = Locale(locale="en_US")


def test_iso_dates_are_read_directly_and_impossible_ones_dropped():
    assert parse_date("2026-01-05") == "2026-01-05T00:00:00"
    assert parse_date("posted 2026-02-30") is None
    assert parse_date(None) is None


def test_human_dates_in_the_sites_language_and_time_zone():
    chicago = Locale(locale="en_US", timezone="America/Chicago")
    assert parse_date("April 5, 2025", chicago) == "2025-04-05T00:00:00-05:00"
    assert parse_date("5 avril 2025", Locale(locale="fr_FR")) == "2025-04-05T00:00:00"
    assert parse_date("2026-01-05", chicago) == "2026-01-05T00:00:00-06:00"  # an ISO date without zone too


def test_relative_dates_count_back_from_the_fetch():
    assert parse_date("3\xa0weeks, 2\xa0days ago", US, NOW).startswith("2026-02-15")  # Django's timesince
    assert parse_date("vor 3 Tagen", US, NOW).startswith("2026-03-07")  # another language than the site's
    assert parse_date("not a date at all", US, NOW) is None


def test_prices_in_several_notations():
    assert parse_price("£1,250.00") == Money(1250.0, "GBP")
    assert parse_price("1.250,5 EUR") == Money(1250.5, "EUR")
    assert parse_price("USD 12 500") == Money(12500.0, "USD")
    assert parse_price("1 234,56 zł") == Money(1234.56, "PLN")
    assert parse_price("Contact for price") == Money(None, None)


def test_currency_symbols_and_names_become_iso_codes():
    assert parse_price("13.00 Dollar US$", US) == Money(13.0, "USD")
    assert parse_price("13,00 $US", Locale(locale="fr_FR")) == Money(13.0, "USD")
    assert parse_price("12 euros", US).currency == "EUR"
    assert parse_price("$5", Locale(locale="en_CA")).currency == "CAD"
    assert parse_price("$5", Locale(locale="en_CA", currency="USD")).currency == "USD"  # the site says


def test_ambiguous_separator_follows_the_sites_locale():
    assert parse_price("1.250 €", Locale(locale="de_DE")).amount == 1250.0
    assert parse_price("1,250 USD", US).amount == 1250.0


def test_countries_by_code_or_name_in_any_language():
    assert [country_code(t) for t in ("US", "USA", "United States", "Deutschland", "España", "Royaume-Uni")] == \
        ["US", "US", "US", "DE", "ES", "GB"]
    assert country_code("Chicago") is None and country_code("xx") is None


def test_location_line_splits_into_city_region_country():
    place = split_location("Location : Phoenix, Arizona, United States", US)
    assert (place.city, place.region, place.country) == ("Phoenix", "Arizona", "US")
    assert split_location("Bucharest, România").country == "RO"
    unknown = split_location("Springfield, Shelbyville")  # no country named: none is invented
    assert (unknown.city, unknown.region, unknown.country) == ("Springfield", "Shelbyville", None)
