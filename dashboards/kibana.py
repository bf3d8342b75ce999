"""Kibana saved objects generated from the panel definitions: data views, saved searches, Lens, dashboards.

Target: the Kibana pinned in docker-compose.yml (same version as the embedded Elasticsearch). The
objects are what Kibana's Saved Objects import (`POST /api/saved_objects/_import`) accepts:
- the space's advanced settings (`config`, id = the Kibana version) with `dateFormat:tz` = the panels'
  `TIME_ZONE`, because no visualisation can carry a time zone of its own (see `_advanced_settings`);
- one data view (`index-pattern`) per index kind, titled with the alias of the deployment prefix;
- a Lens visualisation (`lens`, form-based datasource, one layer) per chart panel, built from the
  panel's dsl aggregations: bucket aggregations become bucketed columns (date_histogram, terms,
  range, filters), metric aggregations become metric columns (sum, average, max, min,
  unique_count), the document count a count column. The panel's query itself travels unchanged as
  a Kibana custom filter (`query` = the Elasticsearch DSL), so it is written once; only a `filters`
  aggregation's queries are rewritten, into Lucene query strings, because Lens keeps those as
  strings, and Elasticsearch itself parses Lucene (`query_string`), so what Kibana sends can be run
  and checked without Kibana (KQL is parsed by Kibana alone);
- an aggregation-based data table (`visualization`) for a table panel Lens cannot express: a terms
  bucket with a `min_doc_count` (see `_agg_table`);
- a saved search (`search`) per list panel, with the same custom filter and the panel's row limit;
- one dashboard per entry of `panels.DASHBOARDS`, placing its panels by reference (see `_dashboard`).
A panel Kibana would compute differently (another time zone, shard size, bucket threshold) is an
error here, not a silently different chart: tests/dashboards/kibana_form.py reads each object back
into the search Kibana runs and compares it with the panel's dsl.
Ids are uuid5 of (prefix, type, name), so a re-import with overwrite replaces the same objects.
Each object carries `coreMigrationVersion` and a `typeMigrationVersion` that names the newest legacy
migration its attribute shape already matches; Kibana migrates it forward from there on import.
Kibana sources cited below are paths in elastic/kibana (main as read for this version).
"""

from __future__ import annotations

import json
import uuid

from adwatch import schema
from adwatch.engine import ELASTICSEARCH_VERSION
from dashboards.panels import (
    DASHBOARDS, TIME_FIELDS, TIME_ZONE, Panel, all_panels, bucket_chain, leaf_metrics,
)

KIBANA_VERSION = ELASTICSEARCH_VERSION  # docker-compose.yml pins Kibana to the engine's version
CORE_MIGRATION_VERSION = "8.8.0"
# The newest legacy migration of each type (its later changes are model versions, applied on import):
# config: src/core/packages/ui-settings/server-internal/src/saved_objects/migrations.ts ('8.9.0');
# visualization: src/platform/plugins/shared/visualizations/server/migrations/
# visualization_saved_object_migrations.ts ('8.5.0').
TYPE_MIGRATION_VERSIONS = {"config": "8.9.0", "index-pattern": "7.11.0", "search": "7.9.3", "lens": "8.9.0",
                           "visualization": "8.5.0", "dashboard": "8.9.0"}
_NAMESPACE = uuid.UUID("5b1d3a3e-6f0e-5c37-9a43-0a7d1a2c0b11")

_LENS_OPERATIONS = {"sum": "sum", "avg": "average", "max": "max", "min": "min", "cardinality": "unique_count"}
_LENS_CHARTS = {"bar": "lnsXY", "bar_stacked": "lnsXY", "line": "lnsXY", "donut": "lnsPie", "table": "lnsDatatable"}
_COUNT_LABELS = {"ads": "Ads", "clusters": "Clusters", "runs": "Runs"}
# Lens's terms column in accuracy mode asks each shard for max(1000, 1.5 * size + 10) terms and takes no
# other shard size (x-pack/platform/plugins/shared/lens/public/datasources/form_based/operations/
# definitions/terms/index.tsx, toEsAggsFn).
LENS_MIN_SHARD_SIZE = 1000


