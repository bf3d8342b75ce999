"""Linking fixtures: one small demo world, indexed straight into a fresh deployment per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from demo.generator import generate_world
from demo.world import read_truth

WORLD_ADS, WORLD_SEED = 1200, 21


@pytest.fixture(scope="session")
def link_world(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("link-world")
    generate_world(out, WORLD_ADS, WORLD_SEED)
    return out


@pytest.fixture(scope="session")
def link_truth(link_world) -> list[dict]:
    return read_truth(link_world)


@pytest.fixture
def link_store(store):
    """The suite's per-test deployment (see tests/conftest.py), with its indices created."""
    store.ensure_schema()
    return store
