"""Nothing hangs: S3 or PostgreSQL frozen behind a forwarder stopped with SIGSTOP.

A stopped forwarder is the worst kind of outage: the kernel still accepts connections and
acknowledges bytes, but no answer ever comes, so only the app's own bounds free a request
(S3 timeouts and pause, PostgreSQL's connect and answer bounds, the admission queue). Through
the freeze /healthz answers at once, every other request answers within 10 s with a 503 (with
Retry-After) or a success, and after the thaw everything works again without a restart.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import (
    FAST_AUTH_HASH,
    TEST_PASSPHRASE,
    free_port,
    fresh_database,
    start_moto,
    using_postgres,
    wait_for_port,
)
from wallet.client import ApiClient, Vault
from wallet.client.vault import derive_credentials
from wallet.crypto.encoding import b64d, b64e

API = "/api/v1"
CONTRACT_SECONDS = 10.0
# One TLS context for every client: each new one would load the CA bundle again, and 30 at
# once keep this process (and its /healthz watch) busy for a while.
TLS = ssl.create_default_context()
ANSWERS = {200, 201, 204, 503}

# A plain TCP forwarder in a process of its own, so SIGSTOP freezes it whole.
FORWARDER = r"""
import socket, sys, threading

listen, target = int(sys.argv[1]), int(sys.argv[2])
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", listen))
server.listen(128)


def pump(source, sink):
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


while True:
    client, _ = server.accept()
    try:
        upstream = socket.create_connection(("127.0.0.1", target), timeout=5)
    except OSError:
        client.close()
        continue
    upstream.settimeout(None)
    for source, sink in ((client, upstream), (upstream, client)):
        threading.Thread(target=pump, args=(source, sink), daemon=True).start()
