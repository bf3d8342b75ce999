"""What the ads indices' refresh interval costs the node while an enrich run rewrites every ad.

    .venv/bin/python bench/es_refresh.py --ads 100000            # 1s (the usual) against 30s (during a run)

For each interval, side by side on one embedded node (heap 1 GiB; or ADWATCH_ES_URL): a fresh
deployment gets `--ads` crawl-shaped ads (bench/enrich_synthetic.py texts), then the interval is
set and every ad gets an enrichment-shaped partial update (normalised text, template, 20 band
keys, an identifier, the enrich state: what `Worker.enrich_pending` writes), then a link-shaped
one (cluster id, links, score rows: what the link write-back writes). Printed per phase: wall
seconds and the node's CPU seconds (its JVM and children), and the first interval's node CPU over this one's.
`Store.refreshing_rarely` (adwatch/store.py) is what a run does with the answer.

Other work on the machine slows every figure: the load average is printed with them.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from enrich_synthetic import generate  # noqa: E402

from adwatch.bulk import BulkWriter, update, upsert  # noqa: E402
from adwatch.config import load_settings  # noqa: E402
from adwatch.engine import EmbeddedNode  # noqa: E402
from adwatch.store import Store, connect  # noqa: E402


def _load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def _node_cpu(pid: int | None) -> float:
    import psutil

    if pid is None:
        return float("nan")
    root = psutil.Process(pid)
    return sum(sum(p.cpu_times()[:2]) for p in [root, *root.children(recursive=True)])


def _ads(n: int) -> list[tuple[str, dict]]:
    docs = []
    for ad in generate(n, max(10, n // 10), seed=3):
        seen = f"2026-{1 + ad.ad_id % 3:02d}-{1 + ad.ad_id % 28:02d}T00:00:00+00:00"
        docs.append((f"synthetic:{ad.ad_id:07d}", {
            "site": "synthetic", "ad_id": str(ad.ad_id), "title": ad.text[:60], "body": ad.text,
            "first_seen": seen, "last_seen": seen, "status": "active", "enrich": {"status": "pending"}}))
    return docs


def _enrichment(doc: dict, rng: random.Random) -> dict:
    return {"text_norm": doc["body"].lower(), "template_text": doc["body"],
            "minhash_bands": [f"{band}:{rng.getrandbits(60):x}" for band in range(20)],
            "identifiers": [f"+1555{rng.randrange(10**7):07d}"], "language": "en",
            "enrich": {"status": "done", "linked": False, "processed_at": "2026-03-01T00:00:00+00:00"}}


def _links(n: int, rng: random.Random) -> dict:
    return {"cluster_id": f"c{rng.randrange(max(1, n // 10))}",
            "links": [{"ad": f"synthetic:{rng.randrange(n):07d}", "evidence": "text", "score": 0.9,
                       "detail": "shared template"} for _ in range(3)],
            "text_pairs": [{"ad": f"synthetic:{rng.randrange(n):07d}", "score": 0.8} for _ in range(10)],
            "enrich": {"linked": True}}


def run(client, node_pid: int | None, docs: list[tuple[str, dict]], interval: str) -> dict:
    store = Store(client, f"bench{uuid.uuid4().hex[:8]}")
    store.ensure_schema()
    try:
        report = BulkWriter(client).write(upsert(store.ads_partition(doc["first_seen"]), doc_id, doc)
                                          for doc_id, doc in docs)
        assert report.failed == 0, report.errors[:3]
        client.indices.refresh(index=store.ads)
        client.indices.put_settings(index=store.ads, settings={"index": {"refresh_interval": interval}})
        rng = random.Random(1)
        out = {}
        for phase, fields in (("enrich", lambda doc: _enrichment(doc, rng)), ("link", lambda doc: _links(len(docs), rng))):
            cpu, began = _node_cpu(node_pid), time.perf_counter()
            report = BulkWriter(client).write(update(store.ads_partition(doc["first_seen"]), doc_id, fields(doc))
                                              for doc_id, doc in docs)
            assert report.failed == 0, report.errors[:3]
            out[phase] = (time.perf_counter() - began, _node_cpu(node_pid) - cpu)
        return out
    finally:
        store.drop_deployment()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ads", type=int, default=100_000)
    parser.add_argument("--intervals", nargs="+", default=["1s", "30s"])
    args = parser.parse_args()
    node, node_dir, node_pid = None, None, None
    es_url = os.environ.get("ADWATCH_ES_URL")
    if not es_url:
        node_dir = Path(tempfile.mkdtemp(prefix="bench-refresh-node-"))
        node = EmbeddedNode(node_dir, load_settings().cache_dir, heap="1g")
        node.start()
        es_url, node_pid = node.state().url, node.state().pid
    client = connect(load_settings(es_url=es_url))
    try:
        docs = _ads(args.ads)
        print(f"{args.ads} ads, each updated twice, on {es_url}; cpus {os.cpu_count()}; {_load()}")
        print(f"{'interval':>9} {'enrich s':>9} {'node CPU s':>11} {'x first':>8} {'link s':>7} {'node CPU s':>11} "
              f"{'x first':>8}  load")
        first = None
        for interval in args.intervals:
            r = run(client, node_pid, docs, interval)
            first = first or r
            print(f"{interval:>9} {r['enrich'][0]:>9.1f} {r['enrich'][1]:>11.1f} {first['enrich'][1] / r['enrich'][1]:>7.2f}x "
                  f"{r['link'][0]:>7.1f} {r['link'][1]:>11.1f} {first['link'][1] / r['link'][1]:>7.2f}x  {_load()}",
                  flush=True)
    finally:
        client.close()
        if node:
            node.stop()
            shutil.rmtree(node_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
