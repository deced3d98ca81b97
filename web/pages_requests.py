"""The owner's request and contact-note pages: /requests (answer a worker's request for
documents in one step) and /notes (contact notes, with the journal for an appeal).

Everything on them is opened, checked and sealed by the scripts (web/src/requests.js,
web/src/notes.js); the server sends the same empty page to everyone.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from web.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/requests")
def requests_page(request: Request) -> HTMLResponse:
    return render(request, "requests.html", "requests")


@router.get("/notes")
def notes_page(request: Request) -> HTMLResponse:
    return render(request, "notes.html", "notes")
