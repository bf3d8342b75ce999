"""Phone numbers written out in words, the way people type them in each language (family worlds).

Spellings are written here by hand, not produced by num2words or text2num, so a test of the extractor
(which may use those libraries) stays independent of them. Three styles:

  words  digit by digit: "seis uno dos ...", Brazilian "meia" for six, German "zwo", English "oh" and "double"
  pairs  each printed group as a number: French "zéro six, douze, trente-quatre" (Belgian septante/nonante,
         Swiss huitante), Spanish "seiscientos doce, treinta y cuatro", Italian "seicentododici"
  mixed  some groups in words, the others left as digits

and the variants people produce: accents dropped or umlauts spelled out, Romanian ș typed as ş or s,
hyphens or spaces inside compounds, commas or dashes between groups, now and then in capitals.
"""

from __future__ import annotations

import random
import re
import unicodedata

WORD_STYLES = ("words", "pairs", "mixed")


# --- per language: digits (variants per digit) and numbers 10..999 in their standard written form -----------

_DIGITS = {
    "en": (("zero", "oh"), ("one",), ("two",), ("three",), ("four",), ("five",), ("six",), ("seven",), ("eight",),
           ("nine",)),
    "es": (("cero",), ("uno",), ("dos",), ("tres",), ("cuatro",), ("cinco",), ("seis",), ("siete",), ("ocho",),
           ("nueve",)),
    "pt": (("zero",), ("um",), ("dois",), ("três",), ("quatro",), ("cinco",), ("seis",), ("sete",), ("oito",),
           ("nove",)),
    "fr": (("zéro",), ("un",), ("deux",), ("trois",), ("quatre",), ("cinq",), ("six",), ("sept",), ("huit",),
           ("neuf",)),
    "it": (("zero",), ("uno",), ("due",), ("tre",), ("quattro",), ("cinque",), ("sei",), ("sette",), ("otto",),
           ("nove",)),
    "de": (("null",), ("eins",), ("zwei", "zwo"), ("drei",), ("vier",), ("fünf",), ("sechs",), ("sieben",),
           ("acht",), ("neun",)),
    "ro": (("zero",), ("unu",), ("doi",), ("trei",), ("patru",), ("cinci",), ("șase",), ("șapte",), ("opt",),
           ("nouă",)),
}

_EN_TEENS = ("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
             "nineteen")
_EN_TENS = {2: "twenty", 3: "thirty", 4: "forty", 5: "fifty", 6: "sixty", 7: "seventy", 8: "eighty", 9: "ninety"}


