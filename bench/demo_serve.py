"""Benchmark: detail pages/s the demo marketplace serves on loopback (issue 3 target: >= 500/s).

Usage: python bench/demo_serve.py [--ads 5000] [--seconds 10] [--clients 4] [--flavour html|js]
Generates a fault-free world, runs `python -m demo serve --no-faults` in its own process, and fetches
random live detail pages over keep-alive connections from client threads in this process.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from demo.generator import generate_world


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_ready(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"demo server on port {port} did not start within {timeout}s")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ads", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--flavour", choices=("html", "js"), default="html")
    args = parser.parse_args()

    world = Path(tempfile.mkdtemp(prefix="adwatch-bench-serve-"))
    generate_world(world, args.ads, 1, faults=False)
    with (world / "ads.jsonl").open() as lines:
        ads = [json.loads(line) for line in lines]
    last_day = json.loads((world / "world.json").read_text())["days"] - 1
    live = [ad["ad_id"] for ad in ads if ad["flavour"] == args.flavour
            and (ad["removed_day"] is None or ad["removed_day"] > last_day)]
    paths = [f"/html/ad/{i}" if args.flavour == "html" else f"/js/api/offer/{i}" for i in live]

    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "demo", "serve", "--world", str(world), "--port", str(port),
                               "--no-faults"], cwd=Path(__file__).resolve().parents[1], stdout=subprocess.DEVNULL)
    counts, errors = [0] * args.clients, [0] * args.clients
    try:
        launched = time.monotonic()
        _wait_ready(port)
        startup = time.monotonic() - launched
        stop = time.monotonic() + args.seconds

        def client(n: int) -> None:
            rnd = random.Random(n)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            while time.monotonic() < stop:
                conn.request("GET", rnd.choice(paths))
                reply = conn.getresponse()
                reply.read()
                if reply.status == 200:
                    counts[n] += 1
                else:
                    errors[n] += 1
            conn.close()

        started = time.monotonic()
        threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        rss_mb = _rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(world, ignore_errors=True)
    print(f"flavour={args.flavour} ads={args.ads} live_detail_pages={len(paths)} clients={args.clients} seconds={elapsed:.1f}")
    print(f"server_startup_s={startup:.1f} server_rss_MB={rss_mb:.0f}")
    print(f"pages={sum(counts)} errors={sum(errors)} pages_per_s={sum(counts) / elapsed:.0f} target=500")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
