"""Blocking: which ads are worth comparing, without comparing all pairs.

Cheap sources of candidates, each an inverted index from key to ads:
- identifiers: ads sharing a normalised phone / email / handle form a group (enrich.scoring's
  identity keys: no pairs needed);
- text: ads sharing a MinHash-LSH band key are candidate pairs (built in numpy: keys are 64-bit
  codes, groups come from one sort, pairs from each group's upper triangle); each ad keeps its
  `per_ad` candidates that share the most band keys with it (inside a big controller every ad
  shares keys with hundreds of others, and its 15 closest hold the template group together;
  keys skipped as too common count for closeness no more than for pairs);
- photos: see enrich.photos (multi-index hashing over every photo at once).
Keys held by more than `max_key_ads` ads say little and would explode into pairs; they are
skipped for pair generation and counted, so the cost is visible.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from enrich.arrays import distinct, distinct_counts
from enrich.facts import AdFacts


@dataclass
class TextPairs:
    first: np.ndarray  # ad indices, first < second, sorted by (first, second)
    second: np.ndarray
    skipped_keys: int = 0
    stats: dict = field(default_factory=dict)


BlockRunner = Callable[[Callable, object, Iterable], Iterator]
"""(func, shared, items) -> func(shared, item) for each item, in order: where blocks are chosen
(`run_here`, or an engine's `map_shared`, which sends `shared` to each worker once)."""


def run_here(func: Callable, shared: object, items: Iterable) -> Iterator:
    return (func(shared, item) for item in items)


@dataclass(frozen=True)
class Partners:
    """What every block needs: the key memberships' ads in key order (`owners`), the number of ads,
    and how many closest partners an ad keeps (0: all)."""

    owners: np.ndarray
    n: int
    per_ad: int


def text_pairs(ads: Sequence[AdFacts], max_key_ads: int, per_ad: int = 0,
               block_entries: int = 16_000_000, run_blocks: BlockRunner = run_here) -> TextPairs:
    """Ad pairs sharing a band key, at most `per_ad` closest per ad (0: all).

    Closest: the partners an ad shares the most band keys with (`shared_bands`; ties: the lower
    index first), ranked apart among the ads after it and those before it. An ad with `per_ad`
    partners or fewer keeps them all; a pair stays when either of its ads keeps it. Each ad's
    choice needs only its own partners, so ads are taken a block at a time: memory is bounded by
    `block_entries` (partners listed per block) instead of by every candidate pair at once, which
    on template-heavy text (bench/enrich_workers.py: 609 candidates per ad at 100k ads, growing
    with the world) took 6 GiB at 100k ads and would not fit at 1M. Blocks are independent, so
    `run_blocks` may choose them on an engine's workers; the pairs are the same.
    """
    n = len(ads)
    empty = np.zeros(0, dtype=np.int64)
    lengths = np.fromiter((len(ad.text_keys) for ad in ads), dtype=np.int64, count=n)
    if not lengths.sum():
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
    del codes, order, first_of_owner
    # Memberships of the keys that make pairs, by ad: (ad, where its key's group starts, its size).
    key_of = np.repeat(np.arange(len(starts)), sizes)
    usable = ((sizes >= 2) & (sizes <= max_key_ads))[key_of]
    member, group_start, group_size = owners[usable], starts[key_of[usable]], sizes[key_of[usable]]
    by_ad = np.argsort(member, kind="stable")
    member, group_start, group_size = member[by_ad], group_start[by_ad], group_size[by_ad]
    del key_of, usable, by_ad
    if not len(member):
        return TextPairs(empty, empty, skipped, {"text_candidates": 0})
    # Blocks of whole ads, each listing about `block_entries` partners.
    work = np.cumsum(group_size)
    cuts = np.searchsorted(work, np.arange(block_entries, int(work[-1]), block_entries))
    bounds = distinct(np.r_[0, np.searchsorted(member, member[cuts]), len(member)])
    shared = Partners(owners, n, per_ad)
    blocks = ((member[lo:hi], group_start[lo:hi], group_size[lo:hi])
              for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist()))
    kept: list[np.ndarray] = []
    candidates = 0
    for listed, chosen in run_blocks(block_pairs, shared, blocks):
        candidates += listed
        kept.append(chosen)
    merged = distinct(np.concatenate(kept))
    return TextPairs(merged // n, merged % n, skipped, {"text_candidates": candidates // 2})


def block_pairs(shared: Partners, block: tuple[np.ndarray, np.ndarray, np.ndarray]) -> tuple[int, np.ndarray]:
    """One block of ads' memberships (ad, where its key's group starts, its size) -> (how many
    (ad, partner) rows it listed, the pairs its ads keep as codes min * n + max)."""
    member, group_start, group_size = block
    n = shared.n
    ad, partner, together = _partners(shared.owners, member, group_start, group_size, n)
    chosen = _chosen(ad, partner, together, shared.per_ad, n) if shared.per_ad else ad < partner
    a, b = ad[chosen], partner[chosen]
    return len(ad), np.minimum(a, b) * n + np.maximum(a, b)


def _partners(owners: np.ndarray, member: np.ndarray, group_start: np.ndarray, group_size: np.ndarray,
              n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every distinct (ad, partner) of a block of ads' memberships, sorted by (ad, partner), and
    how many of the listed keys each pair holds together (an ad holds a key once: one row per key)."""
    total = int(group_size.sum())
    ad = np.repeat(member, group_size)
    at = np.repeat(group_start - np.cumsum(np.r_[0, group_size[:-1]]), group_size) + np.arange(total)
    partner = owners[at]
    other = partner != ad
    code, together = distinct_counts(ad[other] * n + partner[other])
    return code // n, code % n, together


def _chosen(ad: np.ndarray, partner: np.ndarray, together: np.ndarray, per_ad: int, n: int) -> np.ndarray:
    """Which (ad, partner) rows the ad keeps: all of an ad with `per_ad` partners or fewer, else its
    `per_ad` closest after it and its `per_ad` closest before it, closest being the most pairable
    keys held together (`together`)."""
    starts = np.flatnonzero(np.r_[True, ad[1:] != ad[:-1]]) if len(ad) else ad
    degree = np.diff(np.r_[starts, len(ad)])
    chosen = np.repeat(degree <= per_ad, degree)
    crowded = np.flatnonzero(~chosen)
    if not len(crowded):
        return chosen
    a, b = ad[crowded], partner[crowded]
    keys = together[crowded]
    most = int(keys.max())
    # One int64 key instead of a four-key lexsort: (ad, after it?, most shared first, partner).
    side = np.cumsum(np.r_[0, a[1:] != a[:-1]]) * 2 + (b > a)
    key = (side * (most + 1) + (most - keys)) * n + b
    order = np.argsort(key)
    ranked = side[order]
    group_starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
    rank = np.arange(len(order)) - np.repeat(group_starts, np.diff(np.r_[group_starts, len(order)]))
    chosen[crowded[order[rank < per_ad]]] = True
    return chosen