def _en(n: int, country: str) -> str:
    if n >= 100:
        rest = n % 100
        return f"{_DIGITS['en'][n // 100][0]} hundred" + (f" {_en(rest, country)}" if rest else "")
    if n < 10:
        return _DIGITS["en"][n][0]
    if n < 20:
        return _EN_TEENS[n - 10]
    return _EN_TENS[n // 10] + (f"-{_DIGITS['en'][n % 10][0]}" if n % 10 else "")


def _spoken(n: int, small: tuple[str, ...], tens: dict[int, str], hundreds: dict[int, str], unit_joiner: str,
            hundred_joiner: str, exact_hundred: str) -> str:
    """The shape Spanish, Portuguese and Romanian share: hundreds, then tens joined to units by a word."""
    if n == 100:
        return exact_hundred
    if n > 100:
        rest = n % 100
        tail = _spoken(rest, small, tens, hundreds, unit_joiner, hundred_joiner, exact_hundred) if rest else ""
        return hundreds[n // 100] + (f"{hundred_joiner}{tail}" if rest else "")
    if n < len(small):
        return small[n]
    return tens[n // 10] + (f"{unit_joiner}{small[n % 10]}" if n % 10 else "")


_ES_SMALL = ("cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve", "diez", "once",
             "doce", "trece", "catorce", "quince", "dieciséis", "diecisiete", "dieciocho", "diecinueve", "veinte",
             "veintiuno", "veintidós", "veintitrés", "veinticuatro", "veinticinco", "veintiséis", "veintisiete",
             "veintiocho", "veintinueve")
_ES_TENS = {3: "treinta", 4: "cuarenta", 5: "cincuenta", 6: "sesenta", 7: "setenta", 8: "ochenta", 9: "noventa"}
_ES_HUNDREDS = {1: "ciento", 2: "doscientos", 3: "trescientos", 4: "cuatrocientos", 5: "quinientos",
                6: "seiscientos", 7: "setecientos", 8: "ochocientos", 9: "novecientos"}


def _es(n: int, country: str) -> str:
    return _spoken(n, _ES_SMALL, _ES_TENS, _ES_HUNDREDS, " y ", " ", "cien")


_PT_SMALL = ("zero", "um", "dois", "três", "quatro", "cinco", "seis", "sete", "oito", "nove", "dez", "onze", "doze",
             "treze", "catorze", "quinze", "dezasseis", "dezassete", "dezoito", "dezanove")
# Brazil spells these teens its own way
_PT_BR_SMALL = _PT_SMALL[:14] + ("quatorze", "quinze", "dezesseis", "dezessete", "dezoito", "dezenove")
_PT_TENS = {2: "vinte", 3: "trinta", 4: "quarenta", 5: "cinquenta", 6: "sessenta", 7: "setenta", 8: "oitenta",
            9: "noventa"}
_PT_HUNDREDS = {1: "cento", 2: "duzentos", 3: "trezentos", 4: "quatrocentos", 5: "quinhentos", 6: "seiscentos",
                7: "setecentos", 8: "oitocentos", 9: "novecentos"}


def _pt(n: int, country: str) -> str:
    return _spoken(n, _PT_BR_SMALL if country == "BR" else _PT_SMALL, _PT_TENS, _PT_HUNDREDS, " e ", " e ", "cem")


_FR_SMALL = ("zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix", "onze", "douze",
             "treize", "quatorze", "quinze", "seize", "dix-sept", "dix-huit", "dix-neuf")
_FR_TENS = {2: "vingt", 3: "trente", 4: "quarante", 5: "cinquante", 6: "soixante"}


def _fr(n: int, country: str) -> str:
    if n >= 100:
        hundreds, rest = divmod(n, 100)
        head = "cent" if hundreds == 1 else f"{_FR_SMALL[hundreds]} cent" + ("s" if not rest else "")
        return head + (f" {_fr(rest, country)}" if rest else "")
    if n < 20:
        return _FR_SMALL[n]
    tens, unit = divmod(n, 10)
    swiss_or_belgian = country in ("BE", "CH")
    if tens == 7 and swiss_or_belgian:
        return "septante" + ("" if not unit else " et un" if unit == 1 else f"-{_FR_SMALL[unit]}")
    if tens == 9 and swiss_or_belgian:
        return "nonante" + ("" if not unit else " et un" if unit == 1 else f"-{_FR_SMALL[unit]}")
    if tens == 8 and country == "CH":
        return "huitante" + ("" if not unit else " et un" if unit == 1 else f"-{_FR_SMALL[unit]}")
    if tens in (7, 9):  # soixante-dix, quatre-vingt-dix: the teens ride on sixty and eighty
        base = "soixante" if tens == 7 else "quatre-vingt"
        teen = 10 + unit
        return base + (" et onze" if tens == 7 and unit == 1 else f"-{_FR_SMALL[teen]}")
    if tens == 8:
        return "quatre-vingts" if not unit else f"quatre-vingt-{_FR_SMALL[unit]}"
    return _FR_TENS[tens] + ("" if not unit else " et un" if unit == 1 else f"-{_FR_SMALL[unit]}")


_IT_SMALL = ("zero", "uno", "due", "tre", "quattro", "cinque", "sei", "sette", "otto", "nove", "dieci", "undici",
             "dodici", "tredici", "quattordici", "quindici", "sedici", "diciassette", "diciotto", "diciannove")
_IT_TENS = {2: "venti", 3: "trenta", 4: "quaranta", 5: "cinquanta", 6: "sessanta", 7: "settanta", 8: "ottanta",
            9: "novanta"}


def _it(n: int, country: str, joined: bool = True) -> str:
    if n >= 100:
        hundreds, rest = divmod(n, 100)
        head = "cento" if hundreds == 1 else _IT_SMALL[hundreds] + "cento"
        if not rest:
            return head
        tail = _it(rest, country)
        if not joined:  # people often break the long compound: "seicento dodici"
            return f"{head} {tail}"
        return (head[:-1] if tail.startswith("o") else head) + tail  # centotto, seicentottanta
    if n < 20:
        return _IT_SMALL[n]
    tens, unit = divmod(n, 10)
    word = _IT_TENS[tens]
    if unit in (1, 8):  # ventuno, trentotto: the vowel drops
        word = word[:-1]
    return word + ("" if not unit else "tré" if unit == 3 else _IT_SMALL[unit])


_DE_SMALL = ("null", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun", "zehn", "elf", "zwölf",
             "dreizehn", "vierzehn", "fünfzehn", "sechzehn", "siebzehn", "achtzehn", "neunzehn")
_DE_TENS = {2: "zwanzig", 3: "dreißig", 4: "vierzig", 5: "fünfzig", 6: "sechzig", 7: "siebzig", 8: "achtzig",
            9: "neunzig"}


def _de(n: int, country: str) -> str:
    if n >= 100:
        hundreds, rest = divmod(n, 100)
        head = ("ein" if hundreds == 1 else _DE_SMALL[hundreds]) + "hundert"
        return head + (_de(rest, country) if rest else "")
    if n < 20:
        return _DE_SMALL[n]
    tens, unit = divmod(n, 10)
    if not unit:
        return _DE_TENS[tens]
    return ("ein" if unit == 1 else _DE_SMALL[unit]) + "und" + _DE_TENS[tens]


_RO_SMALL = ("zero", "unu", "doi", "trei", "patru", "cinci", "șase", "șapte", "opt", "nouă", "zece", "unsprezece",
             "doisprezece", "treisprezece", "paisprezece", "cincisprezece", "șaisprezece", "șaptesprezece",
             "optsprezece", "nouăsprezece")
_RO_TENS = {2: "douăzeci", 3: "treizeci", 4: "patruzeci", 5: "cincizeci", 6: "șaizeci", 7: "șaptezeci",
            8: "optzeci", 9: "nouăzeci"}
_RO_HUNDREDS = {1: "o sută", 2: "două sute"} | {h: f"{_RO_SMALL[h]} sute" for h in range(3, 10)}


def _ro(n: int, country: str) -> str:
    return _spoken(n, _RO_SMALL, _RO_TENS, _RO_HUNDREDS, " și ", " ", "o sută")


# Spoken Romanian shortens the teens ("unșpe", "paișpe"); people write them so in ads too.
_RO_SPOKEN_TEENS = {11: "unșpe", 12: "doișpe", 13: "treișpe", 14: "paișpe", 15: "cinșpe", 16: "șaișpe",
                    17: "șapteșpe", 18: "optișpe", 19: "nouășpe"}

_NUMBERS = {"en": _en, "es": _es, "pt": _pt, "fr": _fr, "it": _it, "de": _de, "ro": _ro}


def number_in_words(n: int, language: str, country: str = "") -> str:
    """0..999 in the standard written form of `language` (regional forms by `country`: BE, CH, BR)."""
    if not 0 <= n <= 999:
        raise ValueError(f"number_in_words handles 0..999, got {n}")
    return _NUMBERS[language](n, country)


# --- writing a phone number out ------------------------------------------------------------------------------


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


def _retype(text: str, language: str, roll: float) -> str:
    """The same words as people type them: accents or not, umlauts spelled out, Romanian ș as ş or s.

    `roll` (0..1) is drawn once per number, so one number is typed one way throughout."""
    if language == "de":
        if roll < 0.25:
            return text.replace("ü", "ue").replace("ö", "oe").replace("ä", "ae").replace("ß", "ss")
        if roll < 0.4:
            return _strip_accents(text).replace("ß", "ss")
        return text
    if language == "ro":
        if roll < 0.3:
            return text.replace("ș", "ş").replace("ț", "ţ")  # the cedilla letters many keyboards still type
        if roll < 0.6:
            return _strip_accents(text)
        return text
    if language == "fr" and roll < 0.2:
        return text.replace(" et ", "-et-").replace(" ", "-") if " " in text else text  # 1990 spelling: all hyphens
    if roll < 0.3:
        return _strip_accents(text)
    return text


def _digit_words(digits: str, language: str, country: str, rnd: random.Random) -> list[str]:
    """Digit by digit, with the habits of each language (Brazil's "meia" for six, English "double")."""
    words: list[str] = []
    i = 0
    while i < len(digits):
        d = int(digits[i])
        if language == "en" and i + 1 < len(digits) and digits[i + 1] == digits[i] and rnd.random() < 0.5:
            words.append("double " + _DIGITS["en"][d][0])
            i += 2
            continue
        options = _DIGITS[language][d]
        if language == "pt" and d == 6 and country == "BR" and rnd.random() < 0.6:
            words.append("meia")
        else:
            words.append(options[0] if len(options) == 1 or rnd.random() < 0.6 else options[1])
        i += 1
    return words


def _group_words(group: str, language: str, country: str, rnd: random.Random) -> str:
    """A printed group of digits as people read it: a number, or digits when it starts with 0."""
    if len(group) == 1 or group.startswith("0") and len(group) > 2:
        return " ".join(_digit_words(group, language, country, rnd))
    if len(group) == 2:
        if group.startswith("0"):  # "zéro six", "cero seis"
            return " ".join(_digit_words(group, language, country, rnd))
        n = int(group)
        if language == "ro" and n in _RO_SPOKEN_TEENS and rnd.random() < 0.3:
            return _RO_SPOKEN_TEENS[n]
        return number_in_words(n, language, country)
    if len(group) == 3:
        if language == "en" or rnd.random() < 0.4:
            return " ".join(_digit_words(group, language, country, rnd))
        if language == "it" and rnd.random() < 0.4:
            return _it(int(group), country, joined=False)
        return number_in_words(int(group), language, country)
    cut = 2 if len(group) % 2 == 0 else 3  # longer groups are read in pairs (one triple first when odd)
    return " ".join(_group_words(part, language, country, rnd) for part in _chunks(group, cut))


def _chunks(group: str, first: int) -> list[str]:
    parts = [group[:first]]
    rest = group[first:]
    parts += [rest[i:i + 2] for i in range(0, len(rest), 2)]
    return parts


def spell_phone(shown: str, language: str, country: str, style: str, rnd: random.Random) -> str:
    """Write a displayed number ("06 12 34 56 78", "+34 612 34 56 78") out in `language` in one of WORD_STYLES.

    The plus sign stays; the country code is spelled digit by digit or left as digits.
    """
    if style not in WORD_STYLES:
        raise ValueError(f"unknown number-word style {style!r}; expected one of {WORD_STYLES}")
    plus = shown.startswith("+")
    groups = re.findall(r"\d+", shown)
    if not groups:
        return shown
    code = groups.pop(0) if plus and len(groups) > 1 else None  # "+34612345678": spelled as one run, "+" kept
    if style == "words":
        parts = [" ".join(_digit_words(group, language, country, rnd)) for group in groups]
    elif style == "pairs":
        parts = [_group_words(group, language, country, rnd) for group in groups]
    else:  # mixed: at least one group in words and, when there are two or more, at least one left in digits
        spelled = {rnd.randrange(len(groups))} | {i for i in range(len(groups)) if rnd.random() < 0.4}
        if len(spelled) == len(groups) and len(groups) > 1:
            spelled.discard(max(spelled))
        parts = [_group_words(g, language, country, rnd) if i in spelled else g for i, g in enumerate(groups)]
    roll = rnd.random()
    parts = [_retype(part, language, roll) if not part.isdigit() else part for part in parts]
    joiner = rnd.choice((" ", " ", ", ", " - ", " / ")) if style != "words" else rnd.choice((" ", " ", ", "))
    text = joiner.join(parts)
    if code is not None:
        spelled_code = " ".join(_digit_words(code, language, country, rnd)) if rnd.random() < 0.5 else code
        text = f"+{spelled_code} {text}"
    elif plus:
        text = "+" + text
    if rnd.random() < 0.08:
        text = text.upper()
    return text
