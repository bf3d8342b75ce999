"""Every dashboard panel's query, written once with elasticsearch.dsl.

A `Panel` is the single definition two doors read: `dashboards.kibana` turns it into a Lens
visualisation or a saved search, and `Panel.rows` turns the same search's response into rows for
our own statistics and researcher exports (`dashboards.exports`). Nothing here needs Kibana.

Shape of a panel's search, so both doors can read it without guessing:
- a query in filter context (what the panel is about: "ads in a cluster", "this cluster");
- at most one chain of bucket aggregations (date_histogram, terms, range, filters), outermost
  first, with metric aggregations (sum, avg, max, min, cardinality) only at the innermost level;
  the innermost bucket's document count is the row's `count`;
- or, for list panels (saved searches), no aggregations and the Discover columns to show.
The time window (`Panel.windowed`) is a range filter on the index kind's time field, as Kibana's
time picker adds one.

Fields and the mapping type each needs follow from how the search uses them (`Panel.fields`):
terms on keywords, date_histogram on dates, sums and ranges on numbers.

"New clusters per day" counts clusters by their `first_seen` (the day their earliest ad was first
seen): the clusters index records no separate discovery time.

Every condition a panel has lives in its search (a filter, a bucket parameter, a size), never in
Python after the response: Kibana runs the same search from the saved objects and must show the
same rows. Day buckets are UTC days (`TIME_ZONE`); "Multi-city clusters" filters on the stored
`city_count`, since neither a script nor a runtime field runs on the minimal node.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from elasticsearch import Elasticsearch
from elasticsearch.dsl import Q, Search

from adwatch.schema import IndexNames

KINDS = ("ads", "clusters", "runs")
TIME_FIELDS = {"ads": "first_seen", "clusters": "first_seen", "runs": "started"}
CHARTS = ("bar", "bar_stacked", "line", "donut", "table", "list")
BUCKET_AGGS = ("date_histogram", "terms", "range", "filters")
METRIC_AGGS = ("sum", "avg", "max", "min", "cardinality")
OTHER = "(other)"  # row key for a terms aggregation's documents beyond its `size`
TIME_ZONE = "UTC"  # the time zone of day buckets; the Kibana export sets `dateFormat:tz` to the same
MIN_CITIES = 2  # a multi-city cluster posts in at least this many cities

DASHBOARDS = {
    "market": ("Market overview", "Ads per day by site, category and city; new clusters; share of ads in clusters."),
    "clusters": ("Clusters", "Largest, fastest-growing and multi-city clusters; cluster sizes; identifier reuse."),
    "cluster-detail": ("Cluster detail",
                       "One cluster: pick its id in the Cluster control (or query cluster_id:\"...\")."),
    "crawl": ("Crawl operations", "Crawl runs, items, problems and durations by site."),
}

# What a field must be mapped as, by how a search uses it.
_NEEDS = {"date_histogram": "date", "terms": "keyword", "range": "number", "sum": "number", "avg": "number",
          "max": "number|date", "min": "number|date", "cardinality": "keyword", "term": "keyword",
          "terms_query": "keyword", "exists": "any", "range_query": "number|date"}


@dataclass(frozen=True)
class Panel:
    """One panel: what it shows, the dsl Search that computes it, and how its response becomes rows."""

    id: str
    title: str
    kind: str  # ads | clusters | runs
    search: Search
    chart: str  # see CHARTS; "list" is a saved search (Discover table)
    dashboard: str
    description: str = ""
    columns: tuple[str, ...] = ()  # list panels: Discover columns
    labels: dict[str, str] = field(default_factory=dict)  # aggregation name -> human label

    def __post_init__(self) -> None:
        if self.kind not in KINDS or self.chart not in CHARTS:
            raise ValueError(f"panel {self.id}: kind {self.kind!r} / chart {self.chart!r} unknown")

    @property
    def time_field(self) -> str:
        return TIME_FIELDS[self.kind]

    @property
    def body(self) -> dict:
        return self.search.to_dict()

    @property
    def query(self) -> dict | None:
        """The panel's query (filter context), or None when it looks at every document."""
        return self.body.get("query")

    @property
    def aggs(self) -> dict:
        return self.body.get("aggs", {})

    @property
    def limit(self) -> int:
        """How many documents a list panel shows (its search's `size`); 0 for charts."""
        return self.body.get("size", 10)

    @property
    def fields(self) -> dict[str, str]:
        """Every field the panel reads -> the mapping it needs ('keyword', 'date', 'number', 'number|date', 'any')."""
        found: dict[str, str] = {}
        _query_fields(self.query or {}, found)
        _agg_fields(self.aggs, found)
        for column in self.columns:
            _need(found, column, "any")
        for sort in self.body.get("sort", []):
            for name in (sort if isinstance(sort, dict) else {sort: None}):
                _need(found, name, "any")
        return found

    @property
    def other_bucket(self) -> bool:
        """Whether terms beyond their size are shown as one "(other)" bucket: in charts, not in top-N tables."""
        return self.chart != "table"

    def label(self, name: str) -> str:
        return self.labels.get(name) or name.replace("_", " ").capitalize()

    def windowed(self, since: str | None = None, until: str | None = None) -> Search:
        """The search limited to [since, until) on the kind's time field (ISO dates or datetimes)."""
        bounds = {key: value for key, value in (("gte", since), ("lt", until)) if value}
        return self.search.filter("range", **{self.time_field: bounds}) if bounds else self.search

    def run(self, client: Elasticsearch, since: str | None = None, until: str | None = None) -> dict:
        """The raw response of the (windowed) search."""
        return self.windowed(since, until).using(client).execute().to_dict()

    def rows(self, response: dict) -> list[dict]:
        """Response -> rows: one per innermost bucket (bucket keys, metrics, `count`), or hits' sources."""
        if self.chart == "list":
            return [hit["_source"] for hit in response["hits"]["hits"]]
        total = response["hits"]["total"]["value"] if "hits" in response else 0
        return list(_flatten(self.aggs, response.get("aggregations", {}), {}, total, self.other_bucket))

    def stats(self, client: Elasticsearch, since: str | None = None, until: str | None = None) -> list[dict]:
        """Run the panel and return its rows: our own statistics from the same definition Kibana shows."""
        return self.rows(self.run(client, since, until))


