"""The demo marketplace: both flavours of one world on 127.0.0.1, with crawler-realism faults.

URL map (one port, default 8765):
  /robots.txt                      Disallow /html/search, /html/report/, /js/account/, /_world; Crawl-delay
  /html/  /html/category/C/?page=N  /html/city/SLUG/?page=N  /html/ad/ID  /html/img/FILE
  /html/go/ID -> 301 /html/r/ID -> 302 /html/ad/ID             (redirect chain, linked for redirect_chain ads)
  /js/  /js/c/C?page=N  /js/city/SLUG?page=N  /js/ad/ID        (HTML shell, no ads in it)
  /js/api/index  /js/api/list?section=C|place=SLUG&page=N  /js/api/offer/ID  /js/static/app.js  /js/media/FILE
  /js/go/ID -> 301 /js/r/ID -> 302 /js/ad/ID
  GET /_world (JSON: day, days, seed, n_ads); POST /_world {"day": K} moves the world to day K
Faults (all off with faults=False): rate limit -> 429 + Retry-After per client (IP + User-Agent); the first
request for a server_error_first ad answers 503, later ones succeed; slow ads wait `slow_ms`; truncated
pages, wrong declared charset and missing fields as recorded in ads.jsonl. Ads not yet posted answer 404;
removed ads answer their recorded 404 or 410.
Outage bursts (`outages=Outages(...)`, off by default, independent of `faults`): of every `period` requests
(robots.txt, app.js and /_world excepted), `length` in a row go wrong, each burst in one way: 500, 502, 503 or
429 (with Retry-After), a request held `hold_s` and dropped unanswered, or a body cut off mid-way (the
connection closes before Content-Length bytes arrive).
"""

from __future__ import annotations

import json
import math
import re
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from demo import pages_html, pages_js
from demo.text import CATEGORIES
from demo.views import DayView, build_view, footer_html, place_label
from demo.world import World, load_world

DEFAULT_PORT = 8765
DISALLOWED = ("/html/search", "/html/report/", "/js/account/", "/_world")


def is_disallowed(path: str) -> bool:
    """Whether robots.txt forbids `path` (for checking a crawler's access log)."""
    return any(path.startswith(prefix) for prefix in DISALLOWED)


OUTAGE_KINDS = ("503", "truncated", "429", "hang", "500", "502")


@dataclass(frozen=True)
class Outages:
    """Bursts of trouble, counted in requests (deterministic for one crawl order): see the module docstring."""

    period: int = 30
    length: int = 4
    kinds: tuple[str, ...] = OUTAGE_KINDS
    hold_s: float = 3.0

    def __post_init__(self) -> None:
        unknown = set(self.kinds) - set(OUTAGE_KINDS)
        if unknown or not self.kinds or not 0 < self.length <= self.period:
            raise ValueError(f"outages need 0 < length <= period and kinds from {OUTAGE_KINDS}, got "
                             f"length {self.length}, period {self.period}, kinds {self.kinds}")

    def kind_of(self, number: int) -> str | None:
        """What goes wrong with the `number`-th request (0-based), or None."""
        burst, offset = divmod(number, self.period)
        return self.kinds[burst % len(self.kinds)] if offset < self.length else None


class _Outage(Exception):
    """A reply that is not an HTTP answer: a hang, or a body cut off."""

    def __init__(self, kind: str, reply: "_Reply | None" = None) -> None:
        super().__init__(kind)
        self.kind, self.reply = kind, reply


@dataclass
class ServeOptions:
    rate_limit: float = 20.0  # requests per second per client; 0 = off
    burst: int = 40  # requests a client may make at once before the rate applies
    crawl_delay: float = 0.2  # seconds, announced in robots.txt (not enforced: that is what rate_limit does)
    faults: bool = True  # 5xx, slow, truncated, charset, missing fields, redirect links, rate limiting
    page_size: int = 20
    slow_ms: int = 500
    latency_ms: int = 0  # every answer waits this long first: a marketplace across a network (benchmarks)
    access_log_path: str | None = None  # also append each access as one JSON line to this file
    keep_log: bool = True  # keep `.access_log` in memory (the CLI turns this off: a long run would grow it)
    outages: Outages | None = None  # bursts of 5xx, 429, hangs and cut-off bodies (fault campaigns)


