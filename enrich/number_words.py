"""Number words in the languages AdWatch reads: English, Spanish, Portuguese, French, Italian, German, Romanian.

The lexicon is generated on first use from `num2words` (every number 0-99, the hundreds 100-900 and
the thousands 1000-9000, in each language and regional variant below), folded like ad text
(lower case, accents off: "dieciséis" -> "dieciseis", "șapte" -> "sapte", "fünf" -> "funf"), so
spelling rules come from a maintained library, not from a hand list. What num2words does not
write (gender and colloquial forms that ads use, "zwo", "meia", "una", the homophones "for",
"to", "ate", "oh") is a short table here, and every entry of it says why.

A form may be written spaced, hyphenated or glued ("noventa y ocho", "quatre-vingt-dix-huit",
"achtundneunzig", "noventayocho"). A *weak* form is also an ordinary word somewhere ("un",
"sei", "due", "o", "for", "to"): it counts as a digit only inside a number, never at its edges
(see `enrich.phones`). Weakness is measured with `wordfreq`, not listed by hand.

Also here, per language: the filler words ads put between the pieces of a number ("y luego"), the
phone idioms that announce one ("llámame", "ligue", "appelle-moi", "chiamami", "ruf an", "sună")
and the words that announce another kind of number ("pedido", "Kundennummer", "CNP").

Why num2words and not text2num: text2num (3.1.0) has no Romanian, no "double"/"oh" forms and
rewrites the text, so the spans of the digits in the original ad would have to be recovered
afterwards; num2words only feeds this lexicon, and matching stays a compiled regex with spans.
"""

from __future__ import annotations

import re
from functools import lru_cache

from num2words import num2words

from enrich.normalise import fold_with_offsets
from enrich.word_frequency import zipf

LANGUAGES = ("en", "es", "pt", "fr", "it", "de", "ro")
"""The languages whose number words and phone idioms are read (ISO 639-1)."""

# num2words codes per language: regional variants spell some numbers differently
# (Brazilian "dezesseis" vs European "dezasseis"; Belgian/Swiss "septante", "nonante").
_NUM2WORDS_CODES = {
    "en": ("en",), "es": ("es",), "pt": ("pt", "pt_BR"), "fr": ("fr", "fr_BE", "fr_CH"),
    "it": ("it",), "de": ("de",), "ro": ("ro",),
}  # fmt: skip

# Words num2words joins numbers with ("noventa y ocho", "vingt et un", "cento e vinte",
# "douăzeci și unu", "one hundred and one"); German glues "und" inside the word.
CONNECTORS = {"en": ("and",), "es": ("y",), "pt": ("e",), "fr": ("et",), "it": (), "de": ("und",), "ro": ("si",)}

# Forms ads use that num2words does not write (folded). Values are numbers.
_EXTRA_FORMS: dict[str, dict[str, int]] = {
    # "nought"/"nil" are British zero, "niner" radio nine; "oh" and a lone "o" are how English
    # speaks 0; "for"/"fore", "to"/"too", "ate", "won" are the homophones ads write for 4, 2, 8, 1.
    "en": {"nought": 0, "nil": 0, "oh": 0, "o": 0, "niner": 9,
           "for": 4, "fore": 4, "to": 2, "too": 2, "ate": 8, "won": 1},
    "es": {"un": 1, "una": 1, "veintiun": 21, "veintiuna": 21},  # feminine and apocopated "one"
    "pt": {"uma": 1, "duas": 2, "meia": 6},  # feminine; "meia" (half a dozen) is how Brazil says 6 on the phone
    "fr": {"une": 1, "quatre vingt": 80},  # "quatre-vingt" without -s starts 81-99 and is written alone too
    "it": {"un": 1, "una": 1},
    "de": {"ein": 1, "eine": 1, "zwo": 2, "hundert": 100, "tausend": 1000},  # "zwo": 2 on the phone (never misheard as "drei")
    # feminine; and the spoken teens ("unșpe" for unsprezece, "șaișpe" for șaisprezece)
    "ro": {"un": 1, "una": 1, "doua": 2, "douasprezece": 12, "unspe": 11, "doispe": 12, "douaspe": 12, "treispe": 13,
           "paispe": 14, "cinspe": 15, "saispe": 16, "saptispe": 17, "optispe": 18, "nouaspe": 19},
}  # fmt: skip

# "double five" = 55 in every language that has the idiom.
REPEAT_WORDS = {
    "double": 2, "triple": 3,  # en, fr
    "doble": 2,  # es (triple as en)
    "dupla": 2, "duplo": 2, "tripla": 3, "triplo": 3,  # pt, it
    "doppio": 2, "doppia": 2,  # it
    "doppel": 2, "doppelt": 2, "doppelte": 2, "dreifach": 3,  # de
    "dublu": 2, "dubla": 2, "triplu": 3,  # ro
}  # fmt: skip

