"""A full disk on the single-server install, on a real 64 MiB tmpfs: uploads stop at the reserve
with "storage full", so logins and the journal keep working; /readyz and the logs say "disk
full"; the sweeper frees space without a database write first.

The database is on the small disk too when the suite runs on SQLite (the default install);
on PostgreSQL only the blobs are."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import delete, event, update

from tests.conftest import (
    FAST_AUTH_HASH,
    FAST_KDF,
    TEST_PASSPHRASE,
    AppFactory,
    Database,
    free_port,
    fresh_database,
    http_client,
    run_cli_process,
    wait_for_port,
)
from wallet.client import ApiClient, Vault
from wallet.client.api import ApiError
from wallet.client.journal import fetch_entries, verify
from wallet.db import make_engine, utcnow
from wallet.server.disk import DISK_FULL, is_disk_full
from wallet.server.sweeper import sweep
from wallet.uploads.models import Upload

MIB = 1024 * 1024
DISK = "64m"
RESERVE = 24 * MIB
API = "/api/v1"
TUS = {"Tus-Resumable": "1.0.0"}


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 MiB tmpfs of its own, unmounted afterwards."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (the CI container runs as root)")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK},mode=0700", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        if subprocess.run(["umount", str(disk)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(disk)], check=True)  # never leave it mounted


def free_bytes(path: Path) -> int:
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize


def fill(disk: Path) -> Path:
    """What fills a disk from outside the wallet (logs, another program): a file, written
    until the disk refuses another byte."""
    filler = disk / "filler.bin"
    with open(filler, "wb", buffering=0) as handle:
        for block in (MIB, 4096, 1):
            with contextlib.suppress(OSError):
                while True:
                    handle.write(b"\0" * block)
    with pytest.raises(OSError) as refused, open(disk / "one-more.bin", "wb") as handle:
        handle.write(b"\0" * 4096)
        handle.flush()
        os.fsync(handle.fileno())
    assert refused.value.errno == errno.ENOSPC
    (disk / "one-more.bin").unlink()
    return filler


@dataclass
class Server:
    url: str
    env: dict[str, str]
    log_path: Path  # everything the server logged (the logs go to stdout)


@contextlib.contextmanager
def server_on(disk: Path, tmp: Path) -> Iterator[tuple[Server, Database]]:
    """`wallet serve` with its data dir (and a SQLite database) on the small disk."""
    tmp.mkdir(parents=True, exist_ok=True)
    with fresh_database(disk, migrated=True) as database:
        port = free_port()
        env = {
            **os.environ,
            "WALLET_DATA_DIR": str(disk / "data"),
            "WALLET_DATABASE_URL": database.url,
            "WALLET_DISK_RESERVE_BYTES": str(RESERVE),
            "WALLET_KDF_OPSLIMIT": str(FAST_KDF["kdf_opslimit"]),
            "WALLET_KDF_MEMLIMIT": str(FAST_KDF["kdf_memlimit"]),
            "WALLET_AUTH_HASH_OPSLIMIT": str(FAST_AUTH_HASH["auth_hash_opslimit"]),
            "WALLET_AUTH_HASH_MEMLIMIT": str(FAST_AUTH_HASH["auth_hash_memlimit"]),
            "WALLET_SERVER_SECRET": "test-secret",
            "WALLET_SWEEP_INTERVAL_SECONDS": "0",
            "WALLET_LOG_LEVEL": "WARNING",
        }
        log_path = tmp / "server.log"
        # The log file is on the big disk: the server's own logs must not fill the small one.
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "wallet.cli", "serve", "--port", str(port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                wait_for_port(port, process=process)
                yield Server(f"http://127.0.0.1:{port}", env, log_path), database
            finally:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(10)


def new_vault(server: Server) -> Vault:
    api = ApiClient(server.url)
    vault, _recovery = Vault.create_account(api, f"disk-{secrets.token_hex(4)}", TEST_PASSPHRASE)
    return vault


def login(server: Server, vault: Vault) -> Vault:
    return Vault.login(ApiClient(server.url), vault.account["handle"], TEST_PASSPHRASE)


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def start_upload(client: httpx.Client, token: str | None, length: int) -> httpx.Response:
    return client.post(
        f"{API}/uploads", headers={**TUS, **bearer(token), "Upload-Length": str(length)}
    )


def staged_upload(client: httpx.Client, token: str | None, data: bytes) -> str:
    """An unfinished upload holding `data` in staging; returns its id."""
    created = start_upload(client, token, len(data) + 1)
    assert created.status_code == 201, created.text
    location = created.headers["location"]
    sent = client.patch(
        location,
        content=data,
        headers={
            **TUS,
            **bearer(token),
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
        },
    )
    assert sent.status_code == 204, sent.text
    return location.rsplit("/", 1)[-1]


def stored_file(tmp: Path, size: int) -> Path:
    path = tmp / f"scan-{secrets.token_hex(4)}.pdf"
    path.write_bytes(os.urandom(size))
    return path


def opens_as(vault: Vault, document_id: str, original: Path, tmp: Path) -> bool:
    target = tmp / f"opened-{secrets.token_hex(4)}"
    vault.download(document_id, target)
    return (
        hashlib.sha256(target.read_bytes()).digest()
        == hashlib.sha256(original.read_bytes()).digest()
    )


def test_uploads_stop_at_the_reserve_and_logins_and_the_journal_go_on(
    small_disk: Path, tmp_path: Path
) -> None:
    with server_on(small_disk, tmp_path / "server") as (server, _database):
        vault = new_vault(server)
        stored: dict[str, Path] = {}
        refusal: ApiError | None = None
        for _ in range(20):  # 64 MiB cannot hold 20 scans of 6 MiB: the loop ends early
            source = stored_file(tmp_path, 6 * MIB)
            try:
                document_id, _version = vault.upload(source, "payslip")
            except ApiError as exc:
                refusal = exc
                break
            stored[document_id] = source
        assert refusal is not None, "the disk never filled"
        assert refusal.status == 507
        assert str(refusal).startswith("Storage full:"), str(refusal)
        assert len(stored) >= 3
        # Upload bytes never went into the reserve; only the database's own rows may have.
        assert free_bytes(small_disk) > RESERVE - MIB

        # A new login, which writes a session and a journal entry; then the journal verifies.
        again = login(server, vault)
        entries = fetch_entries(again)
        assert entries[-1]["event"] == "session_started"
        assert verify(entries)[0], verify(entries)[1]
        for document_id, source in stored.items():
            assert opens_as(again, document_id, source, tmp_path)
        with http_client(server.url) as client:
            ready = client.get("/readyz")
            assert ready.status_code == 200
            assert ready.json()["checks"]["blob_store"] == "ok"
            # A small file still fits above the reserve.
            assert start_upload(client, again.api.token, 64 * 1024).status_code == 201
        assert "disk_full" in server.log_path.read_text()


def test_a_disk_filled_from_outside_is_reported_and_the_sweeper_frees_it(
    small_disk: Path, tmp_path: Path
) -> None:
    with server_on(small_disk, tmp_path / "server") as (server, database):
        vault = new_vault(server)
        token = vault.api.token
        source = stored_file(tmp_path, 2 * MIB)
        document_id, _version = vault.upload(source, "payslip")
        with http_client(server.url) as client:
            expired = staged_upload(client, token, os.urandom(3 * MIB))
            orphan = staged_upload(client, token, os.urandom(3 * MIB))
        # An upload abandoned long ago, and staged bytes whose row is gone (a crash).
        engine = make_engine(database.url)
        with engine.begin() as db:
            db.execute(
                update(Upload)
                .where(Upload.id == expired)  # type: ignore[arg-type]
                .values(expires_at=utcnow() - timedelta(days=1))
            )
            db.execute(delete(Upload).where(Upload.id == orphan))  # type: ignore[arg-type]
        engine.dispose()
        staging = small_disk / "data" / "staging"
        assert {p.name for p in staging.iterdir()} == {f"{expired}.part", f"{orphan}.part"}
        if database.path is not None:
            # SQLite's log starts empty, so the next write needs new room on the disk.
            with contextlib.closing(sqlite3.connect(database.path)) as connection:
                busy, _log, _done = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            assert busy == 0

        filler = fill(small_disk)
        with http_client(server.url) as client:
            ready = client.get("/readyz")
            assert ready.status_code == 200, "a full disk must not take the instance out"
            assert ready.json() == {
                "status": "disk full",
                "checks": {"database": "ok", "blob_store": "disk full"},
            }
            refused = start_upload(client, token, 1000)
            assert refused.status_code == 507
            assert refused.json()["code"] == "storage_full"
            assert refused.json()["detail"].startswith("Storage full:")
            # Reading needs no room.
            assert opens_as(vault, document_id, source, tmp_path)
        if database.path is not None:
            # The database is on the full disk: a login cannot be written, and says why.
            with pytest.raises(ApiError) as failed:
                login(server, vault)
            assert failed.value.status == 503
            assert str(failed.value) == DISK_FULL
        else:
            login(server, vault)
        log = server.log_path.read_text()
        assert "disk_full" in log
        assert "No space left on device" in log

        before = free_bytes(small_disk)
        swept = run_cli_process({**server.env, "WALLET_ORPHAN_GRACE_SECONDS": "0"}, "sweep")
        assert "Traceback" not in swept.stdout + swept.stderr
        assert not list(staging.iterdir()), "the staged bytes are gone"
        assert free_bytes(small_disk) >= before + 6 * MIB - 64 * 1024
        if database.path is not None:
            # The expired row could not be deleted, yet its bytes went; the sweep says so.
            assert swept.returncode == 1
            assert "expired_uploads failed" in swept.stderr
        else:
            assert swept.returncode == 0, swept.stderr
        # With room again, the next sweep finishes the job.
        assert run_cli_process(server.env, "sweep").returncode == 0

        filler.unlink()
        again = login(server, vault)
        assert verify(fetch_entries(again))[0]
        with http_client(server.url) as client:
            assert client.get("/readyz").json()["checks"]["blob_store"] == "ok"
            assert start_upload(client, token, 1000).status_code == 201


def test_the_sweeper_frees_space_when_the_database_refuses_every_write(
    make_app: AppFactory,
) -> None:
    """The database answers reads but refuses writes (what a full disk does to SQLite): the
    sweep still deletes orphan staging, orphan blobs and the staged bytes of expired uploads."""
    app = make_app()
    client, token = app.client, app.new_vault().api.token
    expired = staged_upload(client, token, b"e" * 5000)
    orphan = staged_upload(client, token, b"o" * 5000)
    engine = make_engine(app.database.url)
    with engine.begin() as db:
        db.execute(
            update(Upload)
            .where(Upload.id == expired)  # type: ignore[arg-type]
            .values(expires_at=utcnow() - timedelta(days=1))
        )
        db.execute(delete(Upload).where(Upload.id == orphan))  # type: ignore[arg-type]
    store = client.app.state.store  # type: ignore[attr-defined]
    store.put("0123456789abcdef0123456789abcdef", iter([b"orphan blob"]))

    @event.listens_for(engine, "connect")
    def read_only(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute("PRAGMA query_only = ON")
        else:
            cursor.execute("SET default_transaction_read_only = on")
            dbapi_connection.commit()  # a SET inside a rolled back transaction would not last
        cursor.close()

    engine.pool.dispose()  # every connection from now on is read-only
    try:
        report = sweep(engine, store, timedelta(0))
    finally:
        engine.dispose()
    assert "expired_uploads" in report.failed
    assert report.expired_uploads == 1  # through the fallback: bytes only
    assert report.orphan_staging == 1
    assert report.orphan_blobs == 1
    assert [name for name, _ in store.list_staging()] == []
    assert [name for name, _ in store.list_blobs()] == []
    # The row waits for a sweep that can write.
    assert sweep(client.app.state.engine, store, timedelta(0)).failed == []  # type: ignore[attr-defined]


def test_real_disk_full_errors_are_recognised(small_disk: Path) -> None:
    fill(small_disk)
    with pytest.raises(OSError) as from_the_os, open(small_disk / "more", "wb") as handle:
        handle.write(b"x" * MIB)
        handle.flush()
    assert is_disk_full(from_the_os.value)
    # SQLite needs room for its journal: on a full disk even a small table cannot be made.
    with (
        pytest.raises(sqlite3.Error) as from_sqlite,
        contextlib.closing(sqlite3.connect(small_disk / "new.db")) as connection,
    ):
        connection.execute("CREATE TABLE t (x BLOB)")
        connection.execute("INSERT INTO t VALUES (zeroblob(1048576))")
        connection.commit()
    assert is_disk_full(from_sqlite.value)
    assert not is_disk_full(sqlite3.OperationalError("database is locked"))
    assert not is_disk_full(ConnectionRefusedError(errno.ECONNREFUSED, "refused"))
