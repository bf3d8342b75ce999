"""Two crawl processes on one shared frontier (real Redis, real Elasticsearch, the demo marketplace)
end with the index, the run document and the fetches of one process's crawl, even when one is killed."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections import Counter

import pytest

from demo.server import start_server

from crawl_helpers import ROOT, deployment, kill_mid_crawl, listing_site, point_at
from pages_server import PagesServer

FAST = ("--no-politeness",)
# Photos two processes' ads share are looked up in the run's shared map first, but two downloads that
# start at the same moment both go ahead (the store keeps one copy): pages are compared exactly, photos as a set.
PHOTOS = "/html/img/"
DAYS = (30, 31)  # a first crawl, then an incremental one with new, edited and removed ads
# Per crawl, not per ad: timestamps and run ids. Image paths name each deployment's own store.
VOLATILE = {"first_seen", "last_seen", "removed_at", "crawl"}


def shape(docs: dict[str, dict]) -> dict[str, dict]:
    """What a crawl stored about each ad, without what differs between any two crawls."""
    out = {}
    for ad_id, doc in docs.items():
        kept = {k: v for k, v in doc.items() if k not in VOLATILE}
        kept["images"] = [{k: v for k, v in i.items() if k != "path"} for i in doc.get("images", [])]
        kept["notes"] = doc["crawl"].get("notes")
        out[ad_id] = kept
    return out


def fetches(log: list[dict]) -> Counter:
    """GETs of pages by path, robots.txt aside (each process reads it once)."""
    return Counter(e["path"] for e in log if e["user_agent"].startswith("AdWatch/") and e["path"] != "/robots.txt"
                   and not e["path"].startswith(PHOTOS))


def photos(log: list[dict]) -> set[str]:
    return {e["path"] for e in log if e["path"].startswith(PHOTOS)}


def start(crawler, redis_url: str, site: str = "demo-html", flags: tuple[str, ...] = FAST) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "adwatch.cli", "crawl", site, *flags, "--frontier", redis_url],
                            env=crawler.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)


def finish(procs: list[subprocess.Popen]) -> list[str]:
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
        outputs.append(" ".join(out.split()))  # rich wraps long lines
    return outputs


def market_on(world, day: int, port: int, latency_ms: int = 0):
    """A fresh marketplace per crawl, so its once-only faults (a first 503) meet every crawl alike; on one
    port, as ad and image URLs (and so content hashes) carry it."""
    return start_server(world, port=port, day=day, rate_limit=0, crawl_delay=0, slow_ms=50, latency_ms=latency_ms)


@pytest.fixture(scope="module")
def market_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def one_process(es_settings, crawl_world, market_port, tmp_path_factory):
    """The reference: one process crawls each day; per day the ads, the run and the fetches."""
    days = {}
    with deployment(es_settings, tmp_path_factory.mktemp("one-process")) as crawler:
        for day in DAYS:
            market = market_on(crawl_world, day, market_port)
            try:
                done = point_at(crawler, market).crawl("demo-html", *FAST)
            finally:
                market.stop()
            assert done.returncode == 0, done.stderr[-2000:]
            days[day] = (shape(crawler.ads("demo-html")), crawler.runs("demo-html")[-1], fetches(market.access_log),
                         photos(market.access_log))
    return days


def test_two_processes_make_one_run_with_the_ads_counts_and_fetches_of_one(
        one_process, es_settings, crawl_world, market_port, redis_node, tmp_path):
    with deployment(es_settings, tmp_path) as crawler:
        for n, day in enumerate(DAYS, 1):
            # Answers take 250 ms, so a process that starts a few seconds after the other on a busy
            # machine still finds work left and the "both worked" check below means something.
            market = market_on(crawl_world, day, market_port, latency_ms=250)
            try:
                point_at(crawler, market)
                outputs = finish([start(crawler, redis_node.url), start(crawler, redis_node.url)])
            finally:
                market.stop()
            ads, run, fetched, photographed = one_process[day]
            assert shape(crawler.ads("demo-html")) == ads, f"day {day}"
            runs = crawler.runs("demo-html")
            assert len(runs) == n and runs[-1]["status"] == "finished"
            assert runs[-1]["items"] == run["items"], f"day {day}"
            assert fetches(market.access_log) == fetched, f"day {day}: a page fetched twice, or missed"
            assert photos(market.access_log) == photographed
            # The run's pages are the processes' summed. Pages count photo answers too, and two processes
            # may download one photo at the same instant (both happen; the store keeps one copy); each
            # process that got a request read robots.txt (the reference read it once): the only extra answers.
            pages = [int(out.split(" pages ", 1)[1].split(",", 1)[0]) for out in outputs]
            twice = sum(n - 1 for n in Counter(e["path"] for e in market.access_log
                                                if e["path"].startswith(PHOTOS)).values())
            robots = sum(e["path"] == "/robots.txt" for e in market.access_log)
            assert sum(pages) == runs[-1]["pages"] == run["pages"] + robots - 1 + twice
            if n == 1:
                # A recrawl day has about as few pages as one process keeps in flight (16 without
                # politeness): the first process up may rightly take them all. The first day crawls the whole site.
                assert min(pages) > 0


def test_a_process_killed_mid_crawl_loses_nothing(one_process, es_settings, crawl_world, market_port, redis_node,
                                                  tmp_path):
    day = DAYS[0]
    market = market_on(crawl_world, day, market_port, latency_ms=200)  # a crawl of seconds: room for the kill
    try:
        with deployment(es_settings, tmp_path) as crawler:
            point_at(crawler, market)
            victim, survivor = start(crawler, redis_node.url), start(crawler, redis_node.url)
            partial = kill_mid_crawl(crawler, victim, "demo-html", after_ads=10)
            finish([survivor])

            ads, run, fetched, photographed = one_process[day]
            assert 0 < partial < len(ads), "the kill must land mid-crawl"
            assert shape(crawler.ads("demo-html")) == ads
            (shared,) = crawler.runs("demo-html")
            assert shared["status"] == "finished" and shared["items"] == run["items"]
            recovered = shared["scrapy_stats"].get("adwatch/frontier/recovered", 0)
            assert recovered > 0, "the killed process held requests in flight"
            again = fetches(market.access_log) - fetched
            assert not fetched - fetches(market.access_log), "a page was missed"
            assert photos(market.access_log) == photographed
            # Only what the killed process held may have been fetched twice.
            assert sum(again.values()) <= recovered
    finally:
        market.stop()


POLITE_S = 0.5
POLITE_SITE = listing_site("polite", "POLITE_URL") + f"politeness: {{delay_s: {POLITE_S}, concurrency: 2, autothrottle: false}}\n"


def test_two_polite_processes_reach_the_site_no_more_often_than_one(es_settings, redis_node, tmp_path):
    """The site's delay holds for the run: each process keeps its own delay, and its requests' starts
    are reserved in Redis after whatever the other reserved. Each holds only what it may send at once,
    so the second process up still finds work."""
    site = tmp_path / "polite.yaml"
    site.write_text(POLITE_SITE)
    ads = range(1, 21)
    with PagesServer() as server, deployment(es_settings, tmp_path / "cache") as crawler:
        crawler.env["POLITE_URL"] = server.url
        server.pages["/list"] = (200, "<ul>" + "".join(f"<li data-id='{i}'><a href='/ad/{i}'>ad</a></li>" for i in ads)
                                 + "</ul>")
        server.pages.update({f"/ad/{i}": (200, f"<h1>Ad {i}</h1><div class='text'>text {i}</div>") for i in ads})
        outputs = finish([start(crawler, redis_node.url, str(site), flags=()) for _ in range(2)])
        assert set(crawler.ads("polite")) == {str(i) for i in ads}
    pages = [int(out.split(" pages ", 1)[1].split(",", 1)[0]) for out in outputs]
    assert min(pages) > 1, f"one process did (nearly) all the work: {pages}"  # robots.txt is each one's own
    times = sorted(t for t, _ in server.arrivals)
    assert len(times) == len(ads) + 3  # the listing, the ads, robots.txt twice
    # Any 6 gaps in a row span about 6 delays: less what a late wake-up, or a process's own randomised
    # delay holding a request past its reserved start, may take from the ends (unshared, the two
    # processes made them in 1.65 s; holding 16 requests each instead of 2, bursts made one span 1.66 s).
    spans = [later - earlier for earlier, later in zip(times, times[6:])]
    assert min(spans) >= 6 * POLITE_S - 0.6, spans


def test_a_frontier_without_a_reachable_redis_is_refused_before_crawling(crawler):
    for args in (("--frontier",), ("--frontier", "redis://127.0.0.1:1/0")):
        done = crawler.crawl("demo-html", *FAST, *args)
        message = " ".join(done.stderr.split())
        assert done.returncode == 2 and ("ADWATCH_REDIS_URL" in message or "redis://127.0.0.1:1/0" in message)
    assert not crawler.runs("demo-html")


# ---------------------------------------------------------------------------------------------- the shared run alone

@pytest.fixture
def pair(redis_node):
    """Two processes' parts in one shared run (a prefix of their own), with one request queued."""
    from crawler.frontier import SharedRun

    prefix = f"f{time.monotonic_ns()}"
    first = SharedRun.join(redis_node.url, prefix, "demo-html", "manual", "incremental")
    second = SharedRun.join(redis_node.url, prefix, "demo-html", "manual", "incremental")
    first.register()
    second.register()
    first.client.zadd(first.key["requests"], {b"request-bytes": -2})
    first.mark_seeded()
    yield first, second
    first.closed(finished=True)


