"""KDF pinning in the command-line client, against a real server process whose operator edits
the database under it (SQLite, or PostgreSQL with WALLET_TEST_DATABASE_URL).

A hostile operator answers prelogin with a cheaper Argon2id cost, or with another account's
salt, so that the auth keys clients send can be attacked with one cheap dictionary pass. The
client remembers each handle's salt and cost and refuses such an answer before it derives or
sends anything: the server sees no login attempt at all.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import TEST_PASSPHRASE, LiveServer, run_cli, run_live_server
from wallet.client.errors import VaultError
from wallet.client.kdfpins import KdfPins, KdfRefused, salt_digest

# Accounts on this server cost ops 2 / 16 KiB (cheap for tests), so the operator can lower it.
COST = (2, 16384)
LOWER = (1, 8192)
NEW_PASSPHRASE = "a brand new passphrase for the pin test"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    extra = {"WALLET_KDF_OPSLIMIT": str(COST[0]), "WALLET_KDF_MEMLIMIT": str(COST[1])}
    with run_live_server(tmp_path_factory.mktemp("kdfpin"), extra) as live:
        yield live


def env_for(server: LiveServer, home: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "WALLET_SERVER": server.url,
        "WALLET_HOME": str(home),
        "WALLET_PASSPHRASE": TEST_PASSPHRASE,
        **extra,
    }


def sql(server: LiveServer, statement: str, **params: object) -> list[tuple]:
    """What the operator does: edit the live server's database directly."""
    engine = create_engine(server.database.url)
    try:
        with engine.begin() as connection:
            result = connection.execute(text(statement), params)
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


def account_kdf(server: LiveServer, handle: str) -> tuple[bytes, int, int]:
    [(salt, ops, mem)] = sql(
        server,
        "SELECT kdf_salt, kdf_opslimit, kdf_memlimit FROM account WHERE handle = :h",
        h=handle,
    )
    return bytes(salt), ops, mem


def set_kdf(server: LiveServer, handle: str, **columns: object) -> None:
    assignments = ", ".join(f"{name} = :{name}" for name in columns)
    sql(
        server, f"UPDATE account SET {assignments} WHERE handle = :handle", handle=handle, **columns
    )


def auth_attempts(server: LiveServer, handle: str) -> tuple[int, int]:
    """What the server saw of logins for this handle: journal entries (a started session or a
    failed login) and the failures the login throttle counted."""
    [(journal,)] = sql(
        server,
        "SELECT count(*) FROM journal_entry j JOIN account a ON a.id = j.owner_id "
        "WHERE a.handle = :h AND j.event IN ('session_started', 'login_failed')",
        h=handle,
    )
    [(failures,)] = sql(server, "SELECT coalesce(sum(failures), 0) FROM login_throttle")
    return int(journal), int(failures)


def create(env: dict[str, str], handle: str) -> str:
    """Creates an account through the CLI and logs out; returns the recovery key."""
    out = run_cli(env, "account", "create", "--handle", handle).stdout
    run_cli(env, "logout")
    match = re.search(r"WR1-[A-Z2-7-]+", out)
    assert match, out
    return match.group(0)


def pins_file(home: Path) -> dict:
    return json.loads((home / "kdf-pins.json").read_text())


def pinned(home: Path, server: LiveServer, handle: str) -> dict:
    return pins_file(home)["servers"][server.url][handle]


def refused(result, words: str) -> None:  # type: ignore[no-untyped-def]
    assert result.returncode != 0, result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr  # one plain line, no traceback
    assert words in lines[0], lines[0]
    assert "Nothing was sent" in lines[0]


def test_a_lowered_cost_after_a_first_login_is_refused_before_anything_is_sent(
    server: LiveServer, tmp_path: Path
) -> None:
    env = env_for(server, tmp_path / "home")
    create(env, "pin-cost")
    run_cli(env, "login", "--handle", "pin-cost")
    run_cli(env, "logout")
    salt, ops, mem = account_kdf(server, "pin-cost")
    pin = pinned(tmp_path / "home", server, "pin-cost")
    assert pin == {"salt_sha256": salt_digest(salt), "opslimit": ops, "memlimit": mem}
    assert stat.S_IMODE((tmp_path / "home" / "kdf-pins.json").stat().st_mode) == 0o600
    assert "pin-cost" not in json.dumps(pin)  # the salt is kept as a hash only

    set_kdf(server, "pin-cost", kdf_opslimit=LOWER[0], kdf_memlimit=LOWER[1])
    before = auth_attempts(server, "pin-cost")
    refused(run_cli(env, "login", "--handle", "pin-cost", check=False), "weaker protection")
    assert auth_attempts(server, "pin-cost") == before
    # Saying the passphrase changed elsewhere does not allow a weaker cost either.
    refused(
        run_cli(env, "login", "--handle", "pin-cost", "--passphrase-changed", check=False),
        "weaker protection",
    )
    assert auth_attempts(server, "pin-cost") == before

    # The check is what stopped it: a computer that never saw this handle (with the tests' low
    # floor) derives under the cheap cost and sends an auth key, which the server counts.
    fresh = run_cli(
        env_for(server, tmp_path / "other"), "login", "--handle", "pin-cost", check=False
    )
    assert fresh.returncode != 0
    assert auth_attempts(server, "pin-cost") != before


