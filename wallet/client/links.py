"""Share links on the client: the owner creates them; anyone with the URL opens them."""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from wallet.client.api import ApiClient
from wallet.client.contacts import safety_code
from wallet.client.mandates import check_authorisation
from wallet.client.transfer import WrongSize, download_to
from wallet.client.vault import (
    DocumentInfo,
    IntegrityFailure,
    LinkTerms,
    VaultError,
    VersionInfo,
    check_scope,
    file_slug,
)
from wallet.client.vaulthead import HeadPins, check_counterpart
from wallet.crypto import age
from wallet.crypto import links as linkcrypto
from wallet.crypto.encoding import b64d, b64e, canonical_json
from wallet.crypto.keys import AccountKeys
from wallet.crypto.signing import BadSignature, sign, verify
from wallet.crypto.wrap import key_id
from wallet.protocol import statements

DEFAULT_DAYS = 7
MAX_DAYS = 90
_DURATION = re.compile(r"^(\d+)([hdw])$")


def parse_expiry(text: str | None, now: datetime | None = None) -> datetime:
    """'7d', '12h', '2w' or a date 'YYYY-MM-DD' (end of that day, UTC)."""
    now = now or datetime.now(UTC)
    if not text:
        return now + timedelta(days=DEFAULT_DAYS)
    match = _DURATION.match(text.strip())
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        delta = {
            "h": timedelta(hours=amount),
            "d": timedelta(days=amount),
            "w": timedelta(weeks=amount),
        }[unit]
        moment = now + delta
    else:
        try:
            day = datetime.fromisoformat(text.strip())
        except ValueError as exc:
            raise VaultError("Give the expiry as 7d, 12h, 2w or a date like 2027-01-31.") from exc
        moment = (day if day.tzinfo else day.replace(tzinfo=UTC)).replace(hour=23, minute=59)
    if moment <= now:
        raise VaultError("The expiry is in the past. Choose a later date.")
    if moment > now + timedelta(days=MAX_DAYS):
        raise VaultError(f"A link can last {MAX_DAYS} days at most. Choose an earlier date.")
    return moment


class LinkMaker(Protocol):
    """What a link needs from whoever makes it: the owner's Vault, or a ProxyVault acting
    for the owner under a mandate (`wallet --for OWNER share create`)."""

    api: ApiClient
    keys: AccountKeys

    def list_documents(self) -> list[DocumentInfo]: ...

    def versions(self, document_id: str) -> list[VersionInfo]: ...

    def profile(self) -> dict[str, str]: ...

    def link_terms(self) -> LinkTerms: ...


@dataclass
class CreatedLink:
    id: str
    url: str
    expires_at: datetime
    documents: int


def create_link(
    vault: LinkMaker,
    document_ids: list[str],
    *,
    types: list[str] | None = None,
    fields: list[str] | None = None,
    uses: int = 1,
    expires: str | None = None,
    pin: str | None = None,
    purpose: str = "",
    public_url: str | None = None,
) -> CreatedLink:
    check_scope(types, fields)
    terms = vault.link_terms()
    under_mandate = terms.proxy is not None
    if under_mandate and uses != 1:
        raise VaultError("Under a mandate, a link can be opened once only. Leave out --uses.")
    if under_mandate and fields:
        raise VaultError("Under a mandate you cannot share profile fields. Only the owner can.")
    if pin is not None and not re.fullmatch(r"\d{4,8}", pin):
        raise VaultError("A PIN has 4 to 8 digits.")
    if not 1 <= uses <= 100:
        raise VaultError("A link can be used 1 to 100 times.")
    expires_at = parse_expiry(expires)
    if terms.expires_by is not None:
        expires_at = min(expires_at, terms.expires_by)  # never outlives the mandate

    chosen = list(dict.fromkeys(document_ids))
    if types:
        chosen += [d.id for d in vault.list_documents() if d.type in types and d.id not in chosen]
    items = []
    for document_id in chosen:
        version = vault.versions(document_id)[-1]
        items.append(
            {
                "document_id": document_id,
                "version": version.version,
                "identity": str(version.identity),
                "blob_sha256": version.manifest["blob_sha256"],
                "blob_size": version.size,
                "meta": version.meta,
            }
        )
    profile = {}
    if fields:
        values = vault.profile()
        profile = {name: values[name] for name in fields if name in values}
    if not items and not profile:
        raise VaultError("Nothing to share. Name documents, types or profile fields.")

    link_id = uuid.uuid4().hex
    secret = linkcrypto.new_secret()
    server_share = linkcrypto.new_server_share()
    preview = {"purpose": purpose, "owner": terms.owner["handle"], "documents": len(items)}
    if terms.proxy is not None:
        preview["proxy"] = terms.proxy["handle"]
    package = statements.SHARE_LINK_PACKAGE.build(
        link_id=link_id,
        owner=terms.owner,
        purpose=purpose,
        expires_at=expires_at.isoformat(),
        items=items,
        profile=profile,
        **({"proxy": terms.proxy} if terms.proxy is not None else {}),
    )
    sealed_package = linkcrypto.seal(
        linkcrypto.link_key(secret, server_share, pin, link_id), canonical_json(package), link_id
    )
    sealed_preview = linkcrypto.seal(
        linkcrypto.preview_key(secret, link_id), canonical_json(preview), link_id
    )
    proof_key = bytes(linkcrypto.proof_key(secret, link_id).verify_key)
    pin_check = linkcrypto.pin_check(secret, link_id, pin) if pin is not None else None
    descriptor = statements.SHARE_LINK.build(
        link_id=link_id,
        owner_key_id=vault.keys.key_id,
        proof_key_sha256=hashlib.sha256(proof_key).hexdigest(),
        pin=pin is not None,
        uses=uses,
        package_sha256=hashlib.sha256(sealed_package).hexdigest(),
        preview_sha256=hashlib.sha256(sealed_preview).hexdigest(),
        items=sorted([i["document_id"], i["version"]] for i in items),
    )
    descriptor_bytes, signature = sign(vault.keys.signing_key, descriptor)
    vault.api.api(
        "POST",
        terms.path,
        json={
            "link_id": link_id,
            "proof_key": b64e(proof_key),
            "pin_check": b64e(pin_check) if pin_check else None,
            "server_share": b64e(server_share),
            "sealed_package": b64e(sealed_package),
            "sealed_preview": b64e(sealed_preview),
            "descriptor": b64e(descriptor_bytes),
            "signature": b64e(signature),
            "uses": uses,
            "expires_at": expires_at.isoformat(),
            "items": [{"document_id": i["document_id"], "version": i["version"]} for i in items],
        },
    )
    base = (public_url or vault.api.server).rstrip("/")
    return CreatedLink(link_id, f"{base}/s/{link_id}#{b64e(secret)}", expires_at, len(items))


