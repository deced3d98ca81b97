"""Accounts, sessions, login throttling, recovery and account deletion (crypto-shredding)."""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, text
from sqlmodel import Session, select

from tests.conftest import TEST_PASSPHRASE, WalletApp
from tests.test_zero_knowledge import database_contents, hits
from wallet.accounts import service
from wallet.accounts.models import Account, AuthSession, LoginThrottle
from wallet.client import Vault
from wallet.client.vault import derive_credentials, new_credentials
from wallet.crypto.encoding import b64d, b64e
from wallet.crypto.kdf import split_recovery_key
from wallet.crypto.keys import AccountKeys
from wallet.crypto.recovery import new_recovery_key
from wallet.db import utcnow

API = "/api/v1"


def session_of(app: WalletApp) -> Session:
    return Session(app.client.app.state.engine, expire_on_commit=False)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def prelogin(app: WalletApp, handle: str) -> dict[str, Any]:
    response = app.client.post(f"{API}/auth/prelogin", json={"handle": handle})
    assert response.status_code == 200, response.text
    return response.json()


def auth_key_for(app: WalletApp, handle: str, passphrase: str) -> bytes:
    params = prelogin(app, handle)
    creds = derive_credentials(
        passphrase, b64d(params["salt"]), params["opslimit"], params["memlimit"]
    )
    return creds.auth_key


def login(app: WalletApp, handle: str, auth_key: bytes, client: TestClient | None = None):  # type: ignore[no-untyped-def]
    return (client or app.client).post(
        f"{API}/auth/login", json={"handle": handle, "auth_key": b64e(auth_key)}
    )


def login_token(app: WalletApp, handle: str, passphrase: str = TEST_PASSPHRASE) -> str:
    response = login(app, handle, auth_key_for(app, handle, passphrase))
    assert response.status_code == 200, response.text
    return response.json()["token"]


def throttle_row(app: WalletApp, purpose: str, kind: str, value: str) -> LoginThrottle | None:
    keys = service._throttle_keys(purpose, value, value)
    key = keys[0][0] if kind == "h" else keys[1][0]
    with session_of(app) as db:
        return db.get(LoginThrottle, key)


def unblock(app: WalletApp) -> None:
    """Time passes: every block has run out."""
    with session_of(app) as db:
        for row in db.exec(select(LoginThrottle)):
            row.blocked_until = utcnow() - timedelta(seconds=1)
            db.add(row)
        db.commit()


# --- prelogin ---------------------------------------------------------------------------------


def test_prelogin_for_unknown_handle_is_stable_and_plausible(wallet_app: WalletApp) -> None:
    vault = wallet_app.new_vault()
    real = prelogin(wallet_app, vault.account["handle"])
    unknown = prelogin(wallet_app, "nobody-here-42")
    assert prelogin(wallet_app, "nobody-here-42") == unknown
    assert prelogin(wallet_app, "Nobody-Here-42 ") == unknown  # handles are normalised first
    assert prelogin(wallet_app, "someone-else") != unknown
    assert set(unknown) == set(real)
    assert len(b64d(unknown["salt"])) == len(b64d(real["salt"])) == 16
    for key in ("algorithm", "opslimit", "memlimit"):
        assert unknown[key] == real[key]
    assert real["salt"] != unknown["salt"]
    # A real account's salt is its own random one, not the server's fake for that handle.
    fake_for_real = service.fake_salt(wallet_app.settings, vault.account["handle"])
    assert b64d(real["salt"]) != fake_for_real
    assert prelogin(wallet_app, vault.account["handle"]) == real


def test_unknown_handle_and_wrong_passphrase_get_the_same_answer(wallet_app: WalletApp) -> None:
    vault = wallet_app.new_vault()
    handle = vault.account["handle"]
    wrong = login(wallet_app, handle, auth_key_for(wallet_app, handle, "wrong passphrase"))
    unknown = login(wallet_app, "nobody-here", auth_key_for(wallet_app, "nobody-here", "x"))
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": service.WRONG_LOGIN, "code": "unauthorized"}
    assert "Retry-After" not in wrong.headers
    good = login(wallet_app, handle, auth_key_for(wallet_app, handle, TEST_PASSPHRASE))
    assert good.status_code == 200
    assert good.json()["kind"] == "full"
    assert good.json()["account"]["handle"] == handle
    # A phone keyboard's automatic capital does not stop the owner.
    capitalised = login(
        wallet_app, handle.capitalize(), auth_key_for(wallet_app, handle, TEST_PASSPHRASE)
    )
    assert capitalised.status_code == 200, capitalised.text


