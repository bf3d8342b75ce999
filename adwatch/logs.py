"""Logging and progress for long commands: pretty on a terminal, quiet and line-based elsewhere.

`--log-format json` (or ADWATCH_LOG_FORMAT=json, which child processes inherit) writes one JSON
object per line: timestamp, level, logger, message, and any `extra` fields; Filebeat or an
Elasticsearch ingest pipeline can take them as they are. Progress says how many, never which.

Messages never carry ad text, nor values a mis-aimed selector could fill with it. Code logs
`ad_label(doc_id)` and field names, never values (crawler/logformatter.py does so for Scrapy's
item lines); and as a class, `install_redaction` rewrites every record made in the process, ours
and the libraries' (Scrapy prints URLs, whose slugs carry titles and phone numbers, and
exceptions quote the values that broke them): a URL keeps its scheme and host and its path
becomes a keyed digest (`http://host/…#3f9a0c1b2e`), an exception keeps its type and traceback
and its message becomes a digest. Digests are stable within a deployment (HMAC with the key in
`<cache>/log-digest.key`), so one page's lines can be followed, but not reversed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
DIGEST_KEY_ENV = "ADWATCH_LOG_DIGEST_KEY"
_URL = re.compile(r"(?P<origin>\b(?:https?|wss?|ftp)://[^/\s?#<>\"'\]\[)(]+)(?P<rest>[^\s<>\"'\]\[)(]*)")
_KEPT_PATHS = frozenset({"", "/", "/robots.txt"})
_key: bytes | None = None


def _digest_key() -> bytes:
    global _key
    if _key is None:
        _key = os.environ.get(DIGEST_KEY_ENV, "").encode() or _stored_key()
    return _key


def _stored_key() -> bytes:
    """`<cache>/log-digest.key`, made once (0600); a cache we cannot use gives a key for this process only."""
    from adwatch.config import load_settings
    from adwatch.errors import UserError

    try:
        path = load_settings().cache_dir / "log-digest.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".log-digest-")  # mode 0600
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
            try:
                os.link(tmp, path)  # atomic and exclusive: of two racing processes, one key wins
            except FileExistsError:
                pass
            finally:
                os.unlink(tmp)
        return path.read_bytes().strip() or secrets.token_bytes(32)
    except (OSError, UserError):
        return secrets.token_bytes(32)


def digest(value: object) -> str:
    """A short keyed digest of `value`: the same value gives the same digest in one deployment."""
    return "#" + hmac.new(_digest_key(), str(value).encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:10]


def ad_label(doc_id: str | None) -> str:
    """How a log names an ad: its site and a digest of its id (a mis-aimed selector fills ids too)."""
    if not doc_id:
        return "an ad without id"
    site, _, ad_id = str(doc_id).rpartition(":")
    return f"{site}:{digest(ad_id)}" if site else digest(ad_id)


def redact_urls(text: str) -> str:
    """Every URL in `text` with its path and query replaced by their digest."""
    def one(match: re.Match) -> str:
        rest = match["rest"]
        return match[0] if rest in _KEPT_PATHS else f"{match['origin']}/…{digest(rest)}"
    return _URL.sub(one, text)


def redacted_exception(exc_info) -> str:
    """A traceback whose exception messages are digests: code and types stay, values go."""
    _, exc, _ = exc_info
    lines: list[str] = []
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        frames = "".join(traceback.format_tb(exc.__traceback__))
        message = str(exc)
        lines.insert(0, f"Traceback (most recent call last):\n{frames}{type(exc).__qualname__}"
                        f"{': message ' + digest(message) if message else ''}\n")
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    return redact_urls("The above exception was the direct cause of the following exception:\n\n".join(lines)).rstrip()


def install_redaction() -> None:
    """Redact every log record this process makes from now on (idempotent); see the module docstring."""
    current = logging.getLogRecordFactory()
    if getattr(current, "adwatch_redacts", False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = current(*args, **kwargs)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed call: keep its template only
            message = str(record.msg)
        record.msg, record.args = redact_urls(message), None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redacted_exception(record.exc_info)
        return record

    factory.adwatch_redacts = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


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
        if record.exc_text or record.exc_info:
            entry["error.stack_trace"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def log_format() -> str:
    value = os.environ.get("ADWATCH_LOG_FORMAT", "text")
    return value if value in FORMATS else "text"


def configure(fmt: str | None = None, level: int | str = logging.INFO) -> None:
    """Route the root logger to stderr in `fmt` (default: ADWATCH_LOG_FORMAT, else text)."""
    fmt = fmt or log_format()
    os.environ["ADWATCH_LOG_FORMAT"] = fmt  # crawls and other children log the same way
    install_redaction()
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
