"""Admission: at most N requests run at once in this process; the others wait in line.

Past about 100 requests in flight, a process used to collapse: each request held a database
connection while it waited for a worker thread, the threads waited for connections, and the
pool's 30 s timeout ended in 500s. Letting in no more requests than there are connections and
threads keeps every admitted request fast; one that waits longer than the queue time gets a
503 "busy" with Retry-After, which a client can act on.

Pure ASGI, so streamed bodies are not buffered. A place is given back as soon as the answer
starts: a download streams its bytes without a database connection, and a slow phone must not
keep others out. Liveness, readiness and metrics never wait in line.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Any

from fastapi.responses import JSONResponse

from wallet.errors import BUSY, BUSY_RETRY_AFTER

NEVER_QUEUED = frozenset({"/healthz", "/readyz", "/metrics"})
BUSY_CODE = "busy"
# Requests that cost the server an Argon2id hash (tens of ms of CPU and 16 MiB each): a line
# of their own, so a burst of logins cannot fill every place while listings wait behind it.
COSTLY = frozenset(
    {
        ("POST", "/api/v1/auth/login"),
        ("POST", "/api/v1/auth/recover"),
        ("POST", "/api/v1/auth/oidc/exchange"),
        ("POST", "/api/v1/accounts"),
        ("POST", "/api/v1/accounts/me/delete"),
        ("PUT", "/api/v1/accounts/me/passphrase"),
    }
)


def busy_response(retry_after: int = BUSY_RETRY_AFTER) -> JSONResponse:
    return JSONResponse(
        {"detail": BUSY, "code": BUSY_CODE},
        status_code=503,
        headers={"Retry-After": str(retry_after)},
    )


class Places:
    """A fair (first come, first served) count of free places."""

    def __init__(self, places: int) -> None:
        self.size = places
        self._free = places
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def in_use(self) -> int:
        return self.size - self._free

    @property
    def waiting(self) -> int:
        return sum(1 for waiter in self._waiters if not waiter.done())

    async def take(self, patience: float) -> bool:
        """True once a place is ours; False after `patience` seconds in line."""
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return True
        if patience <= 0:
            return False
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(patience):
                await waiter
        except TimeoutError:
            pass
        except BaseException:  # the client left while in line
            self._forget(waiter)
            raise
        if waiter.done() and not waiter.cancelled():
            return True
        self._forget(waiter)
        return False

    def give_back(self) -> None:
        # Straight to the first in line, so nobody who arrives later can jump ahead.
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._free += 1

    def _forget(self, waiter: asyncio.Future[None]) -> None:
        if waiter.done() and not waiter.cancelled():
            self.give_back()  # it was handed to us as we gave up: pass it on
            return
        waiter.cancel()
        with contextlib.suppress(ValueError):
            self._waiters.remove(waiter)


class AdmissionMiddleware:
    def __init__(
        self, inner: Any, places: int, queue_seconds: float, costly_places: int = 0
    ) -> None:
        self._inner = inner
        self.places = Places(places) if places > 0 else None
        self.costly = Places(costly_places) if places > 0 and costly_places > 0 else None
        self._queue_seconds = queue_seconds

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        places = self.places
        if places is None or scope["type"] != "http" or scope["path"] in NEVER_QUEUED:
            await self._inner(scope, receive, send)
            return
        costly = self.costly if (scope["method"], scope["path"]) in COSTLY else None
        deadline = asyncio.get_running_loop().time() + self._queue_seconds
        # The costly line first, so a login waiting there holds no general place.
        if costly is not None and not await costly.take(self._queue_seconds):
            await busy_response()(scope, receive, send)
            return
        patience = deadline - asyncio.get_running_loop().time()
        if not await places.take(patience):
            if costly is not None:
                costly.give_back()
            await busy_response()(scope, receive, send)
            return
        held = True

        def release() -> None:
            nonlocal held
            if held:
                held = False
                places.give_back()
                if costly is not None:
                    costly.give_back()

        async def send_and_release(message: dict) -> None:
            if message["type"] == "http.response.start":
                release()
            await send(message)

        try:
            await self._inner(scope, receive, send_and_release)
        finally:
            release()
