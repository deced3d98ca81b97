"""What readiness checks: the database and the blob store. /readyz and the readiness metric
(wallet/server/vitals.py) both ask these, so they never disagree."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait

from sqlalchemy import text
from sqlalchemy.engine import Engine

from storage.base import BlobStore, StorageFull, StorageUnavailable

OK = "ok"
DOWN = "down"
# Uploads are refused, but logins, downloads and the journal work: the instance stays ready.
DISK_FULL = "disk full"
READY_STATES = {OK, DISK_FULL}


def database_state(engine: Engine) -> str:
    try:
        with engine.connect() as connection:
            # A real table, not "SELECT 1": SQLite answers that without reading the file.
            connection.execute(text("SELECT version_num FROM alembic_version")).all()
        return OK
    except Exception:  # noqa: BLE001 - any failure means "not ready"
        return DOWN


def store_state(store: BlobStore) -> str:
    try:
        store.check()
        return OK
    except StorageFull:
        return DISK_FULL
    except StorageUnavailable:
        return DOWN


class Readiness:
    """The readiness checks, one at a time and never waited on for long.

    Each check runs in a thread of its own (not the request threads, so a busy process still
    answers /readyz). While one runs, every caller shares its result instead of starting
    another, so a slow database never piles up checks; a caller that waits longer than
    `timeout` seconds counts the check as down and the check goes on for the next caller."""

    def __init__(self, engine: Engine, store: BlobStore, timeout: float) -> None:
        self._checks: dict[str, Callable[[], str]] = {
            "database": lambda: database_state(engine),
            "blob_store": lambda: store_state(store),
        }
        self._timeout = timeout
        self._threads = ThreadPoolExecutor(
            max_workers=len(self._checks), thread_name_prefix="wallet-readiness"
        )
        self._running: dict[str, Future[str]] = {}
        self._lock = threading.Lock()

    def _start(self) -> dict[str, Future[str]]:
        with self._lock:
            for name, check in self._checks.items():
                running = self._running.get(name)
                if running is None or running.done():
                    self._running[name] = self._threads.submit(check)
            return dict(self._running)

    async def states(self) -> dict[str, str]:
        futures = {name: asyncio.wrap_future(f) for name, f in self._start().items()}
        # shield: a caller that gives up must not cancel the check the others share.
        await asyncio.wait([asyncio.shield(f) for f in futures.values()], timeout=self._timeout)
        return {name: _result(f) for name, f in futures.items()}

    def states_blocking(self) -> dict[str, str]:
        futures = self._start()
        wait(futures.values(), timeout=self._timeout)
        return {name: _result(f) for name, f in futures.items()}

    def close(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)


def _result(future: Future[str] | asyncio.Future[str]) -> str:
    if not future.done() or future.cancelled() or future.exception() is not None:
        return DOWN
    return future.result()


def is_ready(states: dict[str, str]) -> bool:
    return states["database"] == OK and states["blob_store"] in READY_STATES
