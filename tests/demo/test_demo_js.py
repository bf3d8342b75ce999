"""The JS flavour: ads absent from the raw HTML, present after chromium runs the page's script."""

from __future__ import annotations

import json


def _live_js_ad(market, truth) -> dict:
    return next(r for r in truth if r["flavour"] == "js" and r["ad_id"] in market.view.live and r["images"])


def test_js_shell_html_contains_no_ad(market, truth, ads, fetch):
    record = _live_js_ad(market, truth)
    raw = fetch(f"{market.url}/js/ad/{record['ad_id']}")
    assert raw.status == 200
    assert ads[record["ad_id"]]["title"] not in raw.text
    assert 'id="app"' in raw.text and "/js/static/app.js" in raw.text
    listing = fetch(f"{market.url}/js/c/{record['category']}")
    assert "offer-card" not in listing.text and "J0" not in listing.text


def test_chromium_renders_js_ad_page(market, truth, ads, chromium):
    record = _live_js_ad(market, truth)
    ad = ads[record["ad_id"]]
    page = chromium.new_page()
    try:
        page.goto(f"{market.url}/js/ad/{ad['ad_id']}")
        page.wait_for_selector("#offer")
        assert page.get_attribute("#offer", "data-offer-id") == ad["ad_id"]
        assert page.inner_text("h2.offer__headline") == ad["title"]
        assert page.inner_text("code.offer__ref") == ad["ad_id"]
        assert page.get_attribute("b.offer__cost", "data-currency") == ad["currency"]
        assert page.get_attribute("span.offer__place", "data-country") == ad["country"]
        assert page.get_attribute("span.offer__section", "data-key") == ad["category"]
        sources = page.eval_on_selector_all("figure.offer__gallery img", "imgs => imgs.map(i => i.getAttribute('src'))")
        assert sources == [f"/js/media/{name}" for name in ad["images"]]
    finally:
        page.close()


def test_chromium_renders_js_listing_with_pagination(market, chromium):
    page = chromium.new_page()
    try:
        page.goto(f"{market.url}/js/c/services")
        page.wait_for_selector("#app[data-state=ready]")
        cards = page.eval_on_selector_all("article.offer-card", "cards => cards.map(c => c.dataset.ref)")
        assert len(cards) == market.options.page_size and all(ref.startswith("J") for ref in cards)
        assert page.locator("em.offer-card__date").first.get_attribute("data-posted").startswith("2026-")
        page.click("a.pager__next")
        page.wait_for_selector("#app[data-state=ready]")
        assert page.url.endswith("/js/c/services?page=2")
        second = page.eval_on_selector_all("article.offer-card", "cards => cards.map(c => c.dataset.ref)")
        assert second and not set(second) & set(cards)
    finally:
        page.close()


def test_js_api_answers_removed_ads_with_their_status(market, truth, fetch):
    record = next(r for r in truth if r["flavour"] == "js" and r["removed_status"] == 410)
    market.set_day(record["removed_day"] - 1)
    offer = fetch(f"{market.url}/js/api/offer/{record['ad_id']}")
    assert offer.status == 200 and json.loads(offer.body)["ref"] == record["ad_id"]
    market.set_day(record["removed_day"])
    assert fetch(f"{market.url}/js/api/offer/{record['ad_id']}").status == 410
    assert fetch(f"{market.url}/js/ad/{record['ad_id']}").status == 410


def test_flavours_do_not_serve_each_others_ads(market, truth, fetch):
    html_ad = next(r["ad_id"] for r in truth if r["flavour"] == "html" and r["ad_id"] in market.view.live)
    js_ad = _live_js_ad(market, truth)["ad_id"]
    assert fetch(f"{market.url}/js/api/offer/{html_ad}").status == 404
    assert fetch(f"{market.url}/html/ad/{js_ad}").status == 404


def test_chromium_renders_js_index_with_section_and_place_links(market, chromium):
    page = chromium.new_page()
    try:
        page.goto(f"{market.url}/js/")
        page.wait_for_selector("#app[data-state=ready]")
        hrefs = page.eval_on_selector_all("a.chip", "links => links.map(a => a.getAttribute('href'))")
    finally:
        page.close()
    assert {f"/js/c/{c}" for c in ("jobs", "wellness", "rentals", "goods", "services")} <= set(hrefs)
    assert any(href.startswith("/js/city/") for href in hrefs)
