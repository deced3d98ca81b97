"""The orphan-blob sweep over 300,000 blobs: one SELECT per blob (the old sweep, baseline)
against the batched sweep (one SELECT per 1,000 blobs), on SQLite and on PostgreSQL.

Setup, per database: a migrated database with one account and one document holding N versions
(rows inserted with SQL, each with its own blob key, then ANALYZE), N empty blob files in the filesystem
store's layout (256 shards) in a temp dir on the same disk as the system temp dir, plus 1%
orphan files (recreated before each run, so every run deletes the same number).

Measured, each run in this process with grace 0 (every blob is old enough to be looked up):
  - listing: iterating FilesystemBlobStore.list_blobs() alone (scandir + stat): the floor
  - per blob: wallet.documents.service.sweep_orphan_blobs (the old sweep), baseline
  - batched: wallet.server.sweeper.sweep_orphan_blobs (what the schedule runs now)
  - whole sweep: wallet.server.sweeper.sweep (every task, with the sweep lock)
Figures: wall time, this process's CPU time (on SQLite it includes the database's work; on
PostgreSQL the server's own CPU is not counted), SELECTs sent, µs per blob, and the ratio of
each to the baseline.
Run: .venv/bin/python benchmarks/sweeper.py [--blobs 300000] [--no-postgres]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _common import code_version, postgres_available, postgres_database, table, temp_dir
from sqlalchemy import MetaData, event, insert, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.filesystem import FilesystemBlobStore
from wallet.db import make_engine, migrate, utcnow
from wallet.documents import service as documents
from wallet.server import sweeper

GRACE = timedelta(0)
INSERT_BATCH = 10_000


def _filler(column: Any) -> object:
    """A value of the right type for a NOT NULL column the benchmark does not care about."""
    kind = column.type.python_type
    if kind is bytes:
        return b"x"
    if kind is int:
        return 1
    if kind is bool:
        return False
    if kind is datetime:
        return datetime.now(UTC)
    length = getattr(column.type, "length", None) or 16
    return secrets.token_hex(8)[:length]


def _row(table: Any, **given: object) -> dict[str, object]:
    values = {
        c.name: _filler(c)
        for c in table.columns
        if c.name not in given and not c.nullable and c.server_default is None
    }
    return {**values, **given}


def fill_database(engine: Engine, keys: list[str]) -> None:
    """One account, one document, and one version per key."""
    tables = MetaData()
    tables.reflect(engine)
    account, document = tables.tables["account"], tables.tables["document"]
    version = tables.tables["document_version"]
    with engine.begin() as db:
        db.execute(insert(account).values(_row(account, id="bench", handle="bench")))
        db.execute(insert(document).values(_row(document, id="doc", owner_id="bench")))
    now = utcnow()
    for start in range(0, len(keys), INSERT_BATCH):
        with engine.begin() as db:
            db.execute(
                insert(version),
                [
                    {
                        "id": secrets.token_hex(16),
                        "document_id": "doc",
                        "version": n + 1,
                        "blob_key": key,
                        "blob_size": 1,
                        "encrypted_meta": b"m",
                        "manifest": b"m",
                        "signature": b"s",
                        "created_at": now,
                    }
                    for n, key in enumerate(keys[start : start + INSERT_BATCH], start)
                ],
            )
    with engine.begin() as db:
        # What autovacuum does on a live server (the test cluster may run without it): without
        # statistics, PostgreSQL plans a lookup of 1,000 keys as a scan of the whole table.
        db.execute(text("ANALYZE document_version"))


def make_blob_files(store: FilesystemBlobStore, keys: list[str]) -> None:
    """Empty files where the store keeps blobs: the sweep reads names and times, not bytes."""
    for key in keys:
        shard = store.blob_dir / key[:2]
        shard.mkdir(parents=True, exist_ok=True)
        os.close(os.open(shard / key, os.O_CREAT | os.O_WRONLY, 0o600))


@contextlib.contextmanager
def counted_selects(engine: Engine) -> Iterator[list[int]]:
    count = [0]

    def before(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT"):
            count[0] += 1

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield count
    finally:
        event.remove(engine, "before_cursor_execute", before)


def measure(
    name: str, engine: Engine, store: FilesystemBlobStore, orphans: int, run: Any
) -> dict[str, Any]:
    make_blob_files(store, [secrets.token_hex(16) for _ in range(orphans)])
    with counted_selects(engine) as selects:
        wall, cpu = time.perf_counter(), time.process_time()
        deleted = run()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"name": name, "wall": wall, "cpu": cpu, "selects": selects[0], "deleted": deleted}


def listing(store: FilesystemBlobStore) -> int:
    return sum(1 for _ in store.list_blobs())


def per_blob(engine: Engine, store: FilesystemBlobStore) -> int:
    with Session(engine) as db:
        return documents.sweep_orphan_blobs(db, store, utcnow(), GRACE)


def batched(engine: Engine, store: FilesystemBlobStore) -> int:
    with Session(engine) as db:
        return sweeper.sweep_orphan_blobs(sweeper.SweepRun(db, store, utcnow(), GRACE))


def whole_sweep(engine: Engine, store: FilesystemBlobStore) -> int:
    return sweeper.sweep(engine, store, GRACE).orphan_blobs


def bench(label: str, url: str, folder: Path, blobs: int) -> None:
    print(f"\n== {label}: {blobs:,} blobs with rows, {blobs // 100:,} orphans per run")
    started = time.perf_counter()
    migrate(url)
    engine = make_engine(url)
    store = FilesystemBlobStore(folder / "data")
    try:
        keys = [secrets.token_hex(16) for _ in range(blobs)]
        fill_database(engine, keys)
        make_blob_files(store, keys)
        print(f"setup: {time.perf_counter() - started:.1f} s")
        orphans = blobs // 100
        # Each deleting run finds exactly its own orphans; the listing comes last, with a set.
        base = measure(
            "per blob (old, baseline)", engine, store, orphans, lambda: per_blob(engine, store)
        )
        now = measure("batched (now)", engine, store, orphans, lambda: batched(engine, store))
        whole = measure(
            "whole sweep (now)", engine, store, orphans, lambda: whole_sweep(engine, store)
        )
        floor = measure("listing only (floor)", engine, store, orphans, lambda: listing(store))
        runs = [floor, base, now, whole]
    finally:
        engine.dispose()
    total = blobs + orphans
    rows = [
        [
            r["name"],
            f"{r['wall']:.2f}",
            f"{r['cpu']:.2f}",
            f"{r['selects']:,}",
            f"{r['wall'] / total * 1e6:.1f}",
            f"{r['wall'] / base['wall']:.3f}",
            f"{r['cpu'] / base['cpu']:.3f}",
            f"{r['deleted']:,}",
        ]
        for r in runs
    ]
    headers = ["run", "wall s", "CPU s", "SELECTs", "µs/blob", "wall ÷ base", "CPU ÷ base"]
    print(table([*headers, "deleted/listed"], rows))
    print(
        f"batched vs per blob: {base['wall'] / now['wall']:.1f}× less wall time, "
        f"{base['cpu'] / now['cpu']:.1f}× less CPU in this process"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--blobs", type=int, default=300_000)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    print(f"code: {code_version()}; batch size {sweeper.BATCH}; CPUs: {os.cpu_count()}")
    with temp_dir("wallet-bench-sweeper-") as folder:
        bench("SQLite", f"sqlite:///{folder / 'wallet.db'}", folder, args.blobs)
    if args.no_postgres:
        return
    if not postgres_available():
        print("\nPostgreSQL: skipped (nothing answers on 127.0.0.1:5432)")
        return
    with temp_dir("wallet-bench-sweeper-") as folder, postgres_database("wallet_sweeper") as url:
        bench("PostgreSQL", url, folder, args.blobs)


if __name__ == "__main__":
    main()
