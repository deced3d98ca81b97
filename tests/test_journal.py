"""Security property 5: everything an owner's data undergoes is in the owner's journal,
hash-chained, verifiable by the owner's client, and nothing in it reveals content."""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from tests.conftest import TEST_PASSPHRASE, LiveServer, WalletApp, run_cli
from tests.test_grants import database, write_file
from wallet.accounts.models import Account
from wallet.client import ApiClient, Vault
from wallet.client import journal as journallib
from wallet.client import links as linklib
from wallet.client.api import ApiError
from wallet.client.contacts import PinStore
from wallet.client.grants import create_grant, received_documents, received_get, revoke_grant
from wallet.journal.devices import DEVICES
from wallet.journal.models import JournalEntry
from wallet.protocol.journal_chain import GENESIS, ChainBroken, verify_chain

HEX_ID = re.compile(r"^[0-9a-f]{32}$")

STORY = [
    "account_created",
    "session_started",
    "session_started",
    "document_added",
    "version_added",
    "document_added",
    "document_deleted",
    "profile_changed",
    "link_created",
    "link_redeemed",
    "link_download",
    "grant_created",
    "grant_listed",
    "grant_download",
    "grant_revoked",
    "login_failed",
]


def journal_rows(url: str, owner_id: str) -> dict[int, JournalEntry]:
    with database(url) as db:
        rows = db.exec(select(JournalEntry).where(JournalEntry.owner_id == owner_id)).all()
        return {row.seq: row for row in rows}


def edit_entry(url: str, owner_id: str, seq: int, **values: Any) -> dict[str, Any]:
    """Changes one stored entry, as someone with the database would; returns the old values."""
    with database(url) as db:
        row = db.exec(
            select(JournalEntry)
            .where(JournalEntry.owner_id == owner_id)
            .where(JournalEntry.seq == seq)
        ).one()
        old = {name: getattr(row, name) for name in values}
        for name, value in values.items():
            setattr(row, name, value)
        db.add(row)
        db.commit()
    return old


def delete_entry(url: str, owner_id: str, seq: int) -> None:
    with database(url) as db:
        row = db.exec(
            select(JournalEntry)
            .where(JournalEntry.owner_id == owner_id)
            .where(JournalEntry.seq == seq)
        ).one()
        db.delete(row)
        db.commit()


def account_id(url: str, handle: str) -> str:
    with database(url) as db:
        return db.exec(select(Account.id).where(Account.handle == handle)).one()


# The few plain words details may hold: a session's kind, a login's device (one coarse word,
# wallet/journal/devices.py), what used up a one-shot mandate.
WORDS = {"full", "recovery", *DEVICES, "view", "upload", "share"}


def assert_ids_only(entries: list[dict[str, Any]]) -> None:
    """Each entry names things by id only; details hold numbers, flags and ids."""
    for entry in entries:
        for name in ("actor_id", "subject_id"):
            assert entry[name] is None or HEX_ID.match(entry[name]), (name, entry)
        details = json.loads(entry["details"])
        for key, value in details.items():
            assert isinstance(value, int | bool) or (
                isinstance(value, str) and (HEX_ID.match(value) or value in WORDS)
            ), (key, value, entry)


