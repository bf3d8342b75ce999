"""A port chosen free and taken by another program before the JVM binds it (seconds later).

Seen when two test processes started nodes at once: a cluster member died on its transport port
and the others waited their whole timeout for a quorum. Ports nobody has been given yet are
chosen again; here the taking is forced by binding the port the moment the node's config names it.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from engine_nodes import in_fresh_dir

from adwatch.config import load_settings
from adwatch.engine import EmbeddedCluster, EmbeddedNode


@contextmanager
def port_taken_once_configured(config: Path, key: str) -> Iterator[dict]:
    """Listen on the port `key` of `config` (elasticsearch.yml) as soon as the file names one, until the block ends."""
    taken: dict = {}
    stop = threading.Event()

    def take() -> None:
        deadline = time.monotonic() + 120
        while not stop.is_set() and time.monotonic() < deadline:
            found = re.search(rf"^{re.escape(key)}: (\d+)$", config.read_text(), re.M) if config.is_file() else None
            if found:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.bind(("127.0.0.1", int(found.group(1))))
                sock.listen()
                taken.update(port=int(found.group(1)), socket=sock)
                return
            time.sleep(0.005)

    taker = threading.Thread(target=take, daemon=True)
    taker.start()
    try:
        yield taken
    finally:
        stop.set()
        taker.join()
        if "socket" in taken:
            taken["socket"].close()


def test_a_node_whose_new_http_port_was_taken_before_it_bound_starts_on_another():
    with in_fresh_dir("ports", lambda d: EmbeddedNode(d, load_settings().cache_dir, heap="512m")) as node:
        with port_taken_once_configured(node.node_dir / "config" / "elasticsearch.yml", "http.port") as taken:
            state = node.start()
            assert taken.get("port"), "the port was never taken: the test did not run its case"
            assert state.http_port != taken["port"]
            log = node.log_path.read_text(errors="replace")
            assert "BindHttpException" in log or "Address already in use" in log  # the first launch failed so


def test_a_new_cluster_whose_member_lost_its_transport_port_is_laid_out_again_and_forms():
    with in_fresh_dir("ports", lambda d: EmbeddedCluster(d, load_settings().cache_dir, size=2, heap="512m")) as cluster:
        config = cluster.cluster_dir / "node-2" / "config" / "elasticsearch.yml"
        with port_taken_once_configured(config, "transport.port") as taken:
            states = cluster.start(timeout_s=180)
            assert taken.get("port"), "the port was never taken: the test did not run its case"
        assert len(states) == 2 and all(states)
        assert cluster.health()["number_of_nodes"] == 2
        layout = cluster.layout()
        assert layout.formed and taken["port"] not in layout.transport_ports + layout.http_ports
