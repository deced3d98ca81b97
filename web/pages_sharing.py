"""The sharing pages: share (links and standing access), my links, my grants, received, the
journal, and the link page /s/<id> that anyone with a link opens without an account.

The link page is the same HTML for every id (in a given language): the id and the secret are
read by the script from the address bar, and the secret (after #) never reaches the server.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse

from web.pages import (
    PROFILE_FORM,
    grouped_document_types,
    render,
)

router = APIRouter(include_in_schema=False)


def _fields() -> list[tuple[str, str]]:
    """The profile fields with the profile page's labels (already translated)."""
    return [(name, label) for name, label, _kind in PROFILE_FORM]


def render_link_page(request: Request) -> HTMLResponse:
    """The page never names the link id (not even in the language form's return path), so
    every link, live, dead or unknown, gets the very same page."""
    return render(
        request, "link.html", "link", path="/", headers={"X-Robots-Tag": "noindex, nofollow"}
    )


@router.get("/s/{link_id}")
def link_page(request: Request, link_id: Annotated[str, PathParam(max_length=64)]) -> HTMLResponse:
    """Opening this page consumes nothing: the script previews first, and redeems only when
    the person presses "Open the documents"."""
    return render_link_page(request)


def _share_context() -> dict[str, Any]:
    return {"document_types": grouped_document_types(), "profile_fields": _fields()}


@router.get("/share")
def share(request: Request) -> HTMLResponse:
    return render(request, "share.html", "share", **_share_context())


@router.get("/links")
def links(request: Request) -> HTMLResponse:
    return render(request, "links.html", "links")


@router.get("/grants")
def grants(request: Request) -> HTMLResponse:
    return render(request, "grants.html", "grants")


@router.get("/received")
def received(request: Request) -> HTMLResponse:
    return render(request, "received.html", "received")


@router.get("/journal")
def journal(request: Request) -> HTMLResponse:
    return render(request, "journal.html", "journal")
