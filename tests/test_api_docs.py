"""The API's own description and error answers; /docs and /redoc are off unless
WALLET_API_DOCS turns them on."""

from __future__ import annotations

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


def test_api_docs_when_turned_on_keep_fastapi_pages(make_app: AppFactory) -> None:
    client = make_app(api_docs=True).client
    for path in ("/docs", "/redoc"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert "/openapi.json" in answer.text
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
