"""A real 3-node Elasticsearch cluster on loopback: a node SIGKILLed during a crawl, and another during
enrichment, loses nothing: the ads, the run and the clusters are those of an undisturbed run of the same world.

One cluster of the embedded distribution for the module (heap 512m per node), stopped at its end. AdWatch
is given every node's URL (ADWATCH_ES_URL=a,b,c) and runs unchanged: the crawl is the real `adwatch crawl`
process, enrichment the real worker. The undisturbed run is made on the session's node while the cluster
boots (what is compared is AdWatch's output, which no engine layout may change).
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest
from engine_nodes import cluster_booting

from adwatch.config import load_settings
from adwatch.engine import EmbeddedCluster, EmbeddedNode
from demo.generator import generate_world
from demo.server import start_server
from enrich.worker import Worker

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "crawler"))  # the crawler tests' helpers
from crawl_helpers import Crawler, deployment, point_at  # noqa: E402

SITE = "demo-html"
# Long enough for a node to leave and its copies to be promoted on a loaded 2-core machine.
RETRY_S = 240.0
# Written per run, not per ad content: they differ between any two runs of the same world.
PER_RUN = {"first_seen", "last_seen", "crawl", "enrich", "cluster_id", "links", "text_pairs"}


@pytest.fixture(scope="module")
def booting():
    with cluster_booting("cluster", size=3) as booting:
        yield booting


@pytest.fixture(scope="module")
def cluster(booting, undisturbed) -> EmbeddedCluster:
    return booting.result()


@pytest.fixture(scope="module")
def cluster_settings(cluster: EmbeddedCluster):
    return load_settings(es_url=",".join(cluster.urls()), es_retry_s=RETRY_S)


@pytest.fixture(scope="module")
def market(tmp_path_factory):
    world = tmp_path_factory.mktemp("cluster-world")
    generate_world(world, 240, 21)
    # No page faults: what is tested is the index, and both runs must see the very same pages.
    server = start_server(world, port=0, rate_limit=0, crawl_delay=0, faults=False)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def undisturbed(es_settings, market, tmp_path_factory, booting):
    """The reference, nothing killed: (its deployment, its ads as crawled, before enrichment)."""
    with deployment(es_settings, tmp_path_factory.mktemp("undisturbed")) as crawler:
        point_at(crawler, market)
        done = crawler.crawl(SITE, "--no-politeness")
        assert done.returncode == 0, done.stderr[-2000:]
        crawled = contents(crawler)
        Worker(crawler.store, crawler.cache_dir / "images").run()
        yield crawler, crawled


@pytest.fixture(scope="module")
def disturbed(cluster_settings, market, tmp_path_factory, undisturbed):
    with deployment(cluster_settings, tmp_path_factory.mktemp("disturbed")) as crawler:
        yield point_at(crawler, market)


def primary_holder(cluster: EmbeddedCluster, crawler: Crawler) -> EmbeddedNode:
    """The member holding the primary copy of the deployment's (one) ads partition."""
    [partition] = crawler.store.ads_partitions()
    shards = crawler.store.client.cat.shards(index=partition, format="json").body
    [name] = [s["node"] for s in shards if s["prirep"] == "p"]
    return member(cluster, name)


def member(cluster: EmbeddedCluster, name: str) -> EmbeddedNode:
    return next(node for node in cluster.nodes if node.membership.node_name == name)


