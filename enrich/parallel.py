"""Where the enrich stage's pure work runs: this process (the default), or Dask distributed workers.

The coordinator (one `adwatch enrich`, holding the enrich lease) keeps every read and write of the
index; an engine only computes. Enrichment goes out as chunks of pending ads (id + crawled fields;
workers read image files from the shared content-addressed image directory, crawler/imagestore.py),
cut by photo lane: the ads showing one photo go to one worker while it lives, which decodes the photo
once (enrich.images.ImageMemo) where round-robin chunks made every worker decode it; text
comparison goes out as chunks of candidate pairs with the templates they need. Chunks are cut by the
coordinator, each submitted once and its result taken once, in submission order: no ad is enriched
twice or skipped, and the score table is the single-process one element for element, so the
partition is identical whatever the number of workers. A worker that dies mid-chunk has the chunk
re-run elsewhere by the scheduler (Dask reschedules the tasks of a lost worker).

Dask was chosen over RQ on Redis by measurement (bench/enrich_workers.py, README): results travel
straight between processes instead of through Redis, and workers stay warm between chunks.

    with engine_for(workers=2) as engine:          # a local cluster of 2 worker processes
        Worker(store, images, engine=engine).run()
    with engine_for(scheduler="tcp://host:8786") as engine:   # workers started with `dask worker`
"""

from __future__ import annotations

import logging
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Protocol, TypeVar

import numpy as np

from adwatch.errors import UserError
from enrich.arrays import distinct
from enrich.comparison import TextScores, score_templates, score_text_pairs
from enrich.facts import AdFacts

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

PAIRS_PER_CHUNK = 200_000
"""Candidate pairs per comparison chunk: ~4 s of RapidFuzz on one core, a few MB to ship."""


def _same(item):
    return item


class Engine(Protocol):
    workers: int

    def imap(self, func: Callable, items: Iterable[T], payload: Callable[[T], object] = _same,
             lane: Callable[[T], int] | None = None) -> Iterator[tuple[T, R]]:
        """(item, func(payload(item))) for every item, in the items' order. `lane(item)`: items of
        one lane run on one worker while it lives (what it caches serves the lane's next items)."""

    def map_shared(self, func: Callable, shared: object, items: Iterable[T]) -> Iterator[R]:
        """func(shared, item) for every item, in the items' order; `shared` (what every item needs,
        large) travels to each worker once, not with each item."""

    def score_pairs(self, ads: Sequence[AdFacts], first: np.ndarray, second: np.ndarray,
                    min_words: int) -> TextScores:
        """`enrich.comparison.score_text_pairs`, spread over the engine's workers."""


class Local:
    """This process: what `adwatch enrich` does without `--workers` (no engine needed)."""

    workers = 1

    def imap(self, func: Callable, items: Iterable[T], payload: Callable[[T], object] = _same,
             lane: Callable[[T], int] | None = None) -> Iterator[tuple[T, R]]:
        for item in items:
            yield item, func(payload(item))

    def map_shared(self, func: Callable, shared: object, items: Iterable[T]) -> Iterator[R]:
        return (func(shared, item) for item in items)

    def score_pairs(self, ads: Sequence[AdFacts], first: np.ndarray, second: np.ndarray,
                    min_words: int) -> TextScores:
        return score_text_pairs(ads, first, second, min_words)

    def __enter__(self) -> "Local":
        return self

    def __exit__(self, *exc) -> None:
        pass


def _with_shared(task: tuple[Callable, object, object]) -> object:
    func, shared, item = task
    return func(shared, item)


class _Sealed:
    """A payload Dask ships as one pickle without walking it: Dask looks for futures in every
    list, tuple and dict of a task's arguments, which for a chunk of ads (their fields) or of
    templates cost the coordinator millions of calls (15 s of a 300k-ad link)."""

    __slots__ = ("payload",)

    def __init__(self, payload: object) -> None:
        self.payload = payload

    def __getstate__(self) -> tuple:
        return (self.payload,)  # never empty: an empty state would skip __setstate__

    def __setstate__(self, state: tuple) -> None:
        (self.payload,) = state


