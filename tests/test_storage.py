"""The BlobStore contract, run against the filesystem store and a real S3 endpoint (moto)."""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage.base import BlobNotFound, BlobStore
from storage.filesystem import FilesystemBlobStore
from storage.s3 import MIN_COMPOSE_PART, PART_SIZE, S3BlobStore
from tests.conftest import S3Server

MIB = 1024 * 1024


def s3_store(server: S3Server, bucket: str | None = None) -> S3BlobStore:
    return S3BlobStore(
        server.endpoint,
        "testing",
        "testing",
        bucket or f"contract-{secrets.token_hex(4)}",
        secure=False,
        region="us-east-1",
    )


@pytest.fixture(params=["filesystem", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "s3":
        return s3_store(request.getfixturevalue("s3_server"))
    return FilesystemBlobStore(tmp_path / "data")


def read_all(chunks: Iterator[bytes]) -> bytes:
    return b"".join(chunks)


def chunked(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def stage(store: BlobStore, upload_id: str, offset: int, data: bytes) -> int:
    writer = store.open_staging(upload_id, offset)
    for chunk in chunked(data):
        writer.write(chunk)
    return writer.close()


def new_key() -> str:
    return secrets.token_hex(16)


def test_put_read_size_delete_list(store: BlobStore) -> None:
    store.check()
    first, second = new_key(), new_key()
    data = os.urandom(300_000)
    assert store.put(first, chunked(data)) == len(data)
    assert store.put(second, iter([b"tiny"])) == 4

    assert read_all(store.open_read(first)) == data
    assert read_all(store.open_read(first, 123_456)) == data[123_456:]
    assert read_all(store.open_read(first, len(data) - 1)) == data[-1:]
    assert store.size(first) == len(data)
    assert store.size(second) == 4

    listed = dict(store.list_blobs())
    assert set(listed) == {first, second}
    now = datetime.now(UTC)
    for modified in listed.values():
        assert modified.tzinfo is not None
        assert now - timedelta(minutes=5) < modified < now + timedelta(minutes=5)

    # Overwriting a key replaces the content completely.
    store.put(second, iter([b"other content"]))
    assert read_all(store.open_read(second)) == b"other content"

    store.delete(first)
    assert {key for key, _ in store.list_blobs()} == {second}
    with pytest.raises(BlobNotFound):
        store.open_read(first)
    store.delete(first)  # deleting twice is harmless


def test_missing_blob_raises_blob_not_found(store: BlobStore) -> None:
    store.check()
    missing = new_key()
    with pytest.raises(BlobNotFound):
        read_all(store.open_read(missing))
    with pytest.raises(BlobNotFound):
        store.size(missing)
    assert list(store.list_blobs()) == []


def test_staging_append_truncate_and_commit(store: BlobStore) -> None:
    upload_id = new_key()
    a, b, c, d = (os.urandom(n) for n in (1000, 2500, 700, 50))
    assert store.staged_size(upload_id) == 0
    assert stage(store, upload_id, 0, a) == len(a)
    assert stage(store, upload_id, len(a), b) == len(a) + len(b)
    assert store.staged_size(upload_id) == len(a) + len(b)
    assert [u for u, _ in store.list_staging()] == [upload_id]

    # The database only acknowledged `a`: re-opening at that offset drops `b`.
    assert stage(store, upload_id, len(a), c) == len(a) + len(c)
    assert store.staged_size(upload_id) == len(a) + len(c)
    # A writer that is opened and closed without bytes changes nothing past its offset.
    assert store.open_staging(upload_id, len(a) + len(c)).close() == len(a) + len(c)
    assert stage(store, upload_id, len(a) + len(c), d) == len(a) + len(c) + len(d)

    blob_key = new_key()
    store.commit_staging(upload_id, blob_key)
    assert read_all(store.open_read(blob_key)) == a + c + d
    assert store.size(blob_key) == len(a + c + d)
    assert store.staged_size(upload_id) == 0
    assert list(store.list_staging()) == []
    assert [k for k, _ in store.list_blobs()] == [blob_key]


def test_staging_reopen_at_zero_starts_over(store: BlobStore) -> None:
    upload_id = new_key()
    stage(store, upload_id, 0, b"first attempt, never acknowledged")
    stage(store, upload_id, 0, b"second")
    assert store.staged_size(upload_id) == 6
    blob_key = new_key()
    store.commit_staging(upload_id, blob_key)
    assert read_all(store.open_read(blob_key)) == b"second"


def test_discard_staging(store: BlobStore) -> None:
    keep, drop = new_key(), new_key()
    stage(store, keep, 0, b"keep me")
    stage(store, drop, 0, b"drop me")
    stage(store, drop, 7, b" too")
    store.discard_staging(drop)
    store.discard_staging(drop)  # idempotent
    assert store.staged_size(drop) == 0
    assert [u for u, _ in store.list_staging()] == [keep]
    assert store.staged_size(keep) == 7


def test_s3_bucket_is_created_on_first_use(s3_server: S3Server) -> None:
    bucket = f"fresh-{secrets.token_hex(4)}"
    store = s3_store(s3_server, bucket)
    assert not store.client.bucket_exists(bucket)
    key = new_key()
    store.put(key, iter([b"hello"]))
    assert store.client.bucket_exists(bucket)
    assert read_all(store.open_read(key)) == b"hello"
    # A second store on the same bucket (another replica) reads the same objects.
    assert read_all(s3_store(s3_server, bucket).open_read(key)) == b"hello"


def _etag(store: S3BlobStore, blob_key: str) -> str:
    return store.client.stat_object(store.bucket, "blobs/" + blob_key).etag.strip('"')


def test_s3_large_parts_compose_server_side(s3_server: S3Server) -> None:
    store = s3_store(s3_server)
    upload_id = new_key()
    parts = [os.urandom(MIN_COMPOSE_PART), os.urandom(MIN_COMPOSE_PART + 17), os.urandom(1234)]
    offset = 0
    for part in parts:
        offset = stage(store, upload_id, offset, part)
    blob_key = new_key()
    store.commit_staging(upload_id, blob_key)
    whole = b"".join(parts)
    stored = read_all(store.open_read(blob_key))
    assert hashlib.sha256(stored).digest() == hashlib.sha256(whole).digest()
    # A server-side multipart copy: the ETag of a 3-part multipart object.
    assert _etag(store, blob_key).endswith("-3")
    assert store.staged_size(upload_id) == 0


def test_s3_small_parts_fall_back_to_streaming(s3_server: S3Server) -> None:
    store = s3_store(s3_server)
    upload_id = new_key()
    # A part under S3's 5 MiB minimum before the last one: compose is impossible.
    parts = [os.urandom(100_000), os.urandom(MIN_COMPOSE_PART + 1), os.urandom(10), os.urandom(999)]
    offset = 0
    for part in parts:
        offset = stage(store, upload_id, offset, part)
    blob_key = new_key()
    store.commit_staging(upload_id, blob_key)
    whole = b"".join(parts)
    assert read_all(store.open_read(blob_key)) == whole
    # Streamed through the server in 5 MiB parts (2 of them), not a 4-part compose.
    assert _etag(store, blob_key).endswith("-2")
    assert list(store.list_staging()) == []


def test_blob_larger_than_part_size_round_trips(store: BlobStore) -> None:
    data = os.urandom(PART_SIZE + 3 * MIB + 5)
    key = new_key()
    assert store.put(key, chunked(data, MIB)) == len(data)
    assert store.size(key) == len(data)
    digest = hashlib.sha256()
    received = 0
    for chunk in store.open_read(key):
        digest.update(chunk)
        received += len(chunk)
    assert received == len(data)
    assert digest.digest() == hashlib.sha256(data).digest()
    tail = read_all(store.open_read(key, PART_SIZE + 1))
    assert tail == data[PART_SIZE + 1 :]


def test_concurrent_health_checks_do_not_trip_each_other(tmp_path: Path) -> None:
    """Readiness probes and upload creations call check() at the same time."""
    store = FilesystemBlobStore(tmp_path / "data")
    store.check()
    failures: list[Exception] = []

    def probe() -> None:
        for _ in range(300):
            try:
                store.check()
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                failures.append(exc)

    threads = [threading.Thread(target=probe) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["blobs", "staging"]


def test_a_committed_blob_looks_new_to_the_sweeper(tmp_path) -> None:
    """Moving a finished upload into place must not keep the upload's old time, or a sweep
    running before the version is recorded would take the blob for an orphan."""
    import os
    import time

    from storage.filesystem import FilesystemBlobStore

    store = FilesystemBlobStore(tmp_path)
    writer = store.open_staging("u1", 0)
    writer.write(b"ciphertext")
    writer.close()
    staged = tmp_path / "staging" / "u1.part"
    two_hours_ago = time.time() - 7200
    os.utime(staged, (two_hours_ago, two_hours_ago))
    store.commit_staging("u1", "blob1")
    modified = dict(store.list_blobs())["blob1"]
    assert time.time() - modified.timestamp() < 60