# --- throttling -------------------------------------------------------------------------------


def test_handle_throttle_grows_is_capped_and_never_locks_out_the_owner(
    wallet_app: WalletApp,
) -> None:
    vault = wallet_app.new_vault()
    handle = vault.account["handle"]
    good_key = auth_key_for(wallet_app, handle, TEST_PASSPHRASE)
    for _ in range(service.HANDLE_FREE_FAILURES):
        assert login(wallet_app, handle, secrets.token_bytes(32)).status_code == 401
    blocked = login(wallet_app, handle, secrets.token_bytes(32))
    assert blocked.status_code == 429
    assert blocked.json()["code"] == "too_many_attempts"
    assert "Wait 1 minute" in blocked.json()["detail"]
    assert 1 <= int(blocked.headers["Retry-After"]) <= 2
    # While blocked, even the right passphrase waits (a guess is not even checked).
    assert login(wallet_app, handle, good_key).status_code == 429

    delays = []
    for _ in range(4):
        unblock(wallet_app)
        assert login(wallet_app, handle, secrets.token_bytes(32)).status_code == 401
        response = login(wallet_app, handle, secrets.token_bytes(32))
        assert response.status_code == 429
        delays.append(int(response.headers["Retry-After"]))
    assert delays == sorted(delays) and delays[-1] > delays[0]
    assert delays[-1] >= 16

    # Many more failures: the delay stops growing at the cap.
    with session_of(wallet_app) as db:
        row = db.get(LoginThrottle, service._throttle_keys("login", handle, "")[0][0])
        assert row is not None and row.failures == service.HANDLE_FREE_FAILURES + 4
        row.failures = 40
        db.add(row)
        db.commit()
    unblock(wallet_app)
    assert login(wallet_app, handle, secrets.token_bytes(32)).status_code == 401
    capped = login(wallet_app, handle, secrets.token_bytes(32))
    assert capped.status_code == 429
    assert (
        service.HANDLE_MAX_DELAY - 5
        <= int(capped.headers["Retry-After"])
        <= service.HANDLE_MAX_DELAY
    )
    assert capped.json()["detail"] == "Too many tries. Wait 5 minutes, then try again."

    # Once the delay has run out, the owner gets in and the handle's counter is cleared.
    unblock(wallet_app)
    response = login(wallet_app, handle, good_key)
    assert response.status_code == 200, response.text
    assert throttle_row(wallet_app, "login", "h", handle) is None
    for _ in range(service.HANDLE_FREE_FAILURES - 1):
        assert login(wallet_app, handle, secrets.token_bytes(32)).status_code == 401
    assert login(wallet_app, handle, good_key).status_code == 200


def test_address_throttle_spans_handles(wallet_app: WalletApp) -> None:
    for i in range(service.ADDRESS_FREE_FAILURES):
        # Never more than one failure per handle: only the address counter can trip.
        assert login(wallet_app, f"probe-{i}", secrets.token_bytes(32)).status_code == 401
    response = login(wallet_app, "another-probe", secrets.token_bytes(32))
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    # The same handle from another address is not blocked.
    other = TestClient(wallet_app.client.app, client=("198.51.100.7", 40000))
    assert login(wallet_app, "another-probe", secrets.token_bytes(32), other).status_code == 401
    # The address delay is capped too.
    with session_of(wallet_app) as db:
        row = db.get(LoginThrottle, service._throttle_keys("login", "x", "testclient")[1][0])
        assert row is not None and row.failures == service.ADDRESS_FREE_FAILURES
        row.failures = 60
        db.add(row)
        db.commit()
    unblock(wallet_app)
    assert login(wallet_app, "yet-another", secrets.token_bytes(32)).status_code == 401
    capped = login(wallet_app, "yet-another-2", secrets.token_bytes(32))
    assert capped.status_code == 429
    assert int(capped.headers["Retry-After"]) <= service.ADDRESS_MAX_DELAY


