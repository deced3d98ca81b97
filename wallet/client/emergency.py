"""Emergency access on the client (sharing/emergency on the server).

The owner names a trusted person (an account, checked against the keys this computer pinned
for them, like a grant), picks `view` or `takeover` and a waiting period of 1 to 30 days. The
owner's keys are sealed to the trusted person's key with HPKE (label EMERGENCY_ACCESS) and the
owner signs an emergency-access statement naming that person, their key, the access, the wait
and the hash of the sealed keys. What is sealed:

- view: the X25519 private key (opens every document and profile key) and the vault secret
  (names the profile slots). Not the signing key: the trusted person cannot sign as the owner.
- takeover: the whole private-key bundle, what the passphrase and the recovery key lock. With
  it the trusted person locks the same keys under a new passphrase for the owner.

The server hands the sealed keys over only once the wait has passed after a request the owner
did not refuse. The trusted person's client checks the owner's signature, that the keys it
opened are the owner's (their public halves), and the owner's signed head: an arrangement the
owner ended is listed with the revoked grants and refused, whatever the server says.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import nacl.signing
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from wallet.client.api import ApiClient, ApiError
from wallet.client.contacts import PinStore, person, safety_code
from wallet.client.errors import IntegrityFailure, VaultError
from wallet.client.vault import Vault, VaultHooks, new_credentials
from wallet.client.vaulthead import check_counterpart
from wallet.crypto.encoding import b64d, b64e
from wallet.crypto.keys import AccountKeys
from wallet.crypto.signing import BadSignature, sign, verify
from wallet.crypto.wrap import UnwrapError, key_id, open_sealed, seal
from wallet.protocol import labels, statements

ACCESS = ("view", "takeover")
NOT_SIGNED = (
    "This emergency access is not signed by the person who gave it, or it was changed. "
    "Nothing was opened."
)


def emergency_info(arrangement_id: str, recipient_key_id: str) -> bytes:
    return labels.info(labels.EMERGENCY_ACCESS, arrangement_id, recipient_key_id)


def _package(keys: AccountKeys, access: str) -> bytes:
    if access == "takeover":
        return keys.to_bytes()
    raw = keys.encryption_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return json.dumps(
        {"v": 1, "x25519": b64e(raw), "vault_secret": b64e(keys.vault_secret)}
    ).encode()


# --- the owner ------------------------------------------------------------------------------


@dataclass
class Added:
    id: str
    trusted: str
    safety_code: str
    first_contact: bool


def add(
    vault: Vault,
    handle: str,
    *,
    access: str,
    wait_days: int,
    pins: PinStore,
    accept_new_key: bool = False,
) -> Added:
    if access not in ACCESS:
        raise VaultError("Choose what the person gets: view or takeover.")
    if not 1 <= wait_days <= 30:
        raise VaultError("The waiting period is from 1 to 30 days.")
    trusted, first = person(vault, handle, pins, accept_new_key)
    if trusted["handle"] == vault.account["handle"]:
        raise VaultError("You cannot name yourself as your trusted person.")
    arrangement_id = uuid.uuid4().hex
    sealed = seal(
        b64d(trusted["public_encryption_key"]),
        _package(vault.keys, access),
        emergency_info(arrangement_id, trusted["key_id"]),
    )
    statement, signature = sign(
        vault.keys.signing_key,
        statements.EMERGENCY_ACCESS.build(
            arrangement_id=arrangement_id,
            owner=vault.account["handle"],
            owner_key_id=vault.keys.key_id,
            trusted=trusted["handle"],
            trusted_key_id=trusted["key_id"],
            trusted_signing_key=trusted["public_signing_key"],
            access=access,
            wait_days=wait_days,
            sealed_sha256=hashlib.sha256(sealed).hexdigest(),
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        ),
    )
    vault.api.api(
        "POST",
        "/emergency",
        json={
            "arrangement_id": arrangement_id,
            "trusted_handle": trusted["handle"],
            "trusted_key_id": trusted["key_id"],
            "access": access,
            "wait_days": wait_days,
            "statement": b64e(statement),
            "signature": b64e(signature),
            "sealed": b64e(sealed),
        },
    )
    code = safety_code(b64d(trusted["public_encryption_key"]), b64d(trusted["public_signing_key"]))
    return Added(arrangement_id, trusted["handle"], code, first)


def _signed_terms(row: dict[str, Any], owner_signing_key: bytes) -> dict[str, Any]:
    try:
        message = b64d(row["statement"])
        verify(owner_signing_key, message, b64d(row["signature"]))
        signed = statements.EMERGENCY_ACCESS.parse(message)
    except (BadSignature, statements.StatementError, ValueError) as exc:
        raise IntegrityFailure(NOT_SIGNED) from exc
    if (
        signed["arrangement_id"] != row["id"]
        or signed["access"] != row["access"]
        or signed["wait_days"] != row["wait_days"]
        or signed["trusted"] != row["trusted"]["handle"]
        or signed["trusted_key_id"] != row["trusted"]["key_id"]
        or signed["owner"] != row["owner"]["handle"]
    ):
        raise IntegrityFailure(NOT_SIGNED)
    return signed


def given(vault: Vault) -> list[dict[str, Any]]:
    """Every arrangement the owner made, each checked against the owner's own signature; one
    the owner's signed head lists as ended is shown ended, whatever the server says."""
    rows: list[dict[str, Any]] = vault.api.api("GET", "/emergency").json()
    revived = []
    for row in rows:
        _signed_terms(row, vault.keys.public_signing_key)
        if vault.is_revoked("grants", row["id"]):
            if row["state"] != "ended":
                revived.append(row["id"])
            row["state"] = "ended"
    vault.refuse_revived(revived)
    return rows


