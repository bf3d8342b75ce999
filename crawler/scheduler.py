"""The crawl scheduler: starts each site's crawl at its cron slots and watches it to the end.

Crawls run as `adwatch crawl` child processes (Scrapy's reactor runs once per process), then
`adwatch enrich` when the schedule asks for it. The decisions an operator should know:

- Overlap: never two crawls of one site. A slot that comes due while the site's previous crawl
  still runs (here, or in any process holding the site's lock) is skipped, not queued, and
  recorded in the runs index as a run with status `skipped`.
- Misfire: after downtime, the latest missed slot runs once if it is within the schedule's
  `misfire_grace`; older ones are skipped (`crawler.schedules.due_slot`).
- State lives in the runs index: a site's last slot is the latest start or end of its
  trigger=schedule runs, so a restarted scheduler neither reruns a slot nor forgets one. A run
  left `running` with no crawl holding its site's lock (its process was killed) is marked
  interrupted with a `failed` alert; its job directory resumes it on the site's next run, and so
  does any run that was stopped.
- Max duration: a crawl past its `max_duration` gets SIGTERM (Scrapy closes its run as
  interrupted) and raises `too_long`; one still alive KILL_AFTER_S later is killed.
- Shutdown (`stop()`, SIGTERM): no new runs; each crawl gets one SIGTERM, closes its run as
  interrupted, and is waited for; running enrichment is stopped too (pending ads stay pending).
- Time: `now` and `sleep` decide slots and idle waits and can be injected, so tests drive the
  clock; child processes are watched in real time, since that is where they live.

One scheduler per deployment: site locks are files in the job directories of this machine.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from adwatch.config import Settings
from adwatch.errors import UserError
from adwatch.store import Store, connect
from crawler.alerts import Alert, Alerter, check_run
from crawler.runs import JobState, new_job, read_job, save_job
from crawler.scheduler_state import LOCK_HELD_ENV, RunHistory, SiteLock
from crawler.schedules import Schedules, SiteSchedule, due_slot, next_slot, slot_at
from crawler.sites import load_site

log = logging.getLogger(__name__)

POLL_S = 0.5  # how often running children are looked at
KILL_AFTER_S = 60.0  # a child still alive this long after SIGTERM is killed (Scrapy waits out downloads in flight)
MAX_IDLE_S = 300.0  # longest single idle sleep, so a changed clock is noticed


class SiteBusy(Exception):
    """A crawl of the site is already running (here, or in a process holding its lock)."""


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).isoformat(timespec="seconds")


def crawl_command(schedule: SiteSchedule, job_dir: Path, trigger: str) -> list[str]:
    """The `adwatch crawl` command line for one run of `schedule`."""
    argv = [sys.executable, "-m", "adwatch.cli", "crawl", schedule.site, "--job-dir", str(job_dir),
            "--trigger", trigger, "--recrawl", schedule.recrawl]
    return argv if schedule.polite else argv + ["--no-politeness"]


@dataclass
class ActiveCrawl:
    """A crawl child process and what the scheduler knows about it."""

    schedule: SiteSchedule
    job: JobState
    process: subprocess.Popen
    lock: SiteLock
    log_path: Path
    began: float = field(default_factory=time.monotonic)
    stopping_for: str | None = None  # too_long | shutdown
    signalled_at: float | None = None


@dataclass
class ActiveEnrich:
    process: subprocess.Popen
    run_ids: list[str]  # the finished runs whose ads it enriches (one enrichment covers all pending ads)
    signalled_at: float | None = None


class Scheduler:
    """Runs due crawls (and enrichment after them), records skips, enforces limits, raises alerts."""

    def __init__(self, store: Store, schedules: Schedules, jobs_dir: Path, alerter: Alerter,
                 error_rate_limit: float = 0.25, env: dict[str, str] | None = None,
                 now: Callable[[], datetime] = utc_now, sleep: Callable[[float], object] | None = None) -> None:
        self.schedules, self.jobs_dir = schedules, Path(jobs_dir)
        self.history = RunHistory(store)
        self.alerter, self.error_rate_limit = alerter, error_rate_limit
        self.env = env
        self.now = now
        self._wake = threading.Event()
        self.sleep = sleep or self._wake.wait  # a real idle sleep ends early on stop()
        self.stopping = False
        self.active: dict[str, ActiveCrawl] = {}
        self.enricher: ActiveEnrich | None = None
        self.enrich_for: list[str] = []
        self.last_slot: dict[str, datetime | None] = {}
        self.ended: list[dict] = []  # final documents of the runs this scheduler watched, with their alerts
        self._recovered = False

    @classmethod
    def from_settings(cls, settings: Settings, schedules: Schedules, **kwargs) -> "Scheduler":
        store = Store(connect(settings), settings.index_prefix)
        store.ensure_schema()
        alerter = Alerter(store, settings.alert_webhook_url, settings.alert_webhook_timeout_s)
        return cls(store, schedules, settings.jobs_dir, alerter, settings.alert_error_rate, **kwargs)

    @property
    def busy(self) -> bool:
        return bool(self.active) or self.enricher is not None or (bool(self.enrich_for) and not self.stopping)

    # ------------------------------------------------------------------ entry points

    def serve(self, once: bool = False, until: datetime | None = None) -> None:
        """Run due crawls until stop() (or, with `once`, only those due now; or until `until`), then drain."""
        self.recover()
        self.tick()
        while not once and not self.stopping and (until is None or self.now() < until):
            if self.busy:
                self._pause()
            else:
                self.sleep(self._idle_seconds(until))
            self.tick()
        self.drain()

    def run_now(self, site: str) -> dict:
        """Run `site`'s schedule entry at once (trigger manual), enrichment included; returns the run."""
        schedule = self.schedules.get(site)
        self.recover()
        try:
            crawl = self.start(schedule, "manual")
        except SiteBusy as exc:
            raise UserError(f"a crawl of {site} is already running (its lock {self.jobs_dir / site / 'crawl.lock'} "
                            "is held); wait for it to end or stop it, then try again.") from exc
        self.drain()
        return self.history.get(crawl.job.run_id) if crawl else self.ended[-1]

    def stop(self) -> None:
        """Take no new runs; running children get SIGTERM on the next look. Safe in a signal handler."""
        self.stopping = True
        self._wake.set()

    # ------------------------------------------------------------------ one look at the world

    def recover(self) -> None:
        """Once per scheduler: mark runs whose crawl was killed, and learn each site's last slot."""
        if self._recovered:
            return
        self._recovered = True
        for run in self.history.running():
            if run["site"] not in self.schedules.sites:
                continue
            if SiteLock(self.jobs_dir / run["site"]).is_free():
                self._mark_dead(run, "its crawl stopped without closing the run (process killed?)")
            else:
                log.info("%s: run %s from an earlier scheduler is still crawling; its slots are skipped until it "
                         "ends", run["site"], run["run_id"])
        for schedule in self.schedules.enabled():
            last = self.history.last_scheduled(schedule.site)
            self.last_slot[schedule.site] = slot_at(schedule.cron, last) if last else None
            log.info("%s: cron %r, last scheduled slot %s, next slot %s", schedule.site, schedule.cron,
                     iso(self.last_slot[schedule.site]) if last else "none",
                     iso(next_slot(schedule.cron, self.now())))

    def tick(self) -> None:
        """Look after running children, then start (or skip) every slot that is due."""
        self.supervise()
        if self.stopping:
            return
        now = self.now()
        for schedule in self.schedules.enabled():
            site, last = schedule.site, self.last_slot.get(schedule.site)
            latest = slot_at(schedule.cron, now)
            if last is not None and latest <= last:
                continue
            self.last_slot[site] = latest
            if due_slot(schedule, last, now) is None:
                log.info("%s: slot %s was missed by more than its misfire_grace (%.0f s); next slot %s", site,
                         iso(latest), schedule.misfire_grace, iso(next_slot(schedule.cron, now)))
            else:
                try:
                    self.start(schedule, "schedule")
                except SiteBusy:
                    self._record_skip(schedule, latest, now)
                except Exception:  # noqa: BLE001 - e.g. the index is unreachable: try again at the next slot
                    log.exception("%s: could not start the crawl of slot %s; carrying on", site, iso(latest))

    def supervise(self) -> None:
        """Reap children that ended, stop those over their limit (or all, when stopping), start enrichment."""
        for site, crawl in list(self.active.items()):
            # One site's trouble (an unreachable index while recording its end, say) is logged and
            # the daemon goes on watching the others.
            try:
                if crawl.process.poll() is not None:
                    del self.active[site]
                    self._crawl_ended(crawl)
                else:
                    self._enforce_limits(crawl)
            except Exception:  # noqa: BLE001
                log.exception("%s: could not look after the crawl; carrying on", site)
        try:
            self._supervise_enrich()
        except Exception:  # noqa: BLE001
            log.exception("could not look after enrichment; carrying on")

    def drain(self) -> None:
        """Wait until no crawl or enrichment is running (stopping them first when stop() was called)."""
        while self.busy:
            self.supervise()
            if self.busy:
                self._pause()

    # ------------------------------------------------------------------ crawls

    def start(self, schedule: SiteSchedule, trigger: str) -> ActiveCrawl | None:
        """Start a crawl of `schedule`'s site; None when its job file is unreadable (recorded as a failed run).

        Raises SiteBusy when a crawl of the site is already running.
        """
        job_dir = self.jobs_dir / schedule.site
        lock = SiteLock(job_dir)
        if schedule.site in self.active or not lock.acquire():
            raise SiteBusy(schedule.site)
        try:
            job = read_job(job_dir)
        except ValueError as exc:
            lock.release()
            run = self._record_failure(schedule.site, trigger, str(exc))
            self.alerter.notify(run, [Alert("failed", str(exc), run["finished"])])
            self.ended.append(run)
            return None
        if job is None:
            job = new_job(schedule.site, trigger, started=iso(self.now()))
            save_job(job_dir, job)  # the run id is known before the crawl starts, and its start is our clock's
        log_path = job_dir / "crawl.log"
        log.info("%s: %s run %s (%s, %s); output in %s", schedule.site, "resuming" if job.attempts else "starting",
                 job.run_id, trigger, schedule.recrawl, log_path)
        with log_path.open("wb") as out:
            process = subprocess.Popen(crawl_command(schedule, job_dir, trigger), stdout=out,
                                       stderr=subprocess.STDOUT, pass_fds=(lock.fd,),
                                       env={**(self.env or os.environ), LOCK_HELD_ENV: str(lock.fd)},
                                       # its own session: a terminal's Ctrl-C reaches only us, and we
                                       # forward exactly one SIGTERM (a second one makes Scrapy quit unclean)
                                       start_new_session=True)
        crawl = ActiveCrawl(schedule, job, process, lock, log_path)
        self.active[schedule.site] = crawl
        return crawl

    def _enforce_limits(self, crawl: ActiveCrawl) -> None:
        if crawl.signalled_at is None:
            if self.stopping:
                self._signal(crawl, "shutdown")
            elif time.monotonic() - crawl.began > crawl.schedule.max_duration:
                self._signal(crawl, "too_long")
        elif time.monotonic() - crawl.signalled_at > KILL_AFTER_S:
            log.error("%s: run %s ignored SIGTERM for %.0f s; killing it", crawl.schedule.site, crawl.job.run_id,
                      KILL_AFTER_S)
            _kill_group(crawl.process)

    def _signal(self, crawl: ActiveCrawl, why: str) -> None:
        log.warning("%s: stopping run %s (%s)", crawl.schedule.site, crawl.job.run_id,
                    "scheduler shutting down" if why == "shutdown" else
                    f"over its max_duration of {crawl.schedule.max_duration:.0f} s")
        crawl.stopping_for, crawl.signalled_at = why, time.monotonic()
        crawl.process.send_signal(signal.SIGTERM)

    def _crawl_ended(self, crawl: ActiveCrawl) -> None:
        crawl.lock.release()
        schedule, code = crawl.schedule, crawl.process.returncode
        run = self.history.get(crawl.job.run_id)
        reason = None
        if run is None:  # it ended before recording its run: a bad definition, no cluster, stopped early, ...
            reason = f"the crawl exited with code {code} before recording its run: {_last_line(crawl.log_path)}"
            run = self._record_failure(schedule.site, crawl.job.trigger, reason, crawl.job,
                                       status="interrupted" if crawl.stopping_for else "failed")
        elif run["status"] == "running":  # killed before it could close its run
            reason = f"the crawl process ended (exit code {code}) without closing its run"
            run = self._mark_dead(run, reason, alert=False)
        log.info("%s: run %s ended %s (exit code %s)", schedule.site, run["run_id"], run["status"], code)
        if crawl.stopping_for != "shutdown":  # an operator's stop is not news
            alerts = check_run(run, iso(self.now()), self.error_rate_limit,
                               stopped_after_s=schedule.max_duration if crawl.stopping_for == "too_long" else None,
                               reason=reason, gone_statuses=_gone_statuses(schedule.site))
            self.alerter.notify(run, alerts)
        if run["status"] == "finished" and schedule.enrich:
            self.enrich_for.append(run["run_id"])
        self.ended.append(run)

    def _record_skip(self, schedule: SiteSchedule, slot: datetime, now: datetime) -> None:
        log.warning("%s: slot %s skipped: the previous crawl of the site is still running", schedule.site, iso(slot))
        self.history.record({"run_id": f"{schedule.site}-{now:%Y%m%dT%H%M%S}-skipped", "site": schedule.site,
                             "trigger": "schedule", "started": iso(now), "finished": iso(now), "duration_s": 0.0,
                             "status": "skipped"})

    def _record_failure(self, site: str, trigger: str, reason: str, job: JobState | None = None,
                        status: str = "failed") -> dict:
        job = job or new_job(site, trigger, started=iso(self.now()))
        run = {"run_id": job.run_id, "site": site, "trigger": trigger, "started": job.started,
               "finished": iso(self.now()), "status": status, "pages": 0}
        log.error("%s: run %s %s: %s", site, job.run_id, status, reason)
        self.history.record(run)
        return run

    def _mark_dead(self, run: dict, reason: str, alert: bool = True) -> dict:
        at = iso(self.now())
        self.history.update(run["run_id"], {"status": "interrupted", "finished": at})
        run = {**run, "status": "interrupted", "finished": at}
        if alert:
            self.alerter.notify(run, [Alert("failed", f"{reason}; its job directory resumes it on the next run", at)])
        return run

    # ------------------------------------------------------------------ enrichment

    def _supervise_enrich(self) -> None:
        enricher = self.enricher
        if enricher is not None and enricher.process.poll() is not None:
            self.enricher = None
            code = enricher.process.returncode
            if code != 0 and enricher.signalled_at is None:
                at = iso(self.now())
                for run_id in enricher.run_ids:
                    run = self.history.get(run_id)
                    if run:
                        self.alerter.notify(run, [Alert("failed", f"enrichment after this run failed (exit code "
                                                                  f"{code}); see {self.jobs_dir / 'enrich.log'}", at)])
        elif enricher is not None and self.stopping:
            if enricher.signalled_at is None:
                enricher.signalled_at = time.monotonic()
                enricher.process.send_signal(signal.SIGTERM)
            elif time.monotonic() - enricher.signalled_at > KILL_AFTER_S:
                _kill_group(enricher.process)
        if self.enricher is None and self.enrich_for and not self.stopping:
            self.jobs_dir.mkdir(parents=True, exist_ok=True)
            log.info("enriching after runs %s", ", ".join(self.enrich_for))
            with (self.jobs_dir / "enrich.log").open("wb") as out:
                process = subprocess.Popen([sys.executable, "-m", "adwatch.cli", "enrich"], stdout=out,
                                           stderr=subprocess.STDOUT, env=self.env, start_new_session=True)
            self.enricher = ActiveEnrich(process, self.enrich_for)
            self.enrich_for = []

    # ------------------------------------------------------------------ waiting

    def _idle_seconds(self, until: datetime | None) -> float:
        now = self.now()
        wake = [next_slot(s.cron, now) for s in self.schedules.enabled()] + ([until] if until else [])
        return max(0.0, min([MAX_IDLE_S] + [(w - now).total_seconds() for w in wake]))

    def _pause(self) -> None:
        # Children are watched in real time; once stopping, the wake event stays set, so sleep plainly.
        if self.stopping:
            time.sleep(POLL_S)
        else:
            self._wake.wait(POLL_S)


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)  # its own session: takes a browser it started along
    except ProcessLookupError:
        pass


def _last_line(path: Path) -> str:
    """The last line a child wrote (its error message), shortened."""
    try:
        lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return "(no output)"
    return lines[-1][-300:] if lines else "(no output)"


def _gone_statuses(site: str) -> tuple[int, ...]:
    """HTTP statuses that mean "ad removed" for `site` (not errors); the defaults when its definition no
    longer loads (the crawl's failure is then the news, and the alert must still go out)."""
    try:
        return tuple(load_site(site).gone_statuses)
    except Exception:  # noqa: BLE001 - SiteError, a missing environment placeholder, an unreadable file
        return (404, 410)
