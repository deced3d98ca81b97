"""FastAPI dependencies: the app's lifespan objects and the caller's session."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlmodel import Session

from storage.base import BlobStore
from wallet import tx
from wallet.accounts import service as accounts
from wallet.accounts.models import Account, AuthSession
from wallet.errors import Forbidden, Unauthorized
from wallet.settings import Settings
from wallet.vaulthead import service as vaulthead


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_db(request: Request) -> Iterator[Session]:
    """The request's one transaction (wallet/tx.py): committed when the endpoint returns,
    before the response goes out; rolled back if it raised."""
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        try:
            yield session
        except BaseException:
            tx.rollback(session)
            raise
        tx.commit(session)


# scope="function": the commit runs before the response is sent, so a client never gets an
# answer for a change that is not durable yet (and a failed commit still gets its error).
DB = Annotated[Session, Depends(get_db, scope="function")]


def get_store(request: Request) -> BlobStore:
    return request.app.state.store


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@dataclass
class Caller:
    account: Account
    session: AuthSession


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CROSS_SITE = (
    "This request came from another web page, so it was refused. "
    "Open the wallet's own page and try again."
)


def from_this_site(request: Request) -> bool:
    """A browser request made by the wallet's own pages (not a form or script on another page,
    which may sit on a sibling subdomain that SameSite does not stop)."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site == "same-origin"
    origin = request.headers.get("origin")
    return origin is not None and origin == f"{request.url.scheme}://{request.url.netloc}"


def session_token(request: Request) -> str | None:
    """The session sent as a Bearer token (CLI) or as the web app's HttpOnly cookie. A cookie
    rides along with any request the browser sends: for a change, only from this site."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    cookie = request.cookies.get("wallet_session") or None
    if cookie and request.method not in SAFE_METHODS and not from_this_site(request):
        return None
    return cookie


def _bearer_token(request: Request) -> str:
    token = session_token(request)
    if token is None:
        if request.cookies.get("wallet_session"):
            raise Forbidden(CROSS_SITE)
        raise Unauthorized("Please log in first.")
    return token


def any_caller(request: Request, db: DB) -> Caller:
    """Any valid session, including a recovery session (which may only set a new passphrase)."""
    account, session = accounts.authenticate(db, _bearer_token(request))
    return Caller(account, session)


def full_caller(caller: Annotated[Caller, Depends(any_caller)]) -> Caller:
    if caller.session.kind != "full":
        raise Unauthorized("First choose a new passphrase, then log in with it.")
    return caller


Store = Annotated[BlobStore, Depends(get_store)]
AppSettings = Annotated[Settings, Depends(get_settings)]
FullCaller = Annotated[Caller, Depends(full_caller)]
AnyCaller = Annotated[Caller, Depends(any_caller)]
Address = Annotated[str, Depends(client_address)]


def _vault_change(
    caller: FullCaller,
    db: DB,
    wallet_head: Annotated[
        str | None,
        Header(
            alias=vaulthead.HEADER,
            max_length=4096,
            description="The owner's next signed vault head: base64url(statement).base64url"
            "(signature). Without it the change leaves a state the owner's clients refuse.",
        ),
    ] = None,
) -> Iterator[None]:
    """For an endpoint whose change the owner's vault head covers: the head is checked and
    stored before the change runs, and matched against the state it left after (in the same
    transaction, before get_db commits)."""
    pending = vaulthead.before_change(db, caller.account, wallet_head)
    yield
    if pending is not None:
        vaulthead.confirm(db, caller.account, pending)


# Add to the route's dependencies: `@router.post(..., dependencies=[VaultChange])`.
VaultChange = Depends(_vault_change, scope="function")
