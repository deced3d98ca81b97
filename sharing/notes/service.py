"""Contact notes: a trace of each contact (date, persons, what was said, actions decided).

The owner writes notes about themselves; a worker writes them only under an active grant from
the owner. A note is signed by its author and sealed to the owner and the author; the server
keeps ids and times only. Each note is in the owner's journal, with its author's account id.
"""

from __future__ import annotations

from collections import Counter

from sqlmodel import Session, col, or_, select

from sharing.grants import service as grants
from sharing.grants.models import Grant
from sharing.notes.models import ContactNote
from sharing.notes.schemas import NoteCreate
from wallet import tx
from wallet.accounts.models import Account
from wallet.errors import Conflict, NotFound
from wallet.journal import service as journal


def _owner_for(db: Session, author: Account, grant_id: str | None) -> Account:
    """Whose journal the note goes to. Someone else's, revoked, expired or unknown grant:
    the very same 404."""
    if grant_id is None:
        return author
    grant = db.get(Grant, grant_id)
    if grant is not None and grant.owner_id == author.id:
        return author
    grant = grants.received_grant(db, author, grant_id)  # raises the plain 404
    owner = db.get(Account, grant.owner_id)
    if owner is None:
        raise NotFound()
    return owner


def add_note(db: Session, author: Account, data: NoteCreate) -> ContactNote:
    owner = _owner_for(db, author, data.grant_id)
    if owner.key_id != data.owner_key_id:
        raise Conflict("This person's key changed. Check their safety code again, then retry.")
    if db.get(ContactNote, data.note_id) is not None:
        raise Conflict("This note id is already used. Write the note again.")
    tx.lock_owner(db, owner.id)
    if data.grant_id is not None and owner.id != author.id:
        # Checked again under the owner's lock (and the organisation's, for a team grant):
        # a revoke or the author's removal from the team cannot slip in between.
        grant = db.get(Grant, data.grant_id)
        if grant is None:
            raise NotFound()
        grants.still_readable(db, author, grant)
    note = ContactNote(
        id=data.note_id,
        owner_id=owner.id,
        author_id=author.id,
        grant_id=data.grant_id,
        owner_key_id=owner.key_id,
        author_key_id=author.key_id,
        author_handle=author.handle,
        author_public_encryption_key=author.public_encryption_key,
        author_public_signing_key=author.public_signing_key,
        sealed_for_owner=data.sealed_for_owner,
        sealed_for_author=data.sealed_for_author,
        signature=data.signature,
    )
    db.add(note)
    by_owner = author.id == owner.id
    journal.append(
        db,
        owner.id,
        "note_added",
        actor_kind="owner" if by_owner else "account",
        actor_id=author.id,
        subject_kind="note",
        subject_id=note.id,
        details={"grant": data.grant_id} if data.grant_id else {},
    )
    return note


def notes_for(
    db: Session, caller: Account, role: str | None = None
) -> list[tuple[ContactNote, Account]]:
    """Notes about the caller (role "owner"), notes the caller wrote about others ("author"),
    or both: (note, owner). The author is the note's own snapshot (handle and keys)."""
    about_me = col(ContactNote.owner_id) == caller.id
    written_for_others = (col(ContactNote.author_id) == caller.id) & (
        col(ContactNote.owner_id) != caller.id
    )
    which = {"owner": about_me, "author": written_for_others}.get(
        role or "", or_(about_me, written_for_others)
    )
    rows = db.exec(select(ContactNote).where(which).order_by(col(ContactNote.created_at))).all()
    ids = sorted({n.owner_id for n in rows})
    people = {a.id: a for a in db.exec(select(Account).where(col(Account.id).in_(ids))).all()}
    # A worker re-reading what they wrote about someone: that person sees it in their journal.
    read_by_worker = Counter(n.owner_id for n in rows if n.owner_id != caller.id)
    for owner_id, count in sorted(read_by_worker.items()):
        journal.append(
            db,
            owner_id,
            "notes_read",
            actor_kind="account",
            actor_id=caller.id,
            subject_kind="note",
            details={"notes": count},
        )
    return [(n, people[n.owner_id]) for n in rows]
