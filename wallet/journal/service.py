"""Appends to and reads the owner's journal. Appends join the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, col, select

from wallet.crypto.encoding import canonical_json
from wallet.db import iso_utc, utcnow
from wallet.journal.events import EVENTS, UnknownEvent
from wallet.journal.models import JournalEntry
from wallet.protocol.journal_chain import GENESIS, entry_hash
from wallet.tx import lock_owner

MAX_PAGE = 10_000


def at_text(moment: datetime) -> str:
    return iso_utc(moment)


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
    if event not in EVENTS:
        raise UnknownEvent(f"{event!r} is not a journal event (wallet/journal/events.py)")
    lock_owner(db, owner_id)
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


_PAGE_SQL = text(
    """
    SELECT seq, at, event, actor_kind, actor_id, subject_kind, subject_id, details,
           prev_hash, hash
    FROM journal_entry
    WHERE owner_id = :owner_id AND seq > :after
    ORDER BY seq
    LIMIT :limit
    """
)


def page(
    db: Session, owner_id: str, after_seq: int = 0, limit: int = MAX_PAGE
) -> tuple[list[dict[str, Any]], int | None]:
    """Entries after `after_seq` as plain dicts (raw SQL: 100,000 entries must page quickly),
    and the seq to continue after, or None at the end."""
    limit = max(1, min(limit, MAX_PAGE))
    rows = (
        db.connection()
        .execute(_PAGE_SQL, {"owner_id": owner_id, "after": after_seq, "limit": limit + 1})
        .all()
    )
    result = [
        {
            "seq": r[0],
            "at": iso_utc(r[1]),
            "event": r[2],
            "actor_kind": r[3],
            "actor_id": r[4],
            "subject_kind": r[5],
            "subject_id": r[6],
            "details": r[7],
            "prev_hash": r[8],
            "hash": r[9],
        }
        for r in rows[:limit]
    ]
    return result, (result[-1]["seq"] if len(rows) > limit else None)
