"""Near-duplicate photos across every ad at once: multi-index blocking and verification in numpy.

Every run recomputes photo matches from the stored hashes of all ads (no stored verdicts): it is
vectorised, so a million ads' photos take minutes, and incremental runs and rebuilds see exactly
the same photo groups.

Blocking is multi-index hashing (Norouzi et al. 2012) over pHash: four 16-bit chunks (three of
21-22 bits past LARGE_AT photos, see `chunk_layout`), probed as they are and with each single bit
flipped, straight and mirrored, so any photo within pHash distance 7 (5 at scale) is a candidate for
sure and farther ones often (bench/enrich_quality.py measures it).
A pair is reported once per orientation: by its first chunk that matches within one bit, from
the lower photo index. Candidates are verified at once with popcounts: pHash AND dHash within the
rules' distances, in either orientation. Photos of the same ad never pair with each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from enrich.facts import AdFacts
from enrich.comparison import LinkRules

# (shift, width) of each chunk. Four 16-bit chunks reach radius 7 for sure; but a 16-bit bucket holds
# photos / 65,536 strangers, so past ~260k photos the random candidates grow with the square of the
# photo count. Three chunks of 21-22 bits keep that near constant (radius 5 for sure) at scale.
SMALL_LAYOUT = ((48, 16), (32, 16), (16, 16), (0, 16))
LARGE_LAYOUT = ((43, 21), (22, 21), (0, 22))
LARGE_AT = 1 << 18


def chunk_layout(n_photos: int) -> tuple[tuple[int, int], ...]:
    return LARGE_LAYOUT if n_photos > LARGE_AT else SMALL_LAYOUT


@dataclass(frozen=True)
class PhotoTable:
    """Every usable photo of every ad, column by column (row = one photo)."""

    owner: np.ndarray  # index of the ad in the linker's ad list
    slot: np.ndarray  # index of the photo on its ad
    phash: np.ndarray  # uint64
    dhash: np.ndarray
    phash_flip: np.ndarray
    dhash_flip: np.ndarray

    def __len__(self) -> int:
        return len(self.owner)


@dataclass(frozen=True)
class PhotoMatches:
    """Verified near-duplicate photo pairs (first < second photo row) with their distances."""

    first: np.ndarray
    second: np.ndarray
    phash_bits: np.ndarray
    dhash_bits: np.ndarray
    skipped_keys: int  # chunk values shared by too many photos to expand (stock photos, blank frames)


def photo_table(ads: Sequence[AdFacts]) -> PhotoTable:
    owner, slot, values = [], [], []
    for index, ad in enumerate(ads):
        for position, image in enumerate(ad.images):
            owner.append(index)
            slot.append(position)
            values.append((int(image.phash, 16), int(image.dhash, 16), int(image.phash_flip, 16),
                           int(image.dhash_flip, 16)))
    hashes = np.array(values, dtype=np.uint64).reshape(-1, 4)
    return PhotoTable(np.array(owner, dtype=np.int64), np.array(slot, dtype=np.int32),
                      hashes[:, 0].copy(), hashes[:, 1].copy(), hashes[:, 2].copy(), hashes[:, 3].copy())


def _chunk(values: np.ndarray, shift: int, width: int) -> np.ndarray:
    return ((values >> np.uint64(shift)) & np.uint64((1 << width) - 1)).astype(np.int64)


def _first_close_chunk(x: np.ndarray, y: np.ndarray, j: np.ndarray, layout, crowded: list[np.ndarray]) -> np.ndarray:
    """For each pair of hashes (y = stored photo j), the first chunk whose values are within one bit
    and whose bucket for j is not too crowded to expand (len(layout) if none): the chunk that finds it."""
    first = np.full(len(x), len(layout), dtype=np.int64)
    for c in range(len(layout) - 1, -1, -1):
        close = (np.bitwise_count(_chunk(x, *layout[c]) ^ _chunk(y, *layout[c])) <= 1) & ~crowded[c][j]
        first[close] = c
    return first


def near_pairs(table: PhotoTable, rules: LinkRules, batch: int = 4_000_000) -> PhotoMatches:
    n = len(table)
    empty = np.zeros(0, dtype=np.int64)
    if n < 2:
        return PhotoMatches(empty, empty, empty, empty, 0)
    found: list[np.ndarray] = []
    layout = chunk_layout(n)
    # Buckets held by more photos than max_key_ads (stock photos, blank frames, biased top bits) are
    # not expanded; a pair in such a bucket is left to a later chunk, which must then report it.
    buckets, crowded = [], []
    for shift, width in layout:
        stored = _chunk(table.phash, shift, width)
        size = np.bincount(stored, minlength=1 << width)
        buckets.append((stored, size))
        crowded.append(size[stored] > rules.max_key_ads)
    skipped = sum(int((size > rules.max_key_ads).sum()) for _, size in buckets)
    for c, (shift, width) in enumerate(layout):
        stored, bucket_size = buckets[c]
        order = np.argsort(stored, kind="stable")
        # A table of 2^width buckets beats binary search over millions of photos.
        bucket_start = np.cumsum(bucket_size) - bucket_size
        flips = np.array([0] + [1 << bit for bit in range(width)], dtype=np.int64)
        for mirrored, probe in ((False, table.phash), (True, table.phash_flip)):
            base = _chunk(probe, shift, width)
            for flip in flips:
                query = base ^ flip
                lo = bucket_start[query]
                count = bucket_size[query].copy()
                count[count > rules.max_key_ads] = 0
                for i, j in _expand(lo, count, order, batch):
                    keep = table.owner[i] != table.owner[j]
                    if not mirrored:
                        keep &= i < j
                    i, j = i[keep], j[keep]
                    # Reported by the first chunk that finds the pair, so each pair comes once per side.
                    keep = _first_close_chunk(probe[i], table.phash[j], j, layout, crowded) == c
                    i, j = i[keep], j[keep]
                    p = np.bitwise_count(probe[i] ^ table.phash[j])
                    d = np.bitwise_count((table.dhash_flip if mirrored else table.dhash)[i] ^ table.dhash[j])
                    ok = (p <= rules.image_phash_max) & (d <= rules.image_dhash_max)
                    if ok.any():
                        a, b = np.minimum(i[ok], j[ok]), np.maximum(i[ok], j[ok])
                        found.append(np.stack([a, b, p[ok].astype(np.int64), d[ok].astype(np.int64)], axis=1))
    if not found:
        return PhotoMatches(empty, empty, empty, empty, skipped)
    rows = np.concatenate(found)
    # A pair found both straight and mirrored keeps its closer reading.
    rows = rows[np.lexsort((rows[:, 2] + rows[:, 3], rows[:, 1], rows[:, 0]))]
    first = np.r_[True, (rows[1:, 0] != rows[:-1, 0]) | (rows[1:, 1] != rows[:-1, 1])]
    rows = rows[first]
    return PhotoMatches(rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3], skipped)


def _expand(lo: np.ndarray, count: np.ndarray, order: np.ndarray, batch: int):
    """(query row, stored row) for every hit, in batches of about `batch` pairs."""
    queries = np.flatnonzero(count)
    if not queries.size:
        return
    counts = count[queries]
    ends = np.cumsum(counts)
    start = 0
    while start < len(queries):
        stop = int(np.searchsorted(ends, (ends[start - 1] if start else 0) + batch, "right"))
        stop = max(stop, start + 1)
        q, k = queries[start:stop], counts[start:stop]
        offsets = np.arange(int(k.sum())) - np.repeat(np.cumsum(k) - k, k)
        yield np.repeat(q, k), order[np.repeat(lo[q], k) + offsets]
        start = stop


def photo_components(n_photos: int, matches: PhotoMatches) -> tuple[np.ndarray, np.ndarray]:
    """(component label of every photo, rows of `matches` forming a spanning forest).

    The forest keeps, per group of near-duplicate photos, the closest matches that connect it:
    enough to explain every photo's membership without storing every pair of a big group.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components, minimum_spanning_tree

    if not len(matches.first):
        return np.arange(n_photos), np.zeros(0, dtype=np.int64)
    weight = (matches.phash_bits + matches.dhash_bits + 1).astype(np.float64)  # zero would mean "no edge"
    graph = coo_matrix((weight, (matches.first, matches.second)), shape=(n_photos, n_photos)).tocsr()
    _, labels = connected_components(graph, directed=False)
    forest = minimum_spanning_tree(graph).tocoo()
    # Map forest edges back to rows of `matches` (pairs are unique, first < second).
    key = matches.first * n_photos + matches.second
    order = np.argsort(key)
    a, b = np.minimum(forest.row, forest.col).astype(np.int64), np.maximum(forest.row, forest.col).astype(np.int64)
    rows = order[np.searchsorted(key[order], a * n_photos + b)]
    return labels, np.sort(rows)
