from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, status
from fastapi.responses import StreamingResponse

from sharing.links.schemas import LinkCreate
from sharing.mandates import service
from sharing.mandates.models import Mandate
from sharing.mandates.schemas import (
    MandateAction,
    MandateCreate,
    MandateDocument,
    MandateDocumentCreate,
    MandateOut,
    MandateWrapsAdd,
)
from wallet.accounts.models import Account
from wallet.accounts.schemas import PublicKeys
from wallet.deps import DB, AppSettings, FullCaller, Store, VaultChange
from wallet.documents.responses import VersionDownload
from wallet.vaulthead import service as vaulthead
from wallet.vaulthead.schemas import CounterpartHeadOut

router = APIRouter(tags=["mandates"])
MandateId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]


def _out(
    mandate: Mandate,
    owner: Account,
    proxy: Account | None,
    sealed: bytes,
    documents: int,
    links: list[str] | None = None,
) -> MandateOut:
    return MandateOut(
        id=mandate.id,
        state=service.state_of(mandate),
        kind=mandate.kind,
        actions=service.actions_of(mandate),
        owner=PublicKeys.of(owner),
        proxy=PublicKeys.of(proxy) if proxy is not None else None,
        authorisation=mandate.authorisation,
        authorisation_signature=mandate.authorisation_signature,
        sealed=sealed,
        signature=mandate.signature,
        expires_at=mandate.expires_at,
        revoked_at=mandate.revoked_at,
        renounced_at=mandate.renounced_at,
        completed_at=mandate.completed_at,
        created_at=mandate.created_at,
        documents=documents,
        links=links or [],
    )


# --- the owner ------------------------------------------------------------------------------


@router.post("/mandates", status_code=status.HTTP_201_CREATED)
def create_mandate(data: MandateCreate, caller: FullCaller, db: DB) -> dict[str, str]:
    """The owner gives a mandate. Only the owner's own session can: it acts on its own data."""
    return {"id": service.create_mandate(db, caller.account, data).id}


@router.get("/mandates", response_model=list[MandateOut])
def mandates_given(caller: FullCaller, db: DB) -> list[MandateOut]:
    """Every mandate the owner gave, active or ended."""
    given = service.mandates_given(db, caller.account)
    links = service.link_ids(db, [mandate.id for mandate, _, _ in given])
    return [
        _out(mandate, caller.account, proxy, mandate.sealed_for_owner, count, links.get(mandate.id))
        for mandate, proxy, count in given
    ]


@router.post("/mandates/{mandate_id}/wraps")
def add_wraps(
    mandate_id: MandateId, data: MandateWrapsAdd, caller: FullCaller, db: DB
) -> dict[str, int]:
    return {"added": service.add_wraps(db, caller.account, mandate_id, data.wraps)}


@router.post(
    "/mandates/{mandate_id}/revoke",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[VaultChange],
)
def revoke_mandate(mandate_id: MandateId, caller: FullCaller, db: DB) -> Response:
    service.revoke_mandate(db, caller.account, mandate_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- the proxy ------------------------------------------------------------------------------


@router.get("/mandates/received", response_model=list[MandateOut])
def mandates_received(caller: FullCaller, db: DB) -> list[MandateOut]:
    """The caller's active mandates, from the people it acts for."""
    return [
        _out(mandate, owner, caller.account, mandate.sealed_for_proxy, count)
        for mandate, owner, count in service.mandates_received(db, caller.account)
    ]


@router.get("/mandates/{mandate_id}/head", response_model=CounterpartHeadOut)
def proxy_head(mandate_id: MandateId, caller: FullCaller, db: DB) -> CounterpartHeadOut:
    """The owner's newest vault head and the mandates it lists as revoked: the proxy's client
    stops acting under a mandate its owner took back, whatever the server says."""
    mandate = service.acting_mandate(db, caller.account, mandate_id, None)
    return CounterpartHeadOut.of(*vaulthead.for_counterpart(db, mandate.owner_id, "mandates"))


@router.get("/mandates/{mandate_id}/documents", response_model=list[MandateDocument])
def proxy_documents(mandate_id: MandateId, caller: FullCaller, db: DB) -> list[MandateDocument]:
    return [
        MandateDocument(
            document_id=version.document_id,
            version=version.version,
            size=version.blob_size,
            encrypted_meta=version.encrypted_meta,
            wrapped_key=wrap.wrapped_key,
            statement=wrap.statement,
            statement_signature=wrap.statement_signature,
            manifest=version.manifest,
            signature=version.signature,
        )
        for version, wrap in service.proxy_documents(db, caller.account, mandate_id)
    ]


@router.get("/mandates/{mandate_id}/documents/{document_id}/versions/{version}/blob")
async def proxy_blob(
    mandate_id: MandateId, download: Annotated[VersionDownload, Depends()]
) -> StreamingResponse:
    return await download.send(service.proxy_version, mandate_id)


@router.post("/mandates/{mandate_id}/documents", status_code=status.HTTP_201_CREATED)
def proxy_add_document(
    mandate_id: MandateId,
    data: MandateDocumentCreate,
    caller: FullCaller,
    db: DB,
    store: Store,
    settings: AppSettings,
) -> dict[str, object]:
    """Adds a document on the owner's behalf from a finished upload of the proxy's own."""
    version = service.add_document(
        db, store, caller.account, mandate_id, data, settings.account_quota_bytes
    )
    return {"id": version.document_id, "version": version.version}


@router.post("/mandates/{mandate_id}/links", status_code=status.HTTP_201_CREATED)
def proxy_create_link(
    mandate_id: MandateId, data: LinkCreate, caller: FullCaller, db: DB, settings: AppSettings
) -> dict[str, str]:
    """A one-shot link over documents in the mandate, signed by the proxy."""
    return {"id": service.create_link(db, settings, caller.account, mandate_id, data).public_id}


@router.post("/mandates/{mandate_id}/complete", status_code=status.HTTP_204_NO_CONTENT)
def complete(mandate_id: MandateId, caller: FullCaller, db: DB) -> Response:
    """Ends a one-shot mandate after its procedure is done."""
    service.complete(db, caller.account, mandate_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/mandates/{mandate_id}/renounce", status_code=status.HTTP_204_NO_CONTENT)
def renounce(mandate_id: MandateId, caller: FullCaller, db: DB) -> Response:
    """The proxy gives the mandate up. It ends at once."""
    service.renounce(db, caller.account, mandate_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/mandates/{mandate_id}/actions", response_model=list[MandateAction])
def proxy_actions(mandate_id: MandateId, caller: FullCaller, db: DB) -> list[MandateAction]:
    """What the caller did under this mandate; nothing else of the owner's journal."""
    return [MandateAction(**row) for row in service.proxy_actions(db, caller.account, mandate_id)]
