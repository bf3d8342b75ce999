"""Cluster summaries: what a cluster's ads share, for the analyst reading `adwatch cluster ID`.

Pure: member facts and links in, one clusters-index document out.
"""

from __future__ import annotations

from collections import Counter
from enrich.clustering import Cluster
from enrich.explain import Explanations
from enrich.facts import AdFacts

TEMPLATE_SHARE = 0.6  # a word kept in the template when at least this share of texts has it
MAX_SLOT_VALUES = 12


def identifier_kind(normalised: str) -> str:
    """'phone' (E.164 or national digits), 'email', or the platform of a handle ('telegram:x' -> 'telegram')."""
    if normalised[:1] == "+" or normalised.isdigit():
        return "phone"
    if ":" in normalised:
        return normalised.split(":", 1)[0]
    return "email" if "@" in normalised else "other"


def template_with_slots(texts: list[str], representative: str) -> tuple[str, list[dict]]:
    """The representative text with the words most texts do not share replaced by `<*>`.

    Returns (template, slots): slots are the placeholder kinds seen (`<name>`, `<price>`, ...)
    and `<*>` with sample words that vary between the ads.
    """
    if not texts or not representative:
        return "", []
    share = Counter(word for text in texts for word in set(text.split()))
    need = TEMPLATE_SHARE * len(texts)
    out: list[str] = []
    varying: Counter = Counter()
    for word in representative.split():
        if share[word] >= need or word.startswith("<"):
            out.append(word)
        elif not out or out[-1] != "<*>":
            out.append("<*>")
    for text in texts:
        varying.update(w for w in set(text.split()) if share[w] < need and not w.startswith("<"))
    placeholders = sorted({w for w in out if w.startswith("<") and w != "<*>"})
    slots = [{"name": p, "values": []} for p in placeholders]
    if "<*>" in out:
        slots.append({"name": "<*>", "values": [w for w, _ in varying.most_common(MAX_SLOT_VALUES)]})
    return " ".join(out), slots


def summarise(cluster: Cluster, meta: dict[str, AdFacts], links: Explanations, now: str) -> dict:
    members = [m for m in cluster.members if m in meta]
    evidence = links.cluster_evidence(members)
    representative = max(members, key=lambda m: (evidence.links_per_ad[m], meta[m].last_seen, m))
    shared = Counter(i for m in members for i in set(meta[m].identifiers))
    identifiers = [{"kind": identifier_kind(ident), "value": ident, "ads": n}
                   for ident, n in shared.most_common() if n >= 2]
    cities = sorted({meta[m].city for m in members if meta[m].city})
    doc = {
        "cluster_id": cluster.cluster_id, "size": len(members), "ads": members,
        "sites": sorted({meta[m].site for m in members}),
        "cities": cities, "city_count": len(cities),
        "countries": sorted({meta[m].country for m in members if meta[m].country}),
        "first_seen": min(meta[m].first_seen for m in members),
        "last_seen": max(meta[m].last_seen for m in members),
        "updated_at": now, "identifiers": identifiers[:50],
        "evidence": evidence.counts,
        "representative_ad": representative, "merged_from": list(cluster.merged_from),
    }
    if evidence.text_linked:
        text_linked = evidence.text_linked
        template, slots = template_with_slots([meta[m].template for m in text_linked],
                                              meta[representative].template or meta[text_linked[0]].template)
        doc.update(template=template, slots=slots)
    return doc
