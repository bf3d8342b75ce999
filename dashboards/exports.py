"""Researcher exports: per-cluster statistics and daily time series, pseudonymised and suppressed.

`adwatch export clusters|timeseries --format csv|parquet|json --out PATH [--since D] [--until D]
[--min-size N] [--k 5] [--include-text]`

clusters: one row per cluster active in [since, until) (first ad before `until`, last ad on or
  after `since`); the statistics describe the whole cluster:
  - cluster_key: HMAC pseudonym of the cluster id (ids derive from an ad id, which is public);
  - size (ads), first_day (its first ad first seen), last_day (any of its ads last seen online),
    span_days (last - first + 1), active_days (days on which one of its ads was first seen), sites,
    cities, countries (counts);
  - cadence: ads_per_active_day = size / active_days; median_gap_days = median of the gaps, in
    days, between consecutive ads in first-seen order (ads on one day are 0 apart);
  - growth: ads_last_7d = ads first seen in the 7 days ending at the cluster's newest first-seen
    day; growth_7d = ads_last_7d / the ads before those 7 days (empty when the
    whole cluster is younger than 7 days);
  - evidence_identifier / _text / _image / _suppressed: the cluster's links by evidence type;
  - shared_identifiers, identifier_kinds ("phone=2;email=1") and identifiers: identifiers shared
    by at least two of its ads, as keyed pseudonyms ("phone:<hmac>"), never the raw value.
  Free text and URLs (template, representative_url) and site and city names only with
  --include-text. Clusters with fewer than k ads are left out (a small cluster is a handful of
  people's ads): the effective minimum size is max(--min-size, k); the manifest counts them.
timeseries: counts per day computed by running the dashboard panels' own dsl searches
  (`dashboards.panels`), as tidy rows (day, measure, by, group, count, suppressed):
  ads by all / site / category / cluster (in_cluster, not_in_cluster) and new_clusters by all.
  A count from 1 to k-1 is suppressed (count empty, suppressed true). So that a hidden cell cannot
  be recovered as "the day's total minus the rest", within each day's breakdown further cells are
  hidden, smallest first, until the hidden cells together hold at least k.
Every export writes `<out>.manifest.json` beside it: parameters, AdWatch version, index snapshot
(time, document counts), row count, suppression figures and the SHA-256 of the export file.
Both files are written to temporary names and moved into place only when complete; on any error
neither is left behind.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import statistics
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from elasticsearch.dsl import A, Q, Search

from adwatch import __version__
from adwatch.config import Settings
from adwatch.errors import UserError
from adwatch.store import Store, connect
from dashboards import panels as P
from dashboards.pseudonyms import Pseudonymiser, from_settings

FORMATS = ("csv", "parquet", "json")
KINDS = ("clusters", "timeseries")
GROWTH_DAYS = 7

CLUSTER_COLUMNS = [
    ("cluster_key", "str"), ("size", "int"), ("first_day", "str"), ("last_day", "str"), ("span_days", "int"),
    ("active_days", "int"), ("sites", "int"), ("cities", "int"), ("countries", "int"),
    ("ads_per_active_day", "float"), ("median_gap_days", "float"), ("ads_last_7d", "int"), ("growth_7d", "float"),
    ("evidence_identifier", "int"), ("evidence_text", "int"), ("evidence_image", "int"),
    ("evidence_suppressed", "int"), ("shared_identifiers", "int"), ("identifier_kinds", "str"),
    ("identifiers", "list"),
]
TEXT_COLUMNS = [("template", "str"), ("representative_url", "str"), ("site_names", "list"), ("city_names", "list")]
TIMESERIES_COLUMNS = [("day", "str"), ("measure", "str"), ("by", "str"), ("group", "str"), ("count", "int"),
                      ("suppressed", "bool")]
# (panel id, measure, breakdown = the panel's aggregation holding the group; "all" = one total per day)
TIMESERIES_PANELS = [("ads-per-day-in-clusters", "ads", "cluster"),
                     ("ads-per-day-by-site", "ads", "site"),
                     ("ads-per-day-by-category", "ads", "category"),
                     ("new-clusters-per-day", "new_clusters", "all")]


@dataclass(frozen=True)
class ExportOptions:
    kind: str
    fmt: str
    out: Path
    since: str | None = None
    until: str | None = None
    min_size: int | None = None
    k: int = 5
    include_text: bool = False


@dataclass
class Table:
    columns: list[tuple[str, str]]
    rows: list[dict]
    facts: dict = field(default_factory=dict)  # what the manifest should say about how the rows were made


@dataclass(frozen=True)
class ExportResult:
    path: Path
    manifest: Path
    rows: int
    sha256: str


def manifest_path(out: Path) -> Path:
    return out.with_name(out.name + ".manifest.json")


def export(settings: Settings, options: ExportOptions, store: Store | None = None) -> ExportResult:
    """Check the options and the secret, read the index (`store`, else the configured one), and write the
    export and its manifest atomically."""
    _check(options)
    pseudonymise = from_settings(settings) if options.kind == "clusters" else None  # before any work
    store = store or Store(connect(settings), settings.index_prefix)
    taken_at = _now()
    by_alias = store.counts()
    counts = {"ads": by_alias[store.ads], "clusters": by_alias[store.clusters]}
    if counts["ads"] == 0:
        raise UserError(f"The ads index {store.ads} is empty or missing: crawl (adwatch crawl SITE) and enrich "
                        "(adwatch enrich) first. Nothing was exported.")
    if options.kind == "clusters":
        if counts["clusters"] == 0:
            raise UserError(f"The clusters index {store.clusters} is empty: run `adwatch enrich` to link ads into "
                            "clusters first. Nothing was exported.")
        table = cluster_table(store, pseudonymise, options)
    else:
        table = timeseries_table(store, options)
    manifest = {
        "export": options.kind, "format": options.fmt, "file": options.out.name,
        "rows": len(table.rows), "columns": [name for name, _ in table.columns],
        "parameters": {"since": options.since, "until": options.until, "min_size": options.min_size,
                       "k": options.k, "include_text": options.include_text, "index_prefix": store.names.prefix},
        "adwatch_version": __version__,
        "index_snapshot": {"taken_at": taken_at, "ads": counts["ads"], "clusters": counts["clusters"]},
        **table.facts,
        "created_at": _now(),
    }
    if pseudonymise is not None:
        manifest["pseudonyms"] = {"method": "HMAC-SHA256 keyed with pseudonym_secret, first 128 bits as hex",
                                  "key_id": pseudonymise.key_id}
    return write_export(options.out, options.fmt, table, manifest)


def _check(options: ExportOptions) -> None:
    if options.kind not in KINDS:
        raise UserError(f"Unknown export {options.kind!r}: choose one of {', '.join(KINDS)}.")
    if options.fmt not in FORMATS:
        raise UserError(f"Unknown format {options.fmt!r}: choose one of {', '.join(FORMATS)}.")
    if options.k < 1:
        raise UserError(f"--k must be at least 1 (got {options.k}); counts under k are suppressed.")
    if options.kind == "timeseries" and (options.min_size is not None or options.include_text):
        raise UserError("--min-size and --include-text apply to `adwatch export clusters` only.")
    if options.min_size is not None and options.min_size < 1:
        raise UserError(f"--min-size must be at least 1 (got {options.min_size}).")
    for name in ("since", "until"):
        value = getattr(options, name)
        if value is not None:
            try:
                date.fromisoformat(value[:10])
            except ValueError:
                raise UserError(f"--{name} {value!r} is not a date: use YYYY-MM-DD.") from None
    if options.since and options.until and options.since >= options.until:
        raise UserError(f"--since {options.since} is not before --until {options.until}.")
    out = options.out
    if out.is_dir():
        raise UserError(f"--out {out} is a directory: give a file name, e.g. {out / ('export.' + options.fmt)}.")
    if not out.parent.is_dir():
        raise UserError(f"--out {out}: the directory {out.parent} does not exist; create it first.")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# -------------------------------------------------------------------------------------- clusters

def cluster_table(store: Store, pseudonymise: Pseudonymiser, options: ExportOptions) -> Table:
    min_size = max(options.min_size or 2, options.k)
    window = Q("match_all")
    if options.since:
        window &= Q("range", last_seen={"gte": options.since})
    if options.until:
        window &= Q("range", first_seen={"lt": options.until})
    below_k = Search(index=store.clusters).filter(window).filter(
        "range", size={"gte": options.min_size or 2, "lt": min_size}).using(store.client).count()
    query = (Search(index=store.clusters).filter(window).filter("range", size={"gte": min_size})).to_dict()["query"]
    clusters = [hit["_source"] for hit in store.scan(store.clusters, query)]
    days = ad_days_by_cluster(store)
    urls = _urls(store, [c.get("representative_ad") for c in clusters]) if options.include_text else {}
    rows = [cluster_row(c, days.get(c["cluster_id"], {}), pseudonymise, options.include_text, urls)
            for c in clusters]
    rows.sort(key=lambda row: (-row["size"], row["cluster_key"]))
    columns = CLUSTER_COLUMNS + (TEXT_COLUMNS if options.include_text else [])
    return Table(columns, rows, {"suppression": {
        "k": options.k, "rule": "clusters with fewer than k ads are left out", "effective_min_size": min_size,
        "clusters_left_out_below_k": below_k}})


def ad_days_by_cluster(store: Store) -> dict[str, dict[str, int]]:
    """cluster id -> {day 'YYYY-MM-DD': ads first seen that day}, paged with a composite aggregation."""
    out: dict[str, dict[str, int]] = defaultdict(dict)
    sources = [{"cluster": A("terms", field="cluster_id")},
               {"day": A("date_histogram", field="first_seen", calendar_interval="day", format="yyyy-MM-dd")}]
    after = None
    while True:
        search = Search(index=store.ads).filter(P.IN_CLUSTER).extra(size=0)
        search.aggs.bucket("pairs", "composite", size=1000, sources=sources, **({"after": after} if after else {}))
        result = search.using(store.client).execute().to_dict()["aggregations"]["pairs"]
        for bucket in result["buckets"]:
            out[bucket["key"]["cluster"]][bucket["key"]["day"]] = bucket["doc_count"]
        after = result.get("after_key")
        if not result["buckets"] or not after:
            return out


def cluster_row(cluster: dict, days: dict[str, int], pseudonymise: Pseudonymiser, include_text: bool,
                urls: dict[str, str]) -> dict:
    """One export row from a clusters-index document and its ads' first-seen days."""
    first = date.fromisoformat(cluster["first_seen"][:10])
    last = date.fromisoformat(cluster["last_seen"][:10])
    ordinals = sorted(date.fromisoformat(day).toordinal() for day, n in days.items() for _ in range(n))
    gaps = [b - a for a, b in zip(ordinals, ordinals[1:])]
    newest = max(ordinals) if ordinals else last.toordinal()
    recent = sum(1 for o in ordinals if o > newest - GROWTH_DAYS)
    before = len(ordinals) - recent
    shared = cluster.get("identifiers", [])
    evidence = cluster.get("evidence", {})
    row = {
        "cluster_key": pseudonymise(cluster["cluster_id"], "cluster"), "size": cluster["size"],
        "first_day": first.isoformat(), "last_day": last.isoformat(), "span_days": (last - first).days + 1,
        "active_days": len(days), "sites": len(cluster.get("sites", [])), "cities": len(cluster.get("cities", [])),
        "countries": len(cluster.get("countries", [])),
        "ads_per_active_day": round(cluster["size"] / len(days), 3) if days else None,
        "median_gap_days": float(statistics.median(gaps)) if gaps else None,
        "ads_last_7d": recent, "growth_7d": round(recent / before, 3) if before else None,
        **{f"evidence_{kind}": int(evidence.get(kind, 0)) for kind in ("identifier", "text", "image", "suppressed")},
        "shared_identifiers": len(shared),
        "identifier_kinds": ";".join(f"{kind}={n}" for kind, n in sorted(Counter(i["kind"] for i in shared).items())),
        "identifiers": sorted(pseudonymise(i["value"], i["kind"]) for i in shared),
    }
    if include_text:
        row.update(template=cluster.get("template", ""), representative_url=urls.get(cluster.get("representative_ad")),
                   site_names=list(cluster.get("sites", [])), city_names=list(cluster.get("cities", [])))
    return row


