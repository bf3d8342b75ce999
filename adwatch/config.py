"""Settings: where Elasticsearch is, where caches live, and how to reach the cluster.

Resolution order for every setting: environment variable, then the YAML config file
(`ADWATCH_CONFIG`, else `./adwatch.yaml` when it exists), then the built-in default.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path

import yaml

from adwatch.errors import UserError


class ConfigError(UserError):
    """A setting is missing or malformed; the message says which and how to fix it."""


def default_cache_dir() -> Path:
    """Where downloads, the embedded engine and its data live.

    As root the home directory is private (mode 700), but the embedded node runs as an
    unprivileged user that must read the distribution, so root caches under /var/cache.
    """
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "adwatch"
    if os.geteuid() == 0:
        return Path("/var/cache/adwatch")
    return Path.home() / ".cache" / "adwatch"


@dataclass(frozen=True)
class Settings:
    """Everything a command needs to know about its surroundings."""

    # External cluster: one URL, or several separated by commas (the client spreads requests over
    # them and fails over when one stops answering). Empty means "the embedded node or cluster
    # started by `adwatch engine start`".
    es_url: str = ""
    es_api_key: str = ""
    es_username: str = ""
    es_password: str = ""
    es_ca_certs: str = ""
    es_timeout_s: float = 30.0
    # How long every client keeps retrying a cluster that does not answer before it stops with
    # EngineUnavailable (connect, bulk writes, scans, refresh, count): adwatch/retry.py.
    es_retry_s: float = 180.0
    # Replicas of every AdWatch index: a count ("1"), or an auto-expanding range ("0-1", "0-all"),
    # which Elasticsearch adjusts to the nodes present. The default "0-1" means none on a single
    # node and one on a cluster, so losing one node of a cluster loses nothing.
    es_replicas: str = "0-1"
    cache_dir: Path = field(default_factory=default_cache_dir)
    engine_heap: str = "512m"
    # Prefix of every index, alias and template, so one cluster can host several deployments.
    index_prefix: str = "adwatch"
    # The crawler names a contact in its User-Agent so site owners can reach the operator.
    contact: str = "adwatch-operator@example.org"
    # HMAC key for researcher-export pseudonyms; empty means exports refuse to run.
    pseudonym_secret: str = ""
    # The scheduler's crawl schedules; empty means the shipped crawler/schedules.yaml (demo sites only).
    schedules_file: str = ""
    # Run alerts are POSTed as JSON here when set (a chat or paging webhook); failures are only logged.
    alert_webhook_url: str = ""
    alert_webhook_timeout_s: float = 5.0
    # A run whose errors per page received exceed this share raises an error_rate alert.
    alert_error_rate: float = 0.25
    # Linking thresholds (enrich.comparison.LinkRules field: value); only in the config file, e.g.
    # `linking: {text_min: 0.9, image_phash_max: 8}`. Absent keys keep their measured defaults.
    linking: dict = field(default_factory=dict)
    # Redis for crawls that share a frontier (`adwatch crawl SITE --frontier`); empty: one process per crawl.
    redis_url: str = ""

    @property
    def es_hosts(self) -> list[str]:
        """The configured cluster's URLs (empty when the embedded engine is meant)."""
        return split_urls(self.es_url)

    @property
    def engine_dir(self) -> Path:
        return self.cache_dir / "engine"

    @property
    def engine_cluster_dir(self) -> Path:
        """Where `adwatch engine start --nodes N` keeps its nodes (one directory each)."""
        return self.cache_dir / "engine-cluster"

    @property
    def image_dir(self) -> Path:
        """Content-addressed image store the crawler writes and enrichment reads."""
        return self.cache_dir / "images"

    @property
    def jobs_dir(self) -> Path:
        """Per-site crawl job directories (what a killed crawl resumes from)."""
        return self.cache_dir / "jobs"


