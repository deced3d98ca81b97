"""Facts about the installation itself, kept in the database so every replica sees them: the
server secret's fingerprint (checked at each start) and the time of the last complete sweep
(read by the sweeper-lag metric)."""

from __future__ import annotations

from datetime import datetime

import nacl.exceptions
import nacl.pwhash
import structlog
from sqlalchemy import Column, Text, inspect
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel

from wallet.db import utcnow
from wallet.settings import Settings

log = structlog.get_logger(__name__)

SECRET_FINGERPRINT = "server_secret_fingerprint"  # noqa: S105 - a row name, not a secret
LAST_SWEEP = "last_sweep_at"


class ServerMeta(SQLModel, table=True):
    __tablename__ = "server_meta"

    name: str = Field(primary_key=True, max_length=64)
    value: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)


class ServerSecretMismatch(RuntimeError):
    """This process's WALLET_SERVER_SECRET is not the one the database was first started with."""


def _put(db: Session, name: str, value: str, *, replace: bool) -> None:
    insert = postgresql_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    now = utcnow()
    statement = insert(ServerMeta).values(name=name, value=value, updated_at=now)
    db.execute(
        statement.on_conflict_do_update(
            index_elements=["name"], set_={"value": value, "updated_at": now}
        )
        if replace
        else statement.on_conflict_do_nothing(index_elements=["name"])
    )


def set_meta(db: Session, name: str, value: str) -> None:
    _put(db, name, value, replace=True)


def add_meta_if_absent(db: Session, name: str, value: str) -> None:
    _put(db, name, value, replace=False)


def get_meta(db: Session, name: str) -> ServerMeta | None:
    return db.get(ServerMeta, name)


def secret_fingerprint(secret: bytes, settings: Settings) -> str:
    """An Argon2id hash with its own random salt: it shows whether two secrets are the same,
    and a stolen database does not make a weak secret any quicker to guess than it already is."""
    return nacl.pwhash.argon2id.str(
        secret, opslimit=settings.auth_hash_opslimit, memlimit=settings.auth_hash_memlimit
    ).decode()


def _same_secret(fingerprint: str, secret: bytes) -> bool:
    try:
        return nacl.pwhash.verify(fingerprint.encode(), secret)
    except nacl.exceptions.InvalidkeyError:
        return False


def _mismatch_message(stored: ServerMeta, settings: Settings) -> str:
    since = stored.updated_at.strftime("%Y-%m-%d %H:%M UTC")
    message = (
        f"WALLET_SERVER_SECRET is not the secret this database has used since {since}. "
        "Replicas with different secrets turn correct link PINs into wrong ones and lock those "
        "links for good, so this one does not start. Give every replica the same "
        "WALLET_SERVER_SECRET (the value the others use, or the one in your backup) and start "
        "it again."
    )
    if not settings.server_secret:
        message += (
            f" This server has none set, so it uses the one it made for itself in "
            f"{settings.data_dir / 'server-secret'}."
        )
    return message


def check_at_start(engine: Engine, settings: Settings) -> None:
    """Stores the server secret's fingerprint on the database's first start and compares it on
    every later one; raises ServerSecretMismatch with what to do. Also starts the sweep clock,
    so a new installation does not look late for a sweep it never had."""
    if not inspect(engine).has_table(ServerMeta.__tablename__):
        # An older schema (the new version started before `wallet migrate`): nothing to check.
        log.warning("server_secret_unchecked", reason="run `wallet migrate`")
        return
    secret = settings.resolved_server_secret
    with Session(engine) as db:
        # Reads only, once both are there: a full disk must not stop a restart.
        first_start = get_meta(db, SECRET_FINGERPRINT) is None
        if first_start:
            # Two replicas starting at once both get here: the first insert wins, and the other
            # one is compared with it below like any later start.
            add_meta_if_absent(db, SECRET_FINGERPRINT, secret_fingerprint(secret, settings))
        if get_meta(db, LAST_SWEEP) is None:
            add_meta_if_absent(db, LAST_SWEEP, utcnow().isoformat())
        db.commit()
        stored = get_meta(db, SECRET_FINGERPRINT)
        if stored is None:  # pragma: no cover - inserted just above
            raise RuntimeError("the server secret's fingerprint was not stored")
        if not _same_secret(stored.value, secret):
            log.error("server_secret_mismatch", stored_since=stored.updated_at.isoformat())
            raise ServerSecretMismatch(_mismatch_message(stored, settings))
        if first_start:
            log.info("server_secret_fingerprint_stored")
