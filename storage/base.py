"""The blob-store interface. Blobs are opaque ciphertext; the store never sees anything else."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from datetime import datetime

import structlog

from wallet.errors import WalletError

log = structlog.get_logger(__name__)

STORAGE_FULL = (
    "Storage full: the wallet cannot take new files right now. Your stored documents are safe "
    "and still open. Please try again later."
)


class StorageUnavailable(Exception):
    """The blob store cannot be reached or cannot write. Callers answer 503."""


class StorageFull(WalletError, StorageUnavailable):
    """The disk under the blob store is at its reserve (or full): no new bytes are taken, so the
    database keeps the room that logins and the journal need.

    A WalletError first, so the app answers it with its own status and message (the app looks
    handlers up along the class's MRO); a StorageUnavailable too, so every caller that already
    treats "cannot write now" (cleanup, resume, completion) treats this case the same way.
    """

    status_code = 507
    code = "storage_full"

    def __init__(self) -> None:
        super().__init__(STORAGE_FULL)


class BlobNotFound(Exception):
    pass


class StagingWriter(ABC):
    """Appends one request's bytes to a staged (unfinished) upload."""

    @abstractmethod
    def write(self, chunk: bytes) -> None: ...

    @abstractmethod
    def close(self) -> int:
        """Makes the bytes written so far durable and returns how many there were."""


class BlobStore(ABC):
    name: str
    # True when bytes a staging writer acknowledged survive a power cut. When False, the
    # upload offset is checked against what is really staged before anyone resumes.
    durable_appends: bool = True
    # Bytes that must stay free on the store's disk (WALLET_DISK_RESERVE_BYTES): uploads stop
    # before it is reached. Only stores on a local disk know their free space.
    reserve_bytes: int = 0

    def free_bytes(self) -> int | None:
        """Free bytes on the store's disk, or None when the store cannot tell (S3)."""
        return None

    def check_room(self, incoming: int) -> None:
        """Raises StorageFull when `incoming` more bytes would leave less than the reserve."""
        free = self.free_bytes()
        if free is not None and free - incoming < self.reserve_bytes:
            log.warning(
                "disk_full",
                reason="reserve reached, new bytes refused",
                free_bytes=free,
                reserve_bytes=self.reserve_bytes,
                incoming_bytes=incoming,
            )
            raise StorageFull()

    @abstractmethod
    def check(self) -> None:
        """Raises StorageUnavailable when the store cannot be used, and StorageFull when its
        disk is at the reserve (it still reads)."""

    # Staging: the bytes of unfinished uploads, appended at a known offset.
    @abstractmethod
    def open_staging(self, upload_id: str, offset: int) -> StagingWriter: ...

    @abstractmethod
    def staged_size(self, upload_id: str) -> int: ...

    @abstractmethod
    def blob_from_staging(self, upload_ids: Sequence[str], blob_key: str) -> None:
        """Makes a blob of these uploads' staged bytes, one after the other, without reading
        them into memory. The staged bytes stay: the caller discards them once the row that
        points at the blob is committed, so a completion whose commit fails can be retried."""

    def commit_staging(self, upload_id: str, blob_key: str) -> None:
        """Turns a finished upload into a blob and discards its staged bytes."""
        self.blob_from_staging([upload_id], blob_key)
        self.discard_staging(upload_id)

    @abstractmethod
    def discard_staging(self, upload_id: str) -> None: ...

    @abstractmethod
    def list_staging(self) -> Iterator[tuple[str, datetime]]:
        """Yields (upload_id, last modified) for every staged upload."""

    # Blobs
    @abstractmethod
    def put(self, blob_key: str, source: Iterator[bytes]) -> int: ...

    @abstractmethod
    def open_read(self, blob_key: str, offset: int = 0) -> Iterator[bytes]:
        """Raises BlobNotFound or StorageUnavailable before the first chunk if it cannot read."""

    @abstractmethod
    def size(self, blob_key: str) -> int: ...

    @abstractmethod
    def delete(self, blob_key: str) -> None: ...

    @abstractmethod
    def list_blobs(self) -> Iterator[tuple[str, datetime]]:
        """Yields (blob_key, last modified) for every stored blob."""
