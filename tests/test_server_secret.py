"""The server secret's fingerprint: stored in the database at the first start, checked at every
start. A replica with another WALLET_SERVER_SECRET would turn correct link PINs into wrong ones
and lock the links for good: it refuses to start, and says why."""

from __future__ import annotations

import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import event, text

from tests.conftest import (
    FAST_AUTH_HASH,
    FAST_KDF,
    AppFactory,
    free_port,
    fresh_database,
    http_client,
    run_live_server,
)
from wallet.db import alembic_config, make_engine
from wallet.server.app import create_app
from wallet.server.meta import SECRET_FINGERPRINT, ServerSecretMismatch, check_at_start
from wallet.settings import Settings

MISMATCH = "WALLET_SERVER_SECRET is not the secret this database has used since"


def stored_fingerprint(url: str) -> str:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                text("SELECT value FROM server_meta WHERE name = :name"),
                {"name": SECRET_FINGERPRINT},
            ).scalar_one()
    finally:
        engine.dispose()


def folder(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def start_replica(env: dict[str, str], **changes: str) -> subprocess.CompletedProcess[str]:
    """`wallet serve` as a second replica would run it; it is expected to stop by itself."""
    return subprocess.run(
        [sys.executable, "-m", "wallet.cli", "serve", "--port", str(free_port())],
        env={**env, **changes},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_first_start_stores_a_fingerprint_never_the_secret(make_app: AppFactory) -> None:
    secret = secrets.token_hex(16)
    app = make_app(server_secret=secret)
    fingerprint = stored_fingerprint(app.database.url)
    assert fingerprint.startswith("$argon2id$")
    assert secret not in fingerprint
    assert secret.encode().hex() not in fingerprint
    # The same secret starts again; the fingerprint stays the first one.
    with TestClient(create_app(app.settings)) as again:
        assert again.get("/readyz").status_code == 200
    assert stored_fingerprint(app.database.url) == fingerprint


def test_an_app_with_another_secret_does_not_start(make_app: AppFactory) -> None:
    app = make_app(server_secret="the-first-secret")
    # A new Settings, not model_copy: that would copy the cached secret along.
    other = Settings(**{**app.settings.model_dump(), "server_secret": "another-secret"})
    with pytest.raises(ServerSecretMismatch, match=MISMATCH), TestClient(create_app(other)):
        pass


def test_a_replica_with_another_secret_refuses_to_start(tmp_path: Path) -> None:
    with run_live_server(
        folder(tmp_path / "one"), {"WALLET_SERVER_SECRET": "replica-secret-1"}
    ) as first:
        refused = start_replica(
            first.settings_env,
            WALLET_SERVER_SECRET="replica-secret-2",
            WALLET_DATA_DIR=str(tmp_path / "two"),
        )
        assert refused.returncode != 0
        assert MISMATCH in refused.stderr
        assert "Give every replica the same WALLET_SERVER_SECRET" in refused.stderr
        assert "replica-secret" not in refused.stderr  # neither secret is ever printed
        # The first replica never noticed.
        with http_client(first.url) as client:
            assert client.get("/readyz").status_code == 200

        # A replica with the same secret joins.
        same = {
            "WALLET_DATABASE_URL": first.database.url,
            "WALLET_SERVER_SECRET": "replica-secret-1",
        }
        with (
            run_live_server(folder(tmp_path / "three"), same) as second,
            http_client(second.url) as client,
        ):
            assert client.get("/readyz").status_code == 200


def test_replicas_that_each_made_their_own_secret_are_told(tmp_path: Path) -> None:
    """No WALLET_SERVER_SECRET: each data dir gets a random one, so two replicas differ."""
    with run_live_server(folder(tmp_path / "one"), {"WALLET_SERVER_SECRET": ""}) as first:
        refused = start_replica(
            first.settings_env, WALLET_SERVER_SECRET="", WALLET_DATA_DIR=str(tmp_path / "two")
        )
        assert refused.returncode != 0
        assert MISMATCH in refused.stderr
        assert "This server has none set" in refused.stderr
        assert str(tmp_path / "two" / "server-secret") in refused.stderr
        assert (tmp_path / "two" / "server-secret").read_text().strip() not in refused.stderr


def test_a_database_not_yet_migrated_is_not_checked(tmp_path: Path) -> None:
    """A new version started before `wallet migrate`: it warns and goes on, as before."""
    with fresh_database(tmp_path) as database:
        command.upgrade(alembic_config(database.url), "0006")
        settings = Settings(
            data_dir=tmp_path / "data",
            database_url=database.url,
            server_secret="not-checked",
            **FAST_KDF,  # type: ignore[arg-type]
            **FAST_AUTH_HASH,  # type: ignore[arg-type]
        )
        engine = make_engine(database.url)
        try:
            check_at_start(engine, settings)
        finally:
            engine.dispose()


def test_start_up_is_reads_only_once_the_rows_exist(make_app: AppFactory) -> None:
    """A restart on a full disk must not fail for want of a write: the check only reads."""
    app = make_app()
    engine = make_engine(app.database.url)
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement.split()[0].upper())

    event.listen(engine, "before_cursor_execute", record)
    try:
        check_at_start(engine, app.settings)
    finally:
        engine.dispose()
    assert statements
    assert set(statements) <= {"SELECT", "PRAGMA"}, statements
