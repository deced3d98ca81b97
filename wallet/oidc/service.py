"""Worker login through the organisation's OpenID Connect provider (the wallet is the client).

Authorization code flow with PKCE (S256). The state, nonce and code verifier stay on the
server; the state is used exactly once. When the provider says it names itself in its answers
(RFC 9207), the callback's `iss` must be its issuer, before the code goes anywhere. The wallet
proves itself at the token endpoint as WALLET_OIDC_CLIENT_AUTH says (Authlib's client-auth
methods). The ID token is checked here: signature against the provider's published keys,
issuer, audience, expiry and nonce.

A sign-in through the organisation gives an API session, never the keys: the private keys
stay locked by the passphrase, which the client still needs to unlock them.

Never log a code, a state, a verifier, a nonce or a token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote_plus

import httpx
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.oauth2.auth import encode_client_secret_basic
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from wallet import tx
from wallet.accounts import service as accounts_service
from wallet.accounts.models import Account, AuthSession
from wallet.accounts.service import token_hash
from wallet.db import utcnow
from wallet.errors import Conflict, NotFound, Unavailable, WalletError
from wallet.journal import service as journal
from wallet.oidc.models import OidcExchange, OidcIdentity, OidcLogin
from wallet.ratelimit import service as ratelimit
from wallet.settings import Settings, load_oidc_client_key

with warnings.catch_warnings():
    # Authlib prefers the httpx2 fork but works with httpx, which the project already uses.
    warnings.simplefilter("ignore")
    from authlib.integrations.httpx_client import OAuth2Client

COOKIE_PATH = "/api/v1/auth/oidc"
CALLBACK_PATH = COOKIE_PATH + "/callback"
# Binds a sign-in to the browser that started it (an HttpOnly cookie on COOKIE_PATH only).
BROWSER_COOKIE = "wallet_oidc_browser"
LOGIN = "login"
LINK = "link"
EXCHANGE_MINUTES = 5
# Clocks differ a little between the provider and us.
CLOCK_LEEWAY_SECONDS = 60
# Asymmetric algorithms only: an HMAC-signed token would be keyed with a client secret.
ID_TOKEN_ALGORITHMS = ["RS256", "PS256", "ES256", "EdDSA"]
KEEP_FINISHED_ROWS = timedelta(days=1)


class OidcRefused(WalletError):
    """A sign-in through the organisation that we refuse, with its own code and plain words."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status
        self.code = code


NOT_CONFIGURED = (
    "Sign-in through your organisation is not set up on this server. "
    "Log in with your handle and passphrase."
)
PROVIDER_DOWN = (
    "Your organisation's sign-in service does not answer. Nothing was changed. "
    "Try again in a few minutes, or log in with your handle and passphrase."
)


def wrong_issuer() -> OidcRefused:
    return OidcRefused(
        401,
        "oidc_wrong_issuer",
        "The sign-in service answered with the wrong name. "
        "Ask your IT team to check the wallet settings.",
    )


def wrong_audience() -> OidcRefused:
    return OidcRefused(
        401,
        "oidc_wrong_audience",
        "The sign-in service made this sign-in for another app, not for the wallet. "
        "Ask your IT team to check the wallet settings.",
    )


def expired_token() -> OidcRefused:
    return OidcRefused(
        401,
        "oidc_expired",
        "Your sign-in has expired before it reached the wallet. Start the sign-in again. "
        "If this keeps happening, ask your IT team to check the clocks of both services.",
    )


def bad_signature() -> OidcRefused:
    return OidcRefused(
        401,
        "oidc_bad_signature",
        "The sign-in answer is not signed by your organisation's sign-in service. "
        "Start again, and tell your IT team if it happens again.",
    )


def nonce_mismatch() -> OidcRefused:
    return OidcRefused(
        401,
        "oidc_nonce_mismatch",
        "The sign-in answer does not belong to this sign-in. Start the sign-in again. "
        "If this keeps happening, tell your IT team.",
    )


def code_refused() -> OidcRefused:
    return OidcRefused(
        401,
        "oidc_code_refused",
        "The sign-in service refused this sign-in: its code was already used or is too old. "
        "Start the sign-in again.",
    )


def state_unknown() -> OidcRefused:
    return OidcRefused(
        400,
        "oidc_state_unknown",
        "We do not know this sign-in, or it took too long. Start the sign-in again.",
    )


