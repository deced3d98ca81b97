"""Share links https://HOST/s/<id>#<secret>: security properties 2, 4 and 5, end to end.

Owner and redeemer use the real client (wallet.client.links) against the in-process app; raw
HTTP is used where the exact answer matters (bodies, statuses, headers).
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import re
import secrets
import shutil
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import nacl.signing
import pytest
from sqlalchemy import create_engine, func, inspect, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from sharing.links.models import LinkDownloadSession, LinkItem, ShareLink
from sharing.links.service import (
    DOES_NOT_WORK,
    DOWNLOAD_ENDED,
    EXPIRED,
    LOCKED,
    PIN_NEEDED,
    REVOKED,
    USED,
    _pin_digest,
    _share_key,
)
from tests.conftest import AppFactory, WalletApp, using_postgres
from tests.test_zero_knowledge import blob_contents, database_contents, hits
from wallet.client import ApiError, Vault
from wallet.client.journal import fetch_entries
from wallet.client.journal import verify as verify_journal
from wallet.client.links import (
    CreatedLink,
    create_link,
    open_link,
    parse_link,
    preview_link,
)
from wallet.client.vault import IntegrityFailure, VaultError
from wallet.crypto import age
from wallet.crypto import links as linkcrypto
from wallet.crypto.encoding import b64d, b64e
from wallet.crypto.signing import sign
from wallet.protocol.journal_chain import verify_chain

API = "/api/v1"
PIN = "4821"


# --- helpers --------------------------------------------------------------------------------


def upload(vault: Vault, folder: Path, name: str, data: bytes, title: str) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    document_id, _version = vault.upload(path, "other", title)
    return document_id


def owner_with_documents(app: WalletApp, tmp_path: Path) -> tuple[Vault, list[str], list[bytes]]:
    vault = app.new_vault()
    contents = [
        b"%PDF-1.4\n" + secrets.token_bytes(70_000),
        ("payslip \u00e9t\u00e9 " * 500).encode() + bytes(range(256)),
    ]
    ids = [
        upload(vault, tmp_path / "src", "lease.pdf", contents[0], "Lease"),
        upload(vault, tmp_path / "src", "payslip.txt", contents[1], "Payslip"),
    ]
    return vault, ids, contents


def proof(client: Any, link_id: str, secret: bytes) -> dict[str, str]:
    """A fresh challenge, answered with the key derived from `secret` (as the client does)."""
    challenge = client.post(f"{API}/links/{link_id}/challenge")
    assert challenge.status_code == 200, challenge.text
    message = linkcrypto.challenge_message(link_id, b64d(challenge.json()["nonce"]))
    return {
        "challenge_id": challenge.json()["challenge_id"],
        "proof": b64e(linkcrypto.proof_key(secret, link_id).sign(message).signature),
    }


def preview_raw(client: Any, link_id: str, secret: bytes) -> httpx.Response:
    return client.post(f"{API}/links/{link_id}/preview", json=proof(client, link_id, secret))


def redeem_raw(client: Any, link_id: str, secret: bytes, pin: str | None = None) -> httpx.Response:
    body = proof(client, link_id, secret)
    if pin is not None:
        body["pin_check"] = b64e(linkcrypto.pin_check(secret, link_id, pin))
    return client.post(f"{API}/links/{link_id}/redeem", json=body)


def secret_of(link: CreatedLink) -> bytes:
    return parse_link(link.url).secret


def listed(vault: Vault, link_id: str) -> dict[str, Any]:
    [row] = [row for row in vault.api.api("GET", "/links").json() if row["id"] == link_id]
    return row


def link_events(vault: Vault, link_id: str) -> list[dict[str, Any]]:
    entries = fetch_entries(vault)
    assert verify_chain(entries) == len(entries)
    return [e for e in entries if link_id in (e["subject_id"], e["actor_id"])]


def api_error(call: Any, *args: Any, **kwargs: Any) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call(*args, **kwargs)
    return caught.value


def engine_of(app: WalletApp) -> Engine:
    return app.client.app.state.engine


def stored_link(app: WalletApp, link_id: str) -> ShareLink | None:
    with Session(engine_of(app), expire_on_commit=False) as db:
        return db.get(ShareLink, link_id)


def count_rows(app: WalletApp, model: type) -> int:
    with Session(engine_of(app)) as db:
        return db.execute(select(func.count()).select_from(model)).scalar_one()


def download_raw(client: Any, token: str, document_id: str, version: int = 1) -> httpx.Response:
    return client.get(
        f"{API}/links/files/{document_id}/versions/{version}",
        headers={"Authorization": f"Bearer {token}"},
    )


def open_package(
    secret: bytes, redeemed: dict[str, Any], link_id: str, pin: str | None = None
) -> dict[str, Any]:
    key = linkcrypto.link_key(secret, b64d(redeemed["server_share"]), pin, link_id)
    return json.loads(linkcrypto.open_sealed(key, b64d(redeemed["sealed_package"]), link_id))


# --- round trip ---------------------------------------------------------------------------


def test_round_trip_preview_consumes_nothing_and_redeem_gives_identical_files(
    wallet_app: WalletApp, tmp_path: Path
) -> None:
    vault, ids, contents = owner_with_documents(wallet_app, tmp_path)
    vault.set_profile_field("first_name", "Ana\u00efs")
    vault.set_profile_field("last_name", "not shared")
    link = create_link(
        vault, ids, fields=["first_name"], uses=1, purpose="Rental application, flat 3B"
    )
    assert re.fullmatch(r"http://testserver/s/[0-9a-f]{32}#[A-Za-z0-9_-]{43}", link.url)
    assert link.documents == 2
    redeemer = wallet_app.api()

    for _ in range(10):
        page = wallet_app.client.get(f"/s/{link.id}")
        assert page.status_code == 200
    for _ in range(3):
        shown = preview_link(link.url, redeemer)
        assert shown["purpose"] == "Rental application, flat 3B"
        assert shown["owner"] == vault.account["handle"]
        assert (shown["state"], shown["message"], shown["pin_required"]) == ("active", None, False)
        assert shown["documents"] == 2
    row = listed(vault, link.id)
    assert (row["state"], row["uses_left"], row["uses_total"]) == ("active", 1, 1)
    assert [e["event"] for e in link_events(vault, link.id)] == ["link_created"]

    opened = open_link(link.url, tmp_path / "received", api=redeemer)

    assert opened.purpose == "Rental application, flat 3B"
    assert opened.owner == vault.account["handle"]
    received = tmp_path / "received"
    assert sorted(p.name for p in received.iterdir()) == [
        "lease.pdf",
        "payslip.txt",
        "profile.json",
    ]
    assert (received / "lease.pdf").read_bytes() == contents[0]
    assert (received / "payslip.txt").read_bytes() == contents[1]
    assert json.loads((received / "profile.json").read_text()) == {"first_name": "Ana\u00efs"}
    assert opened.profile == {"first_name": "Ana\u00efs"}
    assert listed(vault, link.id)["uses_left"] == 0

    again = api_error(open_link, link.url, tmp_path / "again", api=redeemer)
    assert (again.status, again.message) == (410, USED)
    assert not (tmp_path / "again").exists()
    after = preview_link(link.url, redeemer)
    assert (after["state"], after["message"]) == ("used", USED)


def test_download_session_allows_retries_without_using_the_link_again(
    wallet_app: WalletApp, tmp_path: Path
) -> None:
    vault, ids, contents = owner_with_documents(wallet_app, tmp_path)
    link = create_link(vault, ids, uses=2)
    secret = secret_of(link)
    client = wallet_app.client

    first = redeem_raw(client, link.id, secret)
    assert first.status_code == 200, first.text
    assert first.json()["uses_left"] == 1
    token = first.json()["download_token"]
    package = open_package(secret, first.json(), link.id)
    by_id = {item["document_id"]: item for item in package["items"]}

    # A slow network: every file fetched three times in the same download session.
    for document_id, content in zip(ids, contents, strict=True):
        for _ in range(3):
            response = download_raw(client, token, document_id)
            assert response.status_code == 200, response.text
            assert hashlib.sha256(response.content).hexdigest() == by_id[document_id]["blob_sha256"]
            identity = age.parse_identity(by_id[document_id]["identity"])
            assert age.decrypt_bytes(response.content, [identity]) == content
    assert listed(vault, link.id)["uses_left"] == 1
    events = Counter(e["event"] for e in link_events(vault, link.id))
    assert (events["link_redeemed"], events["link_download"]) == (1, 6)

    # The last use; its session still serves a retry after the link is dead.
    last = redeem_raw(client, link.id, secret)
    assert last.status_code == 200 and last.json()["uses_left"] == 0
    assert download_raw(client, last.json()["download_token"], ids[0]).status_code == 200
    assert download_raw(client, last.json()["download_token"], ids[0]).status_code == 200
    assert download_raw(client, token, ids[1]).status_code == 200
    assert redeem_raw(client, link.id, secret).json()["detail"] == USED
    # A session token opens only this link's documents, and a made-up token nothing.
    stranger = upload(vault, tmp_path / "other", "x.txt", b"not shared", "Not shared")
    assert download_raw(client, token, stranger).status_code == 404
    fake = download_raw(client, secrets.token_urlsafe(32), ids[0])
    assert (fake.status_code, fake.json()["detail"]) == (401, DOWNLOAD_ENDED)


def test_link_page_is_the_same_for_every_id_and_consumes_nothing(
    wallet_app: WalletApp, tmp_path: Path
) -> None:
    vault, ids, _contents = owner_with_documents(wallet_app, tmp_path)
    link = create_link(vault, ids[:1], uses=1)
    client = wallet_app.client

    real = client.get(f"/s/{link.id}")
    unknown = client.get(f"/s/{secrets.token_hex(16)}")
    for response in (real, unknown):
        assert response.status_code == 200
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "no-store" in response.headers["cache-control"]
        assert response.headers["content-type"].startswith("text/html")
        assert "noindex" in response.headers["x-robots-tag"]
    assert real.content == unknown.content
    assert link.id not in real.text
    for _ in range(10):
        assert client.get(f"/s/{link.id}").content == real.content
        assert client.head(f"/s/{link.id}").status_code in (200, 405)

    assert listed(vault, link.id)["uses_left"] == 1
    assert [e["event"] for e in link_events(vault, link.id)] == ["link_created"]
    assert count_rows(wallet_app, LinkDownloadSession) == 0
    assert open_link(link.url, tmp_path / "out", api=wallet_app.api()).files


# --- no existence leak ----------------------------------------------------------------------


def test_without_the_secret_every_link_answers_the_same_404(
    make_app: AppFactory, tmp_path: Path
) -> None:
    app = make_app()
    elsewhere = make_app()
    vault, ids, _contents = owner_with_documents(app, tmp_path)
    client = app.client

    used = create_link(vault, ids[:1], uses=1)
    open_link(used.url, tmp_path / "used", api=app.api())
    live = create_link(vault, ids[:1], uses=1)
    live_secret = secret_of(live)
    other_vault = elsewhere.new_vault()
    foreign = create_link(
        other_vault, [upload(other_vault, tmp_path / "f", "f.txt", b"f", "F")], uses=1
    )
    # One character changed in the fragment, still a well-formed 32-byte secret.
    fragment = live.url.split("#", 1)[1]
    tampered_url = live.url[: -len(fragment)] + ("A" if fragment[0] != "A" else "B") + fragment[1:]
    tampered_secret = parse_link(tampered_url).secret
    assert tampered_secret != live_secret

    cases = {
        "unknown id": (secrets.token_hex(16), secrets.token_bytes(32)),
        "used link, wrong fragment": (used.id, secrets.token_bytes(32)),
        "live link, tampered fragment": (live.id, tampered_secret),
        "link of another server, its real secret": (foreign.id, secret_of(foreign)),
    }
    reference = preview_raw(client, secrets.token_hex(16), secrets.token_bytes(32))
    assert reference.status_code == 404
    assert reference.json()["detail"] == DOES_NOT_WORK
    for name, (link_id, secret) in cases.items():
        challenge = client.post(f"{API}/links/{link_id}/challenge")
        assert challenge.status_code == 200, name
        assert sorted(challenge.json()) == ["challenge_id", "expires_at", "nonce"], name
        for response in (
            preview_raw(client, link_id, secret),
            redeem_raw(client, link_id, secret),
            redeem_raw(client, link_id, secret, pin=PIN),
        ):
            assert response.status_code == 404, (name, response.text)
            assert response.content == reference.content, name
            assert response.headers.get("content-length") == reference.headers.get("content-length")

    # A replayed challenge, and one issued for another id, prove nothing either.
    body = proof(client, live.id, live_secret)
    assert client.post(f"{API}/links/{live.id}/preview", json=body).status_code == 200
    replay = client.post(f"{API}/links/{live.id}/preview", json=body)
    assert replay.content == reference.content
    moved = proof(client, used.id, live_secret)
    assert client.post(f"{API}/links/{live.id}/redeem", json=moved).content == reference.content

    # Positive controls: with the real secret the same links do answer.
    assert preview_raw(client, live.id, live_secret).json()["state"] == "active"
    gone = redeem_raw(client, used.id, secret_of(used))
    assert (gone.status_code, gone.json()["detail"]) == (410, USED)
    # Nothing was consumed by all of that, and the tampered URL tells the user plainly.
    assert listed(vault, live.id)["uses_left"] == 1
    error = api_error(open_link, tampered_url, tmp_path / "t", api=app.api())
    assert (error.status, error.message) == (404, DOES_NOT_WORK)
    assert open_link(live.url, tmp_path / "live", api=app.api()).files


# --- PIN ------------------------------------------------------------------------------------


def test_wrong_pins_never_use_the_link_and_five_lock_it(
    wallet_app: WalletApp, tmp_path: Path
) -> None:
    vault, ids, contents = owner_with_documents(wallet_app, tmp_path)
    link = create_link(vault, ids[:1], uses=3, pin=PIN)
    redeemer = wallet_app.api()
    assert preview_link(link.url, redeemer)["pin_required"] is True

    # The right PIN works (and a missing PIN is a wrong one, not a use).
    opened = open_link(link.url, tmp_path / "right", pin=PIN, api=redeemer)
    assert opened.files[0].read_bytes() == contents[0]
    assert listed(vault, link.id)["uses_left"] == 2

    # Forgetting the PIN is not a wrong guess: it says what is missing and costs no try.
    for _ in range(6):
        error = api_error(open_link, link.url, tmp_path / "nopin", api=redeemer)
        assert (error.status, error.message) == (403, PIN_NEEDED)
    assert (listed(vault, link.id)["failed_pins"], listed(vault, link.id)["uses_left"]) == (0, 2)

    answers = []
    for attempt, pin in enumerate(["0000", "4812", "48210", "1234", "9999", "1111"]):
        error = api_error(open_link, link.url, tmp_path / f"wrong{attempt}", pin=pin, api=redeemer)
        answers.append((error.status, error.message))
        row = listed(vault, link.id)
        assert row["uses_left"] == 2, f"wrong PIN {attempt + 1} used the link"
    assert answers == [
        (403, "Wrong PIN. You have 4 tries left."),
        (403, "Wrong PIN. You have 3 tries left."),
        (403, "Wrong PIN. You have 2 tries left."),
        (403, "Wrong PIN. You have 1 try left."),
        (423, LOCKED),  # the 5th wrong PIN locks the link
        (423, LOCKED),
    ]
    # Locked stays locked, even for the right PIN.
    error = api_error(open_link, link.url, tmp_path / "late", pin=PIN, api=redeemer)
    assert (error.status, error.message) == (423, LOCKED)
    row = listed(vault, link.id)
    assert (row["state"], row["failed_pins"], row["uses_left"]) == ("locked", 5, 2)
    assert preview_link(link.url, redeemer)["message"] == LOCKED

    events = [e for e in link_events(vault, link.id) if e["event"] != "link_download"]
    assert [e["event"] for e in events] == [
        "link_created",
        "link_redeemed",
        *["link_pin_failed"] * 5,
        "link_locked",
    ]
    failures = [json.loads(e["details"])["failures"] for e in events[2:7]]
    assert failures == [1, 2, 3, 4, 5]
    assert all(e["actor_kind"] == "link" for e in events[1:])


def test_a_wrong_pin_does_not_burn_the_last_use(wallet_app: WalletApp, tmp_path: Path) -> None:
    vault, ids, contents = owner_with_documents(wallet_app, tmp_path)
    link = create_link(vault, ids[1:], uses=1, pin="90210")
    for pin in ("00000", "9021", "902100"):
        error = api_error(open_link, link.url, tmp_path / "w", pin=pin, api=wallet_app.api())
        assert error.status == 403 and error.message.startswith("Wrong PIN.")
    stored = stored_link(wallet_app, link.id)
    assert stored is not None and stored.server_share is not None
    opened = open_link(link.url, tmp_path / "ok", pin="90210", api=wallet_app.api())
    assert opened.files[0].read_bytes() == contents[1]


# --- expired and revoked ----------------------------------------------------------------------


def test_an_expired_link_says_so_and_opens_nothing(wallet_app: WalletApp, tmp_path: Path) -> None:
    vault, ids, _contents = owner_with_documents(wallet_app, tmp_path)
    link = create_link(vault, ids[:1], uses=2, expires="2d")
    assert preview_link(link.url, wallet_app.api())["state"] == "active"
    with Session(engine_of(wallet_app)) as db:
        row = db.get(ShareLink, link.id)
        assert row is not None
        row.expires_at = datetime.now(UTC) - timedelta(minutes=1)
        db.add(row)
        db.commit()

    error = api_error(open_link, link.url, tmp_path / "out", api=wallet_app.api())
    assert (error.status, error.message) == (410, EXPIRED)
    shown = preview_link(link.url, wallet_app.api())
    assert (shown["state"], shown["message"]) == ("expired", EXPIRED)
    assert listed(vault, link.id)["state"] == "expired"
    assert listed(vault, link.id)["uses_left"] == 2
    assert "link_redeemed" not in [e["event"] for e in link_events(vault, link.id)]
    assert not (tmp_path / "out").exists()


def test_revoke_is_immediate_even_for_an_open_download_session(
    wallet_app: WalletApp, tmp_path: Path
) -> None:
    vault, ids, _contents = owner_with_documents(wallet_app, tmp_path)
    link = create_link(vault, ids, uses=3)
    secret = secret_of(link)
    client = wallet_app.client
    redeemed = redeem_raw(client, link.id, secret)
    token = redeemed.json()["download_token"]
    assert download_raw(client, token, ids[0]).status_code == 200

    vault.api.api("POST", f"/links/{link.id}/revoke")

    for document_id in ids:
        stopped = download_raw(client, token, document_id)
        assert (stopped.status_code, stopped.json()["detail"]) == (401, DOWNLOAD_ENDED)
    gone = redeem_raw(client, link.id, secret)
    assert (gone.status_code, gone.json()["detail"]) == (410, REVOKED)
    error = api_error(open_link, link.url, tmp_path / "out", api=wallet_app.api())
    assert (error.status, error.message) == (410, REVOKED)
    shown = preview_link(link.url, wallet_app.api())
    assert (shown["state"], shown["message"]) == ("revoked", REVOKED)
    row = listed(vault, link.id)
    assert (row["state"], row["uses_left"]) == ("revoked", 2)
    stored = stored_link(wallet_app, link.id)
    assert stored is not None and stored.server_share is None and stored.sealed_package is None
    # Revoking twice is harmless; someone else's revoke finds nothing.
    vault.api.api("POST", f"/links/{link.id}/revoke")
    stranger = wallet_app.new_vault()
    assert api_error(stranger.api.api, "POST", f"/links/{link.id}/revoke").status == 404


def test_a_dead_link_tells_only_its_state(wallet_app: WalletApp, tmp_path: Path) -> None:
    vault, ids, _contents = owner_with_documents(wallet_app, tmp_path)
    purpose = "Rental application, flat 3B"
    links = {state: create_link(vault, ids[:1], uses=1, pin="4821", purpose=purpose)
             for state in ("used", "revoked", "locked", "expired")}  # fmt: skip
    assert redeem_raw(wallet_app.client, links["used"].id, secret_of(links["used"]),
                      pin="4821").status_code == 200  # fmt: skip
    vault.api.api("POST", f"/links/{links['revoked'].id}/revoke")
    with Session(engine_of(wallet_app)) as db:
        for state, change in (("locked", {"locked": True}),
                              ("expired", {"expires_at": datetime.now(UTC) - timedelta(minutes=1)})):  # fmt: skip
            row = db.get(ShareLink, links[state].id)
            assert row is not None
            for name, value in change.items():
                setattr(row, name, value)
            db.add(row)
        db.commit()
    messages = {"used": USED, "revoked": REVOKED, "locked": LOCKED, "expired": EXPIRED}
    for state, link in links.items():
        assert preview_link(link.url, wallet_app.api()) == {
            "state": state,
            "message": messages[state],
        }
        answer = preview_raw(wallet_app.client, link.id, secret_of(link))
        assert answer.status_code == 200
        assert answer.json() == {
            "state": state,
            "message": messages[state],
            "pin_required": False,
            "sealed_preview": None,
            "expires_at": None,
            "descriptor": None,
            "signature": None,
            "sender": None,
            "on_behalf_of": None,
        }
        assert vault.account["handle"] not in answer.text
    # A live link still shows everything, checked against its sender.
    live = create_link(vault, ids[:1], uses=1, purpose=purpose)
    shown = preview_link(live.url, wallet_app.api())
    assert (shown["state"], shown["purpose"], shown["owner"]) == (
        "active",
        purpose,
        vault.account["handle"],
    )


# --- dead after the last use -------------------------------------------------------------------


def stolen_database(app: WalletApp, folder: Path) -> str:
    """What a thief takes: a copy of the SQLite files, or the PostgreSQL database itself."""
    if not using_postgres():
        assert app.database.path is not None
        folder.mkdir()
        for suffix in ("", "-wal", "-shm"):
            source = Path(f"{app.database.path}{suffix}")
            if source.exists():
                shutil.copyfile(source, folder / f"wallet.db{suffix}")
        return f"sqlite:///{folder / 'wallet.db'}"
    return app.database.url


def every_stored_value(url: str) -> list[bytes]:
    """Every value in every row of every table, as bytes (base64 text decoded too)."""
    engine = create_engine(url)
    values: list[bytes] = []
    try:
        with engine.connect() as connection:
            for table in inspect(engine).get_table_names():
                for row in connection.exec_driver_sql(f'SELECT * FROM "{table}"'):
                    for value in row:
                        if isinstance(value, bytes | memoryview):
                            values.append(bytes(value))
                        elif isinstance(value, str):
                            values.append(value.encode())
                            with contextlib.suppress(ValueError):
                                values.append(b64d(value))
    finally:
        engine.dispose()
    return values


def offline_attack(
    url: str, secret: bytes, link_id: str, known_package: bytes, server_key: bytes | None = None
) -> bytes | None:
    """Tries every stored value as the server share, on every stored value and the package.

    With `server_key` the thief also has the server secret (from the service's settings, not
    the database), so they can unseal shares stored at rest."""
    values = every_stored_value(url)
    shares = {v for v in values if len(v) == linkcrypto.SHARE_BYTES}
    if server_key is not None:
        for value in values:
            with contextlib.suppress(linkcrypto.LinkKeyError, ValueError):
                shares.add(linkcrypto.open_sealed(server_key, value, link_id))
    targets = {v for v in values if len(v) > 28} | {known_package}
    for share in shares:
        key = linkcrypto.link_key(secret, share, None, link_id)
        for target in targets:
            try:
                return linkcrypto.open_sealed(key, target, link_id)
            except linkcrypto.LinkKeyError:
                continue
    return None


def test_after_the_last_use_the_database_and_the_url_open_nothing(
    wallet_app: WalletApp, tmp_path: Path
) -> None:
    vault, ids, _contents = owner_with_documents(wallet_app, tmp_path)
    link = create_link(vault, ids, uses=2, purpose="two uses")
    secret = secret_of(link)

    open_link(link.url, tmp_path / "first", api=wallet_app.api())
    before = stored_link(wallet_app, link.id)
    assert before is not None and before.uses_left == 1
    assert before.server_share is not None and before.sealed_package is not None
    share, package = before.server_share, before.sealed_package
    server_key = _share_key(wallet_app.settings)
    early = stolen_database(wallet_app, tmp_path / "early")
    # The share is sealed at rest under the server secret: the database alone opens nothing.
    assert offline_attack(early, secret, link.id, b"") is None
    # Positive control: with the server secret too, the thief's method does open it.
    opened = offline_attack(early, secret, link.id, b"", server_key)
    assert opened is not None and json.loads(opened)["link_id"] == link.id

    open_link(link.url, tmp_path / "last", api=wallet_app.api())

    after = stored_link(wallet_app, link.id)
    assert after is not None and after.uses_left == 0
    assert after.server_share is None and after.sealed_package is None
    stolen = stolen_database(wallet_app, tmp_path / "late")
    # Even with the server secret and the sealed package kept from earlier, nothing opens.
    assert offline_attack(stolen, secret, link.id, package, server_key) is None
    # Nor is the share or the package anywhere in the stored bytes (old pages, the WAL).
    stored = database_contents(wallet_app, tmp_path)
    assert hits(stored, share) == []
    assert hits(stored, package[:64]) == []
    assert hits(stored, link.id), "positive control: the scan sees the link's row"


# --- zero knowledge -----------------------------------------------------------------------------


def test_the_server_never_stores_the_secret_the_pin_or_the_purpose(
    wallet_app: WalletApp, tmp_path: Path
) -> None:
    vault, ids, _contents = owner_with_documents(wallet_app, tmp_path)
    canary = "CANARY-" + secrets.token_hex(12)
    link = create_link(vault, ids, uses=2, pin=PIN, purpose=f"Visa for {canary}")
    secret = secret_of(link)
    fragment = link.url.split("#", 1)[1]
    redeemed = redeem_raw(wallet_app.client, link.id, secret, pin=PIN)
    assert redeemed.status_code == 200
    token = redeemed.json()["download_token"]
    assert download_raw(wallet_app.client, token, ids[0]).status_code == 200
    assert open_package(secret, redeemed.json(), link.id, PIN)["purpose"] == f"Visa for {canary}"

    stored = database_contents(wallet_app, tmp_path) + blob_contents(wallet_app)
    assert hits(stored, link.id), "positive control: the link row is in the scan"
    assert hits(stored, vault.account["handle"]), "positive control: the handle is stored"
    assert hits(stored, canary) == []
    assert hits(stored, fragment) == []
    assert hits(stored, secret) == []
    assert hits(stored, link.url) == []
    derived = {
        "proof private key": bytes(linkcrypto.proof_key(secret, link.id)),
        "preview key": linkcrypto.preview_key(secret, link.id),
        "pin check sent at creation": linkcrypto.pin_check(secret, link.id, PIN),
        "download token": token.encode(),
    }
    for name, value in derived.items():
        assert hits(stored, value) == [], name

    row = stored_link(wallet_app, link.id)
    assert row is not None and row.pin_check is not None
    assert re.fullmatch(r"[0-9a-f]{64}", row.pin_check)
    assert PIN not in row.pin_check
    client_check = linkcrypto.pin_check(secret, link.id, PIN)
    # Keyed with the server secret: with only the database and the URL, PINs cannot be tried.
    assert row.pin_check != hashlib.sha256(client_check).hexdigest()
    assert row.pin_check == _pin_digest(wallet_app.settings, client_check)
    # The journal says what happened to the link, never what it was for.
    for entry in fetch_entries(vault):
        assert canary not in json.dumps(entry)


# --- bad input ----------------------------------------------------------------------------------


def link_body(
    vault: Vault,
    items: list[tuple[str, int]],
    *,
    uses: int = 1,
    expires_at: datetime | str | None = None,
    signer: nacl.signing.SigningKey | None = None,
    signed_uses: int | None = None,
) -> dict[str, Any]:
    """A well-formed POST /links body, signed like the client does, with one thing to vary."""
    link_id = secrets.token_hex(16)
    secret = linkcrypto.new_secret()
    proof_public = bytes(linkcrypto.proof_key(secret, link_id).verify_key)
    sealed_package = secrets.token_bytes(300)
    sealed_preview = secrets.token_bytes(80)
    moment = expires_at or datetime.now(UTC) + timedelta(days=7)
    descriptor, signature = sign(
        signer or vault.keys.signing_key,
        {
            "v": 1,
            "kind": "share-link",
            "link_id": link_id,
            "owner_key_id": vault.keys.key_id,
            "proof_key_sha256": hashlib.sha256(proof_public).hexdigest(),
            "pin": False,
            "uses": uses if signed_uses is None else signed_uses,
            "package_sha256": hashlib.sha256(sealed_package).hexdigest(),
            "preview_sha256": hashlib.sha256(sealed_preview).hexdigest(),
            "items": sorted([d, v] for d, v in items),
        },
    )
    return {
        "link_id": link_id,
        "proof_key": b64e(proof_public),
        "pin_check": None,
        "server_share": b64e(linkcrypto.new_server_share()),
        "sealed_package": b64e(sealed_package),
        "sealed_preview": b64e(sealed_preview),
        "descriptor": b64e(descriptor),
        "signature": b64e(signature),
        "uses": uses,
        "expires_at": moment if isinstance(moment, str) else moment.isoformat(),
        "items": [{"document_id": d, "version": v} for d, v in items],
    }


def signed_list(vault: Vault, body: dict[str, Any]) -> dict[str, Any]:
    """The owner's own signature over a descriptor that is JSON, but not an object."""
    descriptor = json.dumps([body["link_id"], "share-link"]).encode()
    signature = vault.keys.signing_key.sign(descriptor).signature
    return {**body, "descriptor": b64e(descriptor), "signature": b64e(signature)}


