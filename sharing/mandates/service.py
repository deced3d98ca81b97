"""Digital proxies (mandates): a trusted person acts for the owner, inside the mandate only.

The proxy logs in as itself and acts through /mandates/{id}/... endpoints. The server enforces
who, which actions and until when (the owner-signed `authorisation`); purpose and scope are
sealed. Every denial (unknown, someone else's, expired, revoked, renounced, one-shot used) is
the same 404; an action the mandate does not allow is a 403 for its rightful proxy only.
Every proxy action goes into the owner's journal with the proxy as actor and the mandate id.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from sharing.grants.schemas import GrantWrapIn
from sharing.grants.service import lookup
from sharing.links import service as links
from sharing.links.models import ShareLink
from sharing.links.schemas import LinkCreate
from sharing.mandates.models import Mandate, MandateLink, MandateWrap
from sharing.mandates.schemas import ACTIONS, KINDS, MandateCreate, MandateDocumentCreate
from storage.base import BlobStore
from wallet import tx
from wallet.accounts.models import Account
from wallet.crypto.encoding import b64e
from wallet.crypto.signing import BadSignature, verify
from wallet.db import new_id, utcnow
from wallet.documents.models import DocumentVersion
from wallet.documents.service import (
    MANIFEST_KIND,
    VersionContent,
    check_statement,
    owned_version_ids,
    store_version,
)
from wallet.errors import Conflict, Forbidden, Invalid, NotFound
from wallet.journal import service as journal
from wallet.journal.events import PROXY_EVENTS
from wallet.journal.models import JournalEntry
from wallet.protocol import statements
from wallet.settings import Settings

ONCE_LIMIT = timedelta(hours=24)
PERSONAL_LIMIT = timedelta(days=366)
CLOCK_SLACK = timedelta(minutes=5)

NO_EXPIRY = "A mandate needs an end. Choose once, 1d, 1m, 6m or 1y."
NOT_ALLOWED = {
    "view": "This mandate does not let you see the documents. Ask the person for a new one.",
    "upload": "This mandate does not let you add documents. Ask the person for a new one.",
    "share": "This mandate does not let you share documents. Ask the person for a new one.",
}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def state_of(mandate: Mandate) -> str:
    if mandate.revoked_at is not None:
        return "revoked"
    if mandate.renounced_at is not None or mandate.proxy_id is None:
        return "renounced"  # a proxy that deleted its account gave the mandate up too
    if mandate.completed_at is not None:
        return "used"
    if mandate.expires_at <= utcnow():
        return "expired"
    return "active"


def actions_of(mandate: Mandate) -> list[str]:
    return [a for a in mandate.actions.split(",") if a]


# --- the owner's side -----------------------------------------------------------------------


def _check_terms(data: MandateCreate) -> tuple[list[str], datetime]:
    if data.expires_at is None:
        raise Invalid(NO_EXPIRY)
    if data.expires_at.tzinfo is None:
        raise Invalid("The field 'expires_at' needs a time zone, for example 2027-01-31T12:00:00Z.")
    now = utcnow()
    if data.expires_at <= now:
        raise Invalid("The field 'expires_at' is in the past. Choose a later date.")
    if data.kind not in KINDS:
        raise Invalid("The kind of mandate must be 'once' (one procedure) or 'personal'.")
    limit = ONCE_LIMIT if data.kind == "once" else PERSONAL_LIMIT
    if data.expires_at > now + limit + CLOCK_SLACK:
        raise Invalid(
            "A one-shot mandate lasts 24 hours at most."
            if data.kind == "once"
            else "A mandate lasts one year at most. Give a new one after that."
        )
    actions = sorted(set(data.actions))
    if not actions:
        raise Invalid("Say what the person may do: view, upload and/or share.")
    for action in actions:
        if action not in ACTIONS:
            raise Invalid(f"'{action}' is not an action. Use view, upload or share.")
    if "share" in actions and "view" not in actions:
        raise Invalid("Sharing needs 'view' too: the person must see what they share.")
    return actions, data.expires_at


def _check_authorisation(
    owner: Account, proxy: Account, data: MandateCreate, actions: list[str]
) -> None:
    """The plain terms the server enforces must be exactly those the owner signed."""
    try:
        verify(owner.public_signing_key, data.authorisation, data.authorisation_signature)
        signed = json.loads(data.authorisation)
        signed_expiry = datetime.fromisoformat(signed["expires_at"])
    except (BadSignature, ValueError, KeyError, TypeError) as exc:
        raise Invalid("The mandate is not signed by you. Create it again.") from exc
    expected: dict[str, Any] = {
        "v": statements.MANDATE_AUTHORISATION.version,
        "kind": statements.MANDATE_AUTHORISATION.kind,
        "mandate_id": data.mandate_id,
        "owner_key_id": owner.key_id,
        "proxy_key_id": proxy.key_id,
        "proxy_signing_key": b64e(proxy.public_signing_key),
        "actions": actions,
        "mandate_kind": data.kind,
    }
    for name, value in expected.items():
        if signed.get(name) != value:
            raise Invalid(f"The signed mandate does not match the field '{name}'.")
    if signed_expiry != data.expires_at:
        raise Invalid("The signed mandate does not match the field 'expires_at'.")
    check_statement(statements.MANDATE_AUTHORISATION, signed, "signed mandate")


def _wrap_statement_ok(owner: Account, mandate_id: str, wrap: GrantWrapIn) -> bool:
    try:
        verify(owner.public_signing_key, wrap.statement, wrap.statement_signature)
        statement = statements.MANDATE_WRAP.parse(wrap.statement)
    except (BadSignature, statements.StatementError):
        return False
    return statement == {
        **statement,
        "mandate_id": mandate_id,
        "document_id": wrap.document_id,
        "version": wrap.version,
        "wrap_sha256": _sha256(wrap.wrapped_key),
    }


def _add_wraps(db: Session, owner: Account, mandate: Mandate, wraps: list[GrantWrapIn]) -> int:
    """Only the owner's session gets here, and each wrap carries the owner's signature: the
    scope cannot grow without the owner."""
    for wrap in wraps:
        if not _wrap_statement_ok(owner, mandate.id, wrap):
            raise Invalid(
                f"The key of document {wrap.document_id} is not signed by you for this mandate."
            )
    versions = owned_version_ids(db, owner, [(w.document_id, w.version) for w in wraps])
    already = set(
        db.exec(select(MandateWrap.version_id).where(MandateWrap.mandate_id == mandate.id))
    )
    rows: list[dict[str, Any]] = []
    now = utcnow()
    for wrap in wraps:
        version_id = versions[(wrap.document_id, wrap.version)]
        if version_id in already:
            continue
        already.add(version_id)
        rows.append(
            {
                "id": new_id(),
                "mandate_id": mandate.id,
                "version_id": version_id,
                "wrapped_key": wrap.wrapped_key,
                "statement": wrap.statement,
                "statement_signature": wrap.statement_signature,
                "created_at": now,
            }
        )
    if rows:
        # One executemany: building an ORM object per wrap costs more than the whole insert.
        db.execute(insert(MandateWrap), rows)
    return len(rows)


def create_mandate(db: Session, owner: Account, data: MandateCreate) -> Mandate:
    actions, expires_at = _check_terms(data)
    proxy = lookup(db, data.proxy_handle)
    if proxy.id == owner.id:
        raise Invalid("You cannot give a mandate to yourself.")
    if proxy.key_id != data.proxy_key_id:
        raise Conflict("This person's key changed. Check their safety code again, then retry.")
    _check_authorisation(owner, proxy, data, actions)
    if db.get(Mandate, data.mandate_id) is not None:
        raise Conflict("This mandate id is already used. Create the mandate again.")
    tx.lock_owner(db, owner.id)
    mandate = Mandate(
        id=data.mandate_id,
        owner_id=owner.id,
        proxy_id=proxy.id,
        proxy_key_id=proxy.key_id,
        kind=data.kind,
        actions=",".join(actions),
        authorisation=data.authorisation,
        authorisation_signature=data.authorisation_signature,
        sealed_for_owner=data.sealed_for_owner,
        sealed_for_proxy=data.sealed_for_proxy,
        signature=data.signature,
        check_hash=data.check_hash,
        expires_at=expires_at,
    )
    db.add(mandate)
    db.flush()
    added = _add_wraps(db, owner, mandate, data.wraps)
    journal.append(
        db,
        owner.id,
        "mandate_created",
        subject_kind="mandate",
        subject_id=mandate.id,
        details={
            "proxy": proxy.id,
            "kind": data.kind,
            "actions": actions,
            "documents": added,
        },
    )
    return mandate


def owned_mandate(db: Session, owner: Account, mandate_id: str) -> Mandate:
    mandate = db.get(Mandate, mandate_id)
    if mandate is None or mandate.owner_id != owner.id:
        raise NotFound()
    return mandate


def add_wraps(db: Session, owner: Account, mandate_id: str, wraps: list[GrantWrapIn]) -> int:
    tx.lock_owner(db, owner.id)  # an end cannot slip in between the check and the writes
    mandate = owned_mandate(db, owner, mandate_id)
    db.refresh(mandate)
    if state_of(mandate) != "active":
        raise Conflict("This mandate has ended. Give a new one.")
    added = _add_wraps(db, owner, mandate, wraps)
    if added:
        journal.append(
            db,
            owner.id,
            "mandate_extended",
            subject_kind="mandate",
            subject_id=mandate.id,
            details={"documents": added},
        )
    return added


def _end(db: Session, mandate: Mandate, field: str) -> None:
    """Ends a mandate at once: its keys for the proxy are deleted in the same transaction."""
    if state_of(mandate) == "active":
        setattr(mandate, field, utcnow())
        db.add(mandate)
    db.exec(delete(MandateWrap).where(col(MandateWrap.mandate_id) == mandate.id))


def revoke_mandate(db: Session, owner: Account, mandate_id: str) -> None:
    """Ends the mandate, deletes its keys and stops the links made under it, all in one
    transaction: once this returns, nothing the proxy had works."""
    tx.lock_owner(db, owner.id)
    mandate = owned_mandate(db, owner, mandate_id)
    db.refresh(mandate)
    if mandate.revoked_at is None:
        mandate.revoked_at = utcnow()
        db.add(mandate)
    _end(db, mandate, "revoked_at")
    link_ids = list(
        db.exec(select(MandateLink.link_id).where(MandateLink.mandate_id == mandate.id))
    )
    journal.append(
        db,
        owner.id,
        "mandate_revoked",
        subject_kind="mandate",
        subject_id=mandate.id,
        details={"links": len(link_ids)},
    )
    for link_id in link_ids:
        link = db.get(ShareLink, link_id)
        if link is not None and link.revoked_at is None:
            links.stop_link(db, link)


def _counts(db: Session, mandate_ids: list[str]) -> dict[str, int]:
    if not mandate_ids:
        return {}
    rows = db.exec(
        select(MandateWrap.mandate_id, func.count())
        .where(col(MandateWrap.mandate_id).in_(mandate_ids))
        .group_by(col(MandateWrap.mandate_id))
    ).all()
    return dict(rows)


def _forget_expired_wraps(db: Session, mandates: list[Mandate]) -> None:
    ended = [m.id for m in mandates if state_of(m) != "active"]
    if ended:
        db.exec(delete(MandateWrap).where(col(MandateWrap.mandate_id).in_(ended)))
        db.commit()  # the ended mandates' keys go although the request then fails (404)


def forget_ended_wraps(db: Session, now: datetime | None = None) -> int:
    """For the sweeper: deletes the proxy's keys of mandates past their end. (Revoke, renounce
    and complete delete them at once; an expiry has no request to do it.)"""
    ended = select(Mandate.id).where(col(Mandate.expires_at) <= (now or utcnow()))
    result = db.exec(delete(MandateWrap).where(col(MandateWrap.mandate_id).in_(ended)))
    return int(result.rowcount or 0)


def link_ids(db: Session, mandate_ids: list[str]) -> dict[str, list[str]]:
    """The links made under each mandate."""
    found: dict[str, list[str]] = {}
    if mandate_ids:
        rows = db.exec(
            select(MandateLink.mandate_id, ShareLink.public_id)
            .join(ShareLink, col(ShareLink.id) == col(MandateLink.link_id))
            .where(col(MandateLink.mandate_id).in_(mandate_ids))
            .order_by(col(ShareLink.public_id))
        )
        for mandate_id, link_id in rows:
            found.setdefault(mandate_id, []).append(link_id)
    return found


def mandates_given(db: Session, owner: Account) -> list[tuple[Mandate, Account | None, int]]:
    """Every mandate the owner gave, active or ended."""
    rows = db.exec(
        select(Mandate).where(Mandate.owner_id == owner.id).order_by(col(Mandate.created_at))
    ).all()
    _forget_expired_wraps(db, list(rows))
    counts = _counts(db, [m.id for m in rows])
    return [
        (m, db.get(Account, m.proxy_id) if m.proxy_id else None, counts.get(m.id, 0)) for m in rows
    ]


def mandates_received(db: Session, proxy: Account) -> list[tuple[Mandate, Account, int]]:
    """The proxy's active mandates only: ended ones are gone for it."""
    rows = db.exec(
        select(Mandate, Account)
        .join(Account, col(Account.id) == col(Mandate.owner_id))
        .where(Mandate.proxy_id == proxy.id)
        .order_by(col(Mandate.created_at))
    ).all()
    active = [(m, a) for m, a in rows if state_of(m) == "active"]
    counts = _counts(db, [m.id for m, _ in active])
    return [(m, a, counts.get(m.id, 0)) for m, a in active]


