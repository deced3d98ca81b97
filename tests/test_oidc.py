"""Worker login through the organisation's OpenID Connect provider.

The provider is oidc-provider, the OpenID-certified Node provider (tests/oidc-node), on
127.0.0.1. The person's part, at its own login and consent pages, is played over plain HTTP
(ProviderPages); the wallet redeems codes and fetches keys from it over real HTTP. What a
conforming provider never does (a wrong issuer, audience or nonce in the ID token, a key it
does not publish, no `iss` in its answers) comes from the Authlib test provider
(tests/oidc_provider.py), which approves at once. The protocol cases of client authentication,
RFC 9207 and clock skew, each with the provider configured for it, are in
tests/test_oidc_conformance.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from sqlmodel import select

from tests.conftest import (
    TEST_PASSPHRASE,
    AppFactory,
    WalletApp,
    free_port,
    run_cli,
    run_live_server,
    wait_for_port,
)
from tests.oidc_provider import (
    NodeProvider,
    ProviderPages,
    node_provider_missing,
    public_client,
    start_node_provider,
)
from tests.test_grants import database, write_file
from wallet.accounts.models import AuthSession
from wallet.client import ApiClient
from wallet.client import oidc as oidc_client
from wallet.client.journal import fetch_entries, render
from wallet.client.vault import Vault, VaultError, derive_credentials
from wallet.crypto.encoding import b64d, b64e
from wallet.oidc.models import OidcLogin

API = "/api/v1"
OIDC = f"{API}/auth/oidc"
TESTSERVER_CALLBACK = "http://testserver/api/v1/auth/oidc/callback"
# run_live_server keeps the default public URL, so this is the live server's redirect URI.
LIVE_CALLBACK = "http://127.0.0.1:8000/api/v1/auth/oidc/callback"
JSON = {"Accept": "application/json"}
WRONG_ISSUER = (
    "The sign-in service answered with the wrong name. "
    "Ask your IT team to check the wallet settings."
)
DEPLOY = Path(__file__).parents[1] / "deploy"

# Public rows: /auth/oidc (is it on?), /start (redirects to the provider), /callback (the
# provider sends the browser back; answers only to a state this server made) and /exchange
# (a one-time code becomes a session). Self rows: /link/start, GET and DELETE /link act on
# the caller's own account and take no id. Each is tested for every kind of caller below.
AUTHZ_COVERED = {
    "GET /api/v1/auth/oidc",
    "GET /api/v1/auth/oidc/start",
    "GET /api/v1/auth/oidc/callback",
    "POST /api/v1/auth/oidc/exchange",
    "POST /api/v1/auth/oidc/exchange/params",
    "POST /api/v1/auth/oidc/link/start",
    "GET /api/v1/auth/oidc/link",
    "DELETE /api/v1/auth/oidc/link",
}


def passphrase_proof(app: WalletApp, code: str) -> str:
    """The auth key a client derives from TEST_PASSPHRASE for the code's account."""
    kdf = app.client.post(f"{OIDC}/exchange/params", json={"code": code}).json()["kdf"]
    creds = derive_credentials(TEST_PASSPHRASE, b64d(kdf["salt"]), kdf["opslimit"], kdf["memlimit"])
    return b64e(creds.auth_key)


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProvider]:
    """oidc-provider, for this module; each test configures it afresh (well_behaved)."""
    missing = node_provider_missing()
    if missing:
        pytest.fail(missing)
    with start_node_provider(tmp_path_factory.mktemp("oidc-provider")) as running:
        yield running


@dataclass
class AuthlibProvider:
    """The Authlib test provider: approves at once, and can be told to misbehave."""

    url: str
    process: subprocess.Popen

    def configure(self, **values: Any) -> None:
        response = httpx.post(f"{self.url}/test/config", json=values, timeout=10)
        assert response.status_code == 200, response.text


