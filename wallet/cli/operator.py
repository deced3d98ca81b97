"""`wallet serve`, `wallet migrate`, `wallet sweep`: running the service.

The only CLI module that imports the server. Its imports stay inside the commands: the server
(FastAPI, SQLModel, storage; over a second to import) loads only when one of these runs, not
for every client command."""

from __future__ import annotations

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
    from wallet.server import operations  # the server's start-up cost, see above

    operations.serve(host, port, workers, announce=typer.echo)


def migrate() -> None:
    """Bring the database schema up to date."""
    from wallet.server import operations  # the server's start-up cost, see above

    operations.migrate()
    typer.echo("The database is up to date.")


def sweep() -> None:
    """Delete expired unfinished uploads and blobs that no document uses."""
    from wallet.server import operations  # the server's start-up cost, see above

    report = operations.sweep_once()
    typer.echo(
        f"Removed {report.expired_uploads} expired uploads, {report.orphan_staging} "
        f"unfinished upload files and {report.orphan_blobs} unused files."
    )
