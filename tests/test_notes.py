"""Contact notes: the owner, or a worker under an active grant, keeps a trace of each contact.
Notes are signed by their author, sealed to the owner and the author, listed in the owner's
journal, and exported with the journal for an appeal."""

from __future__ import annotations

import csv
import json
import secrets
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select

from sharing.notes.models import ContactNote
from tests.conftest import TEST_PASSPHRASE, WalletApp
from tests.test_grants import Granted, database, make_granted, unknown_id
from tests.test_zero_knowledge import blob_contents, database_contents, hits
from wallet.client import notes as notelib
from wallet.client.api import ApiError
from wallet.client.contacts import PinStore
from wallet.client.grants import create_grant, revoke_grant
from wallet.client.journal import fetch_entries
from wallet.client.vault import IntegrityFailure, VaultError
from wallet.crypto.encoding import b64e
from wallet.protocol.journal_chain import verify_chain

AUTHZ_COVERED = {"POST /api/v1/notes", "GET /api/v1/notes"}


@pytest.fixture
def granted(wallet_app: WalletApp, tmp_path: Path) -> Granted:
    return make_granted(wallet_app, tmp_path, purpose="Social inquiry")


def raw_note(grant_id: str | None, owner_key_id: str) -> dict[str, object]:
    return {
        "note_id": unknown_id(),
        "grant_id": grant_id,
        "owner_key_id": owner_key_id,
        "sealed_for_owner": b64e(b"sealed"),
        "sealed_for_author": b64e(b"sealed"),
        "signature": b64e(bytes(64)),
    }


def test_owner_and_worker_notes_are_listed_and_journaled(granted: Granted) -> None:
    g = granted
    own = notelib.add_note(
        g.owner,
        "Called the office about my file.",
        contact_date=date(2026, 11, 20),
        persons=["me", "the desk clerk"],
        actions="Send the lease by Friday.",
        pins=g.owner_pins,
    )
    assert own.owner == g.owner.account["handle"]
    by_worker = notelib.add_note(
        g.worker,
        "Home visit: the person explained the rent arrears.",
        grant_id=g.grant.id,
        persons=["the person", g.worker.account["handle"]],
        actions="Ask the landlord for a payment plan.",
        pins=g.worker_pins,
    )
    assert by_worker.owner == g.owner.account["handle"]

    notes = {n["id"]: n for n in notelib.list_notes(g.owner, g.owner_pins)}
    assert set(notes) == {own.id, by_worker.id}
    assert notes[own.id]["contact_date"] == "2026-11-20"
    assert notes[own.id]["persons"] == ["me", "the desk clerk"]
    assert notes[own.id]["actions"] == "Send the lease by Friday."
    assert notes[by_worker.id]["author"] == g.worker.account["handle"]
    assert notes[by_worker.id]["grant_id"] == g.grant.id
    assert notes[by_worker.id]["content"].startswith("Home visit")
    assert "Decided: Ask the landlord" in "\n".join(notelib.describe(notes[by_worker.id]))

    # The worker sees only what they wrote.
    [theirs] = notelib.list_notes(g.worker, g.worker_pins)
    assert theirs["id"] == by_worker.id and theirs["role"] == "author"

    entries = fetch_entries(g.owner)
    verify_chain(entries)
    added = [e for e in entries if e["event"] == "note_added"]
    assert [(e["subject_id"], e["actor_kind"], e["actor_id"]) for e in added] == [
        (own.id, "owner", g.owner.account["id"]),
        (by_worker.id, "account", g.worker.account["id"]),
    ]
    assert json.loads(str(added[1]["details"])) == {"grant": g.grant.id}
    [read] = [e for e in entries if e["event"] == "notes_read"]
    assert read["actor_id"] == g.worker.account["id"]
    for entry in entries:
        assert "rent" not in json.dumps(entry) and "Friday" not in json.dumps(entry)


