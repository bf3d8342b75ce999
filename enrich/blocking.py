"""Blocking: which ads are worth comparing, without comparing all pairs.

Cheap sources of candidates, each an inverted index from key to ads:
- identifiers: ads sharing a normalised phone / email / handle form a group (enrich.scoring's
  identity keys: no pairs needed);
- text: ads sharing a MinHash-LSH band key are candidate pairs (built in numpy: keys are 64-bit
  codes, groups come from one sort, pairs from each group's upper triangle); each ad keeps its
  `per_ad` candidates that share the most band keys with it (inside a big controller every ad
  shares keys with hundreds of others, and its 15 closest hold the template group together);
- photos: see enrich.photos (multi-index hashing over every photo at once).
Keys held by more than `max_key_ads` ads say little and would explode into pairs; they are
skipped for pair generation and counted, so the cost is visible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from enrich.arrays import distinct
from enrich.facts import AdFacts


@dataclass
class TextPairs:
    first: np.ndarray  # ad indices, first < second, sorted by (first, second)
    second: np.ndarray
    skipped_keys: int = 0
    stats: dict = field(default_factory=dict)


def text_pairs(ads: Sequence[AdFacts], max_key_ads: int, per_ad: int = 0, flush_at: int = 20_000_000) -> TextPairs:
    """Ad pairs sharing a band key, at most `per_ad` closest per ad (0: all)."""
    n = len(ads)
    lengths = np.fromiter((len(ad.text_keys) for ad in ads), dtype=np.int64, count=n)
    if not lengths.sum():
        empty = np.zeros(0, dtype=np.int64)
        return TextPairs(empty, empty)
    codes = np.concatenate([np.asarray(ad.text_keys, dtype=np.int64) for ad in ads])
    owners = np.repeat(np.arange(n, dtype=np.int64), lengths)
    order = np.lexsort((owners, codes))
    codes, owners = codes[order], owners[order]
    first_of_owner = np.r_[True, (codes[1:] != codes[:-1]) | (owners[1:] != owners[:-1])]
    codes, owners = codes[first_of_owner], owners[first_of_owner]
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    sizes = np.diff(np.r_[starts, len(codes)])
    skipped = int((sizes > max_key_ads).sum())
    pending: list[np.ndarray] = []
    pending_size = 0
    merged = np.zeros(0, dtype=np.int64)
    for size in np.unique(sizes[(sizes >= 2) & (sizes <= max_key_ads)]):
        group_starts = starts[sizes == size]
        iu, ju = np.triu_indices(int(size), 1)
        # Groups of one size at a time, a bounded number of groups per step.
        step = max(1, flush_at // len(iu))
        for s in range(0, len(group_starts), step):
            members = owners[group_starts[s:s + step, None] + np.arange(size)]
            a, b = members[:, iu].ravel(), members[:, ju].ravel()  # owners sorted within a group: a < b
            pending.append(a * n + b)
            pending_size += len(a)
            if pending_size >= flush_at:
                merged = distinct(np.concatenate([merged, *pending]))
                pending, pending_size = [], 0
    if pending:
        merged = distinct(np.concatenate([merged, *pending]))
    first, second = merged // n, merged % n
    if per_ad and len(first):
        first, second = _closest(ads, first, second, per_ad)
    return TextPairs(first, second, skipped, {"text_candidates": len(merged)})


def band_matrix(ads: Sequence[AdFacts]) -> np.ndarray:
    """Every ad's band codes as one row (32-bit folded: equality is all that is asked of them);
    a missing band holds a value no other row holds at that place."""
    n = len(ads)
    width = max((len(ad.text_keys) for ad in ads), default=0)
    matrix = np.repeat(-(np.arange(n, dtype=np.int64) % (1 << 31)) - 1, max(width, 1)).reshape(n, -1).astype(np.int32)
    for row, ad in enumerate(ads):
        if len(ad.text_keys):
            codes = np.asarray(ad.text_keys, dtype=np.int64)
            matrix[row, :len(codes)] = ((codes ^ (codes >> 32)) & 0x7FFFFFFF).astype(np.int32)
    return matrix


def shared_bands(matrix: np.ndarray, first: np.ndarray, second: np.ndarray, chunk: int = 250_000) -> np.ndarray:
    """How many band keys each pair of ads shares (band i of one against band i of the other)."""
    out = np.zeros(len(first), dtype=np.int16)
    for lo in range(0, len(first), chunk):
        a, b = first[lo:lo + chunk], second[lo:lo + chunk]
        out[lo:lo + chunk] = np.count_nonzero(matrix[a] == matrix[b], axis=1)
    return out


def _closest(ads: Sequence[AdFacts], first: np.ndarray, second: np.ndarray, per_ad: int):
    """Pairs that are among the `per_ad` closest candidates (most shared band keys) of either ad."""
    degree = np.bincount(np.r_[first, second], minlength=len(ads))
    crowded = (degree[first] > per_ad) | (degree[second] > per_ad)
    if not crowded.any():
        return first, second
    keep = ~crowded
    idx = np.flatnonzero(crowded)
    shared = shared_bands(band_matrix(ads), first[idx], second[idx])
    for side in (first[idx], second[idx]):
        order = np.lexsort((-shared, side))
        ranked = side[order]
        starts = np.r_[0, np.flatnonzero(ranked[1:] != ranked[:-1]) + 1]
        rank = np.arange(len(ranked)) - np.repeat(starts, np.diff(np.r_[starts, len(ranked)]))
        keep[idx[order[rank < per_ad]]] = True
    return first[keep], second[keep]

