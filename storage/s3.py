"""Blobs in any S3-compatible store (MinIO, Ceph RGW, AWS S3) through the `minio` client.

Each PATCH of an upload becomes one staging object; completion composes them server-side
(S3 multipart copy) when S3's 5 MiB part rule allows it, and otherwise streams them into one
multipart upload. Memory stays bounded either way.

Memory: a PATCH's body goes to a temporary file (on disk past SPOOL_IN_MEMORY), which is then
sent to S3 as one PUT streamed from that file in SEND_BLOCK blocks (a presigned URL, so the
payload is neither read into memory nor hashed). minio's put_object would read the whole
object (up to its part size, 16 MiB) into memory first: three parallel 17 MB parts held about
50 MiB at once (tests/test_tus_conformance.py measures the server's peak).
"""

from __future__ import annotations

import contextlib
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import IO, Any

import urllib3
from minio import Minio
from minio.commonconfig import ComposeSource
from minio.error import MinioException, S3Error

from storage.base import BlobNotFound, BlobStore, StagingWriter, StorageUnavailable

MIN_COMPOSE_PART = 5 * 1024 * 1024
# Bytes streamed through this process (small staged PATCHes joined, `put`) go up in parts of
# this size, the smallest S3 allows: one part is in memory at a time.
PART_SIZE = MIN_COMPOSE_PART
MAX_COMPOSE_PARTS = 10_000
# Smaller PATCHes stay in memory; bigger ones go to a temporary file (several PATCHes of
# parallel parts run at once, each holding at most this much).
SPOOL_IN_MEMORY = 1024 * 1024
# A streamed PUT reads its file in blocks of this size (urllib3's default is 16 KiB).
SEND_BLOCK = 256 * 1024
# A presigned URL is used at once; this is only its upper bound.
PRESIGN_FOR = timedelta(minutes=15)
READ_CHUNK = 1024 * 1024
_STAGING = "staging/"
_BLOBS = "blobs/"
_NOT_FOUND = {"NoSuchKey", "NoSuchObject", "ResourceNotFound"}


_TRANSPORT_ERRORS = (MinioException, urllib3.exceptions.HTTPError, OSError)


def _unavailable(exc: Exception) -> StorageUnavailable:
    return StorageUnavailable(f"{type(exc).__name__}")


class Pause:
    """Fail fast while S3 is down: after a failure to reach it, calls fail at once for
    `seconds` instead of each waiting for its own timeout (45 downloads waiting on a frozen
    store took every thread, and /healthz with them). Then one call tries again while the
    others still fail fast; when it gets through, all calls go through again."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._until: float | None = None  # None: S3 answers
        self._trying = False
        self._lock = threading.Lock()

    def enter(self) -> None:
        """Raises StorageUnavailable while paused."""
        if not self.seconds or self._until is None:
            return
        with self._lock:
            if self._until is None:
                return
            if time.monotonic() < self._until or self._trying:
                raise StorageUnavailable("paused after a failure to reach S3")
            self._trying = True

    def answered(self) -> None:
        if self._until is None and not self._trying:
            return
        with self._lock:
            self._until = None
            self._trying = False

    def failed(self) -> None:
        if not self.seconds:
            return
        with self._lock:
            self._until = time.monotonic() + self.seconds
            self._trying = False

    @property
    def paused(self) -> bool:
        return self._until is not None

    @contextlib.contextmanager
    def guard(self, *, probe: bool = False) -> Iterator[None]:
        """`probe`: the readiness check, which always asks S3 (one at a time, see
        wallet/health/checks.py), so a store that is back ends the pause at once."""
        if not probe:
            self.enter()
        try:
            yield
        except _TRANSPORT_ERRORS as exc:
            if isinstance(exc, S3Error):  # S3 answered, with an error of its own
                self.answered()
            else:
                self.failed()
            raise
        except BaseException:
            self.answered()
            raise
        else:
            self.answered()


class _S3StagingWriter(StagingWriter):
    def __init__(self, store: S3BlobStore, upload_id: str, offset: int) -> None:
        self._store = store
        self._name = f"{_STAGING}{upload_id}/{offset:015d}"
        self._spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
        self._offset = offset

    def write(self, chunk: bytes) -> None:
        self._spool.write(chunk)

    def close(self) -> int:
        length = self._spool.tell()
        try:
            if length:
                self._spool.seek(0)
                self._store.put_file(self._name, self._spool, length)
        finally:
            self._spool.close()
        return self._offset + length


class _IteratorReader:
    """A file-like reader over chunks of bytes, for minio's put_object. Holds at most one
    read's worth plus one chunk (minio reads one part at a time)."""

    def __init__(self, source: Iterator[bytes]) -> None:
        self._source = source
        self._buffer = bytearray()
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            try:
                self._buffer += next(self._source)
            except StopIteration:
                break
        if size < 0 or size >= len(self._buffer):
            data = bytes(self._buffer)
            self._buffer.clear()
        else:
            data = bytes(self._buffer[:size])
            del self._buffer[:size]
        self.count += len(data)
        return data


