"""Removes what nobody can see any more: expired unfinished uploads and orphan blobs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

import structlog
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, delete, select

from sharing.links.models import LinkChallenge, LinkDownloadSession, ShareLink
from storage.base import BlobNotFound, BlobStore, StorageUnavailable
from wallet.db import utcnow
from wallet.documents.models import DocumentVersion
from wallet.uploads.models import Upload

log = structlog.get_logger(__name__)


@dataclass
class SweepReport:
    expired_uploads: int = 0
    orphan_staging: int = 0
    orphan_blobs: int = 0


def delete_blobs_quietly(store: BlobStore, blob_keys: Iterable[str]) -> None:
    for blob_key in blob_keys:
        try:
            store.delete(blob_key)
        except (StorageUnavailable, BlobNotFound):
            log.warning("blob_delete_deferred", blob_key=blob_key)


def discard_uploads_quietly(store: BlobStore, upload_ids: Iterable[str]) -> None:
    for upload_id in upload_ids:
        try:
            store.discard_staging(upload_id)
        except StorageUnavailable:
            log.warning("staging_delete_deferred", upload_id=upload_id)


def sweep(engine: Engine, store: BlobStore, grace: timedelta) -> SweepReport:
    report = SweepReport()
    now = utcnow()
    with Session(engine) as db:
        expired = list(db.exec(select(Upload.id).where(col(Upload.expires_at) <= now)))
        if expired:
            db.exec(delete(Upload).where(col(Upload.id).in_(expired)))
            db.commit()
        discard_uploads_quietly(store, expired)
        report.expired_uploads = len(expired)
        db.exec(delete(LinkChallenge).where(col(LinkChallenge.expires_at) <= now))
        # An expired link is dead: its share goes too.
        db.exec(
            update(ShareLink)
            .where(col(ShareLink.expires_at) <= now)
            .where(col(ShareLink.server_share).is_not(None))
            .values(server_share=None, sealed_package=None)
        )
        db.exec(delete(LinkDownloadSession).where(col(LinkDownloadSession.expires_at) <= now))
        db.commit()

        live_uploads = set(db.exec(select(Upload.id)))
        for upload_id, modified in store.list_staging():
            if upload_id not in live_uploads and now - modified > grace:
                store.discard_staging(upload_id)
                report.orphan_staging += 1

        # Blobs moved into place by a completion that never committed: no row points to them.
        for blob_key, modified in store.list_blobs():
            if now - modified <= grace:
                continue
            known = db.exec(
                select(DocumentVersion.id).where(DocumentVersion.blob_key == blob_key)
            ).first()
            if known is None:
                delete_blobs_quietly(store, [blob_key])
                report.orphan_blobs += 1
    log.info("sweep_done", **report.__dict__)
    return report
