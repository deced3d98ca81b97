from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Path, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from sharing.emergency import service
from sharing.emergency.models import EmergencyAccess
from sharing.emergency.schemas import EmergencyCreate, EmergencyOpened, EmergencyOut, TakeOver
from wallet.accounts.models import Account
from wallet.accounts.schemas import PublicKeys
from wallet.db import utcnow
from wallet.deps import DB, AppSettings, FullCaller, Store, VaultChange
from wallet.documents.responses import send_version
from wallet.documents.schemas import DocumentOut, DocumentPage, VersionOut
from wallet.profile.schemas import FieldOut
from wallet.types import Ref, Version
from wallet.vaulthead.schemas import CounterpartHeadOut, OwnerHeadOut, RevokedIds, SignedHead

router = APIRouter(tags=["emergency access"])
ArrangementId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]


def _out(row: EmergencyAccess, owner: Account, trusted: Account) -> EmergencyOut:
    now = utcnow()
    return EmergencyOut(
        id=row.id,
        state=service.state_of(row, now),
        access=row.access,
        wait_days=row.wait_days,
        owner=PublicKeys.of(owner),
        trusted=PublicKeys.of(trusted),
        statement=row.statement,
        signature=row.signature,
        created_at=row.created_at,
        requested_at=row.requested_at,
        release_at=service.release_at(row),
        refused_at=row.refused_at,
        released_at=row.released_at,
        taken_over_at=row.taken_over_at,
        revoked_at=row.revoked_at,
    )


# --- the owner ------------------------------------------------------------------------------


@router.post("/emergency", status_code=status.HTTP_201_CREATED)
def create(data: EmergencyCreate, caller: FullCaller, db: DB) -> dict[str, str]:
    """The owner names a trusted person, what they get and the waiting period (1-30 days)."""
    return {"id": service.create(db, caller.account, data, utcnow()).id}


@router.get("/emergency", response_model=list[EmergencyOut])
def given(caller: FullCaller, db: DB) -> list[EmergencyOut]:
    """Every arrangement the owner made, with any request waiting."""
    return [
        _out(row, caller.account, trusted) for row, trusted in service.given(db, caller.account)
    ]


@router.post("/emergency/{arrangement_id}/refuse", response_model=EmergencyOut)
def refuse(arrangement_id: ArrangementId, caller: FullCaller, db: DB) -> EmergencyOut:
    """Refuses the waiting request: nothing is released."""
    row = service.refuse(db, caller.account, arrangement_id, utcnow())
    trusted = db.get(Account, row.trusted_id)
    assert trusted is not None  # the row is deleted with the account
    return _out(row, caller.account, trusted)


@router.post(
    "/emergency/{arrangement_id}/end",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[VaultChange],
)
def end(arrangement_id: ArrangementId, caller: FullCaller, db: DB) -> Response:
    """Ends the arrangement for good; the owner's next head lists it with the revoked grants."""
    service.end(db, caller.account, arrangement_id, utcnow())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- the trusted person ----------------------------------------------------------------------


@router.get("/emergency/received", response_model=list[EmergencyOut])
def received(caller: FullCaller, db: DB) -> list[EmergencyOut]:
    """The arrangements that name the caller as the trusted person."""
    return [_out(row, owner, caller.account) for row, owner in service.received(db, caller.account)]


@router.post("/emergency/{arrangement_id}/request", response_model=EmergencyOut)
def ask(arrangement_id: ArrangementId, caller: FullCaller, db: DB) -> EmergencyOut:
    """The trusted person asks for access: the waiting period starts."""
    row = service.request(db, caller.account, arrangement_id, utcnow())
    owner = db.get(Account, row.owner_id)
    assert owner is not None  # the row is deleted with the account
    return _out(row, owner, caller.account)


@router.get("/emergency/{arrangement_id}/head", response_model=CounterpartHeadOut)
def head(arrangement_id: ArrangementId, caller: FullCaller, db: DB) -> CounterpartHeadOut:
    """The owner's head and the ids it lists with the revoked grants."""
    return CounterpartHeadOut.of(*service.counterpart_head(db, caller.account, arrangement_id))


