"""tus 1.0 as the protocol says: the version check (412), lengths (400, 413), and the
concatenation extension (partial and final uploads) with the wallet's own rules: per owner,
the same size limit, each part used once, a final upload that takes no bytes of its own, and a
stored version whose bytes are the parts' in order."""

from __future__ import annotations

import os
from datetime import datetime, timedelta

import pytest

from tests.conftest import AppFactory, WalletApp
from tests.test_uploads import (
    API,
    LIMIT,
    OFFSET_TYPE,
    TUS,
    bearer,
    complete,
    execute,
    head,
    patch,
    prepare_version,
    rows,
    staged_objects,
    store_of,
)
from wallet.server.sweeper import sweep


def create(app: WalletApp, token: str, **headers: str) -> str:
    response = app.client.post(f"{API}/uploads", headers={**TUS, **bearer(token), **headers})
    assert response.status_code == 201, response.text
    return str(response.headers["location"])


def partial(app: WalletApp, token: str, data: bytes) -> str:
    location = create(app, token, **{"Upload-Length": str(len(data)), "Upload-Concat": "partial"})
    upload_id = location.rsplit("/", 1)[-1]
    assert patch(app, token, upload_id, 0, data).status_code == 204
    return location


def final(app: WalletApp, token: str, *locations: str) -> tuple[int, dict[str, str]]:
    response = app.client.post(
        f"{API}/uploads",
        headers={**TUS, **bearer(token), "Upload-Concat": "final;" + " ".join(locations)},
    )
    body = response.json() if response.content else {}
    return response.status_code, {**dict(response.headers), **body}


@pytest.mark.parametrize("version", [None, "0.2.2", "1.0", "2.0.0"])
def test_every_tus_request_needs_version_1_0_0(wallet_app: WalletApp, version: str | None) -> None:
    token = wallet_app.new_vault().api.token or ""
    upload_id = create(wallet_app, token, **{"Upload-Length": "10"}).rsplit("/", 1)[-1]
    headers = bearer(token) | ({"Tus-Resumable": version} if version else {})
    url = f"{API}/uploads/{upload_id}"
    for method, path, extra in [
        ("POST", f"{API}/uploads", {"Upload-Length": "10"}),
        ("HEAD", url, {}),
        ("PATCH", url, {"Upload-Offset": "0", "Content-Type": OFFSET_TYPE}),
        ("DELETE", url, {}),
    ]:
        response = wallet_app.client.request(method, path, headers={**headers, **extra})
        assert response.status_code == 412, (method, response.text)
        assert response.headers["Tus-Version"] == "1.0.0"
        if method != "HEAD":
            assert response.json()["code"] == "tus_version_unsupported"
    assert rows(wallet_app, "upload") == 1
    # OPTIONS needs none, and says what the server speaks.
    options = wallet_app.client.options(f"{API}/uploads")
    assert options.status_code == 204
    assert options.headers["Tus-Version"] == "1.0.0"
    assert "concatenation" in options.headers["Tus-Extension"].split(",")


def test_lengths_give_400_and_413_with_codes(make_app: AppFactory) -> None:
    app = make_app(max_upload_bytes=LIMIT)
    token = app.new_vault().api.token or ""
    for value in ("", "x", "-1", "0", "1.5", "99999999999999999999999"):
        response = app.client.post(
            f"{API}/uploads", headers={**TUS, **bearer(token), "Upload-Length": value}
        )
        assert response.status_code == 400, value
        assert response.json()["code"] == "upload_length_invalid"
    response = app.client.post(
        f"{API}/uploads", headers={**TUS, **bearer(token), "Upload-Length": str(LIMIT + 1)}
    )
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


