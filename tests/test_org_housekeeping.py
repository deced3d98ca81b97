"""Organisation housekeeping (issue 16, item 5): roles, the last-admin rule (also under
concurrency, over real HTTP), account deletion's pre-checks, the public view of an office, and
a member's team key after the admin who sealed it deleted their account.

Every test runs on SQLite, and on PostgreSQL when WALLET_TEST_DATABASE_URL is set."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from sharing.organisations import service as orgs
from sharing.organisations.models import Organisation, OrgMember
from sharing.organisations.schemas import RoleChange
from storage.factory import make_store
from tests.conftest import TEST_PASSPHRASE, LiveServer, WalletApp, run_cli, run_live_server
from tests.test_cli import assert_plain_failure
from tests.test_grants import write_file
from wallet.accounts import deletion
from wallet.accounts import service as accounts
from wallet.accounts.models import Account
from wallet.client import ApiClient, Vault
from wallet.client import organisations as orglib
from wallet.client.api import ApiError
from wallet.client.contacts import PinStore
from wallet.client.grants import create_org_grant, reader_for, received, received_documents
from wallet.db import make_engine
from wallet.server import hooks

API = "/api/v1"


@dataclass
class Team:
    handle: str
    org_id: str
    code: str
    first: Vault  # admin, created the organisation
    second: Vault  # admin
    worker: Vault


def make_team(new_vault: Callable[[], Vault]) -> Team:
    first, second, worker = new_vault(), new_vault(), new_vault()
    created = orglib.create_org(first, f"CPAS Housekeeping {secrets.token_hex(3)}")
    pins = PinStore(None)
    orglib.add_member(first, created.handle, second.account["handle"], role="admin", pins=pins)
    orglib.add_member(first, created.handle, worker.account["handle"], pins=pins)
    return Team(created.handle, created.id, created.safety_code, first, second, worker)


def admins(url: str, org_id: str) -> list[str]:
    engine = make_engine(url)
    try:
        with Session(engine) as db:
            return sorted(
                db.exec(
                    select(Account.handle)
                    .join(OrgMember, col(OrgMember.account_id) == col(Account.id))
                    .where(OrgMember.org_id == org_id)
                    .where(OrgMember.role == "admin")
                ).all()
            )
    finally:
        engine.dispose()


def failure(call: Callable[[], Any]) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call()
    return caught.value


# --- the service, without HTTP ---------------------------------------------------------------


def test_service_refuses_the_last_admin_and_lets_a_lone_admin_go(wallet_app: WalletApp) -> None:
    team = make_team(wallet_app.new_vault)
    hooks.install()  # what create_app does; a second install replaces, never doubles
    hooks.install()
    assert deletion.registered() == ["organisations.last_admin"]
    engine = make_engine(wallet_app.database.url)
    store = make_store(wallet_app.settings)
    try:
        with Session(engine) as db:
            first = accounts.find_by_handle(db, team.first.account["handle"])
            second = accounts.find_by_handle(db, team.second.account["handle"])
            assert first is not None and second is not None
            # Two admins: either may step down, and then the other is the last one.
            orgs.change_role(db, first, team.handle, second.handle, RoleChange(role="worker"))
            db.commit()
            with pytest.raises(orgs.LastAdmin) as caught:
                orgs.change_role(db, first, team.handle, first.handle, RoleChange(role="worker"))
            assert caught.value.code == "last_admin" and caught.value.status_code == 409
            with pytest.raises(orgs.LastAdmin):
                orgs.check_account_deletion(db, first)
            orgs.check_account_deletion(db, second)  # a worker may always go
            db.rollback()
        with Session(engine) as db:
            first = accounts.find_by_handle(db, team.first.account["handle"])
            assert first is not None
            auth_key = team.first.current_auth_key(TEST_PASSPHRASE)
            # Through the accounts service, which knows nothing of organisations.
            with pytest.raises(orgs.LastAdmin):
                accounts.delete_account(db, store, first, auth_key)
            db.rollback()
            assert accounts.find_by_handle(db, team.first.account["handle"]) is not None
        # Alone in an organisation, nobody is left without an admin: the account may go.
        loner = wallet_app.new_vault()
        orglib.create_org(loner, f"Alone {secrets.token_hex(3)}")
        with Session(engine) as db:
            account = accounts.find_by_handle(db, loner.account["handle"])
            assert account is not None
            accounts.delete_account(db, store, account, loner.current_auth_key(TEST_PASSPHRASE))
            assert accounts.find_by_handle(db, loner.account["handle"]) is None
    finally:
        engine.dispose()


# --- over HTTP -------------------------------------------------------------------------------


def test_the_last_admin_gets_409_last_admin_everywhere(wallet_app: WalletApp) -> None:
    team = make_team(wallet_app.new_vault)
    first, second = team.first.account["handle"], team.second.account["handle"]
    orglib.change_role(team.first, team.handle, second, "worker")
    # Demoting oneself, being removed (or removing oneself) and deleting one's account.
    for attempt in (
        lambda: orglib.change_role(team.first, team.handle, first, "worker"),
        lambda: orglib.remove_member(team.first, team.handle, first, pins=PinStore(None)),
        lambda: team.first.delete_account(TEST_PASSPHRASE),
    ):
        refused = failure(attempt)
        assert refused.status == 409 and refused.code == "last_admin", refused.message
        assert f"last admin of {team.handle}" in refused.message
        assert "Make another member admin first" in refused.message
    # Nothing changed: still the admin, still an account, still the same team key.
    detail = orglib.org_detail(team.first, team.handle)
    assert detail["role"] == "admin" and detail["epoch"] == 1
    deleting = failure(lambda: team.first.delete_account(TEST_PASSPHRASE))
    assert "Nothing was deleted" in deleting.message
    # A worker leaves freely; naming another admin lets the first one go.
    team.worker.delete_account(TEST_PASSPHRASE)
    orglib.change_role(team.first, team.handle, second, "admin")
    team.first.delete_account(TEST_PASSPHRASE)
    assert admins(wallet_app.database.url, team.org_id) == [second]
    public = orglib.public_team(team.second, team.handle)
    assert public["admins"] == [second]


def test_a_member_still_opens_the_team_key_after_the_sealer_deleted_their_account(
    wallet_app: WalletApp, tmp_path: Path
) -> None:
    """The lost attempt's bug: B's copy was checked against A's live account, gone with it."""
    a, b, c, owner = (wallet_app.new_vault() for _ in range(4))
    created = orglib.create_org(a, f"CPAS Sealer {secrets.token_hex(3)}")
    pins_a = PinStore(tmp_path / "a-pins.json")
    orglib.add_member(a, created.handle, b.account["handle"], pins=pins_a)  # A seals B's copy
    orglib.add_member(a, created.handle, c.account["handle"], pins=pins_a)
    orglib.change_role(a, created.handle, c.account["handle"], "admin")  # A names C
    doc_id, _ = owner.upload(write_file(tmp_path / "p.pdf", "payslip"), "payslip", "Payslip")
    grant = create_org_grant(
        owner,
        created.handle,
        purpose="Income file",
        document_ids=[doc_id],
        types=[],
        fields=[],
        pins=PinStore(None),
    )
    pins_b = PinStore(tmp_path / "b-pins.json")
    before = orglib.team_key(b, created.handle, pins_b)  # B pins A as the sealer
    a.delete_account(TEST_PASSPHRASE)

    detail = orglib.org_detail(b, created.handle)
    assert detail["my_copy"]["sealed_by"]["handle"] == a.account["handle"]
    after = orglib.open_team_key(b, detail, pins_b)  # the seal still checks, pin and all
    assert after.key_id == before.key_id
    [given] = [g for g in received(b, PinStore(None)) if g["id"] == grant.id]
    team = reader_for(b, given, PinStore(None))
    titles = [
        d.meta["title"]
        for d in received_documents(b, grant.id, owner.keys.public_signing_key, team)
    ]
    assert titles == ["Payslip"]
    # Someone who takes the deleted admin's handle gets nothing out of it: the copy names the
    # keys that signed, and B's pin refuses any other keys under that name.
    wallet_app.new_vault(handle=a.account["handle"])
    assert orglib.team_key(b, created.handle, pins_b).key_id == before.key_id
    # C, the admin A named, runs the organisation on: a rotation reseals B's copy under C.
    orglib.rotate(c, created.handle, pins=PinStore(None))
    resealed = orglib.org_detail(b, created.handle)["my_copy"]["sealed_by"]
    assert resealed["handle"] == c.account["handle"]
    orglib.team_key(b, created.handle, PinStore(None))


