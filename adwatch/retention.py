"""Retention: ads first seen before the kept months go, and with them everything that carries them.

Deleting old ads partitions alone would leave the dropped ads behind: cluster documents list their
ids and hold their identifiers and templates, surviving ads link to them (`links`, `text_pairs`),
and their photos stay in the image store. So retention, holding the enrich lease (no link run
rewrites links or clusters meanwhile):

1. reads the ids and photos of the ads in the partitions to drop, and the clusters listing them;
2. removes the dropped ids from surviving ads' `links` and `text_pairs`, with partial updates
   conditional on the version read; the surviving members of those clusters (and any ad that
   loses a link) lose their `cluster_id` and are marked owed linking (`enrich.linked: false`), so
   the next `adwatch enrich` links them again into clusters of surviving ads only;
3. deletes those cluster documents (member ids, identifiers, templates and all);
4. deletes the partitions;
5. deletes image files that no surviving ad references (files younger than a day and never seen
   on a dropped ad are kept: a running crawl stores photos a moment before it indexes their ads);
6. deletes crawl logs in the crawler's job directories last written before the kept months. A job
   directory holds no ad data of its own (`run.json` is a run's id, start and attempts; the ledger
   is the index itself), but `crawl.log`, the scheduler's copy of a crawl's output, could carry
   URLs when it was written by an AdWatch older than log redaction (adwatch/logs.py).

Each step leaves what the one before needs to be found again: a run that dies part-way is
finished by the next. `dry_run` reads the same and writes nothing: the report says what would go.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from adwatch.bulk import BulkAction, BulkWriter, Version, delete, update
from adwatch.errors import UserError
from adwatch.lease import ENRICH_LEASE, Lease
from adwatch.retry import call
from adwatch.store import Store, month_of

log = logging.getLogger(__name__)

ORPHAN_GRACE_S = 24 * 3600
# The image store's layout (crawler/imagestore.py): <root>/ab/cd/<sha256>.<ext>
IMAGE_NAME = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{2}/(?P<sha>[0-9a-f]{64})\.[a-z0-9]+$")
SURVIVOR_FIELDS = ["cluster_id", "links", "text_pairs", "images.sha256", "enrich.linked"]
TERMS_BATCH = 10_000


@dataclass
class RetentionReport:
    cutoff: str
    partitions: list[str] = field(default_factory=list)
    ads_dropped: int = 0
    clusters_deleted: int = 0
    ads_owed_linking: int = 0
    ads_cleaned: int = 0
    images_deleted: int = 0
    image_bytes_freed: int = 0
    crawl_logs_deleted: int = 0
    dry_run: bool = False  # then every count is what would go, and nothing went

    def summary(self) -> str:
        logs = f", {self.crawl_logs_deleted} old crawl logs" if self.crawl_logs_deleted else ""
        if self.dry_run:
            return (f"Dry run, nothing changed. Keeping ads from {self.cutoff} on would drop "
                    f"{', '.join(self.partitions) or 'no partition'} ({self.ads_dropped} ads), delete "
                    f"{self.clusters_deleted} clusters that hold them, clean {self.ads_cleaned} surviving ads "
                    f"({self.ads_owed_linking} would be owed linking), and delete {self.images_deleted} image files "
                    f"({self.image_bytes_freed / 2**20:.1f} MiB){logs}.")
        if not self.partitions:
            return (f"Kept ads from {self.cutoff} on; nothing older to drop ({self.images_deleted} unreferenced "
                    f"images{logs} deleted).")
        return (f"Kept ads from {self.cutoff} on; dropped {', '.join(self.partitions)} ({self.ads_dropped} ads), "
                f"{self.clusters_deleted} clusters that held them, their ids from {self.ads_cleaned} surviving ads "
                f"({self.ads_owed_linking} now owed linking: run `adwatch enrich`), and {self.images_deleted} image "
                f"files ({self.image_bytes_freed / 2**20:.1f} MiB){logs}.")


def cutoff_month(today: datetime, keep_months: int) -> str:
    """The oldest month kept ('YYYY.MM'): keeping 1 month keeps only `today`'s."""
    if keep_months < 1:
        raise UserError(f"--keep-months must be at least 1 (got {keep_months}): 1 keeps only this month's ads, "
                        "and 0 would delete every ad, this month's included. Nothing was deleted.")
    months = today.year * 12 + today.month - 1 - (keep_months - 1)
    return month_of(f"{months // 12:04d}-{months % 12 + 1:02d}-01")


