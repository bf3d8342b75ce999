"""The language of an ad's text, and how common a word is in the languages AdWatch reads.

Detection is py3langid (a naive Bayes model over byte n-grams, ~30 us for an ad) restricted to
`DETECTED_LANGUAGES`: the languages AdWatch has slot grammar for plus the other big languages of
the regions it watches, so a Dutch or Polish ad is called Dutch or Polish rather than forced into
German or Romanian. Word frequencies come from wordfreq's "small" lists (words used at least once
per million), accents folded the way `enrich.normalise` folds ad text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from enrich.normalise import fold_with_offsets

SUPPORTED_LANGUAGES = ("en", "es", "pt", "fr", "it", "de", "ro")
"""Languages whose slot contexts ("my name is", "me llamo", "nueva en", ...) `enrich.slots` knows."""

DETECTED_LANGUAGES = SUPPORTED_LANGUAGES + ("nl", "pl", "cs", "hu", "bg", "ru", "uk", "tr", "el", "sv", "da", "no")
MIN_CONFIDENCE = 0.5
"""Below this probability (over DETECTED_LANGUAGES) the language is left unknown."""
MAX_DETECT_CHARS = 600  # a language shows in the first lines; longer text only costs time (~1 us a character)


@dataclass(frozen=True)
class LanguageGuess:
    language: str  # ISO 639-1 code
    confidence: float  # probability over DETECTED_LANGUAGES, 0..1


@lru_cache(maxsize=1)
def _identifier():
    # Imported here: the model (4.6 MB, ~0.4 s) loads only in processes that detect languages.
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(DETECTED_LANGUAGES))
    return identifier


def detect_language(text: object) -> LanguageGuess | None:
    """The language of `text`, or None for non-text, text without letters, or a guess under MIN_CONFIDENCE."""
    if not isinstance(text, str) or not any(c.isalpha() for c in text[:MAX_DETECT_CHARS]):
        return None
    language, confidence = _identifier().classify(text[:MAX_DETECT_CHARS])
    if confidence < MIN_CONFIDENCE:
        return None
    return LanguageGuess(language, round(float(confidence), 3))


@lru_cache(maxsize=1 << 18)
def fold_word(word: str) -> str:
    """A word or name folded like ad text: lower case, accents stripped ("Está" -> "esta", "Straße" -> "strasse")."""
    if word.isascii():
        return word.lower()
    return fold_with_offsets(word).text


@lru_cache(maxsize=None)
def word_zipf_by_language(language: str) -> dict[str, float]:
    """Folded word -> Zipf frequency (log10 of uses per billion words) in `language`; words under 3 are absent."""
    from wordfreq import get_frequency_dict

    folded: dict[str, float] = {}
    for word, frequency in get_frequency_dict(language, wordlist="small").items():
        key = fold_word(word)
        folded[key] = folded.get(key, 0.0) + frequency  # "esta" and "está" are one word once folded
    return {word: round(math.log10(frequency) + 9, 2) for word, frequency in folded.items()}


@lru_cache(maxsize=1)
def _max_zipf() -> dict[str, float]:
    best: dict[str, float] = {}
    for language in SUPPORTED_LANGUAGES:
        for word, zipf in word_zipf_by_language(language).items():
            if zipf > best.get(word, 0.0):
                best[word] = zipf
    return best


def word_zipf(word: str) -> float:
    """The highest Zipf frequency of folded `word` in any supported language; 0.0 when rare in all of them.

    Zipf 3 is one use per million words, 6 one per thousand ("may" in English is 6.0).
    """
    return _max_zipf().get(word, 0.0)
