"""Every kind of entry the owner's journal can hold: the one list both clients must have a
plain sentence for, in every language (tests/test_journal_sentences.py checks it).

`append` refuses a kind that is not listed here, so a new event cannot reach an owner's
journal without its sentences."""

from __future__ import annotations

# kind: who causes it, in a few words (for readers of this file; the sentences are in the
# clients' catalogues).
EVENTS: dict[str, str] = {
    # the account and its sessions
    "account_created": "the owner created the wallet",
    "session_started": "a login (details: kind full|recovery, via oidc, device)",
    "session_ended": "a logout",
    "session_revoked": "the owner ended one session from another",
    "login_failed": "a wrong passphrase for this handle",
    "recovery_used": "older journals: a recovery key was used",
    "recovery_failed": "a wrong recovery key for this handle",
    "passphrase_changed": "a new passphrase (details: with_recovery_key)",
    "recovery_key_replaced": "the owner made a new recovery key; the old sheet stopped working",
    "safety_reset": "the owner made an emergency reset (details: what was ended)",
    # documents and the profile
    "document_added": "the owner added a document",
    "version_added": "the owner added a version",
    "document_deleted": "the owner deleted a document",
    "profile_changed": "the owner set a profile field (subject: its opaque slot)",
    "profile_removed": "the owner removed a profile field",
    # links
    "link_created": "the owner made a link",
    "link_revoked": "the owner stopped a link",
    "link_redeemed": "someone opened a link",
    "link_download": "someone fetched a document through a link",
    "link_pin_failed": "a wrong PIN for a link",
    "link_locked": "a link locked after too many wrong PINs",
    # grants
    "grant_created": "the owner shared with a person or organisation",
    "grant_extended": "new documents reached a grant",
    "grant_revoked": "the owner stopped a grant",
    "grant_download": "a grantee fetched a document",
    "grant_listed": "a grantee listed what is shared (routine)",
    "grant_profile_read": "a grantee read profile fields",
    # mandates
    "mandate_created": "the owner gave a mandate",
    "mandate_extended": "new documents reached a mandate",
    "mandate_revoked": "the owner took a mandate back",
    "mandate_listed": "the proxy listed the mandate's documents (routine)",
    "mandate_download": "the proxy fetched a document",
    "mandate_document_added": "the proxy added a document",
    "mandate_link_created": "the proxy made a one-time link",
    "mandate_completed": "a one-shot mandate ended after its first action (details: after)",
    "mandate_renounced": "the proxy gave the mandate up",
    # organisations and sign-in through them
    "org_key_rotated": "an organisation the owner shares with changed its team key",
    "oidc_linked": "the owner linked an organisation's sign-in",
    "oidc_unlinked": "the owner unlinked it",
    "oidc_login_failed": "a refused sign-in through an organisation",
    # requests and contact notes
    "request_received": "a worker asked for documents",
    "request_answered": "the owner answered a request",
    "request_closed": "the worker closed a request",
    "note_added": "a worker wrote a contact note",
    "notes_read": "a worker read the notes they wrote",
    # emergency access (sharing/emergency)
    "emergency_added": "the owner named a trusted person for emergency access",
    "emergency_requested": "the trusted person asked for emergency access; the wait starts",
    "emergency_refused": "the owner refused the request",
    "emergency_released": "the wait ended without a refusal; the keys were handed over",
    "emergency_download": "the trusted person read a document under emergency access",
    "emergency_taken_over": "the trusted person chose a new passphrase; every session ended",
    "emergency_ended": "the owner ended the arrangement",
    # the owner-signed vault head
    "state_refused": "the owner's device refused the state the server showed",
}

# Failed or suspicious events, highlighted by both clients.
ALERTS = frozenset(
    {
        "login_failed",
        "link_pin_failed",
        "link_locked",
        "recovery_failed",
        "oidc_login_failed",
        "state_refused",
    }
)

# Routine reads that come with every page a grantee or proxy opens: folded by the clients.
ROUTINE = frozenset({"grant_listed", "mandate_listed"})

# Events a proxy causes in the owner's journal (the owner's after-login summary lists them).
PROXY_EVENTS = (
    "mandate_listed",
    "mandate_download",
    "mandate_document_added",
    "mandate_link_created",
    "mandate_completed",
    "mandate_renounced",
)


class UnknownEvent(ValueError):
    """A journal entry of a kind not in EVENTS: a programming error, caught by the tests."""
