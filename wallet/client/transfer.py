"""Resumable transfers: tus uploads and ranged downloads that survive a dropped connection."""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, BinaryIO

import httpx
import pyrage

from wallet.client.api import ApiClient, ApiError, NetworkError, error_from
from wallet.crypto import age

CHUNK_BYTES = 8 * 1024 * 1024
RETRIES = 8
TUS = {"Tus-Resumable": "1.0.0"}
Progress = Callable[[int, int], None]


def _backoff(attempt: int) -> None:
    time.sleep(min(0.25 * 2**attempt, 10))


class WrongSize(ApiError):
    """The server sends or announces a size other than the one the owner signed."""

    def __init__(self, message: str) -> None:
        super().__init__(0, message)


class _HashedReader:
    """Reads byte ranges of a file and hashes each byte exactly once, even across retries."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()
        self.hashed_upto = 0

    def chunks(self, offset: int, length: int, block: int = 1024 * 1024) -> Iterator[bytes]:
        self.handle.seek(offset)
        position, remaining = offset, length
        while remaining > 0:
            data = self.handle.read(min(block, remaining))
            if not data:
                break
            if position <= self.hashed_upto < position + len(data):
                self.digest.update(data[self.hashed_upto - position :])
                self.hashed_upto = position + len(data)
            position += len(data)
            remaining -= len(data)
            yield data


def encrypt_and_upload(
    api: ApiClient, path: Path, recipient: pyrage.x25519.Recipient, progress: Progress | None
) -> tuple[str, str, int]:
    """Encrypts `path` to `recipient` with age and uploads the ciphertext, which never stays
    on disk. Returns the upload id, the ciphertext's SHA-256 and its size."""
    with tempfile.TemporaryDirectory(prefix="wallet-up-") as workdir:
        ciphertext = Path(workdir) / "blob.age"
        age.encrypt_file(path, ciphertext, recipient)
        blob_size = ciphertext.stat().st_size
        upload_id, blob_sha256 = upload_file(api, ciphertext, progress=progress)
    return upload_id, blob_sha256, blob_size


def upload_file(
    api: ApiClient, path: Path, chunk_bytes: int = CHUNK_BYTES, progress: Progress | None = None
) -> tuple[str, str]:
    """Uploads `path` (already ciphertext) with tus. Returns the upload id and the SHA-256."""
    length = path.stat().st_size
    response = api.api("POST", "/uploads", headers={**TUS, "Upload-Length": str(length)})
    location = response.headers["location"]
    upload_id = location.rstrip("/").rsplit("/", 1)[-1]
    offset = 0
    attempt = 0
    with open(path, "rb") as handle:
        reader = _HashedReader(handle)
        while offset < length:
            size = min(chunk_bytes, length - offset)
            try:
                response = api.request(
                    "PATCH",
                    location,
                    content=reader.chunks(offset, size),
                    headers={
                        **TUS,
                        "Upload-Offset": str(offset),
                        "Content-Type": "application/offset+octet-stream",
                        "Content-Length": str(size),
                    },
                )
                offset = int(response.headers["upload-offset"])
                attempt = 0
                if progress:
                    progress(offset, length)
            except ApiError as exc:
                if not _retryable(exc) or attempt >= RETRIES:
                    raise
                _backoff(attempt)
                attempt += 1
                offset = _server_offset(api, location, offset)
    if reader.hashed_upto != length:
        raise NetworkError("The upload did not send the whole file. Try again.")
    return upload_id, reader.digest.hexdigest()


def _retryable(exc: ApiError) -> bool:
    # 423: another PATCH (or one cut off by a crash) holds the upload until its lease ends.
    return isinstance(exc, NetworkError) or exc.status in (409, 423, 502, 503, 504)


def _server_offset(api: ApiClient, location: str, fallback: int) -> int:
    try:
        response = api.request("HEAD", location, headers=TUS)
        return int(response.headers["upload-offset"])
    except ApiError:
        return fallback


def _announced_total(response: httpx.Response, offset: int) -> int | None:
    content_range = response.headers.get("content-range", "")
    if "/" in content_range:
        total = content_range.rsplit("/", 1)[1]
        return int(total) if total.isdigit() else None
    length = response.headers.get("content-length")
    return (
        offset + int(length)
        if length and length.isdigit() and response.status_code == 200
        else None
    )


def download_to(api: ApiClient, path: str, target: IO[bytes], size: int) -> str:
    """Streams a blob into `target`, resuming with Range after a drop. Returns its SHA-256."""
    digest = hashlib.sha256()
    received = 0
    attempt = 0
    while received < size:
        headers = {"Range": f"bytes={received}-"} if received else {}
        before = received
        try:
            with api.stream(path, headers=headers) as response:
                if response.status_code not in (200, 206):
                    response.read()
                    raise error_from(response)
                if _announced_total(response, received) not in (None, size):
                    raise WrongSize("The server announces another size than the signed one.")
                for chunk in response.iter_bytes(1024 * 1024):
                    if received + len(chunk) > size:
                        # More than the signed size: never fill the disk for a server.
                        raise WrongSize("The server sent more than this file's signed size.")
                    target.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
            attempt = 0
        except (httpx.TransportError, ApiError) as exc:
            if isinstance(exc, ApiError) and exc.status not in (502, 503, 504):
                raise
            if attempt >= RETRIES:
                raise NetworkError(
                    "The download kept failing. Check your network and try again."
                ) from exc
            _backoff(attempt)
            attempt += 1
            continue
        if received == before:
            # A server that keeps ending the body early must not keep us here forever.
            attempt += 1
            if attempt > RETRIES:
                raise NetworkError("The download kept stopping early. Try again later.")
        if received > size:
            break
    return digest.hexdigest()
