"""Benchmark: generate a demo world and print ads/s (issue 3 target: 100k ads in <= 180 s).

Usage: python bench/demo_generate.py [--ads 100000] [--seed 1] [--out /tmp/adwatch-bench-world] [--workers N]
Prints wall time, process CPU time (this process and its image workers), ads/s and images/s.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import time

from demo.generator import generate_world


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ads", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default="/tmp/adwatch-bench-world")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the world directory afterwards")
    args = parser.parse_args()
    started = time.perf_counter()
    summary = generate_world(args.out, args.ads, args.seed, workers=args.workers)
    wall = time.perf_counter() - started
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    print(f"ads={summary.n_ads} controllers={summary.n_controllers} controller_ads={summary.controller_ads} "
          f"images={summary.n_images} image_MB={summary.image_bytes / 1e6:.0f}")
    print(f"wall_s={wall:.1f} cpu_s={cpu:.1f} cpus={os.cpu_count()} load1={os.getloadavg()[0]:.2f}")
    print(f"ads_per_s={summary.n_ads / wall:.0f} images_per_s={summary.n_images / wall:.0f} "
          f"target_100k_s=180 projected_100k_s={100_000 / (summary.n_ads / wall):.0f}")
    if not args.keep:
        shutil.rmtree(args.out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
