"""The sweeper: one instance sweeps at a time (a PostgreSQL advisory lock; on SQLite, a lock
file next to the database), orphan blobs are looked up in batches, a failed task does not stop
the others, and a complete sweep records when it finished (for the sweeper-lag alert)."""

from __future__ import annotations

import os
import secrets
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import event, insert, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from tests.conftest import AppFactory, WalletApp, run_cli, run_cli_process
from wallet.db import make_engine, utcnow
from wallet.documents.models import Document, DocumentVersion
from wallet.server.meta import LAST_SWEEP, get_meta
from wallet.server.sweeper import BATCH, SCHEDULE, SweepTask, sweep, sweep_turn

GRACE = timedelta(0)


def orphan_blob(app: WalletApp) -> str:
    key = secrets.token_hex(16)
    app.client.app.state.store.put(key, iter([b"nobody points here"]))  # type: ignore[attr-defined]
    return key


def blob_keys(app: WalletApp) -> set[str]:
    return {key for key, _ in app.client.app.state.store.list_blobs()}  # type: ignore[attr-defined]


def last_sweep(engine: Engine) -> datetime:
    with Session(engine) as db:
        row = get_meta(db, LAST_SWEEP)
    assert row is not None
    return datetime.fromisoformat(row.value)


def engine_of(app: WalletApp) -> Engine:
    return app.client.app.state.engine  # type: ignore[attr-defined,no-any-return]


def cli_env(app: WalletApp) -> dict[str, str]:
    return {
        **os.environ,
        "WALLET_DATA_DIR": str(app.settings.data_dir),
        "WALLET_DATABASE_URL": app.database.url,
        "WALLET_ORPHAN_GRACE_SECONDS": "0",
        "WALLET_SERVER_SECRET": "test-secret",
    }


def test_only_one_instance_sweeps_at_a_time(make_app: AppFactory) -> None:
    app = make_app()
    store = app.client.app.state.store  # type: ignore[attr-defined]
    orphan = orphan_blob(app)
    other_instance = make_engine(app.database.url)
    try:
        with sweep_turn(other_instance) as mine:
            assert mine, "nobody else sweeps yet"
            # Another process (`wallet sweep` from cron) finds the lock taken and does nothing.
            skipped = run_cli_process(cli_env(app), "sweep")
            assert skipped.returncode == 0, skipped.stderr
            assert "sweep_skipped" in skipped.stdout
            # So does another instance in this process (its own connection or file handle).
            report = sweep(engine_of(app), store, GRACE)
            assert report.skipped
            assert orphan in blob_keys(app)
            with sweep_turn(engine_of(app)) as also_mine:
                assert not also_mine
        # Released (as when the other instance ends or dies): the next sweep runs.
        report = sweep(engine_of(app), store, GRACE)
        assert not report.skipped
        assert report.orphan_blobs == 1
        assert orphan not in blob_keys(app)
    finally:
        other_instance.dispose()


def test_orphan_blobs_are_looked_up_in_batches(make_app: AppFactory, tmp_path: Path) -> None:
    app = make_app()
    vault = app.new_vault()
    source = tmp_path / "scan.pdf"
    source.write_bytes(os.urandom(1000))
    document_id, _version = vault.upload(source, "payslip")
    store = app.client.app.state.store  # type: ignore[attr-defined]
    known = [secrets.token_hex(16) for _ in range(2 * BATCH)]
    orphans = {secrets.token_hex(16) for _ in range(BATCH // 2)}
    engine = engine_of(app)
    with engine.begin() as db:
        owner_id = db.execute(
            select(Document.owner_id).where(col(Document.id) == document_id)
        ).scalar_one()
        db.execute(
            insert(DocumentVersion),
            [
                {
                    "id": secrets.token_hex(16),
                    "document_id": document_id,
                    "owner_id": owner_id,
                    "version": 2 + n,
                    "blob_key": key,
                    "blob_size": 1,
                    "encrypted_meta": b"m",
                    "manifest": b"m",
                    "signature": b"s",
                    "created_at": utcnow(),
                }
                for n, key in enumerate(known)
            ],
        )
    for key in [*known, *orphans]:
        store.put(key, iter([b"x"]))
    before = blob_keys(app)

    lookups: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT") and "document_version" in statement:
            lookups.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        report = sweep(engine, store, GRACE)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert report.orphan_blobs == len(orphans)
    assert blob_keys(app) == before - orphans
    blobs = len(known) + len(orphans) + 1
    assert len(lookups) == -(-blobs // BATCH)  # ceil: one query per batch, not per blob


def test_a_failed_task_does_not_stop_the_others(make_app: AppFactory) -> None:
    app = make_app()
    store = app.client.app.state.store  # type: ignore[attr-defined]
    orphan = orphan_blob(app)
    started = last_sweep(engine_of(app))

    def broken(_run: object) -> int:
        raise RuntimeError("this task is broken")

    schedule = (SweepTask("broken", broken), *SCHEDULE)
    report = sweep(engine_of(app), store, GRACE, schedule)
    assert report.failed == ["broken"]
    assert report.orphan_blobs == 1
    assert orphan not in blob_keys(app)
    # Not a complete sweep: the sweeper-lag alert keeps counting.
    assert last_sweep(engine_of(app)) == started

    report = sweep(engine_of(app), store, GRACE)
    assert report.failed == []
    assert last_sweep(engine_of(app)) > started


def test_a_skipped_sweep_records_nothing_and_a_complete_one_records_its_time(
    make_app: AppFactory,
) -> None:
    app = make_app()
    started = last_sweep(engine_of(app))
    other_instance = make_engine(app.database.url)
    try:
        with sweep_turn(other_instance):
            assert run_cli(cli_env(app), "sweep").returncode == 0
    finally:
        other_instance.dispose()
    assert last_sweep(engine_of(app)) == started
    done = run_cli(cli_env(app), "sweep")
    assert done.returncode == 0, done.stderr
    assert "Removed 0 expired uploads" in done.stdout
    assert last_sweep(engine_of(app)) > started
