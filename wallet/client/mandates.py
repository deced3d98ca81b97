"""Digital proxies on the client: the owner gives a mandate; the trusted person acts inside it.

The owner signs two things. The *authorisation* (plain, checked and enforced by the server):
which key may act, which actions, one-shot or personalised, until when. The *descriptor*
(sealed to owner and proxy): the same plus the purpose, the scope (procedure categories and
chosen documents), both handles and the attestation's check code. Document keys in scope are
sealed to the proxy's key, each with an owner-signed statement that also covers the version's
manifest, so the proxy needs only the owner's key to trust what it gets.
"""

from __future__ import annotations

import hashlib
import html
import json
import secrets
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from wallet.client.api import ApiError
from wallet.client.contacts import KeyChanged, PinStore, person, safety_code
from wallet.client.photos import photo_cleaned
from wallet.client.transfer import WrongSize, download_to, encrypt_and_upload
from wallet.client.vault import (
    DocumentInfo,
    IntegrityFailure,
    LinkTerms,
    ProxySigner,
    Vault,
    VaultError,
    VersionInfo,
    document_meta,
)
from wallet.client.vaulthead import check_counterpart
from wallet.crypto import age
from wallet.crypto.encoding import b64d, b64e
from wallet.crypto.signing import BadSignature, sign, verify
from wallet.crypto.wrap import UnwrapError, document_key_info, key_id, open_sealed, seal
from wallet.protocol import labels, statements
from wallet.protocol.catalogue import DOCUMENT_TYPES, PROCEDURE_CATEGORIES
from wallet.protocol.vault_state import VaultState

ACTIONS = ("view", "upload", "share")
ACTION_WORDS = {
    "view": "see the documents",
    "upload": "add documents",
    "share": "share documents with a one-time link",
}
# --duration: (kind, how long). One-shot mandates end after the first completed action, or
# after 24 hours, whichever comes first.
DURATIONS: dict[str, tuple[str, timedelta]] = {
    "once": ("once", timedelta(hours=24)),
    "1d": ("personal", timedelta(days=1)),
    "1m": ("personal", timedelta(days=30)),
    "6m": ("personal", timedelta(days=182)),
    "1y": ("personal", timedelta(days=365)),
}
NO_DELEGATION = "A proxy cannot give a proxy. Only the owner can."
PROXY_CANNOT = "A proxy cannot do this. Only the owner can: {what}."
ENDED = (
    "You have no active mandate from {owner}. It may have ended, been revoked or used. "
    "Ask the person for a new one."
)


def mandate_info(mandate_id: str, recipient_key_id: str) -> bytes:
    return labels.info(labels.MANDATE, mandate_id, recipient_key_id)


def category_of(doc_type: str) -> str:
    return DOCUMENT_TYPES.get(doc_type, ("other", ""))[0]


def parse_scope(categories: list[str]) -> list[str]:
    """Procedure categories from docs/design.md. Never 'all': a mandate is for some procedures."""
    chosen = []
    for name in categories:
        name = name.strip().lower()
        if name in ("all", "*", "everything"):
            raise VaultError(
                "A mandate cannot cover everything. Choose the procedures the person helps "
                f"with: {', '.join(PROCEDURE_CATEGORIES)}."
            )
        if name not in PROCEDURE_CATEGORIES:
            raise VaultError(
                f"'{name}' is not a procedure category. Use some of: "
                f"{', '.join(PROCEDURE_CATEGORIES)}."
            )
        if name not in chosen:
            chosen.append(name)
    return sorted(chosen)


def parse_actions(actions: list[str]) -> list[str]:
    if not actions:
        raise VaultError("Say what the person may do: --actions view, upload and/or share.")
    for action in actions:
        if action not in ACTIONS:
            raise VaultError(f"'{action}' is not an action. Use view, upload or share.")
    if "share" in actions and "view" not in actions:
        raise VaultError("Sharing needs 'view' too: the person must see what they share.")
    return sorted(set(actions))


