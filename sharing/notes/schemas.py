from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from sharing.requests.schemas import SEALED_MAX, Party
from wallet.types import B64, HexId


class NoteCreate(BaseModel):
    note_id: HexId
    grant_id: HexId | None = Field(
        default=None,
        description="the grant the note is about; a worker writes only under an active grant",
    )
    owner_key_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    sealed_for_owner: B64 = Field(max_length=SEALED_MAX)
    sealed_for_author: B64 = Field(max_length=SEALED_MAX)
    signature: B64 = Field(min_length=64, max_length=64)


class NoteOut(BaseModel):
    id: str
    role: Literal["owner", "author"] = Field(description="owner: a note about you")
    owner: Party
    author: Party
    grant_id: str | None
    sealed: B64 = Field(description="the author-signed note, sealed for whoever asks")
    signature: B64
    created_at: datetime
