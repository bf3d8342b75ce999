"""Dashboard panels and researcher exports timed on the configured deployment.

    ADWATCH_ES_URL=... ADWATCH_INDEX_PREFIX=... .venv/bin/python bench/panels_exports.py [--repeat 3]

Reads whatever the deployment holds (run `make demo` or bench/cluster_quality.py first). Prints
the time of each panel's dsl search (best of --repeat), of generating the Kibana saved objects,
and of each export (clusters and timeseries, every format) into a temporary directory, with a
throwaway pseudonym secret when none is configured. Needs a running Elasticsearch.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

from adwatch.config import load_settings
from adwatch.store import Store, connect
from dashboards.exports import FORMATS, ExportOptions, export
from dashboards.kibana import saved_objects, to_ndjson
from dashboards.panels import all_panels


def best_of(repeat: int, work) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        began = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - began)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    settings = load_settings()
    if not settings.pseudonym_secret:
        settings = dataclasses.replace(settings, pseudonym_secret="bench-only-secret-0123456789")
    store = Store(connect(settings), settings.index_prefix)
    print(f"deployment {settings.index_prefix}: {store.counts()}")
    for panel in all_panels(settings.index_prefix):
        seconds, rows = best_of(args.repeat, lambda: panel.stats(store.client))
        print(f"panel {panel.id:28s} {seconds * 1000:8.1f} ms  {len(rows):6d} rows")
    seconds, text = best_of(args.repeat, lambda: to_ndjson(saved_objects(settings.index_prefix)))
    print(f"kibana saved objects         {seconds * 1000:8.1f} ms  {len(text):6d} bytes")
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("clusters", "timeseries"):
            for fmt in FORMATS:
                options = ExportOptions(kind, fmt, Path(tmp) / f"{kind}.{fmt}")
                seconds, result = best_of(args.repeat, lambda: export(settings, options, store))
                print(f"export {kind:10s} {fmt:8s}     {seconds:8.2f} s   {result.rows:6d} rows "
                      f"{result.path.stat().st_size:9d} bytes")


if __name__ == "__main__":
    main()
