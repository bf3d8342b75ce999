"""Embedded Elasticsearch: time to ready and resident memory, against the Foundation targets.

    .venv/bin/python bench/engine.py [--runs 3] [--docs 20000]

Starts a fresh node per run (fresh data directory), measures seconds from launch to a usable
cluster, then bulk-indexes synthetic ads and reports the node's RSS (launcher + JVM) at rest and
after indexing. Targets: ready <= 60 s, RSS <= 1.5 GiB.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from adwatch.bulk import BulkWriter, replace
from adwatch.config import load_settings
from adwatch.engine import EmbeddedNode, tree_rss_bytes
from adwatch.store import Store, connect

TARGET_READY_S = 60.0
TARGET_RSS = 1.5 * 2**30


def one_run(docs: int, heap: str) -> tuple[float, int, int, float]:
    settings = load_settings()
    node_dir = Path(tempfile.mkdtemp(prefix="adwatch-bench-node-"))
    node = EmbeddedNode(node_dir, settings.cache_dir, heap=heap)
    try:
        state = node.start()
        rss_idle = tree_rss_bytes(state.pid)
        store = Store(connect(load_settings(es_url=state.url)), "bench")
        store.ensure_schema()
        index = store.ads_partition("2026-01-15")
        began = time.monotonic()
        report = BulkWriter(store.client).write(
            replace(index, f"bench:{i}", {"site": "bench", "ad_id": str(i), "title": f"Ad {i}",
                                          "body": "Hostess wanted abroad, travel paid, call now " * 5,
                                          "city": f"city{i % 50}", "first_seen": "2026-01-15T00:00:00Z"})
            for i in range(docs))
        rate = report.ok / (time.monotonic() - began)
        return state.seconds_to_ready, rss_idle, tree_rss_bytes(state.pid), rate
    finally:
        node.stop()
        shutil.rmtree(node_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--docs", type=int, default=20000)
    parser.add_argument("--heap", default="512m")
    args = parser.parse_args()
    rows = [one_run(args.docs, args.heap) for _ in range(args.runs)]
    ready = statistics.median(r[0] for r in rows)
    idle = max(r[1] for r in rows)
    busy = max(r[2] for r in rows)
    rate = statistics.median(r[3] for r in rows)
    print(f"runs={args.runs} heap={args.heap} docs={args.docs}")
    print(f"time to ready (median): {ready:6.1f} s   target {TARGET_READY_S:.0f} s   ratio {ready / TARGET_READY_S:.2f}")
    print(f"RSS idle (max):         {idle / 2**20:6.0f} MiB target {TARGET_RSS / 2**20:.0f} MiB ratio {idle / TARGET_RSS:.2f}")
    print(f"RSS after bulk (max):   {busy / 2**20:6.0f} MiB target {TARGET_RSS / 2**20:.0f} MiB ratio {busy / TARGET_RSS:.2f}")
    print(f"bulk index rate (median): {rate:,.0f} docs/s")


if __name__ == "__main__":
    main()
