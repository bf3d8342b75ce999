"""The store against the real embedded node: schema, upserts, bulk errors, queries, aliases, retention."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from elasticsearch import BadRequestError
from elasticsearch.dsl import A, Q, Search

from adwatch import schema
from adwatch.bulk import BulkWriter, Version, create, delete, replace, upsert
from adwatch.store import Store

T0 = datetime(2026, 3, 30, 12, 0, tzinfo=timezone.utc)


def ad(site: str, ad_id: str, **fields) -> dict:
    doc = {"site": site, "ad_id": ad_id, "title": f"Ad {ad_id}", "body": "Friendly staff wanted",
           "city": "Leeds", "country": "GB", "first_seen": T0.isoformat(), "last_seen": T0.isoformat(),
           "status": "active", "enrich": {"status": "pending"}}
    doc.update(fields)
    return doc


def write(store: Store, actions) -> object:
    return BulkWriter(store.client, refresh="wait_for").write(actions)


def test_mapping_round_trip(store: Store):
    store.ensure_schema()
    doc = ad("demo-html", "H1", price=120.5, currency="GBP", location={"lat": 53.8, "lon": -1.55},
             images=[{"url": "http://127.0.0.1/i.jpg", "sha256": "ab" * 32, "phash": "f" * 16, "width": 640,
                      "height": 480, "hash_bands": ["0:ffff"]}],
             contacts=[{"kind": "phone", "value": "07700 900123", "normalised": "+447700900123",
                        "start": 10, "end": 22, "placeholder": False}],
             identifiers=["+447700900123"], links=[{"ad": "demo-js:J9", "evidence": "image", "score": 0.97}])
    index = store.ads_partition(T0)
    report = write(store, [replace(index, "demo-html:H1", doc)])
    assert report.failed == 0
    got = store.client.get(index=index, id="demo-html:H1")["_source"]
    assert got == doc
    mapping = store.client.indices.get_mapping(index=index)[index]["mappings"]
    assert mapping["dynamic"] == "strict"
    assert mapping["properties"]["location"]["type"] == "geo_point"
    assert mapping["properties"]["contacts"]["properties"]["normalised"]["type"] == "keyword"
    assert mapping["properties"]["first_seen"]["type"] == "date"


def test_same_upsert_twice_gives_one_document_with_updated_fields(store: Store):
    store.ensure_schema()
    index = store.ads_partition(T0)
    first = ad("demo-html", "H2", price=100.0)
    write(store, [upsert(index, "demo-html:H2", first, on_insert={"first_seen": T0.isoformat(), "edits": 0})])
    later = (T0 + timedelta(days=3)).isoformat()
    change = {"price": 80.0, "last_seen": later}
    for _ in range(2):
        write(store, [upsert(index, "demo-html:H2", change, on_insert={"first_seen": later, "edits": 0})])
    assert store.client.count(index=store.ads, query={"term": {"ad_id": "H2"}})["count"] == 1
    got = store.client.get(index=index, id="demo-html:H2")["_source"]
    assert got["price"] == 80.0 and got["last_seen"] == later
    assert got["first_seen"] == T0.isoformat()  # on_insert fields are never overwritten


def test_insert_only_fields_inside_objects_survive_a_second_crawls_upsert(store: Store):
    # Two crawls of one site both taking an ad for new: the first one's first_seen, edits and first_run stay.
    store.ensure_schema()
    index = store.ads_partition(T0)
    for run, seen in (("r1", T0), ("r2", T0 + timedelta(days=1))):
        doc = {**ad("demo-html", "I1", last_seen=seen.isoformat()), "crawl": {"run_id": run}}
        del doc["first_seen"]
        write(store, [upsert(index, "demo-html:I1", doc,
                             on_insert={"first_seen": seen.isoformat(), "edits": 0, "crawl": {"first_run": run}})])
    got = store.client.get(index=index, id="demo-html:I1")["_source"]
    assert (got["first_seen"], got["edits"], got["last_seen"]) == (T0.isoformat(), 0, (T0 + timedelta(days=1)).isoformat())
    assert got["crawl"] == {"run_id": "r2", "first_run": "r1"}


def test_bulk_batch_with_one_invalid_doc_reports_it_and_indexes_the_rest(store: Store):
    store.ensure_schema()
    index = store.ads_partition(T0)
    good = [replace(index, f"demo-html:G{i}", ad("demo-html", f"G{i}")) for i in range(5)]
    bad = replace(index, "demo-html:BAD", ad("demo-html", "BAD", colour="red"))  # not in the strict mapping
    report = write(store, good[:2] + [bad] + good[2:])
    assert (report.ok, report.failed) == (5, 1)
    assert [e.id for e in report.errors] == ["demo-html:BAD"]
    assert report.errors[0].status == 400 and "strict_dynamic_mapping" in report.errors[0].reason
    assert store.client.count(index=store.ads)["count"] == 5


def test_bulk_writer_streams_a_large_lazy_input_in_chunks(store: Store):
    store.ensure_schema()
    index = store.ads_partition(T0)
    actions = (replace(index, f"demo-html:L{i}", ad("demo-html", f"L{i}")) for i in range(3000))
    report = BulkWriter(store.client, chunk_docs=250).write(actions)
    store.refresh()
    assert (report.ok, report.failed) == (3000, 0)
    assert store.client.count(index=store.ads)["count"] == 3000


def test_pipelined_writer_makes_the_next_chunk_while_one_is_sent_and_reports_like_the_plain_one(store: Store):
    store.ensure_schema()
    index = store.ads_partition(T0)
    made: list[int] = []
    sent: list[int] = []  # how many actions were made when each chunk reached the node

    class Watched(BulkWriter):
        def _send(self, chunk, report):
            sent.append(len(made))
            super()._send(chunk, report)

    def actions():
        for i in range(1200):
            made.append(i)
            doc = ad("demo-html", f"P{i}", colour="red") if i == 700 else ad("demo-html", f"P{i}")
            yield replace(index, f"demo-html:P{i}", doc)

    report = Watched(store.client, chunk_docs=250, pipelined=True).write(actions())
    store.refresh()
    assert (report.ok, report.failed, [e.id for e in report.errors]) == (1199, 1, ["demo-html:P700"])
    assert store.client.count(index=store.ads)["count"] == 1199
    # Chunk k goes out once it is whole, while chunk k+1 is made: never more than one chunk ahead.
    assert len(sent) == 5 and sent[-1] == 1200
    for k, made_then in enumerate(sent[:-1]):
        assert (k + 1) * 250 < made_then <= (k + 2) * 250 + 1


def test_search_with_terms_aggregation_and_date_histogram(store: Store):
    store.ensure_schema()
    docs = []
    for i in range(12):
        seen = T0 + timedelta(days=i % 3)
        site = "demo-html" if i % 4 else "demo-js"
        docs.append(ad(site, f"S{i}", first_seen=seen.isoformat(),
                       body="Waitress wanted abroad, visa arranged" if i < 5 else "Sofa for sale"))
    write(store, [replace(store.ads_partition(d["first_seen"]), f"{d['site']}:{d['ad_id']}", d) for d in docs])

    search = Search(using=store.client, index=store.ads).query(Q("match", body="visa abroad")).extra(size=20)
    search.aggs.bucket("sites", A("terms", field="site"))
    search.aggs.bucket("per_day", A("date_histogram", field="first_seen", calendar_interval="day"))
    resp = search.execute()

    assert sorted(h.ad_id for h in resp) == sorted(f"S{i}" for i in range(5))
    sites = {b.key: b.doc_count for b in resp.aggregations.sites.buckets}
    assert sites == {"demo-html": 3, "demo-js": 2}  # S0 and S4 are demo-js
    per_day = [b.doc_count for b in resp.aggregations.per_day.buckets]
    assert per_day == [2, 2, 1]  # days 0,1,2 of S0..S4


def test_ads_are_partitioned_by_month_and_retention_drops_old_months(store: Store):
    store.ensure_schema()
    months = [datetime(2026, m, 15, tzinfo=timezone.utc) for m in (1, 2, 3)]
    write(store, [replace(store.ads_partition(m), f"demo-html:M{m.month}", ad("demo-html", f"M{m.month}",
                                                                               first_seen=m.isoformat()))
                  for m in months])
    partitions = store.ads_partitions()
    for m in ("2026.01", "2026.02", "2026.03"):
        assert any(p.endswith(m) for p in partitions)
    assert store.client.count(index=store.ads)["count"] == 3

    dropped = store.drop_ads_before("2026.03")
    assert sorted(p.rsplit("-", 1)[-1] for p in dropped) == ["2026.01", "2026.02"]
    remaining = [h["_source"]["ad_id"] for h in store.scan(store.ads)]
    assert remaining == ["M3"]


def test_alias_swap_to_a_new_index_version(store: Store):
    store.ensure_schema()
    old_index = store.names.versioned("clusters", 1)
    write(store, [replace(store.clusters, f"c{i}", {"cluster_id": f"c{i}", "size": i + 2}) for i in range(4)])

    new_mapping = store.client.indices.get_mapping(index=old_index)[old_index]["mappings"]
    new_mapping["properties"]["risk"] = {"type": "float"}
    report = store.migrate("clusters", 2, transform=lambda d: {**d, "risk": d["size"] / 10},
                           mapping=new_mapping)
    store.refresh()

    assert report.ok == 4
    assert list(store.client.indices.get_alias(name=store.clusters).body) == [store.names.versioned("clusters", 2)]
    got = store.client.get(index=store.clusters, id="c3")["_source"]
    assert got == {"cluster_id": "c3", "size": 5, "risk": 0.5}
    # Writes through the alias land in the new version.
    write(store, [replace(store.clusters, "c9", {"cluster_id": "c9", "size": 9, "risk": 0.9})])
    assert store.client.count(index=store.names.versioned("clusters", 2))["count"] == 5
    assert store.client.count(index=old_index)["count"] == 4


def test_ensure_schema_is_idempotent(store: Store):
    first = store.ensure_schema()
    second = store.ensure_schema()
    assert len(first) == 5 and second == []  # the current ads partition, clusters, runs, leases, crawl leases
    assert store.counts() == {store.ads: 0, store.clusters: 0, store.runs: 0}


def test_new_fields_reach_a_partition_made_with_older_parameters_which_it_keeps(store: Store):
    """An ads partition an older AdWatch made: `minhash_bands` still indexed (a parameter no index
    can change in place), no `language`, `title` without its `raw` sub-field. Checking finds the two
    missing fields; ensuring adds them and leaves the band field as it was, where sending the whole
    mapping is refused; `adwatch setup`'s template rewrite gives new months the current mapping."""
    store.ensure_schema()
    older = schema.mapping("ads")
    older["properties"]["minhash_bands"] = {"type": "keyword"}
    del older["properties"]["language"]
    older["properties"]["title"] = {"type": "text"}
    index = f"{store.names.prefix}-ads-v0-2025.01"  # outside the current template's pattern
    store.client.indices.create(index=index, mappings=older, aliases={store.ads: {}})

    assert sorted(gap for gap in store.schema_gaps() if gap.startswith(index)) == [
        f"{index}: language", f"{index}: title.raw"]
    store.ensure_schema()

    found = store.client.indices.get_mapping(index=index)[index]["mappings"]["properties"]
    assert found["language"] == {"type": "keyword"}
    assert found["title"]["fields"]["raw"]["type"] == "keyword"
    assert found["minhash_bands"] == {"type": "keyword"}
    assert store.schema_gaps() == []
    with pytest.raises(BadRequestError, match="minhash_bands"):  # why each index is sent only what it lacks
        store.client.indices.put_mapping(index=index, properties=schema.mapping("ads")["properties"])
    write(store, [upsert(index, "demo-html:O1", ad("demo-html", "O1", minhash_bands=["b00:1"], language="en"))])
    hit = store.client.search(index=store.ads, query={"term": {"title.raw": "Ad O1"}})["hits"]["hits"]
    assert [h["_id"] for h in hit] == ["demo-html:O1"]

    store.ensure_schema(templates=True)
    template = store.client.indices.get_index_template(name=store.names.versioned("ads"))
    bands = template["index_templates"][0]["index_template"]["template"]["mappings"]["properties"]["minhash_bands"]
    assert bands == {"type": "keyword", "index": False, "doc_values": False}
    write(store, [upsert(store.ads_partition("2027-02-01"), "demo-html:N1", ad("demo-html", "N1", minhash_bands=["b00:2"]))])
    newer = store.ads_partition("2027-02-01")
    assert store.client.indices.get_mapping(index=newer)[newer]["mappings"]["properties"]["minhash_bands"] == bands


