from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from wallet.health.checks import DISK_FULL, OK, READY_STATES, database_state, store_state

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


def _check_database(request: Request) -> str:
    return database_state(request.app.state.engine)


def _check_store(request: Request) -> str:
    return store_state(request.app.state.store)


class Readiness(BaseModel):
    status: str  # ok, disk full, unavailable
    checks: dict[str, str]


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={
        503: {
            "model": Readiness,
            "description": "Not ready: the database or the blob store does not work.",
            "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        }
    },
)
async def readyz(request: Request) -> JSONResponse:
    """Readiness: the database and the blob store both work."""
    # A disk at its reserve says "disk full" but stays ready (200): uploads are refused, and
    # logins, downloads and the journal still work. Out of rotation, nobody could log in.
    checks = {
        "database": await run_in_threadpool(_check_database, request),
        "blob_store": await run_in_threadpool(_check_store, request),
    }
    ready = checks["database"] == OK and checks["blob_store"] in READY_STATES
    status = (OK if checks["blob_store"] == OK else DISK_FULL) if ready else "unavailable"
    body = {"status": status, "checks": checks}
    headers = {} if ready else {"Retry-After": "30"}
    return JSONResponse(body, status_code=200 if ready else 503, headers=headers)
