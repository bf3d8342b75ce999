"""Downloader middlewares of politeness.

- RetryAfterMiddleware: honour Retry-After on 429 and 503 for the whole host, not one request.
  Scrapy's RetryMiddleware retries 429/503 at once; a polite crawler waits as long as the server
  asked, and holds every other request to that host meanwhile.
- CrawlDelayMiddleware: robots.txt's Crawl-delay as a floor under the per-host delay.
- SharedPolitenessMiddleware: on a shared frontier, the delay holds for all processes together.
"""

from __future__ import annotations

import asyncio
import logging
import time
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import redis
from scrapy.downloadermiddlewares.retry import get_retry_request

log = logging.getLogger(__name__)


def parse_retry_after(value: bytes | str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date); None if absent/invalid."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - (time.time() if now is None else now))



def downloader_slot(crawler, request):
    """The downloader slot (per-host concurrency and delay) a request goes through; None before its first."""
    downloader = crawler.engine.downloader
    return downloader.slots.get(downloader.get_slot_key(request))

class RetryAfterMiddleware:
    STATUSES = (429, 503)

    def __init__(self, crawler, max_wait_s: float, max_retries: int) -> None:
        self.crawler = crawler
        self.max_wait_s = max_wait_s
        self.max_retries = max_retries
        self.paused_until: dict[str, float] = {}
        self.max_backoff_delay_s = 5.0
        self.base: dict[int, tuple[int, float]] = {}  # slot -> (concurrency, delay) before the first 429
        self.successes: dict[int, int] = {}
        self.slowed_at: dict[str, float] = {}  # host -> when its slot was last slowed down

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler, crawler.settings.getfloat("ADWATCH_RETRY_AFTER_MAX_S", 120.0),
                   crawler.settings.getint("ADWATCH_RETRY_AFTER_TIMES", 5))

    async def process_request(self, request, spider=None):
        wait = self.paused_until.get(urlsplit(request.url).netloc, 0.0) - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        request.meta["adwatch_sent_at"] = time.monotonic()
        return None

    def process_response(self, request, response, spider=None):
        if response.status not in self.STATUSES:
            if response.status < 400:
                self._recover(request)
            return response
        delay = parse_retry_after(response.headers.get("Retry-After"))
        if delay is None:
            return response  # plain RetryMiddleware handles it
        host = urlsplit(request.url).netloc
        delay = min(delay, self.max_wait_s)
        self.paused_until[host] = max(self.paused_until.get(host, 0.0), time.monotonic() + delay)
        # Once per round trip, as TCP does: the other refusals of requests sent before the last
        # slow-down answer the old pace, not the new one (16 in flight refused together would
        # otherwise stretch the delay to its cap, and winning it back takes ~20x the cap).
        if request.meta.get("adwatch_sent_at", 0.0) >= self.slowed_at.get(host, -1.0):
            self.slowed_at[host] = time.monotonic()
            self._slow_down(request)
        self.crawler.stats.inc_value(f"adwatch/errors/http_{response.status}")
        self.crawler.stats.inc_value("adwatch/retry_after/honoured")
        log.info("%s answered %d; pausing %s for %.1fs as Retry-After asks", request.url, response.status, host, delay)
        retry = get_retry_request(request, spider=self.crawler.spider, reason=f"http_{response.status}_retry_after",
                                  max_retry_times=self.max_retries)
        return retry or response

    def _slow_down(self, request) -> None:
        """The host said we are too fast: halve our concurrency on it and lengthen the gap between
        requests (pausing alone is not enough: requests already past the pause arrive together).
        Successful answers win the speed back slowly (see `_recover`): additive increase,
        multiplicative decrease, as TCP does."""
        slot = self._slot(request)
        if slot is None:
            return
        self.base.setdefault(id(slot), (slot.concurrency, slot.delay))
        slot.concurrency = max(1, slot.concurrency // 2)
        slot.delay = min(max(slot.delay * 2, 0.1), self.max_backoff_delay_s)

    def _recover(self, request) -> None:
        if not self.base:  # nothing was ever slowed down: every answer would pass here for nothing
            return
        slot = self._slot(request)
        if slot is None or id(slot) not in self.base:
            return
        concurrency, delay = self.base[id(slot)]
        slot.delay = max(delay, slot.delay * 0.95)
        self.successes[id(slot)] = self.successes.get(id(slot), 0) + 1
        if self.successes[id(slot)] % 10 == 0 and slot.concurrency < concurrency:
            slot.concurrency += 1

    def _slot(self, request):
        return downloader_slot(self.crawler, request)


class CrawlDelayMiddleware:
    """Obey robots.txt Crawl-delay: the site's own floor under our per-host delay.

    Scrapy reads robots.txt for Allow/Disallow only. The robots request passes through the
    downloader middlewares, so its body is parsed here and the delay kept as a floor that
    AutoThrottle may raise but never lower.
    """

    def __init__(self, crawler, user_agent: str) -> None:
        self.crawler = crawler
        self.user_agent = user_agent
        self.floor: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler, crawler.settings.get("USER_AGENT", "*"))

    def process_request(self, request, spider=None):
        if not self.floor:  # most sites ask for no Crawl-delay: no URL parsing per request then
            return None
        floor = self.floor.get(urlsplit(request.url).netloc)
        if floor:
            slot = downloader_slot(self.crawler, request)
            if slot is not None and slot.delay < floor:
                slot.delay = floor
        return None

    def process_response(self, request, response, spider=None):
        if urlsplit(request.url).path == "/robots.txt" and response.status == 200:
            from protego import Protego

            delay = Protego.parse(response.text).crawl_delay(self.user_agent)
            if delay:
                self.floor[urlsplit(request.url).netloc] = float(delay)
                self.crawler.stats.set_value("adwatch/robots/crawl_delay", float(delay))
                log.info("%s asks for Crawl-delay %.2fs; obeying", urlsplit(request.url).netloc, float(delay))
        return response


class SharedPolitenessMiddleware:
    """On a shared frontier (crawler/frontier.py) the delay between requests to a host holds for
    the run, not for each process: before a request goes to its downloader slot, its start is
    reserved in the run's Redis, at least the slot's delay after the previous start any process
    reserved. The delay is the one this process's slot has now (the site definition's, raised by
    Crawl-delay, AutoThrottle or a Retry-After). The slot still applies its own (randomised) delay
    after the reserved start, so a request may leave a little later than reserved: the site sees
    one request per delay over any few seconds, with bursts no bigger than the requests each
    process holds (FrontierScheduler.hold: its politeness concurrency). Concurrency per host stays per process.

    A crawl without a frontier, or without a delay (--no-politeness), passes straight through.
    """

    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.warned = False

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_request(self, request, spider=None):
        frontier = getattr(self.crawler.spider, "frontier", None)
        if frontier is None:
            return None
        slot = downloader_slot(self.crawler, request)
        spacing = slot.delay if slot is not None else self.crawler.settings.getfloat("DOWNLOAD_DELAY")
        if spacing <= 0:
            return None
        try:
            wait = frontier.next_start(urlsplit(request.url).netloc, spacing)
        except redis.RedisError as exc:
            # The process's own delay still applies; its frontier upkeep will notice Redis is gone.
            if not self.warned:
                log.warning("the frontier's Redis did not answer a politeness reservation (%s); this process "
                            "spaces its own requests only until it does", type(exc).__name__)
                self.warned = True
            return None
        if wait > 0:
            self.crawler.stats.inc_value("adwatch/frontier/polite_waits")
            await asyncio.sleep(wait)
        return None
