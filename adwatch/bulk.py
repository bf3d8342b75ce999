"""Bulk writer: idempotent upserts in bounded chunks, retried with back-off, every failure reported.

Memory stays bounded for any input size: actions are consumed lazily and at most one chunk
(`chunk_docs` documents or `chunk_bytes` bytes) is held at a time. Documents Elasticsearch
rejects for their content (a mapping error, say) are reported with their id and reason; only
overload answers (429, 502/503/504) and connection errors are retried.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import orjson
from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout
from elasticsearch import ApiError, Elasticsearch

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 502, 503, 504})


@dataclass(frozen=True)
class BulkAction:
    """One write: `op` is 'index' (replace), 'update' (partial doc + optional upsert) or 'delete'."""

    op: str
    index: str
    id: str
    body: dict | None = None

    def lines(self) -> list[bytes]:
        head = orjson.dumps({self.op: {"_index": self.index, "_id": self.id}})
        return [head] if self.body is None else [head, orjson.dumps(self.body)]


def upsert(index: str, doc_id: str, doc: dict, on_insert: dict | None = None) -> BulkAction:
    """Update `doc_id` with `doc`; when it does not exist yet, create it from `doc` plus `on_insert`.

    `on_insert` holds fields set only once (first_seen, say), so replaying the same upsert is a no-op.
    """
    if on_insert:
        return BulkAction("update", index, doc_id, {"doc": doc, "upsert": {**on_insert, **doc}})
    return BulkAction("update", index, doc_id, {"doc": doc, "doc_as_upsert": True})


def replace(index: str, doc_id: str, doc: dict) -> BulkAction:
    return BulkAction("index", index, doc_id, doc)


def delete(index: str, doc_id: str) -> BulkAction:
    return BulkAction("delete", index, doc_id)


@dataclass(frozen=True)
class DocError:
    index: str
    id: str
    status: int
    reason: str


@dataclass
class BulkReport:
    """Outcome of one `BulkWriter.write`: counts plus the first `max_kept` failures in detail."""

    ok: int = 0
    failed: int = 0
    retries: int = 0
    errors: list[DocError] = field(default_factory=list)

    def summary(self) -> str:
        text = f"{self.ok} written, {self.failed} failed, {self.retries} retried"
        if self.failed > len(self.errors):
            text += f" (details kept for the first {len(self.errors)})"
        return text


class BulkWriter:
    """Writes `BulkAction`s through the `_bulk` API.

    `refresh="wait_for"` makes each chunk visible to search before `write` returns (tests, CLI);
    the default leaves refreshing to the index's interval, which is what bulk throughput wants.
    """

    def __init__(self, client: Elasticsearch, chunk_docs: int = 500, chunk_bytes: int = 5 * 2**20,
                 max_retries: int = 6, initial_backoff_s: float = 0.5, max_kept_errors: int = 1000,
                 refresh: str | None = None) -> None:
        self.client = client
        self.chunk_docs = chunk_docs
        self.chunk_bytes = chunk_bytes
        self.max_retries = max_retries
        self.initial_backoff_s = initial_backoff_s
        self.max_kept_errors = max_kept_errors
        self.refresh = refresh

    def write(self, actions: Iterable[BulkAction]) -> BulkReport:
        report = BulkReport()
        for chunk in self._chunks(actions):
            self._send(chunk, report)
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
        for attempt in range(self.max_retries + 1):
            body = b"\n".join(line for _, lines in pending for line in lines) + b"\n"
            try:
                resp = self.client.bulk(body=body, refresh=self.refresh)
            except (TransportConnectionError, ConnectionTimeout) as exc:
                if attempt == self.max_retries:
                    raise
                self._back_off(attempt, report, f"connection: {exc}")
                continue
            except ApiError as exc:
                if exc.meta.status not in RETRY_STATUSES or attempt == self.max_retries:
                    raise
                self._back_off(attempt, report, f"HTTP {exc.meta.status}")
                continue
            retry: list[tuple[BulkAction, list[bytes]]] = []
            for (action, lines), item in zip(pending, resp["items"]):
                result = next(iter(item.values()))
                status = result.get("status", 500)
                if status < 300 or (action.op == "delete" and status == 404):
                    report.ok += 1
                elif status in RETRY_STATUSES and attempt < self.max_retries:
                    retry.append((action, lines))
                else:
                    self._fail(report, action, status, result.get("error"))
            if not retry:
                return
            pending = retry
            self._back_off(attempt, report, f"{len(retry)} documents overloaded")

    def _back_off(self, attempt: int, report: BulkReport, why: str) -> None:
        report.retries += 1
        delay = self.initial_backoff_s * 2**attempt
        log.warning("bulk write retry %d in %.1fs (%s)", attempt + 1, delay, why)
        time.sleep(delay)

    def _fail(self, report: BulkReport, action: BulkAction, status: int, error: object) -> None:
        report.failed += 1
        if len(report.errors) < self.max_kept_errors:
            if isinstance(error, dict):
                reason = f"{error.get('type', 'error')}: {error.get('reason', '')}"
            else:
                reason = str(error)
            report.errors.append(DocError(action.index, action.id, status, reason[:500]))
