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

from sqlalchemy import column, table, update
from sqlmodel import Session

# The account table by name: the kit sits below every domain, so it does not import their models.
_ACCOUNT = table("account", column("id"), column("handle"))


def lock_owner(db: Session, owner_id: str) -> None:
    """Serialises changes to one owner's data until the transaction ends. Journal appends take
    it; so do changes that must not interleave (a grant revoked while wraps are being added)."""
    db.execute(update(_ACCOUNT).where(_ACCOUNT.c.id == owner_id).values(handle=_ACCOUNT.c.handle))
