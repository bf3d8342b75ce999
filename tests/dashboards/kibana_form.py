"""The search Kibana would run for a saved object, read back from the export alone, and the same for a panel.

`kibana_form(obj, objects)` reads a Lens visualisation, aggregation-based table or saved search
(with the data views and advanced settings it depends on) the way Kibana turns it into a request,
and `panel_form(panel)` reads the panel's dsl `to_dict()`. Both give one comparable form:

    {"index", "filters": [filter-context queries], "buckets": [{type, params...}, ...outermost first],
     "metrics": [[type, field], ...], "size", "sort", "columns"}

with names replaced by what they point at (a terms order names the metric's [type, field]), so
`disagreements(a, b)` can list every filter, bucket parameter and limit that differs. `request(form)`
turns a form back into an Elasticsearch body, so the Kibana form can be run on the real node.

What Kibana does, from its sources (elastic/kibana; paths as cited in dashboards/kibana.py):
- the time zone of a date_histogram is the data view's rollup restriction if any, else the
  `dateFormat:tz` advanced setting, whose default "Browser" is the analyst's own zone;
- Lens's date_histogram sends min_doc_count 0 with includeEmptyRows, else 1; an interval of one
  calendar unit ("1d") goes out as calendar_interval, others as fixed_interval;
- Lens's terms sends no min_doc_count (Elasticsearch's default 1), shard_size
  max(1000, 1.5 * size + 10) in accuracy mode, else the data plugin's 25 for sizes up to 10;
- an agg-based aggregation's JSON input is merged over its parameters;
- a saved search without sampleSize shows Discover's default 500 rows.
Presentation-only settings (key format, labels, colours) are not part of the form.
"""

from __future__ import annotations

import json

from dashboards.kibana import lucene
from dashboards.panels import BUCKET_AGGS, METRIC_AGGS, Panel

DISCOVER_DEFAULT_SAMPLE_SIZE = 500
LENS_METRICS = {"sum": "sum", "average": "avg", "max": "max", "min": "min", "unique_count": "cardinality"}
CALENDAR_UNITS = {"s", "m", "h", "d", "w", "M", "q", "y"}


# ------------------------------------------------------------------------------------ dsl side

def panel_form(panel: Panel) -> dict:
    """The comparable form of the panel's own dsl search."""
    body = panel.body
    aggs = body.get("aggs", {})
    metrics_by_name: dict[str, list[str]] = {}
    chain = []
    level = aggs
    while level:
        for name, spec in level.items():
            kind = _agg_type(spec)
            if kind in METRIC_AGGS:
                metrics_by_name[name] = [kind, spec[kind]["field"]]
        bucket = next(((n, s) for n, s in level.items() if _agg_type(s) in BUCKET_AGGS), None)
        if bucket is None:
            break
        chain.append(bucket)
        level = bucket[1].get("aggs", {})
    buckets = [_dsl_bucket(panel, spec, metrics_by_name) for _, spec in chain]
    metrics = sorted(metrics_by_name[name] for name in level if name in metrics_by_name)  # the innermost level
    form = {"index": body_index(panel), "filters": _filter_clauses(body.get("query")), "buckets": buckets,
            "metrics": metrics, "size": body.get("size", 10)}
    if panel.chart == "list":
        form.update(sort=[[name, order] for spec in body.get("sort", []) for name, order in spec.items()],
                    columns=list(panel.columns))
    return form


def body_index(panel: Panel) -> str:
    index = panel.search._index
    return index[0] if isinstance(index, list) else index


def _dsl_bucket(panel: Panel, spec: dict, metrics_by_name: dict[str, list[str]]) -> dict:
    kind = _agg_type(spec)
    params = spec[kind]
    if kind == "date_histogram":
        interval = ("calendar_interval", params["calendar_interval"]) if "calendar_interval" in params \
            else ("fixed_interval", params.get("fixed_interval"))
        return {"type": kind, "field": params["field"], interval[0]: interval[1],
                "time_zone": params.get("time_zone", "UTC"), "min_doc_count": params.get("min_doc_count", 0)}
    if kind == "terms":
        (key, direction), = params.get("order", {"_count": "desc"}).items()
        return {"type": kind, "field": params["field"], "size": params.get("size", 10),
                "shard_size": params.get("shard_size"), "min_doc_count": params.get("min_doc_count", 1),
                "order": [metrics_by_name.get(key, key), direction], "other": panel.other_bucket}
    if kind == "range":
        return {"type": kind, "field": params["field"],
                "ranges": [[r.get("from"), r.get("to")] for r in params["ranges"]]}
    return {"type": kind, "filters": {label: lucene(q) for label, q in params["filters"].items()}}


def _agg_type(spec: dict) -> str:
    return next(key for key in spec if key not in ("aggs", "meta"))


