"""A tiny deployment with a refused bridge and a merge, written as the crawler writes ads and linked by the real Worker.

The bridge: networks a and b keep their own phone on six ads in their own city; a single handle
(a misread, or a copied contact) sits on one ad of each. Alone it would merge the two networks and
nothing else joins them, so linking refuses it, and both networks' ads say so.
The merge: networks c and d are two clusters after the first run; then ads carrying both their
phones arrive, and the next run merges them into the older cluster (`merged_from` names the other).
"""

from __future__ import annotations

import io
import random
from pathlib import Path

from PIL import Image

from adwatch.bulk import BulkWriter, upsert
from adwatch.store import Store
from crawler.imagestore import ImageStore, inspect_image
from enrich.worker import Worker

BRIDGE_HANDLE = "telegram:@night_owl_jobs"
NETWORKS = {  # tag -> (phone as written, city, country, job)
    "a": ("+44 7911 123456", "Leeds", "GB", "cleaning staff for hotels"),
    "b": ("+44 7700 900461", "Bristol", "GB", "kitchen porters for restaurants"),
    "c": ("+44 7400 123987", "York", "GB", "warehouse pickers for nights"),
    "d": ("+44 7300 456789", "York", "GB", "farm workers for the season"),
}
ADS_PER_NETWORK = 6
JOINING_ADS = 6  # carry the phones of both c and d
PHOTO_AD = "demo-html:BA001"  # the one ad with a photo
WORDS = ("fast start", "good pay", "no experience needed", "shared housing arranged", "weekly cash", "transport given")


def _ad(tag: str, i: int, day: int, contact: str) -> tuple[str, dict]:
    _, city, country, job = NETWORKS[tag]
    ad_id = f"B{tag.upper()}{i:03d}"
    seen = f"2026-03-{day:02d}T09:00:00+00:00"
    return f"demo-html:{ad_id}", {
        "site": "demo-html", "ad_id": ad_id, "url": f"http://127.0.0.1/html/ad/{ad_id}",
        "title": f"Wanted {job.split()[0]} in {city} {i}",
        "body": f"We are looking for {job} in {city}: {WORDS[i % 6]} and {WORDS[(i + 2) % 6]}, "
                f"interviews this week number {i} of the campaign {tag}.",
        "contact_text": contact, "price": None, "currency": None, "city": city, "region": None,
        "country": country, "category": "jobs", "first_seen": seen, "last_seen": seen, "status": "active",
        "images": [], "enrich": {"status": "pending"},
    }


def photo_ref(image_dir: Path) -> dict:
    """A noise picture (plenty of detail) stored as the crawler's image store stores photos."""
    rng = random.Random(7)
    picture = Image.new("RGB", (96, 72))
    picture.putdata([(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(96 * 72)])
    data = io.BytesIO()
    picture.save(data, "PNG")
    facts = inspect_image(data.getvalue())
    path, _ = ImageStore(image_dir).put(data.getvalue(), facts)
    return {"url": "http://127.0.0.1/html/img/bridge.png", "sha256": facts.sha256, "path": path}


def first_docs(image_dir: Path) -> dict[str, dict]:
    """Every network's own ads; ad 0 of a and of b also carries the bridging handle, ad 1 of a a photo."""
    docs = dict(_ad(tag, i, 1 + i + 7 * k, f"Call {phone}" + (f" or {BRIDGE_HANDLE}" if tag in "ab" and i == 0 else ""))
                for k, (tag, (phone, *_)) in enumerate(NETWORKS.items()) for i in range(ADS_PER_NETWORK))
    docs[PHOTO_AD]["images"] = [photo_ref(image_dir)]
    return docs


def joining_docs() -> dict[str, dict]:
    """Ads naming both c's and d's phone: what makes the next run merge their clusters."""
    both = f"Call {NETWORKS['c'][0]} or {NETWORKS['d'][0]}"
    return dict(_ad("d", ADS_PER_NETWORK + i, 28, both) for i in range(JOINING_ADS))


def _index_and_link(store: Store, docs: dict[str, dict], image_dir: Path) -> None:
    report = BulkWriter(store.client, refresh="wait_for").write(
        upsert(store.ads_partition(doc["first_seen"]), doc_id, doc) for doc_id, doc in docs.items())
    assert report.failed == 0, report.errors[:3]
    Worker(store, image_dir).run()


def build_bridge_world(store: Store, image_dir: Path) -> tuple[str, str]:
    """Index, enrich and link both rounds into `store` (schema created); returns (merged cluster id, survivor id)."""
    store.ensure_schema()
    image_dir = Path(image_dir)
    image_dir.mkdir(parents=True, exist_ok=True)
    _index_and_link(store, first_docs(image_dir), image_dir)
    clusters = _clusters_of(store, "cd")
    _index_and_link(store, joining_docs(), image_dir)
    return clusters["d"], clusters["c"]


def _clusters_of(store: Store, tags: str) -> dict[str, str]:
    ids = [f"demo-html:B{tag.upper()}001" for tag in tags]
    hits = store.client.search(index=store.ads, query={"ids": {"values": ids}}, source=["cluster_id"])["hits"]["hits"]
    found = {hit["_id"]: hit["_source"]["cluster_id"] for hit in hits}
    return {tag: found[f"demo-html:B{tag.upper()}001"] for tag in tags}
