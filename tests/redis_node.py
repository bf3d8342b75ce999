"""A real redis-server (Debian's package) on a free loopback port with a data directory of its own.

For the tests (and benchmarks) of what several processes share through Redis: the crawl frontier.
`make bootstrap` installs redis-server; nothing is faked.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis

REDIS_SERVER = "redis-server"


@dataclass(frozen=True)
class RedisNode:
    url: str
    port: int
    pid: int


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def redis_of_its_own(data_dir: Path, ready_within_s: float = 10.0):
    """Start redis-server on 127.0.0.1 (no persistence), yield its RedisNode, stop it at the end."""
    binary = shutil.which(REDIS_SERVER) or "/usr/bin/redis-server"
    if not Path(binary).exists():
        raise RuntimeError("redis-server is missing: run `make bootstrap` (or `apt-get install -y redis-server`).")
    data_dir.mkdir(parents=True, exist_ok=True)
    for _ in range(3):  # another process may take the free port between the probe and the bind
        port = _free_port()
        proc = subprocess.Popen([binary, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(data_dir),
                                 "--save", "", "--appendonly", "no", "--logfile", str(data_dir / "redis.log")],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=port, socket_connect_timeout=1)
        deadline = time.monotonic() + ready_within_s
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        client.close()
        if proc.poll() is None:
            break
    else:
        raise RuntimeError(f"redis-server did not start; see {data_dir / 'redis.log'}")
    try:
        yield RedisNode(f"redis://127.0.0.1:{port}/0", port, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