class S3BlobStore(BlobStore):
    name = "s3"

    def __init__(
        self,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        secure: bool = True,
        region: str | None = None,
        *,
        connect_timeout: float = 2.0,
        read_timeout: float = 5.0,
        retries: int = 1,
        pause_seconds: float = 5.0,
    ) -> None:
        http = urllib3.PoolManager(
            # Each wait is bounded, and only a failed connection or a 5xx is tried again: a
            # read that timed out is not (60 s with 2 retries used to let one call take 3 min).
            timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
            retries=urllib3.Retry(
                total=retries,
                connect=retries,
                read=0,
                status=retries,
                backoff_factor=0.2,
                status_forcelist=[500, 502, 503],
            ),
            maxsize=20,
            blocksize=SEND_BLOCK,
        )
        self._http = http
        self.pause = Pause(pause_seconds)
        self.client = Minio(
            endpoint,
            access_key=access_key,
            secret_key=secret_key,
            secure=secure,
            region=region or None,
            http_client=http,
        )
        self.bucket = bucket
        self._bucket_ready = False

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        self._ensure_bucket()
        try:
            with self.pause.guard():
                return getattr(self.client, method)(*args, **kwargs)
        except S3Error as exc:
            if exc.code in _NOT_FOUND:
                raise BlobNotFound(str(args[1] if len(args) > 1 else "")) from exc
            raise _unavailable(exc) from exc
        except (MinioException, urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
            raise _unavailable(exc) from exc

    def put_file(self, name: str, file: IO[bytes], length: int) -> None:
        """Stores `length` bytes from `file` (at its start) as object `name`, streamed: one PUT
        to a presigned URL, so minio neither reads the file into memory nor hashes it."""
        url: str = self._call("get_presigned_url", "PUT", self.bucket, name, expires=PRESIGN_FOR)
        try:
            with self.pause.guard():
                response = self._http.request(
                    "PUT",
                    url,
                    body=file,
                    headers={"Content-Length": str(length)},
                    # a retry (connection failure, 5xx) sends the file again from its start
                    body_pos=0,
                )
        except _TRANSPORT_ERRORS as exc:
            raise _unavailable(exc) from exc
        if response.status >= 300:
            raise StorageUnavailable(f"S3 answered {response.status} to a PUT")

    def _ensure_bucket(self, *, probe: bool = False) -> None:
        if self._bucket_ready:
            return
        try:
            with self.pause.guard(probe=probe):
                if not self.client.bucket_exists(self.bucket):
                    with contextlib.suppress(S3Error):  # another replica may have won the race
                        self.client.make_bucket(self.bucket)
        except _TRANSPORT_ERRORS as exc:
            raise _unavailable(exc) from exc
        self._bucket_ready = True

    def check(self) -> None:
        self._bucket_ready = False
        self._ensure_bucket(probe=True)

    def _staging_parts(self, upload_id: str) -> list[tuple[str, int]]:
        objects = self._call("list_objects", self.bucket, prefix=f"{_STAGING}{upload_id}/")
        try:
            with self.pause.guard():
                parts = [(obj.object_name, obj.size) for obj in objects]
        except _TRANSPORT_ERRORS as exc:
            raise _unavailable(exc) from exc
        return sorted(parts)

    def open_staging(self, upload_id: str, offset: int) -> StagingWriter:
        self._ensure_bucket()
        # Parts that start at or past the acknowledged offset were never acknowledged.
        for name, _size in self._staging_parts(upload_id):
            if int(name.rsplit("/", 1)[1]) >= offset:
                self._call("remove_object", self.bucket, name)
        return _S3StagingWriter(self, upload_id, offset)

    def staged_size(self, upload_id: str) -> int:
        return sum(size for _name, size in self._staging_parts(upload_id))

    def blob_from_staging(self, upload_ids: Sequence[str], blob_key: str) -> None:
        parts = [part for upload_id in upload_ids for part in self._staging_parts(upload_id)]
        target = _BLOBS + blob_key
        composable = (
            parts
            and len(parts) <= MAX_COMPOSE_PARTS
            and all(size >= MIN_COMPOSE_PART for _name, size in parts[:-1])
        )
        if composable:
            sources = [ComposeSource(self.bucket, name) for name, _size in parts]
            self._call("compose_object", self.bucket, target, sources)
        else:
            # Parts under 5 MiB (small PATCHes) cannot be composed: they go through this
            # process, one part (5 MiB) in memory at a time.
            total = sum(size for _name, size in parts)
            chunks = (chunk for name, _size in parts for chunk in self._iter_object(name))
            self._call(
                "put_object",
                self.bucket,
                target,
                _IteratorReader(chunks),
                total,
                part_size=PART_SIZE,
            )

    def discard_staging(self, upload_id: str) -> None:
        for name, _size in self._staging_parts(upload_id):
            self._call("remove_object", self.bucket, name)

    def list_staging(self) -> Iterator[tuple[str, datetime]]:
        newest: dict[str, datetime] = {}
        for obj in self._call("list_objects", self.bucket, prefix=_STAGING, recursive=True):
            upload_id = obj.object_name[len(_STAGING) :].split("/", 1)[0]
            if upload_id not in newest or obj.last_modified > newest[upload_id]:
                newest[upload_id] = obj.last_modified
        yield from newest.items()

    def put(self, blob_key: str, source: Iterator[bytes]) -> int:
        reader = _IteratorReader(iter(source))
        self._call("put_object", self.bucket, _BLOBS + blob_key, reader, -1, part_size=PART_SIZE)
        return reader.count

    def _iter_object(self, name: str, offset: int = 0) -> Iterator[bytes]:
        response = self._call("get_object", self.bucket, name, offset=offset)
        return self._stream(response)

    def _stream(self, response: Any) -> Iterator[bytes]:
        try:
            yield from response.stream(READ_CHUNK)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            self.pause.failed()
            raise _unavailable(exc) from exc
        finally:
            response.close()
            response.release_conn()

    def open_read(self, blob_key: str, offset: int = 0) -> Iterator[bytes]:
        return self._iter_object(_BLOBS + blob_key, offset)

    def size(self, blob_key: str) -> int:
        size: int = self._call("stat_object", self.bucket, _BLOBS + blob_key).size
        return size

    def delete(self, blob_key: str) -> None:
        self._call("remove_object", self.bucket, _BLOBS + blob_key)

    def list_blobs(self) -> Iterator[tuple[str, datetime]]:
        for obj in self._call("list_objects", self.bucket, prefix=_BLOBS, recursive=True):
            yield obj.object_name[len(_BLOBS) :], obj.last_modified
