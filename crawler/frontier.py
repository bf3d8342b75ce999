"""A shared frontier: N crawl processes of one site are ONE crawl run, coordinated through Redis.

    adwatch crawl demo-html --frontier redis://127.0.0.1:6379/0    # as many processes (or machines) as wanted

scrapy-redis gives the shared request queue and duplicate filter. What a crawl run needs on top:

- One run. The first process creates the run (its id, start, trigger, recrawl mode) in Redis;
  the others join it, so every ad they write carries the same run id and the run document counts
  new / changed / removed from the index exactly as for one process.
- One crawl of the site at a time. The processes hold the site's lease together (a shared lease,
  adwatch/lease.py, held by `run:<run id>`): a plain crawl, or another shared run, is refused on
  any machine while one of them renews it; a process that leaves early stops renewing, the last
  one gives it back with the run document.
- Nothing lost when a process dies. scrapy-redis pops destructively, so here a pop moves the request
  into the process's own in-flight hash in one Lua script (the reliable-queue pattern). A request
  leaves that hash only once Scrapy has finished with it (its response parsed, its new requests
  queued) and the ads it produced are written to the index. Each process renews a heartbeat; any
  process that finds one missing (or its process gone, on the same machine) moves the dead
  process's in-flight requests back to the queue.
- Removal checks only when the whole frontier is drained: no request queued and none in flight
  anywhere. The listings' sightings are a shared set, so the process that wins the drained check
  plans the checks of the ads no listing showed, once, into the shared queue; when that drains
  too, the run is done and every process closes.
- One politeness. Each process's downloader spaces its own requests to a host; N processes
  would reach the site N times as often. Every request's start is reserved in Redis first
  (`next_start`, on Redis's clock, so machines agree): starts to one host are at least the delay
  apart whichever process makes them (crawler.middlewares.SharedPolitenessMiddleware). Under a
  delay a process holds no more requests than it may send to the site at once (its politeness concurrency), so
  requests wait in the shared queue, where any process can take them, not in one process.
- Counts summed. Each process keeps its Scrapy stats in Redis (written with its acknowledgements);
  the last process to leave writes the run document from their sum. Invalid ads are a set of URLs,
  so an ad re-read after a crash is not counted twice.

Every key of a run lives under `<index prefix>:frontier:<site>:<run id>`, so deployments and runs
never collide; the last process of a finished run deletes them. Requests are stored pickled (as
scrapy-redis does): keep Redis reachable by the crawlers only.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import MutableMapping
from dataclasses import asdict
from datetime import datetime

import redis
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.defer import deferred_from_coro
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler
from twisted.internet import task

from adwatch.errors import UserError
from adwatch.lease import known_dead, process_identity
from crawler.items import CrawledAd, ImageRef
from crawler.runs import JobState, new_job

log = logging.getLogger(__name__)

HEARTBEAT_TTL_S = 15  # a process silent this long is dead: its in-flight requests go back to the queue
HEARTBEAT_EVERY_S = 1.0
TICK_S = 0.5  # acknowledgements, stats, takeover checks, and waking an idle engine

# The run a process joins, or a new one: atomically, so two processes starting at once share one run.
_JOIN = """
local current = redis.call('GET', KEYS[1])
if current and redis.call('EXISTS', ARGV[1] .. ':' .. current .. ':run') == 1 then return current end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('HSET', ARGV[1] .. ':' .. ARGV[2] .. ':run', 'run_id', ARGV[2], 'started', ARGV[3], 'trigger', ARGV[4],
           'recrawl', ARGV[5], 'phase', 'crawling')
return ARGV[2]
"""
# Pop the first request into this process's in-flight hash, kept with its score for a takeover.
_POP = """
local item = redis.call('ZPOPMIN', KEYS[1])
if #item == 0 then return false end
redis.call('HSET', KEYS[2], ARGV[1], item[2] .. '|' .. item[1])
return item[1]
"""
# A dead process's in-flight requests back into the queue; it leaves the run.
_RECLAIM = """
local entries = redis.call('HGETALL', KEYS[2])
for i = 1, #entries, 2 do
  local value = entries[i + 1]
  local bar = string.find(value, '|', 1, true)
  redis.call('ZADD', KEYS[1], string.sub(value, 1, bar - 1), string.sub(value, bar + 1))
