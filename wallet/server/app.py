"""The app factory. Lifespan objects (engine, blob store, sweeper) live on app.state."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import iter_route_contexts
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from sharing.emergency.api import router as emergency_router
from sharing.grants.api import router as grants_router
from sharing.inbox.api import router as inbox_router
from sharing.links.api import router as links_router
from sharing.mandates.api import router as mandates_router
from sharing.notes.api import router as notes_router
from sharing.organisations.api import router as organisations_router
from sharing.requests.api import router as requests_router
from storage.base import StorageUnavailable
from storage.factory import make_store
from wallet import __version__
from wallet.accounts import service as accounts
from wallet.accounts.api import router as accounts_router
from wallet.db import is_empty, make_engine, migrate
from wallet.documents.api import router as documents_router
from wallet.errors import (
    BUSY,
    BUSY_RETRY_AFTER,
    DATABASE_DOWN,
    STORAGE_DOWN,
    NotFound,
    WalletError,
    is_overload,
)
from wallet.health.api import router as health_router
from wallet.health.checks import Readiness
from wallet.journal.api import router as journal_router
from wallet.logging import configure_logging
from wallet.oidc.api import router as oidc_router
from wallet.profile.api import router as profile_router
from wallet.safety.api import router as safety_router
from wallet.server import hooks
from wallet.server.admission import AdmissionMiddleware
from wallet.server.apidocs import install as install_api_docs
from wallet.server.budget import background_limits, request_limits
from wallet.server.disk import DISK_FULL, is_disk_full
from wallet.server.limits import BodyLimitMiddleware, BodyTooLarge
from wallet.server.meta import check_at_start
from wallet.server.openapi import install as install_openapi
from wallet.server.sweeper import sweep
from wallet.server.vitals import Vitals
from wallet.settings import Settings
from wallet.uploads.api import router as uploads_router
from wallet.vaulthead.api import router as vault_head_router
from web.pages import PAGE_CSP, mount_static
from web.pages import router as web_pages_router
from web.pages_account import router as account_pages_router
from web.pages_kiosk import router as kiosk_pages_router
from web.pages_mandates import router as mandate_pages_router
from web.pages_oidc import router as oidc_callback_router
from web.pages_org import router as org_pages_router
from web.pages_requests import router as requests_pages_router
from web.pages_sharing import router as sharing_pages_router

log = structlog.get_logger(__name__)
API_PREFIX = "/api/v1"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "wallet_http_requests_total",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "wallet_http_request_seconds",
            "HTTP request time",
            ["method", "route"],
            registry=self.registry,
        )


def _error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    return JSONResponse(
        {"detail": message, "code": code, **extra}, status_code=status, headers=headers
    )


def _field_name(location: tuple[Any, ...]) -> str:
    parts = [str(p) for p in location if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


NOT_ALLOWED = "This address does not take {method}. It takes {allowed}."
# FastAPI's 400 for a body it could not decode at all (not UTF-8, for one).
FASTAPI_BODY_UNREADABLE = "There was an error parsing the body"


def _not_json() -> JSONResponse:
    return _error(
        422,
        "invalid",
        "The request body is not valid JSON. Check what your app sends.",
        errors=[{"field": "body", "message": "not valid JSON"}],
    )


def allowed_methods(request: Request) -> str:
    """Every method the path has, across all its routes: Starlette's 405 names only the first
    route it matched (GET /api/v1/documents hid POST)."""
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.router.routes):
        match, _child = route.matches(request.scope)
        if match != Match.NONE:
            methods |= set(route.methods or ())
    return ", ".join(sorted(methods))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Routing's own 404 and 405, in the same shape as every other error.
        headers = dict(exc.headers or {})
        if exc.status_code == 404:
            return _error(404, NotFound.code, NotFound().message, headers)
        if exc.status_code == 400 and exc.detail == FASTAPI_BODY_UNREADABLE:
            return _not_json()  # a JSON body that is not UTF-8: the same answer as bad JSON
        if exc.status_code == 405:
            allowed = allowed_methods(request)
            headers["Allow"] = allowed
            message = NOT_ALLOWED.format(method=request.method, allowed=allowed)
            return _error(405, "method_not_allowed", message, headers)
        return _error(exc.status_code, "http_error", str(exc.detail), headers)

    @app.exception_handler(WalletError)
    async def wallet_error(_request: Request, exc: WalletError) -> JSONResponse:
        return _error(exc.status_code, exc.code, exc.message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _field_name(tuple(e.get("loc", ()))), "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"field": "body", "message": "not valid"}
        message = f"The field '{first['field']}' is not valid: {first['message']}."
        if exc.errors() and exc.errors()[0].get("type") == "json_invalid":
            # Its location is a character position, not a field: "The field '14'" helps nobody.
            return _not_json()
        return _error(422, "invalid", message, errors=errors)

    @app.exception_handler(BodyTooLarge)
    async def body_too_large(_request: Request, exc: BodyTooLarge) -> JSONResponse:
        return _error(413, "too_large", str(exc.detail))

    @app.exception_handler(StorageUnavailable)
    async def storage_down(_request: Request, _exc: StorageUnavailable) -> JSONResponse:
        log.warning("blob_store_unavailable")
        return _error(503, "unavailable", STORAGE_DOWN, {"Retry-After": "30"})

    @app.exception_handler(IntegrityError)
    async def conflict(_request: Request, exc: IntegrityError) -> JSONResponse:
        # Two requests changed the same thing at once; the database kept one of them.
        log.warning("integrity_conflict", error=type(exc.orig).__name__)
        return _error(409, "conflict", "This changed at the same time. Reload and try again.")

    @app.exception_handler(PoolTimeout)
    @app.exception_handler(OperationalError)
    @app.exception_handler(DBAPIError)
    async def database_down(_request: Request, exc: Exception) -> JSONResponse:
        if is_overload(exc):
            # The database works, but no connection or no answer came in time.
            log.warning("database_busy", error=type(exc).__name__)
            return _error(503, "busy", BUSY, {"Retry-After": str(BUSY_RETRY_AFTER)})
        if is_disk_full(exc):
            log.error("disk_full", error="No space left on device", source="database")
            return _error(503, "unavailable", DISK_FULL, {"Retry-After": "300"})
        log.warning("database_unavailable", error=type(exc).__name__)
        return _error(503, "unavailable", DATABASE_DOWN, {"Retry-After": "30"})


SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


def observability_middleware(app: FastAPI, inner: Any) -> Any:
    """Pure ASGI, so streamed uploads and downloads are not buffered."""

    async def middleware(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await inner(scope, receive, send)
            return
        started = time.perf_counter()
        status_holder = {"status": 500}

        async def send_wrapper(message: dict) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [h for h in SECURITY_HEADERS if h[0] not in present]
                if b"content-security-policy" not in present:
                    # Pages and static files: no inline script or style, no CDN.
                    headers.append((b"content-security-policy", PAGE_CSP.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await inner(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            elapsed = time.perf_counter() - started
            metrics: Metrics = app.state.metrics
            metrics.requests.labels(scope["method"], template, status_holder["status"]).inc()
            metrics.latency.labels(scope["method"], template).observe(elapsed)
            log.info(
                "request",
                method=scope["method"],
                route=template,
                status=status_holder["status"],
                ms=round(elapsed * 1000, 1),
            )

    return middleware


async def _sweep_forever(app: FastAPI, settings: Settings) -> None:
    grace = timedelta(seconds=settings.orphan_grace_seconds)
    while True:
        await asyncio.sleep(settings.sweep_interval_seconds)
        try:
            await run_in_threadpool(sweep, app.state.background_engine, app.state.store, grace)
        except Exception:  # noqa: BLE001 - a failed sweep is retried next time
            log.exception("sweep_failed")


def prepare_database(settings: Settings) -> None:
    engine = make_engine(settings.resolved_database_url)
    try:
        if is_empty(engine):
            log.info("migrating_empty_database")
            migrate(settings.resolved_database_url)
    finally:
        engine.dispose()


def create_app(settings: Settings | None = None, *, migrate_empty: bool = True) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_level, settings.log_json)
    hooks.install()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if migrate_empty:
            await run_in_threadpool(prepare_database, settings)
        # Replicas with different server secrets must not serve: raises with what to do.
        await run_in_threadpool(check_at_start, app.state.engine, settings)
        # Made now, so the first login with an unknown handle takes no longer than the others.
        await run_in_threadpool(accounts.dummy_hash, settings)
        sweeper = (
            asyncio.create_task(_sweep_forever(app, settings))
            if settings.sweep_interval_seconds > 0
            else None
        )
        # What start-up made stays for good: keep the collector from walking it again and
        # again under load (benchmarks/README.md, "Load").
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            if sweeper:
                sweeper.cancel()
            app.state.readiness.close()
            app.state.engine.dispose()
            app.state.background_engine.dispose()

    app = FastAPI(
        title="Personal document wallet",
        version=__version__,
        openapi_url="/openapi.json",
        # Self-hosted, under their own CSP, when the operator turns them on (apidocs.py).
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = make_engine(settings.resolved_database_url, request_limits(settings))
    app.state.background_engine = make_engine(
        settings.resolved_database_url, background_limits(settings)
    )
    app.state.store = make_store(settings)
    app.state.readiness = Readiness(
        app.state.engine, app.state.store, settings.readiness_timeout_seconds
    )
    app.state.metrics = Metrics()
    app.state.metrics.registry.register(
        Vitals(app.state.engine, app.state.store, settings, app.state.readiness)
    )

    install_error_handlers(app)
    install_openapi(app)
    if settings.api_docs:
        install_api_docs(app)
    app.include_router(health_router)
    for router in (
        accounts_router,
        uploads_router,
        documents_router,
        profile_router,
        links_router,
        grants_router,
        journal_router,
        vault_head_router,
        safety_router,
        # mandates router
        mandates_router,
        # organisations router
        organisations_router,
        # oidc router
        oidc_router,
        # requests, notes and inbox routers
        requests_router,
        notes_router,
        inbox_router,
        # emergency access router
        emergency_router,
    ):
        app.include_router(router, prefix=API_PREFIX)
    # web pages router
    app.include_router(oidc_callback_router)  # /api/v1/auth/oidc/callback: a page or JSON
    app.include_router(mandate_pages_router)  # /mandates/check/{id}: the attestation's QR code
    app.include_router(kiosk_pages_router)  # kiosk, meeting, inbox, proxy
    app.include_router(sharing_pages_router)  # share, links, grants, received, journal, /s/
    app.include_router(requests_pages_router)  # requests, notes (owner pages)
    app.include_router(account_pages_router)  # account (passphrase, safety code, delete)
    app.include_router(org_pages_router)  # orgs, requests/new, grants/org, backup
    app.include_router(web_pages_router)
    mount_static(app)

    # "/" is the start page for browsers and the service description for scripts (web/pages.py).

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    # Inside the observability middleware, so a 413 is counted and gets the security headers.
    app.add_middleware(BodyLimitMiddleware, default_cap=settings.max_body_bytes)
    # Outside the body cap (a request waiting in line reads nothing), inside observability (a
    # "busy" answer is counted, logged and gets the security headers).
    app.add_middleware(
        AdmissionMiddleware,
        places=settings.requests_in_flight,
        queue_seconds=settings.request_queue_seconds,
        costly_places=settings.logins_in_flight,
    )
    app.add_middleware(_ObservabilityMiddleware, app_ref=app)
    return app


class _ObservabilityMiddleware:
    def __init__(self, inner: Any, app_ref: FastAPI) -> None:
        self._handler = observability_middleware(app_ref, inner)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        await self._handler(scope, receive, send)