@dataclass
class ParsedLink:
    server: str
    link_id: str
    secret: bytes


def parse_link(url: str) -> ParsedLink:
    parts = urlsplit(url.strip())
    match = re.fullmatch(r"/s/([0-9a-f]{32})/?", parts.path)
    if not parts.scheme or not parts.netloc or not match or not parts.fragment:
        raise VaultError(
            "This is not a full wallet link. Copy all of it, including the part after #."
        )
    try:
        secret = b64d(parts.fragment)
    except ValueError as exc:
        raise VaultError(
            "The end of this link (after #) is damaged. Copy the whole link again."
        ) from exc
    if len(secret) != linkcrypto.SECRET_BYTES:
        raise VaultError("The end of this link (after #) is damaged. Copy the whole link again.")
    return ParsedLink(f"{parts.scheme}://{parts.netloc}", match.group(1), secret)


def _proof(api: ApiClient, link: ParsedLink) -> dict[str, str]:
    challenge = api.api("POST", f"/links/{link.link_id}/challenge").json()
    signer = linkcrypto.proof_key(link.secret, link.link_id)
    message = linkcrypto.challenge_message(link.link_id, b64d(challenge["nonce"]))
    return {
        "challenge_id": challenge["challenge_id"],
        "proof": b64e(signer.sign(message).signature),
    }


SENDER_NOT_VERIFIED = (
    "Sender not verified: this link names someone who did not make it. It was not opened "
    "and is not used up. Do not trust it. If you know the person it names, ask them directly."
)
COMPARE_SAFETY_CODE = (
    "Compare it with the safety code the person sees in their own wallet "
    "('wallet account safety-code'). If the codes are not the same, do not open the link."
)


class SenderNotVerified(IntegrityFailure):
    """The link's signed package or preview names another account than the one the server
    knows made it, or its signature does not verify under that account's key."""

    def __init__(self) -> None:
        super().__init__(SENDER_NOT_VERIFIED)


@dataclass(frozen=True)
class Sender:
    """An account as the server's own records name it (not as the link's maker wrote it)."""

    handle: str
    signing_key: bytes
    encryption_key: bytes

    @property
    def safety_code(self) -> str:
        return safety_code(self.encryption_key, self.signing_key)


@dataclass(frozen=True)
class LinkSenders:
    """Who made the link (the owner, or a proxy) and, for a proxy, the owner it acted for."""

    sender: Sender
    on_behalf_of: Sender | None

    @property
    def owner(self) -> Sender:
        return self.on_behalf_of or self.sender

    @property
    def proxy(self) -> Sender | None:
        return self.sender if self.on_behalf_of else None


