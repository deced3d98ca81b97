"""Resumable uploads (tus 1.0 core + creation, termination, expiration and concatenation).

Completion (wallet/documents/service.py calls `build_blob` then `finish`) never destroys
staged bytes before the row that points at the new blob is committed: the blob is a link or
a copy of the staged bytes, and the staged bytes are discarded after the commit
(wallet/tx.py's after_commit). A completion that fails at its commit can be sent again as is.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import ClassVar

from sqlalchemy import func, or_, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, delete, select

from storage.base import BlobStore, StorageUnavailable
from storage.cleanup import discard_uploads_quietly
from wallet import tx
from wallet.accounts.models import Account
from wallet.db import utcnow
from wallet.documents.models import DocumentVersion
from wallet.errors import Conflict, Forbidden, NotFound, TooLarge, WalletError
from wallet.settings import Settings
from wallet.uploads.models import Upload

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,termination,expiration,concatenation"
PARTIAL = "partial"
FINAL = "final"
# tus-js-client sends as many parts as its `parallelUploads`; more than this is no speed-up.
MAX_PARTS = 16
# A PATCH holds its upload's lease while it runs and renews it every RENEW_EVERY. A server
# killed mid-PATCH leaves the lease to run out: a resume waits at most LEASE (423 meanwhile).
LEASE = timedelta(seconds=20)
RENEW_EVERY = 4.0
# A PATCH whose body stops coming for this long ends, keeping what arrived (and its lease).
IDLE_SECONDS = 60.0
BUSY_RETRY_AFTER = 5
GONE = "This upload is gone or has expired. Start the upload again."


class TusVersionUnsupported(WalletError):
    status_code = 412
    code = "tus_version_unsupported"
    described_headers: ClassVar[dict[str, str]] = {
        "Tus-Version": f"the tus versions this server speaks: {TUS_VERSION}",
        "Tus-Resumable": TUS_VERSION,
    }

    def __init__(self) -> None:
        super().__init__(
            f"This server speaks tus {TUS_VERSION} only. Send Tus-Resumable: {TUS_VERSION}.",
            {"Tus-Version": TUS_VERSION, "Tus-Resumable": TUS_VERSION},
        )


class BadLength(WalletError):
    status_code = 400
    code = "upload_length_invalid"


class BadConcat(WalletError):
    status_code = 400
    code = "upload_concat_invalid"


class OffsetMismatch(Conflict):
    code = "upload_offset_mismatch"


class UploadBusy(WalletError):
    status_code = 423
    code = "upload_busy"
    described_headers: ClassVar[dict[str, str]] = {"Retry-After": "seconds to wait"}

    def __init__(self) -> None:
        super().__init__(
            "Another request is sending bytes to this upload right now. "
            "Wait a moment, ask for its offset and resume from there.",
            {"Retry-After": str(BUSY_RETRY_AFTER)},
        )


class FinalReadOnly(Forbidden):
    code = "upload_final_read_only"


def size_text(limit: int) -> str:
    # Below 1 MB, say it in KB: "The limit is 0 MB" helps nobody.
    mib = 1024 * 1024
    return f"{limit // mib} MB" if limit >= mib else f"{max(1, limit // 1024)} KB"


def too_large_message(limit: int) -> str:
    return f"This file is too big. The limit is {size_text(limit)}. Try a smaller scan or photo."


def check_tus_version(value: str | None) -> None:
    """Every tus request but OPTIONS says which version it speaks (tus 1.0: 412 otherwise)."""
    if value is None or value.strip() != TUS_VERSION:
        raise TusVersionUnsupported()


def parse_length(value: str | None) -> int:
    """The Upload-Length header as a number of bytes (400 when missing or not a number)."""
    if value is None:
        raise BadLength("The Upload-Length header is missing. Say how many bytes you will send.")
    text = value.strip()
    if not text.isdigit() or not text.isascii() or len(text) > 19:
        raise BadLength("Upload-Length must be a positive number of bytes.")
    return int(text)


def check_length(settings: Settings, length: int) -> None:
    if length < 1:
        raise BadLength("Upload-Length must be a positive number of bytes.")
    if length > settings.max_upload_bytes:
        raise TooLarge(too_large_message(settings.max_upload_bytes))


def check_room(store: BlobStore, length: int) -> None:
    """Refuses ("storage full") an upload that would leave less than the disk's reserve, before
    a row exists. The store checks every chunk again, since parallel uploads share the room."""
    store.check_room(length)


# --- the storage quota (create_upload, and store_version in the documents service) ---


class QuotaFull(WalletError):
    """507 Insufficient Storage, not 413: the request is fine and would fit another account;
    this account's room is used up until something is deleted (docs/api.md)."""

    status_code = 507
    code = "quota_full"
    described_headers: ClassVar[dict[str, str]] = {
        "Wallet-Quota-Used": "bytes this account's documents and uploads use",
        "Wallet-Quota-Limit": "bytes this account may use (WALLET_ACCOUNT_QUOTA_BYTES)",
    }

    def __init__(self, whose: str, used: int, quota: int, needed: int) -> None:
        super().__init__(
            f"{whose} is full: {amount_text(used)} of {amount_text(quota)} are used, and this file "
            f"needs {amount_text(needed)}. Delete documents you no longer need (every version of "
            "a document counts), then try again.",
            {"Wallet-Quota-Used": str(used), "Wallet-Quota-Limit": str(quota)},
        )


