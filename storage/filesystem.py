"""Blobs as files under one directory. Completion is a rename, so it is atomic and O(1)."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import structlog

from storage.base import (
    BlobNotFound,
    BlobStore,
    StagingWriter,
    StorageFull,
    StorageUnavailable,
)

log = structlog.get_logger(__name__)

READ_CHUNK = 1024 * 1024
_SAFE_NAME = re.compile(r"^[a-zA-Z0-9._-]{1,80}$")
# A disk or a quota that is full: both mean "no room", not "storage down".
_NO_ROOM = {errno.ENOSPC, errno.EDQUOT}


def _failure(exc: OSError) -> StorageUnavailable:
    """The exception to raise for a failed disk operation. A full disk is logged as such: an
    operator searching the logs for "No space left on device" finds it."""
    if exc.errno in _NO_ROOM:
        log.error("disk_full", error=os.strerror(exc.errno or errno.ENOSPC), source="blob_store")
        return StorageFull()
    return StorageUnavailable(str(exc))


def _safe(name: str) -> str:
    if not _SAFE_NAME.match(name) or name.startswith("."):
        raise ValueError("invalid blob or upload name")
    return name


class _FileStagingWriter(StagingWriter):
    def __init__(self, handle: BinaryIO, check_room: Callable[[int], None]) -> None:
        self._handle = handle
        self._check_room = check_room

    def write(self, chunk: bytes) -> None:
        # Every chunk, not only the upload's start: parallel uploads share the same free space.
        self._check_room(len(chunk))
        try:
            self._handle.write(chunk)
        except OSError as exc:
            raise _failure(exc) from exc

    def close(self) -> int:
        # No fsync per request (it costs a quarter of the ingest speed): completion syncs the
        # whole file once, and after a power cut the upload resumes from what is on disk.
        try:
            self._handle.flush()
            return self._handle.tell()
        except OSError as exc:
            raise _failure(exc) from exc
        finally:
            with contextlib.suppress(OSError):  # a full disk fails the close's flush again
                self._handle.close()


class FilesystemBlobStore(BlobStore):
    name = "filesystem"
    durable_appends = False

    def __init__(self, root: Path, reserve_bytes: int = 0) -> None:
        self.root = Path(root)
        self.blob_dir = self.root / "blobs"
        self.staging_dir = self.root / "staging"
        self.reserve_bytes = reserve_bytes

    def _ensure_dirs(self) -> None:
        try:
            self.blob_dir.mkdir(parents=True, exist_ok=True)
            self.staging_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _failure(exc) from exc

    def free_bytes(self) -> int | None:
        # The folder itself, or the nearest one that exists (before the first upload).
        path = self.root
        while not path.exists() and path != path.parent:
            path = path.parent
        try:
            stats = os.statvfs(path)
        except OSError as exc:
            raise StorageUnavailable(str(exc)) from exc
        return stats.f_bavail * stats.f_frsize

    def _blob_path(self, blob_key: str) -> Path:
        return self.blob_dir / blob_key[:2] / _safe(blob_key)

    def _staging_path(self, upload_id: str) -> Path:
        return self.staging_dir / f"{_safe(upload_id)}.part"

    def check(self) -> None:
        self._ensure_dirs()
        # A name of its own: concurrent checks must not unlink each other's probe.
        probe = self.root / f".probe-{uuid.uuid4().hex}"
        try:
            probe.write_bytes(b"ok")
        except OSError as exc:
            with contextlib.suppress(OSError):
                probe.unlink()
            raise _failure(exc) from exc
        try:
            probe.unlink()
        except OSError as exc:
            raise StorageUnavailable(str(exc)) from exc
        self.check_room(0)

    def open_staging(self, upload_id: str, offset: int) -> StagingWriter:
        self._ensure_dirs()
        path = self._staging_path(upload_id)
        try:
            handle = open(path, "r+b" if path.exists() else "w+b")  # noqa: SIM115
            # Bytes past the offset the database knows were never acknowledged: drop them.
            handle.truncate(offset)
            handle.seek(offset)
        except OSError as exc:
            raise _failure(exc) from exc
        return _FileStagingWriter(handle, self.check_room)

    def staged_size(self, upload_id: str) -> int:
        try:
            return self._staging_path(upload_id).stat().st_size
        except FileNotFoundError:
            return 0
        except OSError as exc:
            raise StorageUnavailable(str(exc)) from exc

    def blob_from_staging(self, upload_ids: Sequence[str], blob_key: str) -> None:
        target = self._blob_path(blob_key)
        staged = [self._staging_path(upload_id) for upload_id in upload_ids]
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if len(staged) == 1 and _hard_link(staged[0], target):
                pass  # O(1); the staged name goes after the commit, the blob's stays
            else:
                self.check_room(sum(path.stat().st_size for path in staged))
                _copy_parts(staged, target)
            # A link keeps the upload's old mtime: without this, the sweeper could take a
            # blob that was finished an hour ago but is only now being recorded, as an orphan.
            os.utime(target)
            _fsync_dir(target.parent)
        except OSError as exc:
            raise _failure(exc) from exc

    def discard_staging(self, upload_id: str) -> None:
        try:
            self._staging_path(upload_id).unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StorageUnavailable(str(exc)) from exc

    def list_staging(self) -> Iterator[tuple[str, datetime]]:
        if not self.staging_dir.is_dir():
            return
        for entry in os.scandir(self.staging_dir):
            if entry.name.endswith(".part"):
                yield entry.name[: -len(".part")], _mtime(entry.stat().st_mtime)

    def put(self, blob_key: str, source: Iterator[bytes]) -> int:
        target = self._blob_path(blob_key)
        tmp = target.with_name(f".{target.name}.tmp")
        written = 0
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as handle:
                for chunk in source:
                    self.check_room(len(chunk))
                    handle.write(chunk)
                    written += len(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except (OSError, StorageFull) as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            if isinstance(exc, StorageFull):
                raise
            raise _failure(exc) from exc
        return written

    def open_read(self, blob_key: str, offset: int = 0) -> Iterator[bytes]:
        try:
            handle = open(self._blob_path(blob_key), "rb")  # noqa: SIM115
        except FileNotFoundError as exc:
            raise BlobNotFound(blob_key) from exc
        except (OSError, ValueError) as exc:
            raise StorageUnavailable(str(exc)) from exc
        handle.seek(offset)
        return _read_chunks(handle)

    def size(self, blob_key: str) -> int:
        try:
            return self._blob_path(blob_key).stat().st_size
        except FileNotFoundError as exc:
            raise BlobNotFound(blob_key) from exc
        except OSError as exc:
            raise StorageUnavailable(str(exc)) from exc

    def delete(self, blob_key: str) -> None:
        try:
            self._blob_path(blob_key).unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StorageUnavailable(str(exc)) from exc

    def list_blobs(self) -> Iterator[tuple[str, datetime]]:
        if not self.blob_dir.is_dir():
            return
        for shard in os.scandir(self.blob_dir):
            if not shard.is_dir():
                continue
            for entry in os.scandir(shard.path):
                if not entry.name.startswith("."):
                    yield entry.name, _mtime(entry.stat().st_mtime)


def _read_chunks(handle: BinaryIO) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(READ_CHUNK):
            yield chunk


def _mtime(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


# Where a hard link is not possible, the blob is a copy instead.
_NO_LINK = {errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP}


def _hard_link(staged: Path, target: Path) -> bool:
    """Links the fsynced staged file to the blob's name; False where links are not possible."""
    with open(staged, "rb") as handle:
        os.fsync(handle.fileno())
    try:
        os.link(staged, target)
    except OSError as exc:
        if exc.errno in _NO_LINK:
            return False
        raise
    return True


def _copy_into(source: BinaryIO, target: BinaryIO) -> None:
    """Appends `source` to `target` in the kernel (no bytes through Python) where it can."""
    target.flush()
    try:
        while os.copy_file_range(source.fileno(), target.fileno(), 64 * READ_CHUNK):
            pass
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
            raise
        # Go on from where the kernel stopped.
        source.seek(os.lseek(source.fileno(), 0, os.SEEK_CUR))
        target.seek(0, os.SEEK_END)
        shutil.copyfileobj(source, target, READ_CHUNK)
    target.seek(0, os.SEEK_END)


def _copy_parts(staged: list[Path], target: Path) -> None:
    """Copies the staged files one after the other into the blob, which appears whole or not
    at all."""
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        with open(tmp, "wb") as out:
            for path in staged:
                with open(path, "rb") as part:
                    _copy_into(part, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
