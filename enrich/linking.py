"""Linking: blocking -> comparison -> hubs -> clustering, over facts loaded from the index.

Pure: `link` takes what the worker loaded and returns clusters plus, for every ad, the links that
explain its membership (and the suppressed ones that explain why a hub did not chain it).
Incremental runs pass `focus` (the newly enriched ads) and the pair evidence stored by earlier
runs; only pairs touching a focus ad are compared again. Identifier groups and hubs are always
judged on all ads, so an incremental run and a full rebuild reach the same partition.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from enrich.blocking import AdFacts, identifier_groups, text_pairs
from enrich.clustering import Cluster, UnionFind, assign_clusters
from enrich.comparison import Evidence, LinkRules, compare_texts
from enrich.hubs import Hub, resolve_groups
from enrich.photos import near_pairs, photo_components, photo_table

MAX_LINKS_PER_AD = 40


@dataclass
class LinkResult:
    clusters: list[Cluster]
    links: dict[str, list[dict]]  # ad -> link records for the index (explanations)
    pair_evidence: list[Evidence]  # verified text/image pairs (stored for the next run)
    identifier_groups: dict[str, list[str]]  # accepted shared identifiers
    hubs: dict[str, Hub]
    stats: dict = field(default_factory=dict)


def _text_evidence(ads: list[AdFacts], position: dict[str, int], focus: set[str] | None, kept: list[Evidence],
                   rules: LinkRules) -> tuple[list[Evidence], dict]:
    """Verified text pairs among candidates. Text evidence only has to connect: a pair the text
    links so far already join is not compared (RapidFuzz is the costly step; inside a big
    controller this turns O(k^2) comparisons into about O(k))."""
    focus_mask = None
    if focus is not None:
        focus_mask = np.zeros(len(ads), dtype=bool)
        focus_mask[[position[d] for d in focus if d in position]] = True
    pairs = text_pairs(ads, focus_mask, rules.max_key_ads)
    joined = UnionFind()
    for e in kept:
        joined.union(position[e.a], position[e.b])
    # Texts too short to mean anything never link: drop their pairs before the loop.
    words = np.fromiter((len(ad.template.split()) for ad in ads), dtype=np.int64, count=len(ads))
    long_enough = (words[pairs.first] >= rules.text_min_words) & (words[pairs.second] >= rules.text_min_words)
    fresh, skipped = [], 0
    for a, b in zip(pairs.first[long_enough].tolist(), pairs.second[long_enough].tolist()):
        if joined.find(a) == joined.find(b):
            skipped += 1
            continue
        e = compare_texts(ads[a], ads[b], rules)
        if e:
            joined.union(a, b)
            fresh.append(e)
    return fresh, {"text_pairs": len(pairs.first), "text_pairs_already_joined": skipped,
                   "text_keys_skipped": pairs.skipped_keys}


def _photo_evidence(ads: list[AdFacts], rules: LinkRules) -> tuple[list[Evidence], dict[str, set[str]],
                                                                     dict[tuple[str, str], str], dict]:
    """Image evidence (a spanning forest of each near-duplicate photo group), the groups as sets of
    ads keyed 'photo:<ad>#<i>' by their first photo, and for each evidence pair its group."""
    table = photo_table(ads)
    matches = near_pairs(table, rules)
    labels, forest = photo_components(len(table), matches)
    # Groups of photos shown by at least two ads, keyed by their first (ad, photo).
    order = np.lexsort((table.slot, table.owner, labels))
    groups: dict[str, set[str]] = {}
    key_of_label: dict[int, str] = {}
    bounds = np.flatnonzero(np.r_[True, labels[order][1:] != labels[order][:-1], True])
    for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
        rows = order[lo:hi]
        owners = {ads[o].doc_id for o in table.owner[rows].tolist()}
        if len(owners) < 2:
            continue
        first = int(rows[0])
        key = f"photo:{ads[table.owner[first]].doc_id}#{table.slot[first]}"
        groups[key] = owners
        key_of_label[int(labels[first])] = key
    best: dict[tuple[str, str], Evidence] = {}
    pair_group: dict[tuple[str, str], str] = {}
    for row in forest.tolist():
        i, j = int(matches.first[row]), int(matches.second[row])
        p, d = int(matches.phash_bits[row]), int(matches.dhash_bits[row])
        a, b = ads[table.owner[i]].doc_id, ads[table.owner[j]].doc_id
        photos = (int(table.slot[i]), int(table.slot[j]))
        if a > b:
            a, b, photos = b, a, photos[::-1]
        score = round(1.0 - p / 64, 3)
        if (a, b) in best and best[(a, b)].score >= score:
            continue
        best[(a, b)] = Evidence(a, b, "image", score, f"photo pHash {p} dHash {d} bits apart", photos)
        pair_group[(a, b)] = key_of_label[int(labels[i])]
    stats = {"photos": len(table), "photo_pairs": len(matches.first), "image_keys_skipped": matches.skipped_keys}
    return list(best.values()), groups, pair_group, stats


def link(ads: list[AdFacts], rules: LinkRules = LinkRules(), focus: set[str] | None = None,
         stored: list[Evidence] = (), previous: dict[str, str | None] | None = None) -> LinkResult:
    ads = sorted(ads, key=lambda ad: ad.doc_id)
    position = {ad.doc_id: i for i, ad in enumerate(ads)}
    # Earlier runs' text verdicts stand for pairs not compared again (both ads still present),
    # except those of the ads being (re-)enriched now: an edited ad's old links say nothing about its
    # new text, and its old text neighbours get their pairs compared again (a chain through the
    # edited ad may have been all that joined them). Photos are matched afresh every run over all
    # ads: vectorised, so cheap, and the same photo groups whether incremental or rebuilt.
    stored_text = [e for e in stored if e.kind == "text" and e.a in position and e.b in position]
    kept = stored_text
    if focus is not None:
        kept = [e for e in stored_text if e.a not in focus and e.b not in focus]
        focus = set(focus) | {e.a for e in stored_text if e.b in focus} | {e.b for e in stored_text if e.a in focus}
    fresh_text, text_stats = _text_evidence(ads, position, focus, kept, rules)
    text = fresh_text + kept  # kept pairs are joined before comparing, so never compared again
    images, photo_groups, pair_group, photo_stats = _photo_evidence(ads, rules)
    evidence = text + images

    uf = UnionFind()
    for ad in ads:
        uf.find(ad.doc_id)
    for e in text:
        uf.union(e.a, e.b)
    shared = identifier_groups(ads)
    groups: dict[str, set[str]] = {k: set(v) for k, v in shared.items()}
    groups.update(photo_groups)
    placeholders = {p for ad in ads for p in ad.placeholders}
    hubs = resolve_groups(uf, groups, rules, always_hub=placeholders & set(groups))

    first_seen = {ad.doc_id: ad.first_seen for ad in ads}
    clusters = assign_clusters(uf.components(), first_seen, previous or {})
    accepted_ids = {k: sorted(v) for k, v in shared.items() if k not in hubs}
    links = _explain(evidence, hubs, shared, pair_group)
    stats = {**text_stats, **photo_stats,
             "evidence_text": len(text), "evidence_image": len(images),
             "identifier_groups": len(accepted_ids), "hubs": len(hubs), "clusters": len(clusters)}
    return LinkResult(clusters, links, evidence, accepted_ids, hubs, stats)


def _explain(evidence: list[Evidence], hubs: dict[str, Hub], all_groups: dict[str, list[str]],
             photo_key: dict[tuple[str, str], str]) -> dict[str, list[dict]]:
    links: dict[str, list[dict]] = defaultdict(list)
    for e in evidence:
        # A hub photo weakens only the photo evidence; a text link between the same two ads still counts.
        hub = hubs.get(photo_key.get((e.a, e.b), "")) if e.kind == "image" else None
        for me, other in ((e.a, e.b), (e.b, e.a)):
            record = {"ad": other, "evidence": e.kind, "score": e.score, "detail": e.detail}
            if hub:
                record.update(suppressed=True, detail=f"{e.detail}; {hub.explain()}")
            if e.photos:
                record["photos"] = list(e.photos if me == e.a else e.photos[::-1])
            links[me].append(record)
    for key, members in all_groups.items():
        hub = hubs.get(key)
        for me in members:
            other = next(m for m in members if m != me)
            if hub:
                links[me].append({"ad": other, "evidence": "identifier", "score": 0.0, "detail": hub.explain(),
                                  "suppressed": True})
            else:
                links[me].append({"ad": other, "evidence": "identifier", "score": 1.0,
                                  "detail": f"{key} shared by {len(members)} ads"})
    for me in links:
        # Strongest first; a huge cluster's ad keeps its best explanations, not all of them.
        links[me].sort(key=lambda r: (r.get("suppressed", False), -r["score"], r["ad"]))
        del links[me][MAX_LINKS_PER_AD:]
    return dict(links)
