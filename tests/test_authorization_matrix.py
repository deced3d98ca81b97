"""Every endpoint under /api/v1 against every kind of caller (security properties 3 and 4).

Roles: the owner of the resources, a grantee with an active grant, a grantee whose grant was
revoked, another account with no relation, an anonymous caller and an expired session (of the
owner). The endpoint list comes from the app's OpenAPI document: a new endpoint without a row
here, or in another test module's `AUTHZ_COVERED`, fails `test_every_endpoint_has_a_row`.

Kinds of rows:
- public: works without a session (account creation, login, link challenge/preview/redeem...).
- self: acts on the caller's own account and takes no one else's id; every session may use it.
- owned: acts on the owner's resource named in the path or body. Anyone else gets a 404 with the
  very same body as for an id that never existed.
- received: the grantee's side of a grant. Only the grantee of an active grant gets an answer.
- download: needs a link download token; a session token is not one.
Anonymous callers and expired sessions get 401 everywhere except on public rows.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import pkgutil
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from sharing.emergency.models import EmergencyAccess
from tests.conftest import (
    FAST_AUTH_HASH,
    FAST_KDF,
    TEST_PASSPHRASE,
    WalletApp,
    fresh_database,
    next_head,
)
from tests.test_grants import database
from wallet.accounts.models import AuthSession
from wallet.accounts.service import token_hash
from wallet.client import Vault
from wallet.client import links as linklib
from wallet.client.contacts import PinStore
from wallet.client.grants import create_grant, revoke_grant
from wallet.client.vault import new_credentials
from wallet.crypto.encoding import b64d, b64e
from wallet.crypto.kdf import split_recovery_key
from wallet.crypto.keys import AccountKeys
from wallet.crypto.links import challenge_message, proof_key
from wallet.crypto.recovery import new_recovery_key
from wallet.crypto.signing import sign
from wallet.db import utcnow
from wallet.server.app import create_app
from wallet.settings import Settings

ROLES = ["owner", "grantee", "revoked_grantee", "other_account", "anonymous", "expired_session"]
NO_SESSION = {"anonymous", "expired_session"}
API = "/api/v1"
TUS = {"Tus-Resumable": "1.0.0"}
ID = re.compile(r"[0-9a-f]{32}")


def hex_id() -> str:
    return secrets.token_hex(16)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Matrix:
    app: WalletApp
    tmp: Path
    vaults: dict[str, Vault]
    tokens: dict[str, str | None]
    doc: str
    slot: str
    slot_ciphertext: str
    link_id: str
    link_url: str
    grant: str
    revoked_grant: str
    upload: str
    session: str
    new_document_body: dict[str, Any]
    finished_uploads: dict[str, str]
    door: tuple[str, str]  # a handle and passphrase to log in with
    recovery: tuple[str, str]  # a handle and its recovery key
    checks: dict[str, Any] = field(default_factory=dict)
    # The owner's emergency-access arrangement naming the grantee, released; and one naming
    # the revoked grantee, ended (sharing/emergency).
    emergency: str = ""
    ended_emergency: str = ""

    @property
    def http(self) -> TestClient:
        return self.app.client

    def send(self, role: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        token = self.tokens.get(role)
        headers = dict(kwargs.pop("headers", {}) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.request(method, path, headers=headers, **kwargs)

    def owner(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.send("owner", method, path, **kwargs)

    def ids(self, role: str) -> dict[str, Any]:
        """The real targets: the owner's resources (a revoked grantee aims at its own grant)."""
        return {
            "doc": self.doc,
            "version": 1,
            "slot": self.slot,
            "link": self.link_id,
            "grant": self.revoked_grant if role == "revoked_grantee" else self.grant,
            "upload": self.upload,
            "session": self.session,
            "new_document_body": self.new_document_body,
            "emergency": self.ended_emergency if role == "revoked_grantee" else self.emergency,
        }

    def unknown_ids(self) -> dict[str, Any]:
        return {
            "doc": hex_id(),
            "version": 1,
            "slot": hex_id(),
            "link": hex_id(),
            "grant": hex_id(),
            "upload": hex_id(),
            "session": hex_id(),
            "new_document_body": {**self.new_document_body, "upload_id": hex_id()},
            "emergency": hex_id(),
        }

    # --- fresh resources for calls that change or consume something ---------------------

    def finished_upload(self, role: str, data: bytes | None = None) -> str:
        data = data or secrets.token_bytes(64)
        created = self.send(
            role, "POST", f"{API}/uploads", headers={**TUS, "Upload-Length": str(len(data))}
        )
        assert created.status_code == 201, created.text
        location = created.headers["location"]
        patched = self.send(
            role,
            "PATCH",
            location,
            content=data,
            headers={
                **TUS,
                "Upload-Offset": "0",
                "Content-Type": "application/offset+octet-stream",
            },
        )
        assert patched.status_code == 204, patched.text
        return location.rsplit("/", 1)[-1]

    def open_upload(self, role: str = "owner") -> str:
        created = self.send(role, "POST", f"{API}/uploads", headers={**TUS, "Upload-Length": "100"})
        assert created.status_code == 201, created.text
        return created.headers["location"].rsplit("/", 1)[-1]

    def version_body(self, role: str, document_id: str, version: int) -> dict[str, Any]:
        """What a client sends to store a version: the server checks structure and signature."""
        vault = self.vaults[role]
        blob = secrets.token_bytes(64)
        upload_id = self.finished_upload(role, blob)
        encrypted_meta = secrets.token_bytes(80)
        wrapped_key = secrets.token_bytes(120)
        manifest, signature = sign(
            vault.keys.signing_key,
            {
                "v": 1,
                "kind": "document-version",
                "document_id": document_id,
                "version": version,
                "blob_sha256": sha(blob),
                "blob_size": len(blob),
                "meta_sha256": sha(encrypted_meta),
                "wraps": [{"key_id": vault.keys.key_id, "sha256": sha(wrapped_key)}],
                "signed_at": "2026-01-01T00:00:00+00:00",
            },
        )
        return {
            "document_id": document_id,
            "upload_id": upload_id,
            "encrypted_meta": b64e(encrypted_meta),
            "wrapped_key": b64e(wrapped_key),
            "manifest": b64e(manifest),
            "signature": b64e(signature),
        }

    def new_document(self) -> str:
        document_id = hex_id()
        created = self.owner(
            "POST", f"{API}/documents", json=self.version_body("owner", document_id, 1)
        )
        assert created.status_code == 201, created.text
        return document_id

    def link_body(
        self, role: str, items: list[tuple[str, int]], link_id: str | None = None
    ) -> dict[str, Any]:
        vault = self.vaults[role]
        link_id = link_id or hex_id()
        proof = secrets.token_bytes(32)
        package = secrets.token_bytes(64)
        preview = secrets.token_bytes(48)
        descriptor, signature = sign(
            vault.keys.signing_key,
            {
                "v": 1,
                "kind": "share-link",
                "link_id": link_id,
                "owner_key_id": vault.keys.key_id,
                "proof_key_sha256": sha(proof),
                "pin": False,
                "uses": 1,
                "package_sha256": sha(package),
                "preview_sha256": sha(preview),
                "items": sorted([d, v] for d, v in items),
            },
        )
        return {
            "link_id": link_id,
            "proof_key": b64e(proof),
            "server_share": b64e(secrets.token_bytes(32)),
            "sealed_package": b64e(package),
            "sealed_preview": b64e(preview),
            "descriptor": b64e(descriptor),
            "signature": b64e(signature),
            "uses": 1,
            "expires_at": (utcnow() + timedelta(days=1)).isoformat(),
            "items": [{"document_id": d, "version": v} for d, v in items],
        }

    def grant_body(self, role: str, to: str, items: list[tuple[str, int]]) -> dict[str, Any]:
        grantee = self.vaults[to]
        return {
            "grant_id": hex_id(),
            "grantee_handle": grantee.account["handle"],
            "grantee_key_id": grantee.keys.key_id,
            "sealed_for_owner": b64e(secrets.token_bytes(100)),
            "sealed_for_grantee": b64e(secrets.token_bytes(100)),
            "signature": b64e(secrets.token_bytes(64)),
            "wraps": [
                {
                    "document_id": d,
                    "version": v,
                    "wrapped_key": b64e(secrets.token_bytes(100)),
                    "statement": b64e(secrets.token_bytes(100)),
                    "statement_signature": b64e(secrets.token_bytes(64)),
                }
                for d, v in items
            ],
            "field_wraps": [],
        }

    def new_link(self) -> str:
        body = self.link_body("owner", [(self.doc, 1)])
        assert self.owner("POST", f"{API}/links", json=body).status_code == 201
        return body["link_id"]

    def new_grant(self) -> str:
        body = self.grant_body("owner", "grantee", [(self.doc, 1)])
        assert self.owner("POST", f"{API}/grants", json=body).status_code == 201
        return body["grant_id"]

    def new_session(self, role: str) -> str:
        vault = Vault.login(self.app.api(), self.vaults[role].account["handle"], TEST_PASSPHRASE)
        assert vault.api.token
        return vault.api.token

    def session_id(self, token: str) -> str:
        with database(self.app.database.url) as db:
            return db.exec(
                select(AuthSession.id).where(AuthSession.token_hash == token_hash(token))
            ).one()

    def link_proof(self, link_id: str, secret: bytes, role: str) -> dict[str, str]:
        challenge = self.send(role, "POST", f"{API}/links/{link_id}/challenge").json()
        signer = proof_key(secret, link_id)
        message = challenge_message(link_id, b64d(challenge["nonce"]))
        return {
            "challenge_id": challenge["challenge_id"],
            "proof": b64e(signer.sign(message).signature),
        }

    def link_state(self) -> dict[str, Any]:
        return next(
            link for link in self.owner("GET", f"{API}/links").json() if link["id"] == self.link_id
        )

    def works(self, role: str) -> bool:
        return self.send(role, "GET", f"{API}/accounts/me").status_code == 200


