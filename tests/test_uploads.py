"""Resumable uploads (tus 1.0): limits, offsets, resume, expiry, the sweeper, and refusing an
oversize upload before a single body byte is read."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from storage.s3 import S3BlobStore
from tests.conftest import AppFactory, S3Server, WalletApp, next_head, run_live_server
from wallet.client import ApiClient, Vault
from wallet.crypto import age
from wallet.crypto.encoding import b64e
from wallet.crypto.signing import sign
from wallet.server.sweeper import sweep

API = "/api/v1"
TUS = {"Tus-Resumable": "1.0.0"}
OFFSET_TYPE = "application/offset+octet-stream"
LIMIT = 64 * 1024


# --- helpers shared with the other API test modules ---------------------------------------------


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def create_upload(app: WalletApp, token: str, length: int | str) -> httpx.Response:
    return app.client.post(
        f"{API}/uploads", headers={**TUS, **bearer(token), "Upload-Length": str(length)}
    )


def new_upload(app: WalletApp, token: str, length: int) -> str:
    response = create_upload(app, token, length)
    assert response.status_code == 201, response.text
    return response.headers["location"].rsplit("/", 1)[-1]


def patch(
    app: WalletApp,
    token: str,
    upload_id: str,
    offset: int,
    data: Any,
    content_type: str = OFFSET_TYPE,
) -> httpx.Response:
    return app.client.patch(
        f"{API}/uploads/{upload_id}",
        content=data,
        headers={
            **TUS,
            **bearer(token),
            "Upload-Offset": str(offset),
            "Content-Type": content_type,
        },
    )


def head(app: WalletApp, token: str, upload_id: str) -> httpx.Response:
    return app.client.head(f"{API}/uploads/{upload_id}", headers={**TUS, **bearer(token)})


def upload_bytes(app: WalletApp, token: str, data: bytes) -> str:
    upload_id = new_upload(app, token, len(data))
    response = patch(app, token, upload_id, 0, data)
    assert response.status_code == 204, response.text
    return upload_id


def store_of(app: WalletApp):  # type: ignore[no-untyped-def]
    return app.client.app.state.store


def staged_objects(app: WalletApp) -> list[str]:
    """Staged upload bytes as the store really holds them (files or S3 objects)."""
    store = store_of(app)
    if isinstance(store, S3BlobStore):
        if not store.client.bucket_exists(store.bucket):
            return []
        return [
            o.object_name
            for o in store.client.list_objects(store.bucket, prefix="staging/", recursive=True)
        ]
    staging = Path(app.settings.data_dir) / "staging"
    return sorted(p.name for p in staging.iterdir()) if staging.is_dir() else []


def blob_objects(app: WalletApp) -> list[str]:
    store = store_of(app)
    if isinstance(store, S3BlobStore):
        if not store.client.bucket_exists(store.bucket):
            return []
        return [
            o.object_name
            for o in store.client.list_objects(store.bucket, prefix="blobs/", recursive=True)
        ]
    blobs = Path(app.settings.data_dir) / "blobs"
    return sorted(p.name for p in blobs.rglob("*") if p.is_file()) if blobs.is_dir() else []


def rows(app: WalletApp, table: str) -> int:
    with app.client.app.state.engine.connect() as connection:
        return connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def execute(app: WalletApp, sql: str, **params: Any) -> None:
    with app.client.app.state.engine.begin() as connection:
        connection.execute(text(sql), params)


def listed_ids(app: WalletApp, token: str) -> list[str]:
    response = app.client.get(f"{API}/documents", headers=bearer(token))
    assert response.status_code == 200, response.text
    return [d["id"] for d in response.json()["documents"]]


@dataclass
class PreparedVersion:
    document_id: str
    version: int
    plaintext: bytes
    ciphertext: bytes
    fields: dict[str, str]  # encrypted_meta, wrapped_key, manifest, signature

    def body(self, upload_id: str, *, with_document_id: bool = True) -> dict[str, str]:
        body = {"upload_id": upload_id, **self.fields}
        if with_document_id and self.version == 1:
            body["document_id"] = self.document_id
        return body


def prepare_version(
    vault: Vault,
    plaintext: bytes,
    document_id: str | None = None,
    version: int = 1,
    title: str = "document",
    **manifest_changes: Any,
) -> PreparedVersion:
    """What Vault.upload sends, built by hand so tests can upload in pieces or tamper."""
    document_id = document_id or uuid.uuid4().hex
    identity = age.new_identity()
    recipient = age.recipient_of(identity)
    ciphertext = age.encrypt_bytes(plaintext, recipient)
    meta = {"v": 1, "type": "other", "title": title, "tags": [], "file_name": f"{title}.bin"}
    encrypted_meta = age.encrypt_bytes(json.dumps(meta).encode(), recipient)
    wrapped_key = vault._seal_document_key(identity, document_id, version)
    manifest_value = {
        "v": 1,
        "kind": "document-version",
        "document_id": document_id,
        "version": version,
        "blob_sha256": hashlib.sha256(ciphertext).hexdigest(),
        "blob_size": len(ciphertext),
        "meta_sha256": hashlib.sha256(encrypted_meta).hexdigest(),
        "wraps": [{"key_id": vault.keys.key_id, "sha256": hashlib.sha256(wrapped_key).hexdigest()}],
        "signed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **manifest_changes,
    }
    manifest, signature = sign(vault.keys.signing_key, manifest_value)
    fields = {
        "encrypted_meta": b64e(encrypted_meta),
        "wrapped_key": b64e(wrapped_key),
        "manifest": b64e(manifest),
        "signature": b64e(signature),
    }
    return PreparedVersion(document_id, version, plaintext, ciphertext, fields)


def complete(
    app: WalletApp,
    token: str,
    prepared: PreparedVersion,
    upload_id: str,
    vault: Vault | None = None,
) -> httpx.Response:
    """`vault`: send the owner's next vault head with it, as the owner's client does."""
    headers = bearer(token)
    if vault is not None:
        headers |= next_head(
            vault, lambda state: state.documents.__setitem__(prepared.document_id, prepared.version)
        )
    if prepared.version == 1:
        return app.client.post(f"{API}/documents", json=prepared.body(upload_id), headers=headers)
    return app.client.post(
        f"{API}/documents/{prepared.document_id}/versions",
        json=prepared.body(upload_id, with_document_id=False),
        headers=headers,
    )


@pytest.fixture(params=["filesystem", "s3"])
def small_app(request: pytest.FixtureRequest, make_app: AppFactory) -> WalletApp:
    """An app with a 64 KiB upload limit, on either blob store."""
    if request.param == "s3":
        server: S3Server = request.getfixturevalue("s3_server")
        return make_app(max_upload_bytes=LIMIT, **server.settings(f"up-{secrets.token_hex(4)}"))
    return make_app(max_upload_bytes=LIMIT)


# --- protocol ---------------------------------------------------------------------------------


def test_options_advertises_tus(make_app: AppFactory) -> None:
    app = make_app(max_upload_bytes=12345)
    response = app.client.options(f"{API}/uploads")
    assert response.status_code == 204
    assert response.headers["Tus-Resumable"] == "1.0.0"
    assert response.headers["Tus-Version"] == "1.0.0"
    assert set(response.headers["Tus-Extension"].split(",")) >= {
        "creation",
        "termination",
        "expiration",
    }
    assert response.headers["Tus-Max-Size"] == "12345"


def test_create_and_head(wallet_app: WalletApp) -> None:
    vault = wallet_app.new_vault()
    token = vault.api.token
    response = create_upload(wallet_app, token, 1000)
    assert response.status_code == 201
    assert response.headers["Tus-Resumable"] == "1.0.0"
    location = response.headers["location"]
    assert location.startswith(f"{API}/uploads/")
    expires = datetime.strptime(response.headers["Upload-Expires"], "%a, %d %b %Y %H:%M:%S GMT")
    expected = datetime.now(UTC).replace(tzinfo=None) + timedelta(
        hours=wallet_app.settings.upload_expiry_hours
    )
    assert abs((expires - expected).total_seconds()) < 120
    status = wallet_app.client.head(location, headers={**TUS, **bearer(token)})
    assert status.status_code == 200
    assert status.headers["Upload-Offset"] == "0"
    assert status.headers["Upload-Length"] == "1000"
    assert status.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("length", "needle"),
    [
        (None, "Upload-Length"),
        ("0", "Upload-Length"),
        ("-5", "Upload-Length"),
        ("lots", "upload-length"),
    ],
)
def test_bad_upload_length_is_refused(
    wallet_app: WalletApp, length: str | None, needle: str
) -> None:
    token = wallet_app.new_vault().api.token
    headers = {**TUS, **bearer(token)}
    if length is not None:
        headers["Upload-Length"] = length
    response = wallet_app.client.post(f"{API}/uploads", headers=headers)
    assert response.status_code == 400
    assert needle.lower() in response.json()["detail"].lower()
    assert response.json()["code"] == "upload_length_invalid"
    assert rows(wallet_app, "upload") == 0


def test_oversize_upload_is_refused_at_creation(small_app: WalletApp) -> None:
    token = small_app.new_vault().api.token
    response = create_upload(small_app, token, LIMIT + 1)
    assert response.status_code == 413
    assert response.json() == {
        "detail": "This file is too big. The limit is 64 KB. Try a smaller scan or photo.",
        "code": "too_large",
    }
    assert rows(small_app, "upload") == 0
    assert staged_objects(small_app) == []
    assert create_upload(small_app, token, LIMIT).status_code == 201


def test_too_large_message_in_megabytes(make_app: AppFactory) -> None:
    app = make_app(max_upload_bytes=5 * 1024 * 1024)
    response = create_upload(app, app.new_vault().api.token, 5 * 1024 * 1024 + 1)
    assert response.status_code == 413
    assert "The limit is 5 MB." in response.json()["detail"]


def test_patch_past_the_announced_length(small_app: WalletApp) -> None:
    vault = small_app.new_vault()
    token = vault.api.token
    prepared = prepare_version(vault, os.urandom(3000))
    data = prepared.ciphertext
    upload_id = new_upload(small_app, token, len(data))
    assert patch(small_app, token, upload_id, 0, data[:1000]).status_code == 204

    # Declared too long: refused before reading, the offset stays.
    response = patch(small_app, token, upload_id, 1000, data[1000:] + b"EXTRA")
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert "more bytes than this upload announced" in response.json()["detail"]
    assert head(small_app, token, upload_id).headers["Upload-Offset"] == "1000"

    # Not declared (chunked): refused while streaming, the offset stays.
    def chunks():  # type: ignore[no-untyped-def]
        yield data[1000:2000]
        yield b"Z" * 5000  # now past the end

    response = patch(small_app, token, upload_id, 1000, chunks())
    assert response.status_code == 413
    assert head(small_app, token, upload_id).headers["Upload-Offset"] == "1000"

    # The bytes of refused requests were never acknowledged: the resumed upload is exact.
    assert patch(small_app, token, upload_id, 1000, data[1000:]).status_code == 204
    response = complete(small_app, token, prepared, upload_id)
    assert response.status_code == 201, response.text
    assert listed_ids(small_app, token) == [prepared.document_id]
    out = small_app.client.get(
        f"{API}/documents/{prepared.document_id}/versions/1/blob", headers=bearer(token)
    )
    assert out.content == data


def test_wrong_offset_and_content_type(wallet_app: WalletApp) -> None:
    token = wallet_app.new_vault().api.token
    upload_id = new_upload(wallet_app, token, 100)
    assert patch(wallet_app, token, upload_id, 0, b"a" * 40).status_code == 204

    for offset in (0, 39, 41, 100):
        response = patch(wallet_app, token, upload_id, offset, b"b" * 10)
        assert response.status_code == 409
        assert response.json()["detail"] == "The upload is at byte 40. Resume from there."

    response = patch(wallet_app, token, upload_id, 40, b"c" * 10, content_type="application/json")
    assert response.status_code == 400
    assert OFFSET_TYPE in response.json()["detail"]

    response = wallet_app.client.patch(
        f"{API}/uploads/{upload_id}",
        content=b"d" * 10,
        headers={**TUS, **bearer(token), "Content-Type": OFFSET_TYPE},
    )
    assert response.status_code == 422
    assert "upload-offset" in response.json()["detail"].lower()
    assert head(wallet_app, token, upload_id).headers["Upload-Offset"] == "40"
    assert patch(wallet_app, token, upload_id, 40, b"e" * 60).status_code == 204
    assert head(wallet_app, token, upload_id).headers["Upload-Offset"] == "100"


def test_truncated_upload_resumes_and_completes(any_store_app: WalletApp) -> None:
    app = any_store_app
    vault = app.new_vault()
    token = vault.api.token
    prepared = prepare_version(vault, os.urandom(200_000), title="half")
    data = prepared.ciphertext
    half = len(data) // 2
    upload_id = new_upload(app, token, len(data))
    response = patch(app, token, upload_id, 0, data[:half])
    assert response.status_code == 204
    assert response.headers["Upload-Offset"] == str(half)

    # Completing now is refused, and nothing is visible.
    early = complete(app, token, prepared, upload_id)
    assert early.status_code == 409
    assert early.json()["detail"] == (
        f"The upload is not finished: {half} of {len(data)} bytes arrived. Resume it first."
    )
    assert listed_ids(app, token) == []
    assert rows(app, "document") == rows(app, "document_version") == 0
    assert blob_objects(app) == []
    missing = app.client.get(f"{API}/documents/{prepared.document_id}", headers=bearer(token))
    assert missing.status_code == 404

    assert head(app, token, upload_id).headers["Upload-Offset"] == str(half)
    assert patch(app, token, upload_id, half, data[half:]).status_code == 204
    response = complete(app, token, prepared, upload_id, vault)
    assert response.status_code == 201, response.text
    assert response.json() == {"id": prepared.document_id, "version": 1}
    assert listed_ids(app, token) == [prepared.document_id]
    assert rows(app, "upload") == 0
    assert staged_objects(app) == []
    assert head(app, token, upload_id).status_code == 404
    # The same completion sent again (its answer was lost) gets the same answer, and stores
    # nothing twice; another completion of that upload finds nothing to complete.
    again = complete(app, token, prepared, upload_id)
    assert (again.status_code, again.json()) == (201, response.json())
    assert rows(app, "document_version") == 1
    other = prepare_version(vault, prepared.plaintext)
    assert complete(app, token, other, upload_id).status_code == 404
    [document] = vault.list_documents()
    assert document.title == "half"


def test_cancel_upload(any_store_app: WalletApp) -> None:
    app = any_store_app
    token = app.new_vault().api.token
    upload_id = new_upload(app, token, 100)
    assert patch(app, token, upload_id, 0, b"x" * 50).status_code == 204
    assert staged_objects(app) != []
    response = app.client.delete(f"{API}/uploads/{upload_id}", headers={**TUS, **bearer(token)})
    assert response.status_code == 204
    assert staged_objects(app) == []
    assert rows(app, "upload") == 0
    assert head(app, token, upload_id).status_code == 404


def test_uploads_of_others_are_invisible(wallet_app: WalletApp) -> None:
    owner = wallet_app.new_vault().api.token
    other = wallet_app.new_vault().api.token
    upload_id = new_upload(wallet_app, owner, 100)
    assert patch(wallet_app, owner, upload_id, 0, b"o" * 10).status_code == 204
    unknown_id = secrets.token_hex(16)
    answers = [
        head(wallet_app, other, upload_id),
        patch(wallet_app, other, upload_id, 10, b"x" * 10),
        wallet_app.client.delete(f"{API}/uploads/{upload_id}", headers={**TUS, **bearer(other)}),
    ]
    unknown = [
        head(wallet_app, other, unknown_id),
        patch(wallet_app, other, unknown_id, 10, b"x" * 10),
        wallet_app.client.delete(f"{API}/uploads/{unknown_id}", headers={**TUS, **bearer(other)}),
    ]
    for mine, missing in zip(answers, unknown, strict=True):
        assert mine.status_code == missing.status_code == 404
        assert mine.content == missing.content
    assert head(wallet_app, owner, upload_id).headers["Upload-Offset"] == "10"
    assert patch(wallet_app, owner, upload_id, 10, b"o" * 90).status_code == 204


# --- expiry and the sweeper -------------------------------------------------------------------


def test_abandoned_upload_expires_and_is_swept(any_store_app: WalletApp) -> None:
    app = any_store_app
    vault = app.new_vault()
    token = vault.api.token
    prepared = prepare_version(vault, os.urandom(5000))
    abandoned = new_upload(app, token, len(prepared.ciphertext))
    assert patch(app, token, abandoned, 0, prepared.ciphertext[:2000]).status_code == 204
    active = new_upload(app, token, 100)
    assert patch(app, token, active, 0, b"a" * 30).status_code == 204
    assert len(staged_objects(app)) == 2

    execute(
        app,
        "UPDATE upload SET expires_at = :t WHERE id = :id",
        t=datetime.now(UTC) - timedelta(minutes=1),
        id=abandoned,
    )
    # Already gone for the owner, before any sweep.
    assert head(app, token, abandoned).status_code == 404
    late = patch(app, token, abandoned, 2000, prepared.ciphertext[2000:])
    assert late.status_code == 404
    assert late.json()["detail"] == "This upload is gone or has expired. Start the upload again."

    report = sweep(app.client.app.state.engine, store_of(app), timedelta(hours=1))
    assert report.expired_uploads == 1
    with app.client.app.state.engine.connect() as connection:
        left = connection.execute(text("SELECT id FROM upload")).scalars().all()
    assert left == [active]
    staged = staged_objects(app)
    assert len(staged) == 1 and active in staged[0] and abandoned not in "".join(staged)
    assert head(app, token, abandoned).status_code == 404
    assert head(app, token, active).headers["Upload-Offset"] == "30"
    assert listed_ids(app, token) == []


def _age(app: WalletApp, name: str, hours: float) -> None:
    """Makes a stored file look older (filesystem only: S3 keeps its own timestamps)."""
    root = Path(app.settings.data_dir)
    [path] = [p for p in root.rglob("*") if p.is_file() and p.name.startswith(name)]
    old = time.time() - hours * 3600
    os.utime(path, (old, old))


def test_sweeper_removes_orphans_but_not_live_blobs(
    any_store_app: WalletApp, tmp_path: Path
) -> None:
    app = any_store_app
    store = store_of(app)
    engine = app.client.app.state.engine
    vault = app.new_vault()
    source = tmp_path / "live.pdf"
    source.write_bytes(os.urandom(10_000))
    document_id, _ = vault.upload(source, "other", "live")
    vault.upload(source, "other", "live v2", replace=document_id)
    live_blobs = {k for k, _ in store.list_blobs()}
    assert len(live_blobs) == 2

    orphan = secrets.token_hex(16)
    store.put(orphan, iter([b"left behind by a completion that never committed"]))
    orphan_upload = secrets.token_hex(16)
    writer = store.open_staging(orphan_upload, 0)
    writer.write(b"staged bytes of an upload row that no longer exists")
    writer.close()

    # Young orphans are left alone: a completion may be about to commit them.
    report = sweep(engine, store, timedelta(hours=1))
    assert (report.orphan_blobs, report.orphan_staging) == (0, 0)
    assert {k for k, _ in store.list_blobs()} == live_blobs | {orphan}

    if isinstance(store, S3BlobStore):
        grace = timedelta(seconds=-2)  # S3 sets its own times: treat everything as old
    else:
        grace = timedelta(hours=1)
        for name in [*live_blobs, orphan, orphan_upload]:
            _age(app, name, hours=2)
    report = sweep(engine, store, grace)
    assert (report.orphan_blobs, report.orphan_staging) == (1, 1)
    assert {k for k, _ in store.list_blobs()} == live_blobs
    assert staged_objects(app) == []
    out = tmp_path / "out.pdf"
    vault.download(document_id, out, version=1)
    vault.download(document_id, out)
    assert out.read_bytes() == source.read_bytes()


# --- refused before any body byte arrives -----------------------------------------------------


def _read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head_part, _, body = data.partition(b"\r\n\r\n")
    lines = head_part.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, headers, body


def _raw_request(port: int, lines: list[str]) -> tuple[int, dict[str, str], bytes]:
    """Sends only the request head (never the body) and waits for the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        sock.settimeout(10)
        return _read_response(sock)


