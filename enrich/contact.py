"""The Contact record: one identifier found in an ad's text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ContactKind = Literal["phone", "email", "handle", "url"]


@dataclass(frozen=True)
class Contact:
    """An identifier as written in the ad and in the form used for linking.

    kind: 'phone' | 'email' | 'handle' | 'url'.
    value: the exact substring of the original text, ``text[span[0]:span[1]]`` (see tail_span).
    normalised: the linking key — E.164 for phones ('+15551234567'; national digits only when the
        ad's country is unknown and no country code was written), lower-cased address for emails,
        'platform:name' for handles ('telegram:jane_doe', 'whatsapp:+15551234567'), lower-cased
        host + path without scheme or 'www.' for URLs.
    span: half-open (start, end) character offsets into the ORIGINAL text.
    placeholder: True for dummy phones (all one digit, 123-456-7890, ...) and for handles that name
        one ('whatsapp: 000 000 0000'): still extracted, because hub detection needs them, but never
        trusted as evidence on their own.
    tail_span: for a phone cut in two pieces ("0151 2..." / "...3456789"), the second piece; then
        `value` is both pieces joined by " … " and `span` covers the first.
    field / tail_field: the ad field (e.g. 'body', 'contact_text') the spans point into, when the
        contact came from `extract_ad_contacts`; None when extracted from a single text.
    """

    kind: ContactKind
    value: str
    normalised: str
    span: tuple[int, int]
    placeholder: bool = False
    tail_span: tuple[int, int] | None = None
    field: str | None = None
    tail_field: str | None = None
