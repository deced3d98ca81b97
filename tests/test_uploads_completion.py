"""Completion is retryable: the database goes away during an upload's completion (a real
server process over HTTP), and the same completion, sent again once it is back, succeeds
without a byte being sent again.

PostgreSQL: the server reaches the database through a TCP forwarder the test starts; the
forwarder cuts every connection at the completion's COMMIT (before PostgreSQL gets it, or
after PostgreSQL committed but before the answer gets back), then refuses connections until
the test brings it back. SQLite: another connection holds the database's write lock while the
completion runs, so its writes fail after the blob is made.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import LiveServer, fresh_database, next_head, run_live_server, using_postgres
from tests.test_uploads import API, OFFSET_TYPE, TUS, PreparedVersion, bearer, prepare_version
from wallet.client import ApiClient, Vault

COMPLETION_INSERT = b"INSERT INTO document_version"
COMMIT = b"Q\x00\x00\x00\x0bCOMMIT\x00"  # the simple-query message psycopg sends to commit


class CommitCutter:
    """A TCP forwarder to PostgreSQL that, once armed, goes down at the COMMIT of the
    transaction that inserts a document version: `before` (PostgreSQL never gets the COMMIT)
    or `after` (PostgreSQL commits; its answer is dropped). Down, it refuses every connection
    until `back()`."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.armed: str | None = None
        self.down = threading.Event()
        self.lock = threading.Lock()
        self.sockets: list[socket.socket] = []
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopped:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.down.is_set():
                client.close()  # the database is away
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            with self.lock:
                self.sockets += [client, upstream]
            state = {"in_completion": False, "committing": False}
            threading.Thread(
                target=self._pump, args=(client, upstream, state, True), daemon=True
            ).start()
            threading.Thread(
                target=self._pump, args=(upstream, client, state, False), daemon=True
            ).start()

    def _pump(
        self, source: socket.socket, target: socket.socket, state: dict[str, bool], out: bool
    ) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if out and self.armed and COMPLETION_INSERT in data:
                    state["in_completion"] = True
                if out and state["in_completion"] and COMMIT in data:
                    if self.armed == "before":
                        self._go_down()
                        return
                    state["committing"] = True
                if not out and state["committing"]:
                    self._go_down()  # PostgreSQL has answered its COMMIT: nobody hears it
                    return
                target.sendall(data)
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_RDWR)

    def _go_down(self) -> None:
        self.armed = None
        self.down.set()
        with self.lock:
            for sock in self.sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self.sockets.clear()

    def back(self) -> None:
        self.down.clear()

    def close(self) -> None:
        self.stopped = True
        self.listener.close()
        self._go_down()


@contextlib.contextmanager
def live_server(tmp: Path) -> Iterator[tuple[LiveServer, CommitCutter | None]]:
    if not using_postgres():
        # No quota: its check takes the owner's lock before the blob is made (below).
        with run_live_server(tmp, {"WALLET_ACCOUNT_QUOTA_BYTES": "0"}) as server:
            yield server, None
        return
    with fresh_database(tmp / "db", migrated=True) as database:
        url = make_url(database.url)
        cutter = CommitCutter(url.port or 5432)
        proxied = url.set(port=cutter.port).render_as_string(hide_password=False)
        try:
            with run_live_server(tmp, {"WALLET_DATABASE_URL": proxied}) as server:
                yield server, cutter
        finally:
            cutter.close()


def upload(http: httpx.Client, data: bytes) -> str:
    created = http.post(f"{API}/uploads", headers={**TUS, "Upload-Length": str(len(data))})
    assert created.status_code == 201, created.text
    location = created.headers["location"]
    sent = http.patch(
        location,
        content=data,
        headers={**TUS, "Upload-Offset": "0", "Content-Type": OFFSET_TYPE},
    )
    assert sent.status_code == 204, sent.text
    return location.rsplit("/", 1)[-1]


def staged_bytes(server: LiveServer, upload_id: str) -> int:
    path = server.data_dir / "staging" / f"{upload_id}.part"
    return path.stat().st_size if path.exists() else 0