def parse_duration(text: str | None) -> tuple[str, timedelta]:
    if not text:
        raise VaultError("A mandate needs an end. Choose --duration once, 1d, 1m, 6m or 1y.")
    if text.strip().lower() not in DURATIONS:
        raise VaultError(
            f"'{text}' is not a duration. Choose once, 1d, 1m, 6m or 1y. "
            "A mandate never lasts forever."
        )
    return DURATIONS[text.strip().lower()]


def in_scope(descriptor: dict[str, Any], document_id: str, doc_type: str) -> bool:
    scope = descriptor["scope"]
    return document_id in scope["documents"] or category_of(doc_type) in scope["categories"]


def _wrap_for(
    vault: Vault,
    mandate_id: str,
    proxy: dict[str, Any],
    document_id: str,
    version: int,
    identity: Any,
    manifest_sha256: str,
) -> dict[str, Any]:
    """Seals a version's key to the proxy, with the owner's statement binding it to this
    mandate and to the version's manifest (blob hash and size)."""
    wrapped = seal(
        b64d(proxy["public_encryption_key"]),
        str(identity).encode(),
        document_key_info(document_id, version, proxy["key_id"]),
    )
    statement, signature = sign(
        vault.keys.signing_key,
        statements.MANDATE_WRAP.build(
            mandate_id=mandate_id,
            document_id=document_id,
            version=version,
            wrap_sha256=hashlib.sha256(wrapped).hexdigest(),
            manifest_sha256=manifest_sha256,
        ),
    )
    return {
        "document_id": document_id,
        "version": version,
        "wrapped_key": b64e(wrapped),
        "statement": b64e(statement),
        "statement_signature": b64e(signature),
    }


@dataclass
class CreatedMandate:
    id: str
    proxy: str
    kind: str
    actions: list[str]
    expires_at: datetime
    documents: int
    safety_code: str
    first_contact: bool
    check_code: str
    descriptor: dict[str, Any]


