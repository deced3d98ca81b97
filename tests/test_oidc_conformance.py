"""Conformance: the wallet as an OpenID Connect client of oidc-provider, the OpenID-certified
Node provider (pinned in tests/oidc-node/package-lock.json), each case with the provider
configured to make it happen. The person's part is played on the provider's own login and
consent pages (ProviderPages; tests/browser/test_oidc_provider.py does it in Chromium).

- Client authentication: a confidential client whose secret is `a+b/c=d%e f:g` signs in with
  client_secret_basic (RFC 6749 §2.3.1 encoding), client_secret_post and private_key_jwt
  (the key's JWKS as `wallet oidc jwks` prints it), each against a client registered for that
  method; the wrong method, secret or key is refused in plain words.
- RFC 9207: the provider names itself in every answer; a callback whose `iss` is changed,
  empty or missing is refused like a wrong issuer, on success and on error answers.
- The provider's clock ahead of or behind the wallet's; the person cancelling; an issuer
  setting that does not match the provider.

Runs alone: `pytest tests/test_oidc_conformance.py` (SQLite), with
WALLET_TEST_DATABASE_URL=postgresql+psycopg://... on PostgreSQL. Needs node and
tests/oidc-node/node_modules (scripts/install.sh runs `npm ci` there).
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pydantic import ValidationError

from tests.conftest import TEST_PASSPHRASE, AppFactory, WalletApp, run_cli
from tests.oidc_provider import (
    NodeProvider,
    ProviderPages,
    confidential_client,
    node_provider_missing,
    public_client,
    start_node_provider,
)
from tests.test_grants import write_file
from tests.test_oidc import (
    OIDC,
    TESTSERVER_CALLBACK,
    WRONG_ISSUER,
    back_at_wallet,
    bearer,
    events,
    query,
    refused,
    start_login,
)
from wallet.client import oidc as oidc_client
from wallet.settings import Settings

SECRET = "a+b/c=d%e f:g"
CLIENT_ID = "wallet-confidential"
CLIENT_REFUSED = (
    "The sign-in service does not accept the wallet's own credentials. Nothing was changed. "
    "Ask your IT team to check the wallet settings (client id, secret or key, and how the "
    "wallet proves itself)."
)


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProvider]:
    missing = node_provider_missing()
    if missing:
        pytest.fail(missing)
    with start_node_provider(tmp_path_factory.mktemp("oidc-provider")) as running:
        yield running


def write_key(path: Path, kind: str) -> Path:
    private = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if kind == "rsa"
        else ec.generate_private_key(ec.SECP256R1())
    )
    path.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)
    return path


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("oidc-keys")
    return {kind: write_key(folder / f"{kind}.pem", kind) for kind in ("rsa", "ec", "other")}


def printed_jwks(key_file: Path) -> dict[str, object]:
    """What the operator gives the organisation's IT team: `wallet oidc jwks`."""
    env = {**os.environ, "WALLET_OIDC_CLIENT_KEY_FILE": str(key_file)}
    jwks: dict[str, object] = json.loads(run_cli(env, "oidc", "jwks").stdout)
    return jwks


def at_provider(authorization_url: str, login: str = "worker-1", **kw: str) -> str:
    with ProviderPages(login) as pages:
        return pages.sign_in(authorization_url, **kw)


def link(app: WalletApp, login: str = "worker-1") -> tuple[str, dict[str, object]]:
    """A new account links its organisation sign-in; returns its handle and account."""
    vault = app.new_vault()
    started = app.client.post(f"{OIDC}/link/start", headers=bearer(vault.api.token))
    assert started.status_code == 200, started.text
    finished = back_at_wallet(app.client, at_provider(started.json()["authorization_url"], login))
    assert finished.status_code == 200, finished.text
    assert finished.json()["purpose"] == "link"
    return vault.account["handle"], vault.account


def sign_in(app: WalletApp, login: str = "worker-1") -> httpx.Response:
    return back_at_wallet(app.client, at_provider(start_login(app.client), login))


def wallet_settings(provider: NodeProvider, **values: object) -> dict[str, object]:
    return {
        "oidc_issuer": provider.url,
        "oidc_client_id": "wallet",
        "public_url": "http://testserver",
        **values,
    }


@pytest.fixture
def public_app(make_app: AppFactory, provider: NodeProvider) -> WalletApp:
    provider.configure(public_client("wallet", TESTSERVER_CALLBACK))
    return make_app(**wallet_settings(provider))