def apply_retention(store: Store, keep_months: int, image_dir: Path | None, today: datetime,
                    writer: BulkWriter | None = None, dry_run: bool = False,
                    jobs_dir: Path | None = None) -> RetentionReport:
    """Drop ads first seen before the kept months and every trace of them; see the module docstring.

    `dry_run`: read everything, write and delete nothing, and report what would go (no lease taken:
    an enrichment running meanwhile may change the figures a little).
    """
    report = RetentionReport(cutoff_month(today, keep_months), dry_run=dry_run)
    with nullcontext() if dry_run else Lease(store, ENRICH_LEASE, "adwatch retention") as lease:
        writer = None if dry_run else writer or BulkWriter(store.client)
        doomed_partitions = [p for p in store.ads_partitions() if p.rsplit("-", 1)[-1] < report.cutoff]
        dropped, dropped_photos = _dropped_ads(store, doomed_partitions)
        report.ads_dropped = len(dropped)
        clusters, owed = _clusters_of(store, dropped)
        if lease:
            lease.check()
        referenced = _clean_survivors(store, set(doomed_partitions), dropped, clusters, owed, writer, report)
        report.clusters_deleted = len(clusters)
        if dry_run:
            report.partitions = doomed_partitions
        else:
            lease.check()
            _write(writer, [delete(store.clusters, cid) for cid in sorted(clusters)], "deleting clusters")
            report.partitions = store.drop_ads_before(report.cutoff)
        if image_dir is not None:
            _delete_unreferenced_images(store, Path(image_dir), referenced, dropped_photos, doomed_partitions, report)
        if jobs_dir is not None:
            _delete_old_crawl_logs(Path(jobs_dir), report)
    log.info("retention: %s", report.summary())
    return report


def _dropped_ads(store: Store, partitions: list[str]) -> tuple[set[str], set[str]]:
    ids: set[str] = set()
    photos: set[str] = set()
    if partitions:
        for hit in store.scan(",".join(partitions), source=["images.sha256"]):
            ids.add(hit["_id"])
            photos.update(i["sha256"] for i in hit["_source"].get("images", []) if i.get("sha256"))
    return ids, photos


def _batches(values: Iterable[str], size: int = TERMS_BATCH) -> Iterable[list[str]]:
    batch: list[str] = []
    for value in sorted(values):
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _clusters_of(store: Store, dropped: set[str]) -> tuple[set[str], set[str]]:
    """(clusters listing a dropped ad, the surviving ads they list)."""
    clusters: set[str] = set()
    members: set[str] = set()
    for batch in _batches(dropped):
        for hit in store.scan(store.clusters, {"terms": {"ads": batch}}, source=["ads"]):
            clusters.add(hit["_id"])
            members.update(hit["_source"].get("ads", []))
    return clusters, members - dropped


@dataclass
class _Cleaning:
    """What survivors are cleaned of, and what cleaning them found out."""

    dropped: set[str]
    clusters: set[str]  # cluster ids being deleted
    owed: set[str]  # surviving ads owed linking
    referenced: set[str] = field(default_factory=set)  # photos surviving ads use
    cleaned: set[str] = field(default_factory=set)

    def fix(self, doc_id: str, src: dict) -> dict:
        """The partial update that removes dropped ads from one surviving ad ({} when it has none)."""
        self.referenced.update(i["sha256"] for i in src.get("images", []) if i.get("sha256"))
        if src.get("cluster_id") in self.clusters:
            self.owed.add(doc_id)
        fields = _without_dropped(doc_id, src, self.dropped, self.owed)
        if fields:
            self.cleaned.add(doc_id)
        return fields


def _clean_survivors(store: Store, doomed_partitions: set[str], dropped: set[str], clusters: set[str],
                     owed: set[str], writer: BulkWriter | None, report: RetentionReport) -> set[str]:
    """Strip dropped ids from surviving ads (and unlink the owed); returns every photo they reference.

    Without a writer (a dry run) only counts what it would change.
    """
    cleaning = _Cleaning(dropped, clusters, owed)
    actions: list[BulkAction] = []
    for hit in store.scan(store.ads, source=SURVIVOR_FIELDS, versions=True):
        if hit["_index"] in doomed_partitions:
            continue
        fields = cleaning.fix(hit["_id"], hit["_source"])
        if fields and writer is not None:
            actions.append(update(hit["_index"], hit["_id"], fields, expect=Version.of(hit)))
            if len(actions) >= 500:
                _write_fixes(store, writer, actions, cleaning)
                actions = []
    if writer is not None:
        _write_fixes(store, writer, actions, cleaning)
    report.ads_cleaned = len(cleaning.cleaned)
    report.ads_owed_linking = len(cleaning.owed)
    return cleaning.referenced


_TOKEN = re.compile(r"[^\s,;()#\"'\[\]]+")