def wait_until(condition, what: str, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def contents(crawler: Crawler) -> dict[str, dict]:
    """Each ad's fields that do not name a run, by ad id."""
    return {ad_id: {k: v for k, v in ad.items() if k not in PER_RUN} for ad_id, ad in crawler.ads(SITE).items()}


def partition(crawler: Crawler) -> set[frozenset[str]]:
    """The clusters as sets of ad ids (ids of clusters are names, the partition is the result)."""
    crawler.store.refresh()
    groups: dict[str, set[str]] = {}
    for hit in crawler.store.scan(crawler.store.ads, source=["cluster_id"]):
        groups.setdefault(hit["_source"].get("cluster_id") or hit["_id"], set()).add(hit["_id"])
    return {frozenset(group) for group in groups.values()}


def differences(got: dict[str, dict], expected: dict[str, dict]) -> dict[str, set[str]]:
    """Ad id -> the fields whose values differ (an ad missing on one side differs in every field)."""
    return {ad_id: {k for k in got.get(ad_id, {}).keys() | expected.get(ad_id, {}).keys()
                    if got.get(ad_id, {}).get(k) != expected.get(ad_id, {}).get(k)}
            for ad_id in got.keys() | expected.keys() if got.get(ad_id) != expected.get(ad_id)}


def test_every_adwatch_index_has_a_replica_on_another_node(cluster, disturbed):
    store = disturbed.store
    cluster.wait_for("green")
    shards = store.client.cat.shards(index=f"{store.names.prefix}-*", format="json").body
    copies: dict[tuple[str, str], list[str]] = {}
    for shard in shards:
        assert shard["state"] == "STARTED", shard
        copies.setdefault((shard["index"], shard["shard"]), []).append(shard["node"])
    assert {index for index, _ in copies} >= {*store.ads_partitions(), f"{store.names.prefix}-clusters-v1"}
    assert all(len(set(nodes)) == 2 for nodes in copies.values()), copies


def test_a_node_killed_mid_crawl_loses_no_ad_and_the_run_counts_stay_exact(cluster, undisturbed, disturbed):
    reference, crawled = undisturbed
    crawl = disturbed.popen(SITE, "--no-politeness")
    try:
        wait_until(lambda: disturbed.store.count(disturbed.store.ads) > 0 or crawl.poll() is not None,
                   "the crawl's first ads")
        victim = primary_holder(cluster, disturbed)
        assert crawl.poll() is None, "the crawl ended before a node could be killed under it"
        victim.kill()
        # The node comes back while the crawl goes on, on its old ports, and rejoins.
        rejoin = threading.Thread(target=victim.start)
        rejoin.start()
        assert crawl.wait(600) == 0
    finally:
        if crawl.poll() is None:
            crawl.kill()
    rejoin.join(300)
    cluster.wait_for("green")

    assert len(crawled) > 50 and not differences(contents(disturbed), crawled)
    [run], [expected] = disturbed.runs(SITE), reference.runs(SITE)
    assert run["status"] == expected["status"] == "finished"
    assert run["items"] == expected["items"] and run["pages"] == expected["pages"]


def test_a_node_killed_mid_enrichment_loses_nothing_and_the_clusters_match(cluster, undisturbed, disturbed, caplog):
    reference, crawled = undisturbed
    store = disturbed.store
    assert store.count(store.ads, {"term": {"enrich.status": "pending"}}) == len(crawled)
    outcome: dict = {}
    worker = threading.Thread(target=lambda: outcome.update(
        report=Worker(store, disturbed.cache_dir / "images", batch=20).run()))
    worker.start()

    def enriched() -> int:
        store.refresh(store.ads)
        return store.count(store.ads, {"term": {"enrich.status": "done"}})

    wait_until(lambda: enriched() > 0 or not worker.is_alive(), "the first enriched ads")
    # The node serving the worker's point in time (its scan of pending ads): the rest of that scan is on it.
    nodes = store.client.nodes.stats(metric="indices", index_metric="search").body["nodes"].values()
    [name] = [node["name"] for node in nodes if node["indices"]["search"]["open_contexts"] > 0]
    assert worker.is_alive() and enriched() < len(crawled), "enrichment ended before a node could be killed under it"
    member(cluster, name).kill()
    worker.join(600)

    assert "point in time lost" in caplog.text  # the scan lost its node's part, and went on on the other copies
    # Counted in the index, not in the report: a write the dead node had passed on before dying lands
    # twice, and the second time as a conflict the worker rightly does not count as its own.
    assert "report" in outcome
    assert store.count(store.ads, {"bool": {"filter": [{"term": {"enrich.status": "done"}},
                                                      {"term": {"enrich.linked": True}}]}}) == len(crawled)
    assert not differences(contents(disturbed), contents(reference))
    assert partition(disturbed) == partition(reference)
    assert store.count(store.clusters) == reference.store.count(reference.store.clusters)
