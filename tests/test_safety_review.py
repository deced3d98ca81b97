"""Who can see my papers (issue 19): `ways_in` lists exactly the ways in that exist, each kind
created, found, ended and gone; `wallet safety review` shows them and the failed logins since
the last look, and `wallet safety end` ends one. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from tests.conftest import WalletApp, run_cli
from tests.test_safety_reset import give_every_way
from wallet.client import Vault
from wallet.client.api import ApiError
from wallet.client.grants import revoke_grant
from wallet.client.mandates import revoke_mandate
from wallet.client.safety import ways_in


def kinds(vault: Vault) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for way in ways_in(vault):
        found.setdefault(way.kind, set()).add(way.id)
    return found


def test_each_kind_present_then_ended_then_absent(wallet_app: WalletApp, tmp_path: Path) -> None:
    ways = give_every_way(wallet_app, tmp_path)
    owner = ways.owner
    link_id = ways.link_url.split("/s/")[1].split("#")[0]
    second_id = next(
        s["id"] for s in owner.api.api("GET", "/auth/sessions").json() if not s["current"]
    )
    found = kinds(owner)
    assert found["grant"] == {ways.grant_id}
    assert found["org_grant"] == {ways.office.grant_id}
    assert found["mandate"] == {ways.mandate_id}
    assert found["link"] == {link_id}
    assert second_id in found["session"]
    [second] = [w for w in ways_in(owner) if w.id == second_id]
    assert second.what.startswith("session on a ") and second.last_used  # kind from User-Agent
    # Nothing hidden: the listing is exactly what the reset's plan would end.
    plan = owner.api.api("GET", "/safety/reset").json()
    assert set(plan["grants"]) == found["grant"] | found["org_grant"]
    assert set(plan["mandates"]) == found["mandate"] and set(plan["links"]) == found["link"]
    assert plan["other_sessions"] == len(found["session"])

    revoke_grant(owner, ways.grant_id)
    revoke_grant(owner, ways.office.grant_id)
    revoke_mandate(owner, ways.mandate_id)
    owner.covered_change(
        "POST", f"/links/{link_id}/revoke", lambda state: state.revoked_links.add(link_id)
    )
    for session_id in found["session"]:
        owner.api.api("DELETE", f"/auth/sessions/{session_id}")
    assert kinds(owner) == {}
    try:
        ways.second.api.api("GET", "/accounts/me")
        raise AssertionError("the ended session still works")
    except ApiError as exc:
        assert exc.status == 401


def test_cli_review_and_end(cli_env: dict[str, str], tmp_path: Path) -> None:
    owner = {**cli_env, "WALLET_HOME": str(tmp_path / "home-owner")}
    phone = {**cli_env, "WALLET_HOME": str(tmp_path / "home-phone")}
    handle = f"owner-{secrets.token_hex(4)}"
    run_cli(owner, "account", "create", "--handle", handle)
    paper = tmp_path / "lease.pdf"
    paper.write_bytes(b"%PDF-1.4 lease")
    run_cli(owner, "upload", str(paper), "--type", "lease")
    run_cli(owner, "share", "create", "--types", "lease", "--uses", "5")
    run_cli(phone, "login", "--handle", handle)
    wrong = {**phone, "WALLET_HOME": str(tmp_path / "x"), "WALLET_PASSPHRASE": "wrong " * 3}
    run_cli(wrong, "login", "--handle", handle, check=False)

    shown = run_cli(owner, "safety", "review").stdout
    assert "Link" in shown and "5 of 5 uses left" in shown and "Session" in shown
    assert "Failed logins or recovery tries since your last look: 1." in shown
    listed = json.loads(run_cli(owner, "safety", "review", "--json").stdout)
    assert listed["failed_since_last_review"] == []  # seen at the last look
    for way in listed["ways_in"]:
        assert "Ended." in run_cli(owner, "safety", "end", way["kind"], way["id"]).stdout
    assert "Nobody else can see your papers now" in run_cli(owner, "safety", "review").stdout
    assert run_cli(phone, "ls", check=False).returncode != 0
