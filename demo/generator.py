"""Generate a reproducible demo world: posters, ads in posting order, truth, and image files.

Text and truth are written line by line as ads are composed. Images are rendered by a process pool, one
batch of pixels in memory per worker: independent posters' photos (each base used once) stream to the
pool while ads are composed; controllers' photos wait to the end and go sorted by base photo, so each
base is rendered about once however many variants it has.
Same seed and switches -> byte-identical ads.jsonl and truth.jsonl (images are deterministic too).
World families (demo.family) change the population, the ads, the pages or which ads are written; the
baseline world (no family) is byte-identical to what this generator wrote before families existed.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from demo.compose import STOCK_VERSIONS, AdPlan, Switches, WorldState, compose_ad, day_date
from demo.family import FAMILY_PARAMS, Family, make_family
from demo.hubs import make_footers, make_hubs
from demo.photos import ImageJob, write_images
from demo.population import (BaseCounter, apply_family, controller_sizes, geography, independent_sizes,
                             make_controller, make_evasive, make_independent)
from demo.world import ADS_FILE, FORMAT_VERSION, IMAGES_DIR, TRUTH_FILE, WORLD_FILE, WorldError

_BATCH = 128  # image jobs per worker task
_POOL_MIN_ADS = 500  # below this many ads a pool costs more than it saves


@dataclass
class WorldSummary:
    out_dir: str
    n_ads: int
    days: int
    n_controllers: int
    n_independent_posters: int
    controller_ads: int
    n_images: int
    image_bytes: int
    seconds: float
    family: str = "baseline"
    world_ads: int = 0  # ads in the whole world; more than n_ads (the ads written) in a partial world


def generate_world(out_dir: str | Path, n_ads: int, seed: int, workers: int | None = None,
                   family: str | list[str] | None = "baseline", **switches) -> WorldSummary:
    """Write a world of `n_ads` ads to `out_dir` (replacing an earlier world there).

    `family`: "baseline" or names from demo.family.FAMILIES, comma-separated or a list. Keyword switches are
    `Switches` fields (realism on/off, days, controller share) or `Family` parameters (languages,
    evasive_share, evasive_kinds, evasive_sizes, partial_share, drift, no_city_share, extra_hard_negatives).
    In a partial world `n_ads` is the whole world and about `partial_share` of it is written.
    """
    started = time.perf_counter()
    if n_ads < 1:
        raise ValueError(f"n_ads must be >= 1, got {n_ads}")
    fam = make_family(family, **{k: switches.pop(k) for k in FAMILY_PARAMS if k in switches})
    sw = Switches(**switches)
    if sw.days < 1:
        raise ValueError(f"days must be >= 1, got {sw.days}")
    if not 0.0 <= sw.controller_share <= 1.0:
        raise ValueError(f"controller_share must be between 0 and 1, got {sw.controller_share}")
    if sum(fam.evasive_sizes) >= n_ads:
        raise ValueError(f"evasive_sizes {list(fam.evasive_sizes)} need more ads than the world has ({n_ads})")
    root = _prepare(Path(out_dir))
    rnd = random.Random(f"{seed}:population")
    bases = BaseCounter(seed)
    posters = _posters(n_ads, sw, rnd, bases, fam, seed)
    plans = _schedule(posters, sw.days, rnd)
    state = WorldState(seed=seed, switches=sw, stock_seed=bases.stock_seed, family=fam, bases=bases)
    if fam.extra_hubs:
        state.hubs = make_hubs(seed, n_ads, geography(fam), bases.stock_seed)
    if fam.on("footer"):
        state.footers = make_footers(seed, geography(fam), national=fam.on("no-country"))
    keep = _sample(plans, fam, seed)

    stock = [ImageJob(f"stock/stock-{v}.jpg", state.stock_seed, {"quality": 95 - 20 * v}) for v in range(STOCK_VERSIONS)]
    stock += state.hubs.image_jobs() if state.hubs else []
    with _ImageWriter(root / IMAGES_DIR, workers, n_ads) as images:
        images.submit(stock)
        counts = _write_ads(root, plans, state, keep, images)
        images.submit(state.ready)
        images.submit(sorted(state.jobs, key=lambda job: (job.base_seed, job.file)))
        image_bytes, n_images = images.finish()

    written = counts.ads
    controllers = [p for p in posters if p.kind == "controller"]  # of the whole world, in a partial one too
    meta = {
        "version": FORMAT_VERSION, "complete": True, "seed": seed, "n_ads": written, "days": sw.days,
        "day0": day_date(0), "switches": asdict(sw), "flavours": {"html": "/html/", "js": "/js/"},
        "n_controllers": len(controllers), "n_independent_posters": len(posters) - len(controllers),
        "n_images": n_images, "image_size": [640, 480],
        "family": fam.to_meta() | {"world_ads": n_ads, "counts": counts.meta()},
    }
    if state.hubs:
        meta["hard_negatives"] = state.hubs.to_meta()
    if state.footers:
        meta["footer"] = state.footers
    (root / WORLD_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                                   encoding="utf-8")
    return WorldSummary(str(root), written, sw.days, len(controllers), len(posters) - len(controllers),
                        sum(p.n_ads for p in controllers), n_images, image_bytes, time.perf_counter() - started,
                        ",".join(fam.names) or "baseline", n_ads)


def _write_ads(root: Path, plans: list[AdPlan], state: WorldState, keep: set[int] | None,
               images: "_ImageWriter") -> "_Counts":
    """Compose every ad in posting order and write those kept; leaves the image jobs still to render in state."""
    counts, kept_files = _Counts(), set()
    with (root / ADS_FILE).open("w", encoding="utf-8") as ads_out, (root / TRUTH_FILE).open("w", encoding="utf-8") as truth_out:
        for plan in plans:
            ad, truth = compose_ad(plan, state)  # every ad is composed, so a sample is a sample of one world
            if keep is not None and plan.number not in keep:
                continue
            counts.add(truth)
            kept_files.update(ad["images"])
            ads_out.write(json.dumps(ad, ensure_ascii=False, separators=(",", ":")) + "\n")
            truth_out.write(json.dumps(truth, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n")
            if keep is None and len(state.ready) >= _BATCH:
                images.submit(state.ready)
                state.ready = []
    if keep is not None:  # only the photos some written ad shows
        state.ready = [job for job in state.ready if job.file in kept_files]
        state.jobs = [job for job in state.jobs if job.file in kept_files]
    return counts


class _Counts:
    """What a world holds, for world.json: ads written, ads per language, evasive controllers and their ads."""

    def __init__(self):
        self.ads = 0
        self.languages: dict[str, int] = {}
        self.evasive: dict[str, dict] = {}

    def add(self, truth: dict) -> None:
        self.ads += 1
        language = truth.get("language", "en")
        self.languages[language] = self.languages.get(language, 0) + 1
        evasion = truth.get("evasion")
        if evasion:
            entry = self.evasive.setdefault(truth["poster_id"], {"kind": evasion["kind"], "planted": evasion["planted"],
                                                                 "ads": 0})
            entry["ads"] += 1

    def meta(self) -> dict:
        kinds: dict[str, dict] = {}
        for entry in self.evasive.values():
            kind = kinds.setdefault(entry["kind"], {"controllers": 0, "ads": 0})
            kind["controllers"] += 1
            kind["ads"] += entry["ads"]
        planted = {poster: entry["ads"] for poster, entry in self.evasive.items() if entry["planted"]}
        return {"languages": dict(sorted(self.languages.items())), "evasive": kinds, "planted_evasive": planted}


def _sample(plans: list[AdPlan], fam: Family, seed: int) -> set[int] | None:
    """Ad numbers a partial crawl sees: each ad independently with probability partial_share (None: all)."""
    if not fam.on("partial"):
        return None
    rnd = random.Random(f"{seed}:partial")
    return {plan.number for plan in plans if rnd.random() < fam.partial_share}


def _prepare(root: Path) -> Path:
    """Make `root` ready: create it, or clear an earlier world; refuse to clear anything else."""
    if root.exists() and not root.is_dir():
        raise WorldError(f"{root} exists and is not a directory; choose another --out")
    if root.is_dir() and any(root.iterdir()):
        known = {WORLD_FILE, ADS_FILE, TRUTH_FILE, IMAGES_DIR}
        strangers = [p.name for p in root.iterdir() if p.name not in known]
        if strangers:
            raise WorldError(f"{root} is not empty and not a demo world (has {strangers[:3]}); choose an empty --out")
        for name in (WORLD_FILE, ADS_FILE, TRUTH_FILE):
            (root / name).unlink(missing_ok=True)  # world.json first: a half-written world never looks complete
        shutil.rmtree(root / IMAGES_DIR, ignore_errors=True)
    (root / IMAGES_DIR).mkdir(parents=True, exist_ok=True)
    return root


def _posters(n_ads: int, sw: Switches, rnd: random.Random, bases: BaseCounter, fam: Family, seed: int):
    geo = geography(fam)
    planted = sum(fam.evasive_sizes)
    sizes = controller_sizes(max(0, round(n_ads * sw.controller_share) - planted), rnd)
    posters = [make_controller(i + 1, size, sw.days, bases, rnd, geo) for i, size in enumerate(sizes)]
    for j, size in enumerate(fam.evasive_sizes):  # planted: one evasive controller of each asked size
        poster = make_controller(len(sizes) + j + 1, size, sw.days, bases, rnd, geo)
        make_evasive(poster, fam.evasive_kinds[j % len(fam.evasive_kinds)], rnd, planted=True)
        posters.append(poster)
    independent = independent_sizes(n_ads - sum(sizes) - planted, rnd)
    posters += [make_independent(i + 1, size, sw.days, bases, rnd, geo) for i, size in enumerate(independent)]
    if fam.changes_ads:
        apply_family(posters, fam, seed, bases)
    return posters


def _schedule(posters, days: int, rnd: random.Random) -> list[AdPlan]:
    """Every ad's first day and flavour; ad numbers follow posting order, as on a real site."""
    slots = []
    for poster in posters:
        start, end = poster.active
        home_flavour = rnd.choice(("html", "js"))
        for _ in range(poster.n_ads):
            flavour = rnd.choice(("html", "js")) if poster.kind == "controller" else home_flavour
            slots.append((rnd.randint(start, end), rnd.random(), flavour, poster))
    slots.sort(key=lambda slot: (slot[0], slot[1]))
    return [AdPlan(number, f"{'H' if flavour == 'html' else 'J'}{number:07d}", flavour, poster, day)
            for number, (day, _, flavour, poster) in enumerate(slots, 1)]