def _urls(store: Store, doc_ids: list[str | None]) -> dict[str, str]:
    wanted = sorted({d for d in doc_ids if d})
    urls = {}
    for start in range(0, len(wanted), 1000):
        batch = wanted[start:start + 1000]
        search = Search(index=store.ads).filter("ids", values=batch).source(["url"]).extra(size=len(batch))
        for hit in search.using(store.client).execute().to_dict()["hits"]["hits"]:
            urls[hit["_id"]] = hit["_source"].get("url")
    return urls


# ------------------------------------------------------------------------------------ timeseries

def timeseries_table(store: Store, options: ExportOptions) -> Table:
    """Daily counts from the dashboard panels' own searches, with small counts suppressed."""
    cells: list[dict] = []
    for panel_id, measure, by in TIMESERIES_PANELS:
        panel = P.panel(panel_id, store.names.prefix)
        rows = panel.stats(store.client, options.since, options.until)
        cells += [_cell(row["day"], measure, by, "" if by == "all" else str(row[by]), row["count"]) for row in rows]
        if by == "cluster":  # the two groups partition the day's ads: their sum is the total
            totals = Counter()
            for row in rows:
                totals[row["day"]] += row["count"]
            cells += [_cell(day, measure, "all", "", n) for day, n in totals.items()]
    primary, extra = suppress(cells, options.k)
    cells.sort(key=lambda c: (c["day"], c["measure"], c["by"] != "all", c["by"], c["group"]))
    return Table(TIMESERIES_COLUMNS, cells, {
        "panels": [panel_id for panel_id, *_ in TIMESERIES_PANELS],
        "suppression": {"k": options.k, "rule": "counts from 1 to k-1 hidden; within each day's breakdown further "
                        "cells hidden, smallest first, until the hidden cells hold at least k",
                        "cells_hidden_below_k": primary, "cells_hidden_as_complement": extra}})


