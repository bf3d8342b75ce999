"""Photo blocking recall per chunk layout, against brute force over every pair of a world's photos.

    .venv/bin/python bench/photo_blocking.py --world /tmp/adwatch-bench-world-20000-3 [--limit 12000]

Hashes the world's photos once (enrich.images, the one preprocessing path), finds every pair
that verification would accept (pHash and dHash within LinkRules, straight or mirrored) by brute
force, then reports which share of those pairs each multi-index layout of enrich.photos brings
as candidates, and how long it takes. The small layout is what runs up to LARGE_AT photos; the
large one beyond, where 16-bit buckets would fill with strangers.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import enrich.photos as photos  # noqa: E402
from enrich.comparison import LinkRules  # noqa: E402
from enrich.images import ImageHashes, image_hashes  # noqa: E402


def load(world: Path, limit: int) -> photos.PhotoTable:
    rows = []
    for n, path in enumerate(sorted(p for p in (world / "images").rglob("*") if p.is_file())[:limit]):
        h = image_hashes(path.read_bytes())
        if isinstance(h, ImageHashes) and not h.low_detail:
            rows.append((n, int(h.phash, 16), int(h.dhash, 16), int(h.phash_flip, 16), int(h.dhash_flip, 16)))
    a = np.array(rows, dtype=np.uint64)
    return photos.PhotoTable(a[:, 0].astype(np.int64), np.zeros(len(a), dtype=np.int32), a[:, 1], a[:, 2], a[:, 3],
                             a[:, 4])


def brute_force(t: photos.PhotoTable, rules: LinkRules) -> set[tuple[int, int]]:
    found = set()
    for i in range(len(t) - 1):
        j = np.arange(i + 1, len(t))
        straight = (np.bitwise_count(t.phash[i] ^ t.phash[j]) <= rules.image_phash_max) & \
                   (np.bitwise_count(t.dhash[i] ^ t.dhash[j]) <= rules.image_dhash_max)
        mirrored = (np.bitwise_count(t.phash_flip[i] ^ t.phash[j]) <= rules.image_phash_max) & \
                   (np.bitwise_count(t.dhash_flip[i] ^ t.dhash[j]) <= rules.image_dhash_max)
        found.update((i, int(k)) for k in j[straight | mirrored])
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--world", required=True)
    parser.add_argument("--limit", type=int, default=12000, help="photos to take (brute force is quadratic)")
    args = parser.parse_args()
    rules = LinkRules()
    table = load(Path(args.world), args.limit)
    truth = brute_force(table, rules)
    print(f"{len(table)} photos, {len(truth)} pairs within pHash {rules.image_phash_max} / dHash {rules.image_dhash_max}")
    for name, layout in (("4 x 16 bits (small)", photos.SMALL_LAYOUT), ("3 x 21-22 bits (large)", photos.LARGE_LAYOUT)):
        photos.chunk_layout = lambda n, layout=layout: layout
        began = time.perf_counter()
        m = photos.near_pairs(table, rules)
        got = set(zip(m.first.tolist(), m.second.tolist()))
        print(f"{name:24s} recall {len(got & truth) / max(1, len(truth)):.4f}  ({len(got & truth)} of {len(truth)}; "
              f"{time.perf_counter() - began:.2f} s)")


if __name__ == "__main__":
    main()
