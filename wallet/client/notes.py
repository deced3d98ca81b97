"""Contact notes on the client: a trace of each contact, signed by its author, sealed to the
owner and the author, exportable with the journal for an appeal."""

from __future__ import annotations

import csv
import io
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from wallet.client import grants as grantlib
from wallet.client import journal as journallib
from wallet.client.contacts import PinStore
from wallet.client.requests import open_for_me, signing_key_of
from wallet.client.vault import IntegrityFailure, Vault, VaultError
from wallet.crypto.encoding import b64d, b64e
from wallet.crypto.signing import BadSignature, sign, verify
from wallet.crypto.wrap import seal
from wallet.protocol import labels, statements

MAX_TEXT = 20_000
CHANGED = "A contact note was changed on the server. Do not trust it."


def note_info(note_id: str, recipient_key_id: str) -> bytes:
    return labels.info(labels.NOTE, note_id, recipient_key_id)


def _owner_of(vault: Vault, grant_id: str | None, pins: PinStore) -> dict[str, Any]:
    """Whom the note is about: myself, or the owner of a grant I received."""
    me = {
        "handle": vault.account["handle"],
        "key_id": vault.keys.key_id,
        "public_encryption_key": b64e(vault.keys.public_encryption_key),
    }
    if grant_id is None:
        return me
    if any(g["id"] == grant_id for g in vault.api.api("GET", "/grants").json()):
        return me
    for grant in grantlib.received(vault, pins):
        if grant["id"] == grant_id:
            return grant["owner"]
    raise VaultError("This access does not exist or has ended. Check the grant id.")


@dataclass
class AddedNote:
    id: str
    owner: str


def add_note(
    vault: Vault,
    text: str,
    *,
    grant_id: str | None = None,
    contact_date: date | None = None,
    persons: list[str] | None = None,
    actions: str = "",
    pins: PinStore,
) -> AddedNote:
    text = text.strip()
    if not text:
        raise VaultError("Write what was said (--text). Nothing was saved.")
    if len(text) + len(actions) > MAX_TEXT:
        raise VaultError(f"The note is too long: {MAX_TEXT} characters at most.")
    owner = _owner_of(vault, grant_id, pins)
    note_id = uuid.uuid4().hex
    note = statements.CONTACT_NOTE.build(
        note_id=note_id,
        owner=owner["handle"],
        owner_key_id=owner["key_id"],
        author=vault.account["handle"],
        author_key_id=vault.keys.key_id,
        grant_id=grant_id,
        contact_date=(contact_date or datetime.now(UTC).date()).isoformat(),
        persons=[p.strip() for p in persons or [] if p.strip()],
        content=text,
        actions=actions.strip(),
        written_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    signed, signature = sign(vault.keys.signing_key, note)
    vault.api.api(
        "POST",
        "/notes",
        json={
            "note_id": note_id,
            "grant_id": grant_id,
            "owner_key_id": owner["key_id"],
            "sealed_for_owner": b64e(
                seal(
                    b64d(owner["public_encryption_key"]),
                    signed,
                    note_info(note_id, owner["key_id"]),
                )
            ),
            "sealed_for_author": b64e(
                seal(
                    vault.keys.public_encryption_key, signed, note_info(note_id, vault.keys.key_id)
                )
            ),
            "signature": b64e(signature),
        },
    )
    return AddedNote(note_id, owner["handle"])


def open_note(vault: Vault, row: dict[str, Any], pins: PinStore) -> dict[str, Any]:
    message = open_for_me(vault, note_info(row["id"], vault.keys.key_id), row["sealed"])
    author_key = signing_key_of(vault, row["author"], pins)
    try:
        verify(author_key, message, b64d(row["signature"]))
    except BadSignature as exc:
        raise IntegrityFailure(CHANGED) from exc
    note = json.loads(message)
    if (
        note.get("kind") != statements.CONTACT_NOTE.kind
        or note.get("note_id") != row["id"]
        or note.get("author") != row["author"]["handle"]
        or note.get("author_key_id") != row["author"]["key_id"]
        or note.get("owner") != row["owner"]["handle"]
        # No grant on the row: it was deleted with an account; the signed one is shown.
        or row.get("grant_id") not in (None, note.get("grant_id"))
    ):
        raise IntegrityFailure(CHANGED)
    return {
        "id": row["id"],
        "role": row["role"],
        "owner": note["owner"],
        "author": note["author"],
        "grant_id": note.get("grant_id"),
        "contact_date": note["contact_date"],
        "persons": note.get("persons", []),
        "content": note["content"],
        "actions": note.get("actions", ""),
        "written_at": note["written_at"],
        "stored_at": row["created_at"],
    }


def list_notes(vault: Vault, pins: PinStore) -> list[dict[str, Any]]:
    """Notes about you and notes you wrote, each checked against its author's signature."""
    return [open_note(vault, row, pins) for row in vault.api.api("GET", "/notes").json()]


def describe(note: dict[str, Any]) -> list[str]:
    persons = ", ".join(note["persons"]) or "not noted"
    lines = [
        f"{note['contact_date']}  note {note['id'][:8]} by {note['author']} about {note['owner']}",
        f"    Present: {persons}",
        f"    Said: {note['content']}",
    ]
    if note["actions"]:
        lines.append(f"    Decided: {note['actions']}")
    return lines


def _notes_csv(notes: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    fields = ["id", "contact_date", "author", "owner", "persons", "content", "actions",
              "grant_id", "written_at"]  # fmt: skip
    writer = csv.DictWriter(buffer, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    for note in notes:
        row = {**note, "persons": "; ".join(note["persons"])}
        writer.writerow({k: journallib._cell(v) for k, v in row.items()})
    return buffer.getvalue()


README = """Contact notes and journal of {handle}
Exported on {when}.

This folder is a copy of your contact notes and of your wallet's journal, to keep or to
show, for example in an appeal against a decision or a sanction.

- notes.csv and notes.json: each contact: its date, who was there, what was said and what
  was decided, and who wrote the note. Every note was checked against the signature of the
  person who wrote it.
- journal.csv and journal.json: everything that happened to your data, in order, with the
  date and time. Each entry carries a hash of the one before, so a change is seen.
  {journal_check}

Contact notes
-------------
{notes}
"""


def export_notes(vault: Vault, directory: Path, pins: PinStore) -> dict[str, Any]:
    """Writes notes and journal together: CSV, JSON and a plain README.txt."""
    notes = [n for n in list_notes(vault, pins) if n["role"] == "owner"]
    entries = journallib.fetch_entries(vault)
    intact, message = journallib.verify(entries)
    rendered = journallib.render(vault, entries)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "notes.json").write_text(json.dumps(notes, indent=2, ensure_ascii=False))
    (directory / "notes.csv").write_text(_notes_csv(notes))
    (directory / "journal.json").write_text(json.dumps(rendered, indent=2, ensure_ascii=False))
    (directory / "journal.csv").write_text(journallib.to_csv(rendered))
    text = "\n".join(line for note in notes for line in [*describe(note), ""]) or "(none)"
    (directory / "README.txt").write_text(
        README.format(
            handle=vault.account["handle"],
            when=datetime.now(UTC).strftime("%d %B %Y %H:%M UTC"),
            journal_check=message,
            notes=text,
        )
    )
    return {"notes": len(notes), "entries": len(entries), "intact": intact, "message": message}
