"""Phrase banks per language: the generator's own vocabulary (ad templates, names, idioms, labels).

Each language module defines BOOK, a `Phrasebook`; English wraps demo.text, so baseline worlds are
unchanged. Non-explicit categories only, as in demo.text. This vocabulary must never appear in generic
code (enrich/, crawler/, adwatch/): it is what the demo world is made of, not knowledge about the field.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib import import_module


@dataclass(frozen=True)
class Phrasebook:
    code: str  # ISO 639-1
    titles: dict[str, tuple[str, ...]]  # category -> title templates
    sentences: dict[str, tuple[tuple[str, ...], ...]]  # category -> sections -> options ([a|b] choices, {slots})
    personal: tuple[str, ...]  # a sentence of the poster's own, added to each of its templates
    names: tuple[str, ...]
    destinations: tuple[str, ...]
    jobs: tuple[str, ...]
    items: tuple[str, ...]
    services: tuple[str, ...]
    boilerplate: tuple[str, ...]  # phrases many unrelated posters paste (a hard negative)
    contact_labels: tuple[str, ...]  # before a phone on the contact line: "Tel", "Móvil", ...
    body_labels: tuple[str, ...]  # before a phone in the body: "Llámame", "Ligue", "Appelle-moi", ...
    rest_of_number: str  # introduces the tail of a split number
    edit_prefixes: tuple[str, ...]  # what posters put in front of an edited body
    months: tuple[str, ...]  # month abbreviations, January first; empty: the C locale's %b
    agency_labels: tuple[str, ...]  # before an agency switchboard number
    footer_label: str  # the site footer's customer-service line
    placeholders: tuple[str, ...]  # numbers people type when they mean "none"
    date_format: str = "{day} {month}"
    at_words: tuple[str, ...] = ("at",)  # how an email's @ is spelt out ("arroba", "arobase", ...)
    dot_words: tuple[str, ...] = ("dot",)

    def short_date(self, date: dt.date) -> str:
        """A date as posters write it ("05 Feb", "5 feb", "5 févr.")."""
        if not self.months:
            return date.strftime("%d %b")
        return self.date_format.format(day=date.day, month=self.months[date.month - 1])


_CODES = ("en", "es", "pt", "fr", "it", "de", "ro")
_BOOKS: dict[str, Phrasebook] = {}


def phrasebook(code: str) -> Phrasebook:
    """The phrase bank of a language (ISO 639-1: en, es, pt, fr, it, de, ro)."""
    if code not in _CODES:
        raise ValueError(f"no phrase bank for language {code!r}; available: {', '.join(_CODES)}")
    if code not in _BOOKS:
        _BOOKS[code] = import_module(f"demo.phrasebook.{code}").BOOK
    return _BOOKS[code]
