"""Bulk writer: idempotent upserts in bounded chunks, retried within a time bound, every failure reported.

Memory stays bounded for any input size: actions are consumed lazily and at most one chunk
(`chunk_docs` documents or `chunk_bytes` bytes) is held at a time. Documents Elasticsearch
rejects for their content (a mapping error, say) are reported with their id and reason; only
overload answers (429, 502/503/504) and connection errors are retried, until the cluster has
failed for the client's bound (adwatch/retry.py), then `EngineUnavailable` stops the write.

Optimistic writes: an action carrying `expect` (the `Version` its document had when read) lands
only if nobody wrote the document since. When someone did, Elasticsearch answers a version
conflict: that is reported in `BulkReport.conflicts` (the ids), never retried and never counted
as a failure; the caller re-reads those documents and decides again.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace as _with

import orjson
from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout
from elasticsearch import ApiError, AuthorizationException, Elasticsearch

from adwatch.retry import (TRANSIENT_STATUSES, ClientPolicy, Patience, describe, permission_denied, policy_of,
                           refusal, transient)

log = logging.getLogger(__name__)

# Plain partial updates of one document by two writers at once can collide inside Elasticsearch
# (an update is get + compare + index); such an update has no condition, so it is simply redone.
UPDATE_RETRY_ON_CONFLICT = 3


@dataclass(frozen=True)
class Version:
    """A document's `_seq_no` and `_primary_term` as last read: the condition of an optimistic write."""

    seq_no: int
    primary_term: int

    @classmethod
    def of(cls, hit: dict) -> "Version | None":
        """From a search hit or get response read with `seq_no_primary_term`; None when it has none."""
        if hit.get("_seq_no") is None or hit.get("_primary_term") is None:
            return None
        return cls(int(hit["_seq_no"]), int(hit["_primary_term"]))


@dataclass(frozen=True)
class BulkAction:
    """One write: `op` is 'index' (replace), 'create' (only if absent), 'update' (partial doc + optional
    upsert) or 'delete'; with `expect`, only if the document is still at that version."""

    op: str
    index: str
    id: str
    body: dict | None = None
    expect: Version | None = None

    def lines(self) -> list[bytes]:
        meta: dict = {"_index": self.index, "_id": self.id}
        if self.expect is not None:
            meta.update(if_seq_no=self.expect.seq_no, if_primary_term=self.expect.primary_term)
        elif self.op == "update":
            meta["retry_on_conflict"] = UPDATE_RETRY_ON_CONFLICT
        head = orjson.dumps({self.op: meta})
        return [head] if self.body is None else [head, orjson.dumps(self.body)]

    @property
    def conditional(self) -> bool:
        """Whether a version conflict is this write's expected answer rather than an error."""
        return self.expect is not None or self.op == "create"


def upsert(index: str, doc_id: str, doc: dict, on_insert: dict | None = None,
           expect: Version | None = None) -> BulkAction:
    """Update `doc_id` with `doc`; when it does not exist yet, create it from `doc` plus `on_insert`.

    `on_insert` holds fields set only once (first_seen, say), so replaying the same upsert is a no-op;
    inner objects merge (`on_insert={"crawl": {"first_run": r}}` keeps `doc`'s other crawl fields).
    With `expect`, it is a partial update of that version of the document, which therefore exists:
    a document changed or deleted since is a conflict (Elasticsearch forbids upserts with a condition).
    """
    if expect is not None:
        if on_insert:
            raise ValueError("an update conditional on a version read cannot also insert: drop on_insert or expect")
        return update(index, doc_id, doc, expect)
    if on_insert:
        return BulkAction("update", index, doc_id, {"doc": doc, "upsert": _merged(on_insert, doc)})
    return BulkAction("update", index, doc_id, {"doc": doc, "doc_as_upsert": True})


def update(index: str, doc_id: str, doc: dict, expect: Version | None = None) -> BulkAction:
    """Merge `doc` into an existing document (with `expect`, into that version of it); never creates one.

    A missing document is a failure (404), or with `expect` a conflict: it was deleted since read.
    """
    return BulkAction("update", index, doc_id, {"doc": doc}, expect)


def _merged(base: dict, over: dict) -> dict:
    """`over` laid on `base`, inner objects merged the way Elasticsearch merges a partial update."""
    out = dict(base)
    for key, value in over.items():
        out[key] = _merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def replace(index: str, doc_id: str, doc: dict, expect: Version | None = None) -> BulkAction:
    return BulkAction("index", index, doc_id, doc, expect)


def create(index: str, doc_id: str, doc: dict) -> BulkAction:
    """Write `doc` only if `doc_id` does not exist; otherwise a conflict (first writer wins)."""
    return BulkAction("create", index, doc_id, doc)


def delete(index: str, doc_id: str, expect: Version | None = None) -> BulkAction:
    return BulkAction("delete", index, doc_id, expect=expect)


@dataclass(frozen=True)
class DocError:
    """One document Elasticsearch refused. `reason` is its own words, which quote the document (for the
    caller, never a log); `kind` is the error type and the field it names, safe to log."""

    index: str
    id: str
    status: int
    reason: str
    kind: str = ""


@dataclass
class BulkReport:
    """Outcome of one `BulkWriter.write`: counts, the first `max_kept` failures in detail, and the ids of
    conditional writes that met a newer document (`conflicts`: neither written nor failed)."""

    ok: int = 0
    failed: int = 0
    retries: int = 0
    errors: list[DocError] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = f"{self.ok} written, {self.failed} failed, {self.retries} retried"
        if self.conflicts:
            text += f", {len(self.conflicts)} changed meanwhile (not written)"
        if self.failed > len(self.errors):
            text += f" (details kept for the first {len(self.errors)})"
        return text


