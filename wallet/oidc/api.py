"""Thin router for worker login through the organisation's OpenID Connect provider."""

from __future__ import annotations

import html
import secrets
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from wallet.accounts.schemas import AccountOut, KdfParams
from wallet.deps import DB, Address, AppSettings, FullCaller
from wallet.errors import WalletError
from wallet.oidc import service
from wallet.oidc.schemas import (
    ExchangeCode,
    ExchangeParams,
    ExchangeRequest,
    LinkOut,
    LinkStartOut,
    OidcSessionOut,
    OidcStatus,
)

router = APIRouter(prefix="/auth/oidc", tags=["oidc"])

BROWSER_COOKIE = "wallet_oidc_browser"
COOKIE_PATH = "/api/v1/auth/oidc"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
Text = Annotated[str, Query(max_length=2048)]


@router.get("", response_model=OidcStatus)
def oidc_status(settings: AppSettings) -> OidcStatus:
    """Public: tells a login page whether to offer 'Sign in with your organisation'."""
    if not service.enabled(settings):
        return OidcStatus(enabled=False)
    return OidcStatus(
        enabled=True,
        issuer=settings.oidc_issuer,
        start_url=settings.public_url.rstrip("/") + COOKIE_PATH + "/start",
    )


@router.get("/start", status_code=status.HTTP_302_FOUND, response_class=RedirectResponse)
def start_login(db: DB, settings: AppSettings) -> RedirectResponse:
    """Public: sends the browser to the organisation's sign-in page."""
    browser_secret = secrets.token_urlsafe(32)
    url = service.start(db, settings, service.LOGIN, browser_secret=browser_secret)
    response = RedirectResponse(url, status_code=status.HTTP_302_FOUND, headers=NO_STORE)
    response.set_cookie(
        BROWSER_COOKIE,
        browser_secret,
        max_age=settings.oidc_login_minutes * 60,
        path=COOKIE_PATH,
        httponly=True,
        secure=settings.public_url.startswith("https://"),
        samesite="lax",  # the provider's redirect back is a top-level GET: Lax sends it
    )
    return response


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept


def _page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head><body><main>"
        f"<h1>{html.escape(title)}</h1>{body}</main></body></html>"
    )
    return HTMLResponse(page, status_code=status_code, headers=NO_STORE)


@router.get("/callback", response_model=None)
def callback(
    request: Request,
    db: DB,
    settings: AppSettings,
    code: Text = "",
    state: Text = "",
    error: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    """Public: the provider sends the browser back here. The answer holds a one-time code."""
    as_html = _wants_html(request)
    try:
        if error:
            raise service.provider_error(error)
        if not code or not state:
            raise service.state_unknown()
        result = service.callback(
            db,
            settings,
            code=code,
            state=state,
            browser_secret=request.cookies.get(BROWSER_COOKIE),
        )
    except WalletError as exc:
        if not as_html:
            raise
        return _page("Sign-in did not work", f"<p>{html.escape(exc.message)}</p>", exc.status_code)
    body = {
        "purpose": result.purpose,
        "handle": result.account_handle,
        "code": result.exchange_code,
        "expires_in": service.EXCHANGE_MINUTES * 60,
    }
    if as_html:
        if result.exchange_code is None:
            content = (
                f"<p>Your organisation's sign-in is now linked to the wallet account "
                f"<strong>{html.escape(result.account_handle)}</strong>. "
                "If this is not your account, unlink it in your settings now.</p>"
            )
            response: Response = _page("Sign-in linked", content)
        else:
            content = (
                "<p>Type this one-time code in the wallet app. It works once, for "
                f"{service.EXCHANGE_MINUTES} minutes:</p>"
                f"<p><code>{html.escape(result.exchange_code)}</code></p>"
                "<p>You still need your passphrase to open your documents.</p>"
            )
            response = _page("Almost there", content)
    else:
        response = JSONResponse(body, headers=NO_STORE)
    response.delete_cookie(BROWSER_COOKIE, path=COOKIE_PATH)
    return response


@router.post("/exchange/params", response_model=ExchangeParams)
def exchange_params(data: ExchangeCode, db: DB) -> ExchangeParams:
    """Public: whose code this is and the KDF parameters, so the client can derive the passphrase
    proof. Uses nothing."""
    account = service.exchange_params(db, data.code)
    return ExchangeParams(
        handle=account.handle,
        kdf=KdfParams(
            salt=account.kdf_salt, opslimit=account.kdf_opslimit, memlimit=account.kdf_memlimit
        ),
    )


@router.post("/exchange", response_model=OidcSessionOut)
def exchange(
    data: ExchangeRequest, db: DB, settings: AppSettings, address: Address
) -> OidcSessionOut:
    """Public: the one-time code from the callback page plus the passphrase proof become a
    session, once."""
    token, session, account = service.exchange(db, settings, data.code, data.auth_key, address)
    return OidcSessionOut(
        token=token,
        kind=session.kind,
        expires_at=session.expires_at,
        account=AccountOut.model_validate(account, from_attributes=True),
        kdf=KdfParams(
            salt=account.kdf_salt, opslimit=account.kdf_opslimit, memlimit=account.kdf_memlimit
        ),
    )


@router.post("/link/start", response_model=LinkStartOut)
def start_link(caller: FullCaller, db: DB, settings: AppSettings) -> LinkStartOut:
    url = service.start(db, settings, service.LINK, account=caller.account)
    return LinkStartOut(authorization_url=url)


@router.get("/link", response_model=LinkOut)
def link_status(caller: FullCaller, db: DB) -> LinkOut:
    identity = service.linked_identity(db, caller.account)
    if identity is None:
        return LinkOut(linked=False)
    return LinkOut(
        linked=True,
        issuer=identity.issuer,
        linked_at=identity.created_at,
        last_login_at=identity.last_login_at,
    )


@router.delete("/link", status_code=status.HTTP_204_NO_CONTENT)
def unlink(caller: FullCaller, db: DB) -> Response:
    service.unlink(db, caller.account)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
