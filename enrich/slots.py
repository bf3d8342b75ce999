"""Slot masking: replace the parts of an ad that vary between copies of one template.

A controller reuses a text template and fills slots (phone, price, age, name, city, links). Masking
the slots before MinHash and RapidFuzz makes copies of one template look identical, so text
evidence measures the template, not the filled-in values (identifier evidence covers those).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from enrich.digit_runs import phone_like_spans
from enrich.identifiers import find_emails, find_urls
from enrich.slot_words import CITIES, CITY_PAIRS, FIRST_NAMES

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
_SLOT_WORDS = {**{name: "<name>" for name in FIRST_NAMES}, **{city: "<place>" for city in CITIES}}
_CITY_PAIR = re.compile(
    r"\b(?=[" + "".join(sorted({pair[0] for pair in CITY_PAIRS})) + "])"
    r"(?:" + "|".join(pair.replace(" ", r"[\s\-]") for pair in CITY_PAIRS) + r")\b"
)
_NOT_NAMES = frozenset(
    "a an the new here back available so very just in from your only not ready open now and or".split()
)
_NAME_CONTEXT = re.compile(
    r"\b(?=[mnicat])(?:my name is|my name's|name is|name:|i am|i'm|im|call me|ask for|this is|it's|its)\s+(?P<word>[a-z][a-z'\-]+)"
)
_PLACE_PREFIXES = r"(?:new|los|las|san|santa|st|saint|fort|el|la|salt|long|virginia|kansas|oklahoma|des)"
_PLACE_CONTEXT = re.compile(
    r"\b(?=[njavlbhiot])(?:new (?:in|to)|now in|just arrived in|arrived in|visiting|located in|based in|here in|in town"
    r"|incall in|outcall in|touring)"
    rf"\s+(?P<word>(?:{_PLACE_PREFIXES}\s+)?[a-z][a-z\-]+)"
)


def mask_slots(norm_text: str, known_places: Iterable[str] = ()) -> str:
    """Replace slot-like tokens in normalised text with placeholders from `PLACEHOLDERS`.

    Masked, in this order: emails (also "at"/"dot" forms), URLs, @handles, phone-like runs (7+
    digits or digit words with separators), prices ("$150", "150 roses"), ages ("22 yo", "age 22"),
    other numbers, common first names and big cities (`enrich.slot_words`), other names after
    "my name is" / "i'm" / "call me" / "ask for", other places after "visiting" / "new in" /
    "located in", and any of `known_places` (e.g. the ad's city and region, already normalised). Input should come from `normalise_text`; whitespace stays
    collapsed. Empty input gives "".
    """
    masked = _mask_spans(norm_text)
    for pattern, placeholder in _RULES:
        masked = pattern.sub(placeholder, masked)
    masked = _CITY_PAIR.sub("<place>", masked)
    present = _SLOT_WORDS.keys() & set(_WORD.findall(masked))  # usually 0-2 words: mask only those
    if present:
        masked = _words_pattern(frozenset(present)).sub(lambda m: _SLOT_WORDS[m.group()], masked)
    masked = _NAME_CONTEXT.sub(lambda m: _replace_word(m, "<name>"), masked)
    masked = _PLACE_CONTEXT.sub(lambda m: _replace_word(m, "<place>"), masked)
    known = sorted({k.strip() for k in known_places if k and k.strip()}, key=len, reverse=True)
    if known:
        pattern = re.compile(r"\b(?:" + "|".join(re.escape(k) for k in known) + r")\b")
        masked = pattern.sub("<place>", masked)
    return masked


@lru_cache(maxsize=4096)
def _words_pattern(words: frozenset[str]) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(sorted(words, key=len, reverse=True)) + r")\b")


def _replace_word(match: re.Match[str], placeholder: str) -> str:
    word = match.group("word")
    if word in _NOT_NAMES:
        return match.group(0)
    start = match.start("word") - match.start(0)
    return match.group(0)[:start] + placeholder


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
