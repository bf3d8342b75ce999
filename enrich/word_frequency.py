"""How common a word is in a language, from `wordfreq`'s maintained frequency lists.

Used to tell ordinary words from identifiers: "whatsapp only" or "telegram disponible" name no
account, and "un" or "sei" are number words that are first of all words. The small lists (the
~30,000 most frequent words per language, ~60 ms and ~20 MB for all seven) are loaded on first use.
"""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=65_536)
def zipf(word: str, lang: str) -> float:
    """Zipf frequency of a folded word in `lang` (0 when unseen; 6 = once per thousand words)."""
    import wordfreq  # ~0.3 s to import (langcodes, ftfy): only once a frequency is asked for

    return wordfreq.zipf_frequency(word, lang, wordlist="small")


def is_common(word: str, languages: tuple[str, ...], min_zipf: float) -> bool:
    """True when `word` is at least `min_zipf` frequent in any of `languages`."""
    return any(zipf(word, lang) >= min_zipf for lang in languages)
