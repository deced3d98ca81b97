"""Load: throughput and latency at 20, 50, 100 and 200 users, on 1 and 2 processes, SQLite and
PostgreSQL (issue 11, "No collapse").

A bounded closed loop (asyncio + httpx, no think time): each user logs in, then repeats a mix of
logins (POST /auth/login with a precomputed auth key: the server's Argon2id hash at its
default cost), listings (GET /documents), downloads (GET .../versions/1/blob, 16 KB) and
uploads (tus POST + PATCH + POST /documents), weighted 20/40/25/15, for --seconds per level
after a warm-up. 20 accounts are shared by the users. Per level it prints the successful
requests per second, p50 and p99 of every answered request, and the 503s, 429s (the login
throttle: 20 accounts logged in to by up to 10 users each), other 5xx and transport errors; then, per server, the ratio of the throughput at 200 users to the best level.

  PYTHONPATH=$PWD .venv/bin/python benchmarks/load.py
  ... --env WALLET_REQUESTS_IN_FLIGHT=0         # the admission limit off
  ... --server-code /tmp/main-checkout          # run the server from another checkout (before)
  ... --users 20,50,100,200 --processes 1,2 --databases sqlite,postgresql --seconds 20

The load generator is one Python process sharing the machine's cores with the server: figures
are relative, compare them within one run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import hashlib
import json
import os
import random
import secrets
import ssl
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from _common import (
    FAST_KDF,
    PASSPHRASE,
    LiveServer,
    code_version,
    percentile,
    postgres_available,
    postgres_database,
    table,
    temp_dir,
)

from wallet.client import ApiClient, Vault
from wallet.client.vault import derive_credentials
from wallet.crypto import age
from wallet.crypto.encoding import b64d, b64e
from wallet.crypto.signing import sign

API = "/api/v1"
TUS = {"Tus-Resumable": "1.0.0"}
ACCOUNTS = 20
SEEDED_DOCUMENTS = 2
DOCUMENT_BYTES = 16 * 1024
MIX = [("login", 20), ("list", 40), ("download", 25), ("upload", 15)]


@dataclass
class Account:
    handle: str
    auth_key: str
    vault: Vault
    documents: list[str] = field(default_factory=list)


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    ok: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0
    busy_without_retry_after: int = 0


def prepared_upload(vault: Vault) -> tuple[bytes, dict[str, str]]:
    """What Vault.upload sends for a new document, built ahead (no file on disk)."""
    document_id = uuid.uuid4().hex
    identity = age.new_identity()
    recipient = age.recipient_of(identity)
    ciphertext = age.encrypt_bytes(os.urandom(DOCUMENT_BYTES), recipient)
    meta = {"v": 1, "type": "other", "title": "load", "tags": []}
    encrypted_meta = age.encrypt_bytes(json.dumps(meta).encode(), recipient)
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


def make_accounts(url: str, work: Path) -> list[Account]:
    accounts = []
    for n in range(ACCOUNTS):
        api = ApiClient(url, timeout=120)
        handle = f"load-{n}-{secrets.token_hex(3)}"
        vault, _recovery = Vault.create_account(api, handle, PASSPHRASE)
        params = api.api("POST", "/auth/prelogin", json={"handle": handle}).json()
        creds = derive_credentials(
            PASSPHRASE, b64d(params["salt"]), params["opslimit"], params["memlimit"]
        )
        account = Account(handle, b64e(creds.auth_key), vault)
        for d in range(SEEDED_DOCUMENTS):
            path = work / f"seed-{n}-{d}.bin"
            path.write_bytes(os.urandom(DOCUMENT_BYTES))
            document_id, _version = vault.upload(path, "other", f"seed {d}")
            account.documents.append(document_id)
        accounts.append(account)
    return accounts


class Load:
    def __init__(self, url: str, accounts: list[Account]) -> None:
        self.url = url
        self.accounts = accounts
        self.tally = Tally()
        self.recording = False

    async def call(
        self, client: httpx.AsyncClient, method: str, path: str, **kwargs: object
    ) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = await client.request(method, path, **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError:
            if self.recording:
                self.tally.errors += 1
            return None
        if self.recording:
            self.tally.latencies.append(time.perf_counter() - started)
            self.tally.statuses[response.status_code] += 1
            if response.status_code < 400:
                self.tally.ok += 1
            if response.status_code == 503 and "retry-after" not in response.headers:
                self.tally.busy_without_retry_after += 1
        return response

    async def login(self, client: httpx.AsyncClient, account: Account) -> str | None:
        response = await self.call(
            client,
            "POST",
            f"{API}/auth/login",
            json={"handle": account.handle, "auth_key": account.auth_key},
        )
        if response is not None and response.status_code == 200:
            return str(response.json()["token"])
        return None

    async def upload(self, client: httpx.AsyncClient, account: Account, auth: dict) -> None:
        ciphertext, body = prepared_upload(account.vault)
        created = await self.call(
            client,
            "POST",
            f"{API}/uploads",
            headers={**auth, **TUS, "Upload-Length": str(len(ciphertext))},
        )
        if created is None or created.status_code != 201:
            return
        location = created.headers["location"]
        patched = await self.call(
            client,
            "PATCH",
            location,
            content=ciphertext,
            headers={
                **auth,
                **TUS,
                "Upload-Offset": "0",
                "Content-Type": "application/offset+octet-stream",
            },
        )
        if patched is None or patched.status_code != 204:
            return
        upload_id = location.rsplit("/", 1)[-1]
        done = await self.call(
            client, "POST", f"{API}/documents", json={**body, "upload_id": upload_id}, headers=auth
        )
        if done is not None and done.status_code == 201:
            account.documents.append(body["document_id"])

    async def user(self, client: httpx.AsyncClient, n: int, stop: float) -> None:
        account = self.accounts[n % len(self.accounts)]
        rng = random.Random(n)
        token = None
        names = [name for name, _ in MIX]
        weights = [weight for _, weight in MIX]
        while time.monotonic() < stop:
            action = "login" if token is None else rng.choices(names, weights)[0]
            if action == "login":
                token = await self.login(client, account) or token
                if token is None:
                    await asyncio.sleep(0.2)  # busy at the door: as a client honouring 503
                continue
            auth = {"Authorization": f"Bearer {token}"}
            if action == "list":
                await self.call(client, "GET", f"{API}/documents", headers=auth)
            elif action == "download":
                document_id = rng.choice(account.documents)
                await self.call(
                    client, "GET", f"{API}/documents/{document_id}/versions/1/blob", headers=auth
                )
            else:
                await self.upload(client, account, auth)

    async def level(self, users: int, warmup: float, seconds: float) -> tuple[Tally, float]:
        # A client (and connection) per user, as real users have: one pool shared by hundreds
        # of tasks costs httpx more than the server spends on the requests. One TLS context
        # for all (unused on http://, but each client would load the CA bundle again).
        tls = ssl.create_default_context()
        clients = [
            httpx.AsyncClient(base_url=self.url, timeout=120, verify=tls) for _ in range(users)
        ]
        self.tally = Tally()
        self.recording = False
        stop = time.monotonic() + warmup + seconds
        tasks = [
            asyncio.create_task(self.user(client, n, stop)) for n, client in enumerate(clients)
        ]
        await asyncio.sleep(warmup)
        self.recording = True
        started = time.monotonic()
        await asyncio.gather(*tasks)
        elapsed = time.monotonic() - started
        self.recording = False
        await asyncio.gather(*(client.aclose() for client in clients))
        return self.tally, elapsed


def run_server(args: argparse.Namespace, database: str, processes: int) -> list[list[object]]:
    rows: list[list[object]] = []
    with temp_dir("wallet-bench-load-") as work:
        env = {
            **FAST_KDF,
            "WALLET_SERVER_SECRET": "bench-load",
            "WALLET_WORKERS": str(processes),
            **dict(item.split("=", 1) for item in args.env),
        }
        if args.server_code:
            env["PYTHONPATH"] = args.server_code
        with (
            postgres_database("wallet_bench_load")
            if database == "postgresql"
            else contextlib.nullcontext("") as url
        ):
            if url:
                env["WALLET_DATABASE_URL"] = url
            server = LiveServer(work / "data", env)
            server.start(timeout=180)  # two workers on a busy machine take a while
            try:
                accounts = make_accounts(server.url, work)
                load = Load(server.url, accounts)
                measured = []
                for users in args.users:
                    tally, elapsed = asyncio.run(load.level(users, args.warmup, args.seconds))
                    measured.append((users, tally, elapsed))
                best = max(t.ok / e for _u, t, e in measured) if measured else 0
                for users, tally, elapsed in measured:
                    lat = tally.latencies or [0.0]
                    fives = sum(c for s, c in tally.statuses.items() if s >= 500 and s != 503)
                    throughput = tally.ok / elapsed
                    rows.append(
                        [
                            database,
                            processes,
                            users,
                            f"{throughput:.1f}",
                            f"{percentile(lat, 0.5) * 1000:.0f}",
                            f"{percentile(lat, 0.99) * 1000:.0f}",
                            tally.statuses.get(503, 0),
                            tally.statuses.get(429, 0),
                            fives,
                            tally.errors,
                            f"{throughput / best:.2f}" if best else "-",
                        ]
                    )
                    if tally.busy_without_retry_after:
                        print(f"  ! {tally.busy_without_retry_after} × 503 without Retry-After")
                print(table(HEADERS, rows), flush=True)
            finally:
                server.stop()
    return rows


HEADERS = [
    "database",
    "processes",
    "users",
    "ok req/s",
    "p50 ms",
    "p99 ms",
    "503",
    "429",
    "other 5xx",
    "errors",
    "of best",
]


def full_collection_ms() -> float:
    """The median time of a full garbage collection (the GIL held, every request stalled)."""
    times = []
    for _ in range(5):
        started = time.perf_counter()
        gc.collect()
        times.append(time.perf_counter() - started)
    return sorted(times)[2] * 1000


def gc_freeze_figures() -> None:
    """What gc.freeze() after start-up (wallet/server/app.py) saves: the app's start-up objects
    are no longer walked by each full collection."""
    from wallet.server.app import create_app  # the whole server: only for this figure
    from wallet.settings import Settings

    with temp_dir("wallet-bench-gc-") as work:
        create_app(Settings(data_dir=work, server_secret="bench-gc"))
        tracked = len(gc.get_objects())
        before = full_collection_ms()
        gc.freeze()
        after = full_collection_ms()
        gc.unfreeze()
    print(
        f"full garbage collection with the app loaded ({tracked:,} objects): "
        f"{before:.1f} ms, after gc.freeze(): {after:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", default="20,50,100,200")
    parser.add_argument("--processes", default="1,2")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for the server")
    parser.add_argument("--server-code", default="", help="PYTHONPATH for the server")
    args = parser.parse_args()
    args.users = [int(u) for u in args.users.split(",")]
    databases = args.databases.split(",")
    if "postgresql" in databases and not postgres_available():
        print("PostgreSQL does not answer on 127.0.0.1:5432: skipped")
        databases.remove("postgresql")
    print(f"code: {args.server_code or code_version()}; server env: {args.env or 'defaults'}")
    gc_freeze_figures()
    rows: list[list[object]] = []
    for database in databases:
        for processes in [int(p) for p in args.processes.split(",")]:
            rows += run_server(args, database, processes)
    print()
    print(table(HEADERS, rows))
    print()
    print("| " + " | ".join(HEADERS) + " |")
    print("|" + " --- |" * len(HEADERS))
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")


if __name__ == "__main__":
    main()
