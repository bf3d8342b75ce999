"""Crawls of the demo marketplace into the real node, checked against the world's truth."""

from __future__ import annotations

import pytest

from demo.server import DISALLOWED, start_server
from demo.world import day_changes

from crawl_helpers import deployment, is_broken, kill_mid_crawl, point_at

FAST = ("--no-politeness",)


def live_on(truth, ads, flavour: str, day: int) -> dict[str, dict]:
    """Ads a visitor of `flavour` sees on `day`, by id, with edits applied (price)."""
    out = {}
    for t in truth:
        if t["flavour"] != flavour or t["first_day"] > day or (t["removed_day"] is not None and t["removed_day"] <= day):
            continue
        ad = dict(ads[t["ad_id"]])
        for edit in ad["edits"]:
            if edit["day"] <= day:
                ad.update(edit["changes"])
        out[t["ad_id"]] = ad
    return out


def assert_recovered(got: dict, expected: dict) -> None:
    """>= 99 % of the fault-free ads, each with the fields the page showed."""
    good = {ad_id: ad for ad_id, ad in expected.items() if not is_broken(ad)}
    found = [ad_id for ad_id in good if ad_id in got]
    assert len(found) >= 0.99 * len(good), f"recovered {len(found)} of {len(good)}"
    for ad_id in found:
        ad, doc = good[ad_id], got[ad_id]
        shown = set(ad["missing_fields"])
        assert doc["title"] == ad["title"]
        assert doc["body"] == ad["body"] or "wrong_charset" in ad["faults"]
        if "price" not in shown:
            assert doc["price"] == ad["price"] and doc["currency"] == ad["currency"]
        if "city" not in shown:
            assert (doc["city"], doc["country"]) == (ad["city"], ad["country"])
        assert len(doc.get("images", [])) == len(ad["images"])
        assert doc["status"] == "active" and doc["enrich"]["status"] == "pending"


@pytest.fixture(scope="module")
def html_crawl(es_settings, crawl_world, tmp_path_factory):
    """One polite-off crawl of the HTML flavour with every page fault on (no rate limit)."""
    market = start_server(crawl_world, port=0, rate_limit=0, crawl_delay=0, slow_ms=50)
    with deployment(es_settings, tmp_path_factory.mktemp("html-crawl")) as crawler:
        point_at(crawler, market)
        done = crawler.crawl("demo-html", *FAST)
        assert done.returncode == 0, done.stderr[-2000:]
        yield crawler, list(market.access_log)
    market.stop()


def test_html_crawl_recovers_the_served_ads_with_correct_fields(html_crawl, crawl_truth, crawl_ads):
    crawler, _ = html_crawl
    last_day = max(t["first_day"] for t in crawl_truth)
    assert_recovered(crawler.ads("demo-html"), live_on(crawl_truth, crawl_ads, "html", last_day))


def test_disallowed_paths_are_never_fetched_and_robots_comes_first(html_crawl):
    _, log = html_crawl
    ours = [e for e in log if e["user_agent"].startswith("AdWatch/")]
    assert ours and ours[0]["path"] == "/robots.txt"
    assert not [e["path"] for e in ours if e["path"].startswith(DISALLOWED)]


def test_images_are_stored_once_per_unique_content(html_crawl):
    crawler, _ = html_crawl
    docs = crawler.ads("demo-html").values()
    digests = {i["sha256"] for d in docs for i in d.get("images", []) if i.get("path")}
    files = [p for p in (crawler.cache_dir / "images").rglob("*") if p.is_file()]
    assert digests and len(files) == len(digests)
    assert {p.stem for p in files} == digests


def test_malformed_pages_and_bad_images_are_counted_in_the_run(html_crawl, crawl_truth, crawl_ads):
    crawler, _ = html_crawl
    last_day = max(t["first_day"] for t in crawl_truth)
    live = live_on(crawl_truth, crawl_ads, "html", last_day)
    (run,) = crawler.runs("demo-html")
    assert run["status"] == "finished"
    assert run["items"]["invalid"] == sum(is_broken(ad) for ad in live.values())
    assert run["items"]["new"] == len(crawler.ads("demo-html"))
    bad_images = {f for ad in live.values() if not is_broken(ad) for f in ad["image_faults"]}
    image_errors = {i["url"].rsplit("/img/", 1)[-1] for d in crawler.ads("demo-html").values()
                    for i in d.get("images", []) if i.get("error")}
    assert image_errors == bad_images
    assert sum(v for k, v in run["errors"].items() if k.startswith("image_")) >= len(bad_images)


def test_js_crawl_recovers_the_ads_only_a_browser_sees(crawler, crawl_world, crawl_truth, crawl_ads):
    market = start_server(crawl_world, port=0, rate_limit=0, crawl_delay=0, slow_ms=50)
    try:
        done = point_at(crawler, market).crawl("demo-js", *FAST)
    finally:
        market.stop()
    assert done.returncode == 0, done.stderr[-2000:]
    last_day = max(t["first_day"] for t in crawl_truth)
    assert_recovered(crawler.ads("demo-js"), live_on(crawl_truth, crawl_ads, "js", last_day))


