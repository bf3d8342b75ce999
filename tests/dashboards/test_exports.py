"""`adwatch export`: no raw personal data, small counts suppressed, statistics right, files whole or absent."""

from __future__ import annotations

import csv
import hashlib
import json
import statistics
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import pytest

from adwatch import __version__
from dashboards.exports import Table, write_export
from dashboards.pseudonyms import Pseudonymiser


def read_rows(path: Path) -> list[dict]:
    """An export's rows in any format, values as the format holds them."""
    if path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))
    if path.suffix == ".json":
        return json.loads(path.read_text(encoding="utf-8"))
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pylist()


def run_export(adwatch, tmp_path: Path, kind: str, fmt: str, *args: str, **env) -> tuple[Path, list[dict], dict]:
    out = tmp_path / f"{kind}.{fmt}"
    done = adwatch("export", kind, "--format", fmt, "--out", str(out), *args, **env)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((tmp_path / f"{out.name}.manifest.json").read_text())
    return out, read_rows(out), manifest


def personal_strings(world_truth: list[dict]) -> set[str]:
    """Every phone (E.164 and bare digits), email and handle (with and without platform) of the world."""
    found = set()
    for record in world_truth:
        for phone in record["phones"]:
            found |= {phone, phone.lstrip("+")}
        found |= set(record["emails"])
        for handle in record["handles"]:
            found |= {handle, handle.split(":", 1)[-1], handle.split(":", 1)[-1].lstrip("@")}
    return {s for s in found if len(s) >= 5}


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
@pytest.mark.parametrize("kind", ["clusters", "timeseries"])
def test_default_export_holds_no_phone_email_handle_id_or_url(adwatch, tmp_path, world_truth, indexed_clusters,
                                                              kind, fmt):
    out, rows, _ = run_export(adwatch, tmp_path, kind, fmt, "--k", "2")
    assert rows
    # Raw bytes, and for parquet (compressed pages) the decoded values as text too.
    texts = [out.read_bytes().decode("latin-1").lower(), json.dumps(rows, default=str).lower()]
    secrets_of_people = {s.lower() for s in personal_strings(world_truth) | set(indexed_clusters)}
    for text in texts:
        leaked = sorted(s for s in secrets_of_people if s in text)
        assert not leaked, leaked[:5]
        assert "http" not in text and "127.0.0.1" not in text


def test_include_text_is_needed_for_templates_urls_and_names(adwatch, tmp_path):
    _, plain, _ = run_export(adwatch, tmp_path, "clusters", "json", "--k", "2")
    _, with_text, manifest = run_export(adwatch, tmp_path, "clusters", "json", "--k", "2", "--include-text")
    assert "representative_url" not in plain[0] and "template" not in plain[0]
    assert all(row["representative_url"].startswith("http://127.0.0.1/") for row in with_text)
    assert any(row["template"] for row in with_text) and all(row["city_names"] for row in with_text)
    assert manifest["parameters"]["include_text"] is True


def test_pseudonyms_are_stable_for_one_secret_and_unrelated_across_secrets(adwatch, tmp_path, indexed_clusters, secret):
    first_dir, second_dir, other_dir = (tmp_path / name for name in ("a", "b", "c"))
    for directory in (first_dir, second_dir, other_dir):
        directory.mkdir()
    first, rows, first_manifest = run_export(adwatch, first_dir, "clusters", "csv", "--k", "2")
    second, _, second_manifest = run_export(adwatch, second_dir, "clusters", "csv", "--k", "2")
    _, other_rows, other_manifest = run_export(adwatch, other_dir, "clusters", "csv", "--k", "2",
                                               ADWATCH_PSEUDONYM_SECRET="another-secret-9876543210")
    assert first.read_bytes() == second.read_bytes()
    assert first_manifest["pseudonyms"]["key_id"] == second_manifest["pseudonyms"]["key_id"] != \
        other_manifest["pseudonyms"]["key_id"]
    keys = {row["cluster_key"] for row in rows}
    idents = {i for row in rows for i in row["identifiers"].split(";") if i}
    assert keys == {Pseudonymiser(secret)(cid, "cluster") for cid in indexed_clusters}
    assert not keys & {row["cluster_key"] for row in other_rows}
    assert idents and not idents & {i for row in other_rows for i in row["identifiers"].split(";") if i}


