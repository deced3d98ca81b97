"""The passphrase protection each handle had the last time this device saw it.

At login the server says which salt and Argon2id cost to use. A hostile server could answer
with a cheap cost, or with one salt for every account, and then test passphrase guesses on the
auth keys clients send: with one salt, one dictionary pass attacks every account at once. So
this client remembers each handle's salt (as a SHA-256) and cost after it has used them, and
refuses, before it derives or sends anything:

- a cost below the one this device saw before for that handle, or below the floor;
- a salt that another handle this device knows already has;
- another salt than before, unless the person says they changed their passphrase elsewhere.

Creating an account, changing the passphrase and recovery pin the new values. The file lives
under WALLET_HOME, next to the contact key pins, readable by the owner only.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wallet.client.errors import IntegrityFailure, VaultError
from wallet.protocol import labels

# The weakest Argon2id cost this client accepts for a handle it has never seen: the server's
# default cost for new accounts (WALLET_KDF_OPSLIMIT, WALLET_KDF_MEMLIMIT in wallet/settings.py).
# A server that asked for less could test passphrase guesses cheaply. Only tests and benchmarks
# lower it, through WALLET_CLIENT_KDF_FLOOR="opslimit,memlimit"; the server cannot change a
# client's environment.
DEFAULT_KDF_FLOOR = (10, 128 * 1024 * 1024)

CONTACT = "Nothing was sent. Contact the organisation that runs this service."


class KdfRefused(IntegrityFailure):
    """The server asked for a passphrase protection this client does not accept. `reason` is
    "weak" (below the floor), "weaker" (below what this device saw before), "shared" (another
    handle's salt) or "changed" (another salt than before)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def kdf_floor() -> tuple[int, int]:
    text = os.environ.get("WALLET_CLIENT_KDF_FLOOR", "")
    if not text:
        return DEFAULT_KDF_FLOOR
    ops, mem = (int(part) for part in text.split(","))
    return ops, mem


def check_kdf_cost(opslimit: int, memlimit: int) -> None:
    floor_ops, floor_mem = kdf_floor()
    if opslimit < floor_ops or memlimit < floor_mem:
        raise KdfRefused(
            "weak",
            "The service asked for weak protection of your passphrase. "
            f"{CONTACT} The service may be trying to guess your passphrase.",
        )


def salt_digest(salt: bytes) -> str:
    return hashlib.sha256(labels.KDF_PIN_SALT.encode() + salt).hexdigest()


def _handle(handle: str) -> str:
    return handle.strip().lower()


@dataclass(frozen=True)
class KdfPin:
    salt_sha256: str
    opslimit: int
    memlimit: int


class KdfPins:
    """Each handle's salt and cost as this device last used them, per server. With no path the
    pins live in memory only (the floor still applies)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        try:
            data: dict[str, Any] = json.loads(path.read_text()) if path and path.exists() else {}
            self.pins: dict[str, dict[str, KdfPin]] = {
                server: {handle: KdfPin(**pin) for handle, pin in handles.items()}
                for server, handles in data.get("servers", {}).items()
            }
        except (ValueError, AttributeError, TypeError) as exc:
            raise VaultError(
                f"The file {path} is damaged. Restore it from a backup, or delete it to start "
                "again (this computer then forgets how each wallet was protected)."
            ) from exc

    def get(self, server: str, handle: str) -> KdfPin | None:
        return self.pins.get(server.rstrip("/"), {}).get(_handle(handle))

    def check(
        self,
        server: str,
        handle: str,
        salt: bytes,
        opslimit: int,
        memlimit: int,
        *,
        new_salt_ok: bool = False,
    ) -> None:
        """Raises KdfRefused unless this salt and cost are safe to derive an auth key with."""
        handle = _handle(handle)
        pinned = self.get(server, handle)
        if pinned and (opslimit < pinned.opslimit or memlimit < pinned.memlimit):
            raise KdfRefused(
                "weaker",
                "The service asked for weaker protection of your passphrase than this device "
                f"saw before. {CONTACT}",
            )
        # The floor is for handles this device never saw: a pinned handle is held to its own pin,
        # so an account made when the default cost was lower still opens where it is known.
        if pinned is None:
            check_kdf_cost(opslimit, memlimit)
        digest = salt_digest(salt)
        for handles in self.pins.values():
            for other, pin in handles.items():
                if other != handle and pin.salt_sha256 == digest:
                    raise KdfRefused(
                        "shared",
                        "The service gave your account the same passphrase protection as "
                        f"another account on this device. {CONTACT}",
                    )
        if pinned and pinned.salt_sha256 != digest and not new_salt_ok:
            raise KdfRefused(
                "changed",
                "The protection of your passphrase changed since this device last saw it. "
                "Nothing was sent. If you changed your passphrase on another device, log in "
                "again and say so (wallet login --passphrase-changed). If you did not, contact "
                "the organisation that runs this service.",
            )

    def pin(self, server: str, handle: str, salt: bytes, opslimit: int, memlimit: int) -> None:
        """Remembers the values a login, a new account, a new passphrase or a recovery used."""
        self.pins.setdefault(server.rstrip("/"), {})[_handle(handle)] = KdfPin(
            salt_digest(salt), opslimit, memlimit
        )
        self._save()

    def forget(self, server: str, handle: str) -> None:
        """After the account is deleted from this device."""
        if self.pins.get(server.rstrip("/"), {}).pop(_handle(handle), None) is not None:
            self._save()

    def _save(self) -> None:
        if not self.path:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = {
            "v": 1,
            "servers": {
                server: {handle: pin.__dict__ for handle, pin in handles.items()}
                for server, handles in self.pins.items()
            },
        }
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(data, out, indent=2)
        os.replace(tmp, self.path)
