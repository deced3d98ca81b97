from __future__ import annotations

from fastapi import APIRouter

from sharing.grants import api as grants_api
from sharing.inbox import service
from sharing.inbox.schemas import InboxOut, RedeemedLink
from sharing.requests.api import request_out
from wallet.deps import DB, FullCaller

router = APIRouter(tags=["inbox"])


@router.get("/inbox", response_model=InboxOut)
def inbox(caller: FullCaller, db: DB) -> InboxOut:
    """Grants you received (yours and your teams'), requests you sent, links you just opened."""
    me = caller.account
    # The very listing of GET /received: personal grants, then grants to your organisations.
    received = grants_api.grants_received(caller, db)
    return InboxOut(
        grants=[g for g in received if g.organisation is None],
        organisation_grants=[g for g in received if g.organisation is not None],
        requests=[
            request_out(request, owner, me, me) for request, owner in service.sent_requests(db, me)
        ],
        links=[
            RedeemedLink(
                link_id=link_id,
                owner_handle=handle,
                redeemed_at=session.expires_at - service.REDEEM_WINDOW,
                download_until=session.expires_at,
            )
            for session, handle, link_id in service.redeemed_links(db, me)
        ],
    )
