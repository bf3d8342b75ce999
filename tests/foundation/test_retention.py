"""Retention on a real two-month world: nothing of a dropped ad remains anywhere, survivors are relinked."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import replace as with_fields
from datetime import datetime, timezone
from pathlib import Path

import pytest

from adwatch.lease import ENRICH_LEASE, Lease
from adwatch.retention import apply_retention
from adwatch.store import Store

ROOT = Path(__file__).resolve().parents[2]
FEBRUARY = datetime(2026, 2, 20, tzinfo=timezone.utc)  # world day 0 is 2026-01-01; 59 days reach February


@pytest.fixture
def two_months(store: Store, tmp_path):
    """200 demo ads over January and February 2026, indexed, enriched and clustered."""
    from demo.generator import generate_world
    from enrich.worker import Worker
    from world_index import index_world

    world = tmp_path / "world"
    generate_world(world, 200, 5, days=59)
    images = tmp_path / "images"
    store.ensure_schema()
    index_world(store, world, images)
    Worker(store, images).run()
    return store, images


def strings(value) -> list[str]:
    """Every string inside a JSON value, keys included."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (k, *strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def everything_indexed(store: Store) -> str:
    """Every string of every document of every index of the deployment, one per line."""
    names = sorted(store.client.indices.get(index=f"{store.names.prefix}-*", expand_wildcards="all").body)
    return "\n".join(s for name in names for hit in store.scan(name) for s in strings(hit["_source"]) + [hit["_id"]])


def traces(store: Store) -> dict[str, set[str]]:
    """What identifies January's ads and exists only on them: ids, urls, identifiers, templates, photos."""
    january, february = [], []
    for hit in store.scan(store.ads):
        (january if hit["_source"]["first_seen"] < "2026-02" else february).append((hit["_id"], hit["_source"]))

    def values(ads, pick):
        return {v for _, src in ads for v in pick(src) if v}

    idents = lambda src: src.get("identifiers", [])  # noqa: E731
    templates = lambda src: [src.get("template_text")]  # noqa: E731
    photos = lambda src: [i.get("sha256") for i in src.get("images", [])]  # noqa: E731
    return {
        "ids": {doc_id for doc_id, _ in january},
        "urls": values(january, lambda src: [src["url"]]),
        "identifiers": values(january, idents) - values(february, idents),
        "templates": values(january, templates) - values(february, templates),
        "photos": values(january, photos) - values(february, photos),
    }


def leftovers(store: Store, images: Path, found: dict[str, set[str]], extra_text: str = "") -> dict[str, list[str]]:
    text = everything_indexed(store) + "\n" + extra_text
    lines = set(text.splitlines())
    left = {kind: sorted(v for v in found[kind] if v in lines or re.search(rf"(?<![\w]){re.escape(v)}(?![\w])", text))
            for kind in ("ids", "urls", "identifiers")}
    left["templates"] = sorted(t for t in found["templates"] if t in text)
    on_disk = {p.name.split(".")[0] for p in images.rglob("*") if p.is_file()}
    left["photos"] = sorted(found["photos"] & on_disk)
    return left


