"""One cluster for the analyst: what its ads share, why they were linked, and its ads in time.

A controller's cluster can hold hundreds of ads, so the view summarises (activity per week or
month, the first and last ads) and pages; only the ads shown are described in full. Reading is
one scan of the members' short fields; everything after that is pure.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from elasticsearch import NotFoundError

from adwatch.errors import UserError
from adwatch.store import Store

AD_FIELDS = ["site", "ad_id", "city", "first_seen", "title", "links.ad", "links.evidence", "links.suppressed",
             "links.detail"]
WEEKS_SHOWN = 16
"""Activity is shown per week up to this many weeks, per month beyond."""

TITLE_CHARS = 40
"""Titles are cut to this many characters: terminals and logs get no more of an ad's text."""


def short_title(title: str | None, limit: int = TITLE_CHARS) -> str:
    """The first `limit` characters of a title on one line, '…' marking a cut."""
    flat = " ".join((title or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def require_ads(store: Store) -> None:
    """UserError when there is no ad to search (no schema yet, or nothing crawled)."""
    if not store.count(store.ads):
        raise UserError(f"The ads index {store.ads} is empty: crawl first (`adwatch crawl SITE`), then "
                        "`adwatch enrich`; check ADWATCH_INDEX_PREFIX if you expected a deployment here.")


@dataclass(frozen=True)
class TimelineAd:
    """One member ad as the timeline shows it."""

    doc_id: str
    site: str
    ad_id: str
    city: str
    day: str  # first seen, YYYY-MM-DD
    title: str  # already cut short
    linked: str  # evidence tying it to the other members, see `how_linked`


@dataclass(frozen=True)
class ClusterView:
    cluster: dict  # the clusters-index document
    ads: list[TimelineAd]  # every member, oldest first
    hubs: list[tuple[str, int]]  # hub explanation -> member ads whose evidence it weakened


@dataclass(frozen=True)
class Page:
    """The ads to show: `head`, then `hidden` ads left out, then `tail` (empty unless summarised)."""

    head: list[TimelineAd]
    hidden: int = 0
    tail: tuple[TimelineAd, ...] = ()
    number: int | None = None  # page number when paging
    pages: int = 1


# ------------------------------------------------------------------ pure parts


EVIDENCE_WORDS = {"identifier": "id", "image": "photo", "text": "text"}


def how_linked(links: list[dict], members: set[str]) -> str:
    """Links joining an ad to other members, by evidence, e.g. 'id 2 · photo 5'; hub-suppressed links do not join.

    Enrichment keeps an ad's strongest links only (enrich.linking.MAX_LINKS_PER_AD), so counts are capped.
    """
    counts = Counter(link["evidence"] for link in links if not link.get("suppressed") and link.get("ad") in members)
    return " · ".join(f"{word} {counts[kind]}" for kind, word in EVIDENCE_WORDS.items() if counts[kind])


def hub_notes(link_lists: list[list[dict]]) -> list[tuple[str, int]]:
    """Hubs that weakened members' evidence ('hub KEY: shared by N ads ...') with how many members they touch."""
    touched: Counter = Counter()
    for links in link_lists:
        notes = {link.get("detail", "") for link in links if link.get("suppressed")}
        touched.update({"hub " + note.split("hub ", 1)[1] for note in notes if "hub " in note})
    return sorted(touched.items(), key=lambda item: (-item[1], item[0]))


def timeline_ad(hit: dict, members: set[str]) -> TimelineAd:
    src = hit["_source"]
    return TimelineAd(hit["_id"], src.get("site", ""), src.get("ad_id", ""), src.get("city") or "",
                      (src.get("first_seen") or "")[:10], short_title(src.get("title")),
                      how_linked(src.get("links", []), members))


def activity(days: list[str], weeks_shown: int = WEEKS_SHOWN) -> tuple[str, list[tuple[str, list[int]]]]:
    """Ads first seen per day, grouped by ISO week (Mon..Sun counts) or, for long spans, by month.

    Returns ('week', [(monday, [7 counts])]) or ('month', [(YYYY-MM, [ads, active days])]), oldest first.
    Days are 'YYYY-MM-DD'; empty input gives ('week', []).
    """
    per_day = Counter(date.fromisoformat(d) for d in days if d)
    if not per_day:
        return "week", []
    first, last = min(per_day), max(per_day)
    monday = first - timedelta(days=first.weekday())
    weeks = (last - monday).days // 7 + 1
    if weeks <= weeks_shown:
        rows = []
        for w in range(weeks):
            start = monday + timedelta(weeks=w)
            rows.append((start.isoformat(), [per_day[start + timedelta(days=k)] for k in range(7)]))
        return "week", rows
    months: dict[str, list[int]] = {}
    for day, n in sorted(per_day.items()):
        row = months.setdefault(day.isoformat()[:7], [0, 0])
        row[0] += n
        row[1] += 1
    return "month", list(months.items())


def choose_page(ads: list[TimelineAd], page_size: int, page: int | None = None, show_all: bool = False) -> Page:
    """Which ads to show: all; page `page` (1-based); or, by default, the first and last halves of a page.

    UserError for a page beyond the last.
    """
    pages = max(1, math.ceil(len(ads) / page_size))
    if show_all or (page is None and len(ads) <= page_size):
        return Page(list(ads), pages=pages)
    if page is not None:
        if not 1 <= page <= pages:
            raise UserError(f"--page {page}: this cluster has {len(ads)} ads, that is {pages} page(s) of {page_size}; "
                            f"give --page 1 to {pages}, or --all.")
        return Page(ads[(page - 1) * page_size : page * page_size], number=page, pages=pages)
    first = math.ceil(page_size / 2)
    last = page_size - first
    return Page(ads[:first], len(ads) - first - last, tuple(ads[len(ads) - last :] if last else ()), pages=pages)


# ------------------------------------------------------------------ the index edge


def load_cluster(store: Store, cluster_id: str) -> ClusterView:
    """The cluster document and its ads, oldest first; UserError naming what to do when there is none."""
    require_ads(store)
    doc = find_cluster(store, cluster_id)
    hits = list(store.scan(store.ads, {"term": {"cluster_id": cluster_id}}, source=AD_FIELDS))
    members = {hit["_id"] for hit in hits}
    ads = sorted((timeline_ad(hit, members) for hit in hits), key=lambda ad: (ad.day, ad.doc_id))
    return ClusterView(doc, ads, hub_notes([hit["_source"].get("links", []) for hit in hits]))


def find_cluster(store: Store, cluster_id: str) -> dict:
    """The clusters-index document of `cluster_id`; UserError saying where it went or how to find ids."""
    try:
        return store.client.get(index=store.clusters, id=cluster_id)["_source"]
    except NotFoundError:
        pass
    if not store.count(store.clusters):
        raise UserError(f"No clusters in {store.clusters} yet: run `adwatch enrich` to link the crawled ads.")
    survivor = store.client.search(index=store.clusters, size=1, query={"term": {"merged_from": cluster_id}},
                                   source=["cluster_id"])["hits"]["hits"]
    if survivor:
        into = survivor[0]["_id"]
        raise UserError(f"Cluster {cluster_id} was merged into {into}: see `adwatch cluster {into}`.")
    raise UserError(f"No cluster {cluster_id!r} in {store.clusters}. Cluster ids are in the cluster column of "
                    f"`adwatch search` results; the largest clusters are {', '.join(largest_clusters(store))}.")


def largest_clusters(store: Store, n: int = 5) -> list[str]:
    """'<id> (<size> ads)' of the `n` largest clusters, for messages that point somewhere."""
    resp = store.client.search(index=store.clusters, size=n, sort=[{"size": "desc"}, {"cluster_id": "asc"}],
                               source=["size"])
    return [f"{hit['_id']} ({hit['_source']['size']} ads)" for hit in resp["hits"]["hits"]]
