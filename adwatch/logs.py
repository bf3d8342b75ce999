"""Logging and progress for long commands: pretty on a terminal, quiet and line-based elsewhere.

`--log-format json` (or ADWATCH_LOG_FORMAT=json, which child processes inherit) writes one JSON
object per line: timestamp, level, logger, message, and any `extra` fields; Filebeat or an
Elasticsearch ingest pipeline can take them as they are. Messages never carry ad text (see
crawler/logformatter.py); progress says how many, never which.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "@timestamp": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "log.level": record.levelname.lower(),
            "log.logger": record.name,
            "message": record.getMessage(),
            "process.pid": record.process,
        }
        # Only our own dotted fields ("progress.done", "link.stats") pass: libraries put whole objects in
        # `extra` (Scrapy attaches the scraped item, i.e. the ad) and those must never reach a log.
        entry.update({k: v for k, v in vars(record).items() if "." in k})
        if record.exc_info:
            entry["error.stack_trace"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def log_format() -> str:
    value = os.environ.get("ADWATCH_LOG_FORMAT", "text")
    return value if value in FORMATS else "text"


def configure(fmt: str | None = None, level: int | str = logging.INFO) -> None:
    """Route the root logger to stderr in `fmt` (default: ADWATCH_LOG_FORMAT, else text)."""
    fmt = fmt or log_format()
    os.environ["ADWATCH_LOG_FORMAT"] = fmt  # crawls and other children log the same way
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(level)  # Scrapy resets the root logger's level; the handler keeps the filter
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)


def interactive() -> bool:
    """A person is watching: stderr is a terminal and logs are not meant for a machine."""
    return sys.stderr.isatty() and log_format() == "text"


@contextmanager
def progress(description: str, total: int | None = None, unit: str = "ads",
             log: logging.Logger | None = None, every_s: float = 10.0) -> Iterator[Callable[[int], None]]:
    """Yields `advance(n)`. On a terminal: a rich progress bar. Otherwise: a log line at most every
    `every_s` seconds and one at the end, so CI logs and files stay short."""
    log = log or logging.getLogger("adwatch.progress")
    if interactive():
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn(unit),
                   TimeElapsedColumn()]
        with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
            task = bar.add_task(description, total=total)
            yield lambda n=1: bar.advance(task, n)
        return
    done = 0
    began = last = time.monotonic()

    def advance(n: int = 1) -> None:
        nonlocal done, last
        done += n
        now = time.monotonic()
        if now - last >= every_s:
            last = now
            log.info("%s: %d%s %s", description, done, f"/{total}" if total else "", unit,
                     extra={"progress.done": done, "progress.total": total, "progress.task": description})

    yield advance
    log.info("%s: %d %s in %.1f s", description, done, unit, time.monotonic() - began,
             extra={"progress.done": done, "progress.total": total, "progress.task": description})
