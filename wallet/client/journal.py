"""The owner's journal on the client: fetch, verify the hash chain, and say it in plain words."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from wallet.client.errors import IntegrityFailure
from wallet.client.grants import grants_given
from wallet.client.mandates import mandates_given
from wallet.client.vault import Vault
from wallet.protocol.catalogue import DOCUMENT_TYPES
from wallet.protocol.journal_chain import ChainBroken, verify_chain

# One plain sentence per event kind (wallet/journal/events.py), the English of the web
# catalogue's journal.event.* (web/static/i18n/en.json): tests/test_journal_sentences.py
# checks both cover every kind. Never an id: names and titles only this client can read, or
# "a document", "a link".
SENTENCES = {
    "account_created": "You created your wallet.",
    "session_started": "You logged in{how}{device}.",
    "session_ended": "You logged out{device}.",
    "session_revoked": "You ended a session{device} from another session.",
    "login_failed": "Someone tried to log in to your wallet with a wrong passphrase.",
    "recovery_used": "Your recovery key was used.",
    "recovery_failed": "Someone tried a wrong recovery key for your wallet.",
    "passphrase_changed": "You chose a new passphrase{how}. Your other sessions were logged out.",
    "recovery_key_replaced": "You made a new recovery key. The old sheet no longer works.",
    "safety_reset": "You made an emergency reset: every other session, link, access and mandate was ended.",
    "document_added": "You added {document}.",
    "version_added": "You added a new version: {document}.",
    "document_deleted": "You deleted {document}.",
    "profile_changed": "You changed details about you.",
    "profile_removed": "You removed details about you.",
    "link_created": "You created {link}.",
    "link_revoked": "You stopped {link}.",
    "link_redeemed": "{who} opened {link}.",
    "link_download": "{who} viewed {document} through {link}.",
    "link_pin_failed": "Someone typed a wrong PIN for {link}.",
    "link_locked": "After too many wrong PINs, the service locked {link}.",
    "grant_created": "You gave {person_mid} access to your documents{for_}.",
    "grant_extended": "{person} can now also see new documents{for_}.",
    "grant_revoked": "You stopped sharing with {person_mid}{for_}.",
    "grant_download": "{person} viewed {document}{for_}.",
    "grant_listed": "{person} looked at the list of what you share with them{for_}.",
    "grant_profile_read": "{person} read details about you{for_}.",
    # mandates
    "mandate_created": "You allowed {proxy_mid} to act on your behalf{for_}.",
    "mandate_extended": "{proxy} can now also use new documents for you{for_}.",
    "mandate_revoked": "You took back the permission you gave {proxy_mid}{for_}.",
    "mandate_listed": "{proxy} looked at the list of your documents, acting for you.",
    "mandate_download": "{proxy} viewed {document}, acting for you.",
    "mandate_document_added": "{proxy} added {document}, acting for you.",
    "mandate_link_created": "{proxy} made a one-time link to share your documents, acting for you.",
    "mandate_completed": "The one-time permission you gave {proxy_mid} has ended: the task is done.",
    "mandate_renounced": "{proxy} gave up the permission to act for you. It has ended.",
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
    "request_received": "{by} asked you for documents{for_}.",
    "request_answered": "You answered the request from {requester}{for_}.",
    "request_closed": "{by} closed the request{for_}. The access you gave for it has ended.",
    "note_added": "{by} wrote a contact note in your file.",
    "notes_read": "{by} read the contact notes they wrote about you.",
    # emergency access
    "emergency_added": "You named a trusted person for emergency access.",
    "emergency_requested": "Your trusted person asked for emergency access to your wallet. You can refuse until the waiting period ends.",
    "emergency_refused": "You refused a request for emergency access.",
    "emergency_released": "The waiting period ended without a refusal: your trusted person received emergency access.",
    "emergency_download": "Your trusted person viewed {document} with emergency access.",
    "emergency_taken_over": "Your trusted person chose a new passphrase for your wallet. Every session was logged out.",
    "emergency_ended": "You ended an emergency access arrangement.",
    # the owner-signed vault head
    "state_refused": (
        "Your device refused a state of your wallet that you did not leave it in. Nothing was "
        "shared."
    ),
}
PROFILE_UPDATED = "You updated details about you."
LANGUAGE_SAVED = "Your choice of language was saved."
DEVICES = {
    "this": " on this device",
    "kiosk": " on a public computer (kiosk)",
    "phone": " on a phone",
    "tablet": " on a tablet",
    "computer": " on a computer",
    "app": " with the wallet program",
}
# The same sets as wallet/journal/events.py (the client does not import the server; the
# tests compare them): failed or suspicious events, highlighted; routine reads, folded.
ALERTS = {
    "login_failed",
    "link_pin_failed",
    "link_locked",
    "recovery_failed",
    "oidc_login_failed",
    "state_refused",
}
ROUTINE = {"grant_listed", "mandate_listed"}
# The sealed profile field that remembers the web page's language.
LANGUAGE_FIELD = "language"
# Entries of one group this close in time are one thing that happened (a profile saved, a
# download resumed, a list looked at again).
FOLD_WITHIN = timedelta(minutes=15)


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
    if details.get("kind") == "recovery" or details.get("with_recovery_key"):
        return " with your recovery key"
    if details.get("via") == "oidc":
        return " through your organisation's sign-in"
    return ""


def _type_label(doc_type: Any) -> str:
    """A paper without a title is named by its type's label, never by its id."""
    return DOCUMENT_TYPES[doc_type][1] if doc_type in DOCUMENT_TYPES else ""