def bucket_chain(aggs: dict) -> Iterator[tuple[str, str, dict]]:
    """(name, type, params) for each bucket level, outermost first."""
    level = aggs
    while level:
        buckets = [(name, spec) for name, spec in level.items() if _agg_type(spec) in BUCKET_AGGS]
        if not buckets:
            return
        name, spec = buckets[0]
        yield name, _agg_type(spec), spec[_agg_type(spec)]
        level = spec.get("aggs", {})


def leaf_metrics(aggs: dict) -> dict:
    """Metric aggregations at the innermost level (the top level when there are no buckets)."""
    level = aggs
    while True:
        buckets = [spec for spec in level.values() if _agg_type(spec) in BUCKET_AGGS]
        if not buckets:
            return {n: s for n, s in level.items() if _agg_type(s) in METRIC_AGGS}
        level = buckets[0].get("aggs", {})


def _agg_type(spec: dict) -> str:
    return next(key for key in spec if key not in ("aggs", "meta"))


def _flatten(aggs: dict, node: dict, row: dict, count: int, other: bool) -> Iterator[dict]:
    bucket = next(((n, s) for n, s in aggs.items() if _agg_type(s) in BUCKET_AGGS), None)
    if bucket is None:
        metrics = {n: _metric_value(node[n]) for n, s in aggs.items() if _agg_type(s) in METRIC_AGGS}
        yield {**row, **metrics, "count": count}
        return
    name, spec = bucket
    result = node[name]
    buckets = result["buckets"]
    if isinstance(buckets, dict):  # keyed filters
        buckets = [{"key": key, **b} for key, b in buckets.items()]
    for b in buckets:
        if b["doc_count"] == 0:
            continue
        key = b.get("key_as_string", b["key"]) if _agg_type(spec) == "date_histogram" else b["key"]
        yield from _flatten(spec.get("aggs", {}), b, {**row, name: key}, b["doc_count"], other)
    if other and result.get("sum_other_doc_count"):
        # Beyond `size`: counted, not broken down further (Lens shows it as "Other" too).
        yield {**row, name: OTHER, "count": result["sum_other_doc_count"]}


def _metric_value(result: dict):
    value = result.get("value_as_string", result.get("value"))
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _rank(need: str) -> int:
    return {"any": 0, "number|date": 1}.get(need, 2)


