"""tus 1.0 endpoints. PATCH bodies stream straight to the blob store with constant memory."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session
from starlette.requests import ClientDisconnect

from storage.cleanup import discard_uploads_quietly
from wallet.deps import DB, AppSettings, FullCaller, Store
from wallet.errors import Conflict, TooLarge, WalletError
from wallet.types import Ref
from wallet.uploads import service
from wallet.uploads.models import Upload
from wallet.uploads.service import TUS_EXTENSIONS, TUS_VERSION

OFFSET_CONTENT_TYPE = "application/offset+octet-stream"


def _tus_resumable(
    tus_resumable: Annotated[
        str | None,
        Header(max_length=256, description=f"The tus version the client speaks: {TUS_VERSION}."),
    ] = None,
) -> None:
    service.check_tus_version(tus_resumable)


router = APIRouter(tags=["uploads"])
Tus = Depends(_tus_resumable)


def _tus_headers(**extra: str) -> dict[str, str]:
    return {"Tus-Resumable": TUS_VERSION, "Cache-Control": "no-store", **extra}


def _http_date(value: datetime) -> str:
    return value.strftime("%a, %d %b %Y %H:%M:%S GMT")


def _location(request: Request, upload: Upload) -> str:
    return str(request.url_for("upload_status", upload_id=upload.id).path)


@router.options("/uploads", status_code=status.HTTP_204_NO_CONTENT)
def tus_options(settings: AppSettings) -> Response:
    headers = _tus_headers(
        **{
            "Tus-Version": TUS_VERSION,
            "Tus-Extension": TUS_EXTENSIONS,
            "Tus-Max-Size": str(settings.max_upload_bytes),
        }
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT, headers=headers)


@router.post("/uploads", status_code=status.HTTP_201_CREATED, dependencies=[Tus])
def create_upload(
    request: Request,
    caller: FullCaller,
    db: DB,
    settings: AppSettings,
    store: Store,
    upload_length: Annotated[str | None, Header(max_length=256)] = None,
    upload_concat: Annotated[str | None, Header(max_length=4096)] = None,
) -> Response:
    concat, part_ids = service.parse_concat(upload_concat)
    if concat == service.FINAL:
        # Made of finished parts: no length of its own to announce, no byte to come.
        upload = service.create_final(db, settings, caller.account, part_ids)
    else:
        length = service.parse_length(upload_length)
        service.check_length(settings, length)
        # Storage down: say so now, before an upload row exists that no byte can ever reach.
        store.check()
        service.check_room(store, length)
        upload = service.create_upload(
            db, settings, caller.account, length, partial=concat == service.PARTIAL
        )
    headers = _tus_headers(
        Location=_location(request, upload), **{"Upload-Expires": _http_date(upload.expires_at)}
    )
    return Response(status_code=status.HTTP_201_CREATED, headers=headers)


def _concat_header(request: Request, upload: Upload) -> dict[str, str]:
    if upload.concat == service.PARTIAL:
        return {"Upload-Concat": service.PARTIAL}
    if upload.concat == service.FINAL:
        urls = " ".join(
            str(request.url_for("upload_status", upload_id=part_id).path)
            for part_id in service.part_ids(upload)
        )
        return {"Upload-Concat": f"{service.FINAL};{urls}"}
    return {}


@router.head("/uploads/{upload_id}", name="upload_status", dependencies=[Tus])
def upload_status(
    upload_id: Ref, request: Request, caller: FullCaller, db: DB, store: Store
) -> Response:
    upload = service.get_upload(db, caller.account, upload_id)
    offset = service.resume_offset(db, store, upload)
    headers = _tus_headers(
        **{
            "Upload-Offset": str(offset),
            "Upload-Length": str(upload.length),
            "Upload-Expires": _http_date(upload.expires_at),
            **_concat_header(request, upload),
        }
    )
    return Response(status_code=status.HTTP_200_OK, headers=headers)


class _Lease:
    """Renews a PATCH's lease on its upload while the body streams in; `lost` once it cannot.
    Uses the request's session only while the request itself does not."""

    def __init__(self, db: Session, upload_id: str, token: str) -> None:
        self.lost = False
        self._db, self._upload_id, self._token = db, upload_id, token
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while not self.lost:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), service.RENEW_EVERY)
                return
            try:
                renewed = await run_in_threadpool(
                    service.renew_patch, self._db, self._upload_id, self._token
                )
            except SQLAlchemyError:
                renewed = False  # the database is away: no lease is certain, so stop
                with contextlib.suppress(SQLAlchemyError):
                    await run_in_threadpool(self._db.rollback)
            self.lost = not renewed

    @contextlib.asynccontextmanager
    async def held(self) -> AsyncIterator[_Lease]:
        self._task = asyncio.create_task(self._run())
        try:
            yield self
        finally:
            self._stop.set()
            await self._task  # its database call ends before the request uses the session


