"""The owner's signed vault head (wallet/protocol/vault_state.py says what it covers).

A change the head covers (a document version, a deleted document, a profile field, a revoked
grant, mandate or link) carries the owner's next head in the `Wallet-Head` header. A change
sent without one is not refused: it leaves a state the owner did not sign, which the owner's
clients then refuse to trust (the server gains nothing by it: it could edit its database). `propose` checks its signature and sequence number and stores it before the
change runs; `confirm` checks, after the change and inside the same transaction, that it
describes exactly the state the change left. So a change and the head that covers it always
commit together, and the server keeps a head it could not have made.

The grant, mandate and link tables are read by name: this sits below sharing/, and reads only
their ids, owners and revocation times.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy
from sqlalchemy import column, table, update
from sqlmodel import Session, col, select

from wallet import tx
from wallet.accounts.models import Account
from wallet.crypto.encoding import b64d
from wallet.crypto.signing import BadSignature, verify
from wallet.db import utcnow
from wallet.documents.models import Document
from wallet.errors import Conflict, Invalid
from wallet.profile.models import ProfileField
from wallet.protocol import statements
from wallet.protocol.vault_state import REVOKED_KINDS, VaultState, differences
from wallet.vaulthead.models import VaultHead
from wallet.vaulthead.schemas import MAX_HEAD_BYTES

HEADER = "Wallet-Head"  # base64url(statement) "." base64url(signature)

_REVOKABLE = {
    "grants": table("grant", column("id"), column("owner_id"), column("revoked_at")),
    "mandates": table("mandate", column("id"), column("owner_id"), column("revoked_at")),
    "links": table("share_link", column("id"), column("owner_id"), column("revoked_at")),
}

STALE = (
    "Your wallet changed on another device or page meanwhile. Nothing was changed. "
    "Reload the page (or run the command again), then try again."
)
BAD_HEAD = "The signed wallet state sent with this change is not valid. Nothing was changed."


class StaleHead(Conflict):
    code = "vault_head_stale"


@dataclass(frozen=True)
class Pending:
    statement: dict[str, Any]


# Ended emergency-access arrangements (sharing/emergency) are listed with the revoked grants:
# the same head digest and the same client checks keep an operator from reviving them.
_ALSO_REVOKABLE = {
    "grants": table("emergency_access", column("id"), column("owner_id"), column("revoked_at")),
}


def revoked_ids(db: Session, owner_id: str, kind: str) -> list[str]:
    found: list[str] = []
    for revocable in (
        _REVOKABLE[kind],
        *([_ALSO_REVOKABLE[kind]] if kind in _ALSO_REVOKABLE else []),
    ):
        rows = db.execute(
            sqlalchemy.select(revocable.c.id)
            .where(revocable.c.owner_id == owner_id)
            .where(revocable.c.revoked_at.is_not(None))
        )
        found.extend(row[0] for row in rows)
    return sorted(found)


def profile_hashes(db: Session, owner_id: str) -> dict[str, str]:
    rows = db.exec(
        select(ProfileField.slot, ProfileField.ciphertext).where(
            ProfileField.account_id == owner_id
        )
    )
    return {slot: hashlib.sha256(ciphertext).hexdigest() for slot, ciphertext in rows}


def state_of(db: Session, owner_id: str) -> VaultState:
    """The state as the server holds it now: each document's current version."""
    documents = db.exec(
        select(Document.id, Document.current_version).where(Document.owner_id == owner_id)
    )
    return VaultState(
        documents={document_id: version for document_id, version in documents},
        profile=profile_hashes(db, owner_id),
        revoked_grants=set(revoked_ids(db, owner_id, "grants")),
        revoked_mandates=set(revoked_ids(db, owner_id, "mandates")),
        revoked_links=set(revoked_ids(db, owner_id, "links")),
    )


def current(db: Session, owner_id: str) -> VaultHead | None:
    return db.get(VaultHead, owner_id)


def covered(row: VaultHead | None) -> dict[str, Any]:
    """What `row` covers besides documents; empty lists before the first head."""
    stored: dict[str, Any] = json.loads(row.covered) if row is not None else {}
    revoked = stored.get("revoked", {})
    return {
        "profile": stored.get("profile", {}),
        "revoked": {kind: revoked.get(kind, []) for kind in REVOKED_KINDS},
    }


