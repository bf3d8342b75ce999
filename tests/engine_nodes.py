"""Embedded nodes for tests that need one of their own (fault runs, a secured node, a cluster) besides the session's."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from adwatch.config import load_settings
from adwatch.engine import EmbeddedCluster, EmbeddedNode, Security

Engine = TypeVar("Engine", EmbeddedNode, EmbeddedCluster)


@contextmanager
def in_fresh_dir(name: str, make: Callable[[Path], Engine]) -> Iterator[Engine]:
    """`make(directory)` in a fresh directory; stopped and the directory removed afterwards.

    Under /tmp, not pytest's tmp_path: the node may run as an unprivileged user that cannot
    enter root's private pytest directories.
    """
    directory = Path(tempfile.mkdtemp(prefix=f"adwatch-test-{name}-"))
    engine = make(directory)
    try:
        yield engine
    finally:
        engine.stop()
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def node_of_its_own(name: str, security: Security | None = None) -> Iterator[EmbeddedNode]:
    """A started embedded node (heap 512m) in a fresh directory, stopped and removed afterwards."""
    cache_dir = load_settings().cache_dir
    with in_fresh_dir(name, lambda d: EmbeddedNode(d, cache_dir, heap="512m", security=security)) as node:
        node.start()
        yield node


@contextmanager
def cluster_booting(name: str, size: int = 3) -> Iterator[Future]:
    """An embedded cluster of `size` nodes (heap 512m each) starting in the background: the future's
    result is the started cluster. Stopped and removed afterwards, once its start has ended."""
    cache_dir = load_settings().cache_dir
    with (in_fresh_dir(name, lambda d: EmbeddedCluster(d, cache_dir, size=size, heap="512m")) as cluster,
          ThreadPoolExecutor(1) as boot):
        def started() -> EmbeddedCluster:
            cluster.start()
            return cluster

        yield boot.submit(started)
