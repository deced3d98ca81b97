"""The service description (/openapi.json): FastAPI's, plus what FastAPI cannot see.

- Every error answer has one shape, `wallet.errors.ErrorBody` (a 422 for a field adds the list
  of fields), not FastAPI's default array.
- The status codes a route answers are found, not listed by hand: each WalletError its handler,
  its dependencies and the project functions they call construct (read from their source), and
  the answers every route can get from the app itself (the admission limit's 503 `busy`, body
  cap, database or storage down, two writes at once). Each status's description names the
  `code`s it comes with and the headers they carry (`WalletError.described_headers`:
  Retry-After, Tus-Version, the quota headers).
- A route that returns a bare `Response` (tus, 204s) is described with no body, and a download
  (`StreamingResponse`) as bytes, whole (200) or from an offset (206).
- Routes that need a session say so (`security`).
"""

from __future__ import annotations

import ast
import functools
import inspect
import textwrap
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from starlette.responses import Response, StreamingResponse

from wallet.deps import any_caller, get_db, get_store
from wallet.errors import ErrorBody, FieldError, WalletError
from wallet.server.admission import BUSY_CODE, NEVER_QUEUED
from wallet.server.limits import body_cap

PROJECT_PACKAGES = frozenset({"wallet", "sharing", "storage", "web"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# What each error status means, in the description; the body's `detail` says it in plain words.
MEANINGS = {
    400: "The request cannot be done as sent.",
    401: "Not logged in, or the session has ended.",
    403: "Not allowed for this caller (or a cookie sent from another site).",
    404: "Nothing with this id for this caller.",
    409: "It conflicts with the current state (or changed at the same time): reload and retry.",
    410: "It is gone: used, expired or revoked.",
    412: "A precondition in the headers does not hold.",
    413: "The request is too large.",
    422: "A field is missing or out of bounds; `errors` names each one.",
    423: "Locked after too many wrong tries.",
    429: "Too many tries, or too many requests of a kind: wait for Retry-After seconds.",
    500: "The stored copy is damaged; nothing else is affected.",
    503: "The service is busy (every place taken), or the database or the blob store cannot be "
    "reached now: retry after Retry-After.",
    507: "This account's storage quota is used up: delete something first.",
}
RETRY_AFTER = "seconds to wait"
# What the app itself answers (wallet/server/app.py and admission.py), by status: its codes and
# headers. The WalletErrors a route raises add theirs.
APP_ANSWERS: dict[int, tuple[set[str], dict[str, str]]] = {
    409: ({"conflict"}, {}),
    413: ({"too_large"}, {}),
    422: ({"invalid"}, {}),
    503: ({BUSY_CODE, "unavailable"}, {"Retry-After": RETRY_AFTER}),
}
INTEGER_HEADERS = frozenset({"Retry-After", "Wallet-Quota-Used", "Wallet-Quota-Limit"})


def _in_project(obj: object) -> bool:
    module = getattr(obj, "__module__", None) or ""
    return module.split(".")[0] in PROJECT_PACKAGES


def _resolve(node: ast.expr, namespace: dict[str, Any]) -> object:
    if isinstance(node, ast.Name):
        return namespace.get(node.id)
    if isinstance(node, ast.Attribute):
        owner = _resolve(node.value, namespace)
        if inspect.ismodule(owner) or inspect.isclass(owner):
            return getattr(owner, node.attr, None)
    return None


def _error_status(call: ast.Call, error: type[WalletError]) -> int:
    # A WalletError whose status is its first argument (wallet.oidc.service.OidcRefused).
    if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, int):
        return call.args[0].value
    return error.status_code


Raised = tuple[int, type[WalletError]]


@functools.cache
def _scan(target: object) -> tuple[frozenset[Raised], tuple[object, ...]]:
    """What one function or class builds itself, and the project code it calls or hands on
    (read once: a route's walk reuses what another route's walk read)."""
    if inspect.isclass(target):
        if issubclass(target, WalletError):
            return frozenset(), ()
        return frozenset(), tuple(vars(target).values())
    if not inspect.isfunction(target):
        return frozenset(), ()
    func = inspect.unwrap(target)
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    except (OSError, TypeError, SyntaxError):
        return frozenset(), ()
    namespace: dict[str, Any] = func.__globals__
    statuses: set[Raised] = set()
    reached: list[object] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            error = _resolve(node.func, namespace)
            if inspect.isclass(error) and issubclass(error, WalletError):
                statuses.add((_error_status(node, error), error))
        elif isinstance(node, ast.Name | ast.Attribute):
            # Called here, or handed on (run_in_threadpool(service.get, ...), send(find, ...)).
            found = _resolve(node, namespace)
            if inspect.isfunction(found):
                reached.append(found)
    return frozenset(statuses), tuple(reached)


def raised_errors(target: object, seen: set[int] | None = None) -> set[Raised]:
    """The status and class of every WalletError that `target` (a function, or a class used as
    a dependency), or project code it calls or hands on, builds."""
    seen = set() if seen is None else seen
    statuses: set[Raised] = set()
    pending = [target]
    while pending:
        current = pending.pop()
        if id(current) in seen or not _in_project(current):
            continue
        seen.add(id(current))
        found, reached = _scan(current)
        statuses |= found
        pending.extend(reached)
    return statuses


def _dependency_calls(route: RouteContext) -> Iterator[Callable[..., Any]]:
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        if dependant.call is not None:
            yield dependant.call
        pending.extend(dependant.dependencies)


def route_errors(route: RouteContext) -> set[Raised]:
    """The WalletErrors this route can answer with."""
    seen: set[int] = set()
    errors: set[Raised] = set()
    for call in _dependency_calls(route):
        errors |= raised_errors(call, seen)
    return errors


def route_statuses(route: RouteContext, method: str, errors: set[Raised]) -> set[int]:
    """Every error status this route can answer, besides FastAPI's 422."""
    statuses = {status for status, _error in errors}
    # The app's own answers: every place taken (the admission limit, wallet/server/admission.py)
    # or the database or the blob store is down (wallet/server/app.py)...
    path = route.path_format or ""
    if path not in NEVER_QUEUED or {get_db, get_store} & set(_dependency_calls(route)):
        statuses.add(503)
    # ... a body over the cap (wallet/server/limits.py) ...
    if body_cap(method, route.path_format or "", 1) is not None:
        statuses.add(413)
    # ... and two writes that collided in the database (IntegrityError).
    if method not in SAFE_METHODS:
        statuses.add(409)
    return statuses


def _error_response(status: int, codes: set[str], headers: dict[str, str]) -> dict[str, Any]:
    schema = {"$ref": f"#/components/schemas/{ErrorBody.__name__}"}
    listed = ", ".join(f"`{code}`" for code in sorted(codes))
    answer: dict[str, Any] = {
        "description": MEANINGS.get(status, "An error.") + (f" Codes: {listed}." if listed else ""),
        "content": {"application/json": {"schema": schema}},
    }
    if headers:
        answer["headers"] = {
            name: {
                "schema": {"type": "integer" if name in INTEGER_HEADERS else "string"},
                "description": meaning,
            }
            for name, meaning in sorted(headers.items())
        }
    return answer


def _returns(route: RouteContext) -> object:
    endpoint = route.endpoint
    return inspect.signature(endpoint, eval_str=True).return_annotation if endpoint else None


BINARY = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}


