"""Kibana saved objects generated from the panel definitions: data views, saved searches, Lens, dashboards.

Target: the Kibana pinned in docker-compose.yml (same version as the embedded Elasticsearch). The
objects are what Kibana's Saved Objects import (`POST /api/saved_objects/_import`) accepts:
- one data view (`index-pattern`) per index kind, titled with the alias of the deployment prefix;
- a Lens visualisation (`lens`, form-based datasource, one layer) per chart panel, built from the
  panel's dsl aggregations: bucket aggregations become bucketed columns (date_histogram, terms,
  range, filters), metric aggregations become metric columns (sum, average, max, min,
  unique_count), the document count a count column. The panel's query itself travels unchanged as
  a Kibana custom filter (`query` = the Elasticsearch DSL), so it is written once; only a `filters`
  aggregation's queries are rewritten, into KQL, because Lens keeps those as query strings;
- a saved search (`search`) per list panel, with the same custom filter;
- one dashboard per entry of `panels.DASHBOARDS`, placing its panels by reference
  (`panelRefName` -> reference `<panelIndex>:panel_<panelIndex>`, as Kibana 9 stores them).
Ids are uuid5 of (prefix, type, name), so a re-import with overwrite replaces the same objects.
Each object carries `coreMigrationVersion` and a `typeMigrationVersion` that names the newest legacy
migration its attribute shape already matches; Kibana migrates it forward from there on import.
"""

from __future__ import annotations

import json
import uuid

from adwatch import schema
from adwatch.engine import ELASTICSEARCH_VERSION
from dashboards.panels import DASHBOARDS, TIME_FIELDS, Panel, all_panels, bucket_chain, leaf_metrics

KIBANA_VERSION = ELASTICSEARCH_VERSION  # docker-compose.yml pins Kibana to the engine's version
CORE_MIGRATION_VERSION = "8.8.0"
TYPE_MIGRATION_VERSIONS = {"index-pattern": "7.11.0", "search": "7.9.3", "lens": "8.9.0", "dashboard": "8.9.0"}
_NAMESPACE = uuid.UUID("5b1d3a3e-6f0e-5c37-9a43-0a7d1a2c0b11")

_LENS_OPERATIONS = {"sum": "sum", "avg": "average", "max": "max", "min": "min", "cardinality": "unique_count"}
_LENS_CHARTS = {"bar": "lnsXY", "bar_stacked": "lnsXY", "line": "lnsXY", "donut": "lnsPie", "table": "lnsDatatable"}
_COUNT_LABELS = {"ads": "Ads", "clusters": "Clusters", "runs": "Runs"}


def object_id(prefix: str, kind: str, name: str) -> str:
    """Deterministic saved-object id: the same prefix and name always give the same id."""
    return str(uuid.uuid5(_NAMESPACE, f"{prefix}:{kind}:{name}"))


def saved_objects(prefix: str = "adwatch") -> list[dict]:
    """Every saved object for the deployment `prefix`: data views, searches and Lens, then dashboards."""
    panels = all_panels(prefix)
    objects = [_data_view(prefix, kind) for kind in TIME_FIELDS]
    objects += [_saved_search(prefix, p) if p.chart == "list" else _lens(prefix, p) for p in panels]
    objects += [_dashboard(prefix, key, [p for p in panels if p.dashboard == key]) for key in DASHBOARDS]
    return objects


def to_ndjson(objects: list[dict]) -> str:
    """One JSON object per line, keys sorted, so the same panels always give the same bytes."""
    return "".join(json.dumps(obj, sort_keys=True, ensure_ascii=False) + "\n" for obj in objects)


def _saved_object(kind: str, object_id_: str, attributes: dict, references: list[dict]) -> dict:
    return {"type": kind, "id": object_id_, "attributes": attributes, "references": references,
            "coreMigrationVersion": CORE_MIGRATION_VERSION, "typeMigrationVersion": TYPE_MIGRATION_VERSIONS[kind],
            "managed": False}


def _data_view_id(prefix: str, kind: str) -> str:
    return object_id(prefix, "index-pattern", kind)