def _server_account(value: Any) -> Sender | None:
    if not isinstance(value, dict):
        return None
    try:
        return Sender(
            str(value["handle"]),
            b64d(value["public_signing_key"]),
            b64d(value["public_encryption_key"]),
        )
    except (KeyError, ValueError, TypeError):
        return None


def _server_senders(answer: dict[str, Any]) -> LinkSenders:
    sender = _server_account(answer.get("sender"))
    if sender is None:
        raise SenderNotVerified()
    on_behalf_of = answer.get("on_behalf_of")
    owner = _server_account(on_behalf_of)
    if on_behalf_of is not None and owner is None:
        raise SenderNotVerified()
    return LinkSenders(sender, owner)


def _signed_by_sender(senders: LinkSenders, answer: dict[str, Any], link_id: str) -> dict[str, Any]:
    """The descriptor, checked to be signed by the server-named sender's key for this link."""
    try:
        descriptor = b64d(answer["descriptor"])
        verify(senders.sender.signing_key, descriptor, b64d(answer["signature"]))
        signed = json.loads(descriptor)
    except (BadSignature, KeyError, ValueError, TypeError) as exc:
        raise SenderNotVerified() from exc
    if (
        not isinstance(signed, dict)
        or signed.get("kind") != "share-link"
        or signed.get("link_id") != link_id
        or signed.get("owner_key_id") != key_id(senders.sender.encryption_key)
    ):
        raise SenderNotVerified()
    return signed


def check_preview_sender(
    answer: dict[str, Any], preview: dict[str, Any], link_id: str
) -> LinkSenders:
    """Before anything is used: the preview's handles are the accounts the server knows made
    the link, and their signature over this preview verifies under the sender's key."""
    senders = _server_senders(answer)
    signed = _signed_by_sender(senders, answer, link_id)
    if signed.get("preview_sha256") != hashlib.sha256(b64d(answer["sealed_preview"])).hexdigest():
        raise SenderNotVerified()
    proxy = senders.proxy
    if preview.get("owner") != senders.owner.handle or preview.get("proxy") != (
        proxy.handle if proxy else None
    ):
        raise SenderNotVerified()
    return senders


def _same_party(party: Any, account: Sender) -> bool:
    if not isinstance(party, dict) or party.get("handle") != account.handle:
        return False
    try:
        return b64d(str(party.get("signing_key"))) == account.signing_key
    except ValueError:
        return False


def check_package_sender(
    package: dict[str, Any], redeemed: dict[str, Any], link_id: str
) -> LinkSenders:
    """After the redeem: the package's owner (and proxy) are, handle and key, the accounts the
    server knows made the link, and the sender's key signed this package."""
    senders = _server_senders(redeemed)
    _signed_by_sender(senders, redeemed, link_id)
    proxy = senders.proxy
    if not _same_party(package.get("owner"), senders.owner):
        raise SenderNotVerified()
    if (package.get("proxy") is None) != (proxy is None):
        raise SenderNotVerified()
    if proxy is not None and not _same_party(package.get("proxy"), proxy):
        raise SenderNotVerified()
    return senders


def preview_link(url: str, api: ApiClient | None = None) -> dict[str, Any]:
    """Purpose, owner and state, without using the link. Raises SenderNotVerified unless the
    people it names are the accounts the server knows made it, and they signed it. A link that
    no longer works gives only its `state` and `message`."""
    link = parse_link(url)
    api = api or ApiClient(link.server)
    answer = api.api("POST", f"/links/{link.link_id}/preview", json=_proof(api, link)).json()
    if answer["state"] != "active":
        # A dead link tells only that it no longer works, and why: no purpose, owner or sender.
        return {"state": answer["state"], "message": answer["message"]}
    try:
        preview = json.loads(
            linkcrypto.open_sealed(
                linkcrypto.preview_key(link.secret, link.link_id),
                b64d(answer["sealed_preview"]),
                link.link_id,
            )
        )
    except linkcrypto.LinkKeyError as exc:
        raise IntegrityFailure("This link's details were changed on the server.") from exc
    if not isinstance(preview, dict):
        raise SenderNotVerified()
    senders = check_preview_sender(answer, preview, link.link_id)
    return {
        **preview,
        **{k: answer[k] for k in ("state", "message", "pin_required", "expires_at")},
        "senders": senders,
    }


@dataclass
class OpenedLink:
    purpose: str
    owner: str
    files: list[Path]
    profile: dict[str, str]
    # The trusted person who made the link for the owner, under a mandate the owner signed.
    proxy: str | None = None
    # The accounts the server knows made the link, checked against the package.
    senders: LinkSenders | None = None