def test_rate_limited_crawl_honours_retry_after_and_still_gets_everything(crawler, crawl_world, crawl_truth,
                                                                          crawl_ads):
    market = start_server(crawl_world, port=0, rate_limit=8, burst=5, crawl_delay=0, faults=True, slow_ms=0)
    try:
        done = point_at(crawler, market).crawl("demo-html", *FAST)
        log = [e for e in market.access_log if e["user_agent"].startswith("AdWatch/")]
    finally:
        market.stop()
    assert done.returncode == 0, done.stderr[-2000:]
    (run,) = crawler.runs("demo-html")
    limited = [e for e in log if e["status"] == 429]
    assert limited and run["errors"]["http_429"] == len(limited)
    # Each 429 paused the whole host: far fewer refusals than requests.
    assert len(limited) < 0.2 * len(log)
    last_day = max(t["first_day"] for t in crawl_truth)
    assert_recovered(crawler.ads("demo-html"), live_on(crawl_truth, crawl_ads, "html", last_day))


def test_day_by_day_recrawl_counts_new_changed_removed_exactly(crawler, crawl_world, crawl_truth, crawl_ads):
    first = 30
    market = start_server(crawl_world, port=0, day=first, rate_limit=0, crawl_delay=0, slow_ms=0)
    point_at(crawler, market)
    html = {t["ad_id"]: t for t in crawl_truth if t["flavour"] == "html" and not is_broken(crawl_ads[t["ad_id"]])}
    try:
        assert crawler.crawl("demo-html", *FAST, "--world-day", str(first)).returncode == 0
        known = set(crawler.ads("demo-html"))
        for day in range(first + 1, first + 6):
            done = crawler.crawl("demo-html", *FAST, "--world-day", str(day))
            assert done.returncode == 0, done.stderr[-2000:]
            truth = {k: {a for a in v if a in html} for k, v in day_changes(crawl_truth, day).items()}
            expected = {"new": len(truth["new"]), "removed": len(truth["removed"] & known),
                        "changed": len((truth["edited"] & known) - truth["removed"])}
            run = crawler.runs("demo-html")[-1]
            assert {k: run["items"][k] for k in expected} == expected, f"day {day}"
            known = {a for a, doc in crawler.ads("demo-html").items() if doc["status"] == "active"}
    finally:
        market.stop()


def test_sigkill_then_resume_ends_with_the_same_index(es_settings, crawl_world, tmp_path):
    market = start_server(crawl_world, port=0, rate_limit=0, crawl_delay=0, slow_ms=0)
    try:
        with deployment(es_settings, tmp_path / "whole") as whole, \
                deployment(es_settings, tmp_path / "killed") as killed:
            assert point_at(whole, market).crawl("demo-html", *FAST).returncode == 0
            point_at(killed, market)
            job = tmp_path / "job"
            partial = kill_mid_crawl(killed, killed.popen("demo-html", "--job-dir", str(job)), "demo-html")
            reference = whole.ads("demo-html")
            assert 0 < partial < len(reference), "the kill must land mid-crawl"
            assert (job / "run.json").exists()

            done = killed.crawl("demo-html", *FAST, "--job-dir", str(job))
            assert done.returncode == 0, done.stderr[-2000:]

            def shape(docs):
                return {a: (d["content_hash"], d["status"], d["edits"],
                            tuple(i.get("sha256") for i in d.get("images", []))) for a, d in docs.items()}

            assert shape(killed.ads("demo-html")) == shape(reference)
            runs = killed.runs("demo-html")
            assert len(runs) == 1 and runs[0]["status"] == "finished"
            assert runs[0]["items"]["new"] == whole.runs("demo-html")[0]["items"]["new"]
            assert not (job / "run.json").exists()
    finally:
        market.stop()


def test_json_logs_of_a_crawl_are_json_lines_without_ad_text(crawler, crawl_world, crawl_ads):
    import json

    market = start_server(crawl_world, port=0, rate_limit=0, crawl_delay=0, slow_ms=0)
    try:
        point_at(crawler, market)
        crawler.env["ADWATCH_LOG_FORMAT"] = "json"  # what `adwatch --log-format json` passes to its children
        done = crawler.crawl("demo-html", *FAST, "--log-level", "INFO")
    finally:
        market.stop()
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    not_json = [line for line in lines if not line.startswith("{")]
    assert not not_json, not_json[:5]
    records = [json.loads(line) for line in lines]
    assert any(r["log.logger"].startswith("scrapy") for r in records)
    leaked = [line for line in lines for ad in crawl_ads.values()
              if len(ad["title"]) >= 12 and (ad["body"][:60] in line or ad["title"] in line)]
    assert not leaked, leaked[:3]


def test_a_hand_started_crawl_refuses_a_site_whose_lock_is_held(crawler):
    from crawler.scheduler_state import SiteLock

    lock = SiteLock(crawler.cache_dir / "jobs" / "demo-html")  # as a scheduler's running crawl holds it
    assert lock.acquire()
    try:
        done = crawler.crawl("demo-html", *FAST)
    finally:
        lock.release()
    message = "".join(done.stderr.split())  # rich wraps long lines anywhere
    assert done.returncode == 2 and "alreadyrunning" in message and "crawl.lock" in message
