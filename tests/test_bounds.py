"""Bad input never reaches the database: every integer in a path or query is bounded in the
schema, so a number too big for a column (or a negative one) is a 422, never a 500 or a false
"cannot reach its database" 503. Run on SQLite and on PostgreSQL (WALLET_TEST_DATABASE_URL)."""

from __future__ import annotations

import tempfile
import types
import typing
from pathlib import Path

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts

from tests.conftest import WalletApp
from wallet.server.app import create_app
from wallet.settings import Settings
from wallet.types import INT32_MAX

HOSTILE = [2**31, 2**63, -1]
BOUNDED_STRING = {"maxLength", "pattern", "enum", "const"}
SOME_ID = "0" * 32


def _is_int(annotation: object) -> bool:
    if annotation is int:
        return True
    if typing.get_origin(annotation) is typing.Annotated:
        return _is_int(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(_is_int(arg) for arg in typing.get_args(annotation))
    return False


def _params(dependant: Dependant) -> list[tuple[str, object]]:
    """(location, field) of a dependant and of all its sub-dependencies."""
    found: list[tuple[str, object]] = [("path", p) for p in dependant.path_params]
    found += [("query", p) for p in dependant.query_params]
    for sub in dependant.dependencies:
        found += _params(sub)
    return found


def _integer_parameters() -> list[tuple[str, str, str, str]]:
    """(method, path, location, name) of every integer path or query parameter of the app,
    pages included: a new route is covered without touching this test."""
    folder = Path(tempfile.mkdtemp(prefix="wallet-routes-"))
    settings = Settings(data_dir=folder, database_url="sqlite://", server_secret="routes")
    app = create_app(settings, migrate_empty=False)
    found = []
    for context in iter_route_contexts(app.routes):
        if getattr(context, "dependant", None) is None:
            continue
        for location, param in _params(context.dependant):
            if _is_int(param.field_info.annotation):  # type: ignore[attr-defined]
                for method in sorted(context.methods or []):
                    name = param.alias  # type: ignore[attr-defined]
                    found.append((method, context.path, location, name))
    app.state.engine.dispose()
    return sorted(set(found))


INTEGER_PARAMETERS = _integer_parameters()


def test_the_walk_finds_the_known_integer_parameters() -> None:
    names = {(path, name) for _method, path, _location, name in INTEGER_PARAMETERS}
    assert ("/api/v1/documents/{document_id}/versions/{version}/blob", "version") in names
    assert ("/api/v1/journal", "after") in names
    assert ("/api/v1/links/files/{document_id}/versions/{version}", "version") in names
    assert (
        "/api/v1/mandates/{mandate_id}/documents/{document_id}/versions/{version}/blob",
        "version",
    ) in names
    assert (
        "/api/v1/received/{grant_id}/documents/{document_id}/versions/{version}/blob",
        "version",
    ) in names


def _url(path: str, location: str, name: str, value: int, document_id: str) -> str:
    filled = path
    for segment in path.split("/"):
        if segment.startswith("{") and segment.endswith("}"):
            param = segment[1:-1]
            if location == "path" and param == name:
                filled = filled.replace(segment, str(value))
            elif param == "version":
                filled = filled.replace(segment, "1")
            elif param == "document_id":
                # A real document, so the version is looked up, not the document found missing.
                filled = filled.replace(segment, document_id)
            else:
                filled = filled.replace(segment, SOME_ID)
    if location == "query":
        filled += f"?{name}={value}"
    return filled


@pytest.mark.parametrize(
    ("method", "path", "location", "name"),
    INTEGER_PARAMETERS,
    ids=[f"{m} {p} {n}" for m, p, _l, n in INTEGER_PARAMETERS],
)
def test_out_of_range_integers_are_refused_before_the_database(
    wallet_app: WalletApp, tmp_path: Path, method: str, path: str, location: str, name: str
) -> None:
    vault = wallet_app.new_vault()
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF-1.4\n" + b"x" * 100)
    document_id, _ = vault.upload(scan, "other", "Scan")
    headers = {"Authorization": f"Bearer {vault.api.token}"}
    for value in HOSTILE:
        url = _url(path, location, name, value, document_id)
        response = wallet_app.client.request(method, url, headers=headers)
        assert response.status_code not in (500, 503), (url, response.text)
        if response.status_code == 422 and response.headers["content-type"].startswith(
            "application/json"
        ):
            assert response.json()["code"] == "invalid"


def test_api_parameters_and_body_fields_are_bounded(wallet_app: WalletApp) -> None:
    """Every integer the API reads (path, query or JSON body) has both bounds in the
    schema, and its maximum fits PostgreSQL's `integer`; every string and list has a
    maximum length (or a pattern, a closed set or a date format)."""
    schema = wallet_app.client.get("/openapi.json").json()
    components = schema["components"]["schemas"]
    unbounded: list[str] = []
    seen: set[str] = set()

    def walk(node: dict, where: str) -> None:
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            if name not in seen:
                seen.add(name)
                walk(components[name], name)
            return
        for key in ("anyOf", "oneOf", "allOf"):
            for option in node.get(key, []):
                walk(option, where)
        if node.get("type") == "object":
            for field, sub in node.get("properties", {}).items():
                walk(sub, f"{where}.{field}")
        if node.get("type") == "array":
            if "maxItems" not in node:
                unbounded.append(where)
            walk(node.get("items", {}), f"{where}[]")
        if node.get("type") == "integer" and (
            "minimum" not in node or node.get("maximum", INT32_MAX + 1) > INT32_MAX
        ):
            unbounded.append(where)
        # base64 fields bound their decoded bytes, which the schema does not show:
        # tests/test_body_limit.py checks them.
        if (
            node.get("type") == "string"
            and not (BOUNDED_STRING & node.keys() or node.get("format") == "date-time")
            and node.get("contentEncoding") != "base64url"
        ):
            unbounded.append(where)

    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for param in operation.get("parameters", []):
                if param["in"] in ("path", "query"):
                    walk(param["schema"], f"{method} {path} {param['name']}")
            for content in operation.get("requestBody", {}).get("content", {}).values():
                walk(content["schema"], f"{method} {path} body")
    assert unbounded == []
