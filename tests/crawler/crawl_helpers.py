"""Helpers for crawler tests: isolated deployments and crawls run as real processes.

Each crawl runs `adwatch crawl` in its own process (Twisted's reactor cannot restart in one
process) against the session's Elasticsearch node, with an index prefix and a cache directory
of its own, so crawls never see each other's ads, images or job files.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from adwatch.store import Store, connect

ROOT = Path(__file__).resolve().parents[2]
# Ads with these page faults cannot yield a valid ad (no title/body, or a cut-off page).
BROKEN = {"truncated_html"}


def is_broken(ad: dict) -> bool:
    """True when the served page cannot give a valid ad (so the crawl must count it invalid)."""
    return bool(BROKEN & set(ad["faults"])) or bool({"title", "body"} & set(ad["missing_fields"]))


@dataclass
class Crawler:
    """Runs `adwatch crawl` for one isolated deployment (index prefix + cache dir)."""

    env: dict
    store: Store
    cache_dir: Path

    def crawl(self, site: str, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "adwatch.cli", "crawl", site, *args], env=self.env,
                              capture_output=True, text=True, timeout=timeout, cwd=ROOT)

    def popen(self, site: str, *args: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "adwatch.cli", "crawl", site, *args], env=self.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)

    def ads(self, site: str) -> dict[str, dict]:
        self.store.refresh()
        return {h["_source"]["ad_id"]: h["_source"] for h in self.store.scan(self.store.ads, {"term": {"site": site}})}

    def runs(self, site: str) -> list[dict]:
        self.store.refresh()
        hits = self.store.client.search(index=self.store.runs, query={"term": {"site": site}}, size=100,
                                        sort=[{"started": "asc"}, {"finished": "asc"}])["hits"]["hits"]
        return [h["_source"] for h in hits]


@contextmanager
def deployment(es_settings, cache_dir: Path):
    """A fresh deployment: its own index prefix and cache, the session's Elasticsearch node."""
    prefix = f"c{uuid.uuid4().hex[:10]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADWATCH_")}
    env.update(ADWATCH_ES_URL=es_settings.es_url, ADWATCH_INDEX_PREFIX=prefix, ADWATCH_CACHE_DIR=str(cache_dir))
    client = connect(es_settings)
    store = Store(client, prefix)
    store.ensure_schema()
    try:
        yield Crawler(env, store, cache_dir)
    finally:
        store.drop_deployment()
        client.close()


def kill_mid_crawl(crawler: Crawler, proc, site: str, after_ads: int = 20, within_s: float = 120) -> int:
    """SIGKILL `proc` once `after_ads` ads of `site` are in the index; returns how many were."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline and len(crawler.ads(site)) < after_ads:
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    return len(crawler.ads(site))


def point_at(crawler: Crawler, market) -> Crawler:
    crawler.env["ADWATCH_DEMO_URL"] = market.url
    return crawler


def listing_site(name: str, url_var: str, fields: str = "") -> str:
    """A site definition for pages a test serves: `<li data-id=ID><a href=...>` entries at `${url_var}/list`,
    ads with an `h1` title and a `div.text` body, plus detail `fields` (YAML lines indented by two)."""
    return f"""
site: {name}
start_urls: ["${{{url_var}}}/list"]
allowed_domains: ["127.0.0.1"]
listing:
  entry: "css:li"
  link: "css:a::attr(href)"
detail:
  ad_id: {{listing: "css:li::attr(data-id)"}}
  title: "css:h1"
  body: "css:div.text"
{fields}"""
