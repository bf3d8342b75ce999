"""Several nodes in ADWATCH_ES_URL, and the replicas setting: parsed, checked, and used against the real node."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from adwatch.bulk import BulkWriter, upsert
from adwatch.config import ConfigError, load_settings
from adwatch.engine import free_port
from adwatch.store import Store, connect


def test_es_url_takes_a_comma_separated_list_of_nodes():
    settings = load_settings(es_url=" http://10.0.0.1:9200/, https://es2.example.org:9200,http://10.0.0.3:9200 ")
    assert settings.es_hosts == ["http://10.0.0.1:9200", "https://es2.example.org:9200", "http://10.0.0.3:9200"]
    assert load_settings(es_url="").es_hosts == []


def test_a_malformed_node_in_the_list_is_named(monkeypatch):
    monkeypatch.setenv("ADWATCH_ES_URL", "http://10.0.0.1:9200,10.0.0.2:9200")
    with pytest.raises(ConfigError) as refused:
        load_settings()
    assert "'10.0.0.2:9200'" in str(refused.value) and "ADWATCH_ES_URL" in str(refused.value)


@pytest.mark.parametrize("value", ["two", "-1", "1-", "0-many", "1.5"])
def test_replicas_must_be_a_count_or_a_range(monkeypatch, value):
    monkeypatch.setenv("ADWATCH_ES_REPLICAS", value)
    with pytest.raises(ConfigError, match="ADWATCH_ES_REPLICAS"):
        load_settings()


def test_a_client_given_a_dead_node_first_fails_over_to_the_live_one(es_settings):
    dead = f"http://127.0.0.1:{free_port()}"
    client = connect(replace(es_settings, es_url=f"{dead},{es_settings.es_url}", es_retry_s=30))
    store = Store(client, f"t{uuid.uuid4().hex[:10]}")
    try:
        store.ensure_schema()
        report = BulkWriter(client).write(upsert(store.ads_partition("2026-01-05"), f"demo-html:{i}",
                                                 {"site": "demo-html", "ad_id": str(i)}) for i in range(50))
        store.refresh()
        assert (report.ok, report.failed) == (50, 0)
        assert [hit["_id"] for hit in store.scan(store.ads)] and store.count(store.ads) == 50
    finally:
        store.drop_deployment()
        client.close()


def test_replicas_reach_new_indices_as_a_count_or_an_auto_expanding_range(es_settings):
    client = connect(es_settings)
    fixed, ranged = (Store(client, f"t{uuid.uuid4().hex[:10]}", replicas=r) for r in ("0", "0-2"))
    try:
        for store in (fixed, ranged):
            store.ensure_schema()
        settings = {store: client.indices.get_settings(index=store.clusters, flat_settings=True).body
                    for store in (fixed, ranged)}
        [fixed_index] = settings[fixed].values()
        [ranged_index] = settings[ranged].values()
        assert fixed_index["settings"]["index.number_of_replicas"] == "0"
        assert fixed_index["settings"].get("index.auto_expand_replicas", "false") == "false"
        assert ranged_index["settings"]["index.auto_expand_replicas"] == "0-2"
    finally:
        for store in (fixed, ranged):
            store.drop_deployment()
        client.close()