def test_journal_tells_the_whole_story_with_ids_only(wallet_app: WalletApp, tmp_path: Path) -> None:
    app = wallet_app
    canary = "CANARY-" + secrets.token_hex(10)
    handle = f"story-{secrets.token_hex(4)}"
    owner, _ = Vault.create_account(app.api(), handle, TEST_PASSPHRASE)
    owner = Vault.login(app.api(), handle, TEST_PASSPHRASE)

    first = write_file(tmp_path / f"{canary}.pdf", f"payslip {canary}")
    doc_id, _ = owner.upload(first, "payslip", f"Payslip {canary}", issuer=f"Boss {canary}")
    owner.upload(write_file(tmp_path / "v2.pdf", "v2"), "payslip", f"Payslip {canary}",
                 replace=doc_id)  # fmt: skip
    gone_id, _ = owner.upload(write_file(tmp_path / "gone.pdf", "gone"), "other", f"Gone {canary}")
    owner.delete(gone_id)
    owner.set_profile_field("address", f"Street {canary}")

    link = linklib.create_link(owner, [doc_id], purpose=f"Purpose {canary}")
    opened = linklib.open_link(link.url, tmp_path / "opened", api=app.api())
    assert len(opened.files) == 1

    worker = app.new_vault()
    grant = create_grant(
        owner, worker.account["handle"], purpose=f"Grant {canary}", document_ids=[doc_id],
        pins=PinStore(None),
    )  # fmt: skip
    [shared] = received_documents(worker, grant.id, owner.keys.public_signing_key)
    received_get(worker, grant.id, shared, tmp_path / "by-worker.pdf")
    revoke_grant(owner, grant.id)

    with pytest.raises(ApiError) as caught:
        Vault.login(app.api(), handle, "not the passphrase")
    assert caught.value.status == 401

    response = owner.api.api("GET", "/journal")
    entries = response.json()["entries"]
    assert [e["event"] for e in entries] == STORY
    assert [e["seq"] for e in entries] == list(range(1, len(STORY) + 1))

    by_event: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        by_event.setdefault(entry["event"], []).append(entry)
    assert [e["subject_id"] for e in by_event["document_added"]] == [doc_id, gone_id]
    assert by_event["version_added"][0]["subject_id"] == doc_id
    assert json.loads(by_event["version_added"][0]["details"]) == {"version": 2}
    assert by_event["document_deleted"][0]["subject_id"] == gone_id
    assert by_event["link_created"][0]["subject_id"] == link.id
    [redeemed] = by_event["link_redeemed"]
    assert (redeemed["actor_kind"], redeemed["actor_id"]) == ("link", link.id)
    [link_download] = by_event["link_download"]
    assert (link_download["subject_id"], link_download["actor_id"]) == (doc_id, link.id)
    [grant_download] = by_event["grant_download"]
    assert grant_download["actor_kind"] == "account"
    assert grant_download["actor_id"] == worker.account["id"]
    assert grant_download["subject_id"] == doc_id
    assert json.loads(grant_download["details"])["grant"] == grant.id
    assert by_event["grant_created"][0]["subject_id"] == grant.id
    assert by_event["grant_revoked"][0]["subject_id"] == grant.id
    assert by_event["login_failed"][0]["actor_kind"] != "owner"

    # Nothing in it reveals content: no title, purpose, field value, file name or handle.
    assert canary not in response.text
    assert canary.lower() not in response.text.lower()
    assert worker.account["handle"] not in response.text
    assert_ids_only(entries)

    # The chain holds, checked on the client.
    assert entries[0]["prev_hash"] == GENESIS
    assert verify_chain(entries) == len(STORY)
    assert journallib.verify(entries) == (
        True,
        f"The journal is intact: {len(STORY)} entries checked.",
    )

    # The owner's client turns it into plain sentences, with the titles only it knows.
    rendered = journallib.render(owner, journallib.fetch_entries(owner))
    sentences = [r["sentence"] for r in rendered]
    assert sentences[0] == "You created your wallet."
    title = f"\u201cPayslip {canary}\u201d"
    assert f"You added {title}." in sentences
    assert f"You added a new version: {title}." in sentences
    assert "You deleted a document." in sentences  # its title is gone with it
    assert f"Someone viewed {title} through a link." in sentences
    purpose = f"\u201cGrant {canary}\u201d"
    who = worker.account["handle"]
    assert f"{who} viewed {title} for {purpose}." in sentences
    assert f"You gave {who} access to your documents for {purpose}." in sentences
    assert f"You stopped sharing with {who} for {purpose}." in sentences
    # The owner's own logins say "you", and which device (this one: the current session).
    logins = [r["sentence"] for r in rendered if r["event"] == "session_started"]
    assert logins == ["You logged in with the wallet program.", "You logged in on this device."]
    assert sentences[-1] == "Someone tried to log in to your wallet with a wrong passphrase."
    # No technical id in any sentence.
    for sentence in sentences:
        for entry in entries:
            for value in (entry["subject_id"], entry["actor_id"]):
                assert not value or value[:8] not in sentence, sentence
    assert [r["alert"] for r in rendered] == [e == "login_failed" for e in STORY]

    # CSV export: a header and one row per entry, with the sentences.
    rows = list(csv.DictReader(io.StringIO(journallib.to_csv(rendered))))
    assert [int(r["seq"]) for r in rows] == list(range(1, len(STORY) + 1))
    assert [r["sentence"] for r in rows] == sentences
    assert [r["event"] for r in rows] == STORY
    assert [r["hash"] for r in rows] == [e["hash"] for e in entries]


