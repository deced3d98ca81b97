"""The per-account storage quota: every stored version and every unfinished upload counts.

An upload's announced length is reserved when it is created, under the owner's lock, so
uploads at the edge cannot all fit; completion checks again before the blob moves. A refusal
is 507 `quota_full`, says how much is used and what to do, and keeps the upload so it can
complete once room is made. On SQLite, or PostgreSQL when WALLET_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import (
    TEST_PASSPHRASE,
    AppFactory,
    LiveServer,
    WalletApp,
    run_cli,
    run_live_server,
)
from tests.test_rate_limits import second_process
from wallet.client import ApiClient, Vault
from wallet.crypto.encoding import b64e
from wallet.crypto.signing import sign

API = "/api/v1"
TUS = {"Tus-Resumable": "1.0.0"}
QUOTA = 10_000
PIECE = 3_000
PARALLEL = 12


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def create_upload(http: httpx.Client, token: str, length: int) -> httpx.Response:
    return http.post(
        f"{API}/uploads", headers={**TUS, **bearer(token), "Upload-Length": str(length)}
    )


def send_bytes(http: httpx.Client, token: str, location: str, data: bytes) -> None:
    patched = http.patch(
        location,
        content=data,
        headers={
            **TUS,
            **bearer(token),
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
        },
    )
    assert patched.status_code == 204, patched.text


def finished_upload(http: httpx.Client, token: str, data: bytes) -> str:
    created = create_upload(http, token, len(data))
    assert created.status_code == 201, created.text
    send_bytes(http, token, created.headers["location"], data)
    return created.headers["location"].rsplit("/", 1)[-1]


def document_body(vault: Vault, upload_id: str, blob: bytes, document_id: str) -> dict[str, Any]:
    """A new document's body as a client sends it (the server checks shape and signature)."""
    encrypted_meta = secrets.token_bytes(80)
    wrapped_key = secrets.token_bytes(120)
    manifest, signature = sign(
        vault.keys.signing_key,
        {
            "v": 1,
            "kind": "document-version",
            "document_id": document_id,
            "version": 1,
            "blob_sha256": sha(blob),
            "blob_size": len(blob),
            "meta_sha256": sha(encrypted_meta),
            "wraps": [{"key_id": vault.keys.key_id, "sha256": sha(wrapped_key)}],
            "signed_at": "2026-01-01T00:00:00+00:00",
        },
    )
    return {
        "document_id": document_id,
        "upload_id": upload_id,
        "encrypted_meta": b64e(encrypted_meta),
        "wrapped_key": b64e(wrapped_key),
        "manifest": b64e(manifest),
        "signature": b64e(signature),
    }


def store_document(http: httpx.Client, vault: Vault, size: int) -> str:
    token = vault.api.token
    assert token
    blob = secrets.token_bytes(size)
    document_id = secrets.token_hex(16)
    upload_id = finished_upload(http, token, blob)
    created = http.post(
        f"{API}/documents",
        json=document_body(vault, upload_id, blob, document_id),
        headers=bearer(token),
    )
    assert created.status_code == 201, created.text
    return document_id


def quota_full(response: httpx.Response, used: int) -> str:
    """The quota's answer: 507, its code, and plain words with the figures and what to do."""
    assert response.status_code == 507, response.text
    body = response.json()
    assert body["code"] == "quota_full"
    message = str(body["detail"])
    assert "full" in message and "Delete documents you no longer need" in message, message
    assert response.headers["Wallet-Quota-Used"] == str(used)
    assert response.headers["Wallet-Quota-Limit"] == str(QUOTA)
    assert "Retry-After" not in response.headers  # waiting alone does not help
    return message


def token_of(vault: Vault) -> str:
    assert vault.api.token
    return vault.api.token


@pytest.fixture
def quota_app(make_app: AppFactory) -> WalletApp:
    return make_app(account_quota_bytes=QUOTA)


def test_an_upload_that_would_not_fit_is_refused_at_creation(quota_app: WalletApp) -> None:
    app = quota_app
    vault = app.new_vault()
    token = token_of(vault)
    http = app.client
    store_document(http, vault, 4_000)
    store_document(http, vault, 4_000)
    # 8,000 stored: 2,000 left. An upload counts from its creation, before any byte arrives.
    assert create_upload(http, token, 1_500).status_code == 201
    message = quota_full(create_upload(http, token, 1_000), used=9_500)
    assert "9.3 KB of 9.8 KB are used, and this file needs 1 KB" in message, message
    # Other accounts have their own room.
    other = app.new_vault()
    assert create_upload(http, token_of(other), 9_000).status_code == 201


