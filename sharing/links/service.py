"""Share links: create, list, revoke, preview, redeem exactly once, download for 15 minutes.

Holders of the URL prove they know the fragment secret by signing a server challenge with a key
derived from it. Without that proof every answer is the same "this link does not work", so an
unknown id, a used one and one that never existed look alike to anyone without the URL.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, update
from sqlmodel import Session, col, select

from sharing.links.models import LinkChallenge, LinkDownloadSession, LinkItem, ShareLink
from sharing.links.schemas import LinkCreate
from wallet import tx
from wallet.accounts.models import Account
from wallet.crypto import links as linkcrypto
from wallet.crypto.kdf import hkdf
from wallet.crypto.signing import BadSignature, verify
from wallet.db import flush_old_page_copies, new_id, utcnow
from wallet.documents.models import DocumentVersion
from wallet.documents.service import find_owned_version, owned_version
from wallet.errors import Forbidden, Invalid, NotFound, Unauthorized, WalletError
from wallet.journal import service as journal
from wallet.protocol import labels, statements
from wallet.ratelimit import service as ratelimit
from wallet.settings import Settings

DEFAULT_DAYS = 7
MAX_DAYS = 90
PIN_MAX_FAILURES = 5
CHALLENGE_TTL = timedelta(minutes=2)
DOWNLOAD_TTL = timedelta(minutes=15)

DOES_NOT_WORK = (
    "This link does not work. Check that you copied all of it, or ask the person to send a new one."
)
USED = "This link was already used. Ask the person to send a new one."
EXPIRED = "This link has expired. Ask the person to send a new one."
REVOKED = "The person stopped sharing with this link. Ask them if you still need the documents."
LOCKED = "This link is locked after too many wrong PINs. Ask the person to send a new one."
DOWNLOAD_ENDED = "Your time to download has ended. Ask the person to send a new link."
PIN_NEEDED = "This link needs a PIN. Ask the person who sent it for the PIN, then try again."


class LinkGone(WalletError):
    status_code = 410
    code = "link_gone"


class LinkLocked(WalletError):
    status_code = 423
    code = "link_locked"


class WrongPin(Forbidden):
    code = "wrong_pin"


class PinNeeded(Forbidden):
    code = "pin_needed"


def _hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def descriptor_fields(data: LinkCreate, owner_key_id: str) -> dict[str, Any]:
    """What the owner's signature must cover; the client builds the same dict."""
    return statements.SHARE_LINK.build(
        link_id=data.link_id,
        owner_key_id=owner_key_id,
        proof_key_sha256=_hash(data.proof_key),
        pin=data.pin_check is not None,
        uses=data.uses,
        package_sha256=_hash(data.sealed_package),
        preview_sha256=_hash(data.sealed_preview),
        items=sorted([i.document_id, i.version] for i in data.items),
    )


def _share_key(settings: Settings) -> bytes:
    # The server share is stored sealed under a key derived from the server secret, which is
    # not in the database: old row versions (PostgreSQL before VACUUM, WAL, backups) of a
    # dead link's share are useless to someone who stole only the database.
    return hkdf(settings.resolved_server_secret, labels.LINK_SHARE_AT_REST.encode())


def _pin_digest(settings: Settings, pin_check: bytes) -> str:
    # Keyed with the server secret: a copy of the database plus the URL cannot test PINs offline.
    key = hkdf(settings.resolved_server_secret, labels.LINK_PIN_AT_REST.encode())
    return hmac.new(key, pin_check, "sha256").hexdigest()


