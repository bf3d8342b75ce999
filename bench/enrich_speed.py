"""Benchmark: enrichment throughput — ads/s for text (normalise + contacts + signature), images/s for hashing.

Usage: python bench/enrich_speed.py [--world DIR] [--ads 20000] [--images 2000] [--workers 2] [--drop-country]
With --world (a demo world directory) it uses that world's ad texts and JPEGs; otherwise synthetic ads
(bench/enrich_synthetic.py) and 640x480 photo-like JPEGs made here. Prints per-stage cost, one-process
and `--workers`-process throughput, and the ratio to the issue 5 targets (2,000 ads/s and 200 images/s
on 2 cores). Figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from enrich.country import infer_country  # noqa: E402
from enrich.identifiers import extract_ad_contacts  # noqa: E402
from enrich.images import image_hashes  # noqa: E402
from enrich.language import detect_language  # noqa: E402
from enrich.normalise import normalise_text  # noqa: E402
from enrich.signatures import lsh_band_keys, text_signature  # noqa: E402
from enrich.slots import mask_slots  # noqa: E402

TARGET_ADS_PER_S = 2_000
TARGET_IMAGES_PER_S = 200


def enrich_text(ad: dict) -> int:
    """Everything the worker does to an ad's text; returns a count so the work cannot be optimised away."""
    language = detect_language(f"{ad['title']}\n{ad['body']}")
    # With the page's country inference returns at once; without one it reads city, phones, language.
    country = infer_country(ad, language.language if language else None).country
    normalised = normalise_text(f"{ad['title']}\n{ad['body']}")
    masked = mask_slots(normalised.text, [ad["city"].lower()] if ad.get("city") else [])
    keys = lsh_band_keys(text_signature(masked))
    contacts = extract_ad_contacts(
        {"title": ad["title"], "body": ad["body"], "contact_text": ad.get("contact", "")}, country
    )
    return len(keys) + len(contacts)


def _run_texts(ads: list[dict]) -> float:
    """CPU seconds this process spent enriching `ads` (CPU time, so other load on the machine does not count)."""
    started = time.process_time()
    for ad in ads:
        enrich_text(ad)
    return time.process_time() - started


def _run_images(blobs: list[bytes]) -> float:
    started = time.process_time()
    for data in blobs:
        image_hashes(data)
    return time.process_time() - started


def _measure(func, items: list, workers: int) -> tuple[float, float, float]:
    """(wall items/s in one process, wall items/s over `workers` processes, CPU-time items/s over `workers`).

    The last figure divides the work by the slowest worker's CPU time: what `workers` dedicated
    cores deliver, whatever else the machine is running. Each worker takes an equal slice (fork).
    """
    started = time.perf_counter()
    func(items)
    one = len(items) / (time.perf_counter() - started)
    slices = [items[i::workers] for i in range(workers)]
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        pool.map(func, [items[:10]] * workers)  # warm the workers up
        started = time.perf_counter()
        cpu = pool.map(func, slices)
        wall = time.perf_counter() - started
    return one, len(items) / wall, len(items) / max(cpu)


