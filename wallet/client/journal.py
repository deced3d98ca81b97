"""The owner's journal on the client: fetch, verify the hash chain, and say it in plain words."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from wallet.client.mandates import mandates_given
from wallet.client.vault import Vault
from wallet.protocol.journal_chain import ChainBroken, verify_chain

SENTENCES = {
    "account_created": "You created your wallet.",
    "session_started": "Someone logged in to your wallet{how}.",
    "session_ended": "A session logged out.",
    "session_revoked": "A session was ended from another session.",
    "login_failed": "A login to your wallet failed (wrong passphrase).",
    "recovery_used": "Your recovery key was used.",
    "recovery_failed": "A try with a wrong recovery key failed.",
    "passphrase_changed": "Your passphrase was changed. Other sessions were logged out.",
    "recovery_key_replaced": "You made a new recovery key. The old sheet no longer works.",
    "safety_reset": "You made an emergency reset: every other session, link, access and mandate was ended.",
    "document_added": "You added {document}.",
    "version_added": "You added a new version of {document}.",
    "document_deleted": "You deleted {document}.",
    "profile_changed": "You changed a field of your profile.",
    "profile_removed": "You removed a field of your profile.",
    "link_created": "You created the link {link}.",
    "link_revoked": "You stopped the link {link}.",
    "link_redeemed": "Someone opened your link {link}.",
    "link_download": "Someone downloaded {document} through your link {link}.",
    "link_pin_failed": "Someone typed a wrong PIN for your link {link}.",
    "link_locked": "Your link {link} is locked after too many wrong PINs.",
    "grant_created": "You gave {person} access ({grant}).",
    "grant_extended": "New documents were added to the access of {grant}.",
    "grant_revoked": "You ended the access {grant}.",
    "grant_download": "{person} downloaded {document} ({grant}).",
    "grant_listed": "{person} looked at the list of what you share ({grant}).",
    "grant_profile_read": "{person} read your profile fields ({grant}).",
    # mandates
    "mandate_created": "You gave {proxy} a mandate to act for you ({mandate}).",
    "mandate_extended": "New documents were added to the mandate of {proxy} ({mandate}).",
    "mandate_revoked": "You ended the mandate of {proxy} ({mandate}).",
    "mandate_listed": "{proxy} looked at the list of your documents on your behalf ({mandate}).",
    "mandate_download": "{proxy} downloaded {document} on your behalf ({mandate}).",
    "mandate_document_added": "{proxy} added {document} on your behalf ({mandate}).",
    "mandate_link_created": "{proxy} created the one-time link {link} on your behalf ({mandate}).",
    "mandate_completed": "{proxy} finished the one-shot mandate, so it has ended ({mandate}).",
    "mandate_renounced": "{proxy} gave up the mandate, so it has ended ({mandate}).",
    # organisations
    "org_key_rotated": (
        "An organisation you share with changed its team key (a change of staff). Only its "
        "current members can read what you share."
    ),
    # oidc
    "oidc_linked": "Your organisation's sign-in was linked to your wallet.",
    "oidc_unlinked": "Your organisation's sign-in was unlinked from your wallet.",
    "oidc_login_failed": "A sign-in through your organisation to your wallet was refused.",
    # requests and notes
    "request_received": "{by} asked you for documents (request {request}).",
    "request_answered": "You answered the request {request}.",
    "request_closed": "{by} closed the request {request}; its access ended.",
    "note_added": "{by} wrote a contact note in your file (note {note}).",
    "notes_read": "{by} read the contact notes they wrote about you.",
    # the owner-signed vault head
    "state_refused": (
        "Your device refused a state of your wallet that you did not leave it in. Nothing was "
        "shared."
    ),
}
ALERTS = {
    "login_failed",
    "link_pin_failed",
    "link_locked",
    "recovery_failed",
    "oidc_login_failed",
    "state_refused",
}


def fetch_entries(vault: Vault) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    after = 0
    while True:
        page = vault.api.api("GET", "/journal", params={"after": after}).json()
        entries.extend(page["entries"])
        if page["next_after"] is None:
            return entries
        after = page["next_after"]


def verify(entries: list[dict[str, Any]]) -> tuple[bool, str]:
    try:
        count = verify_chain(entries)
    except ChainBroken as exc:
        return False, f"The journal was changed at entry {exc.seq}: {exc.reason}."
    return True, f"The journal is intact: {count} entries checked."


def _how(details: dict[str, Any]) -> str:
    if details.get("kind") == "recovery":
        return " with your recovery key"
    if details.get("via") == "oidc":
        return " through your organisation's sign-in"
    return ""


def render(vault: Vault, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Adds a plain sentence to each entry, with titles and names only the owner's client knows."""
    titles = {d.id: d.title for d in vault.list_documents()}
    grantees = {g["id"]: g["grantee"]["handle"] for g in vault.api.api("GET", "/grants").json()}
    proxies = _proxies(vault)
    people = _people(vault)
    rendered = []
    for entry in entries:
        details = json.loads(entry["details"])
        subject = entry.get("subject_id") or ""
        is_document = entry.get("subject_kind") == "document" and subject in titles
        grant_id = details.get("grant") or (subject if entry.get("subject_kind") == "grant" else "")
        link = (entry.get("actor_id") if entry.get("actor_kind") == "link" else subject) or ""
        sentence = SENTENCES.get(entry["event"], entry["event"]).format(
            document=f"'{titles[subject]}'" if is_document else "a document",
            link=link[:8],
            grant=f"grant {grant_id[:8]}",
            proxy=proxies.get(_mandate_of(entry, details), "someone"),
            mandate=f"mandate {_mandate_of(entry, details)[:8]}",
            person=grantees.get(grant_id, "someone"),
            how=_how(details),
            by=_by(entry, people),
            request=subject[:8],
            note=subject[:8],
        )
        when = datetime.fromisoformat(entry["at"]).strftime("%a %d %b %Y %H:%M")
        rendered.append(
            {**entry, "when": when, "sentence": sentence, "alert": entry["event"] in ALERTS}
        )
    return rendered


