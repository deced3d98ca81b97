from __future__ import annotations

import re

import orjson
import structlog
from fastapi import APIRouter, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from storage.base import BlobNotFound, BlobStore, StorageUnavailable
from wallet.deps import DB, FullCaller, Store
from wallet.documents import service
from wallet.documents.models import DocumentVersion
from wallet.documents.schemas import (
    DocumentCreate,
    DocumentOut,
    DocumentPage,
    VersionCreate,
    VersionOut,
)
from wallet.errors import STORAGE_DOWN, NotFound, Unavailable, WalletError

router = APIRouter(tags=["documents"])
log = structlog.get_logger(__name__)


class DamagedBlob(WalletError):
    status_code = 500
    code = "damaged"

    def __init__(self) -> None:
        super().__init__(
            "The stored copy of this file is damaged, so it was not sent. "
            "Tell the service's operator; your other documents are not affected."
        )


_RANGE = re.compile(r"^bytes=(\d+)-$")


def _created(document_id: str, version: int) -> dict[str, object]:
    return {"id": document_id, "version": version}


@router.post("/documents", status_code=status.HTTP_201_CREATED)
def create_document(data: DocumentCreate, caller: FullCaller, db: DB, store: Store) -> dict:
    version = service.add_version(db, store, caller.account, data, data.document_id, True)
    return _created(data.document_id, version.version)


@router.post("/documents/{document_id}/versions", status_code=status.HTTP_201_CREATED)
def add_version(
    document_id: str, data: VersionCreate, caller: FullCaller, db: DB, store: Store
) -> dict:
    version = service.add_version(db, store, caller.account, data, document_id, False)
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
def get_document(document_id: str, caller: FullCaller, db: DB) -> DocumentOut:
    document, versions = service.get_document(db, caller.account, document_id)
    return DocumentOut(
        id=document.id,
        current_version=document.current_version,
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
    document_id: str, version: int, request: Request, caller: FullCaller, db: DB, store: Store
) -> StreamingResponse:
    row = await run_in_threadpool(service.get_version, db, caller.account, document_id, version)
    # No database transaction stays open while the file streams out.
    await run_in_threadpool(db.commit)
    return await stream_blob(request, store, row)


async def stream_blob(
    request: Request, store: BlobStore, row: DocumentVersion
) -> StreamingResponse:
    """Streams a version's age file, honouring `Range: bytes=N-` so downloads can resume."""
    offset = 0
    range_header = request.headers.get("range")
    if range_header:
        match = _RANGE.match(range_header.strip())
        if not match or int(match.group(1)) >= row.blob_size:
            raise WalletError("This byte range is not valid for this file.")
        offset = int(match.group(1))
    try:
        stored_size = await run_in_threadpool(store.size, row.blob_key)
        if stored_size != row.blob_size:
            # A damaged or swapped file: never send a body that contradicts Content-Length.
            log.error("blob_size_mismatch", blob_key=row.blob_key)
            raise DamagedBlob()
        chunks = await run_in_threadpool(store.open_read, row.blob_key, offset)
    except BlobNotFound as exc:
        raise NotFound() from exc
    except StorageUnavailable as exc:
        raise Unavailable(STORAGE_DOWN) from exc
    headers = {
        "Content-Length": str(row.blob_size - offset),
        "Accept-Ranges": "bytes",
        "Cache-Control": "no-store",
    }
    if offset:
        headers["Content-Range"] = f"bytes {offset}-{row.blob_size - 1}/{row.blob_size}"
    return StreamingResponse(
        chunks,
        status_code=status.HTTP_206_PARTIAL_CONTENT if offset else status.HTTP_200_OK,
        media_type="application/octet-stream",
        headers=headers,
    )


@router.delete("/documents/{document_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_document(document_id: str, caller: FullCaller, db: DB, store: Store) -> Response:
    service.delete_document(db, store, caller.account, document_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
