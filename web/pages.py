"""The web pages: server-rendered Jinja2 templates, one JavaScript entry per page.

The owner's pages form one JavaScript realm: the browser script swaps <main> between pages
(web/src/shell.js), so the unlocked keys stay in memory while the person moves around, and
are gone on a reload, a logout or when the tab closes. See web/README.md.
"""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

from wallet.accounts import service as accounts
from wallet.deps import CROSS_SITE, DB, AppSettings, from_this_site
from wallet.errors import Forbidden, Unauthorized
from wallet.protocol.catalogue import DOCUMENT_TYPES, PROCEDURE_CATEGORIES
from web.i18n import LANGUAGE_COOKIE, LANGUAGES, negotiate, text_direction, translations

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"
SESSION_COOKIE = "wallet_session"
LANGUAGE_COOKIE_DAYS = 365

# The pages' Content-Security-Policy: no inline script or style anywhere; WebAssembly for
# Argon2id; blob: for a decrypted file shown in an <img> or <iframe>.
PAGE_CSP = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
    "img-src 'self' blob: data:; media-src 'self' blob:; object-src 'none'; "
    "frame-src 'self' blob:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

router = APIRouter(include_in_schema=False)


def mount_static(app: Any) -> None:
    app.mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")


def _environment(language: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(WEB_DIR / "templates"),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.globals["text_direction"] = text_direction
    return env


_ENVIRONMENTS = {language: _environment(language) for language in LANGUAGES}


def web_kdf_floor(request: Request) -> str:
    """Test servers lower the browser's Argon2id floor; production never sets this."""
    return str(request.app.state.settings.web_kdf_floor)


def page_language(request: Request) -> str:
    return negotiate(
        request.cookies.get(LANGUAGE_COOKIE), request.headers.get("accept-language", "")
    )


def render(
    request: Request,
    template: str,
    page: str,
    *,
    status_code: int = 200,
    path: str | None = None,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """A translated page with the pages' CSP. `path` is where the language form returns to
    (the request's path unless a page must not name it)."""
    language = page_language(request)
    html = (
        _ENVIRONMENTS[language]
        .get_template(template)
        .render(
            lang=language,
            languages=LANGUAGES,
            page=page,
            path=request.url.path if path is None else path,
            kdf_floor=web_kdf_floor(request),
            **context,
        )
    )
    return HTMLResponse(
        html,
        status_code=status_code,
        headers={
            "Content-Security-Policy": PAGE_CSP,
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            **(headers or {}),
            "Content-Language": language,
            "Vary": "Cookie, Accept-Language",
        },
    )


def wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


@router.get("/")
def start(request: Request) -> Response:
    if not wants_html(request):
        # Scripts and monitoring keep getting the short service description.
        return JSONResponse(
            {
                "service": "Personal document wallet",
                "status": "running",
                "api": "/api/v1",
                "openapi": "/openapi.json",
            }
        )
    return render(request, "start.html", "start")


@router.get("/register")
def register(request: Request) -> HTMLResponse:
    return render(request, "register.html", "register")


@router.get("/recovery-sheet")
def recovery_sheet(request: Request) -> HTMLResponse:
    return render(request, "recovery_sheet.html", "recovery_sheet")


@router.get("/login")
def login(request: Request) -> HTMLResponse:
    return render(request, "login.html", "login")


@router.get("/documents")
def documents(request: Request) -> HTMLResponse:
    return render(request, "documents.html", "documents")


def grouped_document_types() -> list[tuple[str, str, list[tuple[str, str]]]]:
    """Document types under their procedure category, in the catalogue's order."""
    groups = []
    for category, category_label in PROCEDURE_CATEGORIES.items():
        items = [(name, label) for name, (cat, label) in DOCUMENT_TYPES.items() if cat == category]
        if items:
            groups.append((category, category_label, items))
    return groups


# The profile record's fields (wallet/protocol/catalogue.py) with their labels and input kind.
PROFILE_FORM = [
    ("first_name", "First name", "text"),
    ("last_name", "Last name", "text"),
    ("birth_date", "Date of birth", "date"),
    ("national_number", "National register number", "text"),
    ("civil_status", "Civil status", "text"),
    ("children", "Children", "textarea"),
    ("address", "Address", "textarea"),
    ("employer", "Employer", "text"),
]


@router.get("/documents/new")
def upload(request: Request) -> HTMLResponse:
    return render(request, "upload.html", "upload", document_types=grouped_document_types())


@router.get("/documents/{document_id}")
def document(
    request: Request, document_id: Annotated[str, PathParam(pattern=r"^[0-9a-f]{32}$")]
) -> HTMLResponse:
    return render(request, "document.html", "document", document_id=document_id)


@router.get("/profile")
def profile(request: Request) -> HTMLResponse:
    return render(request, "profile.html", "profile", profile_fields=PROFILE_FORM)


def _safe_next(target: str) -> str:
    """Only a path on this site: never an open redirect."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@router.post("/language")
def choose_language(
    request: Request,
    language: Annotated[str, Form()],
    next_path: Annotated[str, Form(alias="next")] = "/",
) -> Response:
    response = RedirectResponse(_safe_next(next_path), status_code=303)
    if language in LANGUAGES:
        # A kiosk asks for a session cookie: the next person starts in the default language.
        kiosk = request.cookies.get("wallet_kiosk") == "1"
        response.set_cookie(
            LANGUAGE_COOKIE,
            language,
            max_age=None if kiosk else LANGUAGE_COOKIE_DAYS * 86400,
            samesite="strict",
            secure=_secure(request),
            httponly=True,
            path="/",
        )
    return response


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


@router.post("/web/session", status_code=204)
def start_cookie_session(request: Request, db: DB, settings: AppSettings) -> Response:
    """Turns a session token the page just received into an HttpOnly cookie.

    The page then forgets the token, so a script injected later cannot read it.
    """
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("Please log in first.")
    _account, session = accounts.authenticate(db, token.strip())
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    expires = session.expires_at.replace(tzinfo=UTC)
    # kiosk mode (web/pages_kiosk.py): a session cookie, gone when the browser closes.
    kiosk = request.cookies.get("wallet_kiosk") == "1"
    response.set_cookie(
        SESSION_COOKIE,
        token.strip(),
        expires=None if kiosk else expires,
        httponly=True,
        samesite="strict",
        secure=_secure(request) or settings.public_url.startswith("https://"),
        path="/",
    )
    return response


@router.post("/web/logout", status_code=204)
def end_cookie_session(request: Request, db: DB) -> Response:
    """Ends the session on the server and removes the cookie. Works even if already ended.
    Only from the wallet's own pages: another page (a sibling subdomain) must not log you out."""
    token = request.cookies.get(SESSION_COOKIE)
    if token and not from_this_site(request):
        raise Forbidden(CROSS_SITE)
    if token:
        try:
            _account, session = accounts.authenticate(db, token)
        except Unauthorized:
            session = None
        if session is not None:
            accounts.logout(db, session)
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    response.delete_cookie(SESSION_COOKIE, path="/", samesite="strict", httponly=True)
    return response
