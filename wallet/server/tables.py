"""Imports every table so SQLModel.metadata (and Alembic) sees the whole schema."""

from sharing.emergency.models import EmergencyAccess
from sharing.grants.models import Grant, GrantFieldWrap
from sharing.links.models import LinkChallenge, LinkDownloadSession, LinkItem, ShareLink
from sharing.mandates.models import Mandate, MandateLink, MandateWrap
from sharing.notes.models import ContactNote
from sharing.organisations.models import Organisation, OrgEvent, OrgMember, OrgTeamKey
from sharing.requests.models import DocumentRequest
from wallet.accounts.models import Account, AuthSession, LoginThrottle
from wallet.documents.models import Document, DocumentVersion, KeyWrap
from wallet.journal.models import JournalEntry
from wallet.oidc.models import OidcExchange, OidcIdentity, OidcLogin
from wallet.profile.models import ProfileField
from wallet.ratelimit.models import RateLimit
from wallet.server.meta import ServerMeta
from wallet.uploads.models import Upload
from wallet.vaulthead.models import VaultHead

__all__ = [
    "Account",
    "AuthSession",
    "ContactNote",
    "Document",
    "DocumentRequest",
    "DocumentVersion",
    "EmergencyAccess",
    "Grant",
    "GrantFieldWrap",
    "JournalEntry",
    "KeyWrap",
    "LinkChallenge",
    "LinkDownloadSession",
    "LinkItem",
    "LoginThrottle",
    "Mandate",
    "MandateLink",
    "MandateWrap",
    "OidcExchange",
    "OidcIdentity",
    "OidcLogin",
    "OrgEvent",
    "OrgMember",
    "OrgTeamKey",
    "Organisation",
    "ProfileField",
    "RateLimit",
    "ServerMeta",
    "ShareLink",
    "Upload",
    "VaultHead",
]
