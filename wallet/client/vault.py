"""The owner's unlocked wallet: every encrypt, decrypt, wrap and signature happens here."""

from __future__ import annotations

import contextlib
import hashlib
import json
import mimetypes
import os
import random
import re
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nacl.pwhash

from wallet.client.api import ApiClient, ApiError
from wallet.client.errors import IntegrityFailure, VaultError
from wallet.client.kdfpins import KdfPins, check_kdf_cost
from wallet.client.photos import photo_cleaned
from wallet.client.transfer import Progress, WrongSize, download_to, encrypt_and_upload
from wallet.client.vaulthead import (
    HEADER,
    STALE_CODE,
    HeadPins,
    OwnHead,
    StateRefused,
    check_covered,
    check_documents,
    check_profile,
    header_value,
    sign_next,
    state_after,
    verified_statement,
)
from wallet.crypto import age
from wallet.crypto.encoding import b64d, b64e, canonical_json
from wallet.crypto.kdf import derive_master_key, split_master_key, split_recovery_key
from wallet.crypto.keys import AccountKeys, WrongKey
from wallet.crypto.recovery import format_recovery_key, new_recovery_key, parse_recovery_key
from wallet.crypto.signing import BadSignature, sign, verify
from wallet.crypto.wrap import (
    UnwrapError,
    document_key_info,
    open_sealed,
    profile_field_info,
    seal,
)
from wallet.protocol import statements
from wallet.protocol.catalogue import DOCUMENT_TYPES, PROFILE_FIELDS
from wallet.protocol.vault_state import VaultState

META_VERSION = 1


@dataclass
class Credentials:
    salt: bytes
    opslimit: int
    memlimit: int
    auth_key: bytes
    kek: bytes


def check_scope(types: list[str] | None, fields: list[str] | None) -> None:
    """Refuses document types and profile fields the wallet does not know, in plain words."""
    for doc_type in types or []:
        if doc_type not in DOCUMENT_TYPES:
            raise VaultError(f"'{doc_type}' is not a document type. See 'wallet types'.")
    for name in fields or []:
        if name not in PROFILE_FIELDS:
            raise VaultError(
                f"'{name}' is not a profile field. Use one of: {', '.join(PROFILE_FIELDS)}."
            )


def derive_credentials(passphrase: str, salt: bytes, opslimit: int, memlimit: int) -> Credentials:
    check_kdf_cost(opslimit, memlimit)
    auth_key, kek = split_master_key(derive_master_key(passphrase, salt, opslimit, memlimit))
    return Credentials(salt, opslimit, memlimit, auth_key, kek)


def new_credentials(passphrase: str, opslimit: int, memlimit: int) -> Credentials:
    salt = os.urandom(nacl.pwhash.argon2id.SALTBYTES)
    return derive_credentials(passphrase, salt, opslimit, memlimit)


@dataclass
class DocumentInfo:
    id: str
    version: int
    versions: int
    size: int
    created_at: str
    updated_at: str
    meta: dict[str, Any] = field(default_factory=dict)
    # The current version's age identity (document key); kept out of repr and logs.
    identity: Any = field(default=None, repr=False)
    # The handle of the proxy who added it on the owner's behalf, checked against the key the
    # owner signed into the mandate; None when the owner added it.
    added_by: str | None = None
    manifest_sha256: str = ""

    @property
    def title(self) -> str:
        return str(self.meta.get("title") or self.meta.get("file_name") or "")

    @property
    def type(self) -> str:
        return str(self.meta.get("type", "other"))


@dataclass
class VersionInfo:
    version: int
    size: int
    created_at: str
    meta: dict[str, Any]
    identity: Any
    manifest: dict[str, Any]
    # SHA-256 of the manifest bytes exactly as signed: grant statements vouch for it.
    manifest_sha256: str = ""


@dataclass(frozen=True)
class LinkTerms:
    """What a share link says about who made it, from its maker (see links.LinkMaker)."""

    # Whose documents these are: handle and public signing key (base64).
    owner: dict[str, str]
    # The trusted person who makes it under the owner's mandate, with the owner-signed
    # authorisation that lets its key share; None when the owner makes it.
    proxy: dict[str, Any] | None = None
    # Where the server keeps it.
    path: str = "/links"
    # It never outlives this (a mandate's end).
    expires_by: datetime | None = None


@dataclass
class ProxySigner:
    """A key the owner signed into a mandate: documents that proxy adds are signed with it."""

    handle: str
    signing_key: bytes
    key_id: str
    expires_at: datetime
    actions: list[str]


