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
        )
    return FilesystemBlobStore(settings.data_dir, reserve_bytes=settings.disk_reserve_bytes)
