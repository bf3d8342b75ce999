"""Analyst search over enriched ads: full text, identifiers, photos and filters, combined.

Every input is read by the very functions enrichment used on the ads, so "(617) 513-3818",
"six one seven five one three ...", "+1 617 513 38 18" all become the E.164 key stored in
`identifiers`, and a photo becomes the pHash/dHash pair stored on `images`. That is why this
dashboards module imports from `enrich` (the architecture otherwise keeps the stages apart):
a second copy of phone or image normalisation would drift, and a lookup that reads input
differently from the ads silently finds nothing.

Photos: candidates come from the stored multi-index keys (`images.hash_bands`), probed with the
photo's pHash and its mirror as linking's blocking does; the exact distances are then checked in
Python against `LinkRules`, so "found by search" and "linked as the same photo" mean the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import phonenumbers

from adwatch.errors import UserError
from adwatch.store import Store
from dashboards.lookup_cluster import short_title
from enrich.facts import ImageKey
from enrich.comparison import LinkRules, image_distance
from enrich.identifiers import extract_contacts, find_emails
from enrich.images import ImageError, image_hashes, hash_query_keys
from enrich.normalise import fold_with_offsets, normalise_text
from enrich.phones import extract_phones

RESULT_FIELDS = ["site", "ad_id", "city", "country", "first_seen", "cluster_id", "title", "identifiers",
                 "images.phash", "images.dhash", "images.phash_flip", "images.dhash_flip", "images.low_detail"]
TEXT_FIELDS = ["title^2", "body", "contact_text"]


# ------------------------------------------------------------------ reading the analyst's input


def check_country(country: str) -> str:
    """An ISO alpha-2 region phonenumbers knows, upper-cased; UserError otherwise."""
    region = country.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise UserError(f"--country {country!r} is not an ISO 3166 alpha-2 country code phone numbers are known "
                        "for; give one like US, GB, FR.")
    return region


def phone_keys(typed: str, countries: Sequence[str | None]) -> dict[str, str]:
    """Stored phone keys the typed number can stand for: key -> the country it was read for ('' if none).

    The number is read once per country, like an ad of that country would be: a number written
    with '+' gives one E.164 whatever the country; a national one gives one E.164 per country
    (and bare digits for ads without a country). UserError when no reading finds a phone.
    """
    keys: dict[str, str] = {}
    for country in countries:
        for phone in extract_phones(typed, country):
            keys.setdefault(phone.normalised, country or "")
    if not keys:
        raise UserError(f"--phone {typed!r}: no phone number recognised; write the digits with their country code "
                        "(+44 20 7946 0018) or give --country with a national number.")
    return keys


def email_keys(typed: str) -> list[str]:
    """The normalised address(es) in `typed` ('Jane.Doe (at) mail dot com' -> 'jane.doe@mail.com')."""
    found = sorted({address for _, _, address in find_emails(fold_with_offsets(typed).text)})
    if not found:
        raise UserError(f"--email {typed!r}: no email address recognised; give one like name@example.org.")
    return found


def handle_keys(typed: str) -> list[str]:
    """Stored handle keys for `typed`: 'telegram:@x', 't.me/x' -> 'telegram:x'; a bare 'x' or '@x' -> '*:x'.

    A handle given without its platform matches it on every platform ('*:' is a wildcard prefix).
    """
    text = typed.strip()
    if text and ":" not in text and "/" not in text and " " not in text and not text.startswith("@"):
        text = "@" + text
    keys = sorted({c.normalised for c in extract_contacts(text, None) if c.kind == "handle"})
    if not keys:
        raise UserError(f"--handle {typed!r}: no handle recognised; give one like telegram:@name, t.me/name or @name.")
    return ["*:" + key[3:] if key.startswith("at:") else key for key in keys]


def read_photo(path: Path) -> ImageKey:
    """The photo's hashes through enrichment's one preprocessing path; UserError naming the file if unusable."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UserError(f"--image {path}: cannot read the file ({exc.strerror or exc}); give the path of a "
                        "readable photo.") from exc
    return photo_key(data, f"--image {path}")


