"""Contact trust: each person's keys are pinned the first time, checked every time after, and
compared face to face with a twelve-digit safety code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from wallet.client.vault import IntegrityFailure, Vault
from wallet.crypto.encoding import b64d
from wallet.crypto.safety_code import fingerprint, safety_code
from wallet.crypto.wrap import key_id


class KeyChanged(IntegrityFailure):
    """The server served another key for a person this client already knows."""


def own_safety_code(vault: Vault) -> str:
    return safety_code(vault.keys.public_encryption_key, vault.keys.public_signing_key)


class PinStore:
    """Remembers each person's key fingerprint, and refuses a different one later."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.pins: dict[str, str] = json.loads(path.read_text()) if path and path.exists() else {}

    def check(self, handle: str, keys: dict[str, Any], accept_new: bool = False) -> bool:
        """Returns True the first time a person is seen. Raises KeyChanged on a changed key."""
        seen = fingerprint(b64d(keys["public_encryption_key"]), b64d(keys["public_signing_key"]))
        pinned = self.pins.get(handle)
        if pinned is not None and pinned != seen and not accept_new:
            raise KeyChanged(
                f"WARNING: the server shows a NEW key for {handle}. This can mean someone is "
                "trying to read what you share. Check the safety code with the person, face to "
                "face, before you go on."
            )
        self.pins[handle] = seen
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps(self.pins, indent=2))
        return pinned is None


def person(
    vault: Vault, handle: str, pins: PinStore, accept_new_key: bool = False
) -> tuple[dict[str, Any], bool]:
    """A person's public keys as the server serves them, checked against the pinned ones.
    Returns the keys and whether this is the first contact."""
    keys = vault.api.api("GET", f"/people/{handle}").json()
    if keys.get("handle") != handle.strip().lower() or keys.get("key_id") != key_id(
        b64d(keys["public_encryption_key"])
    ):
        raise KeyChanged(
            f"The server answered for someone else than {handle}. Stop and report this."
        )
    first = pins.check(handle.strip().lower(), keys, accept_new_key)
    return keys, first