# Words ads put between the pieces of one number ("555 12 then 34 567", "seis cinco y luego dos").
FILLERS = {
    "en": ("then", "and", "dash", "hyphen", "next", "after", "plus", "continue", "cont", "followed by", "space", "dot", "more"),
    "es": ("y", "luego", "despues", "guion", "espacio", "punto", "y luego"),
    "pt": ("e", "depois", "traco", "hifen", "espaco", "ponto", "e depois"),
    "fr": ("et", "puis", "ensuite", "tiret", "espace", "point", "et puis"),
    "it": ("e", "poi", "trattino", "spazio", "punto", "e poi"),
    "de": ("und", "dann", "strich", "bindestrich", "punkt", "und dann"),
    "ro": ("si", "apoi", "liniuta", "cratima", "punct", "spatiu", "si apoi"),
}

# Phone idioms: words that announce a phone number (folded). A number that phonenumbers calls
# possible but not valid (a new range, a fictional 555 number) is trusted only after one of these.
PHONE_CUES = {
    "en": ("call", "calls", "text", "txt", "sms", "phone", "tel", "telephone", "mobile", "mob", "cell", "ring",
           "number", "num", "contact", "reach me", "whatsapp", "signal", "telegram", "dial", "hotline"),
    "es": ("llama", "llamame", "llamar", "llamadas", "telefono", "tel", "tlf", "telf", "movil", "celular", "cel",
           "numero", "escribeme", "mensaje", "contacto", "wsp", "wasap", "guasap"),
    "pt": ("ligue", "liga", "ligar", "ligacao", "telefone", "telemovel", "celular", "cel", "numero", "contato",
           "contacto", "zap", "zapzap", "whats", "wpp", "chama"),
    "fr": ("appelle", "appellez", "appelez", "appeler", "telephone", "tel", "portable", "numero", "joindre",
           "contact", "contactez", "sms", "textez"),
    "it": ("chiamami", "chiama", "chiamare", "chiamate", "telefono", "tel", "cellulare", "cell", "numero",
           "contatto", "contattami", "scrivimi", "messaggio"),
    "de": ("ruf an", "ruf mich an", "rufen sie", "anrufen", "anruf", "telefon", "tel", "handy", "nummer",
           "mobil", "kontakt", "melde dich", "schreib"),
    "ro": ("suna", "sunati", "suna-ma", "sunama", "telefon", "tel", "mobil", "numar", "numarul", "contact",
           "scrie-mi", "mesaj"),
}

# Words that announce some other number: a reference, an order, a tax or person id, a post code.
# A number right after one of them is no phone, even when phonenumbers calls it valid.
NOT_PHONE_CUES = {
    "en": ("ref", "reference", "order", "invoice", "id", "zip", "zipcode", "postcode", "iban", "account", "acct",
           "serial", "tracking", "isbn", "sku", "item", "lot", "ticket", "vin", "ssn"),
    "es": ("pedido", "ref", "referencia", "factura", "codigo", "cod", "cp", "dni", "nie", "nif", "cif", "cuenta",
           "expediente"),
    "pt": ("pedido", "ref", "referencia", "codigo", "cod", "cep", "nif", "cpf", "cnpj", "fatura", "conta", "rg"),
    "fr": ("ref", "reference", "commande", "facture", "siret", "siren", "code", "compte", "dossier"),
    "it": ("codice", "cod", "ordine", "rif", "riferimento", "fattura", "cf", "iva", "piva", "cap", "conto", "pratica"),
    "de": ("bestellnummer", "kundennummer", "artikelnummer", "rechnungsnummer", "artikel", "artikel nr", "ust", "plz",
           "iban", "konto", "aktenzeichen", "auftragsnummer"),
    "ro": ("cod", "comanda", "factura", "cnp", "cui", "iban", "cont", "referinta"),
}

_WEAK_MIN_ZIPF = 4.0
_WEAK_WITHIN_ZIPF = 1.0
"""A one-word number form is weak when, in a language it is no number in, it is an ordinary word at
least `_WEAK_MIN_ZIPF` frequent (wordfreq's Zipf scale: 4 = once in 10,000 words) and at most
`_WEAK_WITHIN_ZIPF` below its frequency as a number: "sei" (Portuguese "I know"), "due" (English),
"once" (English), "um" (German), but not "one" (4.4 in Spanish text against 6.5 in English)."""
# Weak by nature: the homophones are words first, and the indefinite article of these languages is
# the word for one (frequency cannot tell "un" the article from "un" the digit).
_ALWAYS_WEAK = frozenset(("oh", "o", "for", "fore", "to", "too", "ate", "won", "un", "une", "una", "uno", "um", "uma",
                          "ein", "eine"))


def fold(text: str) -> str:
    """Fold a word like ad text is folded (lower case, accents and marks off), hyphens as spaces."""
    return " ".join(fold_with_offsets(text).text.replace("-", " ").split())


def _key(form: str) -> str:
    """A form's lookup key: its letters without the spaces and hyphens it may be written with."""
    return form.replace(" ", "").replace("-", "")


def _strip_connectors(form: str, lang: str) -> str:
    words = form.split()
    while words and words[-1] in CONNECTORS[lang]:
        words.pop()
    return " ".join(words)