def create_link(
    db: Session,
    settings: Settings,
    account: Account,
    data: LinkCreate,
    *,
    signer: Account | None = None,
    actor_id: str | None = None,
    event: str = "link_created",
    details: dict[str, Any] | None = None,
) -> ShareLink:
    """`account` owns the documents. A proxy acting under a mandate is the `signer` and the
    journal's actor; the mandates service has checked the items against the mandate."""
    signer = signer or account
    now = utcnow()
    expires_at = data.expires_at
    if expires_at.tzinfo is None:
        raise Invalid("The field 'expires_at' needs a time zone, for example 2027-01-31T12:00:00Z.")
    if expires_at <= now:
        raise Invalid("The field 'expires_at' is in the past. Choose a date after today.")
    if expires_at > now + timedelta(days=MAX_DAYS, minutes=5):
        raise Invalid(
            f"The field 'expires_at' is too far away. A link lasts {MAX_DAYS} days at most."
        )
    try:
        verify(signer.public_signing_key, data.descriptor, data.signature)
        signed = json.loads(data.descriptor)
    except (BadSignature, ValueError) as exc:
        raise Invalid("The link descriptor is not signed by you.") from exc
    if not isinstance(signed, dict):
        raise Invalid("The link descriptor is not a JSON object. Create the link again.")
    expected = descriptor_fields(data, signer.key_id)
    for name, value in expected.items():
        if signed.get(name) != value:
            raise Invalid(f"The signed link descriptor does not match the field '{name}'.")
    try:
        statements.SHARE_LINK.check(signed)
    except statements.StatementError as exc:
        raise Invalid(f"The signed link descriptor is not well formed: {exc}.") from exc
    for item in data.items:
        owned_version(db, account, item.document_id, item.version)
    if find_link(db, account.id, data.link_id) is not None:
        raise Invalid("This link id is already used. Create the link again.")
    # Another owner's link with this id is no conflict: this one gets a row key of its own.
    taken = db.get(ShareLink, data.link_id) is not None
    link = ShareLink(
        id=new_id() if taken else data.link_id,
        public_id=data.link_id,
        owner_id=account.id,
        creator_id=signer.id,
        proof_key=data.proof_key,
        pin_check=_pin_digest(settings, data.pin_check) if data.pin_check else None,
        server_share=linkcrypto.seal(_share_key(settings), data.server_share, data.link_id),
        sealed_package=data.sealed_package,
        sealed_preview=data.sealed_preview,
        descriptor=data.descriptor,
        signature=data.signature,
        uses_total=data.uses,
        uses_left=data.uses,
        expires_at=expires_at,
    )
    db.add(link)
    db.flush()  # the link row first: its items refer to it
    for item in data.items:
        db.add(LinkItem(link_id=link.id, document_id=item.document_id, version=item.version))
    db.flush()
    journal.append(
        db,
        account.id,
        event,
        actor_kind="account" if actor_id else "owner",
        actor_id=actor_id,
        subject_kind="link",
        subject_id=link.public_id,
        details={
            "uses": data.uses,
            "items": len(data.items),
            "pin": link.pin_check is not None,
            **(details or {}),
        },
    )
    return link


def state_of(link: ShareLink) -> str:
    if link.revoked_at is not None:
        return "revoked"
    if link.locked:
        return "locked"
    if link.expires_at <= utcnow():
        return "expired"
    if link.uses_left <= 0:
        return "used"
    return "active"


_STATE_ERRORS: dict[str, tuple[type[WalletError], str]] = {
    "revoked": (LinkGone, REVOKED),
    "locked": (LinkLocked, LOCKED),
    "expired": (LinkGone, EXPIRED),
    "used": (LinkGone, USED),
}


def list_links(db: Session, account: Account) -> list[tuple[ShareLink, list[LinkItem]]]:
    links = db.exec(
        select(ShareLink)
        .where(ShareLink.owner_id == account.id)
        .order_by(col(ShareLink.created_at))
    ).all()
    result = []
    for link in links:
        items = db.exec(select(LinkItem).where(LinkItem.link_id == link.id)).all()
        result.append((link, list(items)))
    return result


def find_link(db: Session, owner_id: str, link_id: str) -> ShareLink | None:
    """A link id names a link only within one owner's links (or with its secret: a redeem)."""
    return db.exec(
        select(ShareLink).where(ShareLink.owner_id == owner_id, ShareLink.public_id == link_id)
    ).first()


def revoke_link(db: Session, account: Account, link_id: str) -> None:
    link = find_link(db, account.id, link_id)
    if link is None:
        raise NotFound()
    stop_link(db, link)


def stop_link(db: Session, link: ShareLink) -> None:
    """Revokes a link inside the caller's transaction (a revoked mandate stops its links in the
    same one); the old pages holding the share are flushed once the caller commits."""
    # Revoked is dead for good: nothing left on the server could open the package.
    _forget_share(db, link.id)
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        db.add(link)
    db.exec(delete(LinkDownloadSession).where(col(LinkDownloadSession.link_id) == link.id))
    journal.append(
        db, link.owner_id, "link_revoked", subject_kind="link", subject_id=link.public_id
    )
    tx.after_commit(db, lambda: flush_old_page_copies(db))


def new_challenge(db: Session, settings: Settings, link_id: str, address: str) -> LinkChallenge:
    """Answers the same for any id, known or not (the per-link limit counts unknown ids too)."""
    now = utcnow()
    limits = [
        ratelimit.Limit(
            f"challenge:l:{ratelimit.digest(link_id)}", settings.link_challenges_per_link_per_hour
        ),
        ratelimit.Limit(
            f"challenge:a:{ratelimit.network_key(address)}", settings.link_challenges_per_hour
        ),
    ]
    ratelimit.take(db, limits, "attempts to open links", now)
    challenge = LinkChallenge(
        link_id=link_id, nonce=secrets.token_bytes(32), expires_at=now + CHALLENGE_TTL
    )
    db.add(challenge)
    # At once: an anonymous one-row insert that dozens of openers send together must not hold
    # SQLite's write lock while the request finishes.
    db.commit()
    return challenge


