"""From a detail page to the ad it shows: scope, exclusion, rules, structured data, cleaning.

The order, for every page:
1. `exclude` selectors are removed from (a copy of) the page: related ads, share buttons, footers;
2. `root` scopes every `select:` rule to the ad itself;
3. each field's rule gives its text (a selector, a structured-data path, the URL, the listing entry),
   cleaned by the rule's own `re` / `split` / `strip`;
4. with `structured: auto`, a field no rule filled takes what the page declares (JSON-LD,
   microdata, RDFa, OpenGraph; `crawler.structured.AUTO_PATHS`);
5. the texts become values: dates, prices and currencies, a location line split into city /
   region / country, countries as ISO codes (`crawler.fields`), then the site's defaults.
Problems found while cleaning are named per field, never with the value (it may be personal data).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from parsel import Selector

from crawler.fields import (
    country_code, currency_code, edge_strip, parse_amount, parse_date, parse_price, split_location,
)
from crawler.items import CrawledAd, ImageRef, normalise_url
from crawler.sites import Rule, SiteDefinition
from crawler.structured import AUTO_PATHS, Structured, read_structured, text_of

LIST_FIELDS = frozenset({"images"})
_EXPONENT = re.compile(r"\d[eE][+-]?\d")  # a mantissa and an exponent: 1e400, 2.5E-3


@dataclass
class Extraction:
    """One page read: the ad, each field's text before cleaning and where it came from, problems."""

    ad: CrawledAd
    raw: dict[str, object] = field(default_factory=dict)  # field -> text (or list of texts) as found
    sources: dict[str, str] = field(default_factory=dict)  # field -> select | data | url | listing | auto | default
    problems: dict[str, str] = field(default_factory=dict)  # field -> what went wrong cleaning it
    has_root: bool = True  # the definition's root matched (always true without a root)
    removed_marker: bool = False  # the page carries the definition's "ad removed" marker

    @property
    def looks_empty(self) -> bool:
        """No ad on the page: its root is missing, or it has neither a title nor an id."""
        return not self.has_root or (not self.ad.title and not self.ad.ad_id)