def _filter_clauses(query: dict | None) -> list[dict]:
    """Filter-context clauses: a bool of filters only is its clauses, match_all is none."""
    if not query or "match_all" in query:
        return []
    if set(query) == {"bool"} and set(query["bool"]) == {"filter"}:
        clauses = query["bool"]["filter"]
        return [c for clause in (clauses if isinstance(clauses, list) else [clauses]) for c in _filter_clauses(clause)]
    return [query]


# --------------------------------------------------------------------------------- Kibana side

def kibana_form(obj: dict, objects: list[dict]) -> dict:
    """The comparable form of the request Kibana builds for a lens, visualization or search object."""
    by_id = {(o["type"], o["id"]): o for o in objects}
    settings = next((o["attributes"] for o in objects if o["type"] == "config"), {})
    time_zone = settings.get("dateFormat:tz", "Browser")
    if obj["type"] == "lens":
        return _lens_form(obj, by_id, time_zone)
    meta = json.loads(obj["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])
    view = _referenced_view(obj, by_id, meta["indexRefName"])
    filters = _unsupported_query(meta.get("query")) + _filters(meta.get("filter", []))
    if obj["type"] == "search":
        attributes = obj["attributes"]
        return {"index": view["title"], "filters": filters, "buckets": [], "metrics": [],
                "size": attributes.get("sampleSize", DISCOVER_DEFAULT_SAMPLE_SIZE),
                "sort": [list(s) for s in attributes.get("sort", [])], "columns": attributes.get("columns", [])}
    return {"index": view["title"], "filters": filters, **_agg_table_form(obj, view)}


def _referenced_view(obj: dict, by_id: dict, ref_name: str) -> dict:
    ref = next(r for r in obj["references"] if r["name"] == ref_name)
    return by_id[("index-pattern", ref["id"])]["attributes"]


def _unsupported_query(query: dict | None) -> list[dict]:
    """The object's own query bar: empty here; anything else would need Kibana's KQL parser to compare."""
    if query and query.get("query"):
        return [{"unsupported_query": query}]
    return []


def _filters(filters: list[dict]) -> list[dict]:
    found = []
    for f in filters:
        if f.get("meta", {}).get("disabled"):
            continue
        query = f["query"]
        found.append({"bool": {"must_not": [query]}} if f["meta"].get("negate") else query)
    return [clause for query in found for clause in _filter_clauses(query)]


def _time_zone(view: dict, field: str, configured: str) -> str:
    restriction = json.loads(view.get("typeMeta") or "{}").get("aggs", {}).get("date_histogram", {}).get(field)
    return (restriction or {}).get("time_zone") or configured


def _interval(interval: str) -> dict:
    value, unit = interval[:-1], interval[-1]
    if value in ("", "1") and unit in CALENDAR_UNITS:
        return {"calendar_interval": f"1{unit}"}
    return {"fixed_interval": interval}


def _lens_form(obj: dict, by_id: dict, time_zone: str) -> dict:
    state = obj["attributes"]["state"]
    (layer_id, layer), = state["datasourceStates"]["formBased"]["layers"].items()
    view = _referenced_view(obj, by_id, f"indexpattern-datasource-layer-{layer_id}")
    columns = layer["columns"]

    def metric_of(column_id: str):
        column = columns[column_id]
        return "_count" if column["operationType"] == "count" else \
            [LENS_METRICS[column["operationType"]], column["sourceField"]]

    buckets, metrics = [], []
    for column_id in layer["columnOrder"]:
        column = columns[column_id]
        params = column.get("params", {})
        kind = column["operationType"]
        if not column["isBucketed"]:
            if kind != "count":
                metrics.append(metric_of(column_id))
        elif kind == "date_histogram":
            buckets.append({"type": kind, "field": column["sourceField"], **_interval(params["interval"]),
                            "time_zone": _time_zone(view, column["sourceField"], time_zone),
                            "min_doc_count": 0 if params.get("includeEmptyRows") else 1})
        elif kind == "terms":
            order = params["orderBy"]
            key = metric_of(order["columnId"]) if order["type"] == "column" else "_key"
            size = params["size"]
            buckets.append({"type": kind, "field": column["sourceField"], "size": size,
                            "shard_size": max(1000, size * 1.5 + 10) if params.get("accuracyMode")
                            else (25 if size <= 10 else None),
                            "min_doc_count": 1, "order": [key, params["orderDirection"]],
                            "other": bool(params.get("otherBucket"))})
        elif kind == "range":
            buckets.append({"type": kind, "field": column["sourceField"],
                            "ranges": [[r.get("from"), r.get("to")] for r in params["ranges"]]})
        elif kind == "filters":
            buckets.append({"type": kind, "filters": {
                f["label"]: f["input"]["query"] if f["input"]["language"] == "lucene"
                else f"{f['input']['language']}:{f['input']['query']}" for f in params["filters"]}})
        else:
            buckets.append({"type": f"unsupported {kind}"})
    filters = _unsupported_query(state.get("query")) + _filters(state.get("filters", []))
    return {"index": view["title"], "filters": filters, "buckets": buckets, "metrics": sorted(metrics), "size": 0}


def _agg_table_form(obj: dict, view: dict) -> dict:
    vis = json.loads(obj["attributes"]["visState"])
    aggs = [a for a in vis["aggs"] if a.get("enabled", True)]
    by_id = {a["id"]: a for a in aggs}

    def with_json(agg: dict) -> dict:
        params = dict(agg["params"])
        params.update(json.loads(params.pop("json", "") or "{}"))
        return params

    metrics = sorted([a["type"], a["params"]["field"]] for a in aggs if a["schema"] == "metric" and a["type"] != "count")
    buckets = []
    for agg in (a for a in aggs if a["schema"] in ("bucket", "split")):
        params = with_json(agg)
        if agg["type"] != "terms":
            buckets.append({"type": f"unsupported {agg['type']}"})
            continue
        order_agg = by_id.get(params["orderBy"])
        key = "_key" if params["orderBy"] == "_key" else "_count" if order_agg["type"] == "count" \
            else [order_agg["type"], order_agg["params"]["field"]]
        size = params.get("size", 5)
        buckets.append({"type": "terms", "field": params["field"], "size": size,
                        "shard_size": params.get("shard_size") or params.get("shardSize") or (25 if size <= 10 else None),
                        "min_doc_count": params.get("min_doc_count", 1), "order": [key, params.get("order", "desc")],
                        "other": bool(params.get("otherBucket"))})
    return {"buckets": buckets, "metrics": metrics, "size": 0}


# ---------------------------------------------------------------------------------- comparing

def disagreements(dsl: dict, kibana: dict) -> list[str]:
    """Every place the two forms differ, as 'path: dsl value != Kibana value'."""
    found: list[str] = []
    _compare("", dsl, kibana, found)
    return found


def _compare(path: str, a, b, found: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            _compare(f"{path}.{key}" if path else key, a.get(key), b.get(key), found)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b) and \
            all(isinstance(x, (dict, list)) for x in a + b):
        for n, (x, y) in enumerate(zip(a, b)):
            _compare(f"{path}[{n}]", x, y, found)
    elif a != b:
        found.append(f"{path}: {a!r} != {b!r}")


# ------------------------------------------------------------------------------------ running

def request(form: dict) -> dict:
    """An Elasticsearch body that runs the form: filters in filter context, buckets nested b0, b1, ...,
    metrics m0, m1, ... at the innermost level (the names `rows` reads back)."""
    body: dict = {"size": form["size"], "track_total_hits": True}
    if form["filters"]:
        body["query"] = {"bool": {"filter": form["filters"]}}
    if form.get("sort"):
        body["sort"] = [{name: order} for name, order in form["sort"]]
    metric_names = {json.dumps(m): f"m{n}" for n, m in enumerate(form["metrics"])}
    leaf = {name: {m[0]: {"field": m[1]}} for m, name in ((json.loads(k), v) for k, v in metric_names.items())}
    aggs = leaf
    for n, bucket in reversed(list(enumerate(form["buckets"]))):
        spec = {key: value for key, value in bucket.items() if key not in ("type", "other") and value is not None}
        if bucket["type"] == "terms":
            key, direction = bucket["order"]
            spec["order"] = {key if isinstance(key, str) else metric_names[json.dumps(key)]: direction}
        elif bucket["type"] == "range":
            spec["ranges"] = [{k: v for k, v in (("from", f), ("to", t)) if v is not None} for f, t in bucket["ranges"]]
        elif bucket["type"] == "filters":
            spec = {"filters": {label: {"query_string": {"query": q, "analyze_wildcard": True}}
                                for label, q in bucket["filters"].items()}}
        aggs = {f"b{n}": {bucket["type"]: spec, **({"aggs": aggs} if aggs else {})}}
    if aggs:
        body["aggs"] = aggs
    return body


def rows(body: dict, response: dict) -> list[tuple]:
    """Response -> sorted rows (bucket keys outermost first, doc count, metric values by [type, field]),
    walking the body's first bucket aggregation at each level; empty buckets are left out."""
    found: list[tuple] = []

    def walk(aggs: dict, node: dict, keys: tuple, count: int) -> None:
        bucket = next(((n, s) for n, s in aggs.items() if _agg_type(s) in BUCKET_AGGS), None)
        if bucket is None:
            named = sorted((_agg_type(s), s[_agg_type(s)]["field"], n) for n, s in aggs.items()
                           if _agg_type(s) in METRIC_AGGS)
            metrics = tuple(node[n].get("value") for *_, n in named)
            found.append((*keys, count, *metrics))
            return
        name, spec = bucket
        buckets = node[name]["buckets"]
        items = buckets.items() if isinstance(buckets, dict) else ((b.get("key"), b) for b in buckets)
        for key, b in items:
            if b["doc_count"]:
                walk(spec.get("aggs", {}), b, (*keys, key if _agg_type(spec) != "range" else (b.get("from"), b.get("to"))),
                     b["doc_count"])

    walk(body.get("aggs", {}), response.get("aggregations", {}), (), response["hits"]["total"]["value"])
    return sorted(found, key=repr)
