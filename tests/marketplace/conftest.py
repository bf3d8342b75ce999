"""A real third-party marketplace (django-classified) serving a demo world, crawled like any site."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "crawler"))  # crawl_helpers

from crawl_helpers import deployment  # noqa: E402

from classified import FAST, SITE, start  # noqa: E402
from demo.generator import generate_world  # noqa: E402
from demo.world import read_truth  # noqa: E402


@pytest.fixture(scope="session")
def market_world(tmp_path_factory) -> Path:
    """A fault-free world whose ads are all under four weeks old (the app shows '3 weeks, 6 days ago')."""
    out = tmp_path_factory.mktemp("classified-world")
    generate_world(out, 360, 11, days=28, faults=False)
    return out


@pytest.fixture(scope="session")
def market_truth(market_world) -> list[dict]:
    return read_truth(market_world)


@pytest.fixture(scope="session")
def classified_site(market_world, tmp_path_factory):
    site = start(tmp_path_factory.mktemp("classified-project"), market_world)
    yield site
    site.stop()


@pytest.fixture(scope="module")
def classified_crawl(es_settings, classified_site, tmp_path_factory):
    """One crawl of the django-classified site into its own deployment: (crawler, docs by item pk)."""
    with deployment(es_settings, tmp_path_factory.mktemp("classified-crawl")) as crawler:
        crawler.env["ADWATCH_DJANGO_CLASSIFIED_URL"] = classified_site.url
        done = crawler.crawl(SITE, *FAST)
        assert done.returncode == 0, done.stderr[-2000:]
        yield crawler
