"""An edit counts once, however often its write is sent (a bulk retried after a lost answer)."""

from __future__ import annotations

from adwatch.bulk import BulkWriter
from crawler.items import CrawledAd
from crawler.ledger import KnownAd, Ledger, RunClock, record_seen


def ad(body: str) -> CrawledAd:
    return CrawledAd(site="s", ad_id="1", url="http://127.0.0.1/ad/1", title="An ad", body=body)


def test_an_edit_sent_twice_is_counted_once(store):
    store.ensure_schema()
    writer = BulkWriter(store.client, refresh="true")
    partition = store.ads_partition("2026-12-01T00:00:00+00:00")
    _, first = record_seen(ad("first text"), None, RunClock("run-1", "2026-12-01T00:00:00+00:00"), partition)
    assert writer.write([first]).ok == 1

    known = Ledger.load(store, "s").by_id["s:1"]
    edited, clock = ad("edited text"), RunClock("run-2", "2026-12-02T00:00:00+00:00")
    outcome, write = record_seen(edited, known, clock, partition)
    assert outcome == "changed"
    assert writer.write([write]).ok == 1
    again = writer.write([write])  # the same bulk once more, as after a connection reset
    assert again.conflicts == ["s:1"] and again.ok == again.failed == 0

    fresh = store.client.get(index=partition, id="s:1", source=Ledger.FIELDS)
    outcome, settle = record_seen(edited, KnownAd.of(fresh), clock, partition)  # what the pipeline does
    assert outcome == "unchanged"
    writer.write([settle])
    doc = store.client.get(index=partition, id="s:1")["_source"]
    assert (doc["edits"], doc["body"], doc["crawl"]["changed_run"]) == (1, "edited text", "run-2")
