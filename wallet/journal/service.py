"""Appends to and reads the owner's journal. Appends join the caller's transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from wallet.accounts.models import Account
from wallet.crypto.encoding import canonical_json
from wallet.db import utcnow
from wallet.journal.chain import GENESIS, entry_hash
from wallet.journal.models import JournalEntry

MAX_PAGE = 10_000


def at_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def as_dict(entry: JournalEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": at_text(entry.at),
        "event": entry.event,
        "actor_kind": entry.actor_kind,
        "actor_id": entry.actor_id,
        "subject_kind": entry.subject_kind,
        "subject_id": entry.subject_id,
        "details": entry.details,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


def append(
    db: Session,
    owner_id: str,
    event: str,
    *,
    actor_kind: str = "owner",
    actor_id: str | None = None,
    subject_kind: str | None = None,
    subject_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> JournalEntry:
    """Adds an entry to the session; the caller's commit makes it (and its cause) durable."""
    # A no-op write on the owner's row serialises appends per owner: it row-locks on
    # PostgreSQL and, on SQLite, opens the write transaction before the last entry is read.
    db.execute(update(Account).where(col(Account.id) == owner_id).values(handle=Account.handle))
    last = db.exec(
        select(JournalEntry.seq, JournalEntry.hash)
        .where(JournalEntry.owner_id == owner_id)
        .order_by(col(JournalEntry.seq).desc())
        .limit(1)
    ).first()
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS)
    entry = JournalEntry(
        owner_id=owner_id,
        seq=seq,
        at=utcnow(),
        event=event,
        actor_kind=actor_kind,
        actor_id=actor_id,
        subject_kind=subject_kind,
        subject_id=subject_id,
        details=canonical_json(details or {}).decode(),
        prev_hash=prev_hash,
        hash="",
    )
    entry.hash = entry_hash(prev_hash, as_dict(entry))
    db.add(entry)
    return entry


def entries(
    db: Session, owner_id: str, after_seq: int = 0, limit: int = MAX_PAGE
) -> list[JournalEntry]:
    return list(
        db.exec(
            select(JournalEntry)
            .where(JournalEntry.owner_id == owner_id)
            .where(JournalEntry.seq > after_seq)
            .order_by(col(JournalEntry.seq))
            .limit(min(limit, MAX_PAGE))
        )
    )
