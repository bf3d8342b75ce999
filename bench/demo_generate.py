"""Benchmark: generate a demo world and print ads/s (issue 3 target: 100k ads in <= 180 s).

Usage: python bench/demo_generate.py [--ads 100000] [--seed 1] [--out /tmp/adwatch-bench-world] [--workers N]
                                     [--family F[,F...]] [--baseline-ratio]
Prints wall time, process CPU time (this process and its image workers), ads/s and images/s. With
--baseline-ratio it also generates the baseline world of the same size and seed and prints the family
world's wall and CPU time over the baseline's (a partial world composes every ad of the whole world but
renders photos only for the ads it keeps).
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
    parser.add_argument("--family", default="baseline", help="world families, e.g. multilingual,evasive,no-country")
    parser.add_argument("--baseline-ratio", action="store_true", help="also time the baseline world and print the ratio")
    args = parser.parse_args()
    wall, cpu, summary = _timed(args.out, args.ads, args.seed, args.workers, args.family)
    print(f"family={summary.family} world_ads={summary.world_ads} ads={summary.n_ads} controllers={summary.n_controllers} "
          f"controller_ads={summary.controller_ads} images={summary.n_images} image_MB={summary.image_bytes / 1e6:.0f}")
    print(f"wall_s={wall:.1f} cpu_s={cpu:.1f} cpus={os.cpu_count()} load1={os.getloadavg()[0]:.2f}")
    print(f"ads_per_s={summary.n_ads / wall:.0f} images_per_s={summary.n_images / wall:.0f} "
          f"target_100k_s=180 projected_100k_s={100_000 / (summary.world_ads / wall):.0f}")
    if not args.keep:
        shutil.rmtree(args.out, ignore_errors=True)
    if args.baseline_ratio and summary.family != "baseline":
        base_wall, base_cpu, _ = _timed(args.out + "-baseline", args.ads, args.seed, args.workers, "baseline")
        shutil.rmtree(args.out + "-baseline", ignore_errors=True)
        print(f"baseline_wall_s={base_wall:.1f} baseline_cpu_s={base_cpu:.1f} family_over_baseline_wall={wall / base_wall:.2f} "
              f"family_over_baseline_cpu={cpu / base_cpu:.2f} load1={os.getloadavg()[0]:.2f}")
    return 0


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _timed(out: str, ads: int, seed: int, workers: int | None, family: str):
    """(wall s, CPU s of this process and its image workers, summary) of one generation."""
    started, cpu = time.perf_counter(), _cpu()
    summary = generate_world(out, ads, seed, workers=workers, family=family)
    return time.perf_counter() - started, _cpu() - cpu, summary


if __name__ == "__main__":
    raise SystemExit(main())
