"""A marketplace of fuzzed pages and images on 127.0.0.1, for the fault campaign.

Ad `n` is of case `CASES[n % len(CASES)]` (its details drawn from `seed` and `n`): pages with
undecodable bytes, 20 MB bodies, deep nesting, numbers like 1e400, selectors that match twice,
ids a mis-aimed selector filled with ad text, and images that are truncated, decompression bombs,
SVG, HTML or empty bodies served as JPEG, or randomly mutated. Each case says what AdWatch must do
with it (`Case.expect`), so a crawl of the site can be checked ad by ad.

    /robots.txt   /list/P (50 ads a page)   /ad/N   /img/N-K
"""

from __future__ import annotations

import io
import random
import struct
import threading
import zlib
from dataclasses import dataclass
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from PIL import Image

PAGE_SIZE = 50
SITE_FILE = Path(__file__).with_name("fuzz.yaml")
# In every title and body, never in URLs or ids: a log line carrying it carries ad text.
TEXT_MARK = "zqxjtext"


@dataclass(frozen=True)
class Case:
    name: str
    # clean: stored as served, no note | note: stored with a crawl note | invalid: not stored, counted
    # invalid in the run | request: not stored, a failed request in the run | image: stored, the bad
    # image with an error | intact_or_invalid: stored with its text whole, or counted invalid
    expect: str


CASES = (
    Case("clean", "clean"),
    Case("invalid_utf8", "note"),
    Case("huge_body", "request"),
    Case("deep_nesting", "intact_or_invalid"),
    Case("price_1e400", "note"),
    Case("price_nan", "note"),
    Case("matched_twice", "note"),
    Case("no_id", "invalid"),
    Case("text_in_id", "invalid"),
    Case("long_title", "note"),
    Case("impossible_date", "note"),
    Case("image_truncated", "image"),
    Case("image_bomb", "image"),
    Case("image_svg", "image"),
    Case("image_html_as_jpeg", "image"),
    Case("image_empty", "image"),
    Case("image_mutated", "image_or_clean"),
    Case("image_missing", "image"),
)
BY_NAME = {c.name: c for c in CASES}


def case_of(n: int) -> Case:
    return CASES[n % len(CASES)]


def ad_id(n: int) -> str:
    return f"F{n:06d}"


