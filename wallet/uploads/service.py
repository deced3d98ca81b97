"""Resumable uploads (tus 1.0 core + creation, termination and expiration)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, delete, select

from storage.base import BlobStore, StorageUnavailable
from storage.cleanup import discard_uploads_quietly
from wallet.accounts.models import Account
from wallet.db import utcnow
from wallet.documents import service as documents
from wallet.errors import Conflict, Invalid, NotFound, TooLarge
from wallet.settings import Settings
from wallet.uploads.models import Upload

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,termination,expiration"


def size_text(limit: int) -> str:
    # Below 1 MB, say it in KB: "The limit is 0 MB" helps nobody.
    mib = 1024 * 1024
    return f"{limit // mib} MB" if limit >= mib else f"{max(1, limit // 1024)} KB"


def too_large_message(limit: int) -> str:
    return f"This file is too big. The limit is {size_text(limit)}. Try a smaller scan or photo."


def check_length(settings: Settings, length: int) -> None:
    if length < 1:
        raise Invalid("Upload-Length must be a positive number of bytes.")
    if length > settings.max_upload_bytes:
        raise TooLarge(too_large_message(settings.max_upload_bytes))


def check_room(store: BlobStore, length: int) -> None:
    """Refuses ("storage full") an upload that would leave less than the disk's reserve, before
    a row exists. The store checks every chunk again, since parallel uploads share the room."""
    store.check_room(length)


def create_upload(db: Session, settings: Settings, account: Account, length: int) -> Upload:
    check_length(settings, length)
    documents.reserve_room(db, settings.account_quota_bytes, account, length)
    upload = Upload(
        account_id=account.id,
        length=length,
        expires_at=utcnow() + timedelta(hours=settings.upload_expiry_hours),
    )
    db.add(upload)
    return upload


def get_upload(db: Session, account: Account, upload_id: str) -> Upload:
    upload = db.get(Upload, upload_id)
    if upload is None or upload.account_id != account.id or upload.expires_at <= utcnow():
        raise NotFound("This upload is gone or has expired. Start the upload again.")
    return upload


def resume_offset(db: Session, store: BlobStore, upload: Upload) -> int:
    """The offset to resume from: never past the bytes really staged."""
    if not store.durable_appends:
        try:
            staged = store.staged_size(upload.id)
        except StorageUnavailable:
            return upload.offset  # cannot check now; a PATCH would fail with 503 anyway
        if staged < upload.offset:
            db.execute(update(Upload).where(col(Upload.id) == upload.id).values(offset=staged))
            upload.offset = staged
    return upload.offset


def check_patch(upload: Upload, offset: int, content_length: int | None) -> None:
    if offset != upload.offset:
        raise Conflict(f"The upload is at byte {upload.offset}. Resume from there.")
    if content_length is not None and offset + content_length > upload.length:
        raise TooLarge("You sent more bytes than this upload announced.")


def record_offset(db: Session, settings: Settings, upload: Upload, offset: int) -> None:
    """Moves the offset only from where this request started: of two PATCHes sent at the same
    offset at once, one wins and the other gets 409."""
    # A phone on a slow network keeps its upload alive as long as bytes keep coming.
    expires_at = utcnow() + timedelta(hours=settings.upload_expiry_hours)
    moved = db.exec(
        update(Upload)
        .where(col(Upload.id) == upload.id)
        .where(col(Upload.offset) == upload.offset)
        .values(offset=offset, expires_at=expires_at)
    ).rowcount
    if moved != 1:
        raise Conflict("This upload moved on meanwhile. Ask for its offset and resume from there.")
    upload.offset = offset
    upload.expires_at = expires_at


def delete_upload(db: Session, upload: Upload) -> None:
    db.delete(upload)
    db.commit()  # before the staged bytes are discarded


def sweep_expired(db: Session, store: BlobStore, now: datetime) -> int:
    """For the sweeper: forgets unfinished uploads past their expiry, then their staged bytes."""
    expired = list(db.exec(select(Upload.id).where(col(Upload.expires_at) <= now)))
    if expired:
        db.exec(delete(Upload).where(col(Upload.id).in_(expired)))
        db.commit()  # the rows go first: a crash after this leaves orphan staging, swept later
    discard_uploads_quietly(store, expired)
    return len(expired)


def sweep_orphan_staging(db: Session, store: BlobStore, now: datetime, grace: timedelta) -> int:
    """For the sweeper: discards staged bytes no upload row knows, once older than grace."""
    live = set(db.exec(select(Upload.id)))
    discarded = 0
    for upload_id, modified in store.list_staging():
        if upload_id not in live and now - modified > grace:
            store.discard_staging(upload_id)
            discarded += 1
    return discarded