def test_a_salt_shared_with_another_known_handle_is_refused(
    server: LiveServer, tmp_path: Path
) -> None:
    env = env_for(server, tmp_path / "home")
    create(env, "pin-first")
    create(env, "pin-second")
    first_salt, _, _ = account_kdf(server, "pin-first")

    set_kdf(server, "pin-second", kdf_salt=first_salt)
    before = auth_attempts(server, "pin-second")
    refused(
        run_cli(env, "login", "--handle", "pin-second", check=False),
        "same passphrase protection as another account",
    )
    refused(
        run_cli(env, "login", "--handle", "pin-second", "--passphrase-changed", check=False),
        "same passphrase protection as another account",
    )
    assert auth_attempts(server, "pin-second") == before
    # The first account still logs in.
    run_cli(env, "login", "--handle", "pin-first")


def test_an_unseen_handle_below_the_default_cost_is_refused(
    server: LiveServer, tmp_path: Path
) -> None:
    create(env_for(server, tmp_path / "maker"), "pin-unseen")
    # This computer never saw the handle and keeps the real floor: the default cost for new
    # accounts (ops 10, 128 MiB), far above this server's test cost.
    env = env_for(server, tmp_path / "home", WALLET_CLIENT_KDF_FLOOR="")
    before = auth_attempts(server, "pin-unseen")
    refused(run_cli(env, "login", "--handle", "pin-unseen", check=False), "weak protection")
    assert auth_attempts(server, "pin-unseen") == before
    assert not (tmp_path / "home" / "kdf-pins.json").exists()


def test_a_new_salt_is_refused_unless_the_person_changed_the_passphrase_elsewhere(
    server: LiveServer, tmp_path: Path
) -> None:
    laptop = env_for(server, tmp_path / "laptop")
    create(laptop, "pin-moved")
    # The operator swaps in another salt (and a higher cost, which alone would be fine).
    set_kdf(server, "pin-moved", kdf_salt=os.urandom(16), kdf_opslimit=COST[0] + 1)
    before = auth_attempts(server, "pin-moved")
    refused(run_cli(laptop, "login", "--handle", "pin-moved", check=False), "changed")
    assert auth_attempts(server, "pin-moved") == before


