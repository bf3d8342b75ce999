"""Least privilege on one secured node: the roles in adwatch/roles.yml (what docker-compose mounts), each
allowed its job and refused (403) what it must not do; commands short of a privilege say which.

The node: the minimal distribution with x-pack security on (plain HTTP on loopback), file-realm
users, the shipped roles file, a self-generated trial license (field-level security, which the
researcher role needs). It is this module's own, started once, heap 512m.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from engine_nodes import node_of_its_own
from elasticsearch import AuthorizationException

from adwatch.bulk import BulkWriter, replace, upsert
from adwatch.config import load_settings
from adwatch.engine import Account, Security
from adwatch.errors import PermissionDenied, UserError
from adwatch.lease import ENRICH_LEASE, Lease
from adwatch.store import Store, connect

ROOT = Path(__file__).resolve().parents[2]
ROLES = ("crawler", "enricher", "analyst", "researcher", "admin")
PASSWORD = "adwatch-test-password"
BODY = "Waitress wanted in a hotel abroad, call 0612345678 today"


@pytest.fixture(scope="module")
def secured():
    users = tuple(Account(f"{role}-user", PASSWORD, (f"adwatch_{role}",)) for role in ROLES)
    security = Security(superuser=Account("root-user", PASSWORD), users=users,
                        roles_file=ROOT / "adwatch" / "roles.yml", license="trial")
    with node_of_its_own("secured", security) as node:
        url = node.state().url
        as_role(url, "admin").ensure_schema()
        yield url


def settings_for(url: str, role: str):
    return load_settings(es_url=url, es_username=f"{role}-user", es_password=PASSWORD, index_prefix="adwatch")


def as_role(url: str, role: str) -> Store:
    return Store(connect(settings_for(url, role)), "adwatch")


def refused(request) -> None:
    with pytest.raises(AuthorizationException) as caught:
        request()
    assert caught.value.meta.status == 403


def cli(url: str, role: str, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "ADWATCH_ES_URL": url, "ADWATCH_ES_USERNAME": f"{role}-user",
           "ADWATCH_ES_PASSWORD": PASSWORD, "ADWATCH_INDEX_PREFIX": "adwatch", "ADWATCH_ES_RETRY_SECONDS": "5",
           "ADWATCH_PSEUDONYM_SECRET": "privileges-test-secret"}
    return subprocess.run([sys.executable, "-m", "adwatch.cli", *args], env=env, capture_output=True, text=True,
                          timeout=180, cwd=ROOT)


def ad(ad_id: str) -> dict:
    return {"site": "demo-html", "ad_id": ad_id, "title": "Hotel job", "body": BODY, "city": "Leeds", "country": "GB",
            "category": "jobs", "first_seen": "2026-11-03T10:00:00+00:00", "last_seen": "2026-11-03T10:00:00+00:00",
            "status": "active", "identifiers": ["+31612345678"], "cluster_id": "c-privileges",
            "contacts": [{"kind": "phone", "value": "0612345678", "normalised": "+31612345678"}],
            "enrich": {"status": "done", "linked": True}}


def test_every_stage_role_checks_the_schema_without_the_right_to_change_it(secured):
    for role in ("crawler", "enricher", "analyst", "researcher"):
        assert as_role(secured, role).ensure_schema() == []  # current: nothing to write, nothing refused


def test_crawler_writes_ads_and_runs_in_new_partitions_and_is_refused_clusters_and_index_admin(secured):
    from crawler.runs import site_lease

    crawler = as_role(secured, "crawler")
    with site_lease(crawler, "demo-html") as lease:  # one crawl of a site at a time: its own kind of lease
        assert lease.version is not None
    november = crawler.ads_partition("2026-11-03")  # not made by setup: created from the template on first write
    report = BulkWriter(crawler.client, refresh="wait_for").write(
        [upsert(november, f"demo-html:P{i}", ad(f"P{i}")) for i in range(3)]
        + [replace(crawler.runs, "run-1", {"run_id": "run-1", "site": "demo-html", "status": "finished"})])
    assert (report.ok, report.failed) == (4, 0)
    assert crawler.count(crawler.ads) == 3
    with pytest.raises(PermissionDenied, match="crawler-user.*adwatch-clusters.*index privileges"):
        BulkWriter(crawler.client).write([replace(crawler.clusters, "c1", {"cluster_id": "c1", "size": 2})])
    refused(lambda: crawler.client.search(index=crawler.clusters))
    refused(lambda: crawler.client.get(index=crawler.leases, id=ENRICH_LEASE))
    refused(lambda: crawler.client.indices.delete(index=november))
    refused(lambda: crawler.client.indices.put_index_template(name="adwatch-x", index_patterns=["adwatch-x*"]))


def test_enricher_reads_and_writes_ads_and_clusters_holds_the_lease_and_is_refused_runs_and_index_admin(secured):
    enricher = as_role(secured, "enricher")
    hits = list(enricher.scan(enricher.ads, versions=True))
    assert len(hits) == 3 and hits[0]["_source"]["body"] == BODY
    with Lease(enricher, ENRICH_LEASE, "adwatch enrich"):
        report = BulkWriter(enricher.client, refresh="wait_for").write(
            [upsert(hits[0]["_index"], hits[0]["_id"], {"enrich": {"linked": True}}),
             replace(enricher.clusters, "c-privileges", {"cluster_id": "c-privileges", "size": 3,
                                                         "ads": [h["_id"] for h in hits],
                                                         "identifiers": [{"kind": "phone", "value": "+31612345678",
                                                                          "ads": 3}],
                                                         "template": BODY, "first_seen": "2026-11-03",
                                                         "last_seen": "2026-11-03",
                                                         "evidence": {"identifier": 2, "text": 0, "image": 0,
                                                                      "suppressed": 0}})])
    assert (report.ok, report.failed) == (2, 0)
    with pytest.raises(PermissionDenied, match="enricher-user.*adwatch-runs"):
        BulkWriter(enricher.client).write([replace(enricher.runs, "run-2", {"run_id": "run-2"})])
    refused(lambda: enricher.client.indices.delete(index=hits[0]["_index"]))
    refused(lambda: enricher.client.indices.create(index="adwatch-ads-v1-2030.01"))
    # A run slows the ads indices' refresh and sets it back: that one settings action, ads only.
    admin = as_role(secured, "admin").client
    with enricher.refreshing_rarely(enricher.ads) as changed:
        assert changed
        during = admin.indices.get_settings(index=enricher.ads, name="index.refresh_interval")
        assert {s["settings"]["index"]["refresh_interval"] for s in during.body.values()} == {"30s"}
    after = admin.indices.get_settings(index=enricher.ads, name="index.refresh_interval")
    assert {s["settings"]["index"]["refresh_interval"] for s in after.body.values()} == {"1s"}
    refused(lambda: enricher.client.indices.put_settings(index=enricher.clusters,
                                                         settings={"index": {"refresh_interval": "30s"}}))


def test_analyst_reads_ads_clusters_and_runs_and_is_refused_every_write(secured):
    analyst = as_role(secured, "analyst")
    got = analyst.client.search(index=analyst.ads, query={"match": {"body": "waitress"}})["hits"]["hits"]
    assert len(got) == 3 and got[0]["_source"]["contacts"][0]["normalised"] == "+31612345678"
    assert analyst.client.get(index=analyst.clusters, id="c-privileges")["_source"]["size"] == 3
    assert analyst.count(analyst.runs) == 1
    with pytest.raises(PermissionDenied, match="analyst-user.*index privileges"):
        BulkWriter(analyst.client).write([upsert(got[0]["_index"], got[0]["_id"], {"status": "removed"})])
    refused(lambda: analyst.client.delete(index=got[0]["_index"], id=got[0]["_id"]))
    refused(lambda: analyst.client.indices.delete(index=got[0]["_index"]))


def test_researcher_exports_statistics_but_reads_no_raw_ad_field(secured, tmp_path):
    researcher = as_role(secured, "researcher")
    hits = list(researcher.scan(researcher.ads))
    assert len(hits) == 3
    for hit in hits:  # metadata only: no text, contacts, identifiers or urls
        assert set(hit["_source"]) <= {"site", "category", "city", "country", "first_seen", "last_seen", "status",
                                       "cluster_id"}
    assert researcher.client.search(index=researcher.ads, query={"match": {"body": "waitress"}})["hits"]["hits"] == []
    assert researcher.client.search(index=researcher.ads, size=0, aggs={
        "phones": {"terms": {"field": "identifiers"}}})["aggregations"]["phones"]["buckets"] == []
    cluster = researcher.client.get(index=researcher.clusters, id="c-privileges")["_source"]
    assert "identifiers" not in cluster and "template" not in cluster and "ads" not in cluster
    refused(lambda: researcher.client.index(index=researcher.clusters, id="x", document={"size": 1}))
    refused(lambda: researcher.client.search(index=researcher.runs))
    for kind in ("timeseries", "clusters"):
        out = tmp_path / f"{kind}.csv"
        done = cli(secured, "researcher", "export", kind, "--format", "csv", "--out", str(out), "--k", "1")
        assert done.returncode == 0, done.stderr[-2000:]
        text = out.read_text()
        assert "612345678" not in text and "Waitress" not in text and "demo-html:P" not in text
    assert "2026-11-03" in (tmp_path / "timeseries.csv").read_text()


def said(done: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    return " ".join(done.stderr.split())


def test_commands_short_of_a_privilege_name_it_and_the_admin_does_what_they_could_not(secured):
    admin = as_role(secured, "admin")
    admin.client.indices.delete(index=admin.names.versioned("leases"))  # the schema is now out of date
    done = cli(secured, "analyst", "setup")
    assert done.returncode == 2
    assert "analyst-user" in said(done) and "manage_index_templates" in said(done)
    assert cli(secured, "admin", "setup").returncode == 0
    assert admin.client.indices.exists_alias(name=admin.leases)

    done = cli(secured, "crawler", "retention", "--keep-months", "6")  # must hold the enrich lease
    assert done.returncode == 2 and "crawler-user" in said(done) and "adwatch-leases" in said(done)

    january = admin.ads_partition("2026-01-05")
    BulkWriter(admin.client, refresh="wait_for").write([replace(january, "demo-html:OLD", ad("OLD"))])
    done = cli(secured, "enricher", "retention", "--keep-months", "6")
    assert done.returncode == 2
    assert "enricher-user" in said(done) and january in said(done) and "delete_index" in said(done)
    done = cli(secured, "admin", "retention", "--keep-months", "6")
    assert done.returncode == 0, done.stderr[-2000:]
    assert january not in admin.ads_partitions() and admin.count(admin.ads) == 3  # November's ads stay


def test_wrong_password_is_refused_with_a_clear_message(secured):
    done = cli(secured, "analyst", "status")
    assert done.returncode == 0 and "no read privilege" not in done.stdout  # the analyst reads all three
    env = settings_for(secured, "analyst")
    with pytest.raises(UserError, match="refused our credentials"):
        connect(load_settings(es_url=secured, es_username="analyst-user", es_password="wrong-password",
                              index_prefix=env.index_prefix))


def test_docker_compose_mounts_the_roles_this_suite_proves():
    import yaml

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    nodes = [svc for svc in compose["services"].values() if svc.get("image", "").startswith("elasticsearch:")
             and "node.name" in svc.get("environment", {})]
    assert len(nodes) == 3
    for node in nodes:
        assert "./adwatch/roles.yml:/usr/share/elasticsearch/config/roles.yml:ro" in node["volumes"]
    roles = yaml.safe_load((ROOT / "adwatch" / "roles.yml").read_text())
    assert sorted(roles) == sorted(f"adwatch_{role}" for role in ROLES)