def _names_dropped(text: str | None, dropped: set[str]) -> bool:
    """Whether an explanation names a dropped ad (a hub photo is named after the ad it was first seen on:
    'photo:<site>:<ad id>#0')."""
    for token in _TOKEN.findall(text or ""):
        parts = token.split(":")
        if any(":".join(parts[i:]) in dropped for i in range(len(parts) - 1)):
            return True
    return False


def _without_dropped(doc_id: str, src: dict, dropped: set[str], owed: set[str]) -> dict:
    links = src.get("links") or []
    pairs = src.get("text_pairs") or []
    # A link to a dropped ad goes, and so does one whose explanation names it: the link run redoes both.
    kept_links = [link for link in links if link.get("ad") not in dropped and not _names_dropped(link.get("detail"), dropped)]
    kept_pairs = [pair for pair in pairs if pair.get("ad") not in dropped]
    fields: dict = {}
    if len(kept_links) != len(links):
        fields["links"] = kept_links
        owed.add(doc_id)  # its evidence changed: its cluster must be worked out again
    if len(kept_pairs) != len(pairs):
        fields["text_pairs"] = kept_pairs
    if doc_id in owed:
        fields.update(cluster_id=None, enrich={"linked": False})
    return fields


def _write_fixes(store: Store, writer: BulkWriter, actions: list[BulkAction], cleaning: _Cleaning) -> None:
    """Write the fixes; an ad changed since it was read (a crawl, say) is read again and fixed again."""
    for _ in range(5):
        if not actions:
            return
        outcome = _write(writer, actions, "removing dropped ads from surviving ads")
        by_id = {a.id: a for a in actions}
        actions = []
        for doc_id in outcome.conflicts:
            index = by_id[doc_id].index
            got = call(store.client, f"re-reading {doc_id}",
                       lambda c: c.options(ignore_status=404).get(index=index, id=doc_id, source=SURVIVOR_FIELDS))
            if not got.body.get("found"):
                continue  # deleted meanwhile: nothing left to clean
            fields = cleaning.fix(doc_id, got["_source"])
            if fields:
                actions.append(update(index, doc_id, fields, expect=Version.of(got)))
    if actions:
        raise UserError(f"{len(actions)} surviving ads kept changing while retention cleaned them (first: "
                        f"{actions[0].id}); nothing was dropped yet. Run `adwatch retention` again.")


def _delete_unreferenced_images(store: Store, root: Path, referenced: set[str], dropped_photos: set[str],
                                doomed_partitions: list[str], report: RetentionReport) -> None:
    if not root.is_dir():
        return
    candidates: dict[str, list[Path]] = {}
    young = time.time() - ORPHAN_GRACE_S
    for path in root.rglob("*"):
        match = IMAGE_NAME.match(path.relative_to(root).as_posix()) if path.is_file() else None
        if not match or match["sha"] in referenced:
            continue
        if match["sha"] in dropped_photos or path.stat().st_mtime < young:
            candidates.setdefault(match["sha"], []).append(path)
    # Ads indexed since the survivors were read (a running crawl) may have reused a photo: ask again.
    for batch in _batches(candidates):
        resp = call(store.client, "checking photos before deleting them", lambda c: c.search(
            index=store.ads, size=0,  # a dry run still has the doomed partitions: they do not count
            query={"bool": {"filter": [{"terms": {"images.sha256": batch}}],
                            "must_not": [{"terms": {"_index": doomed_partitions}}]}},
            aggs={"used": {"terms": {"field": "images.sha256", "size": len(batch)}}}))
        for bucket in resp["aggregations"]["used"]["buckets"]:
            candidates.pop(bucket["key"], None)
    for paths in candidates.values():
        for path in paths:
            size = path.stat().st_size
            if not report.dry_run:
                path.unlink(missing_ok=True)
            report.images_deleted += 1
            report.image_bytes_freed += size


def _delete_old_crawl_logs(jobs_dir: Path, report: RetentionReport) -> None:
    """Crawl logs (`<jobs>/<site>/crawl.log`) last written before the kept months."""
    year, month = map(int, report.cutoff.split("."))
    kept_from = datetime(year, month, 1, tzinfo=timezone.utc).timestamp()
    for path in jobs_dir.glob("*/crawl.log"):
        if path.stat().st_mtime < kept_from:
            if not report.dry_run:
                path.unlink(missing_ok=True)
            report.crawl_logs_deleted += 1


def _write(writer: BulkWriter, actions: list[BulkAction], doing: str):
    if not actions:
        return writer.write([])
    outcome = writer.write(actions)
    if outcome.failed:
        raise UserError(f"Retention stopped while {doing}: {outcome.failed} writes failed (first: "
                        f"{outcome.errors[0].id}: {outcome.errors[0].kind}). Nothing was dropped yet; run it again.")
    return outcome
