"""Worker login through the organisation's sign-in, on the client.

The organisation's sign-in alone opens nothing. After the browser shows a one-time code, the
client derives the auth key and the key-encryption key from the passphrase (Argon2id, exactly as
a normal login does), trades the code plus the auth key for a session, then unlocks the private
keys. So whoever controls the sign-in service gets neither a session nor the locked keys.
"""

from __future__ import annotations

from wallet.client.api import ApiClient, ApiError
from wallet.client.vault import Vault, VaultError, check_kdf_cost, derive_credentials
from wallet.crypto.encoding import b64d, b64e
from wallet.crypto.keys import AccountKeys

NOT_OPENED = (
    "This passphrase does not open your wallet. "
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


def login_with_code(api: ApiClient, code: str, passphrase: str) -> Vault:
    """Trades the one-time code from the sign-in page, with the passphrase proof, for a session,
    then opens the wallet. The sign-in alone opens nothing: the passphrase is always needed."""
    code = code.strip()
    params = api.api("POST", "/auth/oidc/exchange/params", json={"code": code}).json()
    kdf = params["kdf"]
    check_kdf_cost(kdf["opslimit"], kdf["memlimit"])
    creds = derive_credentials(passphrase, b64d(kdf["salt"]), kdf["opslimit"], kdf["memlimit"])
    try:
        session = api.api(
            "POST", "/auth/oidc/exchange", json={"code": code, "auth_key": b64e(creds.auth_key)}
        ).json()
    except ApiError as exc:
        if exc.status == 401 and "passphrase" in exc.message:
            raise VaultError(NOT_OPENED) from exc
        raise
    api.token = session["token"]
    account = session["account"]
    keys = AccountKeys.unlock(creds.kek, b64d(account["keys_by_passphrase"]))
    vault = Vault(api, keys, account)
    vault._check_served_keys(account)
    return vault


def link_start(vault: Vault) -> str:
    """For a worker logged in with the passphrase: the page that links their work sign-in."""
    return str(vault.api.api("POST", "/auth/oidc/link/start").json()["authorization_url"])