def _need(found: dict[str, str], name: str, need: str) -> None:
    """Record what `name` must be mapped as, keeping the most specific need; conflicting needs are a bug."""
    have = found.get(name, "any")
    conflict = (_rank(need) == _rank(have) == 2 and need != have) or \
        (have == "number|date" and _rank(need) == 2 and need not in ("number", "date"))
    if conflict:
        raise ValueError(f"field {name} is used both as {have} and as {need}")
    if name not in found or _rank(need) > _rank(have):
        found[name] = need


def _agg_fields(aggs: dict, found: dict[str, str]) -> None:
    for spec in aggs.values():
        kind = _agg_type(spec)
        params = spec[kind]
        if "field" in params:
            _need(found, params["field"], _NEEDS[kind])
        if kind == "filters":
            for query in params["filters"].values():
                _query_fields(query, found)
        _agg_fields(spec.get("aggs", {}), found)


def _query_fields(query: dict, found: dict[str, str]) -> None:
    for kind, body in query.items():
        if kind == "bool":
            for occur in ("must", "filter", "should", "must_not"):
                clauses = body.get(occur, [])
                for clause in clauses if isinstance(clauses, list) else [clauses]:
                    _query_fields(clause, found)
        elif kind == "exists":
            _need(found, body["field"], "any")
        elif kind in ("term", "terms", "range"):
            for name in body:
                _need(found, name, _NEEDS[{"term": "term", "terms": "terms_query", "range": "range_query"}[kind]])
        elif kind != "match_all":
            raise ValueError(f"panel query clause {kind!r} is not one the dashboards translate; use term, terms, "
                             "range, exists or bool")


# ---------------------------------------------------------------------------------------- panels

def _agg_search(alias: str, query: Q | None = None) -> Search:
    search = Search(index=alias).extra(size=0, track_total_hits=True)
    return search.filter(query) if query is not None else search


def _per_day(search: Search, field_name: str):
    return search.aggs.bucket("day", "date_histogram", field=field_name, calendar_interval="1d",
                              time_zone=TIME_ZONE, format="yyyy-MM-dd", min_doc_count=1)


# Ads are partitioned by month, so a top-N terms aggregation spans shards; asking each shard for this many
# terms keeps the top N exact for any realistic number of sites, cities or identifiers per cluster.
SHARD_SIZE = 1000


def _top(parent, name: str, field_name: str, size: int, **params):
    """A terms bucket under `parent` (a Search's aggs or a bucket), exact across partitions."""
    return parent.bucket(name, "terms", field=field_name, size=size, shard_size=SHARD_SIZE, **params)


IN_CLUSTER = Q("exists", field="cluster_id")
CLUSTER_MEMBERSHIP = {"in_cluster": IN_CLUSTER, "not_in_cluster": ~IN_CLUSTER}
SIZE_RANGES = [{"key": "2", "from": 2, "to": 3}, {"key": "3-4", "from": 3, "to": 5},
               {"key": "5-9", "from": 5, "to": 10}, {"key": "10-19", "from": 10, "to": 20},
               {"key": "20-49", "from": 20, "to": 50}, {"key": "50-99", "from": 50, "to": 100},
               {"key": "100+", "from": 100}]
RUN_PROBLEMS = {"failed": Q("term", status="failed"), "interrupted": Q("term", status="interrupted"),
                "error_counters": Q("exists", field="errors.*"), "invalid_items": Q("range", items__invalid={"gt": 0})}


def market_panels(names: IndexNames) -> list[Panel]:
    ads, clusters = names.alias("ads"), names.alias("clusters")
    panels = []
    for dim, size in (("site", 50), ("category", 50), ("city", 10)):
        s = _agg_search(ads)
        _top(_per_day(s, "first_seen"), dim, dim, size)
        panels.append(Panel(f"ads-per-day-by-{dim}", f"Ads per day by {dim}", "ads", s, "bar_stacked", "market",
                            f"New ads per day (first seen), by {dim}" + (" (top 10 and other)" if size == 10 else "")))
    s = _agg_search(ads)
    _per_day(s, "first_seen").bucket("cluster", "filters", filters=CLUSTER_MEMBERSHIP)
    panels.append(Panel("ads-per-day-in-clusters", "Ads per day in clusters", "ads", s, "bar_stacked", "market",
                        "New ads per day, split by whether they belong to a cluster"))
    s = _agg_search(ads)
    s.aggs.bucket("cluster", "filters", filters=CLUSTER_MEMBERSHIP)
    panels.append(Panel("share-of-ads-in-clusters", "Share of ads in clusters", "ads", s, "donut", "market"))
    s = _agg_search(clusters)
    _per_day(s, "first_seen")
    panels.append(Panel("new-clusters-per-day", "New clusters per day", "clusters", s, "bar", "market",
                        "Clusters by the day their earliest ad was first seen"))
    s = Search(index=ads).filter(IN_CLUSTER).sort({"first_seen": "desc"}).extra(size=50)
    panels.append(Panel("clustered-ads", "Ads in clusters", "ads", s, "list", "market",
                        columns=("site", "category", "city", "cluster_id", "title")))
    return panels


