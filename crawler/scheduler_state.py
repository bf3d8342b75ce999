"""What a scheduler knows beyond its own memory: the runs index, and which sites a process is crawling.

Both survive a scheduler that was killed: the runs index holds every scheduled, skipped and
stopped run; a site's lock is held by its crawl process until that process ends.
"""

from __future__ import annotations

import fcntl
import os
from datetime import datetime, timezone
from pathlib import Path

from adwatch.store import Store


# Set in a crawl's environment by the scheduler that holds the site's lock for it (the descriptor
# number); a crawl without it takes the lock itself.
LOCK_HELD_ENV = "ADWATCH_SITE_LOCK_FD"


class SiteLock:
    """An exclusive lock on a site's job directory. The crawl process inherits it, so it holds
    until the crawl ends, even when the scheduler that started it was killed."""

    def __init__(self, job_dir: Path, shared: bool = False) -> None:
        self.path = job_dir / "crawl.lock"
        self.fd: int | None = None
        # Processes of one shared-frontier run hold it together; a crawl of its own still cannot start.
        self.mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, self.mode | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def is_free(self) -> bool:
        if self.acquire():
            self.release()
            return True
        return False


class RunHistory:
    """What the runs index says about a site's runs: the scheduler's memory across restarts."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def last_scheduled(self, site: str) -> datetime | None:
        """The latest start or end of a trigger=schedule run (skipped ones included) of `site`."""
        query = {"bool": {"filter": [{"term": {"site": site}}, {"term": {"trigger": "schedule"}}]}}
        aggs = {"started": {"max": {"field": "started"}}, "finished": {"max": {"field": "finished"}}}
        body = self.store.client.search(index=self.store.runs, query=query, aggs=aggs, size=0)["aggregations"]
        times = [v["value"] for v in body.values() if v.get("value") is not None]
        return datetime.fromtimestamp(max(times) / 1000, timezone.utc) if times else None

    def running(self) -> list[dict]:
        hits = self.store.client.search(index=self.store.runs, query={"term": {"status": "running"}}, size=1000)
        return [h["_source"] for h in hits["hits"]["hits"]]

    def get(self, run_id: str) -> dict | None:
        found = self.store.client.options(ignore_status=404).get(index=self.store.runs, id=run_id)
        return found.body.get("_source") if found.body.get("found") else None

    def record(self, run: dict) -> None:
        self.store.client.index(index=self.store.runs, id=run["run_id"], document=run, refresh=True)

    def update(self, run_id: str, fields: dict) -> None:
        self.store.client.update(index=self.store.runs, id=run_id, doc=fields, refresh=True)