class Extractor:
    """Reads ads for one site definition (compiled once per crawl)."""

    def __init__(self, definition: SiteDefinition) -> None:
        self.definition = definition
        self.rules = definition.detail.rules()
        self.listing_rules = {name: rule for name, rule in self.rules.items() if rule.listing is not None}
        self.where = definition.defaults.where()
        self.auto = definition.structured.mode == "auto"
        self.reads_data = self.auto or any(rule.data for rule in self.rules.values())

    def from_listing(self, entry) -> dict[str, list[str]]:
        """The fields a definition reads from an ad's listing entry (carried to its detail page)."""
        return {name: rule.listing.all(entry) for name, rule in self.listing_rules.items()}

    def extract(self, response, listed: dict[str, list[str]] | None = None, url: str | None = None,
                now: datetime | None = None) -> Extraction:
        """Read the ad on `response`; `url` is the ad's URL as listed (before redirects)."""
        detail = self.definition.detail
        url = url or response.url
        page = response.selector
        removal = self.definition.removal
        removed_marker = bool(removal.marker and removal.marker.nodes(page))
        if detail.exclude:
            # On a copy: the response's own tree stays whole (robots, links, other readers).
            page = Selector(root=copy.deepcopy(page.root), type="html")
            for pick in detail.exclude:
                for node in pick.nodes(page):
                    node.drop()
        scope = page
        if detail.root is not None:
            matches = detail.root.nodes(page)
            scope = matches[0] if matches else None
        structured = (read_structured(page.root, response.url, tuple(self.definition.structured.syntaxes),
                                      html=response.text if "rdfa" in self.definition.structured.syntaxes else None)
                      if self.reads_data else Structured())
        found = Extraction(CrawledAd(site=self.definition.site, ad_id="", url=url, title="", body=""),
                           has_root=scope is not None, removed_marker=removed_marker)
        texts = {name: self._read(name, rule, scope, structured, listed or {}, url, found)
                 for name, rule in self.rules.items()}
        if self.auto and not structured.empty:
            for name in AUTO_PATHS:
                if not texts.get(name):
                    value = self._declared(name, structured)
                    if value:
                        texts[name] = value
                        found.sources[name] = "auto"
                        found.raw[name] = value
        self._clean(texts, response.url, found, now)
        return found

    # ------------------------------------------------------------------ reading

    def _read(self, name: str, rule: Rule, scope, structured: Structured, listed: dict, url: str,
              found: Extraction) -> str | list[str] | None:
        if rule.select is not None:
            values = rule.select.all(scope) if scope is not None else []
        elif rule.data is not None:
            values = [t for t in (text_of(v) for v in structured.values(rule.data)) if t]
        elif rule.url is not None:
            match = re.search(rule.url, url)
            values = [match.group(1) if match and match.re.groups else match.group(0)] if match else []
        else:
            values = list(listed.get(name, []))
        cleaned = [v for v in (apply_rule(rule, value) for value in values) if v]
        if values and not cleaned:
            found.problems[name] = f"{rule.source} found text but re/split left nothing"
        if not cleaned:
            return None
        found.sources[name] = rule.source
        if name not in LIST_FIELDS and len(set(cleaned)) > 1:
            # Two different titles or prices on one page: the rule is aimed too wide (or the page
            # carries another ad). The first is kept, and the ad says so instead of hiding it.
            found.problems[name] = f"{rule.source} matched {len(set(cleaned))} different values; the first was kept"
        value = cleaned if name in LIST_FIELDS else cleaned[0]
        found.raw[name] = value
        return value

    @staticmethod
    def _declared(name: str, structured: Structured) -> str | list[str] | None:
        for path in AUTO_PATHS[name]:
            values = structured.values(path)
            if name == "location":  # only a place written as one line; address objects fill city/region/country
                values = [v for v in values if isinstance(v, str)]
            texts = [t for t in (text_of(v) for v in values) if t]
            if texts:
                return texts if name in LIST_FIELDS else texts[0]
        return None

    # ------------------------------------------------------------------ cleaning

    def _clean(self, texts: dict, base_url: str, found: Extraction, now: datetime | None) -> None:
        where, ad = self.where, found.ad
        ad.ad_id = (texts.get("ad_id") or "").strip()
        ad.title = texts.get("title") or ""
        ad.body = texts.get("body") or ""
        ad.contact_text = texts.get("contact")
        ad.category = edge_strip(texts.get("category"))
        ad.images = [ImageRef(u) for u in dict.fromkeys(normalise_url(src, base_url) for src in texts.get("images") or [])]

        price_text = texts.get("price")
        money_currency = None
        if price_text and _EXPONENT.search(price_text):
            # "1e400 EUR": price-parser reads the mantissa alone (1 EUR); no marketplace writes prices so.
            found.problems["price"] = "a number in exponent notation, not read as a price"
        elif price_text:
            if found.sources.get("price") in ("data", "auto"):
                ad.price = parse_amount(price_text, where)
                money_currency = currency_code(price_text, where)
            else:
                money = parse_price(price_text, where)
                ad.price, money_currency = money.amount, money.currency
            if ad.price is None:
                found.problems["price"] = "no amount in the text"
        currency_text = texts.get("currency")
        currency = currency_code(currency_text, where) if currency_text else None
        if currency_text and currency is None:
            found.problems["currency"] = "not a currency code, symbol or name"
        ad.currency = currency or money_currency or (where.currency if ad.price is not None else None)

        posted = texts.get("posted_at")
        ad.posted_at = parse_date(posted, where, now or datetime.now(timezone.utc)) if posted else None
        if posted and ad.posted_at is None:
            found.problems["posted_at"] = "not understood as a date"

        place = split_location(texts.get("location"), where) if texts.get("location") else None
        if place and place.country_text is None and texts.get("location") and "country" not in texts:
            found.problems.setdefault("country", "the location names no country")
        ad.city = edge_strip(texts.get("city")) or (place.city if place else None)
        ad.region = edge_strip(texts.get("region")) or (place.region if place else None)
        country_text = texts.get("country")
        country = country_code(country_text, where) if country_text else None
        if country_text and country is None:
            found.problems["country"] = "not a country name or code"
        country = country or (place.country if place else None)
        if country:
            ad.country, ad.country_source = country, "page"
        elif where.country:
            ad.country, ad.country_source = where.country, "site_default"
            found.sources["country"] = "default"


def apply_rule(rule: Rule, text: str) -> str | None:
    """A rule's cleaning steps on one text: `re` (first group, or the match), `split` + `part`, `strip`."""
    if rule.pattern:
        match = re.search(rule.pattern, text, re.S)
        if not match:
            return None
        text = match.group(1) if match.re.groups else match.group(0)
        if text is None:
            return None
    if rule.split is not None:
        parts = text.split(rule.split)
        index = rule.part or 0
        if not -len(parts) <= index < len(parts):
            return None
        text = parts[index]
    text = text.strip(rule.strip + " \t\r\n\xa0") if rule.strip else text.strip()
    return text or None
