"""Benchmark: quality of the pure enrichment functions against a demo world's truth.

Usage: python bench/enrich_quality.py [--world DIR] [--ads 5000] [--seed 5]
Generates the world into DIR first when DIR has no truth.jsonl. Prints:
  * phone extraction precision / recall (micro over (ad, phone) pairs; placeholders excluded and
    reported apart), recall by obfuscation kind; email and handle precision / recall;
  * image near-duplicate precision / recall over all pairs of distinct image files (same base photo
    = duplicate), at several pHash radii, with and without flip matching, plus how many duplicate
    pairs the multi-index band keys would put in front of the verifier;
  * text blocking: how often two ads of one template share a MinHash band key, against ads of
    different posters.
Issue 5 targets: phone recall >= 0.98 at precision >= 0.99; image recall >= 0.95 at precision >= 0.99.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from enrich.identifiers import extract_ad_contacts  # noqa: E402
from enrich.images import ImageError, hash_band_keys, hash_query_keys, image_hashes  # noqa: E402
from enrich.normalise import normalise_text  # noqa: E402
from enrich.signatures import lsh_band_keys, text_signature  # noqa: E402
from enrich.slots import mask_slots  # noqa: E402


def load(world: Path) -> tuple[list[dict], list[dict]]:
    with (world / "ads.jsonl").open(encoding="utf-8") as f:
        ads = [json.loads(line) for line in f]
    with (world / "truth.jsonl").open(encoding="utf-8") as f:
        truth = [json.loads(line) for line in f]
    return ads, truth


def _pr(tp: int, fp: int, fn: int) -> str:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return f"precision {precision:.4f}  recall {recall:.4f}  (tp {tp}, fp {fp}, fn {fn})"


def contacts_quality(ads: list[dict], truth: list[dict], show: int) -> None:
    counts = {kind: Counter() for kind in ("phone", "email", "handle")}
    by_form: dict[str, Counter] = defaultdict(Counter)
    placeholder = Counter()
    examples: list[str] = []
    started = time.perf_counter()
    for ad, true in zip(ads, truth, strict=True):
        fields = {"title": ad["title"], "body": ad["body"], "contact_text": ad["contact"]}
        found = extract_ad_contacts(fields, ad["country"])
        got = {
            "phone": {c.normalised for c in found if c.kind == "phone" and not c.placeholder},
            "email": {c.normalised for c in found if c.kind == "email"},
            # 'whatsapp:+E164' handles restate a phone; they are scored as phones.
            "handle": {c.normalised for c in found if c.kind == "handle" and ":+" not in c.normalised},
        }
        want = {
            "phone": set(true["phones"]),
            "email": {e.lower() for e in true["emails"]},
            "handle": {h.replace(":@", ":").lower() for h in true["handles"]},
        }
        for kind in counts:
            counts[kind]["tp"] += len(got[kind] & want[kind])
            counts[kind]["fp"] += len(got[kind] - want[kind])
            counts[kind]["fn"] += len(want[kind] - got[kind])
            if kind == "phone" and got[kind] != want[kind] and len(examples) < show:
                examples.append(f"  {ad['ad_id']} {ad['country']} want {sorted(want[kind])} got {sorted(got[kind])}\n"
                                f"     body: {ad['body'][-160:]!r}\n     contact: {ad['contact']!r}")
        for contact in true["contacts"]:
            if contact["kind"] == "phone":
                form = contact["obfuscation"] or "none"
                by_form[form]["n"] += 1
                by_form[form]["found"] += contact["value"] in got["phone"]
        if true["hard_negatives"]["placeholder_phone"]:
            placeholder["ads"] += 1
            placeholder["flagged"] += any(c.kind == "phone" and c.placeholder for c in found)
    seconds = time.perf_counter() - started
    print(f"contacts: {len(ads)} ads in {seconds:.2f} s ({len(ads) / seconds:.0f} ads/s, extract_ad_contacts only)")
    for kind, c in counts.items():
        print(f"  {kind:7s} {_pr(c['tp'], c['fp'], c['fn'])}")
    print("  phone recall by obfuscation: " + ", ".join(
        f"{form} {c['found'] / c['n']:.3f} ({c['n']})" for form, c in sorted(by_form.items())))
    print(f"  placeholder phones flagged in {placeholder['flagged']} of {placeholder['ads']} ads that show one")
    if examples:
        print("  phone mismatches:\n" + "\n".join(examples))


def _as_uint64(hexes: list[str]) -> np.ndarray:
    return np.array([int(h, 16) for h in hexes], dtype=np.uint64)


def images_quality(world: Path, truth: list[dict], max_files: int) -> None:
    files: dict[str, dict] = {}
    for true in truth:
        for image in true["images"]:
            files.setdefault(image["file"], image)
    names = sorted(files)[:max_files]
    hashes, errors, fault_ok, faults = {}, Counter(), 0, 0
    started = time.perf_counter()
    for name in names:
        result = image_hashes((world / "images" / name).read_bytes())
        fault = files[name]["fault"]
        if fault:
            faults += 1
            fault_ok += isinstance(result, ImageError)
        if isinstance(result, ImageError):
            errors[result.reason] += 1
        else:
            hashes[name] = result
    seconds = time.perf_counter() - started
    print(f"images: {len(names)} files hashed in {seconds:.2f} s ({len(names) / seconds:.0f} images/s, one process)")
    print(f"  errors {dict(errors)}; {fault_ok} of {faults} faulted files (corrupt/oversized) reported as errors")

    ok = sorted(hashes)
    base = np.array([hash(files[n]["base_id"]) for n in ok])
    same = base[:, None] == base[None, :]
    upper = np.triu(np.ones_like(same, dtype=bool), k=1)
    positives = same & upper
    phash = _as_uint64([hashes[n].phash for n in ok])
    phash_flip = _as_uint64([hashes[n].phash_flip for n in ok])
    dhash = _as_uint64([hashes[n].dhash for n in ok])
    dhash_flip = _as_uint64([hashes[n].dhash_flip for n in ok])
    direct = np.bitwise_count(phash[:, None] ^ phash[None, :])
    # b is a mirrored copy of a when b's hash is close to a's mirrored hash (either way round).
    flipped = np.minimum(np.bitwise_count(phash_flip[:, None] ^ phash[None, :]),
                         np.bitwise_count(phash[:, None] ^ phash_flip[None, :]))
    d_direct = np.bitwise_count(dhash[:, None] ^ dhash[None, :])
    d_flipped = np.minimum(np.bitwise_count(dhash_flip[:, None] ^ dhash[None, :]),
                           np.bitwise_count(dhash[:, None] ^ dhash_flip[None, :]))
    n_pos = int(positives.sum())
    print(f"  {len(ok)} hashed files, {n_pos} duplicate pairs, {int(upper.sum()) - n_pos} distinct pairs")
    if not n_pos:
        return
    for flip in (False, True):
        p_dist = np.minimum(direct, flipped) if flip else direct
        d_dist = np.minimum(d_direct, d_flipped) if flip else d_direct
        for radius in (6, 8, 10, 12, 14):
            predicted = (p_dist <= radius) & upper
            tp = int((predicted & positives).sum())
            fp = int((predicted & ~same).sum())
            both = (p_dist <= radius) & (d_dist <= radius + 6) & upper
            tp2, fp2 = int((both & positives).sum()), int((both & ~same).sum())
            print(f"  pHash<={radius:2d} flip={'yes' if flip else 'no '}: {_pr(tp, fp, n_pos - tp)}"
                  f" | +dHash<={radius + 6}: {_pr(tp2, fp2, n_pos - tp2)}")
    pos_dist = np.minimum(direct, flipped)[positives]
    print(f"  duplicate-pair pHash distance (flip-aware): p50 {np.percentile(pos_dist, 50):.0f}, "
          f"p95 {np.percentile(pos_dist, 95):.0f}, p99 {np.percentile(pos_dist, 99):.0f}, max {pos_dist.max()}")
    neg = np.minimum(direct, flipped)[~same & upper]
    print(f"  distinct-pair pHash distance: min {neg.min()}, p0.01 {np.percentile(neg, 0.01):.0f}, p1 {np.percentile(neg, 1):.0f}")
    for parts, flips in ((4, 0), (4, 1), (8, 0)):
        buckets: dict[str, list[int]] = defaultdict(list)
        for i, n in enumerate(ok):
            for key in hash_band_keys(hashes[n].phash, parts):
                buckets[key].append(i)
        candidates = set()
        for i, n in enumerate(ok):
            for key in hash_query_keys(hashes[n].phash, parts, flips) + hash_query_keys(hashes[n].phash_flip, parts, flips):
                candidates.update((min(i, j), max(i, j)) for j in buckets.get(key, ()) if j != i)
        rows, cols = np.nonzero(positives)
        met = sum((i, j) in candidates for i, j in zip(rows.tolist(), cols.tolist()))
        print(f"  multi-index {parts} parts, query flips {flips}: {met / n_pos:.4f} of duplicate pairs become candidates; "
              f"{len(candidates)} candidate pairs ({len(candidates) / int(upper.sum()):.4%} of all pairs)")


def text_blocking(ads: list[dict], truth: list[dict], pairs: int, seed: int) -> None:
    started = time.perf_counter()
    keys = []
    for ad in ads:
        masked = mask_slots(normalise_text(ad["title"] + ". " + ad["body"]).text, [ad["city"].lower()])
        keys.append(set(lsh_band_keys(text_signature(masked))))
    seconds = time.perf_counter() - started
    by_template: dict[str, list[int]] = defaultdict(list)
    for i, true in enumerate(truth):
        by_template[true["template_id"]].append(i)
    rnd = random.Random(seed)
    same = [(a, b) for ids in by_template.values() for a, b in zip(ids, ids[1:])]
    rnd.shuffle(same)
    same = same[:pairs]
    different = []
    while len(different) < pairs:
        a, b = rnd.randrange(len(ads)), rnd.randrange(len(ads))
        if truth[a]["poster_id"] != truth[b]["poster_id"]:
            different.append((a, b))
    met_same = sum(bool(keys[a] & keys[b]) for a, b in same) / max(1, len(same))
    met_diff = sum(bool(keys[a] & keys[b]) for a, b in different) / len(different)
    print(f"text blocking: signatures for {len(ads)} ads in {seconds:.2f} s; same-template pairs sharing a band key "
          f"{met_same:.4f} ({len(same)} pairs); different-poster pairs {met_diff:.4f} ({len(different)} pairs)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", default="/tmp/adwatch-enrich-quality")
    parser.add_argument("--ads", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--max-images", type=int, default=6000, help="cap on image files (all-pairs matrix)")
    parser.add_argument("--show", type=int, default=10, help="phone mismatches to print")
    args = parser.parse_args()
    world = Path(args.world)
    if not (world / "truth.jsonl").exists():
        from demo.generator import generate_world

        print(f"generating a {args.ads}-ad world (seed {args.seed}) in {world} ...")
        generate_world(world, args.ads, args.seed)
    ads, truth = load(world)
    print(f"world {world}: {len(ads)} ads")
    contacts_quality(ads, truth, args.show)
    images_quality(world, truth, args.max_images)
    text_blocking(ads, truth, pairs=5000, seed=args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
