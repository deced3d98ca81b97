"""The database limits of this process, from the settings (docs/operations.md, "Connection
budget and timeouts")."""

from __future__ import annotations

from wallet.db import DatabaseLimits
from wallet.settings import Settings


def request_limits(settings: Settings) -> DatabaseLimits:
    """The engine requests use: a pool with a place for every request let in (plus readiness
    and metrics), no overflow, and bounds on every wait."""
    return DatabaseLimits(
        pool_size=settings.database_pool_places,
        max_overflow=0,
        pool_timeout=settings.database_pool_timeout_seconds,
        connect_timeout=settings.database_connect_timeout_seconds,
        statement_timeout=settings.database_statement_timeout_seconds,
        answer_timeout=settings.database_answer_timeout_seconds,
        sqlite_busy_timeout=settings.sqlite_busy_timeout_seconds,
    )


def background_limits(settings: Settings) -> DatabaseLimits:
    """The sweeper's engine: its queries over every blob may take longer than a request's, so
    no statement timeout; two connections (the sweep lock's and the work's), outside the
    requests' budget."""
    return DatabaseLimits(
        pool_size=1,
        max_overflow=1,
        pool_timeout=60.0,
        connect_timeout=settings.database_connect_timeout_seconds,
        sqlite_busy_timeout=max(settings.sqlite_busy_timeout_seconds, 30.0),
    )
