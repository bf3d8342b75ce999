"""Benchmark: one crawl process against N processes sharing a frontier on the same site (issue 14).

    .venv/bin/python bench/crawl_frontier.py [--ads 2000] [--processes 2] [--latency-ms 100]
                                             [--concurrency 4] [--runs 1] [--skip-cpu-bound] [--seed 1]

One fault-free world is generated and served on 127.0.0.1 by a marketplace thread in this process;
a fresh embedded Elasticsearch node and a redis-server are started for the run and stopped at the
end. Two regimes, each crawled side by side (alternating which goes first) into fresh index
prefixes of the same node:

  latency-bound: every answer of the marketplace waits --latency-ms (a site across a network) and
      each process keeps --concurrency requests open (no delay, no AutoThrottle): the case a shared
      frontier is for, where a process waits on the site rather than on its own CPU;
  cpu-bound: no latency, `--no-politeness` (16 requests at once): what this machine's cores allow,
      since every process, Elasticsearch, Redis and the marketplace share them.

(a) one process: `adwatch crawl demo-html`; (b) N processes: `adwatch crawl demo-html --frontier
URL` started together. Pages are the marketplace's GETs under /html/ that are not images (index,
categories, listing pages, ad pages), from its access log; pages/s over the wall time (first launch
to last exit) and first to last request; cpu s: the crawl processes' user + system time (a crawl
whose CPU nears its wall time is bound by its share of the cores, not by the site). Then: whether both crawls stored the same ads with the
same content (ids and content hashes), whether any page was fetched twice, and the issue's target
(N=2: >= 1.8x one process's pages/s). Timings move with the machine's load: the load average is
printed with them.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from bench.crawl import HTML_ASSETS, load_note, served, world_and_node  # noqa: E402

TIMEOUT_S = 900


@dataclass
class Outcome:
    label: str
    wall_s: float
    pages: int
    first_to_last_s: float
    ads: dict[str, str]  # ad id -> content hash
    fetched: Counter  # path -> GETs
    exit_codes: list[int]
    cpu_s: float  # user + system of the crawl processes, summed
    requests_by_process: list[int]  # every GET (pages and photos) each process made

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.wall_s

    @property
    def pages_per_s_crawling(self) -> float:
        return self.pages / self.first_to_last_s


def site_file(work: Path, concurrency: int) -> Path:
    """demo-html's definition with its politeness set for the latency-bound regime (same site name)."""
    import yaml

    definition = yaml.safe_load((REPO / "crawler" / "sites" / "demo-html.yaml").read_text())
    definition["politeness"] = {"delay_s": 0, "concurrency": concurrency, "autothrottle": False}
    path = work / "demo-html.yaml"
    path.write_text(yaml.safe_dump(definition))
    return path


