"""Where an ad's identifiers came from: its text cut into plain runs and the spans enrichment read (pure).

Enrichment stores each contact with the field it was read from (title, body, contact_text) and
its character offsets there. A phone split across the ad ("(415) 5 … 11-5868") points at its
first half; spans that overlap (a phone and the WhatsApp handle written with it) become one
highlighted run naming both; a contact without offsets (or with offsets that no longer fit the
text) is listed without a highlight rather than guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

TEXT_FIELDS = ("title", "body", "contact_text")
CONTEXT_CHARS = 40


@dataclass(frozen=True)
class Run:
    text: str
    contacts: tuple[int, ...] = ()  # indices into the ad's contacts whose spans this run is
    kinds: tuple[str, ...] = ()

    @property
    def anchor(self) -> str:
        return f"span-{self.contacts[0]}" if self.contacts else ""


@dataclass(frozen=True)
class Found:
    """One contact as the ad page lists it."""

    index: int
    kind: str
    value: str  # as written
    normalised: str
    field: str  # "" when enrichment gave no usable span
    start: int | None
    end: int | None
    before: str  # up to CONTEXT_CHARS of text around the span
    span: str
    after: str
    placeholder: bool


def _usable(contact: dict, texts: dict[str, str]) -> bool:
    text = texts.get(contact.get("field") or "")
    start, end = contact.get("start"), contact.get("end")
    return text is not None and isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)


def runs(text: str, contacts: list[dict], field: str) -> list[Run]:
    """`text` (the ad's `field`) as runs; spans of contacts read from it are runs of their own."""
    texts = {field: text}
    spans = sorted((c["start"], c["end"], i, c.get("kind", "")) for i, c in enumerate(contacts)
                   if c.get("field") == field and _usable(c, texts))
    merged: list[list] = []  # [start, end, contacts, kinds]: overlapping spans as one
    for start, end, index, kind in spans:
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
            merged[-1][2].append(index)
            merged[-1][3].append(kind)
        else:
            merged.append([start, end, [index], [kind]])
    out: list[Run] = []
    at = 0
    for start, end, indices, kinds in merged:
        if start > at:
            out.append(Run(text[at:start]))
        out.append(Run(text[start:end], tuple(indices), tuple(dict.fromkeys(kinds))))
        at = end
    if at < len(text):
        out.append(Run(text[at:]))
    return out


def anchors(all_runs: list[list[Run]]) -> dict[int, str]:
    """contact index -> the id of the highlighted run holding its span."""
    return {i: run.anchor for field_runs in all_runs for run in field_runs for i in run.contacts}


def found_contacts(ad: dict) -> list[Found]:
    """Every contact of the ad with the words around its span."""
    texts = {name: ad.get(name) or "" for name in TEXT_FIELDS}
    listed = []
    for i, contact in enumerate(ad.get("contacts") or []):
        field, start, end = contact.get("field") or "", contact.get("start"), contact.get("end")
        before = span = after = ""
        if _usable(contact, texts):
            text = texts[field]
            before = text[max(0, start - CONTEXT_CHARS):start]
            span, after = text[start:end], text[end:end + CONTEXT_CHARS]
        else:
            field, start, end = "", None, None
        listed.append(Found(i, contact.get("kind", ""), contact.get("value") or "", contact.get("normalised") or "",
                            field, start, end, before, span, after, bool(contact.get("placeholder"))))
    return listed
