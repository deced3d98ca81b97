"""The organisation's sign-in service sends the browser back here (the OpenID Connect callback).

A browser gets a translated page with the one-time code; a script (Accept: application/json)
the same answer as JSON. The URL stays under /api/v1: it is registered with every provider.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from wallet.deps import DB, AppSettings
from wallet.errors import WalletError
from wallet.oidc import service
from wallet.oidc.schemas import CallbackOut
from web.pages import render

router = APIRouter(tags=["oidc"])

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
Text = Annotated[str, Query(max_length=2048)]


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept


def _page(request: Request, status_code: int = 200, **context: object) -> Response:
    # The language form leads to the start page: this URL works once. With a code, the page's
    # script asks for the passphrase and opens the wallet in this tab (web/src/pages/oidc.js).
    return render(
        request,
        "oidc.html",
        "oidc",
        status_code=status_code,
        path="/",
        headers={"Pragma": "no-cache"},
        page_script=context.get("outcome") == "code",
        **context,
    )


@router.get(
    service.CALLBACK_PATH,
    response_model=None,
    responses={
        200: {
            "description": "The one-time code: JSON for a program, a page for a browser.",
            "content": {
                "application/json": {"schema": CallbackOut.model_json_schema()},
                "text/html": {"schema": {"type": "string"}},
            },
        }
    },
)
def callback(
    request: Request,
    db: DB,
    settings: AppSettings,
    code: Text = "",
    state: Text = "",
    error: Annotated[str, Query(max_length=100)] = "",
    iss: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response:
    """Public: the provider sends the browser back here. The answer holds a one-time code."""
    as_html = _wants_html(request)
    try:
        if error:
            raise service.refused_at_provider(settings, error, iss)
        if not code or not state:
            raise service.state_unknown()
        result = service.callback(
            db,
            settings,
            code=code,
            state=state,
            browser_secret=request.cookies.get(service.BROWSER_COOKIE),
            iss=iss,
        )
    except WalletError as exc:
        if not as_html:
            raise
        # The page answers normally, so the request would commit: undo what the refusal left.
        db.rollback()
        return _page(request, exc.status_code, outcome="failed", message=exc.message)
    response: Response
    if not as_html:
        body = {
            "purpose": result.purpose,
            "handle": result.account_handle,
            "code": result.exchange_code,
            "expires_in": service.EXCHANGE_MINUTES * 60,
        }
        response = JSONResponse(body, headers=NO_STORE)
    elif result.exchange_code is None:
        response = _page(request, outcome="linked", handle=result.account_handle)
    else:
        response = _page(
            request,
            outcome="code",
            code=result.exchange_code,
            minutes=service.EXCHANGE_MINUTES,
        )
    response.delete_cookie(service.BROWSER_COOKIE, path=service.COOKIE_PATH)
    return response
