"""Benchmark: our numpy MinHash against datasketch, and the LSH S-curve of candidate band settings.

Usage: python bench/enrich_minhash.py [--world DIR] [--pairs 4000]
Texts: a demo world's ads (title + body) when --world is given, else synthetic ads. Pairs are drawn
from the same template (near-duplicates) and at random, normalised and slot-masked as the worker does.
Prints: microseconds per signature for both implementations; the error of each Jaccard estimate
against the exact shingle Jaccard (mean absolute error and its spread, by Jaccard bin); and for
several (num_perm, bands x rows) settings the measured share of pairs sharing a band key per
Jaccard bin next to the theoretical 1 - (1 - J^rows)^bands.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import numpy as np
from datasketch import MinHash

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from enrich.signatures import estimate_jaccard, lsh_band_keys, text_signature, word_shingles  # noqa: E402
from enrich_synthetic import masked_corpus  # noqa: E402

SETTINGS = [(256, 64), (128, 32), (126, 42), (192, 48), (128, 16)]  # (num_perm, bands)
BINS = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01]


def datasketch_signature(masked: str, num_perm: int) -> MinHash:
    minhash = MinHash(num_perm=num_perm, seed=1)
    minhash.update_batch([s.encode() for s in word_shingles(masked)])
    return minhash


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", default=None)
    parser.add_argument("--ads", type=int, default=6000)
    parser.add_argument("--pairs", type=int, default=4000)
    args = parser.parse_args()
    texts, groups = masked_corpus(args.world, args.ads, "template_id", seed=2, variation=0.5)
    print(f"{len(texts)} masked texts ({'world ' + args.world if args.world else 'synthetic'}), "
          f"mean {np.mean([len(word_shingles(t)) for t in texts]):.0f} shingles")

    sample = texts[:2000]
    for name, build in (("numpy (enrich.signatures)", lambda t: text_signature(t, 256, 64)),
                        ("datasketch update_batch", lambda t: datasketch_signature(t, 256))):
        started = time.process_time()
        for text in sample:
            build(text)
        print(f"  {name:26s} {(time.process_time() - started) / len(sample) * 1e6:7.1f} us/signature (256 permutations, CPU time)")

    rnd = random.Random(1)
    by_group: dict[str, list[int]] = {}
    for i, group in enumerate(groups):
        by_group.setdefault(group, []).append(i)
    near = [(a, b) for ids in by_group.values() for a, b in zip(ids, ids[1:])]
    rnd.shuffle(near)
    pairs = near[: args.pairs // 2] + [(rnd.randrange(len(texts)), rnd.randrange(len(texts))) for _ in range(args.pairs // 2)]
    pairs = [(a, b) for a, b in pairs if a != b]
    shingles = [word_shingles(t) for t in texts]
    exact = np.array([len(shingles[a] & shingles[b]) / max(1, len(shingles[a] | shingles[b])) for a, b in pairs])

    ours = {i: text_signature(texts[i], 256, 64) for pair in pairs for i in pair}
    theirs = {i: datasketch_signature(texts[i], 256) for pair in pairs for i in pair}
    err_ours = np.array([estimate_jaccard(ours[a], ours[b]) for a, b in pairs]) - exact
    err_theirs = np.array([theirs[a].jaccard(theirs[b]) for a, b in pairs]) - exact
    print(f"Jaccard estimate error over {len(pairs)} pairs (256 permutations): "
          f"numpy MAE {np.abs(err_ours).mean():.4f} bias {err_ours.mean():+.4f}; "
          f"datasketch MAE {np.abs(err_theirs).mean():.4f} bias {err_theirs.mean():+.4f}")

    bins = np.digitize(exact, BINS) - 1
    print("share of pairs sharing >= 1 band key, measured (theory), by exact Jaccard bin:")
    header = "  setting        " + "".join(f"  J {BINS[k]:.1f}-{min(BINS[k + 1], 1):.1f}  " for k in range(len(BINS) - 1))
    print(header)
    print("  pairs          " + "".join(f"{int((bins == k).sum()):>14d}" for k in range(len(BINS) - 1)))
    for num_perm, bands in SETTINGS:
        rows = num_perm // bands
        keys = {i: set(lsh_band_keys(text_signature(texts[i], num_perm, bands))) for pair in pairs for i in pair}
        met = np.array([bool(keys[a] & keys[b]) for a, b in pairs])
        cells = []
        for k in range(len(BINS) - 1):
            inside = bins == k
            if not inside.any():
                cells.append(f"{'-':>14s}")
                continue
            mid = exact[inside].mean()
            theory = 1 - (1 - mid**rows) ** bands
            cells.append(f"{met[inside].mean():>7.3f} ({theory:.3f})")
        print(f"  {num_perm:3d} = {bands:2d} x {rows}  " + "".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
