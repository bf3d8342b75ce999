"""The crawled ad: what a detail page yields, validated before anything is written.

Validation never raises: it returns the problems, so the pipeline can count the item as invalid,
log its URL, and let the crawl go on.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field
from urllib.parse import urljoin, urlsplit, urlunsplit

import orjson

MAX_TITLE = 500
MAX_BODY = 50_000
MAX_IMAGES = 40


@dataclass
class ImageRef:
    url: str
    sha256: str | None = None
    path: str | None = None
    bytes: int | None = None
    width: int | None = None
    height: int | None = None
    error: str | None = None


@dataclass
class CrawledAd:
    site: str
    ad_id: str
    url: str
    title: str
    body: str
    price: float | None = None
    currency: str | None = None
    city: str | None = None
    region: str | None = None
    country: str | None = None
    country_source: str | None = None  # page | site_default: who said the country (enrichment infers the rest)
    posted_at: str | None = None
    category: str | None = None
    contact_text: str | None = None
    images: list[ImageRef] = field(default_factory=list)
    listing_key: str | None = None
    http_status: int = 200
    notes: list[str] = field(default_factory=list)  # non-fatal problems: capped body, bad date...

    @property
    def doc_id(self) -> str:
        return f"{self.site}:{self.ad_id}"

    def content_hash(self) -> str:
        """Hash of what a reader sees: a change here is an edit. Image bytes are not fetched to decide."""
        seen = [self.title, self.body, self.price, self.currency, self.city, self.region, self.country,
                self.category, self.contact_text, [i.url for i in self.images]]
        return hashlib.sha256(orjson.dumps(seen)).hexdigest()[:32]

    def as_fields(self) -> dict:
        """Document fields the crawl owns (enrichment fields are left alone)."""
        data = asdict(self)
        for transient in ("listing_key", "http_status", "notes"):
            data.pop(transient)
        data["images"] = [{k: v for k, v in asdict(i).items() if v is not None} for i in self.images]
        return {k: v for k, v in data.items() if v is not None}


def normalise_url(url: str, base: str | None = None) -> str:
    """Absolute URL without fragment, with lower-case scheme and host, so one page has one URL."""
    parts = urlsplit(urljoin(base, url) if base else url)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, ""))


def in_domains(url: str, domains: list[str]) -> bool:
    """True when the URL's host is one of `domains` or a subdomain of one."""
    host = urlsplit(url).hostname or ""
    return any(host == d or host.endswith("." + d) for d in domains)


def validate(ad: CrawledAd, allowed_domains: list[str]) -> list[str]:
    """Problems that make the item unusable (empty when it is fine); fixes what can be fixed in place."""
    problems = []
    if not ad.ad_id:
        problems.append("ad_id missing")
    elif not re.fullmatch(r"[A-Za-z0-9._-]{1,128}", ad.ad_id):
        # Never the value itself: a mis-aimed selector fills it with ad text, and this reaches logs.
        problems.append(f"ad_id malformed (a {len(ad.ad_id)}-character value"
                        f"{' with spaces' if any(c.isspace() for c in ad.ad_id) else ''}; ids are 1-128 of "
                        "A-Z a-z 0-9 . _ -: check the definition's ad_id rule with `adwatch sites check`)")
    if not ad.title:
        problems.append("title missing")
    if not ad.body:
        problems.append("body missing")
    if not in_domains(ad.url, allowed_domains):
        problems.append(f"url {ad.url} outside allowed domains")
    if ad.title and len(ad.title) > MAX_TITLE:
        ad.title = ad.title[:MAX_TITLE]
        ad.notes.append(f"title capped at {MAX_TITLE} characters")
    if ad.body and len(ad.body) > MAX_BODY:
        ad.body = ad.body[:MAX_BODY]
        ad.notes.append(f"body capped at {MAX_BODY} characters")
    if len(ad.images) > MAX_IMAGES:
        ad.images = ad.images[:MAX_IMAGES]
        ad.notes.append(f"images capped at {MAX_IMAGES}")
    if ad.price is not None and not (0 <= ad.price < 1e9):
        ad.notes.append(f"price {ad.price} out of range, dropped")
        ad.price = None
    return problems
