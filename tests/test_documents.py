"""Documents and versions: no existence leaks, strict completion, concurrency, tamper detection,
deletion and paging."""

from __future__ import annotations

import json
import os
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from storage.s3 import S3BlobStore
from tests.conftest import WalletApp, next_head
from tests.test_uploads import (
    API,
    bearer,
    blob_objects,
    complete,
    head,
    listed_ids,
    prepare_version,
    rows,
    store_of,
    upload_bytes,
)
from wallet.client import ApiError, Vault
from wallet.client.vault import IntegrityFailure
from wallet.crypto.encoding import b64d, b64e
from wallet.crypto.signing import sign
from wallet.vaulthead import service as vaulthead

STALE_VERSION = (
    "This document got a new version at the same time. Reload it and upload the file again."
)


def comparable(response: httpx.Response) -> tuple[int, bytes, dict[str, str]]:
    headers = {k: v for k, v in response.headers.items() if k.lower() != "date"}
    return response.status_code, response.content, headers


def new_document(app: WalletApp, vault: Vault, plaintext: bytes, title: str = "doc") -> str:
    prepared = prepare_version(vault, plaintext, title=title)
    upload_id = upload_bytes(app, vault.api.token, prepared.ciphertext)
    response = complete(app, vault.api.token, prepared, upload_id, vault)
    assert response.status_code == 201, response.text
    return prepared.document_id


def blob_key(app: WalletApp, document_id: str, version: int) -> str:
    with app.client.app.state.engine.connect() as connection:
        return connection.execute(
            text("SELECT blob_key FROM document_version WHERE document_id = :d AND version = :v"),
            {"d": document_id, "v": version},
        ).scalar_one()


def read_blob(app: WalletApp, key: str) -> bytes:
    return b"".join(store_of(app).open_read(key))


def overwrite_blob(app: WalletApp, key: str, data: bytes) -> None:
    """Changes a stored blob behind the service's back, as a malicious or broken store would."""
    store = store_of(app)
    if isinstance(store, S3BlobStore):
        import io

        store.client.put_object(store.bucket, f"blobs/{key}", io.BytesIO(data), len(data))
    else:
        path = Path(app.settings.data_dir) / "blobs" / key[:2] / key
        assert path.is_file()
        path.write_bytes(data)


# --- no existence leaks -----------------------------------------------------------------------


def test_someone_elses_document_looks_exactly_like_no_document(wallet_app: WalletApp) -> None:
    app = wallet_app
    owner = app.new_vault()
    document_id = new_document(app, owner, b"owner's lease")
    intruder = app.new_vault()
    token = intruder.api.token
    unknown_id = secrets.token_hex(16)
    # A finished upload of the intruder, so POST .../versions reaches the ownership check.
    prepared = prepare_version(intruder, b"intruder", document_id=document_id, version=2)
    upload_id = upload_bytes(app, token, prepared.ciphertext)
    version_body = prepared.body(upload_id, with_document_id=False)

    def probes(target: str) -> list[httpx.Response]:
        return [
            app.client.get(f"{API}/documents/{target}", headers=bearer(token)),
            app.client.get(f"{API}/documents/{target}/versions/1/blob", headers=bearer(token)),
            app.client.get(
                f"{API}/documents/{target}/versions/1/blob",
                headers={**bearer(token), "Range": "bytes=5-"},
            ),
            app.client.post(
                f"{API}/documents/{target}/versions", json=version_body, headers=bearer(token)
            ),
            app.client.delete(f"{API}/documents/{target}", headers=bearer(token)),
        ]

    for theirs, missing in zip(probes(document_id), probes(unknown_id), strict=True):
        assert theirs.status_code == 404
        assert comparable(theirs) == comparable(missing)
        assert theirs.json()["detail"] == "We found nothing here. Check the address or the id."
    # Nothing happened to the owner's document; the intruder's upload is still theirs to use.
    assert listed_ids(app, owner.api.token) == [document_id]
    assert listed_ids(app, token) == []
    assert head(app, token, upload_id).headers["Upload-Offset"] == str(len(prepared.ciphertext))
    # The owner's own missing version is the same 404 too.
    own_missing = app.client.get(
        f"{API}/documents/{document_id}/versions/9/blob", headers=bearer(owner.api.token)
    )
    assert own_missing.status_code == 404


