"""How linking + clustering time and memory grow: 10k -> 100k -> 1M ads of synthetic signatures.

    .venv/bin/python bench/cluster_scale.py                      # 10k, 100k, 1M
    .venv/bin/python bench/cluster_scale.py --sizes 10000 100000 # a subset

Times what the worker does between loading facts and writing them back: blocking, comparison,
hub detection, clustering, explanations and cluster summaries (`enrich.linking.link` +
`enrich.summary.summarise`), in a fresh process per size so peak RSS is that size's own. Loading
from and writing to Elasticsearch is not included (bench/cluster_quality.py times the whole worker
on a real demo world).

Synthetic signatures (the issue allows them at 1M): controllers of heavy-tailed size post ads that
keep each of their template's 64 LSH band keys with probability 0.35 (what a few edited words do
to 4-row bands), reuse 1-2 phones, and show 1-3 of their photos with a few bits of hash noise;
unrelated ads get keys of their own. Hubs are planted: a placeholder phone, stock photos and
boilerplate band keys shared by thousands of unrelated ads. The baseline column is all-pairs
comparison (what blocking avoids), timed on a 600-ad sample and scaled by n^2.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from enrich.comparison import LinkRules, image_distance, score_text_pairs  # noqa: E402
from enrich.evaluation import score  # noqa: E402
from enrich.facts import AdFacts, ImageKey  # noqa: E402
from enrich.linking import link  # noqa: E402
from enrich.summary import summarise  # noqa: E402

BANDS = 64
KEEP_BAND = 0.35
PLACEHOLDER = "+15555550100"
TARGETS = {100_000: 60.0, 1_000_000: 900.0}  # seconds, from the issue
MEMORY_TARGET_GIB = 8.0


def _controller_sizes(n: int, rng: random.Random) -> list[int]:
    sizes, total = [], 0
    while total < n:
        size = 1 if rng.random() < 0.35 else min(500, max(2, int(rng.lognormvariate(1.8, 1.0))))
        size = min(size, n - total)
        sizes.append(size)
        total += size
    return sizes


def _noisy(value: int, rng: random.Random, bits: int) -> str:
    for bit in rng.sample(range(64), bits):
        value ^= 1 << bit
    return f"{value:016x}"


def synthetic_facts(n: int, seed: int = 1) -> tuple[list[AdFacts], dict[str, int]]:
    """n ads' facts and their true controller."""
    rng = random.Random(seed)
    vocabulary = [f"w{i}" for i in range(5000)]
    stock = [rng.getrandbits(64) for _ in range(20)]
    facts, truth = [], {}
    ad = 0
    for controller, size in enumerate(_controller_sizes(n, rng)):
        template = rng.choices(vocabulary, k=40)
        bands = np.arange(BANDS, dtype=np.int64) + (controller + 1) * BANDS  # a controller's template's band codes
        phones = [f"+1{rng.randrange(2_000_000_000, 9_999_999_999)}" for _ in range(rng.choice((1, 1, 2)))]
        photos = [(rng.getrandbits(64), rng.getrandbits(64)) for _ in range(rng.randint(1, 4))]
        day0 = rng.randrange(0, 300)
        for _ in range(size):
            words = list(template)
            for i in rng.sample(range(len(words)), 3):
                words[i] = rng.choice(vocabulary)
            # Band codes as the worker keeps them (enrich.blocking.text_codes); a band not kept is the ad's own.
            kept = np.array([rng.random() < KEEP_BAND for _ in range(BANDS)])
            text_keys = np.where(kept, bands, -(ad * BANDS + np.arange(BANDS, dtype=np.int64)) - 1)
            if rng.random() < 0.02:
                text_keys[0] = 0  # boilerplate: one band shared by 2% of all ads
            identifiers = [p for p in phones if rng.random() < 0.8]
            placeholders = ()
            if rng.random() < 0.005:
                identifiers.append(PLACEHOLDER)
                placeholders = (PLACEHOLDER,)
            images: list[ImageKey] = []
            for p, d in rng.sample(photos, min(len(photos), rng.randint(1, 3))):
                noise = rng.randint(0, 3)
                images.append(ImageKey(_noisy(p, rng, noise), _noisy(d, rng, noise), _noisy(~p & (2**64 - 1), rng, 32),
                                       _noisy(d, rng, 32)))
            if rng.random() < 0.01:
                s = rng.choice(stock)
                images.append(ImageKey(f"{s:016x}", f"{s ^ 0xffff:016x}", _noisy(s, rng, 32), _noisy(s, rng, 32)))
            doc_id = f"synthetic:{ad:07d}"
            facts.append(AdFacts(
                doc_id=doc_id, first_seen=f"2026-{1 + (day0 + ad % 30) // 31 % 12:02d}-{1 + (day0 + ad) % 28:02d}",
                identifiers=tuple(sorted(set(identifiers))), placeholders=placeholders, text_keys=text_keys,
                template=" ".join(words), images=tuple(images), site="synthetic", city="city", country="US",
                ))
            truth[doc_id] = controller
            ad += 1
    return facts, truth