def test_bad_link_requests_get_a_clear_error_and_create_nothing(
    wallet_app: WalletApp, tmp_path: Path
) -> None:
    vault, ids, _contents = owner_with_documents(wallet_app, tmp_path)
    other = wallet_app.new_vault()
    theirs = upload(other, tmp_path / "theirs", "t.txt", b"theirs", "Theirs")
    mine = [(ids[0], 1)]
    now = datetime.now(UTC)

    def post(body: dict[str, Any]) -> httpx.Response:
        return vault.api.request("POST", f"{API}/links", json=body, ok=tuple(range(200, 600)))

    # Control: the helper's body is accepted when nothing is wrong with it.
    accepted = post(link_body(vault, mine, uses=2))
    assert accepted.status_code == 201, accepted.text
    vault.api.api("POST", f"/links/{accepted.json()['id']}/revoke")
    links_before = count_rows(wallet_app, ShareLink)
    items_before = count_rows(wallet_app, LinkItem)
    created_before = [e for e in fetch_entries(vault) if e["event"] == "link_created"]

    cases: list[tuple[str, dict[str, Any], int, str]] = [
        ("past", link_body(vault, mine, expires_at=now - timedelta(hours=1)), 422, "expires_at"),
        ("too far", link_body(vault, mine, expires_at=now + timedelta(days=91)), 422, "expires_at"),
        ("no zone", link_body(vault, mine, expires_at="2030-01-01T00:00:00"), 422, "expires_at"),
        ("zero uses", link_body(vault, mine, uses=0), 422, "uses"),
        ("101 uses", link_body(vault, mine, uses=101), 422, "uses"),
        ("201 items", link_body(vault, mine * 201), 422, "items"),
        ("not yours", link_body(vault, [(theirs, 1)]), 404, theirs),
        ("no such version", link_body(vault, [(ids[0], 2)]), 404, ids[0]),
        (
            "signed by another key",
            link_body(vault, mine, signer=nacl.signing.SigningKey.generate()),
            422,
            "not signed by you",
        ),
        (
            "signed by another owner",
            link_body(vault, mine, signer=other.keys.signing_key),
            422,
            "not signed by you",
        ),
        ("signature covers other uses", link_body(vault, mine, uses=5, signed_uses=1), 422, "uses"),
        (
            "descriptor not an object",
            signed_list(vault, link_body(vault, mine)),
            422,
            "JSON object",
        ),
    ]
    for name, body, status, mentioned in cases:
        response = post(body)
        assert response.status_code == status, (name, response.text)
        detail = response.json()["detail"]
        assert mentioned in detail, (name, detail)
        assert "Traceback" not in response.text
        if status == 422 and mentioned in ("uses", "items", "expires_at"):
            assert f"'{mentioned}'" in detail, (name, detail)

    # The messages say what to do, and another owner's document looks like a missing one.
    assert "past" in post(cases[0][1]).json()["detail"]
    assert "90 days" in post(cases[1][1]).json()["detail"]
    missing = secrets.token_hex(16)
    not_theirs = post(link_body(vault, [(theirs, 1)]))
    not_there = post(link_body(vault, [(missing, 1)]))
    assert not_theirs.status_code == not_there.status_code == 404
    assert not_theirs.text.replace(theirs, missing) == not_there.text

    assert count_rows(wallet_app, ShareLink) == links_before
    assert count_rows(wallet_app, LinkItem) == items_before
    assert [e for e in fetch_entries(vault) if e["event"] == "link_created"] == created_before
    assert all(row["state"] == "revoked" for row in vault.api.api("GET", "/links").json())


