"""Documents and their versions. The server checks structure and signatures, never content."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.base import BlobStore, StorageUnavailable
from storage.cleanup import delete_blobs_quietly
from wallet import tx
from wallet.accounts.models import Account
from wallet.crypto.encoding import b64e
from wallet.crypto.signing import BadSignature, verify
from wallet.db import iso_utc, new_id, utcnow
from wallet.documents.models import Document, DocumentVersion, KeyWrap
from wallet.documents.schemas import VersionCreate
from wallet.errors import STORAGE_DOWN, Conflict, Invalid, NotFound, Unavailable, WalletError
from wallet.journal import service as journal
from wallet.protocol import statements
from wallet.uploads import service as uploads
from wallet.uploads.models import Upload

MANIFEST_KIND = statements.DOCUMENT_VERSION.kind
DOCUMENT_EXISTS = "A document with this id already exists."
STALE_VERSION = (
    "This document got a new version at the same time. Reload it and upload the file again."
)
LIST_DEFAULT_LIMIT = 1000
LIST_MAX_LIMIT = 10_000


@dataclass
class VersionWithWrap:
    version: DocumentVersion
    wrapped_key: bytes


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_manifest(
    account: Account, document_id: str, version: int, upload: Upload, data: VersionCreate
) -> None:
    """Refuses a version whose signed manifest does not match what is being stored."""
    try:
        verify(account.public_signing_key, data.manifest, data.signature)
    except BadSignature as exc:
        raise Invalid("The manifest signature does not match your signing key.") from exc
    try:
        manifest: dict[str, Any] = json.loads(data.manifest)
    except ValueError as exc:
        raise Invalid("The manifest is not valid JSON.") from exc
    if not isinstance(manifest, dict):
        raise Invalid("The manifest is not a JSON object.")
    expected = {
        "v": statements.DOCUMENT_VERSION.version,
        "kind": MANIFEST_KIND,
        "document_id": document_id,
        "version": version,
        "blob_size": upload.length,
        "meta_sha256": _sha256(data.encrypted_meta),
        "wraps": [{"key_id": account.key_id, "sha256": _sha256(data.wrapped_key)}],
    }
    for field, value in expected.items():
        signed = manifest.get(field)
        if field == "version" and isinstance(signed, int) and 0 < signed < version:
            # Signed for a version that a concurrent upload has taken meanwhile.
            raise Conflict(STALE_VERSION)
        if signed != value:
            raise Invalid(f"The manifest field '{field}' does not match this upload.")
    blob_hash = manifest.get("blob_sha256")
    if not isinstance(blob_hash, str) or len(blob_hash) != 64:
        raise Invalid("The manifest field 'blob_sha256' is missing.")
    check_statement(statements.DOCUMENT_VERSION, manifest, "manifest")


def check_statement(kind: statements.Kind, value: Any, what: str) -> None:
    """Refuses a signed statement with a missing, unknown or mistyped field."""
    try:
        kind.check(value)
    except statements.StatementError as exc:
        raise Invalid(f"The {what} is not well formed: {exc}.") from exc


def find_document(db: Session, owner_id: str, document_id: str) -> Document | None:
    """A document id names a document only within one owner's wallet."""
    return db.get(Document, (document_id, owner_id))


def owned_document(db: Session, account: Account, document_id: str) -> Document:
    document = find_document(db, account.id, document_id)
    # Someone else's document (another owner may use the same id) and a missing one get the
    # very same answer.
    if document is None:
        raise NotFound()
    return document


@dataclass(frozen=True)
class VersionContent:
    """What a new version stores, as its uploader sent it (all of it sealed or signed)."""

    encrypted_meta: bytes
    owner_wrapped_key: bytes  # the document key sealed to the owner
    manifest: bytes
    signature: bytes


