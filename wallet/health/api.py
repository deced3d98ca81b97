from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from wallet.health.checks import DISK_FULL, OK, Readiness, is_ready

router = APIRouter(tags=["health"])


# Async and touching nothing, so it never waits for a thread, the database or the blob store:
# an orchestrator would restart a healthy process that is only busy or waiting on them.
@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


class ReadinessBody(BaseModel):
    status: str  # ok, disk full, unavailable
    checks: dict[str, str]


@router.get(
    "/readyz",
    response_model=ReadinessBody,
    responses={
        503: {
            "model": ReadinessBody,
            "description": "Not ready: the database or the blob store does not work.",
            "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        }
    },
)
async def readyz(request: Request) -> JSONResponse:
    """Readiness: the database and the blob store both work."""
    # A disk at its reserve says "disk full" but stays ready (200): uploads are refused, and
    # logins, downloads and the journal still work. Out of rotation, nobody could log in.
    readiness: Readiness = request.app.state.readiness
    checks = await readiness.states()
    ready = is_ready(checks)
    status = (OK if checks["blob_store"] == OK else DISK_FULL) if ready else "unavailable"
    body = {"status": status, "checks": checks}
    headers = {} if ready else {"Retry-After": "30"}
    return JSONResponse(body, status_code=200 if ready else 503, headers=headers)
