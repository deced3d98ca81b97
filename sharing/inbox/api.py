from __future__ import annotations

from fastapi import APIRouter

from sharing.grants import service as grants
from sharing.grants.models import Grant
from sharing.grants.schemas import GrantOut, PublicKeys
from sharing.inbox import service
from sharing.inbox.schemas import InboxOut, RedeemedLink
from sharing.requests.api import request_out
from wallet.accounts.models import Account
from wallet.deps import DB, FullCaller

router = APIRouter(tags=["inbox"])


def _keys(account: Account) -> PublicKeys:
    return PublicKeys(
        handle=account.handle,
        key_id=account.key_id,
        public_encryption_key=account.public_encryption_key,
        public_signing_key=account.public_signing_key,
    )


def _grant(grant: Grant, owner: Account, grantee: Account, documents: int) -> GrantOut:
    return GrantOut(
        id=grant.id,
        state=grants.state_of(grant),
        owner=_keys(owner),
        grantee=_keys(grantee),
        sealed=grant.sealed_for_grantee,
        signature=grant.signature,
        expires_at=grant.expires_at,
        revoked_at=grant.revoked_at,
        created_at=grant.created_at,
        documents=documents,
    )


@router.get("/inbox", response_model=InboxOut)
def inbox(caller: FullCaller, db: DB) -> InboxOut:
    """Grants you received (yours and your teams'), requests you sent, links you just opened."""
    me = caller.account
    return InboxOut(
        grants=[_grant(g, owner, me, n) for g, owner, n in service.personal_grants(db, me)],
        organisation_grants=[
            _grant(g, owner, me, n) for g, owner, n in service.organisation_grants(db, me)
        ],
        requests=[
            request_out(request, owner, me, me) for request, owner in service.sent_requests(db, me)
        ],
        links=[
            RedeemedLink(
                link_id=session.link_id,
                owner_handle=handle,
                redeemed_at=session.expires_at - service.REDEEM_WINDOW,
                download_until=session.expires_at,
            )
            for session, handle in service.redeemed_links(db, me)
        ],
    )
