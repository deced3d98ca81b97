"""Passphrase -> master key (Argon2id) -> auth key and key-encryption key (HKDF-SHA256)."""

import unicodedata

import nacl.pwhash
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from wallet.protocol import labels

SALT_BYTES = nacl.pwhash.argon2id.SALTBYTES
KEY_BYTES = 32
AUTH_KEY_INFO = labels.AUTH_KEY.encode()
KEK_INFO = labels.KEY_ENCRYPTION_KEY.encode()
RECOVERY_AUTH_INFO = labels.RECOVERY_AUTH_KEY.encode()
RECOVERY_KEK_INFO = labels.RECOVERY_KEY_ENCRYPTION_KEY.encode()


def normalise_passphrase(passphrase: str) -> bytes:
    # The same words typed on a phone and a kiosk must give the same key.
    return unicodedata.normalize("NFC", passphrase).encode("utf-8")


def derive_master_key(passphrase: str, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    return nacl.pwhash.argon2id.kdf(
        KEY_BYTES, normalise_passphrase(passphrase), salt, opslimit=opslimit, memlimit=memlimit
    )


def hkdf(secret: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info).derive(secret)


def split_master_key(master_key: bytes) -> tuple[bytes, bytes]:
    """Returns (auth_key, key_encryption_key). Only the auth key ever leaves the client."""
    return hkdf(master_key, AUTH_KEY_INFO), hkdf(master_key, KEK_INFO)


def split_recovery_key(recovery_key: bytes) -> tuple[bytes, bytes]:
    return hkdf(recovery_key, RECOVERY_AUTH_INFO), hkdf(recovery_key, RECOVERY_KEK_INFO)
