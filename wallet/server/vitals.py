"""Gauges read when /metrics is scraped, for the alert rules in deploy/prometheus: readiness,
disk space against the reserve, the database pool, and the last complete sweep.

Read at scrape time rather than kept up to date, so they are never stale: a scrape costs one
readiness check (as /readyz does), one statvfs and one small read of server_meta."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import structlog
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool
from sqlmodel import Session

from storage.base import BlobStore
from wallet.accounts.service import logins_waiting
from wallet.health.checks import DISK_FULL, OK, Readiness, is_ready
from wallet.server.meta import LAST_SWEEP, get_meta
from wallet.settings import Settings

log = structlog.get_logger(__name__)


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


class Vitals(Collector):
    def __init__(
        self, engine: Engine, store: BlobStore, settings: Settings, readiness: Readiness
    ) -> None:
        self._engine = engine
        self._readiness_checks = readiness
        self._store = store
        self._settings = settings

    def collect(self) -> Iterator[Metric]:
        yield from self._readiness()
        yield from self._disk()
        yield from self._pool()
        yield from self._sweeps()
        yield _gauge(
            "wallet_logins_waiting",
            "Logins refused while other attempts on their handle or address were being checked,"
            " waiting for those (a success among them lets them in).",
            logins_waiting(),
        )

    def _readiness(self) -> Iterator[Metric]:
        # The same checks as /readyz, shared with it: a scrape never waits long for them.
        checks = self._readiness_checks.states_blocking()
        ready = is_ready(checks)
        yield _gauge("wallet_ready", "1 when /readyz answers 200, else 0.", 1.0 if ready else 0.0)
        each = GaugeMetricFamily(
            "wallet_ready_check", "1 when the check is ok, else 0 (as /readyz).", labels=["check"]
        )
        for name, state in checks.items():
            each.add_metric([name], 1.0 if state == OK else 0.0)
        yield each
        full = checks["blob_store"] == DISK_FULL
        yield _gauge(
            "wallet_disk_full",
            "1 when the blob store's disk is at its reserve (uploads refused), else 0.",
            1.0 if full else 0.0,
        )

    def _disk(self) -> Iterator[Metric]:
        try:
            free = self._store.free_bytes()
        except Exception:  # noqa: BLE001 - the readiness gauges already say the store is down
            return
        if free is None:  # S3: no disk of ours to watch
            return
        yield _gauge("wallet_disk_free_bytes", "Free bytes on the data dir's disk.", free)
        yield _gauge(
            "wallet_disk_reserve_bytes",
            "Bytes kept free for the database (WALLET_DISK_RESERVE_BYTES).",
            self._store.reserve_bytes,
        )

    def _pool(self) -> Iterator[Metric]:
        pool = self._engine.pool
        if not isinstance(pool, QueuePool):
            return
        yield _gauge(
            "wallet_db_pool_connections_in_use",
            "Database connections of this process checked out now.",
            pool.checkedout(),
        )
        # QueuePool keeps its overflow limit private; -1 would mean "no limit".
        limit = pool.size() + max(pool._max_overflow, 0)
        yield _gauge(
            "wallet_db_pool_connections_max",
            "Database connections this process may hold at most (pool size + overflow).",
            limit,
        )

    def _sweeps(self) -> Iterator[Metric]:
        yield _gauge(
            "wallet_sweep_interval_seconds",
            "Seconds between automatic sweeps (WALLET_SWEEP_INTERVAL_SECONDS; 0: cron only).",
            self._settings.sweep_interval_seconds,
        )
        try:
            with Session(self._engine) as db:
                row = get_meta(db, LAST_SWEEP)
        except Exception as exc:  # noqa: BLE001 - the readiness gauges already say it is down
            log.debug("sweep_time_unread", error=type(exc).__name__)
            return
        if row is None:
            return
        yield _gauge(
            "wallet_sweep_last_success_timestamp_seconds",
            "When any instance (or `wallet sweep`) last finished a sweep without a failed task.",
            datetime.fromisoformat(row.value).timestamp(),
        )
