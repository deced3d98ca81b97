from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import text

from storage.base import StorageUnavailable

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


def _check_database(request: Request) -> str:
    try:
        with request.app.state.engine.connect() as connection:
            # A real table, not "SELECT 1": SQLite answers that without reading the file.
            connection.execute(text("SELECT version_num FROM alembic_version")).all()
        return "ok"
    except Exception:  # noqa: BLE001 - any failure means "not ready"
        return "down"


def _check_store(request: Request) -> str:
    try:
        request.app.state.store.check()
        return "ok"
    except StorageUnavailable:
        return "down"


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Readiness: the database and the blob store both work."""
    checks = {
        "database": await run_in_threadpool(_check_database, request),
        "blob_store": await run_in_threadpool(_check_store, request),
    }
    ready = all(value == "ok" for value in checks.values())
    body = {"status": "ok" if ready else "unavailable", "checks": checks}
    headers = {} if ready else {"Retry-After": "30"}
    return JSONResponse(body, status_code=200 if ready else 503, headers=headers)
