"""Enrichment and comparison on Dask workers: the same clusters as one process, on a real node.

One demo world is indexed twice (two deployments): one enriched and linked in this process, one
on a local Dask cluster of two worker processes, one of which is killed for real mid-run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid

import pytest
from world_index import index_world

from adwatch.errors import UserError
from adwatch.store import Store, connect
from enrich.parallel import Distributed
from enrich.worker import Worker

ADS = 200


def _deployment(es_settings, world, images, only=None):
    client = connect(es_settings)
    store = Store(client, f"p{uuid.uuid4().hex[:10]}")
    store.ensure_schema()
    index_world(store, world, images, only=only)
    return store


def _partition(store: Store) -> tuple[dict[str, str | None], set[frozenset[str]]]:
    """(ad -> cluster id, the clusters as sets of ads) as stored."""
    cluster_of = {h["_id"]: h["_source"].get("cluster_id")
                  for h in store.scan(store.ads, {"match_all": {}}, source=["cluster_id"])}
    groups: dict[str, set[str]] = {}
    for ad, cid in cluster_of.items():
        if cid:
            groups.setdefault(cid, set()).add(ad)
    return cluster_of, {frozenset(g) for g in groups.values()}


def _versions(store: Store) -> set[int]:
    hits = store.client.search(index=store.ads, size=ADS * 2, version=True, query={"match_all": {}}, source=False)
    return {h["_version"] for h in hits["hits"]["hits"]}


class KillsAWorker(Distributed):
    """The real engine; after the second chunk comes back, one worker process is SIGKILLed."""

    killed: int | None = None

    def imap(self, func, items, payload=lambda item: item, lane=None):
        for n, out in enumerate(super().imap(func, items, payload, lane)):
            if n == 1 and self.killed is None:
                pids = self.client.run(os.getpid)
                self.killed = sorted(pids.values())[0]
                os.kill(self.killed, signal.SIGKILL)
            yield out


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from demo.generator import generate_world

    world = tmp_path_factory.mktemp("workers-world")
    generate_world(world, ADS, 17)
    return world


@pytest.fixture(scope="module")
def single(es_settings, world, tmp_path_factory):
    """The world enriched and linked in this process: (store, report)."""
    images = tmp_path_factory.mktemp("workers-images-single")
    store = _deployment(es_settings, world, images)
    report = Worker(store, images).run()
    yield store, report, images
    store.drop_deployment()
    store.client.close()


def test_two_workers_one_killed_give_the_single_process_partition(es_settings, world, single, tmp_path):
    one, one_report, _ = single
    store = _deployment(es_settings, world, tmp_path / "images")
    try:
        with KillsAWorker(workers=2) as engine:
            report = Worker(store, tmp_path / "images", batch=25, engine=engine).run()
            assert engine.killed and engine.killed not in engine.client.run(os.getpid).values()
        assert report.enriched == one_report.enriched == ADS
        assert _partition(store) == _partition(one)
        assert report.link_stats["text_pairs_compared"] == one_report.link_stats["text_pairs_compared"]
        # Indexed, enriched once, linked (and marked linked) once: every ad has as many writes as in
        # one process, so a chunk re-run after the kill was not written twice.
        assert _versions(store) == _versions(one) == {3}
    finally:
        store.drop_deployment()
        store.client.close()


def test_enrich_command_with_workers_links_like_one_process(es_settings, cli_env, world, single, tmp_path):
    one, one_report, _ = single
    store = _deployment(es_settings, world, tmp_path / "images")
    # The image store is <cache dir>/images, as the crawler wrote it.
    env = {**cli_env, "ADWATCH_INDEX_PREFIX": store.names.prefix, "ADWATCH_CACHE_DIR": str(tmp_path)}
    try:
        done = subprocess.run([sys.executable, "-m", "adwatch.cli", "enrich", "--workers", "2"], env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        assert f"Enriched {ADS} ads" in " ".join(done.stdout.split())
        assert _partition(store) == _partition(one)
    finally:
        store.drop_deployment()
        store.client.close()


def test_unreachable_scheduler_is_a_clear_error():
    with pytest.raises(UserError, match="Dask scheduler tcp://127.0.0.1:9: cannot connect"):
        Distributed(scheduler="tcp://127.0.0.1:9")


def test_incremental_run_rewrites_only_the_clusters_it_changed(es_settings, world, tmp_path):
    store = _deployment(es_settings, world, tmp_path / "images", only=lambda ad: ad["ad_id"][-1] in "02468")
    try:
        first = Worker(store, tmp_path / "images").run()
        assert first.clusters_written == first.clusters > 0
        assert Worker(store, tmp_path / "images").run(rebuild=True).clusters_written == 0
        # A repost of a clustered ad under a new id: pending, joins that one cluster.
        cluster = store.client.search(index=store.clusters, size=1, sort=[{"size": "desc"}])["hits"]["hits"][0]
        hit = store.client.search(index=store.ads, size=1, query={"term": {"_id": cluster["_source"]["ads"][0]}})
        src = hit["hits"]["hits"][0]["_source"]
        repost = {k: src[k] for k in ("site", "ad_id", "url", "title", "body", "contact_text", "price", "currency",
                                      "city", "region", "country", "category", "first_seen", "last_seen", "status",
                                      "images") if k in src}
        repost["enrich"] = {"status": "pending"}
        store.client.index(index=hit["hits"]["hits"][0]["_index"], id="repost:1", document=repost, refresh=True)
        again = Worker(store, tmp_path / "images").run()
        assert again.enriched == 1 and 0 < again.clusters_written < first.clusters
        joined = store.client.search(index=store.ads, query={"term": {"_id": "repost:1"}})["hits"]["hits"][0]
        assert joined["_source"]["cluster_id"] == cluster["_id"]
        grown = store.client.get(index=store.clusters, id=cluster["_id"])["_source"]
        assert grown["size"] == cluster["_source"]["size"] + 1
    finally:
        store.drop_deployment()
        store.client.close()


def test_batches_of_one_lane_each_hold_every_ad_once_and_a_photos_ads_share_a_lane():
    from enrich.parallel import lane_batches, photo_lane

    ads = [(f"a{i}", {"images": [{"sha256": f"photo{i % 7}"}]} if i % 5 else {"body": f"text {i}"}) for i in range(203)]
    batches = list(lane_batches(ads, 10, 3, lambda ad: photo_lane(ad[1], 3)))
    assert sorted(doc_id for _, batch in batches for doc_id, _ in batch) == sorted(doc_id for doc_id, _ in ads)
    assert all(len(batch) <= 10 and {photo_lane(src, 3) for _, src in batch} == {lane} for lane, batch in batches)
    lanes_of_photo = {}
    for lane, batch in batches:
        for _, src in batch:
            if "images" in src:
                lanes_of_photo.setdefault(src["images"][0]["sha256"], set()).add(lane)
    assert all(len(lanes) == 1 for lanes in lanes_of_photo.values())
    assert {lane for lane, _ in batches} == {0, 1, 2}
