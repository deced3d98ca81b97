"""The blob-store interface. Blobs are opaque ciphertext; the store never sees anything else."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from datetime import datetime


class StorageUnavailable(Exception):
    """The blob store cannot be reached or cannot write. Callers answer 503."""


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

    @abstractmethod
    def check(self) -> None:
        """Raises StorageUnavailable when the store cannot be used."""

    # Staging: the bytes of unfinished uploads, appended at a known offset.
    @abstractmethod
    def open_staging(self, upload_id: str, offset: int) -> StagingWriter: ...

    @abstractmethod
    def staged_size(self, upload_id: str) -> int: ...

    @abstractmethod
    def commit_staging(self, upload_id: str, blob_key: str) -> None:
        """Turns a finished upload into a blob, without reading it into memory."""

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
