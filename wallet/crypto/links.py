"""Keys of a share link https://HOST/s/<link_id>#<secret>.

Everything derives from the fragment secret, which never reaches the server:
- the proof key (Ed25519) answers the server's challenge, so the server can check the redeemer
  holds the secret without ever seeing it;
- the preview key opens the purpose and expiry shown before anything is consumed;
- the PIN check lets the server count wrong PINs without learning the PIN;
- the link key, which also needs the server's share (deleted at the last use) and the PIN,
  opens the package of document keys.
"""

from __future__ import annotations

import secrets

import nacl.signing
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from wallet.crypto.kdf import hkdf
from wallet.protocol import labels

SECRET_BYTES = 32
SHARE_BYTES = 32
_NONCE = 12


class LinkKeyError(Exception):
    """The fragment, the PIN or the server's share is wrong, or the link is dead."""


def new_secret() -> bytes:
    return secrets.token_bytes(SECRET_BYTES)


def new_server_share() -> bytes:
    return secrets.token_bytes(SHARE_BYTES)


def proof_key(secret: bytes, link_id: str) -> nacl.signing.SigningKey:
    return nacl.signing.SigningKey(hkdf(secret, labels.info(labels.LINK_PROOF, link_id)))


def challenge_message(link_id: str, nonce: bytes) -> bytes:
    return labels.info(labels.LINK_REDEEM, link_id, "") + nonce


def pin_check(secret: bytes, link_id: str, pin: str) -> bytes:
    return hkdf(secret + pin.encode(), labels.info(labels.LINK_PIN, link_id))


def preview_key(secret: bytes, link_id: str) -> bytes:
    return hkdf(secret, labels.info(labels.LINK_PREVIEW, link_id))


def link_key(secret: bytes, server_share: bytes, pin: str | None, link_id: str) -> bytes:
    return hkdf(secret + server_share + (pin or "").encode(), labels.info(labels.LINK_KEY, link_id))


def seal(key: bytes, plaintext: bytes, link_id: str) -> bytes:
    nonce = secrets.token_bytes(_NONCE)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, link_id.encode())


def open_sealed(key: bytes, sealed: bytes, link_id: str) -> bytes:
    try:
        return AESGCM(key).decrypt(sealed[:_NONCE], sealed[_NONCE:], link_id.encode())
    except (InvalidTag, ValueError) as exc:
        raise LinkKeyError("this link cannot be opened with this secret") from exc