@lru_cache(maxsize=1)
def lexicon() -> dict[str, dict[str, int]]:
    """Folded number forms per language -> value: 0-99, hundreds 100-900 (also as the prefix of 101-901), 1000-9000."""
    by_lang: dict[str, dict[str, int]] = {}
    for lang, codes in _NUM2WORDS_CODES.items():
        forms: dict[str, int] = {}
        for code in codes:
            for n in range(100):
                forms.setdefault(fold(num2words(n, lang=code)), n)
            for h in range(100, 1000, 100):
                forms.setdefault(fold(num2words(h, lang=code)), h)
                # The hundred as it starts a longer number: "ciento" (of "ciento uno"), "cento" (of
                # "cento e um"), Italian "cent" before a vowel (of "centotto", "ottocentottanta").
                for rest in (1, 8, 80):
                    longer, tail = fold(num2words(h + rest, lang=code)), fold(num2words(rest, lang=code))
                    if longer.endswith(tail):
                        prefix = _strip_connectors(longer[: -len(tail)].strip(), lang)
                        if prefix:
                            forms.setdefault(prefix, h)
            for k in range(1000, 10_000, 1000):
                forms.setdefault(fold(num2words(k, lang=code)), k)
        for form, value in _EXTRA_FORMS[lang].items():
            forms.setdefault(form, value)
        if lang == "de":  # "fünf" is also typed "fuenf", "zwölf" "zwoelf" (no umlaut on the keyboard)
            for code in codes:
                for n in range(100):
                    written = num2words(n, lang=code).lower()
                    if any(c in written for c in "äöü"):
                        forms.setdefault(fold(written.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")), n)
        by_lang[lang] = forms
    return by_lang


def _is_weak(form: str, langs_with_form: set[str]) -> bool:
    if form in _ALWAYS_WEAK:
        return True
    if " " in form:
        return False  # "dos mil", "sept cent": no ordinary phrase
    as_number = max(zipf(form, lang) for lang in langs_with_form)
    return any(
        zipf(form, lang) >= max(_WEAK_MIN_ZIPF, as_number - _WEAK_WITHIN_ZIPF)
        for lang in LANGUAGES
        if lang not in langs_with_form
    )


@lru_cache(maxsize=1)
def number_forms() -> tuple[dict[str, int], frozenset[str], frozenset[str]]:
    """(key -> value over all languages, strong forms, weak forms); forms folded, keys without separators."""
    values: dict[str, int] = {}
    langs: dict[str, set[str]] = {}
    for lang, forms in lexicon().items():
        for form, value in forms.items():
            values.setdefault(_key(form), value)
            langs.setdefault(form, set()).add(lang)
    weak = frozenset(form for form, where in langs.items() if _is_weak(form, where))
    strong = frozenset(langs) - weak
    return values, strong, weak


def value_of(written: str) -> int | None:
    """The value of one folded number form as matched in text ("noventa y ocho" -> 98), or None."""
    return number_forms()[0].get(_key(written))


def split_glued(token: str) -> list[str] | None:
    """A glued run of digits and number forms cut into pieces ("seiscincocero" -> seis|cinco|cero, "5one8" -> 5|one|8).

    Fewest pieces win, so "twentytwo" is 22, not 20|2. None when the token is no such run.
    """
    values = number_forms()[0]
    longest = max(map(len, values))
    # best[i]: fewest pieces covering token[:i], as (count, previous cut)
    best: list[tuple[int, int] | None] = [None] * (len(token) + 1)
    best[0] = (0, 0)
    for end in range(1, len(token) + 1):
        for start in range(max(0, end - longest), end):
            if best[start] is None:
                continue
            piece = token[start:end]
            if piece in values or piece.isdigit():
                count = best[start][0] + 1
                if best[end] is None or count < best[end][0]:
                    best[end] = (count, start)
    if best[-1] is None:
        return None
    pieces, end = [], len(token)
    while end:
        start = best[end][1]
        pieces.append(token[start:end])
        end = start
    return pieces[::-1]


def trie_pattern(words: list[str]) -> str:
    """A regex matching any of `words`, as a character trie (alternations of hundreds of literals are
    tried one by one by `re`; a trie fails at the first character). A space inside a word matches
    an optional space or hyphen, so "noventa y ocho" also matches "noventa-y-ocho" and "noventayocho"."""
    trie: dict = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def emit(node: dict) -> str:
        branches = []
        # Siblings start with different characters, so their order does not matter; a longer form
        # wins over its prefix because the optional group below is greedy.
        for char in sorted(c for c in node if c):
            branches.append(("[ \\-]?" if char == " " else re.escape(char)) + emit(node[char]))
        ends = "" in node
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if ends:
            return f"(?:{body})?"
        return body

    return emit(trie)


def words_pattern(words: list[str] | tuple[str, ...] | frozenset[str]) -> str:
    """Alternation of plain words, longest first, spaces matching any whitespace (for fillers and cues)."""
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True))
