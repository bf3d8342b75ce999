"""Parallel enrichment: engines side by side, 1 vs 2 workers, and the whole worker on a real index.

    .venv/bin/python bench/enrich_workers.py engines --ads 100000            # candidates side by side
    .venv/bin/python bench/enrich_workers.py engines --ads 20000 --only local dask:1 dask:2
    .venv/bin/python bench/enrich_workers.py e2e --ads 100000 300000         # real index, images included

`engines`: the same workload on each candidate: enrichment of synthetic ads (bench/enrich_synthetic.py
texts, one photo-like JPEG each from a content-addressed image store, `enrich.worker.enrich_chunk` in
chunks of 500), then linking, whose candidate text pairs are chosen in blocks of ads on the engine
(`enrich.blocking.block_pairs`, "block s") and compared in chunks (`enrich.parallel.compare_chunk`). Candidates: `local` (this process, what `adwatch
enrich` does by default), `dask:N` (a local Dask distributed cluster of N processes), `rq:N` (RQ on
a redis-server of its own, N `rq worker` processes of the SimpleWorker class: no fork per job, so
the workers stay warm like Dask's). Printed per candidate: ads/s enriching, pairs/s comparing,
seconds choosing candidates (blocking's work after its one sort on the coordinator), each with the
ratio to the same engine with 1 worker, and whether the partition (and the score table) is the
`local` one exactly.

`e2e`: for each size, a fresh deployment on an embedded node of its own (heap 1 GiB; or
ADWATCH_ES_URL): the ads are indexed as the crawler writes them (pending), then `Worker.run` with
`--workers` workers does everything `adwatch enrich` does (enrich, load facts, link, write back).
Printed: seconds per phase (enrich; load the link facts; link: blocking, comparison, scoring,
clustering; write clusters and ads back), ads/s, peak RSS of the coordinator, of each worker and of the node;
then the CPU seconds of each phase (coordinator / workers / node) and the floor they set on this
machine (all the run's CPU seconds over its cores: no schedule finishes sooner).

Other work on the machine slows every figure: the load average is printed with them.
"""

from __future__ import annotations

import argparse
import importlib
import io
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from enrich_synthetic import CITIES, generate  # noqa: E402

from crawler.imagestore import ImageStore, inspect_image  # noqa: E402
from enrich.facts import facts_from_source  # noqa: E402
from enrich.linking import link  # noqa: E402
from enrich.parallel import Chunked, Distributed, Local, lane_batches, photo_lane  # noqa: E402
from enrich.worker import enrich_chunk  # noqa: E402

CHUNK = 500


