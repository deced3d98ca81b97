"""Shared fixtures. Real components only: SQLite or PostgreSQL, the filesystem or a moto S3
server on 127.0.0.1, uvicorn for tests over real HTTP.

WALLET_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test runs the suite on
PostgreSQL: each app gets a fresh database created next to that one.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from wallet.client import ApiClient, Vault
from wallet.server.app import create_app
from wallet.settings import Settings

PG_URL = os.environ.get("WALLET_TEST_DATABASE_URL", "")
TEST_PASSPHRASE = "correct horse battery staple"
FAST_KDF = {"kdf_opslimit": 1, "kdf_memlimit": 8192}
# The client refuses a cost this low from a server; the tests lower its floor on purpose (and
# subprocesses inherit it). tests/test_accounts.py checks the real floor.
os.environ["WALLET_CLIENT_KDF_FLOOR"] = "1,8192"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


def using_postgres() -> bool:
    return PG_URL.startswith("postgresql")


@dataclass
class Database:
    url: str
    path: Path | None  # the SQLite file, when SQLite


@contextlib.contextmanager
def fresh_database(tmp: Path) -> Iterator[Database]:
    if not using_postgres():
        yield Database(f"sqlite:///{tmp / 'wallet.db'}", tmp / "wallet.db")
        return
    name = f"wallet_test_{secrets.token_hex(6)}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield Database(
            make_url(PG_URL).set(database=name).render_as_string(hide_password=False), None
        )
    finally:
        with admin.connect() as connection:
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@dataclass
class S3Server:
    endpoint: str
    port: int
    process: subprocess.Popen

    def settings(self, bucket: str) -> dict[str, object]:
        return {
            "storage_backend": "s3",
            "s3_endpoint": self.endpoint,
            "s3_access_key": "testing",
            "s3_secret_key": "testing",
            "s3_bucket": bucket,
            "s3_secure": False,
            "s3_region": "us-east-1",
        }

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def start_moto(port: int | None = None) -> S3Server:
    port = port or free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"},
    )
    wait_for_port(port)
    return S3Server(f"127.0.0.1:{port}", port, process)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    server = start_moto()
    yield server
    server.stop()


@dataclass
class WalletApp:
    """One isolated service: its own database, data folder and (optionally) S3 bucket."""

    settings: Settings
    client: TestClient
    database: Database

    def api(self, token: str | None = None) -> ApiClient:
        return ApiClient("http://testserver", token=token, http=self.client)

    def new_vault(self, handle: str | None = None, passphrase: str = TEST_PASSPHRASE) -> Vault:
        handle = handle or f"owner-{secrets.token_hex(4)}"
        vault, _recovery = Vault.create_account(self.api(), handle, passphrase)
        return vault

    def new_vault_with_recovery(self, passphrase: str = TEST_PASSPHRASE) -> tuple[Vault, str]:
        return Vault.create_account(self.api(), f"owner-{secrets.token_hex(4)}", passphrase)


AppFactory = Callable[..., WalletApp]


@pytest.fixture
def make_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppFactory]:
    stack = contextlib.ExitStack()

    def factory(**overrides: object) -> WalletApp:
        tmp = tmp_path_factory.mktemp("wallet")
        database = stack.enter_context(fresh_database(tmp))
        values: dict[str, object] = {
            "data_dir": tmp / "data",
            "database_url": database.url,
            "sweep_interval_seconds": 0,
            "server_secret": "test-secret",
            **FAST_KDF,
            **overrides,
        }
        settings = Settings(**values)  # type: ignore[arg-type]
        client = stack.enter_context(TestClient(create_app(settings)))
        return WalletApp(settings, client, database)

    with stack:
        yield factory


@pytest.fixture
def wallet_app(make_app: AppFactory) -> WalletApp:
    return make_app()


@pytest.fixture
def s3_app(make_app: AppFactory, s3_server: S3Server) -> WalletApp:
    return make_app(**s3_server.settings(f"bucket-{secrets.token_hex(4)}"))


@pytest.fixture(params=["filesystem", "s3"])
def any_store_app(request: pytest.FixtureRequest, make_app: AppFactory) -> WalletApp:
    if request.param == "s3":
        server: S3Server = request.getfixturevalue("s3_server")
        return make_app(**server.settings(f"bucket-{secrets.token_hex(4)}"))
    return make_app()


@dataclass
class LiveServer:
    url: str
    settings_env: dict[str, str]
    process: subprocess.Popen
    database: Database
    data_dir: Path


@contextlib.contextmanager
def run_live_server(tmp: Path, extra_env: dict[str, str] | None = None) -> Iterator[LiveServer]:
    with fresh_database(tmp) as database:
        port = free_port()
        env = {
            **os.environ,
            "WALLET_DATA_DIR": str(tmp / "data"),
            "WALLET_DATABASE_URL": database.url,
            "WALLET_KDF_OPSLIMIT": "1",
            "WALLET_KDF_MEMLIMIT": "8192",
            "WALLET_SERVER_SECRET": "test-secret",
            "WALLET_SWEEP_INTERVAL_SECONDS": "0",
            "WALLET_LOG_LEVEL": "WARNING",
            **(extra_env or {}),
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "wallet.cli", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            wait_for_port(port, 30)
            yield LiveServer(f"http://127.0.0.1:{port}", env, process, database, tmp / "data")
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with run_live_server(tmp_path_factory.mktemp("live")) as server:
        yield server


@pytest.fixture
def cli_env(live_server: LiveServer, tmp_path: Path) -> dict[str, str]:
    """Environment for running the `wallet` command as a user would, against the live server."""
    return {
        **os.environ,
        "WALLET_SERVER": live_server.url,
        "WALLET_HOME": str(tmp_path / "home"),
        "WALLET_PASSPHRASE": TEST_PASSPHRASE,
    }


def run_cli(
    env: dict[str, str], *args: str, check: bool = True, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "wallet.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"wallet {' '.join(args)} failed: {result.stdout}\n{result.stderr}")
    return result


def http_client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, timeout=30)


def copy_tree(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst)
