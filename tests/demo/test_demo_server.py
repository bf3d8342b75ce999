"""The HTML flavour, time, robots and the access log, over real HTTP on loopback."""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys

import pytest

from demo.cli import register
from demo.compose import day_date
from demo.server import is_disallowed, start_server
from demo.views import live_state
from demo.world import AdRecord, WorldError, day_changes, load_world

LINK = re.compile(r'<li class="listing-item"><a class="item-link" href="/html/ad/(H\d+)">')


def _listing_ids(fetch, base_url: str, path: str) -> list[str]:
    ids, url = [], base_url + path
    while url:
        page = fetch(url)
        assert page.status == 200, url
        ids += LINK.findall(page.text)
        following = re.search(r'<a rel="next" href="([^"]+)"', page.text)
        url = base_url + path + following.group(1) if following else None
    return ids


def test_category_listing_pages_cover_every_live_ad(market, ads, fetch):
    expected = {ad_id for ad_id, ad in ads.items() if ad["flavour"] == "html" and ad["category"] == "jobs"
                and not isinstance(live_state(AdRecord(**ad), market.day), (int, type(None)))}
    ids = _listing_ids(fetch, market.url, "/html/category/jobs/")
    assert len(ids) == len(set(ids)) == len(expected)
    assert set(ids) == expected
    assert len(ids) > market.options.page_size, "the listing should need more than one page"


def test_city_listing_pages_cover_every_live_ad_of_the_city(market, ads, fetch):
    slug, (city, _, country) = max(market.view.cities.items(), key=lambda item: len(market.view.by_city.get(("html", item[0]), [])))
    expected = {ad_id for ad_id, ad in ads.items() if ad["flavour"] == "html" and (ad["city"], ad["country"]) == (city, country)
                and not isinstance(live_state(AdRecord(**ad), market.day), (int, type(None)))}
    ids = _listing_ids(fetch, market.url, f"/html/city/{slug}/")
    assert set(ids) == expected and len(ids) == len(expected)
    assert f'href="/html/city/{slug}/"' in fetch(market.url + "/html/").text


def test_listing_entry_shows_price_and_dates(market, fetch):
    page = fetch(market.url + "/html/category/rentals/").text
    entry = re.search(r'<li class="listing-item">.*?</li>', page).group(0)
    assert re.search(r'class="item-price">\d+ [A-Z]{3}<', entry)
    assert re.search(r'class="item-posted" datetime="2026-\d\d-\d\d"', entry)
    assert re.search(r'class="item-updated" datetime="2026-\d\d-\d\d"', entry)


def test_ad_page_shows_every_field(market, ads, truth, fetch):
    record = next(r for r in truth if r["flavour"] == "html" and r["removed_day"] is None and not r["edits"]
                  and r["images"] and r["contacts"])
    ad = ads[record["ad_id"]]
    page = fetch(f"{market.url}/html/ad/{ad['ad_id']}")
    assert page.status == 200
    for needle in (f'data-ad-id="{ad["ad_id"]}"', f'<span class="ad-id">{ad["ad_id"]}</span>',
                   f'<span class="amount">{ad["price"]}</span>', f'<span class="currency">{ad["currency"]}</span>',
                   f'<span class="country">{ad["country"]}</span>', f'/html/category/{ad["category"]}/',
                   f'datetime="{day_date(ad["first_day"])}"', f'src="/html/img/{ad["images"][0]}"'):
        assert needle in page.text, needle
    assert fetch(f"{market.url}/html/img/{ad['images'][0]}").body[:2] == b"\xff\xd8"


def test_ads_appear_on_their_first_day(world_dir, truth, fetch):
    record = next(r for r in truth if r["flavour"] == "html" and r["first_day"] >= 5)
    server = start_server(world_dir, day=record["first_day"] - 1, faults=False)
    try:
        assert fetch(f"{server.url}/html/ad/{record['ad_id']}").status == 404
        server.set_day(record["first_day"])
        assert fetch(f"{server.url}/html/ad/{record['ad_id']}").status == 200
    finally:
        server.stop()


@pytest.mark.parametrize("status", [404, 410])
def test_removed_ads_answer_their_recorded_status(market, truth, status, fetch):
    record = next(r for r in truth if r["flavour"] == "html" and r["removed_status"] == status)
    url = f"{market.url}/html/ad/{record['ad_id']}"
    market.set_day(record["removed_day"] - 1)
    assert fetch(url).status == 200
    market.set_day(record["removed_day"])
    assert fetch(url).status == status


def test_an_edit_changes_the_listing_entry(market, ads, truth, fetch):
    record = next(r for r in truth if r["flavour"] == "html" and r["edits"] and "price" in r["edits"][0]["fields"])
    ad, edit = ads[record["ad_id"]], ads[record["ad_id"]]["edits"][0]
    path = f"/html/category/{ad['category']}/"
    market.set_day(edit["day"] - 1)
    before = _entry_anywhere(fetch, market, path, ad["ad_id"])
    market.set_day(edit["day"])
    after = _entry_anywhere(fetch, market, path, ad["ad_id"])
    assert f'{ad["price"]} {ad["currency"]}' in before
    assert f'{edit["changes"]["price"]} {ad["currency"]}' in after
    assert f'datetime="{market.view.live[ad["ad_id"]].updated}"' in after
    assert before != after


