"""Conformance: the wallet as an OpenID Connect client of oidc-provider, the OpenID-certified
Node provider (pinned in tests/oidc-node/package-lock.json), each case with the provider
configured to make it happen. The person's part is played on the provider's own login and
consent pages (ProviderPages; tests/browser/test_oidc_provider.py does it in Chromium).

- RFC 9207: the provider names itself in every answer; a callback whose `iss` is changed,
  empty or missing is refused like a wrong issuer, on success and on error answers.
- The provider's clock ahead of or behind the wallet's; the person cancelling; an issuer
  setting that does not match the provider.

Runs alone: `pytest tests/test_oidc_conformance.py` (SQLite), with
WALLET_TEST_DATABASE_URL=postgresql+psycopg://... on PostgreSQL. Needs node and
tests/oidc-node/node_modules (scripts/install.sh runs `npm ci` there).
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

import httpx
import pytest

from tests.conftest import AppFactory, WalletApp
from tests.oidc_provider import (
    NodeProvider,
    ProviderPages,
    node_provider_missing,
    public_client,
    start_node_provider,
)
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


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProvider]:
    missing = node_provider_missing()
    if missing:
        pytest.fail(missing)
    with start_node_provider(tmp_path_factory.mktemp("oidc-provider")) as running:
        yield running


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
