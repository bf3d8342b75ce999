"""`adwatch search` and `adwatch cluster` as an analyst runs them, on the shared enriched world."""

from __future__ import annotations

import re

import phonenumbers
import pytest

from demo.compose import day_date

PAGE = 5


def largest_cluster(store) -> dict:
    resp = store.client.search(index=store.clusters, size=1, sort=[{"size": "desc"}, {"cluster_id": "asc"}])
    return resp["hits"]["hits"][0]["_source"]


def shown_ad_ids(output: str, doc_ids: list[str]) -> list[str]:
    """Which of `doc_ids` the timeline shows, in the order shown (ad ids are unique across both sites)."""
    local = {d.split(":", 1)[1]: d for d in doc_ids}
    timeline = output.split("Ads, oldest first", 1)[1]
    return [local[token] for token in re.findall(r"\b[HJ]\d{7}\b", timeline) if token in local]


def in_time_order(doc_ids: list[str], world_ads: dict) -> list[str]:
    return sorted(doc_ids, key=lambda d: (day_date(world_ads[d]["first_day"]), d))


def said(stream: str) -> str:
    """A message as one line: rich wraps long messages at the terminal width."""
    return " ".join(stream.split())


def test_search_by_national_phone_lists_its_ads_and_the_reading(adwatch, world_truth, busiest_phone):
    phone = busiest_phone
    number = phonenumbers.parse(phone)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    region = phonenumbers.region_code_for_number(number)
    done = adwatch("search", "--phone", national, "--country", region, "--limit", "1000")
    assert done.returncode == 0, done.stderr
    expected = {record["ad_id"] for record in world_truth.values() if phone in record["phones"]}
    assert f"read as {phone} ({region})" in done.stdout
    assert f"{len(expected)} ad(s) match" in done.stdout
    assert set(re.findall(r"\b[HJ]\d{7}\b", done.stdout)) == expected


def test_search_output_never_carries_ad_bodies(adwatch, world_ads):
    done = adwatch("search", "room", "--limit", "50")
    assert done.returncode == 0, done.stderr
    shown = [ad for ad in world_ads.values() if ad["ad_id"] in done.stdout]
    assert shown
    for ad in shown:
        assert ad["body"][:60] not in done.stdout


def test_cluster_shows_size_and_identifiers_of_the_clusters_index(adwatch, enriched_world, world_ads):
    cluster = largest_cluster(enriched_world[0])
    done = adwatch("cluster", cluster["cluster_id"], "--all")
    assert done.returncode == 0, done.stderr
    assert f"{cluster['cluster_id']}: {cluster['size']} ads" in done.stdout
    for ident in cluster["identifiers"][:20]:
        assert re.search(rf"{re.escape(ident['value'])}\s+{ident['ads']}\b", done.stdout), ident
    for city in cluster["cities"][:8]:
        assert city in done.stdout
    assert shown_ad_ids(done.stdout, cluster["ads"]) == in_time_order(cluster["ads"], world_ads)


def test_big_cluster_output_stays_bounded_to_a_page(adwatch, enriched_world, world_ads):
    cluster = largest_cluster(enriched_world[0])
    assert cluster["size"] > 2 * PAGE
    done = adwatch("cluster", cluster["cluster_id"], "--page-size", str(PAGE))
    assert done.returncode == 0, done.stderr
    ordered = in_time_order(cluster["ads"], world_ads)
    # By default: the first and last ads, the rest summarised per day.
    assert shown_ad_ids(done.stdout, cluster["ads"]) == ordered[:3] + ordered[-2:]
    assert f"{cluster['size'] - PAGE} more ads" in done.stdout
    everything = adwatch("cluster", cluster["cluster_id"], "--all")
    assert len(done.stdout.splitlines()) <= len(everything.stdout.splitlines()) - (cluster["size"] - PAGE - 1)
    assert len(done.stdout.splitlines()) <= 100


def test_cluster_page_two_shows_the_next_ads_in_time(adwatch, enriched_world, world_ads):
    cluster = largest_cluster(enriched_world[0])
    done = adwatch("cluster", cluster["cluster_id"], "--page", "2", "--page-size", str(PAGE))
    assert done.returncode == 0, done.stderr
    assert shown_ad_ids(done.stdout, cluster["ads"]) == in_time_order(cluster["ads"], world_ads)[PAGE:2 * PAGE]


# ------------------------------------------------------------------ bad input


def test_corrupt_image_names_the_file_and_exits_2(adwatch, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 64)
    done = adwatch("search", "--image", str(broken))
    assert done.returncode == 2
    assert str(broken) in said(done.stderr) and "not a usable image" in said(done.stderr)


def test_missing_image_names_the_file_and_exits_2(adwatch, tmp_path):
    done = adwatch("search", "--image", str(tmp_path / "nowhere.jpg"))
    assert done.returncode == 2
    assert "nowhere.jpg" in said(done.stderr) and "cannot read" in said(done.stderr)


def test_search_without_query_or_filter_is_a_usage_error(adwatch):
    done = adwatch("search")
    assert done.returncode == 2
    assert "usage:" in done.stderr and "--phone" in done.stderr


@pytest.mark.parametrize("command", [["cluster", "cdoesnotexist"], ["search", "--cluster", "cdoesnotexist"]])
def test_unknown_cluster_says_how_to_find_ids(adwatch, enriched_world, command):
    done = adwatch(*command)
    assert done.returncode == 2
    assert "cdoesnotexist" in said(done.stderr) and "adwatch search" in said(done.stderr)
    assert largest_cluster(enriched_world[0])["cluster_id"] in said(done.stderr)


@pytest.mark.parametrize("command", [["cluster", "c0123456789ab"], ["search", "room"]])
def test_empty_index_is_a_clear_error(adwatch, command):
    done = adwatch(*command, prefix="lookup-nothing-here")
    assert done.returncode == 2
    assert "lookup-nothing-here-ads is empty" in said(done.stderr) and "adwatch enrich" in said(done.stderr)