# --- sessions ---------------------------------------------------------------------------------


def test_a_success_gives_its_reservation_back_and_a_block_reserves_nothing(
    wallet_app: WalletApp,
) -> None:
    """Each attempt counts as a failure before its hash is checked: a success gives that back."""
    vault = wallet_app.new_vault()
    handle = vault.account["handle"]
    good_key = auth_key_for(wallet_app, handle, TEST_PASSPHRASE)
    assert login(wallet_app, "someone-else", secrets.token_bytes(32)).status_code == 401
    assert login(wallet_app, handle, good_key).status_code == 200
    address = throttle_row(wallet_app, "login", "a", "testclient")
    assert address is not None and address.failures == 1
    assert throttle_row(wallet_app, "login", "h", handle) is None

    # The address is blocked: an attempt is refused and counts under no key.
    with session_of(wallet_app) as db:
        row = db.get(LoginThrottle, address.key)
        assert row is not None
        row.failures = service.ADDRESS_FREE_FAILURES
        row.blocked_until = utcnow() + timedelta(minutes=1)
        db.add(row)
        db.commit()
    assert login(wallet_app, "fresh-handle", secrets.token_bytes(32)).status_code == 429
    assert throttle_row(wallet_app, "login", "h", "fresh-handle") is None

    # Past the address's allowance, a success's reservation set a block: it is lifted again.
    unblock(wallet_app)
    assert login(wallet_app, handle, good_key).status_code == 200
    address = throttle_row(wallet_app, "login", "a", "testclient")
    assert address is not None and address.failures == service.ADDRESS_FREE_FAILURES
    assert address.blocked_until is None
    assert login(wallet_app, "fresh-handle", secrets.token_bytes(32)).status_code == 401


def test_forged_and_expired_tokens_are_refused(wallet_app: WalletApp) -> None:
    vault = wallet_app.new_vault()
    token = vault.api.token
    assert wallet_app.client.get(f"{API}/accounts/me", headers=bearer(token)).status_code == 200
    for forged in (secrets.token_urlsafe(32), token[:-2] + "xx", ""):
        response = wallet_app.client.get(f"{API}/accounts/me", headers=bearer(forged))
        assert response.status_code == 401
        assert response.json()["detail"]
    assert wallet_app.client.get(f"{API}/documents").status_code == 401

    with session_of(wallet_app) as db:
        row = db.exec(
            select(AuthSession).where(AuthSession.token_hash == service.token_hash(token))
        ).one()
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.add(row)
        db.commit()
    response = wallet_app.client.get(f"{API}/accounts/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.json() == {
        "detail": "Your session has ended. Please log in again.",
        "code": "unauthorized",
    }
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_logout_and_revoking_another_session(wallet_app: WalletApp) -> None:
    vault = wallet_app.new_vault()
    handle = vault.account["handle"]
    phone = login_token(wallet_app, handle)
    kiosk = login_token(wallet_app, handle)
    stranger = wallet_app.new_vault()

    sessions = wallet_app.client.get(f"{API}/auth/sessions", headers=bearer(phone)).json()
    assert len(sessions) == 3
    assert [s["current"] for s in sessions].count(True) == 1
    kiosk_sessions = wallet_app.client.get(f"{API}/auth/sessions", headers=bearer(kiosk)).json()
    kiosk_id = next(s["id"] for s in kiosk_sessions if s["current"])
    assert kiosk_id in {s["id"] for s in sessions if not s["current"]}
    # Someone else cannot revoke it: the same answer as an unknown id.
    other = wallet_app.client.delete(
        f"{API}/auth/sessions/{kiosk_id}", headers=bearer(stranger.api.token)
    )
    unknown = wallet_app.client.delete(
        f"{API}/auth/sessions/{secrets.token_hex(16)}", headers=bearer(stranger.api.token)
    )
    assert other.status_code == unknown.status_code == 404
    assert other.content == unknown.content
    assert wallet_app.client.get(f"{API}/accounts/me", headers=bearer(kiosk)).status_code == 200

    response = wallet_app.client.delete(f"{API}/auth/sessions/{kiosk_id}", headers=bearer(phone))
    assert response.status_code == 204
    assert wallet_app.client.get(f"{API}/accounts/me", headers=bearer(kiosk)).status_code == 401
    assert wallet_app.client.get(f"{API}/accounts/me", headers=bearer(phone)).status_code == 200

    assert wallet_app.client.post(f"{API}/auth/logout", headers=bearer(phone)).status_code == 204
    assert wallet_app.client.get(f"{API}/accounts/me", headers=bearer(phone)).status_code == 401
    assert wallet_app.client.post(f"{API}/auth/logout", headers=bearer(phone)).status_code == 401
    # The first session was untouched.
    assert (
        wallet_app.client.get(f"{API}/accounts/me", headers=bearer(vault.api.token)).status_code
        == 200
    )