def parse_header(value: str) -> tuple[bytes, bytes]:
    statement_b64, dot, signature_b64 = value.partition(".")
    try:
        if not dot or len(value) > 2 * MAX_HEAD_BYTES:
            raise ValueError("not statement.signature")
        return b64d(statement_b64), b64d(signature_b64)
    except ValueError as exc:
        raise Invalid(BAD_HEAD) from exc


def propose(
    db: Session, owner: Account, message: bytes, signature: bytes, *, resent_ok: bool = False
) -> Pending:
    """Checks the owner's next head and stores it in this transaction (see `confirm`).
    `resent_ok`: the current head itself is accepted too (a change retried after its commit)."""
    try:
        verify(owner.public_signing_key, message, signature)
        statement = statements.VAULT_HEAD.parse(message)
    except (BadSignature, statements.StatementError) as exc:
        raise Invalid(BAD_HEAD) from exc
    if statement["owner"] != owner.handle or statement["owner_key_id"] != owner.key_id:
        raise Invalid(BAD_HEAD)
    tx.lock_owner(db, owner.id)
    row = current(db, owner.id)
    if row is not None:
        db.refresh(row)
    if resent_ok and row is not None and row.statement == message and row.signature == signature:
        # The same head again: a retried request whose first try committed. `confirm` still
        # checks that the state is exactly what it covers.
        return Pending(statement)
    if statement["seq"] != (row.seq if row is not None else 0) + 1:
        raise StaleHead(STALE)
    if row is None:
        row = VaultHead(owner_id=owner.id, seq=0, statement=b"", signature=b"")
    row.seq = statement["seq"]
    row.statement = message
    row.signature = signature
    row.updated_at = utcnow()
    db.add(row)
    return Pending(statement)


def confirm(db: Session, owner: Account, pending: Pending) -> None:
    """After the change: the head must describe exactly the state it left. Then each document's
    head_version is the version the head covers, and the head's row keeps the rest."""
    db.flush()
    state = state_of(db, owner.id)
    # What was revoked stays revoked: an id the last head covered counts even once its row is
    # gone (a grantee who deleted their account), so a deletion never breaks the owner's head.
    before = covered(current(db, owner.id))["revoked"]
    for kind in REVOKED_KINDS:
        state.revoked(kind).update(before[kind])
    if differences(pending.statement, state.digests()):
        raise StaleHead(STALE)
    row = current(db, owner.id)
    assert row is not None  # propose stored it in this transaction
    row.covered = json.dumps(
        {
            "profile": state.profile,
            "revoked": {kind: sorted(state.revoked(kind)) for kind in REVOKED_KINDS},
        },
        sort_keys=True,
    )
    db.add(row)
    db.execute(
        update(Document)
        .where(col(Document.owner_id) == owner.id)
        .where(
            col(Document.head_version).is_(None)
            | (col(Document.head_version) != col(Document.current_version))
        )
        .values(head_version=Document.current_version)
    )


def before_change(db: Session, owner: Account, header: str | None) -> Pending | None:
    """For a change the head covers: the owner's next head, when the client sent one."""
    if header is None:
        return None
    return propose(db, owner, *parse_header(header), resent_ok=True)


def replace(db: Session, owner: Account, message: bytes, signature: bytes) -> int:
    """A head on its own: the first one, or one that covers what a proxy added."""
    pending = propose(db, owner, message, signature)
    confirm(db, owner, pending)
    seq: int = pending.statement["seq"]
    return seq


def for_counterpart(
    db: Session, owner_id: str, kind: str
) -> tuple[tuple[bytes, bytes] | None, list[str]]:
    """The owner's newest head (statement, signature) and the ids of one kind it lists as
    revoked: a grantee, a proxy or a link's recipient checks its own access against them, and
    sees nothing else."""
    row = current(db, owner_id)
    revoked: list[str] = covered(row)["revoked"][kind]
    return (None if row is None else (row.statement, row.signature)), revoked
