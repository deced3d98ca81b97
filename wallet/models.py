"""Imports every table so SQLModel.metadata (and Alembic) sees the whole schema."""

from sharing.grants.models import Grant, GrantFieldWrap
from sharing.links.models import LinkChallenge, LinkDownloadSession, LinkItem, ShareLink
from wallet.accounts.models import Account, AuthSession, LoginThrottle
from wallet.documents.models import Document, DocumentVersion, KeyWrap
from wallet.journal.models import JournalEntry
from wallet.profile.models import ProfileField
from wallet.uploads.models import Upload

# mandates (issue 4)
from sharing.mandates.models import Mandate, MandateLink, MandateWrap  # noqa: E402, F401
# organisations (issue 4)
from sharing.organisations.models import OrgEvent, Organisation, OrgMember, OrgTeamKey  # noqa: E402, F401, I001
# oidc (issue 4)
from wallet.oidc.models import OidcExchange, OidcIdentity, OidcLogin  # noqa: E402, F401, I001
# requests and notes (issue 4)
from sharing.notes.models import ContactNote  # noqa: E402, F401
from sharing.requests.models import DocumentRequest  # noqa: E402, F401

__all__ = [
    "Account",
    "Grant",
    "GrantFieldWrap",
    "JournalEntry",
    "LinkChallenge",
    "LinkDownloadSession",
    "LinkItem",
    "ShareLink",
    "AuthSession",
    "Document",
    "DocumentVersion",
    "KeyWrap",
    "LoginThrottle",
    "ProfileField",
    "Upload",
]
