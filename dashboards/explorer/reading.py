"""What the explorer's pages read from the index, with the analyst's own client (the index edge).

Every function takes the signed-in analyst's Store, so Elasticsearch's roles decide what comes
back; nothing here writes. Pages are assembled from these reads by pure code (evidence, graph).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from elasticsearch import NotFoundError

from adwatch.store import Store
from dashboards.explorer.evidence import EvidenceGraph, evidence_graph
from dashboards.explorer.graph import AdNode, Drawing, draw
from dashboards.lookup_cluster import TimelineAd, activity, short_title, timeline_ad

MEMBER_FIELDS = ["site", "ad_id", "city", "country", "first_seen", "title", "images.sha256", "images.low_detail",
                 "links"]
# Stored for linking, not for reading: score tables, LSH keys, photo index keys.
AD_NOT_SHOWN = ["text_pairs", "minhash_bands", "images.hash_bands", "text_links"]
SHA256 = re.compile(r"[0-9a-f]{64}")
ONE_SEARCH = 10_000  # Elasticsearch's default result window: clusters up to this size are read in one request


class ClusterMoved(Exception):
    """The cluster was merged into another (its id is in that one's `merged_from`)."""

    def __init__(self, survivor: str) -> None:
        super().__init__(survivor)
        self.survivor = survivor


class Missing(LookupError):
    """No such cluster or ad for these credentials; the message says what to do."""


@dataclass(frozen=True)
class Photo:
    sha256: str
    ads: tuple[str, ...]  # member ads showing it (doc ids), oldest first
    image: int  # its index among the first ad's images


@dataclass(frozen=True)
class ClusterPage:
    doc: dict  # the clusters-index document
    members: list[TimelineAd]  # oldest first
    graph: EvidenceGraph
    drawing: Drawing
    clusters_of: dict[str, str]  # ads outside the cluster that bridges name -> their cluster ('' if none)
    photos: list[Photo]  # distinct photos, shown on most ads first
    sites: list[tuple[str, int]]
    cities: list[tuple[str, int]]
    countries: list[tuple[str, int]]
    activity: tuple[str, list]  # see dashboards.lookup_cluster.activity
    joins: dict[str, list[str]]  # refused bridge key -> the other clusters it would have merged this one with

    @property
    def activity_top(self) -> int:
        """The most ads on one day (weeks) or in one month, for the timeline's shading."""
        granularity, rows = self.activity
        if granularity == "week":
            return max((max(counts) for _, counts in rows), default=1) or 1
        return max((ads for _, (ads, _) in rows), default=1) or 1


# ------------------------------------------------------------------ clusters


def cluster_doc(store: Store, cluster_id: str) -> dict:
    """The cluster's document; ClusterMoved when it was merged, Missing when it never existed (or is not visible)."""
    try:
        return store.client.get(index=store.clusters, id=cluster_id)["_source"]
    except NotFoundError:
        pass
    survivor = store.client.search(index=store.clusters, size=1, query={"term": {"merged_from": cluster_id}},
                                   source=False)["hits"]["hits"]
    if survivor:
        raise ClusterMoved(survivor[0]["_id"])
    raise Missing(f"No cluster {cluster_id!r} in {store.clusters}: cluster ids come from search results or the "
                  "list of largest clusters.")


def largest_clusters(store: Store, n: int = 25) -> list[dict]:
    """The `n` largest clusters' documents (size, sites, cities, span, identifiers), largest first."""
    resp = store.client.search(index=store.clusters, size=n, sort=[{"size": "desc"}, {"cluster_id": "asc"}],
                               source=["cluster_id", "size", "sites", "cities", "first_seen", "last_seen",
                                       "identifiers", "merged_from"])
    return [hit["_source"] for hit in resp["hits"]["hits"]]


def clusters_by_id(store: Store, ids: Iterable[str]) -> dict[str, dict]:
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    resp = store.client.search(index=store.clusters, size=len(wanted), query={"ids": {"values": wanted}},
                               source=["cluster_id", "size", "sites", "cities", "first_seen", "last_seen",
                                       "identifiers"])
    return {hit["_id"]: hit["_source"] for hit in resp["hits"]["hits"]}


def load_cluster_page(store: Store, cluster_id: str) -> ClusterPage:
    """Everything the cluster page shows: one get, one scan of its members, one look-up of bridged ads."""
    doc = cluster_doc(store, cluster_id)
    hits = members_of(store, cluster_id, doc.get("size") or 0)
    ids = {hit["_id"] for hit in hits}
    members = sorted((timeline_ad(hit, ids) for hit in hits), key=lambda ad: (ad.day, ad.doc_id))
    graph = evidence_graph({hit["_id"]: hit["_source"].get("links", []) for hit in hits})
    outside = sorted(graph.outside_ads())
    clusters_of = {doc_id: src.get("cluster_id") or "" for doc_id, src in
                   ads_by_id(store, outside, ["cluster_id"]).items()}
    nodes = {ad.doc_id: AdNode(ad.doc_id, ad.site, ad.ad_id, ad.city, ad.day, ad.title) for ad in members}
    sources = [hit["_source"] for hit in hits]
    joins = {r.key: sorted({clusters_of.get(ad, "") for ad in r.outside} - {"", cluster_id}) for r in graph.bridges}
    return ClusterPage(doc, members, graph, draw(cluster_id, graph, nodes, clusters_of), clusters_of,
                       distinct_photos(hits, [ad.doc_id for ad in members]),
                       _tally(s.get("site") for s in sources), _tally(s.get("city") for s in sources),
                       _tally(s.get("country") for s in sources), activity([ad.day for ad in members]), joins)


def members_of(store: Store, cluster_id: str, size: int) -> list[dict]:
    """The member ads' hits: one search when the cluster fits a result window, else a scan (one page per 1000)."""
    query = {"term": {"cluster_id": cluster_id}}
    room = min(ONE_SEARCH, max(2 * size, 100))  # the document's size may lag an incremental run a little
    resp = store.client.search(index=store.ads, query=query, size=room, source=MEMBER_FIELDS, track_total_hits=True)
    if resp["hits"]["total"]["value"] <= len(resp["hits"]["hits"]):
        return resp["hits"]["hits"]
    return list(store.scan(store.ads, query, source=MEMBER_FIELDS))


def distinct_photos(hits: list[dict], oldest_first: list[str]) -> list[Photo]:
    """Each usable photo once, with the member ads showing it; the most shown first."""
    rank = {doc_id: i for i, doc_id in enumerate(oldest_first)}
    shown: dict[str, list[tuple[int, str, int]]] = {}
    for hit in hits:
        for i, image in enumerate(hit["_source"].get("images") or []):
            sha = image.get("sha256")
            if sha and not image.get("low_detail"):
                shown.setdefault(sha, []).append((rank.get(hit["_id"], 0), hit["_id"], i))
    photos = []
    for sha, where in shown.items():
        where.sort()
        photos.append(Photo(sha, tuple(dict.fromkeys(doc_id for _, doc_id, _ in where)), where[0][2]))
    photos.sort(key=lambda p: (-len(p.ads), rank.get(p.ads[0], 0), p.sha256))
    return photos


def _tally(values: Iterable[str | None]) -> list[tuple[str, int]]:
    return sorted(Counter(v for v in values if v).items(), key=lambda item: (-item[1], item[0]))


# ------------------------------------------------------------------ ads


def ads_by_id(store: Store, doc_ids: Iterable[str], fields: list[str] | bool = True) -> dict[str, dict]:
    """Sources of the given ads that exist (an ids query: the ads alias spans monthly partitions)."""
    wanted = sorted(set(doc_ids))
    if not wanted:
        return {}
    query = {"ids": {"values": wanted}}
    if len(wanted) > ONE_SEARCH:
        return {hit["_id"]: hit["_source"] for hit in store.scan(store.ads, query, source=fields)}
    resp = store.client.search(index=store.ads, size=len(wanted), query=query, source=fields)
    return {hit["_id"]: hit["_source"] for hit in resp["hits"]["hits"]}


def load_ad(store: Store, doc_id: str) -> dict:
    """One ad's document without linking's internals; Missing when there is none (for these credentials)."""
    resp = store.client.search(index=store.ads, size=1, query={"ids": {"values": [doc_id]}},
                               source={"excludes": AD_NOT_SHOWN})
    hits = resp["hits"]["hits"]
    if not hits:
        raise Missing(f"No ad {doc_id!r} in {store.ads}: ad ids look like 'site:ad id', as search results show them.")
    return hits[0]["_source"]


def linked_ads(store: Store, ad: dict) -> dict[str, dict]:
    """Short facts (site, ad id, city, title, cluster) of the ads an ad's links name."""
    found = ads_by_id(store, [link.get("ad", "") for link in ad.get("links") or []],
                      ["site", "ad_id", "city", "title", "cluster_id"])
    return {doc_id: {**src, "title": short_title(src.get("title"))} for doc_id, src in found.items()}


# ------------------------------------------------------------------ photos


def may_see_photo(store: Store, sha256: str) -> bool:
    """Whether these credentials can read an ad showing this photo (the image store itself has no roles)."""
    return store.count(store.ads, {"term": {"images.sha256": sha256}}) > 0


def photo_file(image_dir: Path, sha256: str) -> Path | None:
    """The stored file of a photo, found by its sha256 alone (the store's `ab/cd/<sha256>.<ext>` layout)."""
    if not SHA256.fullmatch(sha256):
        return None
    folder = Path(image_dir) / sha256[:2] / sha256[2:4]
    found = sorted(folder.glob(f"{sha256}.*")) if folder.is_dir() else []
    return found[0] if found else None
