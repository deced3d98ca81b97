"""The emergency reset's server half: every grant, mandate and link the owner gave that is not
revoked yet, and every other session, ended in one transaction. The request carries the owner's
next vault head listing all of them as revoked (wallet.deps.VaultChange): if anything was given
meanwhile the head no longer matches the state, nothing is changed and the client tries again.
Revocations go through the same services as one-by-one revokes (same journal entries, same key
deletions), so a grantee, proxy or link holder sees what they see for any revoked access."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, delete, select

from sharing.emergency import service as emergency
from sharing.grants import service as grants
from sharing.grants.models import Grant
from sharing.links import service as links
from sharing.links.models import ShareLink
from sharing.mandates import service as mandates
from sharing.mandates.models import Mandate
from sharing.requests import service as requests
from wallet import tx
from wallet.accounts.models import Account, AuthSession
from wallet.db import utcnow
from wallet.journal import service as journal


@dataclass(frozen=True)
class Open:
    grants: list[str]
    mandates: list[str]
    links: list[str]


def still_open(db: Session, owner_id: str) -> Open:
    """Ids of what the owner gave and did not revoke (expired or used ones too: revoking them
    costs nothing and leaves no doubt)."""

    def ids(model: type[Grant] | type[Mandate] | type[ShareLink], id_column: Any) -> list[str]:
        query = select(id_column).where(model.owner_id == owner_id, col(model.revoked_at).is_(None))
        return sorted(db.exec(query))

    return Open(
        grants=ids(Grant, Grant.id),
        mandates=ids(Mandate, Mandate.id),
        links=ids(ShareLink, ShareLink.public_id),  # the ids the owner chose (SECURITY.md, Ids)
    )


def other_sessions(db: Session, account_id: str, keep: str) -> list[str]:
    query = select(AuthSession.id).where(
        AuthSession.account_id == account_id, AuthSession.id != keep
    )
    return list(db.exec(query))


def reset(db: Session, owner: Account, session: AuthSession) -> dict[str, int]:
    """Ends every other session, then every mandate, grant and link still open, closes every
    request still waiting for an answer, and writes one `safety_reset` line in the owner's
    journal. Run again, it ends what is left (or nothing)."""
    tx.lock_owner(db, owner.id)
    # Emergency-access arrangements first: they are listed with the grants in the head.
    arrangements = emergency.open_ids(db, owner.id)
    for arrangement_id in arrangements:
        emergency.end(db, owner, arrangement_id, utcnow())
    sessions = other_sessions(db, owner.id, session.id)
    if sessions:
        db.exec(delete(AuthSession).where(col(AuthSession.id).in_(sessions)))
    before = still_open(db, owner.id)
    # Mandates first: ending one also stops the links its proxy made.
    for mandate_id in before.mandates:
        mandates.revoke_mandate(db, owner, mandate_id)
    for grant_id in before.grants:
        grants.revoke_grant(db, owner, grant_id)
    for link_id in still_open(db, owner.id).links:
        links.revoke_link(db, owner, link_id)
    # Requests still waiting for an answer are declined silently: closed, nobody told.
    closed_requests = requests.close_unanswered(db, owner)
    done = {
        "grants": len(before.grants),
        "mandates": len(before.mandates),
        "links": len(before.links),
        "sessions": len(sessions),
        "emergency": len(arrangements),
        "requests": closed_requests,
    }
    journal.append(db, owner.id, "safety_reset", details=done)
    return done
