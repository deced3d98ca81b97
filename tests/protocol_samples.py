"""One sample of each signed statement kind, the fixed test key, and the shared vectors
(tests/vectors/protocol/) computed from the Python definitions. The Python test
(tests/test_protocol.py) and the Chromium test (tests/browser/test_protocol_vectors.py) both
check against the committed files; WALLET_UPDATE_VECTORS=1 rewrites them on purpose."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nacl.signing

from wallet.crypto.encoding import b64e
from wallet.crypto.signing import sign
from wallet.protocol import labels, statements
from wallet.protocol.js import catalogue_table, statement_table
from wallet.protocol.vault_state import VaultState

VECTORS = Path(__file__).resolve().parent / "vectors" / "protocol"
SEED = bytes(range(32, 64))  # the fixed Ed25519 test key (never a real one)

ID = "0123456789abcdef0123456789abcdef"
KEY_ID = "fedcba9876543210fedcba9876543210"
SHA = "5" * 64
WHEN = "2026-03-01T09:30:00+00:00"

SAMPLES: dict[str, dict[str, Any]] = {
    "document-version": {
        "document_id": ID,
        "version": 2,
        "blob_sha256": SHA,
        "blob_size": 123456,
        "meta_sha256": "6" * 64,
        "wraps": [{"key_id": KEY_ID, "sha256": "7" * 64}],
        "signed_at": WHEN,
        "mandate_id": "m" * 32,
        "signer_key_id": KEY_ID,
    },
    "profile-field": {"slot": "a" * 32, "ciphertext_sha256": SHA, "wrap_sha256": "8" * 64},
    "grant": {
        "grant_id": ID,
        "owner": "amélie",
        "owner_key_id": KEY_ID,
        "grantee": "cpas-liège",
        "grantee_org": "o" * 32,
        "grantee_org_name": "CPAS de Liège",
        "grantee_key_id": "k" * 32,
        "purpose": "Revenu d'intégration — été 2026 😀",
        "scope": {"documents": [ID], "types": ["payslip"], "fields": ["first_name"]},
        "expires_at": None,
        "created_at": WHEN,
    },
    "grant-wrap": {
        "grant_id": ID,
        "document_id": ID,
        "version": 1,
        "wrap_sha256": SHA,
        "manifest_sha256": "9" * 64,
    },
    "grant-wrap-team": {
        "grant_id": ID,
        "document_id": ID,
        "version": 3,
        "key_sha256": SHA,
        "manifest_sha256": "9" * 64,
    },
    "grant-field": {"grant_id": ID, "slot": "b" * 32, "wrap_sha256": SHA},
    "grant-field-team": {"grant_id": ID, "slot": "b" * 32, "key_sha256": SHA},
    "share-link": {
        "link_id": ID,
        "owner_key_id": KEY_ID,
        "proof_key_sha256": SHA,
        "pin": True,
        "uses": 3,
        "package_sha256": "1" * 64,
        "preview_sha256": "2" * 64,
        "items": [[ID, 1], ["f" * 32, 4]],
    },
    "share-link-package": {
        "link_id": ID,
        "owner": {"handle": "amélie", "signing_key": "c2lnbmluZw"},
        "purpose": "Bail",
        "expires_at": WHEN,
        "items": [{"document_id": ID, "version": 1, "meta": {"title": "Bail"}}],
        "profile": {"first_name": "Amélie"},
        "proxy": {"handle": "bruno", "signing_key": "cHJveHk"},
    },
    "mandate-authorisation": {
        "mandate_id": ID,
        "owner_key_id": KEY_ID,
        "proxy_key_id": "k" * 32,
        "proxy_signing_key": "cHJveHk",
        "actions": ["view", "share"],
        "mandate_kind": "personal",
        "expires_at": WHEN,
    },
    "mandate": {
        "mandate_id": ID,
        "owner_key_id": KEY_ID,
        "proxy_key_id": "k" * 32,
        "proxy_signing_key": "cHJveHk",
        "actions": ["view"],
        "mandate_kind": "once",
        "expires_at": WHEN,
        "owner": "amélie",
        "proxy": "bruno",
        "proxy_encryption_key": "ZW5j",
        "purpose": "Dossier logement",
        "scope": {"categories": ["housing"], "documents": []},
        "created_at": WHEN,
        "check_code": "Y2hlY2s",
    },
    "mandate-wrap": {
        "mandate_id": ID,
        "document_id": ID,
        "version": 1,
        "wrap_sha256": SHA,
        "manifest_sha256": "3" * 64,
    },
    "document-request": {
        "request_id": ID,
        "requester": "cpas-liège",
        "requester_key_id": "k" * 32,
        "owner": "amélie",
        "owner_key_id": KEY_ID,
        "purpose": "Prime au loyer",
        "types": ["lease", "payslip"],
        "message": "Merci\nà bientôt",
        "due": "2026-04-01",
        "created_at": WHEN,
    },
    "request-answer": {
        "request_id": ID,
        "owner": "amélie",
        "requester": "cpas-liège",
        "status": "partial",
        "grant_id": ID,
        "given": ["lease"],
        "refused": ["payslip"],
        "reason": "",
        "documents": 1,
        "grant_expires_at": WHEN,
        "answered_at": WHEN,
    },
    "contact-note": {
        "note_id": ID,
        "owner": "amélie",
        "owner_key_id": KEY_ID,
        "author": "cpas-liège",
        "author_key_id": "k" * 32,
        "grant_id": None,
        "contact_date": "2026-03-01",
        "persons": ["Amélie", "Bruno"],
        "content": "Rendez-vous « logement »",
        "actions": "",
        "written_at": WHEN,
    },
    "team-key": {
        "org_id": ID,
        "epoch": 2,
        "key_id": KEY_ID,
        "public_encryption_key_sha256": SHA,
        "public_signing_key_sha256": "4" * 64,
        "previous_key_id": "k" * 32,
        "admin": "chloé",
    },
    "team-key-seal": {
        "org_id": ID,
        "team_key_id": KEY_ID,
        "member": "bruno",
        "member_key_id": "k" * 32,
        "sealed_sha256": SHA,
        "admin": "chloé",
    },
    "vault-head": {
        "owner": "amélie",
        "owner_key_id": KEY_ID,
        "seq": 7,
        "documents_sha256": SHA,
        "profile_sha256": "6" * 64,
        "revoked_grants_sha256": "7" * 64,
        "revoked_mandates_sha256": "8" * 64,
        "revoked_links_sha256": "9" * 64,
        "signed_at": WHEN,
    },
    "emergency-access": {
        "arrangement_id": ID,
        "owner": "amélie",
        "owner_key_id": KEY_ID,
        "trusted": "bruno",
        "trusted_key_id": KEY_ID,
        "trusted_signing_key": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
        "access": "takeover",
        "wait_days": 7,
        "sealed_sha256": SHA,
        "created_at": WHEN,
    },
}

# A vault state and its digests (wallet/protocol/vault_state.py), listed out of order on purpose.
STATE_SAMPLE = VaultState(
    documents={"f" * 32: 3, ID: 1, "0" * 32: 12},
    profile={"b" * 32: SHA, "a" * 32: "6" * 64},
    revoked_grants={"e" * 32, "d" * 32},
    revoked_mandates=set(),
    revoked_links={"c" * 32},
)

# Info strings (labels.info): a label and its context.
INFO_SAMPLES: list[tuple[str, list[Any]]] = [
    ("DOCUMENT_KEY", [ID, 2, KEY_ID]),
    ("PROFILE_FIELD_KEY", ["a" * 32, KEY_ID]),
    ("GRANT", [ID, KEY_ID]),
    ("TEAM_KEY", [ID, KEY_ID, "k" * 32]),
    ("LINK_REDEEM", [ID, ""]),
    ("KDF_PIN_HANDLE", ["amélie"]),
]


def compute() -> dict[str, Any]:
    """Every vector file's content, from the Python definitions."""
    key = nacl.signing.SigningKey(SEED)
    signed = {}
    for kind, fields in SAMPLES.items():
        message, signature = sign(key, statements.KINDS[kind].build(**fields))
        signed[kind] = {
            "fields": fields,
            "canonical": message.decode(),
            "signature": b64e(signature),
        }
    return {
        "labels.json": {
            "labels": labels.ALL,
            "separator": labels.SEPARATOR,
            "info": [
                {
                    "label": name,
                    "context": context,
                    "bytes": labels.info(labels.ALL[name], *context).decode(),
                }
                for name, context in INFO_SAMPLES
            ],
        },
        "statements.json": {
            "seed": b64e(SEED),
            "public_key": b64e(bytes(key.verify_key)),
            "kinds": statement_table(),
            "samples": signed,
        },
        "catalogue.json": catalogue_table(),
        "vault_state.json": {
            "documents": STATE_SAMPLE.documents,
            "profile": STATE_SAMPLE.profile,
            "revoked_grants": sorted(STATE_SAMPLE.revoked_grants, reverse=True),
            "revoked_mandates": [],
            "revoked_links": sorted(STATE_SAMPLE.revoked_links),
            "digests": STATE_SAMPLE.digests(),
        },
    }


def render(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def load() -> dict[str, Any]:
    return {name: json.loads((VECTORS / name).read_text()) for name in compute()}