def amount_text(size: int) -> str:
    """1 KB = 1024 bytes, one decimal below 100 units: "9.3 KB of 9.8 KB", never "10 of 10"."""
    unit, name = next(
        ((1024**power, name) for power, name in ((3, "GB"), (2, "MB")) if size >= 1024**power),
        (1024, "KB"),
    )
    value = size / unit
    text = f"{value:.0f}" if value >= 100 else f"{value:.1f}".removesuffix(".0")
    return f"{text} {name}"


def stored_bytes(db: Session, owner_id: str) -> int:
    """The ciphertext the owner's documents keep: every version's blob."""
    total = db.exec(
        select(func.coalesce(func.sum(DocumentVersion.blob_size), 0)).where(
            DocumentVersion.owner_id == owner_id
        )
    ).one()
    return int(total)


def reserved_bytes(db: Session, account_id: str) -> int:
    """The announced length of the account's unfinished uploads, not yet expired. A part
    joined into a final upload is not counted: the final upload's length carries its bytes."""
    total = db.exec(
        select(func.coalesce(func.sum(Upload.length), 0))
        .where(Upload.account_id == account_id)
        .where(col(Upload.expires_at) > utcnow())
        .where(col(Upload.final_id).is_(None))
    ).one()
    return int(total)


def reserve_room(db: Session, quota: int, account: Account, length: int) -> None:
    """At an upload's creation: its length is reserved by its row (the caller adds it in this
    transaction), under the owner's lock, so parallel uploads cannot all fit the last room.
    Quota 0: none."""
    if quota <= 0:
        return
    tx.lock_owner(db, account.id)
    used = stored_bytes(db, account.id) + reserved_bytes(db, account.id)
    if used + length > quota:
        raise QuotaFull("Your wallet", used, quota, length)


def check_room_at_completion(db: Session, quota: int, owner: Account, upload: Upload) -> None:
    """At completion, under the owner's lock: what is stored plus this upload fits. Catches
    what a reservation could not see (a proxy's upload, a quota lowered meanwhile)."""
    if quota <= 0:
        return
    tx.lock_owner(db, owner.id)
    used = stored_bytes(db, owner.id)
    if used + upload.length > quota:
        whose = "Your wallet" if upload.account_id == owner.id else "This person's wallet"
        raise QuotaFull(whose, used, quota, upload.length)


def parse_concat(value: str | None) -> tuple[str | None, list[str]]:
    """Upload-Concat: None, "partial", or "final;URL URL ..." (the parts' ids, in order)."""
    if value is None:
        return None, []
    kind, _, rest = value.strip().partition(";")
    if kind == PARTIAL and not rest:
        return PARTIAL, []
    if kind != FINAL:
        raise BadConcat("Upload-Concat must be 'partial' or 'final;' and the parts' addresses.")
    ids = [url.rstrip("/").rsplit("/", 1)[-1] for url in rest.split()]
    if not ids or len(ids) > MAX_PARTS:
        raise BadConcat(f"A final upload joins 1 to {MAX_PARTS} partial uploads.")
    if len(set(ids)) != len(ids):
        raise BadConcat("A partial upload is listed twice. List each part once.")
    if not all(len(i) == 32 and all(c in "0123456789abcdef" for c in i) for i in ids):
        raise BadConcat("An address in Upload-Concat is not one of this server's uploads.")
    return FINAL, ids


def _expiry(settings: Settings) -> datetime:
    return utcnow() + timedelta(hours=settings.upload_expiry_hours)


def create_upload(
    db: Session, settings: Settings, account: Account, length: int, *, partial: bool = False
) -> Upload:
    check_length(settings, length)
    reserve_room(db, settings.account_quota_bytes, account, length)
    upload = Upload(
        account_id=account.id,
        length=length,
        expires_at=_expiry(settings),
        concat=PARTIAL if partial else None,
    )
    db.add(upload)
    return upload


