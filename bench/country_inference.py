"""Benchmark: country inference on a demo world with the countries taken away.

Usage: python bench/country_inference.py [--world DIR | --ads 2000 --seed 7]
Each ad of the world's ads.jsonl loses its `country`; `enrich.country.infer_country` (with the
language from `enrich.language.detect_language`) guesses it back. Printed: how often a country
is guessed and how often it is right, which clue decided, and the share of the truth's phone
numbers found as E.164 with no country (the baseline), with the inferred one, and with the true
one (the ceiling). The demo world uses the generator's own cities, so this measures the
mechanism, not coverage of real places (tests/enrich/test_enrich_country.py has hand-written cases).
Figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from enrich.country import infer_country  # noqa: E402
from enrich.identifiers import extract_ad_contacts  # noqa: E402
from enrich.language import detect_language  # noqa: E402


def _phones_found(ad: dict, truth: dict, country: str | None) -> tuple[int, int]:
    texts = {"title": ad.get("title"), "body": ad.get("body"), "contact_text": ad.get("contact")}
    found = {c.normalised for c in extract_ad_contacts(texts, country) if c.kind == "phone"}
    wanted = {c["value"] for c in truth.get("contacts", []) if c.get("kind") == "phone"}
    return len(wanted & found), len(wanted)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", type=Path, help="a demo world directory (default: generate one)")
    parser.add_argument("--ads", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    world = args.world
    if world is None:
        from demo.generator import generate_world

        world = Path(tempfile.mkdtemp(prefix="country-bench-"))
        generate_world(world, args.ads, args.seed)
    ads = [json.loads(line) for line in (world / "ads.jsonl").open(encoding="utf-8")]
    truths = {t["ad_id"]: t for t in (json.loads(line) for line in (world / "truth.jsonl").open(encoding="utf-8"))}

    detect_language("hola, me llamo Ana")  # load the language model and the gazetteer before timing
    infer_country({"city": "Sevilla", "body": "612 345 678"}, "es")
    guessed = right = 0
    how: Counter[str] = Counter()
    how_right: Counter[str] = Counter()
    phones = {"none": [0, 0], "inferred": [0, 0], "true": [0, 0]}
    seconds = 0.0
    for ad in ads:
        doc = {"title": ad.get("title"), "body": ad.get("body"), "contact_text": ad.get("contact"),
               "city": ad.get("city"), "region": ad.get("region")}
        started = time.process_time()
        language = detect_language("\n".join(t for t in (doc["title"], doc["body"]) if t))
        guess = infer_country(doc, language.language if language else None)
        seconds += time.process_time() - started
        if guess.country:
            guessed += 1
            how[guess.how] += 1
            if guess.country == ad["country"]:
                right += 1
                how_right[guess.how] += 1
        truth = truths.get(ad["ad_id"], {})
        for key, country in (("none", None), ("inferred", guess.country), ("true", ad["country"])):
            hit, total = _phones_found(ad, truth, country)
            phones[key][0] += hit
            phones[key][1] += total

    n = len(ads)
    print(f"world {world}: {n} ads, country removed from every one")
    print(f"guessed {guessed}/{n} ({guessed / n:.3f}); right {right}/{guessed} ({right / max(guessed, 1):.3f} of guesses, "
          f"{right / n:.3f} of ads)")
    for clue in ("city", "phone", "language"):
        print(f"  decided by {clue:8s}: {how[clue]:5d}  right {how_right[clue]:5d}")
    for key, (hit, total) in phones.items():
        print(f"phones as E.164 with {key:8s} country: {hit}/{total} ({hit / max(total, 1):.3f})")
    baseline = phones["none"][0] / max(phones["none"][1], 1)
    inferred = phones["inferred"][0] / max(phones["inferred"][1], 1)
    print(f"ratio inferred / no inference: {inferred / max(baseline, 1e-9):.2f}x")
    print(f"inference (language + country) CPU: {seconds / n * 1e6:.0f} us/ad ({n / max(seconds, 1e-9):,.0f} ads/s)")


if __name__ == "__main__":
    main()