def _people(vault: Vault) -> dict[str, str]:
    """Account ids to handles, for entries other people caused (requests, contact notes)."""
    people: dict[str, str] = {}
    for row in vault.api.api("GET", "/requests").json():
        people[row["requester"]["id"]] = row["requester"]["handle"]
    for row in vault.api.api("GET", "/notes", params={"role": "owner"}).json():
        if row["author"]["id"]:
            people[row["author"]["id"]] = row["author"]["handle"]
    return people


def _by(entry: dict[str, Any], people: dict[str, str]) -> str:
    if entry.get("actor_kind") == "owner":
        return "You"
    return people.get(entry.get("actor_id") or "", "Someone")


def _proxies(vault: Vault) -> dict[str, str]:
    """Mandate ids to the proxy's handle, as the owner signed it (not as the server says)."""
    return {m["id"]: m["descriptor"]["proxy"] for m in mandates_given(vault)}


def _mandate_of(entry: dict[str, Any], details: dict[str, Any]) -> str:
    if entry.get("subject_kind") == "mandate":
        return str(entry.get("subject_id") or "")
    return str(details.get("mandate") or "")


def _cell(value: Any) -> Any:
    # A spreadsheet runs a cell that starts with = + - @ as a formula: never let it.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def check_head(entries: list[dict[str, Any]], head_path: Path) -> tuple[bool, str]:
    """Compares with the last entry this device saw, then remembers the new last entry.

    The hash chain alone cannot catch a server that rewrites every entry from some point on,
    or cuts entries off the end; a device that remembers where the chain was can.
    """
    if head_path.exists():
        seen = json.loads(head_path.read_text())
        if len(entries) < seen["seq"] or entries[seen["seq"] - 1]["hash"] != seen["hash"]:
            return False, (
                f"The journal was rewritten: entry {seen['seq']} is not what this device saw "
                "before. Keep your exported copies and report this."
            )
    if entries:
        head_path.parent.mkdir(parents=True, exist_ok=True)
        head_path.write_text(json.dumps({"seq": entries[-1]["seq"], "hash": entries[-1]["hash"]}))
    return True, ""


def to_csv(rendered: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    fields = [
        "seq",
        "at",
        "event",
        "sentence",
        "actor_kind",
        "actor_id",
        "subject_kind",
        "subject_id",
        "hash",
    ]
    writer = csv.DictWriter(buffer, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    writer.writerows({k: _cell(v) for k, v in row.items()} for row in rendered)
    return buffer.getvalue()
