"""Slot masking: replace the parts of an ad that vary between copies of one template.

A controller reuses a text template and fills slots (phone, price, age, name, city, links). Masking
the slots before MinHash and RapidFuzz makes copies of one template look identical, so text
evidence measures the template, not the filled-in values (identifier evidence covers those).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from enrich.identifiers import EMAIL_PATTERN, URL_PATTERN
from enrich.phones import DIGIT_WORD_RUN

PLACEHOLDERS = ("<url>", "<email>", "<handle>", "<phone>", "<price>", "<age>", "<num>", "<name>", "<place>")
"""Every token `mask_slots` can emit."""

_NUMBER = r"\d+(?:[.,]\d+)*"
_PHONE_PIECE = rf"(?:\d|\b{DIGIT_WORD_RUN}\b|\bdouble\b|\btriple\b)"
_RULES: list[tuple[re.Pattern[str], str]] = [
    (EMAIL_PATTERN, "<email>"),
    (URL_PATTERN, "<url>"),
    (re.compile(r"(?<![\w@])@[a-z0-9_](?:[a-z0-9_.]{0,30}[a-z0-9_])?"), "<handle>"),
    # Seven or more digits (or digit words) with separators between them: phone-like.
    (re.compile(rf"\+?{_PHONE_PIECE}(?:[\s.\-/()\[\]]{{0,3}}{_PHONE_PIECE}){{6,}}"), "<phone>"),
    (
        re.compile(
            rf"[$£€¥₹]\s*{_NUMBER}(?:\s*k\b)?|{_NUMBER}\s*(?:[$£€¥₹]|\b(?:usd|eur|gbp|dollars?|euros?|pounds?|roses?|bucks)\b)"
        ),
        "<price>",
    ),
    (re.compile(rf"\b(?:age[d:]?\s*){_NUMBER}\b|\b{_NUMBER}\s*(?:yo|y/o|yrs?|years?(?:\s+old)?)\b"), "<age>"),
    (re.compile(rf"\b{_NUMBER}\b|\b\d+[a-z]{{1,4}}\b"), "<num>"),
]
_NOT_NAMES = frozenset(
    "a an the new here back available so very just in from your only not ready open now and or your".split()
)
_NAME_CONTEXT = re.compile(
    r"\b(?:my name is|my name's|name is|name:|i am|i'm|im|call me|ask for|this is|it's|its)\s+(?P<word>[a-z][a-z'\-]+)"
)
_PLACE_PREFIXES = r"(?:new|los|las|san|santa|st|saint|fort|el|la|salt|long|virginia|kansas|oklahoma|des)"
_PLACE_CONTEXT = re.compile(
    r"\b(?:new (?:in|to)|now in|just arrived in|arrived in|visiting|located in|based in|here in|in town|incall in|outcall in|touring)"
    rf"\s+(?P<word>(?:{_PLACE_PREFIXES}\s+)?[a-z][a-z\-]+)"
)


def mask_slots(norm_text: str, known_places: Iterable[str] = ()) -> str:
    """Replace slot-like tokens in normalised text with placeholders from `PLACEHOLDERS`.

    Masked, in this order: emails (also "at"/"dot" forms), URLs, @handles, phone-like runs (7+
    digits or digit words with separators), prices ("$150", "150 roses"), ages ("22 yo", "age 22"),
    other numbers, names after "my name is" / "i'm" / "call me" / "ask for", places after
    "visiting" / "new in" / "located in", and any of `known_places` (e.g. the ad's city and
    region, already normalised). Input should come from `normalise_text`; whitespace stays
    collapsed. Empty input gives "".
    """
    masked = norm_text
    for pattern, placeholder in _RULES:
        masked = pattern.sub(placeholder, masked)
    masked = _NAME_CONTEXT.sub(lambda m: _replace_word(m, "<name>"), masked)
    masked = _PLACE_CONTEXT.sub(lambda m: _replace_word(m, "<place>"), masked)
    known = sorted({k.strip() for k in known_places if k and k.strip()}, key=len, reverse=True)
    if known:
        pattern = re.compile(r"\b(?:" + "|".join(re.escape(k) for k in known) + r")\b")
        masked = pattern.sub("<place>", masked)
    return masked


def _replace_word(match: re.Match[str], placeholder: str) -> str:
    word = match.group("word")
    if word in _NOT_NAMES:
        return match.group(0)
    start = match.start("word") - match.start(0)
    return match.group(0)[:start] + placeholder