def state_used() -> OidcRefused:
    return OidcRefused(
        409,
        "oidc_state_used",
        "This sign-in was already finished once. Start the sign-in again.",
    )


def other_browser() -> OidcRefused:
    return OidcRefused(
        401,
        "oidc_other_browser",
        "This sign-in was started in another browser. Start the sign-in again in this one.",
    )


def not_linked() -> OidcRefused:
    return OidcRefused(
        401,
        "oidc_not_linked",
        "This sign-in is not linked to a wallet account yet. Log in once with your handle "
        "and passphrase, then link your organisation's sign-in to your account.",
    )


def exchange_refused() -> OidcRefused:
    return OidcRefused(
        401,
        "oidc_exchange_refused",
        "This code is wrong, already used or too old. Sign in through your organisation again "
        "to get a new one.",
    )


def client_refused() -> OidcRefused:
    return OidcRefused(
        401,
        "oidc_client_refused",
        "The sign-in service does not accept the wallet's own credentials. Nothing was changed. "
        "Ask your IT team to check the wallet settings (client id, secret or key, and how the "
        "wallet proves itself).",
    )


def client_key_unreadable() -> OidcRefused:
    return OidcRefused(
        503,
        "oidc_client_key_unreadable",
        "The wallet cannot read its own sign-in key. Nothing was changed. Log in with your "
        "handle and passphrase, and tell your IT team.",
    )


def provider_error(error: str) -> OidcRefused:
    # `error` is a short OAuth error name such as access_denied, never a secret.
    return OidcRefused(
        401,
        "oidc_provider_refused",
        f"Your organisation's sign-in service did not sign you in ({error[:40]}). "
        "Start the sign-in again, or ask your IT team.",
    )


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def enabled(settings: Settings) -> bool:
    return bool(settings.oidc_issuer and settings.oidc_client_id)


def _require_enabled(settings: Settings) -> None:
    if not enabled(settings):
        raise NotFound(NOT_CONFIGURED)


def redirect_uri(settings: Settings) -> str:
    return settings.public_url.rstrip("/") + CALLBACK_PATH


# --- the provider -------------------------------------------------------------------------


@dataclass
class Provider:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    # RFC 9207: the provider names itself (`iss`) in every authorization response.
    iss_parameter_supported: bool = False


def _get_json(settings: Settings, url: str) -> dict[str, Any]:
    try:
        response = httpx.get(url, timeout=settings.oidc_timeout_seconds)
        response.raise_for_status()
        document = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise Unavailable(PROVIDER_DOWN) from exc
    if not isinstance(document, dict):
        raise Unavailable(PROVIDER_DOWN)
    return document


def discover(settings: Settings) -> Provider:
    """Reads the provider's discovery document (no cache: a key rotation is seen at once)."""
    url = (
        settings.oidc_discovery_url
        or settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration"
    )
    document = _get_json(settings, url)
    if document.get("issuer") != settings.oidc_issuer:
        raise wrong_issuer()
    try:
        return Provider(
            issuer=str(document["issuer"]),
            authorization_endpoint=str(document["authorization_endpoint"]),
            token_endpoint=str(document["token_endpoint"]),
            jwks_uri=str(document["jwks_uri"]),
            iss_parameter_supported=(
                document.get("authorization_response_iss_parameter_supported") is True
            ),
        )
    except KeyError as exc:
        raise Unavailable(PROVIDER_DOWN) from exc


def _client_secret_basic(
    auth: Any, method: str, uri: str, headers: dict[str, str], body: str
) -> tuple[str, dict[str, str], str]:
    """RFC 6749 §2.3.1: the id and the secret are form-urlencoded before Basic encoding.
    Authlib's own client_secret_basic skips that step, and providers that follow the RFC then
    refuse a secret with `+ / = % : ` or a space; so it gets the encoded values."""
    encoded = SimpleNamespace(
        client_id=quote_plus(auth.client_id), client_secret=quote_plus(auth.client_secret or "")
    )
    result: tuple[str, dict[str, str], str] = encode_client_secret_basic(
        encoded, method, uri, headers, body
    )
    return result


