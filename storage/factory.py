from storage.base import BlobStore
from storage.filesystem import FilesystemBlobStore
from storage.s3 import S3BlobStore
from wallet.settings import Settings


def make_store(settings: Settings) -> BlobStore:
    if settings.storage_backend == "s3":
        return S3BlobStore(
            settings.s3_endpoint,
            settings.s3_access_key,
            settings.s3_secret_key,
            settings.s3_bucket,
            secure=settings.s3_secure,
            region=settings.s3_region,
            connect_timeout=settings.s3_connect_timeout_seconds,
            read_timeout=settings.s3_read_timeout_seconds,
            retries=settings.s3_retries,
            pause_seconds=settings.s3_pause_seconds,
        )
    return FilesystemBlobStore(settings.data_dir, reserve_bytes=settings.disk_reserve_bytes)
