"""`wallet serve`, `wallet migrate`, `wallet sweep`: running the service.

The only CLI module that imports the server. Its imports stay inside the commands: the server
(FastAPI, SQLModel, storage; over a second to import) loads only when one of these runs, not
for every client command."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer


def serve(
    host: Annotated[str, typer.Option(envvar="WALLET_HOST")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="WALLET_PORT")] = 8000,
    workers: Annotated[
        int, typer.Option(help="Worker processes (one per core).", envvar="WALLET_WORKERS")
    ] = 1,
) -> None:
    """Run the service. An empty database is set up on the first start."""
    import uvicorn  # the server's start-up cost, see above

    from wallet.app import prepare_database
    from wallet.settings import Settings

    settings = Settings()
    prepare_database(settings)
    typer.echo(f"Wallet service on http://{host}:{port}")
    uvicorn.run(
        "wallet.app:create_app",
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


def migrate() -> None:
    """Bring the database schema up to date."""
    from wallet.db import migrate as run_migrations  # the server's start-up cost, see above
    from wallet.settings import Settings

    run_migrations(Settings().resolved_database_url)
    typer.echo("The database is up to date.")


def sweep() -> None:
    """Delete expired unfinished uploads and blobs that no document uses."""
    from storage.factory import make_store  # the server's start-up cost, see above
    from wallet.db import make_engine
    from wallet.settings import Settings
    from wallet.sweeper import sweep as run_sweep

    settings = Settings()
    report = run_sweep(
        make_engine(settings.resolved_database_url),
        make_store(settings),
        timedelta(seconds=settings.orphan_grace_seconds),
    )
    typer.echo(
        f"Removed {report.expired_uploads} expired uploads, {report.orphan_staging} "
        f"unfinished upload files and {report.orphan_blobs} unused files."
    )