def test_editing_or_deleting_one_entry_is_caught(wallet_app: WalletApp, tmp_path: Path) -> None:
    app = wallet_app
    owner = app.new_vault()
    for number in range(3):
        owner.upload(write_file(tmp_path / f"{number}.pdf", str(number)), "payslip", f"P{number}")
    owner.set_profile_field("first_name", "Marie")
    owner.set_profile_field("first_name", "Maria")
    url = app.database.url
    owner_id = owner.account["id"]
    entries = journallib.fetch_entries(owner)
    count = len(entries)
    assert count == 7 and journallib.verify(entries)[0]
    middle = 4
    original = journal_rows(url, owner_id)[middle]

    for change in (
        {"event": "document_deleted"},
        {"details": json.dumps({"version": 2}, separators=(",", ":"))},
        {"at": original.at + timedelta(seconds=1)},
        {"subject_id": secrets.token_hex(16)},
        {"actor_kind": "account"},
    ):
        old = edit_entry(url, owner_id, middle, **change)
        intact, message = journallib.verify(journallib.fetch_entries(owner))
        assert not intact, change
        assert message.startswith(f"The journal was changed at entry {middle}:"), message
        with pytest.raises(ChainBroken) as caught:
            verify_chain(journallib.fetch_entries(owner))
        assert caught.value.seq == middle
        edit_entry(url, owner_id, middle, **old)
        assert journallib.verify(journallib.fetch_entries(owner))[0], "restored: intact again"

    # Rewriting an entry with a fresh hash of its own breaks the link to the next entry.
    forged = dict(journallib.fetch_entries(owner)[middle - 1], event="document_deleted")
    from wallet.protocol.journal_chain import entry_hash

    edit_entry(
        url,
        owner_id,
        middle,
        event="document_deleted",
        hash=entry_hash(forged["prev_hash"], forged),
    )
    intact, message = journallib.verify(journallib.fetch_entries(owner))
    assert not intact and f"entry {middle + 1}:" in message
    edit_entry(url, owner_id, middle, event=original.event, hash=original.hash)
    assert journallib.verify(journallib.fetch_entries(owner))[0]

    # A deleted entry leaves a gap.
    delete_entry(url, owner_id, middle)
    entries = journallib.fetch_entries(owner)
    assert len(entries) == count - 1
    intact, message = journallib.verify(entries)
    assert not intact
    assert message == (
        f"The journal was changed at entry {middle + 1}: expected entry {middle}: "
        "an entry is missing."
    )


def test_journal_is_the_owners_alone(wallet_app: WalletApp, tmp_path: Path) -> None:
    app = wallet_app
    owner = app.new_vault()
    doc_id, _ = owner.upload(write_file(tmp_path / "a.pdf", "a"), "payslip", "A")
    owner.set_profile_field("address", "Rue Haute 1")
    other = app.new_vault()
    mine = journallib.fetch_entries(owner)
    theirs = journallib.fetch_entries(other)
    assert [e["event"] for e in theirs] == ["account_created", "session_started"]
    assert doc_id not in json.dumps(theirs)
    assert {e["hash"] for e in mine}.isdisjoint(e["hash"] for e in theirs)
    assert verify_chain(theirs) == 2
    # Without a session there is no journal at all.
    anonymous = app.client.get("/api/v1/journal")
    assert anonymous.status_code == 401

    # Pages: `after` and `limit` walk the chain in order.
    page = owner.api.api("GET", "/journal", params={"after": 1, "limit": 2}).json()
    assert [e["seq"] for e in page["entries"]] == [2, 3]
    assert page["next_after"] == 3
    last = owner.api.api("GET", "/journal", params={"after": 3}).json()
    assert [e["seq"] for e in last["entries"]] == list(range(4, len(mine) + 1))
    assert last["next_after"] is None


def test_concurrent_appends_keep_one_valid_chain(live_server: LiveServer, tmp_path: Path) -> None:
    handle = f"busy-{secrets.token_hex(4)}"
    owner, _ = Vault.create_account(ApiClient(live_server.url), handle, TEST_PASSPHRASE)
    files = [write_file(tmp_path / f"{n}.pdf", f"doc {n}", 500) for n in range(20)]
    fields = ["first_name", "last_name", "birth_date", "address", "employer", "children"]

    def worker_vault() -> Vault:  # one HTTP connection pool per thread
        return Vault(ApiClient(live_server.url, token=owner.api.token), owner.keys, owner.account)

    def upload(path: Path) -> str:
        return worker_vault().upload(path, "payslip", path.stem)[0]

    def set_field(name: str) -> None:
        worker_vault().set_profile_field(name, f"value of {name}")

    with ThreadPoolExecutor(max_workers=26) as pool:
        uploads = [pool.submit(upload, path) for path in files]
        profile = [pool.submit(set_field, name) for name in fields]
        document_ids = [f.result() for f in uploads]
        for f in profile:
            f.result()

    entries = journallib.fetch_entries(owner)
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    assert len(entries) == 2 + len(files) + len(fields)
    assert verify_chain(entries) == len(entries)
    assert sorted(e["subject_id"] for e in entries if e["event"] == "document_added") == sorted(
        document_ids
    )
    assert sum(e["event"] == "profile_changed" for e in entries) == len(fields)
    with database(live_server.database.url) as db:
        seqs = db.exec(
            select(JournalEntry.seq).where(JournalEntry.owner_id == owner.account["id"])
        ).all()
    assert sorted(seqs) == list(range(1, len(entries) + 1))


