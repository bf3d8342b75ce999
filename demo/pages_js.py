"""The script-rendered flavour (site id `demo-js`, under /js/): one HTML shell, a JSON API, and app.js.

The shell never contains ads; /js/static/app.js reads the page's data-view / data-key, fetches
/js/api/... and builds the DOM. Rendered markup (after scripts run), for site definitions:
  listing  article.offer-card > a.offer-card__link[href] (h3 inside), b.offer-card__cost, em.offer-card__date[data-posted],
           em.offer-card__updated[data-updated]; pager: a.pager__next / a.pager__prev
  ad page  section#offer[data-offer-id] > h2.offer__headline, code.offer__ref, b.offer__cost[data-currency],
           span.offer__place[data-city][data-region][data-country], span.offer__section[data-key], em.offer__date[data-posted],
           em.offer__updated[data-updated], div.offer__text, div.offer__reach, figure.offer__gallery img[src]
"""

from __future__ import annotations

import json
from html import escape

from demo.text import CATEGORIES, CATEGORY_LABELS
from demo.views import DayView, LiveAd, page_of, place_label

PREFIX = "/js"


def shell(view_name: str, key: str = "", page: int = 1, footer: str = "") -> str:
    return ('<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Offers - DemoJS</title>'
            f'<script src="{PREFIX}/static/app.js" defer></script></head>\n<body>\n'
            f'<nav class="topbar"><a href="{PREFIX}/">DemoJS offers</a> <a href="{PREFIX}/account/">My account</a></nav>\n'
            f'<div id="app" data-view="{escape(view_name)}" data-key="{escape(key)}" data-page="{page}">'
            '<p class="loading">Loading...</p></div>\n'
            f"<noscript>This site needs JavaScript.</noscript>\n{footer}</body></html>\n")


def offer_href(live: LiveAd, faults_on: bool) -> str:
    kind = "go" if faults_on and "redirect_chain" in live.ad.faults else "ad"
    return f"{PREFIX}/{kind}/{live.ad_id}"


def index_payload(view: DayView) -> dict:
    sections = [{"key": c, "label": CATEGORY_LABELS[c], "count": len(view.by_category.get(("js", c), [])),
                 "href": f"{PREFIX}/c/{c}"} for c in CATEGORIES]
    places = [{"key": slug, "label": place_label(city, country), "count": len(view.by_city[("js", slug)]),
               "href": f"{PREFIX}/city/{slug}"} for slug, (city, _, country) in sorted(view.cities.items())
              if ("js", slug) in view.by_city]
    return {"sections": sections, "places": places}


def list_payload(heading: str, entries: list[LiveAd], page: int, size: int, base: str, faults_on: bool) -> dict:
    shown, pages = page_of(entries, page, size)
    return {
        "heading": heading, "page": page, "pages": pages,
        "next": f"{base}?page={page + 1}" if page < pages else None,
        "prev": f"{base}?page={page - 1}" if page > 1 else None,
        "offers": [{"ref": live.ad_id, "headline": live.title, "href": offer_href(live, faults_on),
                    "cost": {"value": live.price, "unit": live.ad.currency},
                    "created": live.posted, "modified": live.updated} for live in shown],
    }


def offer_payload(live: LiveAd, faults_on: bool) -> dict:
    ad = live.ad
    missing = set(ad.missing_fields) if faults_on else set()
    offer = {
        "ref": ad.ad_id, "headline": live.title, "text": live.body, "reach": ad.contact,
        "cost": {"value": live.price, "unit": ad.currency},
        "place": {key: value for key, value in (("city", ad.city), ("region", ad.region), ("country", ad.country))
                  if value},
        "section": {"key": ad.category, "label": CATEGORY_LABELS[ad.category]},
        "created": live.posted, "modified": live.updated if live.updated_day != ad.first_day else None,
        "photos": [f"{PREFIX}/media/{name}" for name in ad.images],
    }
    for name, key in (("title", "headline"), ("price", "cost"), ("city", "place"), ("posted", "created")):
        if name in missing:
            del offer[key]
    if not offer.get("place", True):  # a no-country world's ad without a city says nothing about where
        del offer["place"]
    return offer