@contextlib.contextmanager
def start_authlib_provider(*redirect_uris: str) -> Iterator[AuthlibProvider]:
    port = free_port()
    args = [sys.executable, "-m", "tests.oidc_provider", "--port", str(port)]
    for uri in redirect_uris:
        args += ["--redirect-uri", uri]
    process = subprocess.Popen(
        args, cwd=Path(__file__).parents[1], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        wait_for_port(port, process=process)
        yield AuthlibProvider(f"http://127.0.0.1:{port}", process)
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="module")
def misbehaving() -> Iterator[AuthlibProvider]:
    with start_authlib_provider(TESTSERVER_CALLBACK) as running:
        yield running


@pytest.fixture(autouse=True)
def well_behaved(request: pytest.FixtureRequest) -> None:
    if {"provider", "oidc_app"} & set(request.fixturenames):
        request.getfixturevalue("provider").configure(
            public_client("wallet", TESTSERVER_CALLBACK, LIVE_CALLBACK)
        )
    if {"misbehaving", "misbehaving_app"} & set(request.fixturenames):
        request.getfixturevalue("misbehaving").configure()


def oidc_settings(provider: NodeProvider | AuthlibProvider) -> dict[str, object]:
    return {
        "oidc_issuer": provider.url,
        "oidc_client_id": "wallet",
        "public_url": "http://testserver",
    }


@pytest.fixture
def oidc_app(make_app: AppFactory, provider: NodeProvider) -> WalletApp:
    return make_app(**oidc_settings(provider))


@pytest.fixture
def misbehaving_app(make_app: AppFactory, misbehaving: AuthlibProvider) -> WalletApp:
    return make_app(**oidc_settings(misbehaving))


# --- the browser's part, by hand ------------------------------------------------------------


def at_provider(authorization_url: str, login: str = "worker-1") -> str:
    """The person signs in as `login` on the provider's own pages (a browser of their own,
    with no session there yet) and consents: returns the callback URL it sends them back to.
    The Authlib provider (its endpoint is /authorize; oidc-provider's is /auth) approves at
    once, without pages."""
    if "/authorize?" in authorization_url:
        response = httpx.get(authorization_url, follow_redirects=False, timeout=10)
        assert response.status_code == 302, response.text
        return response.headers["location"]
    with ProviderPages(login) as pages:
        callback_url = pages.sign_in(authorization_url)
    assert pages.pages[-2:] == ["login", "consent"], pages.pages
    return callback_url


def start_login(http: httpx.Client) -> str:
    response = http.get(f"{OIDC}/start", follow_redirects=False)
    assert response.status_code == 302, response.text
    return response.headers["location"]


def back_at_wallet(http: httpx.Client, callback_url: str) -> httpx.Response:
    parts = urlsplit(callback_url)
    return http.get(f"{parts.path}?{parts.query}", headers=JSON)


def query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def sign_in(http: httpx.Client, login: str = "worker-1") -> httpx.Response:
    return back_at_wallet(http, at_provider(start_login(http), login))


