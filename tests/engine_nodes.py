"""Embedded nodes for tests that need one of their own (fault runs, a secured node) besides the session's."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from adwatch.config import load_settings
from adwatch.engine import EmbeddedNode, Security


@contextmanager
def node_of_its_own(name: str, security: Security | None = None) -> Iterator[EmbeddedNode]:
    """A started embedded node (heap 512m) in a fresh directory, stopped and removed afterwards.

    Under /tmp, not pytest's tmp_path: the node may run as an unprivileged user that cannot
    enter root's private pytest directories.
    """
    node_dir = Path(tempfile.mkdtemp(prefix=f"adwatch-test-{name}-"))
    node = EmbeddedNode(node_dir, load_settings().cache_dir, heap="512m", security=security)
    try:
        node.start()
        yield node
    finally:
        node.stop()
        shutil.rmtree(node_dir, ignore_errors=True)