def crawl(label: str, n: int, site: str, extra: list[str], es_url: str, redis_url: str, market, work: Path) -> Outcome:
    """`n` crawl processes started together (with a shared frontier when n > 1) into a fresh prefix."""
    from adwatch.config import load_settings
    from adwatch.store import Store, connect

    prefix = f"bench{uuid.uuid4().hex[:8]}"
    client = connect(load_settings(es_url=es_url))
    store = Store(client, prefix)
    store.ensure_schema()  # as every crawl but a deployment's first finds it
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADWATCH_")}
    env.update(ADWATCH_ES_URL=es_url, ADWATCH_INDEX_PREFIX=prefix, ADWATCH_CACHE_DIR=str(work / prefix),
               ADWATCH_DEMO_URL=market.url, PYTHONPATH=str(REPO))
    cmd = [sys.executable, "-m", "adwatch.cli", "crawl", site, *extra] + (["--frontier", redis_url] if n > 1 else [])
    start = len(market.access_log)
    began = time.monotonic()
    logs = [open(work / f"{prefix}-{i}.log", "wb") for i in range(n)]
    # A contact of its own per process: its User-Agent tells its requests apart in the access log.
    procs = [subprocess.Popen(cmd, cwd=REPO, env={**env, "ADWATCH_CONTACT": f"process{i}@bench.invalid"},
                              stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
             for i, log in enumerate(logs)]
    codes, cpu = [], 0.0
    for proc in procs:
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here
        codes.append(proc.returncode)
        cpu += usage.ru_utime + usage.ru_stime
    wall = time.monotonic() - began
    for log in logs:
        log.close()
    entries = market.access_log[start:]
    seen = served(market.access_log, start, "/html/", HTML_ASSETS)
    store.refresh()
    ads = {h["_source"]["ad_id"]: h["_source"]["content_hash"]
           for h in store.scan(store.ads, {"term": {"site": "demo-html"}}, source=["ad_id", "content_hash"])}
    store.drop_deployment()
    client.close()
    fetched = Counter(e["path"] for e in entries if e["path"] != "/robots.txt")
    shares = Counter(e["user_agent"].rsplit("contact: ", 1)[-1].split("@")[0] for e in entries)
    return Outcome(label, wall, seen.pages, seen.last - seen.first, ads, fetched, codes, cpu,
                   [shares[f"process{i}"] for i in range(n)])


def compare(title: str, one: list[Outcome], many: list[Outcome], n: int) -> None:
    import statistics

    def median(outcomes, rate):
        return statistics.median(rate(o) for o in outcomes)

    print(f"\n{title}")
    print(f"  {'':<22}{'wall s':>8}{'pages':>7}{'pages/s':>9}{'first-last s':>14}{'pages/s':>9}{'cpu s':>7}  requests by process")
    for o in one + many:
        print(f"  {o.label:<22}{o.wall_s:>8.1f}{o.pages:>7}{o.pages_per_s:>9.1f}{o.first_to_last_s:>14.1f}"
              f"{o.pages_per_s_crawling:>9.1f}{o.cpu_s:>7.1f}  {o.requests_by_process}"
              + ("" if set(o.exit_codes) == {0} else f"  exit codes {o.exit_codes}"))
    wall = median(many, lambda o: o.pages_per_s) / median(one, lambda o: o.pages_per_s)
    crawling = median(many, lambda o: o.pages_per_s_crawling) / median(one, lambda o: o.pages_per_s_crawling)
    print(f"  ratio {n} processes / 1, pages/s over wall time:      {wall:.2f}" + ("   (target >= 1.8)" if n == 2 else ""))
    print(f"  ratio {n} processes / 1, pages/s first to last request: {crawling:.2f}")
    for a, b in zip(one, many):
        same = a.ads == b.ads
        extra, missed = b.fetched - a.fetched, a.fetched - b.fetched
        photos = sum(v for path, v in extra.items() if path.startswith(HTML_ASSETS))
        print(f"  same ads with the same content: {same} ({len(a.ads)} vs {len(b.ads)}); GETs beyond one "
              f"process's: {sum(extra.values()) - photos} pages, {photos} photos; missing: {sum(missed.values())}")
    print(f"  {load_note()}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ads", type=int, default=2000, help="ads in the world (both flavours; ~half are HTML)")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--latency-ms", type=int, default=100, help="latency-bound regime: wait per answer")
    parser.add_argument("--concurrency", type=int, default=4, help="latency-bound regime: requests open per process")
    parser.add_argument("--runs", type=int, default=1, help="crawls of each kind per regime, alternating")
    parser.add_argument("--skip-cpu-bound", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    from demo.server import start_server
    from redis_node import redis_of_its_own

    began = time.monotonic()
    with world_and_node("adwatch-bench-frontier-", args.ads, args.seed) as (root, state), \
            redis_of_its_own(root / "redis") as redis:
        print(f"redis at {redis.url}")
        regimes = [(f"latency-bound: {args.latency_ms} ms per answer, {args.concurrency} requests open per "
                    "process", args.latency_ms, str(site_file(root, args.concurrency)), [])]
        if not args.skip_cpu_bound:
            regimes.append(("cpu-bound: no latency, --no-politeness (16 open per process)", 0, "demo-html",
                            ["--no-politeness"]))
        for title, latency, site, extra in regimes:
            market = start_server(root / "world", port=0, rate_limit=0, crawl_delay=0, faults=False,
                                  latency_ms=latency)
            one, many = [], []
            try:
                for i in range(args.runs):
                    kinds = [(one, "1 process", 1), (many, f"{args.processes} processes", args.processes)]
                    for results, label, n in kinds if i % 2 == 0 else kinds[::-1]:
                        outcome = crawl(label, n, site, extra, state.url, redis.url, market, root)
                        results.append(outcome)
                        print(f"  {label}: {outcome.pages} pages in {outcome.wall_s:.1f}s", flush=True)
            finally:
                market.stop()
            compare(title, one, many, args.processes)
    print(f"\nbenchmark took {time.monotonic() - began:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
