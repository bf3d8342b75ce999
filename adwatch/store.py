"""The Elasticsearch store: connecting, creating the schema, partitions, migrations, retention.

Every stage reaches the index through here, so "which cluster, which index, which version" is
decided in one place. Only server-core APIs are used (no _reindex, no painless, no ILM).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timezone
from pathlib import Path

from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout, TransportError
from elasticsearch import (ApiError, AuthenticationException, AuthorizationException, BadRequestError, Elasticsearch,
                           NotFoundError)

from adwatch import schema
from adwatch.bulk import BulkReport, BulkWriter, replace
from adwatch.config import Settings, load_settings, split_urls
from adwatch.engine import EmbeddedCluster, EmbeddedNode
from adwatch.errors import EngineUnavailable, PermissionDenied, UserError
from adwatch.retry import (RETRY_ENV, ClientPolicy, Patience, call, describe, permission_denied, policy_of, remember,
                           transient)

log = logging.getLogger(__name__)


class StoreUnavailable(UserError):
    """Elasticsearch cannot be reached or refuses us; the message names the URL and what to do."""


def embedded_node(settings: Settings) -> EmbeddedNode:
    return EmbeddedNode(settings.engine_dir, settings.cache_dir, heap=settings.engine_heap)


def embedded_cluster(settings: Settings, size: int | None = None) -> EmbeddedCluster:
    """The embedded cluster of `adwatch engine start --nodes N` (`size` defaults to the one laid out)."""
    cluster_dir = settings.engine_cluster_dir
    if size is None:
        size = max(2, len(list(cluster_dir.glob("node-*")))) if cluster_dir.is_dir() else 3
    return EmbeddedCluster(cluster_dir, settings.cache_dir, size=size, heap=settings.engine_heap)


def resolve_urls(settings: Settings) -> list[str]:
    """The cluster's URLs: ADWATCH_ES_URL's when set, else the running embedded node, else the embedded cluster."""
    if settings.es_hosts:
        return settings.es_hosts
    state = embedded_node(settings).state()
    if state is not None:
        return [state.url]
    cluster = embedded_cluster(settings)
    if cluster.running():
        return cluster.urls()
    raise StoreUnavailable(
        "No Elasticsearch to talk to: ADWATCH_ES_URL is not set and no embedded engine is running (no live node "
        f"in {settings.engine_dir} or {settings.engine_cluster_dir}). Start it with `adwatch engine start`, or set "
        "ADWATCH_ES_URL to your cluster."
    )


def connect(settings: Settings, url: str | None = None) -> Elasticsearch:
    """A client for the configured cluster, checked with one health call before it is returned.

    `url` (else the settings') may list several nodes separated by commas: requests go round
    them, and one that stops answering is set aside while the others serve (no sniffing: the
    addresses given are the ones reachable). The client carries the settings' retry bound
    (`es_retry_s`): a cluster that does not answer the health check within it raises
    EngineUnavailable, and so do the bulk writer, scans, refresh and count made with this client later.
    """
    hosts = split_urls(url) if url else resolve_urls(settings)
    url = ",".join(hosts)
    options: dict = {"request_timeout": settings.es_timeout_s, "retry_on_timeout": True, "max_retries": 3}
    if settings.es_api_key:
        options["api_key"] = settings.es_api_key
    elif settings.es_username:
        options["basic_auth"] = (settings.es_username, settings.es_password)
    if settings.es_ca_certs:
        if not Path(settings.es_ca_certs).is_file():
            raise StoreUnavailable(f"ADWATCH_ES_CA_CERTS points at {settings.es_ca_certs}, which is not a file.")
        options["ca_certs"] = settings.es_ca_certs
    client = Elasticsearch(hosts, **options)
    remember(client, ClientPolicy(cluster=url, retry_s=settings.es_retry_s,
                                  request_timeout_s=min(10.0, settings.es_timeout_s)))
    try:
        call(client, "a health check", lambda c: c.cluster.health())
    except AuthenticationException as exc:
        raise StoreUnavailable(
            f"Elasticsearch at {url} refused our credentials ({exc.meta.status}); check ADWATCH_ES_API_KEY or "
            "ADWATCH_ES_USERNAME / ADWATCH_ES_PASSWORD."
        ) from exc
    except EngineUnavailable as exc:
        raise EngineUnavailable(
            f"Cannot reach Elasticsearch at {url} ({exc.why}; tried for {exc.waited_s:.0f} s, the bound set by "
            f"{RETRY_ENV}). Is it running? Start the embedded node with `adwatch engine start`, or fix "
            "ADWATCH_ES_URL. Nothing was written.", cluster=url, waited_s=exc.waited_s, why=exc.why) from exc
    except ApiError as exc:
        raise StoreUnavailable(f"Elasticsearch at {url} answered {exc.meta.status} to a health check: {exc}.") from exc
    # Later requests time out as configured; the health check alone is kept short.
    remember(client, ClientPolicy(cluster=url, retry_s=settings.es_retry_s, request_timeout_s=settings.es_timeout_s))
    return client


def _created(create: Callable[[], object]) -> bool:
    """Run an index creation; False when another process (setting up at the same time) made it first."""
    try:
        create()
    except BadRequestError as exc:
        if exc.error != "resource_already_exists_exception":
            raise
        return False
    return True


def _mapping_gaps(expected: dict, actual: dict, path: str = "") -> list[str]:
    """Fields (and sub-fields) of `expected` that `actual` lacks or maps with another type."""
    gaps = []
    if not path and expected.get("dynamic") and str(actual.get("dynamic")) != str(expected["dynamic"]):
        gaps.append(f"dynamic: {expected['dynamic']}")
    have = actual.get("properties", {})
    for name, field in expected.get("properties", {}).items():
        where = f"{path}{name}"
        if name not in have:
            gaps.append(where)
            continue
        if field.get("type", "object") != have[name].get("type", "object"):
            gaps.append(f"{where} (type)")
        gaps += [f"{where}.{sub}" for sub in field.get("fields", {}) if sub not in have[name].get("fields", {})]
        gaps += _mapping_gaps(field, have[name], f"{where}.")
    return gaps


def _missing_properties(expected: dict, actual: dict) -> dict:
    """The part of `expected`'s properties that `actual` lacks: absent fields whole, absent
    sub-fields and object members with their field. What `put_mapping` may add in place; a field
    present in both is left out even when a parameter differs (an index made before the parameter
    changed keeps it: Elasticsearch cannot change `index` or `doc_values` in place)."""
    have = actual.get("properties", {})
    missing: dict = {}
    for name, field in expected.get("properties", {}).items():
        if name not in have:
            missing[name] = field
        elif "properties" in field:
            inner = _missing_properties(field, have[name])
            if inner:
                missing[name] = {**{k: v for k, v in field.items() if k != "properties"}, "properties": inner}
        elif any(sub not in have[name].get("fields", {}) for sub in field.get("fields", {})):
            # A new multi-field is added with its field's parameters as that index has them.
            missing[name] = {**have[name], "fields": {**have[name].get("fields", {}), **field["fields"]}}
    return missing


def month_of(when: datetime | date | str) -> str:
    """'YYYY.MM' of a timestamp (ISO string or date), the ads partition it belongs to."""
    if isinstance(when, str):
        when = datetime.fromisoformat(when.replace("Z", "+00:00"))
    return f"{when.year:04d}.{when.month:02d}"


class Store:
    """Schema and index management for one deployment prefix on one cluster."""

    def __init__(self, client: Elasticsearch, prefix: str = "adwatch", replicas: str | None = None) -> None:
        self.client = client
        self.names = schema.IndexNames(prefix)
        # None: the configured ADWATCH_ES_REPLICAS, read when an index or template is made.
        self.replicas = replicas

    @property
    def ads(self) -> str:
        return self.names.alias("ads")

    @property
    def clusters(self) -> str:
        return self.names.alias("clusters")

    @property
    def runs(self) -> str:
        return self.names.alias("runs")

    # ------------------------------------------------------------------ schema

    @property
    def leases(self) -> str:
        return self.names.alias("leases")

    @property
    def crawl_leases(self) -> str:
        return self.names.alias("crawl-leases")

    def ensure_schema(self, templates: bool = False) -> list[str]:
        """Create or update templates and indices; idempotent, and read-only when all is current.

        A deployment whose indices already hold every field of this AdWatch version is not written
        to, so a stage running with its least-privilege role (adwatch/roles.yml) may call this at
        start: checking needs only `view_index_metadata`. Creating or changing anything is the
        admin's (`adwatch setup`); refused, it names the missing privilege. Returns what was created.
        `templates` (what `adwatch setup` asks) rewrites the ads template even when every index is
        current: monthly partitions made from then on take this version's mapping, so a parameter
        no index can change in place reaches a deployment's data as its months roll over.
        """
        try:
            if not templates and not self.schema_gaps():
                return []
            return self._create_or_update_schema()
        except AuthorizationException as exc:
            raise permission_denied(exc, policy_of(self.client).cluster,
                                    "creating or updating the AdWatch schema (run `adwatch setup` as adwatch_admin)") from exc

    def schema_gaps(self) -> list[str]:
        """What is missing from this deployment's indices ('adwatch-ads', 'adwatch-clusters: field x'...)."""
        gaps: list[str] = []
        for kind in schema.DOCUMENTS:
            try:
                found = self._index_mappings(kind)
            except NotFoundError:
                gaps.append(self.names.alias(kind))
                continue
            expected = schema.mapping(kind)
            for index, mappings in found.items():
                gaps += [f"{index}: {path}" for path in _mapping_gaps(expected, mappings)]
        return gaps

    def _index_mappings(self, kind: str) -> dict[str, dict]:
        """index -> its mappings, for every index behind `kind`'s alias (NotFoundError without one)."""
        alias = self.names.alias(kind)
        found = call(self.client, f"reading the mapping of {alias}", lambda c: c.indices.get_mapping(index=alias)).body
        return {index: body.get("mappings", {}) for index, body in sorted(found.items())}

    def _create_or_update_schema(self) -> list[str]:
        created: list[str] = []
        self._put_ads_template(schema.VERSIONS["ads"])
        # The current month's partition always exists, so the ads alias resolves even before any crawl.
        if not self.client.indices.exists_alias(name=self.ads):
            index = self.ads_partition(now_utc())
            if _created(lambda: self.client.indices.create(index=index)):
                created.append(index)
        for kind in schema.DOCUMENTS:
            alias = self.names.alias(kind)
            if kind != "ads" and not self.client.indices.exists_alias(name=alias):
                index = self.names.versioned(kind)
                if _created(lambda: self._create_index(kind, index, alias)):
                    created.append(index)
        self._add_new_fields()
        return created

    def _add_new_fields(self) -> None:
        # Fields added to a kind's mapping since its indices were made reach them in place (an additive
        # change); anything Elasticsearch refuses needs a new version and `Store.migrate`. Each index
        # is sent only what it lacks: one made before a field's parameters changed (ads partitions
        # made before `minhash_bands` stopped being indexed) keeps that field as it is.
        for kind in schema.DOCUMENTS:
            body = schema.mapping(kind)
            dynamic = body.get("dynamic")
            for index, mappings in self._index_mappings(kind).items():
                missing = _missing_properties(body, mappings)
                if not missing and str(mappings.get("dynamic")) == str(dynamic):
                    continue
                try:
                    self.client.indices.put_mapping(index=index, properties=missing, dynamic=dynamic)
                except BadRequestError as exc:
                    raise UserError(f"The {index} mapping cannot take this AdWatch version's fields in place "
                                    f"({exc.message}); bump VERSIONS['{kind}'] in adwatch/schema.py and migrate.") from exc

    def _put_ads_template(self, version: int) -> None:
        # A composable template makes each new monthly partition join the read alias by itself.
        pattern = f"{self.names.versioned('ads', version)}-*"
        self.client.indices.put_index_template(
            name=self.names.versioned("ads", version),
            index_patterns=[pattern],
            priority=100,
            template={"settings": self._index_settings(), "mappings": schema.mapping("ads"),
                      "aliases": {self.ads: {}}},
            meta={"managed_by": "adwatch", "kind": "ads", "version": version},
        )

    def _create_index(self, kind: str, index: str, alias: str | None, write_alias: bool = True) -> None:
        aliases = {alias: {"is_write_index": True} if write_alias else {}} if alias else None
        self.client.indices.create(index=index, settings=self._index_settings(), mappings=schema.mapping(kind),
                                   aliases=aliases)

    def _index_settings(self) -> dict:
        return schema.settings(self.replicas if self.replicas is not None else load_settings().es_replicas)

    def ads_partition(self, first_seen: datetime | date | str) -> str:
        """Concrete ads index for an ad first seen at `first_seen`; created from the template on first write."""
        return self.names.ads_partition(month_of(first_seen))

    def ads_partitions(self) -> list[str]:
        """Every concrete ads index behind the alias, oldest month first."""
        try:
            found = self.client.indices.get_alias(name=self.ads)
        except NotFoundError:
            return []
        return sorted(found.body, key=lambda name: name.rsplit("-", 1)[-1])

    def refresh(self, index: str | None = None) -> None:
        """Make recent writes searchable: `index`, else every index of this deployment."""
        target = index or f"{self.names.prefix}-*"
        call(self.client, f"a refresh of {target}", lambda c: c.indices.refresh(index=target))

    @contextmanager
    def refreshing_rarely(self, alias: str, interval: str = schema.BULK_REFRESH_INTERVAL) -> Iterator[bool]:
        """While a run rewrites many documents: the indices behind `alias` refresh every `interval`
        instead of every second, and are set back (and refreshed) when it ends, failed or not.
        Yields whether the interval was changed: without the right to change index settings the
        run goes on at the usual interval. A run killed meanwhile leaves the slow interval (new
        ads are searchable within `interval`), which the next run sets back when it ends."""
        what = f"the refresh interval of {alias}"
        try:
            call(self.client, f"setting {what}",
                 lambda c: c.indices.put_settings(index=alias, settings={"index": {"refresh_interval": interval}}))
            changed = True
        except (PermissionDenied, NotFoundError) as exc:  # no right to, or no index behind the alias yet
            log.info("left %s as it is: %s", what, exc)
            changed = False
        if not changed:
            yield False
            return
        try:
            yield True
        finally:
            call(self.client, f"setting back {what}", lambda c: c.indices.put_settings(
                index=alias, settings={"index": {"refresh_interval": schema.REFRESH_INTERVAL}}))
            self.refresh(alias)

    # ------------------------------------------------------------------ migration

    def migrate(self, kind: str, to_version: int, transform: Callable[[dict], dict] | None = None,
                mapping: dict | None = None, delete_old: bool = False) -> BulkReport:
        """Copy a non-partitioned kind into a new versioned index and swap its alias atomically.

        Readers see the old index until the single `_aliases` call switches them; a failed copy
        leaves the alias untouched and the new index in place for inspection.
        """
        if kind == "ads":
            # No copy for ads: `adwatch setup` rewrites their template, new months take the
            # mapping, old months keep theirs until retention drops them.
            raise ValueError("ads are partitioned by month: a changed ads mapping reaches new partitions through "
                             "the template (`adwatch setup`, Store.ensure_schema(templates=True)), not by a copy")
        alias = self.names.alias(kind)
        old = list(self.client.indices.get_alias(name=alias).body)
        new = self.names.versioned(kind, to_version)
        self.client.indices.create(index=new, settings=self._index_settings(),
                                   mappings=mapping or schema.mapping(kind))
        report = BulkWriter(self.client).write(
            replace(new, hit["_id"], transform(hit["_source"]) if transform else hit["_source"])
            for hit in self.scan(alias)
        )
        if report.failed:
            raise RuntimeError(f"migration of {alias} to {new} failed for {report.failed} documents "
                               f"(first: {report.errors[:3]}); the alias still points at {old}.")
        actions = [{"remove": {"index": name, "alias": alias}} for name in old]
        actions.append({"add": {"index": new, "alias": alias, "is_write_index": True}})
        self.client.indices.update_aliases(actions=actions)
        if delete_old:
            self.client.indices.delete(index=",".join(old))
        return report

    def scan(self, index: str, query: dict | None = None, page: int = 1000,
             source: list[str] | bool = True, versions: bool = False) -> Iterator[dict]:
        """Every hit of `query` in `index` once, through a point in time and search_after.

        A point in time that is lost (the node restarted, or the consumer held a page longer than
        the keep-alive) is reopened and read from the start again, skipping what was already
        returned: none skipped, none twice (a document written meanwhile comes in the version first
        seen). Memory: one page plus the ids already returned. `versions` adds `_seq_no` and
        `_primary_term` to every hit, for optimistic writes (`adwatch.bulk.Version.of(hit)`).
        Requests are retried within the client's bound (adwatch/retry.py).
        """
        policy = policy_of(self.client)
        # Outlives the retry bound: a consumer whose writes back off for the whole bound still finds its scan.
        keep_alive = f"{int(policy.retry_s) + 300}s"
        patience = Patience(policy, f"a scan of {index}")
        yielded: dict[str, set[str]] = {}
        pit: str | None = None
        after: list | None = None
        reopened = 0
        try:
            while True:
                if pit is None:
                    pit = patience.call(self.client, lambda c: c.open_point_in_time(index=index, keep_alive=keep_alive)["id"])
                    # `_shard_doc` positions mean nothing in a new point in time: start over, skip what was returned.
                    after = None
                try:
                    resp = patience.client(self.client).search(
                        pit={"id": pit, "keep_alive": keep_alive}, query=query or {"match_all": {}}, size=page,
                        sort=["_shard_doc"], search_after=after, source=source,
                        seq_no_primary_term=True if versions else None)
                except NotFoundError as exc:
                    # The point in time is gone (or an index behind it was deleted): open a new one.
                    reopened += 1
                    if reopened > 5:
                        raise
                    self._give_up(pit, index, describe(exc), yielded)
                    pit = None
                    continue
                except AuthorizationException as exc:
                    raise permission_denied(exc, policy.cluster, f"reading {index}") from exc
                except (TransportConnectionError, ConnectionTimeout, ApiError) as exc:
                    if not transient(exc):
                        raise
                    patience.failed(describe(exc))
                    if isinstance(exc, ApiError) and exc.error == "search_phase_execution_exception":
                        # A node holding part of the point in time died (a cluster lost a node): that part
                        # never comes back, but the shards' other copies serve a new point in time.
                        self._give_up(pit, index, describe(exc), yielded)
                        pit = None
                    continue
                failed = resp["_shards"].get("failed", 0)
                if failed:
                    # Partial results would skip the failed shards' documents for good: start again instead.
                    patience.failed(f"{failed} shards failed")
                    self._give_up(pit, index, f"{failed} shards failed", yielded)
                    pit = None
                    continue
                patience.succeeded()
                reopened = 0
                hits = resp["hits"]["hits"]
                if not hits:
                    return
                pit = resp.get("pit_id", pit)
                for hit in hits:
                    ids = yielded.setdefault(hit["_index"], set())
                    if hit["_id"] not in ids:
                        ids.add(hit["_id"])
                        yield hit
                after = hits[-1]["sort"]
        finally:
            if pit is not None:
                self._close_point_in_time(pit)

    def _give_up(self, pit: str, index: str, why: str, yielded: dict[str, set[str]]) -> None:
        """Close a point in time part of which is gone, so that the scan opens a new one."""
        log.warning("scan of %s: point in time lost (%s); reopening, skipping the %d hits already returned",
                    index, why, sum(map(len, yielded.values())))
        self._close_point_in_time(pit)
        return None

    def _close_point_in_time(self, pit: str) -> None:
        # Best effort and never retried: an unclosed point in time only waits for its keep-alive.
        try:
            self.client.options(max_retries=0, request_timeout=5).close_point_in_time(id=pit)
        except (ApiError, TransportError):
            pass

    # ------------------------------------------------------------------ retention

    def drop_ads_before(self, month: str) -> list[str]:
        """Delete ads partitions for months strictly before `month` ('YYYY.MM'); returns what was dropped.

        Retention is whole-index deletion: cheap, immediate, and nothing of the dropped ads stays.
        """
        if not re.fullmatch(r"\d{4}\.\d{2}", month):
            raise ValueError(f"month must look like 2026.01, got {month!r}")
        doomed = [name for name in self.ads_partitions() if name.rsplit("-", 1)[-1] < month]
        if doomed:
            self.client.indices.delete(index=",".join(doomed))
        return doomed

    def drop_deployment(self) -> list[str]:
        """Delete every index and template of this prefix (tests, and a deliberate full reset).

        Deleting by wildcard is refused by default (action.destructive_requires_name), so each
        index is named.
        """
        prefix = self.names.prefix
        indices = sorted(self.client.indices.get(index=f"{prefix}-*", expand_wildcards="all").body)
        if indices:
            self.client.indices.delete(index=",".join(indices))
        templates = self.client.options(ignore_status=404).indices.get_index_template(name=f"{prefix}-*")
        for template in templates.body.get("index_templates", []):
            self.client.indices.delete_index_template(name=template["name"])
        return indices

    # ------------------------------------------------------------------ status

    def count(self, alias: str, query: dict | None = None) -> int:
        """Documents behind an alias or index (matching `query`); 0 when it does not exist yet."""
        try:
            return call(self.client, f"a count of {alias}", lambda c: c.count(index=alias, query=query)["count"])
        except NotFoundError:
            return 0

    def counts(self) -> dict[str, int | None]:
        """Documents per alias (0 when an alias does not exist yet, None when these credentials may not read it)."""
        counts: dict[str, int | None] = {}
        for alias in (self.ads, self.clusters, self.runs):
            try:
                counts[alias] = self.count(alias)
            except PermissionDenied:
                counts[alias] = None
        return counts


def now_utc() -> datetime:
    return datetime.now(timezone.utc)
