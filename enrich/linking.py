"""Linking: blocking -> comparison -> scoring -> clustering, over facts loaded from the index.

Pure: `link` takes what the worker loaded and returns clusters, the explanation of every ad's
membership (and of the links refused), and the text score table to store for the next run.

1. Blocking (enrich.blocking, enrich.photos): candidate text pairs from MinHash-LSH band keys,
   candidate photo pairs from multi-index hashing; identifiers group ads by themselves.
2. Comparison (enrich.comparison): text candidates scored with RapidFuzz into a score table;
   photos verified by pHash and dHash distances. Incremental runs score only pairs that touch a
   newly enriched ad and read the others' scores from the stored table, so an incremental run and
   a rebuild see the same table; a threshold change re-cuts it without comparing again.
3. Scoring (enrich.scoring, enrich.hubs, enrich.bridges): evidence becomes keys (identities,
   photo groups, template groups); hubs are judged by conflicting evidence; keys that alone would
   join large groups with identities of their own are refused as bridges.
4. Clustering (enrich.clustering): connected components of the accepted keys, with stable ids.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from enrich.blocking import text_pairs
from enrich.bridges import Bridge, refuse_bridges
from enrich.clustering import Cluster, assign_clusters
from enrich.comparison import LinkRules, TextScores
from enrich.explain import Explanations, PairEvidence, bridge_detail
from enrich.facts import AdFacts
from enrich.hubs import Hub, judge
from enrich.parallel import Engine, Local
from enrich.photos import near_pairs, photo_components, photo_table
from enrich.scoring import IDENTITY, PHOTO, Key, group_keys, identity_keys, template_keys




class ScoreTable:
    """The text score table by ad, as the worker stores it: each row on the first ad of its pair."""

    def __init__(self, doc_ids: list[str], table: TextScores) -> None:
        self.doc_ids = doc_ids
        order = np.lexsort((table.second, table.first))
        self.second, self.score = table.second[order], table.score[order]
        self.starts = np.zeros(len(doc_ids) + 1, dtype=np.int64)
        np.cumsum(np.bincount(table.first, minlength=len(doc_ids)), out=self.starts[1:])
        self.position = {d: i for i, d in enumerate(doc_ids)}

    def rows(self, doc_id: str) -> list[dict]:
        """[{ad: a later ad, score}] sorted by ad: what `text_pairs` holds."""
        at = self.position[doc_id]
        lo, hi = self.starts[at], self.starts[at + 1]
        return [{"ad": self.doc_ids[j], "score": round(s, 3)}
                for j, s in zip(self.second[lo:hi].tolist(), self.score[lo:hi].tolist())]

    def triples(self) -> list[tuple[str, str, float]]:
        """Every row as (ad, later ad, score): what `link(stored=...)` reads back."""
        return [(d, row["ad"], row["score"]) for d in self.doc_ids for row in self.rows(d)]


@dataclass
class LinkResult:
    clusters: list[Cluster]
    links: Mapping[str, list[dict]]  # ad -> link records for the index (explanations)
    text_scores: ScoreTable  # to store for the next run
    hubs: dict[str, Hub]
    bridges: list[dict]  # refused bridges: key, parts (ads, covered, sample ad), detail
    stats: dict = field(default_factory=dict)


def _scores(ads: list[AdFacts], position: dict[str, int], rules: LinkRules, focus: set[str] | None,
            stored: Iterable[tuple[str, str, float]], engine: Engine) -> tuple[TextScores, dict]:
    """The text score table of every candidate pair: compared now when it touches a focus ad (all
    of them when `focus` is None), read from the stored table otherwise (absent there: it scored
    below the floor when it was compared)."""
    n = len(ads)
    candidates = text_pairs(ads, rules.max_key_ads, rules.text_candidates_per_ad, run_blocks=engine.map_shared)
    first, second = candidates.first, candidates.second
    stats = {**candidates.stats, "text_pairs": len(first), "text_keys_skipped": candidates.skipped_keys}
    if focus is None:
        fresh = np.ones(len(first), dtype=bool)
        reused = TextScores.empty()
    else:
        mask = np.zeros(n, dtype=bool)
        mask[[position[d] for d in focus if d in position]] = True
        fresh = mask[first] | mask[second]
        reused = _lookup(stored, position, n, first[~fresh], second[~fresh])
    scored = engine.score_pairs(ads, first[fresh], second[fresh], rules.text_min_words)
    stats.update(text_pairs_compared=int(fresh.sum()), text_pairs_reused=int((~fresh).sum()))
    return TextScores.concat([scored, reused]), stats


def _lookup(stored: Iterable[tuple[str, str, float]], position: dict[str, int], n: int,
            first: np.ndarray, second: np.ndarray) -> TextScores:
    rows = [(position[a], position[b], s) for a, b, s in stored if a in position and b in position]
    if not rows or not len(first):
        return TextScores.empty()
    table = np.array(rows, dtype=np.float64)
    lo, hi = np.minimum(table[:, 0], table[:, 1]).astype(np.int64), np.maximum(table[:, 0], table[:, 1]).astype(np.int64)
    code = lo * n + hi
    order = np.argsort(code)
    code, score = code[order], table[order, 2].astype(np.float32)
    wanted = first * n + second
    at = np.minimum(np.searchsorted(code, wanted), len(code) - 1)
    found = code[at] == wanted
    return TextScores(first[found], second[found], score[at[found]])


def _photo_keys(ads: list[AdFacts], rules: LinkRules) -> tuple[list[Key], PairEvidence, dict]:
    """Photo keys (groups of near-duplicate photos shown by two ads or more) and the spanning
    forest's pairs that explain them (`PairEvidence.key` indexes the returned keys)."""
    table = photo_table(ads)
    matches = near_pairs(table, rules)
    labels, forest = photo_components(len(table), matches)
    grouped = np.flatnonzero(np.bincount(labels)[labels] >= 2) if len(labels) else np.zeros(0, np.int64)
    by_label = group_keys(PHOTO, labels[grouped], table.owner[grouped],
                          lambda row: f"photo:{ads[table.owner[grouped[row]]].doc_id}#{table.slot[grouped[row]]}")
    key_of_label = np.full(int(labels.max()) + 1 if len(labels) else 0, -1, dtype=np.int64)
    key_of_label[list(by_label)] = np.arange(len(by_label))
    i, j = matches.first[forest], matches.second[forest]
    a, b = table.owner[i], table.owner[j]
    slot_a, slot_b = table.slot[i], table.slot[j]
    swap = a > b
    a, b = np.where(swap, b, a), np.where(swap, a, b)
    slot_a, slot_b = np.where(swap, slot_b, slot_a), np.where(swap, slot_a, slot_b)
    p, d = matches.phash_bits[forest], matches.dhash_bits[forest]
    score = (1.0 - p / 64).astype(np.float32)
    # One pair of ads keeps its closest pair of photos.
    order = np.lexsort((-score, b, a))
    first = np.r_[True, (a[order][1:] != a[order][:-1]) | (b[order][1:] != b[order][:-1])] if len(order) else order
    keep = order[first]
    pairs = PairEvidence(a[keep], b[keep], np.ones(len(keep), bool), score[keep], key_of_label[labels[i[keep]]],
                         p[keep], d[keep], slot_a[keep], slot_b[keep])
    stats = {"photos": len(table), "photo_pairs": len(matches.first), "image_keys_skipped": matches.skipped_keys}
    return list(by_label.values()), pairs, stats


