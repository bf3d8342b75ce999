"""Analyst lookup fixtures: the suite's shared enriched world (read-only) and the `adwatch` command on it."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import pytest

from demo.world import read_ads, read_truth


def doc_id(record: dict) -> str:
    """The index id of a world ad, from its ads.jsonl or truth.jsonl record."""
    site = record.get("site") or ("demo-html" if record["flavour"] == "html" else "demo-js")
    return f"{site}:{record['ad_id']}"


@pytest.fixture(scope="session")
def world_ads(enriched_world) -> dict[str, dict]:
    """ads.jsonl records by index id."""
    return {doc_id(ad): ad for ad in read_ads(enriched_world[1]).values()}


@pytest.fixture(scope="session")
def world_truth(enriched_world) -> dict[str, dict]:
    """truth.jsonl records by index id."""
    return {doc_id(record): record for record in read_truth(enriched_world[1])}


@pytest.fixture(scope="session")
def busiest_phone(world_truth) -> str:
    """The (real) phone the most ads list in the truth; ties go to the smallest number."""
    counts = Counter(phone for record in world_truth.values() for phone in record["phones"])
    return min(counts, key=lambda phone: (-counts[phone], phone))


@pytest.fixture
def adwatch(cli_env, enriched_world):
    """Run `adwatch ARGS` on the enriched world's deployment; wide columns, so one ad per line."""
    env = {**cli_env, "ADWATCH_INDEX_PREFIX": enriched_world[0].names.prefix, "COLUMNS": "200"}

    def run(*args: str, prefix: str | None = None) -> subprocess.CompletedProcess:
        run_env = {**env, "ADWATCH_INDEX_PREFIX": prefix} if prefix else env
        return subprocess.run([sys.executable, "-m", "adwatch.cli", *args], env=run_env, capture_output=True,
                              text=True, timeout=120)

    return run
