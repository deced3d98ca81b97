"""Security property 2 under real concurrency: a link with N uses opens exactly N times.

Many redeemers race over real HTTP against a uvicorn server (its own database: SQLite, or
PostgreSQL when WALLET_TEST_DATABASE_URL is set). Each redeemer has its own connection, gets its
own challenge first, then all of them send the redeem at the same moment (a barrier).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from sharing.links.service import LOCKED, USED
from tests.conftest import TEST_PASSPHRASE, LiveServer, run_live_server
from wallet.client import ApiClient, Vault
from wallet.client.journal import fetch_entries
from wallet.client.links import CreatedLink, create_link, parse_link
from wallet.crypto import age
from wallet.crypto import links as linkcrypto
from wallet.crypto.encoding import b64d, b64e
from wallet.protocol.journal_chain import verify_chain

API = "/api/v1"


@dataclass
class Owner:
    server: LiveServer
    vault: Vault
    document_id: str
    version: int
    source: bytes


@pytest.fixture(scope="module")
def owner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Owner]:
    tmp = tmp_path_factory.mktemp("links-race")
    with run_live_server(tmp) as server:
        vault, _recovery = Vault.create_account(
            ApiClient(server.url), f"race-{secrets.token_hex(4)}", TEST_PASSPHRASE
        )
        source = tmp / "lease.pdf"
        source.write_bytes(b"%PDF-1.4\n" + secrets.token_bytes(40_000))
        document_id, version = vault.upload(source, "other", "Lease")
        yield Owner(server, vault, document_id, version, source.read_bytes())


@dataclass
class Attempt:
    status: int
    body: dict[str, Any]
    started: float
    ended: float


def race(server_url: str, url: str, redeemers: int, pin: str | None = None) -> list[Attempt]:
    """`redeemers` clients, each on its own connection with its own challenge, redeem at once."""
    link = parse_link(url)
    barrier = threading.Barrier(redeemers)

    def redeem(_index: int) -> Attempt:
        with httpx.Client(base_url=server_url, timeout=120) as http:
            challenge = http.post(f"{API}/links/{link.link_id}/challenge")
            assert challenge.status_code == 200, challenge.text
            nonce = b64d(challenge.json()["nonce"])
            signer = linkcrypto.proof_key(link.secret, link.link_id)
            body = {
                "challenge_id": challenge.json()["challenge_id"],
                "proof": b64e(
                    signer.sign(linkcrypto.challenge_message(link.link_id, nonce)).signature
                ),
            }
            if pin is not None:
                body["pin_check"] = b64e(linkcrypto.pin_check(link.secret, link.link_id, pin))
            barrier.wait(timeout=60)
            started = time.monotonic()
            response = http.post(f"{API}/links/{link.link_id}/redeem", json=body)
            return Attempt(response.status_code, response.json(), started, time.monotonic())

    with ThreadPoolExecutor(max_workers=redeemers) as pool:
        attempts = list(pool.map(redeem, range(redeemers)))
    # The barrier did its job: the redeems were in flight at the same time.
    in_flight = max(sum(a.started <= b.started < a.ended for a in attempts) for b in attempts)
    assert in_flight >= redeemers // 2, f"only {in_flight} redeems overlapped"
    return attempts


def events(vault: Vault, link_id: str) -> list[dict[str, Any]]:
    entries = fetch_entries(vault)
    assert verify_chain(entries) == len(entries)  # concurrent appends did not fork the chain
    return [e for e in entries if link_id in (e["subject_id"], e["actor_id"])]


def listed(vault: Vault, link_id: str) -> dict[str, Any]:
    [row] = [row for row in vault.api.api("GET", "/links").json() if row["id"] == link_id]
    return row


def stored_row(owner: Owner, link_id: str) -> dict[str, Any]:
    engine = create_engine(owner.server.database.url)
    try:
        with engine.connect() as connection:
            row = connection.execute(
                text(
                    "SELECT server_share, sealed_package, uses_left, failed_pins, locked "
                    "FROM share_link WHERE id = :id"
                ),
                {"id": link_id},
            ).one()
            return dict(row._mapping)
    finally:
        engine.dispose()


def check_winner(owner: Owner, link: CreatedLink, won: Attempt) -> None:
    """A winner really gets the documents: the package opens and the file downloads."""
    parsed = parse_link(link.url)
    key = linkcrypto.link_key(parsed.secret, b64d(won.body["server_share"]), None, link.id)
    package = linkcrypto.open_sealed(key, b64d(won.body["sealed_package"]), link.id)
    [item] = json.loads(package)["items"]
    assert item["document_id"] == owner.document_id
    response = httpx.get(
        f"{owner.server.url}{API}/links/files/{owner.document_id}/versions/{owner.version}",
        headers={"Authorization": f"Bearer {won.body['download_token']}"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    assert hashlib.sha256(response.content).hexdigest() == item["blob_sha256"]
    identity = age.parse_identity(item["identity"])
    assert age.decrypt_bytes(response.content, [identity]) == owner.source


def test_fifty_concurrent_redeems_of_a_one_use_link_open_it_once(owner: Owner) -> None:
    link = create_link(owner.vault, [owner.document_id], uses=1, purpose="race of fifty")

    attempts = race(owner.server.url, link.url, 50)

    statuses = Counter(a.status for a in attempts)
    assert statuses == {200: 1, 410: 49}, statuses
    [won] = [a for a in attempts if a.status == 200]
    assert won.body["uses_left"] == 0
    assert {a.body["detail"] for a in attempts if a.status == 410} == {USED}
    check_winner(owner, link, won)

    link_events = Counter(e["event"] for e in events(owner.vault, link.id))
    assert link_events["link_redeemed"] == 1, link_events
    row = listed(owner.vault, link.id)
    assert (row["state"], row["uses_left"]) == ("used", 0)
    stored = stored_row(owner, link.id)
    assert stored["uses_left"] == 0
    assert stored["server_share"] is None and stored["sealed_package"] is None


def test_thirty_concurrent_redeems_of_a_three_use_link_open_it_three_times(owner: Owner) -> None:
    link = create_link(owner.vault, [owner.document_id], uses=3, purpose="race of thirty")

    attempts = race(owner.server.url, link.url, 30)

    statuses = Counter(a.status for a in attempts)
    assert statuses == {200: 3, 410: 27}, statuses
    winners = [a for a in attempts if a.status == 200]
    assert sorted(w.body["uses_left"] for w in winners) == [0, 1, 2]
    assert len({w.body["download_token"] for w in winners}) == 3
    assert {a.body["detail"] for a in attempts if a.status == 410} == {USED}
    for won in winners:
        check_winner(owner, link, won)

    redeemed = [e for e in events(owner.vault, link.id) if e["event"] == "link_redeemed"]
    assert sorted(json.loads(e["details"])["uses_left"] for e in redeemed) == [0, 1, 2]
    assert listed(owner.vault, link.id)["uses_left"] == 0
    stored = stored_row(owner, link.id)
    assert stored["server_share"] is None and stored["sealed_package"] is None


def test_concurrent_wrong_pins_lock_the_link_once_and_burn_no_use(owner: Owner) -> None:
    link = create_link(owner.vault, [owner.document_id], uses=2, pin="4821")

    attempts = race(owner.server.url, link.url, 20, pin="0000")

    statuses = Counter(a.status for a in attempts)
    assert set(statuses) <= {403, 423}, statuses
    assert statuses[403] <= 4, statuses
    assert all(a.body["detail"] == LOCKED for a in attempts if a.status == 423)
    row = listed(owner.vault, link.id)
    assert (row["state"], row["uses_left"]) == ("locked", 2)
    link_events = Counter(e["event"] for e in events(owner.vault, link.id))
    assert link_events["link_redeemed"] == 0
    assert link_events["link_pin_failed"] == row["failed_pins"] >= 5
    assert link_events["link_locked"] == 1, link_events
    stored = stored_row(owner, link.id)
    # Locked is dead for good: the share goes, so a stolen database cannot try PINs offline.
    assert stored["server_share"] is None and stored["sealed_package"] is None
