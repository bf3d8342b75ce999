"""A refused bridge and a merge, as the explorer shows them (the bridge world: bridge_world.py)."""

from __future__ import annotations

from bridge_world import BRIDGE_HANDLE


def _cluster_of(store, doc_id: str) -> str:
    hits = store.client.search(index=store.ads, query={"ids": {"values": [doc_id]}}, source=["cluster_id"])
    return hits["hits"]["hits"][0]["_source"]["cluster_id"]


def test_a_refused_bridge_is_drawn_and_names_the_cluster_it_would_have_joined(bridge_explorer, bridge_world, page,
                                                                              screenshot):
    store = bridge_world[0]
    ours, theirs = _cluster_of(store, "demo-html:BA000"), _cluster_of(store, "demo-html:BB000")
    assert ours != theirs
    key = BRIDGE_HANDLE.replace("@", "")  # stored as telegram:night_owl_jobs
    page.goto(bridge_explorer(f"/cluster/{ours}"))
    assert page.locator("svg.graph g.refusal.bridge").count() == 1
    assert key in page.text_content("svg.graph g.refusal.bridge")
    assert page.locator("svg.graph line.edge.bridge").count() == 2  # its ad -> the bridge -> the other cluster
    assert page.locator(f"svg.graph a.outside[href='/cluster/{theirs}']").count() == 1
    item = page.locator("#bridges li")
    assert item.count() == 1 and f"bridge {key} refused" in item.inner_text()
    screenshot(page, "bridge")

    item.locator(f"a[href='/cluster/{theirs}']").click()
    assert page.inner_text("h1") == f"Cluster {theirs}"
    assert page.locator(f"#bridges li a[href='/cluster/{ours}']").count() == 1


def test_an_ads_refused_link_says_refused_bridge_and_why(bridge_explorer, page):
    page.goto(bridge_explorer("/ad/demo-html:BA000"))
    refused = page.locator("#links tr.refused.bridge")
    assert refused.count() == 1
    assert "refused bridge" in refused.inner_text() and "no other evidence joins them" in refused.inner_text()
    assert page.locator("#links tr.accepted").count() >= 1


def test_a_merged_cluster_id_leads_to_the_survivor_which_records_it(bridge_explorer, bridge_world, page):
    _, _, merged, survivor = bridge_world
    page.goto(bridge_explorer(f"/cluster/{merged}"))
    assert page.url.endswith(f"/cluster/{survivor}?merged={merged}")
    assert f"Cluster {merged} was merged into this one" in page.inner_text("main")
    assert merged in page.inner_text("#merge-h + p")
