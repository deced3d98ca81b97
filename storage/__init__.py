"""Blob stores behind one small interface: filesystem (default) and S3/MinIO."""

from storage.base import BlobNotFound, BlobStore, StagingWriter, StorageUnavailable

__all__ = ["BlobNotFound", "BlobStore", "StagingWriter", "StorageUnavailable"]