# --- the rows ----------------------------------------------------------------------------------

Request = Callable[[Matrix, str, dict[str, Any]], httpx.Response]


@dataclass
class Row:
    kind: str  # public | self | owned | received | download
    request: Request
    ok: int = 200
    # Targets for the allowed caller when the call changes or consumes what it names.
    fresh: Callable[[Matrix, str], dict[str, Any]] | None = None
    # Extra checks after the call: nothing changed for the owner, only own data was shown...
    after: Callable[[Matrix, str, httpx.Response], None] | None = None


ROWS: dict[str, Row] = {}


def row(method: str, path: str, kind: str, **options: Any) -> Callable[[Request], Request]:
    def register(request: Request) -> Request:
        ROWS[f"{method} {API}{path}"] = Row(kind, request, **options)
        return request

    return register


def throwaway(m: Matrix, role: str) -> dict[str, Any]:
    """Self-service calls that end an account or its sessions use an account of their own."""
    vault = m.app.new_vault()
    return {"vault": vault, "token": vault.api.token}


def send_as(m: Matrix, role: str, ids: dict[str, Any], method: str, path: str, **kw: Any):  # type: ignore[no-untyped-def]
    if "token" in ids:  # a throwaway session for this one call
        headers = {**kw.pop("headers", {}), "Authorization": f"Bearer {ids['token']}"}
        return m.http.request(method, path, headers=headers, **kw)
    return m.send(role, method, path, **kw)


# accounts and sessions


