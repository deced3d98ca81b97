"""Accounts, sessions and login throttling. The server only ever sees derived keys."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import threading
import time
from datetime import datetime, timedelta

import nacl.exceptions
import nacl.pwhash
from sqlalchemy import ColumnElement, case, literal, null, or_, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select
from sqlmodel.sql.sqltypes import UTCDateTime

from storage.base import BlobStore
from storage.cleanup import delete_blobs_quietly, discard_uploads_quietly
from wallet.accounts import deletion
from wallet.accounts.models import Account, AuthSession, LoginThrottle
from wallet.accounts.schemas import AccountCreate, PassphraseChange, RecoveryKeyChange
from wallet.crypto.wrap import key_id
from wallet.db import flush_old_page_copies, utcnow
from wallet.documents.models import DocumentVersion
from wallet.errors import Conflict, Invalid, TooManyAttempts, Unauthorized
from wallet.journal import service as journal
from wallet.ratelimit import service as ratelimit
from wallet.settings import Settings
from wallet.tx import lock_owner
from wallet.uploads.models import Upload

# Auth keys are 256-bit random values, so a light Argon2id is enough to stop pass-the-hash.
# Its cost is Settings.auth_hash_opslimit and auth_hash_memlimit.

HANDLE_FREE_FAILURES = 5
# A shelter or a welcome centre puts many people behind one address: be generous there.
ADDRESS_FREE_FAILURES = 50
# Capped delays: an attacker can slow the owner down, never lock them out for good.
HANDLE_MAX_DELAY = 300
ADDRESS_MAX_DELAY = 900
THROTTLE_FORGET_AFTER = timedelta(hours=1)
# How long an attempt refused only because others are in flight waits for them to be resolved,
# how often it looks, and after how long a reservation never resolved (its process died) no
# longer counts as in flight.
IN_FLIGHT_WAIT = timedelta(seconds=3)
IN_FLIGHT_POLL = 0.02
IN_FLIGHT_STALE = timedelta(seconds=30)
LAST_SEEN_RESOLUTION = timedelta(minutes=1)

WRONG_LOGIN = "Wrong handle or passphrase. Check both and try again."
WRONG_RECOVERY = "Wrong handle or recovery key. Check the sheet and try again."


def hash_secret(secret: bytes, settings: Settings) -> str:
    return nacl.pwhash.argon2id.str(
        secret, opslimit=settings.auth_hash_opslimit, memlimit=settings.auth_hash_memlimit
    ).decode()


@functools.cache
def _dummy_hash(opslimit: int, memlimit: int) -> str:
    return nacl.pwhash.argon2id.str(b"\0" * 32, opslimit=opslimit, memlimit=memlimit).decode()


def dummy_hash(settings: Settings | None) -> str:
    """Checked for unknown handles, at the cost of real hashes so timing does not tell them
    apart. Without settings (a caller that always has an account): the default cost."""
    if settings is None:
        fields = Settings.model_fields
        return _dummy_hash(
            fields["auth_hash_opslimit"].default, fields["auth_hash_memlimit"].default
        )
    return _dummy_hash(settings.auth_hash_opslimit, settings.auth_hash_memlimit)


def secret_matches(stored_hash: str, secret: bytes) -> bool:
    try:
        return nacl.pwhash.verify(stored_hash.encode(), secret)
    except nacl.exceptions.InvalidkeyError:
        return False


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def fake_salt(settings: Settings, handle: str) -> bytes:
    """Stable per handle, so probing a handle twice cannot tell a real account from none."""
    mac = hmac.new(settings.resolved_server_secret, b"prelogin|" + handle.encode(), "sha256")
    return mac.digest()[: nacl.pwhash.argon2id.SALTBYTES]


def find_by_handle(db: Session, handle: str) -> Account | None:
    return db.exec(select(Account).where(Account.handle == handle)).first()


def create_account(
    db: Session, settings: Settings, data: AccountCreate, address: str = "unknown"
) -> Account:
    # Counted first (and committed): a refused or failed creation still spends its place.
    limit = ratelimit.Limit(
        f"account:a:{ratelimit.network_key(address)}", settings.new_accounts_per_hour
    )
    ratelimit.take(db, [limit], "new accounts from your network", utcnow())
    if len(data.kdf_salt) != nacl.pwhash.argon2id.SALTBYTES:
        raise Invalid("kdf_salt must be 16 bytes.")
    if data.kdf_opslimit < settings.kdf_opslimit or data.kdf_memlimit < settings.kdf_memlimit:
        raise Invalid("The passphrase protection is weaker than this server requires.")
    if len(data.public_encryption_key) != 32 or len(data.public_signing_key) != 32:
        raise Invalid("public keys must be 32 bytes.")
    account = Account(
        handle=data.handle,
        kdf_salt=data.kdf_salt,
        kdf_opslimit=data.kdf_opslimit,
        kdf_memlimit=data.kdf_memlimit,
        auth_hash=hash_secret(data.auth_key, settings),
        recovery_auth_hash=hash_secret(data.recovery_auth_key, settings),
        public_encryption_key=data.public_encryption_key,
        public_signing_key=data.public_signing_key,
        key_id=key_id(data.public_encryption_key),
        keys_by_passphrase=data.keys_by_passphrase,
        keys_by_recovery=data.keys_by_recovery,
    )
    db.add(account)
    try:
        db.flush()
    except IntegrityError as exc:
        raise Conflict("This handle is taken. Pick another one.") from exc
    journal.append(db, account.id, "account_created")
    return account


def prelogin(db: Session, settings: Settings, handle: str) -> tuple[bytes, int, int]:
    account = find_by_handle(db, handle)
    if account is None:
        return fake_salt(settings, handle), settings.kdf_opslimit, settings.kdf_memlimit
    return account.kdf_salt, account.kdf_opslimit, account.kdf_memlimit


# --- throttling -------------------------------------------------------------------------------

# A throttle key, the failures it allows before a block, and its longest block in seconds.
ThrottleKey = tuple[str, int, int]

_BLOCK_TYPE = UTCDateTime()  # the type of LoginThrottle.blocked_until, for bound values


def _throttle_keys(purpose: str, handle: str, address: str) -> list[ThrottleKey]:
    handle_digest = hashlib.sha256(handle.encode()).hexdigest()[:40]
    return [
        (f"{purpose}:h:{handle_digest}", HANDLE_FREE_FAILURES, HANDLE_MAX_DELAY),
        (f"{purpose}:a:{ratelimit.network_key(address)}", ADDRESS_FREE_FAILURES, ADDRESS_MAX_DELAY),
    ]


def _block_after(
    failures: ColumnElement[int], free: int, max_delay: int, now: datetime
) -> ColumnElement[datetime | None]:
    """blocked_until once `failures` failures are counted: none below `free`, then 1, 2, 4 …
    seconds up to `max_delay`. Written out as a CASE, so one statement counts and blocks."""
    steps = []
    doubling = 0
    while 2**doubling < max_delay:
        until = now + timedelta(seconds=2**doubling)
        steps.append((failures == free + doubling, literal(until, _BLOCK_TYPE)))
        doubling += 1
    return case(
        (failures < free, null()),
        *steps,
        else_=literal(now + timedelta(seconds=max_delay), _BLOCK_TYPE),
    )


def _insert_if_missing(db: Session, key: str, now: datetime) -> None:
    insert = postgresql_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(LoginThrottle).values(key=key, failures=0, last_failure_at=now)
    db.execute(statement.on_conflict_do_nothing(index_elements=["key"]))


def _reserve_attempt(db: Session, keys: list[ThrottleKey], now: datetime) -> list[datetime | None]:
    """Counts this attempt as a failure under every key before the secret is checked, in one
    short transaction: of many attempts at once, exactly as many as the keys allow get through.
    Returns the block each reservation set (to give back on success); raises while blocked.

    Refused while reservations are still in flight (their secrets being checked), the attempt
    waits for them, up to IN_FLIGHT_WAIT, and tries again: a success among them clears the
    count, so a right passphrase sent with five others at once is not refused for their sake.
    Once they are resolved as failures, the block stands."""
    deadline = time.monotonic() + IN_FLIGHT_WAIT.total_seconds()
    while True:
        try:
            return _reserve_once(db, keys, now)
        except _Blocked as blocked:
            cleared = _cleared_while_waiting(db, blocked.key, blocked.failures, deadline)
            if not cleared or time.monotonic() >= deadline:
                raise TooManyAttempts(_retry_after(db, blocked.key, utcnow())) from None
        now = utcnow()


class _Waiting:
    """How many attempts of this process wait for reservations in flight (a gauge in /metrics)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def add(self, step: int) -> None:
        with self._lock:
            self.count += step


