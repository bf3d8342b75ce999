"""The fault campaign: disturbed runs of one demo world, each compared with an undisturbed run of it.

Shared by the suite (tests/faults, bounded) and `bench/fault_campaign.py` (more seeds, more ads).
Everything is real: `adwatch crawl` and `adwatch enrich` run as OS processes against a real
Elasticsearch node and the demo marketplace on 127.0.0.1; faults are real SIGKILLs, a real node
restart, a real full filesystem, real broken HTTP.

A disturbed run is judged against the undisturbed one (`Baseline`) by `compare`: every ad by id
with its fields (timestamps, run ids and the marketplace's port left out), the same partition of
ads into clusters, and inside the disturbed index no ad twice, no ad pointing at a cluster without
a document, no cluster document listing an ad that points elsewhere.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from adwatch.bulk import BulkWriter, replace
from adwatch.config import load_settings
from adwatch.engine import EmbeddedNode
from adwatch.store import Store, connect

ROOT = Path(__file__).resolve().parents[2]
SITE = "demo-html"
FAST = ("--no-politeness",)
# The marketplace as every scenario serves it (outages aside): page faults on, no rate limit.
MARKET_OPTIONS = {"rate_limit": 0, "crawl_delay": 0, "slow_ms": 50}
_MARKET_ADDRESS = re.compile(r"http://127\.0\.0\.1:\d+")
# What differs between two runs of the same world without anything being wrong (content_hash covers
# image URLs, so the marketplace's port; the fields it hashes are compared themselves).
_VOLATILE = ("first_seen", "last_seen", "cluster_id", "content_hash")
_VOLATILE_CRAWL = ("run_id", "first_run", "changed_run", "removed_run", "fetched_at")


# ---------------------------------------------------------------------------------------------- deployments

@dataclass
class Attempt:
    """One finished `adwatch` process: its exit code and what it printed."""

    returncode: int
    output: str
    killed: bool = False
    run_status: str | None = None  # a crawl's: what its run document said once it ended


class Deployment:
    """One isolated AdWatch deployment (index prefix + cache directory) on one cluster."""

    def __init__(self, es_url: str, workdir: Path, market_url: str = "", retry_s: float = 180.0) -> None:
        self.es_url, self.market_url, self.retry_s = es_url, market_url, retry_s
        self.prefix = f"f{uuid.uuid4().hex[:10]}"
        self.cache_dir = Path(workdir) / self.prefix
        self.cache_dir.mkdir(parents=True)
        self.processes = 0

    @property
    def images(self) -> Path:
        return self.cache_dir / "images"

    @cached_property
    def store(self) -> Store:
        store = Store(connect(load_settings(es_url=self.es_url, es_retry_s=self.retry_s)), self.prefix)
        store.ensure_schema()
        return store

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ADWATCH_")}
        env.update(ADWATCH_ES_URL=self.es_url, ADWATCH_INDEX_PREFIX=self.prefix, ADWATCH_CACHE_DIR=str(self.cache_dir),
                   ADWATCH_DEMO_URL=self.market_url, ADWATCH_ES_RETRY_SECONDS=str(self.retry_s))
        return env

    def start(self, *args: str, env: dict | None = None) -> "Process":
        """`adwatch ARGS` started in the background, its output to a log file of its own."""
        self.processes += 1
        log = self.cache_dir / f"process-{self.processes}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen([sys.executable, "-m", "adwatch.cli", *args], env={**self.env(), **(env or {})},
                                    stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        return Process(proc, log)

    def run(self, *args: str, timeout: float = 900) -> Attempt:
        return self.start(*args).wait(timeout)

    def crawl(self, site: str = SITE) -> Attempt:
        return self.ended_crawl(self.start("crawl", site, *FAST))

    def ended_crawl(self, crawl: "Process", site: str = SITE) -> Attempt:
        attempt = crawl.wait()
        attempt.run_status = self.last_run_status(site)
        return attempt

    def crawl_to_completion(self, site: str = SITE, attempts: int = 3) -> list[Attempt]:
        """Crawl until the site's last run finished (a resumed run after an interrupted one)."""
        done = []
        while len(done) < attempts:
            done.append(self.crawl(site))
            if self.last_run_status(site) == "finished":
                break
        return done

    def enrich_to_completion(self, attempts: int = 3) -> list[Attempt]:
        done = []
        while len(done) < attempts:
            done.append(self.run("enrich"))
            if done[-1].returncode == 0:
                break
        return done

    def runs(self, site: str = SITE) -> list[dict]:
        self.store.refresh()
        hits = self.store.client.search(index=self.store.runs, query={"term": {"site": site}}, size=100,
                                        sort=[{"started": "asc"}])["hits"]["hits"]
        return [h["_source"] for h in hits]

    def last_run_status(self, site: str = SITE) -> str | None:
        runs = self.runs(site)
        return runs[-1]["status"] if runs else None

    def ads_written(self) -> int:
        self.store.refresh(self.store.ads)
        return self.store.count(self.store.ads)

    def lease_taken(self) -> bool:
        return self.store.client.options(ignore_status=404).get(index=self.store.leases, id="enrich").body.get(
            "found", False)

    def load(self, docs: list[tuple[str, dict]], images: Path) -> None:
        """Ads as a crawl left them (doc id, source) and their image files: a worker scenario's start."""
        shutil.copytree(images, self.images, dirs_exist_ok=True)
        report = BulkWriter(self.store.client, refresh="true").write(
            replace(self.store.ads_partition(src["first_seen"]), doc_id, src) for doc_id, src in docs)
        if report.failed:
            raise RuntimeError(f"could not load the baseline's ads: {report.errors[:3]}")

    def drop(self) -> None:
        self.store.drop_deployment()
        self.store.client.close()


