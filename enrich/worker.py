"""The enrichment worker: the I/O edge of the enrich stage.

1. Enrich: every pending ad (enrich.status = pending) gets identifiers, text signature and image
   hashes (`profile_ad`), written back with status done and any errors. One bad ad never stops
   the run: its problems are recorded on it.
2. Link: facts of every enriched ad are loaded from the index; only text pairs touching newly
   enriched ads are compared (unless rebuilding), the other scores come from the score table the
   ads store (`text_pairs`); `recluster` re-cuts that table with the current thresholds.
3. Write: first one document per cluster; then each ad's cluster id, explanations and score-table
   rows, marked linked in the same write; last, clusters no ad points at any more (merged into
   another: their ids live on in the survivor's merged_from) are deleted. No ad ever points at a
   cluster not written yet; an ad not written yet is still owed linking, so a run that dies in
   between is finished by the next, and clusters it left without ads are deleted then.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import orjson

from adwatch.bulk import BulkAction, BulkReport, BulkWriter, Version, delete, replace, update, upsert
from adwatch.lease import ENRICH_LEASE, Lease
from adwatch.logs import progress
from adwatch.store import Store
from enrich.comparison import LinkRules
from enrich.facts import LINK_FIELDS, AdFacts, facts_from_source, stored_text_scores
from enrich.linking import LinkResult, link
from enrich.parallel import Engine, Local, lane_batches, photo_lane
from enrich.profile import ENRICH_VERSION, PROFILE_FIELDS, profile_ad
from enrich.summary import summarise

log = logging.getLogger(__name__)


@dataclass
class LoadedFacts:
    """Everything linking needs from the index, and what the write-back compares against."""

    facts: list[AdFacts] = field(default_factory=list)
    previous: dict[str, str | None] = field(default_factory=dict)  # ad -> cluster id before this run
    stored: list[tuple[str, str, float]] = field(default_factory=list)  # the text score table of earlier runs
    index_of: dict[str, str] = field(default_factory=dict)  # ad -> concrete index (partition)
    old_digest: dict[str, str] = field(default_factory=dict)  # ad -> digest of (links, text_pairs) as stored
    owed: set[str] = field(default_factory=set)  # enriched ads not linked since (enrich.linked false)

    @property
    def meta(self) -> dict[str, AdFacts]:
        return {f.doc_id: f for f in self.facts}


@dataclass
class WorkerReport:
    enriched: int = 0
    enrich_errors: int = 0
    linked_ads: int = 0
    clusters: int = 0
    ads_updated: int = 0
    clusters_written: int = 0
    clusters_deleted: int = 0
    link_stats: dict = field(default_factory=dict)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def image_bytes(images: object, root: Path) -> dict[str, bytes | None]:
    """The stored files of an ad's images, by path (None: unreadable), as `profile_ad` takes them."""
    out: dict[str, bytes | None] = {}
    for image in images or []:
        if isinstance(image, dict) and image.get("path"):
            try:
                out[image["path"]] = (Path(root) / image["path"]).read_bytes()
            except OSError:
                out[image["path"]] = None
    return out


def enrichment(doc_id: str, src: dict, image_root: Path) -> dict:
    """The fields to write back for one ad: its enrichment, or the error that stopped it."""
    try:
        profile = profile_ad(src, image_bytes(src.get("images"), image_root))
    except Exception as exc:  # one bad ad must not stop the run: recorded on it, counted
        log.error("could not enrich %s (%s); recorded on the ad", doc_id, type(exc).__name__)
        return {"enrich": {"status": "error", "version": ENRICH_VERSION, "processed_at": _now(),
                           "errors": [{"stage": "profile", "reason": f"{type(exc).__name__}: {exc}"[:300]}]}}
    # Linking is owed until a link write-back clears it, so a run that dies between enriching
    # and linking leaves work the next run finds.
    return {**profile.fields, "enrich": {"status": "done", "linked": False, "version": ENRICH_VERSION,
                                         "processed_at": _now(), "errors": profile.errors}}


def enrich_chunk(chunk: tuple[str, list[tuple[str, dict]]]) -> list[dict]:
    """`enrichment` of a chunk of ads ((image root, [(id, crawled fields)])): what an engine's worker runs."""
    image_root, ads = chunk
    return [enrichment(doc_id, src, Path(image_root)) for doc_id, src in ads]


RARE_REFRESH_FROM = 10_000
"""Ads a run must rewrite before it slows the ads indices' refresh (adwatch.schema.BULK_REFRESH_INTERVAL)."""


