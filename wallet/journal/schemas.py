"""The journal's page, as GET /journal sends it (serialised by hand with orjson; this model
describes it in /openapi.json)."""

from pydantic import BaseModel


class JournalEntryOut(BaseModel):
    seq: int
    at: str
    event: str
    actor_kind: str
    actor_id: str | None
    subject_kind: str | None
    subject_id: str | None
    details: str  # a JSON object, as the text that was hashed
    prev_hash: str
    hash: str


class JournalPage(BaseModel):
    entries: list[JournalEntryOut]
    next_after: int | None
