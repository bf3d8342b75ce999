"""Bridge refusal: one weak key must not join large groups that each have identities of their own.

A single wrongly extracted identifier, a misappropriated photo or one copied template, shared by a
few ads of several networks, would merge networks that each carry their own phones. Inside every
large component we find the keys that alone hold it together: articulation points of the graph of
ads and keys (Hopcroft-Tarjan, one depth-first search). Removing such a key splits the component
into parts; a part is *large* when it has at least `bridge_min_ads` ads and an identity (a phone,
email or handle) other than the key. A key that alone joins two or more large parts is a bridge.
It stands only where it is corroborated by its own weight: it must cover at least `bridge_cover`
of a large part's ads to join that part, and is refused for the others. Where it covers none of
them well and has few ads nothing else joins, it joins nothing (refused whole); with many such
ads it is their identity (an evader's one kept handle) and keeps joining them.
Parts joined by two independent keys are not split by either, so corroboration needs no rule of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from enrich.comparison import LinkRules
from enrich.scoring import Key, Memberships


@dataclass(frozen=True)
class Part:
    ads: int
    covered: int  # of its ads, how many the key is on
    sample: int  # one ad of the part (index), to name it in explanations


@dataclass(frozen=True)
class Bridge:
    """A refused bridge: the key, the large parts it still joins and those it was refused for."""

    key: int  # index into the keys
    kept: tuple[Part, ...]
    refused: tuple[Part, ...]
    refused_ads: frozenset[int] = field(default_factory=frozenset)  # the key's ads in refused parts


def _components(n_ads: int, keys: Sequence[Key], dropped: dict[int, set[int]]) -> np.ndarray:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    rows, cols = [np.arange(n_ads)], [np.arange(n_ads)]
    for index, key in enumerate(keys):
        members = key.members
        if index in dropped:
            members = np.array([m for m in members.tolist() if m not in dropped[index]], dtype=np.int64)
        rows.append(members)
        cols.append(np.full(len(members), n_ads + index, dtype=np.int64))
    r, c = np.concatenate(rows), np.concatenate(cols)
    size = n_ads + len(keys)
    _, labels = connected_components(coo_matrix((np.ones(len(r)), (r, c)), shape=(size, size)), directed=False)
    return labels[:n_ads]


def refuse_bridges(n_ads: int, keys: Sequence[Key], own_identity: np.ndarray, rules: LinkRules,
                   max_rounds: int = 5) -> tuple[np.ndarray, list[Bridge]]:
    """(component label of every ad after refusals, the refused bridges).

    `keys` are the accepted keys (hubs already left out); `own_identity[ad]` is true when the ad
    has an identity no other ad shares (its own phone, say): that names a part as much as a key does.
    A refusal can expose another bridge inside what is left, so components are audited again
    (at most `max_rounds` times).
    """
    held = Memberships.of(n_ads, keys)
    dropped: dict[int, set[int]] = {}
    bridges: list[Bridge] = []
    labels = _components(n_ads, keys, dropped)
    for _ in range(max_rounds):
        sizes = np.bincount(labels)
        found = []
        for component in np.flatnonzero(sizes >= 2 * rules.bridge_min_ads).tolist():
            found += _audit(np.flatnonzero(labels == component), keys, held, own_identity, dropped, rules)
        if not found:
            break
        for bridge in found:
            dropped.setdefault(bridge.key, set()).update(bridge.refused_ads)
        bridges += found
        labels = _components(n_ads, keys, dropped)
    return labels, bridges


@dataclass
class _Piece:
    ads: int
    identities: int
    members: list[int]  # the key's ads in this piece (global indices)
    sample: int  # any ad of the piece (global index)

    def part(self) -> Part:
        return Part(self.ads, len(self.members), self.sample)


def _audit(ads: np.ndarray, keys: Sequence[Key], held: Memberships, own_identity: np.ndarray,
           dropped: dict[int, set[int]], rules: LinkRules) -> list[Bridge]:
    """Bridges inside one component (`ads`: its ad indices)."""
    n = len(ads)
    ad_list = ads.tolist()
    local = {a: i for i, a in enumerate(ad_list)}
    key_ids = sorted({k for a in ad_list for k in held.of_ad(a).tolist() if a not in dropped.get(k, ())})
    # Nodes: the component's ads 0..n-1, then its keys; an edge is "ad is in key".
    adjacency: list[list[int]] = [[] for _ in range(n + len(key_ids))]
    for j, k in enumerate(key_ids):
        for m in keys[k].members.tolist():
            if m in local and m not in dropped.get(k, ()):
                adjacency[n + j].append(local[m])
                adjacency[local[m]].append(n + j)
    identity = [bool(own_identity[a]) for a in ad_list] + [keys[k].identity for k in key_ids]
    disc, low, last, parent, ads_below, ids_below = _depth_first(adjacency, [1] * n + [0] * len(key_ids), identity)
    total_ids = sum(identity)
    bridges = []
    for j, k in enumerate(key_ids):
        node = n + j
        separated = [v for v in adjacency[node] if parent[v] == node and low[v] >= disc[node]]
        if not separated:
            continue  # not an articulation point: its ads are joined some other way too
        pieces = [_Piece(ads_below[v], ids_below[v], [], ad_list[v]) for v in separated]
        rest = _Piece(n - sum(p.ads for p in pieces), total_ids - identity[node] - sum(p.identities for p in pieces),
                      [], -1)
        for w in adjacency[node]:
            inside = next((p for v, p in zip(separated, pieces) if disc[v] <= disc[w] <= last[v]), None)
            (inside or rest).members.append(ad_list[w])
            if inside is None and rest.sample < 0:
                rest.sample = ad_list[w]
        if rest.ads:
            if rest.sample < 0:  # the key is on none of the rest's ads: name it by the key's parent
                rest.sample = ad_list[parent[node]] if parent[node] < n else ad_list[0]
            pieces.append(rest)
        large = [p for p in pieces if p.ads >= rules.bridge_min_ads and p.identities >= 1]
        if len(large) < 2:
            continue
        strong = [p for p in large if len(p.members) >= rules.bridge_cover * p.ads]
        if len(strong) == len(large):
            continue
        refused = [p for p in large if p not in strong] if strong else large
        # Refused where it is thin. A key that covers no large part well and has few ads of its
        # own besides (ads nothing else joins) is refused whole; one with many such ads is the
        # identity of those ads (an evader's one kept handle) and keeps joining them.
        orphans = [m for p in pieces if p not in large for m in p.members]
        whole = not strong and len(orphans) < rules.bridge_min_ads
        refused_ads = {m for p in (pieces if whole else refused) for m in p.members}
        bridges.append(Bridge(k, tuple(p.part() for p in strong), tuple(p.part() for p in refused),
                              frozenset(refused_ads)))
    return bridges


def _depth_first(adjacency: list[list[int]], weight: list[int], identity: list[bool]):
    """Iterative DFS from node 0: discovery order, low-link, last descendant's discovery, parent,
    and per node the ads and identities in its DFS subtree."""
    size = len(adjacency)
    disc = [-1] * size
    low = [0] * size
    last = [0] * size
    parent = [-1] * size
    ads_below = list(weight)
    ids_below = [int(x) for x in identity]
    counter = 0
    for root in range(size):
        if disc[root] >= 0:
            continue
        disc[root] = low[root] = counter
        counter += 1
        stack = [(root, 0)]
        while stack:
            node, i = stack[-1]
            neighbours = adjacency[node]
            if i < len(neighbours):
                stack[-1] = (node, i + 1)
                nxt = neighbours[i]
                if disc[nxt] < 0:
                    parent[nxt] = node
                    disc[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append((nxt, 0))
                elif nxt != parent[node]:
                    low[node] = min(low[node], disc[nxt])
            else:
                stack.pop()
                last[node] = counter - 1
                up = parent[node]
                if up >= 0:
                    low[up] = min(low[up], low[node])
                    ads_below[up] += ads_below[node]
                    ids_below[up] += ids_below[node]
    return disc, low, last, parent, ads_below, ids_below
