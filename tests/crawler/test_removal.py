"""Removal beyond 404/410: a removal marker, a redirect to the home page, a soft 404; and browser actions."""

from __future__ import annotations

from pages_server import PagesServer

FAST = ("--no-politeness",)

SITE = """
site: tinyads
start_urls: ["${TINY_URL}/list"]
allowed_domains: ["127.0.0.1"]
removal: {marker: "css:p.ad-removed"}
listing:
  entry: "css:li"
  link: "css:a::attr(href)"
detail:
  root: "css:article.ad"
  ad_id: {listing: "css:li::attr(data-id)"}
  title: "css:h1"
  body: "css:div.text"
"""


def ad_page(n: int) -> str:
    return f"<html><body><article class='ad'><h1>Ad number {n}</h1><div class='text'>Body of ad {n}.</div></article></body></html>"


def listing(numbers) -> str:
    return "<html><body><ul>" + "".join(f"<li data-id='{n}'><a href='/ad/{n}'>ad {n}</a></li>" for n in numbers) \
        + "</ul></body></html>"


def test_marker_redirect_and_soft_404_count_as_removed(crawler, tmp_path):
    path = tmp_path / "tinyads.yaml"
    path.write_text(SITE)
    with PagesServer() as server:
        crawler.env["TINY_URL"] = server.url
        server.pages.update({"/list": (200, listing(range(1, 7)))})
        server.pages.update({f"/ad/{n}": (200, ad_page(n)) for n in range(1, 7)})
        first = crawler.crawl(str(path), *FAST)
        assert first.returncode == 0, first.stderr[-2000:]
        assert len(crawler.ads("tinyads")) == 6

        server.pages["/list"] = (200, listing([5]))
        server.pages["/ad/1"] = (200, "<html><body><p class='ad-removed'>This ad was removed.</p></body></html>")
        server.pages["/ad/2"] = (302, "", {"Location": "/"})
        server.pages["/"] = (200, "<html><body>Welcome</body></html>")
        server.pages["/ad/3"] = (200, "<html><body><h2>Sorry, nothing here</h2></body></html>")  # soft 404
        del server.pages["/ad/4"]  # a plain 404
        # Ad 6 is no longer listed but still there: its id (read from the listing) is the known one.
        second = crawler.crawl(str(path), *FAST)
        assert second.returncode == 0, second.stderr[-2000:]
    docs = crawler.ads("tinyads")
    status = {ad_id: (d["status"], d["crawl"].get("notes")) for ad_id, d in docs.items()}
    assert status == {"1": ("removed", ["removed: marker"]), "2": ("removed", ["removed: redirect"]),
                      "3": ("removed", ["removed: soft_404"]), "4": ("removed", ["removed: http_404"]),
                      "5": ("active", None), "6": ("active", None)}
    run = crawler.runs("tinyads")[-1]
    assert run["items"]["removed"] == 4 and run["items"]["invalid"] == 0


BROWSER_SITE = """
site: tinyjs
start_urls: ["${TINY_URL}/list"]
allowed_domains: ["127.0.0.1"]
render: browser
browser:
  wait_for: "body[data-ready]"
  timeout_s: 5
  actions:
    detail: [{click: "css:button.show-phone"}, {wait_for: "css:span.phone"}]
listing:
  entry: "css:li"
  link: "css:a::attr(href)"
detail:
  ad_id: {url: '/ad/(\\d+)$'}
  title: "css:h1"
  body: "css:div.text"
  contact: "css:span.phone"
"""

READY = "<script>document.body.setAttribute('data-ready', '1')</script>"
PHONE_PAGE = ("<html><body><h1>Ad {n}</h1><div class='text'>Call for details.</div><p id='c'></p>"
              "<button class='show-phone' onclick=\"setTimeout(() => document.getElementById('c').innerHTML = "
              "'<span class=phone>+1 617 555 01{n:02d}</span>', 200)\">Show phone</button>" + READY + "</body></html>")


def test_browser_clicks_show_phone_before_reading_the_ad(crawler, tmp_path):
    path = tmp_path / "tinyjs.yaml"
    path.write_text(BROWSER_SITE)
    with PagesServer() as server:
        crawler.env["TINY_URL"] = server.url
        server.pages["/list"] = (200, listing([1, 2]).replace("</body>", READY + "</body>"))
        server.pages["/ad/1"] = (200, PHONE_PAGE.format(n=1))
        # No button: the click is skipped, the wait gives up, the ad is read as it is.
        server.pages["/ad/2"] = (200, "<html><body><h1>Ad 2</h1><div class='text'>No phone.</div>" + READY
                                 + "</body></html>")
        done = crawler.crawl(str(path), *FAST)
    assert done.returncode == 0, done.stderr[-2000:]
    docs = crawler.ads("tinyjs")
    assert docs["1"]["contact_text"] == "+1 617 555 0101"
    assert docs["2"]["title"] == "Ad 2" and "contact_text" not in docs["2"]