def test_cluster_statistics_match_the_index(adwatch, tmp_path, indexed_ads, indexed_clusters, secret):
    _, rows, manifest = run_export(adwatch, tmp_path, "clusters", "json", "--k", "2")
    key = Pseudonymiser(secret)
    by_key = {row["cluster_key"]: row for row in rows}
    days_of = defaultdict(list)
    for ad in indexed_ads.values():
        if ad.get("cluster_id"):
            days_of[ad["cluster_id"]].append(date.fromisoformat(ad["first_seen"][:10]).toordinal())
    assert len(rows) == len(indexed_clusters) == manifest["rows"]
    assert sum(row["size"] for row in rows) == sum(len(d) for d in days_of.values())
    for cluster_id, cluster in indexed_clusters.items():
        row, days = by_key[key(cluster_id, "cluster")], sorted(days_of[cluster_id])
        gaps = [b - a for a, b in zip(days, days[1:])]
        recent = sum(1 for d in days if d > days[-1] - 7)
        assert (row["size"], row["active_days"], row["sites"], row["cities"]) == \
            (len(days), len(set(days)), len(cluster["sites"]), len(cluster["cities"]))
        assert row["span_days"] == days[-1] - days[0] + 1
        assert row["ads_per_active_day"] == pytest.approx(len(days) / len(set(days)), abs=1e-3)
        assert row["median_gap_days"] == statistics.median(gaps)
        assert row["ads_last_7d"] == recent
        before = len(days) - recent
        assert row["growth_7d"] == (pytest.approx(recent / before, abs=1e-3) if before else None)
        assert {k: row[f"evidence_{k}"] for k in cluster["evidence"]} == cluster["evidence"]
        assert sorted(row["identifiers"]) == sorted(key(i["value"], i["kind"]) for i in cluster.get("identifiers", []))


def test_clusters_under_k_are_left_out_and_counted(adwatch, tmp_path, indexed_clusters):
    _, rows, manifest = run_export(adwatch, tmp_path, "clusters", "csv")  # default k = 5
    sizes = [c["size"] for c in indexed_clusters.values()]
    assert sorted(int(row["size"]) for row in rows) == sorted(s for s in sizes if s >= 5)
    assert manifest["suppression"]["clusters_left_out_below_k"] == sum(1 for s in sizes if s < 5)
    _, rows, _ = run_export(adwatch, tmp_path, "clusters", "csv", "--k", "2", "--min-size", "4")
    assert sorted(int(row["size"]) for row in rows) == sorted(s for s in sizes if s >= 4)


def _true_cells(world_records, indexed_ads, indexed_clusters) -> Counter:
    """(day, measure, by, group) -> count, from the world file and plain document scans."""
    cells = Counter()
    for ad in world_records:
        cells[(ad["day"], "ads", "all", "")] += 1
        cells[(ad["day"], "ads", "site", ad["site"])] += 1
        cells[(ad["day"], "ads", "category", ad["category"])] += 1
    for ad in indexed_ads.values():
        group = "in_cluster" if ad.get("cluster_id") else "not_in_cluster"
        cells[(ad["first_seen"][:10], "ads", "cluster", group)] += 1
    for cluster in indexed_clusters.values():
        cells[(cluster["first_seen"][:10], "new_clusters", "all", "")] += 1
    return cells


def test_timeseries_without_suppression_matches_the_truth(adwatch, tmp_path, world_records, indexed_ads,
                                                          indexed_clusters):
    _, rows, manifest = run_export(adwatch, tmp_path, "timeseries", "parquet", "--k", "1")
    assert not any(row["suppressed"] for row in rows)
    assert Counter({(r["day"], r["measure"], r["by"], r["group"]): r["count"] for r in rows}) == \
        _true_cells(world_records, indexed_ads, indexed_clusters)
    assert manifest["panels"] == ["ads-per-day-in-clusters", "ads-per-day-by-site", "ads-per-day-by-category",
                                  "new-clusters-per-day"]