def _template_pairs(edges: TextScores, template_of: np.ndarray, offset: int) -> PairEvidence:
    zeros = np.zeros(len(edges), dtype=np.int64)
    return PairEvidence(edges.first, edges.second, np.zeros(len(edges), bool), edges.score,
                        offset + template_of[edges.first], zeros, zeros, zeros, zeros)


def _joined(parts: list[PairEvidence]) -> PairEvidence:
    return PairEvidence(*(np.concatenate([getattr(p, f) for p in parts]) for f in PairEvidence.__dataclass_fields__))


def link(ads: list[AdFacts], rules: LinkRules = LinkRules(), focus: set[str] | None = None,
         stored: Iterable[tuple[str, str, float]] = (), previous: dict[str, str | None] | None = None,
         engine: Engine | None = None) -> LinkResult:
    """Clusters of `ads`. `focus`: ads (re-)enriched since the stored table was made (None: score
    every candidate again); `stored`: that table; `previous`: ad -> its cluster id before;
    `engine`: where candidate pairs are chosen and compared (enrich.parallel; this process by default)."""
    ads = sorted(ads, key=lambda ad: ad.doc_id)
    n = len(ads)
    position = {ad.doc_id: i for i, ad in enumerate(ads)}

    clock = _Stopwatch()

    # Blocking and comparison.
    table, text_stats = _scores(ads, position, rules, focus, stored, engine or Local())
    clock.lap("text")
    photo_keys, photo_pairs, photo_stats = _photo_keys(ads, rules)
    clock.lap("photos")

    # Scoring: evidence as keys, hubs, bridges.
    edges = table.cut(rules.text_min)
    text_keys, template_of = template_keys(ads, edges)
    identities = identity_keys(ads)
    keys = identities + photo_keys + text_keys
    hubs = judge(ads, keys, rules)
    clock.lap("hubs")
    accepted = [i for i in range(len(keys)) if i not in hubs]
    own_identity = _own_identities(ads, keys)
    labels, refused = refuse_bridges(n, [keys[i] for i in accepted], own_identity, rules)
    bridges = [Bridge(accepted[b.key], b.kept, b.refused, b.refused_ads) for b in refused]
    clock.lap("bridges")

    # Clustering.
    components: dict[int, list[str]] = {}
    for index, label in enumerate(labels.tolist()):
        components.setdefault(label, []).append(ads[index].doc_id)
    first_seen = {ad.doc_id: ad.first_seen for ad in ads}
    clusters = assign_clusters(list(components.values()), first_seen, previous or {})

    pairs = _joined([replace(photo_pairs, key=photo_pairs.key + len(identities)),
                     _template_pairs(edges, template_of, len(identities) + len(photo_keys))])
    links = Explanations(ads, keys, hubs, bridges, pairs)
    clock.lap("clusters")
    stats = {**text_stats, **photo_stats, "text_edges": len(edges), "keys": len(keys),
             "keys_identity": len(identities), "keys_photo": len(photo_keys),
             "keys_template": len(text_keys), "hubs": len(hubs), "bridges_refused": len(bridges),
             "clusters": len(clusters), "seconds": clock.laps}
    return LinkResult(
        clusters, links, ScoreTable([ad.doc_id for ad in ads], table), {keys[i].name: h for i, h in hubs.items()},
        [{"key": keys[b.key].name, "detail": bridge_detail(b, keys, ads),
          "parts": [{"ads": p.ads, "covered": p.covered, "sample": ads[p.sample].doc_id, "refused": p in b.refused}
                    for p in (*b.kept, *b.refused)]} for b in bridges],
        stats)


class _Stopwatch:
    """Seconds per stage, for the run's stats (what a slow run spent its time on)."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self._last, 2)
        self._last = now


def _own_identities(ads: list[AdFacts], keys: list[Key]) -> np.ndarray:
    """Per ad: does it carry an identity no other ad shares (its own phone, email or handle)?"""
    shared = {k.name for k in keys if k.kind == IDENTITY}
    return np.fromiter((any(i not in shared and i not in ad.placeholders for i in ad.identifiers) for ad in ads),
                       dtype=bool, count=len(ads))
