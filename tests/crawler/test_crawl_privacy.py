"""Nothing an ad says reaches a log: not its URL slug, its fields, an invalid id, a bad image's bytes."""

from __future__ import annotations

from crawl_helpers import listing_site
from pages_server import PagesServer
from test_bad_images import BAD, encoded

FAST = ("--no-politeness",)
PHONE, TITLE, BODY = "617-555-0142", "Sweet Anna new in town", "Call me tonight, discreet incall near the station"
SLUG = "sweet-anna-new-in-town-617-555-0142"
MISAIMED_ID = "Call Marta 617 555 0199 now"

SITE = listing_site("slugads", "SLUG_URL", '  contact: "css:p.phone"\n  images: "css:img::attr(src)"\n')


def ad_page(title: str, body: str, images: list[str]) -> str:
    imgs = "".join(f"<img src='{src}'>" for src in images)
    return (f"<html><body><h1>{title}</h1><div class='text'>{body}</div><p class='phone'>{PHONE}</p>{imgs}"
            "</body></html>")


def test_a_debug_log_of_a_crawl_carries_no_slug_field_value_or_invalid_id(crawler, tmp_path):
    path = tmp_path / "slugads.yaml"
    path.write_text(SITE)
    images = {f"/img/{name}-{SLUG}.jpg": data for name, data in BAD.items() if name != "decompression_bomb"}
    images[f"/img/good-{SLUG}.jpg"] = encoded("JPEG")
    with PagesServer() as server:
        crawler.env["SLUG_URL"] = server.url
        server.pages["/list"] = (200, "<html><body><ul>"
                                      f"<li data-id='7'><a href='/ad/7/{SLUG}'>{TITLE}</a></li>"
                                      f"<li data-id='{MISAIMED_ID}'><a href='/ad/8/call-marta'>x</a></li>"
                                      f"<li data-id='9'><a href='/ad/9/{SLUG}-gone'>gone</a></li>"
                                      "</ul></body></html>")
        server.pages[f"/ad/7/{SLUG}"] = (200, ad_page(TITLE, BODY, list(images)))
        server.pages["/ad/8/call-marta"] = (200, ad_page("Marta", BODY, []))
        server.pages.update({src: (200, data, {"Content-Type": "image/jpeg"}) for src, data in images.items()})
        done = crawler.crawl(str(path), *FAST, "--log-level", "DEBUG")
    assert done.returncode == 0, done.stderr[-3000:]
    docs = crawler.ads("slugads")
    assert set(docs) == {"7"} and docs["7"]["url"].endswith(SLUG)  # the index keeps it all
    errors = {i["url"].rsplit("/", 1)[-1].split("-")[0]: i.get("error") for i in docs["7"]["images"]}
    assert errors["good"] is None and all(errors[name] for name in errors if name != "good")
    run = crawler.runs("slugads")[-1]
    assert run["items"]["invalid"] == 1

    log = done.stdout + done.stderr
    assert "Crawled (200)" in log and "Dropped: invalid ad" in log  # Scrapy's own lines are there...
    for secret in (PHONE, "555-0142", "555 0199", SLUG, "sweet-anna", TITLE, BODY[:20], MISAIMED_ID, "Marta",
                   "call-marta"):
        assert secret not in log, f"{secret!r} reached the log"  # ...without what the ads say