class RateLimiter:
    """Token bucket per client; `check` returns 0 when allowed, else seconds until the next token."""

    def __init__(self, rate: float, burst: int):
        self.rate, self.burst = rate, max(1, burst)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, client: str) -> float:
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(client, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[client] = (tokens - 1.0, now)
                return 0.0
            self._buckets[client] = (tokens, now)
            return (1.0 - tokens) / self.rate


class MarketServer:
    """A running marketplace; `.url`, `.port`, `.access_log` (list of dicts), `.set_day(k)`, `.stop()`."""

    def __init__(self, world: World, host: str, port: int, day: int | None, options: ServeOptions):
        self.world, self.options = world, options
        self.access_log: list[dict] = []
        self._lock = threading.Lock()
        self._failed_once: set[str] = set()
        self._requests = 0
        self.outages_served: dict[str, int] = {}  # kind -> requests that went wrong that way
        self._limiter = RateLimiter(options.rate_limit, options.burst) if options.faults and options.rate_limit > 0 else None
        self.view: DayView = build_view(world.ads, self._check_day(world.days - 1 if day is None else day))
        footers = world.meta.get("footer") or {}  # footer worlds: the same footer on every page of a site
        self.footer = {flavour: footer_html(footers.get(f"demo-{flavour}")) for flavour in ("html", "js")}
        self._httpd = _QuietHTTPServer((host, port), _Handler)
        self._httpd.market = self  # type: ignore[attr-defined]
        self.host, self.port = host, self._httpd.server_address[1]
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self.serve_forever, name=f"demo-market-{self.port}", daemon=True)
        self._serving = False
        self._log_file = open(options.access_log_path, "a", encoding="utf-8") if options.access_log_path else None

    @property
    def day(self) -> int:
        return self.view.day

    def _check_day(self, day: int) -> int:
        if not 0 <= day < self.world.days:
            raise ValueError(f"day {day} is outside this world (0..{self.world.days - 1}, from {self.world.path})")
        return day

    def set_day(self, day: int) -> None:
        """Show the world as of `day` from the next request on."""
        self.view = build_view(self.world.ads, self._check_day(day))

    def first_failure(self, key: str) -> bool:
        """True the first time `key` is asked for (for server_error_first ads), False afterwards."""
        with self._lock:
            if key in self._failed_once:
                return False
            self._failed_once.add(key)
            return True

    def outage(self) -> str | None:
        """The outage kind this request meets (counted), or None."""
        if self.options.outages is None:
            return None
        with self._lock:
            kind = self.options.outages.kind_of(self._requests)
            self._requests += 1
            if kind:
                self.outages_served[kind] = self.outages_served.get(kind, 0) + 1
        return kind

    def rate_wait(self, client: str) -> float:
        return self._limiter.check(client) if self._limiter else 0.0

    def log(self, entry: dict) -> None:
        with self._lock:
            if self.options.keep_log:
                self.access_log.append(entry)
            if self._log_file:
                self._log_file.write(json.dumps(entry) + "\n")
                self._log_file.flush()

    def start(self) -> "MarketServer":
        self._serving = True  # before the thread runs, so an immediate stop() still shuts it down
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._serving = True
        self._httpd.serve_forever()

    def stop(self) -> None:
        if self._serving:  # shutdown() waits for serve_forever, so only ask a server that was serving
            self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        if self._log_file:
            self._log_file.close()


def start_server(world_dir: str | Path, port: int = 0, day: int | None = None, host: str = "127.0.0.1",
                 **options) -> MarketServer:
    """Load a world and serve it in a background thread; port=0 picks a free port. Options: `ServeOptions`."""
    return create_server(world_dir, port, day, host, **options).start()


def create_server(world_dir: str | Path, port: int = DEFAULT_PORT, day: int | None = None, host: str = "127.0.0.1",
                  **options) -> MarketServer:
    """Load a world and bind the port without serving yet (the CLI serves in the foreground)."""
    return MarketServer(load_world(world_dir), host, port, day, ServeOptions(**options))


class _QuietHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # Browsers and crawlers drop connections mid-response (an aborted image load); that is not a server error.
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


