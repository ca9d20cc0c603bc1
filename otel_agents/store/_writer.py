"""The store's single write path: one NDJSON append plus one SQLite transaction per batch."""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import math
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final, cast

import orjson

from otel_agents.api import _counters as stats
from otel_agents.api import _semconv as semconv
from otel_agents.api._guard import contained, never_raise
from otel_agents.store import _db as db
from otel_agents.store import _ndjson as ndjson
from otel_agents.store import _paths as paths
from otel_agents.store import _schema as schema
from otel_agents.store._otlp_json import (
    log_json,
    logs_request,
    metrics_request,
    span_id_hex,
    trace_id_hex,
    traces_request,
)
from otel_agents.store._rollup import Accumulator
from otel_agents.store._rows import INSERT_EVENT, INSERT_RUN, INSERT_SPAN, MAX_COLUMN, BatchRows
from otel_agents.store._values import attributes_of, cap, dumps, dumps_attributes, plain, safe_str, scrub

# The collector's file consumer caps a line at 1 MiB by default; stay well under it.
MAX_LINE_ITEMS: Final = 128
MAX_LINE_BYTES: Final = 512 * 1024
PRUNE_EVERY_S: Final = 3600.0
# How long fork() waits for a write in progress to commit before it forks anyway.
FORK_WAIT_S: Final = 5.0
# At exit, a write still under way (another thread's) is waited for this long, no longer.
LATE_LOCK_WAIT_S: Final = 1.0
# How long those counts wait for another process's write lock on the database: at exit, a
# process must not wait out the 30 s an export would (a CLI prune, another app's long write).
LATE_DB_WAIT_S: Final = 1.0