# --- client authentication --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "key"),
    [
        ("client_secret_basic", None),
        ("client_secret_post", None),
        ("private_key_jwt", "rsa"),
        ("private_key_jwt", "ec"),
    ],
)
def test_a_confidential_client_signs_in_with_each_method(
    make_app: AppFactory,
    provider: NodeProvider,
    keys: dict[str, Path],
    tmp_path: Path,
    method: str,
    key: str | None,
) -> None:
    key_file = keys[key] if key else None
    jwks = printed_jwks(key_file) if key_file else None
    provider.configure(
        confidential_client(CLIENT_ID, method, TESTSERVER_CALLBACK, secret=SECRET, jwks=jwks)
    )
    assert method in provider.discovery()["token_endpoint_auth_methods_supported"]
    app = make_app(
        **wallet_settings(
            provider,
            oidc_client_id=CLIENT_ID,
            oidc_client_secret=SECRET,
            oidc_client_auth=method,
            oidc_client_key_file=key_file,
        )
    )
    handle, _account = link(app)
    vault = oidc_client.login_with_code(app.api(), sign_in(app).json()["code"], TEST_PASSPHRASE)
    assert vault.account["handle"] == handle
    document_id, _version = vault.upload(write_file(tmp_path / "payslip.pdf", method))
    assert [d.id for d in vault.list_documents()] == [document_id]


@pytest.mark.parametrize(
    ("registered", "used"),
    [("private_key_jwt", "client_secret_basic"), ("client_secret_post", "private_key_jwt")],
)
def test_a_client_that_proves_itself_another_way_is_refused_plainly(
    make_app: AppFactory, provider: NodeProvider, keys: dict[str, Path], registered: str, used: str
) -> None:
    """A key where a secret is registered, or the reverse. (oidc-provider takes a secret in
    the header or the body alike, whichever of the two was registered.)"""
    jwks = printed_jwks(keys["rsa"]) if registered == "private_key_jwt" else None
    provider.configure(
        confidential_client(CLIENT_ID, registered, TESTSERVER_CALLBACK, secret=SECRET, jwks=jwks)
    )
    app = make_app(
        **wallet_settings(
            provider,
            oidc_client_id=CLIENT_ID,
            oidc_client_secret=SECRET,
            oidc_client_auth=used,
            oidc_client_key_file=keys["rsa"] if used == "private_key_jwt" else None,
        )
    )
    # Linking needs the token endpoint too: it is refused there.
    vault = app.new_vault()
    started = app.client.post(f"{OIDC}/link/start", headers=bearer(vault.api.token)).json()
    answer = back_at_wallet(app.client, at_provider(started["authorization_url"]))
    assert refused(answer, 401, "oidc_client_refused") == CLIENT_REFUSED


@pytest.mark.parametrize("wrong", ["secret", "key"])
def test_a_wrong_secret_or_key_is_refused_plainly(
    make_app: AppFactory, provider: NodeProvider, keys: dict[str, Path], wrong: str
) -> None:
    if wrong == "secret":
        method, key_file = "client_secret_basic", None
        provider.configure(
            confidential_client(CLIENT_ID, method, TESTSERVER_CALLBACK, secret=SECRET)
        )
        secret = SECRET.replace("a", "A")
    else:
        # The provider knows the wallet's RSA key; the wallet signs with another one.
        method, key_file, secret = "private_key_jwt", keys["other"], ""
        provider.configure(
            confidential_client(
                CLIENT_ID, method, TESTSERVER_CALLBACK, jwks=printed_jwks(keys["rsa"])
            )
        )
    app = make_app(
        **wallet_settings(
            provider,
            oidc_client_id=CLIENT_ID,
            oidc_client_secret=secret,
            oidc_client_auth=method,
            oidc_client_key_file=key_file,
        )
    )
    vault = app.new_vault()
    started = app.client.post(f"{OIDC}/link/start", headers=bearer(vault.api.token)).json()
    answer = back_at_wallet(app.client, at_provider(started["authorization_url"]))
    assert refused(answer, 401, "oidc_client_refused") == CLIENT_REFUSED


