"""Imports every table so SQLModel.metadata (and Alembic) sees the whole schema."""

from wallet.accounts.models import Account, AuthSession, LoginThrottle
from wallet.documents.models import Document, DocumentVersion, KeyWrap
from wallet.profile.models import ProfileField
from wallet.uploads.models import Upload

__all__ = [
    "Account",
    "AuthSession",
    "Document",
    "DocumentVersion",
    "KeyWrap",
    "LoginThrottle",
    "ProfileField",
    "Upload",
]