def test_oversize_is_refused_before_the_body_is_sent(tmp_path: Path) -> None:
    limit = 10_000
    with run_live_server(tmp_path, {"WALLET_MAX_UPLOAD_BYTES": str(limit)}) as server:
        vault, _ = Vault.create_account(ApiClient(server.url), "raw-socket", "a passphrase")
        token = vault.api.token
        port = int(server.url.rsplit(":", 1)[1])
        host = f"Host: 127.0.0.1:{port}"
        auth = f"Authorization: Bearer {token}"

        status, _, body = _raw_request(
            port,
            [
                "POST /api/v1/uploads HTTP/1.1",
                host,
                auth,
                "Tus-Resumable: 1.0.0",
                f"Upload-Length: {10**12}",
                "Content-Type: application/offset+octet-stream",
                f"Content-Length: {10**12}",
            ],
        )
        assert status == 413
        assert "too big" in json.loads(body)["detail"]

        upload = vault.api.api("POST", "/uploads", headers={**TUS, "Upload-Length": "5000"})
        location = upload.headers["location"]
        vault.api.request(
            "PATCH",
            location,
            content=b"x" * 1000,
            headers={**TUS, "Upload-Offset": "0", "Content-Type": OFFSET_TYPE},
        )
        started = time.monotonic()
        status, headers, body = _raw_request(
            port,
            [
                f"PATCH {location} HTTP/1.1",
                host,
                auth,
                "Tus-Resumable: 1.0.0",
                "Upload-Offset: 1000",
                f"Content-Type: {OFFSET_TYPE}",
                f"Content-Length: {4001}",
            ],
        )
        assert status == 413
        assert time.monotonic() - started < 5
        assert json.loads(body)["code"] == "too_large"
        offset = vault.api.request("HEAD", location, headers=TUS).headers["upload-offset"]
        assert offset == "1000"


