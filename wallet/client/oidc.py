"""Worker login through the organisation's sign-in, on the client.

The organisation's sign-in gives a session, never the keys. After the browser shows a one-time
code, the client trades it for a session, then unlocks the private keys with the passphrase
(Argon2id, exactly as a normal login does). The auth key is not needed and is never sent.
"""

from __future__ import annotations

import contextlib
from typing import Any

from wallet.client.api import ApiClient, ApiError
from wallet.client.vault import Vault, VaultError, derive_credentials
from wallet.crypto.encoding import b64d
from wallet.crypto.keys import AccountKeys, WrongKey

NOT_OPENED = (
    "This passphrase does not open your wallet. You were logged out again. "
    "Sign in again and type your wallet passphrase (not your work password)."
)


def start_url(api: ApiClient) -> str:
    """Where to send the browser to sign in through the organisation."""
    status = api.api("GET", "/auth/oidc").json()
    if not status.get("enabled"):
        raise VaultError(
            "Sign-in through your organisation is not set up on this server. "
            "Log in with your handle and passphrase."
        )
    return str(status["start_url"])


def exchange_code(api: ApiClient, code: str) -> dict[str, Any]:
    """Trades the one-time code from the sign-in page for a session (the keys stay locked)."""
    session = api.api("POST", "/auth/oidc/exchange", json={"code": code.strip()}).json()
    api.token = session["token"]
    return session


def unlock(api: ApiClient, session: dict[str, Any], passphrase: str) -> Vault:
    """Opens the wallet of a session that came from the organisation's sign-in."""
    kdf = session["kdf"]
    account = session["account"]
    creds = derive_credentials(passphrase, b64d(kdf["salt"]), kdf["opslimit"], kdf["memlimit"])
    try:
        keys = AccountKeys.unlock(creds.kek, b64d(account["keys_by_passphrase"]))
    except WrongKey as exc:
        # Nothing useful can be done without the keys: do not leave the session open.
        with contextlib.suppress(ApiError):
            api.api("POST", "/auth/logout")
        api.token = None
        raise VaultError(NOT_OPENED) from exc
    vault = Vault(api, keys, account)
    vault._check_served_keys(account)
    return vault


def login_with_code(api: ApiClient, code: str, passphrase: str) -> Vault:
    return unlock(api, exchange_code(api, code), passphrase)


def link_start(vault: Vault) -> str:
    """For a worker logged in with the passphrase: the page that links their work sign-in."""
    return str(vault.api.api("POST", "/auth/oidc/link/start").json()["authorization_url"])
