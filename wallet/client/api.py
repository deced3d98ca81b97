"""A thin HTTP client for /api/v1. It knows nothing about keys."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpx

API = "/api/v1"


class ApiError(Exception):
    def __init__(
        self, status: int, message: str, retry_after: int | None = None, code: str = ""
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after
        self.code = code


class NetworkError(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(0, message)


class ApiClient:
    def __init__(
        self,
        server: str,
        token: str | None = None,
        http: httpx.Client | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.server = server.rstrip("/")
        self.token = token
        self.http = http or httpx.Client(base_url=self.server, timeout=timeout)

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = dict(extra or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | Iterable[bytes] | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
        ok: tuple[int, ...] = (200, 201, 204),
    ) -> httpx.Response:
        try:
            response = self.http.request(
                method,
                path,
                json=json,
                content=content,
                headers=self._headers(headers),
                params=params,
            )
        except httpx.TransportError as exc:
            raise NetworkError(
                f"Cannot reach the wallet server at {self.server}. Check the address and your network."
            ) from exc
        if response.status_code not in ok:
            raise error_from(response)
        return response

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.request(method, API + path, **kwargs)

    def stream(self, path: str, headers: dict[str, str] | None = None) -> Any:
        return self.http.stream("GET", API + path, headers=self._headers(headers))


def error_from(response: httpx.Response) -> ApiError:
    code = ""
    try:
        body = response.json()
        message = body.get("detail") or response.reason_phrase
        code = str(body.get("code") or "")
    except (ValueError, AttributeError):
        message = response.reason_phrase or f"HTTP {response.status_code}"
    retry = response.headers.get("retry-after")
    return ApiError(
        response.status_code,
        str(message),
        int(retry) if retry and retry.isdigit() else None,
        code,
    )
