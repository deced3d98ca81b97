"""Kiosk, meeting, inbox and proxy pages, and the kiosk's end-of-session endpoint.

Kiosk mode (a public computer in a shelter or a library) is a session cookie, `wallet_kiosk=1`,
set by GET /kiosk. The page script (web/src/kiosk.js) reads it, runs the idle countdown and, on
"End session" or at the timeout, wipes the tab: keys and documents in memory, the server
session, every cookie and every storage API (POST /web/kiosk/end sends Clear-Site-Data), and
the tab's history (kiosk navigation replaces entries instead of adding them).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse

from wallet.accounts import service as accounts
from wallet.deps import CROSS_SITE, DB, from_this_site
from wallet.errors import Forbidden, Unauthorized
from web.i18n import LANGUAGE_COOKIE
from web.pages import SESSION_COOKIE, grouped_document_types, render

KIOSK_COOKIE = "wallet_kiosk"
KIOSK_IDLE_COOKIE = "wallet_kiosk_idle"
# A shorter timeout is only for tests and demonstrations; a longer one defeats the purpose.
MIN_IDLE_SECONDS = 5
MAX_IDLE_SECONDS = 1800
# Chromium honours these three on any response of a secure origin (and 127.0.0.1/localhost).
CLEAR_SITE_DATA = '"cache", "cookies", "storage"'

router = APIRouter(include_in_schema=False)


def idle_seconds(asked: int | None, configured: int) -> int:
    """The idle timeout: ?idle= within bounds, else the server setting (3 minutes by default)."""
    if asked is not None and MIN_IDLE_SECONDS <= asked <= MAX_IDLE_SECONDS:
        return asked
    return configured


@router.get("/kiosk")
def kiosk(request: Request, idle: Annotated[int | None, Query()] = None) -> HTMLResponse:
    seconds = idle_seconds(idle, request.app.state.settings.kiosk_idle_seconds)
    response = render(request, "kiosk.html", "kiosk", idle_seconds=seconds, kiosk_mode=True)
    # Session cookies (no expiry): closing the browser forgets them. They hold no secret, and
    # the page script reads them to know it runs on a public computer.
    for name, value in ((KIOSK_COOKIE, "1"), (KIOSK_IDLE_COOKIE, str(seconds))):
        response.set_cookie(
            name, value, samesite="strict", secure=request.url.scheme == "https", path="/"
        )
    return response


@router.post("/web/kiosk/end", status_code=204)
def end_kiosk_session(request: Request, db: DB) -> Response:
    """Ends the server session and tells the browser to drop every cookie, cache and storage."""
    if not from_this_site(request):
        # Another site's form must not wipe this site's data (a logout by cross-site request),
        # with or without a session: Clear-Site-Data acts on the whole origin.
        raise Forbidden(CROSS_SITE)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        try:
            _account, session = accounts.authenticate(db, token)
        except Unauthorized:
            session = None
        if session is not None:
            accounts.logout(db, session)
    response = Response(
        status_code=204,
        headers={"Cache-Control": "no-store", "Clear-Site-Data": CLEAR_SITE_DATA},
    )
    # Also delete them by name, for a browser that ignores Clear-Site-Data.
    for name in (SESSION_COOKIE, LANGUAGE_COOKIE, KIOSK_COOKIE, KIOSK_IDLE_COOKIE):
        response.delete_cookie(name, path="/", samesite="strict")
    return response


@router.get("/meeting")
def meeting(request: Request) -> HTMLResponse:
    return render(request, "meeting.html", "meeting")


@router.get("/inbox")
def inbox(request: Request) -> HTMLResponse:
    return render(request, "inbox.html", "inbox")


@router.get("/proxy")
def proxy(request: Request) -> HTMLResponse:
    return render(request, "proxy.html", "proxy")


@router.get("/proxy/for/{mandate_id}")
def proxy_for(
    request: Request, mandate_id: Annotated[str, PathParam(pattern=r"^[0-9a-f]{32}$")]
) -> HTMLResponse:
    return render(
        request,
        "proxy_for.html",
        "proxy_for",
        mandate_id=mandate_id,
        document_types=grouped_document_types(),
    )
