"""The API's own description and error answers; /docs and /redoc are off unless
WALLET_API_DOCS turns them on."""

from __future__ import annotations

import re

from tests.conftest import AppFactory
from wallet.errors import NotFound


def test_api_docs_are_off_by_default(make_app: AppFactory) -> None:
    client = make_app().client
    for path in ("/docs", "/docs/oauth2-redirect", "/redoc"):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert "cdn.jsdelivr.net" not in answer.text
    spec = client.get("/openapi.json")
    assert spec.status_code == 200 and spec.json()["info"]["title"] == "Personal document wallet"


def test_api_docs_when_turned_on_are_self_hosted_under_csp(make_app: AppFactory) -> None:
    client = make_app(api_docs=True).client
    for path, asset in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert "/openapi.json" in answer.text and f"/docs/assets/{asset}" in answer.text
        # Nothing from another address: every src and href is this origin's.
        assert not re.findall(r"""(?:src|href)=["']?(?:https?:)?//""", answer.text), path
        csp = answer.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "http" not in csp and "*" not in csp
        assert "'unsafe-eval'" not in csp
        script_src = re.search(r"script-src ([^;]*)", csp).group(1).split()  # type: ignore[union-attr]
        assert "'unsafe-inline'" not in script_src
        assets = client.get(f"/docs/assets/{asset}")
        assert assets.status_code == 200 and "javascript" in assets.headers["content-type"]
    assert client.get("/docs/oauth2-redirect").status_code == 404  # no OAuth flow to finish
    assert client.get("/openapi.json").status_code == 200


def test_method_not_allowed_names_every_method_of_the_path(make_app: AppFactory) -> None:
    """Starlette named only the first route it matched: DELETE /documents said `Allow: GET`."""
    client = make_app().client
    for method, path, allowed in [
        ("DELETE", "/api/v1/documents", "GET, POST"),
        ("POST", f"/api/v1/documents/{'a' * 32}", "DELETE, GET"),
        ("GET", "/api/v1/uploads", "OPTIONS, POST"),
        ("PUT", f"/api/v1/uploads/{'a' * 32}", "DELETE, HEAD, PATCH"),
        ("POST", "/healthz", "GET"),
    ]:
        answer = client.request(method, path)
        assert answer.status_code == 405, (method, path)
        assert answer.headers["allow"] == allowed, (method, path)
        body = answer.json()
        assert body["code"] == "method_not_allowed" and allowed in body["detail"]


def test_routing_errors_have_the_wallet_error_shape(make_app: AppFactory) -> None:
    client = make_app().client
    answer = client.get("/api/v1/no-such-thing")
    assert answer.status_code == 404
    assert answer.json() == {"detail": NotFound().message, "code": "not_found"}


def test_a_body_that_is_not_utf8_is_invalid_json(make_app: AppFactory) -> None:
    """FastAPI answered 400 in its own shape ({"detail": "There was an error parsing the
    body"}), which the description did not have; schemathesis found it."""
    client = make_app().client
    for body in (b"\xff\xfe{", b"{not json"):
        answer = client.post(
            "/api/v1/auth/prelogin", content=body, headers={"Content-Type": "application/json"}
        )
        assert answer.status_code == 422, body
        assert answer.json() == {
            "detail": "The request body is not valid JSON. Check what your app sends.",
            "code": "invalid",
            "errors": [{"field": "body", "message": "not valid JSON"}],
        }


def _operations(spec: dict) -> list[tuple[str, str, dict]]:
    return [(m.upper(), p, op) for p, ops in spec["paths"].items() for m, op in ops.items()]


def test_every_error_is_described_in_the_wallet_shape(make_app: AppFactory) -> None:
    spec = make_app().client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    assert set(schemas["ErrorBody"]["required"]) == {"detail", "code"}
    error_ref = {"$ref": "#/components/schemas/ErrorBody"}
    shared = spec["components"]["responses"]
    for method, path, operation in _operations(spec):
        for status, answer in operation["responses"].items():
            if int(status) < 400 or path == "/readyz":
                continue
            assert answer == {"$ref": f"#/components/responses/Error{status}"}, (method, path)
            content = shared[f"Error{status}"]["content"]
            assert content["application/json"]["schema"] == error_ref
    for status, header in (
        ("401", "WWW-Authenticate"),
        ("429", "Retry-After"),
        ("503", "Retry-After"),
    ):
        assert header in shared[f"Error{status}"]["headers"]


def test_status_codes_are_found_in_the_handlers(make_app: AppFactory) -> None:
    """Read from the code each route runs, not listed by hand: a sample of what must be there."""
    spec = make_app().client.get("/openapi.json").json()
    codes = {(m, p): set(op["responses"]) for m, p, op in _operations(spec)}
    secured = {(m, p) for m, p, op in _operations(spec) if op.get("security")}
    expected = {
        ("POST", "/api/v1/auth/login"): {"200", "401", "413", "422", "429", "503"},
        ("POST", "/api/v1/links/{link_id}/redeem"): {"200", "403", "404", "410", "423"},
        ("GET", "/api/v1/documents/{document_id}"): {"200", "401", "403", "404", "422", "503"},
        ("GET", "/api/v1/documents/{document_id}/versions/{version}/blob"): {"200", "206", "404"},
        ("DELETE", "/api/v1/documents/{document_id}"): {"204", "401", "404", "409"},
        ("PATCH", "/api/v1/uploads/{upload_id}"): {"204", "404", "409"},
        ("GET", "/healthz"): {"200"},
    }
    for operation, needed in expected.items():
        assert needed <= codes[operation], (operation, codes[operation])
    # No database behind it, so no "database down".
    assert "503" not in codes[("GET", "/healthz")]
    assert ("GET", "/api/v1/documents") in secured
    assert ("POST", "/api/v1/auth/login") not in secured


def test_bodiless_answers_and_bounds_are_described(make_app: AppFactory) -> None:
    spec = make_app().client.get("/openapi.json").json()
    paths = spec["paths"]
    created = paths["/api/v1/uploads"]["post"]["responses"]["201"]
    assert "content" not in created  # tus: the answer is its headers
    assert "content" not in paths["/api/v1/documents/{document_id}"]["delete"]["responses"]["204"]
    blob = paths["/api/v1/documents/{document_id}/versions/{version}/blob"]["get"]
    assert "application/octet-stream" in blob["responses"]["200"]["content"]
    version = next(p for p in blob["parameters"] if p["name"] == "version")["schema"]
    assert version["minimum"] == 1 and version["maximum"] == 2**31 - 1
    journal = {p["name"]: p["schema"] for p in paths["/api/v1/journal"]["get"]["parameters"]}
    assert journal["after"]["maximum"] == 2**31 - 1 and journal["limit"]["minimum"] == 1


def test_base64_fields_carry_their_byte_bounds_as_lengths(make_app: AppFactory) -> None:
    """A 32-byte key is 43 base64url characters: the description says so, not just `string`."""
    schemas = make_app().client.get("/openapi.json").json()["components"]["schemas"]
    auth_key = schemas["LoginRequest"]["properties"]["auth_key"]
    assert (auth_key["minLength"], auth_key["maxLength"]) == (43, 43)
    salt = schemas["AccountCreate"]["properties"]["kdf_salt"]
    assert (salt["minLength"], salt["maxLength"]) == (22, 22)  # 16 bytes