def link(app: WalletApp, vault: Vault, login: str = "worker-1") -> dict[str, Any]:
    response = app.client.post(f"{OIDC}/link/start", headers=bearer(vault.api.token))
    assert response.status_code == 200, response.text
    finished = back_at_wallet(app.client, at_provider(response.json()["authorization_url"], login))
    assert finished.status_code == 200, finished.text
    return finished.json()


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def refused(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code, body
    assert body["detail"], "every refusal says what happened and what to do"
    return str(body["detail"])


def events(url: str, account_id: str) -> list[tuple[str, dict[str, Any]]]:
    from wallet.journal.models import JournalEntry

    with database(url) as db:
        rows = db.exec(
            select(JournalEntry)
            .where(JournalEntry.owner_id == account_id)
            .order_by(JournalEntry.seq)  # type: ignore[arg-type]
        ).all()
        return [(row.event, json.loads(row.details)) for row in rows]


# --- the flow -------------------------------------------------------------------------------


def test_start_sends_the_browser_to_the_provider_with_pkce_s256(
    oidc_app: WalletApp, provider: NodeProvider
) -> None:
    url = start_login(oidc_app.client)
    params = query(url)
    assert url.startswith(provider.discovery()["authorization_endpoint"] + "?")
    assert params["response_type"] == "code"
    assert params["client_id"] == "wallet"
    assert params["code_challenge_method"] == "S256"
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", params["code_challenge"])
    assert params["redirect_uri"] == TESTSERVER_CALLBACK
    assert "openid" in params["scope"].split()
    assert len(params["state"]) >= 32 and len(params["nonce"]) >= 32
    # Only a hash of the state is stored; the verifier never leaves the server.
    with database(oidc_app.database.url) as db:
        row = db.exec(select(OidcLogin)).one()
    assert params["state"] not in row.state_hash
    assert row.code_verifier and row.code_verifier not in url


def test_link_then_sign_in_then_unlock_with_the_passphrase(
    oidc_app: WalletApp, tmp_path: Path
) -> None:
    app = oidc_app
    vault = app.new_vault()
    document_id, _version = vault.upload(write_file(tmp_path / "card.pdf", "id"))
    assert link(app, vault) == {
        "purpose": "link",
        "handle": vault.account["handle"],
        "code": None,
        "expires_in": 300,
    }
    status = app.client.get(f"{OIDC}/link", headers=bearer(vault.api.token)).json()
    assert status["linked"] is True and status["issuer"] == app.settings.oidc_issuer

    finished = sign_in(app.client)
    assert finished.status_code == 200, finished.text
    assert finished.headers["cache-control"] == "no-store"
    body = finished.json()
    assert body["purpose"] == "login" and body["handle"] == vault.account["handle"]

    # The sign-in alone opens nothing: the code gives the KDF parameters, not a session.
    params = app.client.post(f"{OIDC}/exchange/params", json={"code": body["code"]}).json()
    assert params["handle"] == vault.account["handle"]
    assert set(params["kdf"]) == {"algorithm", "salt", "opslimit", "memlimit"}
    assert "keys_by_passphrase" not in json.dumps(params)
    without_proof = app.client.post(f"{OIDC}/exchange", json={"code": body["code"]})
    assert without_proof.status_code == 422 and "keys_by_passphrase" not in without_proof.text

    # A wrong passphrase: refused, the code is used up, and the try counts for the throttle.
    with pytest.raises(VaultError, match="does not open your wallet"):
        oidc_client.login_with_code(app.api(), body["code"], "not the passphrase")
    assert [e for e, _ in events(app.database.url, vault.account["id"])][-1] == "login_failed"
    replayed = app.client.post(f"{OIDC}/exchange/params", json={"code": body["code"]})
    refused(replayed, 401, "oidc_exchange_refused")

    again = oidc_client.login_with_code(
        app.api(), sign_in(app.client).json()["code"], TEST_PASSPHRASE
    )
    assert [d.id for d in again.list_documents()] == [document_id]
    assert again.list_documents()[0].title == "card"

    journal = render(again, fetch_entries(again))
    sentences = [entry["sentence"] for entry in journal]
    assert "You logged in through your organisation's sign-in on this device." in sentences
    assert "Your organisation's sign-in was linked to your wallet." in sentences


def test_the_provider_checks_the_pkce_verifier(oidc_app: WalletApp, provider: NodeProvider) -> None:
    vault = oidc_app.new_vault()
    link(oidc_app, vault)
    callback_url = at_provider(start_login(oidc_app.client))
    code = query(callback_url)["code"]
    token_request = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": "wallet",
        "redirect_uri": TESTSERVER_CALLBACK,
    }
    wrong = httpx.post(
        f"{provider.url}/token", data={**token_request, "code_verifier": "x" * 64}, timeout=10
    )
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant", wrong.text
    missing = httpx.post(f"{provider.url}/token", data=token_request, timeout=10)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_grant", missing.text
    # Someone who saw the code but not the verifier got nothing; the wallet still can.
    finished = back_at_wallet(oidc_app.client, callback_url)
    assert finished.status_code == 200, finished.text
    assert finished.json()["handle"] == vault.account["handle"]