# --- the proxy's side -----------------------------------------------------------------------


def acting_mandate(db: Session, proxy: Account, mandate_id: str, action: str | None) -> Mandate:
    """The caller's active mandate. Anything else is the plain 404; an action the mandate does
    not allow is a 403, said only to its rightful proxy."""
    mandate = db.get(Mandate, mandate_id)
    if mandate is None or mandate.proxy_id != proxy.id:
        raise NotFound()
    if state_of(mandate) != "active":
        _forget_expired_wraps(db, [mandate])
        raise NotFound()
    if proxy.key_id != mandate.proxy_key_id:
        # Keys the owner sealed to another key are of no use; say what to do.
        raise Conflict("Your key changed since this mandate was given. Ask the person again.")
    if action is not None and action not in actions_of(mandate):
        raise Forbidden(NOT_ALLOWED[action])
    return mandate


def _proxy_journal(
    db: Session,
    mandate: Mandate,
    proxy: Account,
    event: str,
    subject_kind: str,
    subject_id: str,
    **details: Any,
) -> None:
    journal.append(
        db,
        mandate.owner_id,
        event,
        actor_kind="account",
        actor_id=proxy.id,
        subject_kind=subject_kind,
        subject_id=subject_id,
        details={"mandate": mandate.id, **details},
    )