@lru_cache(maxsize=1)
def _huge_body() -> bytes:
    return b"<html><body>" + b"<p>filler</p>" * (20 * 2**20 // 13) + b"</body></html>"


@lru_cache(maxsize=64)
def _photo(n: int) -> bytes:
    rng = random.Random(n)
    image = Image.new("RGB", (64, 48), tuple(rng.randrange(256) for _ in range(3)))
    for _ in range(12):
        x, y = rng.randrange(60), rng.randrange(44)
        image.paste(tuple(rng.randrange(256) for _ in range(3)), (x, y, x + 4, y + 4))
    buf = io.BytesIO()
    image.save(buf, "JPEG" if n % 3 else "PNG")
    return buf.getvalue()


def _png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def _mutated(seed: int, n: int) -> bytes:
    rng = random.Random(seed * 1_000_003 + n)
    data = bytearray(_photo(n % 64))
    for _ in range(rng.randint(1, 8)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data[: rng.randrange(len(data) // 3, len(data) + 1)])


def bad_image(case: str, seed: int, n: int) -> tuple[bytes, str] | None:
    """The fuzzed image of ad `n` (body, content type), or None where it answers 404."""
    if case == "image_truncated":
        good = _photo(n % 64)
        return good[: len(good) // 2], "image/jpeg"
    if case == "image_bomb":
        return _png_header(60_000, 60_000), "image/png"
    if case == "image_svg":
        return b'<svg xmlns="http://www.w3.org/2000/svg" width="9000" height="9000"><rect/></svg>', "image/svg+xml"
    if case == "image_html_as_jpeg":
        return f"<html><body>{TEXT_MARK} not a photo</body></html>".encode(), "image/jpeg"
    if case == "image_empty":
        return b"", "image/jpeg"
    if case == "image_mutated":
        return _mutated(seed, n), "image/jpeg"
    return None


def ad_page(n: int, seed: int) -> bytes:
    """The detail page of ad `n`, as bytes (some cases are not valid UTF-8 on purpose)."""
    case = case_of(n).name
    rng = random.Random(seed * 7919 + n)
    title = f"Fuzz ad {n} {TEXT_MARK}{rng.randrange(10**6)}"
    body = f"Body of fuzz ad {n}: {TEXT_MARK} " + " ".join(rng.choice(("calm", "warm", "new", "city", "call"))
                                                            for _ in range(12))
    price, posted, the_id = f"{rng.randint(20, 400)} EUR", "2026-01-15", ad_id(n)
    if case == "price_1e400":
        price = "1e400 EUR"
    elif case == "price_nan":
        price = "NaN EUR"
    elif case == "long_title":
        title = (title + " ") * 2000
    elif case == "impossible_date":
        posted = "2026-13-45"
    elif case == "no_id":
        the_id = ""
    elif case == "text_in_id":
        the_id = f"{title} call me"
    images = [f"/img/{n}-0"] + ([f"/img/{n}-1"] if case.startswith("image_") else [])
    fields = (f'<h1 class="title">{title}</h1><div class="body">{body}</div>'
              f'<p><span class="price">{price}</span> <span class="city">Springfield</span></p>'
              f'<time class="posted" datetime="{posted}">{posted}</time>'
              f'<div class="photos">{"".join(f"<img src={src!r}>" for src in images)}</div>')
    if case == "matched_twice":
        fields += f'<h1 class="title">Another title {TEXT_MARK}</h1><span class="price">999 EUR</span>'
    ad = f'<div class="ad" data-ad-id="{the_id}">{fields}</div>'
    if case == "deep_nesting":
        depth = 3000
        ad = "<div>" * depth + ad + "</div>" * depth
    page = f"<!doctype html><html><head><meta charset='utf-8'><title>ad</title></head><body>{ad}</body></html>"
    data = page.encode()
    if case == "invalid_utf8":
        data = data.replace(TEXT_MARK.encode(), TEXT_MARK.encode() + b"\xff\xfe\xc3\x28", 2)
    return data


def listing_page(page: int, n_ads: int) -> bytes:
    first = (page - 1) * PAGE_SIZE
    items = "".join(f'<li class="item"><a class="item-link" href="/ad/{n}">ad {n}</a></li>'
                    for n in range(first, min(n_ads, first + PAGE_SIZE)))
    more = f'<a class="next" href="/list/{page + 1}">next</a>' if first + PAGE_SIZE < n_ads else ""
    return f"<!doctype html><html><body><ul>{items}</ul>{more}</body></html>".encode()


class FuzzSite:
    """`n_ads` fuzzed ads served on 127.0.0.1 (a free port): `.url`, `.served` (case -> ads), `.stop()`."""

    def __init__(self, n_ads: int, seed: int) -> None:
        self.n_ads, self.seed = n_ads, seed
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 - http.server's name
                status, body, kind = site.answer(self.path)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the crawler hung up on a body it would not take (20 MB)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def expected(self) -> dict[str, Case]:
        """doc id -> its case, for every ad the listings link."""
        return {f"fuzz:{ad_id(n)}": case_of(n) for n in range(self.n_ads)}

    def answer(self, path: str) -> tuple[int, bytes, str]:
        html = "text/html; charset=utf-8"
        parts = path.strip("/").split("/")
        try:
            if path == "/robots.txt":
                return 200, b"User-agent: *\nAllow: /\n", "text/plain"
            if parts[0] == "list":
                page = int(parts[1])
                if 1 <= page and (page - 1) * PAGE_SIZE < self.n_ads:
                    return 200, listing_page(page, self.n_ads), html
            if parts[0] == "ad" and 0 <= int(parts[1]) < self.n_ads:
                n = int(parts[1])
                if case_of(n).name == "huge_body":
                    return 200, _huge_body(), html
                return 200, ad_page(n, self.seed), html
            if parts[0] == "img":
                n, k = map(int, parts[1].split("-"))
                if k == 0:
                    return 200, _photo(n % 64), "image/jpeg"
                served = bad_image(case_of(n).name, self.seed, n)
                if served:
                    return 200, *served
        except (IndexError, ValueError):
            pass
        return 404, b"not found\n", "text/plain"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