def test_bad_links_on_the_client_get_plain_messages(wallet_app: WalletApp, tmp_path: Path) -> None:
    vault, ids, _contents = owner_with_documents(wallet_app, tmp_path)
    for kwargs, words in [
        ({"expires": "2020-01-01"}, "past"),
        ({"expires": "91d"}, "90 days"),
        ({"uses": 0}, "1 to 100"),
        ({"uses": 101}, "1 to 100"),
        ({"pin": "12a4"}, "4 to 8 digits"),
        ({"fields": ["shoe_size"]}, "not a profile field"),
    ]:
        with pytest.raises(VaultError, match=words):
            create_link(vault, ids[:1], **kwargs)
    with pytest.raises(VaultError, match="No document"):
        create_link(vault, [secrets.token_hex(16)])
    assert vault.api.api("GET", "/links").json() == []

    link = create_link(vault, ids[:1], uses=1)
    base, fragment = link.url.split("#", 1)
    for url, words in [
        (base, "including the part after #"),
        (base + "#", "including the part after #"),
        (base + "#" + fragment[:-4], "damaged"),
        (base + "#" + fragment[:10] + "+" + fragment[11:], "damaged"),
        (link.url.replace("/s/", "/x/"), "not a full wallet link"),
    ]:
        with pytest.raises(VaultError, match=words):
            open_link(url, tmp_path / "bad", api=wallet_app.api())
        with pytest.raises(VaultError, match=words):
            parse_link(url)
    tampered = base + "#" + ("A" if fragment[0] != "A" else "B") + fragment[1:]
    error = api_error(open_link, tampered, tmp_path / "bad", api=wallet_app.api())
    assert (error.status, error.message) == (404, DOES_NOT_WORK)
    assert "does not work" in error.message
    assert not (tmp_path / "bad").exists()
    assert listed(vault, link.id)["uses_left"] == 1