def _load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def _photo(controller: int, variant: int) -> bytes:
    """A photo-like 320x240 JPEG of its own per (controller, variant)."""
    rng = np.random.default_rng(controller * 7 + variant)
    image = Image.fromarray((rng.random((6, 8, 3)) * 255).astype(np.uint8)).resize((320, 240), Image.Resampling.BICUBIC)
    noisy = np.asarray(image).astype(np.int16) + rng.integers(-10, 11, (240, 320, 3))
    buffer = io.BytesIO()
    Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def synthetic_docs(n: int, image_dir: Path, seed: int = 3) -> list[tuple[str, dict]]:
    """n crawl-shaped ads (pending) with one stored photo each, two photos per controller."""
    store = ImageStore(image_dir)
    rng = random.Random(seed)
    refs: dict[tuple[int, int], dict] = {}
    docs = []
    for ad in generate(n, max(10, n // 10), seed=seed):
        key = (ad.controller, rng.randrange(2))
        if key not in refs:
            data = _photo(*key)
            facts = inspect_image(data)
            refs[key] = {"url": f"http://127.0.0.1/img/{facts.sha256}.jpg", "sha256": facts.sha256,
                         "path": store.put(data, facts)[0]}
        seen = f"2026-{1 + ad.ad_id % 3:02d}-{1 + ad.ad_id % 28:02d}T00:00:00+00:00"
        docs.append((f"synthetic:{ad.ad_id:07d}", {
            "site": "synthetic", "ad_id": str(ad.ad_id), "url": f"http://127.0.0.1/ad/{ad.ad_id}",
            "title": ad.text[:60], "body": ad.text, "contact_text": None, "city": CITIES[ad.controller % len(CITIES)],
            "region": None, "country": "US", "category": "escort", "first_seen": seen, "last_seen": seen,
            "status": "active", "images": [dict(refs[key])], "enrich": {"status": "pending"}}))
    return docs


# ---------------------------------------------------------------------- the RQ candidate


class _RQTask:
    def __init__(self, job) -> None:
        self.job = job

    def result(self) -> object:
        from rq.job import JobStatus

        while True:
            status = self.job.get_status(refresh=True)
            if status == JobStatus.FINISHED:
                return self.job.return_value()
            if status in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED):
                raise RuntimeError(f"RQ job {self.job.id} {status}: {self.job.exc_info}")
            time.sleep(0.02)


class RQEngine(Chunked):
    """RQ on a redis-server of its own (Debian's /usr/bin/redis-server), `workers` `rq worker` processes."""

    def __init__(self, workers: int) -> None:
        from redis import Redis
        from rq import Queue

        self.dir = Path(tempfile.mkdtemp(prefix="bench-rq-"))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.redis_proc = subprocess.Popen(["/usr/bin/redis-server", "--port", str(port), "--bind", "127.0.0.1",
                                            "--save", "", "--appendonly", "no", "--dir", str(self.dir)],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"redis://127.0.0.1:{port}"
        self.redis = Redis.from_url(url)
        for _ in range(100):
            try:
                self.redis.ping()
                break
            except Exception:
                time.sleep(0.1)
        self.queue = Queue("enrich", connection=self.redis)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[1]),
                                                            os.environ.get("PYTHONPATH", "")])}
        rq = str(Path(sys.executable).with_name("rq"))
        self.procs = [subprocess.Popen([rq, "worker", "--url", url, "--worker-class", "rq.worker.SimpleWorker",
                                        "--quiet", "enrich"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                      for _ in range(workers)]
        self.workers = workers
        from rq import Worker as RQWorker

        while len(RQWorker.all(connection=self.redis)) < workers:
            time.sleep(0.2)

    def submit(self, func, payload, lane=None):  # RQ has one queue: no lane is kept
        return _RQTask(self.queue.enqueue(func, payload, result_ttl=600, job_timeout=3600))

    def close(self) -> None:
        for proc in [*self.procs, self.redis_proc]:
            proc.kill()  # SIGTERM would wait for a job in progress
            proc.wait(30)
        shutil.rmtree(self.dir, ignore_errors=True)


def _engine(name: str):
    kind, _, workers = name.partition(":")
    if kind == "local":
        return Local()
    if kind == "dask":
        return Distributed(workers=int(workers or 1))
    if kind == "rq":
        return RQEngine(int(workers or 1))
    raise SystemExit(f"unknown candidate {name!r}: local, dask:N or rq:N")


def cpu_timed(task: tuple) -> tuple[object, int, float]:
    """(func(payload), this worker's pid, the CPU seconds it spent): what 2 dedicated cores would
    deliver, whatever else the machine runs."""
    func, payload = task
    began = time.process_time()
    out = func(payload)
    return out, os.getpid(), time.process_time() - began


def _timed_imap(engine, func, items, cpu: dict):
    """engine.imap of `func` over (lane, payload) items, adding each worker's CPU seconds to `cpu` (pid -> seconds)."""
    # By reference to this module (not __main__), so RQ's workers can import it too.
    timed = importlib.import_module("enrich_workers").cpu_timed
    for item, (out, pid, seconds) in engine.imap(timed, items, payload=lambda item: (func, item[1]),
                                                 lane=lambda item: item[0]):
        cpu[pid] = cpu.get(pid, 0.0) + seconds
        yield item, out


def _warm(engine, image_dir: Path, docs: list[tuple[str, dict]]) -> None:
    """Every worker builds what is built on first use (lexicons, language model) before timing."""
    chunk = (str(image_dir), docs[:20])
    list(engine.imap(enrich_chunk, [(lane, chunk) for lane in range(engine.workers)] * 2,
                     payload=lambda item: item[1], lane=lambda item: item[0]))


class _TimedCompare:
    """The engine, its text comparison timed (blocking runs on it too, untimed)."""

    def __init__(self, engine) -> None:
        self.engine, self.seconds, self.pairs = engine, 0.0, 0

    def map_shared(self, func, shared, items):
        return self.engine.map_shared(func, shared, items)

    def score_pairs(self, ads, first, second, min_words):
        began = time.perf_counter()
        out = self.engine.score_pairs(ads, first, second, min_words)
        self.seconds, self.pairs = time.perf_counter() - began, len(first)
        return out


def run_engine(name: str, image_dir: Path, docs: list[tuple[str, dict]]) -> dict:
    with _engine(name) as engine:
        _warm(engine, image_dir, docs)
        # Cut as `adwatch enrich` cuts them: by photo lane, so a photo is decoded by one worker only.
        lanes = engine.workers
        chunks = [(lane, (str(image_dir), batch))
                  for lane, batch in lane_batches(docs, CHUNK, lanes, lambda doc: photo_lane(doc[1], lanes))]
        began, cpu = time.perf_counter(), {}
        enriched = {doc_id: fields for (_, (_, batch)), out in _timed_imap(engine, enrich_chunk, chunks, cpu)
                    for (doc_id, _), fields in zip(batch, out)}
        enrich_s = time.perf_counter() - began
        # The busiest worker's CPU seconds (this process's, for `local`).
        enrich_cpu = max(cpu.values())
        facts = [facts_from_source(doc_id, {**src, **enriched[doc_id]}) for doc_id, src in docs]
        timed = _TimedCompare(engine)
        result = link(facts, engine=timed)
    partition = sorted(tuple(sorted(c.members)) for c in result.clusters)
    table = result.text_scores
    return {"name": name, "enrich_s": enrich_s, "enrich_cpu": enrich_cpu, "compare_s": timed.seconds,
            "pairs": timed.pairs, "block_s": result.stats["seconds"]["text"] - timed.seconds, "partition": partition,
            "table": (table.second.tobytes(), table.score.tobytes(), table.starts.tobytes())}


def engines(args: argparse.Namespace) -> None:
    # RQ's worker processes import this module's `cpu_timed`; Dask's inherit sys.path.
    os.environ["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parent), os.environ.get("PYTHONPATH", "")])
    work = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    try:
        began = time.perf_counter()
        docs = synthetic_docs(args.ads, work / "images")
        print(f"{args.ads} synthetic ads, one 320x240 JPEG each ({len(list((work / 'images').rglob('*.jpg')))} "
              f"distinct photos), made in {time.perf_counter() - began:.0f} s; cpus {os.cpu_count()}; {_load()}")
        results = []
        print(f"{'candidate':>10} {'enrich s':>9} {'ads/s':>8} {'x 1 worker':>11} {'by CPU':>7} {'x 1 worker':>11} "
              f"{'compare s':>10} {'pairs/s':>9} "
              f"{'x 1 worker':>11} {'block s':>8} {'x 1 worker':>11} {'same partition':>15} {'same table':>11}  load")
        for name in args.only:
            r = run_engine(name, work / "images", docs)
            results.append(r)
            base = next((b for b in results if b["name"].split(":")[0] == name.split(":")[0]
                         and b["name"].endswith(":1")), r)
            reference = results[0]
            print(f"{name:>10} {r['enrich_s']:>9.1f} {args.ads / r['enrich_s']:>8.0f} "
                  f"{base['enrich_s'] / r['enrich_s']:>10.2f}x {args.ads / r['enrich_cpu']:>7.0f} "
                  f"{base['enrich_cpu'] / r['enrich_cpu']:>10.2f}x {r['compare_s']:>10.1f} {r['pairs'] / r['compare_s']:>9.0f} "
                  f"{base['compare_s'] / r['compare_s']:>10.2f}x {r['block_s']:>8.1f} {base['block_s'] / r['block_s']:>10.2f}x "
                  f"{str(r['partition'] == reference['partition']):>15} "
                  f"{str(r['table'] == reference['table']):>11}  {_load()}", flush=True)
        print(f"partition and table compared with the first candidate ({results[0]['name']}): "
              f"{len(results[0]['partition'])} clusters")
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ---------------------------------------------------------------------- end to end on a real index


def _peak_rss_gib(pid: int | None = None) -> float:
    """Peak resident set (VmHWM) of a process and its children (the node's JVM), GiB; this
    process's own without `pid`. Not ru_maxrss: a spawned worker inherits its parent's across exec."""
    import psutil

    peak = 0
    for proc in _process_tree(pid) if pid else [psutil.Process()]:
        for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak = max(peak, int(line.split()[1]))
    return peak / 2**20


def _process_tree(pid: int | None = None) -> set:
    """A process (this one without `pid`) and its live descendants."""
    import psutil

    root = psutil.Process(pid)
    return {root, *root.children(recursive=True)}


def _cpu_seconds(processes) -> float:
    """User + system CPU seconds of the processes (those still alive)."""
    import psutil

    total = 0.0
    for proc in processes:
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


class _CPU:
    """CPU seconds spent by the coordinator (this process), its workers and the node between two
    marks: what the machine's cores had to deliver, whatever the wall clock says."""

    def __init__(self, node_pid: int | None) -> None:
        self.node_pid = node_pid

    def mark(self) -> tuple[float, float, float]:
        import psutil

        # The embedded node is this process's child too: its tree is counted apart from the workers'.
        node = _process_tree(self.node_pid) if self.node_pid else set()
        workers = _process_tree() - node - {psutil.Process()}
        return _cpu_seconds([psutil.Process()]), _cpu_seconds(workers), _cpu_seconds(node)

    @staticmethod
    def spent(began: tuple, ended: tuple) -> tuple[float, ...]:
        return tuple(b - a for a, b in zip(began, ended))


def _timed(method, phases: dict, phase: str, cpu: _CPU | None = None, cpu_phases: dict | None = None):
    def timed(*args, **kwargs):
        start, mark = time.perf_counter(), cpu.mark() if cpu else None
        try:
            return method(*args, **kwargs)
        finally:
            phases[phase] = time.perf_counter() - start
            if cpu:
                cpu_phases[phase] = cpu.spent(mark, cpu.mark())
    return timed


def e2e_one(n: int, workers: int, es_url: str, node_pid: int | None) -> None:
    from adwatch.bulk import BulkWriter, upsert
    from adwatch.config import load_settings
    from adwatch.store import Store, connect
    from enrich.parallel import engine_for
    from enrich.worker import Worker

    work = Path(tempfile.mkdtemp(prefix="bench-e2e-"))
    client = connect(load_settings(es_url=es_url))
    store = Store(client, f"bench{uuid.uuid4().hex[:8]}")
    store.ensure_schema()
    try:
        began = time.perf_counter()
        docs = synthetic_docs(n, work / "images")
        made = time.perf_counter()
        report = BulkWriter(client).write(upsert(store.ads_partition(doc["first_seen"]), doc_id, doc)
                                          for doc_id, doc in docs)
        assert report.failed == 0, report.errors[:3]
        client.indices.refresh(index=store.ads)
        del docs
        indexed = time.perf_counter()
        phases, cpu_phases, cpu = {}, {}, _CPU(node_pid)
        with engine_for(workers) as engine:
            worker = Worker(store, work / "images", engine=engine)
            for phase, method in (("enrich", "enrich_pending"), ("load", "load_facts"), ("write", "_write_links")):
                setattr(worker, method, _timed(getattr(worker, method), phases, phase, cpu, cpu_phases))
            start, mark, stolen = time.perf_counter(), cpu.mark(), _stolen_seconds()
            result = worker.run()
            total, spent = time.perf_counter() - start, cpu.spent(mark, cpu.mark())
            stolen = _stolen_seconds() - stolen
            worker_rss = (engine.client.run(_peak_rss_gib) if isinstance(engine, Distributed) else {})
        clusters = client.count(index=store.clusters)["count"]
        rss = " ".join(f"{v:.2f}" for v in worker_rss.values()) or "-"
        link_s = total - phases["enrich"] - phases["load"] - phases["write"]
        print(f"{n:>9} {workers:>7} {made - began:>7.0f} {indexed - made:>8.0f} {phases['enrich']:>9.0f} "
              f"{phases['load']:>7.0f} {link_s:>7.0f} {phases['write']:>8.0f} {total:>8.0f} {n / total:>7.0f} "
              f"{_peak_rss_gib():>10.2f} "
              f"{rss:>12} {_peak_rss_gib(node_pid) if node_pid else float('nan'):>8.2f} {clusters:>9}  "
              f"{result.enriched}/{n} enriched; {_load()}", flush=True)
        _print_cpu(n, total, spent, phases, cpu_phases, stolen)
    finally:
        store.drop_deployment()
        client.close()
        shutil.rmtree(work, ignore_errors=True)


def _stolen_seconds() -> float:
    """CPU seconds the hypervisor gave other guests while this machine wanted them (/proc/stat
    steal), all cores: on a shared host the same run is slower on a busy day."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()
    return int(fields[8]) / os.sysconf("SC_CLK_TCK") if len(fields) > 8 else 0.0


def _print_cpu(n: int, total: float, spent: tuple, phases: dict, cpu_phases: dict, stolen: float) -> None:
    """CPU seconds per phase and process, and the floor they set: no schedule on this machine's
    cores finishes the run sooner than all its CPU seconds divided by the cores."""
    cores = os.cpu_count() or 1
    cpu_phases = {**cpu_phases, "link": _CPU.spent([sum(p[i] for p in cpu_phases.values()) for i in range(3)], spent)}

    def cell(seconds: tuple) -> str:
        return f"{sum(seconds):.0f} (" + " / ".join(f"{s:.0f}" for s in seconds) + ")"

    wall = {**phases, "link": total - sum(phases.values())}
    print(f"{'':>9} CPU s (coordinator / workers / node) of {n} ads: "
          + "; ".join(f"{p} {cell(cpu_phases[p])} in {wall[p]:.0f} s wall" for p in ("enrich", "load", "link", "write"))
          + f"; run {cell(spent)}: busy {sum(spent) / (cores * total):.0%} of {cores} cores, "
          f"floor {sum(spent) / cores:.0f} s (CPU seconds / cores) against {total:.0f} s; "
          f"stolen by the host {stolen / (cores * total):.0%} of the cores' time", flush=True)


def e2e(args: argparse.Namespace) -> None:
    from adwatch.config import load_settings
    from adwatch.engine import EmbeddedNode

    node, node_dir = None, None
    es_url = os.environ.get("ADWATCH_ES_URL")
    node_pid = None
    if not es_url:
        node_dir = Path(tempfile.mkdtemp(prefix="bench-e2e-node-"))
        node = EmbeddedNode(node_dir, load_settings().cache_dir, heap="1g")
        node.start()
        es_url, node_pid = node.state().url, node.state().pid
    try:
        print(f"end to end on a real index ({es_url}), {args.workers} workers; cpus {os.cpu_count()}; {_load()}")
        print(f"{'ads':>9} {'workers':>7} {'make s':>7} {'index s':>8} {'enrich s':>9} {'load s':>7} {'link s':>7} "
              f"{'write s':>8} "
              f"{'total s':>8} {'ads/s':>7} {'coord GiB':>10} {'worker GiB':>12} {'ES GiB':>8} {'clusters':>9}")
        for n in args.ads:
            for workers in args.workers:
                e2e_one(n, workers, es_url, node_pid)
    finally:
        if node:
            node.stop()
            shutil.rmtree(node_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    one = sub.add_parser("engines")
    one.add_argument("--ads", type=int, default=100_000)
    one.add_argument("--only", nargs="+", default=["local", "dask:1", "dask:2", "rq:1", "rq:2"])
    two = sub.add_parser("e2e")
    two.add_argument("--ads", type=int, nargs="+", default=[100_000, 300_000, 1_000_000])
    two.add_argument("--workers", type=int, nargs="+", default=[2])
    args = parser.parse_args()
    engines(args) if args.mode == "engines" else e2e(args)


if __name__ == "__main__":
    main()
