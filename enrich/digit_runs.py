"""Where numbers are written in folded ad text: digit units, the chains they form, and the guards around them.

A *unit* is a run of digits (letter lookalikes allowed inside: "5O5", "l23"), a digit word or a glued
run of them ("five", "fivefive"; "double"/"triple" repeat the next digit), or a short word made only
of lookalikes ("Olll"). Units joined by separators or one filler word ("555 12.. then 34 567") form a
*chain*. Phone extraction (`enrich.phones`) looks for numbers inside chains; slot masking uses
`phone_like_spans` to blank anything that looks like a number, parsed or not. Works on
`fold_with_offsets(...).text`: lower case, emoji and fullwidth digits already plain.
"""

from __future__ import annotations

import re
from typing import NamedTuple

DIGIT_WORDS = {
    "zero": "0", "oh": "0", "nought": "0", "nil": "0",
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9", "niner": "9",
}  # fmt: skip
REPEAT_WORDS = {"double": 2, "triple": 3}
_WORD_ALTERNATIVES = "|".join(sorted(DIGIT_WORDS, key=len, reverse=True))
DIGIT_WORD_RUN = rf"(?:{_WORD_ALTERNATIVES})+"
"""Regex for one or more glued digit words ("five", "fivefive"); callers add word boundaries."""

_DIGIT_RUN = re.compile(r"[oil]*[0-9][0-9oil]*")
# Word-shaped units: digit words, "double"/"triple", and whole words of lookalikes ("Olll" in
# "2l3-862-Olll", "lO", the "l" of "+l 2l2 ..."). Two regexes are ~3x faster than one alternation.
_WORD_UNIT = re.compile(
    rf"\b(?=[zontfseidl])(?:(?P<words>{DIGIT_WORD_RUN})|(?P<repeat>double|triple)|(?P<look>[oil]{{2,4}}|(?<=\+)[oil]))\b"
)
_GLUED_WORD = re.compile(_WORD_ALTERNATIVES)
_LOOKALIKES = str.maketrans({"o": "0", "i": "1", "l": "1"})
_SEPARATORS = r"[\s.\-\u2010-\u2015/\\()\[\]{}_,:;*+~|=#]"  # no quotes: 5'6" is a height
_FILLERS = r"(?:then|and|dash|hyphen|next|after|plus|continue|cont|followed\s+by|space|dot|more)"
_JOINING_GAP = re.compile(rf"{_SEPARATORS}{{0,6}}|{_SEPARATORS}{{0,4}}{_FILLERS}{_SEPARATORS}{{1,4}}")
CURRENCY_BEFORE = re.compile(r"(?:[$£€¥₹]|\b(?:usd|eur|gbp|cad|aud|rs|r|kr|chf))\s*$")
UNIT_AFTER = re.compile(
    r"\s*(?:[$£€¥%₹'\"]|(?:usd|eur|gbp|cad|aud|dollars?|euros?|pounds?|roses?|bucks|k|yo|y/o|yrs?|years?"
    r"|hrs?|hours?|h|mins?|minutes?|cm|mm|m|km|kg|lbs?|ft|in|inches|dd|[a-h]{1,3}|am|pm|st|nd|rd|th|x)\b)"
)
_DATE_GAP = re.compile(r"^\s*[./\-]\s*$")
MIN_DIGITS, MAX_DIGITS = 7, 15
"""Digits in the shortest and longest phone numbers we look for (E.164 allows at most 15)."""
_MAX_CHAIN = 64  # units; a list of several phones fits, a page of digits is cut (keeps the search linear)


class DigitUnit(NamedTuple):
    start: int  # folded offsets, half-open
    end: int
    digits: str


