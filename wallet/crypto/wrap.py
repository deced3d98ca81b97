"""Key wraps: HPKE (RFC 9180) base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM.

A wrap is `enc || ciphertext` (single-shot seal, empty AAD); `info` binds what is wrapped and for
whom, so a wrap cannot be replayed onto another document, version or recipient.
"""

import hashlib

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from wallet.protocol import labels

SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)


class UnwrapError(Exception):
    pass


def key_id(public_key: bytes) -> str:
    """Short stable name for a public key; appears in wrap info strings and on the server."""
    return hashlib.sha256(labels.KEY_ID.encode() + public_key).hexdigest()[:32]


def document_key_info(document_id: str, version: int, recipient_key_id: str) -> bytes:
    return labels.info(labels.DOCUMENT_KEY, document_id, version, recipient_key_id)


def profile_field_info(slot: str, recipient_key_id: str) -> bytes:
    return labels.info(labels.PROFILE_FIELD_KEY, slot, recipient_key_id)


def seal(recipient_public_key: bytes, plaintext: bytes, info: bytes) -> bytes:
    public = X25519PublicKey.from_public_bytes(recipient_public_key)
    return SUITE.encrypt(plaintext, public, info=info)


def open_sealed(private_key: X25519PrivateKey, wrapped: bytes, info: bytes) -> bytes:
    try:
        return SUITE.decrypt(wrapped, private_key, info=info)
    except (InvalidTag, ValueError) as exc:
        raise UnwrapError("this key was not wrapped for you, or it was changed") from exc
