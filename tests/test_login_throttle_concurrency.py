"""The login throttle under real concurrency: it is exact.

Many wrong logins race over real HTTP against a uvicorn server (its own database: SQLite, or
PostgreSQL when WALLET_TEST_DATABASE_URL is set). Each attempt reserves its failure before the
hash is checked, so exactly the handle's allowance of them is checked (answered 401, "wrong
passphrase"); every other one is answered 429 ("too many tries") without a check.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlmodel import Session

from tests.conftest import TEST_PASSPHRASE, LiveServer, run_live_server
from wallet.accounts import service
from wallet.accounts.models import LoginThrottle
from wallet.client import ApiClient, Vault
from wallet.client.vault import derive_credentials
from wallet.crypto.encoding import b64d, b64e
from wallet.db import make_engine
from wallet.ratelimit import service as ratelimit

API = "/api/v1"
ATTEMPTS = 100


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with run_live_server(tmp_path_factory.mktemp("throttle-race")) as live:
        yield live


@dataclass
class Attempt:
    status: int
    started: float
    ended: float


def login(http: httpx.Client, handle: str, auth_key: bytes, **headers: str) -> httpx.Response:
    body = {"handle": handle, "auth_key": b64e(auth_key)}
    return http.post(f"{API}/auth/login", json=body, headers=headers)


def auth_key_for(server: LiveServer, handle: str) -> bytes:
    with httpx.Client(base_url=server.url) as http:
        params = http.post(f"{API}/auth/prelogin", json={"handle": handle}).json()
    creds = derive_credentials(
        TEST_PASSPHRASE, b64d(params["salt"]), params["opslimit"], params["memlimit"]
    )
    return creds.auth_key


def burst(server: LiveServer, handle: str, attempts: int) -> list[Attempt]:
    """`attempts` clients, each on its own open connection, send a wrong login at once."""
    barrier = threading.Barrier(attempts)

    def attempt(_index: int) -> Attempt:
        with httpx.Client(base_url=server.url, timeout=120) as http:
            http.get("/healthz")  # the connection is open before the barrier
            barrier.wait(timeout=60)
            started = time.monotonic()
            response = login(http, handle, secrets.token_bytes(32))
            return Attempt(response.status_code, started, time.monotonic())

    with ThreadPoolExecutor(max_workers=attempts) as pool:
        results = list(pool.map(attempt, range(attempts)))
    in_flight = max(sum(a.started <= b.started < a.ended for a in results) for b in results)
    assert in_flight >= attempts // 2, f"only {in_flight} logins overlapped"
    return results


def set_handle_counter(server: LiveServer, handle: str, **values: object) -> None:
    """Writes the handle's throttle row as the server keeps it."""
    key = service._throttle_keys("login", handle, "127.0.0.1")[0][0]
    engine = make_engine(server.database.url)
    try:
        with Session(engine) as db:
            row = db.get(LoginThrottle, key) or LoginThrottle(key=key)
            for name, value in values.items():
                setattr(row, name, value)
            db.add(row)
            db.commit()
    finally:
        engine.dispose()


def test_parallel_wrong_logins_reach_the_hash_exactly_the_allowed_number_of_times(
    server: LiveServer,
) -> None:
    handle = f"race-{secrets.token_hex(4)}"
    Vault.create_account(ApiClient(server.url), handle, TEST_PASSPHRASE)
    good_key = auth_key_for(server, handle)
    # The free tries are spent and the last block is over, so the next failure blocks the handle
    # for 16 s: long enough that a burst on a busy machine all lands inside it.
    set_handle_counter(
        server,
        handle,
        failures=service.HANDLE_FREE_FAILURES + 3,
        blocked_until=datetime.now(UTC) - timedelta(seconds=1),
    )
    results = burst(server, handle, ATTEMPTS)
    statuses = Counter(a.status for a in results)
    # Exactly one attempt reserved the try and reached the hash; the other 99 found it taken.
    assert statuses == {401: 1, 429: ATTEMPTS - 1}, statuses

    with httpx.Client(base_url=server.url) as http:
        # While the block lasts, even the right passphrase is not checked.
        right = login(http, handle, good_key)
        assert right.status_code == 429, right.text
        assert 1 <= int(right.headers["Retry-After"]) <= 16
        set_handle_counter(server, handle, blocked_until=datetime.now(UTC) - timedelta(seconds=1))
        assert login(http, handle, good_key).status_code == 200


def test_ipv4_clients_behind_a_dual_stack_proxy_are_throttled_apart(server: LiveServer) -> None:
    """The trusted proxy (127.0.0.1) reports IPv4 clients as IPv4-mapped IPv6 addresses: one of
    them blocked leaves the others free."""
    blocked = {"X-Forwarded-For": "::ffff:198.51.100.7"}
    neighbour = {"X-Forwarded-For": "::ffff:198.51.100.8"}
    with httpx.Client(base_url=server.url, timeout=60) as http:
        for i in range(service.ADDRESS_FREE_FAILURES):
            # One failure per handle: only the address counter can trip.
            wrong = login(http, f"probe-{i}", secrets.token_bytes(32), **blocked)
            assert wrong.status_code == 401, wrong.text
        assert login(http, "probe-next", secrets.token_bytes(32), **blocked).status_code == 429
        assert login(http, "probe-next", secrets.token_bytes(32), **neighbour).status_code == 401


