"""Database engine, sessions and migrations (SQLModel + Alembic)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from alembic import command
from alembic.config import Config
from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, create_engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# Named constraints, so later migrations can drop them on every database.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso_utc(value: datetime | str) -> str:
    """A timestamp read with raw SQL, as ISO 8601 with microseconds and +00:00.

    SQLite gives the stored UTC text ("2026-11-23 04:02:26.519473"), PostgreSQL an aware
    datetime; both end up exactly as `datetime.isoformat(timespec="microseconds")` writes them.
    """
    if isinstance(value, str):
        return value.replace(" ", "T") + "+00:00"
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def new_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class DatabaseLimits:
    """How long the app waits for its database, and how many connections it keeps.

    The request engine gets these from the settings (wallet/server/budget.py); the sweeper,
    the migrations and the CLI use the defaults: no statement timeout, no answer bound."""

    pool_size: int = 5
    max_overflow: int = 10
    pool_timeout: float = 30.0
    connect_timeout: int | None = None
    statement_timeout: float = 0.0
    answer_timeout: float = 0.0
    sqlite_busy_timeout: float = 30.0


class DatabaseDidNotAnswer(psycopg.OperationalError):
    """PostgreSQL gave no answer within the bound; the connection was closed."""


class BoundedConnection(psycopg.Connection[Any]):
    """A psycopg connection that waits at most `answer_timeout` seconds for any answer.

    A frozen server or a network partition never answers, so PostgreSQL's statement_timeout
    never fires and TCP keepalives are answered by the kernel of a stopped peer: only a
    client-side bound frees the request. The connection is closed then (its state is unknown),
    so SQLAlchemy drops it from the pool."""

    answer_timeout: float = 0.0

    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        bound = timeout if timeout is not None else (self.answer_timeout or None)
        started = time.monotonic()
        try:
            return super().wait(gen, interval, timeout=bound)
        except psycopg.OperationalError as exc:
            if timeout is None and bound is not None and time.monotonic() - started >= bound:
                self.close()
                raise DatabaseDidNotAnswer(
                    f"the database did not answer within {bound:g} s"
                ) from exc
            raise


def make_engine(url: str, limits: DatabaseLimits | None = None) -> Engine:
    limits = limits or DatabaseLimits()
    pool = {
        "pool_size": limits.pool_size,
        "max_overflow": limits.max_overflow,
        "pool_timeout": limits.pool_timeout,
    }
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        in_memory = path in ("", ":memory:") or "///" not in url
        if not in_memory:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": limits.sqlite_busy_timeout},
            # An in-memory database lives in one connection per thread: no pool to size.
            **({} if in_memory else pool),
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            # Deleted or overwritten bytes (a dead link's share, a deleted account) are zeroed,
            # not left in free pages for someone who copies the file.
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()

        return engine
    connect_args: dict[str, Any] = {}
    if limits.connect_timeout is not None:
        connect_args["connect_timeout"] = limits.connect_timeout
    if limits.statement_timeout:
        # In the start-up packet: no extra round trip (behind PgBouncer see operations.md).
        connect_args["options"] = f"-c statement_timeout={round(limits.statement_timeout * 1000)}"
    if limits.answer_timeout:
        # A real partition drops packets: the kernel gives up on unacknowledged data too.
        connect_args |= {
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 5,
            "keepalives_count": 3,
            "tcp_user_timeout": round(limits.answer_timeout * 1000),
        }
    engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args, **pool)
    if limits.answer_timeout and engine.dialect.driver == "psycopg":

        @event.listens_for(engine, "do_connect")
        def _bounded(_dialect, _record, cargs, cparams) -> BoundedConnection:  # type: ignore[no-untyped-def]
            connection = BoundedConnection.connect(*cargs, **cparams)
            connection.answer_timeout = limits.answer_timeout
            return connection

    return engine


def flush_old_page_copies(db: Session) -> None:
    """After deleting a secret: SQLite's write-ahead log still holds old page versions until it
    is copied into the database and truncated (secure_delete zeroes the freed pages there)."""
    if db.get_bind().dialect.name == "sqlite":
        db.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.commit()


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str) -> None:
    command.upgrade(alembic_config(url), "head")


def is_empty(engine: Engine) -> bool:
    return not inspect(engine).get_table_names()


def session_scope(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session
