"""A worker's inbox: what was given to them, what they asked for, what they just opened.

It only gathers what other services already answer; it adds no rule of its own."""

from __future__ import annotations

from sqlmodel import Session, col, select

from sharing.links.models import LinkDownloadSession, ShareLink
from sharing.links.service import DOWNLOAD_TTL
from sharing.requests import service as requests
from sharing.requests.models import DocumentRequest
from wallet.accounts.models import Account
from wallet.db import utcnow


def sent_requests(db: Session, account: Account) -> list[tuple[DocumentRequest, Account]]:
    return requests.sent_requests(db, account)


def redeemed_links(db: Session, account: Account) -> list[tuple[LinkDownloadSession, str, str]]:
    """Links this account redeemed while logged in, while their download window is open: the
    session, the owner's handle and the link's id."""
    rows = db.exec(
        select(LinkDownloadSession, Account.handle, ShareLink.public_id)
        .join(ShareLink, col(ShareLink.id) == col(LinkDownloadSession.link_id))
        .join(Account, col(Account.id) == col(ShareLink.owner_id))
        .where(LinkDownloadSession.redeemer_id == account.id)
        .where(col(LinkDownloadSession.expires_at) > utcnow())
        .order_by(col(LinkDownloadSession.expires_at).desc())
    ).all()
    return [(session, handle, link_id) for session, handle, link_id in rows]


REDEEM_WINDOW = DOWNLOAD_TTL