def _entry_anywhere(fetch, market, path: str, ad_id: str) -> str:
    url = market.url + path
    while url:
        page = fetch(url).text
        for entry in re.findall(r'<li class="listing-item">.*?</li>', page):
            if ad_id in entry:
                return entry
        following = re.search(r'<a rel="next" href="([^"]+)"', page)
        url = market.url + path + following.group(1) if following else None
    raise AssertionError(f"{ad_id} not listed under {path}")


def test_world_day_can_be_set_over_http(market, fetch):
    reply = fetch(market.url + "/_world", "POST", json.dumps({"day": 3}).encode())
    assert reply.status == 200 and json.loads(reply.body)["day"] == 3
    assert market.day == 3
    assert fetch(market.url + "/_world", "POST", b'{"day": 9999}').status == 400


def test_robots_txt_disallows_paths_and_sets_crawl_delay(faulty_market, fetch):
    robots = fetch(faulty_market.url + "/robots.txt").text
    assert "User-agent: *" in robots
    for path in ("/html/search", "/html/report/", "/js/account/"):
        assert f"Disallow: {path}" in robots
        assert is_disallowed(path + "x") and not is_disallowed("/html/ad/H0000001")
    assert re.search(r"Crawl-delay: [\d.]+", robots)


def test_rate_limit_answers_429_with_retry_after(world_dir, fetch):
    server = start_server(world_dir, rate_limit=0.5, burst=3)
    try:
        replies = [fetch(server.url + "/html/") for _ in range(6)]
        other = fetch(server.url + "/html/", user_agent="another-client")
    finally:
        server.stop()
    limited = [r for r in replies if r.status == 429]
    assert [r.status for r in replies[:3]] == [200, 200, 200]
    assert limited and all(int(r.headers["retry-after"]) >= 1 for r in limited)
    assert other.status == 200, "the limit is per client"


def test_access_log_records_each_request(world_dir, tmp_path, fetch):
    log_file = tmp_path / "access.jsonl"
    server = start_server(world_dir, faults=False, access_log_path=str(log_file))
    try:
        fetch(server.url + "/robots.txt")
        fetch(server.url + "/html/category/goods/?page=1", user_agent="log-test")
        fetch(server.url + "/html/ad/NOPE")
    finally:
        server.stop()
    entries = server.access_log
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("GET", "/robots.txt", 200), ("GET", "/html/category/goods/?page=1", 200), ("GET", "/html/ad/NOPE", 404)]
    assert entries[1]["client"] == "127.0.0.1" and entries[1]["user_agent"] == "log-test"
    assert entries[0]["time"] <= entries[1]["time"] <= entries[2]["time"]
    assert [json.loads(line) for line in log_file.read_text().splitlines()] == entries


def test_missing_world_dir_is_a_clear_error(tmp_path):
    missing = tmp_path / "no-world-here"
    with pytest.raises(WorldError, match=re.escape(str(missing))):
        load_world(missing)
    run = subprocess.run([sys.executable, "-m", "demo", "serve", "--world", str(missing), "--port", "0"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode != 0
    assert str(missing) in run.stderr and "demo generate" in run.stderr


def test_corrupt_world_is_a_clear_error(tmp_path):
    (tmp_path / "world.json").write_text("{not json")
    with pytest.raises(WorldError, match=re.escape(str(tmp_path / "world.json"))):
        load_world(tmp_path)
    (tmp_path / "world.json").write_text('{"version": 1, "complete": true, "n_ads": 3, "days": 5, "seed": 1}')
    with pytest.raises(WorldError, match="ads.jsonl"):
        load_world(tmp_path)


def test_generate_cli_writes_a_world(tmp_path):
    run = subprocess.run([sys.executable, "-m", "demo", "generate", "--ads", "40", "--seed", "2", "--out",
                          str(tmp_path / "w"), "--no-faults"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert len(load_world(tmp_path / "w").ads) == 40


def test_day_changes_match_what_the_server_shows(world_dir, truth, fetch):
    day = 20
    changes = day_changes(truth, day)
    assert changes["new"] and changes["edited"] and changes["removed"]
    flavour_path = {"H": "/html/ad/", "J": "/js/api/offer/"}
    server = start_server(world_dir, day=day - 1, faults=False)
    try:
        before = {i: fetch(server.url + flavour_path[i[0]] + i) for kind in changes.values() for i in kind}
        server.set_day(day)
        after = {i: fetch(server.url + flavour_path[i[0]] + i) for kind in changes.values() for i in kind}
    finally:
        server.stop()
    assert all(before[i].status == 404 and after[i].status == 200 for i in changes["new"])
    assert all(before[i].status == 200 and after[i].status in (404, 410) for i in changes["removed"])
    assert all(before[i].body != after[i].body for i in changes["edited"])


def test_register_adds_generate_and_serve_commands():
    parser = argparse.ArgumentParser(prog="adwatch demo")
    register(parser.add_subparsers(dest="command", required=True))
    generate = parser.parse_args(["generate", "--ads", "5", "--seed", "3", "--out", "w", "--no-faults"])
    serve = parser.parse_args(["serve", "--world", "w", "--port", "0", "--day", "4", "--rate-limit", "0", "--no-faults"])
    assert callable(generate.func) and (generate.ads, generate.seed, generate.faults) == (5, 3, False)
    assert callable(serve.func) and (serve.port, serve.day, serve.rate_limit, serve.faults) == (0, 4, 0.0, False)
