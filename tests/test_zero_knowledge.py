"""Security property 1: the server never holds content, metadata, profile data or secrets in
clear. Everything the server stores (database and blob store) is scanned for canaries."""

from __future__ import annotations

import base64
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from sqlalchemy.engine import make_url

from storage.s3 import S3BlobStore
from tests.conftest import WalletApp, using_postgres
from wallet.client import Vault
from wallet.crypto.kdf import split_recovery_key
from wallet.crypto.recovery import parse_recovery_key


def _b64_forms(secret: bytes) -> set[bytes]:
    """Base64 (standard and URL-safe) of `secret` at each of the 3 possible byte alignments.

    Encodes `prefix + secret` and keeps only the characters that depend on the secret alone.
    """
    found: set[bytes] = set()
    for shift in range(3):
        data = b"\0" * shift + secret
        whole_groups = len(data) // 3
        start = 4 if shift else 0
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            text = encode(data)[start : 4 * whole_groups]
            if len(text) >= 8:
                found.add(text)
    return found


def encoded_forms(secret: str | bytes) -> set[bytes]:
    raw = secret.encode() if isinstance(secret, str) else secret
    forms = {raw, raw.hex().encode(), raw.hex().upper().encode(), *_b64_forms(raw)}
    if isinstance(secret, str):
        utf16 = secret.encode("utf-16-le")
        forms |= {utf16, *_b64_forms(utf16)}
    return forms


def test_encoded_forms_find_secret_at_every_alignment() -> None:
    """The scanner itself must be able to find what it looks for."""
    secret = "CANARY-" + secrets.token_hex(8)
    forms = encoded_forms(secret)
    for prefix in (b"", b"x", b"xy", b"xyz"):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            blob = encode(prefix + secret.encode() + b"tail")
            assert any(form in blob for form in forms), (prefix, encode)
    assert any(form in secret.encode("utf-16-le") for form in forms)
    assert any(form in secret.encode().hex().upper().encode() for form in forms)


@dataclass
class Stored:
    name: str
    data: bytes


def database_contents(app: WalletApp, tmp_path: Path) -> list[Stored]:
    if using_postgres():
        url = make_url(app.database.url)
        dump = subprocess.run(
            [
                "pg_dump",
                "-U",
                "postgres",
                "-h",
                "127.0.0.1",
                "-p",
                str(url.port or 5432),
                url.database,
            ],
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout
        assert b"CREATE TABLE public.account" in dump
        return [Stored(f"pg_dump {url.database}", dump)]
    assert app.database.path is not None
    files = [
        app.database.path,
        Path(f"{app.database.path}-wal"),
        Path(f"{app.database.path}-shm"),
    ]
    return [Stored(str(path), path.read_bytes()) for path in files if path.exists()]


def blob_contents(app: WalletApp) -> list[Stored]:
    store = app.client.app.state.store
    if isinstance(store, S3BlobStore):
        found = []
        for obj in store.client.list_objects(store.bucket, recursive=True):
            response = store.client.get_object(store.bucket, obj.object_name)
            try:
                found.append(Stored(f"s3://{store.bucket}/{obj.object_name}", response.read()))
            finally:
                response.close()
                response.release_conn()
        return found
    data_dir = Path(app.settings.data_dir)
    return [Stored(str(path), path.read_bytes()) for path in data_dir.rglob("*") if path.is_file()]


def hits(stored: list[Stored], secret: str | bytes) -> list[str]:
    forms = encoded_forms(secret)
    return [item.name for item in stored if any(form in item.data for form in forms)]


def test_server_stores_no_content_metadata_profile_or_secret(
    any_store_app: WalletApp, tmp_path: Path
) -> None:
    app = any_store_app
    canary = "CANARY-" + secrets.token_hex(12)
    passphrase = f"{canary}-passphrase words"
    handle = f"zk-{secrets.token_hex(4)}"
    vault, recovery_text = Vault.create_account(app.api(), handle, passphrase)

    source = tmp_path / f"{canary}.pdf"
    source.write_bytes(b"%PDF-1.4\n" + f"Payslip of {canary} for March\n".encode() * 2000)
    document_id, _ = vault.upload(
        source,
        "payslip",
        f"Payslip {canary}",
        issuer=f"Employer {canary}",
        tags=[f"tag-{canary}"],
        label=f"label {canary}",
        issue_date="2026-03-31",
    )
    # A second version, and an unfinished upload whose bytes sit in staging.
    vault.upload(
        source, "payslip", f"Payslip v2 {canary}", issuer=f"Employer {canary}", replace=document_id
    )
    for name in ("first_name", "national_number", "address"):
        vault.set_profile_field(name, f"{name} {canary}")
    ciphertext = b"age-encryption.org/v1\n" + secrets.token_bytes(500)
    location = (
        vault.api.api(
            "POST", "/uploads", headers={"Tus-Resumable": "1.0.0", "Upload-Length": "1000"}
        )
    ).headers["location"]
    vault.api.request(
        "PATCH",
        location,
        content=ciphertext,
        headers={
            "Tus-Resumable": "1.0.0",
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
        },
    )

    # The client itself still sees everything.
    assert vault.profile()["national_number"] == f"national_number {canary}"
    [listed] = vault.list_documents()
    assert listed.title == f"Payslip v2 {canary}" and listed.meta["issuer"] == f"Employer {canary}"
    versions = vault.versions(document_id)
    out = tmp_path / "out.pdf"
    vault.download(document_id, out)
    assert out.read_bytes() == source.read_bytes()

    database = database_contents(app, tmp_path)
    blobs = blob_contents(app)
    # Positive controls: the scans do read what the server stored.
    assert hits(database, handle), "the handle is stored in clear, the scan must find it"
    assert len([b for b in blobs if b.data.startswith(b"age-encryption.org/v1")]) >= 3
    stored = database + blobs

    assert hits(stored, canary) == []
    assert hits(stored, canary.lower()) == [] and hits(stored, canary.upper()) == []
    assert hits(stored, passphrase) == []
    # The recovery key: as printed, without its dashes, and its raw and derived secret bytes.
    recovery_key = parse_recovery_key(recovery_text)
    recovery_auth, recovery_kek = split_recovery_key(recovery_key)
    assert hits(stored, recovery_text) == []
    assert hits(stored, recovery_text.replace("-", "")) == []
    assert hits(stored, recovery_key) == []
    assert hits(stored, recovery_kek) == []
    assert hits(stored, recovery_auth) == []  # the server keeps only an Argon2id hash of it
    # Private keys and document keys.
    assert hits(stored, bytes(vault.keys.signing_key)) == []
    raw_x25519 = vault.keys.encryption_key.private_bytes(
        Encoding.Raw, PrivateFormat.Raw, NoEncryption()
    )
    assert hits(stored, raw_x25519) == []
    assert hits(stored, vault.keys.vault_secret) == []
    assert hits(stored, vault.keys.to_bytes()) == []
    for version in versions:
        identity = str(version.identity)
        assert identity.startswith("AGE-SECRET-KEY-1")
        assert hits(stored, identity) == []
