"""Index a demo world's ads straight into the ads index, as the crawler would have written them.

For enrichment tests and benchmarks only (the issue allows it); `make demo` goes through the crawler.
Images are stored content-addressed exactly as the crawler's image store does.

World families: a footer world's site footer (customer-service number, email, handle) is appended to
every ad's body, as a naive site definition (body = the whole page's text) would store it;
`footer_into="contact"` appends it to the contact text instead, None leaves it out (a good `exclude`).
A no-country world's missing country, region or city are stored as absent (None), as the crawler does
for a selector that matches nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

from adwatch.bulk import BulkWriter, upsert
from adwatch.store import Store
from crawler.imagestore import ImageStore, inspect_image
from demo.compose import day_date
from demo.world import read_meta

FOOTER_PLACES = ("body", "contact", None)


def world_docs(world: Path, image_store: ImageStore, day: int | None = None, only=None, footer_into: str | None = "body"):
    """Crawl-shaped documents of the world's ads live on `day` (all ads when None)."""
    if footer_into not in FOOTER_PLACES:
        raise ValueError(f"footer_into must be one of {FOOTER_PLACES}, got {footer_into!r}")
    footers = read_meta(world).get("footer") or {}
    with (world / "ads.jsonl").open(encoding="utf-8") as lines:
        for ad in map(json.loads, lines):
            if day is not None and (ad["first_day"] > day or (ad["removed_day"] is not None and ad["removed_day"] <= day)):
                continue
            if only is not None and not only(ad):
                continue
            site = "demo-html" if ad["flavour"] == "html" else "demo-js"
            images = []
            for name in ad["images"]:
                data = (world / "images" / name).read_bytes()
                facts = inspect_image(data)
                ref = {"url": f"http://127.0.0.1/{ad['flavour']}/img/{name}", "sha256": facts.sha256}
                if facts.error:
                    ref["error"] = facts.error
                else:
                    ref["path"], _ = image_store.put(data, facts)
                images.append(ref)
            seen = day_date(ad["first_day"]) + "T00:00:00+00:00"
            body, contact = ad["body"], ad["contact"]
            footer = footers.get(site, {}).get("text") if footer_into else None
            if footer and footer_into == "body":
                body = f"{body}\n{footer}"
            elif footer:
                contact = f"{contact} | {footer}" if contact else footer
            yield f"{site}:{ad['ad_id']}", {
                "site": site, "ad_id": ad["ad_id"], "url": f"http://127.0.0.1/{ad['flavour']}/ad/{ad['ad_id']}",
                "title": ad["title"], "body": body, "contact_text": contact or None,
                "price": ad["price"], "currency": ad["currency"], "city": ad["city"] or None,
                "region": ad["region"] or None, "country": ad["country"] or None, "category": ad["category"],
                "first_seen": seen, "last_seen": seen,
                "status": "active", "images": images, "enrich": {"status": "pending"},
            }


def index_world(store: Store, world: Path, image_dir: Path, day: int | None = None, only=None,
                footer_into: str | None = "body") -> int:
    image_store = ImageStore(image_dir)
    report = BulkWriter(store.client, refresh="wait_for").write(
        upsert(store.ads_partition(doc["first_seen"]), doc_id, doc)
        for doc_id, doc in world_docs(world, image_store, day, only, footer_into))
    assert report.failed == 0, report.errors[:3]
    return report.ok


def enriched_docs(world: Path, image_dir: Path, footer_into: str | None = "body", processes: int = 1) -> dict[str, dict]:
    """doc id -> the world's crawl-shaped document with the fields `profile_ad` adds, without an index.

    Exactly what the worker would store (same documents, same enrichment), for tests and benchmarks
    that score linking on many worlds. `processes` > 1 enriches in a pool of that many workers.
    """
    docs = [(doc_id, doc, str(image_dir)) for doc_id, doc in world_docs(world, ImageStore(image_dir),
                                                                        footer_into=footer_into)]
    if processes > 1:
        import multiprocessing

        with multiprocessing.get_context("fork").Pool(processes) as pool:
            return dict(pool.imap(_enriched, docs, chunksize=64))
    return dict(map(_enriched, docs))


def _enriched(item: tuple[str, dict, str]) -> tuple[str, dict]:
    from enrich.profile import profile_ad
    from enrich.worker import image_bytes

    doc_id, doc, image_dir = item
    return doc_id, {**doc, **profile_ad(doc, image_bytes(doc.get("images"), Path(image_dir))).fields}
