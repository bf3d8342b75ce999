"""The cluster view's activity summary: per week for short spans, per month for long ones."""

from __future__ import annotations

from datetime import date, timedelta

from dashboards.lookup_cluster import activity


def test_short_span_counts_ads_per_weekday_from_monday():
    granularity, rows = activity(["2026-02-21", "2026-02-21", "2026-02-23"])  # a Saturday and the Monday after
    assert granularity == "week"
    assert rows == [("2026-02-16", [0, 0, 0, 0, 0, 2, 0]), ("2026-02-23", [1, 0, 0, 0, 0, 0, 0])]


def test_long_span_counts_ads_and_active_days_per_month():
    start = date(2026, 1, 1)
    days = [(start + timedelta(days=k)).isoformat() for k in range(0, 200, 2)]  # every other day, 100 ads
    granularity, rows = activity(days + days[:1])
    assert granularity == "month"
    assert sum(ads for _, (ads, _) in rows) == 101
    assert sum(active for _, (_, active) in rows) == 100
    assert [month for month, _ in rows] == [f"2026-{m:02d}" for m in range(1, 8)]
