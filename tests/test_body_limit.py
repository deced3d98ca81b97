"""Request bodies are capped (wallet/server/limits.py): 413 on a large Content-Length before a
byte is read, 413 as soon as a streamed body goes past the cap, while the largest bodies the
schemas allow still fit and uploads still stream."""

from __future__ import annotations

import asyncio
import secrets
import types
import typing
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from annotated_types import MaxLen
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from tests.conftest import WalletApp
from wallet.crypto.encoding import b64e
from wallet.server.limits import BULK_BODY_BYTES, body_cap

MIB = 1024 * 1024
# A team key rotation may reseal 200,000 wraps per list: its cap is what a real team sends
# (BULK_BODY_BYTES), not the schema's ceiling.
NOT_FROM_SCHEMA = {("POST", "/api/v1/orgs/{org}/rotate")}


def _asgi(app: Any, method: str, path: str, headers: list[tuple[bytes, bytes]]) -> tuple:
    """Calls the app directly, with a receive that fails the test if the body is read."""
    sent: list[dict] = []
    read = []

    async def receive() -> dict:
        read.append(True)
        return {"type": "http.request", "body": b"{}" * 1000, "more_body": True}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }
    # A loop of its own in a thread of its own: the browser tests' Playwright keeps an event
    # loop running in this thread, and asyncio.run() refuses to start inside it.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, app(scope, receive, send)).result()
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], body, read


def test_a_large_content_length_is_refused_before_the_body_is_read(
    wallet_app: WalletApp,
) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"314572800")]
    status, body, read = _asgi(wallet_app.client.app, "POST", "/api/v1/auth/prelogin", headers)
    assert status == 413
    assert read == []
    assert body.startswith(b'{"detail":"This request is too large. The limit is 1 MB.')
    assert b'"code":"too_large"' in body