def test_run_error_counts_map_as_numbers(store: Store):
    store.ensure_schema()
    write(store, [replace(store.runs, "r1", {"run_id": "r1", "site": "demo-html", "status": "finished",
                                             "errors": {"http_429": 3, "parse_error": 1},
                                             "scrapy_stats": {"downloader/request_count": 10}})])
    resp = store.client.search(index=store.runs, size=0, aggs={"e": {"sum": {"field": "errors.http_429"}}})
    assert resp["aggregations"]["e"]["value"] == 3


def test_optimistic_write_on_a_document_changed_since_read_is_a_conflict_not_a_failure(store: Store):
    store.ensure_schema()
    index = store.ads_partition(T0)
    write(store, [replace(index, "demo-html:V1", ad("demo-html", "V1", edits=0))])
    [hit] = list(store.scan(store.ads, versions=True))
    read = Version.of(hit)
    assert read is not None
    write(store, [upsert(index, "demo-html:V1", {"price": 10.0})])  # someone else writes meanwhile

    stale = write(store, [upsert(index, "demo-html:V1", {"edits": 1}, expect=read),
                          replace(index, "demo-html:V1", ad("demo-html", "V1"), expect=read),
                          delete(index, "demo-html:V1", expect=read)])
    assert (stale.ok, stale.failed, stale.retries) == (0, 0, 0)
    assert stale.conflicts == ["demo-html:V1"] * 3
    got = store.client.get(index=index, id="demo-html:V1")
    assert got["_source"]["edits"] == 0 and got["_source"]["price"] == 10.0
    fresh = write(store, [upsert(index, "demo-html:V1", {"edits": 1}, expect=Version.of(got))])
    assert (fresh.ok, fresh.conflicts) == (1, [])