def waiting(vault: Vault) -> list[dict[str, Any]]:
    """Requests the owner must see now: waiting (can be refused) or already released."""
    return [row for row in given(vault) if row["state"] in ("waiting", "released")]


def refuse(vault: Vault, arrangement_id: str) -> dict[str, Any]:
    result: dict[str, Any] = vault.api.api("POST", f"/emergency/{arrangement_id}/refuse").json()
    return result


def end(vault: Vault, arrangement_id: str) -> None:
    """Ends it for good, under the owner's next head listing it with the revoked grants."""
    vault.covered_change(
        "POST",
        f"/emergency/{arrangement_id}/end",
        lambda state: state.revoked_grants.add(arrangement_id),
    )


# --- the trusted person ----------------------------------------------------------------------


def received(vault: Vault) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = vault.api.api("GET", "/emergency/received").json()
    return rows


def request(vault: Vault, arrangement_id: str) -> dict[str, Any]:
    row: dict[str, Any] = vault.api.api("POST", f"/emergency/{arrangement_id}/request").json()
    return row


@dataclass(frozen=True)
class ReadKeys(AccountKeys):
    """The owner's keys for reading only: their X25519 key and vault secret, and the public
    half of their signing key (to check what they signed). `signing_key` is a throwaway key
    that never signs anything of the owner's."""

    owner_signing_public: bytes = b""

    @property
    def public_signing_key(self) -> bytes:
        return self.owner_signing_public


class EmergencyApi(ApiClient):
    """The owner's own read endpoints, as the trusted person reaches them under a released
    arrangement: /documents, /profile and /vault/head become /emergency/{id}/... Nothing else
    goes through (a refusal is not written to the owner's journal from here)."""

    READABLE = ("/documents", "/profile", "/vault/head")

    def __init__(self, api: ApiClient, arrangement_id: str) -> None:
        super().__init__(api.server, token=api.token, http=api.http)
        self.prefix = f"/emergency/{arrangement_id}"

    def _mapped(self, path: str) -> str:
        if not path.startswith(self.READABLE):
            raise ApiError(0, "Not available under emergency access.")
        return self.prefix + path

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        if method != "GET":
            raise ApiError(0, "Emergency access lets you read only.")
        return super().api(method, self._mapped(path), **kwargs)

    def stream(self, path: str, headers: dict[str, str] | None = None) -> Any:
        return super().stream(self._mapped(path), headers=headers)


@dataclass
class Opened:
    id: str
    access: str
    owner: dict[str, Any]
    keys: AccountKeys