def _still_active(db: Session, mandate: Mandate) -> None:
    """Re-checked under the owner's lock, just before the commit: a revoke that committed
    after the first check wins, so nothing is served once a revoke has returned."""
    tx.lock_owner(db, mandate.owner_id)
    db.refresh(mandate)
    if state_of(mandate) != "active":
        raise NotFound()


def _used_once(db: Session, mandate: Mandate, proxy: Account, after: str, **details: Any) -> None:
    """A one-shot mandate ends with its first completed action (a view, an upload, a link),
    here on the server and in the action's own transaction, under the owner's lock: whatever
    client the proxy uses, a second action finds it ended. It ends like a completion (keys
    gone, `completed_at`), not like a revoke: the owner's signed head lists only what the
    owner took back, so this changes nothing the owner's clients check, and links made by
    the action stay valid (they are what the action was for)."""
    if mandate.kind != "once":
        return
    _end(db, mandate, "completed_at")
    _proxy_journal(
        db, mandate, proxy, "mandate_completed", "mandate", mandate.id, after=after, **details
    )


def _resumed_view(
    db: Session, proxy: Account, mandate_id: str, document_id: str, version: int
) -> DocumentVersion | None:
    """The one download that used a one-shot mandate up may resume after a dropped
    connection (a `Range` request), until the mandate's end: it gives the proxy nothing new.
    Any other request under the used mandate is refused."""
    mandate = db.get(Mandate, mandate_id)
    if (
        mandate is None
        or mandate.proxy_id != proxy.id
        or mandate.kind != "once"
        or state_of(mandate) != "used"
        or mandate.expires_at <= utcnow()
    ):
        return None
    details = db.exec(
        select(JournalEntry.details)
        .where(JournalEntry.owner_id == mandate.owner_id)
        .where(JournalEntry.event == "mandate_completed")
        .where(JournalEntry.subject_id == mandate.id)
        .order_by(col(JournalEntry.seq).desc())
    ).first()
    done = json.loads(details) if details else {}
    if done.get("after") != "view" or (done.get("document"), done.get("version")) != (
        document_id,
        version,
    ):
        return None
    return db.exec(
        select(DocumentVersion)
        .where(DocumentVersion.owner_id == mandate.owner_id)
        .where(DocumentVersion.document_id == document_id)
        .where(DocumentVersion.version == version)
    ).first()