end
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[3], ARGV[1])
return #entries / 2
"""
# The start of this process's next request to a host: at least ARGV[1] s after the run's previous
# one (on Redis's clock, which every machine shares); returns the seconds to wait. Lua numbers are
# doubles: replies would truncate them to integers, so they travel as strings.
_SPACE = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
local start = math.max(t, tonumber(redis.call('GET', KEYS[1]) or '0'))
local following = start + tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%.6f', following), 'PX', math.ceil((following - t) * 1000) + 60000)
return string.format('%.6f', start - t)
"""
# Whether the whole frontier is drained, and what follows: 'busy', 'plan' (this process plans the
# removal checks), or 'done'. The start requests must be queued first ('seeded').
_SETTLE = """
local run, queue, workers = KEYS[1], KEYS[2], KEYS[3]
local phase = redis.call('HGET', run, 'phase')
if phase == 'done' then return 'done' end
if redis.call('HGET', run, 'seeded') ~= '1' or redis.call('ZCARD', queue) > 0 then return 'busy' end
for _, worker in ipairs(redis.call('SMEMBERS', workers)) do
  if redis.call('HLEN', ARGV[1] .. ':inflight:' .. worker) > 0 then return 'busy' end
end
if phase == 'planning' then
  if redis.call('SISMEMBER', workers, redis.call('HGET', run, 'planner')) == 1 then return 'busy' end
  phase = 'crawling'
end
if phase == 'crawling' then
  redis.call('HSET', run, 'phase', 'planning', 'planner', ARGV[2])
  return 'plan'
end
redis.call('HSET', run, 'phase', 'done')
if redis.call('GET', KEYS[4]) == ARGV[3] then redis.call('DEL', KEYS[4]) end
return 'done'
"""


class FrontierError(UserError):
    """Redis cannot be reached, or the run found there does not fit this crawl."""


def connect_frontier(url: str) -> redis.Redis:
    """A client of the frontier's Redis, checked to answer (FrontierError naming the URL otherwise)."""
    try:
        client = redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=10, retry_on_timeout=True)
        client.ping()
    except (redis.RedisError, ValueError) as exc:
        raise FrontierError(f"the frontier at {url} cannot be reached ({exc}); start redis-server there, or crawl "
                            "without --frontier.") from exc
    return client


