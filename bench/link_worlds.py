"""Linking quality on demo worlds of every family, without an index: world -> enrich -> link -> score.

    .venv/bin/python bench/link_worlds.py --ads 20000 --seeds 101 102 --families baseline multilingual
    .venv/bin/python bench/link_worlds.py --world DIR [--world DIR ...] [--set text_min=0.9 ...]

Each world's ads are enriched exactly as the worker enriches them (`profile_ad` on crawl-shaped
documents from tests/world_index.py, images from a content-addressed store) and cached beside the
world (`<world>/.enriched-<version>.pkl`), so trying a threshold costs only the linking. Linking
is `enrich.linking.link` on `enrich.facts.facts_from_source`, as in the worker. Printed per world:
pairwise and B-cubed scores against the truth, the largest cluster, false merges inside each
hard-negative group (ads sharing a placeholder, the stock photo, a boilerplate sentence, a footer
number, of different posters, put in one cluster), and recall on the true pairs that share any
evidence (the measure for partial crawls). `--baseline` scores the naive union the issue measured
(MinHash band key shared, or a phone, or a pHash within 8 bits) side by side.
Which seeds tuned the defaults and which only report is said in the README.
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import pickle
import sys
import time
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from world_index import world_docs  # noqa: E402

from crawler.imagestore import ImageStore  # noqa: E402
from demo.generator import generate_world  # noqa: E402
from demo.world import read_truth  # noqa: E402
from enrich.comparison import LinkRules  # noqa: E402
from enrich.evaluation import score  # noqa: E402
from enrich.facts import facts_from_source  # noqa: E402
from enrich.linking import link  # noqa: E402
from enrich.profile import ENRICH_VERSION, profile_ad  # noqa: E402

TARGETS = {"pairwise_f1": 0.95, "bcubed_f1": 0.95, "evidence_recall": 0.90}


def _enrich(item: tuple[str, dict, str]) -> tuple[str, dict]:
    doc_id, doc, image_dir = item
    images = {}
    for image in doc.get("images", []):
        if image.get("path"):
            try:
                images[image["path"]] = (Path(image_dir) / image["path"]).read_bytes()
            except OSError:
                images[image["path"]] = None
    profile = profile_ad(doc, images)
    return doc_id, {**doc, **profile.fields}


def enriched_world(world: Path) -> dict[str, dict]:
    """doc id -> enriched document, cached beside the world."""
    cache = world / f".enriched-{ENRICH_VERSION}.pkl"
    if cache.exists() and cache.stat().st_mtime >= (world / "truth.jsonl").stat().st_mtime:
        return pickle.loads(cache.read_bytes())
    images = world / ".image-store"
    docs = [(doc_id, doc, str(images)) for doc_id, doc in world_docs(world, ImageStore(images))]
    with multiprocessing.get_context("fork").Pool() as pool:
        enriched = dict(pool.imap(_enrich, docs, chunksize=64))
    cache.write_bytes(pickle.dumps(enriched))
    return enriched


def _groups(truth: list[dict]) -> dict[str, dict[str, set[str]]]:
    """Hard-negative groups: kind -> value -> ads."""
    groups: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for t in truth:
        doc = f"{t['site']}:{t['ad_id']}"
        hard = t.get("hard_negatives", {})
        for kind in ("placeholder_phone", "boilerplate", "footer", "switchboard"):
            if hard.get(kind):
                groups[kind][str(hard[kind])].add(doc)
        if hard.get("stock_photo"):
            groups["stock_photo"]["stock"].add(doc)
    return groups


def _evidence_pairs(truth: list[dict]) -> set[tuple[str, str]]:
    """True pairs (same poster) whose ads share a contact, a photo base or a template."""
    by_poster: dict[str, list[dict]] = defaultdict(list)
    for t in truth:
        by_poster[t["poster_id"]].append(t)
    pairs = set()
    for ads in by_poster.values():
        marks = []
        for t in ads:
            mark = {f"c:{v}" for v in t.get("phones", []) + t.get("emails", []) + t.get("handles", [])}
            mark |= {f"i:{i['base_id']}" for i in t.get("images", []) if not i.get("stock")}
            mark.add(f"t:{t.get('template_id')}")
            marks.append((f"{t['site']}:{t['ad_id']}", mark))
        for (a, ma), (b, mb) in itertools.combinations(marks, 2):
            if ma & mb:
                pairs.add((a, b))
    return pairs


def evaluate(world: Path, rules: LinkRules, baseline: bool = False) -> dict:
    enriched = enriched_world(world)
    truth_records = read_truth(world)
    truth = {f"{t['site']}:{t['ad_id']}": t["poster_id"] for t in truth_records}
    facts = [facts_from_source(doc_id, src) for doc_id, src in enriched.items()]
    began = time.perf_counter()
    if baseline:
        predicted = _naive_union(facts, enriched)
        stats: dict = {}
    else:
        result = link(facts, rules)
        predicted = {m: c.cluster_id for c in result.clusters for m in c.members}
        stats = result.stats
    seconds = time.perf_counter() - began
    labels = {ad: predicted.get(ad, ad) for ad in truth}
    s = score(labels, truth)
    false_merges = {}
    for kind, groups in _groups(truth_records).items():
        wrong = 0
        for members in groups.values():
            ms = sorted(members)
            by_cluster = defaultdict(list)
            for m in ms:
                if m in predicted:
                    by_cluster[predicted[m]].append(truth[m])
            for posters in by_cluster.values():
                counts = Counter(posters)
                same = sum(c * (c - 1) // 2 for c in counts.values())
                wrong += len(posters) * (len(posters) - 1) // 2 - same
        false_merges[kind] = wrong
    evidence = _evidence_pairs(truth_records)
    found = sum(1 for a, b in evidence if a in predicted and predicted.get(a) == predicted.get(b))
    meta = json.loads((world / "world.json").read_text())
    return {"world": str(world), "family": meta.get("family", "baseline"), "seed": meta.get("seed"),
            "ads": s.ads, "link_s": round(seconds, 1), "pairwise_p": s.pairwise_precision,
            "pairwise_r": s.pairwise_recall, "pairwise_f1": s.pairwise_f1, "bcubed_f1": s.bcubed_f1,
            "largest": s.largest_predicted, "largest_true": s.largest_true,
            "purity": s.largest_predicted_purity, "false_merges": false_merges,
            "evidence_recall": found / len(evidence) if evidence else 1.0, "stats": stats}


def _naive_union(facts, enriched) -> dict[str, str]:
    """The issue's naive baseline: text Jaccard >= 0.5 among MinHash candidates, a phone found by
    `phonenumbers.PhoneNumberMatcher` (valid numbers, the page's country or US), or photos within
    8 pHash bits, unioned."""
    from enrich.blocking import text_pairs
    from enrich.clustering import UnionFind
    from enrich.photos import near_pairs, photo_table

    facts = sorted(facts, key=lambda f: f.doc_id)
    uf = UnionFind()
    for f in facts:
        uf.find(f.doc_id)
    from enrich.signatures import word_shingles

    pairs = text_pairs(facts, max_key_ads=1_000)
    shingles = [word_shingles(f.template) for f in facts]
    for a, b in zip(pairs.first.tolist(), pairs.second.tolist()):
        x, y = shingles[a], shingles[b]
        if x and y and len(x & y) >= 0.5 * len(x | y):
            uf.union(facts[a].doc_id, facts[b].doc_id)
    import phonenumbers

    phones = defaultdict(list)
    for f in facts:
        doc = enriched[f.doc_id]
        text = "\n".join(doc.get(k) or "" for k in ("title", "body", "contact_text"))
        for match in phonenumbers.PhoneNumberMatcher(text, doc.get("country") or "US"):
            phones[phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)].append(f.doc_id)
    for members in phones.values():
        uf.union_all(members)
    table = photo_table(facts)
    matches = near_pairs(table, LinkRules(image_phash_max=8, image_dhash_max=64, max_key_ads=10_000))
    for i, j in zip(matches.first.tolist(), matches.second.tolist()):
        uf.union(facts[table.owner[i]].doc_id, facts[table.owner[j]].doc_id)
    return {m: f"c{min(group)}" for group in uf.components() if len(group) > 1 for m in group}


def _rules(settings: list[str]) -> LinkRules:
    rules = LinkRules()
    for item in settings:
        name, _, value = item.partition("=")
        kind = type(getattr(rules, name))
        rules = replace(rules, **{name: kind(value)})
    return rules


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--world", action="append", default=[], help="an existing world directory")
    parser.add_argument("--ads", type=int, default=20000)
    parser.add_argument("--seeds", type=int, nargs="*", default=[])
    parser.add_argument("--families", nargs="*", default=["baseline"])
    parser.add_argument("--set", action="append", default=[], help="a LinkRules override, e.g. text_min=0.9")
    parser.add_argument("--baseline", action="store_true", help="also score the naive union")
    parser.add_argument("--json", help="write every result to this file")
    args = parser.parse_args()
    worlds = [Path(w) for w in args.world]
    for family, seed in itertools.product(args.families, args.seeds):
        world = Path(f"/tmp/adwatch-worlds/{family}-{args.ads}-{seed}")
        if not (world / "world.json").exists():
            extra = {} if family == "baseline" else {"family": family}
            generate_world(world, args.ads, seed, **extra)
        worlds.append(world)
    rules = _rules(args.set)
    results = []
    for world in worlds:
        for naive in ([False, True] if args.baseline else [False]):
            r = evaluate(world, rules, baseline=naive)
            r["method"] = "naive union" if naive else "adwatch"
            results.append(r)
            merges = " ".join(f"{k}={v}" for k, v in sorted(r["false_merges"].items()))
            print(f"{r['method']:11s} {r['family']:>14s} seed {r['seed']} {r['ads']:6d} ads  "
                  f"P {r['pairwise_p']:.3f} R {r['pairwise_r']:.3f} F1 {r['pairwise_f1']:.3f} "
                  f"(x{r['pairwise_f1'] / TARGETS['pairwise_f1']:.2f})  B3 {r['bcubed_f1']:.3f}  "
                  f"evidence recall {r['evidence_recall']:.3f}  largest {r['largest']} (true {r['largest_true']}, "
                  f"purity {r['purity']:.2f})  false merges: {merges or 'none'}  [{r['link_s']} s]", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