@row("GET", "/accounts/params", "public")
def _params(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    return m.send(role, "GET", f"{API}/accounts/params")


def _new_account_body() -> dict[str, Any]:
    keys = AccountKeys.generate()
    creds = new_credentials("a passphrase for the matrix", 1, 8192)
    return {
        "handle": f"matrix-{secrets.token_hex(5)}",
        "kdf_salt": b64e(creds.salt),
        "kdf_opslimit": FAST_KDF["kdf_opslimit"],
        "kdf_memlimit": FAST_KDF["kdf_memlimit"],
        "auth_key": b64e(creds.auth_key),
        "recovery_auth_key": b64e(secrets.token_bytes(32)),
        "public_encryption_key": b64e(keys.public_encryption_key),
        "public_signing_key": b64e(keys.public_signing_key),
        "keys_by_passphrase": b64e(keys.lock(creds.kek)),
        "keys_by_recovery": b64e(secrets.token_bytes(80)),
    }


@row("POST", "/accounts", "public", ok=201)
def _create_account(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    return m.send(role, "POST", f"{API}/accounts", json=_new_account_body())


def _prelogin_after(m: Matrix, role: str, response: httpx.Response) -> None:
    unknown = m.send(role, "POST", f"{API}/auth/prelogin", json={"handle": f"no-{hex_id()}"})
    assert unknown.status_code == 200
    assert set(unknown.json()) == set(response.json())
    assert len(b64d(unknown.json()["salt"])) == len(b64d(response.json()["salt"])) == 16
    assert unknown.json()["opslimit"] == response.json()["opslimit"]


@row("POST", "/auth/prelogin", "public", after=_prelogin_after)
def _prelogin(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    return m.send(role, "POST", f"{API}/auth/prelogin", json={"handle": m.door[0]})


@row("POST", "/auth/login", "public")
def _login(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    handle, passphrase = m.door
    params = m.send(role, "POST", f"{API}/auth/prelogin", json={"handle": handle}).json()
    from wallet.client.vault import derive_credentials

    creds = derive_credentials(
        passphrase, b64d(params["salt"]), params["opslimit"], params["memlimit"]
    )
    body = {"handle": handle, "auth_key": b64e(creds.auth_key)}
    return m.send(role, "POST", f"{API}/auth/login", json=body)


@row("POST", "/auth/recover", "public")
def _recover(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    from wallet.crypto.kdf import split_recovery_key
    from wallet.crypto.recovery import parse_recovery_key

    handle, recovery_text = m.recovery
    recovery_auth, _kek = split_recovery_key(parse_recovery_key(recovery_text))
    body = {"handle": handle, "recovery_auth_key": b64e(recovery_auth)}
    return m.send(role, "POST", f"{API}/auth/recover", json=body)


def _fresh_session(m: Matrix, role: str) -> dict[str, Any]:
    return {"token": m.new_session(role)}


def _logout_after(m: Matrix, role: str, response: httpx.Response) -> None:
    if role in NO_SESSION:
        return
    assert m.works(role), "logging out one session keeps the others"


@row("POST", "/auth/logout", "self", ok=204, fresh=_fresh_session, after=_logout_after)
def _logout(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    response = send_as(m, role, ids, "POST", f"{API}/auth/logout")
    if "token" in ids and response.status_code == 204:
        gone = m.http.get(f"{API}/accounts/me", headers={"Authorization": f"Bearer {ids['token']}"})
        assert gone.status_code == 401
    return response


def _sessions_after(m: Matrix, role: str, response: httpx.Response) -> None:
    if response.status_code != 200:
        return
    listed = {s["id"] for s in response.json()}
    assert (m.session in listed) == (role == "owner")
    assert sum(s["current"] for s in response.json()) == 1


@row("GET", "/auth/sessions", "self", after=_sessions_after)
def _sessions(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    return m.send(role, "GET", f"{API}/auth/sessions")


def _owner_session_alive(m: Matrix, role: str, response: httpx.Response) -> None:
    assert m.works("owner")


@row(
    "DELETE",
    "/auth/sessions/{session_id}",
    "owned",
    ok=204,
    fresh=lambda m, role: {"session": m.session_id(m.new_session("owner"))},
    after=_owner_session_alive,
)
def _delete_session(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    return m.send(role, "DELETE", f"{API}/auth/sessions/{ids['session']}")


def _me_after(m: Matrix, role: str, response: httpx.Response) -> None:
    if response.status_code == 200:
        assert response.json()["handle"] == m.vaults[role].account["handle"]


@row("GET", "/accounts/me", "self", after=_me_after)
def _me(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    return m.send(role, "GET", f"{API}/accounts/me")


def _passphrase_body(vault: Vault, new_passphrase: str) -> dict[str, Any]:
    creds = new_credentials(new_passphrase, 1, 8192)
    return {
        "current_auth_key": b64e(vault.current_auth_key(TEST_PASSPHRASE)),
        "kdf_salt": b64e(creds.salt),
        "kdf_opslimit": creds.opslimit,
        "kdf_memlimit": creds.memlimit,
        "auth_key": b64e(creds.auth_key),
        "keys_by_passphrase": b64e(vault.keys.lock(creds.kek)),
    }


def _owner_can_still_log_in(m: Matrix, role: str, response: httpx.Response) -> None:
    Vault.login(m.app.api(), m.vaults["owner"].account["handle"], TEST_PASSPHRASE)
    assert m.works("owner")


@row(
    "PUT",
    "/accounts/me/passphrase",
    "self",
    fresh=throwaway,
    after=_owner_can_still_log_in,
)
def _passphrase(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    vault = ids.get("vault") or m.vaults["owner"]  # no session: a valid change of the owner's
    new_passphrase = f"new passphrase {hex_id()}"
    body = _passphrase_body(vault, new_passphrase)
    response = send_as(m, role, ids, "PUT", f"{API}/accounts/me/passphrase", json=body)
    if response.status_code == 200:
        Vault.login(m.app.api(), vault.account["handle"], new_passphrase)
    return response


@row("PUT", "/accounts/me/recovery-key", "self", ok=204, fresh=throwaway)
def _recovery_key(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    vault = ids.get("vault") or m.vaults["owner"]  # no session: a valid change of the owner's
    recovery_auth, recovery_kek = split_recovery_key(new_recovery_key())
    body = {
        "current_auth_key": b64e(vault.current_auth_key(TEST_PASSPHRASE)),
        "recovery_auth_key": b64e(recovery_auth),
        "keys_by_recovery": b64e(vault.keys.lock(recovery_kek)),
    }
    return send_as(m, role, ids, "PUT", f"{API}/accounts/me/recovery-key", json=body)


@row("GET", "/safety/reset", "self")
def _reset_plan(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    return m.send(role, "GET", f"{API}/safety/reset")


@row("POST", "/safety/reset", "self", fresh=throwaway)
def _reset(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    vault = ids.get("vault") or m.vaults["owner"]  # no session: the owner's valid next head
    headers = next_head(vault, lambda state: None)
    return send_as(m, role, ids, "POST", f"{API}/safety/reset", headers=headers)


@row("POST", "/accounts/me/delete", "self", ok=204, fresh=throwaway, after=_owner_can_still_log_in)
def _delete_account(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    vault = ids.get("vault") or m.vaults["owner"]
    body = {"auth_key": b64e(vault.current_auth_key(TEST_PASSPHRASE))}
    response = send_as(m, role, ids, "POST", f"{API}/accounts/me/delete", json=body)
    if response.status_code == 204:
        params = m.app.api().api("POST", "/auth/prelogin", json={"handle": vault.account["handle"]})
        assert params.status_code == 200  # a fake, as for any unknown handle
    return response


# uploads


@row("OPTIONS", "/uploads", "public", ok=204)
def _tus_options(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    return m.send(role, "OPTIONS", f"{API}/uploads")


@row("POST", "/uploads", "self", ok=201)
def _create_upload(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    return m.send(role, "POST", f"{API}/uploads", headers={**TUS, "Upload-Length": "10"})


def _owner_upload_untouched(m: Matrix, role: str, response: httpx.Response) -> None:
    status = m.owner("HEAD", f"{API}/uploads/{m.upload}", headers=TUS)
    assert status.status_code == 200 and status.headers["upload-offset"] == "0"


@row("HEAD", "/uploads/{upload_id}", "owned", after=_owner_upload_untouched)
def _upload_status(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    return m.send(role, "HEAD", f"{API}/uploads/{ids['upload']}", headers=TUS)


@row(
    "PATCH",
    "/uploads/{upload_id}",
    "owned",
    ok=204,
    fresh=lambda m, role: {"upload": m.open_upload()},
    after=_owner_upload_untouched,
)
def _upload_chunk(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    headers = {**TUS, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}
    return m.send(
        role, "PATCH", f"{API}/uploads/{ids['upload']}", content=b"x" * 10, headers=headers
    )


@row(
    "DELETE",
    "/uploads/{upload_id}",
    "owned",
    ok=204,
    fresh=lambda m, role: {"upload": m.open_upload()},
    after=_owner_upload_untouched,
)
def _cancel_upload(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    return m.send(role, "DELETE", f"{API}/uploads/{ids['upload']}", headers=TUS)


# documents


def _owner_document_intact(m: Matrix, role: str, response: httpx.Response) -> None:
    detail = m.owner("GET", f"{API}/documents/{m.doc}")
    assert detail.status_code == 200
    assert detail.json()["current_version"] == 1


@row(
    "POST",
    "/documents",
    "owned",
    ok=201,
    fresh=lambda m, role: {"new_document_body": m.version_body("owner", hex_id(), 1)},
)
def _create_document(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    # Someone else's finished upload is as unknown as one that never existed.
    return m.send(role, "POST", f"{API}/documents", json=ids["new_document_body"])


def _documents_after(m: Matrix, role: str, response: httpx.Response) -> None:
    if response.status_code == 200:
        listed = {d["id"] for d in response.json()["documents"]}
        assert (m.doc in listed) == (role == "owner")


@row("GET", "/documents", "self", after=_documents_after)
def _list_documents(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    return m.send(role, "GET", f"{API}/documents")


def _fresh_version(m: Matrix, role: str) -> dict[str, Any]:
    document_id = m.new_document()
    return {"doc": document_id, "version_body": m.version_body("owner", document_id, 2)}


@row(
    "POST",
    "/documents/{document_id}/versions",
    "owned",
    ok=201,
    fresh=_fresh_version,
    after=_owner_document_intact,
)
def _add_version(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    # A caller with a finished upload of its own aims it at the owner's document.
    body = ids.get("version_body") or {
        "upload_id": m.finished_uploads.get(role, hex_id()),
        "encrypted_meta": b64e(b"meta"),
        "wrapped_key": b64e(b"key"),
        "manifest": b64e(b"{}"),
        "signature": b64e(bytes(64)),
    }
    return m.send(role, "POST", f"{API}/documents/{ids['doc']}/versions", json=body)


@row("GET", "/documents/{document_id}", "owned")
def _get_document(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    return m.send(role, "GET", f"{API}/documents/{ids['doc']}")


@row(
    "DELETE",
    "/documents/{document_id}",
    "owned",
    ok=204,
    fresh=lambda m, role: {"doc": m.new_document()},
    after=_owner_document_intact,
)
def _delete_document(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    return m.send(role, "DELETE", f"{API}/documents/{ids['doc']}")


@row("GET", "/documents/{document_id}/versions/{version}/blob", "owned")
def _document_blob(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    return m.send(role, "GET", f"{API}/documents/{ids['doc']}/versions/{ids['version']}/blob")


# profile


def _owner_profile_intact(m: Matrix, role: str, response: httpx.Response) -> None:
    fields = {f["slot"]: f["ciphertext"] for f in m.owner("GET", f"{API}/profile").json()}
    assert fields.get(m.slot) == m.slot_ciphertext


def _profile_after(m: Matrix, role: str, response: httpx.Response) -> None:
    if response.status_code == 200:
        ciphertexts = {f["ciphertext"] for f in response.json()}
        assert (m.slot_ciphertext in ciphertexts) == (role == "owner")


@row("GET", "/profile", "self", after=_profile_after)
def _list_profile(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    return m.send(role, "GET", f"{API}/profile")


def _put_profile_after(m: Matrix, role: str, response: httpx.Response) -> None:
    _owner_profile_intact(m, role, response)
    if response.status_code == 200 and role != "owner":
        # The row written was the caller's own: it removes it again (the owner's stays).
        assert m.send(role, "DELETE", f"{API}/profile/{m.slot}").status_code == 204
        _owner_profile_intact(m, role, response)


@row(
    "PUT",
    "/profile/{slot}",
    "self",
    fresh=lambda m, role: {"slot": hex_id()} if role == "owner" else {},
    after=_put_profile_after,
)
def _put_profile(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    # Slots are per account: another account writing to the owner's slot id writes its own.
    body = {
        "ciphertext": b64e(secrets.token_bytes(40)),
        "wrapped_key": b64e(b"k" * 40),
        "signature": b64e(b"s" * 64),
    }
    return m.send(role, "PUT", f"{API}/profile/{ids['slot']}", json=body)


def _fresh_slot(m: Matrix, role: str) -> dict[str, Any]:
    slot = hex_id()
    body = {
        "ciphertext": b64e(b"c" * 40),
        "wrapped_key": b64e(b"k" * 40),
        "signature": b64e(b"s" * 64),
    }
    assert m.owner("PUT", f"{API}/profile/{slot}", json=body).status_code == 200
    return {"slot": slot}


@row("DELETE", "/profile/{slot}", "owned", ok=204, fresh=_fresh_slot, after=_owner_profile_intact)
def _delete_profile(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    return m.send(role, "DELETE", f"{API}/profile/{ids['slot']}")


# links


def _links_after(m: Matrix, role: str, response: httpx.Response) -> None:
    if response.status_code == 200:
        assert (m.link_id in {link["id"] for link in response.json()}) == (role == "owner")


@row("GET", "/links", "self", after=_links_after)
def _list_links(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    return m.send(role, "GET", f"{API}/links")


@row("POST", "/links", "owned", ok=201)
def _create_link(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    # Each caller signs its own link; only the owner's document is theirs to put in it.
    signer = role if role not in NO_SESSION else "owner"
    return m.send(role, "POST", f"{API}/links", json=m.link_body(signer, [(ids["doc"], 1)]))


def _link_still_active(m: Matrix, role: str, response: httpx.Response) -> None:
    assert m.link_state()["state"] == "active"


@row(
    "POST",
    "/links/{link_id}/revoke",
    "owned",
    ok=204,
    fresh=lambda m, role: {"link": m.new_link()},
    after=_link_still_active,
)
def _revoke_link(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    return m.send(role, "POST", f"{API}/links/{ids['link']}/revoke")


@row("POST", "/links/{link_id}/challenge", "public")
def _challenge(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    response = m.send(role, "POST", f"{API}/links/{ids['link']}/challenge")
    unknown = m.send(role, "POST", f"{API}/links/{hex_id()}/challenge")
    assert unknown.status_code == response.status_code  # known or not: the same answer
    assert set(unknown.json()) == set(response.json())
    return response


def _link_secret(m: Matrix) -> bytes:
    return linklib.parse_link(m.link_url).secret


def _preview_after(m: Matrix, role: str, response: httpx.Response) -> None:
    assert m.link_state()["uses_left"] == m.checks["uses_left"], "a preview uses nothing"
    unknown = hex_id()
    wrong = m.send(
        role,
        "POST",
        f"{API}/links/{unknown}/preview",
        json=m.link_proof(unknown, _link_secret(m), role),
    )
    assert wrong.status_code == 404


@row("POST", "/links/{link_id}/preview", "public", after=_preview_after)
def _preview(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    m.checks["uses_left"] = m.link_state()["uses_left"]
    proof = m.link_proof(ids["link"], _link_secret(m), role)
    return m.send(role, "POST", f"{API}/links/{ids['link']}/preview", json=proof)


def _redeem_after(m: Matrix, role: str, response: httpx.Response) -> None:
    assert m.link_state()["uses_left"] == m.checks["uses_left"] - 1
    assert response.json()["uses_left"] == m.checks["uses_left"] - 1


@row("POST", "/links/{link_id}/redeem", "public", after=_redeem_after)
def _redeem(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    m.checks["uses_left"] = m.link_state()["uses_left"]
    proof = m.link_proof(ids["link"], _link_secret(m), role)
    return m.send(role, "POST", f"{API}/links/{ids['link']}/redeem", json=proof)


@row("GET", "/links/files/{document_id}/versions/{version}", "download", ok=401)
def _link_download(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    # Whatever session the caller has, it is not a link's download token.
    return m.send(role, "GET", f"{API}/links/files/{ids['doc']}/versions/{ids['version']}")


# grants


def _person_after(m: Matrix, role: str, response: httpx.Response) -> None:
    if response.status_code == 200:
        assert response.json()["key_id"] == m.vaults["grantee"].keys.key_id
        unknown = m.send(role, "GET", f"{API}/people/nobody-{secrets.token_hex(4)}")
        assert unknown.status_code == 404


@row("GET", "/people/{handle}", "self", after=_person_after)
def _person(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    return m.send(role, "GET", f"{API}/people/{m.vaults['grantee'].account['handle']}")


def _grants_after(m: Matrix, role: str, response: httpx.Response) -> None:
    if response.status_code == 200:
        listed = {g["id"] for g in response.json()}
        expected = {m.grant, m.revoked_grant} if role == "owner" else set()
        assert listed & {m.grant, m.revoked_grant} == expected


@row("GET", "/grants", "self", after=_grants_after)
def _list_grants(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    return m.send(role, "GET", f"{API}/grants")


def _no_grant_from(m: Matrix, role: str, response: httpx.Response) -> None:
    if role not in NO_SESSION and role != "owner":
        assert m.send(role, "GET", f"{API}/grants").json() == []


@row("POST", "/grants", "owned", ok=201, after=_no_grant_from)
def _create_grant(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    # The owner grants its document to the grantee; anyone else tries to grant the owner's
    # document (to the owner) as if it were theirs.
    to = "grantee" if role in ("owner", *NO_SESSION) else "owner"
    return m.send(role, "POST", f"{API}/grants", json=m.grant_body(role, to, [(ids["doc"], 1)]))


def _grant_still_works(m: Matrix, role: str, response: httpx.Response) -> None:
    listed = m.send("grantee", "GET", f"{API}/received/{m.grant}/documents")
    assert listed.status_code == 200 and len(listed.json()) == 1


@row("POST", "/grants/{grant_id}/wraps", "owned", after=_grant_still_works)
def _add_wraps(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    body = {"wraps": [], "field_wraps": []}
    return m.send(role, "POST", f"{API}/grants/{ids['grant']}/wraps", json=body)


@row(
    "POST",
    "/grants/{grant_id}/revoke",
    "owned",
    ok=204,
    fresh=lambda m, role: {"grant": m.new_grant()},
    after=_grant_still_works,
)
def _revoke_grant(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    return m.send(role, "POST", f"{API}/grants/{ids['grant']}/revoke")


def _received_after(m: Matrix, role: str, response: httpx.Response) -> None:
    if response.status_code == 200:
        listed = {g["id"] for g in response.json()}
        assert (m.grant in listed) == (role == "grantee")
        assert m.revoked_grant not in listed


@row("GET", "/received", "self", after=_received_after)
def _received(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    return m.send(role, "GET", f"{API}/received")


@row("GET", "/received/{grant_id}/documents", "received")
def _received_documents(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    return m.send(role, "GET", f"{API}/received/{ids['grant']}/documents")


@row("GET", "/received/{grant_id}/profile", "received")
def _received_profile(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    return m.send(role, "GET", f"{API}/received/{ids['grant']}/profile")


@row("GET", "/received/{grant_id}/documents/{document_id}/versions/{version}/blob", "received")
def _received_blob(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    return m.send(
        role,
        "GET",
        f"{API}/received/{ids['grant']}/documents/{ids['doc']}/versions/{ids['version']}/blob",
    )


# the owner's vault head (the rest: tests/test_vault_head.py)


@row("GET", "/vault/head", "self")
def _vault_head(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    return m.send(role, "GET", f"{API}/vault/head")


@row("GET", "/received/{grant_id}/head", "received")
def _received_head(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    return m.send(role, "GET", f"{API}/received/{ids['grant']}/head")


# journal


def _journal_after(m: Matrix, role: str, response: httpx.Response) -> None:
    if response.status_code == 200:
        assert (m.doc in response.text) == (role == "owner")


@row("GET", "/journal", "self", after=_journal_after)
def _journal(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    return m.send(role, "GET", f"{API}/journal")


# emergency access (sharing/emergency): the trusted person is the matrix's grantee


def emergency_body(
    m: Matrix, role: str, to: str, access: str = "view", owner: Vault | None = None
) -> dict[str, Any]:
    owner = owner or m.vaults.get(role, m.vaults["owner"])
    trusted = m.vaults[to]
    arrangement_id = hex_id()
    sealed = secrets.token_bytes(120)
    statement, signature = sign(
        owner.keys.signing_key,
        {
            "v": 1,
            "kind": "emergency-access",
            "arrangement_id": arrangement_id,
            "owner": owner.account["handle"],
            "owner_key_id": owner.keys.key_id,
            "trusted": trusted.account["handle"],
            "trusted_key_id": trusted.keys.key_id,
            "trusted_signing_key": b64e(trusted.keys.public_signing_key),
            "access": access,
            "wait_days": 1,
            "sealed_sha256": sha(sealed),
            "created_at": "2026-01-01T00:00:00+00:00",
        },
    )
    return {
        "arrangement_id": arrangement_id,
        "trusted_handle": trusted.account["handle"],
        "trusted_key_id": trusted.keys.key_id,
        "access": access,
        "wait_days": 1,
        "statement": b64e(statement),
        "signature": b64e(signature),
        "sealed": b64e(sealed),
    }


def new_emergency(
    m: Matrix, owner: Vault | None = None, access: str = "view", asked: bool = True
) -> str:
    """An arrangement naming the grantee; asked a day ago, so released now."""
    owner = owner or m.vaults["owner"]
    body = emergency_body(m, "owner", "grantee", access, owner)
    created = m.http.post(
        f"{API}/emergency", json=body, headers={"Authorization": f"Bearer {owner.api.token}"}
    )
    assert created.status_code == 201, created.text
    if asked:
        path = f"{API}/emergency/{body['arrangement_id']}/request"
        assert m.send("grantee", "POST", path).status_code == 200
        with database(m.app.database.url) as db:
            row = db.get(EmergencyAccess, body["arrangement_id"])
            assert row is not None and row.requested_at is not None
            row.requested_at = row.requested_at - timedelta(days=1)
            db.add(row)
            db.commit()
    return str(body["arrangement_id"])


def _fresh_takeover(m: Matrix, role: str) -> dict[str, Any]:
    """Take-over changes its owner's passphrase: a throwaway owner's arrangement."""
    spare = m.app.new_vault()
    m.checks["spare_owner"] = spare
    return {"emergency": new_emergency(m, spare, "takeover")}


def _emergency_given_after(m: Matrix, role: str, response: httpx.Response) -> None:
    if response.status_code == 200:
        assert (m.emergency in response.text) == (role == "owner")


@row("POST", "/emergency", "self", ok=201)
def _emergency_create(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    to = "grantee" if role != "grantee" else "other_account"
    return m.send(role, "POST", f"{API}/emergency", json=emergency_body(m, role, to))


@row("GET", "/emergency", "self", after=_emergency_given_after)
def _emergency_given(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    return m.send(role, "GET", f"{API}/emergency")


@row("GET", "/emergency/received", "self")
def _emergency_received(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    return m.send(role, "GET", f"{API}/emergency/received")


@row(
    "POST",
    "/emergency/{arrangement_id}/refuse",
    "owned",
    fresh=lambda m, r: {"emergency": new_emergency(m)},
)
def _emergency_refuse(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    return m.send(role, "POST", f"{API}/emergency/{ids['emergency']}/refuse")


@row(
    "POST",
    "/emergency/{arrangement_id}/end",
    "owned",
    ok=204,
    fresh=lambda m, r: {"emergency": new_emergency(m, asked=False)},
)
def _emergency_end(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    return m.send(role, "POST", f"{API}/emergency/{ids['emergency']}/end")


@row("POST", "/emergency/{arrangement_id}/request", "received")
def _emergency_request(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    return m.send(role, "POST", f"{API}/emergency/{ids['emergency']}/request")


@row("GET", "/emergency/{arrangement_id}/head", "received")
def _emergency_head(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    return m.send(role, "GET", f"{API}/emergency/{ids['emergency']}/head")


@row("GET", "/emergency/{arrangement_id}/open", "received")
def _emergency_open(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    return m.send(role, "GET", f"{API}/emergency/{ids['emergency']}/open")


@row("GET", "/emergency/{arrangement_id}/vault/head", "received")
def _emergency_vault_head(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    return m.send(role, "GET", f"{API}/emergency/{ids['emergency']}/vault/head")


@row("GET", "/emergency/{arrangement_id}/documents", "received")
def _emergency_documents(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    return m.send(role, "GET", f"{API}/emergency/{ids['emergency']}/documents")


@row("GET", "/emergency/{arrangement_id}/documents/{document_id}", "received")
def _emergency_document(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    return m.send(role, "GET", f"{API}/emergency/{ids['emergency']}/documents/{ids['doc']}")


@row(
    "GET", "/emergency/{arrangement_id}/documents/{document_id}/versions/{version}/blob", "received"
)
def _emergency_blob(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    path = f"{API}/emergency/{ids['emergency']}/documents/{ids['doc']}/versions/{ids['version']}"
    return m.send(role, "GET", f"{path}/blob")


@row("GET", "/emergency/{arrangement_id}/profile", "received")
def _emergency_profile(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    return m.send(role, "GET", f"{API}/emergency/{ids['emergency']}/profile")


def _owner_keeps_passphrase(m: Matrix, role: str, response: httpx.Response) -> None:
    assert m.works("owner")


@row(
    "POST",
    "/emergency/{arrangement_id}/takeover",
    "received",
    ok=204,
    fresh=_fresh_takeover,
    after=_owner_keeps_passphrase,
)
def _emergency_takeover(m: Matrix, role: str, ids: dict[str, Any]) -> httpx.Response:
    vault = m.checks.get("spare_owner", m.vaults["owner"])
    creds = new_credentials(
        "a passphrase for the owner", FAST_KDF["kdf_opslimit"], FAST_KDF["kdf_memlimit"]
    )
    body = {
        "kdf_salt": b64e(creds.salt),
        "kdf_opslimit": creds.opslimit,
        "kdf_memlimit": creds.memlimit,
        "auth_key": b64e(creds.auth_key),
        "keys_by_passphrase": b64e(vault.keys.lock(creds.kek)),
    }
    return m.send(role, "POST", f"{API}/emergency/{ids['emergency']}/takeover", json=body)


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    tmp = tmp_path_factory.mktemp("matrix")
    with contextlib.ExitStack() as stack:
        db = stack.enter_context(fresh_database(tmp, migrated=True))
        settings = Settings(
            data_dir=tmp / "data",
            database_url=db.url,
            sweep_interval_seconds=0,
            server_secret="test-secret",
            **FAST_KDF,  # type: ignore[arg-type]
            **FAST_AUTH_HASH,  # type: ignore[arg-type]
        )
        client = stack.enter_context(TestClient(create_app(settings)))
        yield build_matrix(WalletApp(settings, client, db), tmp)


def build_matrix(app: WalletApp, tmp: Path) -> Matrix:
    vaults = {
        role: app.new_vault(f"{role.replace('_', '-')}-{secrets.token_hex(3)}")
        for role in ("owner", "grantee", "revoked_grantee", "other_account")
    }
    owner = vaults["owner"]
    source = tmp / "payslip.pdf"
    source.write_bytes(b"%PDF-1.4 payslip " + secrets.token_bytes(2000))
    doc, _ = owner.upload(source, "payslip", "Payslip March")
    owner.set_profile_field("address", "Rue Haute 1")
    slot = owner.keys.profile_slot("address")
    link = linklib.create_link(owner, [doc], uses=100, purpose="matrix")
    pins = PinStore(None)
    scope = {"types": ["payslip"], "fields": ["address"], "pins": pins}
    grant = create_grant(owner, vaults["grantee"].account["handle"], purpose="a", **scope)  # type: ignore[arg-type]
    revoked = create_grant(
        owner,
        vaults["revoked_grantee"].account["handle"],
        purpose="b",
        **scope,  # type: ignore[arg-type]
    )
    revoke_grant(owner, revoked.id)

    expired = Vault.login(app.api(), owner.account["handle"], TEST_PASSPHRASE).api.token
    assert expired
    tokens: dict[str, str | None] = {role: v.api.token for role, v in vaults.items()}
    tokens["anonymous"] = None
    tokens["expired_session"] = expired
    vaults_by_role = {**vaults, "expired_session": owner}
    door = app.new_vault()
    recovery_vault, recovery_text = app.new_vault_with_recovery()

    m = Matrix(
        app=app,
        tmp=tmp,
        vaults=vaults_by_role,
        tokens=tokens,
        doc=doc,
        slot=slot,
        slot_ciphertext="",
        link_id=link.id,
        link_url=link.url,
        grant=grant.id,
        revoked_grant=revoked.id,
        upload="",
        session="",
        new_document_body={},
        finished_uploads={},
        door=(door.account["handle"], TEST_PASSPHRASE),
        recovery=(recovery_vault.account["handle"], recovery_text),
    )
    # The expired session worked until its time ran out.
    assert m.works("expired_session")
    with database(app.database.url) as session:
        row = session.exec(
            select(AuthSession).where(AuthSession.token_hash == token_hash(expired))
        ).one()
        row.expires_at = utcnow() - timedelta(seconds=1)
        session.add(row)
        session.commit()
    assert not m.works("expired_session")

    m.slot_ciphertext = next(
        f["ciphertext"] for f in m.owner("GET", f"{API}/profile").json() if f["slot"] == slot
    )
    m.upload = m.open_upload()
    m.session = m.session_id(owner.api.token or "")
    m.new_document_body = m.version_body("owner", hex_id(), 1)
    m.finished_uploads = {
        role: m.finished_upload(role) for role in ("grantee", "revoked_grantee", "other_account")
    }
    m.emergency = new_emergency(m)
    ended = emergency_body(m, "owner", "revoked_grantee")
    assert m.owner("POST", f"{API}/emergency", json=ended).status_code == 201
    ended_path = f"{API}/emergency/{ended['arrangement_id']}"
    assert m.send("revoked_grantee", "POST", f"{ended_path}/request").status_code == 200
    assert m.owner("POST", f"{ended_path}/end").status_code == 204
    m.ended_emergency = ended["arrangement_id"]
    return m


# --- the tests -----------------------------------------------------------------------------


def normalised(response: httpx.Response) -> tuple[int, str, str | None]:
    """Status and body with ids blanked: "Document X is not in your wallet" names the id sent."""
    return (
        response.status_code,
        ID.sub("<id>", response.text),
        response.headers.get("content-type"),
    )


def allowed(kind: str, role: str) -> bool:
    return {
        "public": True,
        "self": role not in NO_SESSION,
        "owned": role == "owner",
        "received": role == "grantee",
        "download": False,
    }[kind]


def covered_elsewhere() -> set[str]:
    """Endpoints whose roles differ from this matrix's (proxies, organisation members...).

    Their own test module lists them in `AUTHZ_COVERED` and tests every role there: at least
    the rightful caller, an unrelated account (same 404 as an unknown id) and no session (401).
    """
    covered: set[str] = set()
    for module_info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if not module_info.name.startswith("test_") or module_info.name == Path(__file__).stem:
            continue
        module = importlib.import_module(f"tests.{module_info.name}")
        covered |= set(getattr(module, "AUTHZ_COVERED", ()))
    return covered


def test_every_endpoint_has_a_row(matrix: Matrix) -> None:
    schema = matrix.app.client.app.openapi()  # type: ignore[attr-defined]
    endpoints = {
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        if path.startswith(API + "/")
        for method in operations
    }
    assert endpoints, "the OpenAPI document lists the API"
    elsewhere = covered_elsewhere()
    assert not elsewhere & set(ROWS), "an endpoint is covered twice"
    missing = endpoints - set(ROWS) - elsewhere
    assert not missing, f"endpoints without a row in the authorization matrix: {sorted(missing)}"
    stale = (set(ROWS) | elsewhere) - endpoints
    assert not stale, f"rows for endpoints that no longer exist: {sorted(stale)}"


CELLS = [(key, role) for key in ROWS for role in ROLES]


@pytest.mark.parametrize(("key", "role"), CELLS, ids=[f"{k} x {r}" for k, r in CELLS])
def test_cell(matrix: Matrix, key: str, role: str) -> None:
    m = matrix
    entry = ROWS[key]
    ids = m.ids(role)

    if role in NO_SESSION and entry.kind not in ("public", "download"):
        response = entry.request(m, role, ids)
        assert response.status_code == 401, response.text
        assert response.headers.get("www-authenticate") == "Bearer"
    elif entry.kind == "download":
        response = entry.request(m, role, ids)
        twin = entry.request(m, role, m.unknown_ids())
        assert response.status_code == 401, response.text
        assert normalised(response) == normalised(twin)
    elif allowed(entry.kind, role):
        if entry.fresh:
            ids = {**ids, **entry.fresh(m, role)}
        response = entry.request(m, role, ids)
        assert response.status_code == entry.ok, response.text
    else:
        # A denial looks exactly like an id that never existed.
        response = entry.request(m, role, ids)
        twin = entry.request(m, role, m.unknown_ids())
        assert response.status_code == 404, response.text
        assert normalised(response) == normalised(twin)
    if entry.after:
        entry.after(m, role, response)


def test_link_download_needs_the_download_token(matrix: Matrix) -> None:
    """Positive control for the download row: a redeemed link's token does download."""
    m = matrix
    proof = m.link_proof(m.link_id, _link_secret(m), "anonymous")
    redeemed = m.send("anonymous", "POST", f"{API}/links/{m.link_id}/redeem", json=proof).json()
    path = f"{API}/links/files/{m.doc}/versions/1"
    token = {"Authorization": f"Bearer {redeemed['download_token']}"}
    assert m.http.get(path, headers=token).status_code == 200
    assert m.http.get(f"{API}/links/files/{hex_id()}/versions/1", headers=token).status_code == 404
    assert m.send("owner", "GET", path).status_code == 401


def test_expired_session_is_refused_even_with_right_secrets(matrix: Matrix) -> None:
    """The expired session's cells above sent valid bodies; the owner is unchanged."""
    m = matrix
    assert m.send("expired_session", "GET", f"{API}/accounts/me").status_code == 401
    assert m.works("owner")
    assert m.owner("GET", f"{API}/documents/{m.doc}").status_code == 200


def test_creating_a_document_with_someone_elses_id_reveals_nothing(matrix: Matrix) -> None:
    """Document ids are scoped per owner: another owner's id is simply free for you."""
    m = matrix
    role = "revoked_grantee"
    taken = m.version_body(role, m.doc, 1)
    free = m.version_body(role, hex_id(), 1)
    taken_response = m.send(role, "POST", f"{API}/documents", json=taken)
    free_response = m.send(role, "POST", f"{API}/documents", json=free)
    assert free_response.status_code == 201, free_response.text
    assert taken_response.status_code == free_response.status_code, taken_response.text
    # The owner's document is untouched, and each owner sees only their own.
    mine = m.send(role, "GET", f"{API}/documents/{m.doc}").json()
    theirs = m.send("owner", "GET", f"{API}/documents/{m.doc}")
    assert theirs.status_code == 200, theirs.text
    assert theirs.json()["current_version"] >= 1
    assert mine["id"] == m.doc and mine["current_version"] == 1


def test_creating_a_link_with_someone_elses_id_reveals_nothing(matrix: Matrix) -> None:
    """Link ids are unique per owner; a redeem finds the link by its id and the proof of the
    secret, so the copy neither answers for the owner's link nor hides it."""
    m = matrix
    role = "revoked_grantee"
    before = m.link_state()
    taken = m.send(role, "POST", f"{API}/links", json=m.link_body(role, [], m.link_id))
    free = m.send(role, "POST", f"{API}/links", json=m.link_body(role, []))
    assert free.status_code == 201, free.text
    assert taken.status_code == free.status_code, taken.text
    assert taken.json() == {"id": m.link_id}
    mine = {link["id"] for link in m.send(role, "GET", f"{API}/links").json()}
    assert m.link_id in mine
    # The owner's link still opens with its secret, unchanged.
    proof = m.link_proof(m.link_id, _link_secret(m), "anonymous")
    seen = m.send("anonymous", "POST", f"{API}/links/{m.link_id}/preview", json=proof)
    assert seen.status_code == 200, seen.text
    assert seen.json()["state"] == before["state"]
    assert m.link_state() == before
    # Revoking the copy leaves the owner's link alone.
    revoked = m.send(role, "POST", f"{API}/links/{m.link_id}/revoke")
    assert revoked.status_code == 204, revoked.text
    assert m.link_state() == before


@pytest.mark.xfail(
    strict=True,
    reason="BUG (reported): POST /grants with a grant id another owner uses answers 409 'already "
    "used', a free id answers 201: a revoked grantee who knows its grant's id can tell whether "
    "the owner still keeps the grant.",
)
def test_creating_a_grant_with_someone_elses_id_reveals_nothing(matrix: Matrix) -> None:
    m = matrix
    role = "revoked_grantee"
    body = m.grant_body(role, "other_account", [])
    taken = m.send(role, "POST", f"{API}/grants", json={**body, "grant_id": m.revoked_grant})
    free = m.send(role, "POST", f"{API}/grants", json={**body, "grant_id": hex_id()})
    assert free.status_code == 201, free.text
    assert taken.status_code == free.status_code, taken.text
