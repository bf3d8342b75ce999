"""Scrapy settings for AdWatch crawls: polite by default. Per-site overrides come from the site
definition (see AdsSpider.from_crawler); deployment values (contact, image store) from adwatch config."""

from adwatch import __version__
from adwatch.config import load_settings

_config = load_settings()

BOT_NAME = "adwatch"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# A descriptive User-Agent with a contact, so site owners can reach the operator.
USER_AGENT = f"AdWatch/{__version__} (+research crawler; contact: {_config.contact})"
ROBOTSTXT_OBEY = True
COOKIES_ENABLED = False  # public pages only; no sessions, no logins
CONCURRENT_REQUESTS = 16
# Scrapy starts this many asyncio workers for every response's output; a listing page yields at
# most a few dozen things and a detail page one ad, so 100 (the default) is pure overhead
# (measured: ~90k tasks for a 900-page crawl, ~10 % of its CPU).
CONCURRENT_ITEMS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
DOWNLOAD_DELAY_JITTER = 0.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 16 * 2**20
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
REDIRECT_MAX_TIMES = 5
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # Scrapy 2.19's control port: nothing here drives a crawl through it
LOG_LEVEL = "INFO"
LOG_FORMATTER = "crawler.logformatter.PrivateLogFormatter"  # ids and URLs, never ad text
EXTENSIONS = {"crawler.progress.CrawlProgress": 500}  # a live line on a terminal only
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"

DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.RetryAfterMiddleware": 560,
    "crawler.middlewares.CrawlDelayMiddleware": 570,
    "crawler.middlewares.SharedPolitenessMiddleware": 580,
}
ITEM_PIPELINES = {
    "crawler.pipelines.ValidatePipeline": 100,
    "crawler.pipelines.ImagePipeline": 200,
    "crawler.pipelines.IndexPipeline": 900,
}
ADWATCH_IMAGE_DIR = str(_config.image_dir)
ADWATCH_INDEX_BATCH = 200

# Browser rendering, only for requests that ask for it (meta playwright=True), in Debian's
# chromium: Playwright never downloads a browser of its own.
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
DOWNLOAD_HANDLERS = {
    "http": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler",
    "https": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler",
}
PLAYWRIGHT_BROWSER_TYPE = "chromium"
# Filled for browser sites by crawler.chromium.configure: chromium found on the PATH (or this
# setting / the ADWATCH_CHROMIUM environment variable), always in its sandbox.
ADWATCH_CHROMIUM = ""
PLAYWRIGHT_LAUNCH_OPTIONS: dict = {}
PLAYWRIGHT_MAX_CONTEXTS = 2
PLAYWRIGHT_MAX_PAGES_PER_CONTEXT = 4
PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT = 30_000


def _skip_heavy_resources(request) -> bool:
    # The image pipeline fetches ad photos itself (content-addressed, size-limited); the browser
    # only needs the document, its script and its data.
    return request.resource_type in ("image", "media", "font", "stylesheet")


PLAYWRIGHT_ABORT_REQUEST = _skip_heavy_resources