def test_two_writers_incrementing_from_one_read_lose_no_increment(store: Store):
    # What a crawl must do with `edits`: read with versions, write conditionally, re-read on conflict.
    store.ensure_schema()
    index = store.ads_partition(T0)
    write(store, [replace(index, "demo-html:E1", ad("demo-html", "E1", edits=0))])
    readers = [store.client.get(index=index, id="demo-html:E1") for _ in range(2)]
    outcomes = [write(store, [upsert(index, "demo-html:E1", {"edits": r["_source"]["edits"] + 1},
                                     expect=Version.of(r))]) for r in readers]
    assert [o.conflicts for o in outcomes] == [[], ["demo-html:E1"]]
    again = store.client.get(index=index, id="demo-html:E1")
    write(store, [upsert(index, "demo-html:E1", {"edits": again["_source"]["edits"] + 1}, expect=Version.of(again))])
    assert store.client.get(index=index, id="demo-html:E1")["_source"]["edits"] == 2


def test_conditional_write_of_a_missing_document_and_a_second_create_are_conflicts(store: Store):
    store.ensure_schema()
    index = store.ads_partition(T0)
    first = write(store, [create(index, "demo-html:C1", ad("demo-html", "C1"))])
    second = write(store, [create(index, "demo-html:C1", ad("demo-html", "C1", title="other")),
                           upsert(index, "demo-html:GONE", {"price": 1.0}, expect=Version(0, 1))])
    assert first.ok == 1
    assert (second.ok, second.failed, sorted(second.conflicts)) == (0, 0, ["demo-html:C1", "demo-html:GONE"])
    assert store.client.get(index=index, id="demo-html:C1")["_source"]["title"] == "Ad C1"
    assert not store.client.exists(index=index, id="demo-html:GONE")


