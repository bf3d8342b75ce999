"""Panel definitions against the real node: fields exist with fitting types, and the numbers are right.

Each panel's own dsl search runs on the enriched demo world; the expected figures come from the
world's files or from plain scans of the documents, never from an aggregation.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest

from dashboards.panels import MIN_CITIES, OTHER, SIZE_RANGES, all_panels, crawl_panels, panel

from crawl_runs import RUNS

FAMILIES = {"keyword": {"keyword"}, "date": {"date", "date_nanos"},
            "number": {"integer", "long", "short", "byte", "float", "double", "half_float", "scaled_float"}}


def _family_fits(need: str, mapped: str) -> bool:
    if need == "any":
        return True
    return any(mapped in FAMILIES[part] for part in need.split("|"))


def _live_fields(client, alias: str) -> tuple[dict[str, str], list[dict]]:
    """Every mapped field (dotted name -> type) across the indices behind `alias`, and the dynamic templates."""
    fields, templates = {}, []
    for index in client.indices.get_mapping(index=alias).body.values():
        mapping = index["mappings"]
        templates += [t for entry in mapping.get("dynamic_templates", []) for t in entry.values()]
        stack = [("", mapping["properties"])]
        while stack:
            parent, properties = stack.pop()
            for name, spec in properties.items():
                dotted = parent + name
                fields[dotted] = spec.get("type", "object")
                if "properties" in spec:
                    stack.append((dotted + ".", spec["properties"]))
    return fields, templates


@pytest.mark.parametrize("kind", ["ads", "clusters", "runs"])
def test_every_field_a_panel_uses_is_mapped_with_a_fitting_type(world_store, kind):
    live, templates = _live_fields(world_store.client, world_store.names.alias(kind))
    panels = [p for p in all_panels(world_store.names.prefix) if p.kind == kind]
    assert panels
    for p in panels:
        for name, need in p.fields.items():
            if "*" in name:  # open-ended counters: the index must map whatever appears there as a number
                template = next(t for t in templates if t.get("path_match") == name)
                assert _family_fits(need, template["mapping"]["type"]), (p.id, name)
                continue
            assert name in live, f"panel {p.id} uses {name}, which {kind} does not map"
            assert _family_fits(need, live[name]), f"panel {p.id} needs {name} as {need}, mapped {live[name]}"


def _rows(world_store, panel_id: str, **kwargs) -> list[dict]:
    return panel(panel_id, world_store.names.prefix, kwargs.pop("cluster_id", None)).stats(world_store.client, **kwargs)


@pytest.mark.parametrize("dim", ["site", "category"])
def test_ads_per_day_by_site_and_category_match_the_world(world_store, world_records, dim):
    rows = _rows(world_store, f"ads-per-day-by-{dim}")
    assert Counter({(r["day"], r[dim]): r["count"] for r in rows}) == \
        Counter((ad["day"], ad[dim]) for ad in world_records)


def test_ads_per_day_by_city_names_the_top_cities_and_counts_the_rest(world_store, world_records):
    rows = _rows(world_store, "ads-per-day-by-city")
    truth = Counter((ad["day"], ad["city"]) for ad in world_records)
    per_day = Counter(ad["day"] for ad in world_records)
    shown = Counter()
    for row in rows:
        shown[row["day"]] += row["count"]
        if row["city"] != OTHER:
            assert row["count"] == truth[(row["day"], row["city"])]
    assert shown == per_day


def test_ads_in_clusters_per_day_and_share_match_the_clustered_ads(world_store, world_records, indexed_ads):
    clustered = Counter(ad["first_seen"][:10] for ad in indexed_ads.values() if ad.get("cluster_id"))
    all_days = Counter(ad["day"] for ad in world_records)
    rows = _rows(world_store, "ads-per-day-in-clusters")
    assert Counter({r["day"]: r["count"] for r in rows if r["cluster"] == "in_cluster"}) == clustered
    assert Counter({r["day"]: r["count"] for r in rows if r["cluster"] == "not_in_cluster"}) == all_days - clustered
    share = {r["cluster"]: r["count"] for r in _rows(world_store, "share-of-ads-in-clusters")}
    in_clusters = sum(clustered.values())
    assert share == {"in_cluster": in_clusters, "not_in_cluster": len(world_records) - in_clusters}


def test_new_clusters_per_day_counts_each_cluster_on_its_earliest_ads_day(world_store, indexed_ads):
    earliest: dict[str, str] = {}
    for ad in indexed_ads.values():
        if ad.get("cluster_id"):
            earliest[ad["cluster_id"]] = min(earliest.get(ad["cluster_id"], "9999"), ad["first_seen"][:10])
    rows = _rows(world_store, "new-clusters-per-day")
    assert {r["day"]: r["count"] for r in rows} == Counter(earliest.values())


def test_cluster_sizes_match_the_clusters_and_their_ads(world_store, indexed_ads, indexed_clusters):
    sizes = [c["size"] for c in indexed_clusters.values()]
    members = Counter(ad["cluster_id"] for ad in indexed_ads.values() if ad.get("cluster_id"))
    assert members == {cid: c["size"] for cid, c in indexed_clusters.items()}
    expected = Counter(next(r["key"] for r in SIZE_RANGES if r["from"] <= s < r.get("to", float("inf"))) for s in sizes)
    assert {r["size"]: r["count"] for r in _rows(world_store, "cluster-size-distribution")} == expected
    largest = _rows(world_store, "largest-clusters")
    assert [r["size"] for r in largest] == sorted(sizes, reverse=True)[:20]
    for row in largest:
        cluster = indexed_clusters[row["cluster"]]
        assert (row["size"], row["sites"], row["cities"]) == \
            (cluster["size"], len(cluster["sites"]), len(cluster["cities"]))


def test_multi_city_clusters_are_the_clusters_with_most_cities(world_store, indexed_clusters):
    assert all(c["city_count"] == len(c["cities"]) for c in indexed_clusters.values())
    rows = _rows(world_store, "multi-city-clusters")
    cities = sorted((len(c["cities"]) for c in indexed_clusters.values()), reverse=True)
    assert rows and [r["cities"] for r in rows] == [n for n in cities if n >= MIN_CITIES][:20]
    for row in rows:
        assert len(indexed_clusters[row["cluster"]]["cities"]) == row["cities"] >= MIN_CITIES


def test_identifier_reuse_matches_the_documents(world_store, indexed_ads, indexed_clusters):
    kinds = Counter(kind for c in indexed_clusters.values() for kind in {i["kind"] for i in c.get("identifiers", [])})
    assert {r["kind"]: r["count"] for r in _rows(world_store, "identifier-kinds")} == kinds
    ads_with = Counter(i for ad in indexed_ads.values() for i in set(ad.get("identifiers", [])))
    rows = _rows(world_store, "reused-identifiers")
    assert sorted((r["count"] for r in rows), reverse=True) == sorted((n for n in ads_with.values() if n >= 2),
                                                                       reverse=True)[:20]
    for row in rows:
        holders = [ad for ad in indexed_ads.values() if row["identifier"] in ad.get("identifiers", [])]
        assert row["count"] == len(holders)
        assert row["clusters"] == len({ad["cluster_id"] for ad in holders if ad.get("cluster_id")})
        assert row["sites"] == len({ad["site"] for ad in holders})


def test_fastest_growing_clusters_count_new_ads_in_the_window(world_store, world_records, indexed_ads):
    last = max(ad["day"] for ad in world_records)
    since = (date.fromisoformat(last) - timedelta(days=6)).isoformat()
    rows = _rows(world_store, "fastest-growing-clusters", since=since)
    recent = Counter(ad["cluster_id"] for ad in indexed_ads.values()
                     if ad.get("cluster_id") and ad["first_seen"][:10] >= since)
    assert rows and [r["count"] for r in rows] == sorted(recent.values(), reverse=True)[:20]
    for row in rows:
        assert row["count"] == recent[row["cluster"]]


def test_cluster_detail_panels_describe_the_chosen_cluster(world_store, world_records, indexed_ads, indexed_clusters):
    cluster_id = max(indexed_clusters, key=lambda cid: (indexed_clusters[cid]["size"], cid))
    members = {doc_id for doc_id, ad in indexed_ads.items() if ad.get("cluster_id") == cluster_id}
    records = [ad for ad in world_records if ad["doc_id"] in members]
    assert len(records) == indexed_clusters[cluster_id]["size"]
    rows = _rows(world_store, "cluster-timeline", cluster_id=cluster_id)
    assert Counter({(r["day"], r["site"]): r["count"] for r in rows}) == \
        Counter((ad["day"], ad["site"]) for ad in records)
    rows = _rows(world_store, "cluster-cities", cluster_id=cluster_id)
    assert {r["city"]: r["count"] for r in rows} == Counter(ad["city"] for ad in records)
    rows = _rows(world_store, "cluster-identifiers", cluster_id=cluster_id)
    assert {r["identifier"]: r["count"] for r in rows} == Counter(
        i for doc_id in members for i in set(indexed_ads[doc_id].get("identifiers", [])))
    photos = Counter(h for doc_id in members for h in {i["phash"] for i in indexed_ads[doc_id].get("images", [])
                                                       if i.get("phash")})
    rows = _rows(world_store, "cluster-images", cluster_id=cluster_id)
    assert all(photos[r["image"]] == r["count"] for r in rows)
    assert sorted(r["count"] for r in rows) == sorted(sorted(photos.values(), reverse=True)[:20])
    (evidence,) = _rows(world_store, "cluster-evidence", cluster_id=cluster_id)
    assert {k: evidence[k] for k in ("identifier", "text", "image", "suppressed")} == \
        indexed_clusters[cluster_id]["evidence"]
    listed = _rows(world_store, "cluster-ads", cluster_id=cluster_id)
    assert sorted(f"{r['site']}:{r['ad_id']}" for r in listed) == sorted(members)


def test_the_largest_cluster_is_mostly_one_true_controller(world_store, world_truth, indexed_ads, indexed_clusters):
    cluster_id = max(indexed_clusters, key=lambda cid: (indexed_clusters[cid]["size"], cid))
    poster = {f"{t['site']}:{t['ad_id']}": t["poster_id"] for t in world_truth}
    owners = Counter(poster[doc_id] for doc_id, ad in indexed_ads.items() if ad.get("cluster_id") == cluster_id)
    owner, ads = owners.most_common(1)[0]
    assert owner.startswith("c") and ads >= 0.9 * sum(owners.values())


def test_a_time_window_limits_a_panel_like_kibanas_time_picker(world_store, world_records):
    rows = _rows(world_store, "ads-per-day-by-site", since="2026-01-10", until="2026-01-20")
    expected = Counter((ad["day"], ad["site"]) for ad in world_records if "2026-01-10" <= ad["day"] < "2026-01-20")
    assert Counter({(r["day"], r["site"]): r["count"] for r in rows}) == expected


# --------------------------------------------------------------------------------- crawl runs

def test_crawl_panels_sum_the_runs(runs_store):
    panels = {p.id: p for p in crawl_panels(runs_store.names)}
    per_day = panels["runs-per-day"].stats(runs_store.client)
    assert Counter({(r["day"], r["status"]): r["count"] for r in per_day}) == Counter((day, status)
                                                                                       for _, day, status, *_ in RUNS)
    items = {r["site"]: r for r in panels["items-by-site"].stats(runs_store.client)}
    for site in ("demo-html", "demo-js"):
        sums = [sum(run[4][i] for run in RUNS if run[0] == site) for i in range(5)]
        assert [items[site][k] for k in ("new", "changed", "unchanged", "removed", "invalid")] == sums
    problem_rows = panels["run-problems-by-site"].stats(runs_store.client)
    problems = Counter({(r["site"], r["problem"]): r["count"] for r in problem_rows})
    expected = Counter()
    for site, _, status, _, run_items, errors, _ in RUNS:
        expected.update({(site, "failed"): status == "failed", (site, "interrupted"): status == "interrupted",
                         (site, "error_counters"): bool(errors), (site, "invalid_items"): run_items[4] > 0})
    assert problems == +expected
    alerts = panels["alerts-by-site"].stats(runs_store.client)
    assert Counter({(r["site"], r["alert"]): r["count"] for r in alerts}) == \
        Counter((run[0], kind) for run in RUNS for kind in run[6])
    durations = {r["site"]: r for r in panels["durations-by-site"].stats(runs_store.client)}
    for site in ("demo-html", "demo-js"):
        values = [run[3] for run in RUNS if run[0] == site]
        assert durations[site]["mean_s"] == pytest.approx(sum(values) / len(values))
        assert durations[site]["longest_s"] == max(values) and durations[site]["count"] == len(values)
    assert len(panels["run-list"].stats(runs_store.client)) == len(RUNS)


def test_crawl_panel_fields_are_mapped_once_runs_exist(runs_store):
    live, _ = _live_fields(runs_store.client, runs_store.runs)
    assert {"errors.http_500", "errors.http_429"} <= set(live) and live["errors.http_500"] == "long"
    for p in crawl_panels(runs_store.names):
        for name, need in p.fields.items():
            if "*" not in name:
                assert _family_fits(need, live[name]), (p.id, name)


def test_panel_ids_are_unique_and_every_dashboard_has_panels():
    ids = [p.id for p in all_panels("x")]
    assert len(ids) == len(set(ids))
    assert {p.dashboard for p in all_panels("x")} == {"market", "clusters", "cluster-detail", "crawl"}
    assert {p.kind for p in all_panels("x")} == {"ads", "clusters", "runs"}