def proxy_documents(
    db: Session, proxy: Account, mandate_id: str
) -> list[tuple[DocumentVersion, MandateWrap]]:
    mandate = acting_mandate(db, proxy, mandate_id, "view")
    rows = db.exec(
        select(DocumentVersion, MandateWrap)
        .join(MandateWrap, col(MandateWrap.version_id) == col(DocumentVersion.id))
        .where(MandateWrap.mandate_id == mandate.id)
        .order_by(col(DocumentVersion.document_id), col(DocumentVersion.version))
    ).all()
    _proxy_journal(db, mandate, proxy, "mandate_listed", "mandate", mandate.id, documents=len(rows))
    _still_active(db, mandate)
    return list(rows)


def proxy_version(
    db: Session, proxy: Account, mandate_id: str, document_id: str, version: int
) -> DocumentVersion:
    resumed = _resumed_view(db, proxy, mandate_id, document_id, version)
    if resumed is not None:
        return resumed
    mandate = acting_mandate(db, proxy, mandate_id, "view")
    row = db.exec(
        select(DocumentVersion)
        .join(MandateWrap, col(MandateWrap.version_id) == col(DocumentVersion.id))
        .where(MandateWrap.mandate_id == mandate.id)
        .where(DocumentVersion.document_id == document_id)
        .where(DocumentVersion.version == version)
    ).first()
    if row is None:
        raise NotFound()
    _proxy_journal(db, mandate, proxy, "mandate_download", "document", document_id, version=version)
    _still_active(db, mandate)
    _used_once(db, mandate, proxy, "view", document=document_id, version=version)
    return row