def test_worker_without_an_active_grant_gets_the_same_404(granted: Granted) -> None:
    g = granted
    http = g.app.client
    stranger = g.app.new_vault()

    def post(token: str | None, body: dict[str, object]):  # type: ignore[no-untyped-def]
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return http.post("/api/v1/notes", json=body, headers=headers)

    owner_key = g.owner.keys.key_id
    unknown = post(stranger.api.token, raw_note(unknown_id(), owner_key))
    foreign = post(stranger.api.token, raw_note(g.grant.id, owner_key))
    assert unknown.status_code == foreign.status_code == 404
    assert unknown.json() == foreign.json()

    revoke_grant(g.owner, g.grant.id)
    revoked = post(g.worker.api.token, raw_note(g.grant.id, owner_key))
    assert revoked.status_code == 404 and revoked.json() == unknown.json()
    with pytest.raises(VaultError, match="does not exist or has ended"):
        notelib.add_note(g.worker, "late", grant_id=g.grant.id, pins=g.worker_pins)
    with database(g.app.database.url) as db:
        assert db.exec(select(ContactNote)).all() == []
    assert not [e for e in fetch_entries(g.owner) if e["event"] == "note_added"]
    # Without a session: 401.
    assert post(None, raw_note(None, owner_key)).status_code == 401
    assert http.get("/api/v1/notes").status_code == 401
    # The owner may still note something about a grant they gave, even an ended one.
    note = notelib.add_note(g.owner, "The access ended.", grant_id=g.grant.id, pins=g.owner_pins)
    assert note.owner == g.owner.account["handle"]


def test_bad_notes_get_a_clear_error(granted: Granted) -> None:
    g = granted
    with pytest.raises(VaultError, match="Write what was said"):
        notelib.add_note(g.owner, "  ", pins=g.owner_pins)
    with pytest.raises(VaultError, match="too long"):
        notelib.add_note(g.owner, "x" * 20_001, pins=g.owner_pins)
    with pytest.raises(ApiError) as caught:
        g.worker.api.api("POST", "/notes", json=raw_note(g.grant.id, unknown_id()))
    assert caught.value.status == 409 and "key changed" in caught.value.message


def test_a_tampered_note_is_caught(granted: Granted) -> None:
    g = granted
    note = notelib.add_note(g.worker, "Visit.", grant_id=g.grant.id, pins=g.worker_pins)
    notelib.list_notes(g.owner, g.owner_pins)  # pins the worker's key
    with database(g.app.database.url) as db:
        row = db.get(ContactNote, note.id)
        assert row is not None
        row.signature = bytes([row.signature[0] ^ 1]) + row.signature[1:]
        db.add(row)
        db.commit()
    with pytest.raises(IntegrityFailure, match="changed on the server"):
        notelib.list_notes(g.owner, g.owner_pins)
    with pytest.raises(IntegrityFailure):
        notelib.export_notes(g.owner, g.tmp / "export-bad", g.owner_pins)
    # Moving a note to another grant is caught too (the grant id is signed).
    other = create_grant(
        g.owner, g.worker.account["handle"], purpose="Other", types=["lease"], pins=g.owner_pins
    )
    with database(g.app.database.url) as db:
        row = db.get(ContactNote, note.id)
        assert row is not None
        row.signature = bytes([row.signature[0] ^ 1]) + row.signature[1:]
        row.grant_id = other.id
        db.add(row)
        db.commit()
    with pytest.raises(IntegrityFailure):
        notelib.list_notes(g.owner, g.owner_pins)


def test_notes_stay_when_their_writer_deletes_their_account(granted: Granted) -> None:
    g = granted
    note = notelib.add_note(g.worker, "Visit at home.", grant_id=g.grant.id, pins=g.worker_pins)
    g.worker.delete_account(TEST_PASSPHRASE)
    [kept] = notelib.list_notes(g.owner, g.owner_pins)
    assert kept["id"] == note.id and kept["content"] == "Visit at home."
    assert kept["author"] == g.worker.account["handle"]
    assert kept["grant_id"] == g.grant.id  # signed, even though the grant went with the account
    with database(g.app.database.url) as db:
        row = db.get(ContactNote, note.id)
        assert row is not None and row.author_id is None


