"""The enrichment worker: the I/O edge of the enrich stage.

1. Enrich: every pending ad (enrich.status = pending) gets identifiers, text signature and image
   hashes (`profile_ad`), written back with status done and any errors. One bad ad never stops
   the run: its problems are recorded on it.
2. Link: facts of every enriched ad are loaded from the index; only pairs touching newly
   enriched ads are compared (unless rebuilding), earlier verdicts come from the ads' stored links.
3. Write: each ad's cluster id and explanations; one document per cluster; clusters that merged
   into another are deleted (their ids live on in the survivor's merged_from).
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import orjson

from adwatch.bulk import BulkAction, BulkWriter, delete, replace, upsert
from adwatch.logs import progress
from adwatch.store import Store
from enrich.blocking import AdFacts, ImageKey, text_codes
from enrich.comparison import Evidence, LinkRules, text_detail
from enrich.linking import LinkResult, link
from enrich.profile import ENRICH_VERSION, profile_ad
from enrich.summary import AdMeta, summarise

log = logging.getLogger(__name__)

LINK_FIELDS = ["site", "city", "country", "first_seen", "last_seen", "identifiers", "contacts.normalised",
               "contacts.placeholder", "minhash_bands", "template_text", "images.phash", "images.dhash",
               "images.phash_flip", "images.dhash_flip", "images.low_detail", "cluster_id", "links", "text_links",
               "enrich.status"]


@dataclass
class LoadedFacts:
    """Everything linking needs from the index, and what the write-back compares against."""

    facts: list[AdFacts] = field(default_factory=list)
    meta: dict[str, AdMeta] = field(default_factory=dict)
    previous: dict[str, str | None] = field(default_factory=dict)  # ad -> cluster id before this run
    stored: list[Evidence] = field(default_factory=list)  # text verdicts of earlier runs
    index_of: dict[str, str] = field(default_factory=dict)  # ad -> concrete index (partition)
    old_links: dict[str, tuple] = field(default_factory=dict)  # ad -> (links, text_links) as stored


@dataclass
class WorkerReport:
    enriched: int = 0
    enrich_errors: int = 0
    linked_ads: int = 0
    clusters: int = 0
    ads_updated: int = 0
    clusters_deleted: int = 0
    write_failures: int = 0
    link_stats: dict = field(default_factory=dict)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _read_image(root: Path, rel: str) -> bytes | None:
    try:
        return (root / rel).read_bytes()
    except OSError:
        return None


class Worker:
    def __init__(self, store: Store, image_dir: Path, rules: LinkRules = LinkRules(), batch: int = 500) -> None:
        self.store = store
        self.image_dir = Path(image_dir)
        self.rules = rules
        self.batch = batch
        self.writer = BulkWriter(store.client)

    # ------------------------------------------------------------------ enrich

    def enrich_pending(self, everything: bool = False) -> tuple[set[str], int]:
        """Enrich pending ads (all ads when `everything`); returns (their ids, how many had errors)."""
        query = {"match_all": {}} if everything else {"term": {"enrich.status": "pending"}}
        done: set[str] = set()
        errors = 0
        actions: list[BulkAction] = []
        total = self.store.client.count(index=self.store.ads, query=query)["count"]
        with progress("Enriching", total) as advance:
            for hit in self.store.scan(self.store.ads, query, source=["title", "body", "contact_text", "country",
                                                                       "city", "region", "images"]):
                src = hit["_source"]
                images = {i["path"]: _read_image(self.image_dir, i["path"])
                          for i in src.get("images", []) if i.get("path")}
                profile = profile_ad(src, images)
                errors += bool(profile.errors)
                fields = {**profile.fields, "enrich": {"status": "done", "version": ENRICH_VERSION,
                                                       "processed_at": _now(), "errors": profile.errors}}
                actions.append(upsert(hit["_index"], hit["_id"], fields))
                done.add(hit["_id"])
                if len(actions) >= self.batch:
                    self._write(actions)
                    advance(len(actions))
                    actions = []
            self._write(actions)
            advance(len(actions))
        self.store.client.indices.refresh(index=self.store.ads)
        return done, errors

    # ------------------------------------------------------------------ link

    def load_facts(self) -> LoadedFacts:
        loaded = LoadedFacts()
        query = {"term": {"enrich.status": "done"}}
        for hit in self.store.scan(self.store.ads, query, source=LINK_FIELDS):
            src, doc_id = hit["_source"], hit["_id"]
            loaded.index_of[doc_id] = hit["_index"]
            images = [i for i in src.get("images", []) if i.get("phash") and not i.get("low_detail")]
            contacts = src.get("contacts", [])
            identifiers = tuple(src.get("identifiers", []))
            template = src.get("template_text", "")
            loaded.facts.append(AdFacts(
                doc_id=doc_id, first_seen=src.get("first_seen", ""), identifiers=identifiers,
                placeholders=tuple(sorted({c["normalised"] for c in contacts if c.get("placeholder")})),
                text_keys=text_codes(src.get("minhash_bands", [])), template=template,
                images=tuple(ImageKey(i["phash"], i["dhash"], i["phash_flip"], i["dhash_flip"]) for i in images),
            ))
            loaded.meta[doc_id] = AdMeta(src.get("site", ""), src.get("city"), src.get("country"),
                                         src.get("first_seen", ""), src.get("last_seen", src.get("first_seen", "")),
                                         template, identifiers)
            loaded.previous[doc_id] = src.get("cluster_id")
            loaded.old_links[doc_id] = (src.get("links", []), src.get("text_links", []))
            # Photos are matched afresh every run; only text verdicts are worth keeping, and they come
            # whole from text_links (`links` is cut at MAX_LINKS_PER_AD).
            for record in src.get("text_links", []):
                other, score = record.rsplit("|", 1)
                loaded.stored.append(Evidence(doc_id, other, "text", float(score), text_detail(float(score))))
        return loaded

    def run(self, everything: bool = False, rebuild: bool = False) -> WorkerReport:
        report = WorkerReport()
        fresh, report.enrich_errors = self.enrich_pending(everything)
        report.enriched = len(fresh)
        began = time.monotonic()
        loaded = self.load_facts()
        report.linked_ads = len(loaded.facts)
        log.info("loaded the link facts of %d ads in %.1f s", len(loaded.facts), time.monotonic() - began)
        focus = None if (rebuild or everything) else fresh
        if focus is not None and not focus:
            log.info("no newly enriched ads; clusters unchanged")
            return report
        result = link(loaded.facts, self.rules, focus=focus, stored=[] if focus is None else loaded.stored,
                      previous=loaded.previous)
        report.link_stats = result.stats
        report.clusters = len(result.clusters)
        log.info("linked %d ads into %d clusters in %.1f s", len(loaded.facts), len(result.clusters),
                 time.monotonic() - began, extra={"link.stats": result.stats})
        began = time.monotonic()
        self._write_links(result, loaded, report)
        log.info("wrote %d ads and %d clusters in %.1f s", report.ads_updated, len(result.clusters),
                 time.monotonic() - began)
        return report

    def _write_links(self, result: LinkResult, loaded: LoadedFacts, report: WorkerReport) -> None:
        now = _now()
        meta, previous, old_links = loaded.meta, loaded.previous, loaded.old_links
        cluster_of = {m: c.cluster_id for c in result.clusters for m in c.members}
        ad_actions = []
        text_links: dict[str, list[str]] = {}
        for e in result.pair_evidence:
            if e.kind == "text":
                text_links.setdefault(e.a, []).append(f"{e.b}|{e.score}")
        for doc_id, index in loaded.index_of.items():
            new_links = (result.links.get(doc_id, []), sorted(text_links.get(doc_id, [])))
            if cluster_of.get(doc_id) != previous.get(doc_id) or _digest(new_links) != _digest(old_links[doc_id]):
                ad_actions.append(upsert(index, doc_id, {"cluster_id": cluster_of.get(doc_id), "links": new_links[0],
                                                         "text_links": new_links[1]}))
        report.ads_updated = len(ad_actions)
        self._write(ad_actions)
        live = {c.cluster_id for c in result.clusters}
        stale = {cid for cid in previous.values() if cid and cid not in live}
        history = self._cluster_history()
        cluster_actions = []
        for c in result.clusters:
            doc = summarise(c, meta, result.links, now)
            # Merges accumulate: ids this cluster (or what it absorbed) absorbed in earlier runs stay listed;
            # it was created when the oldest of them was.
            absorbed = set(c.merged_from)
            created = [now]
            for cid in (c.cluster_id, *c.merged_from):
                merged_from, created_at = history.get(cid, ((), None))
                absorbed.update(merged_from)
                created += [created_at] if created_at else []
            doc["merged_from"] = sorted(absorbed - {c.cluster_id})
            doc["created_at"] = min(created)
            cluster_actions.append(replace(self.store.clusters, c.cluster_id, doc))
        cluster_actions += [delete(self.store.clusters, cid) for cid in sorted(stale)]
        report.clusters_deleted = len(stale)
        self._write(cluster_actions)
        self.store.refresh()

    def _cluster_history(self) -> dict[str, tuple[list[str], str | None]]:
        """cluster id -> (ids it absorbed, when it was created), from the clusters index."""
        return {h["_id"]: (h["_source"].get("merged_from", []), h["_source"].get("created_at"))
                for h in self.store.scan(self.store.clusters, source=["merged_from", "created_at"])}

    def _write(self, actions: list[BulkAction]) -> None:
        if not actions:
            return
        outcome = self.writer.write(actions)
        if outcome.failed:
            for error in outcome.errors[:20]:
                log.error("could not write %s: %s", error.id, error.reason)
            raise RuntimeError(f"{outcome.failed} of {len(actions)} writes failed; first: {outcome.errors[0].reason}")


def _digest(links) -> str:
    return hashlib.sha1(orjson.dumps(links, option=orjson.OPT_SORT_KEYS)).hexdigest()