def test_an_ipv4_mapped_address_is_throttled_as_its_ipv4_address() -> None:
    key = ratelimit.network_key
    assert key("::ffff:198.51.100.7") == "198.51.100.7" == key("198.51.100.7")
    assert key("::ffff:198.51.100.7") != key("::ffff:198.51.100.8")
    # A plain IPv6 address still shares its /64.
    assert key("2001:db8::1") == key("2001:db8::2") == "2001:db8::/64"
    login_keys = service._throttle_keys("login", "someone", "::ffff:198.51.100.7")
    assert login_keys[1][0] == "login:a:198.51.100.7"


@pytest.fixture(scope="module")
def roomy_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Room for many logins at once in one process, so more reservations than a handle's free
    failures can be in flight together."""
    env = {"WALLET_REQUESTS_IN_FLIGHT": "40", "WALLET_LOGINS_IN_FLIGHT": "40"}
    with run_live_server(tmp_path_factory.mktemp("throttle-inflight"), env) as live:
        yield live


def right_burst(server: LiveServer, handle: str, auth_key: bytes, attempts: int) -> list[Attempt]:
    """`attempts` clients send the right passphrase at once (several devices, one person)."""
    barrier = threading.Barrier(attempts)

    def attempt(_index: int) -> Attempt:
        with httpx.Client(base_url=server.url, timeout=120) as http:
            http.get("/healthz")
            barrier.wait(timeout=60)
            started = time.monotonic()
            response = login(http, handle, auth_key)
            return Attempt(response.status_code, started, time.monotonic())

    with ThreadPoolExecutor(max_workers=attempts) as pool:
        return list(pool.map(attempt, range(attempts)))


def test_right_logins_at_once_are_not_refused_for_the_others_in_flight(
    roomy_server: LiveServer,
) -> None:
    """Each login reserves a failure before its check; a sixth one finding five reserved waits
    for them instead of answering 429, and the first success clears the count."""
    handle = f"many-{secrets.token_hex(4)}"
    Vault.create_account(ApiClient(roomy_server.url), handle, TEST_PASSPHRASE)
    good_key = auth_key_for(roomy_server, handle)
    attempts = 4 * service.HANDLE_FREE_FAILURES
    results = right_burst(roomy_server, handle, good_key, attempts)
    statuses = Counter(a.status for a in results)
    assert statuses == {200: attempts}, statuses


def test_wrong_logins_at_once_still_reach_the_hash_only_the_allowed_number_of_times(
    roomy_server: LiveServer,
) -> None:
    """With room for all of them in the process, the attempts refused while one is in flight
    wait for it; it fails, the block stands, and none of them gets a check of its own."""
    handle = f"wrong-{secrets.token_hex(4)}"
    Vault.create_account(ApiClient(roomy_server.url), handle, TEST_PASSPHRASE)
    # One try left, and the failure that spends it blocks the handle for 16 s (see above).
    set_handle_counter(
        roomy_server,
        handle,
        failures=service.HANDLE_FREE_FAILURES + 3,
        blocked_until=datetime.now(UTC) - timedelta(seconds=1),
    )
    results = burst(roomy_server, handle, ATTEMPTS)
    statuses = Counter(a.status for a in results)
    assert statuses == {401: 1, 429: ATTEMPTS - 1}, statuses


@pytest.mark.parametrize(("outcome", "status"), [("success", 200), ("failure", 429)])
def test_a_login_refused_while_one_is_in_flight_gets_that_ones_outcome(
    roomy_server: LiveServer, outcome: str, status: int
) -> None:
    """The handle's free failures are all reserved, one still in flight (on another instance,
    say). A right login waits for it: if it was right, the count is cleared and this one gets
    in; if it failed, the block stands."""
    handle = f"wait-{secrets.token_hex(4)}"
    Vault.create_account(ApiClient(roomy_server.url), handle, TEST_PASSPHRASE)
    good_key = auth_key_for(roomy_server, handle)
    now = datetime.now(UTC)
    set_handle_counter(
        roomy_server,
        handle,
        failures=service.HANDLE_FREE_FAILURES,
        blocked_until=now + timedelta(seconds=60),
        last_failure_at=now,
        in_flight=1,
        reserved_at=now,
    )
    with (
        ThreadPoolExecutor(max_workers=1) as pool,
        httpx.Client(base_url=roomy_server.url, timeout=60) as http,
    ):
        waiting = pool.submit(login, http, handle, good_key)
        # Resolved only once the login is refused and waits (the server's /metrics says so).
        while not waiting.done() and logins_waiting(http) < 1:
            time.sleep(0.01)
        if outcome == "success":  # what a success does: the handle's count is cleared
            clear_handle_counter(roomy_server, handle)
        else:  # what a failure does: no longer in flight, the block stays
            set_handle_counter(roomy_server, handle, in_flight=0)
        assert waiting.result().status_code == status, waiting.result().text


def logins_waiting(http: httpx.Client) -> float:
    for line in http.get("/metrics").text.splitlines():
        if line.startswith("wallet_logins_waiting "):
            return float(line.split()[1])
    raise AssertionError("no wallet_logins_waiting gauge in /metrics")


def clear_handle_counter(server: LiveServer, handle: str) -> None:
    key = service._throttle_keys("login", handle, "127.0.0.1")[0][0]
    engine = make_engine(server.database.url)
    try:
        with Session(engine) as db:
            row = db.get(LoginThrottle, key)
            if row is not None:
                db.delete(row)
                db.commit()
    finally:
        engine.dispose()