def test_export_has_notes_and_a_verifiable_journal(granted: Granted, tmp_path: Path) -> None:
    g = granted
    notelib.add_note(g.owner, "Sanction letter received.", persons=["me"], pins=g.owner_pins)
    notelib.add_note(
        g.worker,
        '=HYPERLINK("http://evil")',
        grant_id=g.grant.id,
        actions="Appeal within 30 days.",
        pins=g.worker_pins,
    )
    target = tmp_path / "appeal"
    summary = notelib.export_notes(g.owner, target, PinStore(None))
    assert summary["notes"] == 2 and summary["intact"]
    assert {p.name for p in target.iterdir()} == {
        "notes.csv", "notes.json", "journal.csv", "journal.json", "README.txt",
    }  # fmt: skip
    notes = json.loads((target / "notes.json").read_text())
    assert [n["content"] for n in notes] == [
        "Sanction letter received.",
        '=HYPERLINK("http://evil")',
    ]
    rows = list(csv.DictReader((target / "notes.csv").open()))
    assert rows[1]["content"].startswith("'=")  # never a formula in a spreadsheet
    assert rows[1]["actions"] == "Appeal within 30 days."
    journal = json.loads((target / "journal.json").read_text())
    assert verify_chain(journal) == len(journal)
    sentences = [e["sentence"] for e in journal]
    assert f"{g.worker.account['handle']} wrote a contact note in your file" in " ".join(sentences)
    assert "You wrote a contact note in your file" in " ".join(sentences)
    readme = (target / "README.txt").read_text()
    assert "appeal" in readme and "The journal is intact" in readme
    assert "Sanction letter received." in readme and "Decided: Appeal within 30 days." in readme
    journal_csv = list(csv.DictReader((target / "journal.csv").open()))
    assert len(journal_csv) == len(journal)


def test_server_learns_no_note_text(wallet_app: WalletApp, tmp_path: Path) -> None:
    canary = "CANARY-" + secrets.token_hex(12)
    g = make_granted(wallet_app, tmp_path)
    notelib.add_note(
        g.worker, f"Said {canary}", grant_id=g.grant.id, persons=[f"Person {canary}"],
        actions=f"Action {canary}", pins=g.worker_pins,
    )  # fmt: skip
    notelib.add_note(g.owner, f"Mine {canary}", pins=g.owner_pins)
    assert len(notelib.list_notes(g.owner, g.owner_pins)) == 2
    stored = database_contents(wallet_app, tmp_path) + blob_contents(wallet_app)
    assert hits(stored, g.owner.account["handle"]), "positive control"
    assert hits(stored, canary) == []


def test_notes_endpoints_by_role(granted: Granted) -> None:
    g = granted
    http = g.app.client
    stranger = g.app.new_vault()
    note = notelib.add_note(g.worker, "Visit.", grant_id=g.grant.id, pins=g.worker_pins)

    def listed(token: str, role: str | None = None) -> list[str]:
        params = {"role": role} if role else {}
        response = http.get(
            "/api/v1/notes", params=params, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200
        return [n["id"] for n in response.json()]

    assert listed(g.owner.api.token) == [note.id]
    assert listed(g.owner.api.token, "owner") == [note.id]
    assert listed(g.owner.api.token, "author") == []
    assert listed(g.worker.api.token, "author") == [note.id]
    assert listed(stranger.api.token) == []
    created = http.post(
        "/api/v1/notes",
        json=raw_note(None, stranger.keys.key_id),
        headers={"Authorization": f"Bearer {stranger.api.token}"},
    )
    assert created.status_code == 201
