"""From a page to the ad it shows: structured data first, rules on top, scope and exclusion."""

from __future__ import annotations

from scrapy.http import HtmlResponse

from crawler.extract import Extractor
from crawler.sites import SiteDefinition

URL = "http://127.0.0.1:9000/ads/red-bike_i747"

MICRODATA = """<html><body><div class="page">
<div class="ad" itemscope itemtype="https://schema.org/Product">
  <h1 itemprop="name">Red bike</h1><p itemprop="description">Barely used red bike.</p>
  <img itemprop="image" src="/img/1.jpg"><img itemprop="image" src="/img/2.jpg">
  <div itemprop="offers" itemscope itemtype="https://schema.org/Offer">
    <span itemprop="price" content="120.50">120,50</span><meta itemprop="priceCurrency" content="EUR">
    <meta itemprop="validFrom" content="2026-02-01T10:00:00+01:00">
    <div itemprop="availableAtOrFrom" itemscope itemtype="https://schema.org/Place">
      <div itemprop="address" itemscope itemtype="https://schema.org/PostalAddress">
        <span itemprop="addressLocality">Lyon</span><span itemprop="addressCountry">France</span></div></div>
  </div>
  <button>Contact seller</button> <button>Share</button>
</div>
<div class="related"><div itemscope itemtype="https://schema.org/Product"><span itemprop="name">Blue bike</span>
  <img itemprop="image" src="/img/9.jpg"></div></div>
</div></body></html>"""

JOB = """<html><head><script type="application/ld+json">{"@context": "https://schema.org", "@graph": [
 {"@type": "WebSite", "name": "Jobs board"},
 {"@type": "JobPosting", "title": "Night cleaner", "description": "Cleaning offices at night.",
  "datePosted": "2026-03-01", "identifier": {"@type": "PropertyValue", "value": "J-42"},
  "baseSalary": {"@type": "MonetaryAmount", "currency": "GBP", "value": {"@type": "QuantitativeValue", "value": 11.5}},
  "jobLocation": {"@type": "Place", "address": {"@type": "PostalAddress", "addressLocality": "Leeds",
                  "addressRegion": "England", "addressCountry": "GB"}}}]}</script></head><body></body></html>"""

RDFA = """<html><body><div vocab="https://schema.org/" typeof="Product">
<h1 property="name">Old sofa</h1><p property="description">Comfortable, must go.</p>
<div property="offers" typeof="Offer"><span property="price">40</span><span property="priceCurrency">USD</span></div>
</div></body></html>"""

OPENGRAPH = """<html><head><meta property="og:title" content="Garden chairs">
<meta property="og:image" content="http://127.0.0.1:9000/a.jpg"><meta property="og:image" content="/b.jpg">
</head><body><div class="text">Four chairs, some rust.</div></body></html>"""


def definition(detail: dict | None = None, **top) -> SiteDefinition:
    return SiteDefinition.model_validate({
        "site": "t", "start_urls": ["http://127.0.0.1:9000/"], "allowed_domains": ["127.0.0.1"],
        "listing": {"entry": "css:li", "link": "css:a::attr(href)"}, "detail": detail or {}, **top})


def page(html: str, url: str = URL) -> HtmlResponse:
    return HtmlResponse(url=url, body=html.encode(), encoding="utf-8")


def test_microdata_fills_every_field_without_a_selector():
    ad = Extractor(definition({"ad_id": {"url": "_i(\\d+)$"}})).extract(page(MICRODATA)).ad
    assert (ad.ad_id, ad.title, ad.body) == ("747", "Red bike", "Barely used red bike.")
    assert (ad.price, ad.currency, ad.city, ad.country, ad.country_source) == (120.5, "EUR", "Lyon", "FR", "page")
    assert ad.posted_at == "2026-02-01T10:00:00+01:00"
    assert [i.url for i in ad.images] == ["http://127.0.0.1:9000/img/1.jpg", "http://127.0.0.1:9000/img/2.jpg"]


def test_json_ld_job_posting_with_salary_place_and_identifier():
    ad = Extractor(definition()).extract(page(JOB)).ad
    assert (ad.ad_id, ad.title, ad.price, ad.currency) == ("J-42", "Night cleaner", 11.5, "GBP")
    assert (ad.city, ad.region, ad.country, ad.posted_at) == ("Leeds", "England", "GB", "2026-03-01T00:00:00")


