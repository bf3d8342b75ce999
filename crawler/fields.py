"""Field cleaning: text as a page shows it -> the value an ad stores. Pure functions, no I/O.

Dates go through dateparser (any language, relative dates, the site's time zone), prices and
currency symbols or names through price-parser and babel's currency tables (-> ISO 4217),
countries by code or by name in any language through pycountry and babel (-> ISO 3166 alpha-2).
`Locale` carries a site's defaults (locale, time zone, country, currency) into every parse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from zoneinfo import ZoneInfo

import pycountry
from babel import Locale as BabelLocale
from babel.core import UnknownLocaleError
from babel.numbers import get_decimal_symbol

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?")
_AMBIGUOUS_AMOUNT = re.compile(r"\d{1,3}[.,]\d{3}")
_CODE3 = re.compile(r"(?<![A-Za-z])([A-Z]{3})(?![A-Za-z])")
# Breadcrumb arrows, bullets, colons and dashes an operator's selector drags in at either end of a
# short field ("» Jobs", "Location : Phoenix", "Phoenix ·").
_EDGE_MARKS = " \t\r\n\xa0»«›‹>|·•:;,–—-/"
# Languages whose currency symbols and country names are read when the site's own locale does not
# know one (so "$US", "Deutschland" or "España" resolve on an English-language site too).
_FALLBACK_LOCALES = ("en", "en_CA", "en_AU", "fr", "de", "es", "it", "pt", "nl", "pl", "ro", "ru", "tr", "ar",
                     "zh", "ja")


@dataclass(frozen=True)
class Locale:
    """What a site definition says about its pages: language and region, time zone, defaults."""

    locale: str | None = None  # babel/CLDR identifier, e.g. en_US, fr_FR, de
    timezone: str | None = None  # IANA name, e.g. America/Chicago
    country: str | None = None  # ISO 3166 alpha-2 of the site, when it serves one country
    currency: str | None = None  # ISO 4217 of the site's prices, when pages leave it out

    @property
    def language(self) -> str | None:
        return self.locale.replace("-", "_").split("_")[0].lower() if self.locale else None


def edge_strip(text: str | None) -> str | None:
    """Drop breadcrumb marks, bullets and colons from both ends; None when nothing is left."""
    if text is None:
        return None
    text = text.strip(_EDGE_MARKS)
    return text or None


def squash_spaces(text: str) -> str:
    """One plain space for every run of whitespace (no-break spaces included)."""
    return " ".join(text.replace("\xa0", " ").split())


# ---------------------------------------------------------------------------------------------- dates

def parse_date(text: str | None, where: Locale = Locale(), now: datetime | None = None) -> str | None:
    """A posting date in any form a page shows -> ISO 8601; None when there is none.

    ISO dates are read directly (fast path: most machine-readable attributes); anything else goes
    through dateparser in the site's language (any language when the site names none), relative
    dates ("3 weeks, 2 days ago") counted back from `now` (UTC; default: the current time).
    A date without a zone is in the site's time zone when the definition gives one, else left naive.
    """
    if not text or not text.strip():
        return None
    zone = ZoneInfo(where.timezone) if where.timezone else None
    match = _ISO_DATE.search(text)
    if match:
        try:
            value = datetime.fromisoformat(match.group(0).replace("Z", "+00:00"))
        except ValueError:
            return None  # an impossible ISO date is wrong, not something to guess around
        if value.tzinfo is None and zone is not None:
            value = value.replace(tzinfo=zone)
        return value.isoformat()
    import dateparser  # loads its language data on first use; most sites never need it

    now = now or datetime.now(timezone.utc)
    settings = {"PREFER_DATES_FROM": "past", "RETURN_AS_TIMEZONE_AWARE": zone is not None,
                "RELATIVE_BASE": now.astimezone(zone).replace(tzinfo=None) if zone else
                now.astimezone(timezone.utc).replace(tzinfo=None)}
    if zone is not None:
        settings["TIMEZONE"] = where.timezone
    languages = [where.language] if where.language else None
    try:
        value = dateparser.parse(squash_spaces(text), languages=languages, settings=settings)
    except (ValueError, OverflowError):
        value = None
    if value is None and languages:  # a page in another language than its site's
        value = dateparser.parse(squash_spaces(text), settings=settings)
    return value.isoformat() if value else None


# ---------------------------------------------------------------------------------------------- prices

@dataclass(frozen=True)
class Money:
    amount: float | None
    currency: str | None  # ISO 4217


@lru_cache(maxsize=4096)  # prices repeat across ads; parsing them is most of a plain page's cleaning
def parse_price(text: str | None, where: Locale = Locale()) -> Money:
    """'13.00 Dollar US$' -> Money(13.0, 'USD'); '1.250,5 EUR' -> Money(1250.5, 'EUR').

    price-parser finds the amount (decimal separator from the site's locale when it has one) and
    the currency as written; the currency becomes an ISO code through `currency_code`. 'Free' is 0.
    """
    if not text or not text.strip():
        return Money(None, None)
    from price_parser import Price

    text = squash_spaces(text)
    price = Price.fromstring(text)
    if where.locale and _known_locale(where.locale) and price.amount_text \
            and _AMBIGUOUS_AMOUNT.fullmatch(price.amount_text.strip()):
        # "1.250" or "1,250": a thousands separator or a decimal point; the site's locale says which.
        price = Price.fromstring(text, decimal_separator=get_decimal_symbol(where.locale))
    amount = float(price.amount) if price.amount is not None else None
    return Money(amount, currency_code(text, where, found=price.currency))


def parse_amount(value: object, where: Locale = Locale()) -> float | None:
    """A price from structured data: a number, or a string such as '13.00' / '1.250,50'."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(Decimal(str(value).strip()))
    except InvalidOperation:
        return parse_price(str(value), where).amount


@lru_cache(maxsize=4096)
def currency_code(text: str | None, where: Locale = Locale(), found: str | None = None) -> str | None:
    """The ISO 4217 code a price text names: a code ('EUR'), a symbol ('€', 'US$', 'zł') or a name
    ('Dollar', 'euros'). An ambiguous symbol ('$') means the site's currency when that one uses it,
    else what the site's locale means by it. None when nothing currency-like is there."""
    if not text:
        return None
    for code in _CODE3.findall(text):
        if pycountry.currencies.get(alpha_3=code):
            return code
    candidates = [found] if found else []
    candidates += [t for t in re.findall(r"[^\d\s.,'\-+()]+", text) if t != found]
    for token in candidates:
        code = _currency_for_token(token.strip(), where)
        if code:
            return code
    return None


def _currency_for_token(token: str, where: Locale) -> str | None:
    if not token:
        return None
    if where.currency and token in _symbols_of(where.currency, where.locale):
        return where.currency
    key = token.casefold().rstrip(".")
    for locale in ([where.locale] if where.locale else []) + list(_FALLBACK_LOCALES):
        code = _currency_index(locale).get(key)
        if code:
            return code
    return None


@lru_cache(maxsize=64)
def _symbols_of(code: str, locale: str | None) -> frozenset[str]:
    symbols = {code}
    for name in ([locale] if locale else []) + list(_FALLBACK_LOCALES):
        loc = _babel(name)
        if loc and code in loc.currency_symbols:
            symbols.add(loc.currency_symbols[code])
    return frozenset(symbols)


@lru_cache(maxsize=64)
def _currency_index(locale: str) -> dict[str, str]:
    """Symbol or name (case-folded) -> ISO code, in one locale; a symbol two currencies share
    there (as '$' may be) keeps the locale's own currency or is left out."""
    loc = _babel(locale)
    if loc is None:
        return {}
    own = None
    if loc.territory:
        from babel.numbers import get_territory_currencies

        current = get_territory_currencies(loc.territory)
        own = current[0] if current else None
    index: dict[str, str] = {}
    clashes: set[str] = set()
    for code, symbol in loc.currency_symbols.items():
        key = symbol.casefold()
        if key == code.casefold():
            continue
        if key in index and index[key] != code:
            clashes.add(key)
        index.setdefault(key, code)
    for key in clashes:
        if own and loc.currency_symbols.get(own, "").casefold() == key:
            index[key] = own
        else:
            del index[key]
    for code, name in loc.currencies.items():
        index.setdefault(name.casefold(), code)
    # "Dollar", "euros": the last word of a name, when no other current currency of the locale shares it
    words: dict[str, set[str]] = {}
    for code, name in loc.currencies.items():
        if pycountry.currencies.get(alpha_3=code):
            last = name.split()[-1].casefold()
            words.setdefault(last, set()).add(code)
            words.setdefault(last.rstrip("s"), set()).add(code)
    for word, codes in words.items():
        if len(codes) == 1:
            index.setdefault(word, next(iter(codes)))
        elif own in codes:
            index.setdefault(word, own)
    return index


# ---------------------------------------------------------------------------------------------- countries

@lru_cache(maxsize=4096)
def country_code(text: str | None, where: Locale = Locale()) -> str | None:
    """ISO 3166 alpha-2 for a country named by code ('US', 'USA') or by name in any language
    ('United States', 'Deutschland', 'España'); None when the text names no country."""
    if not text:
        return None
    value = edge_strip(squash_spaces(text))
    if not value:
        return None
    if len(value) == 2 and value.isalpha():
        found = pycountry.countries.get(alpha_2=value.upper())
        return found.alpha_2 if found else None
    if len(value) == 3 and value.isupper():
        found = pycountry.countries.get(alpha_3=value)
        if found:
            return found.alpha_2
    try:
        return pycountry.countries.lookup(value).alpha_2
    except LookupError:
        pass
    key = value.casefold()
    if where.locale:
        code = _country_index((where.locale,)).get(key)
        if code:
            return code
    return _country_index(None).get(key)


@lru_cache(maxsize=16)
def _country_index(locales: tuple[str, ...] | None) -> dict[str, str]:
    """Country name (case-folded) -> alpha-2, from babel's territory names: in `locales`, or in
    every language babel knows (built once, about half a second, on the first name pycountry lacks)."""
    if locales is None:
        from babel.localedata import locale_identifiers

        locales = tuple(sorted(i for i in locale_identifiers() if "_" not in i))
    index: dict[str, str] = {}
    for name in locales:
        loc = _babel(name)
        if loc is None:
            continue
        for code, territory in loc.territories.items():
            if len(code) == 2 and code.isalpha() and pycountry.countries.get(alpha_2=code):
                index.setdefault(territory.casefold(), code)
    return index


@dataclass(frozen=True)
class Place:
    city: str | None = None
    region: str | None = None
    country: str | None = None  # ISO alpha-2, only when the line names a known country
    country_text: str | None = None  # the part taken for a country, as written


def split_location(text: str | None, where: Locale = Locale(), separator: str = ",") -> Place:
    """'Phoenix, Arizona, United States' -> Place('Phoenix', 'Arizona', 'US').

    The last part is the country when it names one (any language, code or name); of the rest the
    first is the city and the last (when there are two or more) the region. Nothing is guessed:
    a line without a country gives none.
    """
    if not text:
        return Place()
    text = text.rsplit(":", 1)[-1]  # "Location : Phoenix, ...": a label before the place
    parts = [edge_strip(squash_spaces(p)) for p in text.split(separator)]
    parts = [p for p in parts if p]
    if not parts:
        return Place()
    country = country_code(parts[-1], where)
    country_text = None
    if country:
        country_text = parts.pop()
    city = parts[0] if parts else None
    region = parts[-1] if len(parts) > 1 else None
    return Place(city, region, country, country_text)


def known_country(code: str) -> bool:
    return len(code) == 2 and pycountry.countries.get(alpha_2=code) is not None


def known_currency(code: str) -> bool:
    return len(code) == 3 and pycountry.currencies.get(alpha_3=code) is not None


def _known_locale(name: str) -> bool:
    return _babel(name) is not None


@lru_cache(maxsize=512)
def _babel(name: str) -> BabelLocale | None:
    try:
        return BabelLocale.parse(name.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return None