def _data_view(prefix: str, kind: str) -> dict:
    return _saved_object("index-pattern", _data_view_id(prefix, kind), {
        "title": f"{prefix}-{kind}", "name": f"AdWatch {kind} ({prefix})", "timeFieldName": TIME_FIELDS[kind],
        "fields": "[]", "fieldFormatMap": "{}", "runtimeFieldMap": "{}", "sourceFilters": "[]", "typeMeta": "{}",
        "allowNoIndex": True,
    }, [])


def _custom_filter(panel: Panel, ref_key: str, ref_name: str) -> dict:
    """The panel's DSL query as a Kibana custom filter; `meta[ref_key]` names the data view's reference
    (Lens keeps it in `index`, a saved search in `indexRefName`)."""
    return {"meta": {"type": "custom", "key": "query", "value": json.dumps(panel.query), "alias": panel.title,
                     "disabled": False, "negate": False, ref_key: ref_name},
            "query": panel.query, "$state": {"store": "appState"}}


# ------------------------------------------------------------------------------------------ Lens

def _column_id(panel: Panel, name: str) -> str:
    """Column and layer ids only need to be unique inside one visualisation; stable ones keep exports stable."""
    return str(uuid.uuid5(_NAMESPACE, f"{panel.id}:{name}"))


def lens_layer(panel: Panel) -> tuple[dict, list[str], list[str]]:
    """(columns by id, bucket column ids outermost first, metric column ids) for a chart panel."""
    columns: dict[str, dict] = {}
    buckets: list[str] = []
    metrics = leaf_metrics(panel.aggs)
    chain = list(bucket_chain(panel.aggs))
    count_needed = not metrics or any(kind == "terms" and "_count" in params.get("order", {"_count": "desc"})
                                      for _, kind, params in chain)
    metric_ids = [_column_id(panel, name) for name in metrics] + ([_column_id(panel, "count")] if count_needed else [])
    for name, kind, params in chain:
        column_id = _column_id(panel, name)
        columns[column_id] = _bucket_column(panel, name, kind, params, metric_ids[-1] if count_needed else None)
        buckets.append(column_id)
    for name, spec in metrics.items():
        operation, params = next(iter(spec.items()))
        date = _mapped_type(panel.kind, params["field"]) == "date"
        columns[_column_id(panel, name)] = {
            "label": panel.label(name), "customLabel": True, "dataType": "date" if date else "number",
            "operationType": _LENS_OPERATIONS[operation], "sourceField": params["field"], "isBucketed": False,
            "scale": "ratio", "params": {"emptyAsNull": True}}
    if count_needed:
        columns[_column_id(panel, "count")] = {
            "label": panel.labels.get("count", _COUNT_LABELS[panel.kind]), "customLabel": True, "dataType": "number",
            "operationType": "count", "sourceField": "___records___", "isBucketed": False, "scale": "ratio",
            "params": {"emptyAsNull": True}}
    return columns, buckets, metric_ids


def _mapped_type(kind: str, field: str) -> str | None:
    """The type adwatch.schema maps a (dotted) field to, or None."""
    properties = schema.mapping(kind)["properties"]
    *parents, leaf = field.split(".")
    for parent in parents:
        properties = properties.get(parent, {}).get("properties", {})
    return properties.get(leaf, {}).get("type")


def _bucket_column(panel: Panel, name: str, kind: str, params: dict, count_id: str | None) -> dict:
    base = {"label": panel.label(name), "customLabel": True, "isBucketed": True}
    if kind == "date_histogram":
        return {**base, "dataType": "date", "operationType": "date_histogram", "sourceField": params["field"],
                "scale": "interval", "params": {"interval": "1d", "includeEmptyRows": True, "dropPartials": False}}
    if kind == "terms":
        order_key, direction = next(iter(params.get("order", {"_count": "desc"}).items()))
        if order_key == "_key":
            order_by = {"type": "alphabetical", "fallback": False}
        else:
            column = count_id if order_key == "_count" else _column_id(panel, order_key)
            order_by = {"type": "column", "columnId": column}
        return {**base, "dataType": "string", "operationType": "terms", "sourceField": params["field"],
                "scale": "ordinal", "params": {"size": params.get("size", 10), "orderBy": order_by,
                                               "orderDirection": direction, "otherBucket": panel.other_bucket,
                                               "missingBucket": False, "parentFormat": {"id": "terms"},
                                               "accuracyMode": "shard_size" in params}}
    if kind == "range":
        ranges = [{"from": r.get("from"), "to": r.get("to"), "label": r.get("key", "")} for r in params["ranges"]]
        return {**base, "dataType": "string", "operationType": "range", "sourceField": params["field"],
                "scale": "ordinal", "params": {"type": "range", "ranges": ranges, "maxBars": "auto"}}
    if kind == "filters":
        filters = [{"label": label, "input": {"query": kql(query), "language": "kuery"}}
                   for label, query in params["filters"].items()]
        return {**base, "dataType": "string", "operationType": "filters", "scale": "ordinal",
                "params": {"filters": filters}}
    raise ValueError(f"panel {panel.id}: no Lens column for a {kind} aggregation")


