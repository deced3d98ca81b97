"""The public page a mandate attestation's QR code opens: valid until when, or ended, and
nothing else (no name, no document). JSON on request, for scripts."""

from __future__ import annotations

from datetime import UTC

from babel.dates import format_datetime
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from sharing.mandates import service as mandates
from sharing.mandates.schemas import MandateCheck
from wallet.deps import DB
from web.pages import page_language, render

router = APIRouter(include_in_schema=False)


@router.get("/mandates/check/{mandate_id}", response_model=None)
def check_page(
    mandate_id: str, request: Request, db: DB, c: str = Query(default="", max_length=64)
) -> Response:
    """What the attestation's QR code opens: valid until when, or ended. JSON on request."""
    valid, state, until, message = mandates.check(db, mandate_id, c)
    if "application/json" in request.headers.get("accept", ""):
        body = MandateCheck(valid=valid, state=state, until=until, message=message)
        return JSONResponse(
            body.model_dump(mode="json"),
            headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
        )
    until_text = (
        format_datetime(until, "d MMMM y, HH:mm", tzinfo=UTC, locale=page_language(request))
        if until is not None
        else ""
    )
    return render(
        request,
        "mandate_check.html",
        "mandate_check",
        # The language form comes back to this very check.
        path=f"{request.url.path}?{request.url.query}" if request.url.query else None,
        page_script=False,
        state=state,
        until=until_text,
    )
