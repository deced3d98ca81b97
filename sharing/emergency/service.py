"""Emergency access: the rules. Every function takes `now` (the server's clock, injectable for
tests), so "released exactly after the wait and not a second earlier" is checked without HTTP
and without sleeping.

States, from the row and the clock:
- standby: set up, nothing asked;
- waiting: the trusted person asked, the wait is not over; the owner may refuse;
- released: the wait ended without a refusal; the server hands the sealed keys over;
- used: the trusted person chose a new passphrase for the owner (take over);
- ended: the owner ended it (listed as revoked in the owner's signed vault head).

Anything a caller may not see is the same 404 (a stranger, someone else's arrangement, an
ended one). The trusted person's own arrangement that is not released yet is a 409 that says
until when: it tells them nothing they do not know.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

import nacl.pwhash
from sqlmodel import Session, col, delete, select

from sharing.emergency.models import EmergencyAccess
from sharing.emergency.schemas import (
    ACCESS,
    MAX_WAIT_DAYS,
    MIN_WAIT_DAYS,
    EmergencyCreate,
    TakeOver,
)
from sharing.grants.service import lookup
from wallet import tx
from wallet.accounts.models import Account, AuthSession
from wallet.accounts.service import hash_secret
from wallet.crypto.encoding import b64e
from wallet.crypto.signing import BadSignature, verify
from wallet.db import utcnow
from wallet.documents import service as documents
from wallet.documents.models import Document, DocumentVersion
from wallet.documents.service import VersionWithWrap, check_statement
from wallet.errors import Conflict, Forbidden, Invalid, NotFound
from wallet.journal import service as journal
from wallet.profile import service as profile
from wallet.profile.models import ProfileField
from wallet.protocol import statements
from wallet.settings import Settings
from wallet.vaulthead import service as vaulthead
from wallet.vaulthead.models import VaultHead

NOT_YET = "The waiting period is not over. Access opens on {when} (UTC), unless the person refuses."
NOT_ASKED = "Ask for access first: the waiting period starts then."
NOTHING_WAITING = "Nobody is asking for access under this arrangement now."
VIEW_ONLY = "This arrangement lets you read the papers, not choose a new passphrase."


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def release_at(row: EmergencyAccess) -> datetime | None:
    if row.requested_at is None:
        return None
    return row.requested_at + timedelta(days=row.wait_days)


def state_of(row: EmergencyAccess, now: datetime) -> str:
    if row.revoked_at is not None:
        return "ended"
    if row.taken_over_at is not None:
        return "used"
    opens = release_at(row)
    if opens is None:
        return "standby"
    return "released" if now >= opens else "waiting"


# --- the owner's side -----------------------------------------------------------------------


def _check_statement(
    owner: Account, trusted: Account, data: EmergencyCreate, now: datetime
) -> None:
    """The terms the server enforces must be exactly those the owner signed."""
    try:
        verify(owner.public_signing_key, data.statement, data.signature)
        signed = json.loads(data.statement)
    except (BadSignature, ValueError) as exc:
        raise Invalid("The arrangement is not signed by you. Set it up again.") from exc
    check_statement(statements.EMERGENCY_ACCESS, signed, "signed arrangement")
    expected: dict[str, Any] = {
        "arrangement_id": data.arrangement_id,
        "owner": owner.handle,
        "owner_key_id": owner.key_id,
        "trusted": trusted.handle,
        "trusted_key_id": trusted.key_id,
        "trusted_signing_key": b64e(trusted.public_signing_key),
        "access": data.access,
        "wait_days": data.wait_days,
        "sealed_sha256": _sha256(data.sealed),
    }
    for name, value in expected.items():
        if signed.get(name) != value:
            raise Invalid(f"The signed arrangement does not match the field '{name}'.")


def create(db: Session, owner: Account, data: EmergencyCreate, now: datetime) -> EmergencyAccess:
    if data.access not in ACCESS:
        raise Invalid("Choose what the person gets: 'view' or 'takeover'.")
    if not MIN_WAIT_DAYS <= data.wait_days <= MAX_WAIT_DAYS:
        raise Invalid("The waiting period is from 1 to 30 days.")
    trusted = lookup(db, data.trusted_handle)
    if trusted.id == owner.id:
        raise Invalid("You cannot name yourself as your trusted person.")
    if trusted.key_id != data.trusted_key_id:
        raise Conflict("This person's key changed. Check their safety code again, then retry.")
    _check_statement(owner, trusted, data, now)
    tx.lock_owner(db, owner.id)
    if db.get(EmergencyAccess, data.arrangement_id) is not None:
        raise Conflict("This arrangement id is already used. Set it up again.")
    row = EmergencyAccess(
        id=data.arrangement_id,
        owner_id=owner.id,
        trusted_id=trusted.id,
        trusted_key_id=trusted.key_id,
        access=data.access,
        wait_days=data.wait_days,
        statement=data.statement,
        signature=data.signature,
        sealed=data.sealed,
        created_at=now,
    )
    db.add(row)
    journal.append(
        db,
        owner.id,
        "emergency_added",
        subject_kind="emergency",
        subject_id=row.id,
        details={"trusted": trusted.id, "access": data.access, "wait_days": data.wait_days},
    )
    return row


def owned(db: Session, owner: Account, arrangement_id: str) -> EmergencyAccess:
    row = db.get(EmergencyAccess, arrangement_id)
    if row is None or row.owner_id != owner.id:
        raise NotFound()
    return row


def given(db: Session, owner: Account) -> list[tuple[EmergencyAccess, Account]]:
    """Every arrangement the owner made, with its trusted person, oldest first."""
    rows = db.exec(
        select(EmergencyAccess, Account)
        .join(Account, col(Account.id) == col(EmergencyAccess.trusted_id))
        .where(EmergencyAccess.owner_id == owner.id)
        .order_by(col(EmergencyAccess.created_at))
    ).all()
    return list(rows)


def refuse(db: Session, owner: Account, arrangement_id: str, now: datetime) -> EmergencyAccess:
    """One action: the request is refused, nothing is released, the arrangement stays (the
    person may ask again; each request and refusal is in the journal)."""
    tx.lock_owner(db, owner.id)
    row = owned(db, owner, arrangement_id)
    db.refresh(row)
    if state_of(row, now) not in ("waiting", "released"):
        raise Conflict(NOTHING_WAITING)
    row.requested_at = None
    row.released_at = None
    row.refused_at = now
    db.add(row)
    journal.append(
        db,
        owner.id,
        "emergency_refused",
        subject_kind="emergency",
        subject_id=row.id,
        details={"trusted": row.trusted_id},
    )
    return row


def end(db: Session, owner: Account, arrangement_id: str, now: datetime) -> EmergencyAccess:
    """Ends the arrangement for good: the sealed keys are deleted in the same transaction. The
    request carries the owner's next vault head listing it as revoked (wallet.deps.VaultChange),
    so an operator who sets `revoked_at` back is refused by the clients."""
    tx.lock_owner(db, owner.id)
    row = owned(db, owner, arrangement_id)
    db.refresh(row)
    if row.revoked_at is None:
        row.revoked_at = now
    row.sealed = b""
    db.add(row)
    journal.append(
        db,
        owner.id,
        "emergency_ended",
        subject_kind="emergency",
        subject_id=row.id,
        details={"trusted": row.trusted_id},
    )
    return row


def open_ids(db: Session, owner_id: str) -> list[str]:
    """Arrangements not ended yet (used ones too: ending them costs nothing)."""
    query = select(EmergencyAccess.id).where(
        EmergencyAccess.owner_id == owner_id, col(EmergencyAccess.revoked_at).is_(None)
    )
    return sorted(db.exec(query))


def waiting_requests(
    db: Session, owner: Account, now: datetime
) -> list[tuple[EmergencyAccess, Account]]:
    """What the owner must see at every login: requests waiting or released."""
    return [(r, a) for r, a in given(db, owner) if state_of(r, now) in ("waiting", "released")]


# --- the trusted person's side -----------------------------------------------------------------


def received(db: Session, trusted: Account) -> list[tuple[EmergencyAccess, Account]]:
    """The arrangements naming the caller that are not ended or used."""
    rows = db.exec(
        select(EmergencyAccess, Account)
        .join(Account, col(Account.id) == col(EmergencyAccess.owner_id))
        .where(EmergencyAccess.trusted_id == trusted.id)
        .where(col(EmergencyAccess.revoked_at).is_(None))
        .where(col(EmergencyAccess.taken_over_at).is_(None))
        .order_by(col(EmergencyAccess.created_at))
    ).all()
    return list(rows)


def _mine(db: Session, trusted: Account, arrangement_id: str) -> EmergencyAccess:
    """The caller's arrangement, not ended or used; the plain 404 for anything else (a
    stranger cannot tell an arrangement from none)."""
    row = db.get(EmergencyAccess, arrangement_id)
    if row is None or row.trusted_id != trusted.id or row.revoked_at is not None:
        raise NotFound()
    if row.taken_over_at is not None:
        raise NotFound()
    return row


def request(db: Session, trusted: Account, arrangement_id: str, now: datetime) -> EmergencyAccess:
    """The trusted person asks. The waiting period starts now; asking again while a request
    waits changes nothing (the wait does not start over)."""
    row = _mine(db, trusted, arrangement_id)
    tx.lock_owner(db, row.owner_id)
    db.refresh(row)
    if state_of(row, now) not in ("standby",):
        if state_of(row, now) in ("waiting", "released"):
            return row
        raise NotFound()
    row.requested_at = now
    row.released_at = None
    db.add(row)
    journal.append(
        db,
        row.owner_id,
        "emergency_requested",
        actor_kind="account",
        actor_id=trusted.id,
        subject_kind="emergency",
        subject_id=row.id,
        details={"access": row.access, "wait_days": row.wait_days},
    )
    return row


def released(
    db: Session, trusted: Account, arrangement_id: str, now: datetime
) -> tuple[EmergencyAccess, Account]:
    """The caller's released arrangement and its owner, checked under the owner's lock so a
    refusal or an end that committed first wins. The first hand-over is journaled."""
    row = _mine(db, trusted, arrangement_id)
    tx.lock_owner(db, row.owner_id)
    db.refresh(row)
    state = state_of(row, now)
    if state == "standby":
        raise Conflict(NOT_ASKED)
    if state == "waiting":
        opens = release_at(row)
        assert opens is not None
        raise Conflict(NOT_YET.format(when=f"{opens:%d %B %Y %H:%M:%S}"))
    if state != "released":
        raise NotFound()
    if trusted.key_id != row.trusted_key_id:
        raise Conflict("Your key changed since this arrangement was made. Ask the person again.")
    owner = db.get(Account, row.owner_id)
    if owner is None:
        raise NotFound()
    if row.released_at is None:
        row.released_at = now
        db.add(row)
        journal.append(
            db,
            row.owner_id,
            "emergency_released",
            actor_kind="account",
            actor_id=trusted.id,
            subject_kind="emergency",
            subject_id=row.id,
            details={"access": row.access},
        )
    return row, owner


def owner_for_reading(db: Session, trusted: Account, arrangement_id: str, now: datetime) -> Account:
    """The owner whose papers the trusted person may read now (view and take over)."""
    _row, owner = released(db, trusted, arrangement_id, now)
    return owner


def documents_page(
    db: Session,
    trusted: Account,
    arrangement_id: str,
    limit: int,
    cursor: str | None,
    now: datetime,
) -> tuple[list[dict[str, Any]], str | None]:
    """The owner's listing, as the owner's own client gets it (signed by the owner)."""
    return documents.list_page(
        db, owner_for_reading(db, trusted, arrangement_id, now), limit, cursor
    )


def document(
    db: Session, trusted: Account, arrangement_id: str, document_id: str, now: datetime
) -> tuple[Document, list[VersionWithWrap]]:
    owner = owner_for_reading(db, trusted, arrangement_id, now)
    return documents.get_document(db, owner, document_id)


def profile_fields(
    db: Session, trusted: Account, arrangement_id: str, now: datetime
) -> list[ProfileField]:
    return profile.list_fields(db, owner_for_reading(db, trusted, arrangement_id, now))


def owner_head(
    db: Session, trusted: Account, arrangement_id: str, now: datetime
) -> tuple[VaultHead | None, dict[str, Any]]:
    """The owner's newest head and what it covers: the trusted person's client checks the
    listing against it, as the owner's does."""
    owner = owner_for_reading(db, trusted, arrangement_id, now)
    row = vaulthead.current(db, owner.id)
    return row, vaulthead.covered(row)