def _check_proxy_manifest(
    owner: Account, proxy: Account, mandate: Mandate, blob_size: int, data: MandateDocumentCreate
) -> None:
    try:
        verify(proxy.public_signing_key, data.manifest, data.signature)
        manifest = json.loads(data.manifest)
    except (BadSignature, ValueError) as exc:
        raise Invalid("The manifest is not signed by you.") from exc
    if not isinstance(manifest, dict):
        raise Invalid("The manifest is not a JSON object.")
    expected = {
        "v": statements.DOCUMENT_VERSION.version,
        "kind": MANIFEST_KIND,
        "document_id": data.document_id,
        "version": 1,
        "blob_size": blob_size,
        "meta_sha256": _sha256(data.encrypted_meta),
        "wraps": [
            {"key_id": owner.key_id, "sha256": _sha256(data.owner_wrapped_key)},
            {"key_id": proxy.key_id, "sha256": _sha256(data.proxy_wrapped_key)},
        ],
        "mandate_id": mandate.id,
        "signer_key_id": proxy.key_id,
    }
    for name, value in expected.items():
        if manifest.get(name) != value:
            raise Invalid(f"The manifest field '{name}' does not match this upload.")
    blob_hash = manifest.get("blob_sha256")
    if not isinstance(blob_hash, str) or len(blob_hash) != 64:
        raise Invalid("The manifest field 'blob_sha256' is missing.")
    check_statement(statements.DOCUMENT_VERSION, manifest, "manifest")


