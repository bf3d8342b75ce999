"""One embedded node against a 3-node embedded cluster with a replica, side by side in one run.

    .venv/bin/python bench/es_cluster.py [--docs 20000]

For each engine: seconds to ready, bulk-write and scan rates (docs/s) of synthetic ads, then, for
the cluster only, one node SIGKILLed under a bulk write: how long the write stalled (the longest
gap between two written chunks) and whether every document arrived. Prints the cluster's rates as
ratios of the single node's: on one machine a replica costs write throughput (every document is
written twice) and buys surviving a node; more machines are what buy speed.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import threading
import time
from pathlib import Path

from adwatch.bulk import BulkWriter, replace
from adwatch.config import load_settings
from adwatch.engine import EmbeddedCluster, EmbeddedNode
from adwatch.store import Store, connect

CHUNK = 500


def ads(index: str, count: int, site: str = "bench"):
    for i in range(count):
        yield replace(index, f"{site}:{i}", {"site": site, "ad_id": str(i), "title": f"Ad {i}",
                                            "body": "Hostess wanted abroad, travel paid, call now " * 5,
                                            "city": f"city{i % 50}", "first_seen": "2026-01-15T00:00:00Z"})


def rates(store: Store, docs: int) -> tuple[float, float]:
    store.ensure_schema()
    index = store.ads_partition("2026-01-15")
    began = time.monotonic()
    assert BulkWriter(store.client, chunk_docs=CHUNK).write(ads(index, docs)).ok == docs
    write = docs / (time.monotonic() - began)
    store.refresh()
    began = time.monotonic()
    assert sum(1 for _ in store.scan(store.ads)) == docs
    return write, docs / (time.monotonic() - began)


def kill_under_write(cluster: EmbeddedCluster, store: Store, docs: int) -> tuple[float, bool]:
    """(longest stall between chunks in s, whether all `docs` arrived) with one node killed mid-write."""
    index = store.ads_partition("2026-01-15")
    landed: list[float] = []

    def chunks():
        for i, action in enumerate(ads(index, docs, site="bench-kill")):
            if i % CHUNK == 0:
                landed.append(time.monotonic())
            yield action

    writer = threading.Thread(target=lambda: BulkWriter(store.client, chunk_docs=CHUNK).write(chunks()))
    writer.start()
    while len(landed) < 3:
        time.sleep(0.01)
    cluster.nodes[0].kill()
    writer.join()
    store.refresh()
    stall = max(b - a for a, b in zip(landed, landed[1:]))
    return stall, store.count(store.ads, {"term": {"site": "bench-kill"}}) == docs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=20000)
    args = parser.parse_args()
    settings = load_settings()
    root = Path(tempfile.mkdtemp(prefix="adwatch-bench-cluster-"))
    root.chmod(0o755)  # the nodes may run as an unprivileged user (adwatch/engine.py)
    node = EmbeddedNode(root / "single", settings.cache_dir)
    cluster = EmbeddedCluster(root / "cluster", settings.cache_dir, size=3)
    try:
        single = node.start()
        one = rates(Store(connect(load_settings(es_url=single.url)), "bench"), args.docs)
        ready_one = single.seconds_to_ready
        node.stop()
        began = time.monotonic()
        cluster.start()
        ready_three = time.monotonic() - began
        store = Store(connect(load_settings(es_url=",".join(cluster.urls()))), "bench")
        three = rates(store, args.docs)
        cluster.wait_for("green")
        stall, complete = kill_under_write(cluster, store, args.docs)
    finally:
        node.stop()
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
    print(f"{args.docs} docs; one node (0 replicas) vs 3 nodes (1 replica), heap 512m each")
    print(f"ready:  {ready_one:6.1f} s vs {ready_three:6.1f} s")
    print(f"write:  {one[0]:6.0f} vs {three[0]:6.0f} docs/s  (cluster/single {three[0] / one[0]:.2f})")
    print(f"scan:   {one[1]:6.0f} vs {three[1]:6.0f} docs/s  (cluster/single {three[1] / one[1]:.2f})")
    print(f"node SIGKILLed under a write: longest stall {stall:.1f} s, every document written: {complete}")


if __name__ == "__main__":
    main()