@router.get("/emergency/{arrangement_id}/open", response_model=EmergencyOpened)
def open_keys(arrangement_id: ArrangementId, caller: FullCaller, db: DB) -> EmergencyOpened:
    """Once released: the owner's keys, sealed to the trusted person."""
    row, owner = service.released(db, caller.account, arrangement_id, utcnow())
    return EmergencyOpened(
        id=row.id,
        access=row.access,
        owner=PublicKeys.of(owner),
        statement=row.statement,
        signature=row.signature,
        sealed=row.sealed,
    )


@router.get("/emergency/{arrangement_id}/vault/head", response_model=OwnerHeadOut)
def owner_head(arrangement_id: ArrangementId, caller: FullCaller, db: DB) -> OwnerHeadOut:
    row, covered = service.owner_head(db, caller.account, arrangement_id, utcnow())
    return OwnerHeadOut(
        head=None if row is None else SignedHead(statement=row.statement, signature=row.signature),
        profile=covered["profile"],
        revoked=RevokedIds(**covered["revoked"]),
    )


@router.get("/emergency/{arrangement_id}/documents", response_model=DocumentPage)
def documents(
    arrangement_id: ArrangementId,
    caller: FullCaller,
    db: DB,
    limit: int = Query(default=100, ge=1, le=1000),
    cursor: str | None = Query(default=None, pattern=r"^[0-9a-f]{32}$"),
) -> Response:
    page, next_cursor = service.documents_page(
        db, caller.account, arrangement_id, limit, cursor, utcnow()
    )
    body = orjson.dumps({"documents": page, "next_cursor": next_cursor})
    return Response(content=body, media_type="application/json")


@router.get("/emergency/{arrangement_id}/documents/{document_id}", response_model=DocumentOut)
def document(
    arrangement_id: ArrangementId, document_id: Ref, caller: FullCaller, db: DB
) -> DocumentOut:
    found, versions = service.document(db, caller.account, arrangement_id, document_id, utcnow())
    return DocumentOut(
        id=found.id,
        current_version=found.current_version,
        head_version=found.head_version,
        created_at=found.created_at,
        updated_at=found.updated_at,
        versions=[
            VersionOut(
                version=item.version.version,
                size=item.version.blob_size,
                created_at=item.version.created_at,
                encrypted_meta=item.version.encrypted_meta,
                wrapped_key=item.wrapped_key,
                manifest=item.version.manifest,
                signature=item.version.signature,
            )
            for item in versions
        ],
    )


@router.get("/emergency/{arrangement_id}/documents/{document_id}/versions/{version}/blob")
async def blob(
    arrangement_id: ArrangementId,
    document_id: Ref,
    version: Version,
    request: Request,
    caller: FullCaller,
    db: DB,
    store: Store,
) -> StreamingResponse:
    return await send_version(
        request,
        db,
        store,
        service.read_version,
        caller.account,
        arrangement_id,
        document_id,
        version,
    )


@router.get("/emergency/{arrangement_id}/profile", response_model=list[FieldOut])
def profile(arrangement_id: ArrangementId, caller: FullCaller, db: DB) -> list[FieldOut]:
    rows = service.profile_fields(db, caller.account, arrangement_id, utcnow())
    return [FieldOut.model_validate(row, from_attributes=True) for row in rows]


@router.post("/emergency/{arrangement_id}/takeover", status_code=status.HTTP_204_NO_CONTENT)
def take_over(
    arrangement_id: ArrangementId,
    data: TakeOver,
    caller: FullCaller,
    db: DB,
    settings: AppSettings,
) -> Response:
    """Take over: a new passphrase for the owner; every session of the owner ends."""
    service.take_over(db, settings, caller.account, arrangement_id, data, utcnow())
    return Response(status_code=status.HTTP_204_NO_CONTENT)
