"""The evidence graph of one cluster, read from the link records its ads carry (pure).

Enrichment stores on every ad its strongest links (at most 40): the other ad, the evidence type,
a score and a sentence. A link that a hub or a refused bridge dropped says so (`suppressed_by`)
and names the key in its sentence ("hub +18005550199 on 1500 ads: ...", "bridge whatsapp:x
refused: alone it would join 80 ads (as site:a1; on 3) with ..."). Those records are all the
explorer needs, so it never re-runs linking: accepted links between members become typed edges,
each hub and each refused bridge becomes a node of its own joined to the members it touched, and
a bridge is also joined to the ads of the other groups it would have merged this cluster with.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

EVIDENCE_KINDS = ("identifier", "image", "text")
REFUSAL_KINDS = ("hub", "bridge")

_HUB = re.compile(r"\bhub (\S+) on (\d+) ads")
_BRIDGE = re.compile(r"\bbridge (\S+) refused")
_BRIDGE_PART = re.compile(r"(\d+) ads \(as ([^;()\s]+); on (\d+)\)")


@dataclass(frozen=True)
class Edge:
    """Accepted evidence between two member ads (a < b), the strongest record of its type."""

    a: str
    b: str
    evidence: str  # identifier | image | text
    score: float
    detail: str


@dataclass(frozen=True)
class Part:
    """One group of ads a refused bridge would have joined, as the bridge's sentence names it."""

    ads: int
    sample: str  # one ad of the group (doc id)
    covered: int  # how many of its ads carry the key


@dataclass
class Refusal:
    """A hub or a refused bridge: the key, why (enrichment's sentence) and which ads it touched."""

    kind: str  # hub | bridge
    key: str
    detail: str
    ads: set[str] = field(default_factory=set)  # this cluster's ads whose evidence it dropped
    key_ads: int = 0  # hubs: how many ads in the whole index carry the key
    parts: tuple[Part, ...] = ()  # bridges: the groups it would have joined
    outside: set[str] = field(default_factory=set)  # bridges: ads of other groups its records name

    @property
    def node(self) -> str:
        return f"{self.kind}:{self.key}"


@dataclass(frozen=True)
class EvidenceGraph:
    edges: tuple[Edge, ...]  # one per pair and evidence type, strongest kinds first
    refusals: tuple[Refusal, ...]  # hubs, then bridges; most touched ads first

    @property
    def hubs(self) -> list[Refusal]:
        return [r for r in self.refusals if r.kind == "hub"]

    @property
    def bridges(self) -> list[Refusal]:
        return [r for r in self.refusals if r.kind == "bridge"]

    def outside_ads(self) -> set[str]:
        """Ads outside the cluster that its refused bridges name (to find the clusters they would have joined)."""
        return {ad for r in self.bridges for ad in r.outside}

    def counts(self) -> dict[str, int]:
        """Edges by evidence type, as drawn."""
        found = {kind: 0 for kind in EVIDENCE_KINDS}
        for edge in self.edges:
            found[edge.evidence] = found.get(edge.evidence, 0) + 1
        return found


def refusal_of(record: Mapping) -> tuple[str, str, str] | None:
    """(hub|bridge, key, sentence) of a suppressed link record; None for an accepted one.

    The sentence is the refusal's own ("hub photo:ab on 120 ads: ..."), without the pair's
    distance or text score that a photo or text record puts before it.
    """
    if not record.get("suppressed"):
        return None
    detail = record.get("detail") or ""
    kind = record.get("suppressed_by") or ("bridge" if _BRIDGE.search(detail) else "hub")
    found = (_BRIDGE if kind == "bridge" else _HUB).search(detail)
    if found is None:  # a record written before keys were named in sentences
        return kind, "(unnamed)", detail
    return kind, found.group(1), detail[found.start():]


def evidence_graph(links_by_ad: Mapping[str, Sequence[Mapping]]) -> EvidenceGraph:
    """The graph of a cluster's members (`links_by_ad`: member doc id -> its stored link records)."""
    members = set(links_by_ad)
    strongest: dict[tuple[str, str, str], Edge] = {}
    refusals: dict[tuple[str, str], Refusal] = {}
    for me, records in links_by_ad.items():
        for record in records:
            other = record.get("ad") or ""
            refused = refusal_of(record)
            if refused is not None:
                _note_refusal(refusals, refused, me, other, members)
                continue
            if other not in members or other == me:
                continue  # accepted links join members; one to elsewhere is from an older cut
            a, b = sorted((me, other))
            kind = record.get("evidence") or "identifier"
            score = float(record.get("score") or 0.0)
            known = strongest.get((a, b, kind))
            if known is None or score > known.score:
                strongest[(a, b, kind)] = Edge(a, b, kind, score, record.get("detail") or "")
    order = {kind: i for i, kind in enumerate(EVIDENCE_KINDS)}
    edges = sorted(strongest.values(), key=lambda e: (order.get(e.evidence, 9), -e.score, e.a, e.b))
    ranked = sorted(refusals.values(), key=lambda r: (REFUSAL_KINDS.index(r.kind), -len(r.ads), r.key))
    return EvidenceGraph(tuple(edges), tuple(ranked))


def _note_refusal(refusals: dict[tuple[str, str], Refusal], refused: tuple[str, str, str], me: str, other: str,
                  members: set[str]) -> None:
    kind, key, sentence = refused
    refusal = refusals.get((kind, key))
    if refusal is None:
        refusal = refusals[(kind, key)] = Refusal(kind, key, sentence)
        if kind == "hub":
            found = _HUB.search(sentence)
            refusal.key_ads = int(found.group(2)) if found else 0
        else:
            refusal.parts = tuple(Part(int(n), sample, int(on)) for n, sample, on in _BRIDGE_PART.findall(sentence))
    refusal.ads.add(me)
    if other in members:
        refusal.ads.add(other)
    elif kind == "bridge" and other:
        refusal.outside.add(other)
    if kind == "bridge":
        refusal.outside.update(p.sample for p in refusal.parts if p.sample not in members)