def test_passphrase_change_ends_other_sessions(wallet_app: WalletApp, tmp_path: Path) -> None:
    vault = wallet_app.new_vault()
    handle = vault.account["handle"]
    source = tmp_path / "lease.pdf"
    source.write_bytes(b"lease " * 100)
    document_id, _ = vault.upload(source, "lease")
    other = login_token(wallet_app, handle)
    old_token = vault.api.token

    # A wrong current passphrase changes nothing.
    body = {
        "current_auth_key": b64e(secrets.token_bytes(32)),
        "kdf_salt": b64e(secrets.token_bytes(16)),
        "kdf_opslimit": 1,
        "kdf_memlimit": 8192,
        "auth_key": b64e(secrets.token_bytes(32)),
        "keys_by_passphrase": b64e(secrets.token_bytes(100)),
    }
    response = wallet_app.client.put(
        f"{API}/accounts/me/passphrase", json=body, headers=bearer(other)
    )
    assert response.status_code == 401
    assert "Nothing was changed" in response.json()["detail"]
    assert wallet_app.client.get(f"{API}/accounts/me", headers=bearer(other)).status_code == 200

    vault.change_passphrase(TEST_PASSPHRASE, "a brand new passphrase")
    assert vault.api.token != old_token
    for token in (other, old_token):
        assert wallet_app.client.get(f"{API}/accounts/me", headers=bearer(token)).status_code == 401
    assert (
        wallet_app.client.get(f"{API}/accounts/me", headers=bearer(vault.api.token)).status_code
        == 200
    )
    assert (
        login(wallet_app, handle, auth_key_for(wallet_app, handle, TEST_PASSPHRASE)).status_code
        == 401
    )

    again = Vault.login(wallet_app.api(), handle, "a brand new passphrase")
    out = tmp_path / "out.pdf"
    again.download(document_id, out)  # documents were not re-encrypted, keys still open them
    assert out.read_bytes() == source.read_bytes()


def test_recovery_session_may_only_set_a_passphrase(wallet_app: WalletApp, tmp_path: Path) -> None:
    vault, recovery_text = wallet_app.new_vault_with_recovery()
    handle = vault.account["handle"]
    source = tmp_path / "passport.jpg"
    source.write_bytes(b"passport scan " * 50)
    document_id, _ = vault.upload(source, "passport")

    from wallet.crypto.recovery import parse_recovery_key

    recovery_auth, _kek = split_recovery_key(parse_recovery_key(recovery_text))
    wrong = wallet_app.client.post(
        f"{API}/auth/recover",
        json={"handle": handle, "recovery_auth_key": b64e(secrets.token_bytes(32))},
    )
    assert wrong.status_code == 401
    assert wrong.json()["detail"] == service.WRONG_RECOVERY

    response = wallet_app.client.post(
        f"{API}/auth/recover", json={"handle": handle, "recovery_auth_key": b64e(recovery_auth)}
    )
    assert response.status_code == 200, response.text
    session = response.json()
    assert session["kind"] == "recovery"
    token = session["token"]
    for method, path in (
        ("GET", "/documents"),
        ("GET", f"/documents/{document_id}"),
        ("GET", f"/documents/{document_id}/versions/1/blob"),
        ("GET", "/accounts/me"),
        ("GET", "/auth/sessions"),
        ("GET", "/profile"),
        ("POST", "/uploads"),
    ):
        # A tus request names its version, or gets 412 before anything else.
        headers = {**bearer(token), "Tus-Resumable": "1.0.0", "Upload-Length": "100"}
        refused = wallet_app.client.request(method, API + path, headers=headers)
        assert refused.status_code == 401, (method, path)
        assert refused.json()["detail"] == "First choose a new passphrase, then log in with it."

    recovered = Vault.recover(wallet_app.api(), handle, recovery_text, "new passphrase after loss")
    assert recovered.api.token != token
    assert wallet_app.client.get(f"{API}/accounts/me", headers=bearer(token)).status_code == 401
    assert (
        wallet_app.client.get(f"{API}/accounts/me", headers=bearer(vault.api.token)).status_code
        == 401
    )
    assert [d.id for d in recovered.list_documents()] == [document_id]
    assert (
        login(wallet_app, handle, auth_key_for(wallet_app, handle, TEST_PASSPHRASE)).status_code
        == 401
    )
    Vault.login(wallet_app.api(), handle, "new passphrase after loss")


