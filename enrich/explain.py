"""Explanations: for every ad, the links that put it in its cluster and the ones that were refused.

Pure: the linker's keys, verdicts and pair evidence in; link records (as stored on the ads) out,
built on demand per ad (a million ads' records held at once would take gigabytes). A record
names the other ad, the evidence type, a score and a sentence; a refused link also says by what
(`suppressed_by`: hub or bridge). Strongest first, at most MAX_LINKS_PER_AD per ad.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from enrich.arrays import distinct
from enrich.bridges import Bridge
from enrich.comparison import text_detail
from enrich.facts import AdFacts
from enrich.hubs import Hub
from enrich.scoring import IDENTITY, PHOTO, TEMPLATE, Key, Memberships

MAX_LINKS_PER_AD = 40


@dataclass(frozen=True)
class PairEvidence:
    """Verified pairs behind photo and template keys, column by column (ad indices, a < b)."""

    a: np.ndarray
    b: np.ndarray
    photo: np.ndarray  # bool: a photo pair (else a template pair)
    score: np.ndarray  # float32
    key: np.ndarray  # index of the key the pair belongs to
    phash_bits: np.ndarray  # photo pairs: distances and which photo of a matched which of b
    dhash_bits: np.ndarray
    slot_a: np.ndarray
    slot_b: np.ndarray

    def __len__(self) -> int:
        return len(self.a)


@dataclass(frozen=True)
class ClusterEvidence:
    """What joins a cluster's ads, counted from the evidence itself (not from the capped records)."""

    counts: dict[str, int]  # identifier (ad-key memberships), text and image (pairs), suppressed
    links_per_ad: dict[str, int]  # accepted links of each member to other members
    text_linked: list[str]  # members with a text link to another member


def bridge_detail(bridge: Bridge, keys: Sequence[Key], ads: Sequence[AdFacts]) -> str:
    parts = [*bridge.kept, *bridge.refused]
    joined = " with ".join(f"{p.ads} ads (as {ads[p.sample].doc_id}; on {p.covered})" for p in parts)
    return f"bridge {keys[bridge.key].name} refused: alone it would join {joined}; no other evidence joins them"