def test_scan_returns_every_hit_once_with_versions_when_asked(store: Store):
    store.ensure_schema()
    months = [datetime(2026, m, 10, tzinfo=timezone.utc) for m in (1, 2)]
    write(store, [replace(store.ads_partition(m), f"demo-html:P{m.month}-{i}", ad("demo-html", f"P{m.month}-{i}"))
                  for m in months for i in range(25)])
    hits = list(store.scan(store.ads, page=7, versions=True))
    assert sorted(h["_id"] for h in hits) == sorted(f"demo-html:P{m}-{i}" for m in (1, 2) for i in range(25))
    assert all(Version.of(h) is not None for h in hits)
    assert all("_seq_no" not in h for h in store.scan(store.ads, page=7))


def _refresh_intervals(store: Store) -> set[str]:
    found = store.client.indices.get_settings(index=store.ads, name="index.refresh_interval")
    return {s["settings"]["index"]["refresh_interval"] for s in found.body.values()}


def test_a_run_refreshing_rarely_sets_the_interval_back_and_refreshes_even_when_it_fails(store: Store):
    with store.refreshing_rarely(store.ads) as changed:
        assert not changed  # no index behind the alias yet: nothing to slow
    store.ensure_schema()
    write(store, [upsert(store.ads_partition(f"2026-0{m}-03"), f"s:{m}", ad("s", str(m))) for m in (1, 2)])
    assert _refresh_intervals(store) == {"1s"}
    with pytest.raises(RuntimeError, match="the run broke"):
        with store.refreshing_rarely(store.ads) as changed:
            assert changed and _refresh_intervals(store) == {"30s"}
            # Not refresh="wait_for", which would wait for the slow interval's next refresh.
            BulkWriter(store.client).write([upsert(store.ads_partition("2026-01-03"), "s:1",
                                                   {"body": "changed meanwhile"})])
            raise RuntimeError("the run broke")
    assert _refresh_intervals(store) == {"1s"}
    # Set back and refreshed: what the run wrote is searchable at once.
    assert store.count(store.ads, {"match": {"body": "changed"}}) == 1
