"""The one generic spider: listing pages -> detail pages, driven entirely by a site definition.

    scrapy crawl ads -a site=demo-html      # same as: adwatch crawl demo-html

Incremental: a listing entry whose key (date, price) matches what the index holds is not
fetched again (`recrawl=full` fetches every ad page anyway, for edits a listing does not show).
Once the listings are exhausted, active ads that no listing showed are checked one by one. An
ad is removed when its page answers one of the definition's removal statuses (404/410), carries
its removal marker, redirects to the home page, a start URL or a listing page, or (soft 404,
for ads no listing shows any more) answers 200 without the ad.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import DontCloseSpider

from adwatch.config import load_settings
from adwatch.logs import install_redaction
from adwatch.store import Store, connect
from crawler import chromium
from crawler.extract import Extractor
from crawler.items import normalise_url
from crawler.ledger import KnownAd
from crawler.pipelines import Gone, ListedUnchanged
from crawler.runs import CrawlRun
from crawler.sites import SiteDefinition, load_site


class AdsSpider(scrapy.Spider):
    name = "ads"

    def __init__(self, site: str, job_dir: str | None = None, trigger: str = "manual",
                 es_url: str | None = None, index_prefix: str | None = None, recrawl: str = "incremental",
                 frontier: str | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        if recrawl not in ("incremental", "full"):
            raise ValueError(f"recrawl must be incremental or full, got {recrawl!r}")
        self.definition: SiteDefinition = load_site(site)
        self.allowed_domains = list(self.definition.allowed_domains)
        install_redaction()  # `scrapy crawl ads` too: no URL slug, no value in any log line
        config = load_settings(es_url=es_url, index_prefix=index_prefix)
        store = Store(connect(config), config.index_prefix)
        store.ensure_schema()
        # A Redis URL: this process is one of several crawling the site as one run (crawler/frontier.py).
        self.frontier = None
        if frontier:
            from crawler.frontier import SharedRun

            self.frontier = SharedRun.join(frontier, config.index_prefix, self.definition.site, trigger, recrawl)
            recrawl = self.frontier.recrawl
        self.full_recrawl = recrawl == "full"
        self.run = CrawlRun(store, self.definition.site,
                            Path(job_dir) if job_dir else config.jobs_dir / self.definition.site, trigger,
                            job=self.frontier.job if self.frontier else None)
        self.extractor = Extractor(self.definition)
        self.listed: set[str] = set()  # doc ids some listing showed in this run
        # Pages that are not ads: where a removed ad's URL may redirect.
        self.listing_urls: set[str] = {normalise_url(u) for u in self.definition.start_urls}
        self.removal_checks_started = False

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        polite = spider.definition.politeness
        # Scrapy applies settings after the spider exists, so the definition can still tune them.
        crawler.settings.set("DOWNLOAD_DELAY", polite.delay_s, priority="spider")
        crawler.settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", polite.concurrency, priority="spider")
        crawler.settings.set("AUTOTHROTTLE_ENABLED", polite.autothrottle, priority="spider")
        if spider.frontier:
            crawler.settings.set("SCHEDULER", "crawler.frontier.FrontierScheduler", priority="spider")
        if spider.definition.render != "browser":
            # No browser for plain HTML sites: starting Playwright drivers costs a second and 250 MB.
            crawler.settings.set("DOWNLOAD_HANDLERS", {}, priority="spider")
        else:
            chromium.configure(crawler.settings)
        crawler.signals.connect(spider._on_idle, signal=signals.spider_idle)
        crawler.signals.connect(spider._on_opened, signal=signals.spider_opened)
        crawler.signals.connect(spider._on_closed, signal=signals.spider_closed)
        crawler.signals.connect(spider._on_item_error, signal=signals.item_error)
        return spider

    # ------------------------------------------------------------------ lifecycle

    def _on_opened(self, spider) -> None:
        self.run.open()
        self.logger.info("run %s of %s %s; %d ads known", self.run.job.run_id, self.definition.site,
                         "resumed" if self.run.resumed else "started", len(self.run.ledger.by_id))
        if self.run.job.interrupted:
            self.logger.info("its last attempt was interrupted: %s", self.run.job.interrupted)

    def _on_closed(self, spider, reason: str) -> None:
        stats = self.crawler.stats.get_stats()
        if self.frontier:
            if self.frontier.phase() == "done":
                reason = "finished"  # the shared run is complete, whatever stopped this process
            stats = self.frontier.leave(stats)
            if stats is None:
                self.run.leave()  # the site's lease stays with the processes still in the run
                self.logger.info("left run %s; other processes go on with it", self.run.job.run_id)
                return
        doc = self.run.close(stats, reason)
        if self.frontier:
            self.frontier.closed(doc["status"] == "finished")
        self.logger.info("run %s %s: %s", doc["run_id"], doc["status"], doc["items"])

    def _on_item_error(self, item, response, spider, failure) -> None:
        # A pipeline bug loses the ad's write: the run must show it (Scrapy only logs it, by id and URL).
        self.crawler.stats.inc_value(f"adwatch/errors/item_{failure.type.__name__}")

    def _on_idle(self, spider) -> None:
        """Listings are done: check known ads that no listing showed (removed, or just unlisted)."""
        if self.removal_checks_started or self.frontier:  # a shared run waits for every process (FrontierScheduler)
            return
        self.removal_checks_started = True
        unseen = self.run.ledger.active_not_in(self.listed, self.run.job.run_id)
        if not unseen:
            return
        self.logger.info("checking %d known ads missing from the listings", len(unseen))
        for request in self.removal_checks(unseen):
            self.crawler.engine.crawl(request)
        raise DontCloseSpider

    def removal_checks(self, unseen: list[KnownAd]) -> list[scrapy.Request]:
        # Status first, over plain HTTP: a removed page has nothing for a browser to wait for.
        return [self._page(known.url, self.parse_removal_check, check_gone=True,
                           meta={"known_id": known.doc_id, "unlisted": True}, browser=False) for known in unseen]

    def _first_sighting(self, doc_id: str) -> bool:
        """True the first time a listing of this run shows `doc_id` (in any process of a shared run)."""
        if self.frontier:
            return self.frontier.first_sighting(doc_id)
        if doc_id in self.listed:
            return False
        self.listed.add(doc_id)
        return True

    # ------------------------------------------------------------------ requests

    def _page(self, url: str, callback, check_gone: bool = False, meta: dict | None = None,
              browser: bool = True) -> scrapy.Request:
        meta = dict(meta or {})
        if check_gone:
            meta["handle_httpstatus_list"] = list(self.definition.gone_statuses)
        if browser and self.definition.render == "browser":
            from crawler.browser import page_methods

            kind = "listing" if callback == self.parse_listing else "detail"
            meta.update(playwright=True, playwright_page_methods=page_methods(self.definition.browser, kind))
        # A shared queue pops equal priorities in no useful order: listings first keep every process fed
        # (a category's next page would otherwise wait behind all the ads found so far).
        priority = 1 if self.frontier and callback == self.parse_listing else 0
        return scrapy.Request(url, callback=callback, meta=meta, dont_filter=check_gone, priority=priority,
                              errback=self._failed)

    async def start(self):
        for url in self.definition.start_urls:
            yield self._page(url, self.parse_listing)
        if self.frontier:
            self.frontier.mark_seeded()  # resumed after the last one was scheduled

    def _failed(self, failure) -> None:
        request = failure.request
        self.crawler.stats.inc_value(f"adwatch/errors/request_{failure.type.__name__}")
        self.logger.warning("giving up on %s: %s", request.url, failure.getErrorMessage()[:200])

    # ------------------------------------------------------------------ parsing

    def _script_failed(self, response):
        """A browser page whose script could not load its data: retried, or None when it may go on."""
        browser = self.definition.browser
        if self.definition.render != "browser" or not browser.error or not browser.error.nodes(response):
            return None
        self.crawler.stats.inc_value("adwatch/errors/script_load_failed")
        retry = get_retry_request(response.request, spider=self, reason="script_load_failed")
        return retry or False

    def parse_removal_check(self, response):
        if response.status in self.definition.gone_statuses or self.definition.render != "browser":
            yield from self.parse_detail(response)
            return
        yield self._page(response.url, self.parse_detail,
                         meta={"known_id": response.meta.get("known_id"), "unlisted": True})

    def parse_listing(self, response):
        failed = self._script_failed(response)
        if failed is not None:
            if failed:
                yield failed
            return
        listing = self.definition.listing
        self.listing_urls.add(normalise_url(response.url))
        for pick in listing.follow:
            for href in pick.all(response):
                yield self._page(normalise_url(href, response.url), self.parse_listing)
        for entry in listing.entry.nodes(response):
            href = listing.link.first(entry)
            if not href:
                self.crawler.stats.inc_value("adwatch/errors/listing_entry_without_link")
                continue
            url = normalise_url(href, response.url)
            key = self._listing_key(entry, listing.key)
            known = self.run.ledger.by_url.get(url)
            if known:
                if not self._first_sighting(known.doc_id):
                    continue  # already met on another listing page of this run
                if known.run_id == self.run.job.run_id:
                    continue  # handled before this run was interrupted
                if key and key == known.listing_key and known.status == "active" and not self.full_recrawl \
                        and not known.photos_owed:
                    yield ListedUnchanged(known)
                    continue
            meta = {"listing_key": key, "known_id": known.doc_id if known else None}
            if self.extractor.listing_rules:
                meta["listed"] = self.extractor.from_listing(entry)
            yield self._page(url, self.parse_detail, check_gone=known is not None, meta=meta)
        if listing.next_page:
            href = listing.next_page.first(response)
            if href:
                yield self._page(normalise_url(href, response.url), self.parse_listing)

    @staticmethod
    def _listing_key(entry, picks) -> str | None:
        if not picks:
            return None
        values = [pick.first(entry) or "" for pick in picks]
        return hashlib.sha256("\x1f".join(values).encode()).hexdigest()[:16]

    def parse_detail(self, response):
        known_id = response.meta.get("known_id")
        known = self.run.ledger.by_id.get(known_id) if known_id else None
        if response.status in self.definition.removal.statuses:
            if known:
                yield Gone(known, response.status, f"http_{response.status}")
            return
        failed = self._script_failed(response)
        if failed is not None:
            if failed:
                yield failed
            return
        # The URL as listed, before redirects: the ledger recognises the ad by it next time.
        listed_url = normalise_url(response.meta.get("redirect_urls", [response.url])[0])
        found = self.extractor.extract(response, response.meta.get("listed"), listed_url)
        reason = self._removed(response, found)
        if reason:
            self.crawler.stats.inc_value(f"adwatch/removed/{reason}")
            if known:
                yield Gone(known, response.status, reason)
            return
        if known and not found.ad.ad_id:
            # An id read from the listing entry is not there when a known ad is checked off-listing.
            found.ad.ad_id = known.doc_id.split(":", 1)[1]
        elif known_id and not found.ad.ad_id:
            self.crawler.stats.inc_value("adwatch/errors/detail_without_id")
        for name in found.problems:
            self.crawler.stats.inc_value(f"adwatch/fields/{name}_unclean")
        ad = found.ad
        ad.notes.extend(f"{name}: {problem}" for name, problem in found.problems.items())
        if _has_undecodable_bytes(response):
            self.crawler.stats.inc_value("adwatch/fields/page_undecodable")
            ad.notes.append(f"page: bytes that are not {response.encoding} were replaced (U+FFFD)")
        ad.listing_key, ad.http_status = response.meta.get("listing_key"), response.status
        yield ad

    def _removed(self, response, found) -> str | None:
        """Why a page that answered says its ad is gone (marker, redirect, soft 404), or None."""
        removal = self.definition.removal
        if found.removed_marker:
            return "marker"
        if removal.redirect and response.meta.get("redirect_urls"):
            landed = normalise_url(response.url)
            if landed in self.listing_urls or urlsplit(landed).path in ("", "/"):
                return "redirect"
        # Only for known ads no listing shows any more: a new URL without an ad is an invalid item, and
        # a listed ad whose page lost its markup is more likely a redesign than a removal.
        if removal.soft_404 and response.meta.get("unlisted") and found.looks_empty:
            return "soft_404"
        return None


def _has_undecodable_bytes(response) -> bool:
    """True when the page's bytes do not decode in its own encoding (Scrapy replaced them quietly).

    Only pages whose text holds a replacement character are decoded again, strictly: one written
    U+FFFD on purpose is not a fault."""
    if "\ufffd" not in response.text:
        return False
    try:
        response.body.decode(response.encoding)
    except (UnicodeDecodeError, LookupError):
        return True
    return False