def test_completing_someone_elses_upload_is_a_plain_404(wallet_app: WalletApp) -> None:
    app = wallet_app
    owner = app.new_vault()
    intruder = app.new_vault()
    mine = prepare_version(owner, b"owner bytes")
    upload_id = upload_bytes(app, owner.api.token, mine.ciphertext)
    theirs = prepare_version(intruder, b"owner bytes")
    stolen = complete(app, intruder.api.token, theirs, upload_id)
    unknown = complete(app, intruder.api.token, theirs, secrets.token_hex(16))
    assert stolen.status_code == 404
    assert comparable(stolen) == comparable(unknown)
    assert rows(app, "document") == 0
    assert complete(app, owner.api.token, mine, upload_id).status_code == 201


# --- strict completion ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"encrypted_meta": "abc+/="}, "encrypted_meta"),
        ({"encrypted_meta": 12}, "encrypted_meta"),
        ({"upload_id": None}, "upload_id"),
        ({"document_id": "not-a-hex-id"}, "document_id"),
        ({"document_id": None}, "document_id"),
        ({"signature": b64e(b"x" * 10)}, "signature"),
        ({"wrapped_key": b64e(b"k" * 2000)}, "wrapped_key"),
        ({"manifest": "A"}, "manifest"),
    ],
)
def test_malformed_completion_names_the_field(
    wallet_app: WalletApp, change: dict[str, Any], needle: str
) -> None:
    app = wallet_app
    vault = app.new_vault()
    prepared = prepare_version(vault, b"content")
    upload_id = upload_bytes(app, vault.api.token, prepared.ciphertext)
    body = {**prepared.body(upload_id), **change}
    body = {k: v for k, v in body.items() if v is not None}
    response = app.client.post(f"{API}/documents", json=body, headers=bearer(vault.api.token))
    assert response.status_code == 422
    assert response.json()["code"] == "invalid"
    assert f"'{needle}'" in response.json()["detail"]
    assert response.json()["errors"][0]["field"] == needle
    assert rows(app, "document") == rows(app, "document_version") == 0
    # Nothing was lost: the upload completes with a correct body.
    assert complete(app, vault.api.token, prepared, upload_id).status_code == 201


def test_body_that_is_not_json(wallet_app: WalletApp) -> None:
    vault = wallet_app.new_vault()
    for content in (b'{"upload_id": ', b"not json at all"):
        response = wallet_app.client.post(
            f"{API}/documents",
            content=content,
            headers={**bearer(vault.api.token), "Content-Type": "application/json"},
        )
        assert response.status_code == 422
        assert response.json()["detail"] == (
            "The request body is not valid JSON. Check what your app sends."
        )


def test_manifest_signed_by_someone_else(wallet_app: WalletApp) -> None:
    app = wallet_app
    vault = app.new_vault()
    forger = app.new_vault()
    prepared = prepare_version(vault, b"content")
    upload_id = upload_bytes(app, vault.api.token, prepared.ciphertext)
    forged = prepare_version(forger, b"content", document_id=prepared.document_id)
    body = {**prepared.body(upload_id), "manifest": forged.fields["manifest"]}
    body["signature"] = forged.fields["signature"]
    response = app.client.post(f"{API}/documents", json=body, headers=bearer(vault.api.token))
    assert response.status_code == 422
    assert response.json()["detail"] == "The manifest signature does not match your signing key."
    # A manifest and a signature that do not belong together.
    body = {**prepared.body(upload_id), "signature": forged.fields["signature"]}
    response = app.client.post(f"{API}/documents", json=body, headers=bearer(vault.api.token))
    assert response.status_code == 422
    assert rows(app, "document") == 0
    assert complete(app, vault.api.token, prepared, upload_id).status_code == 201