def _oauth_client(settings: Settings) -> OAuth2Client:
    # A public client (the default) proves itself with PKCE only; a confidential one also with
    # its secret (in the Authorization header or the body) or a JWT signed with its own key.
    method = settings.oidc_token_auth_method
    credential: Any = settings.oidc_client_secret or None
    assertion: PrivateKeyJWT | None = None
    if method == "private_key_jwt":
        try:
            client_key = load_oidc_client_key(settings.oidc_client_key_file or Path())
        except ValueError as exc:
            raise client_key_unreadable() from exc
        credential = client_key.key
        # Authlib signs the assertion (iss = sub = client id, aud = token endpoint, jti, exp);
        # the kid lets the provider pick our key out of the JWKS it was given.
        assertion = PrivateKeyJWT(alg=client_key.alg, headers={"kid": client_key.kid})
    client = OAuth2Client(
        client_id=settings.oidc_client_id,
        client_secret=credential,
        token_endpoint_auth_method=method,
        scope=settings.oidc_scopes,
        redirect_uri=redirect_uri(settings),
        code_challenge_method="S256",
        timeout=settings.oidc_timeout_seconds,
    )
    if method == "client_secret_basic":
        client.register_client_auth_method(("client_secret_basic", _client_secret_basic))
    if assertion is not None:
        client.register_client_auth_method(assertion)
    return client


# --- start ----------------------------------------------------------------------------------


def forget_old_rows(db: Session, now: datetime) -> int:
    """Deletes sign-in states and exchanges long finished (also run by the sweeper)."""
    cutoff = now - KEEP_FINISHED_ROWS
    logins = db.exec(delete(OidcLogin).where(col(OidcLogin.expires_at) < cutoff))
    exchanges = db.exec(delete(OidcExchange).where(col(OidcExchange.expires_at) < cutoff))
    return int(logins.rowcount or 0) + int(exchanges.rowcount or 0)


def start(
    db: Session,
    settings: Settings,
    purpose: str,
    *,
    account: Account | None = None,
    browser_secret: str | None = None,
    address: str = "unknown",
) -> str:
    """Records a one-time sign-in and returns the provider's authorization URL."""
    _require_enabled(settings)
    # Before the provider is asked: each start writes a row and may fetch its discovery.
    limit = ratelimit.Limit(
        f"oidc:a:{ratelimit.network_key(address)}", settings.oidc_starts_per_hour
    )
    ratelimit.take(db, [limit], "sign-ins from your network", utcnow())
    provider = discover(settings)
    state = secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(32)
    verifier = generate_token(64)  # RFC 7636: 43 to 128 unreserved characters
    extra: dict[str, str] = {"nonce": nonce}
    if purpose == LINK:
        # Linking binds an identity for good: ask the person to sign in now, so a colleague's
        # sign-in left open in the same browser is not linked by mistake.
        extra["prompt"] = "login"
    with _oauth_client(settings) as client:
        url, _state = client.create_authorization_url(
            provider.authorization_endpoint, state=state, code_verifier=verifier, **extra
        )
    now = utcnow()
    forget_old_rows(db, now)
    db.add(
        OidcLogin(
            state_hash=_digest(state),
            purpose=purpose,
            account_id=account.id if account else None,
            browser_hash=_digest(browser_secret) if browser_secret else None,
            nonce=nonce,
            code_verifier=verifier,
            expires_at=now + timedelta(minutes=settings.oidc_login_minutes),
        )
    )
    return url


# --- callback -------------------------------------------------------------------------------


@dataclass
class CallbackResult:
    purpose: str
    account_handle: str
    exchange_code: str | None = None


