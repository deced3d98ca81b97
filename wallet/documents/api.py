from __future__ import annotations

import orjson
from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from wallet.deps import DB, AppSettings, FullCaller, Store, VaultChange
from wallet.documents import service
from wallet.documents.responses import send_version
from wallet.documents.schemas import (
    DocumentCreate,
    DocumentOut,
    DocumentPage,
    VersionCreate,
    VersionOut,
)
from wallet.types import Ref, Version

router = APIRouter(tags=["documents"])


def _created(document_id: str, version: int) -> dict[str, object]:
    return {"id": document_id, "version": version}


@router.post("/documents", status_code=status.HTTP_201_CREATED, dependencies=[VaultChange])
def create_document(
    data: DocumentCreate, caller: FullCaller, db: DB, store: Store, settings: AppSettings
) -> dict:
    version = service.add_version(
        db, store, caller.account, data, data.document_id, True, settings.account_quota_bytes
    )
    return _created(data.document_id, version.version)


@router.post(
    "/documents/{document_id}/versions",
    status_code=status.HTTP_201_CREATED,
    dependencies=[VaultChange],
)
def add_version(
    document_id: Ref,
    data: VersionCreate,
    caller: FullCaller,
    db: DB,
    store: Store,
    settings: AppSettings,
) -> dict:
    version = service.add_version(
        db, store, caller.account, data, document_id, False, settings.account_quota_bytes
    )
    return _created(document_id, version.version)


@router.get("/documents", response_model=DocumentPage)
def list_documents(
    caller: FullCaller,
    db: DB,
    limit: int = Query(default=service.LIST_DEFAULT_LIMIT, ge=1, le=service.LIST_MAX_LIMIT),
    cursor: str | None = Query(default=None, pattern=r"^[0-9a-f]{32}$"),
) -> Response:
    page, next_cursor = service.list_page(db, caller.account, limit, cursor)
    # Serialised by hand with orjson: pydantic costs too much for thousands of rows.
    body = orjson.dumps({"documents": page, "next_cursor": next_cursor})
    return Response(content=body, media_type="application/json")


@router.get("/documents/{document_id}", response_model=DocumentOut)
def get_document(document_id: Ref, caller: FullCaller, db: DB) -> DocumentOut:
    document, versions = service.get_document(db, caller.account, document_id)
    return DocumentOut(
        id=document.id,
        current_version=document.current_version,
        head_version=document.head_version,
        created_at=document.created_at,
        updated_at=document.updated_at,
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


@router.get("/documents/{document_id}/versions/{version}/blob")
async def download_blob(
    document_id: Ref, version: Version, request: Request, caller: FullCaller, db: DB, store: Store
) -> StreamingResponse:
    return await send_version(
        request, db, store, service.get_version, caller.account, document_id, version
    )


@router.delete(
    "/documents/{document_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[VaultChange]
)
def delete_document(document_id: Ref, caller: FullCaller, db: DB, store: Store) -> Response:
    service.delete_document(db, store, caller.account, document_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
