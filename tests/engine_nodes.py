"""Embedded nodes for tests that need one of their own (fault runs, a secured node, a cluster) besides the session's."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from adwatch.config import load_settings
from adwatch.engine import EmbeddedCluster, EmbeddedNode, Security


def _fresh_dir(name: str) -> Path:
    # Under /tmp, not pytest's tmp_path: the node may run as an unprivileged user that cannot
    # enter root's private pytest directories.
    return Path(tempfile.mkdtemp(prefix=f"adwatch-test-{name}-"))


@contextmanager
def node_of_its_own(name: str, security: Security | None = None) -> Iterator[EmbeddedNode]:
    """A started embedded node (heap 512m) in a fresh directory, stopped and removed afterwards."""
    node_dir = _fresh_dir(name)
    node = EmbeddedNode(node_dir, load_settings().cache_dir, heap="512m", security=security)
    try:
        node.start()
        yield node
    finally:
        node.stop()
        shutil.rmtree(node_dir, ignore_errors=True)


@contextmanager
def cluster_of_its_own(name: str, size: int = 3) -> Iterator[EmbeddedCluster]:
    """A started embedded cluster of `size` nodes (heap 512m each) in a fresh directory, stopped and removed afterwards."""
    cluster_dir = _fresh_dir(name)
    cluster = EmbeddedCluster(cluster_dir, load_settings().cache_dir, size=size, heap="512m")
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(cluster_dir, ignore_errors=True)
