"""Scoring: how evidence combines. Every piece of evidence becomes a *key*: a group of ads it joins.

- an identity key: ads sharing a normalised phone, email or handle (placeholders are marked);
- a photo key: ads showing one group of near-duplicate photos (a component of verified matches);
- a template key: ads whose slot-masked texts are alike (a component of text pairs at the threshold).
Keys, not pairs, are what hub judgement (enrich.hubs) and bridge refusal (enrich.bridges) weigh:
"this number is on 300 ads" is one fact, not 45,000 pair verdicts. The pairs behind photo and
template keys are kept for the explanations.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from enrich.arrays import distinct
from enrich.comparison import TextScores
from enrich.facts import AdFacts

IDENTITY, PHOTO, TEMPLATE = "identifier", "image", "text"


@dataclass(frozen=True, slots=True)
class Key:
    """One piece of evidence and the ads (indices into the linker's ad list, sorted) it joins."""

    name: str  # "+15551234567", "telegram:jane", "photo:<ad>#<i>", "template:<ad>"
    kind: str  # IDENTITY | PHOTO | TEMPLATE
    members: np.ndarray
    placeholder: bool = False  # a dummy identity ("000-000-0000"): never evidence

    @property
    def identity(self) -> bool:
        """Phones, emails and handles name whoever posts; photos and templates can be copied."""
        return self.kind == IDENTITY and not self.placeholder


def identity_keys(ads: Sequence[AdFacts]) -> list[Key]:
    """One key per identifier held by at least two ads."""
    holders: dict[str, list[int]] = defaultdict(list)
    placeholders: set[str] = set()
    for index, ad in enumerate(ads):
        for ident in ad.identifiers:
            holders[ident].append(index)
        placeholders.update(ad.placeholders)
    return [Key(name, IDENTITY, np.array(members, dtype=np.int64), name in placeholders)
            for name, members in sorted(holders.items()) if len(members) >= 2]


def group_keys(kind: str, labels: np.ndarray, owners: np.ndarray, name_of) -> dict[int, Key]:
    """Keys from component labels of items (photos, or ads for templates) owned by ads, by label.

    `labels[i]` is item i's component, `owners[i]` its ad; a component shown by at least two ads
    becomes a key named `name_of(first item)`.
    """
    if not len(labels):
        return {}
    order = np.lexsort((np.arange(len(labels)), labels))
    bounds = np.flatnonzero(np.r_[True, labels[order][1:] != labels[order][:-1], True])
    keys = {}
    for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
        rows = order[lo:hi]
        members = distinct(owners[rows])
        if len(members) >= 2:
            keys[int(labels[rows[0]])] = Key(name_of(int(rows[0])), kind, members)
    return keys


def template_keys(ads: Sequence[AdFacts], edges: TextScores) -> tuple[list[Key], np.ndarray]:
    """Components of text pairs at the threshold, named after their first ad; and per ad the index
    of its template key (-1: none)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(ads)
    key_of = np.full(n, -1, dtype=np.int64)
    if not len(edges):
        return [], key_of
    graph = coo_matrix((np.ones(len(edges)), (edges.first, edges.second)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    touched = distinct(np.r_[edges.first, edges.second])
    by_label = group_keys(TEMPLATE, labels[touched], touched, lambda row: f"template:{ads[touched[row]].doc_id}")
    keys = []
    for label, key in by_label.items():
        key_of[key.members] = len(keys)
        keys.append(key)
    return keys, key_of


@dataclass(frozen=True)
class Memberships:
    """Which keys each ad is in (CSR over ads): the other side of `Key.members`."""

    starts: np.ndarray
    keys: np.ndarray

    @classmethod
    def of(cls, n_ads: int, keys: Sequence[Key]) -> "Memberships":
        if not keys:
            return cls(np.zeros(n_ads + 1, np.int64), np.zeros(0, np.int64))
        ads = np.concatenate([k.members for k in keys])
        owner = np.repeat(np.arange(len(keys), dtype=np.int64), [len(k.members) for k in keys])
        order = np.argsort(ads, kind="stable")
        starts = np.zeros(n_ads + 1, np.int64)
        np.cumsum(np.bincount(ads, minlength=n_ads), out=starts[1:])
        return cls(starts, owner[order])

    def of_ad(self, ad: int) -> np.ndarray:
        return self.keys[self.starts[ad]:self.starts[ad + 1]]