def create_mandate(
    vault: Vault,
    handle: str,
    *,
    categories: list[str],
    document_ids: list[str] | None = None,
    actions: list[str],
    duration: str | None,
    purpose: str,
    pins: PinStore,
    accept_new_key: bool = False,
    now: datetime | None = None,
) -> CreatedMandate:
    if not purpose.strip():
        raise VaultError("Say what the mandate is for (--purpose), in a few words.")
    kind, length = parse_duration(duration)
    chosen_categories = parse_scope(categories)
    chosen_actions = parse_actions(actions)
    documents = {d.id: d for d in vault.list_documents()}
    chosen_documents = sorted(set(document_ids or []))
    for document_id in chosen_documents:
        if document_id not in documents:
            raise VaultError(f"No document {document_id}. Check the id with 'wallet ls'.")
    if not chosen_categories and not chosen_documents:
        raise VaultError("Choose what the mandate covers: --scope housing,health or --docs ID.")
    if handle.strip().lower() == vault.account["handle"]:
        raise VaultError("You cannot give a mandate to yourself.")
    proxy, first = person(vault, handle, pins, accept_new_key)
    mandate_id = uuid.uuid4().hex
    created = now or datetime.now(UTC)
    expires_at = (created + length).replace(microsecond=0)
    check_code = b64e(secrets.token_bytes(16))
    terms = {
        "mandate_id": mandate_id,
        "owner_key_id": vault.keys.key_id,
        "proxy_key_id": proxy["key_id"],
        "proxy_signing_key": proxy["public_signing_key"],
        "actions": chosen_actions,
        "mandate_kind": kind,
        "expires_at": expires_at.isoformat(),
    }
    authorisation = statements.MANDATE_AUTHORISATION.build(**terms)
    descriptor = statements.MANDATE.build(
        **terms,
        owner=vault.account["handle"],
        proxy=proxy["handle"],
        proxy_encryption_key=proxy["public_encryption_key"],
        purpose=purpose.strip(),
        scope={"categories": chosen_categories, "documents": chosen_documents},
        created_at=created.isoformat(timespec="seconds"),
        check_code=check_code,
    )
    authorisation_bytes, authorisation_signature = sign(vault.keys.signing_key, authorisation)
    message, signature = sign(vault.keys.signing_key, descriptor)
    wraps = []
    if "view" in chosen_actions:
        wraps = [
            _wrap_for(vault, mandate_id, proxy, d.id, d.version, d.identity, d.manifest_sha256)
            for d in documents.values()
            if in_scope(descriptor, d.id, d.type)
        ]
    vault.api.api(
        "POST",
        "/mandates",
        json={
            "mandate_id": mandate_id,
            "proxy_handle": proxy["handle"],
            "proxy_key_id": proxy["key_id"],
            "kind": kind,
            "actions": chosen_actions,
            "expires_at": expires_at.isoformat(),
            "authorisation": b64e(authorisation_bytes),
            "authorisation_signature": b64e(authorisation_signature),
            "sealed_for_owner": b64e(
                seal(
                    vault.keys.public_encryption_key,
                    message,
                    mandate_info(mandate_id, vault.keys.key_id),
                )
            ),
            "sealed_for_proxy": b64e(
                seal(
                    b64d(proxy["public_encryption_key"]),
                    message,
                    mandate_info(mandate_id, proxy["key_id"]),
                )
            ),
            "signature": b64e(signature),
            "check_hash": hashlib.sha256(check_code.encode()).hexdigest(),
            "wraps": wraps,
        },
    )
    code = safety_code(b64d(proxy["public_encryption_key"]), b64d(proxy["public_signing_key"]))
    return CreatedMandate(
        mandate_id,
        proxy["handle"],
        kind,
        chosen_actions,
        expires_at,
        len(wraps),
        code,
        first,
        check_code,
        descriptor,
    )


def _open_descriptor(vault: Vault, mandate: dict[str, Any], owner_signing_key: bytes) -> dict:
    """Opens the sealed descriptor and checks that the owner signed it, and the plain terms."""
    try:
        message = open_sealed(
            vault.keys.encryption_key,
            b64d(mandate["sealed"]),
            mandate_info(mandate["id"], vault.keys.key_id),
        )
        verify(owner_signing_key, message, b64d(mandate["signature"]))
        authorisation = b64d(mandate["authorisation"])
        verify(owner_signing_key, authorisation, b64d(mandate["authorisation_signature"]))
    except (UnwrapError, BadSignature) as exc:
        raise IntegrityFailure("A mandate was changed on the server. Do not trust it.") from exc
    descriptor = json.loads(message)
    terms = json.loads(authorisation)
    if (
        descriptor.get("mandate_id") != mandate["id"]
        or terms.get("mandate_id") != mandate["id"]
        or any(descriptor.get(k) != terms.get(k) for k in ("actions", "expires_at", "mandate_kind"))
        or terms.get("proxy_key_id") != descriptor.get("proxy_key_id")
        or terms.get("actions") != mandate["actions"]
        or terms.get("mandate_kind") != mandate["kind"]
    ):
        raise IntegrityFailure("A mandate was changed on the server. Do not trust it.")
    return descriptor


def mandates_given(vault: Vault) -> list[dict[str, Any]]:
    result = []
    for mandate in vault.api.api("GET", "/mandates").json():
        descriptor = _open_descriptor(vault, mandate, vault.keys.public_signing_key)
        result.append({**mandate, "descriptor": descriptor})
    return result