def lens_shard_size(size: int) -> int:
    """The shard_size Lens sends for a terms column of `size` in accuracy mode."""
    return max(LENS_MIN_SHARD_SIZE, int(size * 1.5 + 10))


def object_id(prefix: str, kind: str, name: str) -> str:
    """Deterministic saved-object id: the same prefix and name always give the same id."""
    return str(uuid.uuid5(_NAMESPACE, f"{prefix}:{kind}:{name}"))


def saved_objects(prefix: str = "adwatch") -> list[dict]:
    """Every saved object for the deployment `prefix`: settings, data views, one object per panel, dashboards."""
    panels = all_panels(prefix)
    objects = [_advanced_settings()] + [_data_view(prefix, kind) for kind in TIME_FIELDS]
    objects += [panel_object(prefix, p) for p in panels]
    objects += [_dashboard(prefix, key, [p for p in panels if p.dashboard == key]) for key in DASHBOARDS]
    return objects


def panel_object_type(panel: Panel) -> str:
    """The saved-object type that shows `panel`: a saved search, an aggregation-based table, or Lens."""
    if panel.chart == "list":
        return "search"
    return "visualization" if _needs_agg_based(panel) else "lens"


def panel_object(prefix: str, panel: Panel) -> dict:
    """The saved object showing `panel`; ValueError names a panel Kibana would compute differently."""
    kind = panel_object_type(panel)
    if kind == "search":
        return _saved_search(prefix, panel)
    return _agg_table(prefix, panel) if kind == "visualization" else _lens(prefix, panel)


def to_ndjson(objects: list[dict]) -> str:
    """One JSON object per line, keys sorted, so the same panels always give the same bytes."""
    return "".join(json.dumps(obj, sort_keys=True, ensure_ascii=False) + "\n" for obj in objects)


def _saved_object(kind: str, object_id_: str, attributes: dict, references: list[dict]) -> dict:
    return {"type": kind, "id": object_id_, "attributes": attributes, "references": references,
            "coreMigrationVersion": CORE_MIGRATION_VERSION, "typeMigrationVersion": TYPE_MIGRATION_VERSIONS[kind],
            "managed": False}


def _advanced_settings() -> dict:
    """The space's advanced settings with `dateFormat:tz` = TIME_ZONE, so Kibana's day buckets are ours.

    Neither Lens nor an aggregation-based visualisation stores a time zone: Lens's date_histogram
    passes one only for a rollup field's restriction (lens .../operations/definitions/date_histogram.tsx,
    toEsAggsFn), the agg-based one never serialises its `time_zone` param "to prevent time_zones being
    persisted into saved_objects" (src/platform/plugins/shared/data/common/search/aggs/buckets/
    date_histogram.ts), and visualisation migrations 6.7.2/7.0.1 strip old ones. Both then take
    `dateFormat:tz` (data/common/search/aggs/utils/infer_time_zone.ts; "Browser" by default = the
    analyst's own zone). `config` is importable (ui-settings saved_objects/ui_settings.ts:
    importableAndExportable) and keyed by the Kibana version. Importing it replaces that space's
    advanced settings object: settings changed by hand in that space return to their defaults.
    `buildNum` is required by the type's schema (model version 3); Kibana only records it.
    """
    return _saved_object("config", KIBANA_VERSION, {"buildNum": 0, "dateFormat:tz": TIME_ZONE}, [])


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
                "scale": "interval", "params": {"interval": _lens_interval(panel, params),
                                                "includeEmptyRows": _includes_empty_buckets(panel, params),
                                                "dropPartials": False}}
    if kind == "terms":
        if params.get("min_doc_count", 1) != 1:
            raise ValueError(f"panel {panel.id}: Lens has no min_doc_count for terms; use a table panel")
        _check_lens_shard_size(panel, params)
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
        filters = [{"label": label, "input": {"query": lucene(query), "language": "lucene"}}
                   for label, query in params["filters"].items()]
        return {**base, "dataType": "string", "operationType": "filters", "scale": "ordinal",
                "params": {"filters": filters}}
    raise ValueError(f"panel {panel.id}: no Lens column for a {kind} aggregation")