def test_a_completion_over_the_quota_keeps_the_upload_for_after_a_delete(
    quota_app: WalletApp,
) -> None:
    """Completion checks again (here the quota was lowered after the upload was created): the
    upload stays, and completes once the owner has deleted a document."""
    app = quota_app
    vault = app.new_vault()
    token = token_of(vault)
    http = app.client
    first = store_document(http, vault, 4_000)
    store_document(http, vault, 4_000)
    blob = secrets.token_bytes(1_800)
    upload_id = finished_upload(http, token, blob)
    body = document_body(vault, upload_id, blob, secrets.token_hex(16))

    app.settings.account_quota_bytes = 9_000
    try:
        refused = http.post(f"{API}/documents", json=body, headers=bearer(token))
        assert refused.status_code == 507, refused.text
        assert refused.json()["code"] == "quota_full"
        assert refused.headers["Wallet-Quota-Used"] == "8000"
        # Nothing was stored, and the bytes are still there.
        assert len(http.get(f"{API}/documents", headers=bearer(token)).json()["documents"]) == 2
        head = http.head(f"{API}/uploads/{upload_id}", headers={**TUS, **bearer(token)})
        assert head.status_code == 200 and head.headers["Upload-Offset"] == "1800"

        deleted = http.delete(f"{API}/documents/{first}", headers=bearer(token))
        assert deleted.status_code == 204, deleted.text
        again = http.post(f"{API}/documents", json=body, headers=bearer(token))
        assert again.status_code == 201, again.text
    finally:
        app.settings.account_quota_bytes = QUOTA


def test_no_quota_when_the_setting_is_zero(make_app: AppFactory) -> None:
    app = make_app(account_quota_bytes=0, max_upload_bytes=50_000)
    vault = app.new_vault()
    for _ in range(3):
        assert create_upload(app.client, token_of(vault), 40_000).status_code == 201


# --- races, over real HTTP --------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("quota-race")
    with run_live_server(tmp, {"WALLET_ACCOUNT_QUOTA_BYTES": str(QUOTA)}) as live:
        yield live


def new_owner(server: LiveServer) -> Vault:
    vault, _recovery = Vault.create_account(
        ApiClient(server.url), f"quota-{secrets.token_hex(4)}", TEST_PASSPHRASE
    )
    return vault


def at_once(count: int, work: Any) -> list[httpx.Response]:
    """`count` clients, each on its own open connection, send their request at once."""
    barrier = threading.Barrier(count)

    def one(index: int) -> httpx.Response:
        return work(index, barrier)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def test_parallel_uploads_at_the_edge_reserve_exactly_the_room_left(server: LiveServer) -> None:
    vault = new_owner(server)
    token = token_of(vault)

    def create(_index: int, barrier: threading.Barrier) -> httpx.Response:
        with httpx.Client(base_url=server.url, timeout=120) as http:
            http.get("/healthz")
            barrier.wait(timeout=60)
            return create_upload(http, token, PIECE)

    responses = at_once(PARALLEL, create)
    statuses = Counter(r.status_code for r in responses)
    fits = QUOTA // PIECE
    assert statuses == {201: fits, 507: PARALLEL - fits}, statuses
    for response in responses:
        if response.status_code == 507:
            quota_full(response, used=fits * PIECE)


def test_parallel_completions_never_store_more_than_the_quota(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Uploads reserved under a roomier quota (the operator lowered it since, on a second
    instance): of those completed at once, exactly what fits is stored."""
    tmp = tmp_path_factory.mktemp("quota-completion")
    with run_live_server(tmp, {"WALLET_ACCOUNT_QUOTA_BYTES": str(10 * QUOTA)}) as roomy:
        vault = new_owner(roomy)
        token = token_of(vault)
        bodies = []
        with httpx.Client(base_url=roomy.url, timeout=120) as http:
            for _ in range(4):
                blob = secrets.token_bytes(PIECE)
                upload_id = finished_upload(http, token, blob)
                bodies.append(document_body(vault, upload_id, blob, secrets.token_hex(16)))
        with second_process(roomy, {"WALLET_ACCOUNT_QUOTA_BYTES": str(QUOTA)}) as strict:

            def complete(index: int, barrier: threading.Barrier) -> httpx.Response:
                with httpx.Client(base_url=strict, timeout=120) as http:
                    http.get("/healthz")
                    barrier.wait(timeout=60)
                    return http.post(f"{API}/documents", json=bodies[index], headers=bearer(token))

            responses = at_once(len(bodies), complete)
        statuses = Counter(r.status_code for r in responses)
        assert statuses == {201: 3, 507: 1}, statuses
        refused = next(r for r in responses if r.status_code == 507)
        quota_full(refused, used=3 * PIECE)
        with httpx.Client(base_url=roomy.url, timeout=120) as http:
            listed = http.get(f"{API}/documents", headers=bearer(token)).json()["documents"]
        assert sum(row["size"] for row in listed) == 3 * PIECE


def test_the_cli_says_the_wallet_is_full_in_one_plain_line(
    server: LiveServer, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "WALLET_SERVER": server.url,
        "WALLET_HOME": str(tmp_path / "home"),
        "WALLET_PASSPHRASE": TEST_PASSPHRASE,
    }
    run_cli(env, "account", "create", "--handle", f"quota-cli-{secrets.token_hex(4)}")
    big = tmp_path / "scan.pdf"
    big.write_bytes(b"%PDF-1.4 " + secrets.token_bytes(QUOTA + 1))
    result = run_cli(env, "upload", str(big), check=False)
    assert result.returncode != 0
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert "Your wallet is full" in message and "Delete documents" in message, message
    assert "Traceback" not in result.stdout + result.stderr
