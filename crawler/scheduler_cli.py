"""`adwatch scheduler` and `adwatch run SITE --now`: crawls at their cron slots, or one schedule entry now."""

from __future__ import annotations

import argparse
import signal

from rich.console import Console

from adwatch.config import load_settings
from adwatch.errors import UserError
from crawler.scheduler import Scheduler
from crawler.schedules import Schedules, load_schedules

out = Console()


def _load(args: argparse.Namespace) -> tuple[Scheduler, Schedules]:
    settings = load_settings()
    schedules = load_schedules(args.schedules or settings.schedules_file or None)
    scheduler = Scheduler.from_settings(settings, schedules)
    # SIGTERM (service managers) and Ctrl-C both stop cleanly: no new runs, running crawls closed.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: scheduler.stop())
    return scheduler, schedules


def _scheduler(args: argparse.Namespace) -> int:
    scheduler, schedules = _load(args)
    enabled = schedules.enabled()
    if not enabled:
        raise UserError(f"{schedules.path}: no site schedule is enabled; set enabled: true on one.")
    out.print(f"Scheduling {', '.join(f'{s.site} ({s.cron})' for s in enabled)} from {schedules.path} (UTC)"
              + ("; running what is due now, then exiting." if args.once else "; SIGTERM or Ctrl-C stops cleanly."))
    scheduler.serve(once=args.once)
    out.print(f"Scheduler stopped; {len(scheduler.ended)} run(s) watched. `adwatch runs` shows the history.")
    return 0


def _run(args: argparse.Namespace) -> int:
    scheduler, _ = _load(args)
    run = scheduler.run_now(args.site)
    items = run.get("items") or {}
    alerts = run.get("alerts") or []
    out.print(f"Run {run['run_id']} of {args.site}: {run['status']}; pages {run.get('pages', 0)}, "
              f"new {items.get('new', 0)}, changed {items.get('changed', 0)}, removed {items.get('removed', 0)}, "
              f"invalid {items.get('invalid', 0)}.")
    for alert in alerts:
        out.print(f"[yellow]alert {alert['kind']}:[/] {alert['message']}", highlight=False)
    return 0 if run["status"] == "finished" and not alerts else 1


def register(sub) -> None:
    scheduler = sub.add_parser("scheduler", help="run crawls at their cron slots (crawler/schedules.yaml)")
    scheduler.add_argument("--schedules", help="schedules file (default: ADWATCH_SCHEDULES, else "
                                               "crawler/schedules.yaml)")
    scheduler.add_argument("--once", action="store_true", help="run what is due now, wait for it, and exit")
    scheduler.set_defaults(func=_scheduler)
    run = sub.add_parser("run", help="run one site's schedule entry now: crawl, enrich if configured, alerts")
    run.add_argument("site", help="a site in the schedules file")
    run.add_argument("--now", action="store_true", required=True, help="start at once (trigger manual)")
    run.add_argument("--schedules", help="schedules file (default: ADWATCH_SCHEDULES, else crawler/schedules.yaml)")
    run.set_defaults(func=_run)