class SharedRun:
    """One crawl run of one site shared by several processes, as kept in Redis; this process's part in it."""

    def __init__(self, client: redis.Redis, base: str, job: JobState, recrawl: str) -> None:
        self.client = client
        self.base = base  # <prefix>:frontier:<site>
        self.job = job
        self.recrawl = recrawl
        self.ns = f"{base}:{job.run_id}"
        self.worker = uuid.uuid4().hex[:12]
        self.key = {name: f"{self.ns}:{name}" for name in
                    ("run", "requests", "seen", "workers", "stats", "listed", "invalid", "images")}
        self.inflight = f"{self.ns}:inflight:{self.worker}"
        self._scripts = {name: client.register_script(body) for name, body in
                         (("pop", _POP), ("reclaim", _RECLAIM), ("settle", _SETTLE), ("space", _SPACE))}

    @classmethod
    def join(cls, url: str, prefix: str, site: str, trigger: str, recrawl: str) -> "SharedRun":
        """Join the site's running shared crawl, or start one (this process takes part once `register`ed)."""
        client = connect_frontier(url)
        try:
            base = f"{prefix}:frontier:{site}"
            fresh = new_job(site, trigger)
            run_id = client.register_script(_JOIN)(keys=[f"{base}:current"], args=[
                base, fresh.run_id, fresh.started, trigger, recrawl]).decode()
            fields = {k.decode(): v.decode() for k, v in client.hgetall(f"{base}:{run_id}:run").items()}
        except redis.RedisError as exc:
            raise FrontierError(f"the frontier at {url} failed while this process joined its run ({exc}); "
                                "try again once Redis answers.") from exc
        job = JobState(run_id=run_id, site=site, started=fields["started"], trigger=fields["trigger"],
                       attempts=1 if run_id == fresh.run_id else 2)
        if fields["recrawl"] != recrawl:
            log.warning("run %s crawls with --recrawl %s; this process follows it", run_id, fields["recrawl"])
        return cls(client, base, job, fields["recrawl"])

    @property
    def founded(self) -> bool:
        return self.job.attempts == 1

    # ------------------------------------------------------------------ liveness

    def register(self) -> None:
        """From now on this process's in-flight requests count, and it must renew its heartbeat."""
        self.client.hset(f"{self.ns}:worker:{self.worker}", "process", json.dumps(process_identity()))
        self.heartbeat()

    def heartbeat(self) -> None:
        # Membership too: a process wrongly given up for dead (its reactor stalled) counts again.
        pipe = self.client.pipeline(transaction=True)
        pipe.sadd(self.key["workers"], self.worker)
        pipe.set(f"{self.ns}:alive:{self.worker}", 1, ex=HEARTBEAT_TTL_S)
        pipe.execute()

    def reclaim_dead(self) -> int:
        """Return the in-flight requests of processes that died to the queue; how many came back."""
        returned = 0
        for raw in self.client.smembers(self.key["workers"]):
            worker = raw.decode()
            if worker == self.worker or not self._dead(worker):
                continue
            n = self._scripts["reclaim"](keys=[self.key["requests"], f"{self.ns}:inflight:{worker}",
                                               self.key["workers"]], args=[worker])
            self.client.delete(f"{self.ns}:worker:{worker}")
            log.warning("process %s of run %s is gone: %d in-flight requests back in the queue", worker,
                        self.job.run_id, n)
            returned += int(n)
        return returned

    def _dead(self, worker: str) -> bool:
        if not self.client.exists(f"{self.ns}:alive:{worker}"):
            return True
        identity = self.client.hget(f"{self.ns}:worker:{worker}", "process")
        return bool(identity) and known_dead(json.loads(identity))

    # ------------------------------------------------------------------ the queue

    def pop(self, token: str) -> bytes | None:
        """The next queued request (encoded), now in this process's in-flight hash under `token`."""
        return self._scripts["pop"](keys=[self.key["requests"], self.inflight], args=[token])

    def acknowledge(self, tokens: list[str], stats: dict) -> None:
        """Requests done (their ads written): out of the in-flight hash, with the stats that count them."""
        pipe = self.client.pipeline(transaction=True)
        if tokens:
            pipe.hdel(self.inflight, *tokens)
        pipe.hset(self.key["stats"], self.worker, json.dumps(stats, default=_jsonable))
        pipe.execute()

    def requeue_own(self) -> int:
        """This process's unfinished requests back to the queue (it is closing with work in hand)."""
        n = self._scripts["reclaim"](keys=[self.key["requests"], self.inflight, self.key["workers"]],
                                     args=["-"])  # '-': stay a member until leave()
        return int(n)

    def next_start(self, host: str, spacing_s: float) -> float:
        """Reserve this process's next request to `host`, `spacing_s` after the run's previous one
        (or now): the seconds to wait before sending it."""
        return float(self._scripts["space"](keys=[f"{self.ns}:polite:{host}"], args=[f"{spacing_s:.6f}"]))

    def queued(self) -> int:
        return self.client.zcard(self.key["requests"])

    # ------------------------------------------------------------------ what listings showed; the phases

    def mark_seeded(self) -> None:
        """The start requests are in the queue: from now on an empty frontier means a drained one."""
        self.client.hset(self.key["run"], "seeded", 1)

    def first_sighting(self, doc_id: str) -> bool:
        """True the first time any process of this run meets `doc_id` in a listing."""
        return bool(self.client.sadd(self.key["listed"], doc_id))

    def listed(self) -> set[str]:
        return {m.decode() for m in self.client.smembers(self.key["listed"])}

    def note_invalid(self, url: str) -> None:
        self.client.sadd(self.key["invalid"], url)

    def settle(self) -> str:
        """'busy', 'plan' (this process must plan the removal checks, then call removals_planned) or 'done'."""
        return self._scripts["settle"](keys=[self.key["run"], self.key["requests"], self.key["workers"],
                                             f"{self.base}:current"],
                                       args=[self.ns, self.worker, self.job.run_id]).decode()

    def removals_planned(self, scored: list[tuple[float, bytes]]) -> None:
        """Queue the removal checks (score, encoded request) and open the removal phase, in one step."""
        pipe = self.client.pipeline(transaction=True)
        if scored:
            pipe.zadd(self.key["requests"], {data: score for score, data in scored})
        pipe.hset(self.key["run"], "phase", "removal")
        pipe.execute()

    def phase(self) -> str:
        return (self.client.hget(self.key["run"], "phase") or b"").decode()

    # ------------------------------------------------------------------ leaving

    def leave(self, stats: dict) -> dict | None:
        """This process is done: the run's summed stats when it was the last one in it, else None."""
        self.acknowledge([], stats)
        self.client.srem(self.key["workers"], self.worker)
        self.client.delete(f"{self.ns}:alive:{self.worker}", f"{self.ns}:worker:{self.worker}")
        if self.phase() == "done":
            # Nothing is in flight anywhere: members whose heartbeat stopped are gone for good.
            for raw in self.client.smembers(self.key["workers"]):
                if self._dead(raw.decode()):
                    self.client.srem(self.key["workers"], raw)
        if self.client.scard(self.key["workers"]) or not self.client.set(f"{self.ns}:closing", self.worker, nx=True,
                                                                           ex=HEARTBEAT_TTL_S * 4):
            return None  # others go on, or another last process writes the document
        snapshots = [json.loads(v) for v in self.client.hvals(self.key["stats"])]
        total = merge_stats(snapshots)
        invalid = self.client.scard(self.key["invalid"])
        total["adwatch/items/invalid"] = total["adwatch/errors/invalid_item"] = invalid
        if not invalid:
            del total["adwatch/errors/invalid_item"]
        total["adwatch/frontier/processes"] = len(snapshots)
        return total

    def closed(self, finished: bool) -> None:
        """The run document is written: a finished run's keys go; an interrupted one waits to be resumed."""
        if not finished:
            self.client.delete(f"{self.ns}:closing")
            return
        keys = list(self.client.scan_iter(match=f"{self.ns}:*", count=500))
        for start in range(0, len(keys), 500):
            self.client.delete(*keys[start:start + 500])

    def images(self) -> "SharedImages":
        return SharedImages(self.client, self.key["images"])


