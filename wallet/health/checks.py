"""What readiness checks: the database and the blob store. /readyz and the readiness metric
(wallet/server/vitals.py) both ask these, so they never disagree."""

from __future__ import annotations

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
