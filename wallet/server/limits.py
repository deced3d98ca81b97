"""A cap on request bodies, so one large body cannot fill the server's memory before a 422.

Pure ASGI: a body whose Content-Length is over the cap gets 413 before a byte is read, and a
streamed (chunked) body is cut off with 413 as soon as it goes past the cap.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from wallet.uploads.service import size_text

# tus (wallet/uploads/api.py): PATCH streams a file's bytes to the blob store with constant
# memory and checks them against the upload's announced length itself; POST never reads a body
# and answers a too large Upload-Length with the file limit, which says more than ours.
UNCAPPED = [
    ("PATCH", re.compile(r"^/api/v1/uploads/[^/]+$")),
    ("POST", re.compile(r"^/api/v1/uploads$")),
]

# Bodies that carry many keys at once. The largest grant or mandate the schemas allow (2,000
# wraps at their largest, tests/test_body_limit.py) is about 14 MB; a team key rotation
# reseals everything the old key protects in one request.
BULK_BODY_BYTES = 32 * 1024 * 1024
BULK = [
    ("POST", re.compile(r"^/api/v1/grants$")),
    ("POST", re.compile(r"^/api/v1/grants/[^/]+/wraps$")),
    ("POST", re.compile(r"^/api/v1/mandates$")),
    ("POST", re.compile(r"^/api/v1/mandates/[^/]+/wraps$")),
    ("POST", re.compile(r"^/api/v1/orgs/[^/]+/rotate$")),
]


def body_cap(method: str, path: str, default: int) -> int | None:
    """The most bytes a request to this route may send; None: no cap here."""
    if any(method == m and pattern.match(path) for m, pattern in UNCAPPED):
        return None
    if any(method == m and pattern.match(path) for m, pattern in BULK):
        return max(default, BULK_BODY_BYTES)
    return default


def too_large_message(cap: int) -> str:
    return f"This request is too large. The limit is {size_text(cap)}. Send less at once."


class BodyTooLarge(HTTPException):
    """Raised while the body streams in; the app's handler answers 413 in its usual shape."""

    def __init__(self, cap: int) -> None:
        super().__init__(status_code=413, detail=too_large_message(cap))


def too_large_response(message: str) -> JSONResponse:
    return JSONResponse({"detail": message, "code": "too_large"}, status_code=413)


def _declared_length(scope: dict) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the HTTP server refuses it before us
    return None


class BodyLimitMiddleware:
    def __init__(self, inner: Any, default_cap: int) -> None:
        self._inner = inner
        self._default_cap = default_cap

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self._inner(scope, receive, send)
            return
        cap = body_cap(scope["method"], scope["path"], self._default_cap)
        if cap is None:
            await self._inner(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > cap:
            await too_large_response(too_large_message(cap))(scope, receive, send)
            return

        received = 0
        started = False

        async def capped_receive() -> dict:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    raise BodyTooLarge(cap)
            return dict(message)

        async def tracking_send(message: dict) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self._inner(scope, capped_receive, tracking_send)
        except BodyTooLarge as exc:
            # Read outside a route (a middleware or a page): answer here unless already answering.
            if started:
                raise
            await too_large_response(str(exc.detail))(scope, receive, send)