def test_a_key_file_gone_after_the_start_is_a_503_that_says_what_to_do(
    make_app: AppFactory, provider: NodeProvider, tmp_path: Path
) -> None:
    key_file = write_key(tmp_path / "gone.pem", "rsa")
    provider.configure(
        confidential_client(
            CLIENT_ID, "private_key_jwt", TESTSERVER_CALLBACK, jwks=printed_jwks(key_file)
        )
    )
    app = make_app(
        **wallet_settings(
            provider,
            oidc_client_id=CLIENT_ID,
            oidc_client_auth="private_key_jwt",
            oidc_client_key_file=key_file,
        )
    )
    vault = app.new_vault()
    started = app.client.post(f"{OIDC}/link/start", headers=bearer(vault.api.token)).json()
    key_file.unlink()
    answer = back_at_wallet(app.client, at_provider(started["authorization_url"]))
    message = refused(answer, 503, "oidc_client_key_unreadable")
    assert "cannot read its own sign-in key" in message and "IT team" in message


def test_the_secret_needs_the_rfc_6749_encoding_at_this_provider(provider: NodeProvider) -> None:
    """Why the encoding matters: the same secret in a Basic header without it (what Authlib's
    own client_secret_basic sends) is not this client at all. The provider checks the client
    before the code, so a made-up code tells the two apart."""
    provider.configure(
        confidential_client(CLIENT_ID, "client_secret_basic", TESTSERVER_CALLBACK, secret=SECRET)
    )
    token = provider.discovery()["token_endpoint"]
    form = {"grant_type": "authorization_code", "code": "x" * 43, "code_verifier": "v" * 43}
    form["redirect_uri"] = TESTSERVER_CALLBACK

    def basic(user: str, password: str) -> dict[str, str]:
        pair = f"{user}:{password}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode()}

    raw = httpx.post(token, data=form, headers=basic(CLIENT_ID, SECRET), timeout=10)
    assert raw.status_code == 400 and raw.json()["error"] == "invalid_request", raw.text
    assert "not properly encoded" in raw.json()["error_description"]
    encoded = urlencode({"u": CLIENT_ID, "p": SECRET})  # application/x-www-form-urlencoded
    user, password = (part.split("=", 1)[1] for part in encoded.split("&"))
    assert password == "a%2Bb%2Fc%3Dd%25e+f%3Ag"
    right = httpx.post(token, data=form, headers=basic(user, password), timeout=10)
    assert right.status_code == 400 and right.json()["error"] == "invalid_grant", right.text