def test_a_package_the_owner_did_not_sign_is_refused(wallet_app: WalletApp, tmp_path: Path) -> None:
    """A server that swaps the sealed package for another one is caught by the client."""
    vault, ids, _contents = owner_with_documents(wallet_app, tmp_path)
    first = create_link(vault, ids[:1], uses=1)
    second = create_link(vault, ids[1:], uses=1)
    with Session(engine_of(wallet_app)) as db:
        row = db.get(ShareLink, first.id)
        assert row is not None
        row.sealed_package = secrets.token_bytes(200)
        db.add(row)
        db.commit()
    with pytest.raises(IntegrityFailure):
        open_link(first.url, tmp_path / "first", api=wallet_app.api())
    assert not (tmp_path / "first").exists()
    assert open_link(second.url, tmp_path / "second", api=wallet_app.api()).files


# --- journal ------------------------------------------------------------------------------------


def test_the_owners_journal_tells_the_whole_story_and_verifies(
    wallet_app: WalletApp, tmp_path: Path
) -> None:
    vault, ids, _contents = owner_with_documents(wallet_app, tmp_path)
    link = create_link(vault, ids, uses=2, purpose="journal story")
    open_link(link.url, tmp_path / "out", api=wallet_app.api())
    vault.api.api("POST", f"/links/{link.id}/revoke")

    entries = fetch_entries(vault)
    ok, message = verify_journal(entries)
    assert ok, message
    assert verify_chain(entries) == len(entries)
    story = [e for e in entries if link.id in (e["subject_id"], e["actor_id"])]
    assert [e["event"] for e in story] == [
        "link_created",
        "link_redeemed",
        "link_download",
        "link_download",
        "link_revoked",
    ]
    assert [e["seq"] for e in story] == sorted(e["seq"] for e in story)
    assert {e["subject_id"] for e in story if e["event"] == "link_download"} == set(ids)
    assert json.loads(story[0]["details"]) == {"items": 2, "pin": False, "uses": 2}
    assert json.loads(story[1]["details"]) == {"uses_left": 1}
    assert (story[1]["actor_kind"], story[1]["actor_id"]) == ("link", link.id)
    assert all("journal story" not in json.dumps(e) for e in entries)

    # The chain really is checked: a changed entry is caught.
    changed = [dict(e) for e in entries]
    changed[story[1]["seq"] - 1]["details"] = json.dumps({"uses_left": 5})
    assert verify_journal(changed)[0] is False