class _ImageWriter:
    """Renders image jobs in worker processes while ads are still being composed; `finish` waits for all.

    Jobs arrive in batches; a batch sorted by base photo renders each base once per batch. Small worlds
    render in this process (a pool costs more than it saves).
    """

    def __init__(self, images_dir: Path, workers: int | None, n_ads: int):
        self.images_dir = str(images_dir)
        workers = workers or os.cpu_count() or 1
        use_pool = workers > 1 and n_ads >= _POOL_MIN_ADS
        self._pool = multiprocessing.get_context("fork").Pool(workers) if use_pool else None
        self._pending: list = []
        self._bytes = 0
        self.count = 0

    def __enter__(self) -> "_ImageWriter":
        return self

    def __exit__(self, *exc) -> None:
        if self._pool:
            self._pool.terminate()  # after finish() this only reaps idle workers; after an error it stops them
            self._pool.join()

    def submit(self, jobs: list[ImageJob]) -> None:
        self.count += len(jobs)
        for start in range(0, len(jobs), _BATCH):
            batch = jobs[start:start + _BATCH]
            if self._pool:
                self._pending.append(self._pool.apply_async(write_images, (self.images_dir, batch)))
            else:
                self._bytes += write_images(self.images_dir, batch)

    def finish(self) -> tuple[int, int]:
        """Wait for every submitted job; returns (bytes written, image count)."""
        self._bytes += sum(result.get() for result in self._pending)
        self._pending = []
        return self._bytes, self.count
