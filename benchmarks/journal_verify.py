"""Verifying a 100,000-entry journal hash chain on the client, as it arrives from the server.

Setup: a live `wallet serve` on SQLite, one account (its own first journal entries are real),
then the chain is filled up to N entries with rows inserted straight into journal_entry in
batches of 10,000, each with prev_hash and hash computed by wallet.protocol.journal_chain.entry_hash
exactly as wallet.journal.service.append does (a mix of document, link and grant events with
their usual details).

Measured (3 runs each, median):
  - fetch: wallet.client.journal.fetch_entries (GET /api/v1/journal pages of 10,000, JSON
    decoded) against the live server; bytes received; server time per page from /metrics
  - verify: wallet.protocol.journal_chain.verify_chain over those entries (goal <= 1 s)
  - baseline: hashlib.sha256(...).hexdigest() over the very bytes verify_chain hashes
    (prev_hash + canonical JSON of each entry's hashed fields, built beforehand)
  - information: building those bytes alone (dict of hashed fields + canonical_json)
Run: .venv/bin/python benchmarks/journal_verify.py [--entries 100000] [--runs 3]
"""

from __future__ import annotations

import argparse
import hashlib
import time
import uuid
from datetime import UTC, datetime, timedelta

from _common import (
    FAST_KDF,
    PASSPHRASE,
    RequestLog,
    code_version,
    histogram_sum_count,
    live_server,
    median,
    table,
)
from sqlalchemy import insert
from sqlmodel import Session, col, select

from wallet.client import ApiClient, Vault
from wallet.client.journal import fetch_entries
from wallet.crypto.encoding import canonical_json
from wallet.db import make_engine
from wallet.journal.models import JournalEntry
from wallet.journal.service import at_text
from wallet.protocol.journal_chain import HASHED_FIELDS, entry_hash, verify_chain
from wallet.settings import Settings

GOAL_VERIFY_S = 1.0
BATCH = 10_000


def _event(n: int) -> dict[str, object]:
    """A realistic mix of what an owner's journal holds."""
    doc, link, grant, reader = (uuid.uuid4().hex for _ in range(4))
    kind = n % 6
    if kind == 0:
        return {
            "event": "document_added",
            "actor_kind": "owner",
            "actor_id": None,
            "subject_kind": "document",
            "subject_id": doc,
            "details": {},
        }
    if kind == 1:
        return {
            "event": "link_created",
            "actor_kind": "owner",
            "actor_id": None,
            "subject_kind": "link",
            "subject_id": link,
            "details": {"uses": 1, "items": 2, "pin": False},
        }
    if kind == 2:
        return {
            "event": "link_redeemed",
            "actor_kind": "link",
            "actor_id": link,
            "subject_kind": "link",
            "subject_id": link,
            "details": {"uses_left": 0},
        }
    if kind == 3:
        return {
            "event": "link_download",
            "actor_kind": "link",
            "actor_id": link,
            "subject_kind": "document",
            "subject_id": doc,
            "details": {"version": 1},
        }
    if kind == 4:
        return {
            "event": "grant_download",
            "actor_kind": "account",
            "actor_id": reader,
            "subject_kind": "document",
            "subject_id": doc,
            "details": {"version": 3, "grant": grant},
        }
    return {"event": "session_started", "actor_kind": "owner", "actor_id": None,
            "subject_kind": "session", "subject_id": uuid.uuid4().hex,
            "details": {"kind": "passphrase"}}  # fmt: skip


def fill_chain(db_url: str, handle: str, total: int) -> tuple[int, float]:
    """Appends entries up to seq == total; returns (rows inserted, seconds)."""
    started = time.perf_counter()
    engine = make_engine(db_url)
    table_ = JournalEntry.__table__  # type: ignore[attr-defined]
    try:
        with Session(engine) as db:
            from wallet.accounts.models import Account

            owner_id = db.exec(select(Account.id).where(Account.handle == handle)).one()
            seq, prev = db.exec(
                select(JournalEntry.seq, JournalEntry.hash)
                .where(JournalEntry.owner_id == owner_id)
                .order_by(col(JournalEntry.seq).desc())
                .limit(1)
            ).one()
        moment = datetime.now(UTC) - timedelta(days=400)
        inserted = 0
        while seq < total:
            rows = []
            for _ in range(min(BATCH, total - seq)):
                seq += 1
                moment += timedelta(seconds=311, microseconds=seq % 997)
                event = _event(seq)
                row = {
                    "seq": seq,
                    "at": at_text(moment),
                    **event,
                    "details": canonical_json(event["details"]).decode(),
                }
                digest = entry_hash(prev, row)
                rows.append(
                    {
                        **row,
                        "id": uuid.uuid4().hex,
                        "owner_id": owner_id,
                        "at": moment,
                        "prev_hash": prev,
                        "hash": digest,
                    }
                )
                prev = digest
            with engine.begin() as connection:
                connection.execute(insert(table_), rows)
            inserted += len(rows)
    finally:
        engine.dispose()
    return inserted, time.perf_counter() - started