def test_a_passphrase_change_and_a_recovery_move_the_pin(
    server: LiveServer, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    env = env_for(server, home)
    recovery = create(env, "pin-owner")
    run_cli(env, "login", "--handle", "pin-owner")
    changed = {**env, "WALLET_NEW_PASSPHRASE": NEW_PASSPHRASE}
    run_cli(changed, "account", "passphrase")
    salt, ops, mem = account_kdf(server, "pin-owner")
    assert pinned(home, server, "pin-owner")["salt_sha256"] == salt_digest(salt)
    run_cli(env, "logout")
    run_cli({**env, "WALLET_PASSPHRASE": NEW_PASSPHRASE}, "login", "--handle", "pin-owner")
    run_cli(env, "logout")

    recovered = {**env, "WALLET_RECOVERY_KEY": recovery, "WALLET_NEW_PASSPHRASE": TEST_PASSPHRASE}
    run_cli(recovered, "account", "recover", "--handle", "pin-owner")
    salt, ops, mem = account_kdf(server, "pin-owner")
    assert pinned(home, server, "pin-owner") == {
        "salt_sha256": salt_digest(salt),
        "opslimit": ops,
        "memlimit": mem,
    }
    run_cli(env, "logout")
    run_cli(env, "login", "--handle", "pin-owner")

    # A passphrase changed on another computer: this one sees a new salt, refuses it, and
    # accepts it once the person says they changed it.
    phone = env_for(server, tmp_path / "phone")
    run_cli(phone, "login", "--handle", "pin-owner")
    run_cli({**phone, "WALLET_NEW_PASSPHRASE": NEW_PASSPHRASE}, "account", "passphrase")
    run_cli(env, "logout")
    moved = {**env, "WALLET_PASSPHRASE": NEW_PASSPHRASE}
    before = auth_attempts(server, "pin-owner")
    refused(run_cli(moved, "login", "--handle", "pin-owner", check=False), "changed")
    assert auth_attempts(server, "pin-owner") == before
    run_cli(moved, "login", "--handle", "pin-owner", "--passphrase-changed")
    salt, _, _ = account_kdf(server, "pin-owner")
    assert pinned(home, server, "pin-owner")["salt_sha256"] == salt_digest(salt)
    run_cli(moved, "login", "--handle", "pin-owner")


def test_a_new_passphrase_never_gets_a_lower_cost_than_the_pinned_one(
    server: LiveServer, tmp_path: Path
) -> None:
    """This device saw a higher cost for the account than the server now asks of new
    passphrases: the new passphrase keeps the higher cost, so the pin never goes down."""
    home = tmp_path / "home"
    env = env_for(server, home)
    recovery = create(env, "pin-keep")
    pins = pins_file(home)
    pins["servers"][server.url]["pin-keep"]["opslimit"] = COST[0] + 1
    (home / "kdf-pins.json").write_text(json.dumps(pins))

    recovered = {**env, "WALLET_RECOVERY_KEY": recovery, "WALLET_NEW_PASSPHRASE": NEW_PASSPHRASE}
    run_cli(recovered, "account", "recover", "--handle", "pin-keep")
    salt, ops, mem = account_kdf(server, "pin-keep")
    assert (ops, mem) == (COST[0] + 1, COST[1])
    assert pinned(home, server, "pin-keep") == {
        "salt_sha256": salt_digest(salt),
        "opslimit": ops,
        "memlimit": mem,
    }
    run_cli(env, "logout")
    run_cli({**env, "WALLET_PASSPHRASE": NEW_PASSPHRASE}, "login", "--handle", "pin-keep")


def test_the_pin_file_rules_without_a_server(tmp_path: Path) -> None:
    path = tmp_path / "home" / "kdf-pins.json"
    KdfPins(path).pin("http://wallet.example/", "Alice", b"s" * 16, *COST)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    pins = KdfPins(path)
    server = "http://wallet.example"

    def reason(handle: str, salt: bytes, cost: tuple[int, int], **kw: bool) -> str:
        try:
            pins.check(server, handle, salt, *cost, **kw)
        except KdfRefused as exc:
            return exc.reason
        return "ok"

    assert reason("alice", b"s" * 16, COST) == "ok"
    assert reason("ALICE ", b"s" * 16, (COST[0] + 1, COST[1])) == "ok"  # a higher cost is fine
    assert reason("alice", b"s" * 16, (COST[0] - 1, COST[1])) == "weaker"
    assert reason("alice", b"s" * 16, (COST[0], COST[1] - 1024)) == "weaker"
    assert reason("alice", b"t" * 16, COST) == "changed"
    assert reason("alice", b"t" * 16, COST, new_salt_ok=True) == "ok"
    assert reason("alice", b"t" * 16, LOWER, new_salt_ok=True) == "weaker"
    assert reason("bob", b"s" * 16, COST) == "shared"
    assert reason("bob", b"s" * 16, COST, new_salt_ok=True) == "shared"
    assert reason("bob", b"b" * 16, COST) == "ok"
    # The same handle reached through another address is not "another account".
    pins.check("http://127.0.0.1:8000", "alice", b"s" * 16, *COST)
    pins.forget(server, "alice")
    assert KdfPins(path).get(server, "alice") is None

    path.write_text("{damaged")
    with pytest.raises(VaultError, match="damaged"):
        KdfPins(path)


def test_the_floor_is_for_unseen_handles_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An account made when the default cost was lower keeps opening on a device that knows
    it; a device that never saw it refuses that cost."""
    monkeypatch.setenv("WALLET_CLIENT_KDF_FLOOR", "10,134217728")
    old_cost = (3, 64 * 1024 * 1024)
    pins = KdfPins(tmp_path / "kdf-pins.json")
    pins.pin("http://wallet.example", "old-account", b"o" * 16, *old_cost)
    pins.check("http://wallet.example", "old-account", b"o" * 16, *old_cost)
    with pytest.raises(KdfRefused) as refused:
        pins.check("http://wallet.example", "other-account", b"x" * 16, *old_cost)
    assert refused.value.reason == "weak"