def _lens_interval(panel: Panel, params: dict) -> str:
    """Lens's interval for a dsl date_histogram ("1d" is sent back as calendar_interval 1d)."""
    if params.get("time_zone", "UTC") != TIME_ZONE:
        raise ValueError(f"panel {panel.id}: Lens buckets days in dateFormat:tz ({TIME_ZONE} in this export), "
                         f"not {params['time_zone']}")
    interval = params.get("calendar_interval") or params.get("fixed_interval")
    units = {"minute": "1m", "hour": "1h", "day": "1d", "week": "1w", "month": "1M", "quarter": "1q", "year": "1y"}
    return units.get(interval, interval)


def _includes_empty_buckets(panel: Panel, params: dict) -> bool:
    """Lens's includeEmptyRows: it sends min_doc_count 0 when on, 1 when off, and nothing else."""
    min_doc_count = params.get("min_doc_count", 0)  # Elasticsearch's default for date_histogram
    if min_doc_count not in (0, 1):
        raise ValueError(f"panel {panel.id}: Lens's date histogram has min_doc_count 0 or 1, not {min_doc_count}")
    return min_doc_count == 0


def _check_lens_shard_size(panel: Panel, params: dict) -> None:
    wanted, lens = params.get("shard_size"), lens_shard_size(params.get("size", 10))
    if wanted is not None and wanted != lens:
        raise ValueError(f"panel {panel.id}: Lens asks shards for {lens} terms, the panel for {wanted}")


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
        # The Lens item shape below version 2 (see `_lens`): one `splitAccessor`, which 9.4+ reads as
        # `splitAccessors: [it]` (lens common/content_management/v2/transforms/split_accessors/xy.ts).
        xy_layer["splitAccessor"] = buckets[1]
    on = {"x": True, "yLeft": True, "yRight": True}
    return {"legend": {"isVisible": True, "position": "right"}, "valueLabels": "hide", "fittingFunction": "None",
            "preferredSeriesType": panel.chart, "axisTitlesVisibilitySettings": on,
            "tickLabelsVisibilitySettings": on, "gridlinesVisibilitySettings": on, "layers": [xy_layer]}


def _lens(prefix: str, panel: Panel) -> dict:
    """A Lens visualisation in the unversioned Lens item shape (no `version` attribute).

    Kibana upgrades Lens attributes on read from their `version` (absent = 0) through every later step
    (lens common/content_management/upgrade.ts): v1 converts legend values and stringified colour
    mappings (neither written here) and adds `version: 1`; v2 replaces XY's `splitAccessor` with
    `splitAccessors` (elastic/kibana#244743, in Kibana 9.4); v3 converts legacy area fills. Writing
    the shape below v2 keeps one file importable into Kibana 8.x-9.3, which have no `splitAccessors`,
    and into 9.4+, which convert it; the test checks no XY layer carries the v2 attribute.
    """
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

def _search_source(prefix: str, panel: Panel) -> tuple[dict, list[dict]]:
    """(kibanaSavedObjectMeta, references) of a saved search or visualisation: data view and custom filter."""
    index_ref = "kibanaSavedObjectMeta.searchSourceJSON.index"
    filter_ref = "kibanaSavedObjectMeta.searchSourceJSON.filter[0].meta.index"
    data_view = _data_view_id(prefix, panel.kind)
    source = {"query": {"query": "", "language": "kuery"}, "filter": [], "indexRefName": index_ref}
    references = [{"type": "index-pattern", "id": data_view, "name": index_ref}]
    if panel.query:
        source["filter"].append(_custom_filter(panel, "indexRefName", filter_ref))
        references.append({"type": "index-pattern", "id": data_view, "name": filter_ref})
    return {"searchSourceJSON": json.dumps(source)}, references