def to_json(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


APP_JS = r"""
(function () {
  "use strict";
  var root = document.getElementById("app");
  var view = root.dataset.view, key = root.dataset.key, page = root.dataset.page || "1";
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function link(href, cls, text) { var a = el("a", cls, text); a.href = href; return a; }
  function fail(status) {
    root.innerHTML = "";
    root.appendChild(el("p", "error", "Could not load (" + status + ")"));
    root.dataset.state = "error";
  }
  function load(url, render) {
    fetch(url, {headers: {"Accept": "application/json"}}).then(function (response) {
      if (!response.ok) { fail(response.status); return null; }
      return response.json();
    }).then(function (data) {
      if (!data) return;
      root.innerHTML = "";
      render(data);
      root.dataset.state = "ready";
    }).catch(function (err) { fail(err.message); });
  }
  function renderIndex(data) {
    root.appendChild(el("h1", "hero", "All offers"));
    [["Sections", data.sections], ["Places", data.places]].forEach(function (group) {
      root.appendChild(el("h2", "group", group[0]));
      var box = el("div", "chips");
      group[1].forEach(function (item) {
        var chip = link(item.href, "chip", item.label);
        chip.appendChild(el("small", "chip__count", " " + item.count));
        box.appendChild(chip);
      });
      root.appendChild(box);
    });
  }
  function renderList(data) {
    root.appendChild(el("h1", "hero", data.heading));
    var grid = el("div", "offer-grid");
    data.offers.forEach(function (offer) {
      var card = el("article", "offer-card");
      card.dataset.ref = offer.ref;
      var a = link(offer.href, "offer-card__link");
      a.appendChild(el("h3", "offer-card__headline", offer.headline));
      card.appendChild(a);
      card.appendChild(el("b", "offer-card__cost", offer.cost.value + " " + offer.cost.unit));
      var posted = el("em", "offer-card__date", "since " + offer.created);
      posted.dataset.posted = offer.created;
      card.appendChild(posted);
      var updated = el("em", "offer-card__updated", "changed " + offer.modified);
      updated.dataset.updated = offer.modified;
      card.appendChild(updated);
      grid.appendChild(card);
    });
    root.appendChild(grid);
    var pager = el("div", "pager");
    if (data.prev) pager.appendChild(link(data.prev, "pager__prev", "<"));
    pager.appendChild(el("span", "pager__at", data.page + " / " + data.pages));
    if (data.next) pager.appendChild(link(data.next, "pager__next", ">"));
    root.appendChild(pager);
  }
  function renderOffer(offer) {
    var box = el("section", "offer");
    box.id = "offer";
    box.dataset.offerId = offer.ref;
    if (offer.headline !== undefined) box.appendChild(el("h2", "offer__headline", offer.headline));
    var ref = el("div", "offer__meta", "Reference ");
    ref.appendChild(el("code", "offer__ref", offer.ref));
    box.appendChild(ref);
    if (offer.cost) {
      var cost = el("b", "offer__cost", offer.cost.value + " " + offer.cost.unit);
      cost.dataset.currency = offer.cost.unit;
      cost.dataset.value = offer.cost.value;
      box.appendChild(cost);
    }
    if (offer.place) {
      var where = [offer.place.city, offer.place.region, offer.place.country].filter(function (part) { return part; });
      var place = el("span", "offer__place", where.join(" / "));
      ["city", "region", "country"].forEach(function (part) {
        if (offer.place[part]) place.dataset[part] = offer.place[part];
      });
      box.appendChild(place);
    }
    var section = el("span", "offer__section", offer.section.label);
    section.dataset.key = offer.section.key;
    box.appendChild(section);
    if (offer.created) {
      var posted = el("em", "offer__date", "online since " + offer.created);
      posted.dataset.posted = offer.created;
      box.appendChild(posted);
    }
    if (offer.modified) {
      var updated = el("em", "offer__updated", "changed " + offer.modified);
      updated.dataset.updated = offer.modified;
      box.appendChild(updated);
    }
    box.appendChild(el("div", "offer__text", offer.text));
    if (offer.reach) box.appendChild(el("div", "offer__reach", offer.reach));
    var gallery = el("figure", "offer__gallery");
    offer.photos.forEach(function (src) { var img = el("img", "offer__photo"); img.src = src; gallery.appendChild(img); });
    box.appendChild(gallery);
    root.appendChild(box);
  }
  var api = "/js/api/";
  if (view === "index") load(api + "index", renderIndex);
  else if (view === "section") load(api + "list?section=" + encodeURIComponent(key) + "&page=" + page, renderList);
  else if (view === "place") load(api + "list?place=" + encodeURIComponent(key) + "&page=" + page, renderList);
  else if (view === "offer") load(api + "offer/" + encodeURIComponent(key), renderOffer);
})();
"""