@pytest.mark.parametrize(
    ("manifest_changes", "field"),
    [
        ({"blob_size": 1}, "blob_size"),
        ({"document_id": "0" * 32}, "document_id"),
        ({"version": 2}, "version"),
        ({"kind": "grant"}, "kind"),
        ({"v": 2}, "v"),
        ({"meta_sha256": "0" * 64}, "meta_sha256"),
        ({"wraps": []}, "wraps"),
        ({"blob_sha256": None}, "blob_sha256"),
    ],
)
def test_manifest_that_does_not_match_the_upload(
    wallet_app: WalletApp, manifest_changes: dict[str, Any], field: str
) -> None:
    app = wallet_app
    vault = app.new_vault()
    good = prepare_version(vault, b"the real content")
    upload_id = upload_bytes(app, vault.api.token, good.ciphertext)
    # Correctly signed by the owner, but it describes something else than this upload.
    manifest = {**json.loads(b64d(good.fields["manifest"])), **manifest_changes}
    manifest = {k: v for k, v in manifest.items() if v is not None}
    signed, signature = sign(vault.keys.signing_key, manifest)
    body = {**good.body(upload_id), "manifest": b64e(signed), "signature": b64e(signature)}
    response = app.client.post(f"{API}/documents", json=body, headers=bearer(vault.api.token))
    assert response.status_code == 422, response.text
    assert f"'{field}'" in response.json()["detail"]
    assert rows(app, "document") == rows(app, "document_version") == 0
    assert blob_objects(app) == []
    assert complete(app, vault.api.token, good, upload_id).status_code == 201


def test_second_completion_of_an_existing_document_id(wallet_app: WalletApp) -> None:
    app = wallet_app
    vault = app.new_vault()
    token = vault.api.token
    first = prepare_version(vault, b"first")
    complete(app, token, first, upload_bytes(app, token, first.ciphertext))
    again = prepare_version(vault, b"again", document_id=first.document_id)
    upload_id = upload_bytes(app, token, again.ciphertext)
    response = complete(app, token, again, upload_id)
    assert response.status_code == 409
    assert response.json()["detail"] == "A document with this id already exists."
    assert rows(app, "document_version") == 1


# --- concurrency ------------------------------------------------------------------------------


def test_concurrent_second_versions_exactly_one_wins(any_store_app: WalletApp) -> None:
    app = any_store_app
    vault = app.new_vault()
    token = vault.api.token
    for round_number in range(3):
        document_id = new_document(app, vault, b"version one", title=f"round {round_number}")
        contenders = [
            prepare_version(vault, f"contender {i}".encode() * 500, document_id, 2)
            for i in range(2)
        ]
        uploads = [upload_bytes(app, token, p.ciphertext) for p in contenders]
        barrier = threading.Barrier(2)

        def attempt(index: int) -> httpx.Response:
            barrier.wait()
            return complete(app, token, contenders[index], uploads[index], vault)

        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(attempt, range(2)))
        statuses = sorted(r.status_code for r in results)
        assert statuses == [201, 409], [r.text for r in results]
        winner = 0 if results[0].status_code == 201 else 1
        loser = 1 - winner
        # The loser's version or its vault head came second: either way, nothing was changed.
        assert results[loser].json()["detail"] in (STALE_VERSION, vaulthead.STALE)

        detail = app.client.get(f"{API}/documents/{document_id}", headers=bearer(token)).json()
        assert detail["current_version"] == 2
        assert [v["version"] for v in detail["versions"]] == [1, 2]
        got = app.client.get(
            f"{API}/documents/{document_id}/versions/2/blob", headers=bearer(token)
        )
        assert got.content == contenders[winner].ciphertext
        # The loser left nothing half-done: either its upload is intact and reusable, or it is
        # gone with its bytes; never a row without bytes.
        status = head(app, token, uploads[loser])
        if status.status_code == 200:
            assert status.headers["Upload-Offset"] == str(len(contenders[loser].ciphertext))
            assert store_of(app).staged_size(uploads[loser]) == len(contenders[loser].ciphertext)
        else:
            assert status.status_code == 404
            retry = complete(app, token, contenders[loser], uploads[loser])
            assert retry.status_code == 404
            assert "Start the upload again" in retry.json()["detail"]

    # No orphan blob: one per version that exists.
    assert len(blob_objects(app)) == rows(app, "document_version") == 6