@dataclass
class VaultHooks:
    """What the vault calls in the modules built on it (grants, mandates): they import this
    module, so it cannot import them. wallet/client/__init__.py wires the defaults (HOOKS)."""

    # After each of the owner's uploads, with the document id and the new version (its key,
    # metadata and signed manifest): standing access that covers it gets the new key.
    after_upload: list[Callable[[Vault, str, VersionInfo], object]] = field(default_factory=list)
    # After a profile field gets a new value, and so a new key, with the field's name.
    after_profile_field: list[Callable[[Vault, str], object]] = field(default_factory=list)
    # The keys the owner signed into mandates, by mandate id, to check what proxies added.
    proxy_signers: Callable[[Vault], dict[str, ProxySigner]] | None = None


HOOKS = VaultHooks()


def document_meta(
    path: Path,
    doc_type: str,
    title: str | None,
    *,
    issuer: str | None = None,
    issue_date: str | None = None,
    expiry_date: str | None = None,
    tags: list[str] | None = None,
    label: str | None = None,
    media_type: str | None = None,
) -> dict[str, Any]:
    """A version's metadata, encrypted next to its file: only key holders see it."""
    return {
        "v": META_VERSION,
        "type": doc_type,
        "title": title or path.stem,
        "label": label,
        "issuer": issuer,
        "issue_date": issue_date,
        "expiry_date": expiry_date,
        "tags": tags or [],
        "file_name": path.name,
        "media_type": media_type
        or mimetypes.guess_type(path.name)[0]
        or "application/octet-stream",
    }


def file_slug(text: str, limit: int = 60) -> str:
    """A title as a safe file name."""
    cleaned = re.sub(r"[^\w.-]+", "-", text, flags=re.UNICODE).strip("-._")
    return cleaned[:limit] or "document"


def _profile_field_statement(slot: str, ciphertext: bytes, wrap_sha256: str) -> dict[str, Any]:
    return statements.PROFILE_FIELD.build(
        slot=slot, ciphertext_sha256=hashlib.sha256(ciphertext).hexdigest(), wrap_sha256=wrap_sha256
    )


def sign_profile_field(keys: AccountKeys, slot: str, ciphertext: bytes, wrapped: bytes) -> bytes:
    """The owner vouches for a field: HPKE base mode does not tell who sealed a key."""
    statement = _profile_field_statement(slot, ciphertext, hashlib.sha256(wrapped).hexdigest())
    return sign(keys.signing_key, statement)[1]


def check_profile_field(
    owner_signing_key: bytes, slot: str, ciphertext: bytes, owner_wrap_sha256: str, signature: bytes
) -> None:
    """Raises BadSignature unless the owner signed exactly this field."""
    message = canonical_json(_profile_field_statement(slot, ciphertext, owner_wrap_sha256))
    verify(owner_signing_key, message, signature)


# A change the head covers is retried this many times while others change the same wallet.
HEAD_ATTEMPTS = 40


