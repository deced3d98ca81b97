from datetime import datetime

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