INSERT_LOG: Final = (
    "INSERT INTO logs (time_ns, observed_ns, severity_number, severity_text, body, trace_id,"
    " span_id, service, event_name, attributes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_METRIC_POINT: Final = (
    "INSERT INTO metric_points (time_ns, start_ns, name, unit, type, service, attributes, value,"
    " count, sum, min, max, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
DROP_NDJSON: Final = "store.ndjson_write_failed"
DROP_SQLITE: Final = "store.sqlite_write_failed"
DROP_UNENCODABLE: Final = "store.unencodable_record"
DROP_AFTER_CLOSE: Final = "store.write_after_close"
SPAN_SITE: Final = "store.export.span"


_SAMPLED: Final = 0x01  # W3C trace flags: the sampled bit


class StoreWriter:
    """Owns one process's connection and line files for a store home; thread-safe."""

    def __init__(self, home: Path, *, max_file_bytes: int = ndjson.DEFAULT_MAX_FILE_BYTES) -> None:
        self.home = home
        self._lock = threading.Lock()
        self._max_file_bytes = max_file_bytes
        self._pid = -1
        self._conn: sqlite3.Connection | None = None
        self._lines: dict[str, ndjson.LineWriter] = {}
        # id(resource) -> (resource, row id, service): Resource.__hash__ is too slow per span.
        self._resources: dict[int, tuple[Any, int | None, str | None]] = {}
        self._persisted: dict[tuple[str, str], int] = {}
        self._closed = False
        # Said once: the late counts could not be saved, another process held the database.
        self._warned_locked = False
        self._next_prune = time.monotonic() + 60.0
        self._held_for_fork = False
        self.open()
        # Every write transaction runs under the lock, so holding it across fork() means none is
        # open then. SQLite keeps a process's lock state in memory the child inherits: a child forked
        # mid-transaction (gunicorn --preload forks right after the app configured) believed another
        # of its connections held the write lock, and got "database is locked" until it gave up.
        ref = weakref.ref(self)

        def before_fork() -> None:
            writer = ref()
            if writer is not None:
                writer._held_for_fork = writer._lock.acquire(timeout=FORK_WAIT_S)

        def after_fork_in_parent() -> None:
            writer = ref()
            if writer is not None and writer._held_for_fork:
                writer._held_for_fork = False
                writer._lock.release()

        def after_fork_in_child() -> None:
            writer = ref()
            if writer is not None:
                writer._held_for_fork = False
                writer._reset_lock()

        os.register_at_fork(
            before=before_fork, after_in_parent=after_fork_in_parent, after_in_child=after_fork_in_child
        )
        # Registered before configure() registers its shutdown, so it runs after it (atexit is
        # last in, first out) and sees the drops counted during and after that shutdown.
        atexit.register(_persist_late, ref)

    def _reset_lock(self) -> None:
        self._lock = threading.Lock()

    def open(self) -> None:
        """(Re)open for the current process; a forked child gets its own connection and files."""
        forked = self._pid != -1
        self._pid = os.getpid()
        self._conn = db.connect(paths.db_path(self.home))
        schema.migrate(self._conn)
        self._db_id = _file_id(paths.db_path(self.home))
        directory = paths.ndjson_dir(self.home)
        self._lines = {s: ndjson.LineWriter(directory, s, self._max_file_bytes) for s in ndjson.SIGNALS}
        self._resources = {}
        # A forked child inherits counts its parent persists itself: only count what is new here.
        self._persisted = _counter_snapshot() if forked else {}

    def _connection(self) -> sqlite3.Connection:
        if self._pid != os.getpid() or self._conn is None:
            # Never touch a connection inherited through fork: SQLite forbids it.
            self.open()
        elif _file_id(paths.db_path(self.home)) != self._db_id:
            # The database was deleted (or replaced) under us: writes to the old inode would vanish
            # without an error. Start a new store there, with every counter of this process in it.
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
            for line_writer in self._lines.values():
                line_writer.close()
            self._pid = -1
            self.open()
            self._persisted = {}
        assert self._conn is not None
        return self._conn

    # --- spans ----------------------------------------------------------------------------------

    def write_spans(self, spans: Sequence[Any], *, unsampled_counts_only: bool = False) -> bool:
        """Store ``spans`` (unsampled ones as runs and stats only, if asked); False if they were lost,
        each loss counted (here, once) and persisted."""
        with self._lock:
            if self._closed:
                self._lost_after_close(len(spans))
                return False
            conn = self._connection()
            rows = BatchRows()
            kept = list(spans)
            try:
                services, resource_ids = self._resources_of(conn, kept)
            except sqlite3.Error:
                # The database refuses writes (read-only, full, corrupt): the batch is lost, once.
                stats.count_drop(DROP_SQLITE, len(spans))
                return False
            try:
                encoded = rows.add_spans(kept, list(map(attributes_of, kept)), services, resource_ids)
            except Exception:  # noqa: BLE001 - the one-by-one pass below reports it
                # A span our code cannot handle costs that span, not the whole batch.
                rows, encoded, kept = self._add_one_by_one(conn, spans)
            if len(kept) < len(spans):
                stats.count_drop(DROP_UNENCODABLE, len(spans) - len(kept))
            if unsampled_counts_only:
                kept, encoded = _sampled_only(rows, kept, encoded)
            lines_ok = self._append("traces", kept, encoded, traces_request)
            ok = self._commit(
                conn,
                [
                    (INSERT_SPAN, rows.spans),
                    (INSERT_RUN, rows.runs),
                    (INSERT_EVENT, rows.events),
                ],
                len(kept),
                rows.stats,
                lines_ok,
            )
            if ok:
                self._maybe_prune()
            return ok

    def _resources_of(
        self, conn: sqlite3.Connection, spans: list[Any]
    ) -> tuple[list[str | None], list[int | None]]:
        """Each span's service and resource row id (a batch usually shares one resource)."""
        resources = [s.resource for s in spans]
        if len(set(map(id, resources))) == 1:
            resource_id, service = self._resource(conn, resources[0])
            return [service] * len(spans), [resource_id] * len(spans)
        pairs = [self._resource(conn, r) for r in resources]
        return [p[1] for p in pairs], [p[0] for p in pairs]

    def _add_one_by_one(
        self, conn: sqlite3.Connection, spans: Sequence[Any]
    ) -> tuple[BatchRows, list[Any], list[Any]]:
        """Rows, encodings and spans kept when encoding span by span, dropping the ones that fail."""
        rows = BatchRows()
        encoded: list[Any] = []
        kept: list[Any] = []
        for span in spans:
            try:
                resource_id, service = self._resource(conn, span.resource)
                encoded.append(rows.add_span(span, attributes_of(span), service, resource_id))
                kept.append(span)
            except Exception as exc:
                if not contained(SPAN_SITE, exc):
                    raise
        return rows, encoded, kept

    def _commit(
        self,
        conn: sqlite3.Connection,
        work: list[tuple[str, list[tuple[Any, ...]]]],
        records: int,
        rollup: Accumulator | None = None,
        lines_ok: bool = True,
    ) -> bool:
        """Insert every row of ``work`` (and ``rollup``) in one transaction; count drops on failure.

        ``records`` lost to the line files only (``lines_ok`` False) are counted as such once the
        database has them; lost to both, they are counted once, as a database loss.
        """
        # Lost to the line files only: counted (and persisted) with the rows that made it, so a
        # transaction that fails counts each record once, as a database loss, never under both.
        pending = {("drop", DROP_NDJSON): records} if not lines_ok else None
        for _ in range(2):
            try:
                with db.write_transaction(conn):
                    for sql, rows in work:
                        if rows:
                            conn.executemany(sql, rows)
                    if rollup is not None:
                        rollup.write(conn)
                    persisted = self._persist_counters(conn, pending)
                if not lines_ok:
                    stats.count_drop(DROP_NDJSON, records)
                self._persisted = persisted
                return True
            except UnicodeEncodeError:
                # A lone surrogate somewhere: SQLite stores UTF-8 only. Rare, so fix on retry.
                work = [(sql, [tuple(scrub(v) for v in row) for row in rows]) for sql, rows in work]
                if rollup is not None:
                    rollup.rows = {scrub(key): totals for key, totals in rollup.rows.items()}
            except sqlite3.Error:
                break
        stats.count_drop(DROP_SQLITE, records)
        return False

    def _append(self, signal: str, items: Sequence[Any], encoded: list[Any], build: Any) -> bool:
        lines: list[bytes] = []
        start = 0
        while start < len(items):
            end = min(start + MAX_LINE_ITEMS, len(items))
            line = dumps(build(items[start:end], encoded[start:end]))
            while len(line) > MAX_LINE_BYTES and end - start > 1:
                end = start + (end - start) // 2
                line = dumps(build(items[start:end], encoded[start:end]))
            lines.append(line)
            start = end
        try:
            self._lines[signal].write_lines(lines)
        except OSError:
            return False
        return True

    def _resource(self, conn: sqlite3.Connection, resource: Any) -> tuple[int | None, str | None]:
        if resource is None:
            return None, None
        cached = self._resources.get(id(resource))
        if cached is not None and cached[0] is resource:
            return cached[1], cached[2]
        attrs = dict(resource.attributes or {})
        service = attrs.get(semconv.SERVICE_NAME)
        text = dumps_attributes(attrs) or "{}"
        schema_url = getattr(resource, "schema_url", "") or ""
        digest = hashlib.sha256((text + "\n" + schema_url).encode()).hexdigest()
        # Copied into every span, run and log row: a long one is cut as the other filterable columns are.
        service_s = None if service is None else scrub(safe_str(service)[:MAX_COLUMN])
        row = conn.execute("SELECT id FROM resources WHERE digest = ?", (digest,)).fetchone()
        if row is None:
            with db.write_transaction(conn):
                conn.execute(
                    "INSERT OR IGNORE INTO resources (digest, service, attributes, schema_url)"
                    " VALUES (?, ?, ?, ?)",
                    (digest, service_s, text, schema_url),
                )
            row = conn.execute("SELECT id FROM resources WHERE digest = ?", (digest,)).fetchone()
        self._resources[id(resource)] = (resource, int(row[0]), service_s)
        return int(row[0]), service_s

    def _persist_counters(
        self, conn: sqlite3.Connection, pending: dict[tuple[str, str], int] | None = None
    ) -> dict[tuple[str, str], int]:
        """Write what the counters gained since they were last persisted (and ``pending``, counted
        once this transaction commits); the counts persisted then, for the caller to keep only
        after the commit: a commit that fails (a full disk) leaves them to the next write."""
        now = time.time_ns()
        current = _counter_snapshot()
        for key, n in (pending or {}).items():
            current[key] = current.get(key, 0) + n
        changes = [
            (kind, reason, n - self._persisted.get((kind, reason), 0), now)
            for (kind, reason), n in current.items()
            if n != self._persisted.get((kind, reason), 0)
        ]
        if changes:
            conn.executemany(
                "INSERT INTO counters (kind, reason, count, updated_ns) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (kind, reason) DO UPDATE SET count = count + excluded.count,"
                " updated_ns = excluded.updated_ns",
                changes,
            )
        return current

    # --- logs -----------------------------------------------------------------------------------

    def write_logs(self, records: Sequence[Any]) -> bool:
        """Store log records; False (and counted drops) if the database write failed."""
        with self._lock:
            if self._closed:
                self._lost_after_close(len(records))
                return False
            conn = self._connection()
            try:
                services, _ = self._resources_of(conn, list(records))
            except sqlite3.Error:
                # The database refuses writes (read-only, full, corrupt): the batch is lost, once.
                stats.count_drop(DROP_SQLITE, len(records))
                return False
            encoded: list[dict[str, Any]] = []
            kept: list[Any] = []
            rows: list[tuple[Any, ...]] = []
            guard = never_raise("store.export.log")
            for r, service in zip(records, services, strict=True):
                with guard:
                    enc = log_json(r)
                    rows.append(_log_row(r, service))
                    encoded.append(enc)
                    kept.append(r)
            if len(kept) < len(records):
                stats.count_drop(DROP_UNENCODABLE, len(records) - len(kept))
            lines_ok = self._append("logs", kept, encoded, logs_request)
            return self._commit(conn, [(INSERT_LOG, rows)], len(rows), None, lines_ok)

    # --- metrics --------------------------------------------------------------------------------

    def write_metrics(self, data: Any) -> bool:
        """Store one metrics collection; False (and a counted drop) if the database write failed."""
        with self._lock:
            if self._closed:
                self._lost_after_close(1)
                return False
            conn = self._connection()
            lines_ok = True
            try:
                self._lines["metrics"].write_lines(_metric_lines(data))
            except OSError:
                lines_ok = False
            rows = []
            try:
                services = [self._resource(conn, rm.resource)[1] for rm in data.resource_metrics]
            except sqlite3.Error:
                stats.count_drop(DROP_SQLITE, 1)
                return False
            for rm, service in zip(data.resource_metrics, services, strict=True):
                for sm in rm.scope_metrics:
                    for metric in sm.metrics:
                        rows.extend(_metric_rows(metric, service))
            return self._commit(conn, [(INSERT_METRIC_POINT, rows)], 1, None, lines_ok)

    # --- housekeeping ---------------------------------------------------------------------------

    @never_raise("store.prune")
    def _maybe_prune(self) -> None:
        if time.monotonic() < self._next_prune:
            return
        self._next_prune = time.monotonic() + PRUNE_EVERY_S
        from otel_agents.store import _retention as retention

        assert self._conn is not None
        retention.prune(self._conn, self.home, retention.Policy.from_env())

    def flush(self) -> None:
        """Persist the process's counters now (records are durable as soon as a write returns)."""
        with self._lock:
            if self._closed or self._conn is None or self._pid != os.getpid():
                return
            try:
                with db.write_transaction(self._connection()):
                    persisted = self._persist_counters(self._conn)
            except sqlite3.Error:
                # A full disk or a database that refuses writes: nothing is lost yet, the counts
                # go with the next write that commits.
                return
            self._persisted = persisted

    def _lost_after_close(self, n: int) -> None:
        """Count ``n`` records that arrived after close() and persist the counters on a short-lived
        connection: a drop nobody can see in ``doctor`` would be a silent one."""
        stats.count_drop(DROP_AFTER_CLOSE, n)
        self._persist_once("store.persist_after_close")

    def _persist_once(self, site: str) -> None:
        """Persist the counters on a connection of their own, closed again at once; waits at most
        ``LATE_DB_WAIT_S`` for another process's lock, and says so once if it gave up."""
        try:
            conn = db.connect(paths.db_path(self.home), wait_s=LATE_DB_WAIT_S)
            try:
                with db.write_transaction(conn, deadline_s=LATE_DB_WAIT_S):
                    persisted = self._persist_counters(conn)
                self._persisted = persisted
            finally:
                conn.close()
        except sqlite3.Error as exc:
            if not db.is_busy(exc):
                if not contained(site, exc):
                    raise
                return
            if not self._warned_locked:
                self._warned_locked = True
                import logging  # only here: the CLI's read-only commands import this module

                logging.getLogger("otel_agents").warning(
                    "otel_agents: drop counts not saved to the store at %s: another process held its"
                    " database locked for over %.0f s",
                    self.home,
                    LATE_DB_WAIT_S,
                )

    def persist_late(self) -> None:
        """After close(): persist what the counters gained since (spans that ended after the
        pipeline shut down are counted where they are dropped, before they reach the store)."""
        if not self._closed or self._pid != os.getpid() or _counter_snapshot() == self._persisted:
            return
        # A store that went away stays away: no folders or database are made for the counts.
        if not paths.db_path(self.home).exists():
            return
        if not self._lock.acquire(timeout=LATE_LOCK_WAIT_S):
            return
        try:
            self._persist_once("store.persist_late")
        finally:
            self._lock.release()

    def close(self) -> None:
        """Flush counters and release the connection and files; later writes are dropped."""
        if self._closed:
            return
        self.flush()
        with self._lock:
            self._closed = True
            for w in self._lines.values():
                w.close()
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None


def _persist_late(ref: weakref.ReferenceType[StoreWriter]) -> None:
    """At exit: the counts a closed writer has not persisted yet (see ``StoreWriter.persist_late``)."""
    writer = ref()
    if writer is not None:
        try:
            writer.persist_late()
        except Exception as exc:  # noqa: BLE001 - at exit there is no caller left to tell
            contained("store.persist_late", exc)


def _log_row(r: Any, service: str | None) -> tuple[Any, ...]:
    """The logs row of one SDK log record."""
    rec = r.log_record
    body = rec.body
    return (
        rec.timestamp or rec.observed_timestamp or time.time_ns(),
        rec.observed_timestamp,
        rec.severity_number.value if rec.severity_number is not None else None,
        None if rec.severity_text is None else safe_str(rec.severity_text),
        None if body is None else (cap(body) if isinstance(body, str) else dumps(plain(body)).decode()),
        trace_id_hex(rec.trace_id) if rec.trace_id else None,
        span_id_hex(rec.span_id) if rec.span_id else None,
        service,
        None if rec.event_name is None else safe_str(rec.event_name),
        dumps_attributes(rec.attributes),
    )


def _sampled_only(rows: BatchRows, spans: list[Any], encoded: list[Any]) -> tuple[list[Any], list[Any]]:
    """Keep only sampled spans as spans, events and trace lines; unsampled ones (recorded under head
    sampling) still count in ``rows.runs`` and ``rows.stats``: runs and stats stay whole, traces do not."""
    flags = [bool(int(cast(int, row[-1])) & _SAMPLED) for row in rows.spans]
    if all(flags):
        return spans, encoded
    dropped = {(row[0], row[1]) for row, sampled in zip(rows.spans, flags, strict=True) if not sampled}
    rows.spans = [row for row, sampled in zip(rows.spans, flags, strict=True) if sampled]
    rows.events = [row for row in rows.events if (row[0], row[1]) not in dropped]
    kept = [(span, line) for span, line, sampled in zip(spans, encoded, flags, strict=True) if sampled]
    return [k[0] for k in kept], [k[1] for k in kept]


def _metric_lines(data: Any) -> list[bytes]:
    """One line per collection, or one per metric when the collection is too big for one line."""
    from opentelemetry.sdk.metrics.export import MetricsData, ResourceMetrics, ScopeMetrics

    line = dumps(metrics_request(data))
    if len(line) <= MAX_LINE_BYTES:
        return [line]
    return [
        dumps(
            metrics_request(
                MetricsData(
                    [
                        ResourceMetrics(
                            rm.resource, [ScopeMetrics(sm.scope, [m], sm.schema_url)], rm.schema_url
                        )
                    ]
                )
            )
        )
        for rm in data.resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
    ]


def _file_id(path: Path) -> tuple[int, int] | None:
    """(device, inode) of ``path``, None when it is gone."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _counter_snapshot() -> dict[tuple[str, str], int]:
    current = {("drop", k): v for k, v in stats.drops().items()}
    current.update({("error", k): v for k, v in stats.errors().items()})
    return current


_MONOTONIC: Final = '{"monotonic":true}'
_NOT_MONOTONIC: Final = '{"monotonic":false}'


def _metric_rows(metric: Any, service: str | None) -> list[tuple[object, ...]]:
    from opentelemetry.sdk.metrics.export import ExponentialHistogram, Gauge, Histogram, Sum

    data = metric.data
    unit = metric.unit or None
    out: list[tuple[object, ...]] = []
    for p in data.data_points:
        attrs = dumps_attributes(p.attributes)
        if isinstance(data, (Sum, Gauge)):
            kind = "sum" if isinstance(data, Sum) else "gauge"
            value = _num(p.value)
            # Readers need it to tell a counter (summed as increases) from an up-down counter.
            monotonic = (
                (_MONOTONIC if data.is_monotonic else _NOT_MONOTONIC) if isinstance(data, Sum) else None
            )
            out.append(
                (
                    p.time_unix_nano,
                    p.start_time_unix_nano,
                    metric.name,
                    unit,
                    kind,
                    service,
                    attrs,
                    value,
                    None,
                    None,
                    None,
                    None,
                    monotonic,
                )
            )
        elif isinstance(data, Histogram):
            extra = orjson.dumps(
                {"bounds": plain(list(p.explicit_bounds)), "counts": list(p.bucket_counts)}
            ).decode()
            out.append(
                _distribution_row(
                    p, "histogram", extra, name=metric.name, unit=unit, service=service, attrs=attrs
                )
            )
        elif isinstance(data, ExponentialHistogram):
            extra = orjson.dumps(
                {
                    "scale": p.scale,
                    "zero_count": p.zero_count,
                    "positive": {
                        "offset": p.positive.offset,
                        "counts": list(p.positive.bucket_counts),
                    },
                    "negative": {
                        "offset": p.negative.offset,
                        "counts": list(p.negative.bucket_counts),
                    },
                }
            ).decode()
            out.append(
                _distribution_row(
                    p,
                    "exponential_histogram",
                    extra,
                    name=metric.name,
                    unit=unit,
                    service=service,
                    attrs=attrs,
                )
            )
    return out


def _distribution_row(
    p: Any, kind: str, extra: str, *, name: object, unit: object, service: object, attrs: object
) -> tuple[Any, ...]:
    """A metric_points row for one histogram-like point: count, sum, min, max and its buckets."""
    return (
        p.time_unix_nano,
        p.start_time_unix_nano,
        name,
        unit,
        kind,
        service,
        attrs,
        None,
        p.count,
        _num(p.sum),
        _num(p.min),
        _num(p.max),
        extra,
    )


def _num(value: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        f = float(value)
        return f if not math.isnan(f) else None
    return None
