"""Faults: blob store down, database down, and a server killed in the middle of an upload.
Every failure answers 503 with a plain message and leaves nothing half-done behind."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import (
    AppFactory,
    WalletApp,
    free_port,
    next_head,
    run_live_server,
    start_moto,
    using_postgres,
    wait_for_port,
)
from tests.test_uploads import (
    API,
    TUS,
    bearer,
    complete,
    create_upload,
    head,
    listed_ids,
    new_upload,
    patch,
    prepare_version,
    rows,
    staged_objects,
    store_of,
    upload_bytes,
)
from wallet.client import ApiClient, Vault
from wallet.errors import DATABASE_DOWN, STORAGE_DOWN
from wallet.server.sweeper import sweep


def assert_unavailable(response: httpx.Response, message: str) -> None:
    assert response.status_code == 503, response.text
    assert response.json() == {"detail": message, "code": "unavailable"}
    assert int(response.headers["Retry-After"]) > 0


def readiness(app: WalletApp) -> tuple[int, dict[str, str]]:
    response = app.client.get("/readyz")
    return response.status_code, response.json()["checks"]


# --- blob store down --------------------------------------------------------------------------


def test_s3_down(make_app: AppFactory) -> None:
    server = start_moto()  # our own: stopping the shared one would break other tests
    try:
        app = make_app(**server.settings("faults"))
        vault = app.new_vault()
        token = vault.api.token
        existing = prepare_version(vault, b"already stored")
        assert (
            complete(
                app, token, existing, upload_bytes(app, token, existing.ciphertext)
            ).status_code
            == 201
        )
        finished = prepare_version(vault, os.urandom(5000))
        finished_upload = upload_bytes(app, token, finished.ciphertext)
        partial_upload = new_upload(app, token, 1000)
        assert patch(app, token, partial_upload, 0, b"p" * 400).status_code == 204
        assert readiness(app) == (200, {"database": "ok", "blob_store": "ok"})

        server.stop()
        assert readiness(app) == (503, {"database": "ok", "blob_store": "down"})
        assert app.client.get("/readyz").headers["Retry-After"]
        # Completing a finished upload.
        assert_unavailable(complete(app, token, finished, finished_upload), STORAGE_DOWN)
        assert rows(app, "document") == rows(app, "document_version") == 1
        assert listed_ids(app, token) == [existing.document_id]
        # The finished upload is kept, for a retry once the store is back.
        status = head(app, token, finished_upload)
        assert status.headers["Upload-Offset"] == str(len(finished.ciphertext))
        # Starting a new upload: refused before any row exists.
        assert_unavailable(create_upload(app, token, 100), STORAGE_DOWN)
        assert rows(app, "upload") == 2
        # Continuing one: the offset does not move.
        assert_unavailable(patch(app, token, partial_upload, 400, b"q" * 100), STORAGE_DOWN)
        assert head(app, token, partial_upload).headers["Upload-Offset"] == "400"
        # Downloading.
        blob = app.client.get(
            f"{API}/documents/{existing.document_id}/versions/1/blob", headers=bearer(token)
        )
        assert_unavailable(blob, STORAGE_DOWN)
        # What only needs the database still works.
        assert (
            app.client.get(
                f"{API}/documents/{existing.document_id}", headers=bearer(token)
            ).status_code
            == 200
        )

        server = start_moto(server.port)  # back, empty: the bucket is made again
        assert readiness(app) == (200, {"database": "ok", "blob_store": "ok"})
        assert create_upload(app, token, 100).status_code == 201
    finally:
        server.stop()


@pytest.mark.parametrize("broken", ["blobs", "staging"])
def test_filesystem_unusable(wallet_app: WalletApp, broken: str) -> None:
    app = wallet_app
    vault = app.new_vault()
    token = vault.api.token
    existing = prepare_version(vault, b"already stored")
    assert (
        complete(app, token, existing, upload_bytes(app, token, existing.ciphertext)).status_code
        == 201
    )
    finished = prepare_version(vault, os.urandom(5000))
    finished_upload = upload_bytes(app, token, finished.ciphertext)
    partial_upload = new_upload(app, token, 1000)
    assert patch(app, token, partial_upload, 0, b"p" * 400).status_code == 204
    cancelled_upload = new_upload(app, token, 100)
    assert patch(app, token, cancelled_upload, 0, b"c" * 10).status_code == 204

    # Root ignores permissions: make the folder a plain file instead.
    folder = Path(app.settings.data_dir) / broken
    aside = folder.with_name(f"{broken}.aside")
    folder.rename(aside)
    folder.write_bytes(b"not a folder")
    try:
        assert readiness(app) == (503, {"database": "ok", "blob_store": "down"})
        assert_unavailable(complete(app, token, finished, finished_upload), STORAGE_DOWN)
        assert rows(app, "document") == rows(app, "document_version") == 1
        assert listed_ids(app, token) == [existing.document_id]
        assert_unavailable(create_upload(app, token, 100), STORAGE_DOWN)
        assert_unavailable(patch(app, token, partial_upload, 400, b"q" * 100), STORAGE_DOWN)
        assert head(app, token, partial_upload).headers["Upload-Offset"] == "400"
        # Cancelling still works: the bytes left behind are the sweeper's job.
        response = app.client.delete(
            f"{API}/uploads/{cancelled_upload}", headers={**TUS, **bearer(token)}
        )
        assert response.status_code == 204
        if broken == "blobs":
            blob = app.client.get(
                f"{API}/documents/{existing.document_id}/versions/1/blob", headers=bearer(token)
            )
            assert_unavailable(blob, STORAGE_DOWN)
    finally:
        folder.unlink()
        aside.rename(folder)

    assert readiness(app) == (200, {"database": "ok", "blob_store": "ok"})
    # Nothing was lost: the finished upload completes now, the partial one resumes.
    assert complete(app, token, finished, finished_upload).status_code == 201
    assert sorted(listed_ids(app, token)) == sorted([existing.document_id, finished.document_id])
    assert patch(app, token, partial_upload, 400, b"q" * 600).status_code == 204
    report = sweep(app.client.app.state.engine, store_of(app), timedelta(seconds=-1))
    # The cancelled upload's bytes: dropped at once when staging worked, swept later when not.
    assert report.orphan_staging == (1 if broken == "staging" else 0)
    assert len(staged_objects(app)) == 1


def test_deleting_a_document_while_the_store_is_down(wallet_app: WalletApp) -> None:
    app = wallet_app
    vault = app.new_vault()
    token = vault.api.token
    doomed = prepare_version(vault, b"doomed")
    assert (
        complete(app, token, doomed, upload_bytes(app, token, doomed.ciphertext)).status_code == 201
    )
    blobs = Path(app.settings.data_dir) / "blobs"
    aside = blobs.with_name("blobs.aside")
    blobs.rename(aside)
    blobs.write_bytes(b"not a folder")
    try:
        response = app.client.delete(f"{API}/documents/{doomed.document_id}", headers=bearer(token))
        assert response.status_code == 204
        assert listed_ids(app, token) == []
    finally:
        blobs.unlink()
        aside.rename(blobs)
    store = store_of(app)
    assert len(list(store.list_blobs())) == 1  # deletion deferred
    report = sweep(app.client.app.state.engine, store, timedelta(seconds=-1))
    assert report.orphan_blobs == 1
    assert list(store.list_blobs()) == []


# --- database down ----------------------------------------------------------------------------


class TcpProxy:
    """A small TCP forwarder on 127.0.0.1; stop() drops the listener and every connection."""

    def __init__(self, target_port: int, port: int = 0) -> None:
        self.target_port = target_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", port))
        self.listener.listen(64)
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self.lock:
                self.sockets += [client, upstream]
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(5)
        self.listener.close()
        with self.lock:
            for sock in self.sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self.sockets.clear()


@contextlib.contextmanager
def proxy_to(port: int, listen: int = 0) -> Iterator[TcpProxy]:
    proxy = TcpProxy(port, listen)
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.mark.skipif(not using_postgres(), reason="PostgreSQL only (SQLite: see the next test)")
def test_postgres_down(make_app: AppFactory) -> None:
    direct = make_app()  # creates and migrates a fresh database
    url = make_url(direct.database.url)
    with proxy_to(url.port or 5432) as proxy:
        proxied_url = url.set(port=proxy.port).render_as_string(hide_password=False)
        app = make_app(database_url=proxied_url)
        vault = app.new_vault()
        token = vault.api.token
        handle = vault.account["handle"]
        assert readiness(app) == (200, {"database": "ok", "blob_store": "ok"})
        port = proxy.port

    # The database is unreachable now (refused, and open connections were cut).
    assert readiness(app) == (503, {"database": "down", "blob_store": "ok"})
    assert_unavailable(app.client.get(f"{API}/accounts/me", headers=bearer(token)), DATABASE_DOWN)
    assert_unavailable(app.client.get(f"{API}/documents", headers=bearer(token)), DATABASE_DOWN)
    assert_unavailable(
        app.client.post(f"{API}/auth/prelogin", json={"handle": handle}), DATABASE_DOWN
    )
    assert_unavailable(create_upload(app, token, 100), DATABASE_DOWN)

    with proxy_to(url.port or 5432, port):
        assert readiness(app) == (200, {"database": "ok", "blob_store": "ok"})
        assert app.client.get(f"{API}/accounts/me", headers=bearer(token)).status_code == 200
        assert rows(direct, "upload") == 0


@pytest.mark.skipif(using_postgres(), reason="SQLite only")
def test_sqlite_file_damaged(wallet_app: WalletApp) -> None:
    app = wallet_app
    vault = app.new_vault()
    token = vault.api.token
    handle = vault.account["handle"]
    assert readiness(app) == (200, {"database": "ok", "blob_store": "ok"})
    assert app.database.path is not None
    for path in (
        app.database.path,
        Path(f"{app.database.path}-wal"),
        Path(f"{app.database.path}-shm"),
    ):
        if path.exists():
            size = path.stat().st_size
            with open(path, "r+b") as handle_file:  # same file, garbage content
                handle_file.write(b"not a database! " * (size // 16 + 1))

    assert readiness(app) == (503, {"database": "down", "blob_store": "ok"})
    assert_unavailable(app.client.get(f"{API}/accounts/me", headers=bearer(token)), DATABASE_DOWN)
    assert_unavailable(
        app.client.post(f"{API}/auth/prelogin", json={"handle": handle}), DATABASE_DOWN
    )
    assert_unavailable(create_upload(app, token, 100), DATABASE_DOWN)


# --- crash in the middle of an upload ---------------------------------------------------------


def _start_server(env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "wallet.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port, process=process)
    return process, f"http://127.0.0.1:{port}"


def test_kill_9_during_a_large_patch(tmp_path: Path) -> None:
    with run_live_server(tmp_path) as server:
        vault, _ = Vault.create_account(ApiClient(server.url), "crash-owner", "a passphrase")
        token = vault.api.token
        prepared = prepare_version(vault, os.urandom(12 * 1024 * 1024), title="big scan")
        data = prepared.ciphertext
        first = 2 * 1024 * 1024
        location = vault.api.api(
            "POST", "/uploads", headers={**TUS, "Upload-Length": str(len(data))}
        ).headers["location"]
        upload_id = location.rsplit("/", 1)[-1]
        patch_headers = {"Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}
        vault.api.request("PATCH", location, content=data[:first], headers={**TUS, **patch_headers})

        # A second PATCH announces everything else but sends only part of it.
        port = int(server.url.rsplit(":", 1)[1])
        staged = server.data_dir / "staging" / f"{upload_id}.part"
        with socket.create_connection(("127.0.0.1", port)) as sock:
            head_lines = [
                f"PATCH {location} HTTP/1.1",
                f"Host: 127.0.0.1:{port}",
                f"Authorization: Bearer {token}",
                "Tus-Resumable: 1.0.0",
                f"Upload-Offset: {first}",
                "Content-Type: application/offset+octet-stream",
                f"Content-Length: {len(data) - first}",
            ]
            sock.sendall(("\r\n".join(head_lines) + "\r\n\r\n").encode())
            sock.sendall(data[first : first + 4 * 1024 * 1024])
            deadline = time.monotonic() + 120
            while staged.stat().st_size < first + 1024 * 1024:
                assert time.monotonic() < deadline, "the server never wrote the streamed bytes"
                time.sleep(0.02)
            server.process.kill()  # SIGKILL: no cleanup of any kind
            server.process.wait(10)

        process, url = _start_server(server.settings_env)
        try:
            client = httpx.Client(base_url=url, headers=bearer(token), timeout=30)
            listed = client.get(f"{API}/documents").json()["documents"]
            assert listed == []
            status = client.head(location, headers=TUS)
            assert status.status_code == 200
            assert status.headers["Upload-Offset"] == str(first)
            assert staged.stat().st_size > first  # unacknowledged bytes are still on disk ...
            early = client.post(f"{API}/documents", json=prepared.body(upload_id))
            assert early.status_code == 409

            # The killed PATCH's lease on the upload runs out first (423 until then).
            deadline = time.monotonic() + 120
            while True:
                resumed = client.patch(
                    location,
                    content=data[first:],
                    headers={
                        **TUS,
                        "Upload-Offset": str(first),
                        "Content-Type": "application/offset+octet-stream",
                    },
                )
                if resumed.status_code != 423 or time.monotonic() > deadline:
                    break
                time.sleep(float(resumed.headers["Retry-After"]))
            assert resumed.status_code == 204, resumed.text
            assert resumed.headers["Upload-Offset"] == str(len(data))
            vault.api = ApiClient(url, token=token)
            head = next_head(
                vault, lambda state: state.documents.__setitem__(prepared.document_id, 1)
            )
            done = client.post(f"{API}/documents", json=prepared.body(upload_id), headers=head)
            assert done.status_code == 201, done.text

            [document] = vault.list_documents()
            assert document.title == "big scan"
            out = tmp_path / "out.bin"
            vault.download(prepared.document_id, out)  # ... but were dropped: the file is exact
            assert out.read_bytes() == prepared.plaintext
        finally:
            process.terminate()
            process.wait(10)