def _saved_search(prefix: str, panel: Panel) -> dict:
    """A Discover session showing the panel's documents; `sampleSize` is its row limit (the search's size,
    1-10000 in saved_search/server/saved_objects/schema.ts; Discover's own default is 500)."""
    meta, references = _search_source(prefix, panel)
    sort = [[name, order] for spec in panel.body.get("sort", []) for name, order in spec.items()]
    return _saved_object("search", object_id(prefix, "search", panel.id), {
        "title": panel.title, "description": panel.description, "columns": list(panel.columns), "sort": sort,
        "sampleSize": panel.limit, "grid": {}, "hideChart": False, "isTextBasedQuery": False,
        "kibanaSavedObjectMeta": meta}, references)


# ------------------------------------------------------------------- aggregation-based data table

def _needs_agg_based(panel: Panel) -> bool:
    """Whether Lens cannot say what the panel asks: a terms bucket with min_doc_count (Lens's terms column
    sends none, lens .../definitions/terms/index.tsx toEsAggsFn)."""
    return any(kind == "terms" and params.get("min_doc_count", 1) != 1 for _, kind, params in bucket_chain(panel.aggs))


def _agg_table(prefix: str, panel: Panel) -> dict:
    """An aggregation-based Data table: terms buckets with their min_doc_count in the agg's JSON input.

    The JSON input is merged into the aggregation Kibana sends (src/platform/plugins/shared/data/common/
    search/aggs/param_types/json.ts); the Data table type is still shipped in 9.x
    (src/platform/plugins/private/vis_types/table). Only tables of terms and metrics are needed here.
    """
    if panel.chart != "table":
        raise ValueError(f"panel {panel.id}: only a table can be an aggregation-based visualisation here")
    # Kibana numbers a visualisation's aggregations "1", "2", ...; a terms order names the metric's number.
    ids = {"_count": "1"}
    aggs = [{"id": "1", "enabled": True, "type": "count", "schema": "metric",
             "params": {"customLabel": panel.labels.get("count", _COUNT_LABELS[panel.kind])}}]
    for name, spec in leaf_metrics(panel.aggs).items():
        (operation, params), = ((k, v) for k, v in spec.items() if k != "meta")
        ids[name] = str(len(aggs) + 1)
        aggs.append({"id": ids[name], "enabled": True, "type": operation, "schema": "metric",
                     "params": {"field": params["field"], "customLabel": panel.label(name)}})
    for name, kind, params in bucket_chain(panel.aggs):
        if kind != "terms":
            raise ValueError(f"panel {panel.id}: no aggregation-based table column for a {kind} aggregation")
        order_key, direction = next(iter(params.get("order", {"_count": "desc"}).items()))
        extra = {key: params[key] for key in ("min_doc_count",) if key in params}
        aggs.append({"id": str(len(aggs) + 1), "enabled": True, "type": "terms", "schema": "bucket", "params": {
            "field": params["field"], "orderBy": ids.get(order_key, order_key), "order": direction,
            "size": params.get("size", 10), "shardSize": params.get("shard_size"),
            "otherBucket": panel.other_bucket, "otherBucketLabel": "Other", "missingBucket": False,
            "missingBucketLabel": "Missing", "customLabel": panel.label(name),
            "json": json.dumps(extra) if extra else ""}})
    vis_state = {"title": panel.title, "type": "table", "aggs": aggs, "params": {
        "perPage": 20, "showPartialRows": False, "showMetricsAtAllLevels": False, "showTotal": False,
        "showToolbar": False, "totalFunc": "sum", "percentageCol": "", "autoFitRowToContent": False}}
    meta, references = _search_source(prefix, panel)
    return _saved_object("visualization", object_id(prefix, "visualization", panel.id), {
        "title": panel.title, "description": panel.description, "visState": json.dumps(vis_state),
        "uiStateJSON": "{}", "version": 1, "kibanaSavedObjectMeta": meta}, references)


# ---------------------------------------------------------------------------------- dashboards