def open_keys(vault: Vault, arrangement_id: str, pins: PinStore) -> Opened:
    """The owner's keys, once released, after every check: the owner's key as this computer
    pinned it, the owner's signature, the terms naming this person and key, the owner's head
    (not ended), and that the keys opened are the owner's."""
    try:
        opened = vault.api.api("GET", f"/emergency/{arrangement_id}/open").json()
    except ApiError as exc:
        if exc.status == 404:
            raise VaultError("No emergency access with this id for you, or it has ended.") from exc
        raise
    owner = opened["owner"]
    if owner["key_id"] != key_id(b64d(owner["public_encryption_key"])):
        raise IntegrityFailure(NOT_SIGNED)
    pins.check(owner["handle"], owner)  # KeyChanged if the server shows another key
    owner_signing = b64d(owner["public_signing_key"])
    try:
        message = b64d(opened["statement"])
        verify(owner_signing, message, b64d(opened["signature"]))
        signed = statements.EMERGENCY_ACCESS.parse(message)
    except (BadSignature, statements.StatementError, ValueError) as exc:
        raise IntegrityFailure(NOT_SIGNED) from exc
    sealed = b64d(opened["sealed"])
    if (
        signed["arrangement_id"] != arrangement_id
        or signed["owner"] != owner["handle"]
        or signed["owner_key_id"] != owner["key_id"]
        or signed["trusted"] != vault.account["handle"]
        or signed["trusted_key_id"] != vault.keys.key_id
        or signed["access"] != opened["access"]
        or signed["sealed_sha256"] != hashlib.sha256(sealed).hexdigest()
    ):
        raise IntegrityFailure(NOT_SIGNED)
    check_counterpart(
        vault.api.api("GET", f"/emergency/{arrangement_id}/head").json(),
        kind="grants",
        item_id=arrangement_id,
        owner=owner["handle"],
        owner_signing_key=owner_signing,
        pins=vault.head_pins,
        server=vault.api.server,
    )
    try:
        package = json.loads(
            open_sealed(
                vault.keys.encryption_key, sealed, emergency_info(arrangement_id, vault.keys.key_id)
            )
        )
        encryption_key = X25519PrivateKey.from_private_bytes(b64d(package["x25519"]))
        vault_secret = b64d(package["vault_secret"])
        keys: AccountKeys
        if signed["access"] == "takeover":
            keys = AccountKeys.from_bytes(json.dumps(package).encode())
        else:
            keys = ReadKeys(
                encryption_key,
                nacl.signing.SigningKey.generate(),
                vault_secret,
                owner_signing_public=owner_signing,
            )
    except (UnwrapError, ValueError, KeyError, TypeError) as exc:
        raise IntegrityFailure(NOT_SIGNED) from exc
    if (
        keys.public_encryption_key != b64d(owner["public_encryption_key"])
        or keys.public_signing_key != owner_signing
    ):
        raise IntegrityFailure("The keys handed over are not this person's. Nothing was opened.")
    return Opened(arrangement_id, signed["access"], owner, keys)


def owner_vault(vault: Vault, arrangement_id: str, pins: PinStore) -> Vault:
    """The owner's wallet to read (list, get, profile), every document checked against the
    owner's signature and head as the owner's own client checks it."""
    opened = open_keys(vault, arrangement_id, pins)
    return Vault(
        EmergencyApi(vault.api, arrangement_id),
        opened.keys,
        {"handle": opened.owner["handle"]},
        hooks=VaultHooks(),
        head_pins=vault.head_pins,
    )


def take_over(vault: Vault, arrangement_id: str, new_passphrase: str, pins: PinStore) -> str:
    """Chooses a new passphrase for the owner: their keys, locked under it, replace the old
    lock; every session of the owner ends. Returns the owner's handle."""
    if len(new_passphrase) < 10:
        raise VaultError("Choose a longer passphrase: at least 10 characters. Nothing was changed.")
    opened = open_keys(vault, arrangement_id, pins)
    if opened.access != "takeover":
        raise VaultError("This emergency access lets you read the papers, not choose a passphrase.")
    params = vault.api.api("GET", "/accounts/params").json()
    creds = new_credentials(new_passphrase, params["opslimit"], params["memlimit"])
    vault.api.api(
        "POST",
        f"/emergency/{arrangement_id}/takeover",
        json={
            "kdf_salt": b64e(creds.salt),
            "kdf_opslimit": creds.opslimit,
            "kdf_memlimit": creds.memlimit,
            "auth_key": b64e(creds.auth_key),
            "keys_by_passphrase": b64e(opened.keys.lock(creds.kek)),
        },
    )
    handle: str = opened.owner["handle"]
    return handle
