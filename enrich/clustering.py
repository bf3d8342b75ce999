"""Clustering: connected components of accepted evidence, with ids that survive growth and merges.

A cluster's id is derived from its earliest ad (first seen, then id). New ads are later, so a
growing cluster keeps its id; when clusters merge, the union's earliest ad is the earlier of the
two, so the older id survives and the others are recorded in `merged_from`. The same partition
therefore gets the same ids whether it was built incrementally or rebuilt from scratch.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass


class UnionFind:
    """Disjoint sets of ads (ids or row indices); the smaller member is the root."""

    def __init__(self) -> None:
        self.parent: dict = {}

    def find(self, x):
        parent = self.parent
        if parent.setdefault(x, x) == x:
            return x
        # Path halving, iteratively: a million-ad component must not hit the recursion limit.
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def union_all(self, members: Iterable[str]) -> None:
        it = iter(members)
        first = next(it, None)
        for other in it:
            self.union(first, other)

    def components(self) -> list[list[str]]:
        groups: dict[str, list[str]] = defaultdict(list)
        for x in list(self.parent):
            groups[self.find(x)].append(x)
        return list(groups.values())


def cluster_id_for(earliest_doc_id: str) -> str:
    return "c" + hashlib.sha1(earliest_doc_id.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Cluster:
    cluster_id: str
    members: tuple[str, ...]
    merged_from: tuple[str, ...]


def assign_clusters(components: list[list[str]], first_seen: dict[str, str],
                    previous: dict[str, str | None]) -> list[Cluster]:
    """Clusters (size >= 2) from components; `previous` maps ad -> its cluster id before this run."""
    clusters = []
    for members in components:
        if len(members) < 2:
            continue
        earliest = min(members, key=lambda m: (first_seen.get(m, ""), m))
        cid = cluster_id_for(earliest)
        merged = sorted({previous[m] for m in members if previous.get(m) and previous[m] != cid})
        clusters.append(Cluster(cid, tuple(sorted(members)), tuple(merged)))
    return clusters