def cluster_panels(names: IndexNames) -> list[Panel]:
    ads, clusters = names.alias("ads"), names.alias("clusters")
    panels = []
    s = _agg_search(clusters)
    top = _top(s.aggs, "cluster", "cluster_id", 20, order={"size": "desc"})
    top.metric("size", "max", field="size").metric("sites", "cardinality", field="sites")
    top.metric("cities", "cardinality", field="cities").metric("last_seen", "max", field="last_seen")
    panels.append(Panel("largest-clusters", "Largest clusters", "clusters", s, "table", "clusters",
                        labels={"size": "Ads", "sites": "Sites", "cities": "Cities", "last_seen": "Last seen"}))
    s = _agg_search(ads, IN_CLUSTER)
    top = _top(s.aggs, "cluster", "cluster_id", 20, order={"_count": "desc"})
    top.metric("cities", "cardinality", field="city").metric("last_ad", "max", field="first_seen")
    panels.append(Panel("fastest-growing-clusters", "Fastest-growing clusters", "ads", s, "table", "clusters",
                        "Clusters with the most new ads in the selected time range",
                        labels={"cities": "Cities", "last_ad": "Newest ad"}))
    s = _agg_search(clusters, Q("range", city_count={"gte": MIN_CITIES}))
    top = _top(s.aggs, "cluster", "cluster_id", 20, order={"cities": "desc"})
    top.metric("cities", "cardinality", field="cities").metric("sites", "cardinality", field="sites")
    top.metric("size", "max", field="size")
    panels.append(Panel("multi-city-clusters", "Multi-city clusters", "clusters", s, "table", "clusters",
                        f"Clusters posting in the most cities (at least {MIN_CITIES})", labels={"size": "Ads"}))
    s = _agg_search(clusters)
    s.aggs.bucket("size", "range", field="size", ranges=SIZE_RANGES)
    panels.append(Panel("cluster-size-distribution", "Cluster size distribution", "clusters", s, "bar", "clusters",
                        "Clusters by number of ads", labels={"size": "Ads in cluster"}))
    s = _agg_search(clusters)
    _top(s.aggs, "kind", "identifiers.kind", 20)
    panels.append(Panel("identifier-kinds", "Clusters sharing an identifier, by kind", "clusters", s, "bar",
                        "clusters", labels={"kind": "Identifier kind"}))
    s = _agg_search(ads, Q("exists", field="identifiers"))
    top = _top(s.aggs, "identifier", "identifiers", 20, min_doc_count=2)
    top.metric("clusters", "cardinality", field="cluster_id").metric("sites", "cardinality", field="site")
    panels.append(Panel("reused-identifiers", "Most reused identifiers", "ads", s, "table", "clusters",
                        "Identifiers on the most ads, and how many clusters and sites they span"))
    s = Search(index=clusters).sort({"size": "desc"}).extra(size=50)
    panels.append(Panel("cluster-list", "Clusters", "clusters", s, "list", "clusters",
                        columns=("cluster_id", "size", "sites", "cities", "first_seen", "last_seen")))
    return panels


