"""Phone numbers in ad text, including the obfuscations controllers use to dodge filters.

Recognised forms (all after `fold_identifiers`, so case, emoji and fullwidth digits, accents and
look-alike letters of other scripts are already plain): digit runs with any separators, long runs
of them too ("555.123-4567", "(555) 123 4567", "555@123!4567", "555 - - - 123"); digits as words in
English, Spanish, Portuguese, French, Italian, German and Romanian, with tens, teens, hundreds and
thousands ("seis cinco cero", "noventa y ocho", "quatre-vingt-dix-huit", "achtundneunzig",
"novecientos doce"), "double"/"doble"/"doppio"/... and the homophones "for", "to", "ate", "oh", "o"
(`enrich.number_words`); digit words glued to digits ("six02", "5ONE8"); lookalikes in digit runs
("5O5", "l23", S for 5, Z for 2, Cyrillic/Greek O and I, "Ø"); a number glued to the word after it
("...5809Roses"); numbers split by a filler word ("555 12.. then 34 567", "y luego"), with or without
a country code.

Method: `enrich.digit_runs` cuts the text into digit units and chains; within each chain the
sub-chains that `phonenumbers` accepts for the ad's country become phones, valid numbers first, then
the longest. Precision guards: a number phonenumbers calls possible but not valid counts only after
a phone idiom in any supported language ("call", "llámame", "ligue", "appelle-moi", "chiamami",
"ruf an", "sună"), alone on its line, or as a placeholder; a weak unit ("for", "un", "o") or a word
that can be a unit ("in", "h", "x", a quote) at a number's edge needs a valid number; money, age
and weight words end no number; a unit right after a currency sign starts none; dates, times, page
ranges, repeated ages ("23 23 23 23"), rising round amounts (rate cards) and numbers after an
order/reference/id word ("pedido", "Kundennummer") are not phones. A number cut in two is joined:
with ellipses anywhere in the ad, or across the end of one field and the start of the next when
the joined number is valid and the ad speaks of calling (`extract_phones`).

Measured: `bench/phone_suite.py` (the obfuscation suite of tests/enrich/phone_cases, every class in
every language) and `bench/enrich_quality.py --world DIR` (a demo world's truth).
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumberFormat, ValidationResult

from enrich.contact import Contact
from enrich.digit_runs import (
    CURRENCY_BEFORE,
    MAX_DIGITS,
    MIN_DIGITS,
    STRONG_UNIT_AFTER,
    WEAK_UNIT_AFTER,
    DigitUnit,
    date_units,
    digit_chains,
    digit_units,
    has_plus,
    is_page_range,
    is_price_list,
    is_repetition,
    number_bounds,
)
from enrich.normalise import FoldedText, fold_identifiers
from enrich.number_words import NOT_PHONE_CUES, PHONE_CUES, words_pattern

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
def _parse(digits: str, plus: bool, region: str | None) -> phonenumbers.PhoneNumber | None:
    """Parse digits as a phone for `region`; the number when it is a full-length possible number, else None.

    A leading "00" is the international prefix almost everywhere, so "0044 ..." is read as "+44 ..."
    even for North American ads, whose own prefix is 011.
    """
    if not plus and digits.startswith("00"):
        plus, digits = True, digits[2:]
    try:
        number = phonenumbers.parse(("+" if plus else "") + digits, region)
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.is_possible_number_with_reason(number) != ValidationResult.IS_POSSIBLE:
        return None
    return number


@lru_cache(maxsize=65_536)
def _valid(digits: str, plus: bool, region: str | None) -> bool:
    """Whether `_parse`'s number is also valid (a real number range), asked only to settle overlaps (~35 us)."""
    number = _parse(digits, plus, region)
    return number is not None and phonenumbers.is_valid_number(number)


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
    return len(set(national)) <= 2 or len(set(national[-7:])) == 1 or _is_straight_run(national)


