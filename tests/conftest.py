"""Session-wide real services: one embedded Elasticsearch node per test process (`make test` runs
TEST_WORKERS of them with pytest-xdist, each a session of its own).

The node is fetched through Maven (cached), started on free loopback ports with a fresh data
directory, and always stopped at the end. Tests isolate themselves by index prefix, not by node.
"""

from __future__ import annotations

import os
import uuid

import pytest
from engine_nodes import node_of_its_own
from redis_node import redis_of_its_own

from adwatch.config import load_settings
from adwatch.store import Store, connect


# Files that take over a minute (seconds of setup and calls in a clean-clone `make test`,
# 2026-12-02, rounded up). `make test` hands whole files to its processes in collection order
# (`--dist loadfile --no-loadscope-reorder`): started first, the long ones no longer leave one
# process running the last of them alone while the other has finished. Only the order depends on
# these figures: a file missing here just runs in its usual place.
LONG_FILES = {
    "faults/test_fault_campaign.py": 300,
    "crawler/test_crawl.py": 250,
    "foundation/test_engine_faults.py": 200,
    "foundation/test_engine_ports.py": 170,
    "scale/test_es_cluster.py": 150,
    "crawler/test_crawl_outages.py": 120,
    "explorer/test_explorer_access.py": 100,
    "endtoend/test_demo_run.py": 90,
    "dashboards/test_kibana_objects.py": 90,
    "linking/test_families.py": 80,
    "foundation/test_privileges.py": 80,
    "scale/test_workers.py": 70,
    "marketplace/test_django_classified.py": 70,
}
_TESTS = os.path.dirname(os.path.abspath(__file__))


def pytest_collection_modifyitems(items):
    """The longest files first, the rest in collection order (a stable sort: a file's tests stay together)."""
    def seconds(item) -> int:
        return LONG_FILES.get(os.path.relpath(str(item.path), _TESTS).replace(os.sep, "/"), 0)

    items.sort(key=lambda item: -seconds(item))


@pytest.fixture(scope="session")
def es_node():
    """A running embedded node: yields its NodeState (url, pid, version)."""
    with node_of_its_own("node") as node:
        yield node.state()


@pytest.fixture(scope="session")
def redis_node(tmp_path_factory):
    """A real redis-server on a free loopback port: yields its RedisNode (url, port, pid).

    Shared by the session; tests isolate themselves by key prefix (crawl frontiers: the index prefix).
    """
    with redis_of_its_own(tmp_path_factory.mktemp("redis")) as node:
        yield node


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


@pytest.fixture(scope="session")
def chromium():
    """Debian's chromium driven by Playwright (which never downloads a browser of its own), found and
    sandboxed the crawler's way (crawler/chromium.py)."""
    from playwright.sync_api import sync_playwright

    from crawler.chromium import launch_options

    options = launch_options()  # a missing chromium fails here, saying what to install
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**options)
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