def cluster_detail_panels(names: IndexNames, cluster_id: str | None = None) -> list[Panel]:
    """Panels about one cluster; without an id they cover every clustered ad (Kibana filters by control)."""
    ads, clusters = names.alias("ads"), names.alias("clusters")
    one = Q("term", cluster_id=cluster_id) if cluster_id else IN_CLUSTER
    panels = []
    s = _agg_search(ads, one)
    _top(_per_day(s, "first_seen"), "site", "site", 50)
    panels.append(Panel("cluster-timeline", "Cluster timeline", "ads", s, "bar_stacked", "cluster-detail",
                        "The cluster's ads per day, by site"))
    s = _agg_search(ads, one)
    _top(s.aggs, "city", "city", 50)
    panels.append(Panel("cluster-cities", "Cluster cities", "ads", s, "bar", "cluster-detail"))
    s = _agg_search(ads, one)
    _top(s.aggs, "image", "images.phash", 20)
    panels.append(Panel("cluster-images", "Cluster photos", "ads", s, "table", "cluster-detail",
                        "Photos (perceptual hash) and how many of the cluster's ads show each",
                        labels={"image": "Photo (pHash)"}))
    s = _agg_search(ads, one)
    _top(s.aggs, "identifier", "identifiers", 50)
    panels.append(Panel("cluster-identifiers", "Cluster identifiers", "ads", s, "table", "cluster-detail",
                        "Identifiers on the cluster's ads, with the number of ads each"))
    s = _agg_search(clusters, Q("term", cluster_id=cluster_id) if cluster_id else None)
    for kind in ("identifier", "text", "image", "suppressed"):
        s.aggs.metric(kind, "sum", field=f"evidence.{kind}")
    panels.append(Panel("cluster-evidence", "Cluster evidence", "clusters", s, "table", "cluster-detail",
                        "Links inside the cluster by evidence type; suppressed = weakened by a hub",
                        labels={"identifier": "Identifier links", "text": "Text links", "image": "Image links",
                                "suppressed": "Suppressed links"}))
    s = Search(index=ads).filter(one).sort({"first_seen": "asc"}).extra(size=500)
    panels.append(Panel("cluster-ads", "Cluster ads", "ads", s, "list", "cluster-detail",
                        columns=("first_seen", "site", "ad_id", "city", "title", "url")))
    return panels


def crawl_panels(names: IndexNames) -> list[Panel]:
    runs = names.alias("runs")
    panels = []
    s = _agg_search(runs)
    _top(_per_day(s, "started"), "status", "status", 10)
    panels.append(Panel("runs-per-day", "Crawl runs per day by status", "runs", s, "bar_stacked", "crawl"))
    s = _agg_search(runs)
    site = _top(s.aggs, "site", "site", 50, order={"_key": "asc"})
    for item in ("new", "changed", "unchanged", "removed", "invalid"):
        site.metric(item, "sum", field=f"items.{item}")
    panels.append(Panel("items-by-site", "Items by site", "runs", s, "bar_stacked", "crawl",
                        "Ads new, changed, unchanged, removed and invalid, summed over runs"))
    s = _agg_search(runs)
    _top(s.aggs, "site", "site", 50).bucket("problem", "filters", filters=RUN_PROBLEMS)
    panels.append(Panel("run-problems-by-site", "Run problems by site", "runs", s, "bar_stacked", "crawl",
                        "Runs that failed, were interrupted, counted errors or rejected items"))
    s = _agg_search(runs, Q("exists", field="alerts.kind"))
    _top(_top(s.aggs, "site", "site", 50), "alert", "alerts.kind", 10)
    panels.append(Panel("alerts-by-site", "Run alerts by site", "runs", s, "bar_stacked", "crawl",
                        "Runs that raised each kind of alert (failed, zero_items, error_rate, too_long)"))
    s = _agg_search(runs, Q("exists", field="duration_s"))
    site = _top(s.aggs, "site", "site", 50, order={"_key": "asc"})
    site.metric("mean_s", "avg", field="duration_s").metric("longest_s", "max", field="duration_s")
    panels.append(Panel("durations-by-site", "Run durations by site", "runs", s, "table", "crawl",
                        labels={"mean_s": "Mean duration (s)", "longest_s": "Longest (s)"}))
    s = Search(index=runs).sort({"started": "desc"}).extra(size=100)
    panels.append(Panel("run-list", "Crawl runs", "runs", s, "list", "crawl",
                        columns=("site", "status", "trigger", "duration_s", "pages", "items.new", "items.changed",
                                 "items.invalid")))
    return panels


def all_panels(prefix: str = "adwatch", cluster_id: str | None = None) -> list[Panel]:
    """Every panel of every dashboard, on the aliases of `prefix`, in dashboard order."""
    names = IndexNames(prefix)
    return (market_panels(names) + cluster_panels(names) + cluster_detail_panels(names, cluster_id)
            + crawl_panels(names))


def panel(panel_id: str, prefix: str = "adwatch", cluster_id: str | None = None) -> Panel:
    found = [p for p in all_panels(prefix, cluster_id) if p.id == panel_id]
    if not found:
        raise KeyError(f"no panel {panel_id!r}")
    return found[0]
