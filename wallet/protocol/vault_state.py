"""The state an owner's vault head signs (statements.VAULT_HEAD), as digests both clients and
the server compute the same way.

- documents: each document id with the newest version the owner has seen;
- profile: each field's slot with the SHA-256 of its ciphertext;
- revoked grants, mandates and links: the ids the owner (or the end of a mandate the owner
  revoked) took back.

Each digest is the SHA-256 of the canonical JSON of a sorted list, so the order a server lists
things in does not matter, and nothing is left out or added without the digest changing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from wallet.crypto.encoding import canonical_json

DIGESTS = (
    "documents_sha256",
    "profile_sha256",
    "revoked_grants_sha256",
    "revoked_mandates_sha256",
    "revoked_links_sha256",
)
REVOKED_KINDS = ("grants", "mandates", "links")


def _digest(value: Any) -> str:
    return hashlib.sha256(canonical_json(value)).hexdigest()


def documents_digest(documents: Mapping[str, int]) -> str:
    return _digest(sorted([document_id, version] for document_id, version in documents.items()))


def profile_digest(fields: Mapping[str, str]) -> str:
    return _digest(sorted([slot, sha256] for slot, sha256 in fields.items()))


def ids_digest(ids: Iterable[str]) -> str:
    return _digest(sorted(set(ids)))


@dataclass
class VaultState:
    """What a head covers, in plain lists: {document id: version}, {slot: ciphertext sha256},
    and the revoked ids of each kind."""

    documents: dict[str, int] = field(default_factory=dict)
    profile: dict[str, str] = field(default_factory=dict)
    revoked_grants: set[str] = field(default_factory=set)
    revoked_mandates: set[str] = field(default_factory=set)
    revoked_links: set[str] = field(default_factory=set)

    def digests(self) -> dict[str, str]:
        return {
            "documents_sha256": documents_digest(self.documents),
            "profile_sha256": profile_digest(self.profile),
            "revoked_grants_sha256": ids_digest(self.revoked_grants),
            "revoked_mandates_sha256": ids_digest(self.revoked_mandates),
            "revoked_links_sha256": ids_digest(self.revoked_links),
        }

    def revoked(self, kind: str) -> set[str]:
        if kind not in REVOKED_KINDS:
            raise ValueError(f"unknown kind {kind!r}")
        revoked: set[str] = getattr(self, f"revoked_{kind}")
        return revoked


def differences(head: Mapping[str, Any], digests: Mapping[str, str]) -> list[str]:
    """The digests of `head` that `digests` does not match, by name."""
    return [name for name in DIGESTS if head.get(name) != digests.get(name)]
