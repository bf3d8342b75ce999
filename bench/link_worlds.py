"""Linking quality on demo worlds of every family, without an index: world -> enrich -> link -> score.

    .venv/bin/python bench/link_worlds.py --ads 20000 --seeds 101 102 --families baseline multilingual
    .venv/bin/python bench/link_worlds.py --world DIR [--world DIR ...] [--set text_min=0.9 ...]

Each world's ads are enriched exactly as the worker enriches them (`profile_ad` on crawl-shaped
documents from tests/world_index.py, images from a content-addressed store) and cached beside the
world (`<world>/.enriched-<version>.pkl`), so trying a threshold costs only the linking. Linking
is `enrich.linking.link` on `enrich.facts.facts_from_source`, as in the worker. Printed per world:
pairwise and B-cubed scores against the truth, the largest cluster, false merges inside each
hard-negative group (ads sharing a placeholder, the stock photo, a boilerplate sentence, a footer
number, of different posters, put in one cluster; after the slash, those joined by that
generic thing itself accepted as evidence), and recall on the true pairs that share any
evidence (the measure for partial crawls). `--baseline` scores the naive union the issue measured
(text Jaccard 0.5, phonenumbers' matcher, pHash within 8 bits) side by side; `--against REV` also
scores the enrichment and linker of an earlier commit (e.g. c683daa, before this redesign) on the
same crawl-shaped documents, in a subprocess with that commit's code on its path.
Which seeds tuned the defaults and which only report is said in the README.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import pickle
import sys
import time
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from world_index import enriched_docs, world_docs  # noqa: E402

from crawler.imagestore import ImageStore  # noqa: E402
from demo.generator import generate_world  # noqa: E402
from demo.world import evidence_keys, read_truth  # noqa: E402
from enrich.comparison import LinkRules  # noqa: E402
from enrich.evaluation import score  # noqa: E402
from enrich.facts import facts_from_source  # noqa: E402
from enrich.linking import link  # noqa: E402
from enrich.profile import ENRICH_VERSION  # noqa: E402

TARGETS = {"pairwise_f1": 0.95, "bcubed_f1": 0.95, "evidence_recall": 0.90}


_LINKING = {"arrays", "linking", "blocking", "comparison", "scoring", "hubs", "bridges", "explain", "clustering", "summary",
            "worker", "facts", "evaluation", "cli", "photos", "textsim", "__init__"}


def _enrichment_digest() -> str:
    """A digest of the enrichment code (not the linking code): a changed extractor re-enriches."""
    import hashlib

    digest = hashlib.sha1(ENRICH_VERSION.encode())
    for path in sorted((ROOT / "enrich").glob("*.py")):
        if path.stem not in _LINKING:
            digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def enriched_world(world: Path) -> dict[str, dict]:
    """doc id -> enriched document, cached beside the world (keyed by the enrichment code)."""
    cache = world / f".enriched-{_enrichment_digest()}.pkl"
    if cache.exists() and cache.stat().st_mtime >= (world / "truth.jsonl").stat().st_mtime:
        return pickle.loads(cache.read_bytes())
    enriched = enriched_docs(world, world / ".image-store", processes=os.cpu_count() or 1)
    cache.write_bytes(pickle.dumps(enriched))
    return enriched


def _groups(truth: list[dict]) -> dict[str, dict[str, set[str]]]:
    """Hard-negative groups (ads of different posters that share something generic): kind -> value -> ads."""
    groups: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for t in truth:
        doc = f"{t['site']}:{t['ad_id']}"
        hard = t["hard_negatives"]
        for kind in ("placeholder_phone", "boilerplate", "switchboard", "footer_phone", "shared_template"):
            if hard.get(kind):
                groups[kind][str(hard[kind])].add(doc)
        for base in hard.get("stock_bases") or []:
            groups["stock_photo"][base].add(doc)
    return groups


def _evidence_pairs(truth: list[dict]) -> set[tuple[str, str]]:
    """True pairs (same poster) whose ads share a contact, a photo base or a template (demo.world.evidence_keys)."""
    by_poster: dict[str, list[tuple[str, set[str]]]] = defaultdict(list)
    for t in truth:
        by_poster[t["poster_id"]].append((f"{t['site']}:{t['ad_id']}", evidence_keys(t)))
    pairs = set()
    for ads in by_poster.values():
        for (a, ma), (b, mb) in itertools.combinations(ads, 2):
            if ma & mb:
                pairs.add((a, b))
    return pairs


def _diagnose(result, truth: dict[str, str], top: int) -> None:
    """Print the accepted links that join ads of different posters, worst first (what to fix next)."""
    wrong: Counter = Counter()
    example = {}
    for ad, records in result.links.items():
        for r in records:
            if r.get("suppressed") or truth.get(ad) == truth.get(r["ad"]):
                continue
            name = r["detail"] if r["evidence"] == "identifier" else f"{r['evidence']} {r['detail'][:40]}"
            wrong[name] += 1
            example[name] = (ad, r["ad"])
    for name, count in wrong.most_common(top):
        print(f"    false link x{count}: {name}  e.g. {example[name]}")
    for b in result.bridges[:top]:
        print(f"    refused: {b['detail']}")
    print(f"    hubs by reason: {dict(Counter(h.reason for h in result.hubs.values()))}")


_PHONE_GROUPS = {"placeholder_phone", "footer_phone", "switchboard"}


def _is_group_key(key, kind: str, value: str) -> bool:
    """Is this key the hard negative itself: its number (in any normal form), a photo key for a stock
    photo, a template key for boilerplate and suggested templates?"""
    if kind in _PHONE_GROUPS:
        digits = "".join(c for c in value if c.isdigit())
        return key.kind == "identifier" and "".join(c for c in key.name if c.isdigit())[-7:] == digits[-7:]
    return key.kind == ("image" if kind == "stock_photo" else "text")


def _through_group_keys(result, truth: dict[str, str], groups) -> dict[str, int]:
    """False pairs joined by a hard negative's own key accepted as evidence (a hub not caught): per
    kind, over accepted keys that are the hard negative (`_is_group_key`) with most of their ads in
    its group, pairs of its ads of different posters."""
    links = result.links
    group_of: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for kind, by_value in groups.items():
        for value, members in by_value.items():
            for m in members:
                group_of[m].append((kind, value))
    out = {kind: 0 for kind in groups}
    for index, key in enumerate(links.keys):
        if index in links.hubs:
            continue
        ads = [links.ads[m].doc_id for m in key.members.tolist() if (index, m) not in links.refused]
        inside: dict[tuple[str, str], list[str]] = defaultdict(list)
        for a in ads:
            for g in group_of.get(a, ()):
                inside[g].append(a)
        for (kind, value), members in inside.items():
            if not _is_group_key(key, kind, value):
                continue
            if len(members) >= 2 and len(members) >= 0.5 * len(ads):
                posters = Counter(truth[a] for a in members)
                out[kind] += len(members) * (len(members) - 1) // 2 - sum(c * (c - 1) // 2 for c in posters.values())
    return out


def evaluate(world: Path, rules: LinkRules, baseline: bool = False, against: str | None = None,
             diagnose: int = 0) -> dict:
    enriched = enriched_world(world)
    truth_records = read_truth(world)
    truth = {f"{t['site']}:{t['ad_id']}": t["poster_id"] for t in truth_records}
    facts = [facts_from_source(doc_id, src) for doc_id, src in enriched.items()]
    began = time.perf_counter()
    stats: dict = {}
    if against:
        predicted = _legacy(world, against)
    elif baseline:
        predicted = _naive_union(facts, enriched)
    else:
        result = link(facts, rules)
        predicted = {m: c.cluster_id for c in result.clusters for m in c.members}
        stats = result.stats
        if diagnose:
            _diagnose(result, truth, diagnose)
    seconds = time.perf_counter() - began
    s = score({ad: predicted.get(ad, ad) for ad in truth}, truth)
    false_merges = {}
    for kind, groups in _groups(truth_records).items():
        wrong = 0
        for members in groups.values():
            by_cluster = defaultdict(list)
            for m in members:
                if m in predicted:
                    by_cluster[predicted[m]].append(truth[m])
            for posters in by_cluster.values():
                same = sum(c * (c - 1) // 2 for c in Counter(posters).values())
                wrong += len(posters) * (len(posters) - 1) // 2 - same
        false_merges[kind] = wrong
    through = _through_group_keys(result, truth, _groups(truth_records)) if not (against or baseline) else {}
    evidence = _evidence_pairs(truth_records)
    found = sum(1 for a, b in evidence if a in predicted and predicted.get(a) == predicted.get(b))
    family = json.loads((world / "world.json").read_text()).get("family", {})
    names = family.get("names", ["baseline"]) if isinstance(family, dict) else [family]
    return {"world": str(world), "family": ",".join(names),
            "seed": json.loads((world / "world.json").read_text()).get("seed"),
            "ads": s.ads, "link_s": round(seconds, 1), "pairwise_p": s.pairwise_precision,
            "pairwise_r": s.pairwise_recall, "pairwise_f1": s.pairwise_f1, "bcubed_f1": s.bcubed_f1,
            "largest": s.largest_predicted, "largest_true": s.largest_true,
            "purity": s.largest_predicted_purity, "false_merges": false_merges, "through_key": through,
            "evidence_recall": found / len(evidence) if evidence else 1.0, "stats": stats}


_LEGACY = """
import pickle, sys
from enrich.blocking import AdFacts, ImageKey, text_codes
from enrich.linking import link
from enrich.profile import profile_ad
docs = pickle.load(open(sys.argv[1], "rb"))
facts = []
for doc_id, doc, image_dir in docs:
    images = {}
    for image in doc.get("images", []):
        if image.get("path"):
            try:
                images[image["path"]] = open(image_dir + "/" + image["path"], "rb").read()
            except OSError:
                images[image["path"]] = None
    src = {**doc, **profile_ad(doc, images).fields}
    kept = [i for i in src.get("images", []) if i.get("phash") and not i.get("low_detail")]
    facts.append(AdFacts(doc_id=doc_id, first_seen=src.get("first_seen", ""),
                         identifiers=tuple(src.get("identifiers", [])),
                         placeholders=tuple(sorted({c["normalised"] for c in src.get("contacts", []) if c.get("placeholder")})),
                         text_keys=text_codes(src.get("minhash_bands", [])), template=src.get("template_text", ""),
                         images=tuple(ImageKey(i["phash"], i["dhash"], i["phash_flip"], i["dhash_flip"]) for i in kept)))
