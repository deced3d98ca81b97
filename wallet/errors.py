"""Domain errors. Services raise them; the app turns them into plain-language JSON answers."""

from __future__ import annotations

import sqlite3
from typing import ClassVar

from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout


class WalletError(Exception):
    status_code = 400
    code = "bad_request"
    # The headers its answers carry (name: meaning), for the API description
    # (wallet/server/openapi.py).
    described_headers: ClassVar[dict[str, str]] = {}

    def __init__(self, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}


class NotFound(WalletError):
    status_code = 404
    code = "not_found"

    def __init__(
        self, message: str = "We found nothing here. Check the address or the id."
    ) -> None:
        super().__init__(message)


class Unauthorized(WalletError):
    status_code = 401
    code = "unauthorized"

    described_headers: ClassVar[dict[str, str]] = {"WWW-Authenticate": "Bearer"}

    def __init__(self, message: str = "Your session has ended. Please log in again.") -> None:
        super().__init__(message, {"WWW-Authenticate": "Bearer"})


class Forbidden(WalletError):
    status_code = 403
    code = "forbidden"


class Conflict(WalletError):
    status_code = 409
    code = "conflict"


class TooLarge(WalletError):
    status_code = 413
    code = "too_large"


class Invalid(WalletError):
    status_code = 422
    code = "invalid"


class TooManyAttempts(WalletError):
    status_code = 429
    code = "too_many_attempts"
    described_headers: ClassVar[dict[str, str]] = {"Retry-After": "seconds to wait"}

    def __init__(self, retry_after: int) -> None:
        minutes = max(1, round(retry_after / 60))
        unit = "minute" if minutes == 1 else "minutes"
        super().__init__(
            f"Too many tries. Wait {minutes} {unit}, then try again.",
            {"Retry-After": str(retry_after)},
        )
        self.retry_after = retry_after


class Unavailable(WalletError):
    status_code = 503
    code = "unavailable"
    described_headers: ClassVar[dict[str, str]] = {"Retry-After": "seconds to wait"}

    def __init__(self, message: str, retry_after: int = 30) -> None:
        super().__init__(message, {"Retry-After": str(retry_after)})


STORAGE_DOWN = (
    "We cannot store or read files right now. Nothing was lost. Please try again in a few minutes."
)
DATABASE_DOWN = (
    "The service cannot reach its database right now. Please try again in a few minutes."
)
BUSY = "The service is busy right now. Nothing was changed. Please try again in a few seconds."
# Seconds a client is asked to wait after a "busy" answer.
BUSY_RETRY_AFTER = 2
_QUERY_CANCELED = "57014"  # SQLSTATE query_canceled: PostgreSQL's statement_timeout


def is_overload(exc: BaseException) -> bool:
    """True when the database works but is too busy: no free connection in time, a statement
    over its timeout, or SQLite still locked by other writers after its busy timeout."""
    if isinstance(exc, PoolTimeout):
        return True
    original = exc.orig if isinstance(exc, DBAPIError) else exc
    if getattr(original, "sqlstate", None) == _QUERY_CANCELED:
        return True
    return isinstance(original, sqlite3.OperationalError) and "database is locked" in str(original)


class FieldError(BaseModel):
    field: str = Field(description="The field, as a dotted path ('body' for the whole body).")
    message: str


class ErrorBody(BaseModel):
    """The body of every error answer (wallet/server/app.py builds it)."""

    detail: str = Field(description="What happened and what to do, in plain words.")
    code: str = Field(description="A stable word for programs: not_found, invalid, ...")
    errors: list[FieldError] = Field(
        default_factory=list, description="Only in a 422 for fields: each field not valid."
    )