def test_a_streamed_body_past_the_cap_is_cut_off(wallet_app: WalletApp) -> None:
    chunks_sent = []

    def chunks() -> Iterator[bytes]:
        yield b'{"handle": "'
        for _ in range(64):  # 4 MiB, without a Content-Length
            chunks_sent.append(True)
            yield b"a" * 65536
        yield b'"}'

    response = wallet_app.client.post(
        "/api/v1/auth/prelogin", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json() == {
        "detail": "This request is too large. The limit is 1 MB. Send less at once.",
        "code": "too_large",
    }
    assert "nosniff" in response.headers["x-content-type-options"]


def test_a_small_streamed_body_still_passes(wallet_app: WalletApp) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"handle": '
        yield b'"nobody-here"}'

    response = wallet_app.client.post(
        "/api/v1/auth/prelogin", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200


def _max_len(metadata: list[Any]) -> int | None:
    for item in metadata:
        if isinstance(item, FieldInfo):  # Annotated[B64, Field(max_length=...)]
            found = _max_len(list(item.metadata))
            if found is not None:
                return found
        if isinstance(item, MaxLen):
            return item.max_length
        if getattr(item, "max_length", None) is not None:
            return int(item.max_length)
    return None


def _largest_json(annotation: Any, metadata: list[Any]) -> int:
    """Bytes of the largest JSON value the schema accepts for this type (a close estimate)."""
    if typing.get_origin(annotation) is typing.Annotated:
        inner, *extra = typing.get_args(annotation)
        return _largest_json(inner, [*metadata, *extra])
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return max(_largest_json(a, metadata) for a in typing.get_args(annotation))
    if typing.get_origin(annotation) is typing.Literal:
        return max(len(repr(a)) for a in typing.get_args(annotation))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        fields = annotation.model_fields
        return 2 + sum(
            len(f.alias or name) + 4 + _largest_json(f.annotation, list(f.metadata))
            for name, f in fields.items()
        )
    if typing.get_origin(annotation) is list:
        (item,) = typing.get_args(annotation)
        count = _max_len(metadata)
        assert count is not None, f"an unbounded list of {item}"
        return 2 + count * (_largest_json(item, []) + 1)
    limit = _max_len(metadata)
    if annotation is bytes:
        assert limit is not None, "an unbounded base64 field"
        return 2 + len(b64e(b"\0" * limit))
    if annotation is str:
        return 2 + (limit if limit is not None else 64)  # patterns: ids and key ids
    if annotation in (int, float):
        return 20
    if annotation is bool or annotation is type(None):
        return 5
    if annotation is datetime:
        return 34
    raise AssertionError(f"no size for {annotation}")


def test_the_largest_body_each_schema_allows_fits_its_cap(wallet_app: WalletApp) -> None:
    default = wallet_app.settings.max_body_bytes
    checked = []
    for context in iter_route_contexts(wallet_app.client.app.routes):  # type: ignore[attr-defined]
        dependant = getattr(context, "dependant", None)
        if dependant is None or not dependant.body_params:
            continue
        for method in context.methods or []:
            if (method, context.path) in NOT_FROM_SCHEMA:
                continue
            models = [b.field_info.annotation for b in dependant.body_params]
            if not all(isinstance(m, type) and issubclass(m, BaseModel) for m in models):
                continue  # form fields (the language switch), not a JSON body
            (model,) = models
            largest = _largest_json(model, [])
            cap = body_cap(method, context.path.replace("{", "x").replace("}", ""), default)
            assert cap is not None
            assert largest <= cap, (method, context.path, largest, cap)
            checked.append((method, context.path, largest))
    paths = {path for _m, path, _s in checked}
    assert "/api/v1/grants" in paths and "/api/v1/mandates" in paths
    assert "/api/v1/auth/prelogin" in paths


def _biggest_grant() -> dict[str, Any]:
    """A grant to a person with everything at the size its schema allows (tests only: the
    signatures are random, so the server refuses it, but only after reading it)."""

    def blob(size: int) -> str:
        return b64e(secrets.token_bytes(size))

    wrap = {
        "document_id": secrets.token_hex(16),
        "version": 2**31 - 1,
        "wrapped_key": blob(1024),
        "statement": blob(4096),
        "statement_signature": blob(64),
    }
    field_wrap = {k: v for k, v in wrap.items() if k not in ("document_id", "version")}
    return {
        "grant_id": secrets.token_hex(16),
        "grantee_handle": "g" * 40,
        "grantee_key_id": secrets.token_hex(16),
        "sealed_for_owner": blob(64 * 1024),
        "sealed_for_grantee": blob(64 * 1024),
        "signature": blob(64),
        "wraps": [wrap] * 2000,
        "field_wraps": [{**field_wrap, "slot": secrets.token_hex(16)}] * 32,
    }


def test_the_biggest_grant_still_reaches_the_server(wallet_app: WalletApp) -> None:
    vault = wallet_app.new_vault()
    grant = _biggest_grant()
    response = wallet_app.client.post(
        "/api/v1/grants", json=grant, headers={"Authorization": f"Bearer {vault.api.token}"}
    )
    size = len(response.request.content)
    assert 10 * MIB < size < BULK_BODY_BYTES
    assert response.status_code not in (413, 500), response.text
    assert response.json()["code"] != "too_large"


def test_the_default_cap_is_a_setting(make_app: Any) -> None:
    app = make_app(max_body_bytes=2048)
    response = app.client.post("/api/v1/auth/prelogin", json={"handle": "a" * 4000})
    assert response.status_code == 413
    assert "The limit is 2 KB" in response.json()["detail"]
    response = app.client.post("/api/v1/auth/prelogin", json={"handle": "nobody-here"})
    assert response.status_code == 200


def test_uploads_stream_past_the_cap(make_app: Any, tmp_path: Any) -> None:
    """An upload's bytes are not a request body to cap: only the upload limit applies."""
    app = make_app(max_body_bytes=2048)
    vault = app.new_vault()
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF-1.4\n" + secrets.token_bytes(200_000))
    document_id, _ = vault.upload(scan, "other", "Big scan")
    vault.download(document_id, tmp_path / "back.pdf")
    assert (tmp_path / "back.pdf").read_bytes() == scan.read_bytes()
