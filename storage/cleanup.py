"""Deletes blobs or staged uploads when a failure must not undo what the database already did.

A blob that cannot be deleted now is an orphan; the sweeper collects it later.
"""

from __future__ import annotations

from collections.abc import Iterable

import structlog

from storage.base import BlobNotFound, BlobStore, StorageUnavailable

log = structlog.get_logger(__name__)


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
