"""Explorer page render times for a 300-ad cluster (target: at most 300 ms), against the bare index reads.

    .venv/bin/python bench/explorer_pages.py [--ads 1200] [--size 300] [--repeat 15]

Builds a demo world with one planted controller of `--size` ads (plus the world's own clusters),
indexes it as the crawler would and enriches it with the real Worker on an embedded node of its
own (or on ADWATCH_ES_URL), then serves the explorer with waitress on 127.0.0.1 and times real
HTTP requests: the cluster page cold (its graph laid out afresh: the layout cache emptied before
each request) and warm (layout cached, as on a second visit), the largest ordinary cluster, an ad
page, a phone search and the case file. The baseline is what the page cannot avoid: the same
index reads the terminal's `adwatch cluster` makes (the cluster document and one scan of its
members), timed alone. Prints medians and 90th percentiles in ms and each page's ratio to it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from adwatch.config import load_settings  # noqa: E402
from adwatch.store import Store, connect  # noqa: E402
from dashboards.explorer import graph  # noqa: E402
from dashboards.explorer.access import Access  # noqa: E402
from dashboards.explorer.app import create_app  # noqa: E402
from dashboards.explorer.reading import MEMBER_FIELDS  # noqa: E402

TARGET_MS = 300.0


def timed(repeat: int, work, before=None) -> tuple[list[float], list[float]]:
    """(wall, CPU) milliseconds of `repeat` runs of `work` after one unmeasured warm-up, `before` each unmeasured.

    CPU is this process's (the explorer, served in a thread here, and the client), not Elasticsearch's:
    a figure the machine's other load changes much less than wall time.
    """
    if before:
        before()
    work()
    wall, cpu = [], []
    for _ in range(repeat):
        if before:
            before()
        began, began_cpu = time.perf_counter(), time.process_time()
        work()
        wall.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - began_cpu) * 1000)
    return wall, cpu


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=120) as reply:
        if reply.status != 200:
            raise RuntimeError(f"{url}: HTTP {reply.status}")
        return reply.read()


def row(name: str, times: tuple[list[float], list[float]], baseline: float | None, extra: str = "",
        page: bool = True) -> None:
    wall, cpu = times
    median = statistics.median(wall)
    p90 = sorted(wall)[max(0, int(round(0.9 * len(wall))) - 1)]
    ratio = f"{median / baseline:6.2f}x" if baseline else "   base"
    verdict = "" if baseline is None or not page else ("  ok" if median <= TARGET_MS else "  OVER TARGET")
    print(f"{name:36s} median {median:7.1f} ms  p90 {p90:7.1f} ms  cpu {statistics.median(cpu):6.1f} ms  "
          f"{ratio}{verdict}  {extra}")


def build(store: Store, work: Path, ads: int, size: int) -> None:
    from demo.generator import generate_world
    from enrich.worker import Worker
    from world_index import index_world

    world, images = work / "world", work / "images"
    began = time.perf_counter()
    generate_world(world, ads, 5, evasive_sizes=(size,))
    store.ensure_schema()
    index_world(store, world, images)
    Worker(store, images).run()
    print(f"world of {ads} ads with a planted {size}-ad controller built and enriched in "
          f"{time.perf_counter() - began:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ads", type=int, default=1200)
    parser.add_argument("--size", type=int, default=300, help="ads of the planted controller")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="adwatch-bench-explorer-")))
        settings = load_settings()
        if not settings.es_url:
            from engine_nodes import node_of_its_own

            node = stack.enter_context(node_of_its_own("bench-explorer"))
            settings = load_settings(es_url=node.state().url)
        store = Store(connect(settings), f"bx{uuid.uuid4().hex[:8]}")
        stack.callback(store.drop_deployment)
        build(store, work, args.ads, args.size)
        run(store, settings, work / "images", args)


def run(store: Store, settings, images: Path, args) -> None:
    from dataclasses import replace

    from waitress.server import create_server

    largest = store.client.search(index=store.clusters, size=2, sort=[{"size": "desc"}],
                                  source=["size", "identifiers"])["hits"]["hits"]
    big, ordinary = largest[0], largest[1]
    print(f"clusters: the largest has {big['_source']['size']} ads, the next {ordinary['_source']['size']}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (wall times grow with it)")
    access = Access(replace(settings, index_prefix=store.names.prefix))
    server = create_server(create_app(access, images), host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    base = f"http://127.0.0.1:{server.effective_port}"
    try:
        def reads(cluster_id: str):
            return lambda: (store.client.get(index=store.clusters, id=cluster_id),
                            list(store.scan(store.ads, {"term": {"cluster_id": cluster_id}}, source=MEMBER_FIELDS)))

        base_times = timed(args.repeat, reads(big["_id"]))
        baseline = statistics.median(base_times[0])
        row(f"index reads, {big['_source']['size']}-ad cluster", base_times, None)
        page = fetch(f"{base}/cluster/{big['_id']}")
        edges = page.count(b'class="edge ')
        photos = page.count(b'class="photo"')
        row("cluster page, cold (layout anew)", timed(args.repeat, lambda: fetch(f"{base}/cluster/{big['_id']}"),
                                                      graph._layout.cache_clear), baseline,
            f"{len(page) // 1024} KiB, {edges} lines, {photos} photos shown")
        row("cluster page, warm (layout cached)", timed(args.repeat, lambda: fetch(f"{base}/cluster/{big['_id']}")),
            baseline)
        small = statistics.median(timed(args.repeat, reads(ordinary["_id"]))[0])
        row(f"cluster page, {ordinary['_source']['size']}-ad cluster, cold",
            timed(args.repeat, lambda: fetch(f"{base}/cluster/{ordinary['_id']}"), graph._layout.cache_clear), small)
        member = store.client.search(index=store.ads, size=1, query={"term": {"cluster_id": big["_id"]}},
                                     source=False)["hits"]["hits"][0]["_id"]
        row("ad page", timed(args.repeat, lambda: fetch(f"{base}/ad/{member}")), baseline)
        phone = next((i["value"] for i in big["_source"].get("identifiers", []) if i["kind"] == "phone"), None)
        if phone:
            row("search by phone", timed(args.repeat, lambda: fetch(f"{base}/search?phone={urllib.parse.quote(phone)}")), baseline)
        row("case file (zip)", timed(max(3, args.repeat // 3), lambda: fetch(f"{base}/cluster/{big['_id']}/case.zip")),
            baseline, page=False)
    finally:
        server.close()


if __name__ == "__main__":
    main()
