"""First names for slot masking, from Faker's per-locale name lists, without the names that are common words.

Why Faker: it is maintained, MIT-licensed and small to load (~0.2 s for every locale), and its
lists are the common given names of each locale (census and registry lists: en_US with census
weights, es_ES, pt_PT, pt_BR, fr_FR, it_IT, de_DE, ro_RO, and ~60 more). Measured alternatives:
`names-dataset` (1.9 GiB resident, 10 s to load) and `gender-guesser` (GPLv3, unmaintained
since 2016) were left out.

A name that is also a common word ("may", "rose", "angel", "hope", "luz", "sol", "bella") is not
masked wherever it appears: masking it would blur ordinary text. It is still masked after an
introduction ("my name is Rose", "me llamo Luz"). A name counts as a common word in a supported
language L (wordfreq Zipf frequency z, see `enrich.language`) when one of these holds:

* z >= 5.5 (once per 300,000 words: "elle", "ella", "mia" in Italian);
* z >= 4.3, z exceeds the median over the other languages by 0.4 or more, and no locale of L
  lists it as a name: its frequency in L is not explained by L's speakers bearing it ("sol", "paz");
* in English, z exceeds by 0.5 or more what the US census weight of the name predicts (a line
  fitted over all en_US names): "rose", "angel", "joy", "summer".

The thresholds were set on a list of 27 word-names and 30 plain names (see
tests/enrich/test_enrich_names.py for other names they are checked on). Famous male names mentioned
far more than they are given ("john", "george", "david") also fall out; they stay masked after an
introduction.
"""

from __future__ import annotations

import importlib
import math
import statistics
from functools import lru_cache

from enrich.language import SUPPORTED_LANGUAGES, fold_word, word_zipf_by_language

_HIGH_ZIPF = 5.5
_PEAK_FLOOR, _PEAK_MARGIN = 4.3, 0.4
_CENSUS_MARGIN = 0.5
_NAME_ATTRIBUTES = ("first_names_female", "first_names_male", "first_names_nonbinary", "first_names")


@lru_cache(maxsize=1)
def _faker_names() -> tuple[dict[str, frozenset[str]], dict[str, float]]:
    """Folded first name -> languages whose locales list it, and en_US census weights by folded name."""
    from faker.config import AVAILABLE_LOCALES

    languages: dict[str, set[str]] = {}
    census: dict[str, float] = {}
    for locale in AVAILABLE_LOCALES:
        try:
            provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        except ImportError:
            continue  # a locale without a person provider
        for attribute in _NAME_ATTRIBUTES:
            names = getattr(provider, attribute, None)
            if not isinstance(names, tuple | list | dict):
                continue  # some locales build the list in a property
            for name in names:
                folded = fold_word(name)
                if len(folded) < 3 or not folded.isascii() or not folded.isalpha():
                    continue  # other scripts, initials, compound names ("anne-marie" masks as two words)
                languages.setdefault(folded, set()).add(locale.split("_")[0])
                if locale == "en_US" and isinstance(names, dict):
                    census[folded] = max(census.get(folded, 0.0), float(names[name]))
    return {name: frozenset(langs) for name, langs in languages.items()}, census


def _census_line(census: dict[str, float]) -> tuple[float, float]:
    """Intercept and slope of English Zipf frequency against log10(census weight), least squares over en_US names."""
    english = word_zipf_by_language("en")
    points = [(math.log10(w), english[n]) for n, w in census.items() if w > 0 and n in english]
    if len(points) < 10:
        return 0.0, 0.0
    mean_x = statistics.fmean(x for x, _ in points)
    mean_y = statistics.fmean(y for _, y in points)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / sum((x - mean_x) ** 2 for x, _ in points)
    return mean_y - slope * mean_x, slope


def _is_common_word(name: str, languages: frozenset[str], census: dict[str, float], line: tuple[float, float]) -> bool:
    zipfs = {lang: word_zipf_by_language(lang).get(name, 0.0) for lang in SUPPORTED_LANGUAGES}
    for lang, zipf in zipfs.items():
        if zipf >= _HIGH_ZIPF:
            return True
        others = statistics.median(max(z, 3.0) for other, z in zipfs.items() if other != lang)
        if zipf >= _PEAK_FLOOR and zipf - others >= _PEAK_MARGIN and lang not in languages:
            return True
    weight = census.get(name, 0.0)
    if weight > 0 and zipfs["en"] > 0:
        expected = line[0] + line[1] * math.log10(weight)
        if zipfs["en"] - expected >= _CENSUS_MARGIN:
            return True
    return False


@lru_cache(maxsize=1)
def _split() -> tuple[frozenset[str], frozenset[str]]:
    languages, census = _faker_names()
    line = _census_line(census)
    words = frozenset(n for n, langs in languages.items() if _is_common_word(n, langs, census, line))
    return frozenset(languages) - words, words


def first_names() -> frozenset[str]:
    """Folded first names that are safe to mask wherever they appear (no common words among them)."""
    return _split()[0]


def word_names() -> frozenset[str]:
    """Folded first names that are also common words ("rose", "may"): masked only after an introduction."""
    return _split()[1]
