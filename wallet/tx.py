"""Transactions and locks: their one home.

A request's session (wallet.deps.get_db) commits once, after the endpoint returns and before
the response goes out, and rolls back if the endpoint raised: a service only adds and flushes.
It flushes where it needs ids, or a constraint error early enough to answer its own 409 (an
IntegrityError at the request's commit gets the app's plain "changed at the same time" 409).

Work that must follow the commit (deleting blobs, flushing SQLite's old pages after a secret is
deleted) is queued with `after_commit`: the request's session runs it once its one commit is
done, so a change and the owner's signed vault head that covers it (wallet/vaulthead) always
commit together. A service commits by itself only where a commit must come before something
else, and says why in one line where it does: before staged bytes are deleted, before a file streams in or out (the download helper and the
upload PATCH commit first) or a provider is asked (no transaction stays open meanwhile), for a record that must last although the request then fails
(a failed PIN or login, a spent challenge), or so that a row is not kept locked through the
request (a session's last-seen time). The sweeper (wallet/server/sweeper.py) commits after each
domain's sweep; a test that calls a service with a plain Session commits itself.

Locks last until the transaction ends. Take the owner's lock before the organisation's
(sharing.organisations.service.lock_org), never the other way round.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import column, table, update
from sqlmodel import Session

# The account table by name: the kit sits below every domain, so it does not import their models.
_ACCOUNT = table("account", column("id"), column("handle"))
_AFTER_COMMIT = "wallet.after_commit"


def lock_owner(db: Session, owner_id: str) -> None:
    """Serialises changes to one owner's data until the transaction ends. Journal appends take
    it; so do changes that must not interleave (a grant revoked while wraps are being added)."""
    db.execute(update(_ACCOUNT).where(_ACCOUNT.c.id == owner_id).values(handle=_ACCOUNT.c.handle))


def after_commit(db: Session, action: Callable[[], None]) -> None:
    """Runs `action` once this session's transaction has committed (never if it rolls back).
    The request's session (wallet.deps.get_db) and the sweeper call `run_after_commit`."""
    db.info.setdefault(_AFTER_COMMIT, []).append(action)


def commit(db: Session) -> None:
    """Commits, then runs what `after_commit` queued (for callers outside a request)."""
    db.commit()
    run_after_commit(db)


def run_after_commit(db: Session) -> None:
    actions: list[Callable[[], None]] = db.info.pop(_AFTER_COMMIT, [])
    for action in actions:
        action()


def rollback(db: Session) -> None:
    """Rolls back and forgets what `after_commit` queued."""
    db.info.pop(_AFTER_COMMIT, None)
    db.rollback()