def test_retention_leaves_nothing_of_dropped_ads_anywhere_and_owes_the_survivors_a_link_run(two_months, es_settings,
                                                                                          tmp_path):
    from dashboards.exports import ExportOptions, export
    from enrich.worker import Worker

    store, images = two_months
    found = traces(store)
    assert all(found.values()), {k: len(v) for k, v in found.items()}  # the world really spans both months
    before = leftovers(store, images, found)
    assert all(before.values())  # the checks below can see each kind of trace

    jobs = tmp_path / "jobs"
    for site, written in (("old-site", datetime(2026, 1, 30, tzinfo=timezone.utc)), ("new-site", FEBRUARY)):
        (jobs / site).mkdir(parents=True)
        (jobs / site / "run.json").write_text("{}")
        (jobs / site / "crawl.log").write_text("a crawl's output")
        os.utime(jobs / site / "crawl.log", (written.timestamp(), written.timestamp()))
    preview = apply_retention(store, keep_months=1, image_dir=images, today=FEBRUARY, dry_run=True, jobs_dir=jobs)
    assert leftovers(store, images, found) == before and (jobs / "old-site" / "crawl.log").exists()  # untouched
    assert preview.summary().startswith("Dry run, nothing changed")

    report = apply_retention(store, keep_months=1, image_dir=images, today=FEBRUARY, jobs_dir=jobs)
    store.refresh()

    def figures(r):
        return (r.partitions, r.ads_dropped, r.clusters_deleted, r.ads_cleaned, r.ads_owed_linking, r.images_deleted,
                r.image_bytes_freed, r.crawl_logs_deleted)

    assert figures(preview) == figures(report)  # the dry run said exactly what would go
    assert sorted(p.relative_to(jobs).as_posix() for p in jobs.rglob("*.*")) == \
        ["new-site/crawl.log", "new-site/run.json", "old-site/run.json"]

    assert [p.rsplit("-", 1)[-1] for p in report.partitions] == ["2026.01"]
    assert report.ads_dropped == len(found["ids"])
    assert report.clusters_deleted > 0 and report.ads_owed_linking > 0 and report.images_deleted >= len(found["photos"])
    settings = with_fields(es_settings, index_prefix=store.names.prefix, pseudonym_secret="retention-test-secret-1")
    exported = ""
    for kind, extra in (("clusters", {"include_text": True, "k": 1}), ("timeseries", {"k": 1})):
        out = tmp_path / f"{kind}.json"
        export(settings, ExportOptions(kind, "json", out, **extra), store)
        exported += out.read_text() + out.with_name(out.name + ".manifest.json").read_text()
    assert leftovers(store, images, found, exported) == {k: [] for k in before}

    # Owed linking: the survivors of broken clusters have none until enrich links them again.
    owed = store.count(store.ads, {"term": {"enrich.linked": False}})
    assert owed == report.ads_owed_linking
    Worker(store, images).run()
    assert store.count(store.ads, {"term": {"enrich.linked": False}}) == 0
    clusters = {h["_id"]: set(h["_source"]["ads"]) for h in store.scan(store.clusters)}
    assigned = {h["_id"]: h["_source"].get("cluster_id") for h in store.scan(store.ads, source=["cluster_id"])}
    assert all(cid in clusters and doc_id in clusters[cid] for doc_id, cid in assigned.items() if cid)
    assert all(members <= set(assigned) for members in clusters.values())
    assert leftovers(store, images, found) == {k: [] for k in before}


def test_retention_waits_for_a_running_enrich_and_says_so(store: Store, cli_env):
    store.ensure_schema()
    with Lease(store, ENRICH_LEASE, "adwatch enrich"):
        done = subprocess.run([sys.executable, "-m", "adwatch.cli", "retention", "--keep-months", "3"],
                              env={**cli_env, "ADWATCH_INDEX_PREFIX": store.names.prefix}, capture_output=True,
                              text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 2
    assert "adwatch enrich is already running" in " ".join(done.stderr.split())
    assert len(store.ads_partitions()) == 1  # nothing touched


@pytest.mark.parametrize("months", ["0", "-2"])
def test_retention_refuses_to_keep_less_than_one_month(store: Store, cli_env, months):
    store.ensure_schema()
    done = subprocess.run([sys.executable, "-m", "adwatch.cli", "retention", "--keep-months", months],
                          env={**cli_env, "ADWATCH_INDEX_PREFIX": store.names.prefix}, capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert done.returncode == 2
    message = " ".join(done.stderr.split())
    assert "--keep-months must be at least 1" in message and "Nothing was deleted" in message
    assert len(store.ads_partitions()) == 1  # this month's partition is still there