def digit_units(folded: str) -> list[DigitUnit]:
    """Digit units in order; a 'double'/'triple' word is folded into the unit after it."""
    units: list[DigitUnit] = []
    repeat: tuple[int, int] | None = None  # (start offset, count) of a pending "double"/"triple"
    matches = sorted([*_DIGIT_RUN.finditer(folded), *_WORD_UNIT.finditer(folded)], key=lambda m: m.start())
    for match in matches:
        start, end = match.span()
        if match.re is _WORD_UNIT and match.group("repeat"):
            repeat = (start, REPEAT_WORDS[match.group("repeat")])
            continue
        if match.re is _WORD_UNIT and match.group("words"):
            digits = "".join(DIGIT_WORDS[w] for w in _GLUED_WORD.findall(match.group("words")))
        else:
            start, end = _trim_lookalikes(folded, start, end)
            run = folded[start:end]
            glued_before = start > 0 and folded[start - 1].isalpha()
            glued_after = end < len(folded) and folded[end].isalpha()
            # Digits inside a word are leetspeak ("k1ng", "l00k"), not a phone; a phone may touch a
            # word on one side ("call5551234567") but then it must be plain digits.
            # Short digit runs followed by letters are leet or units ("53xy", "2nite", "4ever").
            if (
                not run
                or (glued_before and glued_after)
                or ((glued_before or glued_after) and not run.isdigit())
                or (glued_after and len(run) < MIN_DIGITS)
            ):
                repeat = None
                continue
            digits = run.translate(_LOOKALIKES)
        if repeat is not None:
            gap = folded[repeat[0] : start]
            if re.fullmatch(r"\w+\s*", gap) and gap.split()[0] in REPEAT_WORDS:
                digits = digits[0] * repeat[1] + digits[1:]
                start = repeat[0]
            repeat = None
        units.append(DigitUnit(start, end, digits))
    return units


def _trim_lookalikes(folded: str, start: int, end: int) -> tuple[int, int]:
    """Drop o/i/l at the edges of a run when they belong to a neighbouring word ("hi5" -> "5")."""
    while start < end and folded[start] in "oil" and start > 0 and folded[start - 1].isalpha():
        start += 1
    while start < end and folded[end - 1] in "oil" and end < len(folded) and folded[end].isalpha():
        end -= 1
    return start, end


def digit_chains(folded: str, units: list[DigitUnit]) -> list[list[DigitUnit]]:
    """Group consecutive units joined by separators or one filler word."""
    chains: list[list[DigitUnit]] = []
    for unit in units:
        if chains and len(chains[-1]) < _MAX_CHAIN and _JOINING_GAP.fullmatch(folded, chains[-1][-1].end, unit.start):
            chains[-1].append(unit)
        else:
            chains.append([unit])
    return chains


def date_units(folded: str, chain: list[DigitUnit]) -> set[int]:
    """Indices of units that form a date ("16/11/2026", "2026-11-16") or a time ("9:30") in the chain.

    A date's separators must differ from the gaps around it: "3-12-40-7-4-9-35" is a phone
    written with dashes, not a date followed by more numbers.
    """
    gaps = [folded[a.end : b.start] for a, b in zip(chain, chain[1:])]
    dated: set[int] = set()
    for i in range(len(chain) - 1):
        if ":" in gaps[i] and len(chain[i].digits) <= 2 and len(chain[i + 1].digits) == 2:
            dated.update((i, i + 1))
        if i + 2 >= len(chain):
            continue
        inner = gaps[i]
        if not _DATE_GAP.match(inner) or gaps[i + 1] != inner:
            continue
        if (i > 0 and gaps[i - 1] == inner) or (i + 2 < len(gaps) and gaps[i + 2] == inner):
            continue
        lengths = (len(chain[i].digits), len(chain[i + 1].digits), len(chain[i + 2].digits))
        if (lengths[0] <= 2 and lengths[1] <= 2 and lengths[2] in (2, 4)) or (
            lengths[0] == 4 and lengths[1] <= 2 and lengths[2] <= 2
        ):
            dated.update((i, i + 1, i + 2))
    return dated


def has_plus(folded: str, start: int) -> int | None:
    """Offset of a '+' written just before `start` (spaces allowed), else None."""
    at = start - 1
    while at >= 0 and folded[at] == " ":
        at -= 1
    return at if at >= 0 and folded[at] == "+" else None


def number_bounds(ftext: str, first: DigitUnit, last: DigitUnit) -> tuple[int, int]:
    """Folded (start, end) of a number from its first to last unit, with a leading '+' or '(' included."""
    start = first.start
    plus_at = has_plus(ftext, start)
    if plus_at is not None:
        start = plus_at
    if start > 0 and ftext[start - 1] in "([" and ")" in ftext[start : last.start]:
        start -= 1  # "(555) 123 4567": the bracket belongs to the number
    return start, last.end


def phone_like_spans(folded: str) -> list[tuple[int, int]]:
    """Folded (start, end) of every run of 7+ digits or digit words joined by separators, parsed or not.

    What slot masking treats as "a phone goes here"; no `phonenumbers` call, so it is cheap.
    """
    spans = []
    for chain in digit_chains(folded, digit_units(folded)):
        if sum(len(u.digits) for u in chain) >= MIN_DIGITS:
            spans.append(number_bounds(folded, chain[0], chain[-1]))
    return spans
