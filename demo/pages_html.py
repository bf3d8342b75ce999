"""The server-rendered flavour (site id `demo-html`, under /html/): index, listings, ad pages.

Markup contract a site definition can rely on:
  listing  li.listing-item > a.item-link[href], span.item-price, time.item-posted[datetime], time.item-updated[datetime]
           nav.pagination > a[rel=next] / a[rel=prev]
  ad page  div.ad-detail[data-ad-id] > h1.ad-title, span.ad-id, span.amount, span.currency, span.city, span.region,
           span.country, a.ad-category, time.ad-posted[datetime], time.ad-updated[datetime], div.ad-body,
           p.ad-contact, div.ad-images img[src]
"""

from __future__ import annotations

from html import escape

from demo.text import CATEGORIES, CATEGORY_LABELS
from demo.views import DayView, LiveAd, city_slug, page_of, place_label

PREFIX = "/html"


def _page(title: str, content: str, charset: str = "utf-8", footer: str = "") -> str:
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="{charset}">'
            f"<title>{escape(title)} - DemoAds</title></head>\n<body>\n"
            f'<header><a class="home" href="{PREFIX}/">DemoAds</a> '
            f'<form action="{PREFIX}/search"><input name="q"></form></header>\n'
            f"<main>\n{content}\n</main>\n{footer}</body></html>\n")


def index(view: DayView, footer: str = "") -> str:
    cats = "".join(f'<li><a class="category-link" href="{PREFIX}/category/{c}/">{escape(CATEGORY_LABELS[c])}</a> '
                   f'({len(view.by_category.get(("html", c), []))})</li>' for c in CATEGORIES)
    cities = "".join(f'<li><a class="city-link" href="{PREFIX}/city/{slug}/">{escape(place_label(city, country))}</a> '
                     f'({len(view.by_city[("html", slug)])})</li>'
                     for slug, (city, _, country) in sorted(view.cities.items()) if ("html", slug) in view.by_city)
    return _page("Classifieds", f'<h1>DemoAds classifieds</h1>\n<h2>Categories</h2><ul class="categories">{cats}</ul>\n'
                                f'<h2>Cities</h2><ul class="cities">{cities}</ul>', footer=footer)


def ad_href(live: LiveAd, faults_on: bool) -> str:
    """Link target for an ad; with faults on, redirect_chain ads are linked through /go/ (301, then 302)."""
    kind = "go" if faults_on and "redirect_chain" in live.ad.faults else "ad"
    return f"{PREFIX}/{kind}/{live.ad_id}"


def listing(heading: str, entries: list[LiveAd], page: int, size: int, faults_on: bool,
            footer: str = "") -> tuple[str, int]:
    """A listing page (and the page count); the caller checks the page number is in range."""
    shown, pages = page_of(entries, page, size)
    items = "\n".join(
        f'<li class="listing-item"><a class="item-link" href="{ad_href(live, faults_on)}">{escape(live.title)}</a> '
        f'<span class="item-price">{live.price} {live.ad.currency}</span> '
        f'<time class="item-posted" datetime="{live.posted}">{live.posted}</time> '
        f'<time class="item-updated" datetime="{live.updated}">updated {live.updated}</time></li>'
        for live in shown)
    nav = []
    if page > 1:
        nav.append(f'<a rel="prev" href="?page={page - 1}">Previous</a>')
    nav.append(f'<span class="page-number">Page {page} of {pages}</span>')
    if page < pages:
        nav.append(f'<a rel="next" href="?page={page + 1}">Next</a>')
    content = (f"<h1>{escape(heading)}</h1>\n<ul class=\"listing\">\n{items}\n</ul>\n"
               f'<nav class="pagination">{" ".join(nav)}</nav>')
    return _page(heading, content, footer=footer), pages


def category_heading(category: str) -> str:
    return CATEGORY_LABELS[category]


def ad_page(live: LiveAd, faults_on: bool, footer: str = "") -> str:
    """The detail page; with faults on, fields in ad.missing_fields are left out; so are empty places."""
    ad = live.ad
    missing = set(ad.missing_fields) if faults_on else set()
    parts = [f'<div class="ad-detail" data-ad-id="{ad.ad_id}">']
    if "title" not in missing:
        parts.append(f'<h1 class="ad-title">{escape(live.title)}</h1>')
    parts.append(f'<p>Ad ID: <span class="ad-id">{ad.ad_id}</span></p>')
    if "price" not in missing:
        parts.append(f'<p class="ad-price"><span class="amount">{live.price}</span> '
                     f'<span class="currency">{ad.currency}</span></p>')
    if "city" not in missing and ad.city:
        slug = city_slug(ad.city, ad.country)
        location = [f'<a href="{PREFIX}/city/{slug}/"><span class="city">{escape(ad.city)}</span></a>']
        if ad.region:
            location.append(f'<span class="region">{escape(ad.region)}</span>')
        if ad.country:
            location.append(f'<span class="country">{ad.country}</span>')
        parts.append(f'<p class="ad-location">{", ".join(location)}</p>')
    parts.append(f'<p>Category: <a class="ad-category" href="{PREFIX}/category/{ad.category}/">'
                 f'{escape(CATEGORY_LABELS[ad.category])}</a></p>')
    if "posted" not in missing:
        parts.append(f'<p>Posted: <time class="ad-posted" datetime="{live.posted}">{live.posted}</time></p>')
    if live.updated_day != ad.first_day:
        parts.append(f'<p>Updated: <time class="ad-updated" datetime="{live.updated}">{live.updated}</time></p>')
    parts.append(f'<div class="ad-body"><p>{escape(live.body)}</p></div>')
    if ad.contact:
        parts.append(f'<p class="ad-contact">Contact: {escape(ad.contact)}</p>')
    images = "".join(f'<img src="{PREFIX}/img/{name}" alt="photo {n}">' for n, name in enumerate(ad.images, 1))
    parts.append(f'<div class="ad-images">{images}</div>')
    parts.append(f'<p><a rel="nofollow" class="report" href="{PREFIX}/report/{ad.ad_id}">Report this ad</a></p>')
    parts.append("</div>")
    charset = "iso-8859-1" if faults_on and "wrong_charset" in ad.faults else "utf-8"
    return _page(live.title, "\n".join(parts), charset, footer)
