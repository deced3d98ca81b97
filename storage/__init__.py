"""Role: blob stores behind one small interface: the filesystem (default) and S3/MinIO.
Imports only the server kit's settings. See docs/architecture.md."""

from storage.base import BlobNotFound, BlobStore, StagingWriter, StorageUnavailable

__all__ = ["BlobNotFound", "BlobStore", "StagingWriter", "StorageUnavailable"]
