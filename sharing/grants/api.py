from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from fastapi.responses import StreamingResponse
from sqlmodel import Session

from sharing.grants import service
from sharing.grants.models import Grant
from sharing.grants.schemas import (
    GrantCreate,
    GrantOut,
    GrantWrapsAdd,
    OrgRef,
    ReceivedDocument,
    ReceivedField,
)
from sharing.organisations.models import Organisation
from sharing.organisations.service import current_team_key
from wallet.accounts.models import Account
from wallet.accounts.schemas import PublicKeys
from wallet.deps import DB, FullCaller, VaultChange
from wallet.documents.responses import VersionDownload
from wallet.types import Handle, Ref
from wallet.vaulthead import service as vaulthead
from wallet.vaulthead.schemas import CounterpartHeadOut

router = APIRouter(tags=["grants"])


def _grantee(db: Session, grantee: Account | Organisation) -> dict[str, object]:
    if isinstance(grantee, Account):
        return {"grantee": PublicKeys.of(grantee)}
    team = current_team_key(db, grantee)
    return {
        "grantee": PublicKeys(
            handle=grantee.handle,
            key_id=team.key_id,
            public_encryption_key=team.public_encryption_key,
            public_signing_key=team.public_signing_key,
        ),
        "grantee_kind": "organisation",
        "organisation": OrgRef(
            id=grantee.id,
            handle=grantee.handle,
            display_name=grantee.display_name,
            epoch=grantee.epoch,
        ),
    }


def _out(
    db: Session,
    grant: Grant,
    owner: Account,
    grantee: Account | Organisation,
    sealed: bytes,
    documents: int,
) -> GrantOut:
    return GrantOut(
        id=grant.id,
        state=service.state_of(grant),
        owner=PublicKeys.of(owner),
        **_grantee(db, grantee),
        sealed=sealed,
        signature=grant.signature,
        expires_at=grant.expires_at,
        revoked_at=grant.revoked_at,
        created_at=grant.created_at,
        documents=documents,
    )


@router.get("/people/{handle}", response_model=PublicKeys)
def person(handle: Handle, caller: FullCaller, db: DB) -> PublicKeys:
    """Public keys of an account, to give it a grant. Compare the safety code in person."""
    return PublicKeys.of(service.lookup(db, handle))


@router.post("/grants", status_code=status.HTTP_201_CREATED)
def create_grant(data: GrantCreate, caller: FullCaller, db: DB) -> dict[str, str]:
    return {"id": service.create_grant(db, caller.account, data).id}


@router.get("/grants", response_model=list[GrantOut])
def grants_given(caller: FullCaller, db: DB) -> list[GrantOut]:
    return [
        _out(db, grant, caller.account, grantee, grant.sealed_for_owner, count)
        for grant, grantee, count in service.grants_given(db, caller.account)
    ]


@router.post("/grants/{grant_id}/wraps")
def add_wraps(grant_id: Ref, data: GrantWrapsAdd, caller: FullCaller, db: DB) -> dict[str, int]:
    added = service.add_wraps(
        db, caller.account, grant_id, data.wraps, data.field_wraps, data.grantee_key_id
    )
    return {"added": added}


@router.post(
    "/grants/{grant_id}/revoke", status_code=status.HTTP_204_NO_CONTENT, dependencies=[VaultChange]
)
def revoke_grant(grant_id: Ref, caller: FullCaller, db: DB) -> Response:
    service.revoke_grant(db, caller.account, grant_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/received", response_model=list[GrantOut])
def grants_received(caller: FullCaller, db: DB) -> list[GrantOut]:
    return [
        _out(db, grant, owner, org or caller.account, grant.sealed_for_grantee, count)
        for grant, owner, count, org in service.grants_received(db, caller.account)
    ]


@router.get("/received/{grant_id}/head", response_model=CounterpartHeadOut)
def received_head(grant_id: Ref, caller: FullCaller, db: DB) -> CounterpartHeadOut:
    """The owner's newest vault head and the grants it lists as revoked: the grantee's client
    refuses a grant its owner took back, whatever the server says."""
    grant = service.received_grant(db, caller.account, grant_id)
    return CounterpartHeadOut.of(*vaulthead.for_counterpart(db, grant.owner_id, "grants"))


@router.get("/received/{grant_id}/documents", response_model=list[ReceivedDocument])
def received_documents(grant_id: Ref, caller: FullCaller, db: DB) -> list[ReceivedDocument]:
    return [
        ReceivedDocument(
            document_id=version.document_id,
            version=version.version,
            size=version.blob_size,
            encrypted_meta=version.encrypted_meta,
            wrapped_key=wrap.wrapped_key,
            statement=wrap.statement or b"",
            statement_signature=wrap.statement_signature or b"",
            manifest=version.manifest,
            signature=version.signature,
        )
        for version, wrap in service.received_documents(db, caller.account, grant_id)
    ]


@router.get("/received/{grant_id}/profile", response_model=list[ReceivedField])
def received_profile(grant_id: Ref, caller: FullCaller, db: DB) -> list[ReceivedField]:
    return [
        ReceivedField(
            slot=field.slot,
            ciphertext=field.ciphertext,
            wrapped_key=wrap.wrapped_key,
            field_signature=field.signature,
            owner_wrap_sha256=hashlib.sha256(field.wrapped_key).hexdigest(),
            statement=wrap.statement,
            statement_signature=wrap.statement_signature,
        )
        for field, wrap in service.received_fields(db, caller.account, grant_id)
    ]


@router.get("/received/{grant_id}/documents/{document_id}/versions/{version}/blob")
async def received_blob(
    grant_id: Ref, download: Annotated[VersionDownload, Depends()]
) -> StreamingResponse:
    return await download.send(service.received_version, grant_id)
