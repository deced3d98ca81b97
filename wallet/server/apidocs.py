"""/docs (Swagger UI) and /redoc, when the operator turns them on (WALLET_API_DOCS).

FastAPI's own pages load their scripts from a public CDN. These load the same pages' scripts
from the wallet itself (the files the PyPI package fastapi-offline ships, pinned with the
wallet), under a Content-Security-Policy that allows this origin only and the one inline script
FastAPI writes, by its hash: no third-party code on the wallet's origin.
"""

from __future__ import annotations

import base64
import hashlib
import re
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs/assets"
ASSETS_DIR = Path(str(files("fastapi_offline") / "static"))
# The docs only read the description and, with "Try it out", call this origin's API. Swagger
# UI's validator badge would load an image from swagger.io: it is turned off.
SWAGGER_PARAMETERS = {"validatorUrl": None}
_INLINE = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _csp(html: str) -> str:
    scripts = ["'self'"] + [
        f"'sha256-{base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()}'"
        for body in _INLINE.findall(html)
    ]
    # Both pages set styles from script (ReDoc's styled-components writes <style> elements);
    # ReDoc's search runs in a worker it builds from a blob.
    return (
        f"default-src 'none'; script-src {' '.join(scripts)}; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
        "connect-src 'self'; worker-src 'self' blob:; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )


def _page(page: HTMLResponse) -> HTMLResponse:
    html = bytes(page.body).decode()
    headers = {"Content-Security-Policy": _csp(html), "Cache-Control": "no-store"}
    return HTMLResponse(html, headers=headers)


def install(app: FastAPI) -> None:
    """Adds /docs, /redoc and their assets (call only when the operator turned them on)."""
    title = app.title
    openapi_url = app.openapi_url or "/openapi.json"
    app.mount(ASSETS, StaticFiles(directory=ASSETS_DIR), name="api-docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return _page(
            get_swagger_ui_html(
                openapi_url=openapi_url,
                title=f"{title} - API",
                swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
                swagger_css_url=f"{ASSETS}/swagger-ui.css",
                swagger_favicon_url=f"{ASSETS}/favicon.png",
                swagger_ui_parameters=SWAGGER_PARAMETERS,
            )
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return _page(
            get_redoc_html(
                openapi_url=openapi_url,
                title=f"{title} - API",
                redoc_js_url=f"{ASSETS}/redoc.standalone.js",
                redoc_favicon_url=f"{ASSETS}/favicon.png",
                with_google_fonts=False,
            )
        )
