"""Item pipelines: validate the ad, store its images by content, write it to the index.

Each reads its settings in `from_crawler` and counts what it does in `crawler.stats`
(`adwatch/...` keys), so a run's behaviour is visible in its run document.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import MutableMapping
from concurrent.futures import ThreadPoolExecutor

from scrapy import Request
from scrapy.exceptions import DropItem, IgnoreRequest

from adwatch.bulk import BulkAction, BulkWriter
from adwatch.errors import EngineUnavailable
from adwatch.lease import LeaseLost
from adwatch.logs import ad_label
from adwatch.retry import call
from crawler.imagestore import ImageStore, inspect_image, MAX_IMAGE_BYTES
from crawler.items import CrawledAd, ImageRef, validate
from crawler.ledger import KnownAd, Ledger, record_listed_unchanged, record_removed, record_seen

log = logging.getLogger(__name__)
IMAGE_FIELDS = tuple(ImageRef.__dataclass_fields__)


class ListedUnchanged:
    """Marker item: the listing shows an ad unchanged, so its detail page was skipped."""

    def __init__(self, known: KnownAd) -> None:
        self.known = known


class Gone:
    """Marker item: a known ad is gone (`reason`: http_404, http_410, marker, redirect, soft_404)."""

    def __init__(self, known: KnownAd, status: int, reason: str) -> None:
        self.known, self.status, self.reason = known, status, reason


class ValidatePipeline:
    def __init__(self, crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item, spider=None):
        if not isinstance(item, CrawledAd):
            return item
        problems = validate(item, self.crawler.spider.definition.allowed_domains)
        if problems:
            self.crawler.stats.inc_value("adwatch/items/invalid")
            self.crawler.stats.inc_value("adwatch/errors/invalid_item")
            # Scrapy logs the drop: the URL (redacted) and the problem, never a value (it may be ad text).
            raise DropItem(f"invalid ad at {item.url}: {'; '.join(problems)}")
        return item


class ImagePipeline:
    """Downloads an ad's images through the engine (robots, retries, politeness apply), once per URL."""

    def __init__(self, crawler, store: ImageStore, max_bytes: int,
                 by_url: MutableMapping[str, ImageRef] | None = None) -> None:
        self.crawler = crawler
        self.store = store
        self.max_bytes = max_bytes
        # Per process, or the whole shared run's (crawler/frontier.py SharedImages).
        self.by_url = {} if by_url is None else by_url
        # Ads processed at the same time often share a photo: one download, every ad awaits it.
        self.in_flight: dict[str, asyncio.Future] = {}

    @classmethod
    def from_crawler(cls, crawler):
        frontier = getattr(crawler.spider, "frontier", None)
        return cls(crawler, ImageStore(crawler.settings["ADWATCH_IMAGE_DIR"]),
                   crawler.settings.getint("ADWATCH_MAX_IMAGE_BYTES", MAX_IMAGE_BYTES),
                   frontier.images() if frontier else None)

    async def process_item(self, item, spider=None):
        if not isinstance(item, CrawledAd):
            return item
        known = self.crawler.spider.run.ledger.by_id.get(item.doc_id)
        known_images = known.images if known else {}
        # An ad's photos download side by side, as Scrapy's own media pipelines do.
        item.images = list(await asyncio.gather(*(self._fetch(ref, known_images) for ref in item.images)))
        return item

    async def _fetch(self, ref: ImageRef, known_images: dict[str, dict]) -> ImageRef:
        if ref.url in self.by_url:
            return self.by_url[ref.url]
        if ref.url in known_images:  # image URLs are immutable on these sites: reuse what we stored
            # Only the crawl's own fields: enrichment adds hashes to the same objects.
            known = known_images[ref.url]
            stored = ImageRef(**{k: known[k] for k in IMAGE_FIELDS if k in known})
            self.by_url[ref.url] = stored
            return stored
        if ref.url in self.in_flight:
            return await asyncio.shield(self.in_flight[ref.url])
        future = asyncio.get_running_loop().create_future()
        self.in_flight[ref.url] = future
        try:
            result = await self._download(ref)
            future.set_result(result)
            return result
        finally:
            del self.in_flight[ref.url]
            if not future.done():
                future.set_result(ImageRef(ref.url, error="download: interrupted"))

    async def _download(self, ref: ImageRef) -> ImageRef:
        stats = self.crawler.stats
        request = Request(ref.url, meta={"download_maxsize": self.max_bytes, "adwatch_image": True},
                          dont_filter=True)
        try:
            response = await self.crawler.engine.download_async(request)
        except IgnoreRequest as exc:
            stats.inc_value("adwatch/errors/image_ignored")
            return ImageRef(ref.url, error=f"ignored: {exc}"[:200])
        except Exception as exc:  # network failures, size cancellation: recorded on the ad, counted
            stats.inc_value("adwatch/errors/image_download")
            return ImageRef(ref.url, error=f"download: {type(exc).__name__}")
        if response.status != 200:
            stats.inc_value(f"adwatch/errors/image_http_{response.status}")
            return ImageRef(ref.url, error=f"http_{response.status}")
        stats.inc_value("adwatch/images/bytes", len(response.body))
        facts = inspect_image(response.body, max_bytes=self.max_bytes)
        if facts.error:
            stats.inc_value(f"adwatch/errors/image_{facts.problem}")
            result = ImageRef(ref.url, sha256=facts.sha256, bytes=facts.bytes, error=facts.error)
        else:
            try:
                path, wrote = self.store.put(response.body, facts)
            except OSError as exc:  # a full or read-only image store: this photo is lost, not the ad
                stats.inc_value("adwatch/errors/image_store")
                log.error("could not store an image in %s: %s", self.store.root, exc.strerror or type(exc).__name__)
                return ImageRef(ref.url, sha256=facts.sha256, bytes=facts.bytes,
                                error=f"store: {exc.strerror or type(exc).__name__}")
            stats.inc_value("adwatch/images/stored" if wrote else "adwatch/images/deduplicated")
            result = ImageRef(ref.url, sha256=facts.sha256, path=path, bytes=facts.bytes,
                              width=facts.width, height=facts.height)
        self.by_url[ref.url] = result
        return result


