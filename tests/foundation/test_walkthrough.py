"""`adwatch demo run` resets `demo-*`: it does so on the embedded node only, or on a cluster someone confirmed."""

from __future__ import annotations

import subprocess
import sys
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from adwatch.config import load_settings
from adwatch.errors import UserError
from adwatch.walkthrough import demo_cluster

ROOT = Path(__file__).resolve().parents[2]


def never(question: str) -> bool:
    raise AssertionError(f"asked {question!r}")


def test_demo_ignores_es_url_and_runs_on_the_embedded_node():
    settings = replace(load_settings(), es_url="http://127.0.0.1:9200")
    assert demo_cluster(settings, on_cluster=False, yes=False, ask=never) is None


def test_demo_on_a_cluster_asks_naming_it_and_a_no_stops_it():
    settings = replace(load_settings(), es_url="http://10.1.2.3:9200")
    asked = []
    with pytest.raises(UserError, match="nothing on http://10.1.2.3:9200 was touched"):
        demo_cluster(settings, on_cluster=True, yes=False, ask=lambda q: asked.append(q) or False, interactive=True)
    assert "http://10.1.2.3:9200" in asked[0] and "demo-*" in asked[0]
    assert demo_cluster(settings, on_cluster=True, yes=False, ask=lambda q: True, interactive=True) == settings.es_url
    assert demo_cluster(settings, on_cluster=True, yes=True, ask=never) == settings.es_url


def test_demo_on_a_cluster_without_a_terminal_or_yes_touches_nothing(cli_env, es_node, tmp_path):
    from elasticsearch import Elasticsearch

    client = Elasticsearch(es_node.url)
    sentinel = f"demo-someone-elses-{uuid.uuid4().hex[:6]}"
    client.indices.create(index=sentinel)
    try:
        done = subprocess.run([sys.executable, "-m", "adwatch.cli", "demo", "run", "--on-cluster", "--out",
                               str(tmp_path / "out"), "--ads", "20"], env=cli_env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=120, cwd=ROOT)
        assert done.returncode == 2
        message = " ".join(done.stderr.split())
        assert es_node.url in message and "--yes" in message and "nothing was touched" in message
        assert client.indices.exists(index=sentinel)
        assert not (tmp_path / "out").exists()  # refused before any work
    finally:
        client.indices.delete(index=sentinel)
        client.close()