def _claim_state(db: Session, state: str, browser_secret: str | None) -> tuple[OidcLogin, str, str]:
    """Uses the state exactly once (a conditional update) and returns its nonce and verifier."""
    now = utcnow()
    row = db.exec(select(OidcLogin).where(OidcLogin.state_hash == _digest(state))).first()
    if row is None:
        raise state_unknown()
    if row.used_at is not None:
        raise state_used()
    if row.expires_at <= now:
        raise state_unknown()
    if row.browser_hash is not None and (
        browser_secret is None or not hmac.compare_digest(row.browser_hash, _digest(browser_secret))
    ):
        raise other_browser()
    nonce, verifier = row.nonce or "", row.code_verifier or ""
    claimed = db.execute(
        update(OidcLogin)
        .where(col(OidcLogin.id) == row.id, col(OidcLogin.used_at).is_(None))
        .values(used_at=now, nonce=None, code_verifier=None)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise state_used()
    db.commit()  # before we talk to the provider: a replay during the exchange is refused too
    return row, nonce, verifier


def _redeem_code(settings: Settings, provider: Provider, code: str, verifier: str) -> str:
    """Trades the code (with the PKCE verifier) for tokens; returns the ID token."""
    try:
        with _oauth_client(settings) as client:
            token = client.fetch_token(
                provider.token_endpoint,
                grant_type="authorization_code",
                code=code,
                code_verifier=verifier,
            )
    except OAuthError as exc:
        if exc.error == "invalid_grant":
            raise code_refused() from exc
        if exc.error in ("invalid_client", "unauthorized_client"):
            raise client_refused() from exc
        raise provider_error(str(exc.error)) from exc
    except (httpx.HTTPError, ValueError) as exc:
        raise Unavailable(PROVIDER_DOWN) from exc
    id_token = token.get("id_token")
    if not isinstance(id_token, str) or not id_token:
        raise provider_error("no_id_token")
    return id_token


def check_response_issuer(provider: Provider, iss: str | None) -> None:
    """RFC 9207 §2.4: an `iss` in the authorization response must be the issuer we sent the
    person to (simple string comparison); a provider that says it sends one must send it.
    Otherwise the answer may come from another provider (a mix-up), and is refused before the
    code is used."""
    if iss is None:
        if provider.iss_parameter_supported:
            raise wrong_issuer()
    elif iss != provider.issuer:
        raise wrong_issuer()


def refused_at_provider(settings: Settings, error: str, iss: str | None) -> OidcRefused:
    """An error answer from the provider. One that names another issuer did not come from ours
    (RFC 9207 applies to error answers too)."""
    if iss is not None and iss != settings.oidc_issuer:
        return wrong_issuer()
    return provider_error(error)


def _verified_claims(settings: Settings, provider: Provider, id_token: str) -> dict[str, Any]:
    """Checks the signature against the provider's published keys; the claims come next."""
    keys = _get_json(settings, provider.jwks_uri)
    try:
        key_set = KeySet.import_key_set(keys)  # type: ignore[arg-type]
        decoded = jwt.decode(id_token, key_set, algorithms=ID_TOKEN_ALGORITHMS)
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        raise bad_signature() from exc
    return dict(decoded.claims)


def _check_claims(settings: Settings, claims: dict[str, Any], nonce: str) -> None:
    """OpenID Connect Core 3.1.3.7, in the order that gives the most useful message."""
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else list(audience or [])
    if settings.oidc_client_id not in audiences:
        raise wrong_audience()
    if len(audiences) > 1 and claims.get("azp") != settings.oidc_client_id:
        raise wrong_audience()
    now = time.time()
    expires, issued = claims.get("exp"), claims.get("iat")
    if not isinstance(expires, int | float) or expires + CLOCK_LEEWAY_SECONDS <= now:
        raise expired_token()
    if not isinstance(issued, int | float) or issued - CLOCK_LEEWAY_SECONDS > now:
        raise expired_token()
    if not hmac.compare_digest(str(claims.get("nonce", "")), nonce) or not nonce:
        raise nonce_mismatch()


def _subject(claims: dict[str, Any]) -> str:
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise bad_signature()
    return subject


def _identity(db: Session, issuer: str, subject: str) -> OidcIdentity | None:
    return db.exec(
        select(OidcIdentity).where(OidcIdentity.issuer == issuer, OidcIdentity.subject == subject)
    ).first()


def callback(
    db: Session,
    settings: Settings,
    *,
    code: str,
    state: str,
    browser_secret: str | None,
    iss: str | None = None,
) -> CallbackResult:
    """`iss` is the authorization response's issuer parameter, None when it has none."""
    _require_enabled(settings)
    row, nonce, verifier = _claim_state(db, state, browser_secret)
    provider = discover(settings)
    check_response_issuer(provider, iss)
    id_token = _redeem_code(settings, provider, code, verifier)
    claims = _verified_claims(settings, provider, id_token)
    if claims.get("iss") != settings.oidc_issuer:
        raise wrong_issuer()
    # Signed by our provider under our issuer: the subject is real even if a check below fails.
    subject = _subject(claims)
    identity = _identity(db, settings.oidc_issuer, subject)
    try:
        _check_claims(settings, claims, nonce)
    except OidcRefused as refused:
        if identity is not None:
            journal.append(
                db,
                identity.account_id,
                "oidc_login_failed",
                actor_kind="unknown",
                details={"reason": refused.code},
            )
            db.commit()  # the refused sign-in is journaled although the request fails
        raise
    if row.purpose == LINK:
        return _link(db, settings, row, identity, subject)
    if identity is None:
        raise not_linked()
    account = db.get(Account, identity.account_id)
    if account is None:
        raise not_linked()
    exchange_code = secrets.token_urlsafe(24)
    now = utcnow()
    identity.last_login_at = now
    db.add(identity)
    db.add(
        OidcExchange(
            code_hash=_digest(exchange_code),
            account_id=account.id,
            expires_at=now + timedelta(minutes=EXCHANGE_MINUTES),
        )
    )
    return CallbackResult(LOGIN, account.handle, exchange_code)


def _link(
    db: Session,
    settings: Settings,
    row: OidcLogin,
    identity: OidcIdentity | None,
    subject: str,
) -> CallbackResult:
    account = db.get(Account, row.account_id) if row.account_id else None
    if account is None:
        raise state_unknown()
    if identity is not None and identity.account_id != account.id:
        raise Conflict(
            "This sign-in is already linked to another wallet account. "
            "Unlink it there first, or ask your IT team."
        )
    tx.lock_owner(db, account.id)
    mine = db.exec(select(OidcIdentity).where(OidcIdentity.account_id == account.id)).first()
    if mine is None:
        mine = OidcIdentity(account_id=account.id, issuer=settings.oidc_issuer, subject=subject)
    else:
        mine.issuer, mine.subject, mine.created_at = settings.oidc_issuer, subject, utcnow()
    db.add(mine)
    journal.append(db, account.id, "oidc_linked", subject_kind="oidc_identity", subject_id=mine.id)
    return CallbackResult(LINK, account.handle)


# --- exchange and link management -----------------------------------------------------------


def exchange_params(db: Session, code: str) -> Account:
    """The account a valid, unused one-time code belongs to (the code stays unused)."""
    account_id = db.exec(
        select(OidcExchange.account_id).where(
            col(OidcExchange.code_hash) == _digest(code),
            col(OidcExchange.used_at).is_(None),
            col(OidcExchange.expires_at) > utcnow(),
        )
    ).first()
    account = db.get(Account, account_id) if account_id else None
    if account is None:
        raise exchange_refused()
    return account


def exchange(
    db: Session, settings: Settings, code: str, auth_key: bytes, address: str
) -> tuple[str, AuthSession, Account]:
    """Turns a one-time code plus the passphrase proof into a full wallet session, exactly once.
    A wrong passphrase uses the code up too (one guess per sign-in) and counts for the throttle."""
    now = utcnow()
    account_id = db.execute(
        update(OidcExchange)
        .where(
            col(OidcExchange.code_hash) == _digest(code),
            col(OidcExchange.used_at).is_(None),
            col(OidcExchange.expires_at) > now,
        )
        .values(used_at=now)
        .returning(col(OidcExchange.account_id))
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    account = db.get(Account, account_id) if account_id else None
    if account is None:
        raise exchange_refused()
    # A wrong proof commits the used code together with its throttle record.
    accounts_service.check_passphrase_proof(db, account.handle, auth_key, address)
    token = secrets.token_urlsafe(32)
    session = AuthSession(
        token_hash=token_hash(token),
        account_id=account.id,
        kind="full",
        expires_at=now + timedelta(hours=settings.session_ttl_hours),
    )
    db.add(session)
    journal.append(
        db,
        account.id,
        "session_started",
        subject_kind="session",
        subject_id=session.id,
        details={"kind": "full", "via": "oidc"},
    )
    return token, session, account


def linked_identity(db: Session, account: Account) -> OidcIdentity | None:
    return db.exec(select(OidcIdentity).where(OidcIdentity.account_id == account.id)).first()


def unlink(db: Session, account: Account) -> None:
    identity = linked_identity(db, account)
    if identity is None:
        raise NotFound("Your account has no linked sign-in.")
    db.delete(identity)
    journal.append(
        db, account.id, "oidc_unlinked", subject_kind="oidc_identity", subject_id=identity.id
    )
