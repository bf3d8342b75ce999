"""Blocking: which ads are worth comparing, without comparing all pairs.

Cheap sources of candidates, each an inverted index from key to ads:
- identifiers: ads sharing a normalised phone / email / handle form a group (no pairs needed);
- text: ads sharing a MinHash-LSH band key are candidate pairs (built in numpy: keys are 64-bit
  codes, groups come from one sort, pairs from each group's upper triangle);
- photos: see enrich.photos (multi-index hashing over every photo at once).
Keys held by more than `max_key_ads` ads say little and would explode into pairs; they are
skipped for pair generation and counted, so the cost is visible.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, slots=True)  # millions of these at scale
class ImageKey:
    phash: str
    dhash: str
    phash_flip: str
    dhash_flip: str


@dataclass(frozen=True, slots=True)  # millions of these at scale
class AdFacts:
    """What linking knows about one ad, as loaded from the index."""

    doc_id: str
    first_seen: str
    identifiers: tuple[str, ...] = ()
    placeholders: tuple[str, ...] = ()
    # LSH band keys as `text_codes` (int64 array): a million ads' 64 keys as Python strings, or as
    # Python ints, would take gigabytes.
    text_keys: Sequence[int] = ()
    template: str = ""
    images: tuple[ImageKey, ...] = ()


def text_codes(keys: Sequence[str]) -> np.ndarray:
    """Band keys as 64-bit codes for one linking run (Python's string hash: stable within a process,
    which is all blocking needs; a false collision costs one extra comparison)."""
    return np.fromiter(map(hash, keys), dtype=np.int64, count=len(keys))


def identifier_groups(ads: Sequence[AdFacts]) -> dict[str, list[str]]:
    by_identifier: dict[str, list[str]] = defaultdict(list)
    for ad in ads:
        for ident in ad.identifiers:
            by_identifier[ident].append(ad.doc_id)
    return {k: v for k, v in by_identifier.items() if len(v) >= 2}


@dataclass
class TextPairs:
    first: np.ndarray  # ad indices, first < second, sorted by (first, second)
    second: np.ndarray
    skipped_keys: int = 0
    stats: dict = field(default_factory=dict)


def text_pairs(ads: Sequence[AdFacts], focus: np.ndarray | None, max_key_ads: int,
               flush_at: int = 20_000_000) -> TextPairs:
    """Ad pairs sharing a band key; with `focus` (a boolean mask), only pairs touching a focus ad."""
    n = len(ads)
    lengths = np.fromiter((len(ad.text_keys) for ad in ads), dtype=np.int64, count=n)
    if not lengths.sum():
        empty = np.zeros(0, dtype=np.int64)
        return TextPairs(empty, empty)
    codes = np.concatenate([np.asarray(ad.text_keys, dtype=np.int64) for ad in ads])
    owners = np.repeat(np.arange(n, dtype=np.int64), lengths)
    order = np.lexsort((owners, codes))
    codes, owners = codes[order], owners[order]
    distinct = np.r_[True, (codes[1:] != codes[:-1]) | (owners[1:] != owners[:-1])]
    codes, owners = codes[distinct], owners[distinct]
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
            if focus is not None:
                touch = focus[a] | focus[b]
                a, b = a[touch], b[touch]
            pending.append(a * n + b)
            pending_size += len(a)
            if pending_size >= flush_at:
                merged = np.union1d(merged, np.concatenate(pending))
                pending, pending_size = [], 0
    if pending:
        merged = np.union1d(merged, np.concatenate(pending))
    return TextPairs(merged // n, merged % n, skipped)

