"""The journal's hash chain. Shared by the server (to append) and the client (to verify)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from wallet.crypto.encoding import canonical_json

GENESIS = "0" * 64
HASHED_FIELDS = (
    "seq",
    "at",
    "event",
    "actor_kind",
    "actor_id",
    "subject_kind",
    "subject_id",
    "details",
)


def entry_hash(prev_hash: str, entry: Mapping[str, Any]) -> str:
    body = {name: entry[name] for name in HASHED_FIELDS}
    return hashlib.sha256(prev_hash.encode() + canonical_json(body)).hexdigest()


class ChainBroken(Exception):
    def __init__(self, seq: int, reason: str) -> None:
        super().__init__(f"entry {seq}: {reason}")
        self.seq = seq
        self.reason = reason


def verify_chain(entries: Iterable[Mapping[str, Any]]) -> int:
    """Recomputes every link. Returns the number of entries; raises ChainBroken at the first gap."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    for entry in entries:
        if entry["seq"] != expected_seq:
            raise ChainBroken(entry["seq"], f"expected entry {expected_seq}: an entry is missing")
        if entry["prev_hash"] != prev:
            raise ChainBroken(entry["seq"], "it does not follow the entry before it")
        if entry_hash(prev, entry) != entry["hash"]:
            raise ChainBroken(entry["seq"], "its content was changed")
        prev = entry["hash"]
        expected_seq += 1
        count += 1
    return count
