"""Where numbers are written in folded ad text: digit units, the chains they form, and the guards around them.

A *unit* is one of:
* a run of digits, letter lookalikes allowed inside ("5O5", "l23", "6S5" with S for 5, "2Z4" with Z for 2);
* a token of number words in any language of `enrich.number_words`, glued or not, digits allowed
  in it ("five", "fivefive", "seiscincocero", "noventa y ocho", "quatre-vingt-dix-huit", "six02",
  "5one8", "088two"); hundreds and thousands add up ("novecientos doce" = 912, "two thousand" = 2000);
  "double"/"triple" (and "doble", "doppio", ...) repeat the next digit;
* a *weak* unit: a homophone or a number word that is also an ordinary word ("for", "to", "ate",
  "oh", a lone "o", "un", "sei"), or a short word of lookalikes ("Olll", "lO"). A weak unit is a
  digit only inside a number, never at its edges (`enrich.phones`).
Units joined by separators (any run of up to 16) or by one filler word in any language ("then",
"luego", "puis", "dann", ...) form a *chain*. Phone extraction looks for numbers inside chains;
slot masking uses `phone_like_spans` to blank anything that looks like a number, parsed or not.
Works on folded text (`fold_with_offsets` or `fold_identifiers`): lower case, emoji digits plain.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from enrich.number_words import (
    CONNECTORS,
    FILLERS,
    LANGUAGES,
    REPEAT_WORDS,
    number_forms,
    split_glued,
    trie_pattern,
    words_pattern,
)
from enrich.normalise import deleet
from enrich.word_frequency import is_common

_ORDINARY_MIN_ZIPF = 3.0  # wordfreq Zipf: once per million words


class _Lexicon(NamedTuple):
    values: dict[str, int]  # number form without spaces -> value
    weak_keys: frozenset[str]  # weak forms without spaces
    word_token: re.Pattern[str]  # a token of number forms and digits (pure digits are left to _DIGIT_RUN)


@lru_cache(maxsize=1)
def _lexicon() -> _Lexicon:
    """Built on first use (~0.5 s: num2words, wordfreq, a regex of ~900 forms), so importing stays cheap."""
    values, strong, weak = number_forms()
    # Weak forms count inside a glued token that has a digit or another number word ("7oh2", "1dos3").
    token = re.compile(rf"(?<![a-z0-9])(?:{trie_pattern(sorted(strong | weak))}|[0-9])+(?![a-z0-9])")
    return _Lexicon(values, frozenset(w.replace(" ", "") for w in weak), token)

# "double"/"triple" and their kin, and short words made only of lookalikes ("Olll", "lO", the "l" of "+l 2l2").
_REPEAT_OR_LOOK = re.compile(
    rf"(?<![a-z0-9])(?=[dtoil])(?:(?P<repeat>{words_pattern(REPEAT_WORDS)})|(?P<look>[oil]{{2,4}}|(?<=\+)[oil]))(?![a-z0-9])"
)
# Starts at a digit so `re` can skip to digits; lookalikes before the first digit are added in _raw_units.
_DIGIT_RUN = re.compile(r"[0-9][0-9oilsz]*")
_PLURAL = re.compile(r"0s$")  # "90s", "1990s", "20s": a decade or an age group, not a 5
_LOOKALIKES = str.maketrans({"o": "0", "i": "1", "l": "1", "s": "5", "z": "2"})
_SEPARATOR_CHARS = r"\s.\-\u2010-\u2015/\\()\[\]{}_,:;*+~|=#@!?'\u2022\u00b7"
_SEPARATORS = f"[{_SEPARATOR_CHARS}]"
_ALL_FILLERS = sorted({f for fillers in FILLERS.values() for f in fillers})
_JOINING_GAP = re.compile(rf"{_SEPARATORS}{{0,16}}|{_SEPARATORS}{{0,8}}(?:{words_pattern(_ALL_FILLERS)}){_SEPARATORS}{{1,8}}")
# Between two number words that add up ("novecientos doce", "cento e vinte", "quatre-vingt"): a
# space, a hyphen or a connector; " - " or " / " separate groups ("trescientos - siete uno tres").
_COMPOSING_GAP = re.compile(
    rf"-| {{1,2}}(?:(?:{words_pattern(sorted({c for cs in CONNECTORS.values() for c in cs}))}) {{1,2}})?"
)
_HEIGHT_GAP = re.compile(r"\s*'\s*")

CURRENCY_BEFORE = re.compile(r"(?:[$£€¥₹]|\b(?:usd|eur|gbp|cad|aud|rs|r|kr|chf|lei|ron|brl|mxn))\s*$")
# After a unit, words that make it a quantity. Strong ones (money, age, weight, length) hold for
# any number; weak ones ("in", "h", "x", cup sizes, ordinals, quotes, "am") only make a number
# that phonenumbers does not call valid a quantity: "call 5552014567 in the evening" is a phone.
STRONG_UNIT_AFTER = re.compile(
    r"\s*(?:[$£€¥₹%](?!\s*\d)|(?:usd|eur|gbp|cad|aud|dollars?|euros?|pounds?|roses?|bucks|lei|ron|reais|brl"
    r"|yo|y/o|yrs?|years?|anos|ans|anni|jahre|ani|kg|kgs|lbs?|cm|mm|km|ft|inches|mins?|minutes?|minutos|hrs?|hours?|horas?)\b)"
)
WEAK_UNIT_AFTER = re.compile(
    r"\s*(?:['\"]|(?:k|h|hh|m|in|dd|[a-h]{1,3}|am|pm|st|nd|rd|th|x|er|re|e|eme|ieme|o|a|lea|te|ten)\b)"
)
_DATE_GAP = re.compile(r"^\s*[./\-]\s*$")
_RATE_STEP = 5  # a rate card's next amount is at most this many times the one before
_PAGE_CUE = re.compile(r"(?:\b(?:pp?|pages?|pag|pags|paginas?|pagini|seiten?|s)\.?\s*)$")
MIN_DIGITS, MAX_DIGITS = 7, 15
"""Digits in the shortest and longest phone numbers we look for (E.164 allows at most 15)."""
_MAX_CHAIN = 64  # units; a list of several phones fits, a page of digits is cut (keeps the search linear)


class DigitUnit(NamedTuple):
    start: int  # folded offsets, half-open
    end: int
    digits: str
    weak: bool = False  # a word that is a digit only inside a number ("for", "o", "un")


def digit_units(folded: str) -> list[DigitUnit]:
    """Digit units in order; a 'double'/'triple' word is folded into the unit after it."""
    units: list[DigitUnit] = []
    last_pieces: list[int | str] | None = None  # values of the last unit when it was words that may add up
    repeat: tuple[int, int] | None = None  # (start offset, count) of a pending "double"/"triple"
    for start, end, kind, payload in _raw_units(folded):
        if kind == "repeat":
            repeat, last_pieces = (start, payload), None
            continue
        if kind == "weak-word" and last_pieces is not None:
            kind = "word"  # after "novecientos", "doce" is twelve, whatever it means in Portuguese
        if kind == "word":
            if last_pieces is not None and _COMPOSING_GAP.fullmatch(folded, units[-1].end, start):
                combined = last_pieces + payload
                if len(_compose_values(combined)) == 1:  # "novecientos" + "doce" = 912
                    units[-1] = DigitUnit(units[-1].start, end, _compose(combined))
                    last_pieces = combined
                    continue
            unit, last_pieces = DigitUnit(start, end, _compose(payload)), payload
        elif kind == "weak-word":
            unit, last_pieces = DigitUnit(start, end, _compose(payload), True), None
        else:
            unit, last_pieces = DigitUnit(start, end, payload, kind == "weak"), None
        if repeat is not None:
            if re.fullmatch(r"[a-z]+[ \-]*", folded[repeat[0] : start]):
                unit = DigitUnit(repeat[0], unit.end, unit.digits[0] * repeat[1] + unit.digits[1:])
                last_pieces = None
            repeat = None
        units.append(unit)
    return units


def _raw_units(folded: str) -> list[tuple[int, int, str, object]]:
    """(start, end, kind, payload) in text order: 'word' and 'weak-word' (piece values), 'repeat' (count), 'weak' and 'run' (digits)."""
    lexicon = _lexicon()
    words = []
    weak = []
    for start, end in _word_tokens(folded, lexicon.word_token):
        token = folded[start:end]
        if token.isdigit():
            continue  # digits alone are a run
        key = token.replace(" ", "").replace("-", "")
        if key in lexicon.weak_keys:
            weak.append((start, end, "weak-word", [lexicon.values[key]]))
        elif (pieces := _pieces(key)) is not None and not _is_ordinary_word(key, pieces):
            words.append((start, end, "word", pieces))
    items = words + weak
    words = sorted(words + weak, key=lambda item: item[0])  # disjoint spans, for _inside
    for match in _REPEAT_OR_LOOK.finditer(folded):
        if _inside(match.start(), words):
            continue
        if match.group("repeat"):
            items.append((match.start(), match.end(), "repeat", REPEAT_WORDS[match.group("repeat")]))
        else:
            items.append((match.start(), match.end(), "weak", match.group("look").translate(_LOOKALIKES)))
    for match in _DIGIT_RUN.finditer(folded):
        if _inside(match.start(), words):
            continue
        start, end = match.span()
        while start > 0 and folded[start - 1] in "oilsz":
            start -= 1
        start, end = _trim_lookalikes(folded, start, end)
        if _PLURAL.search(folded, start, end):
            end -= 1
        run = folded[start:end]
        glued_before = start > 0 and folded[start - 1].isalpha()
        glued_after = end < len(folded) and folded[end].isalpha()
        # Digits inside a word are leetspeak ("k1ng", "l00k"), not a phone; a phone may touch a
        # word on one side ("call5552014567", "...0917CALL") but then it must be plain digits, and
        # at least three of them before a word ("53xy", "2nite", "4ever" are leet or units).
        if (
            not run
            or (glued_before and glued_after)
            or ((glued_before or glued_after) and not run.isdigit())
            or (glued_after and len(run) < 3)
            or ((glued_before or glued_after) and _is_leet_word(folded, start, end))
        ):
            continue
        items.append((start, end, "run", run.translate(_LOOKALIKES)))
    items.sort(key=lambda item: item[0])
    return items


def _word_tokens(folded: str, pattern: re.Pattern[str]) -> list[tuple[int, int]]:
    """Spans of number-word tokens; a spaced form between hyphenated ones is cut at its spaces.

    Who writes "trois-cent-vingt quatre-trois-huit" hyphenates inside a group and spaces between
    groups: there "vingt quatre" is 20 | 4, not 24.
    """
    spans: list[tuple[int, int]] = []
    done = 0  # text before this offset is tokenised (a re-read may run past a match of finditer)
    for match in pattern.finditer(folded):
        if match.start() < done:
            continue
        while match is not None:
            start, end = match.span()
            if " " in match.group() and ((start > 0 and folded[start - 1] == "-") or folded.startswith("-", end)):
                # Keep the first word; read again from the next, so "quarante quatre-vingt-deux" is 40 | 82.
                cut = start + match.group().index(" ")
                spans.append((start, cut))
                match = pattern.search(folded, cut + 1)
                done = cut + 1
            else:
                spans.append((start, end))
                done, match = end, None
    return spans


def _is_leet_word(folded: str, start: int, end: int) -> bool:
    """Whether the word a digit run is glued to reads, digits as letters, as a common word ("h057355" is "hostess")."""
    while start > 0 and folded[start - 1].isalnum():
        start -= 1
    while end < len(folded) and folded[end].isalnum():
        end += 1
    word = deleet(folded[start:end])
    return word.isalpha() and is_common(word, LANGUAGES, _ORDINARY_MIN_ZIPF)


def _inside(position: int, words: list[tuple]) -> bool:
    """Whether `position` falls inside one of the (sorted, disjoint) word-token spans."""
    lo, hi = 0, len(words)
    while lo < hi:
        mid = (lo + hi) // 2
        if words[mid][1] <= position:
            lo = mid + 1
        else:
            hi = mid
    return lo < len(words) and words[lo][0] <= position


def _pieces(key: str) -> list[int | str] | None:
    """Values of the number forms and digit runs a word token (without spaces and hyphens) is made of, in order."""
    values = _lexicon().values
    value = values.get(key)
    if value is not None:
        return [value]
    parts = split_glued(key)
    if parts is None:
        return None
    return [part if part.isdigit() else values[part] for part in parts]


def _is_ordinary_word(key: str, pieces: list[int | str]) -> bool:
    """A glued run of number forms that is itself a common word is that word: German "seiten"
    (pages) is not "sei"+"ten", Italian "ottone" (brass) not "otto"+"one"."""
    return len(pieces) > 1 and key.isalpha() and is_common(key, LANGUAGES, _ORDINARY_MIN_ZIPF)


def _compose_values(pieces: list[int | str]) -> list[int | str]:
    """Add values that form one number ("novecientos"+"doce" -> 912, "dos mil"+"cinco" -> 2005); digits stay."""
    out: list[int | str] = []
    room = 0  # what the last value still has room for: 1000 after "2000", 100 after "900", 0 otherwise
    for piece in pieces:
        if isinstance(piece, str) and len(piece) == 1 and out and isinstance(out[-1], int) and _is_tens(out[-1]):
            out[-1] += int(piece)  # "trente4" is 34, "twenty5" 25
            room = 0
            continue
        if isinstance(piece, int) and out and isinstance(out[-1], int) and piece < room:
            out[-1] += piece
            room = 100 if piece >= 100 else 0  # "dos mil novecientos" still takes "doce"
            continue
        out.append(piece)
        room = 0
        if isinstance(piece, int) and piece >= 100:
            room = 1000 if piece % 1000 == 0 else (100 if piece % 100 == 0 else 0)
    return out


def _is_tens(value: int) -> bool:
    return 20 <= value <= 90 and value % 10 == 0


def _compose(pieces: list[int | str]) -> str:
    return "".join(str(p) for p in _compose_values(pieces))


def _trim_lookalikes(folded: str, start: int, end: int) -> tuple[int, int]:
    """Drop o/i/l/s/z at the edges of a run when they belong to a neighbouring word ("hi5" -> "5")."""
    while start < end and folded[start] in "oilsz" and start > 0 and folded[start - 1].isalpha():
        start += 1
    while start < end and folded[end - 1] in "oilsz" and end < len(folded) and folded[end].isalpha():
        end -= 1
    return start, end


def digit_chains(folded: str, units: list[DigitUnit]) -> list[list[DigitUnit]]:
    """Group consecutive units joined by separators or one filler word."""
    chains: list[list[DigitUnit]] = []
    for unit in units:
        if chains and len(chains[-1]) < _MAX_CHAIN and _joined(folded, chains[-1][-1], unit):
            chains[-1].append(unit)
        else:
            chains.append([unit])
    return chains


def _joined(folded: str, before: DigitUnit, after: DigitUnit) -> bool:
    if not _JOINING_GAP.fullmatch(folded, before.end, after.start):
        return False
    # 5'6 is a height: a quote joins digits only when it is no feet-and-inches mark.
    return not (
        len(before.digits) == 1 and len(after.digits) <= 2 and _HEIGHT_GAP.fullmatch(folded, before.end, after.start)
    )


def date_units(folded: str, chain: list[DigitUnit]) -> set[int]:
    """Indices of units that form a date ("16/11/2026", "2026-11-16", "12 sept 2024") or a time ("9:30") in the chain.

    A date's separators must differ from the gaps around it: "3-12-40-7-4-9-35" is a phone
    written with dashes, not a date followed by more numbers.
    """
    gaps = [folded[a.end : b.start] for a, b in zip(chain, chain[1:])]
    written = [folded[u.start : u.end].isdigit() for u in chain]  # dates are written in digits, not words
    dated: set[int] = set()
    for i in range(len(chain) - 1):
        hour, minute = chain[i].digits, chain[i + 1].digits
        if (
            ":" in gaps[i] and written[i] and written[i + 1]
            and len(hour) <= 2 and len(minute) == 2 and int(hour) <= 24 and int(minute) <= 59
        ):
            dated.update((i, i + 1))
        if i + 2 >= len(chain):
            continue
        lengths = (len(chain[i].digits), len(chain[i + 1].digits), len(chain[i + 2].digits))
        # French "sept" is 7 and also September: between a day and a year it is the month.
        if (
            folded[chain[i + 1].start : chain[i + 1].end] == "sept"
            and written[i]
            and written[i + 2]
            and lengths[0] <= 2
            and lengths[2] in (2, 4)
        ):
            dated.update((i, i + 1, i + 2))
            continue
        inner = gaps[i]
        if not all(written[i : i + 3]) or not _DATE_GAP.match(inner) or gaps[i + 1] != inner:
            continue
        # A group glued to the triple by a separator without a space belongs to it: "0470/17.12.92" is a phone.
        if (i > 0 and _tight(gaps[i - 1])) or (i + 2 < len(gaps) and _tight(gaps[i + 2])):
            continue
        if (i > 0 and gaps[i - 1] == inner) or (i + 2 < len(gaps) and gaps[i + 2] == inner):
            continue
        values = [int(u.digits) for u in chain[i : i + 3]]
        if (lengths[0] <= 2 and lengths[1] <= 2 and lengths[2] in (2, 4) and _day_month(values[0], values[1])) or (
            lengths[0] == 4 and lengths[1] <= 2 and lengths[2] <= 2 and _day_month(values[2], values[1])
        ):
            dated.update((i, i + 1, i + 2))
    return dated


def _tight(gap: str) -> bool:
    """A separator written without whitespace ("/" in "0470/17")."""
    return bool(gap) and not any(c.isspace() for c in gap)


def _day_month(a: int, b: int) -> bool:
    """Whether two numbers can be a day and a month in either order ("16/11", "11/16"; "85.62" cannot)."""
    return (1 <= a <= 31 and 1 <= b <= 12) or (1 <= b <= 31 and 1 <= a <= 12)


def is_repetition(units: list[DigitUnit]) -> bool:
    """Three or more copies of one short number ("23 23 23 23": an age repeated for search engines).

    A run of one digit ("000 000 000") is a placeholder phone, not a repetition.
    """
    first = units[0].digits
    return len(units) >= 3 and len(first) <= 3 and len(set(first)) > 1 and all(u.digits == first for u in units)


def is_price_list(units: list[DigitUnit]) -> bool:
    """Three or more round amounts rising in modest steps ("100 150 200 250", "50 75 100", "150 300 1000"): a rate card.

    Round: a multiple of ten, or of five below a hundred; a step: at most five times the amount
    before. "415 705 1110" (not round) and "320 340 7450" (a leap) are phones.
    """
    if len(units) < 3:
        return False
    values = [u.digits for u in units]
    if not all(2 <= len(v) <= 4 and v[0] != "0" and (v[-1] == "0" or (len(v) == 2 and v[-1] == "5")) for v in values):
        return False
    numbers = [int(v) for v in values]
    return all(a < b <= a * _RATE_STEP for a, b in zip(numbers, numbers[1:]))


def is_page_range(folded: str, units: list[DigitUnit]) -> bool:
    """Two numbers of one length in rising order after a page word ("pp. 1203-1250", "págs 12-45", "S. 120-135")."""
    if len(units) != 2 or len(units[0].digits) != len(units[1].digits):
        return False
    if int(units[0].digits) >= int(units[1].digits):
        return False
    return bool(_PAGE_CUE.search(folded, max(0, units[0].start - 12), units[0].start))


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

    What slot masking treats as "a phone goes here"; no `phonenumbers` call, so it is cheap. Weak
    units ("for", "to", "un") at a run's edges are not part of it.
    """
    spans = []
    for chain in digit_chains(folded, digit_units(folded)):
        while chain and chain[0].weak:
            chain = chain[1:]
        while chain and chain[-1].weak:
            chain = chain[:-1]
        if chain and sum(len(u.digits) for u in chain) >= MIN_DIGITS:
            spans.append(number_bounds(folded, chain[0], chain[-1]))
    return spans


def is_number_token(word: str) -> bool:
    """Whether a folded word is a number: digits with lookalikes, number words in any supported language, or both glued."""
    if _DIGIT_RUN.fullmatch(word.lstrip("oilsz")) or _REPEAT_OR_LOOK.fullmatch(word):
        return True
    return _lexicon().word_token.fullmatch(word) is not None and _pieces(word.replace("-", "")) is not None
