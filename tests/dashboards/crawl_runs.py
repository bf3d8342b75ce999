"""Five crawl runs with known statuses, items, errors and alerts, for the crawl panels' tests."""

from __future__ import annotations

from adwatch.bulk import BulkWriter, replace

RUNS = [  # site, day, status, duration_s, items (new, changed, unchanged, removed, invalid), errors, alerts
    ("demo-html", "2026-02-01", "finished", 30.0, (10, 2, 5, 1, 0), {}, []),
    ("demo-html", "2026-02-02", "failed", 5.0, (0, 0, 0, 0, 3), {"http_500": 4}, ["failed", "zero_items"]),
    ("demo-js", "2026-02-01", "finished", 90.0, (7, 0, 3, 0, 1), {"image_download": 2}, ["too_long"]),
    ("demo-js", "2026-02-02", "interrupted", 45.5, (3, 1, 0, 0, 0), {}, []),
    ("demo-js", "2026-02-02", "finished", 60.0, (1, 1, 8, 2, 0), {"http_429": 1, "request_TimeoutError": 3},
     ["error_rate"]),
]


def index_runs(store) -> None:
    """Write RUNS into the store's runs index (schema first), refreshed."""
    store.ensure_schema()
    actions = []
    for n, (site, day, status, duration, items, errors, alerts) in enumerate(RUNS):
        doc = {"run_id": f"run-{n}", "site": site, "trigger": "manual", "started": f"{day}T08:00:00+00:00",
               "finished": f"{day}T09:00:00+00:00", "duration_s": duration, "status": status, "pages": 10,
               "items": dict(zip(("new", "changed", "unchanged", "removed", "invalid"), items)), "errors": errors,
               "alerts": [{"kind": kind, "message": f"{kind} on {site}", "at": f"{day}T09:00:00+00:00"}
                          for kind in alerts]}
        actions.append(replace(store.runs, f"run-{n}", doc))
    assert BulkWriter(store.client, refresh="true").write(actions).failed == 0
