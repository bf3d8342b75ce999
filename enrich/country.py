"""The country of an ad whose page does not say: from its city, its phone numbers and its language.

Why it matters: national numbers ("612 345 678", "0740 123 456") become E.164 only with a
country; without one they stay bare digits that match nothing written with "+34" or "+40".

Clues, most trusted first, each recorded as `how`:

* `page`: the crawler's `country` (from the page, or `site` when `country_source` says it is the
  site's default). Always taken as it is; the rest is never consulted.
* `city`: the ad's city (else region) through the gazetteer (`enrich.places`), as population
  shares: "Sevilla" is Spain (94%) or Colombia (6%).
* `phone`: the regions where the ad's national numbers are valid numbers written the way that
  region writes them (phonenumbers metadata: "0612345678" is French, "612345678" Spanish). A
  number valid in one region only says that region; numbers with "+" say their own country
  (used only when nothing else does). The numbers narrow a city shared by countries ("Valencia":
  Venezuela or Spain) and override a city in whose country none of them is valid: the country
  is there to read the numbers, and a wrong one would lose them.
* `language`: the text's language (`enrich.language`) as a tie-breaker among the candidates left,
  never alone (Portuguese alone would say Brazil for every Lisbon ad), and only for a country
  where a good share of the language's speakers live (English text does not make a number Kenyan).

The guess is the candidate holding at least DOMINANT_SHARE of the weight; otherwise no country.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumberFormat

from enrich.phones import extract_phones
from enrich.places import countries_for, countries_speaking

DOMINANT_SHARE = 0.8
"""A candidate country is the guess when it holds this share of the weight (population for cities)."""
LANGUAGE_MIN_SHARE = 0.15
"""The language decides only for a country holding this share of its speakers (French: France, not Kenya for English)."""
TEXT_FIELDS = ("title", "body", "contact_text")
_SITE_SOURCES = {"site", "site-default", "default"}


@dataclass(frozen=True)
class CountryGuess:
    """country: ISO 3166 alpha-2 or None; how: page | site | city | phone | language (None with no country)."""

    country: str | None
    how: str | None
    confidence: float = 0.0


NO_GUESS = CountryGuess(None, None, 0.0)


def infer_country(doc: Mapping, text_language: str | None) -> CountryGuess:
    """The ad's country and how it was found (see the module docstring); NO_GUESS when nothing says.

    `doc` is the crawled ad (fields country, country_source, city, region, title, body,
    contact_text); `text_language` an ISO 639-1 code from `enrich.language.detect_language`.
    Never raises for odd field values: they count as absent.
    """
    page = _page_country(doc)
    if page is not None:
        return page
    texts = "\n".join(v for v in (doc.get(k) for k in TEXT_FIELDS) if isinstance(v, str) and v)
    city = countries_for(_text(doc.get("city"))) or countries_for(_text(doc.get("region")))
    speaking = countries_speaking(text_language)
    top_city = _dominant(city)
    tries = ([frozenset({top_city[0]})] if top_city else []) + [frozenset(city) | frozenset(speaking)]
    numbers, votes, international, narrowed = _phone_clues(texts, tries)
    # A country fits the numbers when one of them is valid there (the others may be a site's or an
    # agency's number from elsewhere); with no city, the regions most numbers are valid in.
    national = frozenset(c for c, n in votes.items() if n == max(votes.values())) if votes else frozenset()
    candidates: dict[str, float] = {}
    how: str | None = None
    if city:
        candidates, how = city, "city"
    if national:
        kept = {c: w for c, w in candidates.items() if votes.get(c)}
        top = _dominant(candidates)
        if not kept and top and all(_possible(digits, top[0]) for digits in numbers):
            pass  # numbers outside the valid ranges but of the right shape for the city's country: keep the city
        elif not kept:  # no city, or numbers that cannot be numbers of any country the city may be in
            # Regions found among the language's countries only: the language chose among them.
            candidates, how = {c: 1.0 for c in national}, "language" if narrowed and not (national & city.keys()) else "phone"
        elif len(kept) < len(candidates):
            if top is None or top[0] not in kept:
                how = "phone"
            candidates = kept
    elif international:
        kept = {c: w for c, w in candidates.items() if c in international}
        if not candidates:
            candidates, how = {c: float(n) for c, n in international.items()}, "phone"
        elif kept and not _dominant(candidates):
            candidates, how = kept, "phone"
    if candidates and speaking and not _dominant(candidates):
        # Among the candidates, the countries whose first language the text is in. Not weighted by
        # speakers: that would make every English ad with a British-looking number Indian.
        kept = {c: w for c, w in candidates.items() if c in speaking}
        if kept and (len(kept) < len(candidates) or _dominant(kept)):
            candidates, how = kept, "language"
    best = _dominant(candidates)
    if best is None or (how == "language" and speaking.get(best[0], 0.0) < LANGUAGE_MIN_SHARE):
        return NO_GUESS
    return CountryGuess(best[0], how, round(best[1], 3))


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _page_country(doc: Mapping) -> CountryGuess | None:
    value = _text(doc.get("country"))
    if value is None:
        return None
    code = value.strip().upper()
    if len(code) != 2 or not code.isalpha():
        named = countries_for(value)  # "Spain", "España" would need a country-name gazetteer; English names work
        if len(named) != 1:
            return None
        code = next(iter(named))
    source = _text(doc.get("country_source"))
    how = "site" if source and source.strip().lower() in _SITE_SOURCES else "page"
    return CountryGuess(code, how, 1.0)


def _dominant(candidates: Mapping[str, float]) -> tuple[str, float] | None:
    total = sum(candidates.values())
    if total <= 0:
        return None
    country, weight = max(candidates.items(), key=lambda cw: (cw[1], cw[0]))
    share = weight / total
    return (country, share) if share >= DOMINANT_SHARE else None


def _phone_clues(text: str, tries: list[frozenset[str]]) -> tuple[list[str], Counter[str], Counter[str], bool]:
    """The ad's national numbers, per region how many of them read naturally there (or, failing that,
    validly), countries of '+' numbers, and whether the regions were found among likely regions only.

    The likely regions (`tries`: the city's dominant country, then the city's and the language's
    countries) are tried in turn; all regions only when none fits, which is what makes a new
    number cost ~0.1 ms rather than ~3 ms.
    """
    if not text:
        return [], Counter(), Counter(), False
    numbers: list[str] = []
    votes: Counter[str] = Counter()
    international: Counter[str] = Counter()
    narrowed = False
    for contact in extract_phones(text, None):
        if contact.placeholder:
            continue
        if contact.normalised.startswith("+"):
            region = _region_of(contact.normalised)
            if region:
                international[region] += 1
            continue
        regions = next((r for r in (national_regions(contact.normalised, likely) for likely in tries if likely) if r), frozenset())
        narrowed = narrowed or bool(regions)
        regions = regions or national_regions(contact.normalised)
        if not regions:
            continue  # valid nowhere: says nothing
        numbers.append(contact.normalised)
        votes.update(regions)
    return numbers, votes, international, narrowed


@lru_cache(maxsize=16_384)
def _possible(digits: str, region: str) -> bool:
    """Whether national `digits` have the length and shape of a number of `region` (valid ranges aside)."""
    try:
        return phonenumbers.is_possible_number(phonenumbers.parse(digits, region))
    except phonenumbers.NumberParseException:
        return False


@lru_cache(maxsize=16_384)
def _region_of(e164: str) -> str | None:
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return None


@lru_cache(maxsize=65_536)  # controllers repeat their numbers
def national_regions(digits: str, among: frozenset[str] | None = None) -> frozenset[str]:
    """Regions (of `among`, default all) where national `digits` are a valid number written as that region writes it; else where merely valid.

    "Written as that region writes it": the digits equal the number's national format for the
    region, so "612345678" reads as Spanish (no trunk prefix) but not French ("06 12 34 56 78").
    Cost: one regular expression per region of fitting length, then phonenumbers' full check on
    the few that match (~0.5 ms for a new number).
    """
    natural: set[str] = set()
    valid: set[str] = set()
    for region, pattern, prefix in _regions_by_length().get(len(digits), ()):
        if among is not None and region not in among:
            continue
        national = digits[len(prefix):] if prefix and digits.startswith(prefix) else digits
        if not pattern.fullmatch(national) and not pattern.fullmatch(digits):
            continue  # outside the region's number ranges: skip the expensive check
        try:
            number = phonenumbers.parse(digits, region)
        except phonenumbers.NumberParseException:
            continue
        if not phonenumbers.is_valid_number_for_region(number, region):
            continue
        valid.add(region)
        formatted = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
        if "".join(ch for ch in formatted if ch.isdigit()) == digits:
            natural.add(region)
    return frozenset(natural or valid)


@lru_cache(maxsize=1)
def _regions_by_length() -> dict[int, tuple[tuple[str, re.Pattern[str], str], ...]]:
    """Digit count -> (region, its general number pattern, its trunk prefix) for regions whose numbers may have that many digits."""
    by_length: dict[int, list[tuple[str, re.Pattern[str], str]]] = {}
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        if metadata is None or metadata.general_desc is None or not metadata.general_desc.national_number_pattern:
            continue
        prefix = metadata.national_prefix or ""
        entry = (region, re.compile(metadata.general_desc.national_number_pattern), prefix)
        lengths = set(metadata.general_desc.possible_length or ())
        for length in lengths | ({n + len(prefix) for n in lengths} if prefix else set()):
            by_length.setdefault(length, []).append(entry)
    return {length: tuple(entries) for length, entries in by_length.items()}