def synthetic_ads(n: int) -> list[dict]:
    from enrich_synthetic import CITIES, generate

    return [
        {"title": ad.text[:60], "body": ad.text, "contact": "", "city": CITIES[ad.controller % len(CITIES)], "country": "US"}
        for ad in generate(n, max(10, n // 10), seed=1)
    ]


def synthetic_jpegs(n: int) -> list[bytes]:
    blobs = []
    for seed in range(n):
        rng = np.random.default_rng(seed)
        image = Image.fromarray((rng.random((6, 8, 3)) * 255).astype(np.uint8)).resize((640, 480), Image.Resampling.BICUBIC)
        draw = ImageDraw.Draw(image)
        for _ in range(8):
            x, y = int(rng.integers(0, 600)), int(rng.integers(0, 440))
            draw.ellipse((x, y, x + int(rng.integers(20, 200)), y + int(rng.integers(20, 200))), fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
        noisy = np.asarray(image).astype(np.int16) + rng.integers(-12, 13, (480, 640, 3))  # sensor noise: real JPEG entropy
        buffer = io.BytesIO()
        Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=85)
        blobs.append(buffer.getvalue())
    return blobs


def stage_costs(ads: list[dict]) -> None:
    sample = ads[:2000]
    texts = [f"{a['title']}\n{a['body']}" for a in sample]
    enrich_text(dict(sample[0], country=None))  # load the gazetteer, name list and language model once, untimed
    timings = {}
    started = time.perf_counter()
    languages = [detect_language(t) for t in texts]
    timings["detect_language"] = time.perf_counter() - started
    started = time.perf_counter()
    for a, language in zip(sample, languages):
        infer_country(a, language.language if language else None)
    timings["infer_country"] = time.perf_counter() - started
    started = time.perf_counter()
    normalised = [normalise_text(t).text for t in texts]
    timings["normalise_text"] = time.perf_counter() - started
    started = time.perf_counter()
    masked = [mask_slots(t) for t in normalised]
    timings["mask_slots"] = time.perf_counter() - started
    started = time.perf_counter()
    signatures = [text_signature(m) for m in masked]
    timings["text_signature"] = time.perf_counter() - started
    started = time.perf_counter()
    for s in signatures:
        lsh_band_keys(s)
    timings["lsh_band_keys"] = time.perf_counter() - started
    started = time.perf_counter()
    for a in sample:
        extract_ad_contacts({"title": a["title"], "body": a["body"], "contact_text": a.get("contact", "")}, a.get("country"))
    timings["extract_ad_contacts"] = time.perf_counter() - started
    print(f"per-stage cost (mean over {len(sample)} ads, mean body {np.mean([len(a['body']) for a in sample]):.0f} chars):")
    for name, seconds in timings.items():
        print(f"  {name:20s} {seconds / len(sample) * 1e6:7.1f} us/ad")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", default=None)
    parser.add_argument("--ads", type=int, default=20_000)
    parser.add_argument("--images", type=int, default=2_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--drop-country", action="store_true", help="remove every ad's country: inference does the work")
    args = parser.parse_args()
    print(f"cpus available: {len(os.sched_getaffinity(0))}; workers: {args.workers}")

    if args.world:
        world = Path(args.world)
        with (world / "ads.jsonl").open(encoding="utf-8") as f:
            ads = [json.loads(line) for _, line in zip(range(args.ads), f)]
        paths = sorted((world / "images").rglob("*.jpg"))
        blobs = [p.read_bytes() for p in paths if p.stat().st_size < 2_000_000][: args.images]
        print(f"world {world}: {len(ads)} ads, {len(blobs)} JPEGs")
    else:
        ads = synthetic_ads(args.ads)
        blobs = synthetic_jpegs(args.images)
        print(f"synthetic: {len(ads)} ads, {len(blobs)} 640x480 JPEGs (mean {np.mean([len(b) for b in blobs]) / 1024:.0f} KiB)")

    if args.drop_country:
        ads = [dict(ad, country=None) for ad in ads]
        print("country removed from every ad")
    enrich_text(ads[0])  # builds what is built on first use (the number-word lexicon and its regex, ~0.5 s)
    stage_costs(ads)
    print(f"load average before timing: {os.getloadavg()[0]:.1f} (other work on the machine slows wall-clock figures)")
    one, wall, cpu = _measure(_run_texts, ads, args.workers)
    print(f"text enrichment: {one:,.0f} ads/s in 1 process; {args.workers} processes: {wall:,.0f} ads/s wall, "
          f"{cpu:,.0f} ads/s by CPU time (target {TARGET_ADS_PER_S:,}: x{cpu / TARGET_ADS_PER_S:.2f})")
    one, wall, cpu = _measure(_run_images, blobs, args.workers)
    print(f"image hashing: {one:,.0f} images/s in 1 process; {args.workers} processes: {wall:,.0f} images/s wall, "
          f"{cpu:,.0f} images/s by CPU time (target {TARGET_IMAGES_PER_S}: x{cpu / TARGET_IMAGES_PER_S:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
