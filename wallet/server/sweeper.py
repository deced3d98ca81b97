"""Removes what nobody can see any more: expired unfinished uploads, orphan blobs, ended
mandates' keys and old sign-in states."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import structlog
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, delete, select

from sharing.links.models import LinkChallenge, LinkDownloadSession, ShareLink
from sharing.mandates.service import forget_ended_wraps
from storage.base import BlobStore
from storage.cleanup import delete_blobs_quietly, discard_uploads_quietly
from wallet.db import utcnow
from wallet.documents.models import DocumentVersion
from wallet.oidc.service import forget_old_rows
from wallet.uploads.models import Upload

log = structlog.get_logger(__name__)


@dataclass
class SweepReport:
    expired_uploads: int = 0
    orphan_staging: int = 0
    orphan_blobs: int = 0
    ended_mandate_wraps: int = 0


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
        # A mandate past its end has no request to delete its keys: the sweeper does it.
        report.ended_mandate_wraps = forget_ended_wraps(db)
        forget_old_rows(db, now)
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
