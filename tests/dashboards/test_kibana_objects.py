"""`adwatch dashboards export`: Kibana saved objects that hang together and say what the panels' dsl says.

The agreement tests read every generated object back into the search Kibana would run
(kibana_form.py) and compare it with the panel's dsl: filters, buckets, limits, time zone. The
mutation cases prove the comparison fails when one attribute differs; the live cases run both
searches on the suite's enriched world and compare the rows.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from elasticsearch.dsl import Search

from dashboards.kibana import KIBANA_VERSION, lucene, object_id, panel_object, panel_object_type, saved_objects
from dashboards.panels import DASHBOARDS, TIME_ZONE, Panel, all_panels, panel
from kibana_form import disagreements, kibana_form, panel_form, request, rows

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> list[dict]:
    """The NDJSON the command writes (with no Elasticsearch configured: none is needed), parsed per line."""
    out = tmp_path_factory.mktemp("kibana") / "adwatch.ndjson"
    env = {key: value for key, value in os.environ.items() if not key.startswith("ADWATCH_")}
    done = subprocess.run([sys.executable, "-m", "adwatch.cli", "dashboards", "export", "--out", str(out),
                           "--prefix", "kbtest"], env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert not list(out.parent.glob(".*.tmp"))
    lines = out.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def by_key(objects: list[dict]) -> dict[tuple[str, str], dict]:
    return {(obj["type"], obj["id"]): obj for obj in objects}


def test_every_object_parses_with_a_unique_id_and_a_known_type(exported):
    assert len(by_key(exported)) == len(exported)
    assert len({obj["id"] for obj in exported}) == len(exported)
    types = {obj["type"] for obj in exported}
    assert types == {"config", "index-pattern", "search", "lens", "visualization", "dashboard"}
    for obj in exported:
        assert obj["type"] == "config" or obj["attributes"]["title"]  # settings are keyed by version instead
        assert obj["coreMigrationVersion"] and obj["typeMigrationVersion"]


def test_every_reference_points_to_an_object_in_the_file(exported):
    objects = by_key(exported)
    for obj in exported:
        for ref in obj["references"]:
            assert (ref["type"], ref["id"]) in objects, (obj["type"], obj["attributes"]["title"], ref)


def test_data_views_cover_the_three_aliases_of_the_prefix(exported):
    views = {obj["attributes"]["title"]: obj["attributes"]["timeFieldName"]
             for obj in exported if obj["type"] == "index-pattern"}
    assert views == {"kbtest-ads": "first_seen", "kbtest-clusters": "first_seen", "kbtest-runs": "started"}


def test_lens_layers_columns_and_filters_are_consistent(exported):
    for obj in (o for o in exported if o["type"] == "lens"):
        refs = {ref["name"] for ref in obj["references"]}
        state = obj["attributes"]["state"]
        for layer_id, layer in state["datasourceStates"]["formBased"]["layers"].items():
            assert f"indexpattern-datasource-layer-{layer_id}" in refs
            assert sorted(layer["columnOrder"]) == sorted(layer["columns"])
            for column in layer["columns"].values():
                order = column.get("params", {}).get("orderBy", {})
                if order.get("type") == "column":
                    assert order["columnId"] in layer["columns"]
            used = _accessors(state["visualization"])
            assert used and used <= set(layer["columns"]), obj["attributes"]["title"]
        for query_filter in state["filters"]:
            assert query_filter["meta"]["index"] in refs


def _accessors(visualization: dict) -> set[str]:
    if "columns" in visualization:  # datatable
        return {column["columnId"] for column in visualization["columns"]}
    found = set()
    for layer in visualization["layers"]:
        found.update(layer.get("accessors", []) + layer.get("primaryGroups", []) + layer.get("metrics", []))
        found.update(filter(None, [layer.get("xAccessor"), layer.get("splitAccessor")]))
    return found


def test_each_visualisation_carries_its_panels_dsl_query_unchanged(exported):
    objects = {(obj["type"], obj["attributes"].get("title")): obj for obj in exported}
    for panel in all_panels("kbtest"):
        kind = panel_object_type(panel)
        obj = objects[(kind, panel.title)]
        if kind in ("search", "visualization"):
            source = json.loads(obj["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])
            filters = source["filter"]
            refs = {ref["name"] for ref in obj["references"]}
            assert source["indexRefName"] in refs
            assert all(f["meta"]["indexRefName"] in refs for f in filters)
        else:
            filters = obj["attributes"]["state"]["filters"]
        assert [f["query"] for f in filters] == ([panel.query] if panel.query else [])


def test_dashboards_place_their_panels_by_reference(exported):
    dashboards = [obj for obj in exported if obj["type"] == "dashboard"]
    assert len(dashboards) == len(DASHBOARDS)
    titles = {obj["id"]: obj["attributes"].get("title") for obj in exported}
    for dashboard in dashboards:
        refs = {ref["name"]: ref for ref in dashboard["references"]}
        panels = json.loads(dashboard["attributes"]["panelsJSON"])
        assert panels
        for entry in panels:
            ref = refs[f"{entry['panelIndex']}:{entry['panelRefName']}"]
            assert ref["type"] == entry["type"] and entry["gridData"]["i"] == entry["panelIndex"]
            assert entry["version"] == KIBANA_VERSION
        expected = {p.title for p in all_panels("kbtest")
                    if DASHBOARDS[p.dashboard][0] in dashboard["attributes"]["title"]}
        assert {titles[refs[f"{e['panelIndex']}:{e['panelRefName']}"]["id"]] for e in panels} == expected


def test_cluster_detail_dashboard_has_a_cluster_control_on_the_ads_data_view(exported):
    detail = next(o for o in exported if o["type"] == "dashboard" and "Cluster detail" in o["attributes"]["title"])
    controls = json.loads(detail["attributes"]["controlGroupInput"]["panelsJSON"])
    (control_id, control), = controls.items()
    assert control["explicitInput"]["fieldName"] == "cluster_id"
    ref = next(r for r in detail["references"] if r["name"] == f"controlGroup_{control_id}:optionsListDataView")
    ads_view = next(o for o in exported if o["type"] == "index-pattern" and o["attributes"]["title"] == "kbtest-ads")
    assert ref["id"] == ads_view["id"]


def test_ids_are_stable_per_prefix_so_a_reimport_overwrites():
    first, again, other = saved_objects("kbtest"), saved_objects("kbtest"), saved_objects("other")
    assert [o["id"] for o in first] == [o["id"] for o in again]
    assert json.dumps(first, sort_keys=True) == json.dumps(again, sort_keys=True)
    # The advanced settings are the space's, one per Kibana version, whatever the deployment.
    assert not {o["id"] for o in first if o["type"] != "config"} & {o["id"] for o in other}


def test_objects_target_the_kibana_pinned_in_docker_compose():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert compose["services"]["kibana"]["image"] == f"kibana:{KIBANA_VERSION}"


def test_filters_columns_get_lucene_for_their_dsl():
    assert lucene({"exists": {"field": "cluster_id"}}) == "_exists_:cluster_id"
    assert lucene({"bool": {"must_not": [{"exists": {"field": "cluster_id"}}]}}) == "NOT (_exists_:cluster_id)"
    assert lucene({"exists": {"field": "errors.*"}}) == "_exists_:errors"  # Lucene's _exists_ takes no pattern
    assert lucene({"term": {"status": "failed"}}) == 'status:"failed"'
    assert lucene({"range": {"items.invalid": {"gt": 0}}}) == "items.invalid:{0 TO *]"
    assert lucene({"range": {"size": {"gte": 2, "lt": 5}}}) == "size:[2 TO 5}"
    assert lucene({"terms": {"site": ["a", 'b"c']}}) == 'site:("a" OR "b\\"c")'
    with pytest.raises(ValueError):
        lucene({"match": {"title": "x"}})


# ------------------------------------------------------------------ Kibana form against the dsl

PREFIX = "kbtest"


def _objects() -> list[dict]:
    return saved_objects(PREFIX)


def _object_of(objects: list[dict], p: Panel) -> dict:
    kind = panel_object_type(p)
    return next(o for o in objects if (o["type"], o["id"]) == (kind, object_id(PREFIX, kind, p.id)))


@pytest.mark.parametrize("panel_id", [p.id for p in all_panels(PREFIX)])
def test_each_panels_kibana_object_asks_for_what_its_dsl_asks(panel_id):
    objects = _objects()
    p = panel(panel_id, PREFIX)
    assert disagreements(panel_form(p), kibana_form(_object_of(objects, p), objects)) == []


def _lens_column(obj: dict, operation: str) -> dict:
    layer, = obj["attributes"]["state"]["datasourceStates"]["formBased"]["layers"].values()
    return next(c for c in layer["columns"].values() if c["operationType"] == operation)


def _vis_agg(obj: dict, kind: str, change) -> None:
    state = json.loads(obj["attributes"]["visState"])
    change(next(a for a in state["aggs"] if a["type"] == kind))
    obj["attributes"]["visState"] = json.dumps(state)


def _search_source(obj: dict, change) -> None:
    meta = obj["attributes"]["kibanaSavedObjectMeta"]
    source = json.loads(meta["searchSourceJSON"])
    change(source)
    meta["searchSourceJSON"] = json.dumps(source)


def _first_filter_query(source: dict) -> dict:
    return source["filter"][0]["query"]


MUTATIONS = {  # name: (panel, what to change in its object (or the settings), what the comparison must name)
    "day buckets in the browser's zone": ("ads-per-day-by-site", lambda obj, objects: objects.remove(
        next(o for o in objects if o["type"] == "config")), "buckets[0].time_zone"),
    "empty days included": ("new-clusters-per-day", lambda obj, objects: _lens_column(obj, "date_histogram")[
        "params"].update(includeEmptyRows=True), "buckets[0].min_doc_count"),
    "weekly buckets": ("runs-per-day", lambda obj, objects: _lens_column(obj, "date_histogram")[
        "params"].update(interval="1w"), "buckets[0].calendar_interval"),
    "top 10 instead of 50": ("cluster-cities", lambda obj, objects: _lens_column(obj, "terms")[
        "params"].update(size=10), "buckets[0].size"),
    "shards asked for fewer terms": ("largest-clusters", lambda obj, objects: _lens_column(obj, "terms")[
        "params"].update(accuracyMode=False), "buckets[0].shard_size"),
    "alphabetical instead of by size": ("largest-clusters", lambda obj, objects: _lens_column(obj, "terms")[
        "params"].update(orderBy={"type": "alphabetical"}), "buckets[0].order"),
    "other bucket dropped": ("ads-per-day-by-city", lambda obj, objects: _lens_column(obj, "terms")[
        "params"].update(otherBucket=False), "buckets[1].other"),
    "metric on another field": ("durations-by-site", lambda obj, objects: _lens_column(obj, "average").update(
        sourceField="pages"), "metrics"),
    "panel filter dropped": ("multi-city-clusters", lambda obj, objects: obj["attributes"]["state"].update(
        filters=[]), "filters"),
    "panel filter loosened": ("multi-city-clusters", lambda obj, objects: obj["attributes"]["state"]["filters"][0][
        "query"]["bool"]["filter"][0]["range"]["city_count"].update(gte=1), "filters[0].range.city_count.gte"),
    "filters column query changed": ("share-of-ads-in-clusters", lambda obj, objects: _lens_column(
        obj, "filters")["params"]["filters"][0]["input"].update(query="_exists_:city"), "buckets[0].filters"),
    "filters column in KQL": ("share-of-ads-in-clusters", lambda obj, objects: _lens_column(
        obj, "filters")["params"]["filters"][0]["input"].update(language="kuery"), "buckets[0].filters"),
    "size ranges shifted": ("cluster-size-distribution", lambda obj, objects: _lens_column(obj, "range")[
        "params"]["ranges"][0].update({"from": 1}), "buckets[0].ranges"),
    "reuse threshold lost": ("reused-identifiers", lambda obj, objects: _vis_agg(
        obj, "terms", lambda agg: agg["params"].update(json="")), "buckets[0].min_doc_count"),
    "row limit lost": ("clustered-ads", lambda obj, objects: obj["attributes"].pop("sampleSize"), "size"),
    "list filter negated": ("cluster-ads", lambda obj, objects: _search_source(
        obj, lambda source: source["filter"][0]["meta"].update(negate=True)), "filters"),
    "list sorted the other way": ("run-list", lambda obj, objects: obj["attributes"].update(
        sort=[["started", "asc"]]), "sort"),
}


@pytest.mark.parametrize("name", MUTATIONS)
def test_the_comparison_names_an_attribute_where_kibana_and_the_dsl_disagree(name):
    panel_id, mutate, path = MUTATIONS[name]
    objects = copy.deepcopy(_objects())
    p = panel(panel_id, PREFIX)
    obj = _object_of(objects, p)
    mutate(obj, objects)
    found = disagreements(panel_form(p), kibana_form(obj, objects))
    assert any(line.startswith(path) for line in found), found


def test_the_export_sets_kibanas_time_zone_to_the_panels_day_buckets(exported):
    (settings,) = [o for o in exported if o["type"] == "config"]
    assert settings["id"] == KIBANA_VERSION and settings["attributes"]["dateFormat:tz"] == TIME_ZONE
    assert isinstance(settings["attributes"]["buildNum"], int)


def test_lens_objects_stay_below_the_item_version_that_renames_split_accessor(exported):
    lens = [o for o in exported if o["type"] == "lens"]
    assert all(o["attributes"].get("version", 0) < 2 for o in lens)
    layers = [layer for o in lens if o["attributes"]["visualizationType"] == "lnsXY"
              for layer in o["attributes"]["state"]["visualization"]["layers"]]
    assert any("splitAccessor" in layer for layer in layers)
    assert not any("splitAccessors" in layer for layer in layers)


def test_saved_searches_keep_their_panels_row_limits(exported):
    searches = {o["attributes"]["title"]: o["attributes"] for o in exported if o["type"] == "search"}
    for p in (p for p in all_panels("kbtest") if p.chart == "list"):
        assert searches[p.title]["sampleSize"] == p.limit


def _chart(kind: str, **params) -> Panel:
    s = Search(index="kbtest-ads").extra(size=0)
    s.aggs.bucket("b", kind, **params)
    return Panel("p", "P", "ads", s, "bar", "market")


@pytest.mark.parametrize("params", [
    {"type": "date_histogram", "field": "first_seen", "calendar_interval": "1d", "time_zone": "Europe/Paris"},
    {"type": "date_histogram", "field": "first_seen", "calendar_interval": "1d", "min_doc_count": 3},
    {"type": "terms", "field": "site", "size": 10, "shard_size": 300},
    {"type": "terms", "field": "site", "size": 10, "min_doc_count": 2},  # only a table can carry it
])
def test_a_panel_kibana_would_compute_differently_is_refused(params):
    kind = params.pop("type")
    with pytest.raises(ValueError, match="panel p"):
        panel_object("kbtest", _chart(kind, **params))


# ------------------------------------------------------------ both forms on the real node

def _hits_or_rows(client, body: dict, index: str) -> list:
    response = client.search(index=index, body=body).body
    if "aggs" not in body and body.get("size"):
        return [hit["_id"] for hit in response["hits"]["hits"]]
    return rows(body, response)


@pytest.mark.parametrize("panel_id", [p.id for p in all_panels(PREFIX)])
def test_kibanas_search_returns_the_panels_rows_on_the_enriched_world(world_store, panel_id):
    prefix = world_store.names.prefix
    objects = saved_objects(prefix)
    p = panel(panel_id, prefix)
    kind = panel_object_type(p)
    obj = next(o for o in objects if (o["type"], o["id"]) == (kind, object_id(prefix, kind, p.id)))
    form = kibana_form(obj, objects)
    index = form["index"]
    assert _hits_or_rows(world_store.client, request(form), index) == _hits_or_rows(world_store.client, p.body, index)


def test_a_time_zone_other_than_the_panels_moves_ads_to_other_days(world_store):
    prefix = world_store.names.prefix
    objects = saved_objects(prefix)
    p = panel("ads-per-day-by-site", prefix)
    next(o for o in objects if o["type"] == "config")["attributes"]["dateFormat:tz"] = "Pacific/Kiritimati"
    form = kibana_form(next(o for o in objects if o["id"] == object_id(prefix, "lens", p.id)), objects)
    client, index = world_store.client, form["index"]
    assert _hits_or_rows(client, request(form), index) != _hits_or_rows(client, p.body, index)


def test_kibanas_run_problem_filters_select_the_runs_the_dsl_does(runs_store):
    prefix = runs_store.names.prefix
    objects = saved_objects(prefix)
    p = panel("run-problems-by-site", prefix)
    form = kibana_form(next(o for o in objects if o["id"] == object_id(prefix, "lens", p.id)), objects)
    dsl_rows = _hits_or_rows(runs_store.client, p.body, runs_store.runs)
    assert len(dsl_rows) == 6  # both sites: failed, interrupted, error counters, invalid items where they occur
    assert _hits_or_rows(runs_store.client, request(form), runs_store.runs) == dsl_rows
