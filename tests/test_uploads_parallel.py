"""One tus PATCH per upload at a time (a real server process over HTTP): of 4 PATCHes sent at
the same offset at once, exactly one request's bytes are staged; the others get 423
(`upload_busy`) while it runs, and 409 (`upload_offset_mismatch`) once it is done. On the
filesystem and the S3 store; on PostgreSQL with WALLET_TEST_DATABASE_URL."""

from __future__ import annotations

import contextlib
import os
import secrets
import select
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from storage.base import BlobStore
from storage.filesystem import FilesystemBlobStore
from storage.s3 import S3BlobStore
from tests.conftest import LiveServer, run_live_server, store_env
from tests.test_uploads import API, OFFSET_TYPE, TUS, bearer, prepare_version
from wallet.client import ApiClient, Vault

MIB = 1024 * 1024


@pytest.fixture(params=["filesystem", "s3"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    env = store_env(request, request.param, "patch")
    with run_live_server(tmp_path_factory.mktemp("patch"), env) as live:
        yield live


def staged(server: LiveServer, upload_id: str) -> bytes:
    """The upload's staged bytes, as the server's own store holds them."""
    env = server.settings_env
    store: BlobStore = FilesystemBlobStore(server.data_dir)
    if env.get("WALLET_STORAGE_BACKEND") == "s3":
        store = S3BlobStore(
            env["WALLET_S3_ENDPOINT"],
            env["WALLET_S3_ACCESS_KEY"],
            env["WALLET_S3_SECRET_KEY"],
            env["WALLET_S3_BUCKET"],
            secure=False,
            region=env["WALLET_S3_REGION"],
        )
    key = secrets.token_hex(16)
    store.blob_from_staging([upload_id], key)
    try:
        return b"".join(store.open_read(key))
    finally:
        store.delete(key)


def _start_patch(port: int, path: str, token: str, length: int, first: bytes) -> socket.socket:
    """Sends a PATCH's head and the first bytes of its body, and leaves the rest for later."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    lines = [
        f"PATCH {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        f"Authorization: Bearer {token}",
        "Tus-Resumable: 1.0.0",
        "Upload-Offset: 0",
        f"Content-Type: {OFFSET_TYPE}",
        f"Content-Length: {length}",
        "Connection: close",
    ]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + first)
    return sock


def _answer(sock: socket.socket) -> tuple[int, str]:
    data = b""
    with sock, contextlib.suppress(ConnectionResetError):
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode(errors="replace")


def test_four_patches_at_one_offset_leave_one_requests_bytes(server: LiveServer) -> None:
    vault, _ = Vault.create_account(ApiClient(server.url), "racer", "a passphrase")
    token = vault.api.token or ""
    http = httpx.Client(base_url=server.url, headers=bearer(token), timeout=60)
    length = 2 * MIB
    bodies = [os.urandom(length) for _ in range(4)]
    created = http.post(f"{API}/uploads", headers={**TUS, "Upload-Length": str(length)})
    location = created.headers["location"]
    upload_id = location.rsplit("/", 1)[-1]
    port = int(server.url.rsplit(":", 1)[1])

    # Heads only: no byte is left unread on a refused connection (its close would be a reset).
    sockets = [_start_patch(port, location, token, length, b"") for _ in bodies]
    # Three are answered at once; the one that holds the upload waits for the rest of its body.
    answered: dict[int, tuple[int, str]] = {}
    deadline = time.monotonic() + 60
    while len(answered) < 3:
        assert time.monotonic() < deadline, f"only {len(answered)} PATCHes were answered"
        readable, _, _ = select.select(
            [s for i, s in enumerate(sockets) if i not in answered], [], [], 1
        )
        for sock in readable:
            answered[sockets.index(sock)] = _answer(sock)
    [winner] = [i for i in range(4) if i not in answered]
    for status, body in answered.values():
        assert status == 423, body
        assert '"code":"upload_busy"' in body.replace(" ", "")
    sockets[winner].sendall(bodies[winner])
    status, body = _answer(sockets[winner])
    assert status == 204, body

    # Once it is done, a PATCH at the old offset hears where the upload is.
    late = http.patch(
        location,
        content=bodies[0],
        headers={**TUS, "Upload-Offset": "0", "Content-Type": OFFSET_TYPE},
    )
    assert late.status_code == 409
    assert late.json()["code"] == "upload_offset_mismatch"
    assert http.head(location, headers=TUS).headers["Upload-Offset"] == str(length)

    # The staged bytes are exactly the winner's.
    assert staged(server, upload_id) == bodies[winner]


def test_a_patch_after_a_dropped_one_is_not_kept_waiting(server: LiveServer) -> None:
    """A client that drops its connection mid-PATCH gives the upload back at once: the resume
    needs no wait for the lease to run out."""
    vault, _ = Vault.create_account(ApiClient(server.url), "dropper", "a passphrase")
    token = vault.api.token or ""
    http = httpx.Client(base_url=server.url, headers=bearer(token), timeout=60)
    prepared = prepare_version(vault, os.urandom(2 * MIB))
    data = prepared.ciphertext
    created = http.post(f"{API}/uploads", headers={**TUS, "Upload-Length": str(len(data))})
    location = created.headers["location"]
    port = int(server.url.rsplit(":", 1)[1])
    sock = _start_patch(port, location, token, len(data), data[:MIB])
    sock.shutdown(socket.SHUT_RDWR)
    sock.close()

    deadline = time.monotonic() + 60
    while True:  # the server notices the drop, keeps what arrived and gives the lease back
        offset = int(http.head(location, headers=TUS).headers["Upload-Offset"])
        resumed = http.patch(
            location,
            content=data[offset:],
            headers={**TUS, "Upload-Offset": str(offset), "Content-Type": OFFSET_TYPE},
        )
        if resumed.status_code == 204:
            break
        assert resumed.status_code in (409, 423), resumed.text
        assert time.monotonic() < deadline, "the dropped PATCH kept the upload"
        time.sleep(0.05)  # a poll interval, not a gate: the loop waits on the answer
    assert resumed.headers["Upload-Offset"] == str(len(data))
    upload_id = location.rsplit("/", 1)[-1]
    assert http.post(f"{API}/documents", json=prepared.body(upload_id)).status_code == 201
    blob = http.get(f"{API}/documents/{prepared.document_id}/versions/1/blob")
    assert blob.content == data


def test_a_long_patch_keeps_its_lease(server: LiveServer) -> None:
    """A PATCH that runs longer than the lease's renewal period keeps renewing it, so nobody
    takes the upload from a live request."""
    vault, _ = Vault.create_account(ApiClient(server.url), "slowpoke", "a passphrase")
    token = vault.api.token or ""
    http = httpx.Client(base_url=server.url, headers=bearer(token), timeout=60)
    body = os.urandom(MIB)
    created = http.post(f"{API}/uploads", headers={**TUS, "Upload-Length": str(len(body))})
    location = created.headers["location"]
    upload_id = location.rsplit("/", 1)[-1]
    port = int(server.url.rsplit(":", 1)[1])
    engine = create_engine(server.database.url)
    query = text("SELECT patch_until FROM upload WHERE id = :id")

    def lease_end() -> Any:
        with engine.connect() as connection:
            return connection.execute(query, {"id": upload_id}).scalar_one()

    sock = _start_patch(port, location, token, len(body), body[:1000])
    deadline = time.monotonic() + 60
    while (first := lease_end()) is None:
        assert time.monotonic() < deadline, "the PATCH never took the upload"
        time.sleep(0.05)  # a poll interval
    while lease_end() == first:  # renewed while the body is still coming
        assert time.monotonic() < deadline, "the running PATCH never renewed its lease"
        time.sleep(0.1)  # a poll interval
    busy = http.patch(
        location, content=body, headers={**TUS, "Upload-Offset": "0", "Content-Type": OFFSET_TYPE}
    )
    assert busy.status_code == 423
    sock.sendall(body[1000:])
    status, answer = _answer(sock)
    assert status == 204, answer
    assert lease_end() is None  # given back
    assert staged(server, upload_id) == body
    engine.dispose()