def test_the_public_view_names_the_office_its_code_and_its_admins(wallet_app: WalletApp) -> None:
    team = make_team(wallet_app.new_vault)
    outsider = wallet_app.new_vault()
    first, second = team.first.account["handle"], team.second.account["handle"]
    public = orglib.public_team(outsider, team.handle)
    assert public["display_name"].startswith("CPAS Housekeeping")
    assert public["safety_code"] == team.code
    assert public["admins"] == sorted([first, second])
    assert team.worker.account["handle"] not in str(public)  # workers stay unnamed
    checked = orglib.verified_team(outsider, team.handle, pins=PinStore(None))
    assert checked.safety_code == team.code and checked.admins == tuple(sorted([first, second]))
    orglib.change_role(team.first, team.handle, second, "worker")
    assert orglib.public_team(outsider, team.handle)["admins"] == [first]
    # After a rotation the code is the new key's.
    rotation = orglib.rotate(team.first, team.handle, pins=PinStore(None))
    assert orglib.public_team(outsider, team.handle)["safety_code"] == rotation.safety_code
    http = wallet_app.client
    assert http.get(f"{API}/orgs/{team.handle}/public").status_code == 401
    unknown = outsider.api.request(
        "GET", f"{API}/orgs/nowhere-{secrets.token_hex(3)}/public", ok=(404,)
    )
    assert unknown.json()["code"] == "not_found"
    page = http.get(f"/o/{team.handle}")
    assert page.status_code == 200 and 'data-page="org_public"' in page.text
    assert http.get("/o/Not_A_Handle!").status_code == 422  # as /orgs/{org} answers


