"""Clustering quality and worker time on a demo world, indexed straight into a fresh deployment.

    .venv/bin/python bench/cluster_quality.py --ads 20000 --seed 3 [--family multilingual,evasive] [--world DIR]

Generates (or reuses) a world with every variation on, indexes its ads as the crawler would
(images into a content-addressed store), runs the enrichment worker once (enrich + link +
cluster), and prints the evaluation against the truth next to the issue's targets. Needs a running
Elasticsearch: ADWATCH_ES_URL, or the embedded node (`adwatch engine start`).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from world_index import index_world  # noqa: E402

from adwatch.config import load_settings  # noqa: E402
from adwatch.store import Store, connect  # noqa: E402
from demo.generator import generate_world  # noqa: E402
from enrich.cli import evaluate_index, read_truth  # noqa: E402
from enrich.worker import Worker  # noqa: E402

TARGETS = {"pairwise_f1": 0.95, "bcubed_f1": 0.95}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ads", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--family", default="baseline", help="world family (demo generate --family)")
    parser.add_argument("--world", help="world directory (generated there when missing)")
    args = parser.parse_args()
    suffix = "" if args.family == "baseline" else f"-{args.family.replace(',', '+')}"
    world = Path(args.world or f"/tmp/adwatch-bench-world-{args.ads}-{args.seed}{suffix}")
    if not (world / "truth.jsonl").exists():
        generate_world(world, args.ads, args.seed, family=args.family)
    store = Store(connect(load_settings()), f"bench{int(time.time())}")
    store.ensure_schema()
    images = Path(tempfile.mkdtemp(prefix="adwatch-bench-images-"))
    try:
        began = time.monotonic()
        index_world(store, world, images)
        indexed = time.monotonic() - began
        began = time.monotonic()
        report = Worker(store, images).run()
        worked = time.monotonic() - began
        s = evaluate_index(store, read_truth(world / "truth.jsonl"))
    finally:
        store.drop_deployment()
    print(f"world {world} ({s.ads} ads); indexing {indexed:.0f} s; worker (enrich + link + write) {worked:.0f} s")
    print(f"linking: {report.link_stats}")
    for name, value in (("pairwise_precision", s.pairwise_precision), ("pairwise_recall", s.pairwise_recall),
                        ("pairwise_f1", s.pairwise_f1), ("bcubed_precision", s.bcubed_precision),
                        ("bcubed_recall", s.bcubed_recall), ("bcubed_f1", s.bcubed_f1)):
        target = TARGETS.get(name)
        print(f"{name:20s} {value:.3f}" + (f"   target {target:.2f}   ratio {value / target:.3f}" if target else ""))
    print(f"clusters predicted {s.predicted_clusters} / true {s.true_clusters}; largest predicted "
          f"{s.largest_predicted} (purity {s.largest_predicted_purity:.2f}) / true {s.largest_true}")
    for kind, e in s.evidence.items():
        print(f"evidence {kind:10s} links {e['links']:7d} precision {e['precision']:.4f}")


if __name__ == "__main__":
    main()
