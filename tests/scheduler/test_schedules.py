"""Schedules file validation and the pure slot rules (no services)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
from conftest import minutes, write_schedules

from crawler.schedules import ScheduleError, SiteSchedule, due_slot, load_schedules, slot_at
from crawler.sites import load_site

T = datetime(2030, 1, 1, 10, 0, tzinfo=timezone.utc)


def test_shipped_schedules_crawl_only_the_local_demo_marketplace():
    schedules = load_schedules()
    assert schedules.sites
    for name in schedules.sites:
        hosts = {urlsplit(u).hostname for u in load_site(name).start_urls}
        assert hosts <= {"127.0.0.1", "localhost"}, name


def test_durations_read_as_seconds(tmp_path):
    schedules = load_schedules(write_schedules(tmp_path, {"demo-html": {
        "cron": "@hourly", "max_duration": "1h30m", "misfire_grace": 90}}))
    entry = schedules.get("demo-html")
    assert (entry.max_duration, entry.misfire_grace, entry.recrawl, entry.enabled) == (5400, 90, "incremental", True)


@pytest.mark.parametrize("entry, key, problem", [
    ({"cron": "*/10 * * *"}, "key cron", "not a cron expression"),
    ({"cron": "61 * * * *"}, "key cron", "not a cron expression"),
    ({"cron": "* * * * * *"}, "key cron", "5 fields"),
    ({"cron": "@hourly", "max_duration": "20 minutes"}, "key max_duration", "not a duration"),
    ({"cron": "@hourly", "misfire_grace": "10s"}, "key misfire_grace", "greater than or equal to 60"),
    ({"cron": "@hourly", "recrawl": "sometimes"}, "key recrawl", "'incremental' or 'full'"),
    ({"cron": "@hourly", "max_durration": "1h"}, "key max_durration", "Extra inputs are not permitted"),
    ({"enabled": True}, "key cron", "Field required"),
])
def test_a_bad_entry_names_file_site_and_key(tmp_path, entry, key, problem):
    path = write_schedules(tmp_path, {"demo-html": entry})
    with pytest.raises(ScheduleError) as err:
        load_schedules(path)
    message = str(err.value)
    assert str(path) in message and "site demo-html" in message and key in message and problem in message


def test_a_site_without_a_definition_is_refused(tmp_path):
    path = write_schedules(tmp_path, {"no-such-market": {"cron": "@daily"}})
    with pytest.raises(ScheduleError, match=r"site no-such-market: the site definition does not load.*known sites"):
        load_schedules(path)


def test_a_file_of_the_wrong_shape_says_what_it_should_hold(tmp_path):
    path = tmp_path / "schedules.yaml"
    path.write_text("demo-html:\n  cron: '@daily'\n")
    with pytest.raises(ScheduleError, match="holds one key, sites:"):
        load_schedules(path)


def test_a_missing_file_names_the_path(tmp_path):
    with pytest.raises(ScheduleError, match=str(tmp_path / "nope.yaml")):
        load_schedules(tmp_path / "nope.yaml")


def test_run_now_for_an_unscheduled_site_lists_the_scheduled_ones(tmp_path):
    schedules = load_schedules(write_schedules(tmp_path, {"demo-html": {"cron": "@daily"}}))
    with pytest.raises(ScheduleError, match=r"no schedule for site 'demo-js' \(scheduled sites: demo-html\)"):
        schedules.get("demo-js")


def every_10_min(grace: str | int = "1h") -> SiteSchedule:
    return SiteSchedule(site="demo-html", cron="*/10 * * * *", misfire_grace=grace)


def test_a_slot_time_is_its_own_slot():
    assert slot_at("*/10 * * * *", T) == T
    assert slot_at("*/10 * * * *", T + minutes(9.99)) == T


def test_each_slot_is_due_once():
    schedule = every_10_min()
    assert due_slot(schedule, None, T) == T
    assert due_slot(schedule, T, T + minutes(5)) is None
    assert due_slot(schedule, T, T + minutes(10)) == T + minutes(10)


def test_after_downtime_only_the_latest_missed_slot_runs():
    schedule = every_10_min()
    assert due_slot(schedule, T, T + minutes(47)) == T + minutes(40)
    assert due_slot(schedule, T + minutes(40), T + minutes(48)) is None


def test_a_latest_slot_older_than_the_grace_is_skipped():
    daily = SiteSchedule(site="demo-html", cron="0 3 * * *", misfire_grace="1h")
    three = T.replace(hour=3)
    assert due_slot(daily, None, three + minutes(59)) == three
    assert due_slot(daily, None, three + minutes(61)) is None
    assert due_slot(daily, three - timedelta(days=1), three + timedelta(hours=7)) is None
