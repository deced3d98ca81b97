"""Reminders: what needs the owner's attention, worked out in the owner's client.

The rules at their day boundaries and in the owner's time zone (Python, and the browser's copy
in web/src/attention.js run by node on the same cases), the CLI's summary, marks and warnings,
the .ics files (read back with `icalendar`), and a canary scan: after all of it, the server's
database holds none of the dates, types or titles in clear."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy.engine import make_url

from tests.conftest import LiveServer, run_cli
from tests.test_cli_sharing import owner_and_worker
from tests.test_zero_knowledge import Stored, encoded_forms
from wallet.client import attention as rules

ROOT = Path(__file__).resolve().parents[1]
BRUSSELS = ZoneInfo("Europe/Brussels")
NEW_YORK = ZoneInfo("America/New_York")
# 23:30 UTC on 31 March 2026: already 1 April in Brussels (summer time, UTC+2), still
# 31 March in New York (UTC-4).
LATE = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)

# Cases both implementations must answer alike: (expiry, zone, now) -> (state, days) or None.
PAPER_CASES: list[tuple[str, str, str]] = [
    ("2026-03-31", "UTC", "2026-03-31T23:30:00+00:00"),
    ("2026-03-31", "Europe/Brussels", "2026-03-31T23:30:00+00:00"),
    ("2026-03-31", "America/New_York", "2026-03-31T23:30:00+00:00"),
    ("2026-04-01", "America/New_York", "2026-04-01T03:59:00+00:00"),
    ("2026-04-01", "America/New_York", "2026-04-01T04:00:00+00:00"),
    ("2026-04-30", "UTC", "2026-03-31T12:00:00+00:00"),
    ("2026-05-01", "UTC", "2026-03-31T12:00:00+00:00"),
    ("2026-03-30", "UTC", "2026-03-31T00:00:00+00:00"),
    ("2026-02-29", "UTC", "2026-03-31T00:00:00+00:00"),  # not a date: no mark
    ("", "UTC", "2026-03-31T00:00:00+00:00"),
]


def test_paper_marks_at_the_day_boundaries() -> None:
    today = date(2026, 3, 31)
    assert rules.expiry_state("2026-03-31", today) == ("expiring", 0)
    assert rules.mark("2026-03-31", today) == "expires today"
    assert rules.mark("2026-04-01", today) == "expires tomorrow"
    assert rules.mark("2026-04-03", today) == "expires in 3 days"
    assert rules.expiry_state("2026-04-30", today) == ("expiring", 30)
    assert rules.expiry_state("2026-05-01", today) is None  # 31 days: not yet
    assert rules.expiry_state("2026-03-30", today) == ("expired", -1)
    assert rules.mark("2020-01-01", today) == "expired"
    assert rules.mark(None, today) == rules.mark("31/03/2026", today) == ""


def test_the_day_is_the_owners_day() -> None:
    # The same instant: in Brussels the paper expired a minute and a half ago, in New York and
    # in UTC it is its last day.
    assert rules.today_in(BRUSSELS, LATE) == date(2026, 4, 1)
    assert rules.today_in(NEW_YORK, LATE) == date(2026, 3, 31)
    doc = [{"id": "d1", "title": "ID card", "expiry_date": "2026-03-31"}]
    brussels = rules.summarise(documents=doc, zone=BRUSSELS, now=LATE)
    new_york = rules.summarise(documents=doc, zone=NEW_YORK, now=LATE)
    assert [(i.kind, i.days) for i in brussels] == [("paper_expired", -1)]
    assert [(i.kind, i.days) for i in new_york] == [("paper_expiring", 0)]
    # New York's midnight is 04:00 UTC in summer: one minute before, still the last day.
    ny_last_minute = datetime(2026, 4, 1, 3, 59, tzinfo=UTC)
    ny_midnight = datetime(2026, 4, 1, 4, 0, tzinfo=UTC)
    assert rules.summarise(documents=doc, zone=NEW_YORK, now=ny_last_minute)[0].days == 0
    assert rules.summarise(documents=doc, zone=NEW_YORK, now=ny_midnight)[0].kind == (
        "paper_expired"
    )


def test_owner_zone_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WALLET_TIME_ZONE", "Europe/Brussels")
    assert rules.owner_zone() == BRUSSELS
    monkeypatch.setenv("WALLET_TIME_ZONE", "Not/AZone")
    monkeypatch.setenv("TZ", "America/New_York")
    assert rules.owner_zone() == NEW_YORK


def test_requests_and_access_ending() -> None:
    now = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    soon = (now + timedelta(days=14)).isoformat()  # the 14th day: included
    later = (now + timedelta(days=15)).isoformat()
    items = rules.summarise(
        requests=[
            {
                "id": "r1",
                "requester": "cpas",
                "purpose": "RIS",
                "due": "2026-03-20",
                "status": "open",
                "direction": "incoming",
            },
            {
                "id": "r2",
                "requester": "cpas",
                "purpose": "RIS",
                "due": "2026-03-20",
                "status": "fulfilled",
                "direction": "incoming",
            },
            {
                "id": "r3",
                "requester": "me",
                "purpose": "x",
                "due": "2026-03-20",
                "status": "open",
                "direction": "outgoing",
            },
        ],
        grants=[
            {"id": "g1", "to": "worker", "expires_at": soon},
            {"id": "g2", "to": "worker", "expires_at": later},
            {"id": "g3", "to": "worker", "expires_at": None},  # no end date: nothing ends
            {"id": "g4", "to": "worker", "expires_at": (now - timedelta(hours=1)).isoformat()},
        ],
        mandates=[
            {"id": "m1", "who": "sister", "expires_at": (now + timedelta(hours=3)).isoformat()}
        ],
        zone=UTC,
        now=now,
    )
    assert [(i.kind, i.ref, i.days) for i in items] == [
        ("request_waiting", "r1", 19),
        ("mandate_ending", "m1", 0),
        ("grant_ending", "g1", 14),
    ]
    assert rules.sentence(items[1]) == "The mandate with sister ends today (01 March 2026)."


def _node_rules(cases: list[dict[str, object]]) -> list[object]:
    """web/src/attention.js run by node on `cases` (it imports nothing of the browser)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    script = (
        f"import * as r from {json.dumps((ROOT / 'web/src/attention.js').as_uri())};\n"
        "const cases = JSON.parse(process.argv[1]);\n"
        "console.log(JSON.stringify(cases.map((c) => r.summarise({ ...c.input, timeZone: c.zone,"
        " now: new Date(c.now) }))));\n"
    )
    done = subprocess.run(
        [node, "--input-type=module", "-e", script, json.dumps(cases)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(done.stdout)


def test_browser_rules_give_the_same_answers() -> None:
    grant_ends = [
        "2026-04-14T21:59:00+00:00",
        "2026-04-14T22:00:00+00:00",
        "2026-03-31T23:00:00+00:00",
    ]
    cases: list[dict[str, object]] = [
        {
            "input": {
                "documents": [{"id": "d", "title": "Paper", "expiry_date": expiry}],
                "requests": [
                    {
                        "id": "r",
                        "requester": "cpas",
                        "purpose": "RIS",
                        "due": "2026-04-09",
                        "status": "open",
                        "direction": "incoming",
                    }
                ],
                "grants": [
                    {"id": f"g{n}", "to": "w", "expires_at": end}
                    for n, end in enumerate(grant_ends)
                ],
                "mandates": [
                    {"id": "m", "who": "sister", "expires_at": "2026-04-02T08:00:00+00:00"}
                ],
            },
            "zone": zone,
            "now": now,
        }
        for expiry, zone, now in PAPER_CASES
    ]
    expected = [
        [
            i.as_dict()
            for i in rules.summarise(
                **case["input"],  # type: ignore[arg-type]
                zone=ZoneInfo(str(case["zone"])),
                now=datetime.fromisoformat(str(case["now"])),
            )
        ]
        for case in cases
    ]
    assert _node_rules(cases) == expected
    # The cases do cross the boundaries: every kind, and both marks, appear somewhere.
    kinds = {item["kind"] for result in expected for item in result}
    assert kinds == set(rules.KINDS)


def test_ics_of_a_paper_parses_with_icalendar() -> None:
    data = rules.document_calendar("doc1", "Carte d'identité", date(2027, 3, 31))
    cal = Calendar.from_ical(data)
    [event] = cal.walk("VEVENT")
    assert event["SUMMARY"] == "Carte d'identité expires"
    assert event.decoded("DTSTART") == date(2027, 3, 31)
    assert event.decoded("DTEND") == date(2027, 4, 1)
    triggers = sorted(alarm.decoded("TRIGGER") for alarm in event.walk("VALARM"))
    assert triggers == [timedelta(days=-30), timedelta(days=-1)]


# --- the CLI, and what the server saw ------------------------------------------------------


def _stored(server: LiveServer) -> list[Stored]:
    """The live server's database as bytes: the SQLite file and its WAL, or a pg_dump."""
    database = server.database
    if database.path is None:
        url = make_url(database.url)
        dump = subprocess.run(
            ["pg_dump", "-U", "postgres", "-h", "127.0.0.1", "-p", str(url.port or 5432),
             str(url.database)],
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout  # fmt: skip
        assert b"CREATE TABLE public.account" in dump
        return [Stored("pg_dump", dump)]
    files = [database.path, Path(f"{database.path}-wal")]
    return [Stored(str(p), p.read_bytes()) for p in files if p.exists()]


def test_cli_reminders_marks_warnings_and_calendar(
    cli_env: dict[str, str], live_server: LiveServer, tmp_path: Path
) -> None:
    owner, owner_handle, worker, _worker_handle = owner_and_worker(cli_env, tmp_path)
    canary = secrets.token_hex(6)
    today = rules.today_in(rules.owner_zone())
    expired_day = today - timedelta(days=41)
    soon_day = today + timedelta(days=23)
    far_day = date(2031, 7, 19)
    paper = tmp_path / "paper.pdf"
    paper.write_bytes(b"%PDF-1.4 " + secrets.token_bytes(500))
    ids = {}
    for name, kind, expiry in (
        ("old", "residence_permit", expired_day),
        ("soon", "id_card", soon_day),
        ("far", "id_card", far_day),
    ):
        done = run_cli(
            owner,
            "upload",
            str(paper),
            "--type",
            kind,
            "--title",
            f"{name} {canary}",
            "--expires",
            expiry.isoformat(),
        )
        ids[name] = done.stdout.split()[-1]
    run_cli(
        worker,
        "request",
        "create",
        "--to",
        owner_handle,
        "--types",
        "residence_permit,id_card",
        "--purpose",
        f"Housing {canary}",
    )

    # At login, a short summary: the expired paper, the waiting request, the paper expiring.
    login = run_cli(owner, "login", "--handle", owner_handle).stdout
    assert "Needs your attention:" in login
    assert f"old {canary}: expired 41 days ago" in login
    assert f"Housing {canary}: waiting for your answer" in login
    assert f"soon {canary}: expires in 23 days" in login
    assert f"far {canary}" not in login

    listing = run_cli(owner, "ls").stdout
    assert f"EXPIRED on {expired_day.isoformat()}" in listing
    assert f"expires in 23 days ({soon_day.isoformat()})" in listing
    assert f"expires {far_day.isoformat()}" in listing
    marks = {
        d["title"]: d["expiry_mark"] for d in json.loads(run_cli(owner, "ls", "--json").stdout)
    }
    assert marks == {
        f"old {canary}": "expired",
        f"soon {canary}": "expires in 23 days",
        f"far {canary}": "",
    }

    listed = json.loads(run_cli(owner, "attention", "--json").stdout)
    assert [(i["kind"], i["days"]) for i in listed] == [
        ("paper_expired", -41),
        ("request_waiting", 30),
        ("paper_expiring", 23),
    ]
    ics = tmp_path / "reminders.ics"
    run_cli(owner, "attention", "--ics", str(ics))
    events = Calendar.from_ical(ics.read_bytes()).walk("VEVENT")
    assert sorted(e.decoded("DTSTART") for e in events) == sorted(
        [expired_day, soon_day, today + timedelta(days=30)]
    )

    request_id = listed[1]["id"]
    shown = run_cli(owner, "request", "show", request_id).stdout
    assert f"Warning: 'old {canary}' expired on {expired_day.isoformat()}" in shown
    assert f"Warning: 'soon {canary}'" not in shown

    one = tmp_path / "one.ics"
    run_cli(owner, "ics", ids["far"], "-o", str(one))
    [event] = Calendar.from_ical(one.read_bytes()).walk("VEVENT")
    assert event.decoded("DTSTART") == far_day and str(event["SUMMARY"]) == f"far {canary} expires"

    given = run_cli(owner, "request", "fulfil", request_id, "--docs", ids["old"], "--yes").stdout
    assert f"Warning: 'old {canary}' expired" in given
    after = json.loads(run_cli(owner, "attention", "--json").stdout)
    assert [i["kind"] for i in after] == ["paper_expired", "paper_expiring"]

    # The server learnt none of it: no expiry date, type or title in clear in its database.
    stored = _stored(live_server)
    # The control: the scan does find what the server holds in clear (the handle).
    assert any(owner_handle.encode() in s.data for s in stored)
    for secret in (
        canary,
        expired_day.isoformat(),
        soon_day.isoformat(),
        far_day.isoformat(),
        far_day.strftime("%Y%m%d"),
        "residence_permit",
    ):
        forms = encoded_forms(secret) | {secret.encode()}
        assert [s.name for s in stored if any(f in s.data for f in forms)] == [], secret


def test_figure_attention_for_1000_documents_and_50_grants_in_python() -> None:
    """The rules on 1,000 documents, 50 grants and 50 mandates: prints the time (the figure of
    issue 15); the browser's is timed in tests/browser/test_attention_page.py."""
    now = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    documents = [
        {
            "id": f"d{n}",
            "title": f"Paper {n}",
            "expiry_date": f"20{26 + n % 5}-0{1 + n % 9}-1{n % 10}",
        }
        for n in range(1000)
    ]
    ends = [
        {"id": f"g{n}", "to": "w", "expires_at": f"2026-12-{10 + n % 18}T10:00:00+00:00"}
        for n in range(50)
    ]
    started = time.perf_counter()
    for _ in range(20):
        items = rules.summarise(
            documents=documents, grants=ends, mandates=ends, zone=BRUSSELS, now=now
        )
    elapsed = (time.perf_counter() - started) / 20
    assert items and elapsed < 1.0
    print(
        f"\nattention summary in Python, 1000 documents + 50 grants + 50 mandates: {elapsed * 1000:.2f} ms"
    )


def test_login_goes_through_when_a_part_of_the_reminders_fails_its_checks(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    owner, owner_handle, worker, worker_handle = owner_and_worker(cli_env, tmp_path)
    run_cli(worker, "request", "create", "--to", owner_handle, "--types", "id_card",
            "--purpose", "Housing")  # fmt: skip
    assert "Housing: waiting" in run_cli(owner, "attention").stdout  # pins the worker's key
    # This computer now holds another key for the worker: their request cannot be trusted.
    pins_file = Path(owner["WALLET_HOME"]) / "pins.json"
    pins = json.loads(pins_file.read_text())
    pins[worker_handle] = "0" * len(pins[worker_handle])
    pins_file.write_text(json.dumps(pins))

    login = run_cli(owner, "login", "--handle", owner_handle)
    assert f"Logged in as {owner_handle}." in login.stdout
    assert "Some reminders could not be checked (requests): see 'wallet attention'." in login.stdout
    assert "Housing" not in login.stdout
    failed = run_cli(owner, "attention", check=False)
    assert failed.returncode != 0 and f"NEW key for {worker_handle}" in failed.stderr
