"""The account page: change the passphrase, see one's own safety code, delete the wallet.

Everything that touches keys runs in the browser (web/src/account.js): the page itself holds
no data and is the same for everyone.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from web.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/account")
def account(request: Request) -> HTMLResponse:
    return render(request, "account.html", "account")


@router.get("/wallet-card")
def wallet_card(request: Request) -> HTMLResponse:
    """The printable wallet card: the wallet name as text and QR code (web/src/card.js)."""
    return render(request, "wallet_card.html", "wallet_card")


@router.get("/safety")
def safety(request: Request) -> HTMLResponse:
    """The emergency reset (web/src/pages/safety.js does every step in the browser)."""
    return render(request, "safety.html", "safety")


@router.get("/emergency")
def emergency(request: Request) -> HTMLResponse:
    """Emergency access: trusted people, their requests, and for a helper the owner's papers
    (web/src/pages/emergency.js does every key step in the browser)."""
    return render(request, "emergency.html", "emergency")