_waiting = _Waiting()


def logins_waiting() -> int:
    return _waiting.count


class _Blocked(Exception):
    """A key refused the reservation; `failures` is its count then."""

    def __init__(self, key: str, failures: int) -> None:
        self.key = key
        self.failures = failures


def _cleared_while_waiting(db: Session, key: str, failures: int, deadline: float) -> bool:
    """Waits while the key has reservations in flight. True once its count went down (a
    success among them cleared it or gave its reservation back): worth trying again. False
    when none is in flight any more (they failed: the block stands) or the wait is over."""
    _waiting.add(1)
    try:
        return _wait_for_in_flight(db, key, failures, deadline)
    finally:
        _waiting.add(-1)


def _wait_for_in_flight(db: Session, key: str, failures: int, deadline: float) -> bool:
    while True:
        row = db.execute(
            select(
                col(LoginThrottle.failures),
                col(LoginThrottle.in_flight),
                col(LoginThrottle.reserved_at),
            ).where(col(LoginThrottle.key) == key)
        ).first()
        db.rollback()  # no connection held while waiting
        if row is None or row[0] < failures:
            return True
        in_flight, reserved_at = row[1], row[2]
        running = in_flight > 0 and reserved_at is not None
        if not running or reserved_at <= utcnow() - IN_FLIGHT_STALE:
            return False
        if time.monotonic() >= deadline:
            return False
        time.sleep(IN_FLIGHT_POLL)


