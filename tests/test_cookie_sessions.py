"""The web app's session cookie: a change sent with it must come from the wallet's own pages.

SameSite=Strict stops other sites, not a page on a sibling subdomain of the same site, so a
state-changing request authenticated by the cookie needs `Sec-Fetch-Site: same-origin` (or,
from a browser that does not send it, a matching Origin).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import WalletApp
from tests.test_grants import make_granted
from wallet.deps import CROSS_SITE

HOST = "http://testserver"


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "same-site", "Origin": "https://evil.example.org"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "https://evil.example.org"},
        {},
    ],
    ids=["sibling-subdomain", "cross-site", "foreign-origin", "no-browser-headers"],
)
def test_a_change_from_another_page_is_refused(
    wallet_app: WalletApp, tmp_path: Path, headers: dict[str, str]
) -> None:
    g = make_granted(wallet_app, tmp_path)
    http = wallet_app.client
    http.cookies.set("wallet_session", str(g.owner.api.token))
    try:
        refused = http.post(f"/api/v1/grants/{g.grant.id}/revoke", headers=headers)
        assert refused.status_code == 403
        assert refused.json()["detail"] == CROSS_SITE
        # Reading with the cookie stays possible (it changes nothing).
        assert http.get("/api/v1/grants").status_code == 200
    finally:
        http.cookies.clear()
    # Nothing happened: the grantee still reads.
    assert g.lease_id in g.worker_documents()


@pytest.mark.parametrize(
    "headers", [{"Sec-Fetch-Site": "same-origin"}, {"Origin": HOST}], ids=["fetch-site", "origin"]
)
def test_a_change_from_the_wallets_own_page_works(
    wallet_app: WalletApp, tmp_path: Path, headers: dict[str, str]
) -> None:
    g = make_granted(wallet_app, tmp_path)
    http = wallet_app.client
    http.cookies.set("wallet_session", str(g.owner.api.token))
    try:
        assert http.post(f"/api/v1/grants/{g.grant.id}/revoke", headers=headers).status_code == 204
    finally:
        http.cookies.clear()
    assert [x["state"] for x in g.owner.api.api("GET", "/grants").json()] == ["revoked"]


def test_a_bearer_token_needs_no_browser_headers(wallet_app: WalletApp, tmp_path: Path) -> None:
    g = make_granted(wallet_app, tmp_path)
    response = wallet_app.client.post(
        f"/api/v1/grants/{g.grant.id}/revoke",
        headers={"Authorization": f"Bearer {g.owner.api.token}", "Origin": "https://x.example"},
    )
    assert response.status_code == 204
