"""Explorer fixtures: the real `adwatch explorer` command serving real deployments, pages in chromium.

Worlds: the suite's shared enriched demo world (read-only), and a small bridge world of this
package's own (a refused bridge and a merge, bridge_world.py) in its own deployment.
Screenshots go to $ADWATCH_SCREENSHOTS when set (`ADWATCH_SCREENSHOTS=docs/screenshots` refreshes
the README's), else to a temporary directory, so a test run never rewrites tracked files.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from bridge_world import build_bridge_world
from explorer_server import Explorer, explorer_command

from adwatch.store import Store, connect

ROOT = Path(__file__).resolve().parents[2]
VIEWPORT = {"width": 1280, "height": 860}


@pytest.fixture(scope="session")
def world_explorer(es_node, enriched_world) -> Iterator[Explorer]:
    store, _, images = enriched_world
    with explorer_command(es_node.url, store.names.prefix, images) as explorer:
        yield explorer


@pytest.fixture(scope="session")
def bridge_world(es_settings, tmp_path_factory):
    """(store, image dir, merged cluster id, survivor id) of the bridge world, built once."""
    client = connect(es_settings)
    store = Store(client, f"b{uuid.uuid4().hex[:10]}")
    images = tmp_path_factory.mktemp("bridge-world-images")
    merged, survivor = build_bridge_world(store, images)
    try:
        yield store, images, merged, survivor
    finally:
        store.drop_deployment()
        client.close()


@pytest.fixture(scope="session")
def bridge_explorer(es_node, bridge_world) -> Iterator[Explorer]:
    store, images, _, _ = bridge_world
    with explorer_command(es_node.url, store.names.prefix, images) as explorer:
        yield explorer


@pytest.fixture
def page(chromium):
    """A fresh browser context (no cookies) and page; downloads allowed."""
    context = chromium.new_context(viewport=VIEWPORT, accept_downloads=True)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture(scope="session")
def screenshot(tmp_path_factory):
    """`screenshot(page, name)`: a PNG of the viewport, reduced to a 256-colour palette (small, for the README)."""
    from PIL import Image

    target = Path(os.environ.get("ADWATCH_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    if not target.is_absolute():
        target = ROOT / target
    target.mkdir(parents=True, exist_ok=True)

    def take(tab, name: str) -> Path:
        path = target / f"{name}.png"
        tab.screenshot(path=str(path))
        with Image.open(path) as shot:
            shot.convert("RGB").quantize(256).save(path, optimize=True)
        assert path.stat().st_size > 5000, f"{path} looks empty"
        return path

    return take
