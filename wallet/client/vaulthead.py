"""The owner's signed vault head, as the Python client keeps and checks it.

The head (wallet/protocol/statements.py VAULT_HEAD) is a sequence number and digests of the
documents with their versions, the profile fields, and every grant, mandate and link the owner
revoked (wallet/protocol/vault_state.py). Each change it covers carries the owner's next head;
the server stores it with the change and cannot make one itself. This client:

- pins the newest head it has seen for each owner (its own and the owners who shared with it),
  per server, under WALLET_HOME, and refuses an older one;
- checks what the server lists (documents, profile, revocations) against the head;
- never gives a key to a grant or mandate the head lists as revoked;
- as a grantee, a proxy or a link's recipient, refuses access its owner's head took back.

A refusal says what happened in plain words and that nothing was shared (StateRefused).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wallet.client.errors import IntegrityFailure, VaultError
from wallet.crypto.encoding import b64d, b64e
from wallet.crypto.signing import BadSignature, verify
from wallet.protocol import statements
from wallet.protocol.vault_state import (
    REVOKED_KINDS,
    VaultState,
    documents_digest,
    ids_digest,
    profile_digest,
)

HEADER = "Wallet-Head"
STALE_CODE = "vault_head_stale"

REFUSALS = {
    "rewound": (
        "The service showed an older state of your wallet than this device has seen. "
        "Nothing was shared. Contact the organisation that runs this service, and keep your "
        "recovery sheet safe."
    ),
    "changed": (
        "The service showed your wallet differently from how you left it (for example, a "
        "sharing you stopped looks active again, or a paper is back to an older version). "
        "Nothing was shared. Contact the organisation that runs this service, and keep your "
        "recovery sheet safe."
    ),
    "unsigned": (
        "The service showed a state of your wallet that you did not sign. Nothing was shared. "
        "Contact the organisation that runs this service."
    ),
}
TAKEN_BACK = {
    "grants": "The owner took this access back. The service still showed it; nothing was opened.",
    "mandates": (
        "The owner took this mandate back. The service still showed it; nothing was done."
    ),
    "links": "The owner took this link back. The service still showed it; nothing was opened.",
}


class StateRefused(IntegrityFailure):
    """The server showed a state the owner's signed head rules out. `reason` is "rewound",
    "changed" or "unsigned" (the journal's one word for it)."""

    def __init__(self, reason: str, message: str | None = None) -> None:
        super().__init__(message or REFUSALS[reason])
        self.reason = reason


@dataclass(frozen=True)
class HeadPin:
    seq: int
    sha256: str


class HeadPins:
    """The newest head this device saw for each owner, per server. With no path the pins
    live in memory only (a kiosk, a test): they still hold for as long as the process."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        try:
            data: dict[str, Any] = json.loads(path.read_text()) if path and path.exists() else {}
            self.pins: dict[str, dict[str, HeadPin]] = {
                server: {owner: HeadPin(**pin) for owner, pin in owners.items()}
                for server, owners in data.get("servers", {}).items()
            }
        except (ValueError, AttributeError, TypeError) as exc:
            raise VaultError(
                f"The file {path} is damaged. Restore it from a backup, or delete it to start "
                "again (this computer then forgets which state of each wallet it saw)."
            ) from exc

    def get(self, server: str, owner: str) -> HeadPin | None:
        return self.pins.get(server.rstrip("/"), {}).get(owner)

    def check(self, server: str, owner: str, seq: int, message: bytes) -> None:
        pinned = self.get(server, owner)
        if pinned is None:
            return
        if seq < pinned.seq or (
            seq == pinned.seq and hashlib.sha256(message).hexdigest() != pinned.sha256
        ):
            raise StateRefused("rewound")

    def pin(self, server: str, owner: str, seq: int, message: bytes) -> None:
        pinned = self.get(server, owner)
        if pinned is not None and pinned.seq >= seq:
            return
        self.pins.setdefault(server.rstrip("/"), {})[owner] = HeadPin(
            seq, hashlib.sha256(message).hexdigest()
        )
        self._save()

    def forget(self, server: str, owner: str) -> None:
        if self.pins.get(server.rstrip("/"), {}).pop(owner, None) is not None:
            self._save()

    def _save(self) -> None:
        if not self.path:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = {
            "v": 1,
            "servers": {
                server: {owner: pin.__dict__ for owner, pin in owners.items()}
                for server, owners in self.pins.items()
            },
        }
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(data, out, indent=2)
        os.replace(tmp, self.path)


def verified_statement(
    signed: Mapping[str, str], signing_key: bytes, owner: str, owner_key_id: str | None
) -> tuple[dict[str, Any], bytes]:
    """A head's statement if `signing_key` signed it for `owner` (and that key id, when the
    caller knows it); StateRefused("unsigned") otherwise."""
    message = b64d(signed["statement"])
    try:
        verify(signing_key, message, b64d(signed["signature"]))
        statement = statements.VAULT_HEAD.parse(message)
    except (BadSignature, statements.StatementError, ValueError, KeyError) as exc:
        raise StateRefused("unsigned") from exc
    if statement["owner"] != owner or (
        owner_key_id is not None and statement["owner_key_id"] != owner_key_id
    ):
        raise StateRefused("unsigned")
    return statement, message


@dataclass
class OwnHead:
    """The owner's verified head and what it covers besides documents."""

    statement: dict[str, Any] | None  # None: no head yet (the first one is being made)
    profile: dict[str, str] = field(default_factory=dict)
    revoked: dict[str, set[str]] = field(default_factory=dict)

    @property
    def seq(self) -> int:
        return 0 if self.statement is None else int(self.statement["seq"])

    def is_revoked(self, kind: str, item_id: str) -> bool:
        return item_id in self.revoked.get(kind, set())