def test_an_unknown_subject_must_link_first(oidc_app: WalletApp) -> None:
    vault = oidc_app.new_vault()
    link(oidc_app, vault, login="worker-1")
    message = refused(sign_in(oidc_app.client, login="someone-else"), 401, "oidc_not_linked")
    assert "not linked to a wallet account yet" in message
    assert vault.account["handle"] not in message


# --- what a conforming provider never does: the Authlib provider, told to misbehave ----------


def test_a_wrong_issuer_in_the_id_token_is_refused(
    misbehaving_app: WalletApp, misbehaving: AuthlibProvider
) -> None:
    vault = misbehaving_app.new_vault()
    link(misbehaving_app, vault)
    misbehaving.configure(iss="http://127.0.0.1:1/not-the-issuer")
    message = refused(sign_in(misbehaving_app.client), 401, "oidc_wrong_issuer")
    assert message == WRONG_ISSUER


def test_wrong_audience_is_refused_and_journaled(
    misbehaving_app: WalletApp, misbehaving: AuthlibProvider
) -> None:
    app = misbehaving_app
    vault = app.new_vault()
    link(app, vault)
    misbehaving.configure(aud="another-app")
    message = refused(sign_in(app.client), 401, "oidc_wrong_audience")
    assert "made this sign-in for another app" in message
    failed = [
        d for e, d in events(app.database.url, vault.account["id"]) if e == "oidc_login_failed"
    ]
    assert failed == [{"reason": "oidc_wrong_audience"}]


def test_a_wrong_nonce_is_refused(misbehaving_app: WalletApp, misbehaving: AuthlibProvider) -> None:
    vault = misbehaving_app.new_vault()
    link(misbehaving_app, vault)
    misbehaving.configure(nonce="a-nonce-from-another-sign-in")
    refused(sign_in(misbehaving_app.client), 401, "oidc_nonce_mismatch")


def test_a_token_signed_with_another_key_is_refused(
    misbehaving_app: WalletApp, misbehaving: AuthlibProvider
) -> None:
    vault = misbehaving_app.new_vault()
    link(misbehaving_app, vault)
    misbehaving.configure(foreign_key=True)
    refused(sign_in(misbehaving_app.client), 401, "oidc_bad_signature")


def test_a_provider_without_rfc_9207_may_leave_iss_out_but_not_send_a_wrong_one(
    misbehaving_app: WalletApp,
) -> None:
    """This provider does not advertise authorization_response_iss_parameter_supported and sends
    no `iss`: its answers are taken. An `iss` naming another issuer is still refused."""
    app = misbehaving_app
    discovery = httpx.get(
        f"{app.settings.oidc_issuer}/.well-known/openid-configuration", timeout=10
    ).json()
    assert "authorization_response_iss_parameter_supported" not in discovery
    vault = app.new_vault()
    link(app, vault)
    callback_url = at_provider(start_login(app.client))
    assert "iss" not in query(callback_url)
    assert back_at_wallet(app.client, callback_url).json()["handle"] == vault.account["handle"]
    tampered = at_provider(start_login(app.client)) + "&iss=http%3A%2F%2F127.0.0.1%3A1"
    assert refused(back_at_wallet(app.client, tampered), 401, "oidc_wrong_issuer") == WRONG_ISSUER


def test_a_replayed_code_and_a_replayed_state_are_refused(oidc_app: WalletApp) -> None:
    vault = oidc_app.new_vault()
    link(oidc_app, vault)
    callback_url = at_provider(start_login(oidc_app.client))
    assert back_at_wallet(oidc_app.client, callback_url).status_code == 200
    # The same answer again: its state was used.
    message = refused(back_at_wallet(oidc_app.client, callback_url), 409, "oidc_state_used")
    assert "already finished" in message
    # The used code with a fresh state: the provider refuses it (invalid_grant).
    fresh_state = query(start_login(oidc_app.client))["state"]
    answer = {**query(callback_url), "state": fresh_state}
    replay = f"{TESTSERVER_CALLBACK}?{urlencode(answer)}"
    message = refused(back_at_wallet(oidc_app.client, replay), 401, "oidc_code_refused")
    assert "already used or is too old" in message