def test_stale_version_manifest_is_a_conflict(wallet_app: WalletApp) -> None:
    app = wallet_app
    vault = app.new_vault()
    token = vault.api.token
    document_id = new_document(app, vault, b"one")
    late = prepare_version(vault, b"late", document_id, 2)
    early = prepare_version(vault, b"early", document_id, 2)
    late_upload = upload_bytes(app, token, late.ciphertext)
    assert (
        complete(app, token, early, upload_bytes(app, token, early.ciphertext)).status_code == 201
    )
    response = complete(app, token, late, late_upload)
    assert response.status_code == 409
    assert response.json()["detail"] == STALE_VERSION
    # A future version number is not a conflict but a wrong manifest.
    future = prepare_version(vault, b"future", document_id, 7)
    response = complete(app, token, future, upload_bytes(app, token, future.ciphertext))
    assert response.status_code == 422
    assert "'version'" in response.json()["detail"]


# --- tampering --------------------------------------------------------------------------------


def test_flipped_or_swapped_blob_is_detected(any_store_app: WalletApp, tmp_path: Path) -> None:
    app = any_store_app
    vault = app.new_vault()
    source = tmp_path / "source.pdf"
    source.write_bytes(os.urandom(300_000))
    document_id, _ = vault.upload(source, "payslip", "March")
    other = tmp_path / "other.pdf"
    other.write_bytes(os.urandom(300_000))
    vault.upload(other, "payslip", "March corrected", replace=document_id)
    target_dir = tmp_path / "downloads"
    target_dir.mkdir()
    target = target_dir / "payslip.pdf"

    key1, key2 = blob_key(app, document_id, 1), blob_key(app, document_id, 2)
    original1, original2 = read_blob(app, key1), read_blob(app, key2)

    for position in (10, len(original2) // 2, len(original2) - 1):
        flipped = bytearray(original2)
        flipped[position] ^= 0x01
        overwrite_blob(app, key2, bytes(flipped))
        with pytest.raises(IntegrityFailure):
            vault.download(document_id, target)
        assert list(target_dir.iterdir()) == []

    # A malicious server swaps in another version's blob and lies about its size to match.
    overwrite_blob(app, key2, original1)
    with app.client.app.state.engine.begin() as connection:
        connection.execute(
            text("UPDATE document_version SET blob_size = :s WHERE blob_key = :k"),
            {"s": len(original1), "k": key2},
        )
    with pytest.raises(IntegrityFailure):
        vault.download(document_id, target)
    assert list(target_dir.iterdir()) == []

    # A damaged store swaps blobs but the database still knows the real size: the server
    # refuses to send a body that contradicts its own records (or, same size, the client
    # catches it).
    with app.client.app.state.engine.begin() as connection:
        connection.execute(
            text("UPDATE document_version SET blob_size = :s WHERE blob_key = :k"),
            {"s": len(original2), "k": key2},
        )
    overwrite_blob(app, key1, original2)
    if len(original1) == len(original2):
        with pytest.raises(IntegrityFailure):
            vault.download(document_id, target, version=1)
    else:
        with pytest.raises(ApiError) as refused:
            vault.download(document_id, target, version=1)
        assert refused.value.status == 500
        assert "damaged" in refused.value.message
    assert list(target_dir.iterdir()) == []
    overwrite_blob(app, key2, original2)

    # Untouched version 2 still opens.
    vault.download(document_id, target)
    assert target.read_bytes() == other.read_bytes()


def test_old_versions_stay_retrievable(wallet_app: WalletApp, tmp_path: Path) -> None:
    vault = wallet_app.new_vault()
    contents = [os.urandom(1000 + i) for i in range(3)]
    source = tmp_path / "cv.pdf"
    source.write_bytes(contents[0])
    document_id, _ = vault.upload(source, "cv", "CV 2024")
    for i, content in enumerate(contents[1:], start=2):
        source.write_bytes(content)
        assert vault.upload(source, "cv", f"CV v{i}", replace=document_id) == (document_id, i)
    [listed] = vault.list_documents()
    assert (listed.version, listed.versions, listed.title) == (3, 3, "CV v3")
    versions = vault.versions(document_id)
    assert [(v.version, v.meta["title"]) for v in versions] == [
        (1, "CV 2024"),
        (2, "CV v2"),
        (3, "CV v3"),
    ]
    for number, content in enumerate(contents, start=1):
        out = tmp_path / f"v{number}.pdf"
        vault.download(document_id, out, version=number)
        assert out.read_bytes() == content


def test_delete_removes_rows_and_blobs(any_store_app: WalletApp, tmp_path: Path) -> None:
    app = any_store_app
    vault = app.new_vault()
    token = vault.api.token
    source = tmp_path / "bill.pdf"
    source.write_bytes(os.urandom(4000))
    doomed, _ = vault.upload(source, "energy_bill", "bill")
    vault.upload(source, "energy_bill", "bill v2", replace=doomed)
    kept, _ = vault.upload(source, "water_bill", "water")
    kept_key = blob_key(app, kept, 1)
    assert len(blob_objects(app)) == 3

    head = next_head(vault, lambda state: state.documents.pop(doomed))
    response = app.client.delete(f"{API}/documents/{doomed}", headers=bearer(token) | head)
    assert response.status_code == 204
    assert [name.rsplit("/", 1)[-1] for name in blob_objects(app)] == [kept_key]
    assert rows(app, "document_version") == rows(app, "key_wrap") == rows(app, "document") == 1
    assert app.client.get(f"{API}/documents/{doomed}", headers=bearer(token)).status_code == 404
    gone = app.client.get(f"{API}/documents/{doomed}/versions/1/blob", headers=bearer(token))
    assert gone.status_code == 404
    assert app.client.delete(f"{API}/documents/{doomed}", headers=bearer(token)).status_code == 404
    assert [d.id for d in vault.list_documents()] == [kept]


def test_listing_pages_with_a_cursor(wallet_app: WalletApp) -> None:
    app = wallet_app
    vault = app.new_vault()
    token = vault.api.token
    created = {new_document(app, vault, f"doc {i}".encode(), title=f"doc {i}") for i in range(5)}
    stranger = app.new_vault()
    new_document(app, stranger, b"not yours")

    pages: list[list[str]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = app.client.get(f"{API}/documents", params=params, headers=bearer(token)).json()
        pages.append([d["id"] for d in page["documents"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert cursor == pages[-1][-1]
    assert [len(p) for p in pages] == [2, 2, 1]
    flat = [i for p in pages for i in p]
    assert flat == sorted(created)
    assert {d.title for d in vault.list_documents()} == {f"doc {i}" for i in range(5)}

    for params in ({"limit": 0}, {"limit": 10**6}, {"cursor": "nope"}):
        response = app.client.get(f"{API}/documents", params=params, headers=bearer(token))
        assert response.status_code == 422
        assert f"'{next(iter(params))}'" in response.json()["detail"]