def create_final(db: Session, settings: Settings, account: Account, part_ids: list[str]) -> Upload:
    """A final upload made of the caller's finished partial uploads, in order. It is complete
    at once; its parts are no longer visible (tus lets a server delete them) and serve no
    other final upload."""
    found = {
        upload.id: upload
        for upload in db.exec(select(Upload).where(col(Upload.id).in_(part_ids)))
        if upload.account_id == account.id and upload.expires_at > utcnow()
    }
    parts = [found.get(part_id) for part_id in part_ids]
    again = _same_final(db, account, parts, part_ids)
    if again is not None:
        return again  # created before, its answer lost: the same final upload
    for part in parts:
        if part is None or part.concat != PARTIAL or part.final_id is not None:
            raise BadConcat(
                "A part of this upload is gone, is not a partial upload or was already used. "
                "Start the upload again."
            )
        if part.offset != part.length:
            raise BadConcat(
                f"A part is not finished: {part.offset} of {part.length} bytes arrived. "
                "Finish every part first."
            )
    length = sum(part.length for part in parts if part is not None)
    if length > settings.max_upload_bytes:
        raise TooLarge(too_large_message(settings.max_upload_bytes))
    final = Upload(
        account_id=account.id,
        length=length,
        offset=length,
        expires_at=_expiry(settings),
        concat=FINAL,
        parts=" ".join(part_ids),
    )
    db.add(final)
    db.flush()
    # Claims each part once, even against a concurrent final naming the same part; the parts
    # now live as long as the final does.
    claimed = db.exec(
        update(Upload)
        .where(col(Upload.id).in_(part_ids))
        .where(col(Upload.final_id).is_(None))
        .where(col(Upload.offset) == col(Upload.length))
        .values(final_id=final.id, expires_at=final.expires_at)
    ).rowcount
    if claimed != len(part_ids):
        raise BadConcat("A part of this upload was already used. Start the upload again.")
    return final


def _same_final(
    db: Session, account: Account, parts: list[Upload | None], ids: list[str]
) -> Upload | None:
    """The final upload these very parts (in this order) already make, if any."""
    finals = {part.final_id if part is not None else None for part in parts}
    if len(finals) != 1 or None in finals:
        return None
    final = db.get(Upload, finals.pop())
    if final is None or final.account_id != account.id or part_ids(final) != ids:
        return None
    return final


def part_ids(upload: Upload) -> list[str]:
    return upload.parts.split() if upload.parts else []


def get_upload(db: Session, account: Account, upload_id: str) -> Upload:
    upload = db.get(Upload, upload_id)
    if (
        upload is None
        or upload.account_id != account.id
        or upload.expires_at <= utcnow()
        or upload.final_id is not None  # a part taken into a final upload is gone for tus
    ):
        raise NotFound(GONE)
    return upload


def resume_offset(db: Session, store: BlobStore, upload: Upload) -> int:
    """The offset to resume from: never past the bytes really staged."""
    if not store.durable_appends and upload.concat != FINAL:
        try:
            staged = store.staged_size(upload.id)
        except StorageUnavailable:
            return upload.offset  # cannot check now; a PATCH would fail with 503 anyway
        if staged < upload.offset:
            db.execute(update(Upload).where(col(Upload.id) == upload.id).values(offset=staged))
            upload.offset = staged
    return upload.offset


def check_patch(upload: Upload, offset: int, content_length: int | None) -> None:
    if upload.concat == FINAL:
        raise FinalReadOnly("This upload is made of its parts: it takes no bytes of its own.")
    if offset != upload.offset:
        raise OffsetMismatch(f"The upload is at byte {upload.offset}. Resume from there.")
    if content_length is not None and offset + content_length > upload.length:
        raise TooLarge("You sent more bytes than this upload announced.")


def claim_patch(db: Session, upload: Upload, offset: int) -> str:
    """Takes the upload's lease for one PATCH at `offset`: of PATCHes sent at once, one gets
    it; the others get 423 (busy) or 409 (the offset moved on). The caller commits."""
    token = secrets.token_hex(16)
    now = utcnow()
    taken = db.exec(
        update(Upload)
        .where(col(Upload.id) == upload.id)
        .where(col(Upload.offset) == offset)
        .where(or_(col(Upload.patch_token).is_(None), col(Upload.patch_until) < now))
        .values(patch_token=token, patch_until=now + LEASE)
    ).rowcount
    if taken == 1:
        return token
    db.refresh(upload)
    if upload.offset != offset:
        raise OffsetMismatch(f"The upload is at byte {upload.offset}. Resume from there.")
    raise UploadBusy()


