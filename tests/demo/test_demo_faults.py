"""Crawler-realism faults: each one recorded in the world and served as recorded (and off with faults=False)."""

from __future__ import annotations

import http.client
import io

import pytest
from PIL import Image


def _faulty(truth, market, fault: str, flavour: str = "html") -> dict:
    return next(r for r in truth if fault in r["faults"] and r["flavour"] == flavour and r["ad_id"] in market.view.live)


def _ad_path(record: dict) -> str:
    return f"/html/ad/{record['ad_id']}" if record["flavour"] == "html" else f"/js/api/offer/{record['ad_id']}"


@pytest.mark.parametrize("flavour", ["html", "js"])
def test_server_error_only_on_first_attempt(faulty_market, truth, fetch, flavour):
    record = _faulty(truth, faulty_market, "server_error_first", flavour)
    url = faulty_market.url + _ad_path(record)
    assert fetch(url).status == 503
    assert fetch(url).status == 200


def test_truncated_page_is_cut_short(faulty_market, truth, fetch):
    record = _faulty(truth, faulty_market, "truncated_html")
    page = fetch(faulty_market.url + _ad_path(record))
    assert page.status == 200
    assert "</html>" not in page.text and record["ad_id"] in page.text


def test_wrong_charset_is_declared(faulty_market, truth, fetch):
    record = _faulty(truth, faulty_market, "wrong_charset")
    page = fetch(faulty_market.url + _ad_path(record))
    assert "iso-8859-1" in page.headers["content-type"]
    assert '<meta charset="iso-8859-1">' in page.text
    page.body.decode("utf-8")  # the bytes really are UTF-8


def test_missing_fields_are_left_out(faulty_market, truth, fetch):
    markers = {"price": 'class="amount"', "city": 'class="city"', "title": 'class="ad-title"', "posted": 'class="ad-posted"'}
    record = _faulty(truth, faulty_market, "missing_fields")
    page = fetch(faulty_market.url + _ad_path(record)).text
    for field in record["missing_fields"]:
        assert markers[field] not in page
    assert 'class="ad-id"' in page


def test_slow_ad_is_still_served_whole(faulty_market, truth, fetch):
    record = next(r for r in truth if r["faults"] == ["slow"] and r["flavour"] == "html"
                  and r["ad_id"] in faulty_market.view.live)
    page = fetch(faulty_market.url + _ad_path(record))
    assert page.status == 200 and "</html>" in page.text


@pytest.mark.parametrize("flavour", ["html", "js"])
def test_redirect_chain_ends_at_the_ad(faulty_market, truth, fetch, flavour):
    record = _faulty(truth, faulty_market, "redirect_chain", flavour)
    first = fetch(f"{faulty_market.url}/{flavour}/go/{record['ad_id']}")
    second = fetch(faulty_market.url + first.headers["location"])
    final = fetch(faulty_market.url + second.headers["location"])
    assert (first.status, second.status, final.status) == (301, 302, 200)
    assert final.headers["content-type"].startswith("text/html")
    assert second.headers["location"] == f"/{flavour}/ad/{record['ad_id']}"


def test_listings_link_redirect_chain_ads_through_go(faulty_market, truth, fetch):
    linked = [r for r in truth if "redirect_chain" in r["faults"] and r["flavour"] == "html"
              and r["ad_id"] in faulty_market.view.live]
    assert any(f'href="/html/go/{r["ad_id"]}"' in fetch(f"{faulty_market.url}/html/category/{r['category']}/?page=1").text
               for r in linked)


def test_corrupt_and_oversized_images_are_served_as_recorded(faulty_market, truth, fetch):
    images = {i["fault"]: (r, i) for r in truth for i in r["images"] if i["fault"]}
    assert set(images) == {"corrupt", "oversized"}
    for fault, (record, image) in images.items():
        prefix = "/html/img/" if record["flavour"] == "html" else "/js/media/"
        reply = fetch(faulty_market.url + prefix + image["file"])
        assert reply.status == 200 and reply.headers["content-type"] == "image/jpeg"
        if fault == "corrupt":
            with pytest.raises(OSError):
                Image.open(io.BytesIO(reply.body)).load()
        else:
            with Image.open(io.BytesIO(reply.body)) as img:
                assert min(img.size) >= 4000


def test_no_faults_serves_every_ad_cleanly(market, truth, fetch):
    for fault in ("server_error_first", "truncated_html", "wrong_charset", "missing_fields"):
        record = _faulty(truth, market, fault)
        page = fetch(market.url + _ad_path(record))
        assert page.status == 200, fault
        assert "</html>" in page.text and "utf-8" in page.headers["content-type"], fault
        assert 'class="amount"' in page.text and 'class="ad-title"' in page.text, fault
    robots = fetch(market.url + "/robots.txt").text
    assert "Crawl-delay" not in robots and "Disallow" in robots
    assert all(fetch(market.url + "/html/").status == 200 for _ in range(50))


def test_outage_bursts_fail_requests_in_runs_of_their_kind_and_spare_robots(world_dir, fetch):
    from demo.server import Outages, start_server

    server = start_server(world_dir, port=0, faults=False,
                          outages=Outages(period=4, length=2, kinds=("503", "truncated"), hold_s=0.1))
    try:
        assert fetch(server.url + "/robots.txt").status == 200  # never disturbed: it decides what may be crawled
        statuses = []
        for _ in range(8):
            try:
                statuses.append(fetch(server.url + "/html/").status)
            except http.client.IncompleteRead:
                statuses.append("cut")
    finally:
        server.stop()
    assert statuses == [503, 503, 200, 200, "cut", "cut", 200, 200]
    assert server.outages_served == {"503": 2, "truncated": 2}


def test_outages_refuse_a_burst_longer_than_its_period():
    from demo.server import Outages

    with pytest.raises(ValueError, match="length <= period"):
        Outages(period=3, length=4)
