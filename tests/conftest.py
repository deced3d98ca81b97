"""Shared fixtures. Real components only: SQLite or PostgreSQL, the filesystem or a moto S3
server on 127.0.0.1, uvicorn for tests over real HTTP.

WALLET_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test runs the suite on
PostgreSQL: each app gets a fresh database created next to that one.

The migrations run once per session, into a template database; each app gets a copy of it
(fresh_database(..., migrated=True)). The `wallet` command runs in-process (run_cli) unless a
test is marked `cli_process` or asks for `process=True`.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from wallet.client import ApiClient, Vault
from wallet.client.vaulthead import HEADER, header_value, sign_next, state_after
from wallet.db import migrate
from wallet.protocol.vault_state import VaultState
from wallet.server.app import create_app
from wallet.settings import Settings

PG_URL = os.environ.get("WALLET_TEST_DATABASE_URL", "")
TEST_PASSPHRASE = "correct horse battery staple"
FAST_KDF = {"kdf_opslimit": 1, "kdf_memlimit": 8192}
# The server's own hash of each auth key, at libsodium's lowest cost (tests/test_accounts.py
# checks the default).
FAST_AUTH_HASH = {"auth_hash_opslimit": 1, "auth_hash_memlimit": 8192}
# The client refuses a cost this low from a server; the tests lower its floor on purpose (and
# subprocesses inherit it). tests/test_accounts.py checks the real floor.
os.environ["WALLET_CLIENT_KDF_FLOOR"] = "1,8192"
# Tests make many accounts and links from 127.0.0.1: the rate limits are off unless a test
# (tests/test_rate_limits.py) turns one on.
NO_RATE_LIMITS = {
    "new_accounts_per_hour": 0,
    "link_challenges_per_hour": 0,
    "link_challenges_per_link_per_hour": 0,
    "oidc_starts_per_hour": 0,
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(
    port: int, timeout: float = 120.0, process: subprocess.Popen | None = None
) -> None:
    """Returns as soon as something listens; the long ceiling only matters on a busy machine.
    With `process`: fails at once if that process ends instead."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server on port {port} exited with {process.returncode}")
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


def using_postgres() -> bool:
    return PG_URL.startswith("postgresql")


@dataclass
class Database:
    url: str
    path: Path | None  # the SQLite file, when SQLite


class MigratedTemplate:
    """One database migrated once per test session, for fresh_database to copy.

    SQLite: a file, checkpointed and switched out of WAL mode, so the file alone is the whole
    database. PostgreSQL: a database named per session (two runs on one server never share
    one), copied by CREATE DATABASE ... TEMPLATE; nothing stays connected to it. A copy takes
    about half a second, mostly waiting for the disk, so one thread makes them all (never two
    at once from the template) and keeps the next one ready while a test runs.
    """

    def __init__(self) -> None:
        self.folder: Path | None = None
        self.pg_name: str | None = None
        self._copier: ThreadPoolExecutor | None = None
        self._next_copies: deque[Future[str]] = deque()

    def sqlite_file(self) -> Path:
        if self.folder is None:
            folder = Path(tempfile.mkdtemp(prefix="wallet-template-"))
            path = folder / "wallet.db"
            migrate(f"sqlite:///{path}")
            with contextlib.closing(sqlite3.connect(path)) as connection:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                connection.execute("PRAGMA journal_mode=DELETE")
            leftovers = [p.name for p in folder.iterdir() if p != path]
            assert not leftovers, f"the template is more than one file: {leftovers}"
            self.folder = folder
        return self.folder / "wallet.db"

    def postgres_name(self, admin: Engine) -> str:
        if self.pg_name is None:
            name = f"wallet_template_{os.getpid()}_{secrets.token_hex(4)}"
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                migrate(make_url(PG_URL).set(database=name).render_as_string(hide_password=False))
            except BaseException:
                with admin.connect() as connection:  # no half-migrated template is left behind
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
                raise
            self.pg_name = name  # migrate() disposed its engine: no connection is left open
        return self.pg_name

    def postgres_copy(self) -> str:
        """The name of a new database copied from the template."""
        if self._copier is None:
            self._copier = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wallet-db-copy")
        if not self._next_copies:
            self._next_copies.append(self._copier.submit(self._make_postgres_copy))
        name = self._next_copies.popleft().result()
        self._next_copies.append(self._copier.submit(self._make_postgres_copy))
        return name

    def _make_postgres_copy(self) -> str:
        name = f"wallet_test_{secrets.token_hex(6)}"
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        try:
            template = self.postgres_name(admin)
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        finally:
            admin.dispose()
        return name

    def drop(self) -> None:
        if self._copier is not None:
            self._copier.shutdown(wait=True, cancel_futures=True)
            for future in self._next_copies:
                if not future.cancelled() and future.exception() is None:
                    _drop_postgres_database(future.result())
            self._next_copies.clear()
            self._copier = None
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None
        if self.pg_name is not None:
            _drop_postgres_database(self.pg_name)
            self.pg_name = None