def test_client_authentication_settings_are_checked_at_start(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    base = {"oidc_issuer": "https://sso.example.org", "oidc_client_id": "wallet"}
    for values, words in [
        ({"oidc_client_auth": "client_secret_post"}, "needs WALLET_OIDC_CLIENT_SECRET"),
        ({"oidc_client_auth": "private_key_jwt"}, "needs WALLET_OIDC_CLIENT_KEY_FILE"),
        (
            {"oidc_client_auth": "private_key_jwt", "oidc_client_key_file": tmp_path / "none"},
            "cannot read WALLET_OIDC_CLIENT_KEY_FILE",
        ),
        ({"oidc_client_auth": "none", "oidc_client_secret": "s"}, "is a public client"),
        ({"oidc_client_auth": "client_secret_jwt"}, "oidc_client_auth"),
    ]:
        with pytest.raises(ValidationError, match=words):
            Settings(**base, **values)
    not_a_key = tmp_path / "cert.pem"
    not_a_key.write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    with pytest.raises(ValidationError, match="not an unencrypted PEM private key"):
        Settings(**base, oidc_client_auth="private_key_jwt", oidc_client_key_file=not_a_key)
    small = tmp_path / "small.pem"
    small.write_bytes(
        rsa.generate_private_key(public_exponent=65537, key_size=1024).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(ValidationError, match="RSA key of 2048 bits or more"):
        Settings(**base, oidc_client_auth="private_key_jwt", oidc_client_key_file=small)
    # Without a method: none for a public client, client_secret_basic with a secret.
    assert Settings(**base).oidc_token_auth_method == "none"
    with_secret = Settings(**base, oidc_client_secret="s")
    assert with_secret.oidc_token_auth_method == "client_secret_basic"


def test_the_jwks_command_prints_only_the_public_key(keys: dict[str, Path]) -> None:
    for kind, kty, alg in (("rsa", "RSA", "RS256"), ("ec", "EC", "ES256")):
        jwks = printed_jwks(keys[kind])
        (key,) = jwks["keys"]
        assert key["kty"] == kty and key["alg"] == alg and key["use"] == "sig"
        assert len(key["kid"]) == 43  # the RFC 7638 thumbprint, base64url
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key), "a private member is printed"
    missing = run_cli(
        {k: v for k, v in os.environ.items() if k != "WALLET_OIDC_CLIENT_KEY_FILE"},
        "oidc",
        "jwks",
        check=False,
    )
    assert missing.returncode == 1 and "--key-file" in missing.stderr


# --- RFC 9207: the issuer in the authorization response -----------------------------------


def test_the_provider_names_itself_in_every_answer(
    public_app: WalletApp, provider: NodeProvider
) -> None:
    assert provider.discovery()["authorization_response_iss_parameter_supported"] is True
    handle, _account = link(public_app)
    callback_url = at_provider(start_login(public_app.client))
    assert query(callback_url)["iss"] == provider.url
    assert back_at_wallet(public_app.client, callback_url).json()["handle"] == handle


@pytest.mark.parametrize(
    "tamper",
    ["another issuer", "the issuer with a slash", "empty", "missing"],
)
def test_a_callback_with_a_changed_or_missing_iss_is_refused(
    public_app: WalletApp, provider: NodeProvider, tamper: str
) -> None:
    app = public_app
    handle, _account = link(app)
    genuine = at_provider(start_login(app.client))
    answer = query(genuine)
    if tamper == "missing":
        del answer["iss"]
    else:
        answer["iss"] = {
            "another issuer": "http://127.0.0.1:1",
            "the issuer with a slash": provider.url + "/",
            "empty": "",
        }[tamper]
    changed = f"{TESTSERVER_CALLBACK}?{urlencode(answer)}"
    message = refused(back_at_wallet(app.client, changed), 401, "oidc_wrong_issuer")
    assert message == WRONG_ISSUER
    # The answer spoilt this sign-in (its state is used up); a new one works.
    refused(back_at_wallet(app.client, genuine), 409, "oidc_state_used")
    assert sign_in(app).json()["handle"] == handle


@pytest.mark.parametrize("iss", ["genuine", "changed"])
def test_an_error_answer_is_checked_for_its_issuer_too(
    public_app: WalletApp, provider: NodeProvider, iss: str
) -> None:
    link(public_app)
    cancelled = at_provider(start_login(public_app.client), cancel_at="consent")
    answer = query(cancelled)
    assert answer["error"] == "access_denied" and answer["iss"] == provider.url
    if iss == "genuine":
        message = refused(
            back_at_wallet(public_app.client, cancelled), 401, "oidc_provider_refused"
        )
        assert "did not sign you in (access_denied)" in message
    else:
        answer["iss"] = "http://127.0.0.1:1"
        changed = f"{TESTSERVER_CALLBACK}?{urlencode(answer)}"
        message = refused(back_at_wallet(public_app.client, changed), 401, "oidc_wrong_issuer")
        assert message == WRONG_ISSUER


# --- the provider's clock and the issuer setting ------------------------------------------


@pytest.mark.parametrize("skew", [+7200, -7200])
def test_a_provider_clock_far_off_is_refused_and_journaled(
    public_app: WalletApp, provider: NodeProvider, skew: int
) -> None:
    """Ahead: the token is issued in the future. Behind: it expired before it arrived (it
    lives 60 s; the wallet allows 60 s of difference)."""
    app = public_app
    _handle, account = link(app)
    provider.configure(
        public_client("wallet", TESTSERVER_CALLBACK), clock_skew_seconds=skew, id_token_ttl=60
    )
    message = refused(sign_in(app), 401, "oidc_expired")
    assert "check the clocks of both services" in message
    failed = [
        d for e, d in events(app.database.url, str(account["id"])) if e == "oidc_login_failed"
    ]
    assert failed == [{"reason": "oidc_expired"}]


def test_a_small_clock_difference_is_allowed(public_app: WalletApp, provider: NodeProvider) -> None:
    handle, _account = link(public_app)
    provider.configure(public_client("wallet", TESTSERVER_CALLBACK), clock_skew_seconds=45)
    assert sign_in(public_app).json()["handle"] == handle


def test_an_issuer_setting_that_does_not_match_the_provider_is_refused_at_start(
    make_app: AppFactory, provider: NodeProvider
) -> None:
    provider.configure(public_client("wallet", TESTSERVER_CALLBACK))
    app = make_app(**wallet_settings(provider, oidc_issuer=provider.url + "/"))
    started = app.client.get(f"{OIDC}/start", follow_redirects=False)
    assert refused(started, 401, "oidc_wrong_issuer") == WRONG_ISSUER


def test_cancelling_at_the_login_page_is_refused_plainly(public_app: WalletApp) -> None:
    link(public_app)
    cancelled = at_provider(start_login(public_app.client), cancel_at="login")
    message = refused(back_at_wallet(public_app.client, cancelled), 401, "oidc_provider_refused")
    assert "Start the sign-in again" in message
