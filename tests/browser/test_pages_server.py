"""The pages' HTTP side: strict CSP on every page, no inline script or style in any template,
the session cookie's flags, logout, and the language form (no open redirect)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from pydantic import ValidationError

from tests.conftest import AppFactory, WalletApp
from wallet.settings import Settings

OWNER_PAGES = [
    "/",
    "/register",
    "/recovery-sheet",
    "/login",
    "/documents",
    "/documents/new",
    "/documents/" + "ab" * 16,
    "/profile",
    "/emergency",
]
HTML = {"accept": "text/html"}


class InlineFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.problems.append("inline <script>")
        if tag == "style":
            self.problems.append("<style>")
        if "style" in names:
            self.problems.append(f"style= on <{tag}>")
        self.problems += [f"{n}= on <{tag}>" for n in names if n.startswith("on")]
        for name, value in attrs:
            if (
                name in ("href", "src", "action")
                and value
                and value.startswith(("http:", "https:", "//"))
            ):
                self.problems.append(f"outside resource {value}")


def test_pages_have_a_strict_csp_and_no_inline_code(wallet_app: WalletApp) -> None:
    for path in OWNER_PAGES:
        response = wallet_app.client.get(path, headers=HTML)
        assert response.status_code == 200, path
        csp = response.headers["content-security-policy"]
        assert "script-src 'self' 'wasm-unsafe-eval';" in csp
        assert "'unsafe-inline'" not in csp and "unsafe-eval'" not in csp.replace(
            "wasm-unsafe-eval", ""
        )
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["cache-control"] == "no-store"
        finder = InlineFinder()
        finder.feed(response.text)
        assert not finder.problems, (path, finder.problems)
    # Static files and API answers get the CSP too; scripts keep getting the JSON description.
    assert (
        "default-src 'self'"
        in wallet_app.client.get("/static/css/wallet.css").headers["content-security-policy"]
    )
    assert (
        wallet_app.client.get("/", headers={"accept": "application/json"}).json()["status"]
        == "running"
    )


def test_unknown_document_page_is_the_same_page_for_any_id(wallet_app: WalletApp) -> None:
    # The page itself holds nothing: whether the id exists is only known to the owner's API call.
    one = wallet_app.client.get("/documents/" + "ab" * 16, headers=HTML).text
    two = wallet_app.client.get("/documents/" + "cd" * 16, headers=HTML).text
    assert one.replace("ab" * 16, "X") == two.replace("cd" * 16, "X")
    assert wallet_app.client.get("/documents/not-an-id", headers=HTML).status_code == 422


def test_session_cookie_is_httponly_strict_and_ends_at_logout(wallet_app: WalletApp) -> None:
    vault = wallet_app.new_vault()
    token = vault.api.token
    client = wallet_app.client
    assert client.post("/web/session").status_code == 401
    assert client.post("/web/session", headers={"authorization": "Bearer nope"}).status_code == 401
    response = client.post("/web/session", headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 204
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"wallet_session={token};")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    # The API now answers with the cookie alone.
    assert client.get("/api/v1/accounts/me").json()["handle"] == vault.account["handle"]
    assert client.post("/web/logout", headers=SAME_ORIGIN).status_code == 204
    client.cookies.clear()
    # The session is over on the server, not only in the browser.
    assert (
        client.get("/api/v1/accounts/me", headers={"authorization": f"Bearer {token}"}).status_code
        == 401
    )
    assert client.post("/web/logout").status_code == 204  # twice is fine


SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}
FOREIGN = [
    {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
    {"Sec-Fetch-Site": "same-site", "Origin": "https://evil.testserver"},
    {"Origin": "https://evil.example"},  # an older browser: no Sec-Fetch-Site
    {},  # neither header
]


def test_logout_and_kiosk_end_only_from_the_wallets_own_pages(wallet_app: WalletApp) -> None:
    vault = wallet_app.new_vault()
    client = wallet_app.client
    started = client.post("/web/session", headers={"authorization": f"Bearer {vault.api.token}"})
    assert started.status_code == 204
    for headers in FOREIGN:
        for path in ("/web/logout", "/web/kiosk/end"):
            refused = client.post(path, headers=headers)
            assert refused.status_code == 403, (path, headers)
            assert refused.json()["detail"].startswith("This request came from another web page")
            assert "clear-site-data" not in refused.headers and "set-cookie" not in refused.headers
        # The session still works.
        assert client.get("/api/v1/accounts/me").json()["handle"] == vault.account["handle"]
    # Without Sec-Fetch-Site, the page's own Origin is enough.
    ours = client.post("/web/logout", headers={"Origin": "http://testserver"})
    assert ours.status_code == 204
    assert client.get("/api/v1/accounts/me").status_code == 401
    client.cookies.clear()
    # Nothing to end: logout has nothing to protect; the kiosk's wipe still asks for this site.
    assert client.post("/web/logout").status_code == 204
    assert client.post("/web/kiosk/end").status_code == 403
    ended = client.post("/web/kiosk/end", headers=SAME_ORIGIN)
    assert ended.status_code == 204 and "clear-site-data" in ended.headers


def test_language_form_sets_a_cookie_and_never_redirects_away(wallet_app: WalletApp) -> None:
    client = wallet_app.client
    for target, expected in [
        ("/documents", "/documents"),
        ("https://evil.example/", "/"),
        ("//evil.example/x", "/"),
        ("javascript:alert(1)", "/"),
    ]:
        response = client.post(
            "/language", data={"language": "nl", "next": target}, follow_redirects=False
        )
        assert response.status_code == 303
        assert response.headers["location"] == expected
        assert re.search(r"wallet_lang=nl;.*HttpOnly", response.headers["set-cookie"])
    page = client.get("/login", headers=HTML)
    assert '<html lang="nl"' in page.text and "Uw portefeuille openen" in page.text
    ignored = client.post("/language", data={"language": "xx", "next": "/"}, follow_redirects=False)
    assert "set-cookie" not in ignored.headers


def test_kiosk_idle_timeout_and_web_kdf_floor_come_from_the_settings(make_app: AppFactory) -> None:
    app = make_app(kiosk_idle_seconds=42, web_kdf_floor="2,16384")
    kiosk = app.client.get("/kiosk", headers=HTML)
    assert kiosk.cookies.get("wallet_kiosk_idle") == "42"
    # A kiosk link may ask for another value within bounds, never outside them.
    assert app.client.get("/kiosk?idle=9", headers=HTML).cookies.get("wallet_kiosk_idle") == "9"
    assert app.client.get("/kiosk?idle=2", headers=HTML).cookies.get("wallet_kiosk_idle") == "42"
    assert "2,16384" in app.client.get("/login", headers=HTML).text
    with pytest.raises(ValidationError):
        Settings(kiosk_idle_seconds=2)
    with pytest.raises(ValidationError):
        Settings(web_kdf_floor="weak")
