"""One crawl run: its job directory (what a killed run resumes from) and its document in the runs index.

A run id lives in `<job dir>/run.json` until the run finishes. Starting a crawl with a job
directory that still holds an unfinished run resumes that run: same id, same start time, and
ads already written by it are skipped (the ledger knows their run id).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from adwatch.bulk import BulkWriter, replace
from adwatch.files import write_atomically
from adwatch.store import Store

from crawler.ledger import Ledger, RunClock

ERROR_PREFIX = "adwatch/errors/"


@dataclass
class JobState:
    run_id: str
    site: str
    started: str
    trigger: str
    attempts: int = 1


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
        self.owns_job_file = job is None
        self.job = job or self._load_or_create(trigger)
        self.clock = RunClock(self.job.run_id, _now())
        self.ledger = Ledger.load(store, site)
        self.kept: dict = {}  # fields of an earlier attempt's document that the next write keeps

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
        found = self.store.client.options(ignore_status=404).get(index=self.store.runs, id=self.job.run_id,
                                                                  source_includes=["alerts"])
        alerts = (found.body.get("_source") or {}).get("alerts")
        self.kept = {"alerts": alerts} if alerts else {}
        self._write({"run_id": self.job.run_id, "site": self.site, "trigger": self.job.trigger,
                     "started": self.job.started, "status": "running", **self.kept}, refresh=None)

    def close(self, stats: dict, reason: str) -> dict:
        """Count outcomes from the index, write the final run document, and retire the job file."""
        self.store.client.indices.refresh(index=self.store.ads)
        items = {
            "new": self._count("crawl.first_run"),
            "changed": self._count("crawl.changed_run"),
            "removed": self._count("crawl.removed_run"),
            "invalid": int(stats.get("adwatch/items/invalid", 0)),
        }
        items["unchanged"] = max(0, self._count("crawl.run_id") - items["new"] - items["changed"] - items["removed"])
        errors = {key[len(ERROR_PREFIX):].replace(".", "_").replace("/", "_"): int(value)
                  for key, value in stats.items() if key.startswith(ERROR_PREFIX)}
        for key, value in stats.items():
            if key.startswith("downloader/exception_type_count/"):
                errors["exception_" + key.rsplit(".", 1)[-1]] = int(value)
            elif key.startswith("downloader/response_status_count/") and key.rsplit("/", 1)[-1][0] in "45":
                errors.setdefault("http_" + key.rsplit("/", 1)[-1], int(value))
        finished = _now()
        status = "finished" if reason == "finished" else ("interrupted" if reason == "shutdown" else "failed")
        doc = {
            "run_id": self.job.run_id, "site": self.site, "trigger": self.job.trigger,
            "started": self.job.started, "finished": finished,
            "duration_s": (datetime.fromisoformat(finished) - datetime.fromisoformat(self.job.started)).total_seconds(),
            "status": status, "pages": int(stats.get("response_received_count", 0)),
            "bytes": int(stats.get("downloader/response_bytes", 0)), "items": items, "errors": errors,
            "scrapy_stats": {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in stats.items()},
            **self.kept,
        }
        self._write(doc)
        if status == "finished" and self.owns_job_file:
            (self.job_dir / "run.json").unlink(missing_ok=True)
        return doc

    def _count(self, field: str) -> int:
        query = {"bool": {"filter": [{"term": {"site": self.site}}, {"term": {field: self.job.run_id}}]}}
        return self.store.client.count(index=self.store.ads, query=query)["count"]

    def _write(self, doc: dict, refresh: str | None = "true") -> None:
        report = BulkWriter(self.store.client, refresh=refresh).write([replace(self.store.runs, self.job.run_id, doc)])
        if report.failed:
            raise RuntimeError(f"could not record run {self.job.run_id}: {report.errors[0].reason}")