def _reserve_once(db: Session, keys: list[ThrottleKey], now: datetime) -> list[datetime | None]:
    blocks: list[datetime | None] = []
    for key, free, max_delay in keys:
        _insert_if_missing(db, key, now)
        # After an hour without failures the count starts again.
        forgotten = col(LoginThrottle.last_failure_at) < now - THROTTLE_FORGET_AFTER
        failures = case((forgotten, 1), else_=col(LoginThrottle.failures) + 1)
        in_flight = case(
            (forgotten | (col(LoginThrottle.reserved_at) < now - IN_FLIGHT_STALE), 1),
            else_=col(LoginThrottle.in_flight) + 1,
        )
        reserved = db.execute(
            update(LoginThrottle)
            .where(
                col(LoginThrottle.key) == key,
                or_(
                    col(LoginThrottle.blocked_until).is_(None),
                    col(LoginThrottle.blocked_until) <= now,
                ),
            )
            .values(
                failures=failures,
                last_failure_at=now,
                blocked_until=_block_after(failures, free, max_delay, now),
                in_flight=in_flight,
                reserved_at=now,
            )
            .returning(col(LoginThrottle.blocked_until))
            .execution_options(synchronize_session=False)
        ).first()
        if reserved is None:
            db.rollback()  # nothing is reserved under any key when one of them is blocked
            seen = db.execute(
                select(col(LoginThrottle.failures)).where(col(LoginThrottle.key) == key)
            ).scalar_one_or_none()
            db.rollback()
            raise _Blocked(key, seen or 0)
        blocks.append(reserved[0])
    db.commit()  # the attempt counts although the request then fails or is cut off
    return blocks


def _retry_after(db: Session, key: str, now: datetime) -> int:
    blocked_until = db.execute(
        select(col(LoginThrottle.blocked_until)).where(col(LoginThrottle.key) == key)
    ).scalar_one_or_none()
    if blocked_until is None:
        return 1
    return max(1, int((blocked_until - now).total_seconds()) + 1)


def _confirm_failure(
    db: Session, keys: list[ThrottleKey], now: datetime, account: Account | None, event: str
) -> None:
    """The reserved failure stands. Known and unknown handles both write and commit here, so
    the time this takes does not tell them apart."""
    db.execute(
        update(LoginThrottle)
        .where(col(LoginThrottle.key) == keys[0][0])
        .values(last_failure_at=now)
        .execution_options(synchronize_session=False)
    )
    _resolved(db, keys)
    if account is not None:
        journal.append(db, account.id, event, actor_kind="unknown")
    db.commit()  # the failure and its journal entry last although the request then fails


def _resolved(db: Session, keys: list[ThrottleKey]) -> None:
    """This attempt's reservations are no longer in flight."""
    db.execute(
        update(LoginThrottle)
        .where(
            col(LoginThrottle.key).in_([key for key, _free, _max in keys]),
            col(LoginThrottle.in_flight) > 0,
        )
        .values(in_flight=col(LoginThrottle.in_flight) - 1)
        .execution_options(synchronize_session=False)
    )


