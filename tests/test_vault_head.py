"""The owner-signed vault head against a hostile operator (issue 10): each attack is made the
way an operator would, by editing the database of a running service (a real `wallet serve`
process, reached over HTTP), and the Python client refuses it.

Runs on SQLite, and on PostgreSQL when WALLET_TEST_DATABASE_URL is set (.ci/run sets it).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import select

from sharing.grants.models import Grant
from sharing.links.models import ShareLink
from sharing.mandates.models import Mandate
from tests.conftest import TEST_PASSPHRASE, Database, run_live_server
from tests.test_grants import database, write_file
from wallet.client import Vault
from wallet.client import grants as grantlib
from wallet.client import journal as journallib
from wallet.client import links as linklib
from wallet.client.api import ApiClient
from wallet.client.contacts import PinStore
from wallet.client.mandates import ProxyVault, create_mandate, revoke_mandate
from wallet.client.vaulthead import HeadPins, StateRefused
from wallet.documents.models import Document
from wallet.profile.models import ProfileField
from wallet.vaulthead.models import VaultHead

API = "/api/v1"
AUTHZ_COVERED = {"PUT /api/v1/vault/head", "POST /api/v1/journal/refusals"}


@dataclass
class RunningService:
    """A `wallet serve` process, its database (which the operator edits) and an HTTP client."""

    url: str
    database: Database
    client: httpx.Client

    def api(self, token: str | None = None) -> ApiClient:
        return ApiClient(self.url, token=token, http=self.client)

    def new_vault(self) -> Vault:
        vault, _recovery = Vault.create_account(
            self.api(), f"owner-{secrets.token_hex(4)}", TEST_PASSPHRASE
        )
        return vault


@pytest.fixture(scope="module")
def wallet_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    with (
        run_live_server(tmp_path_factory.mktemp("head")) as server,
        httpx.Client(base_url=server.url, timeout=60) as client,
    ):
        yield RunningService(server.url, server.database, client)


def operator_sql(app: RunningService, statement: str, **values: Any) -> None:
    with database(app.database.url) as db:
        db.execute(text(statement), values)
        db.commit()


def refusals(vault: Vault) -> list[str]:
    found = []
    for entry in journallib.fetch_entries(vault):
        if entry["event"] == "state_refused":
            details = entry["details"]
            found.append((json.loads(details) if isinstance(details, str) else details)["reason"])
    return found


@pytest.fixture
def owner(wallet_app: RunningService) -> Vault:
    return wallet_app.new_vault()


def test_a_revived_grant_gets_no_new_key_and_the_owner_is_told(
    wallet_app: RunningService, owner: Vault, tmp_path: Path
) -> None:
    worker = wallet_app.new_vault()
    grant = grantlib.create_grant(
        owner,
        worker.account["handle"],
        purpose="Housing file",
        types=["payslip"],
        pins=PinStore(None),
    )
    grantlib.revoke_grant(owner, grant.id)
    with database(wallet_app.database.url) as db:  # the operator undoes the revocation
        row = db.get(Grant, grant.id)
        assert row is not None and row.revoked_at is not None
        row.revoked_at = None
        db.add(row)
        db.commit()
    with pytest.raises(StateRefused, match="Nothing was shared"):
        owner.upload(write_file(tmp_path / "p.pdf", "payslip"), "payslip", "Payslip May")
    [document] = owner.list_documents()  # the owner's own paper is stored
    with database(wallet_app.database.url) as db:
        wraps = db.execute(
            text("SELECT count(*) FROM key_wrap WHERE grant_id = :g"), {"g": grant.id}
        ).scalar_one()
    assert wraps == 0, "the revived grant got the new payslip's key"
    assert refusals(owner) == ["changed"]
    # The grantee's own client refuses the revived grant too.
    with pytest.raises(StateRefused, match="took this access back"):
        grantlib.received_documents(worker, grant.id, owner.keys.public_signing_key)
    del document


def test_a_revived_mandate_gets_no_new_key_and_the_proxy_stops(
    wallet_app: RunningService, owner: Vault, tmp_path: Path
) -> None:
    proxy = wallet_app.new_vault()
    mandate = create_mandate(
        owner,
        proxy.account["handle"],
        categories=["money"],
        actions=["view", "upload"],
        duration="1m",
        purpose="Help with the income file",
        pins=PinStore(None),
    )
    revoke_mandate(owner, mandate.id)
    operator_sql(wallet_app, "UPDATE mandate SET revoked_at = NULL WHERE id = :m", m=mandate.id)
    with database(wallet_app.database.url) as db:
        row = db.get(Mandate, mandate.id)
        assert row is not None and row.revoked_at is None
    with pytest.raises(StateRefused):
        owner.upload(write_file(tmp_path / "p.pdf", "payslip"), "payslip", "Payslip May")
    with database(wallet_app.database.url) as db:
        wraps = db.execute(
            text("SELECT count(*) FROM mandate_wrap WHERE mandate_id = :m"), {"m": mandate.id}
        ).scalar_one()
    assert wraps == 0
    with pytest.raises(StateRefused, match="took this mandate back"):
        ProxyVault.open(proxy, owner.account["handle"], PinStore(None))


def test_a_rolled_back_or_hidden_version_is_refused(
    wallet_app: RunningService, owner: Vault, tmp_path: Path
) -> None:
    first, _ = owner.upload(write_file(tmp_path / "a.pdf", "v1"), "lease", "Lease")
    owner.upload(write_file(tmp_path / "b.pdf", "v2"), "lease", "Lease", replace=first)
    assert [d.version for d in owner.list_documents()] == [2]
    with database(wallet_app.database.url) as db:  # version 1 made current again
        document = db.exec(select(Document).where(Document.id == first)).first()
        assert document is not None and document.head_version == 2
        document.current_version = 1
        db.add(document)
        db.commit()
    with pytest.raises(StateRefused, match="older version"):
        owner.list_documents()
    with pytest.raises(StateRefused):
        owner.versions(first)
    with database(wallet_app.database.url) as db:  # ... and version 2 hidden, head_version too
        db.execute(
            text("DELETE FROM document_version WHERE document_id = :d AND version = 2"),
            {"d": first},
        )
        document = db.exec(select(Document).where(Document.id == first)).first()
        assert document is not None
        document.head_version = 1
        db.add(document)
        db.commit()
    with pytest.raises(StateRefused):
        owner.list_documents()
    assert set(refusals(owner)) == {"changed"}


def test_a_profile_field_put_back_to_an_older_value_is_refused(
    wallet_app: RunningService, owner: Vault
) -> None:
    owner.set_profile_field("address", "Rue Haute 1")
    with database(wallet_app.database.url) as db:
        [old] = db.exec(text("SELECT ciphertext, wrapped_key, signature FROM profile_field")).all()  # type: ignore[call-overload]
    owner.set_profile_field("address", "Rue Basse 2")
    assert owner.profile() == {"address": "Rue Basse 2"}
    with database(wallet_app.database.url) as db:
        row = db.exec(text("SELECT id FROM profile_field")).one()  # type: ignore[call-overload]
        field = db.get(ProfileField, row[0])
        assert field is not None
        field.ciphertext, field.wrapped_key, field.signature = old
        db.add(field)
        db.commit()
    with pytest.raises(StateRefused):
        owner.profile()


def test_a_revived_link_is_refused_by_its_recipient(
    wallet_app: RunningService, owner: Vault, tmp_path: Path
) -> None:
    document, _ = owner.upload(write_file(tmp_path / "c.pdf", "certificate"), "payslip", "P")
    created = linklib.create_link(owner, [document])
    with database(wallet_app.database.url) as db:  # an operator who kept a copy of the share
        link = db.get(ShareLink, created.id)
        assert link is not None
        kept = (link.server_share, link.sealed_package)
    owner.covered_change(
        "POST",
        f"/links/{created.id}/revoke",
        lambda state: state.revoked_links.add(created.id),
    )
    with database(wallet_app.database.url) as db:
        link = db.get(ShareLink, created.id)
        assert link is not None
        link.server_share, link.sealed_package = kept
        link.revoked_at = None
        db.add(link)
        db.commit()
    with pytest.raises(StateRefused, match="took this link back"):
        linklib.open_link(created.url, tmp_path / "out", api=wallet_app.api())
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_an_older_head_is_refused_where_a_newer_one_was_seen(
    wallet_app: RunningService, tmp_path: Path
) -> None:
    pins = HeadPins(tmp_path / "head-pins.json")
    handle = f"rewind-{secrets.token_hex(3)}"
    owner, _ = Vault.create_account(wallet_app.api(), handle, TEST_PASSPHRASE, head_pins=pins)
    with database(wallet_app.database.url) as db:
        old = db.get(VaultHead, owner.account["id"])
        assert old is not None
        saved = (old.seq, old.statement, old.signature, old.covered)
    doc, _ = owner.upload(write_file(tmp_path / "d.pdf", "id card"), "id_card", "ID")
    with database(wallet_app.database.url) as db:  # the operator puts the empty wallet back
        db.execute(text("DELETE FROM document WHERE id = :d"), {"d": doc})
        head = db.get(VaultHead, owner.account["id"])
        assert head is not None
        head.seq, head.statement, head.signature, head.covered = saved
        db.add(head)
        db.commit()
    with pytest.raises(StateRefused, match="older state"):
        Vault.login(wallet_app.api(), handle, TEST_PASSPHRASE, head_pins=pins)
    # A device that never saw the newer head cannot tell (SECURITY.md says so).
    fresh = Vault.login(wallet_app.api(), handle, TEST_PASSPHRASE, head_pins=HeadPins(None))
    assert fresh.list_documents() == []


def test_who_may_send_a_head_or_a_refusal(wallet_app: RunningService, owner: Vault) -> None:
    stranger = wallet_app.new_vault()
    client = wallet_app.client
    served = owner.api.api("GET", "/vault/head").json()["head"]
    anonymous = client.put(f"{API}/vault/head", json=served)
    assert anonymous.status_code == 401
    # The owner's own head, sent by someone else, is not theirs: their key did not sign it.
    other = client.put(
        f"{API}/vault/head",
        json=served,
        headers={"Authorization": f"Bearer {stranger.api.token}"},
    )
    assert other.status_code == 422
    # The same head again is stale for its owner: sequence numbers only go up.
    again = client.put(
        f"{API}/vault/head", json=served, headers={"Authorization": f"Bearer {owner.api.token}"}
    )
    assert again.status_code == 409 and again.json()["code"] == "vault_head_stale"
    assert client.post(f"{API}/journal/refusals", json={"reason": "rewound"}).status_code == 401
    assert (
        client.post(
            f"{API}/journal/refusals",
            json={"reason": "rewound"},
            headers={"Authorization": f"Bearer {owner.api.token}"},
        ).status_code
        == 204
    )
    assert refusals(owner) == ["rewound"]
    assert refusals(stranger) == []