class Explanations(Mapping):
    """ad -> its link records, computed when asked for."""

    def __init__(self, ads: Sequence[AdFacts], keys: Sequence[Key], hubs: dict[int, Hub],
                 bridges: Sequence[Bridge], pairs: PairEvidence) -> None:
        self.ads, self.keys, self.hubs, self.pairs = ads, keys, hubs, pairs
        self.position = {ad.doc_id: i for i, ad in enumerate(ads)}
        self.refused = {(b.key, m): b for b in bridges for m in b.refused_ads}
        self._bridge_details = {id(b): bridge_detail(b, keys, ads) for b in bridges}
        self.held = Memberships.of(len(ads), keys)
        ends = np.r_[pairs.a, pairs.b]
        order = np.argsort(ends, kind="stable")
        self.pair_of = np.r_[np.arange(len(pairs)), np.arange(len(pairs))][order]
        self.pair_starts = np.zeros(len(ads) + 1, dtype=np.int64)
        np.cumsum(np.bincount(ends, minlength=len(ads)), out=self.pair_starts[1:])
        n = len(ads)
        hub_ids = np.array(sorted(hubs), dtype=np.int64)
        refused_codes = np.array(sorted(k * n + m for k, m in self.refused), dtype=np.int64)
        # Per pair and per ad-identity membership: dropped by a hub or a refused bridge?
        self.pair_dropped = (np.isin(pairs.key, hub_ids) | np.isin(pairs.key * n + pairs.a, refused_codes)
                             | np.isin(pairs.key * n + pairs.b, refused_codes))
        identity = np.array([k.kind == IDENTITY for k in keys], dtype=bool)
        owner = np.repeat(np.arange(n, dtype=np.int64), np.diff(self.held.starts))
        is_identity = identity[self.held.keys] if len(self.held.keys) else np.zeros(0, bool)
        dropped = np.isin(self.held.keys, hub_ids) | np.isin(self.held.keys * n + owner, refused_codes)
        self.identity_ok = np.bincount(owner[is_identity & ~dropped], minlength=n)
        self.identity_dropped = np.bincount(owner[is_identity & dropped], minlength=n)
        self._mask = np.zeros(n, dtype=bool)

    def _verdict(self, key: int, ad: int) -> dict:
        if key in self.hubs:
            return {"suppressed": True, "suppressed_by": "hub", "detail": self.hubs[key].explain()}
        bridge = self.refused.get((key, ad))
        if bridge is not None:
            return {"suppressed": True, "suppressed_by": "bridge", "detail": self._bridge_details[id(bridge)]}
        return {}

    def records(self, me: int) -> list[dict]:
        ads, keys, p = self.ads, self.keys, self.pairs
        out = []
        for k in self.held.of_ad(me).tolist():
            key = keys[k]
            if key.kind != IDENTITY:
                continue
            members = key.members
            other = int(members[1] if members[0] == me else members[0])
            record = {"ad": ads[other].doc_id, "evidence": "identifier", "score": 1.0,
                      "detail": f"{key.name} shared by {len(members)} ads"}
            judged = self._verdict(k, me) if self.identity_dropped[me] else None
            if judged:
                record.update(judged, score=0.0)
            out.append(record)
        for row in self.pair_of[self.pair_starts[me]:self.pair_starts[me + 1]].tolist():
            a, b = int(p.a[row]), int(p.b[row])
            other = b if a == me else a
            score = round(float(p.score[row]), 3)
            if p.photo[row]:
                detail = f"photo pHash {p.phash_bits[row]} dHash {p.dhash_bits[row]} bits apart"
                record = {"ad": ads[other].doc_id, "evidence": PHOTO, "score": score, "detail": detail,
                          "photos": [int(p.slot_a[row]), int(p.slot_b[row])][:: 1 if a == me else -1]}
            else:
                record = {"ad": ads[other].doc_id, "evidence": TEMPLATE, "score": score, "detail": text_detail(score)}
            key = int(p.key[row])
            judged = (self._verdict(key, me) or self._verdict(key, other)) if self.pair_dropped[row] else None
            if judged:
                record.update(judged, detail=f"{record['detail']}; {judged['detail']}")
            out.append(record)
        # Strongest first; a huge cluster's ad keeps its best explanations, not all of them.
        out.sort(key=lambda r: (r.get("suppressed", False), -r["score"], r["ad"]))
        return out[:MAX_LINKS_PER_AD]

    def cluster_evidence(self, doc_ids: Sequence[str]) -> ClusterEvidence:
        members = np.array([self.position[d] for d in doc_ids], dtype=np.int64)
        p = self.pairs
        lo, hi = self.pair_starts[members], self.pair_starts[members + 1]
        lengths = hi - lo
        rows = self.pair_of[np.repeat(lo - np.cumsum(np.r_[0, lengths[:-1]]), lengths) + np.arange(lengths.sum())]
        rows = distinct(rows)
        self._mask[members] = True
        try:
            inside = self._mask[p.a[rows]] & self._mask[p.b[rows]]
        finally:
            self._mask[members] = False
        kept = rows[inside & ~self.pair_dropped[rows]]
        dropped_rows = rows[self.pair_dropped[rows]]
        per_ad = np.bincount(np.r_[p.a[kept], p.b[kept]], minlength=0)
        links = {self.ads[m].doc_id: int(self.identity_ok[m]) + (int(per_ad[m]) if m < len(per_ad) else 0)
                 for m in members.tolist()}
        text = kept[~p.photo[kept]]
        text_linked = sorted({self.ads[m].doc_id for m in np.r_[p.a[text], p.b[text]].tolist()})
        counts = {"identifier": int(self.identity_ok[members].sum()), "text": int(len(text)),
                  "image": int(p.photo[kept].sum()),
                  "suppressed": int(self.identity_dropped[members].sum()) + int(len(dropped_rows))}
        return ClusterEvidence(counts, links, text_linked)

    def __getitem__(self, doc_id: str) -> list[dict]:
        me = self.position[doc_id]
        found = self.records(me)
        if not found:
            raise KeyError(doc_id)
        return found

    def __iter__(self) -> Iterator[str]:
        for i, ad in enumerate(self.ads):
            if len(self.held.of_ad(i)) or self.pair_starts[i + 1] > self.pair_starts[i]:
                yield ad.doc_id

    def __len__(self) -> int:
        return sum(1 for _ in self)
