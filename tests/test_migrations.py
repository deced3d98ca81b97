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


def test_migration_0012_scopes_ids_per_owner_and_keeps_every_version(
    tmp_path: Path,
) -> None:
    """Existing documents keep their versions and wraps (SQLite rebuilds both tables: nothing
    may cascade away); afterwards two owners can each have a document with the same id."""
    from datetime import UTC, datetime

    from alembic import command
    from sqlalchemy import MetaData, func, insert, select

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
        command.upgrade(alembic_config(database.url), "0011")
        engine = make_engine(database.url)
        tables = MetaData()
        tables.reflect(engine)
        account, document = tables.tables["account"], tables.tables["document"]
        version, wrap = tables.tables["document_version"], tables.tables["key_wrap"]
        with engine.begin() as db:
            for name in ("alice", "bob"):
                db.execute(insert(account).values(row(account, id=name, handle=name)))
            db.execute(insert(document).values(row(document, id="d1", owner_id="alice")))
            for number in (1, 2):
                db.execute(
                    insert(version).values(
                        row(version, id=f"v{number}", document_id="d1", version=number)
                    )
                )
                db.execute(insert(wrap).values(row(wrap, version_id=f"v{number}")))
            link, item = tables.tables["share_link"], tables.tables["link_item"]
            db.execute(insert(link).values(row(link, id="l1", owner_id="alice")))
            db.execute(insert(item).values(row(item, link_id="l1", document_id="d1", version=1)))
        engine.dispose()
        migrate(database.url)
        engine = make_engine(database.url)
        tables = MetaData()
        tables.reflect(engine)
        document, version = tables.tables["document"], tables.tables["document_version"]
        wrap = tables.tables["key_wrap"]
        link, item = tables.tables["share_link"], tables.tables["link_item"]
        with engine.begin() as db:
            # A link keeps its row key and gets the id its owner chose; its items stay.
            assert db.execute(select(link.c.id, link.c.public_id)).all() == [("l1", "l1")]
            assert db.execute(select(item.c.link_id)).scalars().all() == ["l1"]
            owners = db.execute(select(version.c.id, version.c.owner_id)).all()
            assert sorted(owners) == [("v1", "alice"), ("v2", "alice")]
            assert db.execute(select(func.count()).select_from(wrap)).scalar_one() == 2
            # Bob's document with Alice's id is no conflict, and so is his version 1.
            db.execute(insert(document).values(row(document, id="d1", owner_id="bob")))
            db.execute(
                insert(version).values(
                    row(version, id="b1", document_id="d1", owner_id="bob", version=1)
                )
            )
        with engine.begin() as db:  # deleting Alice's document takes only hers
            db.execute(document.delete().where(document.c.owner_id == "alice"))
        with engine.connect() as db:
            left = db.execute(select(version.c.id)).scalars().all()
            wraps = db.execute(select(func.count()).select_from(wrap)).scalar_one()
        engine.dispose()
        assert left == ["b1"]
        assert wraps == 0
