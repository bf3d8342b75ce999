"""Scheduler fixtures: a tiny demo world served on loopback, isolated deployments, a clock tests drive."""

from __future__ import annotations

import json
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

# The crawler suite's helpers make isolated deployments (index prefix + cache) on the session node.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "crawler"))
from crawl_helpers import deployment, point_at  # noqa: E402

from crawler.alerts import Alerter  # noqa: E402
from crawler.scheduler import Scheduler  # noqa: E402
from crawler.schedules import Schedules, load_schedules  # noqa: E402
from demo.generator import generate_world  # noqa: E402
from demo.server import start_server  # noqa: E402

T0 = datetime(2030, 1, 1, 10, 0, tzinfo=timezone.utc)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


class FakeClock:
    """The scheduler's clock in tests: time moves only when a test (or the scheduler's sleep) moves it."""

    def __init__(self, start: datetime = T0) -> None:
        self.t = start

    def now(self) -> datetime:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += timedelta(seconds=seconds)

    def set(self, when: datetime) -> None:
        self.t = when


def write_schedules(directory: Path, sites: dict[str, dict]) -> Path:
    path = directory / "schedules.yaml"
    path.write_text(yaml.safe_dump({"sites": sites}))
    return path


def schedules_for(directory: Path, **entry) -> Schedules:
    """A schedules file for demo-html alone: every 10 minutes, no politeness, no enrichment, unless overridden."""
    return load_schedules(write_schedules(directory, {"demo-html": {"cron": "*/10 * * * *", "polite": False,
                                                                    "max_duration": "10m", **entry}}))



def crawl_runs(d) -> list[dict]:
    """demo-html's runs in the deployment, oldest first, without the skipped slots."""
    return [r for r in d.runs("demo-html") if r["status"] != "skipped"]


def wait_until(condition, what: str, limit_s: float = 120):
    """Poll `condition` until it gives something true (returned); a bound against hanging, not a timing check."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what}")


def crawling(d, run_id: str) -> bool:
    """The crawl opened its run and wrote some ads: it is mid-crawl, with Scrapy's signal handlers in place."""
    run = d.store.client.options(ignore_status=404).get(index=d.store.runs, id=run_id).body.get("_source") or {}
    return run.get("status") == "running" and len(d.ads("demo-html")) >= 3


@pytest.fixture(scope="session")
def tiny_world(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("scheduler-world")
    generate_world(out, 80, 3)  # about 40 ads per flavour
    return out


@pytest.fixture
def market(tiny_world):
    server = start_server(tiny_world, port=0, rate_limit=0, crawl_delay=0, slow_ms=0)
    yield server
    server.stop()


@pytest.fixture
def site(es_settings, tmp_path, market):
    """An isolated deployment whose demo sites point at this test's marketplace."""
    with deployment(es_settings, tmp_path / "cache") as d:
        yield point_at(d, market)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_scheduler(d, schedules: Schedules, clock: FakeClock, webhook: str = "") -> Scheduler:
    return Scheduler(d.store, schedules, d.cache_dir / "jobs", Alerter(d.store, webhook, timeout_s=5), env=d.env,
                     now=clock.now, sleep=clock.sleep)


class _Hook(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append({"content_type": self.headers["Content-Type"], "json": json.loads(body)})
        self.send_response(204)
        self.end_headers()

    def log_message(self, format, *args):  # noqa: A002
        pass


@pytest.fixture
def webhook():
    """A real alert receiver on loopback: `.url`, `.received` (list of {content_type, json})."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/adwatch-secret-token"
    yield server
    server.shutdown()
    server.server_close()
