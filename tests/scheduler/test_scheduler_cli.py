"""`adwatch scheduler` and `adwatch run SITE --now` as real processes: signals, alerts, webhook, bad files."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from conftest import crawl_runs, crawling, wait_until, write_schedules
from crawl_helpers import ROOT

from adwatch.engine import free_port
from crawler.runs import read_job
from crawler.scheduler import SiteLock



def adwatch(*args: str) -> list[str]:
    return [sys.executable, "-m", "adwatch.cli", *args]


def test_sigterm_stops_the_scheduler_and_its_crawl_cleanly(site, tmp_path):
    # Every minute with a grace of five: the first slot is due at start. Polite: the crawl takes a while.
    schedules = write_schedules(tmp_path, {"demo-html": {"cron": "* * * * *", "misfire_grace": "5m"}})
    job_dir = site.cache_dir / "jobs" / "demo-html"
    with (tmp_path / "scheduler.log").open("w+") as output:
        scheduler = subprocess.Popen(adwatch("scheduler", "--schedules", str(schedules)), env=site.env, cwd=ROOT,
                                     stdout=output, stderr=subprocess.STDOUT, text=True)
        run_id = wait_until(lambda: getattr(read_job(job_dir), "run_id", None), "the crawl's job file")
        wait_until(lambda: crawling(site, run_id), "the crawl to be under way")
        scheduler.send_signal(signal.SIGTERM)
        code = scheduler.wait(timeout=180)
        output.seek(0)
        assert code == 0, output.read()[-3000:]

    (run,) = crawl_runs(site)
    assert (run["run_id"], run["trigger"], run["status"]) == (run_id, "schedule", "interrupted")
    assert not run.get("alerts")
    assert read_job(job_dir).run_id == run_id, "the interrupted run waits in its job directory to be resumed"
    assert SiteLock(job_dir).is_free(), "no crawl process is left behind"


def test_a_run_on_a_site_that_is_down_alerts_on_the_run_and_the_webhook(site, tmp_path, webhook):
    schedules = write_schedules(tmp_path, {"demo-html": {"cron": "@daily", "polite": False}})
    env = {**site.env, "ADWATCH_DEMO_URL": f"http://127.0.0.1:{free_port()}", "ADWATCH_ALERT_WEBHOOK_URL": webhook.url}
    done = subprocess.run(adwatch("run", "demo-html", "--now", "--schedules", str(schedules)), env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr[-3000:]

    (run,) = site.runs("demo-html")
    assert run["trigger"] == "manual"
    kinds = sorted(a["kind"] for a in run["alerts"])
    assert kinds == ["error_rate", "zero_items"]
    posted = [p["json"] for p in webhook.received]
    assert sorted(p["kind"] for p in posted) == kinds
    assert {p["content_type"] for p in webhook.received} == {"application/json"}
    assert {(p["site"], p["run_id"], p["trigger"]) for p in posted} == {("demo-html", run["run_id"], "manual")}
    assert "zero_items" in done.stderr and "alert zero_items" in done.stdout
    history = subprocess.run(adwatch("runs"), env={**env, "COLUMNS": "300"}, cwd=ROOT, capture_output=True, text=True,
                             timeout=120)
    assert "zero_items, error_rate" in history.stdout


def _garbling_receiver() -> int:
    """A loopback server that answers every connection with a reply that is not HTTP."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def answer() -> None:
        while True:
            conn, _ = server.accept()
            with conn:
                conn.recv(65536)
                conn.sendall(b"garbage\r\n\r\n")

    threading.Thread(target=answer, daemon=True).start()
    return server.getsockname()[1]


@pytest.mark.parametrize("receiver", ["dead", "garbling"])
def test_a_dead_webhook_is_logged_and_the_alert_is_still_recorded(site, tmp_path, receiver):
    schedules = write_schedules(tmp_path, {"demo-html": {"cron": "@daily", "polite": False}})
    port = free_port() if receiver == "dead" else _garbling_receiver()
    dead = f"http://127.0.0.1:{port}/hooks/secret-token"
    env = {**site.env, "ADWATCH_DEMO_URL": f"http://127.0.0.1:{free_port()}", "ADWATCH_ALERT_WEBHOOK_URL": dead}
    done = subprocess.run(adwatch("run", "demo-html", "--now", "--schedules", str(schedules)), env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-3000:]
    assert "did not take the zero_items alert" in done.stderr
    assert "secret-token" not in done.stderr, "a webhook's path (often a token) stays out of the logs"
    (run,) = site.runs("demo-html")
    assert "zero_items" in {a["kind"] for a in run["alerts"]}


def test_a_bad_schedules_file_stops_the_scheduler_with_its_name_and_key(cli_env, tmp_path):
    schedules = write_schedules(tmp_path, {"demo-html": {"cron": "every ten minutes"}})
    done = subprocess.run(adwatch("scheduler", "--schedules", str(schedules)), env=cli_env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    message = " ".join(done.stderr.split())
    assert str(schedules) in message and "site demo-html, key cron" in message