class BulkWriter:
    """Writes `BulkAction`s through the `_bulk` API.

    `refresh="wait_for"` makes each chunk visible to search before `write` returns (tests, CLI);
    the default leaves refreshing to the index's interval, which is what bulk throughput wants.
    `retry_s` overrides the client's retry bound (adwatch/retry.py) for this writer.
    `pipelined` sends each chunk from a thread while the next is made from the actions, for a
    caller whose actions cost as much to make as to index (the link write-back); a failed chunk
    stops the write once the chunk after it is made, and nothing after that is sent.
    """

    def __init__(self, client: Elasticsearch, chunk_docs: int = 500, chunk_bytes: int = 5 * 2**20,
                 max_kept_errors: int = 1000, refresh: str | None = None, retry_s: float | None = None,
                 pipelined: bool = False) -> None:
        self.client = client
        self.pipelined = pipelined
        self.chunk_docs = chunk_docs
        self.chunk_bytes = chunk_bytes
        self.max_kept_errors = max_kept_errors
        self.refresh = refresh
        policy = policy_of(client)
        self.policy: ClientPolicy = policy if retry_s is None else _with(policy, retry_s=retry_s)

    def write(self, actions: Iterable[BulkAction]) -> BulkReport:
        report = BulkReport()
        if not self.pipelined:
            for chunk in self._chunks(actions):
                self._send(chunk, report)
            return report
        # One chunk in flight on a sender thread while the caller's generator makes the next: the
        # node indexes while this process builds. Chunks still go out one after another, in order.
        with ThreadPoolExecutor(1, thread_name_prefix="bulk-sender") as sender:
            in_flight = None
            for chunk in self._chunks(actions):
                if in_flight is not None:
                    in_flight.result()  # the previous chunk's error, raised here
                in_flight = sender.submit(self._send, chunk, report)
            if in_flight is not None:
                in_flight.result()
        return report

    def _chunks(self, actions: Iterable[BulkAction]) -> Iterator[list[tuple[BulkAction, list[bytes]]]]:
        chunk: list[tuple[BulkAction, list[bytes]]] = []
        size = 0
        for action in actions:
            lines = action.lines()
            weight = sum(len(line) + 1 for line in lines)
            if chunk and (len(chunk) >= self.chunk_docs or size + weight > self.chunk_bytes):
                yield chunk
                chunk, size = [], 0
            chunk.append((action, lines))
            size += weight
        if chunk:
            yield chunk

    def _send(self, chunk: list[tuple[BulkAction, list[bytes]]], report: BulkReport) -> None:
        pending = chunk
        patience = Patience(self.policy, f"a bulk write of {len(chunk)} documents")
        while True:
            body = b"\n".join(line for _, lines in pending for line in lines) + b"\n"
            try:
                resp = patience.client(self.client).bulk(body=body, refresh=self.refresh)
            except AuthorizationException as exc:
                raise permission_denied(exc, self.policy.cluster, "writing documents") from exc
            except (TransportConnectionError, ConnectionTimeout, ApiError) as exc:
                if not transient(exc):
                    raise
                report.retries += 1
                patience.failed(describe(exc))
                continue
            retry: list[tuple[BulkAction, list[bytes]]] = []
            for (action, lines), item in zip(pending, resp["items"]):
                result = next(iter(item.values()))
                status = result.get("status", 500)
                if status < 300 or (action.op == "delete" and status == 404 and action.expect is None):
                    report.ok += 1
                elif action.conditional and (status == 409 or (status == 404 and action.expect is not None)):
                    # 404: the document read was deleted since, which is a change like any other.
                    report.conflicts.append(action.id)
                elif status == 403:
                    # Every other document of this kind would be refused alike: stop and say which privilege.
                    raise refusal(_reason(result.get("error")), self.policy.cluster, f"writing {action.index}")
                elif status in TRANSIENT_STATUSES:
                    retry.append((action, lines))
                else:
                    self._fail(report, action, status, result.get("error"))
            if not retry:
                return
            pending = retry
            report.retries += 1
            patience.failed(f"{len(retry)} documents refused as overloaded or unavailable")

    def _fail(self, report: BulkReport, action: BulkAction, status: int, error: object) -> None:
        report.failed += 1
        if len(report.errors) < self.max_kept_errors:
            report.errors.append(DocError(action.index, action.id, status, _reason(error)[:500], _kind(status, error)))


def _reason(error: object) -> str:
    if isinstance(error, dict):
        return f"{error.get('type', 'error')}: {error.get('reason', '')}"
    return str(error)


# Where a refusal names the field ("failed to parse field [price] of type [float]", "dynamic
# introduction of [x] within [_doc]"); field names are the writer's own, values are the document's.
_FIELD_NAMED = re.compile(r"(?:field|introduction of) \[(?P<field>[A-Za-z0-9_.@-]{1,100})\]")


def _kind(status: int, error: object) -> str:
    """`HTTP 400 mapper_parsing_exception on field price`: what was refused and where, no value."""
    kind = error.get("type", "error") if isinstance(error, dict) else "error"
    text = " ".join(str(error.get(k, "")) for k in ("reason", "caused_by")) if isinstance(error, dict) else ""
    named = _FIELD_NAMED.search(text)
    return f"HTTP {status} {kind}" + (f" on field {named['field']}" if named else "")