def describe(app: FastAPI) -> dict[str, Any]:
    spec = get_openapi(
        title=app.title, version=app.version, routes=app.routes, description=app.description
    )
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    for model in (ErrorBody, FieldError):
        schemas[model.__name__] = model.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    shared: dict[str, Any] = spec["components"].setdefault("responses", {})
    spec["components"]["securitySchemes"] = {
        "session": {"type": "http", "scheme": "bearer"},
    }
    # Each status's codes and headers, over every route: one description per status.
    codes: dict[int, set[str]] = {s: set(c) for s, (c, _h) in APP_ANSWERS.items()}
    headers: dict[int, dict[str, str]] = {s: dict(h) for s, (_c, h) in APP_ANSWERS.items()}
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods or ():
            operation = spec["paths"][route.path_format][method.lower()]
            responses: dict[str, Any] = operation["responses"]
            success = str(route.status_code or 200)
            declared = {str(code) for code in route.responses}
            returns = _returns(route)
            if returns is StreamingResponse:
                # A download: the file's bytes, or its end from `Range: bytes=N-`.
                responses[success]["content"] = BINARY
                responses["206"] = {"description": "The rest of the file.", "content": BINARY}
            elif returns is Response and route.response_model is None and not declared & {success}:
                # A Response the handler builds itself, with no body (tus, 204s).
                responses[success].pop("content", None)
            calls = set(_dependency_calls(route))
            errors = route_errors(route)
            for status, error in errors:
                codes.setdefault(status, set()).add(error.code)
                headers.setdefault(status, {}).update(error.described_headers)
            statuses = route_statuses(route, method, errors)
            if any_caller in calls:
                operation["security"] = [{"session": []}]
            if "422" in responses:
                statuses.add(422)  # FastAPI's own, in the wallet's shape
            for status in sorted(statuses):
                if str(status) not in declared:  # a route's own shape wins (readyz's 503)
                    # Described once, in components; every route refers to it.
                    shared[f"Error{status}"] = status
                    responses[str(status)] = {"$ref": f"#/components/responses/Error{status}"}
    spec["components"]["responses"] = {
        name: _error_response(status, codes.get(status, set()), headers.get(status, {}))
        for name, status in sorted(shared.items())
    }
    return spec


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = describe(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