_ENV = {
    "es_url": "ADWATCH_ES_URL",
    "es_api_key": "ADWATCH_ES_API_KEY",
    "es_username": "ADWATCH_ES_USERNAME",
    "es_password": "ADWATCH_ES_PASSWORD",
    "es_ca_certs": "ADWATCH_ES_CA_CERTS",
    "es_timeout_s": "ADWATCH_ES_TIMEOUT",
    "es_retry_s": "ADWATCH_ES_RETRY_SECONDS",
    "es_replicas": "ADWATCH_ES_REPLICAS",
    "cache_dir": "ADWATCH_CACHE_DIR",
    "engine_heap": "ADWATCH_ENGINE_HEAP",
    "index_prefix": "ADWATCH_INDEX_PREFIX",
    "contact": "ADWATCH_CONTACT",
    "pseudonym_secret": "ADWATCH_PSEUDONYM_SECRET",
    "schedules_file": "ADWATCH_SCHEDULES",
    "alert_webhook_url": "ADWATCH_ALERT_WEBHOOK_URL",
    "alert_webhook_timeout_s": "ADWATCH_ALERT_WEBHOOK_TIMEOUT",
    "alert_error_rate": "ADWATCH_ALERT_ERROR_RATE",
    "redis_url": "ADWATCH_REDIS_URL",
}
# Settings read as numbers (environment values are strings).
_FLOATS = ("es_timeout_s", "es_retry_s", "alert_webhook_timeout_s", "alert_error_rate")


_URL = re.compile(r"https?://[^\s,/]+(/[^\s,]*)?")
_REPLICAS = re.compile(r"\d+|\d+-(\d+|all)")


def split_urls(value: str) -> list[str]:
    """'http://a:9200, http://b:9200/' -> ['http://a:9200', 'http://b:9200']."""
    return [url.strip().rstrip("/") for url in value.split(",") if url.strip()]


def _check_cluster(values: dict) -> None:
    for url in split_urls(str(values.get("es_url") or "")):
        if not _URL.fullmatch(url):
            raise ConfigError(f"es_url (ADWATCH_ES_URL) has {url!r}, which is not an http:// or https:// URL; give "
                              "one URL, or several separated by commas (http://es1:9200,http://es2:9200).")
    replicas = str(values.get("es_replicas", Settings.es_replicas)).strip()
    if not _REPLICAS.fullmatch(replicas):
        raise ConfigError(f"es_replicas (ADWATCH_ES_REPLICAS) must be a count such as 1, or a range such as 0-1 or "
                          f"0-all, got {replicas!r}.")
    values["es_replicas"] = replicas


def _config_file() -> Path | None:
    explicit = os.environ.get("ADWATCH_CONFIG")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"ADWATCH_CONFIG points at {path}, which is not a file: fix the path or unset it.")
        return path
    local = Path("adwatch.yaml")
    return local if local.is_file() else None


def _read_file(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc}); fix the YAML or remove the file.") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the config file must be a mapping of setting: value.")
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(unknown)}; known settings are {', '.join(sorted(known))}.")
    return data


def load_settings(**overrides: object) -> Settings:
    """Settings from environment, config file and defaults; `overrides` win over all three."""
    path = _config_file()
    values: dict[str, object] = _read_file(path) if path else {}
    for name, env in _ENV.items():
        if os.environ.get(env):
            values[name] = os.environ[env]
    values.update({k: v for k, v in overrides.items() if v is not None})
    if not isinstance(values.get("linking", {}), dict):
        raise ConfigError(f"linking must be a mapping of threshold: value (see enrich/comparison.py LinkRules), "
                          f"got {values['linking']!r}.")
    _check_cluster(values)
    if "cache_dir" in values:
        values["cache_dir"] = Path(str(values["cache_dir"])).expanduser()
    for name in _FLOATS:
        if name in values:
            try:
                values[name] = float(values[name])  # type: ignore[arg-type]
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"{name} ({_ENV[name]}) must be a number, got {values[name]!r}.") from exc
    return Settings(**values)  # type: ignore[arg-type]
