"""Phone numbers in ad text, including the obfuscations controllers use to dodge filters.

Recognised forms (all after `fold_with_offsets`, so case, emoji digits and fullwidth digits are
already plain): digit runs with any separators ("555.123-4567", "(555) 123 4567", "555/123/4567"),
digits as words ("five five five ...", glued "fivefivefive", "double five", "triple seven", "oh"
and "zero"), letter lookalikes inside digit runs ("5O5", "l23", "I" for 1), numbers split by a
filler word ("555 12.. then 34 567"), with or without a country code.

Method: the text is cut into digit *units* (a digit run or a digit word); consecutive units joined
by separators or one filler word form a *chain*; the longest sub-chains that `phonenumbers` accepts
for the ad's country become phones. Precision guards: a unit right after a currency sign or right
before a unit word ("150$", "22yo", "5ft") cannot start or end a phone; date-shaped and
time-shaped runs are never part of a phone, and neither are heights ("5'6"); only numbers `phonenumbers` calls possible with a full national
length (not "local only") count.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

import phonenumbers
from phonenumbers import PhoneNumberFormat, ValidationResult

from enrich.contact import Contact
from enrich.normalise import FoldedText, fold_with_offsets

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
_CURRENCY_BEFORE = re.compile(r"(?:[$£€¥₹]|\b(?:usd|eur|gbp|cad|aud|rs|r|kr|chf))\s*$")
_UNIT_AFTER = re.compile(
    r"^\s*(?:[$£€¥%₹'\"]|(?:usd|eur|gbp|cad|aud|dollars?|euros?|pounds?|roses?|bucks|k|yo|y/o|yrs?|years?"
    r"|hrs?|hours?|h|mins?|minutes?|cm|mm|m|km|kg|lbs?|ft|in|inches|dd|[a-h]{1,3}|am|pm|st|nd|rd|th|x)\b)"
)
_DATE_GAP = re.compile(r"^\s*[./\-]\s*$")
_MIN_DIGITS, _MAX_DIGITS = 7, 15
_MAX_CHAIN = 64  # units; a list of several phones fits, a page of digits is cut (keeps the search linear)


class _Unit(NamedTuple):
    start: int  # folded offsets, half-open
    end: int
    digits: str


def _units(folded: str) -> list[_Unit]:
    """Digit units in order; a 'double'/'triple' word is folded into the unit after it."""
    units: list[_Unit] = []
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
                or (glued_after and len(run) < _MIN_DIGITS)
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
        units.append(_Unit(start, end, digits))
    return units


def _trim_lookalikes(folded: str, start: int, end: int) -> tuple[int, int]:
    """Drop o/i/l at the edges of a run when they belong to a neighbouring word ("hi5" -> "5")."""
    while start < end and folded[start] in "oil" and start > 0 and folded[start - 1].isalpha():
        start += 1
    while start < end and folded[end - 1] in "oil" and end < len(folded) and folded[end].isalpha():
        end -= 1
    return start, end


def _chains(folded: str, units: list[_Unit]) -> list[list[_Unit]]:
    """Group consecutive units joined by separators or one filler word."""
    chains: list[list[_Unit]] = []
    for unit in units:
        if chains and len(chains[-1]) < _MAX_CHAIN and _JOINING_GAP.fullmatch(folded, chains[-1][-1].end, unit.start):
            chains[-1].append(unit)
        else:
            chains.append([unit])
    return chains


def _date_units(folded: str, chain: list[_Unit]) -> set[int]:
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


@lru_cache(maxsize=512)
def _national_lengths(region: str) -> tuple[frozenset[int], str, str]:
    """Possible national-number lengths, national prefix and country code of a region (phonenumbers metadata)."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    lengths = frozenset(metadata.general_desc.possible_length) if metadata else frozenset()
    return lengths, (metadata.national_prefix or "") if metadata else "", str(metadata.country_code) if metadata else ""


def _plausible_length(digits: str, plus: bool, region: str) -> bool:
    """Cheap length check before `phonenumbers.parse` (which costs ~25 us): could these digits be a full number?"""
    if plus or digits.startswith("00") or digits.startswith("011"):
        return True  # international forms: let phonenumbers decide
    lengths, national_prefix, country_code = _national_lengths(region)
    if not lengths:
        return True
    n = len(digits)
    if n in lengths:
        return True
    if national_prefix and n - len(national_prefix) in lengths and digits.startswith(national_prefix):
        return True
    return n - len(country_code) in lengths and digits.startswith(country_code)