# --- deletion ---------------------------------------------------------------------------------

OWNED_ROWS = {
    "account": "SELECT count(*) FROM account WHERE id = :a",
    "auth_session": "SELECT count(*) FROM auth_session WHERE account_id = :a",
    "document": "SELECT count(*) FROM document WHERE owner_id = :a",
    "document_version": (
        "SELECT count(*) FROM document_version v JOIN document d ON d.id = v.document_id"
        " WHERE d.owner_id = :a"
    ),
    "key_wrap": "SELECT count(*) FROM key_wrap WHERE recipient_key_id = :k",
    "profile_field": "SELECT count(*) FROM profile_field WHERE account_id = :a",
    "upload": "SELECT count(*) FROM upload WHERE account_id = :a",
}


def owned_counts(app: WalletApp, account_id: str, key_id: str) -> dict[str, int]:
    with app.client.app.state.engine.connect() as connection:
        return {
            table: connection.execute(text(sql), {"a": account_id, "k": key_id}).scalar_one()
            for table, sql in OWNED_ROWS.items()
        }


def total_rows(app: WalletApp, table: str) -> int:
    with app.client.app.state.engine.connect() as connection:
        return connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def fill_account(vault: Vault, tmp_path: Path, name: str) -> str:
    source = tmp_path / f"{name}.pdf"
    source.write_bytes(secrets.token_bytes(5000))
    document_id, _ = vault.upload(source, "payslip", f"{name} one")
    vault.upload(source, "payslip", f"{name} one v2", replace=document_id)
    vault.upload(source, "lease", f"{name} two")
    vault.set_profile_field("first_name", name)
    vault.set_profile_field("address", f"{name} street 1")
    # An unfinished upload with staged bytes.
    location = vault.api.api(
        "POST", "/uploads", headers={"Tus-Resumable": "1.0.0", "Upload-Length": "100"}
    ).headers["location"]
    vault.api.request(
        "PATCH",
        location,
        content=b"x" * 40,
        headers={
            "Tus-Resumable": "1.0.0",
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
        },
    )
    return location.rsplit("/", 1)[-1]


