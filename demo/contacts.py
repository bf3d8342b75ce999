"""Which contacts an ad shows and how its poster writes them (phones, handles, emails).

Baseline worlds write them as they always did (demo.text); family worlds add local phone layouts, number
words in the ad's language, handle and email spellings, rotating phones of evasive controllers and agency
switchboards (demo.hubs).
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from demo import text as T
from demo.locales import local_display
from demo.numberwords import WORD_STYLES, spell_phone
from demo.phrasebook import Phrasebook
from demo.population import Poster, in_use, random_phone

if TYPE_CHECKING:
    from demo.compose import WorldState


def rotates(poster: Poster) -> bool:
    """Whether this poster is an evasive controller with a fresh phone in every ad."""
    return bool(poster.evasion) and poster.evasion["kind"].startswith("rotate")


def _rotated_phone(poster: Poster, ad_country: str, rnd: random.Random) -> str:
    """A fresh valid number for this ad; now and then one used before (people run out of SIM cards)."""
    used: list[str] = poster.extra.setdefault("rotated", [])
    if used and rnd.random() < 0.1:
        return rnd.choice(used)
    phone = random_phone(rnd.choice((poster.country, ad_country)), rnd)
    used.append(phone)
    return phone


def switchboard_for(poster: Poster, category: str, ad_country: str, rnd: random.Random,
                    state: "WorldState") -> str | None:
    """An agency number printed on this ad (family worlds; never on an evasive controller's single contact)."""
    if (state.hubs is None or not state.switches.hard_negatives or poster.evasion
            or category not in ("jobs", "rentals", "wellness")):
        return None
    return state.hubs.switchboard(ad_country, rnd) if rnd.random() < 0.05 else None


def show_phone(phone: str, ad_country: str, poster: Poster, rnd: random.Random) -> str:
    """The number as this poster types it: baseline worlds as before; family worlds in a local layout."""
    habit = poster.extra.get("habit")
    if habit is None:
        return T.phone_display(phone, ad_country)
    if rnd.random() < 0.15:  # people are not always consistent
        habit = rnd.randrange(8)
    return local_display(phone, ad_country, habit, poster.extra.get("national_abroad", False))


def _obfuscate(shown: str, kind: str, ad_country: str, rnd: random.Random, state: "WorldState",
               book: Phrasebook) -> tuple[str, str]:
    """(main text, tail) of a disguised number; multilingual worlds write words in the ad's language."""
    if kind in WORD_STYLES and state.family.on("multilingual"):
        return spell_phone(shown, book.code, ad_country, kind, rnd), ""
    return T.obfuscate_phone(shown, kind, rnd)


def ad_contacts(poster: Poster, ad_country: str, day: int, rnd: random.Random, state: "WorldState", book: Phrasebook,
                own_phone: bool = True) -> tuple[list[dict], list[str], str, str]:
    """Pick which identifiers this ad shows and how; returns truth contacts, contact-line parts, body text, tail.

    An evasive controller's kept handle or email is on every ad; a rotating one shows a fresh phone each time.
    """
    sw = state.switches
    contacts: list[dict] = []
    parts: list[str] = []
    body_contact, tail = "", ""
    phone = None
    if rotates(poster):
        phone = _rotated_phone(poster, ad_country, rnd)
    elif poster.phones and own_phone:
        phone = rnd.choice(in_use(poster, "phones", poster.phones, day))
    if phone:
        shown = show_phone(phone, ad_country, poster, rnd)
        obfuscate = sw.obfuscation and rnd.random() < poster.obfuscation_rate
        kind = rnd.choice(poster.obfuscation_styles) if obfuscate else None
        main, tail = _obfuscate(shown, kind, ad_country, rnd, state, book) if kind else (shown, "")
        in_body = rnd.random() < 0.35 and kind != "split"
        if in_body:
            body_contact = f"{rnd.choice(book.body_labels)}: {main}"
        else:
            parts.append(f"{rnd.choice(book.contact_labels)}: {main}")
        contacts.append({"kind": "phone", "value": phone, "shown": main, "tail": tail or None,
                         "obfuscation": kind, "where": "body" if in_body else "contact"})
    for handle in in_use(poster, "handles", poster.handles, day):
        if poster.evasion or rnd.random() < 0.6:
            app, name = handle.split(":", 1)
            part, shown = (_show_handle(app, name, rnd) if state.family.on("multilingual")
                           else (f"{app.capitalize()}: {name}", name))
            parts.append(part)
            contacts.append({"kind": "handle", "value": handle, "shown": shown, "tail": None,
                             "obfuscation": None, "where": "contact"})
    for email in poster.emails:
        if poster.evasion or rnd.random() < 0.7:
            spelt = state.family.on("multilingual") and rnd.random() < 0.25
            shown = _spell_email(email, book, rnd) if spelt else email
            parts.append(shown)
            contacts.append({"kind": "email", "value": email, "shown": shown, "tail": None,
                             "obfuscation": "spelled" if spelt else None, "where": "contact"})
    return contacts, parts, body_contact, tail


# How people write a messaging handle (multilingual worlds): "{name}" is the handle without its "@".
_HANDLE_FORMS = {
    "telegram": ("Telegram: @{name}", "Telegram: {name}", "t.me/{name}", "TG: @{name}", "tg @{name}"),
    "whatsapp": ("WhatsApp: @{name}", "WA: @{name}", "Whatsapp @{name}"),
    "snapchat": ("Snapchat: @{name}", "Snap: {name}", "SC: {name}"),
    "signal": ("Signal: @{name}", "Signal: {name}"),
}


def _show_handle(app: str, handle: str, rnd: random.Random) -> tuple[str, str]:
    """(contact-line text, the handle as shown in it) in one of the ways people write that app's handles."""
    part = rnd.choice(_HANDLE_FORMS[app]).format(name=handle.lstrip("@"))
    return part, part.split(": ", 1)[-1] if ": " in part else part


def _spell_email(email: str, book: Phrasebook, rnd: random.Random) -> str:
    """An email with @ and dots spelt out in the ad's language: "ana arroba example punto com", "ana[at]example.com"."""
    user, domain = email.split("@", 1)
    at, dot = rnd.choice(book.at_words), rnd.choice(book.dot_words)
    style = rnd.randrange(3)
    if style == 0:
        return f"{user} {at} {domain.replace('.', f' {dot} ')}"
    if style == 1:
        return f"{user}[{at}]{domain.replace('.', f'[{dot}]')}"
    return f"{user} ({at}) {domain}"