def _proven_link(db: Session, link_id: str, challenge_id: str, proof: bytes) -> ShareLink:
    # Consuming the challenge is the transaction's first write: on SQLite it takes the write
    # lock before anything is read, so concurrent redeems queue instead of racing.
    nonce = db.exec(
        delete(LinkChallenge)
        .where(col(LinkChallenge.id) == challenge_id)
        .where(col(LinkChallenge.link_id) == link_id)
        .where(col(LinkChallenge.expires_at) > utcnow())
        .returning(col(LinkChallenge.nonce))
    ).scalar_one_or_none()
    # Owners choose their links' ids, so several may share one: the link is the one whose
    # proof key the proof of the secret matches, the oldest first (the one whose id was copied).
    candidates = db.exec(
        select(ShareLink)
        .where(ShareLink.public_id == link_id)
        .order_by(col(ShareLink.created_at), col(ShareLink.id))
    ).all()
    message = linkcrypto.challenge_message(link_id, nonce or b"")
    link: ShareLink | None = None
    # An unknown id costs the same check as a known one.
    for key in [c.proof_key for c in candidates] or [bytes(32)]:
        try:
            verify(key, message, proof)
        except BadSignature:
            continue
        link = next((c for c in candidates if c.proof_key == key), None)
        break
    proven = nonce is not None and link is not None
    if not proven:
        db.commit()  # the challenge is spent either way
        raise NotFound(DOES_NOT_WORK)
    assert link is not None
    return link


@dataclass
class Previewed:
    link: ShareLink
    state: str
    sender: Account | None
    on_behalf_of: Account | None


def preview(db: Session, link_id: str, challenge_id: str, proof: bytes) -> Previewed:
    """The link and who made it; a dead link (used, expired, stopped, locked) names nobody:
    whoever holds it learns only that it no longer works."""
    link = _proven_link(db, link_id, challenge_id, proof)
    state = state_of(link)
    if state != "active":
        return Previewed(link, state, None, None)
    return Previewed(link, state, *sender_of(db, link))


def sender_of(db: Session, link: ShareLink) -> tuple[Account | None, Account | None]:
    """Who made the link, from this server's records (never from what its maker wrote): the
    creating account, and the owner it acted for when a proxy made it under a mandate (else
    None). The creator is None when that account no longer exists: nobody is vouched for."""
    creator = db.get(Account, link.creator_id) if link.creator_id else None
    if creator is None or link.creator_id == link.owner_id:
        return creator, None
    return creator, db.get(Account, link.owner_id)


def state_message(state: str) -> str | None:
    return _STATE_ERRORS[state][1] if state in _STATE_ERRORS else None


@dataclass
class Redeemed:
    link: ShareLink
    server_share: bytes
    sealed_package: bytes
    uses_left: int
    download_token: str
    download_expires_at: Any
    sender: Account | None
    on_behalf_of: Account | None


def redeem(
    db: Session,
    settings: Settings,
    link_id: str,
    challenge_id: str,
    proof: bytes,
    pin_check: bytes | None,
    redeemer_id: str | None = None,
) -> Redeemed:
    link = _proven_link(db, link_id, challenge_id, proof)
    state = state_of(link)
    if state != "active":
        db.commit()  # the challenge is spent, although the request fails
        error, message = _STATE_ERRORS[state]
        raise error(message)
    if link.pin_check is not None and pin_check is None:
        # No PIN given is not a wrong guess: it must not cost one of the few tries.
        db.commit()  # the challenge is spent
        raise PinNeeded(PIN_NEEDED)
    if link.pin_check is not None and not hmac.compare_digest(
        _pin_digest(settings, pin_check or b""), link.pin_check
    ):
        _count_wrong_pin(db, link)
    now = utcnow()
    claimed = db.execute(
        update(ShareLink)
        .where(col(ShareLink.id) == link.id)
        .where(col(ShareLink.uses_left) > 0)
        .where(col(ShareLink.revoked_at).is_(None))
        .where(col(ShareLink.locked).is_(False))
        .where(col(ShareLink.expires_at) > now)
        .values(uses_left=ShareLink.uses_left - 1)
        .returning(
            col(ShareLink.uses_left), col(ShareLink.server_share), col(ShareLink.sealed_package)
        )
    ).first()
    if claimed is None or claimed[1] is None or claimed[2] is None:
        raise LinkGone(USED)
    uses_left, sealed_share, sealed_package = claimed
    server_share = linkcrypto.open_sealed(_share_key(settings), sealed_share, link.public_id)
    if uses_left == 0:
        # The last use: without this share, the database plus the URL can open nothing.
        _forget_share(db, link.id)
    token = secrets.token_urlsafe(32)
    session = LinkDownloadSession(
        token_hash=_hash(token.encode()),
        link_id=link.id,
        expires_at=now + DOWNLOAD_TTL,
        redeemer_id=redeemer_id,
    )
    db.add(session)
    sender, on_behalf_of = sender_of(db, link)
    journal.append(
        db,
        link.owner_id,
        "link_redeemed",
        actor_kind="link",
        actor_id=link.public_id,
        subject_kind="link",
        subject_id=link.public_id,
        details={"uses_left": uses_left, **({"account": redeemer_id} if redeemer_id else {})},
    )
    db.commit()  # before the old pages holding the share are flushed
    if uses_left == 0:
        flush_old_page_copies(db)
    return Redeemed(
        link,
        server_share,
        sealed_package,
        uses_left,
        token,
        session.expires_at,
        sender,
        on_behalf_of,
    )