def counterpart_head(
    db: Session, trusted: Account, arrangement_id: str
) -> tuple[tuple[bytes, bytes] | None, list[str]]:
    """The owner's head and the revoked ids it lists with the grants: the trusted person's
    client refuses an arrangement the owner ended, whatever the server says."""
    row = _mine(db, trusted, arrangement_id)
    return vaulthead.for_counterpart(db, row.owner_id, "grants")


def read_version(
    db: Session,
    trusted: Account,
    arrangement_id: str,
    document_id: str,
    version: int,
    now: datetime | None = None,
) -> DocumentVersion:
    """One version's file for the trusted person; each read is in the owner's journal."""
    row, owner = released(db, trusted, arrangement_id, now or utcnow())
    found = documents.get_version(db, owner, document_id, version)
    journal.append(
        db,
        row.owner_id,
        "emergency_download",
        actor_kind="account",
        actor_id=trusted.id,
        subject_kind="document",
        subject_id=document_id,
        details={"emergency": row.id, "version": version},
    )
    return found


def take_over(
    db: Session,
    settings: Settings,
    trusted: Account,
    arrangement_id: str,
    data: TakeOver,
    now: datetime,
) -> Account:
    """The trusted person sets a new passphrase for the owner: the owner's keys, locked under
    it, replace the old lock; every session of the owner ends; the arrangement is used up and
    its sealed keys deleted; the owner's journal says who did it."""
    row, owner = released(db, trusted, arrangement_id, now)
    if row.access != "takeover":
        raise Forbidden(VIEW_ONLY)
    if data.kdf_opslimit < settings.kdf_opslimit or data.kdf_memlimit < settings.kdf_memlimit:
        raise Invalid("The passphrase protection is weaker than this server requires.")
    if len(data.kdf_salt) != nacl.pwhash.argon2id.SALTBYTES:
        raise Invalid("kdf_salt must be 16 bytes.")
    owner.kdf_salt = data.kdf_salt
    owner.kdf_opslimit = data.kdf_opslimit
    owner.kdf_memlimit = data.kdf_memlimit
    owner.auth_hash = hash_secret(data.auth_key, settings)
    owner.keys_by_passphrase = data.keys_by_passphrase
    db.add(owner)
    ended = db.exec(delete(AuthSession).where(col(AuthSession.account_id) == owner.id))
    row.taken_over_at = now
    row.sealed = b""
    db.add(row)
    journal.append(
        db,
        owner.id,
        "emergency_taken_over",
        actor_kind="account",
        actor_id=trusted.id,
        subject_kind="emergency",
        subject_id=row.id,
        details={"sessions": int(ended.rowcount or 0)},
    )
    return owner