class Vault:
    def __init__(
        self,
        api: ApiClient,
        keys: AccountKeys,
        account: dict[str, Any],
        hooks: VaultHooks | None = None,
        kdf_pins: KdfPins | None = None,
        head_pins: HeadPins | None = None,
    ) -> None:
        self.api = api
        self.keys = keys
        self.account = account
        self.hooks = hooks if hooks is not None else HOOKS
        # The salt and cost this device saw for each handle (in memory only when not given).
        self.kdf_pins = kdf_pins if kdf_pins is not None else KdfPins(None)
        # The newest signed head this device saw for each owner (in memory only when not given).
        self.head_pins = head_pins if head_pins is not None else HeadPins(None)
        self._proxy_signers: dict[str, ProxySigner] | None = None
        self._head: OwnHead | None = None

    # --- accounts ---------------------------------------------------------------------------

    @classmethod
    def create_account(
        cls,
        api: ApiClient,
        handle: str,
        passphrase: str,
        kdf_pins: KdfPins | None = None,
        head_pins: HeadPins | None = None,
    ) -> tuple[Vault, str]:
        """Returns the unlocked vault and the recovery key text, to show once."""
        params = api.api("GET", "/accounts/params").json()
        creds = new_credentials(passphrase, params["opslimit"], params["memlimit"])
        keys = AccountKeys.generate()
        recovery_key = new_recovery_key()
        recovery_auth, recovery_kek = split_recovery_key(recovery_key)
        body = {
            "handle": handle,
            "kdf_salt": b64e(creds.salt),
            "kdf_opslimit": creds.opslimit,
            "kdf_memlimit": creds.memlimit,
            "auth_key": b64e(creds.auth_key),
            "recovery_auth_key": b64e(recovery_auth),
            "public_encryption_key": b64e(keys.public_encryption_key),
            "public_signing_key": b64e(keys.public_signing_key),
            "keys_by_passphrase": b64e(keys.lock(creds.kek)),
            "keys_by_recovery": b64e(keys.lock(recovery_kek)),
        }
        session = api.api("POST", "/accounts", json=body).json()
        api.token = session["token"]
        vault = cls(api, keys, session["account"], kdf_pins=kdf_pins, head_pins=head_pins)
        vault._pin_credentials(creds)
        vault.own_head()  # the first head, over the empty wallet
        return vault, format_recovery_key(recovery_key)

    @staticmethod
    def _prelogin(
        api: ApiClient, handle: str, passphrase: str, pins: KdfPins, new_salt_ok: bool = False
    ) -> Credentials:
        """Asks for the handle's salt and cost and derives the keys, unless the answer is
        weaker than the floor or than what this device saw before (see kdfpins): then it raises
        KdfRefused before any work, and nothing derived from the passphrase is sent."""
        params = api.api("POST", "/auth/prelogin", json={"handle": handle}).json()
        salt = b64d(params["salt"])
        pins.check(
            api.server,
            handle,
            salt,
            params["opslimit"],
            params["memlimit"],
            new_salt_ok=new_salt_ok,
        )
        return derive_credentials(passphrase, salt, params["opslimit"], params["memlimit"])

    def _pin_credentials(self, creds: Credentials) -> None:
        self.kdf_pins.pin(
            self.api.server, self.account["handle"], creds.salt, creds.opslimit, creds.memlimit
        )

    @classmethod
    def login(
        cls,
        api: ApiClient,
        handle: str,
        passphrase: str,
        kdf_pins: KdfPins | None = None,
        *,
        new_salt_ok: bool = False,
        head_pins: HeadPins | None = None,
    ) -> Vault:
        """`new_salt_ok`: the person says they changed their passphrase on another device, so
        another salt than the one this device saw is expected (the cost must still not drop)."""
        pins = kdf_pins if kdf_pins is not None else KdfPins(None)
        creds = cls._prelogin(api, handle, passphrase, pins, new_salt_ok)
        session = api.api(
            "POST", "/auth/login", json={"handle": handle, "auth_key": b64e(creds.auth_key)}
        ).json()
        api.token = session["token"]
        account = session["account"]
        keys = AccountKeys.unlock(creds.kek, b64d(account["keys_by_passphrase"]))
        vault = cls(api, keys, account, kdf_pins=pins, head_pins=head_pins)
        vault._check_served_keys(account)
        vault._pin_credentials(creds)
        vault.own_head()  # refuses, before anything else, a wallet older than this device saw
        return vault

    @classmethod
    def recover(
        cls,
        api: ApiClient,
        handle: str,
        recovery_text: str,
        new_passphrase: str,
        kdf_pins: KdfPins | None = None,
        head_pins: HeadPins | None = None,
    ) -> Vault:
        try:
            recovery_key = parse_recovery_key(recovery_text)
        except ValueError as exc:
            raise VaultError(str(exc)) from exc
        recovery_auth, recovery_kek = split_recovery_key(recovery_key)
        session = api.api(
            "POST",
            "/auth/recover",
            json={"handle": handle, "recovery_auth_key": b64e(recovery_auth)},
        ).json()
        api.token = session["token"]
        try:
            keys = AccountKeys.unlock(recovery_kek, b64d(session["keys_by_recovery"]))
        except WrongKey as exc:
            raise VaultError("This recovery key does not open the wallet.") from exc
        vault = cls(api, keys, session["account"], kdf_pins=kdf_pins, head_pins=head_pins)
        vault._set_passphrase(new_passphrase, current_auth_key=None)
        return vault

    # --- the signed vault head (wallet/client/vaulthead.py) -----------------------------------

    def own_head(self) -> OwnHead:
        """The newest head, checked: signed by this owner's key, not older than this device
        saw, and matching what it covers. The first head is made here when the account has
        none and this device never saw one (what the server holds then is taken as it is)."""
        handle = self.account["handle"]
        served = self.api.api("GET", "/vault/head").json()
        try:
            if served["head"] is None:
                if self.head_pins.get(self.api.server, handle) is not None:
                    raise StateRefused("rewound")
                head = self._first_head()
            else:
                statement, message = verified_statement(
                    served["head"], self.keys.public_signing_key, handle, self.keys.key_id
                )
                self.head_pins.check(self.api.server, handle, int(statement["seq"]), message)
                head = check_covered(statement, served)
                self.head_pins.pin(self.api.server, handle, int(statement["seq"]), message)
        except StateRefused as exc:
            self._record_refusal(exc.reason)
            raise
        self._head = head
        return head

    def current_head(self) -> OwnHead:
        """The head checked last by this vault object, or a fresh one."""
        return self._head if self._head is not None else self.own_head()

    def _first_head(self) -> OwnHead:
        def revoked(path: str) -> set[str]:
            return {row["id"] for row in self.api.api("GET", path).json() if row["revoked_at"]}

        state = VaultState(
            documents={row["id"]: row["current_version"] for row in self._listing_rows()},
            profile={
                row["slot"]: hashlib.sha256(b64d(row["ciphertext"])).hexdigest()
                for row in self.api.api("GET", "/profile").json()
            },
            revoked_grants=revoked("/grants"),
            revoked_mandates=revoked("/mandates"),
            revoked_links=revoked("/links"),
        )
        signed, message = sign_next(
            self.keys.signing_key, self.account["handle"], self.keys.key_id, 1, state
        )
        self.api.api("PUT", "/vault/head", json=signed)
        self.head_pins.pin(self.api.server, self.account["handle"], 1, message)
        statement = json.loads(message)
        served = {
            "profile": state.profile,
            "revoked": {
                "grants": state.revoked_grants,
                "mandates": state.revoked_mandates,
                "links": state.revoked_links,
            },
        }
        return check_covered(statement, served)

    def _record_refusal(self, reason: str) -> None:
        """Best effort: the person was told already; a server that drops this changes nothing."""
        with contextlib.suppress(ApiError):
            self.api.api("POST", "/journal/refusals", json={"reason": reason})

    def _listing_rows(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        cursor = None
        while True:
            params = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
            page = self.api.api("GET", "/documents", params=params).json()
            rows.extend(page["documents"])
            cursor = page["next_cursor"]
            if not cursor:
                return rows

    def _proxy_mandate(self, row: dict[str, Any]) -> str | None:
        """The mandate a proxy added this document's current version under, once its signature
        checks out (IntegrityFailure if not); None for the owner's own version."""
        manifest = self._verified_manifest(b64d(row["manifest"]), b64d(row["signature"]))
        mandate_id = manifest.get("mandate_id")
        return str(mandate_id) if mandate_id else None

    def checked_documents(
        self, rows: list[dict[str, Any]] | None = None
    ) -> tuple[OwnHead, dict[str, int]]:
        """The head and {document id: current version}, the whole listing checked against it."""
        head, current, _rows = self.checked_listing(rows)
        return head, current

    def checked_listing(
        self, rows: list[dict[str, Any]] | None = None
    ) -> tuple[OwnHead, dict[str, int], list[dict[str, Any]]]:
        """The head, {document id: current version} and the listing's rows, checked together.
        The head and the listing are two reads: a change committed between them makes them
        disagree although nothing is wrong, so they are read again while the head moves."""
        for attempt in range(1, HEAD_ATTEMPTS + 1):
            head = self.own_head()
            listed = rows if rows is not None else self._listing_rows()
            try:
                return head, check_documents(head, listed, self._proxy_mandate), listed
            except StateRefused as exc:
                moved = self.own_head().seq != head.seq
                if not moved or attempt == HEAD_ATTEMPTS:
                    self._record_refusal(exc.reason)
                    raise
                rows = None
        raise AssertionError("unreachable")  # the loop returns or raises

    def covered_change(
        self, method: str, path: str, apply: Callable[[VaultState], object], **kwargs: Any
    ) -> Any:
        """Sends a change the head covers, with the owner's next head over the state it leaves
        (`apply` makes the change to that state). Retried, after a short random wait, while
        another device or process changes the wallet at the same moment."""
        handle = self.account["handle"]
        for attempt in range(1, HEAD_ATTEMPTS + 1):
            head, documents = self.checked_documents()
            state = state_after(head, documents)
            apply(state)
            signed, message = sign_next(
                self.keys.signing_key, handle, self.keys.key_id, head.seq + 1, state
            )
            try:
                response = self.api.api(
                    method, path, headers={HEADER: header_value(signed)}, **kwargs
                )
            except ApiError as exc:
                if exc.code != STALE_CODE or attempt == HEAD_ATTEMPTS:
                    raise
                # Random, growing waits: changes racing each other do not meet again in step.
                time.sleep(random.uniform(0, min(1.0, 0.02 * 2**attempt)))  # noqa: S311 (a wait, not a secret)
                continue
            self.head_pins.pin(self.api.server, handle, head.seq + 1, message)
            self._head = None
            return response
        raise AssertionError("unreachable")  # the loop returns or raises

    def is_revoked(self, kind: str, item_id: str) -> bool:
        """Whether the owner's signed head lists this grant, mandate or link as taken back."""
        return self.current_head().is_revoked(kind, item_id)

    def refuse_revived(self, revived: list[str]) -> None:
        """After giving keys out: the server showed access the owner's head says was taken
        back. It got nothing; the person is told, and the journal says so."""
        if revived:
            self._record_refusal("changed")
            raise StateRefused("changed")

    def _check_served_keys(self, account: dict[str, Any]) -> None:
        # The server must hand back the public keys that belong to our private keys.
        if (
            b64d(account["public_encryption_key"]) != self.keys.public_encryption_key
            or b64d(account["public_signing_key"]) != self.keys.public_signing_key
        ):
            raise IntegrityFailure("The server sent keys that are not yours. Stop and report this.")

    def _set_passphrase(self, new_passphrase: str, current_auth_key: bytes | None) -> None:
        params = self.api.api("GET", "/accounts/params").json()
        opslimit, memlimit = params["opslimit"], params["memlimit"]
        # Never weaker than what this device saw for the account: a server that asked for less
        # would otherwise lower the pin through our own passphrase change.
        pinned = self.kdf_pins.get(self.api.server, self.account["handle"])
        if pinned:
            opslimit, memlimit = max(opslimit, pinned.opslimit), max(memlimit, pinned.memlimit)
        creds = new_credentials(new_passphrase, opslimit, memlimit)
        body = {
            "current_auth_key": b64e(current_auth_key) if current_auth_key else None,
            "kdf_salt": b64e(creds.salt),
            "kdf_opslimit": creds.opslimit,
            "kdf_memlimit": creds.memlimit,
            "auth_key": b64e(creds.auth_key),
            "keys_by_passphrase": b64e(self.keys.lock(creds.kek)),
        }
        session = self.api.api("PUT", "/accounts/me/passphrase", json=body).json()
        self.api.token = session["token"]
        self.account = session["account"]
        self._pin_credentials(creds)

    def current_auth_key(self, passphrase: str) -> bytes:
        """Checks the passphrase against this account and returns its auth key."""
        creds = self._prelogin(self.api, self.account["handle"], passphrase, self.kdf_pins)
        try:
            AccountKeys.unlock(creds.kek, b64d(self.account["keys_by_passphrase"]))
        except WrongKey as exc:
            raise VaultError("This passphrase is not right. Nothing was changed.") from exc
        return creds.auth_key

    def change_passphrase(self, current: str, new: str) -> None:
        self._set_passphrase(new, current_auth_key=self.current_auth_key(current))

    def new_recovery_key(self, passphrase: str) -> str:
        """Issues a new recovery key and returns its text, to show once. The server replaces the
        old one in the same transaction: the old sheet stops working at once."""
        current = self.current_auth_key(passphrase)
        recovery_key = new_recovery_key()
        recovery_auth, recovery_kek = split_recovery_key(recovery_key)
        body = {
            "current_auth_key": b64e(current),
            "recovery_auth_key": b64e(recovery_auth),
            "keys_by_recovery": b64e(self.keys.lock(recovery_kek)),
        }
        self.api.api("PUT", "/accounts/me/recovery-key", json=body)
        return format_recovery_key(recovery_key)

    def delete_account(self, passphrase: str) -> None:
        auth_key = self.current_auth_key(passphrase)
        self.api.api("POST", "/accounts/me/delete", json={"auth_key": b64e(auth_key)})
        self.api.token = None
        self.kdf_pins.forget(self.api.server, self.account["handle"])

    def logout(self) -> None:
        with contextlib.suppress(ApiError):
            self.api.api("POST", "/auth/logout")
        self.api.token = None

    # --- documents --------------------------------------------------------------------------

    def _seal_document_key(self, identity: Any, document_id: str, version: int) -> bytes:
        info = document_key_info(document_id, version, self.keys.key_id)
        return seal(self.keys.public_encryption_key, str(identity).encode(), info)

    def _open_document_key(self, wrapped: bytes, document_id: str, version: int) -> Any:
        info = document_key_info(document_id, version, self.keys.key_id)
        try:
            return age.parse_identity(open_sealed(self.keys.encryption_key, wrapped, info).decode())
        except UnwrapError as exc:
            raise IntegrityFailure(
                "A document key was changed on the server. Do not trust this document."
            ) from exc

    def upload(
        self,
        path: Path,
        doc_type: str = "other",
        title: str | None = None,
        *,
        issuer: str | None = None,
        issue_date: str | None = None,
        expiry_date: str | None = None,
        tags: list[str] | None = None,
        label: str | None = None,
        media_type: str | None = None,
        replace: str | None = None,
        progress: Progress | None = None,
        keep_photo_details: bool = False,
    ) -> tuple[str, int]:
        path = Path(path)
        if doc_type not in DOCUMENT_TYPES:
            raise VaultError(f"'{doc_type}' is not a document type. See 'wallet types'.")
        if replace:
            current = self.api.api("GET", f"/documents/{replace}").json()
            document_id, version = replace, current["current_version"] + 1
        else:
            document_id, version = uuid.uuid4().hex, 1
        meta = document_meta(
            path,
            doc_type,
            title,
            issuer=issuer,
            issue_date=issue_date,
            expiry_date=expiry_date,
            tags=tags,
            label=label,
            media_type=media_type,
        )
        identity = age.new_identity()
        recipient = age.recipient_of(identity)
        encrypted_meta = age.encrypt_bytes(json.dumps(meta).encode(), recipient)
        wrapped_key = self._seal_document_key(identity, document_id, version)

        # Photos lose their place, phone and time here, before encryption (wallet/client/photos.py).
        with photo_cleaned(path, keep=keep_photo_details) as clean:
            upload_id, blob_sha256, blob_size = encrypt_and_upload(
                self.api, clean, recipient, progress
            )

        manifest, signature = sign(
            self.keys.signing_key,
            statements.DOCUMENT_VERSION.build(
                document_id=document_id,
                version=version,
                blob_sha256=blob_sha256,
                blob_size=blob_size,
                meta_sha256=hashlib.sha256(encrypted_meta).hexdigest(),
                wraps=[
                    {"key_id": self.keys.key_id, "sha256": hashlib.sha256(wrapped_key).hexdigest()}
                ],
                signed_at=datetime.now(UTC).isoformat(timespec="seconds"),
            ),
        )
        body = {
            "upload_id": upload_id,
            "encrypted_meta": b64e(encrypted_meta),
            "wrapped_key": b64e(wrapped_key),
            "manifest": b64e(manifest),
            "signature": b64e(signature),
        }

        def add_version(state: VaultState) -> None:
            state.documents[document_id] = version

        if replace:
            result = self.covered_change(
                "POST", f"/documents/{document_id}/versions", add_version, json=body
            ).json()
        else:
            result = self.covered_change(
                "POST", "/documents", add_version, json={**body, "document_id": document_id}
            ).json()
        # Standing grants and mandates keep up: a new payslip reaches every grant that covers
        # payslips, and every mandate whose scope covers it (each wrap signed by the owner).
        new_version = VersionInfo(
            version,
            blob_size,
            "",
            meta,
            identity,
            json.loads(manifest),
            hashlib.sha256(manifest).hexdigest(),
        )
        for after_upload in self.hooks.after_upload:
            after_upload(self, document_id, new_version)
        return result["id"], result["version"]

    def _decrypt_meta(self, encrypted_meta: bytes, identity: Any) -> dict[str, Any]:
        try:
            return json.loads(age.decrypt_bytes(encrypted_meta, [identity]))
        except (age.IntegrityError, ValueError) as exc:
            raise IntegrityFailure("A document's details were changed on the server.") from exc

    def list_documents(self) -> list[DocumentInfo]:
        documents: list[DocumentInfo] = []
        # Signed by us, each version and the head over all of them: the server can neither
        # invent a document, nor roll one back, nor hide one.
        _head, _current, rows = self.checked_listing()
        for row in rows:
            manifest = self._checked_manifest(row, row["id"], row["current_version"])
            identity = self._open_document_key(
                b64d(row["wrapped_key"]), row["id"], row["current_version"]
            )
            documents.append(
                DocumentInfo(
                    id=row["id"],
                    version=row["current_version"],
                    versions=row["versions"],
                    size=row["size"],
                    created_at=row["created_at"],
                    updated_at=row["updated_at"],
                    meta=self._decrypt_meta(b64d(row["encrypted_meta"]), identity),
                    identity=identity,
                    added_by=self.added_by(manifest),
                    manifest_sha256=hashlib.sha256(b64d(row["manifest"])).hexdigest(),
                )
            )
        return documents

    def versions(self, document_id: str) -> list[VersionInfo]:
        """All versions, each checked against the owner's signature."""
        try:
            detail = self.api.api("GET", f"/documents/{document_id}").json()
        except ApiError as exc:
            if exc.status == 404:
                raise VaultError(
                    f"No document {document_id}. Check the id with 'wallet ls'."
                ) from exc
            raise
        # The newest version must be the one the checked listing shows: a server that hid it
        # (or rolled the document back) is caught here too.
        _head, current = self.checked_documents()
        newest = max((item["version"] for item in detail["versions"]), default=0)
        if (
            current.get(document_id) != detail["current_version"]
            or newest != (detail["current_version"])
        ):
            self._record_refusal("changed")
            raise StateRefused("changed")
        result = []
        for item in detail["versions"]:
            encrypted_meta = b64d(item["encrypted_meta"])
            wrapped_key = b64d(item["wrapped_key"])
            manifest = self._checked_manifest(item, document_id, item["version"])
            identity = self._open_document_key(wrapped_key, document_id, item["version"])
            result.append(
                VersionInfo(
                    version=item["version"],
                    size=item["size"],
                    created_at=item["created_at"],
                    meta=self._decrypt_meta(encrypted_meta, identity),
                    identity=identity,
                    manifest=manifest,
                    manifest_sha256=hashlib.sha256(b64d(item["manifest"])).hexdigest(),
                )
            )
        return result

    def _checked_manifest(
        self, item: dict[str, Any], document_id: str, version: int
    ) -> dict[str, Any]:
        """The owner-signed manifest of one version, checked against what the server sent."""
        manifest = self._verified_manifest(b64d(item["manifest"]), b64d(item["signature"]))
        expected_wrap = {
            "key_id": self.keys.key_id,
            "sha256": hashlib.sha256(b64d(item["wrapped_key"])).hexdigest(),
        }
        if (
            manifest.get("document_id") != document_id
            or manifest.get("version") != version
            or manifest.get("meta_sha256")
            != hashlib.sha256(b64d(item["encrypted_meta"])).hexdigest()
            or expected_wrap not in manifest.get("wraps", [])
        ):
            raise IntegrityFailure("A document was changed on the server. Do not trust it.")
        return manifest

    def _verified_manifest(self, manifest_bytes: bytes, signature: bytes) -> dict[str, Any]:
        signer = self.keys.public_signing_key
        try:
            claimed = json.loads(manifest_bytes)
        except ValueError as exc:
            raise IntegrityFailure(
                "A document's signature does not match. Do not trust it."
            ) from exc
        if isinstance(claimed, dict) and claimed.get("mandate_id"):
            signer = self._mandate_signer(claimed)
        try:
            verify(signer, manifest_bytes, signature)
        except BadSignature as exc:
            raise IntegrityFailure(
                "A document's signature does not match. Do not trust it."
            ) from exc
        return claimed

    def _mandate_signer(self, manifest: dict[str, Any]) -> bytes:
        """A document a proxy added: signed by the proxy key this owner signed into a mandate
        that allows adding documents, before that mandate's signed end."""
        if self._proxy_signers is None:
            signers = self.hooks.proxy_signers
            self._proxy_signers = signers(self) if signers is not None else {}
        signer = self._proxy_signers.get(str(manifest.get("mandate_id")))
        signed_at = str(manifest.get("signed_at", ""))
        if (
            signer is None
            or manifest.get("signer_key_id") != signer.key_id
            or "upload" not in signer.actions
            or not signed_at
            or datetime.fromisoformat(signed_at) > signer.expires_at
        ):
            raise IntegrityFailure(
                "A document claims to be added by someone you gave a mandate to, but it is "
                "not signed by them. Do not trust it."
            )
        return signer.signing_key

    def added_by(self, manifest: dict[str, Any]) -> str | None:
        if not manifest.get("mandate_id") or self._proxy_signers is None:
            return None
        signer = self._proxy_signers.get(str(manifest["mandate_id"]))
        return signer.handle if signer is not None else None

    def download(self, document_id: str, target: Path, version: int | None = None) -> VersionInfo:
        """Writes the plaintext to `target` only if every check passes."""
        versions = self.versions(document_id)
        chosen = (
            versions[-1]
            if version is None
            else next((v for v in versions if v.version == version), None)
        )
        if chosen is None:
            raise VaultError(f"This document has no version {version}.")
        self.fetch_version(document_id, chosen, Path(target))
        return chosen

    def fetch_version(self, document_id: str, version: VersionInfo, target: Path) -> None:
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".download-") as ciphertext:
            self.fetch_ciphertext(document_id, version, ciphertext)
            ciphertext.flush()
            try:
                age.decrypt_file_to_path(Path(ciphertext.name), target, [version.identity])
            except age.IntegrityError as exc:
                raise IntegrityFailure(
                    "This file is damaged or was changed. Nothing was saved."
                ) from exc

    def fetch_ciphertext(self, document_id: str, version: VersionInfo, target: Any) -> None:
        path = f"/documents/{document_id}/versions/{version.version}/blob"
        try:
            # The signed size, not the one the server reports.
            digest = download_to(self.api, path, target, int(version.manifest["blob_size"]))
        except WrongSize as exc:
            raise IntegrityFailure(
                "This file is damaged or was changed. Nothing was saved."
            ) from exc
        if digest != version.manifest.get("blob_sha256"):
            raise IntegrityFailure("This file is damaged or was changed. Nothing was saved.")

    def delete(self, document_id: str) -> None:
        try:
            self.covered_change(
                "DELETE",
                f"/documents/{document_id}",
                lambda state: state.documents.pop(document_id, None),
            )
        except ApiError as exc:
            if exc.status == 404:
                raise VaultError(
                    f"No document {document_id}. Check the id with 'wallet ls'."
                ) from exc
            raise

    # --- links ------------------------------------------------------------------------------

    def link_terms(self) -> LinkTerms:
        """The owner shares their own documents, signed with their own key."""
        return LinkTerms(
            owner={
                "handle": self.account["handle"],
                "signing_key": b64e(self.keys.public_signing_key),
            }
        )

    # --- profile ----------------------------------------------------------------------------

    def set_profile_field(self, name: str, value: str) -> None:
        if name not in PROFILE_FIELDS:
            raise VaultError(
                f"'{name}' is not a profile field. Use one of: {', '.join(PROFILE_FIELDS)}."
            )
        slot = self.keys.profile_slot(name)
        identity = age.new_identity()
        record = {"v": 1, "name": name, "value": value}
        ciphertext = age.encrypt_bytes(json.dumps(record).encode(), age.recipient_of(identity))
        wrapped = seal(
            self.keys.public_encryption_key,
            str(identity).encode(),
            profile_field_info(slot, self.keys.key_id),
        )
        ciphertext_sha256 = hashlib.sha256(ciphertext).hexdigest()
        self.covered_change(
            "PUT",
            f"/profile/{slot}",
            lambda state: state.profile.__setitem__(slot, ciphertext_sha256),
            json={
                "ciphertext": b64e(ciphertext),
                "wrapped_key": b64e(wrapped),
                "signature": b64e(sign_profile_field(self.keys, slot, ciphertext, wrapped)),
            },
        )
        # A new value has a new key: grants that include this field get it too.
        for after_profile_field in self.hooks.after_profile_field:
            after_profile_field(self, name)

    def profile(self) -> dict[str, str]:
        return {name: value for name, (_slot, _identity, value) in self._profile_records().items()}

    def profile_identities(self) -> dict[str, tuple[str, Any]]:
        """Each field's slot and key, to share single fields."""
        return {
            name: (slot, identity) for name, (slot, identity, _v) in self._profile_records().items()
        }

    def _profile_records(self) -> dict[str, tuple[str, Any, str]]:
        fields: dict[str, tuple[str, Any, str]] = {}
        for attempt in range(1, HEAD_ATTEMPTS + 1):
            head = self.own_head()
            rows = self.api.api("GET", "/profile").json()
            try:
                check_profile(head, rows)
                break
            except StateRefused as exc:
                # Two reads: a change between them is no reason to refuse (see checked_listing).
                if self.own_head().seq == head.seq or attempt == HEAD_ATTEMPTS:
                    self._record_refusal(exc.reason)
                    raise
        for row in rows:
            info = profile_field_info(row["slot"], self.keys.key_id)
            try:
                identity_text = open_sealed(
                    self.keys.encryption_key, b64d(row["wrapped_key"]), info
                )
                identity = age.parse_identity(identity_text.decode())
                check_profile_field(
                    self.keys.public_signing_key,
                    row["slot"],
                    b64d(row["ciphertext"]),
                    hashlib.sha256(b64d(row["wrapped_key"])).hexdigest(),
                    b64d(row["signature"]),
                )
                record = json.loads(age.decrypt_bytes(b64d(row["ciphertext"]), [identity]))
            except (UnwrapError, age.IntegrityError, ValueError, BadSignature) as exc:
                raise IntegrityFailure("A profile field was changed on the server.") from exc
            # The slot must be the one this name maps to, or the server swapped two fields.
            if self.keys.profile_slot(record["name"]) != row["slot"]:
                raise IntegrityFailure("A profile field was moved on the server.")
            fields[record["name"]] = (row["slot"], identity, record["value"])
        return fields

    def remove_profile_field(self, name: str) -> None:
        slot = self.keys.profile_slot(name)
        try:
            self.covered_change(
                "DELETE", f"/profile/{slot}", lambda state: state.profile.pop(slot, None)
            )
        except ApiError as exc:
            if exc.status == 404:
                raise VaultError(f"Your profile has no '{name}'.") from exc
            raise