def test_cli_journal_exports_and_verify(
    cli_env: dict[str, str], live_server: LiveServer, tmp_path: Path
) -> None:
    env = cli_env
    handle = f"jcli-{secrets.token_hex(4)}"
    run_cli(env, "account", "create", "--handle", handle)
    source = write_file(tmp_path / "payslip.pdf", "payslip")
    run_cli(env, "upload", str(source), "--type", "payslip", "--title", "Payslip June")
    run_cli(env, "profile", "set", "first_name", "Marie")
    run_cli(env, "logout")
    assert run_cli({**env, "WALLET_PASSPHRASE": "wrong one"}, "login", "--handle", handle,
                   check=False).returncode != 0  # fmt: skip
    run_cli(env, "login", "--handle", handle)
    events = [
        "account_created",
        "session_started",
        "document_added",
        "profile_changed",
        "session_ended",
        "login_failed",
        "session_started",
    ]

    text = run_cli(env, "journal").stdout.splitlines()
    assert len(text) == len(events)
    assert "You created your wallet." in text[0]
    assert "You logged in with the wallet program." in text[1]
    assert "You added \u201cPayslip June\u201d." in text[2]
    assert "You logged out with the wallet program." in text[4]
    assert text[5].startswith("! ") and "Someone tried to log in to your wallet" in text[5]
    assert "You logged in on this device." in text[6]

    exported = json.loads(run_cli(env, "journal", "--json").stdout)
    assert [e["event"] for e in exported] == events
    assert [e["sentence"] for e in exported][2] == "You added \u201cPayslip June\u201d."
    assert verify_chain(exported) == len(events)

    rows = list(csv.DictReader(io.StringIO(run_cli(env, "journal", "--csv").stdout)))
    assert [r["event"] for r in rows] == events
    assert [r["sentence"] for r in rows] == [e["sentence"] for e in exported]

    verified = run_cli(env, "journal", "--verify")
    assert verified.stdout.strip() == f"The journal is intact: {len(events)} entries checked."

    # One changed row in the database: --verify exits non-zero and names the entry.
    url = live_server.database.url
    owner_id = account_id(url, handle)
    old = edit_entry(url, owner_id, 3, details=json.dumps({"version": 9}, separators=(",", ":")))
    broken = run_cli(env, "journal", "--verify", check=False)
    assert broken.returncode != 0
    assert "The journal was changed at entry 3" in broken.stdout
    listing = run_cli(env, "journal", check=False)
    assert listing.returncode != 0 and "changed at entry 3" in listing.stderr
    edit_entry(url, owner_id, 3, **old)
    assert run_cli(env, "journal", "--verify").returncode == 0


def test_a_device_that_remembers_the_head_catches_a_rewritten_or_cut_journal(tmp_path) -> None:
    from wallet.client.journal import check_head
    from wallet.protocol.journal_chain import GENESIS, entry_hash

    def chain(events: list[str]) -> list[dict[str, Any]]:
        entries, prev = [], GENESIS
        for seq, event in enumerate(events, start=1):
            entry = {
                "seq": seq,
                "at": "2026-11-23T10:00:00.000000+00:00",
                "event": event,
                "actor_kind": "owner",
                "actor_id": None,
                "subject_kind": None,
                "subject_id": None,
                "details": "{}",
                "prev_hash": prev,
            }
            entry["hash"] = entry_hash(prev, entry)
            prev = entry["hash"]
            entries.append(entry)
        return entries

    head = tmp_path / "head.json"
    assert check_head(chain(["a", "b", "c"]), head) == (True, "")
    assert check_head(chain(["a", "b", "c", "d"]), head) == (True, "")
    # A whole new chain, valid on its own, from entry 2 on:
    rewritten_ok, message = check_head(chain(["a", "x", "c", "d"]), head)
    assert not rewritten_ok and "rewritten" in message
    # Entries cut off the end:
    assert check_head(chain(["a", "b"]), head)[0] is False


def test_csv_export_never_hands_a_spreadsheet_a_formula() -> None:
    from wallet.client.journal import to_csv

    rows = [{"seq": 1, "at": "x", "event": '=HYPERLINK("http://evil")', "sentence": "@SUM(1)"}]
    text = to_csv(rows)
    assert "'=HYPERLINK" in text and "'@SUM(1)" in text
    assert "\n=" not in text and ",=" not in text
