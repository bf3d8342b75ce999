"""The fault campaign, long: every scenario of tests/faults/campaign.py with more seeds and more fuzz.

    .venv/bin/python bench/fault_campaign.py [--ads 600] [--seeds 10] [--fuzz 10000] [--workers 3]

Starts an Elasticsearch node of its own for the deployments (and one more that the engine
scenario kills and restarts), generates a demo world, runs it undisturbed once and then disturbed:
(a) the node SIGKILLed and restarted under a crawl, enrichment and the link write; (b) `adwatch
crawl` and `adwatch enrich` SIGKILLed at a random moment, one seed each, then rerun; (c) the
marketplace failing in bursts; (d) the image store on a full tmpfs (root only); (e) a fuzzed site.
Prints one line per scenario (runs, ads lost, duplicates, inconsistencies, ads differing from the
undisturbed run, ads in another cluster, bad inputs recorded / served, crawls whose exit and run
document disagree, processes that died of an uncaught exception) and a total.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path[:0] = [str(TESTS), str(TESTS / "faults")]

from campaign import Campaign, Figures, Plan  # noqa: E402
from engine_nodes import node_of_its_own  # noqa: E402

COLUMNS = ("runs", "lost", "duplicates", "inconsistencies", "differing", "clusters_differ", "bad_recorded",
           "bad_served", "misreported_runs", "crashes")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ads", type=int, default=600, help="ads in the demo world (about half on demo-html)")
    parser.add_argument("--seeds", type=int, default=10, help="seeds of random process kills")
    parser.add_argument("--fuzz", type=int, default=10_000, help="fuzzed ads")
    parser.add_argument("--outage-runs", type=int, default=2, help="crawls under outage bursts")
    parser.add_argument("--workers", type=int, default=3, help="scenarios run at once")
    parser.add_argument("--details", action="store_true", help="also print what each scenario saw")
    args = parser.parse_args()
    plan = Plan(ads=args.ads, kill_seeds=tuple(range(1, args.seeds + 1)), outage_runs=args.outage_runs,
                fuzz_ads=args.fuzz, workers=args.workers, disk_kib=max(256, args.ads // 2))
    began = time.monotonic()
    with node_of_its_own("bench-campaign") as node, tempfile.TemporaryDirectory(prefix="adwatch-campaign-") as work:
        campaign = Campaign(plan, node.state().url, Path(work)).run()
    print(f"fault campaign: {args.ads}-ad world (seed {plan.world_seed}), {args.seeds} kill seeds, "
          f"{args.fuzz} fuzzed ads, {time.monotonic() - began:.0f} s wall")
    headings = ("runs", "lost", "dupes", "incons", "differ", "moved", "bad rec", "bad srv", "misrep", "crashes",
                "seconds")
    print(f"{'scenario':40s} " + " ".join(f"{c:>9s}" for c in headings))
    total = Figures("total")
    for name in ("engine", *(f"kills-{s}" for s in plan.kill_seeds), "outages", "disk", "fuzz"):
        try:
            outcome = campaign.result(name)
        except Exception as exc:  # a scenario that could not run is shown, not hidden
            print(f"{name:40s} did not run: {type(exc).__name__}: {str(exc)[:200]}")
            continue
        figures = outcome.figures if hasattr(outcome, "figures") else outcome
        total.add(figures)
        print(f"{figures.scenario[:40]:40s} " + " ".join(f"{getattr(figures, c):9d}" for c in COLUMNS)
              + f" {campaign.seconds.get(name, 0):9.0f}")
        if args.details:
            for line in figures.details:
                print(f"    {line[:300]}")
        if hasattr(outcome, "by_case"):
            short = [f"{case} {handled}/{served}" for case, (served, handled) in outcome.by_case.items()
                     if handled < served]
            print(f"    fuzz cases not handled as expected: {', '.join(short) or 'none'}; "
                  f"crawl log lines carrying ad text: {outcome.log_leaks}")
    print(f"{'total':40s} " + " ".join(f"{getattr(total, c):9d}" for c in COLUMNS))


if __name__ == "__main__":
    main()
