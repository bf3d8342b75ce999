"""One crawl run: its job directory (what a killed run resumes from) and its document in the runs index.

A run id lives in `<job dir>/run.json` until the run finishes. Starting a crawl with a job
directory that still holds an unfinished run resumes that run: same id, same start time, and
ads already written by it are skipped (the ledger knows their run id).

A run holds its site's lease (`crawl:<site>`, adwatch/lease.py) from before it touches the job
directory until it has recorded its end, so two crawls of one site never run at once, on one
machine or several. A run stopped by its cluster (EngineUnavailable) or by losing its lease is
`interrupted`: nothing more is written, `run.json` stays (with why), and the next crawl resumes.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from adwatch.bulk import BulkWriter, replace
from adwatch.errors import EngineUnavailable
from adwatch.files import write_atomically
from adwatch.lease import Lease
from adwatch.retry import call, policy_of
from adwatch.store import Store

from crawler.ledger import Ledger, RunClock

log = logging.getLogger(__name__)

ERROR_PREFIX = "adwatch/errors/"
# Scrapy close reasons of a run that stopped before its end and resumes on the next crawl.
INTERRUPTED_REASONS = frozenset({"shutdown", "engine_unavailable", "lease_lost"})
# Recording the end of a run whose cluster is gone: one short try, the job file keeps the rest.
LAST_WORD_RETRY_S = 5.0


@dataclass
class JobState:
    run_id: str
    site: str
    started: str
    trigger: str
    attempts: int = 1
    interrupted: str = ""  # why the last attempt stopped before its end (a cluster gone, a lease lost)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def new_job(site: str, trigger: str, started: str | None = None) -> JobState:
    """A fresh run's identity, not yet worked on; `started` (ISO, UTC) defaults to now.

    The scheduler writes one into a job directory before it starts a crawl, so it knows the run id
    in advance and the run's start is the scheduler's clock (which decides the cron slot).
    """
    started = started or _now()
    stamp = datetime.fromisoformat(started)
    return JobState(run_id=f"{site}-{stamp:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}", site=site, started=started,
                    trigger=trigger, attempts=0)


def read_job(job_dir: Path) -> JobState | None:
    """The unfinished run a crawl in `job_dir` would resume, or None."""
    path = Path(job_dir) / "run.json"
    if not path.is_file():
        return None
    try:
        return JobState(**json.loads(path.read_text()))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path} is not a valid crawl job file ({exc}); delete it to start afresh.") from exc


def save_job(job_dir: Path, job: JobState) -> None:
    job_dir = Path(job_dir)
    job_dir.mkdir(parents=True, exist_ok=True)
    write_atomically(job_dir / "run.json", json.dumps(asdict(job)))


class CrawlRun:
    """Binds a site crawl to its job directory, the ledger and the runs index."""

    def __init__(self, store: Store, site: str, job_dir: Path, trigger: str = "manual",
                 job: JobState | None = None) -> None:
        self.store = store
        self.site = site
        self.job_dir = Path(job_dir)
        # A shared crawl (crawler/frontier.py) brings its run from Redis; the job directory holds none.
        # Its processes hold the site's lease together, by the run's id.
        self.owns_job_file = job is None
        self.lease = site_lease(store, site, shared_by=None if job is None else f"run:{job.run_id}")
        self.lease.acquire()  # LeaseHeld names the live crawl; nothing is touched before
        try:
            self.job = job or self._load_or_create(trigger)
            self.clock = RunClock(self.job.run_id, _now())
            self.ledger = Ledger.load(store, site)
        except BaseException:
            self.leave()
            raise
        self.kept: dict = {}  # fields of an earlier attempt's document that the next write keeps
        self.interruption: str = ""  # set once, by the first write that met a gone cluster or a lost lease
        self._interrupting = threading.Lock()

    def interrupt(self, cause: Exception) -> bool:
        """Stop writing for `cause` (EngineUnavailable, LeaseLost); True for the first cause only."""
        with self._interrupting:
            if self.interruption:
                return False
            self.interruption = (f"{cause} Crawl run {self.job.run_id} of {self.site} stopped as interrupted; what it "
                                 f"had not written is fetched again when `adwatch crawl {self.site}` resumes it "
                                 f"(job directory {self.job_dir}).")
            return True

    @property
    def resumed(self) -> bool:
        return self.job.attempts > 1

    def _load_or_create(self, trigger: str) -> JobState:
        job = read_job(self.job_dir) or new_job(self.site, trigger)
        if job.site != self.site:
            raise ValueError(f"{self.job_dir / 'run.json'} belongs to a crawl of {job.site!r}, not {self.site!r}; "
                             "use another job directory.")
        job.attempts += 1
        save_job(self.job_dir, job)
        return job

    def open(self) -> None:
        """Record the run as running (or running again, after a resume)."""
        # Alerts raised on an earlier attempt (too long, killed) stay on the document a resume rewrites.
        found = call(self.store.client, f"reading run {self.job.run_id}",
                     lambda c: c.options(ignore_status=404).get(index=self.store.runs, id=self.job.run_id,
                                                                source_includes=["alerts"]))
        alerts = (found.body.get("_source") or {}).get("alerts")
        self.kept = {"alerts": alerts} if alerts else {}
        self._write({"run_id": self.job.run_id, "site": self.site, "trigger": self.job.trigger,
                     "started": self.job.started, "status": "running", **self.kept}, refresh=None)

    def leave(self) -> None:
        """This process stops taking part: the lease goes back, unless other processes share it."""
        if self.lease.shared_by:
            self.lease.leave()
        else:
            self.lease.release()

    def close(self, stats: dict, reason: str) -> dict:
        """Count outcomes from the index, write the final run document, retire the job file, give the lease back."""
        try:
            if self.interruption:
                return self._close_interrupted(stats, reason)
            return self._close(stats, reason)
        finally:
            self.lease.release()

    def _close_interrupted(self, stats: dict, reason: str) -> dict:
        """The cluster is gone (or the lease lost): say why in the job file, try once to record the run."""
        self.job.interrupted = self.interruption
        save_job(self.job_dir, self.job)
        doc = {**self._document(stats, reason, status="interrupted"), "items": {}}
        if reason == "lease_lost":
            return doc  # the run document is the new lease holder's to write now
        try:
            self._write(doc, retry_s=min(LAST_WORD_RETRY_S, policy_of(self.store.client).retry_s))
        except EngineUnavailable:
            log.warning("run %s could not be recorded as interrupted (the cluster is unavailable); its job file "
                        "%s keeps it, and the next crawl of %s resumes it", self.job.run_id,
                        self.job_dir / "run.json", self.site)
        return doc

    def _close(self, stats: dict, reason: str) -> dict:
        # Through the retry layer: a node restarting as a crawl ends is waited for, not a run left `running`.
        self.store.refresh(self.store.ads)
        items = {
            "new": self._count("crawl.first_run"),
            "changed": self._count("crawl.changed_run"),
            "removed": self._count("crawl.removed_run"),
            "invalid": int(stats.get("adwatch/items/invalid", 0)),
        }
        items["unchanged"] = max(0, self._count("crawl.run_id") - items["new"] - items["changed"] - items["removed"])
        doc = {**self._document(stats, reason), "items": items}
        self._write(doc)
        if doc["status"] == "finished" and self.owns_job_file:
            (self.job_dir / "run.json").unlink(missing_ok=True)
        return doc

    def _document(self, stats: dict, reason: str, status: str | None = None) -> dict:
        errors = {key[len(ERROR_PREFIX):].replace(".", "_").replace("/", "_"): int(value)
                  for key, value in stats.items() if key.startswith(ERROR_PREFIX)}
        for key, value in stats.items():
            if key.startswith("downloader/exception_type_count/"):
                errors["exception_" + key.rsplit(".", 1)[-1]] = int(value)
            elif key.startswith("downloader/response_status_count/") and key.rsplit("/", 1)[-1][0] in "45":
                errors.setdefault("http_" + key.rsplit("/", 1)[-1], int(value))
        finished = _now()
        status = status or ("finished" if reason == "finished" else
                            "interrupted" if reason in INTERRUPTED_REASONS else "failed")
        return {
            "run_id": self.job.run_id, "site": self.site, "trigger": self.job.trigger,
            "started": self.job.started, "finished": finished,
            "duration_s": (datetime.fromisoformat(finished) - datetime.fromisoformat(self.job.started)).total_seconds(),
            "status": status, "pages": int(stats.get("response_received_count", 0)),
            "bytes": int(stats.get("downloader/response_bytes", 0)), "errors": errors,
            "scrapy_stats": {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in stats.items()},
            **self.kept,
        }

    def _count(self, field: str) -> int:
        query = {"bool": {"filter": [{"term": {"site": self.site}}, {"term": {field: self.job.run_id}}]}}
        return self.store.count(self.store.ads, query)

    def _write(self, doc: dict, refresh: str | None = "true", retry_s: float | None = None) -> None:
        writer = BulkWriter(self.store.client, refresh=refresh, retry_s=retry_s)
        report = writer.write([replace(self.store.runs, self.job.run_id, doc)])
        if report.failed:
            raise RuntimeError(f"could not record run {self.job.run_id}: {report.errors[0].reason}")


def site_lease(store: Store, site: str, shared_by: str | None = None) -> Lease:
    """The lease a crawl of `site` holds: one crawl of a site at a time, across machines (`shared_by`:
    the processes of one shared run hold it together)."""
    return Lease(store, f"crawl:{site}", f"adwatch crawl {site}", index=store.crawl_leases, shared_by=shared_by)
