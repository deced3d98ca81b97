"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import column as sa_column
from sqlalchemy import inspect
from sqlmodel import SQLModel

import wallet.server.tables  # noqa: F401
from tests.conftest import FAST_AUTH_HASH, FAST_KDF, fresh_database
from wallet.db import make_engine, migrate
from wallet.server.app import create_app
from wallet.settings import Settings


def test_migrations_match_models(tmp_path: Path) -> None:
    with fresh_database(tmp_path) as database:
        migrate(database.url)
        engine = make_engine(database.url)
        with engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
        engine.dispose()
        assert diff == []


def test_wallet_migrate_command_creates_every_table(tmp_path: Path) -> None:
    with fresh_database(tmp_path) as database:
        env = {**os.environ, "WALLET_DATABASE_URL": database.url, "WALLET_DATA_DIR": str(tmp_path)}
        result = subprocess.run(
            [sys.executable, "-m", "wallet.cli", "migrate"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert "up to date" in result.stdout
        engine = make_engine(database.url)
        tables = set(inspect(engine).get_table_names())
        engine.dispose()
        assert set(SQLModel.metadata.tables) <= tables
        assert "alembic_version" in tables


def test_the_app_sets_up_an_empty_database_when_it_starts(tmp_path: Path) -> None:
    """The other tests' apps start on a copy of a migrated database; this one starts empty."""
    with fresh_database(tmp_path) as database:
        engine = make_engine(database.url)
        assert inspect(engine).get_table_names() == []
        settings = Settings(
            data_dir=tmp_path / "data",
            database_url=database.url,
            sweep_interval_seconds=0,
            server_secret="test-secret",
            **FAST_KDF,  # type: ignore[arg-type]
            **FAST_AUTH_HASH,  # type: ignore[arg-type]
        )
        with TestClient(create_app(settings)) as client:
            answer = client.post("/api/v1/auth/prelogin", json={"handle": "nobody-yet"})
            assert answer.status_code == 200, answer.text
        tables = set(inspect(engine).get_table_names())
        engine.dispose()
        assert set(SQLModel.metadata.tables) <= tables
        assert "alembic_version" in tables


def test_migration_0006_names_the_creator_of_existing_links(tmp_path: Path) -> None:
    """Links made before 0006: the owner made them, unless a proxy made them under a mandate."""
    from datetime import UTC, datetime

    from alembic import command
    from sqlalchemy import MetaData, insert, select

    from wallet.db import alembic_config

    def row(table: Any, **given: object) -> dict[str, object]:
        values: dict[str, object] = {}
        for column in table.columns:
            if column.name in given or column.nullable:
                continue
            kind = column.type.python_type
            values[column.name] = {
                bytes: b"x",
                int: 1,
                bool: False,
                datetime: datetime.now(UTC),
            }.get(kind, secrets.token_hex(8)[: getattr(column.type, "length", None) or 16])
        return {**values, **given}

    with fresh_database(tmp_path) as database:
        command.upgrade(alembic_config(database.url), "0005")
        engine = make_engine(database.url)
        tables = MetaData()
        tables.reflect(engine)
        account, link = tables.tables["account"], tables.tables["share_link"]
        mandate, mandate_link = tables.tables["mandate"], tables.tables["mandate_link"]
        with engine.begin() as db:
            for name in ("owner", "proxy"):
                db.execute(insert(account).values(row(account, id=name, handle=name)))
            for link_id in ("own", "proxied"):
                db.execute(insert(link).values(row(link, id=link_id, owner_id="owner")))
            db.execute(
                insert(mandate).values(row(mandate, id="m", owner_id="owner", proxy_id="proxy"))
            )
            db.execute(insert(mandate_link).values(link_id="proxied", mandate_id="m"))
        engine.dispose()
        migrate(database.url)
        engine = make_engine(database.url)
        with engine.connect() as db:
            creators = dict(db.execute(select(link.c.id, sa_column("creator_id"))).all())
        engine.dispose()
        assert creators == {"own": "owner", "proxied": "proxy"}