def one(n: int) -> dict:
    began = time.perf_counter()
    facts, truth = synthetic_facts(n)
    generated = time.perf_counter()
    result = link(facts)
    linked = time.perf_counter()
    meta = {f.doc_id: f for f in facts}
    for cluster in result.clusters:
        summarise(cluster, meta, result.links, "2026-11-28T00:00:00+00:00")
    summarised = time.perf_counter()
    return {"ads": n, "generate_s": generated - began, "link_s": linked - generated,
            "summarise_s": summarised - linked, "cluster_s": summarised - generated,
            "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
            "clusters": len(result.clusters), "largest": max((len(c.members) for c in result.clusters), default=0),
            "pairwise_f1": _pairwise_f1(result.clusters, truth), "stats": result.stats}


def _pairwise_f1(clusters, truth: dict[str, int]) -> float:
    cluster_of = {m: c.cluster_id for c in clusters for m in c.members}
    return score({ad: cluster_of.get(ad, ad) for ad in truth}, truth).pairwise_f1


def all_pairs_seconds_per_pair(sample: int = 600) -> float:
    """The baseline: compare every pair (text and images) of a sample; seconds per pair."""
    facts, _ = synthetic_facts(sample, seed=2)
    rules = LinkRules()
    began = time.perf_counter()
    first, second = (np.array(side, dtype=np.int64) for side in zip(*itertools.combinations(range(sample), 2)))
    score_text_pairs(facts, first, second, rules.text_min_words)
    for i, a in enumerate(facts):
        for b in facts[i + 1:]:
            for x in a.images:
                for y in b.images:
                    image_distance(x, y)
    return (time.perf_counter() - began) / len(first)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: one size, JSON out
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one)))
        return
    per_pair = all_pairs_seconds_per_pair()
    print(f"baseline: all-pairs comparison costs {per_pair * 1e6:.1f} us per pair (600-ad sample)")
    print(f"{'ads':>9} {'cluster s':>10} {'s/1k ads':>9} {'growth':>7} {'all-pairs s':>12} {'speed-up':>9} "
          f"{'peak GiB':>9} {'clusters':>9} {'largest':>8} {'F1':>6} {'target':>10}")
    first = None
    for n in args.sizes:
        done = subprocess.run([sys.executable, __file__, "--one", str(n)], capture_output=True, text=True)
        if done.returncode != 0:
            print(f"{n:>9} failed: {done.stderr.strip()[-2000:]}")
            continue
        r = json.loads(done.stdout)
        per_k = r["cluster_s"] / n * 1000
        first = first or per_k
        baseline = per_pair * n * (n - 1) / 2
        target = TARGETS.get(n)
        verdict = "" if target is None else ("met" if r["cluster_s"] <= target and r["peak_rss_gib"] <= MEMORY_TARGET_GIB
                                             else "MISSED")
        print(f"{n:>9} {r['cluster_s']:>10.1f} {per_k:>9.3f} {per_k / first:>6.2f}x {baseline:>12.0f} "
              f"{baseline / r['cluster_s']:>8.0f}x {r['peak_rss_gib']:>9.2f} {r['clusters']:>9} {r['largest']:>8} "
              f"{r['pairwise_f1']:>6.3f} {verdict:>10}")
        print(f"{'':>9} (link {r['link_s']:.1f} s, summaries {r['summarise_s']:.1f} s, generating {r['generate_s']:.1f} s; "
              f"{r['stats']})")


if __name__ == "__main__":
    main()
