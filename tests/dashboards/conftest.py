"""Dashboards and exports fixtures: the suite's shared enriched world (read-only), what it holds, and the CLI.

Expected figures come from the world's own files (ads.jsonl, truth.jsonl) or from plain scans of
the index documents, never from aggregations, so a panel's numbers are checked independently.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from crawl_runs import index_runs
from demo.compose import day_date
from demo.world import read_ads, read_truth

ROOT = Path(__file__).resolve().parents[2]


def site_of(record: dict) -> str:
    return "demo-html" if record["flavour"] == "html" else "demo-js"


@pytest.fixture(scope="session")
def world_store(enriched_world):
    return enriched_world[0]


@pytest.fixture(scope="session")
def world_records(enriched_world) -> list[dict]:
    """ads.jsonl records, each with `doc_id`, `site` and `day` (its first_seen date) added."""
    return [{**ad, "doc_id": f"{site_of(ad)}:{ad['ad_id']}", "site": site_of(ad), "day": day_date(ad["first_day"])}
            for ad in read_ads(enriched_world[1]).values()]


@pytest.fixture(scope="session")
def world_truth(enriched_world) -> list[dict]:
    return read_truth(enriched_world[1])


@pytest.fixture(scope="session")
def indexed_ads(world_store) -> dict[str, dict]:
    """Every ad document's source by id, from a plain scan."""
    fields = ["site", "city", "category", "first_seen", "cluster_id", "identifiers", "images.phash"]
    return {hit["_id"]: hit["_source"] for hit in world_store.scan(world_store.ads, source=fields)}


@pytest.fixture(scope="session")
def indexed_clusters(world_store) -> dict[str, dict]:
    """Every cluster document's source by cluster id, from a plain scan."""
    return {hit["_id"]: hit["_source"] for hit in world_store.scan(world_store.clusters)}


@pytest.fixture
def runs_store(store):
    """A deployment of its own holding crawl_runs.RUNS (the shared world has no crawl)."""
    index_runs(store)
    return store


@pytest.fixture(scope="session")
def secret() -> str:
    return "test-secret-0123456789abcdef"


@pytest.fixture
def adwatch(cli_env, world_store, secret):
    """Run `adwatch ARGS` against the enriched world's deployment with the test secret; keyword
    arguments override environment variables (None removes one)."""
    base = {**cli_env, "ADWATCH_INDEX_PREFIX": world_store.names.prefix, "ADWATCH_PSEUDONYM_SECRET": secret}

    def run(*args: str, **env: str | None) -> subprocess.CompletedProcess:
        run_env = {**base, **env}
        run_env = {key: value for key, value in run_env.items() if value is not None}
        return subprocess.run([sys.executable, "-m", "adwatch.cli", *args], env=run_env, capture_output=True,
                              text=True, timeout=300, cwd=ROOT)

    return run