def photo_key(data: bytes, named: str) -> ImageKey:
    """A photo's hashes from its bytes; UserError starting with `named` (how the user gave it) if unusable."""
    hashes = image_hashes(data)
    if isinstance(hashes, ImageError):
        # "not-an-image" details only name Pillow's in-memory buffer; the reason says it all.
        problem = hashes.reason if hashes.reason == "not-an-image" else f"{hashes.reason}: {hashes.detail}"
        raise UserError(f"{named}: not a usable image ({problem}); give a JPEG, PNG, WebP, GIF, BMP or "
                        "TIFF photo.")
    if hashes.low_detail:
        raise UserError(f"{named}: the picture is almost uniform (blank or one colour); such pictures all "
                        "hash alike and are never stored as evidence, so there is nothing to compare it with.")
    return ImageKey(hashes.phash, hashes.dhash, hashes.phash_flip, hashes.dhash_flip)


# ------------------------------------------------------------------ the request and its query


@dataclass(frozen=True)
class SearchRequest:
    """What to look for; every part given must hold (filters combine with AND)."""

    text: str = ""
    phones: tuple[str, ...] = ()  # stored keys, see `phone_keys`
    emails: tuple[str, ...] = ()
    handles: tuple[str, ...] = ()  # '*:name' matches the name on any platform
    photo: ImageKey | None = None
    cluster: str | None = None
    site: str | None = None
    limit: int = 20


def _identifier_clause(keys: Iterable[str]) -> dict:
    exact = [k for k in keys if not k.startswith("*:")]
    anywhere = [{"wildcard": {"identifiers": {"value": k}}} for k in keys if k.startswith("*:")]
    should = ([{"terms": {"identifiers": exact}}] if exact else []) + anywhere
    return {"bool": {"should": should, "minimum_should_match": 1}}


def text_clause(text: str) -> dict:
    """All words of `text` in one field as written, or in the folded and de-leeted text (`text_norm`).

    `text_norm` was normalised by enrichment, so the query is normalised the same way: "r00m" in an
    ad and "room" typed (or the other way round) meet there. A phrase match ranks exact wording first.
    """
    return {"bool": {"should": [
        {"multi_match": {"query": text, "fields": TEXT_FIELDS, "operator": "and"}},
        {"match": {"text_norm": {"query": normalise_text(text).text, "operator": "and"}}},
        {"multi_match": {"query": text, "fields": TEXT_FIELDS, "type": "phrase", "boost": 2.0}},
    ], "minimum_should_match": 1}}


def photo_clause(photo: ImageKey) -> dict:
    """Ads with a photo sharing a multi-index key with the probe or its mirror (a superset; distances decide)."""
    keys = sorted(set(hash_query_keys(photo.phash)) | set(hash_query_keys(photo.phash_flip)))
    return {"terms": {"images.hash_bands": keys}}


def build_query(request: SearchRequest) -> dict:
    """The Elasticsearch query for a request: text scores, everything else filters."""
    filters: list[dict] = []
    must: list[dict] = []
    if request.text.strip():
        must.append(text_clause(request.text))
    for keys in (request.phones, request.emails, request.handles):
        if keys:
            filters.append(_identifier_clause(keys))
    if request.photo:
        filters.append(photo_clause(request.photo))
    if request.cluster:
        filters.append({"term": {"cluster_id": request.cluster}})
    if request.site:
        filters.append({"term": {"site": request.site}})
    return {"bool": {"must": must or [{"match_all": {}}], "filter": filters}}


# ------------------------------------------------------------------ matches and why


@dataclass(frozen=True)
class AdMatch:
    """One ad found, with the short facts a table shows and why it matched."""

    doc_id: str
    site: str
    ad_id: str
    city: str
    first_seen: str
    cluster_id: str
    title: str  # already cut short
    why: tuple[str, ...]
    rank: float  # higher first: text score, or minus the photo distance


@dataclass(frozen=True)
class SearchResult:
    matches: list[AdMatch]  # the best `limit`, best first
    total: int  # every ad that matched


def photo_match(photo: ImageKey, images: list[dict], rules: LinkRules) -> tuple[int, int, int] | None:
    """(photo index, pHash, dHash distance) of the ad's closest photo within the link thresholds, else None.

    Mirrored copies count (`image_distance` takes the closer orientation); low-detail photos never match.
    """
    best: tuple[int, int, int] | None = None
    for i, image in enumerate(images):
        if image.get("low_detail") or not image.get("phash"):
            continue
        stored = ImageKey(image["phash"], image["dhash"], image["phash_flip"], image["dhash_flip"])
        p, d = image_distance(photo, stored)
        if p <= rules.image_phash_max and d <= rules.image_dhash_max and (best is None or p + d < best[1] + best[2]):
            best = (i, p, d)
    return best