class SharedImages(MutableMapping):
    """Image URL -> stored ImageRef for the whole run, so a photo two processes' ads share downloads once."""

    def __init__(self, client: redis.Redis, key: str) -> None:
        self.client, self.key = client, key
        self.local: dict[str, ImageRef] = {}

    def __contains__(self, url: object) -> bool:
        if url in self.local:
            return True
        raw = self.client.hget(self.key, url)
        if raw is None:
            return False
        self.local[url] = ImageRef(**json.loads(raw))
        return True

    def __getitem__(self, url: str) -> ImageRef:
        if url in self:
            return self.local[url]
        raise KeyError(url)

    def __setitem__(self, url: str, ref: ImageRef) -> None:
        self.local[url] = ref
        self.client.hset(self.key, url, json.dumps(asdict(ref)))

    def __delitem__(self, url: str) -> None:
        self.local.pop(url, None)
        self.client.hdel(self.key, url)

    def __iter__(self):
        return iter(self.local)

    def __len__(self) -> int:
        return len(self.local)


def merge_stats(snapshots: list[dict]) -> dict:
    """Scrapy stats of several processes as one crawl's: counts summed, first start, last finish."""
    total: dict = {}
    for stats in snapshots:
        for key, value in stats.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                if key == "start_time":
                    total[key] = min(total.get(key, value), value)
                elif key == "finish_time":
                    total[key] = max(total.get(key, value), value)
                else:
                    total.setdefault(key, value)
            elif key.endswith(("_max", "/max")):
                total[key] = max(total.get(key, value), value)
            else:
                total[key] = total.get(key, 0) + value
    return total


def _jsonable(value):
    return value.isoformat() if isinstance(value, datetime) else str(value)