def _cell(day: str, measure: str, by: str, group: str, count: int) -> dict:
    return {"day": day, "measure": measure, "by": by, "group": group, "count": count, "suppressed": False}


def suppress(cells: list[dict], k: int) -> tuple[int, int]:
    """Hide counts under k in place, plus complements; returns (cells hidden below k, complements hidden)."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for cell in cells:
        groups[(cell["day"], cell["measure"], cell["by"])].append(cell)
    primary = extra = 0
    for group in groups.values():
        hidden = [c for c in group if 0 < c["count"] < k]
        if not hidden:
            continue
        primary += len(hidden)
        if len(group) > 1:
            rest = sorted((c for c in group if c["count"] >= k), key=lambda c: c["count"])
            while rest and sum(c["count"] for c in hidden) < k:
                hidden.append(rest.pop(0))
                extra += 1
        for cell in hidden:
            cell.update(count=None, suppressed=True)
    return primary, extra


# ---------------------------------------------------------------------------------------- writing

def write_export(out: Path, fmt: str, table: Table, manifest: dict) -> ExportResult:
    """Write the table and its manifest under temporary names, then move both into place."""
    tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.tmp")
    manifest_out = manifest_path(out)
    manifest_tmp = manifest_out.with_name(f".{manifest_out.name}.{uuid.uuid4().hex[:8]}.tmp")
    moved = False
    try:
        _WRITERS[fmt](tmp, table)
        digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
        manifest = {**manifest, "sha256": digest, "bytes": tmp.stat().st_size}
        manifest_tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, out)
        moved = True
        os.replace(manifest_tmp, manifest_out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        manifest_tmp.unlink(missing_ok=True)
        if moved:  # never an export without the manifest that describes it
            out.unlink(missing_ok=True)
        raise
    return ExportResult(out, manifest_out, len(table.rows), digest)


def _write_csv(path: Path, table: Table) -> None:
    names = [name for name, _ in table.columns]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=names)
        writer.writeheader()
        for row in table.rows:
            writer.writerow({name: _csv_value(row.get(name)) for name in names})


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(value)
    return value


def _write_json(path: Path, table: Table) -> None:
    names = [name for name, _ in table.columns]
    rows = [{name: row.get(name) for name in names} for row in table.rows]
    path.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def _write_parquet(path: Path, table: Table) -> None:
    import pyarrow as pa  # only this format needs it
    import pyarrow.parquet as pq

    types = {"str": pa.string(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(),
             "list": pa.list_(pa.string())}
    schema = pa.schema([(name, types[kind]) for name, kind in table.columns])
    pq.write_table(pa.Table.from_pylist(table.rows, schema=schema), path)


_WRITERS: dict[str, Callable[[Path, Table], None]] = {"csv": _write_csv, "json": _write_json,
                                                      "parquet": _write_parquet}