@lru_cache(maxsize=65_536)  # controllers repeat their numbers across ads; junk repeats its digits
def _parse(digits: str, plus: bool, region: str | None) -> tuple[phonenumbers.PhoneNumber, bool] | None:
    """Parse digits as a phone for `region`; return (number, is_valid) when it is a full-length possible number."""
    try:
        number = phonenumbers.parse(("+" if plus else "") + digits, region)
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.is_possible_number_with_reason(number) != ValidationResult.IS_POSSIBLE:
        return None
    return number, phonenumbers.is_valid_number(number)


def _has_plus(folded: str, start: int) -> int | None:
    """Offset of a '+' written just before `start` (spaces allowed), else None."""
    at = start - 1
    while at >= 0 and folded[at] == " ":
        at -= 1
    return at if at >= 0 and folded[at] == "+" else None


def phone_like_spans(folded: str) -> list[tuple[int, int]]:
    """Folded (start, end) of every run of 7+ digits or digit words joined by separators, parsed or not.

    What slot masking treats as "a phone goes here"; no `phonenumbers` call, so it is cheap.
    """
    spans = []
    for chain in _chains(folded, _units(folded)):
        if sum(len(u.digits) for u in chain) >= _MIN_DIGITS:
            spans.append(_number_bounds(folded, chain[0], chain[-1]))
    return spans


def _region(country: str | None) -> str | None:
    if not country:
        return None
    region = country.strip().upper()
    return region if region in phonenumbers.SUPPORTED_REGIONS else None


def is_placeholder_phone(normalised: str) -> bool:
    """True for dummy numbers: national part of one or two repeated digits, a straight run (1234567890), or ending in 0000000.

    `normalised` is a Contact.normalised phone (E.164 or bare digits). Such numbers are shared by
    unrelated ads; linking must treat them as hubs, not as identity.
    """
    national = re.sub(r"\D", "", normalised)
    if normalised.startswith("+"):
        try:
            national = str(phonenumbers.parse(normalised, None).national_number)
        except phonenumbers.NumberParseException:
            pass
    return _is_placeholder_national(national)


def _is_placeholder_national(national: str) -> bool:
    if len(set(national)) <= 2 or len(set(national[-7:])) == 1:
        return True
    return national in "01234567890123456789" or national in "98765432109876543210"


def _phone_contact(text: str, span: tuple[int, int], number: phonenumbers.PhoneNumber | str, **extra) -> Contact:
    """A phone Contact from a parsed number (or bare national digits when the region is unknown)."""
    if isinstance(number, str):
        return Contact("phone", text[span[0] : span[1]], number, span, _is_placeholder_national(number), **extra)
    normalised = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    placeholder = _is_placeholder_national(str(number.national_number))
    return Contact("phone", extra.pop("value", text[span[0] : span[1]]), normalised, span, placeholder, **extra)


def extract_phones(text: str, country: str | None, folded: FoldedText | None = None) -> list[Contact]:
    """Phone contacts in `text` (see the module docstring for the forms), in text order.

    country: ISO 3166 alpha-2 region of the ad ('US', 'GB'); numbers without a country code are
        read as national numbers of that region. Unknown or None: only numbers written with '+'
        get E.164; others are kept as national digits.
    folded: `fold_with_offsets(text)` when the caller already has it.
    Spans are into `text`. Placeholder numbers are returned with `placeholder=True`. A number cut
    in two pieces marked by an ellipsis ("Call 0151 2..." ... "rest of the number: ...3456789"),
    in either order, is one contact: `span` is the first piece, `tail_span` the second.
    """
    folded = folded or fold_with_offsets(text)
    ftext = folded.text
    region = _region(country)
    chains = _chains(ftext, _units(ftext))
    found = [_phones_in_chain(text, folded, chain, region) for chain in chains]
    tails = [k for k, chain in enumerate(chains) if _ELLIPSIS_BEFORE.search(ftext, max(0, chain[0].start - 6), chain[0].start)]
    for head, chain in enumerate(chains):
        if found[head] or not _ELLIPSIS_AFTER.match(ftext, chain[-1].end):
            continue
        # The rest usually follows; when the contact line comes after the body it precedes.
        ordered = [t for t in tails if t > head] + [t for t in reversed(tails) if t < head]
        for tail in ordered:
            joined = _split_phone(text, folded, chain, chains[tail], region)
            if joined is not None:
                found[head], found[tail] = [joined], []
                tails.remove(tail)
                break
    return sorted((contact for contacts in found for contact in contacts), key=lambda c: c.span)


