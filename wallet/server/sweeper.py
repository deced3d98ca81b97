"""The sweep schedule: removes what nobody can see any more. Each domain knows its own
leftovers (expired unfinished uploads, expired link states, ended mandates' keys, old sign-in
states, orphan staging and blobs) and exposes a sweep; this module only runs them in order.

One instance sweeps at a time (sweep_turn). A task that fails does not stop the ones after it:
on a full disk the database refuses writes, and the tasks that only read it (orphan staging
and blobs) must still free the space."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from sqlalchemy import ARRAY, String, any_, bindparam, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, col, select

from sharing.links import service as links
from sharing.mandates import service as mandates
from storage.base import BlobStore
from storage.cleanup import delete_blobs_quietly, discard_uploads_quietly
from wallet.db import utcnow
from wallet.documents.models import DocumentVersion
from wallet.oidc import service as oidc
from wallet.ratelimit import service as ratelimit
from wallet.server.disk import is_disk_full
from wallet.server.meta import LAST_SWEEP, set_meta
from wallet.uploads import service as uploads
from wallet.uploads.models import Upload

log = structlog.get_logger(__name__)

# Blob keys looked up per query: one SELECT per blob cost 11 s of CPU for 20,000 blobs.
BATCH = 1000
# pg_try_advisory_lock's key: any fixed 64-bit number no other lock in the database uses.
ADVISORY_LOCK_KEY = 0x77616C6C657401  # "wallet" + 1


@dataclass
class SweepReport:
    expired_uploads: int = 0
    orphan_staging: int = 0
    orphan_blobs: int = 0
    ended_mandate_wraps: int = 0
    # Another instance held the sweep lock: this one did nothing.
    skipped: bool = False
    # Tasks that raised; the others still ran.
    failed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SweepRun:
    db: Session
    store: BlobStore
    now: datetime
    grace: timedelta


@dataclass(frozen=True)
class SweepTask:
    name: str
    run: Callable[[SweepRun], int]
    figure: str | None = None  # the SweepReport field its count goes to
    # Runs instead when `run` fails, with what needs no database write (a full disk).
    fallback: Callable[[SweepRun], int] | None = None


def _chunks(items: Iterable[str], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def sweep_orphan_blobs(run: SweepRun) -> int:
    """Deletes blobs no version points to (moved into place by a completion that never
    committed), once older than grace: one query per BATCH blobs, not one per blob.
    (The batched twin of documents.sweep_orphan_blobs, which it replaces in the schedule.)"""
    deleted = 0
    postgres = run.db.get_bind().dialect.name == "postgresql"
    old = (key for key, modified in run.store.list_blobs() if run.now - modified > run.grace)
    for batch in _chunks(old, BATCH):
        key = col(DocumentVersion.blob_key)
        # PostgreSQL: one array parameter; 1,000 separate ones cost it ten times the time.
        found = key == any_(bindparam("keys", batch, ARRAY(String))) if postgres else key.in_(batch)
        known = set(run.db.exec(select(DocumentVersion.blob_key).where(found)))
        run.db.rollback()  # no read transaction stays open through a long listing
        orphans = [key for key in batch if key not in known]
        delete_blobs_quietly(run.store, orphans)
        deleted += len(orphans)
    return deleted


def discard_expired_staging(run: SweepRun) -> int:
    """When the rows of expired uploads cannot be deleted (a full disk refuses the database's
    write), their staged bytes still go: nobody can resume an expired upload. The rows go on
    the next sweep, which finds no bytes left to discard."""
    expired = list(run.db.exec(select(Upload.id).where(col(Upload.expires_at) <= run.now)))
    discard_uploads_quietly(run.store, expired)
    return len(expired)


# In this order: expired upload rows go before the staging pass looks for rows without one.
SCHEDULE: tuple[SweepTask, ...] = (
    SweepTask(
        "expired_uploads",
        lambda r: uploads.sweep_expired(r.db, r.store, r.now),
        "expired_uploads",
        fallback=discard_expired_staging,
    ),
    SweepTask("expired_links", lambda r: links.sweep_expired(r.db, r.now)),
    # A mandate past its end has no request to delete its keys: the sweeper does it.
    SweepTask(
        "ended_mandates",
        lambda r: mandates.forget_ended_wraps(r.db, r.now),
        "ended_mandate_wraps",
    ),
    SweepTask("old_sign_ins", lambda r: oidc.forget_old_rows(r.db, r.now)),
    SweepTask("idle_rate_limits", lambda r: ratelimit.sweep_idle(r.db, r.now)),
    SweepTask(
        "orphan_staging",
        lambda r: uploads.sweep_orphan_staging(r.db, r.store, r.now, r.grace),
        "orphan_staging",
    ),
    SweepTask("orphan_blobs", sweep_orphan_blobs, "orphan_blobs"),
)


@contextlib.contextmanager
def sweep_turn(engine: Engine) -> Iterator[bool]:
    """Yields True when this process may sweep now, False when another one is sweeping.

    PostgreSQL: a session advisory lock, on a connection of its own held through the sweep
    (the sweep's session commits between tasks and may change connections); PostgreSQL drops
    it if the process dies. SQLite is on one host: a lock file next to the database keeps the
    worker processes of `wallet serve --workers N` and a cron `wallet sweep` from overlapping."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            mine = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
            ).scalar_one()
            connection.commit()
            try:
                yield bool(mine)
            finally:
                if mine:
                    connection.execute(
                        text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY}
                    )
                    connection.commit()
        return
    database = make_url(engine.url).database
    if not database or database == ":memory:":
        yield True
        return
    try:
        fd = os.open(f"{database}.sweep-lock", os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        # A full disk may refuse even an empty file: sweep anyway, since two sweeps at once
        # only repeat each other's work, and this one is needed to free the space.
        log.warning("sweep_lock_unavailable", error=exc.strerror)
        yield True
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True  # the lock goes with the file descriptor, closed below
    finally:
        os.close(fd)


def sweep(
    engine: Engine,
    store: BlobStore,
    grace: timedelta,
    schedule: Sequence[SweepTask] = SCHEDULE,
) -> SweepReport:
    with sweep_turn(engine) as mine:
        if not mine:
            log.info("sweep_skipped", reason="another instance is sweeping")
            return SweepReport(skipped=True)
        report = _sweep(engine, store, grace, schedule)
    log.info("sweep_done", **report.__dict__)
    return report


def _sweep(
    engine: Engine, store: BlobStore, grace: timedelta, schedule: Sequence[SweepTask]
) -> SweepReport:
    report = SweepReport()
    now = utcnow()
    with Session(engine) as db:
        run = SweepRun(db, store, now, grace)
        for task in schedule:
            try:
                count = task.run(run)
                db.commit()  # each task's rows are done before the next one looks
            except Exception as exc:  # noqa: BLE001 - logged; the next tasks still run
                db.rollback()
                report.failed.append(task.name)
                if is_disk_full(exc):
                    log.error("disk_full", error="No space left on device", sweep_task=task.name)
                else:
                    log.exception("sweep_task_failed", sweep_task=task.name)
                if task.fallback is None:
                    continue
                try:
                    count = task.fallback(run)
                    db.rollback()  # it only read
                except Exception:  # noqa: BLE001 - as above
                    db.rollback()
                    log.exception("sweep_task_failed", sweep_task=f"{task.name} (fallback)")
                    continue
            if task.figure:
                setattr(report, task.figure, count)
        if not report.failed:
            try:
                # What the sweeper-lag alert reads, from whichever instance swept.
                set_meta(db, LAST_SWEEP, utcnow().isoformat())
                db.commit()
            except Exception as exc:  # noqa: BLE001 - the sweep itself is done
                db.rollback()
                log.warning("sweep_time_not_recorded", error=type(exc).__name__)
    return report
