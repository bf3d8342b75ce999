"""Linking fixtures: one small demo world, indexed straight into a fresh deployment per test."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from adwatch.store import Store, connect
from demo.generator import generate_world

WORLD_ADS, WORLD_SEED = 1200, 21


@pytest.fixture(scope="session")
def link_world(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("link-world")
    generate_world(out, WORLD_ADS, WORLD_SEED)
    return out


@pytest.fixture(scope="session")
def link_truth(link_world) -> list[dict]:
    with (link_world / "truth.jsonl").open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


@pytest.fixture
def link_store(es_settings):
    prefix = f"l{uuid.uuid4().hex[:10]}"
    client = connect(es_settings)
    store = Store(client, prefix)
    store.ensure_schema()
    yield store
    store.drop_deployment()
    client.close()