def _visualization(panel: Panel, layer_id: str, buckets: list[str], metrics: list[str]) -> dict:
    layer = {"layerId": layer_id, "layerType": "data"}
    if panel.chart == "table":
        return {**layer, "columns": [{"columnId": column} for column in buckets + metrics]}
    if panel.chart == "donut":
        return {"shape": "donut", "layers": [{**layer, "primaryGroups": buckets, "metrics": metrics[:1],
                                              "numberDisplay": "percent", "categoryDisplay": "default",
                                              "legendDisplay": "default", "nestedLegend": False}]}
    xy_layer = {**layer, "seriesType": panel.chart, "xAccessor": buckets[0], "accessors": metrics}
    if len(buckets) > 1:
        xy_layer["splitAccessor"] = buckets[1]
    on = {"x": True, "yLeft": True, "yRight": True}
    return {"legend": {"isVisible": True, "position": "right"}, "valueLabels": "hide", "fittingFunction": "None",
            "preferredSeriesType": panel.chart, "axisTitlesVisibilitySettings": on,
            "tickLabelsVisibilitySettings": on, "gridlinesVisibilitySettings": on, "layers": [xy_layer]}


def _lens(prefix: str, panel: Panel) -> dict:
    data_view = _data_view_id(prefix, panel.kind)
    layer_id = _column_id(panel, "layer")
    columns, buckets, metrics = lens_layer(panel)
    references = [{"type": "index-pattern", "id": data_view, "name": f"indexpattern-datasource-layer-{layer_id}"}]
    filters = []
    if panel.query:
        filters.append(_custom_filter(panel, "index", "filter-index-pattern-0"))
        references.append({"type": "index-pattern", "id": data_view, "name": "filter-index-pattern-0"})
    state = {
        "datasourceStates": {"formBased": {"layers": {layer_id: {
            "columns": columns, "columnOrder": buckets + metrics, "incompleteColumns": {},
            "sampling": 1}}}},
        "visualization": _visualization(panel, layer_id, buckets, metrics),
        "query": {"query": "", "language": "kuery"}, "filters": filters,
        "internalReferences": [], "adHocDataViews": {},
    }
    return _saved_object("lens", object_id(prefix, "lens", panel.id), {
        "title": panel.title, "description": panel.description, "visualizationType": _LENS_CHARTS[panel.chart],
        "state": state}, references)


# ------------------------------------------------------------------------------- saved searches

def _saved_search(prefix: str, panel: Panel) -> dict:
    index_ref = "kibanaSavedObjectMeta.searchSourceJSON.index"
    filter_ref = "kibanaSavedObjectMeta.searchSourceJSON.filter[0].meta.index"
    data_view = _data_view_id(prefix, panel.kind)
    source = {"query": {"query": "", "language": "kuery"}, "filter": [], "indexRefName": index_ref}
    references = [{"type": "index-pattern", "id": data_view, "name": index_ref}]
    if panel.query:
        source["filter"].append(_custom_filter(panel, "indexRefName", filter_ref))
        references.append({"type": "index-pattern", "id": data_view, "name": filter_ref})
    sort = [[name, order] for spec in panel.body.get("sort", []) for name, order in spec.items()]
    return _saved_object("search", object_id(prefix, "search", panel.id), {
        "title": panel.title, "description": panel.description, "columns": list(panel.columns), "sort": sort,
        "grid": {}, "hideChart": False, "isTextBasedQuery": False,
        "kibanaSavedObjectMeta": {"searchSourceJSON": json.dumps(source)}}, references)


