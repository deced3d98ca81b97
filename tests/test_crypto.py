"""Unit tests of the crypto building blocks: HPKE wraps, locked key bundles, the recovery key,
manifest signatures and the passphrase KDF."""

from __future__ import annotations

import secrets

import nacl.signing
import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from wallet.crypto import kdf
from wallet.crypto.encoding import canonical_json
from wallet.crypto.keys import AccountKeys, WrongKey
from wallet.crypto.recovery import format_recovery_key, parse_recovery_key
from wallet.crypto.signing import BadSignature, sign, verify
from wallet.crypto.wrap import (
    UnwrapError,
    document_key_info,
    key_id,
    open_sealed,
    profile_field_info,
    seal,
)

OPS, MEM = 1, 8192  # the smallest Argon2id cost libsodium allows: fast tests


def raw_public(private: X25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def flip(data: bytes, index: int) -> bytes:
    changed = bytearray(data)
    changed[index] ^= 0x01
    return bytes(changed)


# --- HPKE key wraps ------------------------------------------------------------------------


@pytest.fixture
def recipient() -> X25519PrivateKey:
    return X25519PrivateKey.generate()


def test_wrap_round_trip(recipient: X25519PrivateKey) -> None:
    secret = b"AGE-SECRET-KEY-1" + secrets.token_bytes(40)
    rid = key_id(raw_public(recipient))
    info = document_key_info("doc-1", 3, rid)
    wrapped = seal(raw_public(recipient), secret, info)
    assert secret not in wrapped
    assert open_sealed(recipient, wrapped, info) == secret
    # A fresh encapsulation every time: two wraps of the same key differ.
    assert seal(raw_public(recipient), secret, info) != wrapped


@pytest.mark.parametrize(
    "other_info",
    [
        pytest.param(lambda rid: document_key_info("doc-2", 3, rid), id="document-id"),
        pytest.param(lambda rid: document_key_info("doc-1", 4, rid), id="version"),
        pytest.param(lambda rid: document_key_info("doc-1", 3, "0" * 32), id="recipient-key-id"),
        pytest.param(lambda rid: profile_field_info("doc-1", rid), id="purpose"),
    ],
)
def test_wrap_bound_to_its_info(recipient: X25519PrivateKey, other_info) -> None:  # type: ignore[no-untyped-def]
    rid = key_id(raw_public(recipient))
    wrapped = seal(raw_public(recipient), b"document key", document_key_info("doc-1", 3, rid))
    with pytest.raises(UnwrapError):
        open_sealed(recipient, wrapped, other_info(rid))


@pytest.mark.parametrize("where", ["enc", "ciphertext", "tag"])
def test_tampered_wrap_fails(recipient: X25519PrivateKey, where: str) -> None:
    info = document_key_info("doc-1", 1, key_id(raw_public(recipient)))
    wrapped = seal(raw_public(recipient), b"document key", info)
    index = {"enc": 5, "ciphertext": 32 + 2, "tag": len(wrapped) - 1}[where]
    with pytest.raises(UnwrapError):
        open_sealed(recipient, flip(wrapped, index), info)
    with pytest.raises(UnwrapError):
        open_sealed(recipient, wrapped[:-1], info)


def test_wrap_for_someone_else_fails(recipient: X25519PrivateKey) -> None:
    info = document_key_info("doc-1", 1, key_id(raw_public(recipient)))
    wrapped = seal(raw_public(recipient), b"document key", info)
    with pytest.raises(UnwrapError):
        open_sealed(X25519PrivateKey.generate(), wrapped, info)


def test_key_id_is_stable_and_distinct(recipient: X25519PrivateKey) -> None:
    public = raw_public(recipient)
    assert key_id(public) == key_id(public)
    assert len(key_id(public)) == 32
    assert key_id(public) != key_id(raw_public(X25519PrivateKey.generate()))


# --- the locked key bundle -----------------------------------------------------------------


def test_account_keys_lock_and_unlock() -> None:
    keys = AccountKeys.generate()
    kek = secrets.token_bytes(32)
    locked = keys.lock(kek)
    assert keys.to_bytes() not in locked
    opened = AccountKeys.unlock(kek, locked)
    assert opened.public_encryption_key == keys.public_encryption_key
    assert opened.public_signing_key == keys.public_signing_key
    assert opened.vault_secret == keys.vault_secret
    assert opened.key_id == keys.key_id
    assert opened.profile_slot("first_name") == keys.profile_slot("first_name")
    assert keys.profile_slot("first_name") != keys.profile_slot("last_name")
    # Each lock uses a fresh nonce.
    assert keys.lock(kek) != locked


def test_account_keys_wrong_kek_or_tampering_fails() -> None:
    keys = AccountKeys.generate()
    kek = secrets.token_bytes(32)
    locked = keys.lock(kek)
    with pytest.raises(WrongKey):
        AccountKeys.unlock(secrets.token_bytes(32), locked)
    with pytest.raises(WrongKey):
        AccountKeys.unlock(kek, flip(locked, len(locked) // 2))
    with pytest.raises(WrongKey):
        AccountKeys.unlock(kek, flip(locked, 0))  # the nonce
    with pytest.raises(WrongKey):
        AccountKeys.unlock(kek, locked[:20])


# --- the recovery key ----------------------------------------------------------------------


def key_with_lookalike_letters() -> tuple[bytes, str]:
    """A key whose printed form contains O, I and B, the letters people copy as 0, 1, 8."""
    while True:
        key = secrets.token_bytes(32)
        text = format_recovery_key(key)
        if all(letter in text[4:] for letter in "OIB"):
            return key, text


def test_recovery_key_format() -> None:
    key = secrets.token_bytes(32)
    text = format_recovery_key(key)
    groups = text.split("-")
    assert groups[0] == "WR1"
    assert len(groups) == 15
    assert all(len(group) == 4 for group in groups[1:])
    assert parse_recovery_key(text) == key


def test_recovery_key_tolerates_how_people_type_it() -> None:
    key, text = key_with_lookalike_letters()
    letters = text.replace("-", "")
    assert parse_recovery_key(text.lower()) == key
    assert parse_recovery_key(letters) == key
    assert parse_recovery_key(letters[3:]) == key  # without the WR1 prefix
    assert parse_recovery_key("  " + text.replace("-", " ") + "\n") == key
    lookalikes = "WR1-" + text[4:].replace("O", "0").replace("I", "1").replace("B", "8")
    assert lookalikes != text
    assert parse_recovery_key(lookalikes) == key
    assert parse_recovery_key(lookalikes.lower()) == key


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(lambda t: t[:-1] + "9", "typing mistake", id="invalid-letter"),
        pytest.param(lambda t: t[:-5], "56 letters", id="missing-group"),
        pytest.param(lambda t: t + "A", "56 letters", id="extra-letter"),
        pytest.param(lambda t: "", "56 letters", id="empty"),
    ],
)
def test_recovery_key_typos_are_reported(change, message: str) -> None:  # type: ignore[no-untyped-def]
    text = format_recovery_key(secrets.token_bytes(32))
    with pytest.raises(ValueError, match=message):
        parse_recovery_key(change(text))


def test_recovery_key_check_catches_one_swapped_letter() -> None:
    text = format_recovery_key(secrets.token_bytes(32))
    for position in (4, 20, len(text) - 1):
        swapped = "C" if text[position] != "C" else "D"
        mistyped = text[:position] + swapped + text[position + 1 :]
        with pytest.raises(ValueError, match="typing mistake"):
            parse_recovery_key(mistyped)


# --- signatures ----------------------------------------------------------------------------


def test_signature_detects_a_changed_manifest() -> None:
    signing_key = nacl.signing.SigningKey.generate()
    public = bytes(signing_key.verify_key)
    manifest = {"v": 1, "document_id": "abc", "version": 2, "blob_sha256": "00" * 32}
    message, signature = sign(signing_key, manifest)
    assert message == canonical_json(manifest)
    verify(public, message, signature)  # the untouched manifest verifies

    changed = canonical_json({**manifest, "version": 1})
    with pytest.raises(BadSignature):
        verify(public, changed, signature)
    with pytest.raises(BadSignature):
        verify(public, message, flip(signature, 10))
    with pytest.raises(BadSignature):
        verify(bytes(nacl.signing.SigningKey.generate().verify_key), message, signature)
    with pytest.raises(BadSignature):
        verify(public[:31], message, signature)


def test_canonical_json_is_order_independent() -> None:
    assert canonical_json({"b": 1, "a": "é"}) == canonical_json({"a": "é", "b": 1})
    assert canonical_json({"b": 1, "a": "é"}) == '{"a":"é","b":1}'.encode()


# --- passphrase KDF ------------------------------------------------------------------------


def test_kdf_is_deterministic_per_salt() -> None:
    salt = secrets.token_bytes(kdf.SALT_BYTES)
    first = kdf.derive_master_key("correct horse battery staple", salt, OPS, MEM)
    assert first == kdf.derive_master_key("correct horse battery staple", salt, OPS, MEM)
    assert len(first) == 32
    other_salt = secrets.token_bytes(kdf.SALT_BYTES)
    assert first != kdf.derive_master_key("correct horse battery staple", other_salt, OPS, MEM)
    assert first != kdf.derive_master_key("correct horse battery stapler", salt, OPS, MEM)


def test_kdf_normalises_unicode() -> None:
    salt = secrets.token_bytes(kdf.SALT_BYTES)
    nfc, nfd = "caf\u00e9 au lait", "cafe\u0301 au lait"
    assert nfc != nfd
    assert kdf.derive_master_key(nfc, salt, OPS, MEM) == kdf.derive_master_key(nfd, salt, OPS, MEM)


def test_kdf_splits_into_separate_keys() -> None:
    master = kdf.derive_master_key("passphrase", secrets.token_bytes(kdf.SALT_BYTES), OPS, MEM)
    auth_key, kek = kdf.split_master_key(master)
    assert len(auth_key) == len(kek) == 32
    assert auth_key != kek
    assert master not in (auth_key, kek)
    assert kdf.split_master_key(master) == (auth_key, kek)
    # The recovery key uses its own labels: the same secret gives other keys.
    assert set(kdf.split_recovery_key(master)).isdisjoint({auth_key, kek})
