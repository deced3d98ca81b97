"""Pages for organisations and the things only the command line did before:

- `/orgs` (the organisations this person works in, and a new one), `/orgs/{org}` (members and
  roles: add, remove with a new team key, make admin or worker; admins only change anything);
- `/o/{org}` (an organisation's public page: its name, team safety code and admins, for an
  owner to check an office before giving it access);
- `/requests/new` (a worker asks a person for documents, from the inbox);
- `/grants/org` (an owner gives an organisation's team standing access);
- `/backup` (the owner's full export, as one zip of age files built in the browser).

Everything is opened, checked, sealed and signed by the scripts (web/src/teams.js,
web/src/grants.js, web/src/requests.js, web/src/export.js); the server sends the same page to
everyone.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse

from web.pages import PROFILE_FORM, grouped_document_types, render

router = APIRouter(include_in_schema=False)


@router.get("/orgs")
def orgs_page(request: Request) -> HTMLResponse:
    return render(request, "orgs.html", "orgs")


@router.get("/orgs/{org}")
def org_page(
    request: Request, org: Annotated[str, PathParam(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
) -> HTMLResponse:
    return render(request, "org.html", "org", org=org)


@router.get("/o/{org}")
def org_public_page(
    request: Request, org: Annotated[str, PathParam(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
) -> HTMLResponse:
    """Anyone with an account checks an office before trusting it: name, safety code, admins."""
    return render(request, "org_public.html", "org_public", org=org)


@router.get("/requests/new")
def new_request_page(request: Request) -> HTMLResponse:
    return render(
        request, "request_new.html", "request_new", document_types=grouped_document_types()
    )


@router.get("/grants/org")
def org_grant_page(request: Request) -> HTMLResponse:
    return render(
        request,
        "grant_org.html",
        "grant_org",
        document_types=grouped_document_types(),
        profile_fields=[(name, label) for name, label, _kind in PROFILE_FORM],
    )


@router.get("/backup")
def backup_page(request: Request) -> HTMLResponse:
    return render(request, "backup.html", "backup")
