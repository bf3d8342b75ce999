"""Fixtures for the demo world: one generated world per session, marketplace servers (chromium: tests/conftest.py)."""

from __future__ import annotations

import http.client
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from demo.generator import generate_world
from demo.server import start_server
from demo.world import read_ads, read_truth

WORLD_ADS, WORLD_SEED = 1200, 11


@pytest.fixture(scope="session")
def world_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo-world")
    generate_world(out, WORLD_ADS, WORLD_SEED)
    return out


@pytest.fixture(scope="session")
def truth(world_dir) -> list[dict]:
    return read_truth(world_dir)


@pytest.fixture(scope="session")
def ads(world_dir) -> dict[str, dict]:
    return read_ads(world_dir)


@pytest.fixture
def market(world_dir):
    """A fault-free server on a free port (faults have their own fixture)."""
    server = start_server(world_dir, port=0, faults=False)
    yield server
    server.stop()


@pytest.fixture
def faulty_market(world_dir):
    """A server with every fault on but no rate limit (rate limiting has its own test)."""
    server = start_server(world_dir, port=0, rate_limit=0, slow_ms=50)
    yield server
    server.stop()


class Response:
    def __init__(self, status: int, headers: dict[str, str], body: bytes):
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def _fetch(url: str, method: str = "GET", body: bytes | None = None, user_agent: str = "adwatch-tests") -> Response:
    """One real HTTP request over loopback; redirects are not followed."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request(method, path, body=body, headers={"User-Agent": user_agent})
        reply = conn.getresponse()
        return Response(reply.status, {k.lower(): v for k, v in reply.getheaders()}, reply.read())
    finally:
        conn.close()


@pytest.fixture(scope="session")
def fetch():
    """`fetch(url, method="GET", body=None, user_agent=...) -> Response`, one real request, no redirects."""
    return _fetch
