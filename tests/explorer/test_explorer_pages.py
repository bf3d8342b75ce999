"""The explorer in Debian's chromium against the enriched demo world: search -> cluster -> ad -> case file,
photos blurred until asked for, hubs and refused bridges drawn as such, keyboard use, bad input."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

import phonenumbers
import pytest

BLURRED = "button.photo img"


def _national(e164: str) -> str:
    """The number as a local ad would write it ('(702) 468-0568'), not as stored."""
    return phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.NATIONAL)


def _ids(store, query: dict) -> set[str]:
    return {hit["_id"] for hit in store.scan(store.ads, query, source=False)}


def _hrefs(page, selector: str) -> list[str]:
    return page.eval_on_selector_all(selector, "links => links.map(a => decodeURIComponent(a.getAttribute('href')))")


def _largest_with_phone(store) -> tuple[str, str]:
    """(cluster id, phone) of the largest cluster sharing a phone among its ads."""
    resp = store.client.search(index=store.clusters, size=20, sort=[{"size": "desc"}], source=["identifiers"])
    for hit in resp["hits"]["hits"]:
        for ident in hit["_source"].get("identifiers", []):
            if ident["kind"] == "phone" and ident["value"].startswith("+"):
                return hit["_id"], ident["value"]
    raise AssertionError("the demo world has no cluster sharing a phone")


def _filters(page) -> list[str]:
    return page.eval_on_selector_all(BLURRED, "imgs => imgs.map(i => getComputedStyle(i).filter)")


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as reply:
            return reply.status, reply.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def test_search_by_phone_leads_to_its_cluster_an_ad_and_the_case_file(world_explorer, enriched_world, page,
                                                                        screenshot, tmp_path):
    store = enriched_world[0]
    cluster_id, phone = _largest_with_phone(store)
    page.goto(world_explorer("/"))
    page.fill("input[name=phone]", _national(phone))
    page.click("form.search button[type=submit]")
    carrying = _ids(store, {"term": {"identifiers": phone}})
    assert {href.removeprefix("/ad/") for href in _hrefs(page, "section.group td:first-child a")} == carrying
    heading = page.locator("section.group h2", has=page.locator(f"a[href='/cluster/{cluster_id}']"))
    assert heading.count() == 1 and "ads" in heading.inner_text()
    screenshot(page, "search")

    heading.locator("a").click()
    assert page.inner_text("h1") == f"Cluster {cluster_id}"
    members = _ids(store, {"term": {"cluster_id": cluster_id}})
    assert {href.removeprefix("/ad/") for href in _hrefs(page, "#ads a")} == members
    assert page.locator("svg.graph circle.ad").count() == len(members)
    assert page.locator("svg.graph line.edge.identifier").count() > 0
    assert phone in page.inner_text("#identifiers")
    screenshot(page, "cluster")

    doc_id = sorted(carrying & members)[0]
    page.click(f"#ads a[href='/ad/{doc_id}']")
    source = store.client.search(index=store.ads, query={"ids": {"values": [doc_id]}})["hits"]["hits"][0]["_source"]
    contact = next(c for c in source["contacts"] if c["normalised"] == phone and c.get("start") is not None)
    written = source[contact["field"]][contact["start"]:contact["end"]]
    index = source["contacts"].index(contact)
    highlighted = page.eval_on_selector_all("mark.ident", "marks => marks.map(m => [m.dataset.contacts, m.textContent])")
    assert any(str(index) in held.split() and written in text for held, text in highlighted)
    assert f"/cluster/{cluster_id}" in _hrefs(page, "p.facts a")
    assert page.locator("#links tbody tr").count() == len(source.get("links", []))
    screenshot(page, "ad")

    page.go_back()
    with page.expect_download() as download:
        page.click("#case-zip")
    saved = tmp_path / "case.zip"
    download.value.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        files = {Path(name).name: archive.read(name) for name in archive.namelist()}
    ads = list(csv.DictReader(io.StringIO(files["ads.csv"].decode())))
    assert {row["doc_id"] for row in ads} == members
    assert any(phone in row["phones"] for row in ads)  # raw for the analyst: "'+1..." guards spreadsheets only
    evidence = list(csv.DictReader(io.StringIO(files["evidence.csv"].decode())))
    assert evidence and {row["ad_a"] for row in evidence} <= members
    manifest = json.loads(files["manifest.json"])
    assert manifest["cluster_id"] == cluster_id and manifest["ads"] == len(members)
    for name in ("ads.csv", "evidence.csv", "case.json"):
        assert manifest["files"][name]["sha256"] == hashlib.sha256(files[name]).hexdigest()
    case = json.loads(files["case.json"])
    assert {ad["doc_id"] for ad in case["ads"]} == members and "text_pairs" not in case["ads"][0]


def test_photos_stay_blurred_until_one_is_clicked(world_explorer, enriched_world, page):
    store, _, images = enriched_world
    cluster_id, _ = _largest_with_phone(store)
    page.goto(world_explorer(f"/cluster/{cluster_id}"))
    assert page.locator("button.photo").count() >= 2
    assert all(f.startswith("blur(") for f in _filters(page))
    first = page.locator("button.photo").nth(0)
    first.scroll_into_view_if_needed()
    first.click()
    after = _filters(page)
    assert after[0] == "none" and all(f.startswith("blur(") for f in after[1:])
    assert first.get_attribute("aria-pressed") == "true"
    assert page.eval_on_selector(BLURRED, "img => img.complete && img.naturalWidth") > 0
    first.click()
    assert _filters(page)[0].startswith("blur(")

    sha256 = first.get_attribute("data-sha256")
    served = page.request.get(world_explorer(f"/photo/{sha256}"))
    stored = next((images / sha256[:2] / sha256[2:4]).glob(f"{sha256}.*")).read_bytes()
    assert served.status == 200 and served.body() == stored
    assert served.headers["cache-control"] == "no-store"


def test_keyboard_reaches_a_photo_and_reveals_it_with_enter(world_explorer, enriched_world, page):
    cluster_id, _ = _largest_with_phone(enriched_world[0])
    page.goto(world_explorer(f"/cluster/{cluster_id}"))
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    for _ in range(300):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('button.photo')"):
            break
    else:
        pytest.fail("Tab never reached a photo")
    page.keyboard.press("Enter")
    assert page.evaluate("getComputedStyle(document.activeElement.querySelector('img')).filter") == "none"
    page.keyboard.press("Space")
    assert page.evaluate("getComputedStyle(document.activeElement.querySelector('img')).filter").startswith("blur(")


def test_keyboard_searches_with_enter_and_follows_a_link_with_enter(world_explorer, enriched_world, page):
    store = enriched_world[0]
    _, phone = _largest_with_phone(store)
    page.goto(world_explorer("/"))
    page.focus("input[name=phone]")
    page.keyboard.type(phone)
    page.keyboard.press("Enter")
    page.wait_for_url("**/search")
    page.focus("section.group h2 a")
    page.keyboard.press("Enter")
    page.wait_for_url("**/cluster/*")
    assert page.inner_text("h1").startswith("Cluster ")


def test_hubs_are_drawn_as_hubs_and_named(world_explorer, enriched_world, page):
    store = enriched_world[0]
    hit = store.client.search(index=store.ads, size=1, query={"bool": {"filter": [
        {"term": {"links.suppressed_by": "hub"}}, {"exists": {"field": "cluster_id"}}]}},
        source=["cluster_id", "links"])["hits"]["hits"][0]
    note = next(link["detail"] for link in hit["_source"]["links"] if link.get("suppressed_by") == "hub")
    key = note.split("hub ", 1)[1].split(" on ", 1)[0]
    page.goto(world_explorer(f"/cluster/{hit['_source']['cluster_id']}"))
    assert page.locator("svg.graph g.refusal.hub").count() >= 1
    assert page.locator("svg.graph line.edge.hub").count() >= 1
    assert key in page.inner_text("ul.hubs")


def test_photo_upload_finds_every_ad_showing_that_photo(world_explorer, enriched_world, page):
    store, _, images = enriched_world
    hit = store.client.search(index=store.ads, size=1, query={"exists": {"field": "cluster_id"}},
                              sort=[{"ad_id": "asc"}], source=["images"])["hits"]["hits"][0]
    image = next(i for i in hit["_source"]["images"] if i.get("path") and not i.get("low_detail"))
    page.goto(world_explorer("/"))
    page.set_input_files("input[name=photo]", str(images / image["path"]))
    page.click("form.search button[type=submit]")
    listed = {href.removeprefix("/ad/") for href in _hrefs(page, "section.group td:first-child a")}
    assert _ids(store, {"term": {"images.sha256": image["sha256"]}}) <= listed
    assert "pHash 0, dHash 0 bits apart" in page.inner_text("section.group")


def test_the_open_cluster_is_served_on_loopback_only_and_says_so(world_explorer, es_node, enriched_world, page):
    assert "listens on 127.0.0.1 only" in world_explorer.said
    assert world_explorer.url.startswith("http://127.0.0.1:")
    page.goto(world_explorer("/"))
    assert "127.0.0.1 only" in page.inner_text("#open-cluster")
    store, _, images = enriched_world
    env = {"PATH": "/usr/bin:/bin", "ADWATCH_ES_URL": es_node.url, "ADWATCH_INDEX_PREFIX": store.names.prefix}
    done = subprocess.run([sys.executable, "-m", "adwatch.cli", "explorer", "--host", "0.0.0.0", "--port", "0",
                           "--images", str(images)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "serves only 127.0.0.1" in " ".join(done.stderr.split())


def test_bad_input_and_unknown_things_get_pages_that_say_what_to_do(world_explorer):
    status, body = _get(world_explorer("/search?" + urllib.parse.urlencode({"phone": "hello there"})))
    assert status == 400 and "Phone: &#39;hello there&#39;: no phone number recognised" in body
    status, body = _get(world_explorer("/cluster/c000000000000"))
    assert status == 404 and "No cluster" in body
    assert _get(world_explorer("/photo/" + "0" * 64))[0] == 404  # no such photo stored
    assert _get(world_explorer("/photo/..%2F..%2Fetc%2Fpasswd"))[0] == 404
    assert _get(world_explorer("/cluster/x/case/other.txt"))[0] == 404