def _quoted(text: str) -> str:
    return f"\u201c{text}\u201d"


@dataclass
class Names:
    """What only the owner's client can read: titles, purposes, the people behind ids."""

    titles: dict[str, str]
    grants: dict[str, tuple[str, str]]  # grant id: (who, purpose)
    proxies: dict[str, tuple[str, str]]  # mandate id: (proxy, purpose), as the owner signed it
    people: dict[str, str]
    requesters: dict[str, str]  # request id: the requester's handle
    current_session: str | None
    language_slot: str


def names_of(vault: Vault) -> Names:
    grants: dict[str, tuple[str, str]] = {}
    proxies: dict[str, tuple[str, str]] = {}
    try:
        for g in grants_given(vault):
            who = (g.get("organisation") or {}).get("display_name") or g["grantee"]["handle"]
            grants[g["id"]] = (str(who), str(g["descriptor"].get("purpose") or ""))
        for m in mandates_given(vault):
            proxies[m["id"]] = (m["descriptor"]["proxy"], str(m["descriptor"].get("purpose") or ""))
    except IntegrityFailure:
        pass  # names only: a changed grant or mandate is refused where it is used, not here
    people: dict[str, str] = {}
    requesters: dict[str, str] = {}
    for row in vault.api.api("GET", "/requests").json():
        people[row["requester"]["id"]] = row["requester"]["handle"]
        requesters[row["id"]] = row["requester"]["handle"]
    for row in vault.api.api("GET", "/notes", params={"role": "owner"}).json():
        if row["author"]["id"]:
            people[row["author"]["id"]] = row["author"]["handle"]
    sessions = vault.api.api("GET", "/auth/sessions").json()
    return Names(
        titles={d.id: d.title or _type_label(d.meta.get("type")) for d in vault.list_documents()},
        grants=grants,
        proxies=proxies,
        people=people,
        requesters=requesters,
        current_session=next((s["id"] for s in sessions if s.get("current")), None),
        language_slot=vault.keys.profile_slot(LANGUAGE_FIELD),
    )


def render(vault: Vault, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Adds a plain sentence to each entry, with titles and names only the owner's client
    knows, never an id; and `routine` and `group` for `fold`."""
    names = names_of(vault)
    opener_of_link: dict[str, str | None] = {}
    device_of_session: dict[str, str] = {}
    rendered = []
    for entry in entries:
        details = json.loads(entry["details"])
        event = entry["event"]
        subject = entry.get("subject_id") or ""
        kind = entry.get("subject_kind")
        link = (entry.get("actor_id") if entry.get("actor_kind") == "link" else subject) or ""
        if event == "link_redeemed":
            opener_of_link[link] = names.people.get(details.get("account") or "")
        device = str(details.get("device")) if details.get("device") in DEVICES else ""
        if event == "session_started" and kind == "session":
            device_of_session[subject] = device
            if subject == names.current_session:
                device = "this"
        elif event in ("session_ended", "session_revoked"):
            device = device_of_session.get(subject, "")
        grant_id = details.get("grant") or (subject if kind == "grant" else "")
        grant_who, grant_purpose = names.grants.get(grant_id, ("", ""))
        proxy, proxy_purpose = names.proxies.get(_mandate_of(entry, details), ("", ""))
        purpose = grant_purpose or proxy_purpose
        title = names.titles.get(subject) if kind == "document" else None
        group = ""
        template = SENTENCES.get(event, "Something happened ({event}).")
        if event in ("profile_changed", "profile_removed"):
            # One save of a profile writes one entry per field: the rows fold into one.
            group = "language" if subject == names.language_slot else "profile"
            if group == "language":
                template = LANGUAGE_SAVED
        sentence = template.format(
            document=_quoted(title) if title else "a document",
            link="a link",
            for_=f" for {_quoted(purpose)}" if purpose else "",
            person=grant_who or "Someone",
            person_mid=grant_who or "someone",
            proxy=proxy or "Your trusted person",
            proxy_mid=proxy or "your trusted person",
            who=opener_of_link.get(link) or "Someone",
            by=_by(entry, names.people),
            requester=names.requesters.get(subject, "someone"),
            how=_how(details),
            device=DEVICES.get(device, ""),
            event=event,
        )
        when = datetime.fromisoformat(entry["at"]).strftime("%a %d %b %Y %H:%M")
        rendered.append(
            {
                **entry,
                "when": when,
                "sentence": sentence,
                "alert": event in ALERTS,
                "routine": event in ROUTINE,
                "group": group or f"{entry.get('actor_kind')}|{entry.get('actor_id')}|{sentence}",
            }
        )
    return rendered


def fold(rendered: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What belongs together as one row (`count` entries, the newest time): a profile saved
    at once, a download resumed, the same list looked at again."""
    rows: list[dict[str, Any]] = []
    for entry in rendered:
        last = rows[-1] if rows else None
        if (
            last is not None
            and last["group"] == entry["group"]
            and datetime.fromisoformat(entry["at"]) - datetime.fromisoformat(last["at"])
            <= FOLD_WITHIN
        ):
            if entry["group"] == "profile" and entry["event"] != last["event"]:
                last["sentence"] = PROFILE_UPDATED
            last.update(count=last["count"] + 1, at=entry["at"], when=entry["when"])
            last["seq"] = entry["seq"]
            continue
        rows.append({**entry, "count": 1})
    return rows


def _by(entry: dict[str, Any], people: dict[str, str]) -> str:
    if entry.get("actor_kind") == "owner":
        return "You"
    return people.get(entry.get("actor_id") or "", "Someone")


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
