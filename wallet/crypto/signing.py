"""Ed25519 signatures over canonical JSON (PyNaCl)."""

from typing import Any

import nacl.exceptions
import nacl.signing

from wallet.crypto.encoding import canonical_json


class BadSignature(Exception):
    pass


def sign(signing_key: nacl.signing.SigningKey, value: dict[str, Any]) -> tuple[bytes, bytes]:
    """Returns (message, signature)."""
    message = canonical_json(value)
    return message, signing_key.sign(message).signature


def verify(public_key: bytes, message: bytes, signature: bytes) -> None:
    try:
        nacl.signing.VerifyKey(public_key).verify(message, signature)
    except (nacl.exceptions.BadSignatureError, ValueError, TypeError) as exc:
        raise BadSignature("signature does not match") from exc
