"""Worker login through the organisation's sign-in, on the client.

The organisation's sign-in alone opens nothing. After the browser shows a one-time code, the
client derives the auth key and the key-encryption key from the passphrase (Argon2id, exactly as
a normal login does), trades the code plus the auth key for a session, then unlocks the private
keys. So whoever controls the sign-in service gets neither a session nor the locked keys.
"""

from __future__ import annotations

from wallet.client.api import ApiClient, ApiError
from wallet.client.kdfpins import KdfPins
from wallet.client.vault import Vault, VaultError, derive_credentials
from wallet.client.vaulthead import HeadPins
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


def login_with_code(
    api: ApiClient,
    code: str,
    passphrase: str,
    kdf_pins: KdfPins | None = None,
    *,
    new_salt_ok: bool = False,
    head_pins: HeadPins | None = None,
) -> Vault:
    """Trades the one-time code from the sign-in page, with the passphrase proof, for a session,
    then opens the wallet. The sign-in alone opens nothing: the passphrase is always needed.
    The salt and cost are checked against what this device saw before, like a normal login."""
    code = code.strip()
    params = api.api("POST", "/auth/oidc/exchange/params", json={"code": code}).json()
    kdf = params["kdf"]
    pins = kdf_pins if kdf_pins is not None else KdfPins(None)
    salt = b64d(kdf["salt"])
    pins.check(
        api.server,
        params["handle"],
        salt,
        kdf["opslimit"],
        kdf["memlimit"],
        new_salt_ok=new_salt_ok,
    )
    creds = derive_credentials(passphrase, salt, kdf["opslimit"], kdf["memlimit"])
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
    if str(account["handle"]).strip().lower() != str(params["handle"]).strip().lower():
        # The pin was checked for the handle the server named first: it must be the same one.
        raise VaultError(
            "The service answered for another wallet than the one it asked the passphrase for. "
            "Nothing was saved. Contact the organisation that runs this service."
        )
    keys = AccountKeys.unlock(creds.kek, b64d(account["keys_by_passphrase"]))
    vault = Vault(api, keys, account, kdf_pins=pins, head_pins=head_pins)
    vault._check_served_keys(account)
    pins.pin(api.server, account["handle"], salt, kdf["opslimit"], kdf["memlimit"])
    vault.own_head()
    return vault


def link_start(vault: Vault) -> str:
    """For a worker logged in with the passphrase: the page that links their work sign-in."""
    return str(vault.api.api("POST", "/auth/oidc/link/start").json()["authorization_url"])
