"""Transactions and locks: their one home.

A request's session (wallet.deps.get_db) commits once, after the endpoint returns and before
the response goes out, and rolls back if the endpoint raised: a service only adds and flushes.
A service commits by itself only where a commit must come before something else, and says why
in one line where it does: before blobs are deleted or a file streams out (a crash must never
leave a row pointing at a missing blob, nor hold a transaction open while bytes go), or for a
record that must last although the request then fails (a failed PIN, a login throttle).

Locks last until the transaction ends. Take the owner's lock before the organisation's
(sharing.organisations.service.lock_org), never the other way round.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, col

from wallet.accounts.models import Account


def lock_owner(db: Session, owner_id: str) -> None:
    """Serialises changes to one owner's data until the transaction ends. Journal appends take
    it; so do changes that must not interleave (a grant revoked while wraps are being added)."""
    db.execute(update(Account).where(col(Account.id) == owner_id).values(handle=Account.handle))