def _unsealed(task: tuple[Callable, _Sealed]) -> object:
    func, sealed = task
    return func(sealed.payload)


def _with_shared_sealed(task: tuple[Callable, object, _Sealed]) -> object:
    func, shared, sealed = task
    return func(shared, sealed.payload)


def compare_chunk(chunk: tuple[list[str], np.ndarray, np.ndarray, int]) -> TextScores:
    """Score one chunk of pairs (indices into the chunk's templates), on one core."""
    templates, first, second, min_words = chunk
    return score_templates(templates, first, second, min_words, threads=1)


def pair_chunks(ads: Sequence[AdFacts], first: np.ndarray, second: np.ndarray, min_words: int,
                size: int = PAIRS_PER_CHUNK) -> Iterator[tuple[np.ndarray, tuple]]:
    """Consecutive slices of the candidate pairs, each with only the templates it compares:
    (the ads' indices, (templates, local first, local second, min_words))."""
    for lo in range(0, len(first), size):
        a, b = first[lo:lo + size], second[lo:lo + size]
        members = distinct(np.r_[a, b])
        local_a, local_b = np.searchsorted(members, a), np.searchsorted(members, b)
        yield members, ([ads[i].template for i in members.tolist()], local_a, local_b, min_words)


def photo_lane(source: dict, lanes: int) -> int:
    """The lane of a pending ad: by its first photo's content hash (else its text), so every ad
    showing a photo is enriched by the same worker, which decodes the photo once
    (enrich.images.ImageMemo) instead of once per worker."""
    images = source.get("images") or []
    first = images[0] if images and isinstance(images[0], dict) else {}
    key = first.get("sha256") or first.get("path") or source.get("body") or source.get("title") or ""
    return zlib.crc32(str(key).encode()) % max(1, lanes)


def lane_batches(items: Iterable[T], size: int, lanes: int, lane_of: Callable[[T], int]) -> Iterator[tuple[int, list[T]]]:
    """Items cut into batches of `size` of one lane each: (lane, batch), every item once. A lane's
    batch goes out when full; what is left goes out at the end."""
    open_batches: dict[int, list[T]] = {}
    for item in items:
        lane = lane_of(item)
        batch = open_batches.setdefault(lane, [])
        batch.append(item)
        if len(batch) >= size:
            yield lane, open_batches.pop(lane)
    for lane in sorted(open_batches):
        yield lane, open_batches[lane]


class Pending(Protocol):
    def result(self) -> object:
        """The task's result, once it is done (blocks until then)."""