def open_link(
    url: str,
    target_dir: Path,
    pin: str | None = None,
    api: ApiClient | None = None,
    head_pins: HeadPins | None = None,
) -> OpenedLink:
    """Redeems the link (one use) and writes the shared files, decrypted, into target_dir.
    The sender is checked first (preview_link): a link that names someone who did not make it
    is refused before the redeem, so it is not used up."""
    link = parse_link(url)
    api = api or ApiClient(link.server)
    # A dead link names nobody: the redeem then fails with its state's plain message.
    previewed: LinkSenders | None = preview_link(url, api).get("senders")
    body = {**_proof(api, link)}
    if pin is not None:
        body["pin_check"] = b64e(linkcrypto.pin_check(link.secret, link.link_id, pin))
    redeemed = api.api("POST", f"/links/{link.link_id}/redeem", json=body).json()
    try:
        package = json.loads(
            linkcrypto.open_sealed(
                linkcrypto.link_key(link.secret, b64d(redeemed["server_share"]), pin, link.link_id),
                b64d(redeemed["sealed_package"]),
                link.link_id,
            )
        )
    except linkcrypto.LinkKeyError as exc:
        raise IntegrityFailure("This link cannot be opened: it was changed or damaged.") from exc
    senders = check_package_sender(package, redeemed, link.link_id)
    if senders != previewed:
        raise SenderNotVerified()
    _check_descriptor(package, redeemed)
    # The owner's signed head: a link the owner took back stays closed, whatever the server
    # says (signed by the owner's key the package names, checked against the sender above).
    check_counterpart(
        redeemed["owner_head"],
        kind="links",
        item_id=link.link_id,
        owner=package["owner"]["handle"],
        owner_signing_key=b64d(package["owner"]["signing_key"]),
        pins=head_pins if head_pins is not None else HeadPins(None),
        server=link.server,
    )

    target_dir = Path(target_dir)
    target_dir.mkdir(parents=True, exist_ok=True)
    download = ApiClient(link.server, token=redeemed["download_token"], http=api.http)
    files = []
    used_names: set[str] = set()
    for item in package["items"]:
        name = _unique_name(item["meta"], used_names)
        target = target_dir / name
        with tempfile.NamedTemporaryFile(dir=target_dir, prefix=".download-") as ciphertext:
            try:
                digest = download_to(
                    download,
                    f"/links/files/{item['document_id']}/versions/{item['version']}",
                    ciphertext,
                    item["blob_size"],
                )
            except WrongSize as exc:
                raise IntegrityFailure("A shared file is damaged or was changed.") from exc
            ciphertext.flush()
            if digest != item["blob_sha256"]:
                raise IntegrityFailure("A shared file is damaged or was changed. It was not saved.")
            try:
                age.decrypt_file_to_path(
                    Path(ciphertext.name), target, [age.parse_identity(item["identity"])]
                )
            except age.IntegrityError as exc:
                raise IntegrityFailure(
                    "A shared file is damaged or was changed. It was not saved."
                ) from exc
        files.append(target)
    if package.get("profile"):
        profile_path = target_dir / "profile.json"
        profile_path.write_text(json.dumps(package["profile"], indent=2, ensure_ascii=False))
        files.append(profile_path)
    return OpenedLink(
        package.get("purpose", ""),
        package["owner"]["handle"],
        files,
        package.get("profile", {}),
        package["proxy"]["handle"] if package.get("proxy") else None,
        senders,
    )


def _check_descriptor(package: dict[str, Any], redeemed: dict[str, Any]) -> None:
    """The owner's signature must cover exactly this package."""
    descriptor = b64d(redeemed["descriptor"])
    signer = package["owner"]["signing_key"]
    if package.get("proxy"):
        # Made by a proxy: its key must be one the owner's key authorised to share.
        check_authorisation(b64d(package["owner"]["signing_key"]), package["proxy"], "share")
        signer = package["proxy"]["signing_key"]
    try:
        verify(b64d(signer), descriptor, b64d(redeemed["signature"]))
    except BadSignature as exc:
        raise IntegrityFailure("This link is not signed by the person who shared it.") from exc
    signed = json.loads(descriptor)
    if signed.get("package_sha256") != hashlib.sha256(b64d(redeemed["sealed_package"])).hexdigest():
        raise IntegrityFailure("This link's content does not match what the person signed.")
    if signed.get("link_id") != package["link_id"]:
        raise IntegrityFailure("This link's content does not match what the person signed.")


def _unique_name(meta: dict[str, Any], used: set[str]) -> str:
    original = Path(str(meta.get("file_name") or "document"))
    stem, suffix = file_slug(original.stem), file_slug(original.suffix.lstrip("."), 10)
    name = f"{stem}.{suffix}" if suffix and suffix != "document" else stem
    counter = 2
    while name in used:
        name = f"{stem}-{counter}.{suffix}" if suffix else f"{stem}-{counter}"
        counter += 1
    used.add(name)
    return name
