"""Dashboard panels and researcher exports timed on the configured deployment.

    ADWATCH_ES_URL=... ADWATCH_INDEX_PREFIX=... .venv/bin/python bench/panels_exports.py [--repeat 3]

Reads whatever the deployment holds (run `make demo` or bench/cluster_quality.py first). Prints
the time of each panel's dsl search (best of --repeat), the time of the search Kibana builds from
the panel's saved object (read back by tests/dashboards/kibana_form.py) as a ratio to the dsl's,
and whether both return the same rows; then the time of generating the Kibana saved objects, and
of each export (clusters and timeseries, every format) into a temporary directory, with a
throwaway pseudonym secret when none is configured. Needs a running Elasticsearch.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

from adwatch.config import load_settings
from adwatch.store import Store, connect
from dashboards.exports import FORMATS, ExportOptions, export
from dashboards.kibana import object_id, panel_object_type, saved_objects, to_ndjson
from dashboards.panels import all_panels

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "dashboards"))
from kibana_form import kibana_form, request, rows  # noqa: E402  (the tests' reader of saved objects)


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
    objects = saved_objects(settings.index_prefix)
    for panel in all_panels(settings.index_prefix):
        seconds, found = best_of(args.repeat, lambda: panel.stats(store.client))
        kind = panel_object_type(panel)
        obj = next(o for o in objects if (o["type"], o["id"]) == (kind, object_id(settings.index_prefix, kind, panel.id)))
        form = kibana_form(obj, objects)
        body = request(form)
        dsl_seconds, dsl = best_of(args.repeat, lambda: store.client.search(index=form["index"], body=panel.body).body)
        kibana_seconds, kib = best_of(args.repeat, lambda: store.client.search(index=form["index"], body=body).body)
        same = rows(panel.body, dsl) == rows(body, kib) if panel.chart != "list" else \
            [h["_id"] for h in dsl["hits"]["hits"]] == [h["_id"] for h in kib["hits"]["hits"]]
        print(f"panel {panel.id:28s} {seconds * 1000:8.1f} ms  {len(found):6d} rows  "
              f"kibana form {kibana_seconds / dsl_seconds:5.2f}x dsl, {'same rows' if same else 'DIFFERENT ROWS'}")
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