def test_an_unknown_state_is_refused(oidc_app: WalletApp) -> None:
    response = oidc_app.client.get(f"{OIDC}/callback?code=abc&state=made-up", headers=JSON)
    refused(response, 400, "oidc_state_unknown")


def test_the_one_time_code_works_once(oidc_app: WalletApp) -> None:
    vault = oidc_app.new_vault()
    link(oidc_app, vault)
    code = sign_in(oidc_app.client).json()["code"]
    proof = {"code": code, "auth_key": passphrase_proof(oidc_app, code)}
    first = oidc_app.client.post(f"{OIDC}/exchange", json=proof)
    assert first.status_code == 200, first.text
    second = oidc_app.client.post(f"{OIDC}/exchange", json=proof)
    refused(second, 401, "oidc_exchange_refused")
    with database(oidc_app.database.url) as db:
        sessions = db.exec(select(AuthSession).where(AuthSession.account_id == vault.account["id"]))
        assert len(sessions.all()) == 2  # the passphrase login and one sign-in


def test_a_state_and_a_one_time_code_are_used_once_under_concurrency(oidc_app: WalletApp) -> None:
    vault = oidc_app.new_vault()
    link(oidc_app, vault)
    callback_url = at_provider(start_login(oidc_app.client))
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: back_at_wallet(oidc_app.client, callback_url), range(6)))
    assert sorted(a.status_code for a in answers) == [200] + [409] * 5
    code = next(a for a in answers if a.status_code == 200).json()["code"]

    proof = {"code": code, "auth_key": passphrase_proof(oidc_app, code)}

    def exchange(_: int) -> int:
        return oidc_app.client.post(f"{OIDC}/exchange", json=proof).status_code

    with ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(exchange, range(6)))
    assert sorted(statuses) == [200] + [401] * 5
    started = [e for e, d in events(oidc_app.database.url, vault.account["id"]) if d.get("via")]
    assert started == ["session_started"]


def test_a_sign_in_finished_in_another_browser_is_refused(oidc_app: WalletApp) -> None:
    vault = oidc_app.new_vault()
    link(oidc_app, vault)
    callback_url = at_provider(start_login(oidc_app.client))
    oidc_app.client.cookies.clear()
    refused(back_at_wallet(oidc_app.client, callback_url), 401, "oidc_other_browser")