class Worker:
    def __init__(self, store: Store, image_dir: Path, rules: LinkRules = LinkRules(), batch: int = 500,
                 engine: Engine | None = None, rare_refresh_from: int = RARE_REFRESH_FROM) -> None:
        self.rare_refresh_from = rare_refresh_from
        self.store = store
        self.image_dir = Path(image_dir)
        self.rules = rules
        self.batch = batch
        self.writer = BulkWriter(store.client)
        # For writes made as they are sent (the link write-back): the node indexes one chunk while
        # this process makes the next.
        self.lazy_writer = BulkWriter(store.client, pipelined=True)
        # Where enrichment and text comparison run (enrich.parallel); reads and writes stay here.
        self.engine = engine or Local()

    # ------------------------------------------------------------------ enrich

    def enrich_pending(self, everything: bool = False) -> tuple[set[str], int]:
        """Enrich pending ads (all ads when `everything`); returns (their ids, how many had errors).

        Each write-back is conditional on the version read: an ad a crawl changed meanwhile is not
        overwritten with what was made from its old text, and stays pending for the next run. An ad
        whose enrichment raises is recorded with status `error` and the reason; the run goes on.
        """
        query = _to_enrich(everything)
        done: set[str] = set()
        errors = 0
        total = self.store.count(self.store.ads, query)
        hits = self.store.scan(self.store.ads, query, source=PROFILE_FIELDS, versions=True)
        root = str(self.image_dir)
        with progress("Enriching", total) as advance:
            # Each batch is read once and its result written once: a chunk an engine re-ran after a
            # worker died still comes back (and is written) once. Batches are cut by photo lane, so
            # a photo many ads show is decoded by one worker only.
            lanes = self.engine.workers
            batches = lane_batches(hits, self.batch, lanes, lambda h: photo_lane(h["_source"], lanes))
            for (_, batch), enriched in self.engine.imap(
                    enrich_chunk, batches, payload=lambda b: (root, [(h["_id"], h["_source"]) for h in b[1]]),
                    lane=lambda b: b[0]):
                actions: list[BulkAction] = []
                for hit, fields in zip(batch, enriched):
                    errors += bool(fields["enrich"]["errors"])
                    actions.append(update(hit["_index"], hit["_id"], fields, expect=Version.of(hit)))
                    if fields["enrich"]["status"] == "done":
                        done.add(hit["_id"])
                done -= set(self._write(actions).conflicts)
                advance(len(actions))
        self.store.refresh(self.store.ads)
        return done, errors

    # ------------------------------------------------------------------ link

    def load_facts(self) -> LoadedFacts:
        loaded = LoadedFacts()
        query = {"term": {"enrich.status": "done"}}
        for hit in self.store.scan(self.store.ads, query, source=LINK_FIELDS + ["links"]):
            src, doc_id = hit["_source"], hit["_id"]
            loaded.index_of[doc_id] = hit["_index"]
            loaded.facts.append(facts_from_source(doc_id, src))
            loaded.previous[doc_id] = src.get("cluster_id")
            loaded.old_digest[doc_id] = _digest((src.get("links", []), src.get("text_pairs", [])))
            loaded.stored += stored_text_scores(doc_id, src)
            if (src.get("enrich") or {}).get("linked") is False:
                loaded.owed.add(doc_id)
        return loaded

    def run(self, everything: bool = False, rebuild: bool = False, recut: bool = False,
            purpose: str = "adwatch enrich") -> WorkerReport:
        """Enrich pending ads (every ad with `everything`), then link. `rebuild` compares every
        candidate pair again; `recut` compares none and re-cuts the stored score table.

        Holds the enrich lease throughout (adwatch.lease): a second run, a recluster or a retention
        started meanwhile is refused, and a run whose lease was taken over stops before writing.
        A big run (pending ads, or every ad when it rewrites them all) has the ads indices refresh
        rarely meanwhile (`Store.refreshing_rarely`); the run refreshes where it reads back what it wrote."""
        with Lease(self.store, ENRICH_LEASE, purpose) as lease, self._refreshing(everything or rebuild or recut):
            return self._run(lease, everything, rebuild, recut)

    def _refreshing(self, rewrites_all: bool) -> AbstractContextManager:
        """A run that rewrites at least `rare_refresh_from` ads slows the ads indices' refresh while
        it runs; a smaller one is not worth the two settings updates (cluster-state changes)."""
        if self.store.count(self.store.ads, _to_enrich(rewrites_all)) >= self.rare_refresh_from:
            return self.store.refreshing_rarely(self.store.ads)
        return nullcontext()

    def _run(self, lease: Lease, everything: bool, rebuild: bool, recut: bool) -> WorkerReport:
        report = WorkerReport()
        fresh, report.enrich_errors = self.enrich_pending(everything)
        report.enriched = len(fresh)
        began = time.monotonic()
        loaded = self.load_facts()
        report.linked_ads = len(loaded.facts)
        log.info("loaded the link facts of %d ads in %.1f s", len(loaded.facts), time.monotonic() - began)
        if not (loaded.owed or rebuild or recut or everything):
            lease.check()
            report.clusters_deleted = self._delete_orphans(set(loaded.previous.values()))
            log.info("no ad is owed linking; clusters unchanged")
            return report
        # Owed ads are this run's fresh ones and any an interrupted run enriched but never linked.
        focus = None if (rebuild or everything) else loaded.owed
        result = link(loaded.facts, self.rules, focus=focus, stored=loaded.stored, previous=loaded.previous,
                      engine=self.engine)
        report.link_stats = result.stats
        report.clusters = len(result.clusters)
        log.info("linked %d ads into %d clusters in %.1f s", len(loaded.facts), len(result.clusters),
                 time.monotonic() - began, extra={"link.stats": result.stats})
        began = time.monotonic()
        lease.check()
        self._write_links(result, loaded, report, lease)
        log.info("wrote %d ads and %d clusters in %.1f s", report.ads_updated, len(result.clusters),
                 time.monotonic() - began)
        return report

    def _write_links(self, result: LinkResult, loaded: LoadedFacts, report: WorkerReport, lease: Lease) -> None:
        previous = loaded.previous
        live = {c.cluster_id for c in result.clusters}
        history, digests = self._cluster_history()
        report.clusters_written = self._write(self._cluster_writes(result, loaded, history, digests)).ok
        lease.check()
        report.ads_updated = self._write(self._ad_writes(result, loaded)).ok
        lease.check()
        # Every cluster document not rebuilt now is stale: merged away, or left with no ad (retention).
        stale = {cid for cid in (*previous.values(), *history) if cid and cid not in live}
        self._write([delete(self.store.clusters, cid) for cid in sorted(stale)])
        report.clusters_deleted = len(stale)
        self.store.refresh()

    def _cluster_writes(self, result: LinkResult, loaded: LoadedFacts, history: dict, digests: dict) -> Iterator[BulkAction]:
        """The documents of the clusters this run changed (made as they are written: the writer
        sends one chunk while the next is made)."""
        now = _now()
        meta = loaded.meta
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
            doc["digest"] = _summary_digest(doc)
            # A cluster this run left as it was is not rewritten: an incremental run writes the
            # clusters it touched (and their updated_at says when each last changed).
            if doc["digest"] != digests.get(c.cluster_id):
                yield replace(self.store.clusters, c.cluster_id, doc)

    def _ad_writes(self, result: LinkResult, loaded: LoadedFacts) -> Iterator[BulkAction]:
        """Each ad whose cluster, links or score rows changed (or that is owed linking), marked linked:
        its cluster's document is written before (above)."""
        cluster_of = {m: c.cluster_id for c in result.clusters for m in c.members}
        for doc_id, index in loaded.index_of.items():
            new = (result.links.get(doc_id, []), result.text_scores.rows(doc_id))
            owed = doc_id in loaded.owed
            if owed or cluster_of.get(doc_id) != loaded.previous.get(doc_id) or _digest(new) != loaded.old_digest[doc_id]:
                fields = {"cluster_id": cluster_of.get(doc_id), "links": new[0], "text_pairs": new[1],
                          "enrich": {"linked": True}}
                yield upsert(index, doc_id, fields)

    def _delete_orphans(self, referenced: set[str | None]) -> int:
        """Delete the cluster documents no ad points at (what a run that died before its last write
        left); how many there were."""
        orphans = sorted(h["_id"] for h in self.store.scan(self.store.clusters, source=False)
                         if h["_id"] not in referenced)
        if orphans:
            self._write([delete(self.store.clusters, cid) for cid in orphans])
            self.store.refresh(self.store.clusters)
            log.info("deleted %d cluster documents no ad points at (left by a run that stopped early)", len(orphans))
        return len(orphans)

    def _cluster_history(self) -> tuple[dict[str, tuple[list[str], str | None]], dict[str, str | None]]:
        """cluster id -> (ids it absorbed, when it was created), and -> the digest of its document
        (None for one written before digests were stored: rewritten once), from the clusters index."""
        history, digests = {}, {}
        for h in self.store.scan(self.store.clusters, source=["merged_from", "created_at", "digest"]):
            history[h["_id"]] = (h["_source"].get("merged_from", []), h["_source"].get("created_at"))
            digests[h["_id"]] = h["_source"].get("digest")
        return history, digests

    def _write(self, actions: Iterable[BulkAction]) -> BulkReport:
        # A list is made already: nothing to overlap with its sending (an enrichment batch is one chunk).
        outcome = (self.writer if isinstance(actions, list) else self.lazy_writer).write(actions)
        if outcome.failed:
            for error in outcome.errors[:20]:
                log.error("could not write %s: %s", error.id, error.reason)
            raise RuntimeError(f"{outcome.failed} of {outcome.ok + outcome.failed + len(outcome.conflicts)} writes "
                               f"failed; first: {outcome.errors[0].reason}")
        return outcome


def _to_enrich(everything: bool) -> dict:
    """The ads a run enriches: the pending ones, or every ad."""
    return {"match_all": {}} if everything else {"term": {"enrich.status": "pending"}}


def _summary_digest(doc: dict) -> str:
    return _digest({k: v for k, v in doc.items() if k not in ("updated_at", "digest")})


def _digest(links) -> str:
    return hashlib.sha1(orjson.dumps(links, option=orjson.OPT_SORT_KEYS)).hexdigest()
