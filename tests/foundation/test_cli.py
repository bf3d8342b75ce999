"""The `adwatch` command as a user runs it: a real process against the real node (or no node)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from adwatch.engine import ELASTICSEARCH_VERSION, free_port

ROOT = Path(__file__).resolve().parents[2]


def adwatch(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "adwatch.cli", *args], env=env, capture_output=True,
                          text=True, timeout=120, cwd=ROOT)


def test_unreachable_cluster_gives_one_clear_error_and_writes_nothing(cli_env, es_node):
    dead = f"http://127.0.0.1:{free_port()}"
    env = {**cli_env, "ADWATCH_ES_URL": dead, "ADWATCH_INDEX_PREFIX": "unreachable", "ADWATCH_ES_RETRY_SECONDS": "2"}
    done = adwatch("setup", env=env)
    assert done.returncode == 2
    message = " ".join(done.stderr.split())
    assert dead in message and "adwatch engine start" in message
    assert "Traceback" not in done.stderr
    # Nothing half-written anywhere: the live node has no index or template of that prefix.
    live = {**cli_env, "ADWATCH_INDEX_PREFIX": "unreachable"}
    status = adwatch("status", env=live)
    assert status.returncode == 0
    assert "unreachable-ads" in status.stdout and "Ads partitions: none" in status.stdout


def test_setup_then_status_shows_the_three_aliases(cli_env):
    env = {**cli_env, "ADWATCH_INDEX_PREFIX": "clisetup"}
    done = adwatch("setup", env=env)
    assert done.returncode == 0, done.stderr
    assert "clisetup-clusters-v1" in done.stdout
    status = adwatch("status", env=env)
    assert status.returncode == 0, status.stderr
    for alias in ("clisetup-ads", "clisetup-clusters", "clisetup-runs"):
        assert alias in status.stdout


def test_engine_status_without_a_node_says_not_running(cli_env, tmp_path):
    env = {**cli_env, "ADWATCH_CACHE_DIR": str(tmp_path)}
    done = adwatch("engine", "status", env=env)
    assert done.returncode == 3
    assert "Not running" in done.stdout and ELASTICSEARCH_VERSION in done.stdout


def test_no_cluster_configured_tells_how_to_start_one(cli_env, tmp_path):
    env = {k: v for k, v in cli_env.items() if k != "ADWATCH_ES_URL"}
    env["ADWATCH_CACHE_DIR"] = str(tmp_path)
    done = adwatch("status", env=env)
    assert done.returncode == 2
    assert "adwatch engine start" in " ".join(done.stderr.split())


def test_bad_config_file_names_the_file_and_the_key(cli_env, tmp_path):
    config = tmp_path / "adwatch.yaml"
    config.write_text("es_urll: http://127.0.0.1:9200\n")
    done = adwatch("status", env={**cli_env, "ADWATCH_CONFIG": str(config)})
    assert done.returncode == 2
    message = " ".join(done.stderr.split())
    assert str(config) in message and "es_urll" in message


def test_docker_compose_pins_the_same_elasticsearch_and_kibana_version():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    images = {name: svc["image"] for name, svc in compose["services"].items()
              if svc.get("image", "").startswith(("elasticsearch:", "kibana:"))}
    versions = {re.split(r":", image)[-1] for image in images.values()}
    assert versions == {ELASTICSEARCH_VERSION}


def test_linking_thresholds_come_from_the_config_file(tmp_path, monkeypatch):
    from adwatch.config import ConfigError, load_settings
    from enrich.comparison import LinkRules, rules_from

    config = tmp_path / "adwatch.yaml"
    config.write_text("linking:\n  text_min: 0.8\n  image_phash_max: 6\n")
    monkeypatch.setenv("ADWATCH_CONFIG", str(config))
    rules = rules_from(load_settings().linking)
    assert (rules.text_min, rules.image_phash_max) == (0.8, 6)
    assert rules.image_dhash_max == LinkRules().image_dhash_max  # untouched keys keep their defaults
    config.write_text("linking:\n  text_minimum: 0.8\n")
    with pytest.raises(ConfigError, match="text_minimum"):
        rules_from(load_settings().linking)
    config.write_text("linking:\n  text_min: high\n")
    with pytest.raises(ConfigError, match="linking.text_min must be a number"):
        rules_from(load_settings().linking)


def test_json_logs_are_one_object_per_line_and_progress_stays_line_based(cli_env, store):
    import json

    env = {**cli_env, "ADWATCH_INDEX_PREFIX": store.names.prefix}
    done = adwatch("--log-format", "json", "enrich", env=env)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stderr.splitlines()]  # not a TTY: no bar, only JSON lines
    assert records and all({"@timestamp", "log.level", "log.logger", "message"} <= set(r) for r in records)
    finished = [r for r in records if r.get("progress.task") == "Enriching"]
    assert finished and finished[-1]["progress.done"] == 0
    text = adwatch("enrich", env=env)
    assert text.returncode == 0 and "Enriching: 0 ads" in text.stderr and "{" not in text.stderr
