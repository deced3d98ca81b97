"""The sweep schedule: removes what nobody can see any more. Each domain knows its own
leftovers (expired unfinished uploads, expired link states, ended mandates' keys, old sign-in
states, orphan staging and blobs) and exposes a sweep; this module only runs them in order."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy.engine import Engine
from sqlmodel import Session

from sharing.links import service as links
from sharing.mandates import service as mandates
from storage.base import BlobStore
from wallet.db import utcnow
from wallet.documents import service as documents
from wallet.oidc import service as oidc
from wallet.uploads import service as uploads

log = structlog.get_logger(__name__)


@dataclass
class SweepReport:
    expired_uploads: int = 0
    orphan_staging: int = 0
    orphan_blobs: int = 0
    ended_mandate_wraps: int = 0


@dataclass(frozen=True)
class SweepRun:
    db: Session
    store: BlobStore
    now: datetime
    grace: timedelta


@dataclass(frozen=True)
class SweepTask:
    run: Callable[[SweepRun], int]
    figure: str | None = None  # the SweepReport field its count goes to


# In this order: expired upload rows go before the staging pass looks for rows without one.
SCHEDULE: tuple[SweepTask, ...] = (
    SweepTask(lambda r: uploads.sweep_expired(r.db, r.store, r.now), "expired_uploads"),
    SweepTask(lambda r: links.sweep_expired(r.db, r.now)),
    # A mandate past its end has no request to delete its keys: the sweeper does it.
    SweepTask(lambda r: mandates.forget_ended_wraps(r.db, r.now), "ended_mandate_wraps"),
    SweepTask(lambda r: oidc.forget_old_rows(r.db, r.now)),
    SweepTask(
        lambda r: uploads.sweep_orphan_staging(r.db, r.store, r.now, r.grace), "orphan_staging"
    ),
    SweepTask(
        lambda r: documents.sweep_orphan_blobs(r.db, r.store, r.now, r.grace), "orphan_blobs"
    ),
)


def sweep(
    engine: Engine,
    store: BlobStore,
    grace: timedelta,
    schedule: Sequence[SweepTask] = SCHEDULE,
) -> SweepReport:
    report = SweepReport()
    now = utcnow()
    with Session(engine) as db:
        run = SweepRun(db, store, now, grace)
        for task in schedule:
            count = task.run(run)
            db.commit()  # each task's rows are done before the next one looks
            if task.figure:
                setattr(report, task.figure, count)
    log.info("sweep_done", **report.__dict__)
    return report
