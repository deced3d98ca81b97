"""tus 1.0 endpoints. PATCH bodies stream straight to the blob store with constant memory."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Header, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from storage.cleanup import discard_uploads_quietly
from wallet.deps import DB, AppSettings, FullCaller, Store
from wallet.errors import Invalid, TooLarge, WalletError
from wallet.types import Ref
from wallet.uploads import service
from wallet.uploads.service import TUS_EXTENSIONS, TUS_VERSION

router = APIRouter(tags=["uploads"])
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"


def _tus_headers(**extra: str) -> dict[str, str]:
    return {"Tus-Resumable": TUS_VERSION, "Cache-Control": "no-store", **extra}


def _http_date(value: datetime) -> str:
    return value.strftime("%a, %d %b %Y %H:%M:%S GMT")


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


@router.post("/uploads", status_code=status.HTTP_201_CREATED)
def create_upload(
    request: Request,
    caller: FullCaller,
    db: DB,
    settings: AppSettings,
    store: Store,
    upload_length: int | None = Header(default=None),
) -> Response:
    if upload_length is None:
        raise Invalid("The Upload-Length header is missing. Say how many bytes you will send.")
    service.check_length(settings, upload_length)
    # Storage down: say so now, before an upload row exists that no byte can ever reach.
    store.check()
    service.check_room(store, upload_length)
    upload = service.create_upload(db, settings, caller.account, upload_length)
    location = str(request.url_for("upload_status", upload_id=upload.id).path)
    headers = _tus_headers(Location=location, **{"Upload-Expires": _http_date(upload.expires_at)})
    return Response(status_code=status.HTTP_201_CREATED, headers=headers)


@router.head("/uploads/{upload_id}", name="upload_status")
def upload_status(upload_id: Ref, caller: FullCaller, db: DB, store: Store) -> Response:
    upload = service.get_upload(db, caller.account, upload_id)
    offset = service.resume_offset(db, store, upload)
    headers = _tus_headers(
        **{
            "Upload-Offset": str(offset),
            "Upload-Length": str(upload.length),
            "Upload-Expires": _http_date(upload.expires_at),
        }
    )
    return Response(status_code=status.HTTP_200_OK, headers=headers)


@router.patch("/uploads/{upload_id}", status_code=status.HTTP_204_NO_CONTENT)
async def upload_chunk(
    upload_id: Ref,
    request: Request,
    caller: FullCaller,
    db: DB,
    settings: AppSettings,
    store: Store,
    upload_offset: int = Header(),
    content_type: str = Header(default=""),
) -> Response:
    if content_type.split(";")[0].strip() != OFFSET_CONTENT_TYPE:
        raise WalletError(f"Send the bytes with Content-Type: {OFFSET_CONTENT_TYPE}.")
    upload = await run_in_threadpool(service.get_upload, db, caller.account, upload_id)
    await run_in_threadpool(service.resume_offset, db, store, upload)
    # No database transaction stays open while the body streams in.
    await run_in_threadpool(db.commit)
    declared = request.headers.get("content-length")
    service.check_patch(upload, upload_offset, int(declared) if declared else None)

    writer = await run_in_threadpool(store.open_staging, upload.id, upload_offset)
    received = 0
    overflow = False
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if upload_offset + received > upload.length:
                overflow = True
                break
            writer.write(chunk)
    except ClientDisconnect:
        pass  # keep what arrived; the client asks HEAD for the offset and resumes
    finally:
        new_offset = await run_in_threadpool(writer.close)
    if overflow:
        raise TooLarge("You sent more bytes than this upload announced.")
    await run_in_threadpool(service.record_offset, db, settings, upload, new_offset)
    return Response(
        status_code=status.HTTP_204_NO_CONTENT,
        headers=_tus_headers(**{"Upload-Offset": str(new_offset)}),
    )


@router.delete("/uploads/{upload_id}", status_code=status.HTTP_204_NO_CONTENT)
def cancel_upload(upload_id: Ref, caller: FullCaller, db: DB, store: Store) -> Response:
    upload = service.get_upload(db, caller.account, upload_id)
    service.delete_upload(db, upload)
    # The row is gone: staged bytes the store cannot drop now are left to the sweeper.
    discard_uploads_quietly(store, [upload.id])
    return Response(status_code=status.HTTP_204_NO_CONTENT, headers=_tus_headers())