class Chunked:
    """An engine that runs tasks elsewhere. `imap` keeps at most `window` tasks per worker in
    flight (the coordinator's memory stays bounded whatever the size of the run) and takes their
    results in submission order. Text comparison goes out as consecutive chunks of the candidate
    pairs, concatenated in their order: the score table is `score_text_pairs`' own, element for element."""

    workers = 1
    window = 4

    def submit(self, func: Callable, payload: object, lane: int | None = None) -> Pending:
        raise NotImplementedError

    def imap(self, func: Callable, items: Iterable[T], payload: Callable[[T], object] = _same,
             lane: Callable[[T], int] | None = None) -> Iterator[tuple[T, R]]:
        return self._windowed(items, lambda item: self.submit(func, payload(item), None if lane is None else lane(item)))

    def _windowed(self, items: Iterable[T], start: Callable[[T], Pending]) -> Iterator[tuple[T, R]]:
        """(item, its task's result) in the items' order, at most `window` tasks per worker in flight."""
        in_flight: deque = deque()
        for item in items:
            in_flight.append((item, start(item)))
            if len(in_flight) >= self.window * self.workers:
                item, task = in_flight.popleft()
                yield item, task.result()
        while in_flight:
            item, task = in_flight.popleft()
            yield item, task.result()

    def map_shared(self, func: Callable, shared: object, items: Iterable[T]) -> Iterator[R]:
        # An engine with no store of its own ships `shared` with every item.
        return (out for _, out in self.imap(_with_shared, items, payload=lambda item: (func, shared, item)))

    def score_pairs(self, ads: Sequence[AdFacts], first: np.ndarray, second: np.ndarray,
                    min_words: int) -> TextScores:
        parts = [TextScores(members[s.first], members[s.second], s.score)
                 for (members, _), s in self.imap(compare_chunk, pair_chunks(ads, first, second, min_words),
                                                  payload=lambda chunk: chunk[1])]
        return TextScores.concat(parts)

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Distributed(Chunked):
    """Dask distributed: a local cluster of `workers` processes (one thread each), or the workers
    of the scheduler at `scheduler`. A task whose worker died is re-run on another by the scheduler."""

    def __init__(self, workers: int = 0, scheduler: str | None = None, window: int = 4) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - a broken install
            raise UserError("--workers/--scheduler need Dask distributed: install the project's requirements.lock.") from exc
        self._cluster = None
        if scheduler:
            try:
                self.client = Client(scheduler, timeout="10s")
            except OSError as exc:
                raise UserError(f"Dask scheduler {scheduler}: cannot connect ({exc}); start it with `dask scheduler` "
                                "and workers with `dask worker ADDRESS --nthreads 1`, or use --workers N.") from exc
        else:
            # Processes, not threads: enrichment is pure Python (the GIL would serialise threads).
            self._cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                         dashboard_address=None, worker_dashboard_address=None,
                                         host="127.0.0.1", memory_limit=0)
            self.client = Client(self._cluster)
        self.workers = max(1, len(self.client.scheduler_info()["workers"]))
        self.window = window
        self._addresses: list[str] = []
        self._addresses_at = float("-inf")
        log.info("enrichment engine: Dask with %d workers", self.workers)

    def submit(self, func: Callable, payload: object, lane: int | None = None) -> Pending:
        return self._submit(_unsealed, (func, _Sealed(payload)), lane)

    def _submit(self, func: Callable, task: object, lane: int | None) -> Pending:
        # pure=False: two equal chunks are still two tasks (a key must never be shared).
        if lane is None:
            return self.client.submit(func, task, pure=False)
        # A lane's worker is a preference, not a must: its tasks move on if it dies or leaves.
        addresses = self._workers()
        return self.client.submit(func, task, pure=False, workers=[addresses[lane % len(addresses)]],
                                  allow_other_workers=True)

    def map_shared(self, func: Callable, shared: object, items: Iterable[T]) -> Iterator[R]:
        # Scattered to every worker once (a worker that joins later fetches it from a peer); each
        # task names it beside its sealed item, so the worker is handed the scattered value.
        [ref] = self.client.scatter([shared], broadcast=True, hash=False)
        try:
            yield from (out for _, out in self._windowed(
                items, lambda item: self._submit(_with_shared_sealed, (func, ref, _Sealed(item)), None)))
        finally:
            self.client.cancel([ref])

    def _workers(self) -> list[str]:
        """The scheduler's workers, asked again every few seconds (one round trip, not one per task)."""
        if time.monotonic() - self._addresses_at > 5 or not self._addresses:
            self._addresses = sorted(self.client.scheduler_info()["workers"]) or self._addresses or [""]
            self._addresses_at = time.monotonic()
        return self._addresses

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def engine_for(workers: int = 0, scheduler: str | None = None) -> Local | Distributed:
    """The engine the command line asked for: this process unless `workers` > 1 or a scheduler is given."""
    if workers < 1 and not scheduler:
        raise UserError(f"--workers must be 1 or more, got {workers}.")
    if scheduler or workers > 1:
        return Distributed(workers=workers, scheduler=scheduler)
    return Local()
