"""The printed recovery key: 256 random bits, shown once as groups of base32 letters."""

import base64
import secrets

RECOVERY_KEY_BYTES = 32
_PREFIX = "WR1"
# Letters people confuse when they copy a printed sheet by hand.
_LOOKALIKES = str.maketrans({"0": "O", "1": "I", "8": "B"})


def new_recovery_key() -> bytes:
    return secrets.token_bytes(RECOVERY_KEY_BYTES)


def format_recovery_key(key: bytes) -> str:
    letters = base64.b32encode(key).decode().rstrip("=")
    groups = [letters[i : i + 4] for i in range(0, len(letters), 4)]
    return "-".join([_PREFIX, *groups])


def parse_recovery_key(text: str) -> bytes:
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum()).translate(_LOOKALIKES)
    if cleaned.startswith(_PREFIX.translate(_LOOKALIKES)):
        cleaned = cleaned[len(_PREFIX) :]
    if len(cleaned) != 52:
        raise ValueError("A recovery key has 52 letters and digits after WR1. Check the sheet.")
    try:
        key = base64.b32decode(cleaned + "====")
    except ValueError as exc:
        raise ValueError("This recovery key has a typing mistake. Check the sheet.") from exc
    return key