"""


class Forwarder:
    def __init__(self, target_port: int) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-c", FORWARDER, str(self.port), str(target_port)]
        )
        wait_for_port(self.port, process=self.process)

    def freeze(self) -> None:
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.process.pid, signal.SIGCONT)
        self.process.terminate()
        self.process.wait(10)


@dataclass
class HealthWatch:
    """Asks /healthz every 50 ms from its own thread; keeps every answer time."""

    url: str
    times: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=CONTRACT_SECONDS, verify=TLS) as client:
            while not self._stop.is_set():
                started = time.perf_counter()
                try:
                    response = client.get("/healthz")
                    if response.status_code != 200:
                        self.failures.append(f"{response.status_code} {response.text}")
                except httpx.HTTPError as exc:
                    self.failures.append(type(exc).__name__)
                self.times.append(time.perf_counter() - started)
                self._stop.wait(0.05)

    @contextlib.contextmanager
    def running(self) -> Iterator[HealthWatch]:
        thread = threading.Thread(target=self._run, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join(30)


@dataclass
class Answer:
    name: str
    status: int | str
    seconds: float
    retry_after: str | None


@dataclass
class Person:
    url: str
    handle: str
    auth_key: str
    token: str
    documents: dict[str, bytes]  # id -> plaintext

    def requests(self) -> dict[str, Callable[[httpx.Client], httpx.Response]]:
        auth = {"Authorization": f"Bearer {self.token}"}
        first = next(iter(self.documents))
        login = {"handle": self.handle, "auth_key": self.auth_key}
        tus = {"Tus-Resumable": "1.0.0", "Upload-Length": "100"}
        return {
            "login": lambda c: c.post(f"{API}/auth/login", json=login),
            "list": lambda c: c.get(f"{API}/documents", headers=auth),
            "download": lambda c: c.get(f"{API}/documents/{first}/versions/1/blob", headers=auth),
            "new upload": lambda c: c.post(f"{API}/uploads", headers={**auth, **tus}),
            "readyz": lambda c: c.get("/readyz"),
        }


def ask(url: str, name: str, call: Callable[[httpx.Client], httpx.Response]) -> Answer:
    # The client waits far longer than the contract, so a hang shows as a time, not an error.
    with httpx.Client(base_url=url, timeout=60, verify=TLS) as client:
        started = time.perf_counter()
        try:
            response = call(client)
        except httpx.HTTPError as exc:
            return Answer(name, type(exc).__name__, time.perf_counter() - started, None)
        return Answer(
            name,
            response.status_code,
            time.perf_counter() - started,
            response.headers.get("retry-after"),
        )


def burst(person: Person, copies: int) -> list[Answer]:
    """Every kind of request, `copies` of each, all at once."""
    calls = [(name, call) for name, call in person.requests().items() for _ in range(copies)]
    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(lambda item: ask(person.url, *item), calls))


def check_answers(answers: list[Answer]) -> None:
    slowest = max(answers, key=lambda a: a.seconds)
    print(f"  slowest: {slowest.name} {slowest.seconds:.2f} s; statuses:", end=" ")
    print(sorted({(a.name, a.status) for a in answers}, key=str))
    for answer in answers:
        # Six logins at once on one handle: the login throttle counts each as an attempt
        # until it succeeds, and may ask the sixth to wait a second (429 with Retry-After).
        allowed = ANSWERS | {429} if answer.name == "login" else ANSWERS
        assert answer.status in allowed, answer
        assert answer.seconds < CONTRACT_SECONDS, answer
        if answer.status in (429, 503):
            assert answer.retry_after and int(answer.retry_after) > 0, answer


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.2)


def ready(url: str) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(f"{url}/readyz", timeout=10).status_code == 200
    return False


@contextlib.contextmanager
def server(tmp: Path, database_url: str, s3_port: int) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "WALLET_DATA_DIR": str(tmp / "data"),
        "WALLET_DATABASE_URL": database_url,
        "WALLET_KDF_OPSLIMIT": "1",
        "WALLET_KDF_MEMLIMIT": "8192",
        "WALLET_AUTH_HASH_OPSLIMIT": str(FAST_AUTH_HASH["auth_hash_opslimit"]),
        "WALLET_AUTH_HASH_MEMLIMIT": str(FAST_AUTH_HASH["auth_hash_memlimit"]),
        "WALLET_SERVER_SECRET": "test-secret",
        "WALLET_SWEEP_INTERVAL_SECONDS": "0",
        "WALLET_LOG_LEVEL": "WARNING",
        "WALLET_STORAGE_BACKEND": "s3",
        "WALLET_S3_ENDPOINT": f"127.0.0.1:{s3_port}",
        "WALLET_S3_ACCESS_KEY": "testing",
        "WALLET_S3_SECRET_KEY": "testing",
        "WALLET_S3_BUCKET": "freeze",
        "WALLET_S3_SECURE": "false",
        "WALLET_S3_REGION": "us-east-1",
    }
    log_path = tmp / "server-errors.log"
    with open(log_path, "wb") as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "wallet.cli", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
        try:
            wait_for_port(port, process=process)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
    assert "Traceback" not in log_path.read_text(errors="replace")


def new_person(url: str, tmp: Path) -> Person:
    api = ApiClient(url, timeout=60)
    handle = f"freeze-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    vault, _recovery = Vault.create_account(api, handle, TEST_PASSPHRASE)
    params = api.api("POST", "/auth/prelogin", json={"handle": handle}).json()
    creds = derive_credentials(
        TEST_PASSPHRASE, b64d(params["salt"]), params["opslimit"], params["memlimit"]
    )
    documents = {}
    for n in range(2):
        plaintext = os.urandom(50_000 + n)
        path = tmp / f"doc-{n}.bin"
        path.write_bytes(plaintext)
        document_id, _version = vault.upload(path, "other", f"document {n}")
        documents[document_id] = plaintext
    assert api.token is not None
    return Person(url, handle, b64e(creds.auth_key), api.token, documents)


def everything_works(person: Person, tmp: Path) -> None:
    vault = Vault.login(ApiClient(person.url, timeout=60), person.handle, TEST_PASSPHRASE)
    for document_id, plaintext in person.documents.items():
        out = tmp / f"out-{document_id}.bin"
        vault.download(document_id, out)
        assert hashlib.sha256(out.read_bytes()).digest() == hashlib.sha256(plaintext).digest()
    path = tmp / "after.bin"
    path.write_bytes(b"after the thaw")
    document_id, _version = vault.upload(path, "other", "after")
    assert {d.id for d in vault.list_documents()} == {*person.documents, document_id}


FROZEN = [
    "s3",
    pytest.param(
        "database",
        marks=pytest.mark.skipif(not using_postgres(), reason="PostgreSQL: SQLite is a file"),
    ),
]


@pytest.mark.parametrize("frozen", FROZEN)
def test_a_frozen_dependency_hangs_nothing(tmp_path: Path, frozen: str) -> None:
    moto = start_moto()  # our own: freezing the shared one would stall other tests
    s3 = Forwarder(moto.port)
    forwarders = [s3]
    try:
        with fresh_database(tmp_path, migrated=True) as database:
            url = database.url
            if using_postgres():
                parsed = make_url(url)
                db = Forwarder(parsed.port or 5432)
                forwarders.append(db)
                url = parsed.set(host="127.0.0.1", port=db.port).render_as_string(
                    hide_password=False
                )
            with server(tmp_path, url, s3.port) as base:
                person = new_person(base, tmp_path)
                target = s3 if frozen == "s3" else forwarders[1]
                watch = HealthWatch(base)
                with watch.running():
                    target.freeze()
                    try:
                        for round_ in range(2):  # the first meets the hang, the second its end
                            print(f"\nfrozen {frozen}, burst {round_ + 1}")
                            answers = burst(person, copies=6)
                            check_answers(answers)
                            assert any(a.status == 503 for a in answers)
                    finally:
                        target.thaw()
                    wait_until(lambda: ready(base), "ready again after the thaw")
                    everything_works(person, tmp_path)
                slowest = max(watch.times)
                print(f"  /healthz: {len(watch.times)} answers, slowest {slowest * 1000:.0f} ms")
                assert not watch.failures, watch.failures[:5]
                assert slowest < 1.0
    finally:
        for forwarder in forwarders:
            forwarder.stop()
        moto.stop()
