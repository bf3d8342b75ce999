"""The evidence graph drawn: positions from networkx's spring layout, shapes for a server-rendered SVG (pure).

Ads are circles (coloured by site), hubs grey diamonds, refused bridges red octagons, and the
other clusters a bridge would have joined are boxes. Accepted evidence is a solid line coloured
by type (several types between one pair run side by side); a hub's or a refused bridge's ties
are dashed. The layout is seeded by the cluster id, so a cluster looks the same on every visit,
and cached per graph, so paging back to a large cluster does not lay it out again.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from dashboards.explorer.evidence import EvidenceGraph

WIDTH = 960
MARGIN = 70
LABEL_ROOM = 150  # right of the rightmost node: its label ("hub template:site:ad") stays inside
LAYOUT_ITERATIONS = {120: 50, 10**9: 25}  # up to N nodes: iterations (large graphs settle in fewer; each is O(n^2))
LABELLED_NODES = 40  # ad ids printed beside the nodes up to this many ads
LABELLED_EDGES = 60  # scores printed on the edges up to this many
SITE_COLOURS = 8  # css classes site-0 .. site-7


@dataclass(frozen=True)
class AdNode:
    """What a node needs to say about its ad."""

    doc_id: str
    site: str
    ad_id: str
    city: str
    day: str
    title: str


@dataclass(frozen=True)
class Shape:
    kind: str  # ad | hub | bridge | cluster
    x: float
    y: float
    label: str
    title: str  # the tooltip
    href: str
    css: str


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    evidence: str  # identifier | image | text | hub | bridge
    title: str
    score: str  # printed at the middle when the graph is small enough, else ""


@dataclass(frozen=True)
class Drawing:
    width: int
    height: int
    shapes: tuple[Shape, ...]
    lines: tuple[Line, ...]
    sites: tuple[tuple[str, str], ...]  # (site, css class) for the legend


def _seed(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


@lru_cache(maxsize=32)
def _layout(nodes: tuple[str, ...], weighted: tuple[tuple[str, str, float], ...], seed: int) -> dict[str, tuple]:
    import networkx as nx  # only the cluster page needs it

    graph = nx.Graph()
    graph.add_nodes_from(nodes)
    for a, b, weight in weighted:
        known = graph.get_edge_data(a, b)
        graph.add_edge(a, b, weight=weight + (known["weight"] if known else 0.0))
    if len(nodes) == 1:
        return {nodes[0]: (0.0, 0.0)}
    spread = 1.6 / math.sqrt(len(nodes))  # a little more room than networkx's 1/sqrt(n) default
    iterations = next(its for most, its in LAYOUT_ITERATIONS.items() if len(nodes) <= most)
    placed = nx.spring_layout(graph, k=spread, seed=seed, iterations=iterations)
    return {n: (float(x), float(y)) for n, (x, y) in placed.items()}


def draw(cluster_id: str, graph: EvidenceGraph, ads: Mapping[str, AdNode],
         clusters_of: Mapping[str, str]) -> Drawing:
    """Shapes and lines for the SVG; `clusters_of` maps ads outside the cluster to their cluster ids."""
    members = sorted(ads)
    weighted = [(e.a, e.b, max(e.score, 0.1)) for e in graph.edges]
    ties: list[tuple[str, str, str, str]] = []  # (ad, node, evidence, tooltip)
    outside_nodes: dict[str, str] = {}  # node id -> label
    for refusal in graph.refusals:
        for ad in sorted(refusal.ads):
            ties.append((ad, refusal.node, refusal.kind, refusal.detail))
        for other in sorted(refusal.outside):
            target = clusters_of.get(other)
            node = f"cluster:{target}" if target else f"ad:{other}"
            if target == cluster_id:
                continue
            outside_nodes[node] = f"cluster {target}" if target else other
            ties.append((node, refusal.node, "bridge", f"{refusal.detail} (would join {outside_nodes[node]})"))
    extra = [r.node for r in graph.refusals] + sorted(outside_nodes)
    nodes = tuple(members + [n for n in dict.fromkeys(extra)])
    positions = _layout(nodes, tuple(weighted + [(a, b, 0.3) for a, b, _, _ in ties]), _seed(cluster_id))
    height = 640 if len(nodes) <= 150 else 820
    place = _scaler(positions, WIDTH, height)

    site_names = sorted({ad.site for ad in ads.values()})
    site_css = {site: f"site-{i % SITE_COLOURS}" for i, site in enumerate(site_names)}
    shapes = [_ad_shape(ads[m], place(m), site_css[ads[m].site], len(members) <= LABELLED_NODES) for m in members]
    for refusal in graph.refusals:
        x, y = place(refusal.node)
        label = f"{refusal.kind} {refusal.key}"
        shapes.append(Shape(refusal.kind, x, y, label, refusal.detail, "", refusal.kind))
    for node, label in outside_nodes.items():
        x, y = place(node)
        href = f"/cluster/{node.split(':', 1)[1]}" if node.startswith("cluster:") else f"/ad/{node[3:]}"
        shapes.append(Shape("cluster", x, y, label, f"{label}: what a refused bridge would have merged in", href,
                            "outside"))

    lines = _evidence_lines(graph, place, len(graph.edges) <= LABELLED_EDGES)
    for a, b, kind, tooltip in ties:
        (x1, y1), (x2, y2) = place(a), place(b)
        lines.append(Line(x1, y1, x2, y2, kind, tooltip, ""))
    return Drawing(WIDTH, height, tuple(shapes), tuple(lines), tuple(site_css.items()))


def _scaler(positions: Mapping[str, tuple], width: int, height: int):
    xs = [p[0] for p in positions.values()]
    ys = [p[1] for p in positions.values()]
    x0, y0 = min(xs), min(ys)
    dx, dy = (max(xs) - x0) or 1.0, (max(ys) - y0) or 1.0

    def place(node: str) -> tuple[float, float]:
        x, y = positions[node]
        return (round(MARGIN + (x - x0) / dx * (width - MARGIN - LABEL_ROOM), 1),
                round(MARGIN + (y - y0) / dy * (height - 2 * MARGIN), 1))

    return place


def _ad_shape(ad: AdNode, at: tuple[float, float], css: str, labelled: bool) -> Shape:
    tooltip = f"{ad.site} {ad.ad_id} · {ad.city or 'no city'} · first seen {ad.day} · {ad.title}"
    return Shape("ad", at[0], at[1], ad.ad_id if labelled else "", tooltip, f"/ad/{ad.doc_id}", css)


def _evidence_lines(graph: EvidenceGraph, place, labelled: bool) -> list[Line]:
    per_pair: dict[tuple[str, str], list] = {}
    for edge in graph.edges:
        per_pair.setdefault((edge.a, edge.b), []).append(edge)
    lines = []
    for (a, b), edges in per_pair.items():
        (x1, y1), (x2, y2) = place(a), place(b)
        length = math.hypot(x2 - x1, y2 - y1) or 1.0
        nx_, ny_ = -(y2 - y1) / length, (x2 - x1) / length  # unit normal: parallel lines side by side
        for i, edge in enumerate(edges):
            shift = (i - (len(edges) - 1) / 2) * 3.0
            ox, oy = round(nx_ * shift, 1), round(ny_ * shift, 1)
            tooltip = f"{edge.evidence} {edge.score:.2f}: {edge.detail}"
            lines.append(Line(x1 + ox, y1 + oy, x2 + ox, y2 + oy, edge.evidence, tooltip,
                              f"{edge.score:.2f}" if labelled else ""))
    return lines
