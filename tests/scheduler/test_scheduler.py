"""The scheduler on a clock the test drives, with real crawls of the demo marketplace into the real node."""

from __future__ import annotations

import signal

from conftest import T0, crawl_runs, crawling, make_scheduler, minutes, schedules_for, wait_until

from crawler.runs import read_job
from crawler.scheduler import iso


def test_each_cron_slot_runs_once_at_its_time(site, clock, tmp_path):
    scheduler = make_scheduler(site, schedules_for(tmp_path), clock)
    scheduler.serve(until=T0 + minutes(25))
    runs = crawl_runs(site)
    assert [r["started"] for r in runs] == [iso(T0 + minutes(m)) for m in (0, 10, 20)]
    assert {(r["trigger"], r["status"]) for r in runs} == {("schedule", "finished")}
    assert runs[0]["items"]["new"] > 0 and all(r["items"]["new"] == 0 for r in runs[1:])


def test_a_restarted_scheduler_resumes_from_the_runs_index(site, clock, tmp_path):
    schedules = schedules_for(tmp_path)
    make_scheduler(site, schedules, clock).serve(once=True)
    assert len(crawl_runs(site)) == 1

    clock.set(T0 + minutes(5))  # a new scheduler in the same slot: nothing to do
    make_scheduler(site, schedules, clock).serve(once=True)
    assert len(crawl_runs(site)) == 1

    clock.set(T0 + minutes(47))  # down across four slots: the latest one runs, once
    make_scheduler(site, schedules, clock).serve(once=True)
    clock.set(T0 + minutes(49))
    make_scheduler(site, schedules, clock).serve(once=True)
    assert [r["started"] for r in crawl_runs(site)] == [iso(T0), iso(T0 + minutes(47))]


def test_a_slot_missed_by_more_than_the_grace_waits_for_the_next(site, clock, tmp_path):
    schedules = schedules_for(tmp_path, cron="0 * * * *", misfire_grace="10m")
    clock.set(T0 + minutes(30))
    make_scheduler(site, schedules, clock).serve(once=True)
    assert site.runs("demo-html") == []


def test_a_slot_due_while_the_site_still_crawls_is_skipped(site, clock, tmp_path):
    schedules = schedules_for(tmp_path, polite=True)  # polite: the crawl takes a while
    first = make_scheduler(site, schedules, clock)
    first.recover()
    first.tick()  # starts the 10:00 run
    (crawl,) = first.active.values()
    clock.set(T0 + minutes(10))
    first.tick()
    clock.set(T0 + minutes(20))  # another scheduler (another process) sees the site's lock held
    make_scheduler(site, schedules, clock).tick()
    wait_until(lambda: crawling(site, crawl.job.run_id), "the crawl to be under way")
    first.stop()
    first.drain()

    runs = site.runs("demo-html")
    assert [(r["started"], r["status"]) for r in runs] == [
        (iso(T0), "interrupted"), (iso(T0 + minutes(10)), "skipped"), (iso(T0 + minutes(20)), "skipped")]
    assert not runs[0].get("alerts"), "a run the operator stopped raises no alert"


def test_a_crawl_over_its_max_duration_is_stopped_with_a_too_long_alert(site, clock, tmp_path):
    schedules = schedules_for(tmp_path, polite=True, max_duration=8)
    run = make_scheduler(site, schedules, clock).run_now("demo-html")
    assert run["status"] == "interrupted" and run["trigger"] == "manual"
    assert [a["kind"] for a in run["alerts"]] == ["too_long"]
    job = read_job(site.cache_dir / "jobs" / "demo-html")
    assert job and job.run_id == run["run_id"], "the job directory keeps the run for the next one to resume"


def test_a_run_whose_crawl_was_killed_is_marked_then_resumed(site, clock, tmp_path):
    job_dir = site.cache_dir / "jobs" / "demo-html"
    killed = site.popen("demo-html", "--job-dir", str(job_dir), "--trigger", "schedule")
    run_id = wait_until(lambda: getattr(read_job(job_dir), "run_id", None), "the crawl's job file")
    wait_until(lambda: crawling(site, run_id), "the crawl to be under way")
    killed.send_signal(signal.SIGKILL)
    killed.wait()

    scheduler = make_scheduler(site, schedules_for(tmp_path), clock)
    scheduler.recover()
    (marked,) = site.runs("demo-html")
    assert marked["status"] == "interrupted" and [a["kind"] for a in marked["alerts"]] == ["failed"]

    resumed = scheduler.run_now("demo-html")
    assert resumed["run_id"] == run_id and resumed["status"] == "finished"
    assert [a["kind"] for a in resumed["alerts"]] == ["failed"], "a resume keeps the alerts of earlier attempts"
    assert read_job(job_dir) is None


def test_run_now_enriches_after_a_finished_crawl(site, clock, tmp_path):
    run = make_scheduler(site, schedules_for(tmp_path, enrich=True), clock).run_now("demo-html")
    assert run["status"] == "finished" and not run.get("alerts"), run.get("alerts")
    statuses = {doc["enrich"]["status"] for doc in site.ads("demo-html").values()}
    assert statuses == {"done"}


def test_a_full_recrawl_fetches_every_ad_page_again(site, clock, tmp_path, market):
    make_scheduler(site, schedules_for(tmp_path), clock).run_now("demo-html")
    seen = len(market.access_log)
    run = make_scheduler(site, schedules_for(tmp_path, recrawl="full"), clock).run_now("demo-html")
    ad_pages = {e["path"] for e in market.access_log[seen:] if e["path"].startswith("/html/ad/")}
    assert run["status"] == "finished" and run["items"]["new"] == 0
    assert len(ad_pages) >= len(site.ads("demo-html"))
