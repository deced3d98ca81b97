from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from wallet.types import B64, Handle, HexId

SEALED_MAX = 64 * 1024


class Party(BaseModel):
    """A person in a request or a note: who, and the keys to check what they signed."""

    id: str | None = Field(description="none once the person deleted their account")
    handle: str
    key_id: str
    public_encryption_key: B64
    public_signing_key: B64


class RequestCreate(BaseModel):
    request_id: HexId
    owner_handle: Handle
    owner_key_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    sealed_for_owner: B64 = Field(max_length=SEALED_MAX)
    sealed_for_requester: B64 = Field(max_length=SEALED_MAX)
    signature: B64 = Field(min_length=64, max_length=64)
    due_at: datetime


class RequestAnswer(BaseModel):
    status: Literal["fulfilled", "partly_fulfilled", "refused"]
    grant_id: HexId | None = None
    answer_for_owner: B64 = Field(max_length=SEALED_MAX)
    answer_for_requester: B64 = Field(max_length=SEALED_MAX)
    answer_signature: B64 = Field(min_length=64, max_length=64)


class RequestOut(BaseModel):
    id: str
    direction: Literal["incoming", "outgoing"]
    status: str
    owner: Party
    requester: Party
    sealed: B64 = Field(description="the worker-signed request, sealed for whoever asks")
    signature: B64
    due_at: datetime
    created_at: datetime
    answered_at: datetime | None
    closed_at: datetime | None
    grant_id: str | None
    answer: B64 | None = Field(description="the owner-signed answer, sealed for whoever asks")
    answer_signature: B64 | None
