"""Slot masking: replace the parts of an ad that vary between copies of one template.

A controller reuses a text template and fills slots (phone, price, age, name, city, links). Masking
the slots before MinHash and RapidFuzz makes copies of one template look identical, so text
evidence measures the template, not the filled-in values (identifier evidence covers those).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from enrich.digit_runs import phone_like_spans
from enrich.identifiers import find_emails, find_urls
from enrich.first_names import first_names, word_names
from enrich.language import word_zipf
from enrich.places import is_place, place_phrases

PLACEHOLDERS = ("<url>", "<email>", "<handle>", "<phone>", "<price>", "<age>", "<num>", "<name>", "<place>")
"""Every token `mask_slots` can emit."""

_NUMBER = r"\d+(?:[.,]\d+)*"
_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(?<![\w@])@[a-z0-9_](?:[a-z0-9_.]{0,30}[a-z0-9_])?"), "<handle>"),
    (
        re.compile(
            rf"[$£€¥₹]\s*{_NUMBER}(?:\s*k\b)?|{_NUMBER}\s*(?:[$£€¥₹]|\b(?:usd|eur|gbp|dollars?|euros?|pounds?|roses?|bucks)\b)"
        ),
        "<price>",
    ),
    (re.compile(rf"\b(?:age[d:]?\s*){_NUMBER}\b|\b{_NUMBER}\s*(?:yo|y/o|yrs?|years?(?:\s+old)?)\b"), "<age>"),
    (re.compile(rf"\b{_NUMBER}\b|\b\d+[a-z]{{1,4}}\b"), "<num>"),
]
_WORD = re.compile(r"[a-z]+")

# Introductions in the supported languages (text is folded: no accents, lower case). After a
# strong one any word that is not a very common word is a name ("me llamo Xiomara"); after a weak
# one ("i'm", "soy", "sono", "ich bin": also "I am new", "soy nueva") only a known first name is.
_STRONG_INTRODUCTIONS = (
    "my name is", "my name's", "name is", "name:", "call me", "ask for",  # en
    "me llamo", "mi nombre es", "llamame", "pregunta por", "preguntar por",  # es
    "meu nome e", "me chamo", "chamo-me", "chamo me", "pergunte por", "pergunta por",  # pt
    "je m'appelle", "je m appelle", "mon nom est", "mon prenom est", "moi c'est", "demandez",  # fr
    "mi chiamo", "il mio nome e", "chiedi di", "chiedete di",  # it
    "ich heisse", "ich heise", "mein name ist", "frag nach", "fragt nach",  # de
    "ma numesc", "numele meu este", "numele meu e", "ma cheama", "intreaba de",  # ro
)
_WEAK_INTRODUCTIONS = (
    "i am", "i'm", "im", "this is", "it's", "its",  # en
    "soy", "yo soy",  # es
    "sou", "eu sou",  # pt
    "je suis", "c'est",  # fr
    "sono", "io sono",  # it
    "ich bin", "hier ist",  # de
    "sunt", "eu sunt",  # ro
)
# Arrivals and locations; what follows is a place when the gazetteer knows it, or when it is no
# common word (a small town: "just arrived in Xyzville").
_PLACE_INTRODUCTIONS = (
    "new in", "new to", "now in", "just arrived in", "arrived in", "visiting", "located in", "based in",
    "here in", "incall in", "outcall in", "touring",  # en
    "nueva en", "nuevo en", "recien llegada a", "recien llegada en", "recien llegado a", "llegada a",
    "estoy en", "ubicada en", "situada en", "de visita en", "visitando",  # es
    "nova em", "novo em", "nova no", "nova na", "recem chegada a", "recem chegada em", "acabei de chegar a",
    "chegada a", "estou em", "localizada em", "situada em", "de visita a", "visitando",  # pt
    "nouvelle a", "nouveau a", "nouvelle sur", "de passage a", "de passage sur", "situee a", "basee a",
    "en visite a", "arrivee a", "installee a",  # fr
    "nuova a", "nuovo a", "nuova in", "appena arrivata a", "appena arrivata in", "arrivata a",
    "in visita a", "situata a", "zona",  # it
    "neu in", "jetzt in", "gerade in", "zu besuch in", "besuche", "wohne in", "ansassig in",  # de
    "noua in", "nou in", "nou venita in", "proaspat sosita in", "sosita in", "sunt in", "in vizita in",
    "locatie in",  # ro
)


def _phrase_pattern(phrases: tuple[str, ...]) -> str:
    escaped = sorted({re.escape(p).replace(r"\ ", r"\s+") for p in phrases}, key=len, reverse=True)
    return "(?:" + "|".join(escaped) + ")"


_FOLLOWING = r"(?P<rest>[a-z][a-z'\-]*(?:\s+[a-z][a-z'\-]*){0,3})"
_NAME_CONTEXT = re.compile(
    rf"\b(?:(?P<strong>{_phrase_pattern(_STRONG_INTRODUCTIONS)})|{_phrase_pattern(_WEAK_INTRODUCTIONS)})\s+(?P<word>[a-z][a-z'\-]+)"
)
_PLACE_CONTEXT = re.compile(rf"\b{_phrase_pattern(_PLACE_INTRODUCTIONS)}\s+{_FOLLOWING}")
_FUNCTION_ZIPF = 5.0  # "not", "the", "la", "una": never a name, even after "my name is"
_ARTICLE_ZIPF = 5.5  # "la", "el", "en": towns of that name exist, but after "nueva en" it is the article
_RARE_ZIPF = 3.0  # absent from the frequency lists: an unknown name or town, not a word


def mask_slots(norm_text: str, known_places: Iterable[str] = ()) -> str:
    """Replace slot-like tokens in normalised text with placeholders from `PLACEHOLDERS`.

    Masked, in this order: emails (also "at"/"dot" forms), URLs, @handles, phone-like runs (7+
    digits or digit words with separators), prices ("$150", "150 roses"), ages ("22 yo", "age 22"),
    other numbers, then names and places:
    - first names from `enrich.first_names` anywhere (not those that are common words, "rose");
    - towns of 100,000+ and countries from `enrich.places` anywhere (not "nice", "split");
    - any name after an introduction in en/es/pt/fr/it/de/ro ("my name is", "me llamo",
      "je m'appelle", "mi chiamo", "ich heisse", "ma numesc"; after "i'm", "soy", "sono", "ich bin"
      only a known first name);
    - any town of the gazetteer (or an unknown word) after an arrival ("new in", "nueva en",
      "recien llegada a", "nouvelle a", "appena arrivata a", "neu in", "noua in");
    - any of `known_places` (e.g. the ad's city and region, already normalised).
    Input should come from `normalise_text`; whitespace stays collapsed. Empty input gives "".
    """
    masked = _mask_spans(norm_text)
    for pattern, placeholder in _RULES:
        masked = pattern.sub(placeholder, masked)
    masked = _mask_known_words(masked)
    masked = _NAME_CONTEXT.sub(_name_after_introduction, masked)
    masked = _PLACE_CONTEXT.sub(_place_after_arrival, masked)
    known = sorted({k.strip() for k in known_places if k and k.strip()}, key=len, reverse=True)
    if known:
        pattern = re.compile(r"\b(?:" + "|".join(re.escape(k) for k in known) + r")\b")
        masked = pattern.sub("<place>", masked)
    return masked


def _mask_known_words(text: str) -> str:
    """First names and big places wherever they are, longest place name first ("new york" before "york")."""
    names, phrases = first_names(), place_phrases()
    pieces: list[str] = []
    position = 0
    for match in _WORD.finditer(text):
        start = match.start()
        if start < position:
            continue  # inside a place name already masked
        word = match.group()
        for phrase in phrases.get(word, ()):
            if text.startswith(phrase, start) and not _letter_at(text, start + len(phrase)):
                pieces += [text[position:start], "<place>"]
                position = start + len(phrase)
                break
        else:
            if word in names and not _letter_at(text, match.end()) and text[start - 1 : start] != "<":
                pieces += [text[position:start], "<name>"]
                position = match.end()
    if not pieces:
        return text
    pieces.append(text[position:])
    return "".join(pieces)


def _letter_at(text: str, index: int) -> bool:
    return index < len(text) and (text[index].isalpha() or text[index] in "'-")


def _name_after_introduction(match: re.Match[str]) -> str:
    word = match.group("word")
    if word in first_names() or word in word_names():
        is_name = True
    elif match.group("strong"):
        is_name = word_zipf(word) < _FUNCTION_ZIPF
    else:
        is_name = word_zipf(word) < _RARE_ZIPF and len(word) > 2
    if not is_name:
        return match.group(0)
    start = match.start("word") - match.start(0)
    return match.group(0)[:start] + "<name>" + match.group(0)[start + len(word) :]


def _place_after_arrival(match: re.Match[str]) -> str:
    words = match.group("rest").split()
    for n in range(len(words), 0, -1):  # the longest run of words that names a place, not only very common words
        if is_place(" ".join(words[:n]).replace("-", " ")) and not all(word_zipf(w) >= _ARTICLE_ZIPF for w in words[:n]):
            break
    else:
        if word_zipf(words[0]) >= _RARE_ZIPF:
            return match.group(0)  # "new in town", "nueva en la ciudad"
        n = 1
    start = match.start("rest") - match.start(0)
    kept = match.group(0)[start:]
    consumed = re.match(r"\S+" + r"\s+\S+" * (n - 1), kept)
    return match.group(0)[:start] + "<place>" + kept[consumed.end() :]


def _mask_spans(text: str) -> str:
    """Replace emails, URLs and phone-like runs (found by the identifier code) with placeholders."""
    spans = [(a, b, "<email>") for a, b, _ in find_emails(text)]
    spans += [(a, b, "<url>") for a, b, _ in find_urls(text)]
    spans += [(a, b, "<phone>") for a, b in phone_like_spans(text)]
    if not spans:
        return text
    pieces, position = [], 0
    for start, end, placeholder in sorted(spans):
        if start < position:
            continue  # overlaps an earlier, already masked span (a phone inside a URL)
        pieces.append(text[position:start])
        pieces.append(placeholder)
        position = end
    pieces.append(text[position:])
    return "".join(pieces)