def test_account_delete_shreds_every_row_and_blob(any_store_app: WalletApp, tmp_path: Path) -> None:
    app = any_store_app
    store = app.client.app.state.store
    keeper = app.new_vault()
    keeper_upload = fill_account(keeper, tmp_path, "keeper")
    keeper_blobs = {key for key, _ in store.list_blobs()}
    keeper_counts = owned_counts(app, keeper.account["id"], keeper.keys.key_id)
    assert len(keeper_blobs) == 3

    vault = app.new_vault()
    handle = vault.account["handle"]
    upload_id = fill_account(vault, tmp_path, "leaver")
    second_session = login_token(app, handle)
    counts = owned_counts(app, vault.account["id"], vault.keys.key_id)
    assert counts == {
        "account": 1,
        "auth_session": 2,
        "document": 2,
        "document_version": 3,
        "key_wrap": 3,
        "profile_field": 2,
        "upload": 1,
    }
    assert len({key for key, _ in store.list_blobs()}) == 6
    assert store.staged_size(upload_id) == 40
    real_salt = prelogin(app, handle)["salt"]

    # The wrong passphrase deletes nothing.
    refused = app.client.post(
        f"{API}/accounts/me/delete",
        json={"auth_key": b64e(auth_key_for(app, handle, "not my passphrase"))},
        headers=bearer(vault.api.token),
    )
    assert refused.status_code == 401
    assert "Nothing was deleted" in refused.json()["detail"]
    assert owned_counts(app, vault.account["id"], vault.keys.key_id) == counts

    vault.delete_account(TEST_PASSPHRASE)
    assert owned_counts(app, vault.account["id"], vault.keys.key_id) == dict.fromkeys(counts, 0)
    assert {key for key, _ in store.list_blobs()} == keeper_blobs
    assert store.staged_size(upload_id) == 0
    assert [u for u, _ in store.list_staging()] == [keeper_upload]
    assert total_rows(app, "account") == 1
    for table in ("document", "document_version", "key_wrap", "profile_field", "upload"):
        assert total_rows(app, table) == keeper_counts[table], table
    # The other owner lost nothing.
    assert owned_counts(app, keeper.account["id"], keeper.keys.key_id) == keeper_counts
    assert len(keeper.list_documents()) == 2
    assert keeper.profile()["first_name"] == "keeper"

    for token in (second_session,):
        assert app.client.get(f"{API}/accounts/me", headers=bearer(token)).status_code == 401
    response = login(app, handle, auth_key_for(app, handle, TEST_PASSPHRASE))
    assert response.status_code == 401
    assert response.json()["detail"] == service.WRONG_LOGIN
    # The handle now looks exactly like one that never existed.
    after = prelogin(app, handle)
    assert after["salt"] != real_salt
    assert b64d(after["salt"]) == service.fake_salt(app.settings, handle)


# --- what the account holds -------------------------------------------------------------------


def account_body(handle: str, passphrase: str, opslimit: int = 1, memlimit: int = 8192) -> dict:
    creds = new_credentials(passphrase, opslimit, memlimit)
    keys = AccountKeys.generate()
    recovery_auth, recovery_kek = split_recovery_key(new_recovery_key())
    return {
        "handle": handle,
        "kdf_salt": b64e(creds.salt),
        "kdf_opslimit": opslimit,
        "kdf_memlimit": memlimit,
        "auth_key": b64e(creds.auth_key),
        "recovery_auth_key": b64e(recovery_auth),
        "public_encryption_key": b64e(keys.public_encryption_key),
        "public_signing_key": b64e(keys.public_signing_key),
        "keys_by_passphrase": b64e(keys.lock(creds.kek)),
        "keys_by_recovery": b64e(keys.lock(recovery_kek)),
    }


def test_no_contact_or_identity_fields_are_stored(wallet_app: WalletApp, tmp_path: Path) -> None:
    marker = f"personal-{secrets.token_hex(8)}"
    extras = {
        "email": f"{marker}@example.org",
        "phone": f"+32{marker}",
        "name": f"Name {marker}",
        "first_name": marker,
        "last_name": marker,
    }
    handle = f"private-{secrets.token_hex(3)}"
    body = {**account_body(handle, TEST_PASSPHRASE), **extras}
    response = wallet_app.client.post(f"{API}/accounts", json=body)
    assert response.status_code == 201, response.text
    assert marker not in response.text
    schema = wallet_app.client.get("/openapi.json").json()["components"]["schemas"]["AccountCreate"]
    assert not set(schema["properties"]) & {"email", "phone", "name", "first_name", "last_name"}
    assert not {c for c in Account.model_fields} & {"email", "phone", "name", "first_name"}
    me = wallet_app.client.get(f"{API}/accounts/me", headers=bearer(response.json()["token"]))
    assert marker not in me.text
    stored = database_contents(wallet_app, tmp_path)
    assert hits(stored, handle)  # the scan does see the account row
    assert hits(stored, marker) == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kdf_salt": b64e(b"short")}, "kdf_salt"),
        ({"kdf_opslimit": 0}, "kdf_opslimit"),
        ({"handle": "x"}, "handle"),
        ({"handle": "no spaces allowed"}, "handle"),
        ({"auth_key": "not+base64/"}, "auth_key"),
    ],
)
def test_bad_account_requests_name_the_problem(
    wallet_app: WalletApp, change: dict[str, Any], field: str
) -> None:
    body = {**account_body(f"bad-{secrets.token_hex(3)}", TEST_PASSPHRASE), **change}
    response = wallet_app.client.post(f"{API}/accounts", json=body)
    assert response.status_code == 422
    assert field in response.json()["detail"]
    with session_of(wallet_app) as db:
        assert db.exec(select(func.count()).select_from(Account)).one() == 0