def hashed_bytes(entries: list[dict]) -> list[bytes]:  # type: ignore[type-arg]
    return [
        e["prev_hash"].encode() + canonical_json({name: e[name] for name in HASHED_FIELDS})
        for e in entries
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    total, runs = args.entries, args.runs

    with live_server(FAST_KDF, prefix="wallet-bench-journal-") as (server, _work):
        vault, _recovery = Vault.create_account(
            ApiClient(server.url, timeout=300), "bench-journal", PASSPHRASE
        )
        db_url = Settings(data_dir=server.data_dir).resolved_database_url
        inserted, fill_s = fill_chain(db_url, "bench-journal", total)

        fetch_entries(vault)  # warm (page cache, server code paths)
        route = "/api/v1/journal"
        before = histogram_sum_count(
            server.metrics_text(), "wallet_http_request_seconds", "GET", route
        )
        fetch_times, http_times = [], []
        for _ in range(runs):
            with RequestLog(vault.api) as log:
                started = time.perf_counter()
                entries = fetch_entries(vault)
                fetch_times.append(time.perf_counter() - started)
            http_times.append(log.seconds("GET"))
        after = histogram_sum_count(
            server.metrics_text(), "wallet_http_request_seconds", "GET", route
        )
        pages = len(log.calls)
        received = sum(c.received for c in log.calls)
        server_page = (after[0] - before[0]) / (after[1] - before[1])

    verify_times = []
    for _ in range(runs):
        started = time.perf_counter()
        checked = verify_chain(entries)
        verify_times.append(time.perf_counter() - started)

    build_times = []
    for _ in range(runs):
        started = time.perf_counter()
        payloads = hashed_bytes(entries)
        build_times.append(time.perf_counter() - started)
    hashed_total = sum(len(p) for p in payloads)

    sha_times = []
    for _ in range(runs):
        started = time.perf_counter()
        digests = [hashlib.sha256(p).hexdigest() for p in payloads]
        sha_times.append(time.perf_counter() - started)
    same = digests == [e["hash"] for e in entries]

    sha = median(sha_times)
    verify = median(verify_times)
    fetch = median(fetch_times)
    print(
        f"journal_verify: chain of {checked} entries ({inserted} inserted with SQL in "
        f"{fill_s:.1f} s), {pages} GET pages, {received / 1e6:.1f} MB of JSON, "
        f"{hashed_total / 1e6:.1f} MB hashed; median of {runs} runs"
    )
    print(f"code: {code_version()}")
    rows = [
        ["fetch: fetch_entries (HTTP + JSON decode)", f"{fetch:.3f}", "", ""],
        ["  of which HTTP round trips (body read)", f"{median(http_times):.3f}", "", ""],
        ["  server time per page (/metrics mean)", f"{server_page:.3f}", "", ""],
        ["verify: verify_chain", f"{verify:.3f}", f"{verify / sha:.1f}", f"<= {GOAL_VERIFY_S:.0f} s"],
        ["baseline: sha256 loop over the same bytes", f"{sha:.3f}", "1.0", ""],
        ["info: building those bytes (dict + canonical_json)", f"{median(build_times):.3f}", f"{median(build_times) / sha:.1f}", ""],
        ["fetch + verify", f"{fetch + verify:.3f}", "", ""],
    ]  # fmt: skip
    print(table(["what", "seconds", "x baseline", "goal"], rows))
    print(
        f"per entry: verify {verify / checked * 1e6:.2f} us, sha256 {sha / checked * 1e6:.2f} us; "
        f"baseline digests equal the chain's hashes: {same}; "
        f"goal verify <= {GOAL_VERIFY_S:.0f} s: {'met' if verify <= GOAL_VERIFY_S else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
