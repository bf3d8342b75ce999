"""`adwatch crawl SITE`, `adwatch sites` and `adwatch sites check`: crawl a site, list and check definitions."""

from __future__ import annotations

import argparse
import json
from collections import Counter
import logging
import os
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from rich.console import Console
from rich.table import Table

from adwatch.config import load_settings
from adwatch.logs import configure as configure_logs, log_format
from adwatch.store import Store, connect
from adwatch.errors import UserError
from crawler.scheduler_state import LOCK_HELD_ENV, SiteLock
from crawler.sites import SiteDefinition, SiteError, known_sites, load_site

out = Console()


def crawl(site: str, job_dir: str | None = None, trigger: str = "manual", world_day: int | None = None,
          overrides: dict | None = None, recrawl: str = "incremental", frontier: str | None = None) -> dict:
    """Run one crawl of `site` to completion in this process; returns Scrapy's final stats."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings

    from crawler.spiders.ads import AdsSpider

    if world_day is not None:
        move_demo_world(load_site(site), world_day)
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    for key, value in (overrides or {}).items():
        settings.set(key, value, priority="cmdline")
    # Scrapy installs its own root handler, filtered by LOG_LEVEL; the adwatch CLI's would let
    # every DEBUG line through a second time.
    for handler in logging.root.handlers[:]:
        logging.root.removeHandler(handler)
    if log_format() == "json":  # `adwatch --log-format json crawl`, or inherited from a scheduler/demo
        configure_logs("json", settings.get("LOG_LEVEL"))
        settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(AdsSpider)
    failed: list = []
    process.crawl(crawler, site=site, job_dir=job_dir, trigger=trigger, recrawl=recrawl,
                  frontier=frontier).addErrback(failed.append)
    process.start()
    if failed:  # the crawl could not start: another crawl holds the site, no chromium, the cluster gone...
        failed[0].raiseException()
    if crawler.spider.run.interruption:
        raise CrawlInterrupted(crawler.spider.run.interruption)
    return crawler.stats.get_stats()


class CrawlInterrupted(UserError):
    """The crawl stopped before its end (its cluster gone, its lease lost); the next crawl resumes it."""


def move_demo_world(site: SiteDefinition, day: int) -> None:
    """Ask the demo marketplace serving `site` to show its world as of `day` (demo worlds only)."""
    parts = urlsplit(site.start_urls[0])
    url = f"{parts.scheme}://{parts.netloc}/_world"
    request = urllib.request.Request(url, data=json.dumps({"day": day}).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            resp.read()
    except (urllib.error.URLError, OSError) as exc:
        raise UserError(f"--world-day needs the demo marketplace at {url}, which answered: {exc}. "
                        "Start it with `adwatch demo serve`, or drop --world-day for a real site.") from exc


def _crawl(args: argparse.Namespace) -> int:
    definition = load_site(args.site)  # a bad definition fails here with its file and key, before Scrapy starts
    settings = load_settings()
    connect(settings)  # so does an unreachable cluster
    overrides = {"LOG_LEVEL": args.log_level}
    if args.no_politeness:
        overrides.update(DOWNLOAD_DELAY=0, AUTOTHROTTLE_ENABLED=False, CONCURRENT_REQUESTS_PER_DOMAIN=16)
    frontier = None
    if args.frontier is not None:
        frontier = args.frontier or settings.redis_url
        if not frontier:
            raise UserError("--frontier needs a Redis URL: give one (--frontier redis://HOST:6379/0) or set "
                            "ADWATCH_REDIS_URL.")
        from crawler.frontier import connect_frontier

        connect_frontier(frontier).close()  # an unreachable Redis fails here, before Scrapy starts
    lock = None
    if not os.environ.get(LOCK_HELD_ENV):
        # A crawl started by hand takes its site's lock too, so the scheduler neither starts a second
        # crawl of the site nor takes this live run for a dead one.
        job_dir = Path(args.job_dir) if args.job_dir else settings.jobs_dir / definition.site
        lock = SiteLock(job_dir, shared=frontier is not None)
        if not lock.acquire():
            raise UserError(f"a crawl of {args.site} is already running with job directory {job_dir} (its lock "
                            f"{lock.path} is held); wait for it to end, or use another --job-dir.")
    try:
        stats = crawl(args.site, args.job_dir, args.trigger, args.world_day, overrides, args.recrawl, frontier)
    finally:
        if lock:
            lock.release()
    reason = stats.get("finish_reason")
    what = f"This process's part of the shared crawl of {args.site}" if frontier else f"Crawl of {args.site}"
    out.print(f"{what} ended: {reason}; pages {stats.get('response_received_count', 0)}, "
              f"new {stats.get('adwatch/items/new', 0)}, changed {stats.get('adwatch/items/changed', 0)}, "
              f"removed {stats.get('adwatch/items/removed', 0)}, invalid {stats.get('adwatch/items/invalid', 0)}. "
              "`adwatch runs` shows the run.")
    return 0 if reason == "finished" else 1


def _runs(args: argparse.Namespace) -> int:
    settings = load_settings()
    store = Store(connect(settings), settings.index_prefix)
    query = {"term": {"site": args.site}} if args.site else {"match_all": {}}
    hits = store.client.options(ignore_status=404).search(
        index=store.runs, query=query, size=args.limit, sort=[{"started": "desc"}])
    runs = [h["_source"] for h in hits.body.get("hits", {}).get("hits", [])]
    if not runs:
        out.print("No crawl runs recorded yet" + (f" for {args.site}" if args.site else "") + ".")
        return 0
    table = Table(title="Crawl runs, newest first")
    for column in ("run", "site", "trigger", "started", "status", "seconds", "pages", "new", "changed",
                   "removed", "invalid", "errors", "alerts"):
        table.add_column(column)
    for run in runs:
        items = run.get("items", {})
        errors = ", ".join(f"{k} {v}" for k, v in sorted(run.get("errors", {}).items()))
        table.add_row(run["run_id"], run["site"], run.get("trigger", ""), run.get("started", ""), run["status"],
                      f"{run.get('duration_s', 0):.0f}", str(run.get("pages", "")), str(items.get("new", "")),
                      str(items.get("changed", "")), str(items.get("removed", "")), str(items.get("invalid", "")),
                      errors, ", ".join(alert["kind"] for alert in run.get("alerts", [])))
    out.print(table)
    return 0


def _sites(args: argparse.Namespace) -> int:
    table = Table(title="Site definitions (crawler/sites)")
    for column in ("site", "render", "start URLs", "status"):
        table.add_column(column)
    for name in known_sites():
        try:
            site = load_site(name)
            table.add_row(name, site.render, " ".join(site.start_urls), "ok")
        except SiteError as exc:
            table.add_row(name, "", "", f"[red]{exc}[/]")
    out.print(table)
    return 0


def _check(args: argparse.Namespace) -> int:
    from crawler.check import as_json, field_reports, run_check

    definition = load_site(args.site)
    if args.sample < 1:
        raise UserError(f"--sample must be at least 1, got {args.sample}.")
    pages = run_check(definition, args.urls, args.sample, polite=not args.no_politeness)
    if args.json:
        print(json.dumps(as_json(definition, pages), ensure_ascii=False, indent=1))
        return 0 if pages and not any(p.invalid for p in pages) else 1
    if not pages:
        out.print(f"[red]No ad page fetched for {definition.site}[/]: check start_urls, listing.entry and "
                  "listing.link (or give ad URLs).")
        return 1
    from crawler.check import REPORTED, stored_value

    for page in pages:
        table = Table(title=f"{page.url} (HTTP {page.status})", show_lines=False, title_justify="left")
        for column in ("field", "stored value", "from", "problem"):
            table.add_column(column, overflow="fold")
        if page.extraction is None or page.removed:
            out.print(f"{page.url}: removed ({page.removed})")
            continue
        found = page.extraction
        for name in REPORTED:
            value = stored_value(found, name)
            shown = "" if value in (None, "", []) else str(value)
            source_key = "contact" if name == "contact_text" else name
            source = found.sources.get(source_key) or ("location" if name in ("city", "region", "country")
                                                       and "location" in found.sources and value else "")
            if name == "country" and found.ad.country_source == "site_default":
                source = "defaults"
            table.add_row(name, shown[:300] + ("..." if len(shown) > 300 else ""), source,
                          found.problems.get(source_key, ""))
        out.print(table)
        if page.invalid:
            out.print(f"[red]would be counted invalid[/]: {'; '.join(page.invalid)}")
    summary = Table(title=f"{definition.site}: fields over {len(pages)} pages")
    for column in ("field", "filled", "rate", "looks wrong"):
        summary.add_column(column, overflow="fold")
    for report in field_reports(pages):
        why = Counter(w for _, w in report.suspicious)
        summary.add_row(report.name, f"{report.filled}/{report.total}", f"{report.rate:.0%}",
                        "; ".join(f"{w} ({n})" for w, n in why.most_common(3)))
    out.print(summary)
    return 0 if not any(p.invalid for p in pages) else 1


def register(sub) -> None:
    crawl_cmd = sub.add_parser("crawl", help="crawl one site into the index (politely, incrementally)")
    crawl_cmd.add_argument("site", help="site definition name (crawler/sites/<site>.yaml) or a path to one")
    crawl_cmd.add_argument("--job-dir", help="job directory; an unfinished run there is resumed "
                                             "(default: <cache>/jobs/<site>)")
    crawl_cmd.add_argument("--trigger", default="manual", choices=["manual", "schedule"])
    crawl_cmd.add_argument("--recrawl", default="incremental", choices=["incremental", "full"],
                           help="full: fetch every listed ad page, even when its listing entry looks unchanged")
    crawl_cmd.add_argument("--world-day", type=int, help="demo marketplace only: crawl the world as of day K")
    crawl_cmd.add_argument("--no-politeness", action="store_true",
                           help="no delays or throttling: for benchmarks against your own demo server only")
    crawl_cmd.add_argument("--frontier", nargs="?", const="", metavar="REDIS_URL",
                           help="share the crawl with every process started so on the same site: one run, one "
                                "request queue (default URL: ADWATCH_REDIS_URL)")
    crawl_cmd.add_argument("--log-level", default="WARNING")
    crawl_cmd.set_defaults(func=_crawl)
    runs = sub.add_parser("runs", help="crawl run history")
    runs.add_argument("--site")
    runs.add_argument("--limit", type=int, default=20)
    runs.set_defaults(func=_runs)
    sites = sub.add_parser("sites", help="list site definitions and whether they validate; `sites check SITE`")
    sites.set_defaults(func=_sites)
    sites_sub = sites.add_subparsers(dest="sites_command", metavar="check")
    check = sites_sub.add_parser("check", help="fetch a few ad pages and show every field as it would be stored, "
                                               "with fill rates and values that look wrong (writes nothing)")
    check.add_argument("site", help="site definition name or a path to one")
    check.add_argument("urls", nargs="*", help="ad pages to read (default: follow the listings to --sample ads)")
    check.add_argument("--sample", type=int, default=20, help="ads to read from the listings (default 20)")
    check.add_argument("--json", action="store_true", help="print the check as JSON")
    check.add_argument("--no-politeness", action="store_true",
                       help="no delays or throttling: only for a marketplace on this machine")
    check.set_defaults(func=_check)
