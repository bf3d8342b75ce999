"""Generate a reproducible demo world: posters, ads in posting order, truth, and image files.

Text and truth are written line by line as ads are composed. Images are rendered by a process pool, one
batch of pixels in memory per worker: independent posters' photos (each base used once) stream to the
pool while ads are composed; controllers' photos wait to the end and go sorted by base photo, so each
base is rendered about once however many variants it has.
Same seed and switches -> byte-identical ads.jsonl and truth.jsonl (images are deterministic too).
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
from demo.photos import ImageJob, write_images
from demo.population import BaseCounter, controller_sizes, independent_sizes, make_controller, make_independent
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


def generate_world(out_dir: str | Path, n_ads: int, seed: int, workers: int | None = None, **switches) -> WorldSummary:
    """Write a world of `n_ads` ads to `out_dir` (replacing an earlier world there); switches: see `Switches`."""
    started = time.perf_counter()
    if n_ads < 1:
        raise ValueError(f"n_ads must be >= 1, got {n_ads}")
    sw = Switches(**switches)
    if sw.days < 1:
        raise ValueError(f"days must be >= 1, got {sw.days}")
    if not 0.0 <= sw.controller_share <= 1.0:
        raise ValueError(f"controller_share must be between 0 and 1, got {sw.controller_share}")
    root = _prepare(Path(out_dir))
    rnd = random.Random(f"{seed}:population")
    bases = BaseCounter(seed)
    posters = _posters(n_ads, sw, rnd, bases)
    plans = _schedule(posters, sw.days, rnd)
    state = WorldState(seed=seed, switches=sw, stock_seed=bases.stock_seed)

    stock = [ImageJob(f"stock/stock-{v}.jpg", state.stock_seed, {"quality": 95 - 20 * v}) for v in range(STOCK_VERSIONS)]
    with _ImageWriter(root / IMAGES_DIR, workers, n_ads) as images:
        images.submit(stock)
        with (root / ADS_FILE).open("w", encoding="utf-8") as ads_out, (root / TRUTH_FILE).open("w", encoding="utf-8") as truth_out:
            for plan in plans:
                ad, truth = compose_ad(plan, state)
                ads_out.write(json.dumps(ad, ensure_ascii=False, separators=(",", ":")) + "\n")
                truth_out.write(json.dumps(truth, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n")
                if len(state.ready) >= _BATCH:
                    images.submit(state.ready)
                    state.ready = []
        images.submit(state.ready)
        images.submit(sorted(state.jobs, key=lambda job: (job.base_seed, job.file)))
        image_bytes, n_images = images.finish()

    controllers = [p for p in posters if p.kind == "controller"]
    meta = {
        "version": FORMAT_VERSION, "complete": True, "seed": seed, "n_ads": n_ads, "days": sw.days,
        "day0": day_date(0), "switches": asdict(sw), "flavours": {"html": "/html/", "js": "/js/"},
        "n_controllers": len(controllers), "n_independent_posters": len(posters) - len(controllers),
        "n_images": n_images, "image_size": [640, 480],
    }
    (root / WORLD_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return WorldSummary(str(root), n_ads, sw.days, len(controllers), len(posters) - len(controllers),
                        sum(p.n_ads for p in controllers), n_images, image_bytes, time.perf_counter() - started)


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


def _posters(n_ads: int, sw: Switches, rnd: random.Random, bases: BaseCounter):
    sizes = controller_sizes(round(n_ads * sw.controller_share), rnd)
    posters = [make_controller(i + 1, size, sw.days, bases, rnd) for i, size in enumerate(sizes)]
    independent = independent_sizes(n_ads - sum(sizes), rnd)
    posters += [make_independent(i + 1, size, sw.days, bases, rnd) for i, size in enumerate(independent)]
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
