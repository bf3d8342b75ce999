"""The world as of one day: which ads are live, their current (edited) state, and listing order."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from html import escape

from demo.compose import day_date
from demo.world import AdRecord

SITE_PREFIX = {"html": "/html", "js": "/js"}


def city_slug(city: str, country: str) -> str:
    """URL slug of a city listing ("são paulo", "BR" -> "sao-paulo-br"); without a country, the city alone."""
    folded = unicodedata.normalize("NFKD", f"{city} {country}").encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")


def place_label(*parts: str) -> str:
    """"City, Region, CC" with whatever parts a page shows (no-country worlds show no country)."""
    return ", ".join(part for part in parts if part)


def footer_html(footer: dict | None) -> str:
    """The site footer of every page (footer worlds): customer service number, email, maybe a handle."""
    if not footer:
        return ""
    parts = [f'{escape(footer["label"])}: <span class="support-phone">{escape(footer["shown"])}</span>',
             f'<a class="support-email" href="mailto:{escape(footer["email"])}">{escape(footer["email"])}</a>']
    if footer.get("handle"):
        parts.append(f'WhatsApp: <span class="support-handle">{escape(footer["handle"].split(":", 1)[1])}</span>')
    return (f'<footer class="site-footer"><p class="support">{" · ".join(parts)}</p>'
            '<p class="legal">Terms · Privacy · Report abuse</p></footer>\n')


@dataclass
class LiveAd:
    """An ad as a visitor sees it on a given day (edits up to that day applied)."""

    ad: AdRecord  # faults, images, ids: what does not change with edits
    title: str
    body: str
    price: int
    updated_day: int  # first_day, or the day of the latest edit shown

    @property
    def ad_id(self) -> str:
        return self.ad.ad_id

    @property
    def posted(self) -> str:
        return day_date(self.ad.first_day)

    @property
    def updated(self) -> str:
        return day_date(self.updated_day)


@dataclass
class DayView:
    """Per flavour: live ads by id, listings by category and by city slug (newest update first)."""

    day: int
    live: dict[str, LiveAd] = field(default_factory=dict)
    gone: dict[str, int] = field(default_factory=dict)  # ad_id -> 404 | 410 for removed ads
    by_category: dict[tuple[str, str], list[LiveAd]] = field(default_factory=dict)
    by_city: dict[tuple[str, str], list[LiveAd]] = field(default_factory=dict)
    cities: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # slug -> (city, region, country)


def live_state(ad: AdRecord, day: int) -> LiveAd | int | None:
    """The ad on `day`: a LiveAd, its removal status (404/410), or None if not yet posted."""
    if day < ad.first_day:
        return None
    if ad.removed_day is not None and day >= ad.removed_day:
        return ad.removed_status
    title, body, price, updated = ad.title, ad.body, ad.price, ad.first_day
    for edit in ad.edits:
        if edit["day"] > day:
            break
        changes = edit["changes"]
        title, body, price = changes.get("title", title), changes.get("body", body), changes.get("price", price)
        updated = edit["day"]
    return LiveAd(ad, title, body, price, updated)


def build_view(ads: list[AdRecord], day: int) -> DayView:
    view = DayView(day)
    for ad in ads:
        state = live_state(ad, day)
        if state is None:
            continue
        if isinstance(state, int):
            view.gone[ad.ad_id] = state
            continue
        view.live[ad.ad_id] = state
        flavour = ad.flavour
        view.by_category.setdefault((flavour, ad.category), []).append(state)
        if ad.city:  # no-country worlds have ads without a city: they are in no city listing
            slug = city_slug(ad.city, ad.country)
            view.cities.setdefault(slug, (ad.city, ad.region, ad.country))
            view.by_city.setdefault((flavour, slug), []).append(state)
    newest_first = lambda live: (-live.updated_day, -live.ad.first_day, live.ad_id)  # noqa: E731
    for listing in (*view.by_category.values(), *view.by_city.values()):
        listing.sort(key=newest_first)
    return view


def page_of(listing: list[LiveAd], page: int, size: int) -> tuple[list[LiveAd], int]:
    """Entries on 1-based `page` and the page count (>= 1)."""
    pages = max(1, -(-len(listing) // size))
    return listing[(page - 1) * size: page * size], pages