def revoke_mandate(vault: Vault, mandate_id: str) -> None:
    # Revoking stops the links the proxy made under it: the next head lists them too.
    links: list[str] = next(
        (
            m.get("links", [])
            for m in vault.api.api("GET", "/mandates").json()
            if m["id"] == mandate_id
        ),
        [],
    )

    def revoke(state: VaultState) -> None:
        state.revoked_mandates.add(mandate_id)
        state.revoked_links.update(links)

    try:
        vault.covered_change("POST", f"/mandates/{mandate_id}/revoke", revoke)
    except ApiError as exc:
        if exc.status == 404:
            raise VaultError(f"No mandate {mandate_id}. See 'wallet proxy ls'.") from exc
        raise


def _still_given(vault: Vault, mandate: dict[str, Any], revived: list[str]) -> bool:
    """Active for the server, before the expiry the owner signed, and not revoked in the
    owner's signed head (a server cannot revive a mandate to collect new keys: `revived`
    gets its id)."""
    expires = datetime.fromisoformat(mandate["descriptor"]["expires_at"])
    if mandate["state"] != "active" or expires <= datetime.now(UTC):
        return False
    if vault.is_revoked("mandates", mandate["id"]):
        revived.append(mandate["id"])
        return False
    return True


def wrap_new_version(vault: Vault, document_id: str, version: VersionInfo) -> int:
    """Gives every active mandate with 'view' whose scope covers this document its new key."""
    count = 0
    changed: list[str] = []
    revived: list[str] = []
    for mandate in mandates_given(vault):
        descriptor = mandate["descriptor"]
        if not _still_given(vault, mandate, revived) or "view" not in mandate["actions"]:
            continue
        if not in_scope(descriptor, document_id, str(version.meta.get("type", "other"))):
            continue
        proxy = mandate["proxy"]
        if proxy is None:
            continue
        if not (
            key_id(b64d(proxy["public_encryption_key"]))
            == proxy["key_id"]
            == descriptor["proxy_key_id"]
        ):
            changed.append(descriptor["proxy"])
            continue
        wrap = _wrap_for(
            vault,
            mandate["id"],
            proxy,
            document_id,
            version.version,
            version.identity,
            version.manifest_sha256,
        )
        vault.api.api("POST", f"/mandates/{mandate['id']}/wraps", json={"wraps": [wrap]})
        count += 1
    vault.refuse_revived(revived)
    if changed:
        raise KeyChanged(
            f"WARNING: the server shows a NEW key for {', '.join(sorted(set(changed)))}. The "
            "document was saved for you but NOT given to them. Check the safety code with the "
            "person, face to face, then give a new mandate."
        )
    return count


def proxy_signers(vault: Vault) -> dict[str, ProxySigner]:
    """Keys the owner signed into mandates: documents a proxy adds are signed with them."""
    signers = {}
    for mandate in mandates_given(vault):
        descriptor = mandate["descriptor"]
        signers[mandate["id"]] = ProxySigner(
            descriptor["proxy"],
            b64d(descriptor["proxy_signing_key"]),
            descriptor["proxy_key_id"],
            datetime.fromisoformat(descriptor["expires_at"]),
            descriptor["actions"],
        )
    return signers


def plain_terms(descriptor: dict[str, Any]) -> dict[str, str]:
    """Who may do what, until when and for what, in plain words."""
    expires = datetime.fromisoformat(descriptor["expires_at"])
    scope = descriptor["scope"]
    covers = [PROCEDURE_CATEGORIES[c] for c in scope["categories"]]
    if scope["documents"]:
        covers.append(f"{len(scope['documents'])} chosen document(s)")
    once = descriptor["mandate_kind"] == "once"
    return {
        "who": f"{descriptor['proxy']} may act for {descriptor['owner']}.",
        "what": "They may "
        + ", ".join(ACTION_WORDS[a] for a in ACTIONS if a in descriptor["actions"])
        + f", for: {', '.join(covers)}.",
        "until": (
            "Once only: it ends after the first procedure, and at the latest on "
            if once
            else "Until "
        )
        + f"{expires:%d %B %Y, %H:%M} (UTC).",
        "why": f"Purpose: {descriptor['purpose']}",
        "never": (
            "They can never give this mandate to someone else, change the passphrase, "
            "delete the wallet or read its journal."
        ),
    }