def test_rdfa_is_read():
    ad = Extractor(definition()).extract(page(RDFA)).ad
    assert (ad.title, ad.body, ad.price, ad.currency) == ("Old sofa", "Comfortable, must go.", 40.0, "USD")


def test_opengraph_gives_title_and_photos_and_a_selector_the_body():
    ad = Extractor(definition({"body": "css:div.text"})).extract(page(OPENGRAPH)).ad
    assert (ad.title, ad.body) == ("Garden chairs", "Four chairs, some rust.")
    assert [i.url for i in ad.images] == ["http://127.0.0.1:9000/a.jpg", "http://127.0.0.1:9000/b.jpg"]


def test_excluded_and_out_of_root_markup_never_reaches_the_ad():
    rules = {"root": "css:div.ad", "exclude": ["css:div.related", "css:button"], "body": "css:div.ad"}
    found = Extractor(definition(rules)).extract(page(MICRODATA))
    assert "Blue bike" not in found.ad.body and "Contact seller" not in found.ad.body
    assert all("/img/9.jpg" not in i.url for i in found.ad.images)
    # Without the exclusion the related ad's photo and the buttons come along: what the rules are for.
    loose = Extractor(definition({"body": "css:div.page", "images": "css:img::attr(src)"})).extract(page(MICRODATA))
    assert "Contact seller" in loose.ad.body and any("/img/9.jpg" in i.url for i in loose.ad.images)


def test_selectors_override_what_the_page_declares_and_off_ignores_it():
    rules = {"title": {"select": "css:h1", "re": "(\\w+)"}, "price": "css:span[itemprop=price]"}
    ad = Extractor(definition(rules)).extract(page(MICRODATA)).ad
    assert (ad.title, ad.price) == ("Red", 120.5)
    off = definition({"ad_id": {"url": "_i(\\d+)$"}, "title": "css:h1", "body": "css:p"}, structured="off")
    ad = Extractor(off).extract(page(MICRODATA)).ad
    assert ad.price is None and ad.images == [] and ad.title == "Red bike"


def test_ad_id_from_the_listing_entry_and_split_part_strip():
    rules = {"ad_id": {"listing": "css:li::attr(data-id)"},
             "category": {"select": "css:h1", "split": " ", "part": -1, "strip": "e"}}
    found = Extractor(definition(rules)).extract(page(MICRODATA), listed={"ad_id": ["A-9"]})
    assert found.ad.ad_id == "A-9" and found.ad.category == "bik"
    assert found.sources["ad_id"] == "listing"


def test_site_defaults_fill_country_and_currency_and_say_so():
    rules = {"ad_id": {"url": "_i(\\d+)$"}, "title": "css:h1", "body": "css:p", "price": "css:b"}
    html = "<html><body><h1>Lamp</h1><p>Brass lamp.</p><b>35</b></body></html>"
    ad = Extractor(definition(rules, defaults={"country": "DE", "currency": "EUR"})).extract(page(html)).ad
    assert (ad.price, ad.currency, ad.country, ad.country_source) == (35.0, "EUR", "DE", "site_default")
    bare = Extractor(definition(rules)).extract(page(html)).ad
    assert bare.country is None and bare.country_source is None  # never invented


def test_unclean_values_are_named_per_field_without_the_value():
    rules = {"title": "css:h1", "body": "css:p", "posted_at": "css:p", "country": "css:h1"}
    found = Extractor(definition(rules)).extract(page("<html><body><h1>Lamp</h1><p>Brass lamp.</p></body></html>"))
    assert found.problems == {"posted_at": "not understood as a date", "country": "not a country name or code"}


def test_garbled_json_ld_leaves_selectors_and_other_syntaxes_working():
    html = MICRODATA.replace("<body>", '<body><script type="application/ld+json">{"@type": "Product", </script>')
    ad = Extractor(definition()).extract(page(html)).ad
    assert ad.title == "Red bike" and ad.price == 120.5


def test_removal_marker_and_a_page_without_the_ad():
    found = Extractor(definition({"root": "css:div.ad"}, removal={"marker": "css:p.gone"})).extract(
        page("<html><body><p class='gone'>This ad was removed</p></body></html>"))
    assert found.removed_marker and found.looks_empty
