"""Text normalisation: fold ad text so that cosmetic variations compare equal.

Two layers:

* `fold_with_offsets` — character-level folding (NFKC, case, accents, emoji digits, decorative
  emoji to spaces) that remembers where each output character came from, so identifier
  extraction can report spans into the *original* text.
* `normalise_text` — the folded text plus word-level repairs (leetspeak) and collapsed
  whitespace; this is what text signatures and text comparison see.

The caller keeps the original text; nothing here mutates or stores it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

DEFAULT_MAX_CHARS = 20_000
"""Longest text (in characters, after decoding) that is normalised; longer input is cut and noted."""

# Keycap ten has no digit value in Unicode; every other emoji digit is a base digit plus
# U+FE0F / U+20E3 (dropped as marks) or carries a digit value (circled, fullwidth, ...).
_SPECIAL_CHARS = {"\U0001f51f": "10"}
_ASCII_CONTROLS = {i: " " for i in range(32) if chr(i) not in "\t\n\r"} | {127: " "}
_DROPPED_CATEGORIES = {"Mn", "Me", "Cf"}  # combining marks, keycap/VS16/ZWJ formatting
_SPACE_CATEGORIES = {"So", "Sk", "Cs", "Co", "Cn", "Cc", "Zl", "Zp"}  # emoji, symbols, junk


@dataclass(frozen=True)
class FoldedText:
    """Folded text plus, for every folded character, the index of the original character it came from.

    `origins is None` means the identity mapping (pure ASCII input: folding only lower-cased it).
    """

    text: str
    origins: tuple[int, ...] | None
    source_length: int

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """Map the half-open folded range [start, end) to a half-open range in the original text.

        The end covers any characters dropped after the last folded one (keycap marks, variation
        selectors), so a span around "5️⃣" covers all three code points.
        """
        if self.origins is None:
            return start, end
        if start >= end:
            at = self.origins[start] if start < len(self.origins) else self.source_length
            return at, at
        source_start = self.origins[start]
        if end < len(self.origins):
            source_end = max(self.origins[end - 1] + 1, self.origins[end])
        else:
            source_end = self.source_length
        return source_start, source_end


@dataclass(frozen=True)
class NormalisedText:
    """Normalised text and what happened on the way.

    `notes` are short machine-readable strings such as ``"truncated:25000>20000"``,
    ``"not-text:NoneType"``, ``"decoded-bytes"``, ``"empty"``; the worker copies them to the ad's
    enrichment notes.
    """

    text: str
    notes: tuple[str, ...] = ()


@lru_cache(maxsize=65_536)
def _fold_char(char: str) -> str:
    """Fold one non-ASCII code point: digits to ASCII, accents and marks dropped, emoji to a space."""
    if char in _SPECIAL_CHARS:
        return _SPECIAL_CHARS[char]
    category = unicodedata.category(char)
    if category in _DROPPED_CATEGORIES:
        return ""
    digit = unicodedata.digit(char, None)
    if digit is not None:
        return str(digit)
    if category in _SPACE_CATEGORIES:
        return " "
    if category.startswith("Z"):
        return " "
    decomposed = unicodedata.normalize("NFKD", char)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    folded = unicodedata.normalize("NFKC", stripped).casefold()
    # Compatibility decompositions can surface symbols (e.g. "℡" -> "TEL" is fine, "㉑" -> "21").
    return "".join(
        c if c.isascii() or unicodedata.category(c) not in _SPACE_CATEGORIES else " " for c in folded
    )


def fold_with_offsets(text: str) -> FoldedText:
    """Fold `text` character by character, remembering each output character's source index.

    Folding: NFKC compatibility forms, case folding, accents stripped, combining marks and format
    characters (VS16, ZWJ, keycap U+20E3) dropped, every Unicode digit (circled ①, dingbat ➊,
    fullwidth ５, mathematical 𝟓, Arabic-Indic ٣) mapped to its ASCII digit, keycap ten to "10",
    emoji and other symbols replaced by one space, control characters by a space.
    Whitespace is kept as is (collapsing it would break the offsets). Pure ASCII takes a fast path.
    """
    if text.isascii():
        return FoldedText(text.lower().translate(_ASCII_CONTROLS), None, len(text))
    pieces: list[str] = []
    origins: list[int] = []
    position = 0
    for match in _NON_ASCII.finditer(text):
        start, end = match.span()
        if start > position:  # ASCII stretch: lower-casing keeps its length, so offsets are a range
            pieces.append(text[position:start].lower().translate(_ASCII_CONTROLS))
            origins.extend(range(position, start))
        for index in range(start, end):
            piece = _fold_char(text[index])
            if piece:
                pieces.append(piece)
                origins.extend([index] * len(piece))
        position = end
    if position < len(text):
        pieces.append(text[position:].lower().translate(_ASCII_CONTROLS))
        origins.extend(range(position, len(text)))
    return FoldedText("".join(pieces), tuple(origins), len(text))


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


# --- look-alike letters of other scripts, for identifiers ------------------------------------------

# Not in Unicode's confusables: the slashed O that ads type for a zero ("O" itself is read as 0 by
# the phone extractor).
_EXTRA_CONFUSABLES = {"ø": "o"}
_TOKEN = re.compile(r"\S+")
_ASCII_ALNUM = re.compile(r"[a-z0-9]")


@lru_cache(maxsize=1)
def _confusables() -> tuple[dict[int, str], re.Pattern[str]]:
    """Folded letter of another script -> the ASCII letter or digit it imitates (Cyrillic "о" -> "o",
    Greek "ι" -> "i", Cyrillic "з" -> "3"), from Unicode's confusables list as shipped by
    `confusable_homoglyphs`; plus a pattern matching any of them."""
    import json
    from importlib.resources import files

    data = json.loads((files("confusable_homoglyphs") / "confusables.json").read_text(encoding="utf-8"))
    table: dict[int, str] = {}
    for target in "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        for entry in data.get(target, ()):
            char = entry["c"].strip("\u200e")
            if len(char) != 1 or char.isascii() or not unicodedata.category(char).startswith("L"):
                continue  # other scripts' digits are folded to their own value already
            folded = _fold_char(char)
            if len(folded) == 1 and not folded.isascii():
                table.setdefault(ord(folded), target.lower())
    table.update({ord(k): v for k, v in _EXTRA_CONFUSABLES.items()})
    return table, re.compile("[" + re.escape("".join(map(chr, table))) + "]")


def fold_identifiers(text: str) -> FoldedText:
    """`fold_with_offsets`, then letters of other scripts that imitate Latin ones read as those letters.

    Only inside a token that also holds an ASCII letter or digit ("+7 9О1" with a Cyrillic О, "@јane",
    "ΟΙ23"), so Greek or Cyrillic text stays as written. One character in, one out: offsets hold.
    For identifier extraction only; `normalise_text` (MinHash, comparison) does not use it.
    """
    folded = fold_with_offsets(text)
    if folded.text.isascii():
        return folded  # no letter of another script left (emoji became spaces)
    table, pattern = _confusables()
    if not pattern.search(folded.text):
        return folded

    def repair(token: re.Match[str]) -> str:
        word = token.group()
        return word.translate(table) if pattern.search(word) and _ASCII_ALNUM.search(word) else word

    return FoldedText(_TOKEN.sub(repair, folded.text), folded.origins, folded.source_length)


# --- leetspeak -----------------------------------------------------------------------------------

_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})
_LEET_CANDIDATE = re.compile(r"(?<!\S)(?=\S*[013457@$!])\S+")  # only tokens holding a leet character need a look
_LEET_WORD = re.compile(r"^([\"'(\[]*)([a-z0-9@$!]*[a-z][a-z0-9@$!]*?)([.,!?;:)\]\"']*)$")
_UNIT_LIKE = re.compile(  # 5ft, 34dd, 2hr, 100usd, 10am, 1st: a number with its unit, not a word
    r"^\d+(?:ft|in|cm|mm|m|km|kg|g|lbs?|[a-h]{1,3}|hrs?|h|mins?|am|pm|yo|yrs?|usd|eur|gbp|k|x|st|nd|rd|th|p|gb|mb)$"
)
_LOOKALIKE_DIGITS = str.maketrans({"o": "0", "i": "1", "l": "1"})
_INNER_BANG = re.compile(r"(?<=[a-z])!(?=[a-z])")


def deleet(word: str) -> str:
    """A word with leet digits read as letters ("h057355" -> "hostess", "d3p0517" -> "deposit")."""
    return word.translate(_LEET)


def _deleet_token(token: str) -> str:
    """Map leetspeak in a word ("s3xy" -> "sexy", "c0575" -> "costs"); leave numbers and identifiers alone.

    Only tokens made of letters, digits and @ $ ! (plus surrounding quotes, brackets and trailing
    punctuation) with at least one letter are words: anything with a dot, slash, dash or colon
    inside (emails, URLs, "555-l23-4567") keeps its digits, and so do measurements ("5ft", "34dd")
    and numbers written with letter lookalikes ("5o5l234567").
    """
    match = _LEET_WORD.match(token)
    if match is None:
        return token
    lead, core, trail = match.groups()
    if _UNIT_LIKE.match(core) or core.translate(_LOOKALIKE_DIGITS).isdigit() or core.startswith("@"):
        return token
    # "!" only counts between letters ("h!gh"); a trailing "!" is punctuation.
    return lead + _INNER_BANG.sub("i", core).translate(_LEET) + trail


def normalise_text(text: object, max_chars: int = DEFAULT_MAX_CHARS) -> NormalisedText:
    """Normalise ad text for signatures and comparison: folded, de-leeted, whitespace collapsed.

    `text` may be anything: bytes are decoded as UTF-8 (invalid bytes replaced, noted); None and
    other non-text values give "" with a ``not-text:<type>`` note. Input longer than `max_chars`
    characters is cut to `max_chars` before folding, noted as ``truncated:<len>><max_chars>``.
    Leetspeak is mapped only in words of letters and leet characters ("c0575" -> "costs"), so
    phone numbers, prices, measurements ("5ft", "34dd"), emails, URLs and @handles keep their digits.
    """
    notes: list[str] = []
    if isinstance(text, bytes | bytearray):
        raw = bytes(text)
        decoded = raw.decode("utf-8", errors="replace")
        if "\ufffd" in decoded and b"\xef\xbf\xbd" not in raw:
            notes.append("invalid-utf8")
        notes.append("decoded-bytes")
        text = decoded
    elif not isinstance(text, str):
        notes.append(f"not-text:{type(text).__name__}")
        text = ""
    if len(text) > max_chars:
        notes.append(f"truncated:{len(text)}>{max_chars}")
        text = text[:max_chars]
    folded = fold_with_offsets(text).text
    result = " ".join(_LEET_CANDIDATE.sub(lambda m: _deleet_token(m.group()), folded).split())
    if not result:
        notes.append("empty")
    return NormalisedText(result, tuple(notes))
