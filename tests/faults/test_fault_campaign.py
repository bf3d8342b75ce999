"""The fault campaign, bounded: every disturbed run of one demo world against its undisturbed run.

One campaign per session (tests/faults/campaign.py, the scenarios side by side on deployments of
their own); each test asserts one scenario's outcome. `bench/fault_campaign.py` runs the same
scenarios longer (10 seeds of process kills, 10,000 fuzzed ads).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from campaign import Campaign, Figures, NoMount, Plan
from fuzz_site import CASES


@pytest.fixture(scope="module")
def campaign(es_node):
    # Under /tmp: the campaign's own node may run as an unprivileged user (see engine_nodes).
    with tempfile.TemporaryDirectory(prefix="adwatch-campaign-") as workdir:
        yield Campaign(Plan(), es_node.url, Path(workdir)).run()


def assert_lossless(figures: Figures) -> None:
    assert (figures.lost, figures.duplicates, figures.inconsistencies) == (0, 0, 0), figures.details
    assert (figures.differing, figures.clusters_differ) == (0, 0), figures.details
    assert figures.crashes == 0, figures.details


def test_engine_killed_during_a_crawl_enrichment_and_link_write_loses_and_corrupts_nothing(campaign):
    figures = campaign.result("engine")
    assert_lossless(figures)
    assert not [d for d in figures.details if "no restart under it" in d], figures.details


def test_a_crawl_under_a_node_restart_reports_its_run_as_it_ended(campaign):
    assert campaign.result("engine").misreported_runs == 0, campaign.result("engine").details


@pytest.mark.parametrize("seed", Plan().kill_seeds)
def test_crawl_and_worker_sigkilled_at_random_then_rerun_match_the_undisturbed_run(campaign, seed):
    figures = campaign.result(f"kills-{seed}")
    assert_lossless(figures)
    assert figures.misreported_runs == 0, figures.details


def test_marketplace_outage_bursts_lose_nothing_and_their_failed_requests_are_counted_in_the_run(campaign):
    figures = campaign.result("outages")
    assert_lossless(figures)
    served, recorded = figures.by_kind["http answers"]
    assert served > 0 and recorded == served, figures.details
    assert figures.by_kind["broken connections"][1] > 0, figures.details


def test_a_full_image_store_keeps_the_ads_records_the_images_and_the_next_run_fills_them(campaign):
    try:
        figures = campaign.result("disk")
    except NoMount as exc:
        pytest.skip(f"needs root to mount a small tmpfs: {exc}")
    assert figures.bad_served > 0 and figures.bad_recorded == figures.bad_served, figures.details
    assert_lossless(figures)


@pytest.mark.parametrize("case", [c.name for c in CASES])
def test_every_fuzzed_page_and_image_is_stored_or_counted_as_its_case_expects(campaign, case):
    served, handled = campaign.result("fuzz").by_case[case]
    assert served > 0 and handled == served


def test_every_fuzzed_ad_stored_is_enriched_or_in_error_with_a_reason(campaign):
    figures = campaign.result("fuzz").figures
    assert figures.inconsistencies == 0 and figures.duplicates == 0, figures.details


def test_a_fuzzed_crawls_log_carries_no_ad_text(campaign):
    assert campaign.result("fuzz").log_leaks == 0