def test_cli_role_and_show_for_outsiders(cli_env: dict[str, str], tmp_path: Path) -> None:
    def person(name: str) -> tuple[dict[str, str], str]:
        env = {**cli_env, "WALLET_HOME": str(tmp_path / f"home-{name}")}
        handle = f"{name}-{secrets.token_hex(3)}"
        run_cli(env, "account", "create", "--handle", handle)
        return env, handle

    admin, admin_handle = person("admin")
    colleague, colleague_handle = person("colleague")
    owner, _owner_handle = person("owner")
    created = run_cli(admin, "org", "create", f"CPAS Show {secrets.token_hex(2)}").stdout
    handle = created.splitlines()[0].split(": ")[1]
    code = created.splitlines()[1].split(": ")[1]
    run_cli(admin, "org", "member", "add", handle, colleague_handle)
    refused = run_cli(admin, "org", "member", "role", handle, admin_handle, "worker", check=False)
    assert_plain_failure(refused, "is the last admin of")
    promoted = run_cli(admin, "org", "member", "role", handle, colleague_handle, "admin").stdout
    assert f"{colleague_handle} is now admin of {handle}" in promoted
    shown = run_cli(owner, "org", "show", handle).stdout
    assert f"Team safety code: {code}" in shown
    assert f"Admins: {', '.join(sorted([admin_handle, colleague_handle]))}" in shown
    assert "First time with this organisation" in shown
    again = run_cli(owner, "org", "show", handle).stdout
    assert "First time" not in again
    member_view = run_cli(colleague, "org", "show", handle).stdout
    assert "you are admin" in member_view and admin_handle in member_view
    gone = run_cli(owner, "org", "show", "no-such-office", check=False)
    assert_plain_failure(gone, "We know no organisation by this name")


