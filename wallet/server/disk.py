"""Telling a full disk from a database that is down: both reach the app as database errors,
but an operator must read "disk full" in the logs, and a person must not be told to wait for
a database that works."""

from __future__ import annotations

import errno
import sqlite3

from sqlalchemy.exc import DBAPIError

DISK_FULL = (
    "The service's disk is full, so it cannot save anything right now. Nothing was lost. "
    "Please try again later."
)
_NO_ROOM = {errno.ENOSPC, errno.EDQUOT}
_POSTGRES_DISK_FULL = "53100"  # SQLSTATE disk_full


def is_disk_full(exc: BaseException) -> bool:
    """True for "No space left on device" from the OS, SQLite (SQLITE_FULL) or PostgreSQL."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _NO_ROOM:
            return True
        if isinstance(current, sqlite3.Error) and (
            getattr(current, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
            or "database or disk is full" in str(current)
        ):
            return True
        if getattr(current, "sqlstate", None) == _POSTGRES_DISK_FULL:
            return True
        if isinstance(current, DBAPIError):
            current = current.orig
            continue
        current = current.__cause__ or current.__context__
    return False