def check_url(server: str, mandate_id: str, check_code: str) -> str:
    return f"{server.rstrip('/')}/mandates/check/{mandate_id}?c={check_code}"


def attestation_html(descriptor: dict[str, Any], server: str) -> str:
    """A printable, self-contained page (no script) with an inline SVG QR code."""
    import segno  # about 45 ms to import: loaded only when an attestation is drawn

    url = check_url(server, descriptor["mandate_id"], descriptor["check_code"])
    qr = segno.make(url, error="m").svg_inline(scale=4, border=2)
    terms = plain_terms(descriptor)
    kind = "One-shot" if descriptor["mandate_kind"] == "once" else "Personal"
    rows = "".join(f"<p>{html.escape(terms[k])}</p>" for k in ("who", "what", "until", "why"))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Mandate (digital proxy) {html.escape(descriptor["mandate_id"][:8])}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;
font-size:1.15rem;line-height:1.5}}h1{{font-size:1.6rem}}.qr{{float:right;margin:0 0 1rem 1rem}}
.small{{font-size:.9rem;color:#333}}@media print{{body{{margin:1cm}}}}</style></head><body>
<div class="qr">{qr}</div>
<h1>{kind} mandate (digital proxy)</h1>
{rows}
<p>{html.escape(terms["never"])}</p>
<p>Signed with the digital key of {html.escape(descriptor["owner"])} on
{html.escape(descriptor["created_at"][:10])}. Mandate number: {html.escape(descriptor["mandate_id"])}</p>
<p class="small">To check that this mandate is still valid, scan the QR code or open:<br>
{html.escape(url)}<br>The check says only "valid until ..." or "ended". It shows no name and
no document. The owner can end the mandate at any time.</p>
</body></html>
"""


# --- the proxy's side -----------------------------------------------------------------------


def received(vault: Vault, pins: PinStore) -> list[dict[str, Any]]:
    """Active mandates given to this account, each checked against its owner's signature."""
    result = []
    for mandate in vault.api.api("GET", "/mandates/received").json():
        owner = mandate["owner"]
        pins.check(owner["handle"], owner)
        descriptor = _open_descriptor(vault, mandate, b64d(owner["public_signing_key"]))
        if descriptor["proxy_key_id"] != vault.keys.key_id:
            raise IntegrityFailure("A mandate was changed on the server. Do not trust it.")
        result.append({**mandate, "descriptor": descriptor})
    return result


def renounce(vault: Vault, mandate_id: str) -> None:
    try:
        vault.api.api("POST", f"/mandates/{mandate_id}/renounce")
    except ApiError as exc:
        if exc.status == 404:
            raise VaultError(
                f"No active mandate {mandate_id} for you. See 'wallet proxy received'."
            ) from exc
        raise


def own_actions(vault: Vault, mandate_id: str) -> list[dict[str, Any]]:
    return vault.api.api("GET", f"/mandates/{mandate_id}/actions").json()


class ProxyVault:
    """The proxy's own session acting for an owner, inside one mandate. It offers the few
    things `wallet --for OWNER` allows: list, get, upload, one-shot links."""

    def __init__(self, vault: Vault, mandate: dict[str, Any]) -> None:
        self.own = vault
        self.api = vault.api
        self.keys = vault.keys
        self.account = vault.account
        self.mandate = mandate
        self.descriptor = mandate["descriptor"]
        self.owner = mandate["owner"]
        self._listing: dict[str, list[VersionInfo]] | None = None
        self.acted = False  # a download, an upload or a link: a one-shot mandate is then used
        self._documents: list[DocumentInfo] | None = None

    @classmethod
    def open(cls, vault: Vault, owner_handle: str, pins: PinStore) -> ProxyVault:
        owner_handle = owner_handle.strip().lower()
        if owner_handle == vault.account["handle"]:
            raise VaultError("This is your own wallet: leave out --for.")
        mine = [m for m in received(vault, pins) if m["owner"]["handle"] == owner_handle]
        if not mine:
            raise VaultError(ENDED.format(owner=owner_handle))
        mandate = mine[-1]  # the newest
        # The owner's signed head: a mandate the owner took back stays ended, whatever the
        # server says (the head must be signed by the owner's key, which signed the mandate).
        check_counterpart(
            vault.api.api("GET", f"/mandates/{mandate['id']}/head").json(),
            kind="mandates",
            item_id=mandate["id"],
            owner=owner_handle,
            owner_signing_key=b64d(mandate["owner"]["public_signing_key"]),
            pins=vault.head_pins,
            server=vault.api.server,
        )
        return cls(vault, mandate)

    @property
    def id(self) -> str:
        return str(self.mandate["id"])

    @property
    def once(self) -> bool:
        return self.mandate["kind"] == "once"

    def allows(self, action: str) -> bool:
        return action in self.mandate["actions"]

    def _need(self, action: str) -> None:
        if not self.allows(action):
            words = ACTION_WORDS[action]
            raise VaultError(
                f"This mandate does not let you {words}. Ask {self.owner['handle']} for a new one."
            )

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            return self.api.api(method, path, **kwargs)
        except ApiError as exc:
            if (
                exc.status == 404
                and path.startswith(f"/mandates/{self.id}")
                and "/versions/" not in path
            ):
                raise VaultError(ENDED.format(owner=self.owner["handle"])) from exc
            raise

    # --- view ---------------------------------------------------------------------------------

    def _check_item(self, item: dict[str, Any]) -> tuple[dict[str, Any], Any, dict[str, Any]]:
        owner_key = b64d(self.owner["public_signing_key"])
        wrapped = b64d(item["wrapped_key"])
        manifest_bytes = b64d(item["manifest"])
        encrypted_meta = b64d(item["encrypted_meta"])
        try:
            if item.get("statement"):
                statement_bytes = b64d(item["statement"])
                verify(owner_key, statement_bytes, b64d(item["statement_signature"]))
                statement = json.loads(statement_bytes)
                if (
                    statement.get("kind") != statements.MANDATE_WRAP.kind
                    or statement.get("mandate_id") != self.id
                    or statement.get("document_id") != item["document_id"]
                    or statement.get("version") != item["version"]
                    or statement.get("wrap_sha256") != hashlib.sha256(wrapped).hexdigest()
                    or statement.get("manifest_sha256")
                    != hashlib.sha256(manifest_bytes).hexdigest()
                ):
                    raise BadSignature("statement does not match")
                manifest = json.loads(manifest_bytes)
            else:
                # A document this proxy added itself: its own signed manifest lists its wrap.
                verify(self.keys.public_signing_key, manifest_bytes, b64d(item["signature"]))
                manifest = json.loads(manifest_bytes)
                mine = {"key_id": self.keys.key_id, "sha256": hashlib.sha256(wrapped).hexdigest()}
                if manifest.get("mandate_id") != self.id or mine not in manifest.get("wraps", []):
                    raise BadSignature("not a wrap of ours")
            if (
                manifest.get("document_id") != item["document_id"]
                or manifest.get("version") != item["version"]
                or manifest.get("meta_sha256") != hashlib.sha256(encrypted_meta).hexdigest()
            ):
                raise BadSignature("manifest does not match")
            info = document_key_info(item["document_id"], item["version"], self.keys.key_id)
            identity = age.parse_identity(
                open_sealed(self.keys.encryption_key, wrapped, info).decode()
            )
            meta = json.loads(age.decrypt_bytes(encrypted_meta, [identity]))
        except (BadSignature, UnwrapError, age.IntegrityError, ValueError) as exc:
            raise IntegrityFailure(
                "A document was changed on the server. Do not trust it."
            ) from exc
        return manifest, identity, meta

    def _load(self) -> None:
        self._need("view")
        versions: dict[str, list[VersionInfo]] = {}
        for item in self._call("GET", f"/mandates/{self.id}/documents").json():
            manifest, identity, meta = self._check_item(item)
            versions.setdefault(item["document_id"], []).append(
                VersionInfo(
                    item["version"], int(manifest["blob_size"]), "", meta, identity, manifest
                )
            )
        self._listing = {d: sorted(v, key=lambda x: x.version) for d, v in versions.items()}
        me = self.account["handle"]
        self._documents = [
            DocumentInfo(
                id=d,
                version=v[-1].version,
                versions=len(v),
                size=v[-1].size,
                created_at=str(v[-1].manifest.get("signed_at", "")),
                updated_at=str(v[-1].manifest.get("signed_at", "")),
                meta=v[-1].meta,
                identity=v[-1].identity,
                added_by=me if v[-1].manifest.get("mandate_id") == self.id else None,
            )
            for d, v in self._listing.items()
        ]

    def list_documents(self) -> list[DocumentInfo]:
        self._load()
        assert self._documents is not None
        return list(self._documents)

    def versions(self, document_id: str) -> list[VersionInfo]:
        if self._listing is None:
            self._load()
        assert self._listing is not None
        if document_id not in self._listing:
            raise VaultError(
                f"Document {document_id} is not in this mandate. See 'wallet --for "
                f"{self.owner['handle']} ls'."
            )
        return self._listing[document_id]

    def download(self, document_id: str, target: Path, version: int | None = None) -> VersionInfo:
        versions = self.versions(document_id)
        chosen = (
            versions[-1]
            if version is None
            else next((v for v in versions if v.version == version), None)
        )
        if chosen is None:
            raise VaultError(f"This document has no version {version} in this mandate.")
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        path = f"/mandates/{self.id}/documents/{document_id}/versions/{chosen.version}/blob"
        with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".download-") as ciphertext:
            try:
                digest = download_to(self.api, path, ciphertext, chosen.size)
            except WrongSize as exc:
                raise IntegrityFailure(
                    "This file is damaged or was changed. Nothing was saved."
                ) from exc
            except ApiError as exc:
                if exc.status == 404:
                    raise VaultError(ENDED.format(owner=self.owner["handle"])) from exc
                raise
            ciphertext.flush()
            self.acted = True
            if digest != chosen.manifest.get("blob_sha256"):
                raise IntegrityFailure("This file is damaged or was changed. Nothing was saved.")
            try:
                age.decrypt_file_to_path(Path(ciphertext.name), target, [chosen.identity])
            except age.IntegrityError as exc:
                raise IntegrityFailure(
                    "This file is damaged or was changed. Nothing was saved."
                ) from exc
        return chosen

    # --- upload -------------------------------------------------------------------------------

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
        progress: Any = None,
        keep_photo_details: bool = False,
    ) -> tuple[str, int]:
        self._need("upload")
        if replace:
            raise VaultError(
                "Under a mandate you can add new documents, not replace the person's documents."
            )
        if doc_type not in DOCUMENT_TYPES:
            raise VaultError(f"'{doc_type}' is not a document type. See 'wallet types'.")
        scope = self.descriptor["scope"]
        if category_of(doc_type) not in scope["categories"]:
            covered = ", ".join(scope["categories"]) or "only chosen documents"
            raise VaultError(
                f"A '{doc_type}' is not in this mandate (it covers: {covered}). "
                "Ask the person for a new mandate."
            )
        path = Path(path)
        owner = self.owner
        # The owner's key as pinned when the mandate was checked (signed by the owner).
        owner_key_id = key_id(b64d(owner["public_encryption_key"]))
        if owner_key_id != self.descriptor["owner_key_id"]:
            raise KeyChanged(
                f"WARNING: the server shows a NEW key for {owner['handle']}. Nothing was sent."
            )
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
        owner_wrap = seal(
            b64d(owner["public_encryption_key"]),
            str(identity).encode(),
            document_key_info(document_id, version, owner_key_id),
        )
        proxy_wrap = seal(
            self.keys.public_encryption_key,
            str(identity).encode(),
            document_key_info(document_id, version, self.keys.key_id),
        )
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
                    {"key_id": owner_key_id, "sha256": hashlib.sha256(owner_wrap).hexdigest()},
                    {"key_id": self.keys.key_id, "sha256": hashlib.sha256(proxy_wrap).hexdigest()},
                ],
                mandate_id=self.id,
                signer_key_id=self.keys.key_id,
                signed_at=datetime.now(UTC).isoformat(timespec="seconds"),
            ),
        )
        result = self._call(
            "POST",
            f"/mandates/{self.id}/documents",
            json={
                "document_id": document_id,
                "upload_id": upload_id,
                "encrypted_meta": b64e(encrypted_meta),
                "owner_wrapped_key": b64e(owner_wrap),
                "proxy_wrapped_key": b64e(proxy_wrap),
                "manifest": b64e(manifest),
                "signature": b64e(signature),
            },
        ).json()
        self.acted = True
        return result["id"], result["version"]

    # --- links ----------------------------------------------------------------------------------

    def profile(self) -> dict[str, str]:
        raise VaultError("Under a mandate you cannot share profile fields. Only the owner can.")

    def link_terms(self) -> LinkTerms:
        """One-shot links over the mandate's documents only, signed by this proxy's key and
        carrying the owner-signed authorisation that lets it share."""
        self._need("share")
        self.acted = True
        return LinkTerms(
            owner={
                "handle": self.owner["handle"],
                "signing_key": self.owner["public_signing_key"],
            },
            proxy={
                "handle": self.account["handle"],
                "signing_key": b64e(self.keys.public_signing_key),
                "authorisation": self.mandate["authorisation"],
                "authorisation_signature": self.mandate["authorisation_signature"],
            },
            path=f"/mandates/{self.id}/links",
            expires_by=self.expires_at,
        )

    @property
    def expires_at(self) -> datetime:
        return datetime.fromisoformat(self.descriptor["expires_at"])

    def complete(self) -> None:
        """Ends a one-shot mandate: its procedure is done. After an action the server has
        ended it already (it does, whatever the client), so there is nothing left to call."""
        if self.once and not self.acted:
            self._call("POST", f"/mandates/{self.id}/complete")