_ELLIPSIS_AFTER = re.compile(r"[\s\-/]*(?:\.{2,}|…)")
_ELLIPSIS_BEFORE = re.compile(r"(?:\.{2,}|…)[\s\-/]*$")


def _split_phone(
    text: str, folded: FoldedText, head: list[_Unit], tail: list[_Unit], region: str | None
) -> Contact | None:
    """Head and tail digits read as one number, or None when together they are not a phone."""
    ftext = folded.text
    digits = "".join(u.digits for u in head + tail)
    plus = _has_plus(ftext, head[0].start) is not None
    if not _MIN_DIGITS <= len(digits) <= _MAX_DIGITS or (region is None and not plus):
        return None
    parsed = _parse(digits, plus, region)
    if parsed is None:
        return None
    span = folded.source_span(*_number_bounds(ftext, head[0], head[-1]))
    tail_span = folded.source_span(tail[0].start, tail[-1].end)
    value = f"{text[span[0] : span[1]]} … {text[tail_span[0] : tail_span[1]]}"
    return _phone_contact(text, span, parsed[0], value=value, tail_span=tail_span)


def _number_bounds(ftext: str, first: _Unit, last: _Unit) -> tuple[int, int]:
    """Folded (start, end) of a number from its first to last unit, with a leading '+' or '(' included."""
    start = first.start
    plus_at = _has_plus(ftext, start)
    if plus_at is not None:
        start = plus_at
    if start > 0 and ftext[start - 1] in "([" and ")" in ftext[start : last.start]:
        start -= 1  # "(555) 123 4567": the bracket belongs to the number
    return start, last.end


def _phones_in_chain(text: str, folded: FoldedText, chain: list[_Unit], region: str | None) -> list[Contact]:
    """Pick non-overlapping sub-chains that parse as phones: valid numbers first, then longest."""
    ftext = folded.text
    total = sum(len(u.digits) for u in chain)
    if total < _MIN_DIGITS:
        return []
    dated = _date_units(ftext, chain)
    # Per-unit facts, computed once: may a number start / end at this unit, and is it after a '+'?
    starts = [not _CURRENCY_BEFORE.search(ftext, max(0, u.start - 6), u.start) for u in chain]
    ends = [not _UNIT_AFTER.match(ftext, u.end, u.end + 8) for u in chain]
    pluses = [_has_plus(ftext, u.start) is not None for u in chain]
    candidates: list[tuple[bool, int, int, int, phonenumbers.PhoneNumber | str]] = []
    i = 0
    while i < len(chain):
        digits = ""
        best_valid_end = -1
        for j in range(i, len(chain)):
            if j in dated:
                break
            digits += chain[j].digits
            if len(digits) > _MAX_DIGITS:
                break
            if len(digits) < _MIN_DIGITS or not starts[i] or not ends[j]:
                continue
            if region is None and not pluses[i]:
                if len(digits) >= 8:
                    candidates.append((False, j - i + 1, i, j, digits))
                continue
            if not _plausible_length(digits, pluses[i], region):
                continue
            parsed = _parse(digits, pluses[i], region)
            if parsed is not None:
                candidates.append((parsed[1], j - i + 1, i, j, parsed[0]))
                if parsed[1]:
                    best_valid_end = j
        if i == 0 and candidates and candidates[-1][3] == len(chain) - 1:
            break  # the whole chain is one phone: no need to try shorter tails
        # A valid number from unit i wins over anything starting inside it: skip past it.
        i = best_valid_end + 1 if best_valid_end >= i else i + 1
    if not candidates:
        # Dummy numbers ("000-000-0000", "123-456-7890") are often impossible numbers for the
        # ad's country, but hub detection needs them: keep their digits, flagged.
        digits = "".join(u.digits for u in chain)
        if len(digits) <= _MAX_DIGITS and _is_placeholder_national(digits):
            candidates.append((False, len(chain), 0, len(chain) - 1, digits))
    candidates.sort(key=lambda c: (not c[0], -c[1], c[2]))
    taken = [False] * len(chain)
    contacts: list[Contact] = []
    for _, _, i, j, number in candidates:
        if any(taken[i : j + 1]):
            continue
        taken[i : j + 1] = [True] * (j - i + 1)
        contacts.append(_phone_contact(text, folded.source_span(*_number_bounds(ftext, chain[i], chain[j])), number))
    contacts.sort(key=lambda c: c.span)
    return contacts
