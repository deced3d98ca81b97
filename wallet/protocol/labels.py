"""Every domain-separation label of the wallet, in one place.

A label names what a derived key, a wrap, a hash or a signed challenge is for, so that a value
made for one purpose can never be replayed for another. Changing one breaks every key, wrap
and signature made with it: the labels are frozen at v1. The browser's copy is generated from
this module (`python -m wallet.protocol.js`), and tests/vectors/protocol/ holds every value.

Most labels are followed by `|`-separated context (`info(GRANT, grant_id, key_id)`); a few are
a plain prefix of the bytes they hash (`KEY_ID`, `SAFETY_CODE`, `RECOVERY_CHECK`,
`KDF_PIN_SALT`).
"""

from __future__ import annotations

# --- passphrase and recovery key: HKDF-SHA256 infos over the Argon2id master key ---------------
AUTH_KEY = "wallet/v1/auth-key"
KEY_ENCRYPTION_KEY = "wallet/v1/key-encryption-key"
RECOVERY_AUTH_KEY = "wallet/v1/recovery-auth-key"
RECOVERY_KEY_ENCRYPTION_KEY = "wallet/v1/recovery-key-encryption-key"
# SHA-256 prefix of the printed recovery key's check letters.
RECOVERY_CHECK = "wallet/v1/recovery-check"
# AES-GCM associated data of the private-key bundle.
PRIVATE_KEYS = "wallet/v1/private-keys"
# HMAC-SHA256 message prefix naming a profile slot: PROFILE_SLOT|field_name.
PROFILE_SLOT = "wallet/v1/profile-slot"

# --- public keys ---------------------------------------------------------------------------
# SHA-256 prefix of a public encryption key: its short id.
KEY_ID = "wallet/v1/key-id"
# SHA-256 prefix of both public keys: the safety code people read aloud.
SAFETY_CODE = "wallet/v1/safety-code"

# --- HPKE wrap infos: what is wrapped, and for whom --------------------------------------------
DOCUMENT_KEY = "wallet/v1/document-key"  # |document_id|version|recipient_key_id
PROFILE_FIELD_KEY = "wallet/v1/profile-field-key"  # |slot|recipient_key_id
GRANT = "wallet/v1/grant"  # |grant_id|recipient_key_id
MANDATE = "wallet/v1/mandate"  # |mandate_id|recipient_key_id
REQUEST = "wallet/v1/request"  # |request_id|recipient_key_id
REQUEST_ANSWER = "wallet/v1/request-answer"  # |request_id|recipient_key_id
NOTE = "wallet/v1/note"  # |note_id|recipient_key_id
TEAM_KEY = "wallet/v1/team-key"  # |org_id|team_key_id|member_key_id
# The owner's keys sealed to a trusted person for emergency access.
EMERGENCY_ACCESS = "wallet/v1/emergency-access"  # |arrangement_id|recipient_key_id

# --- share links: HKDF infos from the fragment secret, and the signed challenge ----------------
# |link_id: the web app derives a link's secret from the vault secret.
LINK_SECRET = "wallet/v1/link-secret"  # noqa: S105 (a label, not a secret)
LINK_PROOF = "wallet/v1/link-proof"  # |link_id
LINK_REDEEM = "wallet/v1/link-redeem"  # |link_id| then the server's nonce
LINK_PIN = "wallet/v1/link-pin"  # |link_id
LINK_PREVIEW = "wallet/v1/link-preview"  # |link_id
LINK_KEY = "wallet/v1/link-key"  # |link_id
# The server's own keys, from its secret (never seen by a client).
LINK_SHARE_AT_REST = "wallet/v1/link-share-at-rest"
LINK_PIN_AT_REST = "wallet/v1/link-pin-at-rest"

# --- KDF pins kept on a device -----------------------------------------------------------------
KDF_PIN_HANDLE = "wallet/v1/kdf-pin-handle"  # |handle (the web app's storage key)
KDF_PIN_SALT = "wallet/v1/kdf-pin-salt"  # SHA-256 prefix of the salt

# --- vault-head pins kept by the web app ---------------------------------------------------------
# |handle: the storage key of a handle's pins; |key: HKDF info (over the vault secret) of the
# AES-GCM key that seals them.
VAULT_HEAD_PIN = "wallet/v1/vault-head-pin"

SEPARATOR = "|"

ALL: dict[str, str] = {
    name: value
    for name, value in sorted(globals().items())
    if name.isupper() and isinstance(value, str) and value.startswith("wallet/v1/")
}


def info(label: str, *context: object) -> bytes:
    """`label|part|part…` as UTF-8: the info string of a derived key or a wrap."""
    return SEPARATOR.join([label, *(str(part) for part in context)]).encode()
