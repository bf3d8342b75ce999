"""Run alerts: what an operator must hear about after a crawl run, and the three places it goes.

`check_run` is pure: a run document in, alerts out (failed, zero_items, error_rate, too_long).
`Alerter.notify` is the edge: each alert is logged, added to the run document's `alerts` in the
runs index, and POSTed as JSON to the webhook when one is configured. Messages carry counts, ids
and site names, never ad content. A webhook that fails is logged and never stops the caller.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from dataclasses import asdict, dataclass

from adwatch.store import Store
from crawler.scheduler_state import RunHistory

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Alert:
    kind: str  # failed | zero_items | error_rate | too_long
    message: str
    at: str  # ISO time, UTC


def error_count(errors: dict[str, int], gone_statuses: tuple[int, ...] = (404, 410)) -> int:
    """Errors that count against a run: every recorded error but the answers that mean 'ad removed'."""
    expected = {f"http_{status}" for status in gone_statuses}
    return sum(int(n) for kind, n in errors.items() if kind not in expected)


def check_run(run: dict, at: str, error_rate_limit: float, stopped_after_s: float | None = None,
              reason: str | None = None, gone_statuses: tuple[int, ...] = (404, 410)) -> list[Alert]:
    """Alerts one run deserves.

    `stopped_after_s`: the run was stopped for exceeding that many seconds. `reason`: why it ended,
    when Scrapy could not say (the process died); otherwise Scrapy's finish reason is quoted.
    """
    alerts = []
    status, pages = run.get("status"), int(run.get("pages") or 0)
    if stopped_after_s is not None:
        alerts.append(Alert("too_long", f"ran longer than its max_duration of {stopped_after_s:.0f} s and was "
                                        "stopped; its job directory resumes it on the next run", at))
    elif status in ("failed", "interrupted"):
        reason = reason or (run.get("scrapy_stats") or {}).get("finish_reason") or "unknown"
        alerts.append(Alert("failed", f"the crawl ended {status} ({reason})", at))
    items = run.get("items") or {}
    found = sum(int(items.get(k) or 0) for k in ("new", "changed", "unchanged"))
    if status == "finished" and found == 0:
        alerts.append(Alert("zero_items", f"found no ads ({pages} pages, {items.get('invalid', 0)} invalid): the site "
                                          "may be down or empty, or its layout no longer matches the site definition",
                            at))
    errors = error_count(run.get("errors") or {}, gone_statuses)
    if errors and (pages == 0 or errors / pages > error_rate_limit):
        rate = "no page received" if pages == 0 else f"{errors / pages:.0%} of {pages} pages"
        alerts.append(Alert("error_rate", f"{errors} errors ({rate}; the limit is {error_rate_limit:.0%})", at))
    return alerts


class Alerter:
    """Logs alerts, records them on their run document and posts them to an optional webhook."""

    def __init__(self, store: Store, webhook_url: str = "", timeout_s: float = 5.0) -> None:
        self.history = RunHistory(store)
        self.webhook_url = webhook_url
        self.timeout_s = timeout_s

    def notify(self, run: dict, alerts: list[Alert]) -> None:
        if not alerts:
            return
        for alert in alerts:
            log.warning("alert %s on run %s of %s: %s", alert.kind, run["run_id"], run["site"], alert.message)
        recorded = list(run.get("alerts") or []) + [asdict(a) for a in alerts]
        run["alerts"] = recorded
        # The webhook first: when Elasticsearch itself is the outage, the alert must still go out.
        if self.webhook_url:
            for alert in alerts:
                self._post(run, alert)
        try:
            self.history.update(run["run_id"], {"alerts": recorded})
        except Exception as exc:  # noqa: BLE001 - a scheduler must outlive an unreachable index
            log.error("could not record the alerts of run %s on its run document: %s", run["run_id"], exc)

    def _post(self, run: dict, alert: Alert) -> None:
        payload = {**asdict(alert), "site": run["site"], "run_id": run["run_id"], "status": run.get("status"),
                   "trigger": run.get("trigger"),
                   # Chat webhooks (Slack, Mattermost) show `text`; other receivers read the fields.
                   "text": f"AdWatch {alert.kind} on {run['site']} run {run['run_id']}: {alert.message}"}
        request = urllib.request.Request(self.webhook_url, data=json.dumps(payload).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as reply:
                reply.read()
        except Exception as exc:  # noqa: BLE001 - URLError, timeouts, a garbled reply (HTTPException): all just logged
            # The alert is already logged and on the run document; a dead receiver must not stop crawling.
            log.error("alert webhook %s did not take the %s alert of run %s: %s", _safe_url(self.webhook_url),
                      alert.kind, run["run_id"], exc)


def _safe_url(url: str) -> str:
    """The webhook's scheme and host only: its path often holds a secret token."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}/..." if rest else "(invalid URL)"