def test_offset_never_runs_ahead_of_the_staged_bytes(wallet_app) -> None:
    """After a power cut the staged file may be shorter than the acknowledged offset (no fsync
    per PATCH): HEAD and the next PATCH resume from what is really on disk."""
    vault = wallet_app.new_vault()
    headers = {"Authorization": f"Bearer {vault.api.token}", "Tus-Resumable": "1.0.0"}
    created = wallet_app.client.post("/api/v1/uploads", headers={**headers, "Upload-Length": "10"})
    location = created.headers["location"]
    patch = {**headers, "Content-Type": "application/offset+octet-stream"}
    sent = wallet_app.client.patch(
        location, content=b"01234567", headers={**patch, "Upload-Offset": "0"}
    )
    assert sent.headers["upload-offset"] == "8"
    upload_id = location.rsplit("/", 1)[-1]
    staged = wallet_app.settings.data_dir / "staging" / f"{upload_id}.part"
    staged.write_bytes(b"0123")  # what a power cut could leave behind
    assert wallet_app.client.head(location, headers=headers).headers["upload-offset"] == "4"
    resumed = wallet_app.client.patch(
        location, content=b"456789", headers={**patch, "Upload-Offset": "4"}
    )
    assert resumed.status_code == 204
    assert resumed.headers["upload-offset"] == "10"
    assert staged.read_bytes() == b"0123456789"