def test_the_sweeper_kills_expired_links(wallet_app: WalletApp, tmp_path: Path) -> None:
    from datetime import timedelta

    from sqlmodel import Session

    from sharing.links.models import ShareLink
    from wallet.db import utcnow
    from wallet.server.sweeper import sweep

    vault, ids, _contents = owner_with_documents(wallet_app, tmp_path)
    expired, alive = create_link(vault, ids), create_link(vault, ids)
    engine = wallet_app.client.app.state.engine
    with Session(engine) as db:
        row = db.get(ShareLink, expired.id)
        row.expires_at = utcnow() - timedelta(minutes=1)
        db.add(row)
        db.commit()
    sweep(engine, wallet_app.client.app.state.store, timedelta(hours=1))
    gone, kept = stored_link(wallet_app, expired.id), stored_link(wallet_app, alive.id)
    assert gone.server_share is None and gone.sealed_package is None
    assert kept.server_share is not None and kept.sealed_package is not None


@pytest.mark.parametrize(
    ("accept_language", "language", "phrase"),
    [
        ("fr-BE,fr;q=0.9,en;q=0.5", "fr", "Ouvrir cette page n'utilise pas le lien"),
        ("nl-BE", "nl", "Deze pagina openen gebruikt de link niet"),
        ("de-LU, en;q=0.3", "de", "verbraucht den Link nicht"),
        ("pt-PT, nl;q=0.8, fr;q=0.9", "fr", "Quelqu'un vous a partagé des documents"),
        ("", "en", "Opening this page does not use the link"),
    ],
)
def test_the_link_page_speaks_the_readers_language(
    wallet_app: WalletApp, accept_language: str, language: str, phrase: str
) -> None:
    page = wallet_app.client.get(
        f"/s/{secrets.token_hex(16)}", headers={"Accept-Language": accept_language}
    )
    assert page.status_code == 200
    assert page.headers["content-language"] == language
    assert f'<html lang="{language}"' in page.text
    # The web page (web/pages_sharing.py): strict CSP without inline script, no referrer.
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "'unsafe-inline'" not in page.headers["content-security-policy"]
    assert phrase in html.unescape(page.text).replace("\u2019", "'")
