from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from wallet.db import new_id, utcnow


class Upload(SQLModel, table=True):
    """A resumable upload (tus 1.0). Its bytes are staged in the blob store until completion."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    account_id: str = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    length: int
    offset: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)
    # The PATCH that is sending bytes now, and until when its lease holds (renewed while it
    # runs): a second PATCH meanwhile gets 423, so one request's bytes only are ever staged.
    patch_token: str | None = Field(default=None, max_length=32)
    patch_until: datetime | None = None
    # tus concatenation: None (a whole upload), "partial" or "final". A final upload has no
    # staged bytes of its own: `parts` lists its partial uploads' ids in order, and each of
    # them names it in `final_id` (a partial serves one final only).
    concat: str | None = Field(default=None, max_length=8)
    parts: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    final_id: str | None = Field(default=None, max_length=32, index=True)
