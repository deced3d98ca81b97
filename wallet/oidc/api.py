"""Thin router for worker login through the organisation's OpenID Connect provider. The
provider's redirect back (the callback, a page for a browser) is in web/pages_oidc.py."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Response, status
from fastapi.responses import RedirectResponse

from wallet.accounts.schemas import AccountOut, KdfParams
from wallet.deps import DB, Address, AppSettings, FullCaller
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

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@router.get("", response_model=OidcStatus)
def oidc_status(settings: AppSettings) -> OidcStatus:
    """Public: tells a login page whether to offer 'Sign in with your organisation'."""
    if not service.enabled(settings):
        return OidcStatus(enabled=False)
    return OidcStatus(
        enabled=True,
        issuer=settings.oidc_issuer,
        start_url=settings.public_url.rstrip("/") + service.COOKIE_PATH + "/start",
    )


@router.get("/start", status_code=status.HTTP_302_FOUND, response_class=RedirectResponse)
def start_login(db: DB, settings: AppSettings, address: Address) -> RedirectResponse:
    """Public: sends the browser to the organisation's sign-in page."""
    browser_secret = secrets.token_urlsafe(32)
    url = service.start(db, settings, service.LOGIN, browser_secret=browser_secret, address=address)
    response = RedirectResponse(url, status_code=status.HTTP_302_FOUND, headers=NO_STORE)
    response.set_cookie(
        service.BROWSER_COOKIE,
        browser_secret,
        max_age=settings.oidc_login_minutes * 60,
        path=service.COOKIE_PATH,
        httponly=True,
        secure=settings.public_url.startswith("https://"),
        samesite="lax",  # the provider's redirect back is a top-level GET: Lax sends it
    )
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
def start_link(caller: FullCaller, db: DB, settings: AppSettings, address: Address) -> LinkStartOut:
    url = service.start(db, settings, service.LINK, account=caller.account, address=address)
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