def test_timeseries_suppresses_counts_under_k_and_their_complements(adwatch, tmp_path, world_records, indexed_ads,
                                                                    indexed_clusters):
    k = 5
    _, rows, manifest = run_export(adwatch, tmp_path, "timeseries", "json", "--k", str(k))
    truth = _true_cells(world_records, indexed_ads, indexed_clusters)
    assert {(r["day"], r["measure"], r["by"], r["group"]) for r in rows} == set(truth)
    groups = defaultdict(list)
    for row in rows:
        cell = (row["day"], row["measure"], row["by"], row["group"])
        if row["suppressed"]:
            assert row["count"] is None
        else:
            assert row["count"] == truth[cell] >= k
        groups[cell[:3]].append((truth[cell], row["suppressed"]))
    hidden_somewhere = False
    for cells in groups.values():
        hidden = [n for n, suppressed in cells if suppressed]
        assert all(n >= k for n, suppressed in cells if not suppressed)
        if hidden and len(cells) > 1:  # what the day's total gives away is the hidden cells' sum: at least k
            hidden_somewhere = True
            assert sum(hidden) >= k or len(hidden) == len(cells)
    assert hidden_somewhere and manifest["suppression"]["cells_hidden_below_k"] > 0


def test_manifest_describes_the_file(adwatch, tmp_path):
    out, rows, manifest = run_export(adwatch, tmp_path, "timeseries", "csv", "--since", "2026-01-05",
                                     "--until", "2026-02-01")
    assert manifest["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert manifest["bytes"] == out.stat().st_size and manifest["rows"] == len(rows)
    assert manifest["adwatch_version"] == __version__ and manifest["format"] == "csv"
    assert manifest["parameters"]["since"] == "2026-01-05" and manifest["parameters"]["k"] == 5
    assert manifest["index_snapshot"]["ads"] > 0 and manifest["index_snapshot"]["taken_at"]
    assert {row["day"] for row in rows} and all("2026-01-05" <= row["day"] < "2026-02-01" for row in rows)


def test_missing_secret_exits_2_names_the_setting_and_writes_nothing(adwatch, tmp_path):
    out = tmp_path / "clusters.csv"
    done = adwatch("export", "clusters", "--format", "csv", "--out", str(out), ADWATCH_PSEUDONYM_SECRET=None)
    assert done.returncode == 2
    message = " ".join(done.stderr.split())
    assert "ADWATCH_PSEUDONYM_SECRET" in message and "pseudonym_secret" in message
    assert "Traceback" not in done.stderr and list(tmp_path.iterdir()) == []


def test_short_secret_is_refused(adwatch, tmp_path):
    done = adwatch("export", "clusters", "--format", "csv", "--out", str(tmp_path / "c.csv"),
                   ADWATCH_PSEUDONYM_SECRET="short")
    assert done.returncode == 2 and "at least 16" in done.stderr and list(tmp_path.iterdir()) == []


def test_empty_index_is_a_clear_error(adwatch, store, tmp_path):
    store.ensure_schema()
    done = adwatch("export", "timeseries", "--format", "csv", "--out", str(tmp_path / "t.csv"),
                   ADWATCH_INDEX_PREFIX=store.names.prefix)
    assert done.returncode == 2 and "empty" in done.stderr and store.ads in " ".join(done.stderr.split())
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args, message", [
    (["--format", "xlsx"], "invalid choice"),
    (["--format", "csv", "--since", "last week"], "YYYY-MM-DD"),
    (["--format", "csv", "--since", "2026-02-01", "--until", "2026-01-01"], "not before"),
    (["--format", "csv", "--k", "0"], "at least 1"),
])
def test_bad_options_exit_2_without_a_file(adwatch, tmp_path, args, message):
    done = adwatch("export", "timeseries", "--out", str(tmp_path / "t.csv"), *args)
    assert done.returncode == 2 and message in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_leaves_neither_export_nor_manifest(tmp_path):
    table = Table([("count", "int")], [{"count": 3}, {"count": "not a number"}])
    with pytest.raises(Exception):
        write_export(tmp_path / "t.parquet", "parquet", table, {})
    assert list(tmp_path.iterdir()) == []