def store_version(
    db: Session,
    store: BlobStore,
    *,
    uploader: Account,
    owner: Account,
    upload_id: str,
    document_id: str,
    new_document: bool,
    content: VersionContent,
    check: Callable[[Upload, int], None],
    record: Callable[[DocumentVersion], None],
    quota: int,
) -> DocumentVersion:
    """Stores the uploader's finished upload as the next version of the owner's document, in
    the request's transaction: the owner's own upload and a proxy's under a mandate.

    `check(upload, version_number)` refuses a signed manifest that does not fit. `quota` is the
    owner's storage quota in bytes (0: none). `record(version)`
    adds what else the version needs (journal entry, other key wraps, re-checks under the
    owner's lock) in the same transaction; a WalletError it raises undoes everything.

    The blob is made first (a link to or a copy of the staged bytes, which stay until this
    transaction commits); if anything after that fails, the blob is an orphan that no row
    points to, so nothing half-done is ever visible, the sweeper removes it, and the same
    completion can be sent again. Sent again after it committed, it gets the same version.
    """
    stored = _already_stored(db, owner, document_id, content)
    if stored is not None:
        # A completion retried after its commit went through (its answer was lost).
        uploads.discard_leftovers(db, store, upload_id)
        return stored
    upload = uploads.finished_upload(db, uploader, upload_id)
    # Before the blob is made: refused, the upload stays, and can complete once room is made.
    uploads.check_room_at_completion(db, quota, owner, upload)
    now = utcnow()
    if new_document:
        # Only the owner's own ids are taken: another owner's document with this id is no
        # conflict, so this answer tells nothing about other wallets.
        if find_document(db, owner.id, document_id) is not None:
            raise Conflict(DOCUMENT_EXISTS)
        document = Document(id=document_id, owner_id=owner.id, current_version=0, created_at=now)
    else:
        document = owned_document(db, owner, document_id)
    version_number = document.current_version + 1
    check(upload, version_number)

    blob_key = new_id()
    try:
        uploads.build_blob(db, store, upload, blob_key)
    except StorageUnavailable as exc:
        raise Unavailable(STORAGE_DOWN) from exc

    version = DocumentVersion(
        document_id=document_id,
        owner_id=owner.id,
        version=version_number,
        blob_key=blob_key,
        blob_size=upload.length,
        encrypted_meta=content.encrypted_meta,
        manifest=content.manifest,
        signature=content.signature,
        created_at=now,
    )
    document.current_version = version_number
    document.current_size = upload.length
    document.current_meta_b64 = b64e(content.encrypted_meta)
    document.current_wrap_b64 = b64e(content.owner_wrapped_key)
    document.current_manifest_b64 = b64e(content.manifest)
    document.current_signature_b64 = b64e(content.signature)
    document.updated_at = now
    db.add(document)
    db.add(version)
    try:
        # The flush already writes: a concurrent completion that won fails it, not the commit.
        db.flush()
        db.add(
            KeyWrap(
                version_id=version.id,
                recipient_key_id=owner.key_id,
                wrapped_key=content.owner_wrapped_key,
            )
        )
        record(version)
        uploads.finish(db, store, upload)  # its staged bytes go after the commit
        db.flush()
    except (IntegrityError, WalletError) as exc:
        db.rollback()  # undo the version; the staged bytes are intact for a retry
        delete_blobs_quietly(store, [blob_key])
        if isinstance(exc, WalletError):
            raise
        raise Conflict(STALE_VERSION if not new_document else DOCUMENT_EXISTS) from exc
    return version


def add_version(
    db: Session,
    store: BlobStore,
    account: Account,
    data: VersionCreate,
    document_id: str,
    new_document: bool,
    quota: int,
) -> DocumentVersion:
    """The owner's own upload, as a new document or the next version of one."""

    def record(version: DocumentVersion) -> None:
        journal.append(
            db,
            account.id,
            "document_added" if new_document else "version_added",
            subject_kind="document",
            subject_id=document_id,
            details={"version": version.version},
        )

    return store_version(
        db,
        store,
        uploader=account,
        owner=account,
        upload_id=data.upload_id,
        document_id=document_id,
        new_document=new_document,
        content=VersionContent(
            data.encrypted_meta, data.wrapped_key, data.manifest, data.signature
        ),
        check=lambda upload, number: check_manifest(account, document_id, number, upload, data),
        record=record,
        quota=quota,
    )


def _already_stored(
    db: Session, owner: Account, document_id: str, content: VersionContent
) -> DocumentVersion | None:
    """The version this very completion (same signed manifest) already stored, if any."""
    return db.exec(
        select(DocumentVersion)
        .where(col(DocumentVersion.owner_id) == owner.id)
        .where(col(DocumentVersion.document_id) == document_id)
        .where(col(DocumentVersion.manifest) == content.manifest)
        .where(col(DocumentVersion.signature) == content.signature)
    ).first()


_LIST_SQL = text(
    """
    SELECT id, current_version, head_version, created_at, updated_at, current_size, current_meta_b64,
           current_wrap_b64, current_manifest_b64, current_signature_b64
    FROM document
    WHERE owner_id = :owner_id AND id > :cursor
    ORDER BY id
    LIMIT :limit
    """
)


