"""CLI state under WALLET_HOME: the server, the session token and the unlocked keys.

Like an SSH key without a passphrase, this folder gives access to the wallet until
`wallet logout`. It is created readable by the owner only.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from wallet.crypto.encoding import b64d, b64e
from wallet.crypto.keys import AccountKeys


def wallet_home() -> Path:
    return Path(os.environ.get("WALLET_HOME") or Path.home() / ".wallet")


def _state_path() -> Path:
    return wallet_home() / "session.json"


def save(server: str, token: str, keys: AccountKeys, account: dict[str, Any]) -> None:
    home = wallet_home()
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = _state_path()
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(
            {"server": server, "token": token, "keys": b64e(keys.to_bytes()), "account": account},
            handle,
        )
    os.replace(tmp, path)


def load() -> dict[str, Any] | None:
    path = _state_path()
    if not path.exists():
        return None
    state = json.loads(path.read_text())
    state["keys"] = AccountKeys.from_bytes(b64d(state["keys"]))
    return state


def clear() -> None:
    path = _state_path()
    if path.exists():
        # Overwrite before unlinking so the keys do not linger in the file's old blocks.
        path.write_bytes(b"\0" * path.stat().st_size)
        path.unlink()
