"""Transactions and locks: their one home.

A request's session (wallet.deps.get_db) commits once, after the endpoint returns and before
the response goes out, and rolls back if the endpoint raised: a service only adds and flushes.
It flushes where it needs ids, or a constraint error early enough to answer its own 409 (an
IntegrityError at the request's commit gets the app's plain "changed at the same time" 409).

A service commits by itself only where a commit must come before something else, and says why
in one line where it does: before blobs or staged bytes are deleted (a crash must never leave a
row pointing at a missing blob), before a file streams in or out (the download helper and the
upload PATCH commit first) or a provider is asked (no transaction stays open meanwhile), for a record that must last although the request then fails
(a failed PIN or login, a spent challenge), or so that a row is not kept locked through the
request (a session's last-seen time). The sweeper (wallet/server/sweeper.py) commits after each
domain's sweep; a test that calls a service with a plain Session commits itself.

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
