"""The backup and restore drill of docs/operations.md, run for real: back up a running service
(the database with pg_dump, or SQLite's online backup; then the blobs), destroy both, restore
them under a new service, and every document of every account opens (decrypted by the Python
client, each version checked against its owner's signature) and every journal verifies."""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import (
    PG_URL,
    TEST_PASSPHRASE,
    LiveServer,
    free_port,
    http_client,
    run_cli,
    run_live_server,
    using_postgres,
)
from wallet.client import ApiClient, Vault
from wallet.client.journal import fetch_entries, verify

SECRET = "drill-secret-" + secrets.token_hex(8)


@dataclass
class Account:
    handle: str
    # document id -> version number -> sha256 of the plaintext
    documents: dict[str, dict[int, str]] = field(default_factory=dict)
    journal: list[dict[str, object]] = field(default_factory=list)


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL as pg_dump and pg_restore take it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def run(*command: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{command[0]} failed: {done.stderr}"


@contextlib.contextmanager
def empty_postgres_database() -> Iterator[str]:
    name = f"wallet_restored_{secrets.token_hex(6)}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def postgres_database_exists(url: str) -> bool:
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            return bool(
                connection.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"),
                    {"name": make_url(url).database},
                ).first()
            )
    finally:
        admin.dispose()


def add(vault: Vault, account: Account, tmp: Path, size: int, replace: str | None = None) -> str:
    source = tmp / f"scan-{secrets.token_hex(4)}.pdf"
    source.write_bytes(os.urandom(size))
    document_id, version = vault.upload(source, "payslip", replace=replace)
    account.documents.setdefault(document_id, {})[version] = hashlib.sha256(
        source.read_bytes()
    ).hexdigest()
    return document_id


def fill(server: LiveServer, tmp: Path) -> list[Account]:
    """Two accounts: documents of several sizes, a second version, a deleted document (its
    blob is gone from the store), profile fields: a journal of every common kind."""
    accounts = []
    for sizes in ((1_000, 300_000, 2_500_000), (40_000,)):
        account = Account(f"drill-{secrets.token_hex(4)}")
        vault, _recovery = Vault.create_account(
            ApiClient(server.url), account.handle, TEST_PASSPHRASE
        )
        stored = [add(vault, account, tmp, size) for size in sizes]
        add(vault, account, tmp, 5_000, replace=stored[0])
        gone = add(vault, account, tmp, 2_000)
        vault.delete(gone)
        del account.documents[gone]
        vault.set_profile_field("last_name", "Drill")
        account.journal = fetch_entries(vault)
        accounts.append(account)
    return accounts


def back_up(server: LiveServer, backup: Path) -> None:
    """As docs/operations.md says, while the service runs: the database first, then the blobs,
    so every blob the dump refers to is in the copy."""
    backup.mkdir()
    if using_postgres():
        run(
            "pg_dump",
            "--format=custom",
            f"--file={backup / 'wallet.dump'}",
            f"--dbname={libpq_url(server.database.url)}",
        )
    else:
        assert server.database.path is not None
        with (
            contextlib.closing(sqlite3.connect(server.database.path)) as live,
            contextlib.closing(sqlite3.connect(backup / "wallet.db")) as copy,
        ):
            live.backup(copy)  # what `sqlite3 wallet.db ".backup …"` does
    shutil.copytree(server.data_dir / "blobs", backup / "blobs")


def restore(backup: Path, target: Path, stack: contextlib.ExitStack) -> str:
    """Into a new database and a new data dir; returns the database URL."""
    shutil.copytree(backup / "blobs", target / "data" / "blobs")
    if using_postgres():
        url = stack.enter_context(empty_postgres_database())
        run(
            "pg_restore",
            "--no-owner",
            "--exit-on-error",
            f"--dbname={libpq_url(url)}",
            str(backup / "wallet.dump"),
        )
        return url
    shutil.copyfile(backup / "wallet.db", target / "wallet.db")
    return f"sqlite:///{target / 'wallet.db'}"


def opens(server: LiveServer, account: Account, tmp: Path) -> None:
    vault = Vault.login(ApiClient(server.url), account.handle, TEST_PASSPHRASE)
    assert {d.id for d in vault.list_documents()} == set(account.documents)
    for document_id, versions in account.documents.items():
        listed = vault.versions(document_id)
        assert [v.version for v in listed] == sorted(versions)
        for version in listed:
            target = tmp / f"opened-{secrets.token_hex(4)}"
            vault.fetch_version(document_id, version, target)
            digest = hashlib.sha256(target.read_bytes()).hexdigest()
            assert digest == versions[version.version], f"{document_id} v{version.version}"
    entries = fetch_entries(vault)
    intact, message = verify(entries)
    assert intact, message
    # The journal is the one backed up, followed by this login only.
    assert entries[: len(account.journal)] == account.journal
    assert [e["event"] for e in entries[len(account.journal) :]] == ["session_started"]


def test_backup_destroy_restore_and_every_document_opens(tmp_path: Path) -> None:
    if using_postgres() and not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.skip("pg_dump and pg_restore are missing: install postgresql-client")
    backup = tmp_path / "backup"
    before = tmp_path / "before"
    before.mkdir()
    with run_live_server(before, {"WALLET_SERVER_SECRET": SECRET}) as server:
        accounts = fill(server, tmp_path)
        back_up(server, backup)
        old_database = server.database
    # Destroyed: the service is stopped, its database dropped (PostgreSQL: by the fixture) or
    # deleted, and its data dir with every blob gone.
    shutil.rmtree(server.data_dir)
    if old_database.path is not None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{old_database.path}{suffix}").unlink(missing_ok=True)
        assert not old_database.path.exists()
    else:
        assert not postgres_database_exists(old_database.url)

    after = tmp_path / "after"
    after.mkdir()
    with contextlib.ExitStack() as stack:
        url = restore(backup, after, stack)
        restored_env = {
            "WALLET_DATABASE_URL": url,
            "WALLET_DATA_DIR": str(after / "data"),
            "WALLET_SERVER_SECRET": SECRET,
        }
        # Without the old server secret, the restored database refuses to serve.
        refused = subprocess.run(
            [sys.executable, "-m", "wallet.cli", "serve", "--port", str(free_port())],
            env={**os.environ, **restored_env, "WALLET_SERVER_SECRET": "a-new-secret"},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert refused.returncode != 0
        assert "WALLET_SERVER_SECRET is not the secret" in refused.stderr

        (tmp_path / "server").mkdir()
        with run_live_server(tmp_path / "server", restored_env) as restored:
            with http_client(restored.url) as client:
                assert client.get("/readyz").status_code == 200
            for account in accounts:
                opens(restored, account, tmp_path)
            # A sweep after the restore keeps every blob in use.
            swept = run_cli({**restored.settings_env, "WALLET_ORPHAN_GRACE_SECONDS": "0"}, "sweep")
            assert "0 unused files" in swept.stdout
            vault = Vault.login(ApiClient(restored.url), accounts[0].handle, TEST_PASSPHRASE)
            for document_id in accounts[0].documents:
                vault.download(document_id, tmp_path / f"again-{document_id}")