def _give_back(db: Session, keys: list[ThrottleKey], blocks: list[datetime | None]) -> None:
    """A success: the handle's counter is cleared; the address gets its reservation back (and
    loses the block that reservation set, if it set one)."""
    (handle_key, _free, _max), *address_keys = keys
    db.execute(
        delete(LoginThrottle)
        .where(col(LoginThrottle.key) == handle_key)
        .execution_options(synchronize_session=False)
    )
    for (key, _free, _max), block in zip(address_keys, blocks[1:], strict=True):
        blocked_until = col(LoginThrottle.blocked_until)
        db.execute(
            update(LoginThrottle)
            .where(col(LoginThrottle.key) == key, col(LoginThrottle.failures) > 0)
            .values(
                failures=col(LoginThrottle.failures) - 1,
                in_flight=case(
                    (col(LoginThrottle.in_flight) > 0, col(LoginThrottle.in_flight) - 1), else_=0
                ),
                blocked_until=case(
                    (blocked_until == literal(block, _BLOCK_TYPE), null()), else_=blocked_until
                )
                if block is not None
                else blocked_until,
            )
            .execution_options(synchronize_session=False)
        )


# --- sessions ---------------------------------------------------------------------------------


def start_session(
    db: Session, account: Account, kind: str, ttl: timedelta, device: str | None = None
) -> tuple[str, AuthSession]:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session = AuthSession(
        token_hash=token_hash(token), account_id=account.id, kind=kind, expires_at=now + ttl
    )
    db.add(session)
    journal.append(
        db,
        account.id,
        "session_started",
        subject_kind="session",
        subject_id=session.id,
        # The device word lets the owner's journal say "you, on a phone" (wallet/journal/devices.py).
        details={"kind": kind, **({"device": device} if device else {})},
    )
    return token, session


def authenticate(db: Session, token: str) -> tuple[Account, AuthSession]:
    now = utcnow()
    session = db.exec(
        select(AuthSession).where(AuthSession.token_hash == token_hash(token))
    ).first()
    if session is None or session.expires_at <= now:
        raise Unauthorized()
    account = db.get(Account, session.account_id)
    if account is None:
        raise Unauthorized()
    if now - session.last_seen_at > LAST_SEEN_RESOLUTION:
        session.last_seen_at = now
        db.add(session)
        db.commit()  # at once: the row (in SQLite, the database) is not locked for the request
    return account, session


def check_passphrase_proof(
    db: Session, handle: str, auth_key: bytes, address: str, settings: Settings | None = None
) -> Account:
    """The auth key derived from the passphrase, checked under the login throttle."""
    keys = _throttle_keys("login", handle, address)
    blocks = _reserve_attempt(db, keys, utcnow())
    account = find_by_handle(db, handle)
    # Verify against a dummy hash for unknown handles so timing does not tell them apart.
    ok = secret_matches(account.auth_hash if account else dummy_hash(settings), auth_key)
    if account is None or not ok:
        _confirm_failure(db, keys, utcnow(), account, "login_failed")
        raise Unauthorized(WRONG_LOGIN)
    _give_back(db, keys, blocks)
    return account


def login(
    db: Session,
    settings: Settings,
    handle: str,
    auth_key: bytes,
    address: str,
    device: str | None = None,
) -> tuple[str, AuthSession, Account]:
    account = check_passphrase_proof(db, handle, auth_key, address, settings)
    token, session = start_session(
        db, account, "full", timedelta(hours=settings.session_ttl_hours), device
    )
    return token, session, account


def recovery_login(
    db: Session,
    settings: Settings,
    handle: str,
    recovery_auth_key: bytes,
    address: str,
    device: str | None = None,
) -> tuple[str, AuthSession, Account]:
    keys = _throttle_keys("recover", handle, address)
    blocks = _reserve_attempt(db, keys, utcnow())
    account = find_by_handle(db, handle)
    stored = account.recovery_auth_hash if account else dummy_hash(settings)
    ok = secret_matches(stored, recovery_auth_key)
    if account is not None and ok:
        # Under the owner's lock, the key checked must still be the current one: a new recovery
        # key committed meanwhile wins (replace_recovery_key ends recovery sessions).
        lock_owner(db, account.id)
        db.refresh(account)
        ok = account.recovery_auth_hash == stored
    if account is None or not ok:
        _confirm_failure(db, keys, utcnow(), account, "recovery_failed")
        raise Unauthorized(WRONG_RECOVERY)
    _give_back(db, keys, blocks)
    ttl = timedelta(minutes=settings.recovery_session_minutes)
    token, session = start_session(db, account, "recovery", ttl, device)
    return token, session, account


def logout(db: Session, session: AuthSession) -> None:
    db.delete(session)
    journal.append(
        db, session.account_id, "session_ended", subject_kind="session", subject_id=session.id
    )