# ---------------------------------------------------------------------------------- dashboards

def _dashboard(prefix: str, key: str, panels: list[Panel]) -> dict:
    title, description = DASHBOARDS[key]
    entries, references = [], []
    x = y = row_height = 0
    for panel in panels:
        wide = panel.chart == "list"
        width, height = (48, 15) if wide else (24, 13)
        if x + width > 48:
            x, y, row_height = 0, y + row_height, 0
        index = object_id(prefix, "panel", f"{key}:{panel.id}")
        kind = "search" if wide else "lens"
        entries.append({"type": kind, "panelIndex": index, "panelRefName": f"panel_{index}",
                        "gridData": {"x": x, "y": y, "w": width, "h": height, "i": index},
                        "embeddableConfig": {"enhancements": {}}, "version": KIBANA_VERSION})
        references.append({"type": kind, "id": object_id(prefix, kind, panel.id), "name": f"{index}:panel_{index}"})
        x, row_height = x + width, max(row_height, height)
    attributes = {
        "title": f"AdWatch: {title}" + ("" if prefix == "adwatch" else f" [{prefix}]"), "description": description,
        "panelsJSON": json.dumps(entries), "timeRestore": True, "timeFrom": "now-1y", "timeTo": "now",
        "refreshInterval": {"pause": True, "value": 60000},
        "optionsJSON": json.dumps({"useMargins": True, "syncColors": False, "syncCursor": True,
                                   "syncTooltips": False, "hidePanelTitles": False}),
        "kibanaSavedObjectMeta": {"searchSourceJSON": json.dumps({"query": {"query": "", "language": "kuery"},
                                                                  "filter": []})},
    }
    if key == "cluster-detail":
        control = object_id(prefix, "control", "cluster_id")
        attributes["controlGroupInput"] = {
            "controlStyle": "oneLine", "chainingSystem": "HIERARCHICAL",
            "ignoreParentSettingsJSON": json.dumps({"ignoreFilters": False, "ignoreQuery": False,
                                                    "ignoreTimerange": False, "ignoreValidations": False}),
            "panelsJSON": json.dumps({control: {"type": "optionsListControl", "order": 0, "grow": True,
                                                "width": "medium", "explicitInput": {
                                                    "id": control, "fieldName": "cluster_id", "title": "Cluster",
                                                    "singleSelect": True, "selectedOptions": [],
                                                    "searchTechnique": "prefix", "enhancements": {},
                                                    "sort": {"by": "_count", "direction": "desc"}}}})}
        references.append({"type": "index-pattern", "id": _data_view_id(prefix, "ads"),
                           "name": f"controlGroup_{control}:optionsListDataView"})
    return _saved_object("dashboard", object_id(prefix, "dashboard", key), attributes, references)


# ----------------------------------------------------------------------------------------- KQL

def kql(query: dict) -> str:
    """A filter-context DSL query as KQL (for Lens `filters` columns): term, terms, range, exists, bool."""
    (kind, body), = query.items()
    if kind == "match_all":
        return ""
    if kind == "exists":
        return f"{body['field']}:*"
    if kind == "term":
        (name, value), = body.items()
        return f"{name}:{_kql_value(value['value'] if isinstance(value, dict) else value)}"
    if kind == "terms":
        (name, values), = body.items()
        return f"{name}:({' or '.join(_kql_value(v) for v in values)})"
    if kind == "range":
        (name, bounds), = body.items()
        ops = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
        return " and ".join(f"{name} {ops[op]} {_kql_value(value)}" for op, value in bounds.items() if op in ops)
    if kind == "bool":
        parts = [f"({kql(q)})" for occur in ("must", "filter") for q in body.get(occur, [])]
        if body.get("should"):
            parts.append("(" + " or ".join(f"({kql(q)})" for q in body["should"]) + ")")
        parts += [f"not ({kql(q)})" for q in body.get("must_not", [])]
        return " and ".join(parts)
    raise ValueError(f"no KQL translation for a {kind!r} query")


def _kql_value(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
