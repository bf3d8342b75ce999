"""Benchmark: which RapidFuzz scorer verifies text candidates best, on the pairs blocking actually produces.

Usage: python bench/enrich_textsim.py [--world DIR] [--ads 8000]
Candidate pairs are ads sharing a MinHash band key (as the linker will see them). A pair is a true
match when both ads come from the same poster (demo truth: poster_id; synthetic: controller).
For each scorer `enrich.textsim` offers: best F1 over thresholds, the threshold, precision at that threshold, and the
microseconds per pair. partial_ratio is deliberately absent (a short boilerplate inside a long ad
scores 100). Figures only.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import get_args

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from enrich.signatures import lsh_band_keys, text_signature  # noqa: E402
from enrich.textsim import Scorer, text_similarity  # noqa: E402
from enrich_synthetic import masked_corpus  # noqa: E402

SCORERS = get_args(Scorer)  # every scorer enrich.textsim offers, the default first


def candidate_pairs(texts: list[str], cap: int, seed: int) -> list[tuple[int, int]]:
    buckets: dict[str, list[int]] = defaultdict(list)
    for i, text in enumerate(texts):
        for key in lsh_band_keys(text_signature(text)):
            buckets[key].append(i)
    pairs = {(a, b) for members in buckets.values() if len(members) <= 200 for a in members for b in members if a < b}
    pairs = sorted(pairs)
    random.Random(seed).shuffle(pairs)
    return pairs[:cap]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", default=None)
    parser.add_argument("--ads", type=int, default=8000)
    parser.add_argument("--pairs", type=int, default=60_000)
    args = parser.parse_args()
    texts, owners = masked_corpus(args.world, args.ads, "poster_id", seed=4, variation=0.4)
    pairs = candidate_pairs(texts, args.pairs, seed=1)
    truth = np.array([owners[a] == owners[b] for a, b in pairs])
    print(f"{len(texts)} ads ({'world ' + args.world if args.world else 'synthetic'}); {len(pairs)} candidate pairs "
          f"from band keys, {truth.sum()} from the same poster ({truth.mean():.1%})")
    for name in SCORERS:
        started = time.process_time()
        scores = np.array([text_similarity(texts[a], texts[b], name) for a, b in pairs])
        per_pair = (time.process_time() - started) / len(pairs) * 1e6
        best = (0.0, 0.0, 0.0)
        for threshold in np.arange(0.30, 1.001, 0.01):
            predicted = scores >= threshold
            tp = int((predicted & truth).sum())
            if not tp:
                continue
            precision, recall = tp / predicted.sum(), tp / truth.sum()
            f1 = 2 * precision * recall / (precision + recall)
            if f1 > best[0]:
                best = (f1, threshold, precision, recall)
        print(f"  {name:18s} best F1 {best[0]:.4f} at {best[1]:.2f} (precision {best[2]:.4f}, recall {best[3]:.4f}); "
              f"{per_pair:.1f} us/pair")
    print("  (same-poster pairs whose texts are identical templates of *other* posters too are hard negatives:"
          " text alone cannot separate them; identifiers and images must.)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
