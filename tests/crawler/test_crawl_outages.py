"""A crawl meets its cluster going away, and a second crawl of the same site: nothing lost, nothing twice.

The cluster test has an embedded node of its own (the session's must stay up): it is SIGKILLed
in the middle of a crawl and left down past the crawl's retry bound, then started again.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from crawl_helpers import ROOT, Crawler, deployment, listing_site
from engine_nodes import node_of_its_own
from pages_server import PagesServer

from adwatch.config import load_settings

FAST = ("--no-politeness",)
SITE = listing_site("outage", "OUTAGE_URL")
ADS = range(1, 41)
# Answered at once; the others wait until the test releases them. Scrapy takes the last-listed first,
# so holding the first-listed keeps the downloader's slots free for these.
FIRST = range(21, 41)


def serve(server: PagesServer) -> None:
    server.pages["/list"] = (200, "<html><body><ul>" + "".join(
        f"<li data-id='{n}'><a href='/ad/{n}'>ad {n}</a></li>" for n in ADS) + "</ul></body></html>")
    server.pages.update({f"/ad/{n}": (200, f"<html><body><h1>Ad {n}</h1><div class='text'>Text of ad {n}.</div>"
                                           "</body></html>") for n in ADS})
    server.held = {f"/ad/{n}" for n in ADS if n not in FIRST}


def start_crawl(crawler: Crawler, site_file, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "adwatch.cli", "crawl", str(site_file), *FAST, *args],
                            env=crawler.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)


def wait_until(condition, what: str, within_s: float = 120) -> None:
    deadline = time.monotonic() + within_s
    while not condition():
        assert time.monotonic() < deadline, f"never saw {what}"
        time.sleep(0.2)


def flat(text: str) -> str:
    return "".join(text.split())  # rich wraps long lines anywhere


@pytest.fixture
def site_file(tmp_path):
    path = tmp_path / "outage.yaml"
    path.write_text(SITE)
    return path


def test_a_crawl_whose_cluster_dies_stops_interrupted_and_the_next_crawl_completes_it(site_file, tmp_path):
    with node_of_its_own("crawl-outage") as node, PagesServer() as server, \
            deployment(load_settings(es_url=node.state().url), tmp_path / "cache") as crawler:
        serve(server)
        crawler.env.update(OUTAGE_URL=server.url, ADWATCH_ES_RETRY_SECONDS="3")
        url = node.state().url
        proc = start_crawl(crawler, site_file)
        wait_until(lambda: len(crawler.ads("outage")) == len(FIRST), "the first ads indexed")
        node.kill()
        server.release.set()  # the rest arrive with nowhere to go
        _, stderr = proc.communicate(timeout=240)
        assert proc.returncode == 2
        message = flat(stderr)
        assert url in message and "interrupted" in message and flat("adwatch crawl outage") in message
        job = json.loads((crawler.cache_dir / "jobs" / "outage" / "run.json").read_text())
        assert url in job["interrupted"]

        node.start()  # back on its port; the interrupted run resumes
        resumed = crawler.crawl(str(site_file), *FAST)
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        assert "tookoverthecrawl:outagelease" in flat(resumed.stderr)  # the dead crawl could not give it back
        docs = crawler.ads("outage")
        assert sorted(map(int, docs)) == list(ADS)
        assert {(d["edits"], d["status"], d["crawl"]["first_run"]) for d in docs.values()} == \
            {(0, "active", job["run_id"])}
        (run,) = crawler.runs("outage")
        assert (run["run_id"], run["status"], run["items"]["new"]) == (job["run_id"], "finished", len(ADS))

        again = crawler.crawl(str(site_file), *FAST)  # the ledger is right: nothing new, nothing edited
        assert again.returncode == 0, again.stderr[-3000:]
        last = crawler.runs("outage")[-1]
        assert (last["items"]["new"], last["items"]["changed"], last["items"]["unchanged"]) == (0, 0, len(ADS))


def test_a_second_crawl_of_a_site_is_refused_while_the_first_runs(crawler, site_file, tmp_path):
    with PagesServer() as server:
        serve(server)
        crawler.env["OUTAGE_URL"] = server.url
        first = start_crawl(crawler, site_file)
        wait_until(lambda: crawler.store.count(crawler.store.crawl_leases) == 1 and crawler.runs("outage"),
                   "the first crawl under way")
        # Another job directory, as a second machine would have: only the lease in the index stops it.
        second = crawler.crawl(str(site_file), *FAST, "--job-dir", str(tmp_path / "elsewhere"))
        server.release.set()
        first.communicate(timeout=240)
    assert second.returncode == 2
    message = flat(second.stderr)
    assert flat("adwatch crawl outage is already running") in message and f":{first.pid}since" in message
    assert not (tmp_path / "elsewhere" / "run.json").exists()  # refused before it started a run
    assert first.returncode == 0
    (run,) = crawler.runs("outage")
    assert run["status"] == "finished" and run["items"]["new"] == len(ADS)
    assert crawler.store.count(crawler.store.crawl_leases) == 0  # given back
