"""Shared helpers for the benchmarks: a live `wallet serve` on 127.0.0.1, temp dirs, RSS.

Every helper cleans up after itself: servers are stopped by their own pid, temp dirs removed.
Nothing here asserts on time; the benchmarks only print figures.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from wallet.client.vaulthead import sign_next
from wallet.crypto.encoding import b64d, b64e
from wallet.crypto.signing import sign
from wallet.protocol.vault_state import VaultState

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

VENV_BIN = Path(sys.executable).parent
WALLET_BIN = VENV_BIN / "wallet"
if not WALLET_BIN.exists():
    WALLET_BIN = ROOT / ".venv" / "bin" / "wallet"

MB = 1_000_000  # all MB figures are decimal megabytes (10^6 bytes)
MiB = 1024 * 1024
PASSPHRASE = "correct horse battery staple benchmark"
FAST_KDF = {"WALLET_KDF_OPSLIMIT": "1", "WALLET_KDF_MEMLIMIT": "8192"}
# The client refuses such a low cost unless its floor is lowered (benchmarks only).
os.environ.setdefault("WALLET_CLIENT_KDF_FLOOR", "1,8192")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def temp_dir(prefix: str = "wallet-bench-") -> Iterator[Path]:
    """A temp dir under the system temp dir (same disk as the server's data dir)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def write_random_file(path: Path, size: int, block: int = 8 * MiB) -> None:
    with open(path, "wb") as handle:
        remaining = size
        while remaining > 0:
            n = min(block, remaining)
            handle.write(os.urandom(n))
            remaining -= n
        handle.flush()
        os.fsync(handle.fileno())


# --- process memory ------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found: list[int] = []
    task_dir = Path(f"/proc/{pid}/task")
    try:
        tasks = list(task_dir.iterdir())
    except OSError:
        return found
    for task in tasks:
        with contextlib.suppress(OSError, ValueError):
            found += [int(x) for x in (task / "children").read_text().split()]
    return found


def process_tree(pid: int) -> list[int]:
    """pid and all its descendants."""
    result, todo = [], [pid]
    while todo:
        current = todo.pop()
        result.append(current)
        todo += _children(current)
    return result


def rss_bytes(pid: int) -> int:
    """VmRSS of one process, in bytes (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def tree_rss_bytes(pid: int) -> int:
    """Sum of VmRSS over pid and all its descendants."""
    return sum(rss_bytes(p) for p in process_tree(pid))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far, in seconds (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of pid and all its live descendants."""
    return sum(cpu_seconds(p) for p in process_tree(pid))


class RssSampler:
    """Samples the RSS of a process tree every `interval` seconds in a background thread."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        self.pid = pid
        self.interval = interval
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(tree_rss_bytes(self.pid))
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append(tree_rss_bytes(self.pid))

    @property
    def peak(self) -> int:
        return max(self.samples) if self.samples else 0


# --- live server ---------------------------------------------------------------------------


class LiveServer:
    """`wallet serve` on a free 127.0.0.1 port with its own data dir."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.extra_env = env or {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.data_dir.parent / f"server-{self.port}.log"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 120.0) -> None:  # start-up takes 30 s on a loaded machine
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("WALLET_") or k in ("WALLET_HOME",)
        }
        env.update(
            {
                "WALLET_DATA_DIR": str(self.data_dir),
                "WALLET_LOG_LEVEL": "WARNING",
                "WALLET_SWEEP_INTERVAL_SECONDS": "0",
                "WALLET_PUBLIC_URL": self.url,
                # Benchmarks make hundreds of accounts and link opens from 127.0.0.1.
                "WALLET_NEW_ACCOUNTS_PER_HOUR": "0",
                "WALLET_LINK_CHALLENGES_PER_HOUR": "0",
                "WALLET_LINK_CHALLENGES_PER_LINK_PER_HOUR": "0",
                "WALLET_OIDC_STARTS_PER_HOUR": "0",
                **self.extra_env,
            }
        )
        log = open(self.log_path, "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [str(WALLET_BIN), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"wallet serve exited early:\n{self.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"wallet serve did not answer /healthz:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        family = [p for p in process_tree(self.proc.pid) if p != self.proc.pid]
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        # Anything it had started and left behind (uvicorn with --workers N), by pid only.
        for child in family:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(child, signal.SIGKILL)

    def metrics_text(self) -> str:
        return httpx.get(f"{self.url}/metrics", timeout=10).text

    def __enter__(self) -> LiveServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def live_server(
    env: dict[str, str] | None = None, prefix: str = "wallet-bench-"
) -> Iterator[tuple[LiveServer, Path]]:
    """Yields (server, work dir). The server's data dir is work/data; all removed at the end."""
    with temp_dir(prefix) as work, LiveServer(work / "data", env) as server:
        yield server, work


def histogram_sum_count(metrics: str, name: str, method: str, route: str) -> tuple[float, float]:
    """(sum, count) of one Prometheus histogram series from /metrics text.

    `route` is matched on its end: the server labels routes without the /api/v1 prefix.
    """
    total = count = 0.0
    for line in metrics.splitlines():
        if line.startswith("#"):
            continue
        for suffix in ("_sum", "_count"):
            prefix = f"{name}{suffix}{{"
            if line.startswith(prefix):
                inner = line[len(prefix) : line.rindex("}")]
                labels = dict(part.split("=", 1) for part in inner.split(",") if "=" in part)
                label_route = labels.get("route", "").strip('"')
                if labels.get("method", "").strip('"') == method and (
                    label_route == route or (bool(label_route) and route.endswith(label_route))
                ):
                    value = float(line.rsplit(" ", 1)[1])
                    if suffix == "_sum":
                        total = value
                    else:
                        count = value
    return total, count


# --- PostgreSQL ----------------------------------------------------------------------------

PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def postgres_available() -> bool:
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


@contextlib.contextmanager
def postgres_database(prefix: str = "wallet_bench") -> Iterator[str]:
    """A new, empty database on the local PostgreSQL; yields its WALLET_DATABASE_URL, drops it."""
    import psycopg

    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_SERVER_URL.format(name=name)
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- client request log --------------------------------------------------------------------


@dataclass
class RecordedCall:
    method: str
    path: str
    seconds: float
    sent: int  # request body bytes (Content-Length)
    received: int  # response body bytes
    status: int


class RequestLog:
    """Records every call an ApiClient makes while active: wall time (request sent to body read,
    no JSON parsing) and body sizes; paths without the /api/v1 prefix. A context manager."""

    def __init__(self, api: Any) -> None:
        self.api = api
        self.calls: list[RecordedCall] = []

    def __enter__(self) -> RequestLog:
        original = type(self.api).request

        def recorded(method: str, path: str, **kwargs: Any) -> httpx.Response:
            started = time.perf_counter()
            response: httpx.Response | None = None
            status = 0
            try:
                response = original(self.api, method, path, **kwargs)
                status = response.status_code
                return response
            except Exception as exc:
                status = getattr(exc, "status", 0)
                raise
            finally:
                elapsed = time.perf_counter() - started
                sent = received = 0
                if response is not None:
                    sent = int(response.request.headers.get("content-length", 0))
                    with contextlib.suppress(httpx.ResponseNotRead):
                        received = len(response.content)
                self.calls.append(
                    RecordedCall(
                        method, path.removeprefix("/api/v1"), elapsed, sent, received, status
                    )
                )

        self.api.request = recorded  # shadows the method on this instance only
        return self

    def __exit__(self, *exc: object) -> None:
        self.api.__dict__.pop("request", None)

    def select(self, method: str | None = None, prefix: str = "") -> list[RecordedCall]:
        return [
            c
            for c in self.calls
            if (method is None or c.method == method) and c.path.startswith(prefix)
        ]

    def seconds(self, method: str | None = None, prefix: str = "") -> float:
        return sum(c.seconds for c in self.select(method, prefix))


def code_version() -> str:
    """The measured code: git HEAD and how many tracked files differ from it (uncommitted)."""
    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "diff", "--name-only", "HEAD", "--", ".", ":!benchmarks"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return "unknown (no git)"
    return f"{head}" + (f" + uncommitted changes in {', '.join(dirty)}" if dirty else "")


# --- output --------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def timed(func, *args, **kwargs):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = func(*args, **kwargs)
    return time.perf_counter() - started, result


def clone_documents(db_path: Path, vault: Any, document_id: str, copies: int) -> float:
    """Inserts `copies` valid clones of one document (own wrap, own signed manifest)."""
    identity = vault.versions(document_id)[0].identity
    started = time.perf_counter()
    connection = sqlite3.connect(db_path, timeout=30)
    connection.row_factory = sqlite3.Row
    try:
        document = dict(
            connection.execute("SELECT * FROM document WHERE id = ?", (document_id,)).fetchone()
        )
        version = dict(
            connection.execute(
                "SELECT * FROM document_version WHERE document_id = ?", (document_id,)
            ).fetchone()
        )
        wrap = dict(
            connection.execute(
                "SELECT * FROM key_wrap WHERE version_id = ? AND grant_id IS NULL",
                (version["id"],),
            ).fetchone()
        )
        manifest = json.loads(version["manifest"])
        documents, versions, wraps = [], [], []
        for _ in range(copies):
            new_document = uuid.uuid4().hex
            new_version = uuid.uuid4().hex
            wrapped = vault._seal_document_key(identity, new_document, version["version"])
            new_manifest, signature = sign(
                vault.keys.signing_key,
                {
                    **manifest,
                    "document_id": new_document,
                    "wraps": [
                        {"key_id": vault.keys.key_id, "sha256": hashlib.sha256(wrapped).hexdigest()}
                    ],
                },
            )
            # The document row carries a copy of the current wrap (the listing reads only it).
            documents.append(
                {
                    **document,
                    "id": new_document,
                    "current_wrap_b64": b64e(wrapped),
                    "current_manifest_b64": b64e(new_manifest),
                    "current_signature_b64": b64e(signature),
                }
            )
            versions.append(
                {
                    **version,
                    "id": new_version,
                    "document_id": new_document,
                    "blob_key": f"fake-{uuid.uuid4().hex}",
                    "manifest": new_manifest,
                    "signature": signature,
                }
            )
            wraps.append(
                {**wrap, "id": uuid.uuid4().hex, "version_id": new_version, "wrapped_key": wrapped}
            )
        with connection:
            for table_name, rows in (
                ("document", documents),
                ("document_version", versions),
                ("key_wrap", wraps),
            ):
                columns = list(rows[0])
                connection.executemany(
                    f"INSERT INTO {table_name} ({', '.join(columns)}) "
                    f"VALUES ({', '.join(':' + c for c in columns)})",
                    rows,
                )
    finally:
        connection.close()
    # Rows made behind the client's back: the owner signs a head over them, or its own client
    # would rightly refuse them as a state it never signed.
    resign_head(vault)
    return time.perf_counter() - started


def resign_head(vault: Any) -> int:
    """Signs a head over the state the server holds (after the SQL clones), as _first_head
    does for the first one; returns its seq."""
    seq = vault.own_head().seq + 1

    def revoked(path: str) -> set[str]:
        return {row["id"] for row in vault.api.api("GET", path).json() if row["revoked_at"]}

    state = VaultState(
        documents={row["id"]: row["current_version"] for row in vault._listing_rows()},
        profile={
            row["slot"]: hashlib.sha256(b64d(row["ciphertext"])).hexdigest()
            for row in vault.api.api("GET", "/profile").json()
        },
        revoked_grants=revoked("/grants"),
        revoked_mandates=revoked("/mandates"),
        revoked_links=revoked("/links"),
    )
    handle = vault.account["handle"]
    signed, message = sign_next(vault.keys.signing_key, handle, vault.keys.key_id, seq, state)
    vault.api.api("PUT", "/vault/head", json=signed)
    vault.head_pins.pin(vault.api.server, handle, seq, message)
    return seq