def _is_straight_run(digits: str) -> bool:
    return digits in "01234567890123456789" or digits in "98765432109876543210"


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
    folded: `fold_identifiers(text)` when the caller already has it.
    Spans are into `text`. Placeholder numbers are returned with `placeholder=True`. A number cut
    in two pieces marked by an ellipsis ("Call 0151 2..." ... "rest of the number: ...3456789"),
    in either order, or cut between the end of one field and the start of the next ("¶" joins
    fields, see `enrich.identifiers.extract_ad_contacts`), is one contact: `span` is the first
    piece, `tail_span` the second.
    """
    folded = folded or fold_identifiers(text)
    ftext = folded.text
    region = _region(country)
    chains = digit_chains(ftext, digit_units(ftext))
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
    # A number cut between two fields, the end of one (the title) and the start of the next (the
    # body): a weak reading, taken only when valid and when one of the two fields speaks of calling.
    for head in range(len(chains) - 1):
        tail = head + 1
        if found[head] or found[tail] or not _FIELD_BREAK.fullmatch(ftext, chains[head][-1].end, chains[tail][0].start):
            continue
        fields_start = ftext.rfind("¶", 0, chains[head][0].start) + 1
        fields_end = ftext.find("¶", chains[tail][-1].end)
        if not _CUE.search(ftext, fields_start, fields_end if fields_end >= 0 else len(ftext)):
            continue
        # The title may end in words that read as digits before the number ("Fată nouă 0766 204").
        for first in range(len(chains[head])):
            if chains[head][first].weak:
                continue
            joined = _split_phone(text, folded, chains[head][first:], chains[tail], region, valid_only=True)
            if joined is not None:
                found[head] = [joined]
                break
    return sorted((contact for contacts in found for contact in contacts), key=lambda c: c.span)


_FIELD_BREAK = re.compile(r"[^a-z0-9¶]*¶[^a-z0-9¶]*")  # fields are joined by "¶" (enrich.identifiers)
_ELLIPSIS_AFTER = re.compile(r"[\s\-/)\]]*(?:\.{2,}|…)")  # "0151 2...", "(0160) ..."
_ELLIPSIS_BEFORE = re.compile(r"(?:\.{2,}|…)[\s\-/]*$")


def _split_phone(
    text: str, folded: FoldedText, head: list[DigitUnit], tail: list[DigitUnit], region: str | None,
    valid_only: bool = False,
) -> Contact | None:
    """Head and tail digits read as one number, or None when together they are not a (valid, if asked) phone."""
    ftext = folded.text
    while len(head) > 1 and head[0].weak:  # "Chiamare il: 347 67...": "il" is no 11 at a number's edge
        head = head[1:]
    while len(tail) > 1 and tail[-1].weak:
        tail = tail[:-1]
    digits = "".join(u.digits for u in head + tail)
    plus = has_plus(ftext, head[0].start) is not None
    if not MIN_DIGITS <= len(digits) <= MAX_DIGITS or (region is None and not plus):
        return None
    number = _parse(digits, plus, region)
    if number is None or (valid_only and not _valid(digits, plus, region)):
        return None
    span = folded.source_span(*number_bounds(ftext, head[0], head[-1]))
    tail_span = folded.source_span(tail[0].start, tail[-1].end)
    value = f"{text[span[0] : span[1]]} … {text[tail_span[0] : tail_span[1]]}"
    return _phone_contact(text, span, number, value=value, tail_span=tail_span)


def _phones_in_chain(text: str, folded: FoldedText, chain: list[DigitUnit], region: str | None) -> list[Contact]:
    """Pick non-overlapping sub-chains that are phones: valid numbers first, then longest, then first."""
    ftext = folded.text
    total = sum(len(u.digits) for u in chain)
    if total < MIN_DIGITS:
        return []
    if _other_number(ftext, chain[0].start):
        return []  # "pedido 512 345 678", "Artikel-Nr. 4711...": another kind of number
    dated = date_units(ftext, chain)
    # Per-unit facts, computed once: may a number start here, what follows each unit, is it after a '+'?
    starts = [not CURRENCY_BEFORE.search(ftext, max(0, u.start - 6), u.start) for u in chain]
    strong_after = [_strong_after(ftext, u) for u in chain]
    weak_after = [bool(WEAK_UNIT_AFTER.match(ftext, u.end, u.end + 6)) for u in chain]
    pluses = [has_plus(ftext, u.start) is not None for u in chain]
    cued: bool | None = None  # computed when a possible-only number needs it
    # (i, j, number or bare digits, valid or None when not asked yet, starts or ends at a weak unit).
    candidates: list[tuple[int, int, phonenumbers.PhoneNumber | str, bool | None, bool]] = []
    last = len(chain) - 1
    i = 0
    while i <= last:
        digits = ""
        skip_to = i + 1
        for j in range(i, last + 1):
            if j in dated:
                break
            digits += chain[j].digits
            if len(digits) > MAX_DIGITS:
                break
            if len(digits) < MIN_DIGITS or not starts[i]:
                continue
            # A quantity (money, age, weight) cannot end a number; a complete valid number whose
            # last group is long may still run into a word that lost its space ("...5809Roses").
            if strong_after[j] and (strong_after[j] == "spaced" or j == i or len(chain[j].digits) < 3):
                continue
            units = chain[i : j + 1]
            if is_repetition(units) or is_price_list(units) or is_page_range(ftext, units):
                continue
            needs_validity = chain[i].weak or chain[j].weak or strong_after[j] or weak_after[j]
            if region is None and not pluses[i]:
                if len(digits) >= 8 and not needs_validity:
                    candidates.append((i, j, digits, False, False))
                continue
            if not _plausible_length(digits, pluses[i], region):
                continue
            number = _parse(digits, pluses[i], region)
            if number is None:
                continue
            # Validity costs ~35 us: a number the text announces ("call", "Tel:") needs it only to
            # settle overlaps; others must be valid (or a placeholder, which is never evidence).
            if cued is None:
                cued = _cued(ftext, chain[0].start, chain[-1].end)
            valid = _valid(digits, pluses[i], region) if needs_validity or not cued or j < last else None
            if valid is False and (
                needs_validity or not (cued or _is_placeholder_national(str(number.national_number)))
            ):
                continue
            weak_edge = chain[i].weak or chain[j].weak
            candidates.append((i, j, number, valid, weak_edge))
            # A valid number from unit i wins over anything starting inside it: skip past it
            # (not when it starts or ends at a weak unit: "il: 34 79 583..." is "34 79 583...").
            if j < last and valid and not weak_edge:
                skip_to = j + 1
        if i == 0 and candidates and candidates[-1][1] == last:
            break  # the whole chain is one phone: no need to try shorter tails
        i = skip_to
    if not candidates:
        # Dummy numbers ("000-000-0000", "123-456-7890") are often impossible numbers for the
        # ad's country, but hub detection needs them: keep their digits, flagged.
        digits = "".join(u.digits for u in chain)
        if 9 <= len(digits) <= MAX_DIGITS and (len(set(digits)) == 1 or _is_straight_run(digits)):
            candidates.append((0, last, digits, False, False))
    if len(candidates) > 1:  # overlaps are settled by validity, then strong edges, then length, then position
        candidates = [c if c[3] is not None or isinstance(c[2], str) else (*c[:3], phonenumbers.is_valid_number(c[2]), c[4])
                      for c in candidates]
        candidates.sort(key=lambda c: (not c[3], c[4], c[0] - c[1], c[0]))
    taken = [False] * len(chain)
    contacts: list[Contact] = []
    for i, j, number, _, _ in candidates:
        if any(taken[i : j + 1]):
            continue
        taken[i : j + 1] = [True] * (j - i + 1)
        contacts.append(_phone_contact(text, folded.source_span(*number_bounds(ftext, chain[i], chain[j])), number))
    contacts.sort(key=lambda c: c.span)
    return contacts


_CUE = re.compile(rf"(?<![a-z])(?:{words_pattern(sorted({c for cues in PHONE_CUES.values() for c in cues}))})(?![a-z])")
_CUE_WINDOW = 48  # folded characters before a number searched for a phone idiom
_NOT_A_PHONE = re.compile(
    rf"(?<![a-z])(?:{words_pattern(sorted({c for cues in NOT_PHONE_CUES.values() for c in cues}))})(?![a-z])"
    r"[^a-z0-9¶]{0,6}(?:n[or]?\.?|no\.|num\.?|#)?[^a-z0-9¶]{0,4}$"
)
_NOT_A_PHONE_WINDOW = 24
_ALONE_BEFORE = re.compile(r"(?:^|[\n¶])[^a-z0-9\n¶]*$")
_ALONE_AFTER = re.compile(r"[^a-z0-9\n¶]*(?:$|[\n¶])")


def _strong_after(ftext: str, unit: DigitUnit) -> str:
    """'spaced' or 'glued' when a money, age or weight word follows the unit ("491 EUR", "5809Roses"), else ''."""
    if not STRONG_UNIT_AFTER.match(ftext, unit.end, unit.end + 10):
        return ""
    return "glued" if unit.end < len(ftext) and ftext[unit.end].isalpha() else "spaced"


def _other_number(ftext: str, start: int) -> bool:
    """Whether a word right before `start` announces another kind of number (order, reference, tax id),
    and no phone idiom comes just before that word ("WhatsApp ID: ...", "Tel.-Nr.")."""
    found = _NOT_A_PHONE.search(ftext, max(0, start - _NOT_A_PHONE_WINDOW), start)
    return found is not None and not _CUE.search(ftext, max(0, found.start() - 16), found.start())


def _cued(ftext: str, start: int, end: int) -> bool:
    """Whether the text says a phone number is here: a phone idiom shortly before it in the same
    field ("llámame", "Tel:", "WhatsApp"), or the number alone on its line (a contact line, a typed query)."""
    window_start = max(0, start - _CUE_WINDOW)
    field_start = ftext.rfind("¶", window_start, start)
    if _CUE.search(ftext, field_start + 1 if field_start >= 0 else window_start, start):
        return True
    return bool(_ALONE_BEFORE.search(ftext, max(0, start - 80), start)) and bool(_ALONE_AFTER.match(ftext, end))