def test_handle_taken_and_weak_kdf_are_refused(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(kdf_opslimit=3)
    vault = app.new_vault()
    taken = app.client.post(
        f"{API}/accounts", json=account_body(vault.account["handle"], "other", opslimit=3)
    )
    assert taken.status_code == 409
    assert taken.json()["detail"] == "This handle is taken. Pick another one."
    weak = app.client.post(
        f"{API}/accounts", json=account_body(f"weak-{secrets.token_hex(3)}", "p", opslimit=1)
    )
    assert weak.status_code == 422
    assert "weaker than this server requires" in weak.json()["detail"]
    assert total_rows(app, "account") == 1


def test_the_client_refuses_a_weak_passphrase_cost_from_the_server(wallet_app, monkeypatch) -> None:
    """A server that asks for a cheap Argon2id could test passphrase guesses offline: the
    client sends nothing derived from the passphrase under such a cost."""
    from wallet.client.vault import IntegrityFailure, Vault

    vault = wallet_app.new_vault()  # made with the test suite's lowered floor
    handle = vault.account["handle"]
    monkeypatch.delenv("WALLET_CLIENT_KDF_FLOOR")
    with pytest.raises(IntegrityFailure, match="weak"):
        Vault.login(wallet_app.api(), handle, TEST_PASSPHRASE)
    with pytest.raises(IntegrityFailure, match="weak"):
        Vault.create_account(wallet_app.api(), "careful-owner", TEST_PASSPHRASE)
    # Nothing reached the server: no account was created.
    assert (
        wallet_app.client.post(
            "/api/v1/auth/prelogin", json={"handle": "careful-owner"}
        ).status_code
        == 200
    )
    assert _account_count(wallet_app, "careful-owner") == 0


def _account_count(app, handle: str) -> int:
    from sqlmodel import Session, select

    from wallet.accounts.models import Account

    with Session(app.client.app.state.engine) as db:
        return len(db.exec(select(Account).where(Account.handle == handle)).all())


def test_one_ipv6_host_cannot_dodge_the_address_throttle_by_changing_address() -> None:
    from wallet.ratelimit.service import network_key

    assert network_key("2001:db8:1:2::1") == network_key("2001:db8:1:2:ffff::9")
    assert network_key("2001:db8:1:2::1") != network_key("2001:db8:1:3::1")
    assert network_key("192.0.2.7") == "192.0.2.7"


def test_the_auth_hash_cost_is_a_setting_that_new_hashes_use(make_app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Production keeps 2 passes over 16 MiB for the server's hash of each auth key; the
    suite lowers it. Stored hashes and the dummy for unknown handles use the configured cost."""
    from pydantic import ValidationError

    from wallet.settings import Settings

    monkeypatch.delenv("WALLET_AUTH_HASH_OPSLIMIT", raising=False)
    monkeypatch.delenv("WALLET_AUTH_HASH_MEMLIMIT", raising=False)
    defaults = Settings()
    assert (defaults.auth_hash_opslimit, defaults.auth_hash_memlimit) == (2, 16 * 1024 * 1024)
    assert service.dummy_hash(defaults).startswith("$argon2id$v=19$m=16384,t=2,p=1$")
    with pytest.raises(ValidationError):
        Settings(auth_hash_opslimit=0)
    with pytest.raises(ValidationError):
        Settings(auth_hash_memlimit=4096)

    app = make_app(auth_hash_opslimit=3, auth_hash_memlimit=64 * 1024)
    vault = app.new_vault()
    handle = vault.account["handle"]
    with session_of(app) as db:
        account = db.exec(select(Account).where(Account.handle == handle)).one()
    cost = "$argon2id$v=19$m=64,t=3,p=1$"
    assert account.auth_hash.startswith(cost)
    assert account.recovery_auth_hash.startswith(cost)
    assert service.dummy_hash(app.settings).startswith(cost)
    assert Vault.login(app.api(), handle, TEST_PASSPHRASE).account["handle"] == handle
