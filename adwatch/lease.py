"""Leases: a job that must not run twice at once (enrich, recluster, retention) holds one.

A lease is one document in `<prefix>-leases` (a crawl's: `<prefix>-crawl-leases`) whose `_id`
is the lease name. Taking it is a `create` (the first writer wins); renewing, releasing and taking over an expired lease are
writes conditional on the version last read (`if_seq_no` / `if_primary_term`), so of two
processes that race for it exactly one wins, and a holder that was taken over finds out at its
next renewal instead of writing over its successor.

A holder renews in a background thread every `ttl_s / 4`; a lease not renewed for `ttl_s`
(its holder hung, crashed, or lost the cluster) may be taken over. A holder on this same machine
that is no longer running (same boot and pid namespace, its pid gone or reused) is taken over at
once, so a crashed `adwatch enrich` does not make the next one wait. Expiry compares wall clocks:
hosts sharing a cluster need synchronised clocks (NTP), which Elasticsearch itself expects.

A shared lease is held by one job that runs as several processes (a crawl on a shared frontier,
crawler/frontier.py): its holder is the job's own id (`shared_by="run:<run id>"`), so every process
of the job takes it by that id, any of them renews it (a renewal that meets another member's
renewal re-reads and goes on), a member that leaves early stops renewing (`leave`), and the last
one gives it back (`release`). A process of another job is refused while any member renews, and
takes it over only once it expired: one member's death says nothing about the others.

    with Lease(store, ENRICH_LEASE, "adwatch enrich") as lease:
        ...
        lease.check()   # before each write phase: raises LeaseLost when another process took over
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from elasticsearch import BadRequestError, ConflictError, NotFoundError

from adwatch.bulk import Version
from adwatch.errors import EngineUnavailable, UserError
from adwatch.retry import call
from adwatch.store import Store

log = logging.getLogger(__name__)

# Enrichment, reclustering and retention all rewrite ads' links and the clusters index: one at a time.
ENRICH_LEASE = "enrich"
DEFAULT_TTL_S = 120.0


class LeaseHeld(UserError):
    """Another live process holds the lease; the message names it and what to do."""

    def __init__(self, message: str, holder: dict) -> None:
        super().__init__(message)
        self.holder = holder


class LeaseLost(UserError):
    """This process held the lease, but it expired and another process took it over."""


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(when: datetime) -> str:
    return when.isoformat(timespec="milliseconds")


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


def _start_ticks(pid: int) -> str:
    """When the process started (clock ticks since boot): tells a reused pid from the original."""
    stat = _read(f"/proc/{pid}/stat")
    return stat.rsplit(")", 1)[-1].split()[19] if stat else ""


def process_identity(pid: int | None = None) -> dict:
    """What identifies a process across machines and reboots (Linux /proc)."""
    pid = pid or os.getpid()
    try:
        pid_ns = os.readlink("/proc/self/ns/pid")
    except OSError:
        pid_ns = ""
    return {"host": socket.gethostname(), "boot_id": _read("/proc/sys/kernel/random/boot_id"), "pid_ns": pid_ns,
            "pid": pid, "start": _start_ticks(pid)}


def known_dead(identity: dict) -> bool:
    """True only when `identity` is a process of this machine, boot and pid namespace that is gone."""
    here = process_identity()
    if not identity.get("boot_id") or any(identity.get(k) != here[k] for k in ("host", "boot_id", "pid_ns")):
        return False  # another machine or container: only expiry tells
    return _start_ticks(int(identity.get("pid", 0))) != identity.get("start")


SHARED_PREFIX = "run:"


def _shared(holder: object) -> bool:
    return isinstance(holder, str) and holder.startswith(SHARED_PREFIX)


class Lease:
    """One named lease in one deployment, held by this process while `acquire`d (with `shared_by`:
    held with the other processes of one job)."""

    def __init__(self, store: Store, name: str, purpose: str, ttl_s: float = DEFAULT_TTL_S,
                 renew_every_s: float | None = None, index: str | None = None, shared_by: str | None = None) -> None:
        if shared_by is not None and not _shared(shared_by):
            raise ValueError(f"a shared lease's holder starts with {SHARED_PREFIX!r}, got {shared_by!r}")
        self.store = store
        self.index = index or store.leases  # crawls keep theirs apart (Store.crawl_leases): another role writes them
        self.name = name
        self.purpose = purpose
        self.ttl_s = ttl_s
        self.renew_every_s = renew_every_s or ttl_s / 4
        self.shared_by = shared_by
        self.holder_id = ""
        self._acquired_at = ""
        self.version: Version | None = None
        self.lost: str | None = None  # why, once another process took over
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ taking and giving back

    def acquire(self) -> "Lease":
        """Take the lease (or raise LeaseHeld naming its live holder); renew it in the background."""
        self.holder_id = self.shared_by or uuid.uuid4().hex
        for _ in range(5):  # a holder releasing while we look is the only reason to go round again
            doc = self._document(acquired_at=_now())
            try:
                resp = call(self.store.client, f"taking the {self.name} lease",
                            lambda c: c.create(index=self.index, id=self.name, document=doc, require_alias=True))
                return self._taken(resp, doc)
            except ConflictError:
                pass
            except (NotFoundError, BadRequestError) as exc:
                raise self._no_index(exc) from exc
            current = self._current()
            if current is None:
                continue
            source, version = current
            if source.get("holder") == self.holder_id:  # our own create answered late, or our job's lease
                self._taken({"_seq_no": version.seq_no, "_primary_term": version.primary_term}, source)
                if self.shared_by:
                    self.renew()  # joined: its expiry is ours to push now, not after a heartbeat
                return self
            if not self._takeable(source):
                raise self._held(source)
            doc = self._document(acquired_at=_now())
            try:
                resp = call(self.store.client, f"taking over the {self.name} lease",
                            lambda c: c.index(index=self.index, id=self.name, document=doc,
                                              if_seq_no=version.seq_no, if_primary_term=version.primary_term,
                                              require_alias=True))
            except ConflictError:
                continue  # another taker won the same expired lease: look again
            log.warning("took over the %s lease from %s:%s (%s)", self.name, source.get("host"), source.get("pid"),
                        "its process is gone" if known_dead(source.get("process") or {}) else
                        f"expired at {source.get('expires_at')}")
            return self._taken(resp, doc)
        current = self._current()
        raise self._held(current[0] if current else {})

    def _stop_renewing(self) -> None:
        self._stop.set()
        if self._thread and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    def leave(self) -> None:
        """Stop renewing without giving the lease back: the other processes of a shared job keep it."""
        self._stop_renewing()
        with self._lock:
            self.version = None

    def release(self) -> None:
        """Give the lease back (only if still ours: a shared one, if still our job's) and stop renewing."""
        self._stop_renewing()
        with self._lock:
            if self.version is None or self.lost:
                return
            version, self.version = self.version, None
            if self.shared_by:
                # Other members renewed since we last did: give back the version that is there, if ours.
                current = self._current()
                if current is None or current[0].get("holder") != self.holder_id:
                    log.warning("the %s lease was no longer ours when released", self.name)
                    return
                version = current[1]
            try:
                call(self.store.client, f"releasing the {self.name} lease",
                     lambda c: c.delete(index=self.index, id=self.name, if_seq_no=version.seq_no,
                                        if_primary_term=version.primary_term))
            except (ConflictError, NotFoundError):
                log.warning("the %s lease was no longer ours when released", self.name)
            except EngineUnavailable:
                log.warning("could not release the %s lease (cluster unavailable); it expires by itself", self.name)

    def __enter__(self) -> "Lease":
        return self.acquire()

    def __exit__(self, *exc_info) -> None:
        self.release()

    # ------------------------------------------------------------------ holding

    def renew(self) -> None:
        """Push the expiry `ttl_s` ahead; raises LeaseLost when another process took the lease over."""
        with self._lock:
            self.check()
            if self.version is None:
                raise LeaseLost(f"the {self.name} lease is not held by this process")
            doc = self._document(acquired_at=None)
            version = self.version
            # A shared lease's version moves with every member's renewal: re-read and renew on top,
            # as long as the lease is still our job's.
            for _ in range(5):
                try:
                    resp = call(self.store.client, f"renewing the {self.name} lease",
                                lambda c: c.index(index=self.index, id=self.name, document=doc,
                                                  if_seq_no=version.seq_no, if_primary_term=version.primary_term,
                                                  require_alias=True))
                    self.version = Version(resp["_seq_no"], resp["_primary_term"])
                    return
                except (ConflictError, NotFoundError):
                    current = self._current()
                    if not (self.shared_by and current and current[0].get("holder") == self.holder_id):
                        break
                    version = current[1]
            who = f"{current[0].get('host')}:{current[0].get('pid')}" if current else "nobody (it was deleted)"
            self.lost = (f"the {self.name} lease expired and was taken over by {who}; this process "
                         f"({self.purpose}) must stop without writing more")
            self.version = None
            raise LeaseLost(self.lost)

    def check(self) -> None:
        """Raise LeaseLost if another process took the lease over; call before each write phase."""
        if self.lost:
            raise LeaseLost(self.lost)

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.renew_every_s):
            try:
                self.renew()
            except LeaseLost as exc:
                log.error("%s", exc)
                return
            except EngineUnavailable as exc:
                # The cluster is gone for everyone; renewing again once it is back is all we can do.
                log.warning("could not renew the %s lease: %s", self.name, exc)

    # ------------------------------------------------------------------ reading

    def _current(self) -> tuple[dict, Version] | None:
        try:
            got = call(self.store.client, f"reading the {self.name} lease",
                       lambda c: c.get(index=self.index, id=self.name))
        except NotFoundError:
            return None
        return got["_source"], Version(got["_seq_no"], got["_primary_term"])

    def _takeable(self, source: dict) -> bool:
        try:
            expires = datetime.fromisoformat(source["expires_at"])
        except (KeyError, TypeError, ValueError):
            return True  # not a lease document we understand: nothing to respect
        # A shared lease's `process` is its last renewer only: the others may still be at work.
        return expires <= _now() or (not _shared(source.get("holder")) and known_dead(source.get("process") or {}))

    def _document(self, acquired_at: datetime | None) -> dict:
        now = _now()
        identity = process_identity()
        doc = {"name": self.name, "holder": self.holder_id, "host": identity["host"], "pid": identity["pid"],
               "purpose": self.purpose, "renewed_at": _iso(now), "expires_at": _iso(now + timedelta(seconds=self.ttl_s)),
               "process": identity}
        doc["acquired_at"] = _iso(acquired_at) if acquired_at else self._acquired_at
        return doc

    def _taken(self, resp, doc: dict) -> "Lease":
        self.version = Version(resp["_seq_no"], resp["_primary_term"])
        self._acquired_at = doc["acquired_at"]
        self.lost = None
        self._stop.clear()
        self._thread = threading.Thread(target=self._heartbeat, name=f"adwatch-lease-{self.name}", daemon=True)
        self._thread.start()
        return self

    def _held(self, source: dict) -> LeaseHeld:
        return LeaseHeld(
            f"{source.get('purpose', 'another AdWatch job')} is already running (holder "
            f"{source.get('host', '?')}:{source.get('pid', '?')} since {source.get('acquired_at', '?')}, lease "
            f"'{self.name}' in {self.index} renewed until {source.get('expires_at', '?')}). Wait for it to "
            f"finish and run {self.purpose} again; if that process is gone for good, its lease can be taken over "
            "once it expires.", source)

    def _no_index(self, exc: Exception) -> UserError:
        return UserError(f"The leases index {self.index} is missing or not an alias ({exc}); run "
                         "`adwatch setup` (with the admin role) to create it, then try again.")
