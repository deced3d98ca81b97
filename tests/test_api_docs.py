"""/docs and /redoc load scripts from a CDN: off unless WALLET_API_DOCS turns them on."""

from __future__ import annotations

from tests.conftest import AppFactory


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
