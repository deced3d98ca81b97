"""The twelve-digit safety code two parties read aloud to check they see the same keys.

One definition for the client (which computes its own before trusting a key) and the server
(which shows an organisation's code on its public page, as a convenience only)."""

from __future__ import annotations

import hashlib

from wallet.protocol import labels


def fingerprint(public_encryption_key: bytes, public_signing_key: bytes) -> str:
    return hashlib.sha256(
        labels.SAFETY_CODE.encode() + public_encryption_key + public_signing_key
    ).hexdigest()


def safety_code(public_encryption_key: bytes, public_signing_key: bytes) -> str:
    """Twelve digits two people read aloud to each other to check they see the same keys."""
    number = int(fingerprint(public_encryption_key, public_signing_key)[:16], 16) % 10**12
    digits = f"{number:012d}"
    return " ".join(digits[i : i + 4] for i in range(0, 12, 4))
