"""The search form read into a lookup request, and its matches grouped by cluster.

The form's fields are read by `dashboards.lookup`, the functions behind `adwatch search`, so a
phone typed any way, an email spelled out or a bare handle find what the terminal finds. Their
messages name command-line flags; here they name the form's fields instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from adwatch.errors import UserError
from adwatch.store import Store
from dashboards.lookup import (AdMatch, SearchRequest, check_country, email_keys, handle_keys, read_phone,
                               photo_key, read_photo, search_ads)
from dashboards.lookup_cli import phone_note as _terminal_phone_note

LIMIT = 200  # ads listed per search; the page says how many matched in all
FIELDS = ("q", "phone", "country", "email", "handle", "site")


class FormError(UserError):
    """A search field could not be read; the message names the field."""


@dataclass(frozen=True)
class Group:
    cluster_id: str  # "" for ads in no cluster
    cluster: dict | None  # its document (size, sites, cities, span), when readable
    matches: list[AdMatch]


@dataclass(frozen=True)
class Results:
    groups: list[Group]  # in the order of each group's best match
    shown: int
    total: int
    notes: list[str]  # how inputs were read ("phone read as +1617...")


def _field(label: str, flag: str, read):
    try:
        return read()
    except UserError as exc:
        message = str(exc).replace(f"{flag} ", f"{label}: ", 1).replace("--country", "the country field")
        raise FormError(message) from exc


def read_upload(data: bytes, filename: str):
    """An uploaded photo's hashes, through the same reader as `adwatch search --image`."""
    try:
        return photo_key(data, f"Photo {filename or '(uploaded)'!r}")
    except UserError as exc:
        raise FormError(str(exc)) from exc


def read_stored_photo(path: Path, sha256: str):
    """A stored photo's hashes (the same reader), to find every ad showing it or a near-duplicate."""
    try:
        return read_photo(path)
    except UserError as exc:
        raise FormError(str(exc).replace(f"--image {path}", f"Photo {sha256[:12]}", 1)) from exc


def search(store: Store, form: Mapping[str, str], photo=None) -> tuple[SearchRequest, dict[str, str]]:
    """The lookup request for the form (and a photo's hashes), and the phone's readings (key -> country).

    FormError naming a field it cannot read.
    """
    text = form.get("q", "").strip()
    phone, email, handle, site = (form.get(k, "").strip() for k in ("phone", "email", "handle", "site"))
    country = form.get("country", "").strip()
    region = _field("Country", "--country", lambda: check_country(country)) if country else None
    emails = tuple(_field("Email", "--email", lambda: email_keys(email))) if email else ()
    handles = tuple(_field("Handle", "--handle", lambda: handle_keys(handle))) if handle else ()
    readings = _field("Phone", "--phone", lambda: read_phone(store, phone, region)) if phone else {}
    request = SearchRequest(text, tuple(readings), emails, handles, photo, None, site or None, LIMIT)
    return request, readings


def phone_note(typed: str, readings: dict[str, str], matches: list[AdMatch]) -> str:
    """How a typed phone was read, naming the readings that found ads (the terminal's note, worded for the form)."""
    note = _terminal_phone_note(typed, readings, {why for match in matches for why in match.why})
    return note.replace("(narrow with --country)", "(give a country to narrow)")


def grouped(store: Store, request: SearchRequest, typed_phone: str, readings: dict[str, str],
            clusters_by_id) -> Results:
    """Run the request; its matches grouped by cluster, each group headed by its cluster's document."""
    result = search_ads(store, request)
    notes = [phone_note(typed_phone, readings, result.matches)] if readings else []
    order: dict[str, list[AdMatch]] = {}
    for match in result.matches:
        order.setdefault(match.cluster_id, []).append(match)
    docs = clusters_by_id(store, [c for c in order if c])
    groups = [Group(cluster_id, docs.get(cluster_id), matches) for cluster_id, matches in order.items()]
    return Results(groups, len(result.matches), result.total, notes)


def is_empty(form: Mapping[str, str], photo) -> bool:
    return photo is None and not any(form.get(k, "").strip() for k in FIELDS if k != "country")