async def _chunks(request: Request) -> AsyncIterator[bytes]:
    """The body, ending early (keeping what arrived) if the client goes or stops sending."""
    stream = request.stream().__aiter__()
    while True:
        try:
            yield await asyncio.wait_for(anext(stream), service.IDLE_SECONDS)
        except (StopAsyncIteration, ClientDisconnect, TimeoutError):
            return


@router.patch("/uploads/{upload_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[Tus])
async def upload_chunk(
    upload_id: Ref,
    request: Request,
    caller: FullCaller,
    db: DB,
    settings: AppSettings,
    store: Store,
    upload_offset: Annotated[int, Header(ge=0, le=2**62)],
    content_type: str = Header(default=""),
) -> Response:
    if content_type.split(";")[0].strip() != OFFSET_CONTENT_TYPE:
        raise WalletError(f"Send the bytes with Content-Type: {OFFSET_CONTENT_TYPE}.")
    upload = await run_in_threadpool(service.get_upload, db, caller.account, upload_id)
    await run_in_threadpool(service.resume_offset, db, store, upload)
    declared = request.headers.get("content-length")
    service.check_patch(upload, upload_offset, int(declared) if declared else None)
    token = await run_in_threadpool(service.claim_patch, db, upload, upload_offset)
    # The lease is what others see; no database transaction stays open while the body streams.
    await run_in_threadpool(db.commit)

    recorded = False
    try:
        writer = await run_in_threadpool(store.open_staging, upload.id, upload_offset)
        received = 0
        overflow = False
        try:
            async with _Lease(db, upload.id, token).held() as lease:
                async for chunk in _chunks(request):
                    if lease.lost:
                        break
                    received += len(chunk)
                    if upload_offset + received > upload.length:
                        overflow = True
                        break
                    writer.write(chunk)
        finally:
            new_offset = await run_in_threadpool(writer.close)
        if overflow:
            raise TooLarge("You sent more bytes than this upload announced.")
        if lease.lost:
            raise Conflict("This upload was cancelled or taken over meanwhile. Ask for its offset.")
        await run_in_threadpool(service.record_offset, db, settings, upload, new_offset, token)
        recorded = True
    finally:
        if not recorded:
            await run_in_threadpool(service.release_patch, db, upload.id, token)
    return Response(
        status_code=status.HTTP_204_NO_CONTENT,
        headers=_tus_headers(**{"Upload-Offset": str(new_offset)}),
    )


@router.delete("/uploads/{upload_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[Tus])
def cancel_upload(upload_id: Ref, caller: FullCaller, db: DB, store: Store) -> Response:
    upload = service.get_upload(db, caller.account, upload_id)
    staged = service.delete_upload(db, upload)
    # The rows are gone: staged bytes the store cannot drop now are left to the sweeper.
    discard_uploads_quietly(store, staged)
    return Response(status_code=status.HTTP_204_NO_CONTENT, headers=_tus_headers())