def check_authorisation(
    owner_signing_key: bytes, proxy: dict[str, Any], action: str
) -> dict[str, Any]:
    """Raises IntegrityFailure unless the owner's key authorised this proxy key for `action`."""
    try:
        message = b64d(proxy["authorisation"])
        verify(owner_signing_key, message, b64d(proxy["authorisation_signature"]))
        terms = json.loads(message)
    except (BadSignature, ValueError, KeyError) as exc:
        raise IntegrityFailure("This link's mandate is not signed by the person.") from exc
    if (
        terms.get("kind") != statements.MANDATE_AUTHORISATION.kind
        or terms.get("proxy_signing_key") != proxy.get("signing_key")
        or action not in terms.get("actions", [])
    ):
        raise IntegrityFailure("This link's mandate does not allow sharing.")
    return terms


# --- the owner's banner ----------------------------------------------------------------------


def actions_since_last_login(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Proxy actions after the owner's previous login (the last 'session_started' is the
    login that just happened)."""
    starts = [i for i, e in enumerate(entries) if e["event"] == "session_started"]
    since = starts[-2] if len(starts) >= 2 else -1
    return [
        e
        for e in entries[since + 1 :]
        if e.get("actor_kind") == "account" and "mandate" in json.loads(e.get("details") or "{}")
    ]