def test_processes_of_one_site_join_one_run(pair):
    first, second = pair
    assert first.job.run_id == second.job.run_id and first.founded and not second.founded


def test_removal_checks_wait_until_no_process_holds_a_request(pair):
    first, second = pair
    assert first.pop("1") == b"request-bytes"
    assert second.settle() == "busy"  # the queue is empty, but the first process still works on a request
    first.acknowledge(["1"], {})
    assert second.settle() == "plan"
    assert first.settle() == "busy"  # the second process is planning them
    second.removals_planned([])
    assert first.settle() == "done" and second.settle() == "done"


def test_a_dead_processs_requests_return_to_the_queue_with_their_priority(pair):
    first, second = pair
    first.pop("1")
    first.client.delete(f"{first.ns}:alive:{first.worker}")  # its heartbeat lapsed
    assert second.reclaim_dead() == 1
    assert second.client.zrange(second.key["requests"], 0, -1, withscores=True) == [(b"request-bytes", -2.0)]
    assert second.client.smembers(second.key["workers"]) == {second.worker.encode()}


def test_request_starts_to_a_host_are_spaced_for_the_whole_run(pair):
    first, second = pair
    host = "127.0.0.1:8000"
    reserved = []
    for part in (first, second, second, first, second):
        part.next_start(host, 0.5)
        reserved.append(float(first.client.get(f"{first.ns}:polite:{host}")))  # when the next may start
    assert all(later - earlier >= 0.5 - 1e-6 for earlier, later in zip(reserved, reserved[1:]))
    assert first.next_start("127.0.0.1:9000", 0.5) == 0.0  # another host waits for nothing
    assert second.next_start(host, 0.5) > 1.0  # four starts are reserved ahead of this one