def add_document(
    db: Session,
    store: BlobStore,
    proxy: Account,
    mandate_id: str,
    data: MandateDocumentCreate,
    quota: int,
) -> DocumentVersion:
    """A proxy adds a document on the owner's behalf: owned by the owner, sealed to the owner
    and the proxy, signed by the proxy. Same all-or-nothing steps as an owner's upload."""
    mandate = acting_mandate(db, proxy, mandate_id, "upload")
    owner = db.get(Account, mandate.owner_id)
    if owner is None:
        raise NotFound()

    def record(version: DocumentVersion) -> None:
        # Re-checked under the owner's lock: a revoke that won the race wins.
        tx.lock_owner(db, owner.id)
        db.refresh(mandate)
        if state_of(mandate) != "active":
            raise NotFound()
        db.add(
            MandateWrap(
                mandate_id=mandate.id, version_id=version.id, wrapped_key=data.proxy_wrapped_key
            )
        )
        _proxy_journal(
            db, mandate, proxy, "mandate_document_added", "document", data.document_id, version=1
        )
        _used_once(db, mandate, proxy, "upload", document=data.document_id)

    return store_version(
        db,
        store,
        uploader=proxy,
        owner=owner,
        upload_id=data.upload_id,
        document_id=data.document_id,
        new_document=True,
        content=VersionContent(
            data.encrypted_meta, data.owner_wrapped_key, data.manifest, data.signature
        ),
        check=lambda upload, _number: _check_proxy_manifest(
            owner, proxy, mandate, upload.length, data
        ),
        record=record,
        quota=quota,  # the owner's room: the proxy's upload was reserved on its own account
    )


def create_link(
    db: Session, settings: Settings, proxy: Account, mandate_id: str, data: LinkCreate
) -> ShareLink:
    """A one-shot link made by the proxy, only over versions the mandate gives, never
    outliving the mandate, signed by the proxy."""
    mandate = acting_mandate(db, proxy, mandate_id, "share")
    owner = db.get(Account, mandate.owner_id)
    if owner is None:
        raise NotFound()
    if data.uses != 1:
        raise Invalid("Under a mandate, a link can be opened once only.")
    if data.expires_at.tzinfo is not None and data.expires_at > mandate.expires_at:
        raise Invalid(
            "A link made under a mandate cannot last longer than the mandate. "
            "Choose an earlier expiry."
        )
    given = set(
        db.exec(
            select(DocumentVersion.document_id, DocumentVersion.version)
            .join(MandateWrap, col(MandateWrap.version_id) == col(DocumentVersion.id))
            .where(MandateWrap.mandate_id == mandate.id)
        ).all()
    )
    if not data.items:
        raise Invalid("Nothing to share. Name documents in this mandate.")
    for item in data.items:
        if (item.document_id, item.version) not in given:
            raise NotFound(
                f"Document {item.document_id} version {item.version} is not in this mandate."
            )

    link = links.create_link(
        db,
        settings,
        owner,
        data,
        signer=proxy,
        actor_id=proxy.id,
        event="mandate_link_created",
        details={"mandate": mandate.id},
    )
    _still_active(db, mandate)
    db.add(MandateLink(link_id=link.id, mandate_id=mandate.id))
    _used_once(db, mandate, proxy, "share", link=link.public_id)
    return link


