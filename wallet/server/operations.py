"""What an operator runs from the command line (`wallet serve`, `migrate`, `sweep`), so the
CLI reaches the server through this one module."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import uvicorn

from storage.factory import make_store
from wallet.db import make_engine
from wallet.db import migrate as migrate_database
from wallet.server.app import prepare_database
from wallet.server.meta import ServerSecretMismatch, check_at_start
from wallet.server.sweeper import SweepReport, sweep
from wallet.settings import Settings


def serve(host: str, port: int, workers: int, announce: Callable[[str], None]) -> None:
    settings = Settings()
    prepare_database(settings)
    _check_server_secret(settings)
    announce(f"Wallet service on http://{host}:{port}")
    uvicorn.run(
        "wallet.server.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        # Behind a reverse proxy the client address (for login throttling) comes from
        # X-Forwarded-For, trusted only from these proxy addresses.
        proxy_headers=True,
        forwarded_allow_ips=settings.trusted_proxies,
    )


def _check_server_secret(settings: Settings) -> None:
    """Before any worker starts, so a replica with the wrong secret says why in one line
    instead of a traceback per worker (each worker checks again as it starts)."""
    engine = make_engine(settings.resolved_database_url)
    try:
        check_at_start(engine, settings)
    except ServerSecretMismatch as exc:
        raise SystemExit(f"Error: {exc}") from None
    finally:
        engine.dispose()


def migrate() -> None:
    migrate_database(Settings().resolved_database_url)


def sweep_once() -> SweepReport:
    settings = Settings()
    engine = make_engine(settings.resolved_database_url)
    try:
        report = sweep(
            engine, make_store(settings), timedelta(seconds=settings.orphan_grace_seconds)
        )
    finally:
        engine.dispose()
    if report.failed:
        # Cron sees a failure; what the other tasks could free is freed (see the log).
        raise SystemExit(
            f"Error: the sweep did not finish ({', '.join(report.failed)} failed; see the log). "
            f"It still removed {report.expired_uploads} expired uploads, "
            f"{report.orphan_staging} unfinished upload files and {report.orphan_blobs} unused "
            "files."
        )
    return report