class FrontierScheduler(Scheduler):
    """scrapy-redis's scheduler on the spider's shared run, with recoverable pops and the run's phases."""

    def __init__(self, crawler, shared: SharedRun) -> None:
        super().__init__(server=shared.client, persist=True, queue_key=shared.key["requests"],
                         dupefilter=RFPDupeFilter(shared.client, shared.key["seen"]))
        self.crawler, self.stats, self.shared = crawler, crawler.stats, shared
        self.popped: dict[str, object] = {}  # token -> the Request this process is working on
        # A popped request waits for this process alone. Under a delay, holding more waiting or
        # downloading than it may send at once (its politeness concurrency) leaves the others idle and
        # sends its reserved starts in bursts (SharedPolitenessMiddleware). Without a delay it keeps
        # its downloader full: held to 4, two processes of bench/crawl_frontier.py's latency-bound
        # regime made 0.96x one process's pages/s instead of 1.77x.
        settings = crawler.settings
        polite = settings.getfloat("DOWNLOAD_DELAY") > 0 or settings.getbool("AUTOTHROTTLE_ENABLED")
        self.hold = settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN") if polite else None
        self._tokens = 0
        self._loops: list[task.LoopingCall] = []

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler, crawler.spider.frontier)

    def open(self, spider):
        self.spider = spider
        self.queue = PriorityQueue(server=self.server, spider=spider, key=self.queue_key)
        self.crawler.signals.connect(self._on_idle, signal=signals.spider_idle)
        self.crawler.signals.connect(self._on_dropped, signal=signals.item_dropped)
        self.shared.register()
        for every, call in ((HEARTBEAT_EVERY_S, self.shared.heartbeat), (TICK_S, self._tick)):
            loop = task.LoopingCall(call)
            loop.start(every, now=False).addErrback(self._loop_failed)
            self._loops.append(loop)
        if len(self.queue):
            spider.logger.info("joined run %s: %d requests queued", self.shared.job.run_id, len(self.queue))

    def close(self, reason):
        # Scrapy closes the scheduler after every request in progress ended and the pipelines wrote
        # everything: what this process popped is done, unless Scrapy gave up on it.
        for loop in self._loops:
            if loop.running:
                loop.stop()
        written = not getattr(self.spider.run, "interruption", "")
        self.shared.acknowledge(self._done() if written else [], self.stats.get_stats())
        returned = self.shared.requeue_own()
        if returned:
            self.stats.inc_value("adwatch/frontier/requeued", returned)

    def enqueue_request(self, request):
        # scrapy-redis's own passes `spider=` to the stats, which Scrapy 2.19 warns about on every request.
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        self.stats.inc_value("scheduler/enqueued/redis")
        self.queue.push(request)
        return True

    def next_request(self):
        if self.hold and self._downloading() >= self.hold:
            return None  # the engine asks again when one finishes (and on every tick)
        self._tokens += 1
        token = str(self._tokens)
        data = self.shared.pop(token)
        if data is None:
            return None
        request = self.queue._decode_request(data)
        self.popped[token] = request
        self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def _downloading(self) -> int:
        """How many of this process's popped requests wait for or are in their download."""
        active = self.crawler.engine.downloader.active
        return sum(1 for request in self.popped.values() if request in active)

    def _done(self) -> list[str]:
        """Tokens of popped requests that Scrapy has finished with (downloaded, parsed, items processed)."""
        slot = getattr(self.crawler.engine, "_slot", None)
        # The engine keeps every request it took from the scheduler in `inprogress` until its
        # response is parsed, its new requests scheduled and its items through the pipelines
        # (Scrapy 2.19, pinned); Scrapy has no public signal for that moment.
        busy = slot.inprogress if slot is not None else set()
        return [token for token, request in self.popped.items() if request not in busy]

    async def _acknowledge(self) -> None:
        done = self._done()
        if done:
            from crawler.pipelines import IndexPipeline

            index = self.crawler.get_item_pipeline(IndexPipeline)
            if index is not None:
                await index.flush()  # their ads are in the index before they leave the in-flight hash
            if getattr(self.spider.run, "interruption", ""):
                done = []  # the run stopped writing (its cluster gone): what it read stays in flight
        self.shared.acknowledge(done, self.stats.get_stats())
        for token in done:
            del self.popped[token]

    def _tick(self):
        return deferred_from_coro(self._tick_async())

    async def _tick_async(self) -> None:
        slot = getattr(self.crawler.engine, "_slot", None)
        if slot is None or slot.closing is not None:
            return  # closing: close() acknowledges once the pipelines have written everything
        await self._acknowledge()
        self._reclaim()
        # Other processes add requests: an idle engine would only look again on its own 5 s heartbeat.
        slot.nextcall.schedule()

    def _reclaim(self) -> None:
        returned = self.shared.reclaim_dead()
        if returned:
            self.stats.inc_value("adwatch/frontier/recovered", returned)

    def _loop_failed(self, failure) -> None:
        # Without its upkeep this process can neither prove its work done nor stay alive for the
        # others: it stops, and what it holds returns to the queue when its heartbeat lapses.
        log.error("frontier upkeep of run %s stopped: %s", self.shared.job.run_id, failure.getErrorMessage()[:300])
        self.crawler.stats.inc_value("adwatch/errors/frontier")
        deferred_from_coro(self.crawler.engine.close_spider_async(reason="frontier_lost"))

    def _on_dropped(self, item, response, exception, spider=None) -> None:
        if isinstance(item, CrawledAd):  # ValidatePipeline drops only invalid ads
            self.shared.note_invalid(item.url)

    def _on_idle(self, spider) -> None:
        """This process has nothing to do: close only when the whole shared frontier is drained."""
        if self.popped:
            raise DontCloseSpider  # acknowledgements pending: the next tick sends them
        self._reclaim()
        verdict = self.shared.settle()
        if verdict == "done":
            return
        if verdict == "plan":
            unseen = spider.run.ledger.active_not_in(self.shared.listed(), self.shared.job.run_id)
            checks = spider.removal_checks(unseen)
            self.shared.removals_planned([(-r.priority, self.queue._encode_request(r)) for r in checks])
            spider.logger.info("frontier drained: checking %d known ads missing from the listings", len(checks))
            if not checks and self.shared.settle() == "done":
                return  # nothing to check: the run is complete now
        raise DontCloseSpider