class Process:
    """An `adwatch` process of a scenario: wait for it, or kill it at a moment of the scenario's choosing."""

    def __init__(self, proc: subprocess.Popen, log: Path) -> None:
        self.proc, self.log, self.killed = proc, log, False

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def when(self, ready: Callable[[], bool], timeout: float = 300, every: float = 0.05) -> bool:
        """Wait until `ready()` (True) or the process ends first (False)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            if ready():
                return True
            time.sleep(every)
        raise TimeoutError(f"{self.proc.args} neither ended nor reached its moment in {timeout:.0f} s")

    def said(self, text: str) -> Callable[[], bool]:
        return lambda: text in self.output()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.killed = True
        self.proc.wait(30)

    def wait(self, timeout: float = 900) -> Attempt:
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(30)
            raise
        return Attempt(self.proc.returncode, self.output(), self.killed)


def restart(node: EmbeddedNode) -> float:
    """SIGKILL the node and start it again on its old port (what a crash and an operator's restart do);
    returns the seconds it was away."""
    url = node.state().url
    began = time.monotonic()
    node.kill()
    back = node.start().url
    if back != url:
        raise AssertionError(f"the restarted node came back at {back}, not {url}")
    return time.monotonic() - began


# ---------------------------------------------------------------------------------------------- index states

def comparable(src: dict) -> dict:
    """An ad's fields that two runs of one world must agree on (timestamps, run ids, port left out)."""
    doc = {k: v for k, v in src.items() if k not in _VOLATILE}
    doc["crawl"] = {k: v for k, v in (src.get("crawl") or {}).items() if k not in _VOLATILE_CRAWL}
    if isinstance(doc.get("enrich"), dict):
        doc["enrich"] = {k: v for k, v in doc["enrich"].items() if k != "processed_at"}
    return json.loads(_MARKET_ADDRESS.sub("MARKET", json.dumps(doc, sort_keys=True)))


@dataclass
class IndexState:
    """What one deployment's index holds, ready to compare."""

    ads: dict[str, dict]  # doc id -> comparable fields
    cluster_of: dict[str, str | None]  # doc id -> cluster id
    copies: Counter  # doc id -> documents with that id (across partitions)
    keys: Counter  # (site, ad_id) -> documents
    clusters: dict[str, list[str]]  # cluster id -> the ads its document lists

    @classmethod
    def read(cls, store: Store) -> "IndexState":
        store.refresh()
        state = cls({}, {}, Counter(), Counter(), {})
        for hit in store.scan(store.ads):
            src = hit["_source"]
            state.copies[hit["_id"]] += 1
            state.keys[(src.get("site"), src.get("ad_id"))] += 1
            state.ads[hit["_id"]] = comparable(src)
            state.cluster_of[hit["_id"]] = src.get("cluster_id")
        for hit in store.scan(store.clusters, source=["ads"]):
            state.clusters[hit["_id"]] = hit["_source"].get("ads", [])
        return state

    @property
    def duplicates(self) -> int:
        """Documents beyond the first for one id (two partitions) or for one site's ad id."""
        return sum(n - 1 for n in self.copies.values() if n > 1) + sum(n - 1 for n in self.keys.values() if n > 1)

    def inconsistencies(self) -> list[str]:
        """Ads pointing at a cluster without a document; cluster documents listing ads that point elsewhere."""
        problems = [f"{ad} -> {cid}: no cluster document" for ad, cid in self.cluster_of.items()
                    if cid and cid not in self.clusters]
        for cid, members in self.clusters.items():
            problems += [f"cluster {cid} lists {ad}, which points at {self.cluster_of.get(ad, 'nothing (no ad)')}"
                         for ad in members if self.cluster_of.get(ad) != cid]
        return problems

    def partition(self) -> set[frozenset[str]]:
        """The ads grouped by cluster (an ad in no cluster is a group of its own)."""
        groups: dict[str, set[str]] = {}
        for ad, cid in self.cluster_of.items():
            groups.setdefault(cid or f"alone:{ad}", set()).add(ad)
        return {frozenset(g) for g in groups.values()}


@dataclass
class Comparison:
    lost: list[str]
    extra: list[str]
    differing: dict[str, list[str]]  # doc id -> fields that differ
    clusters_differ: int  # ads whose group of fellow members differs


def compare(expected: IndexState, got: IndexState, clusters: bool = True) -> Comparison:
    lost = sorted(set(expected.ads) - set(got.ads))
    extra = sorted(set(got.ads) - set(expected.ads))
    differing = {}
    for ad in set(expected.ads) & set(got.ads):
        a, b = expected.ads[ad], got.ads[ad]
        fields = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        if fields:
            differing[ad] = fields
    moved = 0
    if clusters:
        group_of = {ad: g for g in got.partition() for ad in g}
        moved = sum(1 for g in expected.partition() for ad in g if group_of.get(ad, g) != g)
    return Comparison(lost, extra, differing, moved)


# ---------------------------------------------------------------------------------------------- figures

@dataclass
class Figures:
    """One scenario's outcome, as the bench prints it and the tests assert it."""

    scenario: str
    runs: int = 0  # adwatch processes started (disturbed, resumed and reruns)
    lost: int = 0
    duplicates: int = 0
    inconsistencies: int = 0
    differing: int = 0  # ads whose fields differ from the undisturbed run
    clusters_differ: int = 0  # ads in a different cluster than in the undisturbed run
    bad_served: int = 0
    bad_recorded: int = 0
    # crawls whose exit said one thing and whose run document another (exit 0, run not finished)
    misreported_runs: int = 0
    crashes: int = 0  # processes not killed that died of an uncaught exception (exit 1, a traceback)
    by_kind: dict[str, list[int]] = field(default_factory=dict)  # kind of bad input -> [served, recorded]
    details: list[str] = field(default_factory=list)

    def judge(self, expected: IndexState, got: IndexState, clusters: bool = True, stage: str = "") -> Comparison:
        """Count what `got` lost, duplicated or got wrong against `expected`; details name the first few."""
        verdict = compare(expected, got, clusters)
        self.lost += len(verdict.lost)
        self.differing += len(verdict.differing) + len(verdict.extra)
        self.clusters_differ += verdict.clusters_differ
        self.duplicates += got.duplicates
        wrong = got.inconsistencies() if clusters else []
        self.inconsistencies += len(wrong)
        where = f"{stage}: " if stage else ""
        self.details += [f"{where}lost {ad}" for ad in verdict.lost[:3]]
        self.details += [f"{where}{ad} differs in {', '.join(f)}" for ad, f in list(verdict.differing.items())[:3]]
        self.details += [f"{where}unexpected {ad}" for ad in verdict.extra[:3]] + [where + w for w in wrong[:3]]
        return verdict

    def add(self, other: "Figures") -> None:
        for name in ("runs", "lost", "duplicates", "inconsistencies", "differing", "clusters_differ", "bad_served",
                     "bad_recorded", "misreported_runs", "crashes"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


# ---------------------------------------------------------------------------------------------- the undisturbed run

@dataclass
class Baseline:
    """The undisturbed run of a world: its crawl's output, and the index after enrichment."""

    crawled: IndexState
    crawled_docs: list[tuple[str, dict]]  # (doc id, source) as the crawl wrote them
    images: Path
    final: IndexState
    crawl_s: float
    enrich_s: float
    answered_errors: int  # requests its crawl saw answered 429/5xx: the world's own page faults (503 once)


def undisturbed(es_url: str, market_url: str, workdir: Path) -> Baseline:
    dep = Deployment(es_url, workdir, market_url)
    try:
        began = time.monotonic()
        done = dep.crawl()
        crawl_s = time.monotonic() - began
        if done.returncode != 0:
            raise RuntimeError(f"the undisturbed crawl failed:\n{done.output[-3000:]}")
        answered_errors = sum(map(_answered, dep.runs()))
        docs = [(h["_id"], h["_source"]) for h in dep.store.scan(dep.store.ads)]
        crawled = IndexState.read(dep.store)
        began = time.monotonic()
        done = dep.run("enrich")
        enrich_s = time.monotonic() - began
        if done.returncode != 0:
            raise RuntimeError(f"the undisturbed enrichment failed:\n{done.output[-3000:]}")
        images = Path(workdir) / "baseline-images"
        shutil.copytree(dep.images, images)
        return Baseline(crawled, docs, images, IndexState.read(dep.store), crawl_s, enrich_s, answered_errors)
    finally:
        dep.drop()


# ---------------------------------------------------------------------------------------------- scenarios

def _attempts(figures: Figures, attempts: list[Attempt], what: str) -> None:
    figures.runs += len(attempts)
    exits = ["killed" if a.killed else (a.returncode, a.run_status) for a in attempts]
    figures.details.append(f"{what} exits: {exits}")
    figures.misreported_runs += sum(1 for a in attempts if a.run_status is not None and not a.killed
                                    and (a.returncode == 0) != (a.run_status == "finished"))
    # A crawl that did not finish exits 1 by design; anything else exits 0, or 2 with a message (UserError).
    figures.crashes += sum(1 for a in attempts
                           if not a.killed and a.run_status is None and a.returncode not in (0, 2))
    if attempts[-1].returncode != 0:
        figures.details.append(f"{what} never completed: {attempts[-1].output[-600:]}")


def engine_restarts(base: Baseline, node: EmbeddedNode, market_url: str, workdir: Path) -> Figures:
    """(a) The node SIGKILLed and restarted during a crawl, then during enrichment and during its link write."""
    figures = Figures("engine killed and restarted")
    dep = Deployment(node.state().url, workdir, market_url)
    try:
        crawl = dep.start("crawl", SITE, *FAST)
        third = max(1, len(base.crawled.ads) // 3)
        began = time.monotonic()
        if crawl.when(lambda: dep.ads_written() >= third):
            figures.details.append(f"crawl: node away {restart(node):.1f} s")
        else:
            figures.details.append("the crawl ended before a third of its ads were written: no restart under it")
        attempts = [dep.ended_crawl(crawl)]
        figures.details.append(f"crawl: {time.monotonic() - began:.1f} s, run {attempts[0].run_status}")
        if attempts[0].run_status != "finished":
            attempts += dep.crawl_to_completion()
        _attempts(figures, attempts, "crawl")
        figures.details += [f"crawl run {r['run_id'][-6:]}: {r['status']}" for r in dep.runs()]
        figures.judge(base.crawled, IndexState.read(dep.store), clusters=False, stage="crawl")

        enrich = dep.start("enrich")
        began = time.monotonic()
        for moment, ready in (("enrichment", dep.lease_taken), ("link write", enrich.said("linked "))):
            if enrich.when(ready):
                figures.details.append(f"{moment}: node away {restart(node):.1f} s")
            else:
                figures.details.append(f"enrichment ended before its {moment}: no restart under it")
        attempts = [enrich.wait()]
        figures.details.append(f"enrich: {time.monotonic() - began:.1f} s")
        if attempts[0].returncode != 0:
            figures.details.append(f"enrich stopped with {attempts[0].returncode}: {attempts[0].output[-300:]}")
            attempts += dep.enrich_to_completion()
        _attempts(figures, attempts, "enrich")
        figures.judge(base.final, IndexState.read(dep.store), stage="enrich")
    finally:
        dep.drop()
    return figures


def process_kills(base: Baseline, seed: int, es_url: str, market_url: str, workdir: Path) -> Figures:
    """(b) `adwatch crawl` and `adwatch enrich` SIGKILLed at a random moment each, then rerun to completion."""
    rng = random.Random(seed)
    figures = Figures(f"processes killed (seed {seed})")
    dep = Deployment(es_url, workdir, market_url)
    try:
        for stage, expected, clusters in (("crawl", base.crawled, False), ("enrich", base.final, True)):
            budget = base.crawl_s if stage == "crawl" else base.enrich_s
            at = rng.uniform(0.1, 0.9) * budget
            proc = dep.start(*(("crawl", SITE, *FAST) if stage == "crawl" else ("enrich",)))
            began = time.monotonic()
            if proc.when(lambda: time.monotonic() - began >= at):
                proc.kill()
                figures.details.append(f"{stage} SIGKILLed after {at:.1f} s")
            else:
                figures.details.append(f"{stage} ended before {at:.1f} s")
            attempts = [dep.ended_crawl(proc) if stage == "crawl" else proc.wait()]
            attempts += dep.crawl_to_completion() if stage == "crawl" else dep.enrich_to_completion()
            _attempts(figures, attempts, stage)
            figures.judge(expected, IndexState.read(dep.store), clusters=clusters, stage=stage)
    finally:
        dep.drop()
    return figures


def outage_bursts(base: Baseline, es_url: str, world: Path, workdir: Path, outages, runs: int = 2) -> Figures:
    """(c) The marketplace failing in bursts (5xx, 429, hangs, cut-off bodies); crawled `runs` times."""
    from demo.server import start_server

    figures = Figures("marketplace outage bursts")
    market = start_server(world, port=0, outages=outages, **MARKET_OPTIONS)
    dep = Deployment(es_url, workdir, market.url)
    try:
        for number in range(runs):
            _attempts(figures, [dep.crawl()], "crawl")
            got = IndexState.read(dep.store)
            first = compare(base.crawled, got, clusters=False)
            figures.details.append(f"after crawl {number + 1}: {len(first.lost)} ads missing, "
                                   f"{len(first.differing)} differing")
        figures.judge(base.crawled, got, clusters=False, stage=f"after {runs} crawls")
        served, runs = market.outages_served, dep.runs()
        figures.by_kind = {
            "http answers": [sum(served.get(k, 0) for k in ("429", "500", "502", "503")),
                             sum(map(_answered, runs)) - base.answered_errors],
            # Twisted resends a request once, unseen, when a kept-alive connection breaks: fewer may be recorded.
            "broken connections": [served.get("hang", 0) + served.get("truncated", 0), sum(map(_broken, runs))]}
        figures.bad_served = sum(n for n, _ in figures.by_kind.values())
        figures.bad_recorded = sum(n for _, n in figures.by_kind.values())
        figures.details.append(f"outages served by kind: {dict(sorted(served.items()))}; served, recorded: "
                               f"{figures.by_kind}")
    finally:
        dep.drop()
        market.stop()
    return figures


def _answered(run: dict) -> int:
    """Requests a run document records as answered 429 or 5xx."""
    statuses = [f"downloader/response_status_count/{code}" for code in ("429", "500", "502", "503")]
    return int(sum(run.get("scrapy_stats", {}).get(key, 0) for key in statuses))


def _broken(run: dict) -> int:
    """Requests a run document records as failed without an answer (dropped, cut off)."""
    return int(sum(v for k, v in run.get("scrapy_stats", {}).items()
                   if k.startswith("downloader/exception_type_count/")))


class NoMount(RuntimeError):
    """This machine will not mount a small filesystem for us (not root)."""


def _mount(path: Path, size_kib: int, remount: bool = False) -> None:
    path.mkdir(parents=True, exist_ok=True)
    options = f"{'remount,' if remount else ''}size={size_kib}k"
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        raise NoMount(f"mount -t tmpfs -o {options} at {path} failed: {done.stderr.strip()}")


def disk_full(base: Baseline, es_url: str, market_url: str, workdir: Path, size_kib: int = 256) -> Figures:
    """(d) The image store on a tmpfs of `size_kib` KiB: ads kept, images that did not fit recorded as errors;
    the next crawl, with room again, stores them."""
    figures = Figures("image store full")
    dep = Deployment(es_url, workdir, market_url)
    _mount(dep.images, size_kib)
    try:
        _attempts(figures, [dep.crawl()], "crawl")
        full = IndexState.read(dep.store)
        first = compare(base.crawled, full, clusters=False)
        figures.lost += len(first.lost)
        figures.details.append(f"while full: {len(first.lost)} ads missing, {len(first.differing)} differing")
        expected_images = {(ad, i["url"]) for ad, src in base.crawled.ads.items() for i in src.get("images", [])
                           if i.get("path")}
        for ad, src in full.ads.items():
            for image in src.get("images", []):
                if (ad, image["url"]) in expected_images and not image.get("path"):
                    figures.bad_served += 1
                    figures.bad_recorded += bool(image.get("error"))
        figures.bad_served += sum(len([i for i in base.crawled.ads[ad].get("images", []) if i.get("path")])
                                  for ad in first.lost)
        _mount(dep.images, 64 * 1024, remount=True)
        _attempts(figures, [dep.crawl()], "crawl")
        figures.judge(base.crawled, IndexState.read(dep.store), clusters=False, stage="with room again")
    finally:
        dep.drop()
        subprocess.run(["umount", str(dep.images)], capture_output=True)
    return figures


@dataclass
class FuzzOutcome:
    figures: Figures
    by_case: dict[str, list[int]]  # case -> [ads served, ads handled as the case expects]
    log_leaks: int  # lines of the crawl's output that carry ad text


def fuzzed_site(n_ads: int, seed: int, es_url: str, workdir: Path) -> FuzzOutcome:
    """(e) A crawl and an enrichment of `n_ads` fuzzed ads (tests/faults/fuzz_site.py): every one
    handled as its case expects, every enriched ad done or in error with a reason."""
    from fuzz_site import SITE_FILE, TEXT_MARK, FuzzSite

    figures = Figures(f"fuzzed pages and images ({n_ads})")
    site = FuzzSite(n_ads, seed)
    dep = Deployment(es_url, workdir)
    try:
        crawl = dep.start("crawl", str(SITE_FILE), *FAST, env={"ADWATCH_FUZZ_URL": site.url})
        _attempts(figures, [dep.ended_crawl(crawl, "fuzz")], "crawl")
        (run,) = dep.runs("fuzz")
        got = {h["_id"]: h["_source"] for h in dep.store.scan(dep.store.ads)}
        by_case = _fuzz_verdicts(site.expected(), got, run)
        leaks = sum(TEXT_MARK in line for line in crawl.output().splitlines())
        figures.details.append(f"crawl log lines carrying ad text: {leaks}")
        _attempts(figures, [dep.run("enrich")], "enrich")
        dep.store.refresh()
        unfinished = dep.store.count(dep.store.ads, {"bool": {
            "must_not": {"terms": {"enrich.status": ["done", "error"]}}}})
        unexplained = dep.store.count(dep.store.ads, {"bool": {
            "filter": {"term": {"enrich.status": "error"}}, "must_not": {"exists": {"field": "enrich.errors.reason"}}}})
        figures.inconsistencies += unfinished + unexplained + len(IndexState.read(dep.store).inconsistencies())
        figures.details.append(f"after enrichment: {unfinished} ads not enriched, {unexplained} errors without reason")
        for case, (served, recorded) in by_case.items():
            if case != "clean":
                figures.bad_served += served
                figures.bad_recorded += recorded
            elif recorded < served:
                figures.differing += served - recorded
        figures.details += [f"{case}: {recorded} of {served}" for case, (served, recorded) in by_case.items()
                            if recorded < served]
        return FuzzOutcome(figures, by_case, leaks)
    finally:
        dep.drop()
        site.stop()


def _fuzz_verdicts(expected: dict, got: dict[str, dict], run: dict) -> dict[str, list[int]]:
    """Per case: [ads served, ads handled as the case expects]. Ads not stored count as handled up to
    the run's own count of invalid items (or of failed requests), so nothing goes missing unrecorded."""
    verdicts: dict[str, list[int]] = {}
    uncounted = {"invalid": run["items"]["invalid"],
                 "request": sum(v for k, v in run["errors"].items() if k.startswith("request_"))}
    for doc_id, case in sorted(expected.items()):
        doc = got.get(doc_id)
        tally = verdicts.setdefault(case.name, [0, 0])
        tally[0] += 1
        ok = False
        if doc is None and case.expect in ("invalid", "request", "intact_or_invalid"):
            kind = "request" if case.expect == "request" else "invalid"
            ok = uncounted[kind] > 0
            uncounted[kind] -= ok
        elif doc is not None and case.expect != "invalid":
            notes = (doc.get("crawl") or {}).get("notes") or []
            images = doc.get("images", [])
            errors = [i for i in images[1:] if i.get("error")]
            if case.expect == "clean":
                ok = not notes and len(images) == 1 and not images[0].get("error")
            elif case.expect == "note":
                ok = bool(notes)
            elif case.expect == "image":
                ok = bool(errors)
            elif case.expect == "image_or_clean":
                ok = bool(errors) or (len(images) == 2 and bool(images[1].get("path")))
            elif case.expect == "intact_or_invalid":
                ok = doc.get("title", "").startswith("Fuzz ad") and "Body of fuzz ad" in doc.get("body", "")
        tally[1] += ok
    return verdicts


# ---------------------------------------------------------------------------------------------- the campaign

@dataclass
class Plan:
    """What one campaign runs: the world, how many seeds of process kills, how many fuzzed ads."""

    ads: int = 150
    world_seed: int = 7
    kill_seeds: tuple[int, ...] = (1, 2)
    outage_runs: int = 1
    disk_kib: int = 256
    fuzz_ads: int = 108  # 6 of each case
    fuzz_seed: int = 1
    workers: int = 3  # scenarios at once (each on a deployment of its own)


class Campaign:
    """Every scenario of a `Plan`, run once; `result(name)` is its outcome (or raises what stopped it)."""

    def __init__(self, plan: Plan, es_url: str, workdir: Path) -> None:
        self.plan, self.es_url, self.workdir = plan, es_url, Path(workdir)
        self.outcomes: dict[str, object] = {}
        self.failures: dict[str, BaseException] = {}
        self.seconds: dict[str, float] = {}

    def result(self, name: str):
        if name in self.failures:
            raise self.failures[name]
        return self.outcomes[name]

    def run(self) -> "Campaign":
        from concurrent.futures import ThreadPoolExecutor

        from demo.generator import generate_world
        from demo.server import Outages, start_server

        world = self.workdir / "world"
        generate_world(world, self.plan.ads, self.plan.world_seed)
        market = start_server(world, port=0, **MARKET_OPTIONS)
        try:
            with ThreadPoolExecutor(self.plan.workers) as pool:
                base = pool.submit(undisturbed, self.es_url, market.url, self.workdir / "baseline")
                jobs = {"fuzz": pool.submit(self._timed, "fuzz", fuzzed_site, self.plan.fuzz_ads, self.plan.fuzz_seed,
                                            self.es_url, self.workdir / "fuzz"),
                        "engine": pool.submit(self._timed, "engine", self._engine, base, market.url)}
                baseline = base.result()
                self.outcomes["baseline"] = baseline
                for seed in self.plan.kill_seeds:
                    jobs[f"kills-{seed}"] = pool.submit(self._timed, f"kills-{seed}", process_kills, baseline, seed,
                                                        self.es_url, market.url, self.workdir / f"kills-{seed}")
                jobs["outages"] = pool.submit(self._timed, "outages", outage_bursts, baseline, self.es_url, world,
                                              self.workdir / "outages", Outages(), self.plan.outage_runs)
                jobs["disk"] = pool.submit(self._timed, "disk", disk_full, baseline, self.es_url, market.url,
                                           self.workdir / "disk", self.plan.disk_kib)
                for name, job in jobs.items():
                    try:
                        self.outcomes[name] = job.result()
                    except BaseException as exc:  # one scenario's failure is its test's, not the campaign's
                        self.failures[name] = exc
        finally:
            market.stop()
        return self

    def _timed(self, name: str, scenario: Callable, *args):
        began = time.monotonic()
        try:
            return scenario(*args)
        finally:
            self.seconds[name] = time.monotonic() - began

    def _engine(self, base, market_url: str) -> Figures:
        from engine_nodes import node_of_its_own

        with node_of_its_own("campaign") as node:
            return engine_restarts(base.result(), node, market_url, self.workdir / "engine")
