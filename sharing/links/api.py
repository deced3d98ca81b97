from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status
from fastapi.responses import StreamingResponse

from sharing.links import service
from sharing.links.schemas import (
    ChallengeOut,
    LinkCreate,
    LinkItemIn,
    LinkOut,
    LinkProof,
    LinkSender,
    PreviewOut,
    RedeemOut,
    RedeemRequest,
)
from wallet.accounts import service as accounts
from wallet.accounts.models import Account
from wallet.deps import DB, Address, AppSettings, FullCaller, Store, VaultChange, session_token
from wallet.documents.responses import send_version
from wallet.errors import Unauthorized
from wallet.types import Ref, Version
from wallet.vaulthead import service as vaulthead
from wallet.vaulthead.schemas import CounterpartHeadOut

router = APIRouter(tags=["links"])
LinkId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]


@router.post("/links", status_code=status.HTTP_201_CREATED)
def create_link(
    data: LinkCreate, caller: FullCaller, db: DB, settings: AppSettings
) -> dict[str, str]:
    link = service.create_link(db, settings, caller.account, data)
    return {"id": link.public_id}


@router.get("/links", response_model=list[LinkOut])
def list_links(caller: FullCaller, db: DB) -> list[LinkOut]:
    return [
        LinkOut(
            id=link.public_id,
            state=service.state_of(link),
            uses_total=link.uses_total,
            uses_left=link.uses_left,
            failed_pins=link.failed_pins,
            pin=link.pin_check is not None,
            expires_at=link.expires_at,
            created_at=link.created_at,
            revoked_at=link.revoked_at,
            sealed_preview=link.sealed_preview,
            items=[LinkItemIn(document_id=i.document_id, version=i.version) for i in items],
        )
        for link, items in service.list_links(db, caller.account)
    ]


@router.post(
    "/links/{link_id}/revoke", status_code=status.HTTP_204_NO_CONTENT, dependencies=[VaultChange]
)
def revoke_link(link_id: LinkId, caller: FullCaller, db: DB) -> Response:
    service.revoke_link(db, caller.account, link_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/links/{link_id}/challenge", response_model=ChallengeOut)
def challenge(link_id: LinkId, db: DB, settings: AppSettings, address: Address) -> ChallengeOut:
    item = service.new_challenge(db, settings, link_id, address)
    return ChallengeOut(challenge_id=item.id, nonce=item.nonce, expires_at=item.expires_at)


def _account(account: Account | None) -> LinkSender | None:
    if account is None:
        return None
    return LinkSender(
        handle=account.handle,
        public_signing_key=account.public_signing_key,
        public_encryption_key=account.public_encryption_key,
    )


@router.post("/links/{link_id}/preview", response_model=PreviewOut)
def preview(link_id: LinkId, data: LinkProof, db: DB) -> PreviewOut:
    """Shows purpose and expiry (sealed) and the link's state. Never consumes a use. A dead
    link shows its state only (service.preview names nobody for it)."""
    seen = service.preview(db, link_id, data.challenge_id, data.proof)
    link = seen.link
    if seen.state != "active":
        return PreviewOut(
            state=seen.state,
            message=service.state_message(seen.state),
            pin_required=False,
            sealed_preview=None,
            expires_at=None,
            descriptor=None,
            signature=None,
            sender=None,
            on_behalf_of=None,
        )
    return PreviewOut(
        state=seen.state,
        message=service.state_message(seen.state),
        pin_required=link.pin_check is not None,
        sealed_preview=link.sealed_preview,
        expires_at=link.expires_at,
        descriptor=link.descriptor,
        signature=link.signature,
        sender=_account(seen.sender),
        on_behalf_of=_account(seen.on_behalf_of),
    )


def _redeemer(request: Request, db: DB) -> str | None:
    """The logged-in account that redeems, if it sent its session: the link then shows in its
    inbox for 15 minutes. A link needs no account, so a missing or stale session is no error."""
    token = session_token(request)
    if token is None:
        return None
    try:
        account, session = accounts.authenticate(db, token)
    except Unauthorized:
        return None
    return account.id if session.kind == "full" else None


@router.post("/links/{link_id}/redeem", response_model=RedeemOut)
def redeem(
    link_id: LinkId, data: RedeemRequest, request: Request, db: DB, settings: AppSettings
) -> RedeemOut:
    result = service.redeem(
        db,
        settings,
        link_id,
        data.challenge_id,
        data.proof,
        data.pin_check,
        redeemer_id=_redeemer(request, db),
    )
    return RedeemOut(
        server_share=result.server_share,
        sealed_package=result.sealed_package,
        descriptor=result.link.descriptor,
        signature=result.link.signature,
        download_token=result.download_token,
        download_expires_at=result.download_expires_at,
        uses_left=result.uses_left,
        sender=_account(result.sender),
        on_behalf_of=_account(result.on_behalf_of),
        owner_head=CounterpartHeadOut.of(
            *vaulthead.for_counterpart(db, result.link.owner_id, "links")
        ),
    )


@router.get("/links/files/{document_id}/versions/{version}")
async def download(
    document_id: Ref, version: Version, request: Request, db: DB, store: Store
) -> StreamingResponse:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized(service.DOWNLOAD_ENDED)
    return await send_version(
        request, db, store, service.download_item, token.strip(), document_id, version
    )