def test_the_callback_page_speaks_plainly_to_a_browser(oidc_app: WalletApp) -> None:
    vault = oidc_app.new_vault()
    link(oidc_app, vault)
    callback = urlsplit(at_provider(start_login(oidc_app.client)))
    page = oidc_app.client.get(f"{callback.path}?{callback.query}", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "one-time code" in page.text and "passphrase" in page.text
    callback = urlsplit(at_provider(start_login(oidc_app.client), login="stranger"))
    page = oidc_app.client.get(f"{callback.path}?{callback.query}", headers={"Accept": "text/html"})
    assert page.status_code == 401
    assert "not linked to a wallet account yet" in page.text


def test_one_identity_links_to_one_account(oidc_app: WalletApp) -> None:
    first, second = oidc_app.new_vault(), oidc_app.new_vault()
    link(oidc_app, first)
    response = oidc_app.client.post(f"{OIDC}/link/start", headers=bearer(second.api.token))
    taken = back_at_wallet(oidc_app.client, at_provider(response.json()["authorization_url"]))
    assert taken.status_code == 409 and "already linked to another" in taken.json()["detail"]
    # Unlinked there, it can be linked here.
    assert (
        oidc_app.client.delete(f"{OIDC}/link", headers=bearer(first.api.token)).status_code == 204
    )
    assert link(oidc_app, second)["handle"] == second.account["handle"]
    assert sign_in(oidc_app.client).json()["handle"] == second.account["handle"]


def test_provider_down_is_a_503_that_says_what_to_do(make_app: AppFactory) -> None:
    app = make_app(oidc_issuer=f"http://127.0.0.1:{free_port()}", oidc_client_id="wallet")
    response = app.client.get(f"{OIDC}/start", follow_redirects=False)
    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert "does not answer" in response.json()["detail"]
    assert "handle and passphrase" in response.json()["detail"]


def test_without_settings_the_server_says_it_is_off(wallet_app: WalletApp) -> None:
    assert wallet_app.client.get(OIDC).json() == {
        "enabled": False,
        "issuer": None,
        "start_url": None,
    }
    response = wallet_app.client.get(f"{OIDC}/start", follow_redirects=False)
    assert response.status_code == 404 and "not set up" in response.json()["detail"]


# --- authorization --------------------------------------------------------------------------


def test_every_caller_on_every_oidc_endpoint(oidc_app: WalletApp) -> None:
    app = oidc_app
    owner, stranger = app.new_vault(), app.new_vault()
    expired = app.new_vault()
    with database(app.database.url) as db:
        for session in db.exec(
            select(AuthSession).where(AuthSession.account_id == expired.account["id"])
        ):
            session.expires_at = session.created_at
            db.add(session)
        db.commit()
    http = app.client

    # Public rows behave the same with or without a session.
    for token in (None, expired.api.token, stranger.api.token):
        assert http.get(OIDC, headers=bearer(token)).json()["enabled"] is True
        assert (
            http.get(f"{OIDC}/start", headers=bearer(token), follow_redirects=False).status_code
            == 302
        )
        response = http.get(f"{OIDC}/callback?code=c&state=s", headers={**JSON, **bearer(token)})
        assert response.json()["code"] == "oidc_state_unknown"
        unknown = {"code": "x" * 32, "auth_key": b64e(bytes(32))}
        response = http.post(f"{OIDC}/exchange", json=unknown, headers=bearer(token))
        assert response.json()["code"] == "oidc_exchange_refused"
        response = http.post(f"{OIDC}/exchange/params", json=unknown, headers=bearer(token))
        assert response.json()["code"] == "oidc_exchange_refused"

    # Self rows: no session or an expired one gets 401.
    for token in (None, expired.api.token):
        for method, path in (
            ("POST", f"{OIDC}/link/start"),
            ("GET", f"{OIDC}/link"),
            ("DELETE", f"{OIDC}/link"),
        ):
            response = http.request(method, path, headers=bearer(token))
            assert response.status_code == 401, (method, path, response.text)
            assert response.headers["www-authenticate"] == "Bearer"

    # The rightful caller succeeds.
    link(app, owner)
    assert http.get(f"{OIDC}/link", headers=bearer(owner.api.token)).json()["linked"] is True
    # Another account sees only its own (empty) state and cannot unlink the owner's identity:
    # the same 404 as for an account with nothing linked.
    assert http.get(f"{OIDC}/link", headers=bearer(stranger.api.token)).json() == {
        "linked": False,
        "issuer": None,
        "linked_at": None,
        "last_login_at": None,
    }
    other = http.delete(f"{OIDC}/link", headers=bearer(stranger.api.token))
    assert other.status_code == 404
    assert http.get(f"{OIDC}/link", headers=bearer(owner.api.token)).json()["linked"] is True
    # A link started by another account binds the identity to that account, not the owner's.
    started = http.post(f"{OIDC}/link/start", headers=bearer(stranger.api.token))
    assert started.status_code == 200
    assert http.delete(f"{OIDC}/link", headers=bearer(owner.api.token)).status_code == 204
    twin = http.delete(f"{OIDC}/link", headers=bearer(owner.api.token))
    assert (twin.status_code, twin.json()) == (other.status_code, other.json())


# --- over real HTTP, with the wallet as its own process ----------------------------------


def test_the_whole_flow_over_real_http_with_the_cli(tmp_path: Path, provider: NodeProvider) -> None:
    env = {
        "WALLET_OIDC_ISSUER": provider.url,
        "WALLET_OIDC_CLIENT_ID": "wallet",
        "WALLET_LOG_LEVEL": "DEBUG",
    }
    with run_live_server(tmp_path, env) as server:
        cli = {
            **os.environ,
            "WALLET_SERVER": server.url,
            "WALLET_HOME": str(tmp_path / "home"),
            "WALLET_PASSPHRASE": TEST_PASSPHRASE,
        }
        with httpx.Client(base_url=server.url, timeout=30) as browser:
            vault, _recovery = Vault.create_account(
                ApiClient(server.url), "worker-river-12", TEST_PASSPHRASE
            )
            vault.upload(write_file(tmp_path / "letter.pdf", "live"))
            run_cli(cli, "login", "--handle", "worker-river-12")
            printed = run_cli(cli, "oidc", "link").stdout
            link_url = re.search(r"http://\S+", printed).group(0)  # type: ignore[union-attr]
            callback_url = at_provider(link_url)
            assert back_at_wallet(browser, callback_url).json()["purpose"] == "link"
            assert "Linked to" in run_cli(cli, "oidc", "status").stdout
            run_cli(cli, "logout")

            start = oidc_client.start_url(ApiClient(server.url))
            assert start == f"{LIVE_CALLBACK.rsplit('/', 1)[0]}/start"  # from WALLET_PUBLIC_URL
            login_callback = at_provider(start_login(browser))
            code = back_at_wallet(browser, login_callback).json()["code"]
            wrong = run_cli(
                {**cli, "WALLET_PASSPHRASE": "not it"}, "oidc", "login", "--code", code, check=False
            )
            assert wrong.returncode != 0 and "does not open your wallet" in wrong.stderr
            code = back_at_wallet(browser, at_provider(start_login(browser))).json()["code"]
            done = run_cli(cli, "oidc", "login", "--code", code)
            assert "Logged in as worker-river-12 through your organisation" in done.stdout
            assert "letter" in run_cli(cli, "ls").stdout
        server.process.terminate()
        server.process.wait(10)
        logs = server.log_path.read_text(errors="replace")
    # Codes, states and tokens never reach the logs, even at DEBUG.
    seen = [query(login_callback)["code"], query(login_callback)["state"], code]
    seen += [query(callback_url)["code"], query(callback_url)["state"], vault.api.token or ""]
    assert logs, "the server logged nothing at all: this check would prove nothing"
    for secret in seen:
        assert secret and secret not in logs


# --- deploy ---------------------------------------------------------------------------------


def test_the_keycloak_realm_matches_the_compose_settings() -> None:
    realm = json.loads((DEPLOY / "keycloak" / "wallet-realm.json").read_text())
    assert realm["realm"] == "wallet" and realm["enabled"] is True
    env = dict(
        line.split("=", 1)
        for line in (DEPLOY / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    clients = {client["clientId"]: client for client in realm["clients"]}
    client = clients[env["WALLET_OIDC_CLIENT_ID"]]
    assert client["publicClient"] is True
    assert client["standardFlowEnabled"] is True
    assert client["implicitFlowEnabled"] is False
    assert client["directAccessGrantsEnabled"] is False
    assert client["attributes"]["pkce.code.challenge.method"] == "S256"
    assert f"{env['WALLET_PUBLIC_URL']}/api/v1/auth/oidc/callback" in client["redirectUris"]
    assert f"/realms/{realm['realm']}/.well-known/" in env["WALLET_OIDC_DISCOVERY_URL"]
    assert "KEYCLOAK_PUBLIC_URL" in env and "WALLET_OIDC_ISSUER" in env
    compose = (DEPLOY / "compose.yaml").read_text()
    assert "./keycloak/wallet-realm.json:/opt/keycloak/data/import/" in compose
    assert "--import-realm" in compose