def opens(vault: Vault, prepared: PreparedVersion, tmp: Path) -> bool:
    out = tmp / f"{prepared.document_id}.out"
    vault.download(prepared.document_id, out)
    return out.read_bytes() == prepared.plaintext


@pytest.mark.skipif(not using_postgres(), reason="PostgreSQL: the forwarder (SQLite: below)")
@pytest.mark.parametrize("cut", ["before", "after"])
def test_completion_survives_the_database_going_away_at_commit(tmp_path: Path, cut: str) -> None:
    with live_server(tmp_path) as (server, cutter):
        assert cutter is not None
        vault, _ = Vault.create_account(ApiClient(server.url), f"blip-{cut}", "a passphrase")
        http = httpx.Client(base_url=server.url, headers=bearer(vault.api.token or ""), timeout=60)
        prepared = prepare_version(vault, os.urandom(3 * 1024 * 1024), title="scan")
        upload_id = upload(http, prepared.ciphertext)
        # The owner's client sends its next vault head with the completion, as Vault.upload.
        head = next_head(vault, lambda s: s.documents.__setitem__(prepared.document_id, 1))

        cutter.armed = cut
        failed = http.post(f"{API}/documents", json=prepared.body(upload_id), headers=head)
        assert cutter.down.is_set(), "the completion never reached its commit"
        assert failed.status_code == 503, failed.text
        assert failed.headers["Retry-After"]
        # Still away: the service says so, and nothing was lost meanwhile.
        assert http.get(f"{API}/documents").status_code == 503
        if cut == "before":
            assert staged_bytes(server, upload_id) == len(prepared.ciphertext)

        cutter.back()
        retried = http.post(f"{API}/documents", json=prepared.body(upload_id), headers=head)
        assert retried.status_code == 201, retried.text
        assert retried.json() == {"id": prepared.document_id, "version": 1}
        assert staged_bytes(server, upload_id) == 0  # discarded once the version committed
        assert http.head(f"{API}/uploads/{upload_id}", headers=TUS).status_code == 404
        [document] = vault.list_documents()
        assert document.version == 1
        assert opens(vault, prepared, tmp_path)


@pytest.mark.skipif(using_postgres(), reason="SQLite: its lock (PostgreSQL: above)")
def test_completion_survives_a_locked_sqlite_database(tmp_path: Path) -> None:
    with live_server(tmp_path) as (server, _):
        vault, _ = Vault.create_account(ApiClient(server.url), "blip-sqlite", "a passphrase")
        http = httpx.Client(base_url=server.url, headers=bearer(vault.api.token or ""), timeout=90)
        prepared = prepare_version(vault, os.urandom(3 * 1024 * 1024), title="scan")
        upload_id = upload(http, prepared.ciphertext)
        blobs = server.data_dir / "blobs"

        assert server.database.path is not None
        holder = sqlite3.connect(server.database.path, isolation_level=None)
        try:
            # Without a vault head: its check takes the write lock first, so the completion
            # would stop before it makes the blob. Here it stops at its first write, after it.
            holder.execute("BEGIN EXCLUSIVE")
            failed = http.post(f"{API}/documents", json=prepared.body(upload_id))
        finally:
            holder.rollback()
            holder.close()
        assert failed.status_code == 503, failed.text
        assert failed.headers["Retry-After"]
        # The blob was made (an orphan now, for the sweeper), the staged bytes are all there.
        assert len([p for p in blobs.rglob("*") if p.is_file()]) == 1
        assert staged_bytes(server, upload_id) == len(prepared.ciphertext)

        retried = http.post(f"{API}/documents", json=prepared.body(upload_id))
        assert retried.status_code == 201, retried.text
        assert staged_bytes(server, upload_id) == 0
        assert http.head(f"{API}/uploads/{upload_id}", headers=TUS).status_code == 404
        document = http.get(f"{API}/documents/{prepared.document_id}").json()
        assert [v["version"] for v in document["versions"]] == [1]
        downloaded = http.get(f"{API}/documents/{prepared.document_id}/versions/1/blob")
        assert downloaded.content == prepared.ciphertext