# --- concurrency, over real HTTP ---------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with run_live_server(tmp_path_factory.mktemp("org-race")) as live:
        yield live


def at_once(*calls: tuple[Vault, str, Callable[[], Any]]) -> list[str]:
    """Runs each call in its own thread; each waits at a barrier right before its one POST to a
    path ending in the given suffix. Returns 'ok' or the error code of each."""
    barrier = threading.Barrier(len(calls))
    results: list[str] = [""] * len(calls)

    def run(index: int, vault: Vault, suffix: str, call: Callable[[], Any]) -> None:
        original = vault.api.api

        def gated(method: str, path: str, **kwargs: Any) -> Any:
            if method == "POST" and path.endswith(suffix):
                barrier.wait(timeout=60)
            return original(method, path, **kwargs)

        vault.api.api = gated  # type: ignore[method-assign]
        try:
            call()
            results[index] = "ok"
        except ApiError as exc:
            results[index] = exc.code or str(exc.status)
        finally:
            vault.api.api = original  # type: ignore[method-assign]

    threads = [threading.Thread(target=run, args=(i, *call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert all(results), results
    return results


def live_vault(server: LiveServer) -> Vault:
    vault, _recovery = Vault.create_account(
        ApiClient(server.url), f"race-{secrets.token_hex(4)}", TEST_PASSPHRASE
    )
    return vault


ROUNDS = 3


def test_two_admins_demoting_each_other_at_once_leave_one(server: LiveServer) -> None:
    for _ in range(ROUNDS):
        team = make_team(lambda: live_vault(server))
        first, second = team.first.account["handle"], team.second.account["handle"]
        results = at_once(
            (team.first, "/role", lambda t=team, h=second: orglib.change_role(t.first, t.handle, h, "worker")),
            (team.second, "/role", lambda t=team, h=first: orglib.change_role(t.second, t.handle, h, "worker")),
        )  # fmt: skip
        assert results.count("ok") == 1, results
        # The loser was demoted first (403) or saw itself the last admin (409).
        assert set(results) - {"ok"} <= {"forbidden", "last_admin"}, results
        assert len(admins(server.database.url, team.org_id)) == 1


def test_two_admins_stepping_down_at_once_leave_one(server: LiveServer) -> None:
    for _ in range(ROUNDS):
        team = make_team(lambda: live_vault(server))
        first, second = team.first.account["handle"], team.second.account["handle"]
        results = at_once(
            (team.first, "/role", lambda t=team, h=first: orglib.change_role(t.first, t.handle, h, "worker")),
            (team.second, "/role", lambda t=team, h=second: orglib.change_role(t.second, t.handle, h, "worker")),
        )  # fmt: skip
        assert sorted(results) == ["last_admin", "ok"], results
        assert len(admins(server.database.url, team.org_id)) == 1


def test_two_admins_removing_each_other_at_once_leave_one(server: LiveServer) -> None:
    for _ in range(ROUNDS):
        team = make_team(lambda: live_vault(server))
        first, second = team.first.account["handle"], team.second.account["handle"]
        results = at_once(
            (team.first, "/rotate", lambda t=team, h=second: orglib.remove_member(t.first, t.handle, h, pins=PinStore(None))),
            (team.second, "/rotate", lambda t=team, h=first: orglib.remove_member(t.second, t.handle, h, pins=PinStore(None))),
        )  # fmt: skip
        assert results.count("ok") == 1, results
        left = admins(server.database.url, team.org_id)
        assert len(left) == 1
        # The one left holds the new team key.
        winner = team.first if left == [first] else team.second
        orglib.team_key(winner, team.handle, PinStore(None))


def test_two_admins_deleting_their_accounts_at_once_leave_one(server: LiveServer) -> None:
    for _ in range(ROUNDS):
        team = make_team(lambda: live_vault(server))
        results = at_once(
            (team.first, "/accounts/me/delete", lambda t=team: t.first.delete_account(TEST_PASSPHRASE)),
            (team.second, "/accounts/me/delete", lambda t=team: t.second.delete_account(TEST_PASSPHRASE)),
        )  # fmt: skip
        assert sorted(results) == ["last_admin", "ok"], results
        assert len(admins(server.database.url, team.org_id)) == 1


def test_an_admin_deleting_while_the_other_steps_down_leaves_one(server: LiveServer) -> None:
    for _ in range(ROUNDS):
        team = make_team(lambda: live_vault(server))
        second = team.second.account["handle"]
        results = at_once(
            (team.first, "/accounts/me/delete", lambda t=team: t.first.delete_account(TEST_PASSPHRASE)),
            (team.second, "/role", lambda t=team, h=second: orglib.change_role(t.second, t.handle, h, "worker")),
        )  # fmt: skip
        assert sorted(results) == ["last_admin", "ok"], results
        assert len(admins(server.database.url, team.org_id)) == 1
        engine = make_engine(server.database.url)
        try:
            with Session(engine) as db:
                members = db.exec(
                    select(func.count())
                    .select_from(OrgMember)
                    .where(OrgMember.org_id == team.org_id)
                ).one()
                assert members >= 2
                assert db.get(Organisation, team.org_id) is not None
        finally:
            engine.dispose()


# --- migration 0014: copies sealed before it get their sealer's keys -----------------------


def test_migration_0014_keeps_the_sealers_keys_of_existing_copies(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from alembic import command
    from sqlalchemy import MetaData, insert

    from tests.conftest import fresh_database
    from wallet.db import alembic_config, migrate

    def row(table: Any, **given: object) -> dict[str, object]:
        values: dict[str, object] = {}
        for column in table.columns:
            if column.name in given or column.nullable:
                continue
            kind = column.type.python_type
            values[column.name] = {
                bytes: secrets.token_bytes(32),
                int: 1,
                bool: False,
                datetime: datetime.now(UTC),
            }.get(kind, secrets.token_hex(8)[: getattr(column.type, "length", None) or 16])
        return {**values, **given}

    with fresh_database(tmp_path) as database:
        command.upgrade(alembic_config(database.url), "0013")
        engine = make_engine(database.url)
        tables = MetaData()
        tables.reflect(engine)
        account, org, member = (
            tables.tables["account"],
            tables.tables["organisation"],
            tables.tables["org_member"],
        )
        admin = row(account, id="admin", handle="anna-admin")
        with engine.begin() as db:
            db.execute(insert(account).values(admin))
            db.execute(insert(account).values(row(account, id="bob", handle="bob")))
            db.execute(insert(account).values(row(account, id="carl", handle="carl")))
            db.execute(insert(org).values(row(org, id="org", handle="cpas-x")))
            db.execute(
                insert(member).values(
                    row(member, org_id="org", account_id="bob", sealed_by="admin")
                )
            )
            # Sealed by an admin who deleted their account before 0014: nothing to copy.
            db.execute(
                insert(member).values(
                    row(member, org_id="org", account_id="carl", sealed_by="gone")
                )
            )
        engine.dispose()
        migrate(database.url)
        engine = make_engine(database.url)
        try:
            with Session(engine) as db:
                rows = {m.account_id: m for m in db.exec(select(OrgMember)).all()}
        finally:
            engine.dispose()
        bob, carl = rows["bob"], rows["carl"]
        assert (bob.sealer_handle, bob.sealer_key_id) == ("anna-admin", admin["key_id"])
        assert bob.sealer_public_encryption_key == admin["public_encryption_key"]
        assert bob.sealer_public_signing_key == admin["public_signing_key"]
        assert carl.sealer_handle is None and carl.sealer_public_signing_key is None