def _dashboard(prefix: str, key: str, panels: list[Panel]) -> dict:
    """A dashboard placing its panels by reference in the form Kibana wrote up to 9.3.

    Each entry names `panelRefName: panel_<panelIndex>`, resolved against the reference
    `<panelIndex>:panel_<panelIndex>` (dashboard/server/content_management/v1/transforms/out/
    transform_panels_out.ts). Kibana now writes `<panelIndex>:savedObjectRef` with no panelRefName and
    rewrites the old name to that on read (transform_references_out.ts, "legacy saved object ref name
    shape"). Kept because every Kibana 8.x-9.x reads it, while the new form needs each embeddable's
    server-side transforms of the newer releases: one export imports into the analysts' Kibana
    whatever its 8.x/9.x version. Switch when the legacy read path is announced for removal.
    """
    title, description = DASHBOARDS[key]
    entries, references = [], []
    x = y = row_height = 0
    for panel in panels:
        wide = panel.chart == "list"
        width, height = (48, 15) if wide else (24, 13)
        if x + width > 48:
            x, y, row_height = 0, y + row_height, 0
        index = object_id(prefix, "panel", f"{key}:{panel.id}")
        kind = panel_object_type(panel)
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


# -------------------------------------------------------------------------------------- Lucene

def lucene(query: dict) -> str:
    """A filter-context DSL query as a Lucene query string (Lens `filters` columns): term, terms, range,
    exists, bool. Elasticsearch parses it itself (`query_string`), so the translation can be checked."""
    (kind, body), = query.items()
    if kind == "exists":
        # `_exists_` takes no field pattern (`_exists_:errors.*` matched nothing on the node, where
        # `exists: errors.*` did); an object exists when any field under it does.
        name = body["field"].removesuffix(".*")
        if "*" in name:
            raise ValueError(f"no Lucene translation for exists on the pattern {body['field']!r}")
        return f"_exists_:{_lucene_field(name)}"
    if kind == "term":
        (name, value), = body.items()
        return f"{_lucene_field(name)}:{_lucene_value(value['value'] if isinstance(value, dict) else value)}"
    if kind == "terms":
        (name, values), = body.items()
        return f"{_lucene_field(name)}:({' OR '.join(_lucene_value(v) for v in values)})"
    if kind == "range":
        (name, bounds), = body.items()
        if set(bounds) - {"gt", "gte", "lt", "lte"}:
            raise ValueError(f"no Lucene translation for range options {sorted(bounds)}")
        low = ("[" + _lucene_value(bounds["gte"])) if "gte" in bounds else \
            ("{" + _lucene_value(bounds["gt"])) if "gt" in bounds else "[*"
        high = (_lucene_value(bounds["lte"]) + "]") if "lte" in bounds else \
            (_lucene_value(bounds["lt"]) + "}") if "lt" in bounds else "*]"
        return f"{_lucene_field(name)}:{low} TO {high}"
    if kind == "bool":
        required = [q for occur in ("must", "filter") for q in _clauses(body, occur)]
        if body.get("should") and (required or "minimum_should_match" in body):
            raise ValueError("no Lucene translation for optional should clauses beside required ones")
        parts = [f"({lucene(q)})" for q in required]
        if body.get("should"):
            parts.append("(" + " OR ".join(f"({lucene(q)})" for q in _clauses(body, "should")) + ")")
        parts += [f"NOT ({lucene(q)})" for q in _clauses(body, "must_not")]
        return " AND ".join(parts)
    raise ValueError(f"no Lucene translation for a {kind!r} query")


def _clauses(body: dict, occur: str) -> list[dict]:
    clauses = body.get(occur, [])
    return clauses if isinstance(clauses, list) else [clauses]


_LUCENE_SPECIAL = set('+-=&|><!(){}[]^"~?*:\\/ ')


def _lucene_field(name: str) -> str:
    """A field name with Lucene's special characters escaped."""
    return "".join("\\" + c if c in _LUCENE_SPECIAL else c for c in name)


def _lucene_value(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