def _identifier_reasons(request: SearchRequest, identifiers: list[str]) -> list[str]:
    """'phone +1555…', 'handle telegram:x': which of the searched identifiers this ad holds."""
    held = set(identifiers)
    reasons = []
    for kind, keys in (("phone", request.phones), ("email", request.emails), ("handle", request.handles)):
        for key in keys:
            if key.startswith("*:"):
                reasons += [f"{kind} {i}" for i in identifiers if i.endswith(key[1:])]
            elif key in held:
                reasons.append(f"{kind} {key}")
    return reasons


def to_match(hit: dict, request: SearchRequest, photo: tuple[int, int, int] | None) -> AdMatch:
    """An index hit as an AdMatch; `photo` is `photo_match`'s answer when searching by image."""
    src = hit["_source"]
    why = _identifier_reasons(request, src.get("identifiers", []))
    rank = float(hit.get("_score") or 0.0)
    if photo is not None:
        i, p, d = photo
        why.append(f"photo {i + 1}: pHash {p}, dHash {d} bits apart")
        rank = -float(p + d)
    if request.text.strip():
        why.append(f"text score {hit['_score']:.1f}" if hit.get("_score") is not None else "text")
    if not why:
        why.append("filters")
    return AdMatch(hit["_id"], src.get("site", ""), src.get("ad_id", ""), src.get("city") or "",
                   (src.get("first_seen") or "")[:10], src.get("cluster_id") or "", short_title(src.get("title")),
                   tuple(why), rank)


# ------------------------------------------------------------------ the index edge


def index_countries(store: Store) -> list[str]:
    """Countries of the indexed ads, most ads first: how a national phone number is read by default."""
    resp = store.client.search(index=store.ads, size=0, aggs={"c": {"terms": {"field": "country", "size": 300}}})
    return [b["key"] for b in resp["aggregations"]["c"]["buckets"]]


def read_phone(store: Store, typed: str, country: str | None) -> dict[str, str]:
    """`phone_keys` for `country`, or, when none is given, for every country of the indexed ads (and none).

    An analyst holding a national number rarely knows which country's ads carry it; reading it as
    each country's ads were read finds it wherever it is, and every match says which reading hit.
    """
    return phone_keys(typed, [country] if country else [*index_countries(store), None])


def check_site(store: Store, site: str) -> None:
    if store.client.count(index=store.ads, query={"term": {"site": site}})["count"]:
        return
    resp = store.client.search(index=store.ads, size=0, aggs={"s": {"terms": {"field": "site", "size": 100}}})
    known = ", ".join(b["key"] for b in resp["aggregations"]["s"]["buckets"])
    raise UserError(f"--site {site!r}: no ad of that site in {store.ads}; sites indexed: {known}.")


def search_ads(store: Store, request: SearchRequest, rules: LinkRules = LinkRules()) -> SearchResult:
    """Run a request: the best `request.limit` matches and how many matched in all.

    Text ranks by relevance; a photo by distance (every candidate is checked, so the total is exact);
    identifiers and filters alone list the newest ads first.
    """
    query = build_query(request)
    if request.photo is not None:
        matches = []
        for hit in store.scan(store.ads, query, source=RESULT_FIELDS):
            found = photo_match(request.photo, hit["_source"].get("images", []), rules)
            if found is not None:
                matches.append(to_match(hit, request, found))
        matches.sort(key=lambda m: (-m.rank, m.first_seen, m.doc_id))
        return SearchResult(matches[: request.limit], len(matches))
    sort = None if request.text.strip() else [{"first_seen": "desc"}, {"ad_id": "asc"}]
    resp = store.client.search(index=store.ads, query=query, size=request.limit, sort=sort, source=RESULT_FIELDS,
                               track_total_hits=True, track_scores=bool(request.text.strip()))
    matches = [to_match(hit, request, None) for hit in resp["hits"]["hits"]]
    return SearchResult(matches, resp["hits"]["total"]["value"])
