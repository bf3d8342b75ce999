"""Leases between real OS processes on the real node: one holder at a time, takeover of the dead or hung."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from adwatch.lease import Lease, LeaseHeld
from adwatch.store import Store

HOLDER = Path(__file__).resolve().parents[1] / "lease_holder.py"
ROOT = HOLDER.parents[1]


def holder(store: Store, url: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(HOLDER), url, store.names.prefix, "enrich", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)


def next_event(proc: subprocess.Popen, timeout_s: float = 60.0) -> dict:
    """The holder's next JSON line (blocking read; the holder prints promptly)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line:
            return json.loads(line)
        if proc.poll() is not None:
            raise AssertionError(f"holder exited {proc.returncode}: {proc.stderr.read()[-2000:]}")
    raise AssertionError("holder said nothing")


def race(store: Store, url: str, n: int, *args: str) -> list[tuple[subprocess.Popen, dict]]:
    """n processes that try for the lease at the same instant; returns each with its verdict."""
    start_at = time.time() + 1.5 + 0.5 * n
    procs = [holder(store, url, "--start-at", str(start_at), *args) for _ in range(n)]
    for proc in procs:
        assert next_event(proc)["event"] == "ready"
    return [(proc, next_event(proc)) for proc in procs]


def test_processes_racing_for_a_free_lease_get_exactly_one_holder(store: Store, es_node):
    store.ensure_schema()
    results = race(store, es_node.url, 3, "--hold", "2")
    winners = [proc for proc, verdict in results if verdict["event"] == "acquired"]
    assert len(winners) == 1
    for proc, verdict in results:
        if proc is not winners[0]:
            assert verdict["event"] == "held"
            # The refusal names the live holder, so the person knows what to wait for.
            assert f":{winners[0].pid} since" in verdict["message"] and "already running" in verdict["message"]
    assert next_event(winners[0])["event"] == "released"
    for proc, _ in results:
        proc.wait(30)
    Lease(store, "enrich", "test").acquire().release()  # free again once released


def test_a_sigkilled_holders_lease_is_taken_over_without_waiting_for_expiry(store: Store, es_node):
    store.ensure_schema()
    first = holder(store, es_node.url, "--ttl", "600", "--hold", "600")
    try:
        assert next_event(first)["event"] == "ready"
        assert next_event(first)["event"] == "acquired"
        with pytest.raises(LeaseHeld, match=f":{first.pid} since"):
            Lease(store, "enrich", "adwatch enrich").acquire()
        first.send_signal(signal.SIGKILL)
        first.wait(30)
        # Same machine, its process gone: taken at once, not after the 600 s it had left.
        lease = Lease(store, "enrich", "adwatch enrich").acquire()
        assert store.client.get(index=store.leases, id="enrich")["_source"]["pid"] == os.getpid()
        lease.release()
    finally:
        first.kill()
        first.wait(30)


def test_a_hung_holder_is_taken_over_after_expiry_by_one_of_two_takers_and_learns_it_lost(store: Store, es_node):
    store.ensure_schema()
    hung = holder(store, es_node.url, "--ttl", "3", "--hold", "600")
    takers = []
    try:
        assert next_event(hung)["event"] == "ready"
        assert next_event(hung)["event"] == "acquired"
        hung.send_signal(signal.SIGSTOP)  # alive, but renewing nothing
        with pytest.raises(LeaseHeld):
            Lease(store, "enrich", "adwatch enrich").acquire()  # not expired yet, holder not known dead
        time.sleep(3.5)
        results = race(store, es_node.url, 2, "--ttl", "60", "--hold", "600")
        takers = [proc for proc, _ in results]
        verdicts = sorted(verdict["event"] for _, verdict in results)
        assert verdicts == ["acquired", "held"]
        hung.send_signal(signal.SIGCONT)
        lost = next_event(hung, timeout_s=30)
        assert lost["event"] == "lost" and "taken over" in lost["message"]
        assert hung.wait(30) == 3
    finally:
        for proc in (hung, *takers):
            proc.send_signal(signal.SIGCONT)
            proc.kill()
            proc.wait(30)


def _lease_doc(store: Store, name: str) -> dict | None:
    found = store.client.options(ignore_status=404).get(index=store.leases, id=name)
    return found.body.get("_source")


def test_the_processes_of_one_shared_job_hold_one_lease_together_until_the_last_gives_it_back(store: Store, es_node):
    """A shared frontier's crawl processes: a member that leaves or dies frees nothing while another renews."""
    store.ensure_schema()
    shared = ("--shared-by", "run:r1", "--ttl", "2")
    early = holder(store, es_node.url, *shared, "--hold", "1", "--leave")
    killed = holder(store, es_node.url, *shared, "--hold", "600")
    last = holder(store, es_node.url, *shared, "--hold", "8")
    try:
        for proc in (early, killed, last):
            assert next_event(proc)["event"] == "ready"
            assert next_event(proc)["event"] == "acquired"  # each joins the job's lease, none is refused
        with pytest.raises(LeaseHeld):
            Lease(store, "enrich", "adwatch enrich").acquire()
        assert next_event(early)["event"] == "left"
        killed.send_signal(signal.SIGKILL)
        killed.wait(30)
        # Past the 2 s expiry and with a dead last renewer possible: the remaining member keeps it.
        time.sleep(3)
        assert _lease_doc(store, "enrich")["holder"] == "run:r1"
        with pytest.raises(LeaseHeld, match="already running"):
            Lease(store, "enrich", "adwatch enrich").acquire()
        assert next_event(last, timeout_s=30)["event"] == "released"  # renewed on top of the others throughout
        assert _lease_doc(store, "enrich") is None
        Lease(store, "enrich", "adwatch enrich").acquire().release()
    finally:
        for proc in (early, killed, last):
            proc.kill()
            proc.wait(30)


def test_an_expired_shared_lease_is_taken_over_and_its_job_can_neither_renew_nor_rejoin_it(store: Store, es_node):
    store.ensure_schema()
    member = holder(store, es_node.url, "--shared-by", "run:r2", "--ttl", "3", "--hold", "600")
    try:
        assert next_event(member)["event"] == "ready"
        assert next_event(member)["event"] == "acquired"
        member.send_signal(signal.SIGSTOP)
        time.sleep(3.5)
        other = Lease(store, "enrich", "adwatch enrich").acquire()  # expired: taken over
        with pytest.raises(LeaseHeld):
            Lease(store, "enrich", "shared run", shared_by="run:r2").acquire()  # the old job cannot come back in
        member.send_signal(signal.SIGCONT)
        lost = next_event(member, timeout_s=30)
        assert lost["event"] == "lost" and "taken over" in lost["message"]
        other.release()
    finally:
        member.send_signal(signal.SIGCONT)
        member.kill()
        member.wait(30)


def test_a_shared_holder_must_be_named_as_a_job():
    with pytest.raises(ValueError, match="run:"):
        Lease(None, "enrich", "x", shared_by="abc")  # type: ignore[arg-type]
