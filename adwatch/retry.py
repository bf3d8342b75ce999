"""How the spine meets a failing cluster: bounded retries, and refusals a person can act on.

One bound for every client (`ADWATCH_ES_RETRY_SECONDS`, default 180 s): a request that keeps
failing with something that may pass (connection refused or reset, a timeout, 429, 502/503/504,
shards still recovering after a restart) is retried with capped exponential back-off until it
has failed continuously for the bound, then `EngineUnavailable` names the cluster, how long it
tried and what to do. A 403 becomes `PermissionDenied` naming the action, index and privilege.

The bound travels with the client: `adwatch.store.connect` records it, and the bulk writer,
`Store.scan`, `Store.refresh` and `Store.count` read it back with `policy_of(client)`.
"""

from __future__ import annotations

import logging
import os
import re
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout, TlsError
from elasticsearch import ApiError, AuthorizationException, Elasticsearch

from adwatch.errors import EngineUnavailable, PermissionDenied

log = logging.getLogger(__name__)

DEFAULT_RETRY_S = 180.0
RETRY_ENV = "ADWATCH_ES_RETRY_SECONDS"
TRANSIENT_STATUSES = frozenset({429, 502, 503, 504})
T = TypeVar("T")


@dataclass(frozen=True)
class ClientPolicy:
    """How one client retries: against which cluster (for messages), for how long, per-request timeout."""

    cluster: str
    retry_s: float = DEFAULT_RETRY_S
    request_timeout_s: float = 30.0
    first_backoff_s: float = 0.5
    max_backoff_s: float = 8.0


_policies: weakref.WeakKeyDictionary[Elasticsearch, ClientPolicy] = weakref.WeakKeyDictionary()


def remember(client: Elasticsearch, policy: ClientPolicy) -> None:
    _policies[client] = policy


def policy_of(client: Elasticsearch) -> ClientPolicy:
    """The policy `connect` recorded for `client`; for a client made elsewhere, the environment's bound."""
    known = _policies.get(client)
    if known:
        return known
    try:
        retry_s = float(os.environ.get(RETRY_ENV) or DEFAULT_RETRY_S)
    except ValueError:
        retry_s = DEFAULT_RETRY_S
    return ClientPolicy(cluster=cluster_url(client), retry_s=retry_s)


def cluster_url(client: Elasticsearch) -> str:
    try:
        return str(client.transport.node_pool.all()[0].base_url)
    except (AttributeError, IndexError):
        return "the cluster"


def transient(exc: BaseException) -> bool:
    """Whether `exc` may pass by itself (the cluster is down, restarting or overloaded)."""
    if isinstance(exc, TlsError):  # a certificate problem does not fix itself
        return False
    if isinstance(exc, (TransportConnectionError, ConnectionTimeout)):
        return True
    return isinstance(exc, ApiError) and exc.meta.status in TRANSIENT_STATUSES


def describe(exc: BaseException) -> str:
    if isinstance(exc, ApiError):
        return f"HTTP {exc.meta.status} {exc.error}"
    return type(exc).__name__


class Patience:
    """The clock of one request that keeps failing: backs off, and gives up at the bound.

    The clock starts at the first failure and restarts after any success, so a run that sees
    short outages goes on; only a cluster gone for the whole bound stops it.
    """

    def __init__(self, policy: ClientPolicy, what: str) -> None:
        self.policy = policy
        self.what = what
        self.failing_since: float | None = None
        self.attempts = 0

    def succeeded(self) -> None:
        self.failing_since = None
        self.attempts = 0

    def failed(self, why: str) -> None:
        """Sleep before the next attempt, or raise EngineUnavailable when the bound is spent."""
        now = time.monotonic()
        if self.failing_since is None:
            self.failing_since = now
        waited = now - self.failing_since
        left = self.policy.retry_s - waited
        if left <= 0:
            raise EngineUnavailable(
                f"Elasticsearch at {self.policy.cluster} did not answer {self.what} for {waited:.0f} s ({why}); "
                f"stopped trying after the bound of {self.policy.retry_s:g} s ({RETRY_ENV}). What was written "
                "before is kept. Check the cluster (`adwatch engine status`, `adwatch engine start` for the "
                "embedded node, or your cluster's health), then run the command again: it resumes.",
                cluster=self.policy.cluster, waited_s=waited, why=why)
        delay = min(self.policy.max_backoff_s, self.policy.first_backoff_s * 2 ** self.attempts, left)
        self.attempts += 1
        log.warning("Elasticsearch at %s: %s failed (%s); retry %d in %.1f s (giving up after %g s)",
                    self.policy.cluster, self.what, why, self.attempts, delay, self.policy.retry_s)
        time.sleep(delay)

    def client(self, client: Elasticsearch) -> Elasticsearch:
        """`client` with our own retries only, and while failing a timeout that fits in what is left."""
        timeout = self.policy.request_timeout_s
        if self.failing_since is not None:
            left = self.policy.retry_s - (time.monotonic() - self.failing_since)
            timeout = max(1.0, min(timeout, left))
        return client.options(max_retries=0, request_timeout=timeout)


    def call(self, client: Elasticsearch, request: Callable[[Elasticsearch], T]) -> T:
        """`request(client)` retried within the bound; a 403 becomes PermissionDenied."""
        while True:
            try:
                result = request(self.client(client))
            except AuthorizationException as exc:
                raise permission_denied(exc, self.policy.cluster, self.what) from exc
            except (TransportConnectionError, ConnectionTimeout, ApiError) as exc:
                if not transient(exc):
                    raise
                self.failed(describe(exc))
                continue
            self.succeeded()
            return result


def call(client: Elasticsearch, what: str, request: Callable[[Elasticsearch], T]) -> T:
    """`request(client)` retried within the client's bound; a 403 becomes PermissionDenied."""
    return Patience(policy_of(client), what).call(client, request)


_UNAUTHORIZED = re.compile(r"action \[(?P<action>.+?)\] is unauthorized for (?:user|API key id) \[(?P<who>[^\]]+)\]"
                           r".*?(?:on indices \[(?P<indices>[^\]]+)\])?, this action is granted by the "
                           r"(?P<level>index|cluster) privileges \[(?P<privileges>[^\]]+)\]")


def refusal(reason: str, cluster: str, doing: str = "") -> PermissionDenied:
    """A 403 reason from Elasticsearch as an error naming who, what, where and the privilege to grant."""
    match = _UNAUTHORIZED.search(reason or "")
    doing = f" while {doing}" if doing else ""
    if not match:
        return PermissionDenied(f"Elasticsearch at {cluster} refused a request{doing}: {reason}. Use credentials "
                                "with the AdWatch role for this command (adwatch/roles.yml).")
    where = f" on {match['indices']}" if match["indices"] else ""
    return PermissionDenied(
        f"Elasticsearch at {cluster} refused {match['who']} the action {match['action']}{where}{doing}: it needs "
        f"one of the {match['level']} privileges {match['privileges'].replace(',', ', ')}. Use credentials with "
        "the AdWatch role for this command (adwatch/roles.yml), or ask an administrator to grant it.")


def permission_denied(exc: AuthorizationException, cluster: str, doing: str = "") -> PermissionDenied:
    error = exc.body.get("error", {}) if isinstance(exc.body, dict) else {}
    reason = error.get("reason") if isinstance(error, dict) else None
    return refusal(reason or str(exc), cluster, doing)
