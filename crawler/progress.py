"""A live line for a crawl on a terminal: pages fetched, ads seen, errors, elapsed time.

Only when a person watches (`adwatch.logs.interactive`): off a terminal, or with JSON logs, the
crawl stays line-based (Scrapy's periodic LogStats line at INFO, the summary at the end).
Counts only, never ad content.
"""

from __future__ import annotations

from scrapy import signals

from adwatch.logs import interactive


class CrawlProgress:
    def __init__(self, crawler) -> None:
        self.stats = crawler.stats
        self.live = None
        self.task = None
        self.site = ""

    @classmethod
    def from_crawler(cls, crawler):
        extension = cls(crawler)
        if interactive():
            crawler.signals.connect(extension.opened, signal=signals.spider_opened)
            crawler.signals.connect(extension.update, signal=signals.response_received)
            crawler.signals.connect(extension.update, signal=signals.item_scraped)
            crawler.signals.connect(extension.closed, signal=signals.spider_closed)
        return extension

    def opened(self, spider) -> None:
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.live = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                             console=Console(stderr=True), transient=True)
        self.live.start()
        self.site = spider.definition.site
        self.task = self.live.add_task(f"Crawling {self.site}")

    def update(self, *args, **kwargs) -> None:
        if self.live is None:
            return
        get = self.stats.get_value
        self.live.update(self.task, description=(
            f"Crawling {self.site}: {get('response_received_count', 0)} pages, {get('item_scraped_count', 0)} ads "
            f"written, {get('adwatch/items/invalid', 0)} invalid"))

    def closed(self, spider) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None
