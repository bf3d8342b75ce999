"""The real `adwatch explorer` command started for a test, as an operator starts it."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


class Explorer:
    """A running `adwatch explorer`: its base URL and what it printed at start."""

    def __init__(self, url: str, said: str) -> None:
        self.url, self.said = url, said

    def __call__(self, path: str = "/") -> str:
        return self.url.rstrip("/") + path


@contextmanager
def explorer_command(es_url: str, prefix: str, images: Path, *extra: str) -> Iterator[Explorer]:
    """`adwatch explorer --port 0` on a deployment, as an operator starts it; stopped (by its pid) afterwards."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADWATCH_")}
    env.update(ADWATCH_ES_URL=es_url, ADWATCH_INDEX_PREFIX=prefix, ADWATCH_ES_RETRY_SECONDS="10")
    process = subprocess.Popen([sys.executable, "-m", "adwatch.cli", "explorer", "--port", "0", "--images",
                                str(images), *extra], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    said = []
    try:
        while True:
            try:
                line = lines.get(timeout=90)
            except queue.Empty:
                pytest.fail(f"adwatch explorer did not start in 90 s; it said: {''.join(said)}")
            said.append(line)
            if " at http://" in line and "Ctrl-C" in line:
                url = line.split(" at ", 1)[1].split(" ", 1)[0]
                break
            if process.poll() is not None:
                pytest.fail(f"adwatch explorer exited {process.returncode}: {''.join(said)}")
        yield Explorer(url, "".join(said))
    finally:
        process.terminate()
        process.wait(timeout=30)