def test_parts_join_into_one_version(any_store_app: WalletApp) -> None:
    app = any_store_app
    vault = app.new_vault()
    token = vault.api.token or ""
    prepared = prepare_version(vault, os.urandom(300_000))
    data = prepared.ciphertext
    cuts = [0, 100_000, 200_001, len(data)]
    locations = [partial(app, token, data[a:b]) for a, b in zip(cuts, cuts[1:], strict=False)]
    status = head(app, token, locations[0].rsplit("/", 1)[-1])
    assert status.headers["Upload-Concat"] == "partial"
    # A part is not a document on its own.
    lonely = complete(app, token, prepared, locations[0].rsplit("/", 1)[-1])
    assert lonely.status_code == 409

    code, answer = final(app, token, *locations)
    assert code == 201, answer
    final_id = answer["location"].rsplit("/", 1)[-1]
    # Sent again (its answer was lost): the same final upload.
    assert final(app, token, *locations)[1]["location"] == answer["location"]
    status = head(app, token, final_id)
    assert status.headers["Upload-Offset"] == status.headers["Upload-Length"] == str(len(data))
    assert status.headers["Upload-Concat"] == "final;" + " ".join(locations)
    # The parts are gone for tus; the final takes no bytes of its own.
    assert head(app, token, locations[1].rsplit("/", 1)[-1]).status_code == 404
    refused = patch(app, token, final_id, len(data), b"x")
    assert refused.status_code == 403
    assert refused.json()["code"] == "upload_final_read_only"
    # A part serves one final only.
    code, answer = final(app, token, locations[0])
    assert code == 400 and answer["code"] == "upload_concat_invalid"

    done = complete(app, token, prepared, final_id, vault)
    assert done.status_code == 201, done.text
    assert rows(app, "upload") == 0
    assert staged_objects(app) == []
    out = app.settings.data_dir / "joined.out"
    vault.download(prepared.document_id, out)
    assert out.read_bytes() == prepared.plaintext


def test_final_upload_rules(make_app: AppFactory) -> None:
    app = make_app(max_upload_bytes=LIMIT)
    owner = app.new_vault().api.token or ""
    other = app.new_vault().api.token or ""
    half = LIMIT // 2 + 1
    a, b = partial(app, owner, os.urandom(half)), partial(app, owner, os.urandom(half))
    unfinished = create(app, owner, **{"Upload-Length": "10", "Upload-Concat": "partial"})
    whole = create(app, owner, **{"Upload-Length": "10"})

    cases = [
        ((a, a), 400, "upload_concat_invalid"),  # a part sent twice is not counted twice
        ((a, unfinished), 400, "upload_concat_invalid"),
        ((a, whole), 400, "upload_concat_invalid"),
        ((a, b), 413, "too_large"),  # the parts together are over the limit
        ((), 400, "upload_concat_invalid"),
    ]
    for parts, status, code in cases:
        got, answer = final(app, owner, *parts)
        assert (got, answer.get("code")) == (status, code), parts
    # Another owner's parts are not theirs to join, and look like no upload at all.
    got, answer = final(app, other, a)
    assert (got, answer["code"]) == (400, "upload_concat_invalid")
    bad = app.client.post(
        f"{API}/uploads",
        headers={**TUS, **bearer(owner), "Upload-Concat": "whole", "Upload-Length": "3"},
    )
    assert bad.status_code == 400
    # Nothing was claimed by the refused finals: the first part still joins.
    got, answer = final(app, owner, a)
    assert got == 201, answer


def test_terminating_a_final_upload_drops_its_parts(any_store_app: WalletApp) -> None:
    app = any_store_app
    token = app.new_vault().api.token or ""
    parts = [partial(app, token, os.urandom(5000)) for _ in range(2)]
    code, answer = final(app, token, *parts)
    assert code == 201
    gone = app.client.delete(answer["location"], headers={**TUS, **bearer(token)})
    assert gone.status_code == 204
    assert rows(app, "upload") == 0
    assert staged_objects(app) == []


def test_expired_parts_and_finals_are_swept(any_store_app: WalletApp) -> None:
    app = any_store_app
    token = app.new_vault().api.token or ""
    joined = [partial(app, token, os.urandom(5000)) for _ in range(2)]
    code, _answer = final(app, token, *joined)
    assert code == 201
    partial(app, token, os.urandom(700))  # a part never joined
    assert len(staged_objects(app)) == 3
    execute(app, "UPDATE upload SET expires_at = :past", past=datetime(2000, 1, 1))
    report = sweep(app.client.app.state.engine, store_of(app), timedelta(hours=1))
    assert report.expired_uploads == 4
    assert rows(app, "upload") == 0
    assert staged_objects(app) == []
