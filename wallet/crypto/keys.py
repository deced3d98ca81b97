"""An account's private keys, and how they are locked by the passphrase or the recovery key."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

import nacl.signing
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from wallet.crypto.encoding import b64d, b64e
from wallet.crypto.wrap import key_id
from wallet.protocol import labels

_KEY_BUNDLE_AAD = labels.PRIVATE_KEYS.encode()
_NONCE_BYTES = 12


class WrongKey(Exception):
    """The passphrase or recovery key does not open these private keys."""


@dataclass(frozen=True)
class AccountKeys:
    encryption_key: X25519PrivateKey
    signing_key: nacl.signing.SigningKey
    # Names the profile slots, so the server cannot tell which fields a person filled in.
    vault_secret: bytes

    @classmethod
    def generate(cls) -> AccountKeys:
        return cls(
            X25519PrivateKey.generate(), nacl.signing.SigningKey.generate(), secrets.token_bytes(32)
        )

    @property
    def public_encryption_key(self) -> bytes:
        return self.encryption_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def public_signing_key(self) -> bytes:
        return bytes(self.signing_key.verify_key)

    @property
    def key_id(self) -> str:
        return key_id(self.public_encryption_key)

    def profile_slot(self, field_name: str) -> str:
        mac = hmac.new(self.vault_secret, labels.info(labels.PROFILE_SLOT, field_name), "sha256")
        return mac.hexdigest()[:32]

    def to_bytes(self) -> bytes:
        raw_x25519 = self.encryption_key.private_bytes(
            Encoding.Raw, PrivateFormat.Raw, NoEncryption()
        )
        return json.dumps(
            {
                "v": 1,
                "x25519": b64e(raw_x25519),
                "ed25519_seed": b64e(bytes(self.signing_key)),
                "vault_secret": b64e(self.vault_secret),
            }
        ).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> AccountKeys:
        bundle = json.loads(data)
        return cls(
            X25519PrivateKey.from_private_bytes(b64d(bundle["x25519"])),
            nacl.signing.SigningKey(b64d(bundle["ed25519_seed"])),
            b64d(bundle["vault_secret"]),
        )

    def lock(self, key_encryption_key: bytes) -> bytes:
        """AES-256-GCM under the KEK: nonce || ciphertext."""
        nonce = secrets.token_bytes(_NONCE_BYTES)
        return nonce + AESGCM(key_encryption_key).encrypt(nonce, self.to_bytes(), _KEY_BUNDLE_AAD)

    @classmethod
    def unlock(cls, key_encryption_key: bytes, locked: bytes) -> AccountKeys:
        nonce, ciphertext = locked[:_NONCE_BYTES], locked[_NONCE_BYTES:]
        try:
            plain = AESGCM(key_encryption_key).decrypt(nonce, ciphertext, _KEY_BUNDLE_AAD)
        except (InvalidTag, ValueError) as exc:
            raise WrongKey("wrong passphrase or recovery key") from exc
        return cls.from_bytes(plain)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
