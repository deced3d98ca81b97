from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, status

from sharing.notes import service
from sharing.notes.schemas import NoteCreate, NoteOut
from sharing.requests.api import party
from sharing.requests.schemas import Party
from wallet.deps import DB, FullCaller

router = APIRouter(tags=["notes"])


@router.post("/notes", status_code=status.HTTP_201_CREATED)
def add_note(data: NoteCreate, caller: FullCaller, db: DB) -> dict[str, str]:
    """A contact note, sealed to the owner and the author, signed by the author."""
    return {"id": service.add_note(db, caller.account, data).id}


@router.get("/notes", response_model=list[NoteOut])
def list_notes(
    caller: FullCaller, db: DB, role: Literal["owner", "author"] | None = None
) -> list[NoteOut]:
    """Notes about you (role=owner), notes you wrote about others (role=author), or both."""
    result = []
    for note, owner in service.notes_for(db, caller.account, role):
        mine = note.owner_id == caller.account.id
        result.append(
            NoteOut(
                id=note.id,
                role="owner" if mine else "author",
                owner=party(owner),
                author=Party(
                    id=note.author_id,
                    handle=note.author_handle,
                    key_id=note.author_key_id,
                    public_encryption_key=note.author_public_encryption_key,
                    public_signing_key=note.author_public_signing_key,
                ),
                grant_id=note.grant_id,
                sealed=note.sealed_for_owner if mine else note.sealed_for_author,
                signature=note.signature,
                created_at=note.created_at,
            )
        )
    return result
