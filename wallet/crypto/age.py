"""Documents are standard age v1 files (pyrage, bindings to the Rust age implementation).

Decryption always goes to a temporary file that is renamed only when the whole file has been
authenticated, so a damaged or forged file never releases partial plaintext.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, cast

import pyrage

ARMOR_BEGIN = b"-----BEGIN AGE ENCRYPTED FILE-----"
_ASCII_WHITESPACE = b" \t\r\n"
# How much of a file is read to check its header before pyrage sees it.
_HEADER_PEEK = 64 * 1024
# Go age's default limit. pyrage has none of its own beyond a timing guess, so a crafted file
# could make the client run scrypt with gigabytes of memory for minutes.
MAX_SCRYPT_WORK_FACTOR = 22
_STANZA_BODY_LINE = re.compile(rb"[A-Za-z0-9+/]{0,64}")


class IntegrityError(Exception):
    """The file is damaged, was changed, or is not meant for this key."""


class UnsupportedIdentity(IntegrityError):
    """An identity type this wallet does not handle (for example age's post-quantum hybrid)."""


def new_identity() -> pyrage.x25519.Identity:
    return pyrage.x25519.Identity.generate()


def parse_identity(text: str) -> pyrage.x25519.Identity:
    if not text.startswith("AGE-SECRET-KEY-1"):
        raise UnsupportedIdentity("only age X25519 identities are supported")
    try:
        return pyrage.x25519.Identity.from_str(text)
    except pyrage.IdentityError as exc:
        raise IntegrityError("this document key is damaged") from exc


def parse_identities(texts: Sequence[str]) -> list[pyrage.x25519.Identity]:
    """Keeps the identities this wallet can use; fails only if none is usable."""
    usable = [parse_identity(t) for t in texts if t.startswith("AGE-SECRET-KEY-1")]
    if texts and not usable:
        raise UnsupportedIdentity("only age X25519 identities are supported")
    return usable


def recipient_of(identity: pyrage.x25519.Identity) -> pyrage.x25519.Recipient:
    return identity.to_public()


def encrypt_bytes(data: bytes, recipient: pyrage.x25519.Recipient) -> bytes:
    return cast(bytes, pyrage.encrypt(data, [recipient]))


def encrypt_stream(source: BinaryIO, target: BinaryIO, recipient: pyrage.x25519.Recipient) -> None:
    pyrage.encrypt_io(source, target, [recipient])


def decrypt_bytes(data: bytes, identities: Sequence[pyrage.x25519.Identity]) -> bytes:
    _check_header(data)
    try:
        return cast(bytes, pyrage.decrypt(_strip_armor_whitespace(data), list(identities)))
    except pyrage.DecryptError as exc:
        raise IntegrityError(str(exc).splitlines()[0]) from exc


def decrypt_with_passphrase(data: bytes, passphrase: str) -> bytes:
    _check_header(data)
    try:
        return cast(bytes, pyrage.passphrase.decrypt(_strip_armor_whitespace(data), passphrase))
    except pyrage.DecryptError as exc:
        raise IntegrityError(str(exc).splitlines()[0]) from exc


def encrypt_with_passphrase(data: bytes, passphrase: str) -> bytes:
    return cast(bytes, pyrage.passphrase.encrypt(data, passphrase))


@contextlib.contextmanager
def _replacing(target: Path) -> Iterator[str]:
    """Yields a temporary path beside `target`; renames it over `target` only on success."""
    target = Path(target)
    fd, tmp_name = tempfile.mkstemp(prefix=".partial-", dir=target.parent or ".")
    os.close(fd)
    try:
        yield tmp_name
        with open(tmp_name, "rb+") as written:
            os.fsync(written.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


@contextlib.contextmanager
def _payload_errors() -> Iterator[None]:
    try:
        yield
    except pyrage.DecryptError as exc:
        raise IntegrityError(str(exc).splitlines()[0]) from exc
    except OSError as exc:
        # pyrage reports a damaged payload (bad tag, truncation, trailing data) as
        # an OSError without errno; real file system errors carry one.
        if exc.errno is not None:
            raise
        raise IntegrityError(str(exc).splitlines()[0]) from exc


def decrypt_to_path(
    source: BinaryIO, target: Path, identities: Sequence[pyrage.x25519.Identity]
) -> None:
    """Streams `source` into `target`. On any failure, `target` is left untouched."""
    with _replacing(target) as tmp_name, open(tmp_name, "wb") as tmp:
        head = source.read(_HEADER_PEEK)
        if head.lstrip(_ASCII_WHITESPACE).startswith(ARMOR_BEGIN):
            tmp.write(decrypt_bytes(head + source.read(), identities))
        else:
            _check_header(head)
            with _payload_errors():
                pyrage.decrypt_io(_Prefixed(head, source), tmp, list(identities))


def decrypt_file_to_path(
    source: Path, target: Path, identities: Sequence[pyrage.x25519.Identity]
) -> None:
    """Like decrypt_to_path for a file on disk, decrypted natively by pyrage (faster)."""
    with open(source, "rb") as handle:
        head = handle.read(_HEADER_PEEK)
    if head.lstrip(_ASCII_WHITESPACE).startswith(ARMOR_BEGIN):
        with open(source, "rb") as handle:
            decrypt_to_path(handle, target, identities)
        return
    _check_header(head)
    with _replacing(target) as tmp_name, _payload_errors():
        pyrage.decrypt_file(str(source), tmp_name, list(identities))


def encrypt_file(source: Path, target: Path, recipient: pyrage.x25519.Recipient) -> None:
    pyrage.encrypt_file(str(source), str(target), [recipient])


def _check_header(data: bytes) -> None:
    """Header rules of the age spec that pyrage 1.4 does not enforce.

    It accepts stanzas without a final short body line (kept by rage for pre-1.0 files, never
    written by this wallet) and any scrypt work factor its timing guess allows.
    """
    head = data[:_HEADER_PEEK]
    stripped = head.lstrip(_ASCII_WHITESPACE)
    if stripped.startswith(ARMOR_BEGIN):
        encoded = b"".join(stripped.split(b"\n")[1:]).replace(b"\r", b"")
        encoded = encoded.split(b"-", 1)[0]
        try:
            head = base64.b64decode(encoded[: len(encoded) // 4 * 4], validate=True)
        except binascii.Error:
            return  # not valid armor; pyrage rejects it
    lines = head.split(b"\n")[1:-1]  # skip the version line and an unfinished last line
    in_body = False
    for line in lines:
        if in_body:
            if not _STANZA_BODY_LINE.fullmatch(line):
                raise IntegrityError("the file header is damaged: a stanza has no final line")
            in_body = len(line) == 64
        elif line.startswith(b"-> "):
            args = line[3:].split(b" ")
            work_factor = args[2] if args[0] == b"scrypt" and len(args) == 3 else b""
            if work_factor.isdigit() and int(work_factor) > MAX_SCRYPT_WORK_FACTOR:
                raise IntegrityError("the passphrase work factor is too high")
            in_body = True
        else:
            return  # the MAC line, or something pyrage rejects


def _strip_armor_whitespace(data: bytes) -> bytes:
    # The age spec allows whitespace around an armored file; rage is stricter than the spec.
    stripped = data.strip(_ASCII_WHITESPACE)
    return stripped + b"\n" if stripped.startswith(ARMOR_BEGIN) else data


class _Prefixed:
    """A read-only stream that first replays bytes already read for format detection."""

    def __init__(self, prefix: bytes, rest: BinaryIO) -> None:
        self._prefix = prefix
        self._rest = rest

    def read(self, size: int = -1) -> bytes:
        if self._prefix:
            if size is None or size < 0:
                data, self._prefix = self._prefix + self._rest.read(), b""
                return data
            data, self._prefix = self._prefix[:size], self._prefix[size:]
            return data
        return self._rest.read(size)

    def readinto(self, buffer: bytearray | memoryview) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readable(self) -> bool:
        return True