def renounce(db: Session, proxy: Account, mandate_id: str) -> None:
    mandate = acting_mandate(db, proxy, mandate_id, None)
    tx.lock_owner(db, mandate.owner_id)
    db.refresh(mandate)
    if state_of(mandate) != "active":  # ended meanwhile (a revoke, or a twin request)
        raise NotFound()
    _end(db, mandate, "renounced_at")
    _proxy_journal(db, mandate, proxy, "mandate_renounced", "mandate", mandate.id)


def complete(db: Session, proxy: Account, mandate_id: str) -> None:
    mandate = acting_mandate(db, proxy, mandate_id, None)
    if mandate.kind != "once":
        raise Conflict(
            "Only a one-shot mandate ends after its first use. To stop this one, renounce it."
        )
    tx.lock_owner(db, mandate.owner_id)
    db.refresh(mandate)
    if state_of(mandate) != "active":  # ended meanwhile (a revoke, or a twin request)
        raise NotFound()
    _end(db, mandate, "completed_at")
    _proxy_journal(db, mandate, proxy, "mandate_completed", "mandate", mandate.id)


def proxy_actions(db: Session, proxy: Account, mandate_id: str) -> list[dict[str, Any]]:
    """What this proxy did under this mandate: its own entries of the owner's journal, and
    nothing else from it. Also after the mandate ended, for the proxy's own records."""
    mandate = db.get(Mandate, mandate_id)
    if mandate is None or mandate.proxy_id != proxy.id:
        raise NotFound()
    # SQLAlchemy's select: sqlmodel's is typed for at most four columns.
    rows = db.execute(
        sa_select(
            col(JournalEntry.seq),
            col(JournalEntry.at),
            col(JournalEntry.event),
            col(JournalEntry.subject_kind),
            col(JournalEntry.subject_id),
            col(JournalEntry.details),
        )
        .where(col(JournalEntry.owner_id) == mandate.owner_id)
        .where(col(JournalEntry.actor_id) == proxy.id)
        .where(col(JournalEntry.event).in_(PROXY_EVENTS))
        .order_by(col(JournalEntry.seq))
    ).all()
    result = []
    for seq, at, event, subject_kind, subject_id, details in rows:
        if json.loads(details).get("mandate") != mandate.id:
            continue
        result.append(
            {
                "seq": seq,
                "at": journal.at_text(at),
                "event": event,
                "subject_kind": subject_kind,
                "subject_id": subject_id,
            }
        )
    return result


# --- the attestation's public check ----------------------------------------------------------

CHECK_UNKNOWN = "This attestation is not known. It may be copied wrong, or it is not real."
CHECK_VALID = "This mandate is valid until {until} (UTC)."
CHECK_ENDED = "This mandate has ended. It no longer allows anything."


def check(db: Session, mandate_id: str, code: str) -> tuple[bool, str, datetime | None, str]:
    """Valid or not, and until when. Never a name, a purpose or a document."""
    mandate = db.get(Mandate, mandate_id) if len(mandate_id) == 32 else None
    stored = mandate.check_hash if mandate is not None else "0" * 64
    matches = hmac.compare_digest(stored, _sha256(code.encode()))
    if mandate is None or not matches:
        return False, "unknown", None, CHECK_UNKNOWN
    state = state_of(mandate)
    if state == "active":
        until = mandate.expires_at
        return True, state, until, CHECK_VALID.format(until=f"{until:%d %B %Y %H:%M}")
    return False, "ended", None, CHECK_ENDED
