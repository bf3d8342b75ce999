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

from enrich.blocking import AdFacts, candidates
from enrich.clustering import Cluster, UnionFind, assign_clusters
from enrich.comparison import Evidence, LinkRules, compare_images, compare_texts
from enrich.hubs import Hub, resolve_groups

MAX_LINKS_PER_AD = 40


@dataclass
class LinkResult:
    clusters: list[Cluster]
    links: dict[str, list[dict]]  # ad -> link records for the index (explanations)
    pair_evidence: list[Evidence]  # verified text/image pairs (stored for the next run)
    identifier_groups: dict[str, list[str]]  # accepted shared identifiers
    hubs: dict[str, Hub]
    stats: dict = field(default_factory=dict)


def _photo_groups(evidence: list[Evidence]) -> tuple[dict[str, set[str]], dict[tuple[str, str], str]]:
    """Near-duplicate photos as groups of the ads showing them (key 'photo:<ad>#<i>' of the group's
    first photo), and for each image pair the group it belongs to."""
    uf = UnionFind()
    images = [e for e in evidence if e.kind == "image" and e.photos]
    for e in images:
        uf.union(f"{e.a}#{e.photos[0]}", f"{e.b}#{e.photos[1]}")
    groups: dict[str, set[str]] = {}
    key_of_root: dict[str, str] = {}
    for members in uf.components():
        key = "photo:" + min(members)
        groups[key] = {m.rsplit("#", 1)[0] for m in members}
        key_of_root[uf.find(members[0])] = key
    pair_group = {(e.a, e.b): key_of_root[uf.find(f"{e.a}#{e.photos[0]}")] for e in images}
    return groups, pair_group


def link(ads: list[AdFacts], rules: LinkRules = LinkRules(), focus: set[str] | None = None,
         stored: list[Evidence] = (), previous: dict[str, str | None] | None = None) -> LinkResult:
    by_id = {ad.doc_id: ad for ad in ads}
    cands = candidates(ads, focus, rules.max_key_ads)
    # Earlier runs' verdicts stand for pairs not compared again (both ads still present).
    kept = [e for e in stored if e.a in by_id and e.b in by_id]
    fresh: list[Evidence] = []
    # Text evidence only has to connect: a pair the text links so far already join is not compared
    # (RapidFuzz is the costly step; inside a big controller this turns O(k^2) into about O(k)).
    # Photo pairs are all checked: Hamming distances are cheap, and hub detection needs to know
    # which photo matched which.
    joined = UnionFind()
    for e in kept:
        if e.kind == "text":
            joined.union(e.a, e.b)
    skipped = 0
    for a, b in sorted(cands.text_pairs):
        if joined.find(a) == joined.find(b):
            skipped += 1
            continue
        e = compare_texts(by_id[a], by_id[b], rules)
        if e:
            joined.union(a, b)
            fresh.append(e)
    for a, b in sorted(cands.image_pairs):
        e = compare_images(by_id[a], by_id[b], rules)
        if e:
            fresh.append(e)
    seen = {(e.a, e.b, e.kind) for e in fresh}
    evidence = fresh + [e for e in kept if (e.a, e.b, e.kind) not in seen]

    uf = UnionFind()
    for ad in ads:
        uf.find(ad.doc_id)
    for e in evidence:
        if e.kind == "text":
            uf.union(e.a, e.b)
    photo_groups, pair_group = _photo_groups(evidence)
    groups: dict[str, set[str]] = {k: set(v) for k, v in cands.identifier_groups.items()}
    groups.update(photo_groups)
    placeholders = {p for ad in ads for p in ad.placeholders}
    hubs = resolve_groups(uf, groups, rules, always_hub=placeholders & set(groups))

    first_seen = {ad.doc_id: ad.first_seen for ad in ads}
    clusters = assign_clusters(uf.components(), first_seen, previous or {})
    accepted_ids = {k: sorted(v) for k, v in cands.identifier_groups.items() if k not in hubs}
    links = _explain(evidence, hubs, cands.identifier_groups, pair_group)
    stats = {"text_pairs": len(cands.text_pairs), "image_pairs": len(cands.image_pairs),
             "text_pairs_already_joined": skipped,
             "evidence_text": sum(e.kind == "text" for e in evidence),
             "evidence_image": sum(e.kind == "image" for e in evidence),
             "identifier_groups": len(accepted_ids), "hubs": len(hubs), "skipped_keys": cands.skipped_keys,
             "clusters": len(clusters)}
    return LinkResult(clusters, links, evidence, accepted_ids, hubs, stats)


def _explain(evidence: list[Evidence], hubs: dict[str, Hub], all_groups: dict[str, list[str]],
             photo_key: dict[tuple[str, str], str]) -> dict[str, list[dict]]:
    links: dict[str, list[dict]] = defaultdict(list)
    for e in evidence:
        hub = hubs.get(photo_key.get((e.a, e.b), ""))
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
