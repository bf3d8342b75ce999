"""Crawler fixtures: a generated demo world and isolated deployments on the session's node."""

from __future__ import annotations

from pathlib import Path

import pytest
from crawl_helpers import deployment

from demo.generator import generate_world
from demo.world import read_ads, read_truth


@pytest.fixture(scope="session")
def crawl_world(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("crawl-world")
    generate_world(out, 240, 5)
    return out


@pytest.fixture(scope="session")
def crawl_truth(crawl_world) -> list[dict]:
    return read_truth(crawl_world)


@pytest.fixture(scope="session")
def crawl_ads(crawl_world) -> dict[str, dict]:
    return read_ads(crawl_world)


@pytest.fixture
def crawler(es_settings, tmp_path):
    with deployment(es_settings, tmp_path) as c:
        yield c