TEMPLATE = MigratedTemplate()


@pytest.fixture(scope="session", autouse=True)
def _drop_migrated_template() -> Iterator[None]:
    yield
    TEMPLATE.drop()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "cli_process: run_cli starts a real `python -m wallet.cli` process"
    )


def _drop_postgres_database(name: str) -> None:
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    finally:
        admin.dispose()


@contextlib.contextmanager
def fresh_database(tmp: Path, *, migrated: bool = False) -> Iterator[Database]:
    """A database of its own: empty, or `migrated` (a copy of the session's template)."""
    if not using_postgres():
        path = tmp / "wallet.db"
        if migrated:
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(TEMPLATE.sqlite_file(), path)
        yield Database(f"sqlite:///{path}", path)
        return
    if migrated:
        name = TEMPLATE.postgres_copy()
    else:
        name = f"wallet_test_{secrets.token_hex(6)}"
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    try:
        yield Database(
            make_url(PG_URL).set(database=name).render_as_string(hide_password=False), None
        )
    finally:
        _drop_postgres_database(name)


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
    wait_for_port(port, process=process)
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
        database = stack.enter_context(fresh_database(tmp, migrated=True))
        values: dict[str, object] = {
            "data_dir": tmp / "data",
            "database_url": database.url,
            "sweep_interval_seconds": 0,
            "server_secret": "test-secret",
            **FAST_KDF,
            **FAST_AUTH_HASH,
            **NO_RATE_LIMITS,
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


def store_env(request: pytest.FixtureRequest, store: str, bucket_prefix: str) -> dict[str, str]:
    """Environment for a live server on `store` ("filesystem" or "s3", a fresh moto bucket)."""
    if store != "s3":
        return {}
    s3: S3Server = request.getfixturevalue("s3_server")
    settings = s3.settings(f"{bucket_prefix}-{secrets.token_hex(4)}")
    return {f"WALLET_{key.upper()}": str(value) for key, value in settings.items()}


@dataclass
class LiveServer:
    url: str
    settings_env: dict[str, str]
    process: subprocess.Popen
    database: Database
    data_dir: Path
    log_path: Path  # what the server wrote to stderr


@contextlib.contextmanager
def run_live_server(tmp: Path, extra_env: dict[str, str] | None = None) -> Iterator[LiveServer]:
    with fresh_database(tmp, migrated=True) as database:
        port = free_port()
        env = {
            **os.environ,
            "WALLET_DATA_DIR": str(tmp / "data"),
            "WALLET_DATABASE_URL": database.url,
            "WALLET_KDF_OPSLIMIT": "1",
            "WALLET_KDF_MEMLIMIT": "8192",
            "WALLET_AUTH_HASH_OPSLIMIT": str(FAST_AUTH_HASH["auth_hash_opslimit"]),
            "WALLET_AUTH_HASH_MEMLIMIT": str(FAST_AUTH_HASH["auth_hash_memlimit"]),
            "WALLET_SERVER_SECRET": "test-secret",
            "WALLET_SWEEP_INTERVAL_SECONDS": "0",
            "WALLET_LOG_LEVEL": "WARNING",
            **{f"WALLET_{name.upper()}": "0" for name in NO_RATE_LIMITS},
            **(extra_env or {}),
        }
        # A file, not a pipe: nobody reads the server's errors while it runs, and a full pipe
        # would stop it.
        log_path = tmp / "server-errors.log"
        errors = log_path.open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "wallet.cli", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
        try:
            wait_for_port(port, process=process)
            yield LiveServer(
                f"http://127.0.0.1:{port}", env, process, database, tmp / "data", log_path
            )
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
            errors.close()


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


class _CliMode:
    """Whether the running test is marked `cli_process` (set around each test's setup, call
    and teardown, so module fixtures that run the CLI follow the test that starts them)."""

    process = False


_cli_mode = _CliMode()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> object:
    _cli_mode.process = item.get_closest_marker("cli_process") is not None
    try:
        return (yield)
    finally:
        _cli_mode.process = False


def run_cli(
    env: dict[str, str],
    *args: str,
    check: bool = True,
    cwd: Path | None = None,
    process: bool | None = None,
) -> subprocess.CompletedProcess[str]:
    """Runs `wallet ARGS` with exactly `env` as its environment: in-process by default, as a
    real `python -m wallet.cli` process with process=True or in a test marked `cli_process`."""
    if process if process is not None else _cli_mode.process:
        result = run_cli_process(env, *args, cwd=cwd)
    else:
        result = _run_cli_in_process(env, list(args), cwd)
    if check and result.returncode != 0:
        raise AssertionError(f"wallet {' '.join(args)} failed: {result.stdout}\n{result.stderr}")
    return result


def run_cli_process(
    env: dict[str, str], *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wallet.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


@contextlib.contextmanager
def _exactly_this_environment(env: dict[str, str]) -> Iterator[None]:
    """os.environ becomes `env` (a process started with env= sees nothing else), then back.
    Only the keys that differ change, never the whole mapping at once: another thread (the
    PostgreSQL template copier) may read the environment meanwhile."""
    saved = dict(os.environ)
    extra = [key for key in saved if key not in env]
    with mock.patch.dict(os.environ, env):
        for key in extra:
            del os.environ[key]
        yield


def _run_cli_in_process(
    env: dict[str, str], args: list[str], cwd: Path | None
) -> subprocess.CompletedProcess[str]:
    from typer.testing import CliRunner

    from wallet.cli import app

    # The CLI's root callback resets its own state (wallet/cli/common.py), so one process
    # can run many commands.
    prog = [sys.executable, "-m", "wallet.cli"]
    with (
        _exactly_this_environment(env),
        contextlib.chdir(cwd) if cwd is not None else contextlib.nullcontext(),
    ):
        result = CliRunner().invoke(app, args, prog_name="python -m wallet.cli", color=False)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        # A process would print a traceback and exit with 1; here the test fails loudly.
        assert result.exc_info is not None
        raise result.exception.with_traceback(result.exc_info[2])
    return subprocess.CompletedProcess(
        [*prog, *args], result.exit_code, result.stdout, result.stderr
    )


def http_client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, timeout=30)


def copy_tree(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst)


def next_head(vault: Vault, apply: Callable[[VaultState], object]) -> dict[str, str]:
    """The Wallet-Head header the owner's client would send with a change (`apply` makes the
    change to the state), for a test that sends the change itself."""
    head, documents = vault.checked_documents()
    state = state_after(head, documents)
    apply(state)
    signed, _message = sign_next(
        vault.keys.signing_key, vault.account["handle"], vault.keys.key_id, head.seq + 1, state
    )
    return {HEADER: header_value(signed)}
