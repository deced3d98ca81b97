"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

import os
import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import wallet.server.tables  # noqa: F401
from tests.conftest import fresh_database
from wallet.db import make_engine, migrate


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
