"""What the index already knows about a site's ads, and how one crawl run updates it.

The crawl decides new / changed / unchanged / removed by comparing with this ledger, loaded once
at the start of a run. Every update stamps the run id on the ad, so a run resumed after a crash
skips what it already wrote, and the run's counts are index queries rather than memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from adwatch.bulk import BulkAction, Version, upsert
from adwatch.store import Store

from crawler.items import CrawledAd


@dataclass(frozen=True)
class RunClock:
    """The run being recorded and its notion of 'now' (ISO 8601, UTC)."""

    run_id: str
    now: str


@dataclass
class KnownAd:
    doc_id: str
    index: str
    url: str
    content_hash: str | None
    listing_key: str | None
    status: str
    first_seen: str
    edits: int
    run_id: str | None
    images: dict[str, dict] = field(default_factory=dict)  # url -> stored image fields
    version: Version | None = None  # as read: an edit is counted only on top of this very document
    # A photo that failed for a reason that may pass (the store full, a download cut off, a server
    # error): the ad is fetched again even when its listing entry is unchanged, to fill it in.
    photos_owed: bool = False

    @classmethod
    def of(cls, hit: dict) -> "KnownAd":
        """From a search hit or get response (read with its `_seq_no` and `_primary_term`)."""
        src = hit["_source"]
        crawl = src.get("crawl", {})
        return cls(doc_id=hit["_id"], index=hit["_index"], url=src.get("url", ""),
                   content_hash=src.get("content_hash"), listing_key=crawl.get("listing_key"),
                   status=src.get("status", "active"), first_seen=src["first_seen"], edits=src.get("edits", 0),
                   run_id=crawl.get("run_id"),
                   # Reused as stored; a photo that failed for a passing reason is downloaded again.
                   images={i["url"]: i for i in src.get("images", [])
                           if i.get("sha256") and not _passing(i.get("error"))},
                   version=Version.of(hit),
                   photos_owed=any(_passing(i.get("error")) for i in src.get("images", [])))


class Ledger:
    """The known ads of one site, by document id and by URL."""

    FIELDS = ["url", "content_hash", "status", "first_seen", "edits", "crawl.run_id", "crawl.listing_key",
              "images"]

    def __init__(self, ads: list[KnownAd]) -> None:
        self.by_id = {ad.doc_id: ad for ad in ads}
        self.by_url = {ad.url: ad for ad in ads}

    @classmethod
    def load(cls, store: Store, site: str) -> "Ledger":
        return cls([KnownAd.of(hit) for hit in store.scan(store.ads, {"term": {"site": site}}, source=cls.FIELDS,
                                                            versions=True)])

    def active_not_in(self, seen_ids: set[str], run_id: str) -> list[KnownAd]:
        """Active ads this run has neither seen in a listing nor already handled: removal candidates."""
        return [ad for ad in self.by_id.values()
                if ad.status == "active" and ad.doc_id not in seen_ids and ad.run_id != run_id]


def record_seen(ad: CrawledAd, known: KnownAd | None, clock: RunClock, partition: str) -> tuple[str, BulkAction]:
    """The write for a fetched detail page: ('new' | 'changed' | 'unchanged', action)."""
    crawl = {"run_id": clock.run_id, "fetched_at": clock.now, "http_status": ad.http_status,
             "listing_key": ad.listing_key, "notes": ad.notes or None}
    base = {"last_seen": clock.now, "status": "active", "removed_at": None}
    digest = ad.content_hash()
    if known is None:
        # first_seen, edits and first_run are set only when the document is created: a second crawl
        # that also took the ad for new (two crawls of one site at once) must not reset them, and
        # cluster ids derive from first_seen.
        doc = {**ad.as_fields(), **base, "content_hash": digest, "enrich": {"status": "pending"},
               "crawl": _clean(crawl)}
        once = {"first_seen": clock.now, "edits": 0, "crawl": {"first_run": clock.run_id}}
        return "new", upsert(partition, ad.doc_id, doc, on_insert=once)
    if known.content_hash == digest and known.status == "active":
        if known.photos_owed:
            # Not an edit (the reader sees the same ad), but photos that failed last time may be
            # filled now: they are written, and the ad is enriched again for them.
            photos = {"images": ad.as_fields().get("images", []), "enrich": {"status": "pending"}}
            return "unchanged", upsert(known.index, ad.doc_id, {**base, **photos, "crawl": _clean(crawl)})
        return "unchanged", upsert(known.index, ad.doc_id, {**base, "crawl": _clean(crawl)})
    # A changed (or reappeared) ad is re-enriched: its text, images or contacts may differ now.
    crawl["changed_run"] = clock.run_id
    doc = {**ad.as_fields(), **base, "content_hash": digest, "edits": known.edits + 1,
           "enrich": {"status": "pending"}, "crawl": _clean(crawl)}
    # Only on top of the document read: a bulk retried after a lost answer, another crawl, or the
    # enricher writing meanwhile makes it a conflict, and the ad is read again and decided again
    # (`record_seen` on the fresh read), so an edit is counted once.
    return "changed", upsert(known.index, ad.doc_id, doc, expect=known.version)


def record_listed_unchanged(known: KnownAd, clock: RunClock) -> BulkAction:
    """The listing shows nothing changed: the detail page is not fetched, the ad is only seen again."""
    return upsert(known.index, known.doc_id, {"last_seen": clock.now,
                                              "crawl": {"run_id": clock.run_id, "listing_key": known.listing_key}})


def record_removed(known: KnownAd, clock: RunClock, http_status: int, reason: str) -> BulkAction:
    """The ad is gone; `reason` (http_404, marker, redirect, soft_404) is kept in the crawl notes."""
    return upsert(known.index, known.doc_id, {
        "status": "removed", "removed_at": clock.now,
        "crawl": {"run_id": clock.run_id, "removed_run": clock.run_id, "http_status": http_status,
                  "fetched_at": clock.now, "notes": [f"removed: {reason}"]},
    })


def _clean(mapping: dict) -> dict:
    return {k: v for k, v in mapping.items() if v is not None}


# Image errors worth another try; the others (corrupt, not an image, too large, 404) come back alike.
_PASSING_IMAGE_ERRORS = ("store", "download", "http_5", "http_429")


def _passing(error: str | None) -> bool:
    return bool(error) and error.startswith(_PASSING_IMAGE_ERRORS)
