"""The printed recovery key: 256 random bits plus a 24-bit check, shown once as base32 groups.

The check catches a mistyped letter on the person's own device, before the server sees a try
(which would count towards the login throttle).
"""

import base64
import hashlib
import hmac
import secrets

from wallet.protocol import labels

RECOVERY_KEY_BYTES = 32
_CHECK_BYTES = 3
_LETTERS = (RECOVERY_KEY_BYTES + _CHECK_BYTES) * 8 // 5  # 56, no base32 padding
_PREFIX = "WR1"
# Letters people confuse when they copy a printed sheet by hand.
_LOOKALIKES = str.maketrans({"0": "O", "1": "I", "8": "B"})
TYPING_MISTAKE = "This recovery key has a typing mistake. Check the sheet."


def new_recovery_key() -> bytes:
    return secrets.token_bytes(RECOVERY_KEY_BYTES)


def _check(key: bytes) -> bytes:
    return hashlib.sha256(labels.RECOVERY_CHECK.encode() + key).digest()[:_CHECK_BYTES]


def format_recovery_key(key: bytes) -> str:
    letters = base64.b32encode(key + _check(key)).decode()
    groups = [letters[i : i + 4] for i in range(0, len(letters), 4)]
    return "-".join([_PREFIX, *groups])


def parse_recovery_key(text: str) -> bytes:
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum()).translate(_LOOKALIKES)
    if cleaned.startswith(_PREFIX.translate(_LOOKALIKES)):
        cleaned = cleaned[len(_PREFIX) :]
    if len(cleaned) != _LETTERS:
        raise ValueError(
            f"A recovery key has {_LETTERS} letters and digits after WR1. Check the sheet."
        )
    try:
        raw = base64.b32decode(cleaned)
    except ValueError as exc:
        raise ValueError(TYPING_MISTAKE) from exc
    key, check = raw[:RECOVERY_KEY_BYTES], raw[RECOVERY_KEY_BYTES:]
    if not hmac.compare_digest(check, _check(key)):
        raise ValueError(TYPING_MISTAKE)
    return key