class _Reply(Exception):
    def __init__(self, status: int, body: bytes = b"", content_type: str = "text/plain; charset=utf-8", headers=None):
        super().__init__(status)
        self.status, self.body, self.content_type, self.headers = status, body, content_type, headers or {}


def _not_found(what: str) -> _Reply:
    return _Reply(404, f"not found: {what}\n".encode())


_ROUTES: list[tuple[re.Pattern, str]] = [(re.compile(pattern), name) for pattern, name in (
    (r"/robots\.txt", "robots"),
    (r"/html/?", "html_index"),
    (r"/html/category/([a-z]+)/?", "html_category"),
    (r"/html/city/([a-z0-9-]+)/?", "html_city"),
    (r"/html/ad/([A-Z0-9]+)", "html_ad"),
    (r"/html/img/([0-9a-z/.-]+)", "image"),
    (r"/(html|js)/go/([A-Z0-9]+)", "redirect_first"),
    (r"/(html|js)/r/([A-Z0-9]+)", "redirect_second"),
    (r"/js/?", "js_shell_index"),
    (r"/js/c/([a-z]+)/?", "js_shell_section"),
    (r"/js/city/([a-z0-9-]+)/?", "js_shell_place"),
    (r"/js/ad/([A-Z0-9]+)", "js_shell_offer"),
    (r"/js/static/app\.js", "app_js"),
    (r"/js/api/index", "api_index"),
    (r"/js/api/list", "api_list"),
    (r"/js/api/offer/([A-Z0-9]+)", "api_offer"),
    (r"/js/media/([0-9a-z/.-]+)", "image"),
    (r"/_world", "world_status"),
)]
_UNLIMITED = ("robots", "app_js", "world_status")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "DemoMarket/1"
    # One buffered write per response and no Nagle: otherwise keep-alive clients stall on delayed ACKs.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    @property
    def market(self) -> MarketServer:
        return self.server.market  # type: ignore[attr-defined]

    def log_message(self, format, *args):  # noqa: A002 - the access log replaces stderr logging
        pass

    def do_GET(self):
        self._respond("GET")

    def do_HEAD(self):
        self._respond("HEAD")

    def do_POST(self):
        self._respond("POST")

    def _respond(self, method: str) -> None:
        started = time.time()
        if self.market.options.latency_ms:
            time.sleep(self.market.options.latency_ms / 1000)
        parts = urlsplit(self.path)
        try:
            reply = self._route(method, parts.path, parse_qs(parts.query))
        except _Reply as done:
            reply = done
        except _Outage as trouble:
            self._misbehave(trouble, method, started)
            return
        self._send(reply, method)
        self.market.log({"time": round(started, 6), "client": self.client_address[0], "method": method,
                         "path": self.path, "status": reply.status, "bytes": len(reply.body),
                         "user_agent": self.headers.get("User-Agent", "")})

    def _send(self, reply: "_Reply", method: str, cut_at: int | None = None) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(reply.body if cut_at is None else reply.body[:cut_at])

    def _misbehave(self, trouble: _Outage, method: str, started: float) -> None:
        """Answer like a failing server would: hold and drop the connection, or cut the body off."""
        if trouble.kind == "hang":
            time.sleep(self.market.options.outages.hold_s)
        elif trouble.reply is not None:
            self._send(trouble.reply, method, cut_at=len(trouble.reply.body) // 2)
            self.wfile.flush()
        self.close_connection = True
        self.market.log({"time": round(started, 6), "client": self.client_address[0], "method": method,
                         "path": self.path, "status": 0, "outage": trouble.kind,
                         "user_agent": self.headers.get("User-Agent", "")})

    def _route(self, method: str, path: str, query: dict) -> _Reply:
        for pattern, name in _ROUTES:
            match = pattern.fullmatch(path)
            if match:
                break
        else:
            raise _not_found(path)
        if method == "POST" and name != "world_status":
            raise _Reply(405, b"method not allowed\n", headers={"Allow": "GET, HEAD"})
        if name not in _UNLIMITED:
            kind = self.market.outage()
            if kind in ("500", "502", "503", "429"):
                asks_wait = {"Retry-After": "1"} if kind in ("503", "429") else None
                raise _Reply(int(kind), b"outage, try again later\n", headers=asks_wait)
            if kind == "hang":
                raise _Outage(kind)
            if kind == "truncated":
                try:
                    reply = getattr(self, f"_{name}")(*match.groups(), query=query, method=method)
                except _Reply as done:
                    reply = done
                raise _Outage(kind, reply)
            wait = self.market.rate_wait(f"{self.client_address[0]} {self.headers.get('User-Agent', '')}")
            if wait > 0:
                raise _Reply(429, b"too many requests, slow down\n", headers={"Retry-After": str(max(1, math.ceil(wait)))})
        return getattr(self, f"_{name}")(*match.groups(), query=query, method=method)

    # --- shared -----------------------------------------------------------------------------------------

    def _robots(self, query, method) -> _Reply:
        options = self.market.options
        lines = ["User-agent: *", *(f"Disallow: {path}" for path in DISALLOWED)]
        if options.faults and options.crawl_delay > 0:
            lines.append(f"Crawl-delay: {options.crawl_delay:g}")
        return _Reply(200, ("\n".join(lines) + "\n").encode())

    def _world_status(self, query, method) -> _Reply:
        market = self.market
        if method == "POST":
            length = int(self.headers.get("Content-Length") or 0)
            try:
                market.set_day(int(json.loads(self.rfile.read(length) or b"{}")["day"]))
            except (ValueError, KeyError, TypeError) as err:
                raise _Reply(400, f"expected JSON {{\"day\": K}} with 0 <= K < {market.world.days}: {err}\n".encode())
        meta = market.world.meta
        status = {"day": market.day, "days": market.world.days, "seed": meta["seed"], "n_ads": meta["n_ads"],
                  "day0": meta["day0"], "faults": market.options.faults}
        return _Reply(200, pages_js.to_json(status), "application/json")

    def _image(self, name: str, query, method) -> _Reply:
        images = self.market.world.images_dir
        if ".." in name:
            raise _not_found(name)
        try:
            data = (images / name).read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            raise _not_found(name) from None
        return _Reply(200, data, "image/jpeg", {"Cache-Control": "max-age=86400"})

    def _redirect_first(self, flavour: str, ad_id: str, query, method) -> _Reply:
        return _Reply(301, b"", headers={"Location": f"/{flavour}/r/{ad_id}"})

    def _redirect_second(self, flavour: str, ad_id: str, query, method) -> _Reply:
        return _Reply(302, b"", headers={"Location": f"/{flavour}/ad/{ad_id}"})

    def _visible(self, ad_id: str, flavour: str):
        """The live ad of this flavour, or raise its removal status (404/410), or 404 if never posted."""
        view = self.market.view
        live = view.live.get(ad_id)
        if live is not None and live.ad.flavour == flavour:
            return live
        gone = view.gone.get(ad_id)
        if gone and ad_id[0] == ("H" if flavour == "html" else "J"):
            raise _Reply(gone, f"ad {ad_id} has been removed\n".encode())
        raise _not_found(f"ad {ad_id}")

    def _live_ad(self, ad_id: str, flavour: str, fault_key: str):
        """The live ad and its active faults; applies the 5xx-once and slow faults."""
        market = self.market
        live = self._visible(ad_id, flavour)
        faults = live.ad.faults if market.options.faults else ()
        if "server_error_first" in faults and market.first_failure(fault_key):
            raise _Reply(503, b"temporarily unavailable, try again\n", headers={"Retry-After": "1"})
        if "slow" in faults:
            time.sleep(market.options.slow_ms / 1000)
        return live, faults

    @staticmethod
    def _page_number(query) -> int:
        try:
            page = int(query.get("page", ["1"])[0])
        except ValueError:
            raise _Reply(400, b"page must be a whole number\n") from None
        if page < 1:
            raise _not_found(f"page {page}")
        return page

    @staticmethod
    def _truncate(body: bytes, faults) -> bytes:
        return body[: int(len(body) * 0.55)] if "truncated_html" in faults else body

    # --- html flavour -------------------------------------------------------------------------------------

    def _html(self, text: str, charset: str = "utf-8") -> _Reply:
        return _Reply(200, text.encode("utf-8"), f"text/html; charset={charset}")

    def _html_index(self, query, method) -> _Reply:
        return self._html(pages_html.index(self.market.view, self.market.footer["html"]))

    def _html_listing(self, heading: str, entries, query) -> _Reply:
        page = self._page_number(query)
        market = self.market
        text, pages = pages_html.listing(heading, entries, page, market.options.page_size, market.options.faults,
                                         market.footer["html"])
        if page > pages:
            raise _not_found(f"page {page} of {pages}")
        return self._html(text)

    def _html_category(self, category: str, query, method) -> _Reply:
        if category not in CATEGORIES:
            raise _not_found(f"category {category}")
        entries = self.market.view.by_category.get(("html", category), [])
        return self._html_listing(pages_html.category_heading(category), entries, query)

    def _html_city(self, slug: str, query, method) -> _Reply:
        view = self.market.view
        if slug not in view.cities:
            raise _not_found(f"city {slug}")
        city, region, country = view.cities[slug]
        return self._html_listing(f"Ads in {place_label(city, region, country)}", view.by_city.get(("html", slug), []), query)

    def _html_ad(self, ad_id: str, query, method) -> _Reply:
        live, faults = self._live_ad(ad_id, "html", self.path)
        body = pages_html.ad_page(live, bool(self.market.options.faults), self.market.footer["html"]).encode("utf-8")
        charset = "iso-8859-1" if "wrong_charset" in faults else "utf-8"
        return _Reply(200, self._truncate(body, faults), f"text/html; charset={charset}")

    # --- js flavour ----------------------------------------------------------------------------------------

    def _js_shell_index(self, query, method) -> _Reply:
        return self._html(pages_js.shell("index", footer=self.market.footer["js"]))

    def _js_shell_section(self, category: str, query, method) -> _Reply:
        if category not in CATEGORIES:
            raise _not_found(f"section {category}")
        return self._html(pages_js.shell("section", category, self._page_number(query), self.market.footer["js"]))

    def _js_shell_place(self, slug: str, query, method) -> _Reply:
        if slug not in self.market.view.cities:
            raise _not_found(f"place {slug}")
        return self._html(pages_js.shell("place", slug, self._page_number(query), self.market.footer["js"]))

    def _js_shell_offer(self, ad_id: str, query, method) -> _Reply:
        self._visible(ad_id, "js")
        return self._html(pages_js.shell("offer", ad_id, footer=self.market.footer["js"]))

    def _app_js(self, query, method) -> _Reply:
        return _Reply(200, _APP_JS_BYTES, "application/javascript; charset=utf-8", {"Cache-Control": "max-age=3600"})

    def _api_index(self, query, method) -> _Reply:
        return _Reply(200, pages_js.to_json(pages_js.index_payload(self.market.view)), "application/json")

    def _api_list(self, query, method) -> _Reply:
        view, options = self.market.view, self.market.options
        page = self._page_number(query)
        if "section" in query:
            key = query["section"][0]
            if key not in CATEGORIES:
                raise _not_found(f"section {key}")
            heading, entries, base = pages_js.CATEGORY_LABELS[key], view.by_category.get(("js", key), []), f"/js/c/{key}"
        elif "place" in query and query["place"][0] in view.cities:
            key = query["place"][0]
            city, region, country = view.cities[key]
            heading, entries, base = f"Offers in {place_label(city, country)}", view.by_city.get(("js", key), []), f"/js/city/{key}"
        else:
            raise _Reply(400, b"list needs section=CATEGORY or place=CITY-SLUG\n")
        payload = pages_js.list_payload(heading, entries, page, options.page_size, base, options.faults)
        if page > payload["pages"]:
            raise _not_found(f"page {page}")
        return _Reply(200, pages_js.to_json(payload), "application/json")

    def _api_offer(self, ad_id: str, query, method) -> _Reply:
        live, faults = self._live_ad(ad_id, "js", self.path)
        body = pages_js.to_json(pages_js.offer_payload(live, bool(self.market.options.faults)))
        charset = "iso-8859-1" if "wrong_charset" in faults else "utf-8"
        return _Reply(200, self._truncate(body, faults), f"application/json; charset={charset}")


_APP_JS_BYTES = pages_js.APP_JS.encode("utf-8")
