from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from wallet.accounts import handles, service
from wallet.accounts.models import Account, AuthSession
from wallet.accounts.schemas import (
    AccountCreate,
    AccountDelete,
    AccountOut,
    KdfParams,
    LoginRequest,
    NewAccountParams,
    PassphraseChange,
    PreloginRequest,
    RecoverRequest,
    RecoveryKeyChange,
    RecoverySessionOut,
    SessionInfo,
    SessionOut,
)
from wallet.deps import DB, Address, AnyCaller, AppSettings, FullCaller, Store
from wallet.errors import NotFound
from wallet.journal.devices import KIOSK_COOKIE, device_of
from wallet.types import Ref

router = APIRouter(tags=["accounts"])


def _device(request: Request) -> str | None:
    return device_of(request.headers.get("user-agent"), request.cookies.get(KIOSK_COOKIE))


def _account_out(account: Account) -> AccountOut:
    return AccountOut.model_validate(account, from_attributes=True)


def _session_out(token: str, session: AuthSession, account: Account) -> SessionOut:
    return SessionOut(
        token=token, kind=session.kind, expires_at=session.expires_at, account=_account_out(account)
    )


@router.get("/accounts/params", response_model=NewAccountParams)
def new_account_params(
    settings: AppSettings,
    request: Request,
    lang: Annotated[str | None, Query(max_length=8, description="Suggest in this language")] = None,
) -> NewAccountParams:
    """The passphrase cost, and a handle suggested in the person's language (`lang`, else the
    page's language cookie, else Accept-Language)."""
    language = handles.language_of(
        lang,
        request.cookies.get(handles.LANGUAGE_COOKIE),
        request.headers.get("accept-language", ""),
    )
    return NewAccountParams(
        opslimit=settings.kdf_opslimit,
        memlimit=settings.kdf_memlimit,
        suggested_handle=handles.suggest_handle(language),
    )


@router.post("/accounts", response_model=SessionOut, status_code=status.HTTP_201_CREATED)
def create_account(
    data: AccountCreate, db: DB, settings: AppSettings, address: Address, request: Request
) -> SessionOut:
    account = service.create_account(db, settings, data, address)
    token, session = service.start_session(
        db, account, "full", timedelta(hours=settings.session_ttl_hours), _device(request)
    )
    return _session_out(token, session, account)


@router.post("/auth/prelogin", response_model=KdfParams)
def prelogin(data: PreloginRequest, db: DB, settings: AppSettings) -> KdfParams:
    salt, opslimit, memlimit = service.prelogin(db, settings, data.handle)
    return KdfParams(salt=salt, opslimit=opslimit, memlimit=memlimit)


@router.post("/auth/login", response_model=SessionOut)
def login(
    data: LoginRequest, db: DB, settings: AppSettings, address: Address, request: Request
) -> SessionOut:
    token, session, account = service.login(
        db, settings, data.handle, data.auth_key, address, _device(request)
    )
    service.note_device(db, session, request.headers.get("user-agent", "")[:512])
    return _session_out(token, session, account)


@router.post("/auth/recover", response_model=RecoverySessionOut)
def recover(
    data: RecoverRequest, db: DB, settings: AppSettings, address: Address, request: Request
) -> RecoverySessionOut:
    token, session, account = service.recovery_login(
        db, settings, data.handle, data.recovery_auth_key, address, _device(request)
    )
    base = _session_out(token, session, account)
    return RecoverySessionOut(**base.model_dump(), keys_by_recovery=account.keys_by_recovery)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(caller: AnyCaller, db: DB) -> Response:
    service.logout(db, caller.session)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/auth/sessions", response_model=list[SessionInfo])
def sessions(caller: FullCaller, db: DB) -> list[SessionInfo]:
    return [
        SessionInfo(
            id=s.id,
            kind=s.kind,
            created_at=s.created_at,
            last_seen_at=s.last_seen_at,
            expires_at=s.expires_at,
            current=s.id == caller.session.id,
            device=s.device,
        )
        for s in service.list_sessions(db, caller.account)
    ]


@router.delete("/auth/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_session(session_id: Ref, caller: FullCaller, db: DB) -> Response:
    if not service.revoke_session(db, caller.account, session_id):
        raise NotFound()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/accounts/me", response_model=AccountOut)
def me(caller: FullCaller) -> AccountOut:
    return _account_out(caller.account)


@router.put("/accounts/me/passphrase", response_model=SessionOut)
def change_passphrase(
    change: PassphraseChange, caller: AnyCaller, db: DB, settings: AppSettings
) -> SessionOut:
    token, session = service.change_passphrase(db, settings, caller.account, caller.session, change)
    return _session_out(token, session, caller.account)


@router.put("/accounts/me/recovery-key", status_code=status.HTTP_204_NO_CONTENT)
def replace_recovery_key(
    change: RecoveryKeyChange, caller: FullCaller, db: DB, settings: AppSettings
) -> Response:
    service.replace_recovery_key(db, settings, caller.account, change)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/accounts/me/delete", status_code=status.HTTP_204_NO_CONTENT)
def delete_account(data: AccountDelete, caller: FullCaller, db: DB, store: Store) -> Response:
    service.delete_account(db, store, caller.account, data.auth_key)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
