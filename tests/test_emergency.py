"""Emergency access (issue 14, part 1), on SQLite and PostgreSQL.

The clock: the service takes `now`, so the release is checked to the second without sleeping;
through HTTP, the time that passed is the request's time moved back in the database (as if the
days had gone by), never a sleep.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from sharing.emergency import service
from sharing.emergency.models import EmergencyAccess
from tests.conftest import TEST_PASSPHRASE, LiveServer, WalletApp, run_cli
from tests.test_grants import database
from tests.test_zero_knowledge import blob_contents, database_contents, encoded_forms, hits
from wallet.accounts.models import Account
from wallet.client import Vault
from wallet.client import emergency as emergencylib
from wallet.client.api import ApiError
from wallet.client.contacts import PinStore
from wallet.client.journal import fetch_entries
from wallet.client.safety import end_every_access, ways_in
from wallet.client.vault import VaultError
from wallet.client.vaulthead import StateRefused
from wallet.db import utcnow
from wallet.errors import Conflict

NEW_PASSPHRASE = "the trusted person chose this"


def paper(vault: Vault, tmp: Path, text: str) -> str:
    source = tmp / f"paper-{secrets.token_hex(3)}.pdf"
    source.write_bytes(b"%PDF-1.4\n" + text.encode() * 50)
    document_id, _ = vault.upload(source, "payslip", f"Payslip {text}")
    return document_id


def arrangement(app: WalletApp, access: str, wait_days: int = 3) -> tuple[Vault, Vault, str]:
    owner, trusted = app.new_vault(), app.new_vault()
    added = emergencylib.add(
        owner, trusted.account["handle"], access=access, wait_days=wait_days, pins=PinStore(None)
    )
    return owner, trusted, added.id


@pytest.fixture
def db(wallet_app: WalletApp) -> Iterator[Session]:
    with database(wallet_app.database.url) as session:
        yield session


def pass_days(db: Session, arrangement_id: str, days: int, seconds: int = 0) -> None:
    """As if `days` days (and seconds) went by since the request."""
    row = db.get(EmergencyAccess, arrangement_id)
    assert row is not None and row.requested_at is not None
    db.refresh(row)
    row.requested_at = row.requested_at - timedelta(days=days, seconds=seconds)
    db.add(row)
    db.commit()


def events(vault: Vault) -> list[str]:
    return [entry["event"] for entry in fetch_entries(vault)]


def test_view_is_released_exactly_after_the_wait_and_not_a_second_earlier(
    wallet_app: WalletApp, db: Session, tmp_path: Path
) -> None:
    owner, trusted, arrangement_id = arrangement(wallet_app, "view", wait_days=3)
    document_id = paper(owner, tmp_path, "march")
    owner.set_profile_field("first_name", "Amina")
    trusted_account = db.exec(
        select(Account).where(Account.handle == trusted.account["handle"])
    ).one()

    # Service level, with the clock in hand.
    asked = utcnow()
    service.request(db, trusted_account, arrangement_id, asked)
    db.commit()
    opens = asked + timedelta(days=3)
    for moment in (asked, opens - timedelta(seconds=1), opens - timedelta(microseconds=1)):
        with pytest.raises(Conflict):
            service.released(db, trusted_account, arrangement_id, moment)
        db.rollback()
    row, found_owner = service.released(db, trusted_account, arrangement_id, opens)
    assert found_owner.handle == owner.account["handle"] and row.released_at == opens
    db.rollback()  # nothing handed over yet: HTTP does it below

    # Through HTTP: before the wait nothing opens, neither the keys nor the papers.
    with pytest.raises(ApiError) as early:
        emergencylib.open_keys(trusted, arrangement_id, PinStore(None))
    assert early.value.status == 409
    for path in ("/documents", "/profile", "/vault/head", f"/documents/{document_id}"):
        with pytest.raises(ApiError) as refused:
            trusted.api.api("GET", f"/emergency/{arrangement_id}{path}")
        assert refused.value.status == 409
    # The owner sees the request at once.
    [waiting] = emergencylib.waiting(owner)
    assert (
        waiting["state"] == "waiting" and waiting["trusted"]["handle"] == trusted.account["handle"]
    )

    pass_days(db, arrangement_id, 3)
    reader = emergencylib.owner_vault(trusted, arrangement_id, PinStore(None))
    [listed] = reader.list_documents()
    assert listed.title == "Payslip march"
    out = tmp_path / "read.pdf"
    reader.download(document_id, out)
    assert out.read_bytes().startswith(b"%PDF-1.4\nmarch")
    assert reader.profile() == {"first_name": "Amina"}
    # View gives no signing key, and no way to choose a passphrase.
    with pytest.raises(VaultError):
        emergencylib.take_over(trusted, arrangement_id, NEW_PASSPHRASE, PinStore(None))
    seen = events(owner)
    assert seen.count("emergency_requested") == 1
    assert seen.count("emergency_released") == 1
    assert "emergency_download" in seen


def test_a_refusal_during_the_wait_releases_nothing(
    wallet_app: WalletApp, db: Session, tmp_path: Path
) -> None:
    owner, trusted, arrangement_id = arrangement(wallet_app, "takeover", wait_days=1)
    paper(owner, tmp_path, "april")
    emergencylib.request(trusted, arrangement_id)
    emergencylib.refuse(owner, arrangement_id)
    assert emergencylib.waiting(owner) == []
    # Days go by: the refused request opens nothing, ever.
    row = db.get(EmergencyAccess, arrangement_id)
    assert row is not None and row.requested_at is None and row.refused_at is not None
    trusted_account = db.get(Account, row.trusted_id)
    assert trusted_account is not None
    with pytest.raises(Conflict):
        service.released(db, trusted_account, arrangement_id, utcnow() + timedelta(days=31))
    db.rollback()
    with pytest.raises(ApiError) as refused:
        emergencylib.open_keys(trusted, arrangement_id, PinStore(None))
    assert refused.value.status == 409
    with pytest.raises(ApiError):
        emergencylib.take_over(trusted, arrangement_id, NEW_PASSPHRASE, PinStore(None))
    # A second refusal has nothing to refuse.
    with pytest.raises(ApiError) as again:
        emergencylib.refuse(owner, arrangement_id)
    assert again.value.status == 409
    seen = events(owner)
    assert "emergency_refused" in seen and "emergency_released" not in seen
    # The person may ask again; the wait starts over.
    row_again = emergencylib.request(trusted, arrangement_id)
    assert row_again["state"] == "waiting"


def test_an_ended_arrangement_releases_nothing_and_an_operator_cannot_revive_it(
    wallet_app: WalletApp, db: Session
) -> None:
    owner, trusted, arrangement_id = arrangement(wallet_app, "view", wait_days=2)
    emergencylib.request(trusted, arrangement_id)
    pass_days(db, arrangement_id, 2)
    sealed = db.get(EmergencyAccess, arrangement_id)
    assert sealed is not None
    db.refresh(sealed)
    kept = bytes(sealed.sealed)  # what an operator could keep aside
    emergencylib.end(owner, arrangement_id)
    assert owner.is_revoked("grants", arrangement_id)  # listed in the owner's signed head
    with pytest.raises(VaultError):
        emergencylib.open_keys(trusted, arrangement_id, PinStore(None))
    with pytest.raises(ApiError) as gone:
        trusted.api.api("POST", f"/emergency/{arrangement_id}/request")
    assert gone.value.status == 404
    assert emergencylib.received(trusted) == []
    assert "emergency_ended" in events(owner)

    # The operator puts the row back as it was, keys included.
    db.refresh(sealed)
    sealed.revoked_at = None
    sealed.sealed = kept
    db.add(sealed)
    db.commit()
    with pytest.raises(StateRefused):
        emergencylib.open_keys(trusted, arrangement_id, PinStore(None))
    # The owner's list shows it ended and says what happened.
    with pytest.raises(StateRefused):
        emergencylib.given(owner)


def test_take_over_ends_the_owners_sessions_and_is_in_the_owners_journal(
    wallet_app: WalletApp, db: Session, tmp_path: Path
) -> None:
    owner, trusted, arrangement_id = arrangement(wallet_app, "takeover", wait_days=7)
    document_id = paper(owner, tmp_path, "may")
    handle = owner.account["handle"]
    phone = Vault.login(wallet_app.api(), handle, TEST_PASSPHRASE)
    emergencylib.request(trusted, arrangement_id)
    pass_days(db, arrangement_id, 7)
    assert emergencylib.take_over(trusted, arrangement_id, NEW_PASSPHRASE, PinStore(None)) == handle
    # Every session of the owner ended.
    for session in (owner, phone):
        with pytest.raises(ApiError) as ended:
            session.api.api("GET", "/documents")
        assert ended.value.status == 401
    with pytest.raises(ApiError):
        Vault.login(wallet_app.api(), handle, TEST_PASSPHRASE)
    again = Vault.login(wallet_app.api(), handle, NEW_PASSPHRASE, new_salt_ok=True)
    [listed] = again.list_documents()
    assert listed.id == document_id
    entries = fetch_entries(again)
    [taken] = [e for e in entries if e["event"] == "emergency_taken_over"]
    trusted_id = db.exec(
        select(Account.id).where(Account.handle == trusted.account["handle"])
    ).one()
    assert taken["actor_id"] == trusted_id and json.loads(taken["details"])["sessions"] == 2
    # Used up: no second take-over, and its keys are gone from the server.
    with pytest.raises(VaultError):
        emergencylib.open_keys(trusted, arrangement_id, PinStore(None))
    row = db.get(EmergencyAccess, arrangement_id)
    assert row is not None
    db.refresh(row)
    assert row.sealed == b"" and row.taken_over_at is not None


def test_a_stranger_cannot_start_or_open_emergency_access(
    wallet_app: WalletApp, db: Session
) -> None:
    owner, trusted, arrangement_id = arrangement(wallet_app, "takeover", wait_days=1)
    stranger = wallet_app.new_vault()
    for method, path in (
        ("POST", "request"),
        ("GET", "open"),
        ("GET", "head"),
        ("GET", "documents"),
        ("GET", "profile"),
    ):
        with pytest.raises(ApiError) as refused:
            stranger.api.api(method, f"/emergency/{arrangement_id}/{path}")
        assert refused.value.status == 404
        # The same answer as for an arrangement that does not exist.
        with pytest.raises(ApiError) as unknown:
            stranger.api.api(method, f"/emergency/{secrets.token_hex(16)}/{path}")
        assert unknown.value.status == 404 and unknown.value.message == refused.value.message
    # The owner cannot ask in the trusted person's place, nor refuse or end someone else's.
    with pytest.raises(ApiError) as own:
        owner.api.api("POST", f"/emergency/{arrangement_id}/request")
    assert own.value.status == 404
    with pytest.raises(ApiError) as theirs:
        stranger.api.api("POST", f"/emergency/{arrangement_id}/refuse")
    assert theirs.value.status == 404
    assert "emergency_requested" not in events(owner)
    row = db.get(EmergencyAccess, arrangement_id)
    assert row is not None and row.requested_at is None
    # Naming someone needs their current key; a wait outside 1-30 days is refused.
    with pytest.raises(VaultError):
        emergencylib.add(
            owner, trusted.account["handle"], access="view", wait_days=31, pins=PinStore(None)
        )
    with pytest.raises(ApiError):
        trusted.api.api("GET", f"/emergency/{arrangement_id}/open")


def test_the_safety_review_lists_arrangements_and_the_reset_ends_them(
    wallet_app: WalletApp, db: Session
) -> None:
    owner, trusted, arrangement_id = arrangement(wallet_app, "view", wait_days=5)
    emergencylib.request(trusted, arrangement_id)
    [way] = [w for w in ways_in(owner) if w.kind == "emergency"]
    assert way.id == arrangement_id and "waiting" in way.what
    ended = end_every_access(owner)
    assert ended["emergency"] == 1
    assert owner.is_revoked("grants", arrangement_id)
    assert [w for w in ways_in(owner) if w.kind == "emergency"] == []
    pass_days(db, arrangement_id, 5)
    with pytest.raises(VaultError):
        emergencylib.open_keys(trusted, arrangement_id, PinStore(None))


def test_the_server_stores_no_key_or_secret_of_emergency_access(
    wallet_app: WalletApp, db: Session, tmp_path: Path
) -> None:
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    owner, trusted, arrangement_id = arrangement(wallet_app, "takeover", wait_days=1)
    canary = "CANARY-" + secrets.token_hex(12)
    paper(owner, tmp_path, canary)
    emergencylib.request(trusted, arrangement_id)
    pass_days(db, arrangement_id, 1)
    reader = emergencylib.owner_vault(trusted, arrangement_id, PinStore(None))
    assert reader.list_documents()[0].title == f"Payslip {canary}"
    new_passphrase = f"{canary} new words"
    emergencylib.take_over(trusted, arrangement_id, new_passphrase, PinStore(None))

    stored = database_contents(wallet_app, tmp_path) + blob_contents(wallet_app)
    assert hits(stored, owner.account["handle"]), "the scan must find what is in clear"
    assert hits(stored, canary) == []
    assert hits(stored, new_passphrase) == []
    for keys in (owner.keys, trusted.keys):
        raw = keys.encryption_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        assert hits(stored, raw) == []
        assert hits(stored, bytes(keys.signing_key)) == []
        assert hits(stored, keys.vault_secret) == []
        assert hits(stored, keys.to_bytes()) == []


def test_the_cli_flow_on_a_live_server_and_its_logs_hold_no_secret(
    live_server: LiveServer, tmp_path: Path
) -> None:
    """`wallet emergency ...` as people type it: the owner sees the request at login and in
    `wallet ls`, refuses; the sister asks again, the wait passes, she reads the papers and
    chooses a new passphrase. The server's log holds no canary, passphrase or key."""
    canary = "CANARY-" + secrets.token_hex(10)
    owner_handle, sister_handle = f"owner-{secrets.token_hex(4)}", f"sister-{secrets.token_hex(4)}"
    base = {
        **os.environ,
        "WALLET_SERVER": live_server.url,
        "WALLET_PASSPHRASE": TEST_PASSPHRASE,
    }
    owner = {**base, "WALLET_HOME": str(tmp_path / "owner")}
    sister = {**base, "WALLET_HOME": str(tmp_path / "sister")}
    run_cli(owner, "account", "create", "--handle", owner_handle)
    run_cli(sister, "account", "create", "--handle", sister_handle)
    source = tmp_path / "payslip.pdf"
    source.write_bytes(b"%PDF-1.4\n" + canary.encode() * 100)
    run_cli(owner, "upload", str(source), "--type", "payslip", "--title", f"Payslip {canary}")
    added = run_cli(
        owner, "emergency", "add", "--to", sister_handle, "--access", "takeover", "--wait-days", "2"
    ).stdout
    assert "Safety code of" in added
    [arrangement_id] = re.findall(r"Arrangement id: ([0-9a-f]{32})", added)
    assert arrangement_id in run_cli(sister, "emergency", "list").stdout

    run_cli(sister, "emergency", "request", arrangement_id)
    logged_in = run_cli(owner, "login", "--handle", owner_handle).stdout
    assert f"ATTENTION: {sister_handle} asked for emergency access" in logged_in
    assert f"wallet emergency refuse {arrangement_id}" in run_cli(owner, "ls").stdout
    run_cli(owner, "emergency", "refuse", arrangement_id)
    assert "ATTENTION" not in run_cli(owner, "ls").stdout
    too_early = run_cli(sister, "emergency", "open", arrangement_id, check=False)
    assert too_early.returncode == 1 and "Ask for access first" in too_early.stderr

    run_cli(sister, "emergency", "request", arrangement_id)
    with database(live_server.database.url) as db:
        pass_days(db, arrangement_id, 2)
    opened = run_cli(sister, "emergency", "open", arrangement_id).stdout
    assert f"Payslip {canary}" in opened
    new_passphrase = f"{canary} chosen by the sister"
    taken = run_cli(
        {**sister, "WALLET_NEW_PASSPHRASE": new_passphrase},
        "emergency",
        "open",
        arrangement_id,
        "--take-over",
    ).stdout
    assert f"Done: {owner_handle} can log in with the new passphrase" in taken
    assert run_cli(owner, "ls", check=False).returncode == 1  # the owner's session ended
    back = {**owner, "WALLET_PASSPHRASE": new_passphrase}
    run_cli(back, "login", "--handle", owner_handle, "--passphrase-changed")
    assert f"Payslip {canary}" in run_cli(back, "ls").stdout

    log = live_server.log_path.read_bytes()
    # (the live server's stderr log: it may well be empty; nothing secret may be in it)
    for secret in (canary, TEST_PASSPHRASE, new_passphrase):
        assert not [f for f in encoded_forms(secret) if f in log], secret
