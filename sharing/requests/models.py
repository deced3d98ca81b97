from datetime import datetime

from sqlalchemy import Column, LargeBinary
from sqlmodel import Field, SQLModel

from wallet.db import new_id, utcnow


class DocumentRequest(SQLModel, table=True):
    """A worker asks an owner for documents; the owner answers once, with a grant or a refusal.

    The server keeps who asks whom, until when, and the status. Purpose, document types and
    message are signed by the worker and sealed to both; the owner's answer (types given and
    refused, reason) is signed by the owner and sealed to both.
    """

    __tablename__ = "document_request"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    requester_id: str = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    owner_id: str = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    requester_key_id: str = Field(max_length=32)
    owner_key_id: str = Field(max_length=32)
    sealed_for_owner: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sealed_for_requester: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    signature: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    due_at: datetime
    # open, fulfilled, partly_fulfilled, refused, closed
    status: str = Field(default="open", max_length=20)
    grant_id: str | None = Field(
        default=None, foreign_key="grant.id", index=True, ondelete="SET NULL"
    )
    answer_for_owner: bytes | None = Field(
        default=None, sa_column=Column(LargeBinary, nullable=True)
    )
    answer_for_requester: bytes | None = Field(
        default=None, sa_column=Column(LargeBinary, nullable=True)
    )
    answer_signature: bytes | None = Field(
        default=None, sa_column=Column(LargeBinary, nullable=True)
    )
    created_at: datetime = Field(default_factory=utcnow)
    answered_at: datetime | None = None
    closed_at: datetime | None = None