def list_page(
    db: Session, account: Account, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """One index range scan returning plain rows: this must stay fast for owners with many
    documents. Versions are numbered 1..current, so the count is the current number."""
    limit = max(1, min(limit, LIST_MAX_LIMIT))
    rows = (
        db.connection()
        .execute(
            _LIST_SQL,
            {
                "key_id": account.key_id,
                "owner_id": account.id,
                "cursor": cursor or "",
                "limit": limit + 1,
            },
        )
        .all()
    )
    has_more = len(rows) > limit
    rows = rows[:limit]
    page = [
        {
            "id": document_id,
            "current_version": version,
            "head_version": head_version,
            "versions": version,
            "created_at": iso_utc(created),
            "updated_at": iso_utc(updated),
            "size": size,
            "encrypted_meta": meta,
            "wrapped_key": wrap,
            "manifest": manifest,
            "signature": signature,
        }
        for (
            document_id,
            version,
            head_version,
            created,
            updated,
            size,
            meta,
            wrap,
            manifest,
            signature,
        ) in rows
    ]
    return page, (rows[-1][0] if has_more else None)


def get_document(
    db: Session, account: Account, document_id: str
) -> tuple[Document, list[VersionWithWrap]]:
    document = owned_document(db, account, document_id)
    rows = db.exec(
        select(DocumentVersion, KeyWrap.wrapped_key)
        .join(KeyWrap, col(KeyWrap.version_id) == col(DocumentVersion.id))
        .where(DocumentVersion.owner_id == account.id)
        .where(DocumentVersion.document_id == document.id)
        .where(KeyWrap.recipient_key_id == account.key_id)
        .order_by(col(DocumentVersion.version))
    ).all()
    return document, [VersionWithWrap(v, w) for v, w in rows]


def find_owned_version(
    db: Session, owner_id: str, document_id: str, version: int
) -> DocumentVersion | None:
    return db.exec(
        select(DocumentVersion)
        .where(DocumentVersion.owner_id == owner_id)
        .where(DocumentVersion.document_id == document_id)
        .where(DocumentVersion.version == version)
    ).first()


def owned_version(db: Session, account: Account, document_id: str, version: int) -> DocumentVersion:
    """A version of one of the account's documents, for sharing it. Someone else's and a missing
    one get the same answer, which names the id the caller sent."""
    row = find_owned_version(db, account.id, document_id, version)
    if row is None:
        raise NotFound(f"Document {document_id} version {version} is not in your wallet.")
    return row


def owned_version_ids(
    db: Session, owner: Account, wanted: list[tuple[str, int]]
) -> dict[tuple[str, int], str]:
    """(document id, version) -> version row id for many versions of the owner's documents, in
    a few queries (a grant or a mandate may cover thousands). Any that is not the owner's gets
    the plain 404 of `owned_version`."""
    wanted_set = set(wanted)
    versions: dict[tuple[str, int], str] = {}
    document_ids = sorted({document_id for document_id, _ in wanted_set})
    for start in range(0, len(document_ids), 500):
        rows = db.exec(
            select(DocumentVersion.document_id, DocumentVersion.version, DocumentVersion.id)
            .where(DocumentVersion.owner_id == owner.id)
            .where(col(DocumentVersion.document_id).in_(document_ids[start : start + 500]))
        ).all()
        versions.update({(d, v): row_id for d, v, row_id in rows if (d, v) in wanted_set})
    for document_id, version in wanted:
        if (document_id, version) not in versions:
            owned_version(db, owner, document_id, version)  # raises the plain 404
    return versions


def get_version(db: Session, account: Account, document_id: str, version: int) -> DocumentVersion:
    document = owned_document(db, account, document_id)
    row = db.exec(
        select(DocumentVersion)
        .where(DocumentVersion.owner_id == account.id)
        .where(DocumentVersion.document_id == document.id)
        .where(DocumentVersion.version == version)
    ).first()
    if row is None:
        raise NotFound()
    return row


def delete_document(db: Session, store: BlobStore, account: Account, document_id: str) -> None:
    document = owned_document(db, account, document_id)
    blob_keys = list(
        db.exec(
            select(DocumentVersion.blob_key)
            .where(DocumentVersion.owner_id == account.id)
            .where(DocumentVersion.document_id == document.id)
        )
    )
    db.delete(document)
    journal.append(
        db, account.id, "document_deleted", subject_kind="document", subject_id=document_id
    )
    tx.after_commit(db, lambda: delete_blobs_quietly(store, blob_keys))


def sweep_orphan_blobs(db: Session, store: BlobStore, now: datetime, grace: timedelta) -> int:
    """For the sweeper: deletes blobs no version points to (moved into place by a completion
    that never committed), once older than grace."""
    deleted = 0
    for blob_key, modified in store.list_blobs():
        if now - modified <= grace:
            continue
        known = db.exec(
            select(DocumentVersion.id).where(DocumentVersion.blob_key == blob_key)
        ).first()
        if known is None:
            delete_blobs_quietly(store, [blob_key])
            deleted += 1
    return deleted
