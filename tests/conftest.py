"""Session-wide real services: one embedded Elasticsearch node for the whole suite.

The node is fetched through Maven (cached), started on free loopback ports with a fresh data
directory, and always stopped at the end. Tests isolate themselves by index prefix, not by node.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from engine_nodes import node_of_its_own

from adwatch.config import load_settings
from adwatch.store import Store, connect


@pytest.fixture(scope="session")
def es_node():
    """A running embedded node: yields its NodeState (url, pid, version)."""
    with node_of_its_own("node") as node:
        yield node.state()


@pytest.fixture(scope="session")
def es_settings(es_node):
    return load_settings(es_url=es_node.url)


@pytest.fixture
def store(es_settings):
    """A Store on the session node with an index prefix of its own, removed afterwards."""
    prefix = f"t{uuid.uuid4().hex[:10]}"
    client = connect(es_settings)
    st = Store(client, prefix)
    yield st
    st.drop_deployment()
    client.close()


@pytest.fixture
def cli_env(es_node):
    """Environment for running the `adwatch` command against the session node."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADWATCH_")}
    env["ADWATCH_ES_URL"] = es_node.url
    return env


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]


@pytest.fixture(scope="session")
def chromium():
    """Debian's chromium driven by Playwright (which never downloads a browser of its own)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing; install Debian's chromium (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def enriched_world(es_settings, tmp_path_factory):
    """A small demo world indexed straight into its own deployment and enriched + clustered once.

    Read-only for the tests that share it (dashboards, analyst search, exports): a test that
    writes must build a deployment of its own. Yields (store, world directory, image directory).
    """
    from demo.generator import generate_world
    from enrich.worker import Worker
    from world_index import index_world

    world = tmp_path_factory.mktemp("enriched-world")
    generate_world(world, 600, 13)
    images = tmp_path_factory.mktemp("enriched-world-images")
    client = connect(es_settings)
    st = Store(client, f"w{uuid.uuid4().hex[:10]}")
    st.ensure_schema()
    index_world(st, world, images)
    Worker(st, images).run()  # ends with a refresh
    try:
        yield st, world, images
    finally:
        st.drop_deployment()
        client.close()
