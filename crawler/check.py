"""`adwatch sites check SITE [URL ...] [--sample N]`: what a definition would store, before a crawl.

Like `scrapy parse`: fetch the given ad pages (or follow the listings politely to a small sample
of ads), read each with the crawl's own extraction, and report every field as it would be stored,
where it came from (selector, structured data, URL, listing, site default), per-field fill rates,
and values that look wrong: empty, a date not understood, a price without currency, no known
country, and text or photos that repeat across ads (page furniture captured with the ad).
Nothing is written to the index and no photo is downloaded.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field

import scrapy

from crawler import chromium
from crawler.extract import Extraction, Extractor
from crawler.items import normalise_url, validate
from crawler.sites import FIELDS, SiteDefinition

# Stored fields reported (location is split into city, region and country; contact is optional on most sites).
REPORTED = ("ad_id", "title", "body", "price", "currency", "city", "region", "country", "posted_at", "category",
            "images", "contact_text")
# A body sentence (3 words or more), title or photo on at least this share of the sampled ads (and
# on 3) is page furniture: real ads share phrases, but not on nearly every ad.
REPEAT_SHARE = 0.8


@dataclass
class PageCheck:
    url: str
    status: int
    extraction: Extraction | None  # None when the page answered a removal status
    removed: str | None = None
    invalid: list[str] = field(default_factory=list)


@dataclass
class FieldReport:
    name: str
    filled: int
    total: int
    suspicious: list[tuple[str, str]] = field(default_factory=list)  # (url, why)

    @property
    def rate(self) -> float:
        return self.filled / self.total if self.total else 0.0


class CheckSpider(scrapy.Spider):
    """Fetches ad pages for a check: given URLs, or the first `sample` ads its listings lead to."""

    name = "adwatch-check"

    def __init__(self, definition: SiteDefinition, urls: list[str], sample: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.definition = definition
        self.allowed_domains = list(definition.allowed_domains)
        self.extractor = Extractor(definition)
        self.urls, self.sample = urls, sample
        self.queued: set[str] = set()
        self.pages: list[PageCheck] = []

    def _request(self, url: str, callback, meta: dict | None = None) -> scrapy.Request:
        meta = {"handle_httpstatus_list": list(self.definition.removal.statuses), **(meta or {})}
        if self.definition.render == "browser":
            from crawler.browser import page_methods

            kind = "listing" if callback == self.parse_listing else "detail"
            meta.update(playwright=True, playwright_page_methods=page_methods(self.definition.browser, kind))
        return scrapy.Request(url, callback=callback, meta=meta)

    async def start(self):
        for url in self.urls:
            yield self._request(normalise_url(url), self.parse_detail)
        if not self.urls:
            for url in self.definition.start_urls:
                yield self._request(url, self.parse_listing)

    def parse_listing(self, response):
        if len(self.queued) >= self.sample:
            return
        listing = self.definition.listing
        for entry in listing.entry.nodes(response):
            href = listing.link.first(entry)
            if not href or len(self.queued) >= self.sample:
                continue
            url = normalise_url(href, response.url)
            if url not in self.queued:
                self.queued.add(url)
                yield self._request(url, self.parse_detail, {"listed": self.extractor.from_listing(entry)})
        if len(self.queued) >= self.sample:
            return
        links = [p for pick in listing.follow for p in pick.all(response)]
        if listing.next_page and listing.next_page.first(response):
            links.insert(0, listing.next_page.first(response))
        for href in links:
            yield self._request(normalise_url(href, response.url), self.parse_listing)

    def parse_detail(self, response):
        url = normalise_url(response.meta.get("redirect_urls", [response.url])[0])
        if response.status in self.definition.removal.statuses:
            self.pages.append(PageCheck(url, response.status, None, removed=f"http_{response.status}"))
            return
        found = self.extractor.extract(response, response.meta.get("listed"), url)
        page = PageCheck(url, response.status, found, removed="marker" if found.removed_marker else None)
        if not page.removed:
            page.invalid = validate(found.ad, self.definition.allowed_domains)
        self.pages.append(page)


def run_check(definition: SiteDefinition, urls: list[str], sample: int, polite: bool = True) -> list[PageCheck]:
    """Fetch and read the pages in this process (Scrapy's reactor: once per process)."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    polite_settings = definition.politeness
    settings.setdict({
        "ITEM_PIPELINES": {}, "EXTENSIONS": {}, "LOG_LEVEL": "ERROR",
        "DOWNLOAD_DELAY": polite_settings.delay_s if polite else 0,
        "CONCURRENT_REQUESTS_PER_DOMAIN": polite_settings.concurrency if polite else 8,
        "AUTOTHROTTLE_ENABLED": polite_settings.autothrottle and polite,
        "CLOSESPIDER_PAGECOUNT": 0,
    }, priority="cmdline")
    if definition.render != "browser":
        settings.set("DOWNLOAD_HANDLERS", {}, priority="cmdline")
    else:
        chromium.configure(settings, priority="cmdline")
    # Scrapy installs its own root handler (at LOG_LEVEL); the adwatch CLI's would print its INFO lines too.
    for handler in logging.root.handlers[:]:
        logging.root.removeHandler(handler)
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(CheckSpider)
    process.crawl(crawler, definition=definition, urls=urls, sample=sample)
    process.start()
    return crawler.spider.pages


def stored_value(found: Extraction, name: str):
    value = getattr(found.ad, name)
    if name == "images":
        return [i.url for i in value]
    return value


def field_reports(pages: list[PageCheck]) -> list[FieldReport]:
    """Fill rate and suspicious values per stored field, over the pages that showed an ad."""
    read = [p for p in pages if p.extraction is not None and not p.removed]
    reports = {name: FieldReport(name, 0, len(read)) for name in REPORTED}
    for page in read:
        found = page.extraction
        for name in REPORTED:
            value = stored_value(found, name)
            if value not in (None, "", []):
                reports[name].filled += 1
            else:
                reports[name].suspicious.append((page.url, "empty"))
        problems = found.problems
        if "posted_at" in problems:
            reports["posted_at"].suspicious.append((page.url, "date not understood"))
        if found.ad.price is not None and not found.ad.currency:
            reports["currency"].suspicious.append((page.url, "price without currency"))
        if "country" in problems:
            reports["country"].suspicious.append((page.url, problems["country"]))
        for name, problem in problems.items():
            if name in reports and name not in ("posted_at", "country"):
                reports[name].suspicious.append((page.url, problem))
        if found.ad.city and (len(found.ad.city) > 60 or ":" in found.ad.city):
            reports["city"].suspicious.append((page.url, "longer than a place name"))
    _repeats(read, reports)
    return [reports[name] for name in REPORTED]


def _repeats(read: list[PageCheck], reports: dict[str, FieldReport]) -> None:
    """Text or photos on most ads are the page's, not the ad's: a too-wide selector or a missing exclude."""
    if len(read) < 3:
        return
    least = max(3, int(REPEAT_SHARE * len(read) + 0.999))
    segments: Counter[str] = Counter()
    for page in read:
        segments.update(set(_segments(page.extraction.ad.body)))
    furniture = [s for s, n in segments.items() if n >= least]
    for page in read:
        body = page.extraction.ad.body
        shared = [s for s in furniture if s in _segments(body)]
        if shared:
            reports["body"].suspicious.append((page.url, f"boilerplate: {shared[0][:60]!r} is on {segments[shared[0]]}"
                                                         f" of {len(read)} ads"))
    for name in ("title", "contact_text"):
        values = Counter(getattr(p.extraction.ad, name) for p in read if getattr(p.extraction.ad, name))
        for page in read:
            value = getattr(page.extraction.ad, name)
            if value and values[value] >= least:
                reports[name].suspicious.append((page.url, f"the same on {values[value]} of {len(read)} ads"))
    photos = Counter(u for p in read for u in set(stored_value(p.extraction, "images")))
    for page in read:
        common = [u for u in stored_value(page.extraction, "images") if photos[u] >= least]
        if common:
            reports["images"].suspicious.append((page.url, f"photo {common[0]} is on {photos[common[0]]} of "
                                                           f"{len(read)} ads (a logo or placeholder?)"))


def _segments(body: str) -> list[str]:
    """A body's sentences plus its first and last four words: where buttons and footers end up."""
    if not body:
        return []
    words = body.split()
    parts = [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", body) if len(s.split()) >= 3]
    if len(words) > 8:
        parts += [" ".join(words[:4]), " ".join(words[-4:])]
    return parts


def as_json(definition: SiteDefinition, pages: list[PageCheck]) -> dict:
    """The check as data (`--json`): pages with stored fields and sources, then the per-field report."""
    out_pages = []
    for page in pages:
        entry: dict = {"url": page.url, "status": page.status, "removed": page.removed, "invalid": page.invalid}
        if page.extraction is not None:
            found = page.extraction
            entry["fields"] = {name: stored_value(found, name) for name in REPORTED}
            entry["fields"]["country_source"] = found.ad.country_source
            entry["sources"] = dict(found.sources)
            entry["problems"] = dict(found.problems)
        out_pages.append(entry)
    return {"site": definition.site, "pages": out_pages,
            "fields": {r.name: {"filled": r.filled, "total": r.total, "rate": round(r.rate, 4),
                                "suspicious": [{"url": u, "why": w} for u, w in r.suspicious]}
                       for r in field_reports(pages)},
            "rules": sorted(set(FIELDS) & set(definition.detail.rules()))}
