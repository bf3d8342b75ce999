"""The embedded node SIGKILLed under a bulk write and a scan: it comes back where clients look, they resume;
left down, every client stops within its retry bound with EngineUnavailable naming the cluster.

A node of this module's own (the session node is shared); tests run in file order on it.
"""

from __future__ import annotations

import threading
from dataclasses import replace as with_fields

import pytest
from engine_nodes import node_of_its_own

from adwatch.bulk import BulkWriter, replace
from adwatch.config import load_settings
from adwatch.engine import port_is_free
from adwatch.errors import EngineUnavailable
from adwatch.store import Store, connect

# Long enough for a restart on a loaded 2-core machine; short where the node stays down.
RESTART_BOUND_S = 240.0
DOWN_BOUND_S = 3.0


@pytest.fixture(scope="module")
def node():
    with node_of_its_own("faults") as node:
        yield node


@pytest.fixture(scope="module")
def faults_store(node):
    store = Store(connect(load_settings(es_url=node.state().url, es_retry_s=RESTART_BOUND_S)), "faults")
    store.ensure_schema()
    return store


def doc(i: int) -> dict:
    return {"site": "demo-html", "ad_id": str(i), "title": f"Ad {i}", "status": "active"}


def test_killed_node_comes_back_on_its_port_and_a_bulk_write_and_a_scan_resume(node, faults_store: Store, caplog):
    store = faults_store
    index = "faults-plain"
    store.client.indices.create(index=index, settings={"number_of_shards": 1, "number_of_replicas": 0})
    BulkWriter(store.client, refresh="true").write(replace(index, f"old-{i}", doc(i)) for i in range(2000))
    url = node.state().url

    scan = store.scan(index, page=250)
    first_page = [next(scan)["_id"] for _ in range(250)]

    paused, killed = threading.Event(), threading.Event()

    def new_docs():
        for i in range(3000):
            if i == 500:  # one chunk is in; the rest is sent while the node is dead, then restarted
                paused.set()
                killed.wait(120)
            yield replace(index, f"new-{i}", doc(i))

    outcome: dict = {}
    writer = threading.Thread(target=lambda: outcome.update(report=BulkWriter(store.client, chunk_docs=500).write(new_docs())))
    writer.start()
    assert paused.wait(60)
    node.kill()
    assert node.state() is None and port_is_free(node.last_state().http_port)
    killed.set()
    assert node.start().url == url  # the same address: nothing a client holds goes stale
    writer.join(RESTART_BOUND_S + 60)

    report = outcome["report"]
    assert (report.ok, report.failed) == (3000, 0) and report.retries > 0
    rest = [hit["_id"] for hit in scan]  # its point in time died with the node: reopened, resumed
    assert "point in time lost" in caplog.text
    seen = first_page + rest
    assert len(seen) == len(set(seen))
    assert {f"old-{i}" for i in range(2000)} <= set(seen)
    store.refresh(index)
    assert store.count(index) == 5000


def test_enrichment_started_while_the_node_restarts_waits_for_it_and_enriches_every_ad(node, faults_store: Store,
                                                                                     tmp_path):
    from enrich.worker import Worker

    store = Store(faults_store.client, "faults-enrich")
    store.ensure_schema()
    docs = [{**doc(i), "body": f"Ad {i}, call 0712 345 {i:03d}", "first_seen": "2026-12-01T00:00:00+00:00",
             "enrich": {"status": "pending"}} for i in range(20)]
    BulkWriter(store.client, refresh="true").write(replace(store.ads_partition(d["first_seen"]), f"demo-html:{i}", d)
                                                   for i, d in enumerate(docs))
    node.kill()
    back = threading.Thread(target=node.start)
    back.start()
    try:
        # Its first requests (the count of pending ads, the scan) meet the dead node.
        enriched, errors = Worker(store, tmp_path).enrich_pending()
    finally:
        back.join(RESTART_BOUND_S)
    assert (len(enriched), errors) == (20, 0)
    assert store.count(store.ads, {"term": {"enrich.status": "done"}}) == 20


def test_clients_of_a_node_left_down_raise_engine_unavailable_naming_it(node, faults_store: Store):
    url = node.state().url
    index = "faults-plain"
    short = Store(connect(load_settings(es_url=url, es_retry_s=DOWN_BOUND_S)), "faults")
    scan = short.scan(index, page=100)
    next(scan)
    node.kill()

    with pytest.raises(EngineUnavailable) as bulk:
        BulkWriter(short.client).write([replace(index, "late", doc(0))])
    assert url in str(bulk.value) and "ADWATCH_ES_RETRY_SECONDS" in str(bulk.value)
    assert bulk.value.waited_s >= DOWN_BOUND_S
    with pytest.raises(EngineUnavailable, match=url):
        list(scan)
    with pytest.raises(EngineUnavailable, match=url):
        short.count(index)
    with pytest.raises(EngineUnavailable, match=url):
        short.refresh(index)
    with pytest.raises(EngineUnavailable, match="adwatch engine start"):
        connect(with_fields(load_settings(es_url=url), es_retry_s=1.0))
