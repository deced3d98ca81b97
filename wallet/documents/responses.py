"""The one way a stored file goes out: the owner's download, a grantee's, a proxy's and a
link's all stream a document version's age file through here."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import structlog
from fastapi import Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from sqlmodel import Session

from storage.base import BlobNotFound, BlobStore, StorageUnavailable
from wallet.deps import DB, FullCaller, Store
from wallet.documents.models import DocumentVersion
from wallet.errors import STORAGE_DOWN, NotFound, Unavailable, WalletError
from wallet.types import Ref, Version

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


async def send_version(
    request: Request,
    db: Session,
    store: BlobStore,
    find: Callable[..., DocumentVersion],
    *args: Any,
) -> StreamingResponse:
    """A download endpoint's whole body: `find(db, *args)` checks access, journals the read
    and returns the version; its transaction commits before the file streams out, so none
    stays open while the bytes go."""
    row = await run_in_threadpool(find, db, *args)
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


class VersionDownload:
    """What every blob download endpoint receives: the version asked for, the caller and the
    app's handles. Each endpoint then says only where the version is found."""

    def __init__(
        self,
        document_id: Ref,
        version: Version,
        request: Request,
        caller: FullCaller,
        db: DB,
        store: Store,
    ) -> None:
        self.document_id = document_id
        self.version = version
        self.request = request
        self.caller = caller
        self.db = db
        self.store = store

    async def send(self, find: Callable[..., DocumentVersion], *scope: str) -> StreamingResponse:
        """Streams the version that `find(db, account, *scope, document_id, version)` gives."""
        return await send_version(
            self.request,
            self.db,
            self.store,
            find,
            self.caller.account,
            *scope,
            self.document_id,
            self.version,
        )