def device_kind(user_agent: str) -> str:
    """A coarse kind of device for the owner's list of sessions: enough to spot a phone that
    is not hers, too little to single anyone out."""
    agent = user_agent.lower()
    if not agent or agent.startswith(("python-httpx", "curl", "wget")):
        return "command line"
    if "ipad" in agent or "tablet" in agent or ("android" in agent and "mobile" not in agent):
        return "tablet"
    if "mobile" in agent or "iphone" in agent or "android" in agent:
        return "phone"
    return "computer"


def note_device(db: Session, session: AuthSession, user_agent: str) -> None:
    session.device = device_kind(user_agent)
    db.add(session)


def list_sessions(db: Session, account: Account) -> list[AuthSession]:
    query = select(AuthSession).where(AuthSession.account_id == account.id)
    return list(db.exec(query.order_by(col(AuthSession.created_at))))


def revoke_session(db: Session, account: Account, session_id: str) -> bool:
    session = db.get(AuthSession, session_id)
    if session is None or session.account_id != account.id:
        return False
    db.delete(session)
    journal.append(db, account.id, "session_revoked", subject_kind="session", subject_id=session.id)
    return True


def change_passphrase(
    db: Session,
    settings: Settings,
    account: Account,
    session: AuthSession,
    change: PassphraseChange,
) -> tuple[str, AuthSession]:
    """Re-wraps the private keys under the new passphrase. Documents stay as they are."""
    if session.kind == "full" and (
        change.current_auth_key is None
        or not secret_matches(account.auth_hash, change.current_auth_key)
    ):
        raise Unauthorized("Your current passphrase is not right. Nothing was changed.")
    if change.kdf_opslimit < settings.kdf_opslimit or change.kdf_memlimit < settings.kdf_memlimit:
        raise Invalid("The passphrase protection is weaker than this server requires.")
    if len(change.kdf_salt) != nacl.pwhash.argon2id.SALTBYTES:
        raise Invalid("kdf_salt must be 16 bytes.")
    account.kdf_salt = change.kdf_salt
    account.kdf_opslimit = change.kdf_opslimit
    account.kdf_memlimit = change.kdf_memlimit
    account.auth_hash = hash_secret(change.auth_key, settings)
    account.keys_by_passphrase = change.keys_by_passphrase
    db.add(account)
    # Every other session ends: whoever knew the old passphrase is logged out.
    db.exec(delete(AuthSession).where(col(AuthSession.account_id) == account.id))
    journal.append(
        db, account.id, "passphrase_changed", details={"with_recovery_key": session.kind != "full"}
    )
    return start_session(db, account, "full", timedelta(hours=settings.session_ttl_hours))


def replace_recovery_key(
    db: Session, settings: Settings, account: Account, change: RecoveryKeyChange
) -> None:
    """The verifier and the keys locked by the recovery key are replaced together, and every
    recovery session ends: from the commit on, the old sheet opens nothing."""
    if not secret_matches(account.auth_hash, change.current_auth_key):
        raise Unauthorized("Your current passphrase is not right. Nothing was changed.")
    account.recovery_auth_hash = hash_secret(change.recovery_auth_key, settings)
    account.keys_by_recovery = change.keys_by_recovery
    db.add(account)
    db.exec(
        delete(AuthSession).where(
            col(AuthSession.account_id) == account.id, col(AuthSession.kind) == "recovery"
        )
    )
    journal.append(db, account.id, "recovery_key_replaced")


def delete_account(db: Session, store: BlobStore, account: Account, auth_key: bytes) -> None:
    """Crypto-shredding: keys, wraps and blobs are gone; nothing can be decrypted afterwards."""
    if not secret_matches(account.auth_hash, auth_key):
        raise Unauthorized("Your passphrase is not right. Nothing was deleted.")
    # Other domains' rules (an organisation's last admin), in this transaction and its locks.
    deletion.run_checks(db, account)
    blob_keys = list(
        db.exec(select(DocumentVersion.blob_key).where(DocumentVersion.owner_id == account.id))
    )
    upload_ids = list(db.exec(select(Upload.id).where(Upload.account_id == account.id)))
    db.delete(account)
    db.commit()  # before the blobs are deleted and the old pages flushed
    # Locked keys and link shares of a deleted account must not linger in SQLite's log.
    flush_old_page_copies(db)
    # After the commit: a blob left behind by a failure here is an orphan the sweeper removes.
    delete_blobs_quietly(store, blob_keys)
    discard_uploads_quietly(store, upload_ids)
