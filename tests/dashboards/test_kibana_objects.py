"""`adwatch dashboards export`: Kibana saved objects that hang together and carry the panels' own queries."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dashboards.kibana import KIBANA_VERSION, kql, saved_objects
from dashboards.panels import DASHBOARDS, all_panels

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
    assert types == {"index-pattern", "search", "lens", "dashboard"}
    for obj in exported:
        assert obj["attributes"]["title"]
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
    objects = {(obj["type"], obj["attributes"]["title"]): obj for obj in exported}
    for panel in all_panels("kbtest"):
        if panel.chart == "list":
            obj = objects[("search", panel.title)]
            source = json.loads(obj["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])
            filters = source["filter"]
            refs = {ref["name"] for ref in obj["references"]}
            assert source["indexRefName"] in refs
            assert all(f["meta"]["indexRefName"] in refs for f in filters)
            assert obj["attributes"]["columns"] == list(panel.columns)
        else:
            filters = objects[("lens", panel.title)]["attributes"]["state"]["filters"]
        assert [f["query"] for f in filters] == ([panel.query] if panel.query else [])


def test_dashboards_place_their_panels_by_reference(exported):
    dashboards = [obj for obj in exported if obj["type"] == "dashboard"]
    assert len(dashboards) == len(DASHBOARDS)
    titles = {obj["id"]: obj["attributes"]["title"] for obj in exported}
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
    assert not {o["id"] for o in first} & {o["id"] for o in other}


def test_objects_target_the_kibana_pinned_in_docker_compose():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert compose["services"]["kibana"]["image"] == f"kibana:{KIBANA_VERSION}"


def test_filters_columns_get_kql_equivalent_to_their_dsl():
    assert kql({"exists": {"field": "cluster_id"}}) == "cluster_id:*"
    assert kql({"bool": {"must_not": [{"exists": {"field": "cluster_id"}}]}}) == "not (cluster_id:*)"
    assert kql({"term": {"status": "failed"}}) == 'status:"failed"'
    assert kql({"range": {"items.invalid": {"gt": 0}}}) == "items.invalid > 0"
    assert kql({"terms": {"site": ["a", 'b"c']}}) == 'site:("a" or "b\\"c")'
    with pytest.raises(ValueError):
        kql({"match": {"title": "x"}})