def _forget_share(db: Session, link_id: str) -> None:
    """Sets the server share and the sealed package to NULL, so the link is dead for good."""
    db.execute(
        update(ShareLink)
        .where(col(ShareLink.id) == link_id)
        .values(server_share=None, sealed_package=None)
    )


def _count_wrong_pin(db: Session, link: ShareLink) -> None:
    # Only while unlocked: wrong PINs racing the one that locks the link (PostgreSQL re-checks
    # the WHERE after the row lock) are not counted again and do not journal a second lock.
    counted = db.execute(
        update(ShareLink)
        .where(col(ShareLink.id) == link.id)
        .where(col(ShareLink.locked).is_(False))
        .values(
            failed_pins=col(ShareLink.failed_pins) + 1,
            locked=case(
                (col(ShareLink.failed_pins) + 1 >= PIN_MAX_FAILURES, True),
                else_=col(ShareLink.locked),
            ),
        )
        .returning(col(ShareLink.failed_pins), col(ShareLink.locked))
    ).first()
    if counted is None:
        db.commit()  # the challenge is spent
        raise LinkLocked(LOCKED)
    failures, locked = counted
    journal.append(
        db,
        link.owner_id,
        "link_pin_failed",
        actor_kind="link",
        actor_id=link.public_id,
        subject_kind="link",
        subject_id=link.public_id,
        details={"failures": failures},
    )
    if locked:
        # Locked is dead for good: a stolen database plus the URL cannot guess the PIN offline.
        _forget_share(db, link.id)
        journal.append(
            db,
            link.owner_id,
            "link_locked",
            actor_kind="link",
            actor_id=link.public_id,
            subject_kind="link",
            subject_id=link.public_id,
        )
    db.commit()  # the failed PIN counts although the request fails
    if locked:
        flush_old_page_copies(db)
        raise LinkLocked(LOCKED)
    left = PIN_MAX_FAILURES - failures
    raise WrongPin(f"Wrong PIN. You have {left} {'try' if left == 1 else 'tries'} left.")


def download_item(db: Session, token: str, document_id: str, version: int) -> DocumentVersion:
    """Checks a download session and records the download in the owner's journal."""
    now = utcnow()
    session = db.exec(
        select(LinkDownloadSession).where(LinkDownloadSession.token_hash == _hash(token.encode()))
    ).first()
    if session is None or session.expires_at <= now:
        raise Unauthorized(DOWNLOAD_ENDED)
    link = db.get(ShareLink, session.link_id)
    if link is None or link.revoked_at is not None:
        raise Unauthorized(DOWNLOAD_ENDED)
    item = db.exec(
        select(LinkItem)
        .where(LinkItem.link_id == link.id)
        .where(LinkItem.document_id == document_id)
        .where(LinkItem.version == version)
    ).first()
    row = find_owned_version(db, link.owner_id, document_id, version)
    if item is None or row is None:
        raise NotFound()
    journal.append(
        db,
        link.owner_id,
        "link_download",
        actor_kind="link",
        actor_id=link.public_id,
        subject_kind="document",
        subject_id=document_id,
        details={"version": version},
    )
    return row


def sweep_expired(db: Session, now: datetime) -> int:
    """For the sweeper: forgets expired challenges and download sessions, and kills expired
    links (their server share and sealed package go). Returns the links killed."""
    db.exec(delete(LinkChallenge).where(col(LinkChallenge.expires_at) <= now))
    killed = db.exec(
        update(ShareLink)
        .where(col(ShareLink.expires_at) <= now)
        .where(col(ShareLink.server_share).is_not(None))
        .values(server_share=None, sealed_package=None)
    )
    db.exec(delete(LinkDownloadSession).where(col(LinkDownloadSession.expires_at) <= now))
    return int(killed.rowcount or 0)
