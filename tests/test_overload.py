"""No collapse: 200 clients at once against one `wallet serve` process over real HTTP.

A bounded mix of logins, listings, uploads and downloads (about 15 s). No answer is a 500:
the overload answer is a 503 with Retry-After (the admission limit, wallet/server/admission.py),
and afterwards every document the server said it stored downloads and matches its hash.
benchmarks/load.py measures the same mix at 20 to 200 users; nothing here asserts on time.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import secrets
import socket
import ssl
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from tests.conftest import TEST_PASSPHRASE, AppFactory, run_live_server
from tests.test_uploads import bearer
from wallet.client import ApiClient, Vault
from wallet.client.vault import derive_credentials
from wallet.crypto import age
from wallet.crypto.encoding import b64d, b64e
from wallet.crypto.signing import sign
from wallet.errors import BUSY

API = "/api/v1"
TUS = {"Tus-Resumable": "1.0.0"}
CLIENTS = 200
ACCOUNTS = 20
LOAD_SECONDS = 15.0
OK = {200, 201, 204}


@dataclass
class Account:
    handle: str
    auth_key: str
    vault: Vault
    # document id -> sha256 of its blob, for every upload the server answered 201
    stored: dict[str, str] = field(default_factory=dict)
    # completions answered otherwise (503): not stored, or stored whole, never half
    unsure: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    bad: list[str] = field(default_factory=list)
    transport_errors: int = 0


def prepared(vault: Vault) -> tuple[bytes, dict[str, str]]:
    document_id = uuid.uuid4().hex
    identity = age.new_identity()
    recipient = age.recipient_of(identity)
    ciphertext = age.encrypt_bytes(os.urandom(random.randint(1000, 20_000)), recipient)
    encrypted_meta = age.encrypt_bytes(
        json.dumps({"v": 1, "type": "other", "title": "load", "tags": []}).encode(), recipient
    )
    wrapped_key = vault._seal_document_key(identity, document_id, 1)
    manifest, signature = sign(
        vault.keys.signing_key,
        {
            "v": 1,
            "kind": "document-version",
            "document_id": document_id,
            "version": 1,
            "blob_sha256": hashlib.sha256(ciphertext).hexdigest(),
            "blob_size": len(ciphertext),
            "meta_sha256": hashlib.sha256(encrypted_meta).hexdigest(),
            "wraps": [
                {"key_id": vault.keys.key_id, "sha256": hashlib.sha256(wrapped_key).hexdigest()}
            ],
            "signed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        },
    )
    return ciphertext, {
        "document_id": document_id,
        "encrypted_meta": b64e(encrypted_meta),
        "wrapped_key": b64e(wrapped_key),
        "manifest": b64e(manifest),
        "signature": b64e(signature),
    }


class Mix:
    def __init__(self, accounts: list[Account]) -> None:
        self.accounts = accounts
        self.seen = Seen()

    def check(self, name: str, response: httpx.Response) -> bool:
        status = response.status_code
        self.seen.statuses[(name, status)] += 1
        if status in OK:
            return True
        if status == 429 and name == "login" and int(response.headers["Retry-After"]) > 0:
            # Ten clients log in to one account at once: the login throttle counts each login
            # as an attempt until it succeeds, and asks the sixth at once to wait.
            return False
        if status == 423 and name == "patch" and int(response.headers["Retry-After"]) > 0:
            # A PATCH retried while the upload's earlier PATCH still holds it (one at a time).
            return False
        if status == 503:
            body = response.json()
            if "retry-after" not in response.headers or body.get("code") not in (
                "busy",
                "unavailable",
            ):
                self.seen.bad.append(f"{name}: 503 {dict(response.headers)} {response.text}")
        else:
            self.seen.bad.append(f"{name}: {status} {response.text[:300]}")
        return False

    async def send(
        self, client: httpx.AsyncClient, name: str, method: str, url: str, **kwargs: object
    ) -> httpx.Response | None:
        try:
            response = await client.request(method, url, **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            self.seen.transport_errors += 1
            self.seen.bad.append(f"{name}: {type(exc).__name__}")
            return None
        return response if self.check(name, response) else None

    async def login(self, client: httpx.AsyncClient, account: Account) -> str | None:
        body = {"handle": account.handle, "auth_key": account.auth_key}
        response = await self.send(client, "login", "POST", f"{API}/auth/login", json=body)
        return None if response is None else str(response.json()["token"])

    async def upload(self, client: httpx.AsyncClient, account: Account, token: str) -> None:
        auth = {"Authorization": f"Bearer {token}"}
        ciphertext, body = await asyncio.to_thread(prepared, account.vault)
        headers = {**auth, **TUS, "Upload-Length": str(len(ciphertext))}
        created = await self.send(client, "create", "POST", f"{API}/uploads", headers=headers)
        if created is None:
            return
        location = created.headers["location"]
        headers = {
            **auth,
            **TUS,
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
        }
        if await self.send(client, "patch", "PATCH", location, content=ciphertext, headers=headers):
            digest = hashlib.sha256(ciphertext).hexdigest()
            document_id = body["document_id"]
            account.unsure[document_id] = digest
            body["upload_id"] = location.rsplit("/", 1)[-1]
            done = await self.send(
                client, "complete", "POST", f"{API}/documents", json=body, headers=auth
            )
            if done is not None:
                account.unsure.pop(document_id)
                account.stored[document_id] = digest

    async def client(self, client: httpx.AsyncClient, n: int, stop: float) -> None:
        account = self.accounts[n % len(self.accounts)]
        rng = random.Random(n)
        token: str | None = None
        while time.monotonic() < stop:
            if token is None or rng.random() < 0.15:
                token = await self.login(client, account) or token
                if token is None:
                    await asyncio.sleep(0.2)
                continue
            auth = {"Authorization": f"Bearer {token}"}
            roll = rng.random()
            if roll < 0.45:
                await self.send(client, "list", "GET", f"{API}/documents", headers=auth)
            elif roll < 0.8 and account.stored:
                document_id = rng.choice(list(account.stored))
                url = f"{API}/documents/{document_id}/versions/1/blob"
                await self.send(client, "download", "GET", url, headers=auth)
            else:
                await self.upload(client, account, token)

    async def run(self, url: str) -> None:
        # A client and connection per user, as real users have (one httpx pool shared by
        # 200 tasks costs more than the server's work). One TLS context: each client would
        # load the CA bundle again.
        tls = ssl.create_default_context()
        clients = [httpx.AsyncClient(base_url=url, timeout=60, verify=tls) for _ in range(CLIENTS)]
        stop = time.monotonic() + LOAD_SECONDS
        try:
            await asyncio.gather(*(self.client(c, n, stop) for n, c in enumerate(clients)))
        finally:
            await asyncio.gather(*(client.aclose() for client in clients))


def new_account(url: str) -> Account:
    api = ApiClient(url, timeout=60)
    handle = f"load-{secrets.token_hex(4)}"
    vault, _recovery = Vault.create_account(api, handle, TEST_PASSPHRASE)
    params = api.api("POST", "/auth/prelogin", json={"handle": handle}).json()
    creds = derive_credentials(
        TEST_PASSPHRASE, b64d(params["salt"]), params["opslimit"], params["memlimit"]
    )
    return Account(handle, b64e(creds.auth_key), vault)


def test_200_clients_on_one_process(tmp_path: Path) -> None:
    with run_live_server(tmp_path) as server:
        accounts = [new_account(server.url) for _ in range(ACCOUNTS)]
        mix = Mix(accounts)
        # A loop of its own in a thread of its own: the browser tests' Playwright keeps an event
        # loop running in this thread, and asyncio.run() refuses to start inside it.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, mix.run(server.url)).result()

        summary = sorted(mix.seen.statuses.items())
        print(f"\n{CLIENTS} clients, {LOAD_SECONDS:g} s: {summary}")
        assert not mix.seen.bad, mix.seen.bad[:10]
        for name in ("login", "list", "download", "create", "patch", "complete"):
            assert any(s in OK for (n, s), _count in summary if n == name), (name, summary)

        # Nothing lost or corrupted: every stored document is listed and downloads exactly.
        with httpx.Client(base_url=server.url, timeout=60) as client:
            for account in accounts:
                auth = {"Authorization": f"Bearer {account.vault.api.token}"}
                listed = client.get(f"{API}/documents", headers=auth).json()["documents"]
                ids = {document["id"] for document in listed}
                assert set(account.stored) <= ids
                assert ids <= set(account.stored) | set(account.unsure)
                for document_id in ids:
                    blob = client.get(
                        f"{API}/documents/{document_id}/versions/1/blob", headers=auth
                    )
                    assert blob.status_code == 200
                    expected = account.stored.get(document_id) or account.unsure[document_id]
                    assert hashlib.sha256(blob.content).hexdigest() == expected
        errors = server.log_path.read_text(errors="replace")
        assert "Traceback" not in errors, errors[-3000:]


def test_a_full_process_answers_busy_at_once_and_health_still_answers(tmp_path: Path) -> None:
    """One place, no queue: while a tus PATCH holds the place (its body is still coming), any
    other request gets 503 "busy" with Retry-After, and /healthz and /readyz still answer."""
    env = {"WALLET_REQUESTS_IN_FLIGHT": "1", "WALLET_REQUEST_QUEUE_SECONDS": "0"}
    with run_live_server(tmp_path, env) as server:
        vault = new_account(server.url).vault
        token = vault.api.token
        auth = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=server.url, timeout=60, headers=auth) as client:
            created = client.post(f"{API}/uploads", headers={**TUS, "Upload-Length": "1000"})
            location = created.headers["location"]
            port = int(server.url.rsplit(":", 1)[1])
            lines = [
                f"PATCH {location} HTTP/1.1",
                f"Host: 127.0.0.1:{port}",
                f"Authorization: Bearer {token}",
                "Tus-Resumable: 1.0.0",
                "Upload-Offset: 0",
                "Content-Type: application/offset+octet-stream",
                "Content-Length: 1000",
            ]
            deadline = time.monotonic() + 60
            while True:
                held = socket.create_connection(("127.0.0.1", port))
                held.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + b"x" * 100)
                busy = client.get(f"{API}/documents")
                if busy.status_code == 503:  # the PATCH holds the only place
                    break
                # Our probe came first and the PATCH was the one turned away: again.
                assert busy.status_code == 200
                held.close()
                assert time.monotonic() < deadline, "the held PATCH never took the place"
            with held:
                assert busy.json() == {"detail": BUSY, "code": "busy"}
                assert int(busy.headers["Retry-After"]) > 0
                assert client.get("/healthz").status_code == 200
                assert client.get("/readyz").status_code == 200
                held.sendall(b"x" * 900)
                assert held.recv(4096).startswith(b"HTTP/1.1 204")
            listed = client.get(f"{API}/documents")
            assert listed.status_code == 200


def test_no_free_connection_is_busy_not_a_500(make_app: AppFactory) -> None:
    """The pool's timeout (every connection taken) is a 503 "busy" with Retry-After."""
    app = make_app(database_pool_size=1, database_pool_timeout_seconds=0.2)
    vault = app.new_vault()
    engine = app.client.app.state.engine
    with engine.connect():  # the only connection
        response = app.client.get(f"{API}/documents", headers=bearer(vault.api.token))
    assert response.status_code == 503
    assert response.json() == {"detail": BUSY, "code": "busy"}
    assert int(response.headers["Retry-After"]) > 0
    assert app.client.get(f"{API}/documents", headers=bearer(vault.api.token)).status_code == 200
