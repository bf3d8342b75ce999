"""Contacts in ad text: phones, emails, messaging handles and URLs, each with its span.

Everything is matched on `fold_identifiers(text)` (lower case, emoji/fullwidth digits plain, look-alike letters of other scripts read as Latin) and
reported with spans into the original text. Phones are delegated to `enrich.phones`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

from enrich.contact import Contact
from enrich.normalise import FoldedText, fold_identifiers
from enrich.handles import find_handles
from enrich.phones import extract_phones

# --- emails --------------------------------------------------------------------------------------

_LOCAL = r"[a-z0-9](?:[a-z0-9._%+\-]{0,62}[a-z0-9_])?"
_LABEL = r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?"
_OPEN, _CLOSE = r"[(\[{<]", r"[)\]}>]"
# "@" and "." spelled out in the supported languages (folded: German "ät" is "at"; Romanian says "arond").
_AT_WORD = r"(?:at|arroba|arobase|chiocciola|klammeraffe|arond)"
_DOT_WORD = r"(?:dot|punto|ponto|point|punkt|punct)"
_AT = rf"(?:\s*@\s*|\s*{_OPEN}\s*{_AT_WORD}\s*{_CLOSE}\s*|\s+{_AT_WORD}\s+)"
_DOT = rf"(?:\.|\s\.\s|\s*{_OPEN}\s*(?:{_DOT_WORD}|\.)\s*{_CLOSE}\s*|\s+{_DOT_WORD}\s+)"
# Spelled-out forms need a known top-level domain: "meet me at noon dot" must not be an email.
_KNOWN_TLDS = (
    "com|net|org|edu|gov|info|biz|io|me|co|uk|us|ca|au|de|fr|es|it|nl|be|ch|at|se|no|dk|fi|pl|ru|"
    "br|mx|ar|in|jp|cn|kr|xyz|online|site|email|mail|live|app|pro|club"
)
_AT_FORMS = re.compile(rf"@|{_OPEN}\s*{_AT_WORD}\s*{_CLOSE}|(?<=\s){_AT_WORD}(?=\s)")
_DOMAIN_AFTER_AT = re.compile(rf"\s*(?:{_LABEL}(?:\.{_LABEL})*\.[a-z]{{2,24}}(?![a-z0-9\-]))")
_SPELLED_DOMAIN_AFTER_AT = re.compile(rf"\s*{_LABEL}(?:{_DOT}{_LABEL})*{_DOT}(?:{_KNOWN_TLDS})(?![a-z0-9\-])")
_LOCAL_BEFORE_AT = re.compile(rf"(?<![a-z0-9._%+\-]){_LOCAL}(?:{_DOT}{_LOCAL})*\s*\Z")
_AT_FORM = re.compile(_AT)
_DOT_FORM = re.compile(_DOT)


def _normalise_email(matched: str) -> str:
    """'jane dot doe (at) mail [dot] com' -> 'jane.doe@mail.com'."""
    return re.sub(r"\s+", "", _DOT_FORM.sub(".", _AT_FORM.sub("@", matched)))


def find_emails(folded: str) -> list[tuple[int, int, str]]:
    """(start, end, normalised address) of every email in folded text, including spelled-out forms.

    Anchored on the "@" / "(at)" / " at " tokens, so ordinary text costs one quick scan. "@" takes
    any top-level domain; spelled-out forms need a known one ("meet me at noon dot" is no email).
    """
    found: list[tuple[int, int, str]] = []
    for at in _AT_FORMS.finditer(folded):
        if found and at.start() < found[-1][1]:
            continue  # inside the previous address ("a at b at c dot com")
        domain = (_DOMAIN_AFTER_AT if at.group() == "@" else _SPELLED_DOMAIN_AFTER_AT).match(folded, at.end())
        if domain is None and at.group() == "@":
            domain = _SPELLED_DOMAIN_AFTER_AT.match(folded, at.end())  # "jane@gmail dot com"
        if domain is None:
            continue
        local = _LOCAL_BEFORE_AT.search(folded, max(0, at.start() - 130), at.start())
        if local is None:
            continue
        start, end = local.start(), domain.end()
        found.append((start, end, _normalise_email(folded[start:end])))
    return found


# --- URLs ----------------------------------------------------------------------------------------

_URL_HINT = re.compile(rf"://|www\.|\.(?:{_KNOWN_TLDS}|ly|gg|tv|me)\b")
_URL = re.compile(
    rf"(?:\bhttps?://|\bwww\.)[^\s<>\"']+"
    rf"|(?<![@\w.\-])(?:{_LABEL}\.)+(?:{_KNOWN_TLDS}|ly|gg|tv|me)\b(?:/[^\s<>\"']*)?"
)
_URL_TRAILING = ".,;:!?)]}'\""


def find_urls(folded: str) -> list[tuple[int, int, str]]:
    """(start, end, normalised URL) of every URL in folded text: scheme or 'www.' or a known top-level domain.

    Trailing punctuation is left out of the URL. Text without any URL hint costs one quick scan.
    """
    if not _URL_HINT.search(folded):
        return []
    found = []
    for match in _URL.finditer(folded):
        start, end = match.span()
        while end > start and folded[end - 1] in _URL_TRAILING:
            end -= 1
        found.append((start, end, _normalise_url(folded[start:end])))
    return found


def _normalise_url(matched: str) -> str:
    url = re.sub(r"^(?:https?://)?(?:www\.)?", "", matched)
    return url.rstrip("/")


MAX_CONTACT_CHARS = 50_000
"""Characters of text searched for contacts (the crawler caps bodies at the same length); the rest is ignored."""


def extract_contacts(text: str, country: str | None, max_chars: int = MAX_CONTACT_CHARS) -> list[Contact]:
    """All contacts in `text`, ordered by position: phones, emails, handles, URLs.

    country: ISO alpha-2 region of the ad, used to read national phone numbers (see
        `enrich.phones.extract_phones`). Handles: see `enrich.handles.find_handles`. Spans do not overlap within
        one kind; a phone inside an email address or URL is not reported as a phone.
    Only the first `max_chars` characters are searched. Non-string input gives [].
    """
    if not isinstance(text, str) or not text:
        return []
    if len(text) > max_chars:
        text = text[:max_chars]
    folded = fold_identifiers(text)
    ftext = folded.text
    contacts: list[Contact] = []
    taken: list[tuple[int, int]] = []

    for start, end, address in find_emails(ftext):
        span = folded.source_span(start, end)
        taken.append(span)
        contacts.append(Contact("email", text[span[0] : span[1]], address, span))

    urls: list[Contact] = []
    for start, end, url in find_urls(ftext):
        span = folded.source_span(start, end)
        if any(a < span[1] and span[0] < b for a, b in taken):
            continue
        urls.append(Contact("url", text[span[0] : span[1]], url, span))

    phones = [
        phone
        for phone in extract_phones(text, country, folded)
        if not any(a < phone.span[1] and phone.span[0] < b for a, b in taken)
        and not _inside_non_phone_url(phone, urls)
    ]
    contacts.extend(phones)
    contacts.extend(urls)

    contacts.extend(find_handles(text, folded, phones, list(taken)))
    contacts.sort(key=lambda c: (c.span, c.kind))
    return contacts


def _inside_non_phone_url(phone: Contact, urls: list[Contact]) -> bool:
    """A digit run inside a URL is a phone only for phone links (wa.me/<number>, signal.me/#p/+<number>)."""
    for url in urls:
        if url.span[0] <= phone.span[0] and phone.span[1] <= url.span[1]:
            return not re.match(r"(?:wa\.me|api\.whatsapp\.com|signal\.me)/", url.normalised)
    return False


# Joins an ad's fields: "¶" is no phone separator, so a number never runs from one field into the next.
_FIELD_JOIN = "\n¶\n"


def extract_ad_contacts(fields: Mapping[str, str | None], country: str | None) -> list[Contact]:
    """Contacts across several text fields of one ad, e.g. {'title': ..., 'body': ..., 'contact_text': ...}.

    Fields are read together, so a phone cut in two between the contact line and the body is still
    one contact. Each contact's `field` names the field its `span` points into (`tail_field` for
    `tail_span`); spans are relative to that field's own text. Empty and non-text fields are
    skipped; each field is searched up to MAX_CONTACT_CHARS characters.
    """
    pieces: list[tuple[str, int, int]] = []
    texts: list[str] = []
    offset = 0
    for name, value in fields.items():
        if not isinstance(value, str) or not value:
            continue
        value = value[:MAX_CONTACT_CHARS]
        pieces.append((name, offset, offset + len(value)))
        texts.append(value)
        offset += len(value) + len(_FIELD_JOIN)
    joined = _FIELD_JOIN.join(texts)
    contacts = extract_contacts(joined, country, max_chars=len(joined))

    def locate(span: tuple[int, int]) -> tuple[str, tuple[int, int]]:
        name, start, end = next((p for p in pieces if p[1] <= span[0] < p[2]), pieces[-1])
        return name, (span[0] - start, min(span[1], end) - start)

    located = []
    for contact in contacts:
        field, span = locate(contact.span)
        tail_field, tail_span = locate(contact.tail_span) if contact.tail_span else (None, None)
        located.append(replace(contact, span=span, field=field, tail_span=tail_span, tail_field=tail_field))
    return located