def check_covered(statement: Mapping[str, Any], served: Mapping[str, Any]) -> OwnHead:
    """The profile and revoked lists the server says the head covered must hash to it."""
    profile = dict(served["profile"])
    revoked = {kind: set(served["revoked"][kind]) for kind in REVOKED_KINDS}
    digests = {
        "profile_sha256": profile_digest(profile),
        **{f"revoked_{kind}_sha256": ids_digest(revoked[kind]) for kind in REVOKED_KINDS},
    }
    if any(statement[name] != value for name, value in digests.items()):
        raise StateRefused("changed")
    return OwnHead(dict(statement), profile, revoked)


def check_documents(
    head: OwnHead, rows: Iterable[Mapping[str, Any]], proxy_mandate: Any
) -> dict[str, int]:
    """Checks a full listing against the head and returns {document id: current version}.

    A document's covered version (head_version) must hash to the head's digest; the current
    version can be newer only if a proxy added it under a mandate the head does not list as
    revoked (`proxy_mandate(row)` gives that mandate id from the checked manifest, or None)."""
    covered: dict[str, int] = {}
    current: dict[str, int] = {}
    for row in rows:
        version = int(row["current_version"])
        current[row["id"]] = version
        head_version = row.get("head_version")
        if head_version is not None:
            covered[row["id"]] = int(head_version)
            if version < head_version:
                raise StateRefused("changed")
        if head_version is None or version > head_version:
            mandate_id = proxy_mandate(row)
            if mandate_id is None or head.is_revoked("mandates", mandate_id):
                raise StateRefused("changed")
    if (
        head.statement is not None
        and documents_digest(covered) != (head.statement["documents_sha256"])
    ):
        raise StateRefused("changed")
    return current


def check_profile(head: OwnHead, rows: Iterable[Mapping[str, Any]]) -> None:
    """Every field must be the one the head covers, and no field may be missing or extra."""
    if head.statement is None:
        return
    served = {row["slot"]: hashlib.sha256(b64d(row["ciphertext"])).hexdigest() for row in rows}
    if served != head.profile:
        raise StateRefused("changed")


def sign_next(
    signing_key: Any, owner: str, owner_key_id: str, seq: int, state: VaultState
) -> tuple[dict[str, str], bytes]:
    """The next head over `state`: its JSON body ({statement, signature}) and signed bytes."""
    statement = statements.VAULT_HEAD.build(
        owner=owner,
        owner_key_id=owner_key_id,
        seq=seq,
        signed_at=datetime.now(UTC).isoformat(timespec="seconds"),
        **state.digests(),
    )
    message = statements.encode(statement)
    signature = signing_key.sign(message).signature
    return {"statement": b64e(message), "signature": b64e(signature)}, message


def header_value(signed: Mapping[str, str]) -> str:
    return f"{signed['statement']}.{signed['signature']}"


def state_after(head: OwnHead, documents: Mapping[str, int]) -> VaultState:
    """The state to sign next, before the change is applied to it."""
    return VaultState(
        documents=dict(documents),
        profile=dict(head.profile),
        revoked_grants=set(head.revoked.get("grants", set())),
        revoked_mandates=set(head.revoked.get("mandates", set())),
        revoked_links=set(head.revoked.get("links", set())),
    )


def check_counterpart(
    served: Mapping[str, Any],
    *,
    kind: str,
    item_id: str,
    owner: str,
    owner_signing_key: bytes,
    pins: HeadPins,
    server: str,
) -> None:
    """For a grantee, a proxy or a link's recipient: the owner's head must be signed by the
    owner, not older than this device saw, and must not list this access as revoked."""
    signed = served.get("head")
    revoked = list(served.get("revoked", []))
    if signed is None:
        if pins.get(server, owner) is not None:
            raise StateRefused("rewound")
        return  # the owner has no head yet: nothing to check against
    statement, message = verified_statement(signed, owner_signing_key, owner, None)
    if ids_digest(revoked) != statement[f"revoked_{kind}_sha256"]:
        raise StateRefused("changed")
    pins.check(server, owner, int(statement["seq"]), message)
    pins.pin(server, owner, int(statement["seq"]), message)
    if item_id in revoked:
        raise StateRefused("changed", TAKEN_BACK[kind])


__all__ = [
    "HEADER",
    "REFUSALS",
    "HeadPins",
    "OwnHead",
    "StateRefused",
    "check_counterpart",
    "check_covered",
    "check_documents",
    "check_profile",
    "header_value",
    "sign_next",
    "state_after",
    "verified_statement",
]