def renew_patch(db: Session, upload_id: str, token: str) -> bool:
    """Keeps a running PATCH's lease; False when it was lost (the upload was cancelled)."""
    renewed = db.exec(
        update(Upload)
        .where(col(Upload.id) == upload_id)
        .where(col(Upload.patch_token) == token)
        .values(patch_until=utcnow() + LEASE)
    ).rowcount
    db.commit()  # a lease is only worth something once others can see it
    return renewed == 1


def release_patch(db: Session, upload_id: str, token: str) -> None:
    """Gives the lease back after a PATCH that failed, so a resume need not wait for it."""
    try:
        db.rollback()
        db.exec(
            update(Upload)
            .where(col(Upload.id) == upload_id)
            .where(col(Upload.patch_token) == token)
            .values(patch_token=None, patch_until=None)
        )
        db.commit()  # the request itself fails and rolls back; the release must stay
    except SQLAlchemyError:
        db.rollback()  # the lease then runs out by itself


def record_offset(
    db: Session, settings: Settings, upload: Upload, offset: int, token: str | None = None
) -> None:
    """Moves the offset only from where this request started and only while it holds the
    lease, and gives the lease back."""
    # A phone on a slow network keeps its upload alive as long as bytes keep coming.
    expires_at = _expiry(settings)
    query = (
        update(Upload)
        .where(col(Upload.id) == upload.id)
        .where(col(Upload.offset) == upload.offset)
        .values(offset=offset, expires_at=expires_at, patch_token=None, patch_until=None)
    )
    if token is not None:
        query = query.where(col(Upload.patch_token) == token)
    if db.exec(query).rowcount != 1:
        raise Conflict("This upload moved on meanwhile. Ask for its offset and resume from there.")
    upload.offset = offset
    upload.expires_at = expires_at


def finished_upload(db: Session, account: Account, upload_id: str) -> Upload:
    """The caller's upload, all of whose bytes arrived: what a completion turns into a blob."""
    upload = db.get(Upload, upload_id)
    if (
        upload is None
        or upload.account_id != account.id
        or upload.expires_at <= utcnow()
        or upload.final_id is not None
    ):
        raise NotFound(GONE)
    if upload.concat == PARTIAL:
        raise Conflict(
            "This upload is one part of a parallel upload. Join the parts in a final upload "
            "(Upload-Concat: final) and store that one."
        )
    if upload.offset != upload.length:
        raise Conflict(
            f"The upload is not finished: {upload.offset} of {upload.length} bytes arrived. "
            "Resume it first."
        )
    return upload


def _staged(upload: Upload) -> list[str]:
    return part_ids(upload) if upload.concat == FINAL else [upload.id]


def build_blob(db: Session, store: BlobStore, upload: Upload, blob_key: str) -> None:
    """Makes the blob `blob_key` from the upload's staged bytes (its parts', in order, for a
    final upload). The staged bytes stay until `finish`'s commit: a completion whose commit
    fails finds them again when it is retried. Raises StorageUnavailable."""
    staged = _staged(upload)
    if sum(store.staged_size(upload_id) for upload_id in staged) != upload.length:
        _forget(db, [upload.id, *part_ids(upload)])
        raise Conflict("The bytes of this upload are gone. Start the upload again.")
    store.blob_from_staging(staged, blob_key)


def finish(db: Session, store: BlobStore, upload: Upload) -> None:
    """Forgets the upload (and its parts) in the completion's transaction; its staged bytes go
    once that transaction has committed. Two completions of one upload: one wins, one 409."""
    ids = [upload.id, *part_ids(upload)]
    deleted = db.exec(delete(Upload).where(col(Upload.id).in_(ids))).rowcount
    if deleted != len(ids):
        raise Conflict("This upload was stored meanwhile. Reload your documents.")
    staged = _staged(upload)
    tx.after_commit(db, lambda: discard_uploads_quietly(store, staged))


def discard_leftovers(db: Session, store: BlobStore, upload_id: str) -> None:
    """After a completion whose commit went through but whose discard never ran: the staged
    bytes of an upload that no row knows any more go once this request commits."""
    if db.get(Upload, upload_id) is None:
        tx.after_commit(db, lambda: discard_uploads_quietly(store, [upload_id]))


def _forget(db: Session, upload_ids: list[str]) -> None:
    try:
        db.exec(delete(Upload).where(col(Upload.id).in_(upload_ids)))
        db.commit()  # its bytes are gone: a retry must hear so although the request fails
    except SQLAlchemyError:
        db.rollback()  # the request's rollback follows anyway


def delete_upload(db: Session, upload: Upload) -> list[str]:
    """Forgets an upload (a final one with its parts); returns whose staged bytes to discard."""
    ids = [upload.id, *part_ids(upload)]
    db.exec(delete(Upload).where(col(Upload.id).in_(ids)))
    db.commit()  # before the staged bytes are discarded
    return ids


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