class IndexPipeline:
    """Upserts ads into the ads index in batches; flushes on size, on age (a timer) and at close.

    Writes go out only while the crawl holds its site's lease. An edit is written only on top of
    the document the ledger read; one that meets a newer document (a bulk retried after a lost
    answer, the enricher, another crawl) is read again and decided again, so an edit counts once.
    A cluster that stays away for the client's retry bound (EngineUnavailable) stops the crawl:
    nothing more is sent, the run is recorded as interrupted, and the next crawl resumes it.
    """

    def __init__(self, crawler, batch: int, max_age_s: float) -> None:
        self.crawler = crawler
        self.batch = batch
        self.max_age_s = max_age_s
        self.pending: list[tuple[BulkAction, CrawledAd | None]] = []
        self.oldest = 0.0
        self.timer = None
        # Bulk writes run off the reactor thread, one at a time so they stay in order.
        self.writer_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="adwatch-index")

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler, crawler.settings.getint("ADWATCH_INDEX_BATCH", 200),
                   crawler.settings.getfloat("ADWATCH_INDEX_MAX_AGE_S", 2.0))

    def open_spider(self, spider=None):
        from twisted.internet import task

        # A polite crawl may wait many seconds between pages: what it found is written meanwhile.
        self.timer = task.LoopingCall(self._flush_if_old)
        self.timer.start(max(0.2, self.max_age_s / 2), now=False)

    async def process_item(self, item, spider=None):
        run = self.crawler.spider.run
        stats = self.crawler.stats
        ad = None
        if isinstance(item, CrawledAd):
            known = run.ledger.by_id.get(item.doc_id)
            partition = known.index if known else run.store.ads_partition(run.clock.now)
            outcome, action = record_seen(item, known, run.clock, partition)
            stats.inc_value(f"adwatch/items/{outcome}")
            ad = item
        elif isinstance(item, ListedUnchanged):
            action = record_listed_unchanged(item.known, run.clock)
            stats.inc_value("adwatch/items/unchanged_listing")
        elif isinstance(item, Gone):
            action = record_removed(item.known, run.clock, item.status, item.reason)
            stats.inc_value("adwatch/items/removed")
        else:
            return item
        if run.interruption:
            stats.inc_value("adwatch/items/not_written")  # the resumed run fetches it again
            return item
        if not self.pending:
            self.oldest = time.monotonic()
        self.pending.append((action, ad))
        if len(self.pending) >= self.batch or time.monotonic() - self.oldest > self.max_age_s:
            await self.flush()
        return item

    async def flush(self) -> None:
        """Write what is pending; returns once it (and every earlier batch) is written.

        A shared frontier (crawler/frontier.py) awaits this before it lets a request leave its
        in-flight list, so a process killed afterwards has nothing of it left unwritten."""
        await asyncio.wrap_future(self._flush())

    def _flush_if_old(self) -> None:
        if self.pending and time.monotonic() - self.oldest > self.max_age_s:
            self._flush()

    def _flush(self):
        writes, self.pending = self.pending, []
        return self.writer_thread.submit(self._write, writes)

    def _write(self, writes: list[tuple[BulkAction, CrawledAd | None]]) -> None:
        run = self.crawler.spider.run
        if not writes or run.interruption:
            self.crawler.stats.inc_value("adwatch/items/not_written", len(writes))
            return
        try:
            run.lease.check()
            self._write_until_settled(writes)
        except (EngineUnavailable, LeaseLost) as exc:
            self.crawler.stats.inc_value("adwatch/items/not_written", len(writes))
            if run.interrupt(exc):
                kind = "engine_unavailable" if isinstance(exc, EngineUnavailable) else "lease_lost"
                self.crawler.stats.inc_value(f"adwatch/errors/{kind}")
                log.error("stopping the crawl: %s", exc)
                # The engine is the reactor's: close from there.
                from twisted.internet import reactor

                reactor.callFromThread(self._close, kind)

    def _close(self, reason: str) -> None:
        asyncio.ensure_future(self.crawler.engine.close_spider_async(reason=reason))

    def _write_until_settled(self, writes: list[tuple[BulkAction, CrawledAd | None]]) -> None:
        run, stats = self.crawler.spider.run, self.crawler.stats
        client = run.store.client
        for _ in range(5):
            report = BulkWriter(client).write(action for action, _ in writes)
            if report.failed:
                stats.inc_value("adwatch/errors/index_write", report.failed)
                for error in report.errors:
                    # Elasticsearch's reason quotes the document: the ad, the kind of error and the field only.
                    log.error("could not index %s: %s", ad_label(error.id), error.kind)
            if not report.conflicts:
                return
            conflicted = set(report.conflicts)
            writes = self._decide_again([(a, ad) for a, ad in writes if a.id in conflicted and ad is not None])
        if writes:
            stats.inc_value("adwatch/errors/index_conflict", len(writes))
            log.error("%d ads kept changing while this crawl wrote them; the next crawl writes them", len(writes))

    def _decide_again(self, writes: list[tuple[BulkAction, CrawledAd]]) -> list[tuple[BulkAction, CrawledAd]]:
        """Fresh writes for ads whose document changed since the ledger read it."""
        run, stats = self.crawler.spider.run, self.crawler.stats
        docs = [{"_index": action.index, "_id": action.id} for action, _ in writes]
        found = call(run.store.client, f"re-reading {len(docs)} ads changed meanwhile",
                     lambda c: c.mget(docs=docs, source=Ledger.FIELDS))["docs"]
        again = []
        for (action, ad), hit in zip(writes, found):
            if not hit.get("found"):
                continue  # deleted meanwhile (retention): nothing to edit
            outcome, fresh = record_seen(ad, KnownAd.of(hit), run.clock, action.index)
            stats.inc_value("adwatch/items/changed", -1)
            stats.inc_value(f"adwatch/items/{outcome}")
            again.append((fresh, ad))
        return again

    def close_spider(self, spider=None):
        # Runs before spider_closed, so the run's counts see every write.
        if self.timer is not None and self.timer.running:
            self.timer.stop()
        self._flush().result()
        self.writer_thread.shutdown(wait=True)