result = link(facts)
pickle.dump({m: c.cluster_id for c in result.clusters for m in c.members}, open(sys.argv[2], "wb"))
"""


def _legacy(world: Path, rev: str) -> dict[str, str]:
    """Clusters by the enrichment and linker of commit `rev` (see the module docstring)."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(prefix="adwatch-legacy-") as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(tree), rev], check=True)
        try:
            images = world / ".image-store"
            docs = [(doc_id, doc, str(images)) for doc_id, doc in world_docs(world, ImageStore(images))]
            (Path(tmp) / "docs.pkl").write_bytes(pickle.dumps(docs))
            subprocess.run([sys.executable, "-c", _LEGACY, str(Path(tmp) / "docs.pkl"), str(Path(tmp) / "out.pkl")],
                           check=True, cwd=tmp, env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"})
            return pickle.loads((Path(tmp) / "out.pkl").read_bytes())
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False)


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
    parser.add_argument("--against", help="also score the enrichment and linker of this commit")
    parser.add_argument("--diagnose", type=int, default=0, help="print the N worst false links per world")
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
    methods = [("adwatch", {})] + ([("naive union", {"baseline": True})] if args.baseline else []) + \
              ([(f"at {args.against}", {"against": args.against})] if args.against else [])
    for world in worlds:
        for method, options in methods:
            r = evaluate(world, rules, diagnose=args.diagnose if method == "adwatch" else 0, **options)
            r["method"] = method
            results.append(r)
            merges = " ".join(f"{k}={v}" + (f"/{r['through_key'][k]}" if k in r["through_key"] else "")
                              for k, v in sorted(r["false_merges"].items()))
            print(f"{r['method']:11s} {r['family']:>14s} seed {r['seed']} {r['ads']:6d} ads  "
                  f"P {r['pairwise_p']:.3f} R {r['pairwise_r']:.3f} F1 {r['pairwise_f1']:.3f} "
                  f"(x{r['pairwise_f1'] / TARGETS['pairwise_f1']:.2f})  B3 {r['bcubed_f1']:.3f}  "
                  f"evidence recall {r['evidence_recall']:.3f}  largest {r['largest']} (true {r['largest_true']}, "
                  f"purity {r['purity']:.2f})  false merges: {merges or 'none'}  [{r['link_s']} s]", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
