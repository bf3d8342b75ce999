"""`adwatch demo run` — what `make demo` does — end to end on a small world, as a real process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from demo.world import read_meta, read_truth

ROOT = Path(__file__).resolve().parents[2]


def test_demo_run_crawls_both_flavours_clusters_and_scores_against_the_truth(cli_env, tmp_path):
    done = subprocess.run([sys.executable, "-m", "adwatch.cli", "demo", "run", "--out", str(tmp_path), "--ads", "160",
                           "--seed", "4", "--on-cluster", "--yes"], env=cli_env, capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    text = " ".join(done.stdout.split())
    assert "Crawl of demo-html ended: finished" in text and "Crawl of demo-js ended: finished" in text
    assert "Largest of" in text
    scores = json.loads((tmp_path / "evaluation.json").read_text())
    last_day = read_meta(tmp_path / "world")["days"] - 1
    truth = read_truth(tmp_path / "world")
    live = [t for t in truth if t["first_day"] <= last_day and (t["removed_day"] is None or t["removed_day"] > last_day)]
    # Pages the demo breaks on purpose (truncated, missing title) are the only ones allowed to be missing.
    assert scores["ads"] >= 0.9 * len(live)
    assert scores["pairwise_f1"] >= 0.9 and scores["bcubed_f1"] >= 0.9
    assert any((tmp_path / "cache" / "images").rglob("*.jpg"))
    # The analyst outputs: Kibana objects that parse, and a researcher export free of raw identifiers.
    objects = [json.loads(line) for line in (tmp_path / "kibana" / "adwatch-demo.ndjson").read_text().splitlines()]
    assert sum(o["type"] == "dashboard" for o in objects) == 4
    export = (tmp_path / "exports" / "clusters.csv").read_text()
    manifest = json.loads((tmp_path / "exports" / "clusters.csv.manifest.json").read_text())
    assert manifest["rows"] == len(export.splitlines()) - 1 and manifest["parameters"]["k"] == 5
    people = {p.lstrip("+") for t in truth for p in t["phones"] + t["emails"]}
    assert people and not any(p in export for p in people)
