"""A new recovery key on its own (issue 19): the old sheet stops working at once, the new one
opens every paper, a recovery session opened with the old sheet ends, and a wrong passphrase
changes nothing. On SQLite and PostgreSQL, through the client and the `wallet` command."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest

from tests.conftest import TEST_PASSPHRASE, WalletApp, run_cli
from wallet.client import Vault
from wallet.client.api import ApiError
from wallet.client.vault import VaultError
from wallet.crypto.encoding import b64e
from wallet.crypto.kdf import split_recovery_key
from wallet.crypto.recovery import parse_recovery_key

API = "/api/v1"


def recovery_auth(text: str) -> str:
    return b64e(split_recovery_key(parse_recovery_key(text))[0])


def test_a_new_recovery_key_ends_the_old_sheet(wallet_app: WalletApp, tmp_path: Path) -> None:
    vault, old_sheet = wallet_app.new_vault_with_recovery()
    handle = vault.account["handle"]
    paper = tmp_path / "lease.pdf"
    paper.write_bytes(b"%PDF-1.4 lease " + secrets.token_bytes(64))
    document_id, _ = vault.upload(paper, "lease")

    # The old sheet works before: a recovery session is opened with it and left open.
    opened = wallet_app.client.post(
        f"{API}/auth/recover",
        json={"handle": handle, "recovery_auth_key": recovery_auth(old_sheet)},
    )
    assert opened.status_code == 200
    stale_token = opened.json()["token"]

    with pytest.raises(VaultError, match="passphrase is not right"):
        vault.new_recovery_key("not the passphrase at all")
    new_sheet = vault.new_recovery_key(TEST_PASSPHRASE)
    assert new_sheet != old_sheet and parse_recovery_key(new_sheet)

    # The old sheet: refused like a wrong key, and its open session is gone.
    refused = wallet_app.client.post(
        f"{API}/auth/recover",
        json={"handle": handle, "recovery_auth_key": recovery_auth(old_sheet)},
    )
    assert refused.status_code == 401
    stale = wallet_app.client.get(
        f"{API}/auth/sessions", headers={"Authorization": f"Bearer {stale_token}"}
    )
    assert stale.status_code == 401
    with pytest.raises(ApiError):
        Vault.recover(wallet_app.api(), handle, old_sheet, "another long passphrase")

    # The new sheet opens every paper, with a new passphrase.
    recovered = Vault.recover(wallet_app.api(), handle, new_sheet, "a brand new passphrase")
    out = tmp_path / "back.pdf"
    recovered.download(document_id, out)
    assert out.read_bytes() == paper.read_bytes()
    again = Vault.login(wallet_app.api(), handle, "a brand new passphrase")
    assert [d.id for d in again.list_documents()] == [document_id]

    events = [e["event"] for e in wallet_app.client.get(
        f"{API}/journal", headers={"Authorization": f"Bearer {again.api.token}"}
    ).json()["entries"]]  # fmt: skip
    assert "recovery_key_replaced" in events


def test_a_recovery_session_cannot_replace_the_key(wallet_app: WalletApp) -> None:
    vault, sheet = wallet_app.new_vault_with_recovery()
    session = wallet_app.client.post(
        f"{API}/auth/recover",
        json={"handle": vault.account["handle"], "recovery_auth_key": recovery_auth(sheet)},
    ).json()
    answer = wallet_app.client.put(
        f"{API}/accounts/me/recovery-key",
        headers={"Authorization": f"Bearer {session['token']}"},
        json={
            "current_auth_key": b64e(secrets.token_bytes(32)),
            "recovery_auth_key": b64e(secrets.token_bytes(32)),
            "keys_by_recovery": b64e(secrets.token_bytes(120)),
        },
    )
    assert answer.status_code in (401, 403)


def test_cli_account_recovery_key(cli_env: dict[str, str], tmp_path: Path) -> None:
    env = {**cli_env, "WALLET_HOME": str(tmp_path / "home")}
    handle = f"owner-{secrets.token_hex(4)}"
    created = run_cli(env, "account", "create", "--handle", handle).stdout
    old_sheet = re.search(r"WR1-[A-Z2-7-]+", created).group(0)  # type: ignore[union-attr]
    qr = tmp_path / "new.png"
    said = run_cli(env, "account", "recovery-key", "--qr", str(qr)).stdout
    new_sheet = re.search(r"WR1-[A-Z2-7-]+", said).group(0)  # type: ignore[union-attr]
    assert "old recovery sheet no longer works" in said and qr.exists()
    assert new_sheet != old_sheet

    other = {**env, "WALLET_HOME": str(tmp_path / "elsewhere"), "WALLET_NEW_PASSPHRASE": "x" * 12}
    failed = run_cli(other, "account", "recover", "--handle", handle, "--recovery-key", old_sheet,
                     check=False)  # fmt: skip
    assert failed.returncode != 0 and "Traceback" not in failed.stdout + failed.stderr
    run_cli(other, "account", "recover", "--handle", handle, "--recovery-key", new_sheet)
    assert "new recovery key" in run_cli(other, "journal").stdout
