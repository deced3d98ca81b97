"""Reminders in Chromium at 360x740: the "Needs your attention" block and the list's marks (in
English, French and Arabic), the document page's .ics download (a chunk loaded only on click;
`icalendar` reads what the browser made), the request page's warning about an expired paper,
and on a kiosk the printed slip that goes away after printing and at the wipe."""

from __future__ import annotations

import json
import re
import secrets
import time
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from icalendar import Calendar
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import (
    PHONE,
    ROOT,
    PageProblems,
    axe_violations,
    login,
    new_context,
    screenshot,
    soft_goto,
)
from tests.browser.test_kiosk import assert_nothing_left, kiosk_login
from tests.conftest import TEST_PASSPHRASE, LiveServer
from wallet.client import requests as requestlib
from wallet.client.api import ApiClient
from wallet.client.attention import owner_zone, today_in
from wallet.client.contacts import PinStore
from wallet.client.vault import Vault


def _account(server: LiveServer, prefix: str) -> Vault:
    vault, _ = Vault.create_account(
        ApiClient(server.url), f"{prefix}{secrets.token_hex(5)}", TEST_PASSPHRASE
    )
    return vault


def owner_with_deadlines(server: LiveServer, tmp: Path) -> tuple[Vault, dict[str, str], str]:
    """An owner with an expired ID card, a residence permit expiring in 3 days, a far one, and
    a worker's request waiting for them. Returns (owner, {name: document id}, tag)."""
    tag = secrets.token_hex(3)
    today = today_in(owner_zone())
    owner = _account(server, "o")
    ids = {}
    for name, doc_type, expiry in (
        ("old", "id_card", today - timedelta(days=5)),
        ("soon", "residence_permit", today + timedelta(days=3)),
        ("far", "residence_permit", date(2031, 7, 19)),
    ):
        path = tmp / f"{name}.txt"
        path.write_text(f"{name} content", encoding="utf-8")
        ids[name] = owner.upload(
            path, doc_type, f"{name} {tag}", expiry_date=expiry.isoformat(),
            media_type="text/plain",
        )[0]  # fmt: skip
    worker = _account(server, "w")
    requestlib.create_request(
        worker, owner.account["handle"], types=["id_card"], purpose=f"Housing {tag}",
        pins=PinStore(tmp / "worker-pins.json"),
    )  # fmt: skip
    return owner, ids, tag


def test_attention_block_marks_calendar_and_warning(
    page: Page, web_server: LiveServer, tmp_path: Path
) -> None:
    owner, ids, tag = owner_with_deadlines(web_server, tmp_path)
    login(page, owner.account["handle"])
    page.locator("main[data-page=documents][data-ready]").wait_for(state="attached")
    block = page.locator("[data-attention]")
    expect(block).to_be_visible()
    items = block.locator("li")
    expect(items).to_have_count(3)
    expect(items.nth(0)).to_contain_text(f"old {tag}: expired on")
    expect(items.nth(1)).to_contain_text(f"asks you for documents (Housing {tag})")
    expect(items.nth(2)).to_contain_text(f"soon {tag}: expires in 3 days")
    expect(block.locator("[data-print-reminders]")).to_have_count(0)  # only on a kiosk
    expect(page.locator(f'[data-id="{ids["soon"]}"] [data-mark]')).to_have_text("Expires in 3 days")
    expect(page.locator(f'[data-id="{ids["old"]}"] [data-mark]')).to_have_text(
        re.compile(r"^Expired on ")
    )
    expect(page.locator(f'[data-id="{ids["far"]}"] [data-mark]')).to_have_count(0)
    assert axe_violations(page) == []
    screenshot(page, "attention-documents-en")

    # The .ics: its chunk loads only on click; icalendar reads what the browser made.
    chunks: list[str] = []
    page.on("request", lambda r: chunks.append(r.url) if "/chunks/ics-" in r.url else None)
    page.locator(f'[data-id="{ids["far"]}"] a').click()
    page.wait_for_url(f"**/documents/{ids['far']}")
    expect(page.locator("[data-ics]")).to_be_visible()
    assert chunks == []
    with page.expect_download() as info:
        page.locator("[data-ics]").click()
    download = info.value
    assert download.suggested_filename == f"far {tag}.ics"
    data = Path(download.path()).read_bytes()
    (tmp_path / "browser.ics").write_bytes(data)
    [event] = Calendar.from_ical(data).walk("VEVENT")
    assert event.decoded("DTSTART") == date(2031, 7, 19)
    assert event.decoded("DTEND") == date(2031, 7, 20)
    assert str(event["SUMMARY"]) == f"far {tag} expires"
    assert sorted(a.decoded("TRIGGER") for a in event.walk("VALARM")) == [
        timedelta(days=-30),
        timedelta(days=-1),
    ]
    assert len(chunks) == 1
    screenshot(page, "attention-document-ics")

    # Answering the request: the expired ID card is named with a warning.
    soft_goto(page, "/requests")
    page.locator("main[data-page=requests][data-ready]").wait_for(state="attached")
    warning = page.locator(f'[data-expired-warning="{ids["old"]}"]')
    expect(warning).to_contain_text(f"“old {tag}” expired on")
    assert axe_violations(page) == []
    screenshot(page, "attention-request-warning")


def test_attention_in_french_and_arabic(
    browser: Browser, web_server: LiveServer, tmp_path: Path
) -> None:
    for locale, soon, mark in (
        ("fr-BE", "expire dans 3\u00a0jours", "Expire dans 3 jours"),
        ("ar", "تنتهي صلاحيته بعد 3 أيام", "تنتهي صلاحيته بعد 3 أيام"),
    ):
        # One owner per language: the wallet remembers the language an account last used.
        owner, ids, _tag = owner_with_deadlines(web_server, tmp_path)
        context = new_context(browser, web_server, viewport=PHONE, locale=locale)
        try:
            page = context.new_page()
            problems = PageProblems()
            problems.watch(page)
            page.goto("/login")
            page.locator("main[data-page=login][data-ready]").wait_for(state="attached")
            page.locator("#handle").fill(owner.account["handle"])
            page.locator("#passphrase").fill(TEST_PASSPHRASE)
            page.locator("form[data-login] button[type=submit]").click()
            page.wait_for_url("**/documents")
            block = page.locator("[data-attention]")
            expect(block.locator("li")).to_have_count(3)
            text = block.inner_text().replace("\u00a0", " ").replace("\u202f", " ")
            assert soon.replace("\u00a0", " ") in text, text
            expect(page.locator(f'[data-id="{ids["soon"]}"] [data-mark]')).to_have_text(mark)
            assert axe_violations(page) == []
            screenshot(page, f"attention-documents-{locale[:2]}")
            assert not problems.errors, problems.errors
        finally:
            context.close()


def test_kiosk_prints_reminders_and_keeps_nothing(
    browser: Browser, web_server: LiveServer, tmp_path: Path
) -> None:
    owner, ids, tag = owner_with_deadlines(web_server, tmp_path)
    handle = owner.account["handle"]
    context = new_context(browser, web_server, viewport=PHONE)
    try:
        page = context.new_page()
        page.goto("/kiosk?idle=600")
        expect(page.locator("[data-kiosk-bar]")).to_be_visible()
        kiosk_login(page, handle)
        expect(page.locator("[data-attention] [data-print-reminders]")).to_be_visible()
        # A calendar file saved on a public computer would stay for the next person.
        soft_goto(page, f"/documents/{ids['far']}")
        expect(page.locator("[data-doc-title]")).to_have_text(f"far {tag}")
        expect(page.locator("[data-ics]")).to_be_hidden()
        soft_goto(page, "/kiosk")
        block = page.locator("[data-attention]")
        expect(block.locator("li")).to_have_count(3)
        page.evaluate(
            "() => { window.print = () => { window.__printed = (window.__printed || 0) + 1; }; }"
        )
        block.locator("[data-print-reminders]").click()
        slip = page.locator("[data-reminder-slip]")
        expect(slip.locator("li")).to_have_count(3)
        expect(slip).to_contain_text(f"old {tag}")
        assert page.evaluate("window.__printed") == 1
        page.emulate_media(media="print")
        screenshot(page, "attention-kiosk-slip-print")
        assert page.evaluate(
            "getComputedStyle(document.querySelector('main')).display"
        ) == "none"  # fmt: skip
        page.emulate_media(media="screen")
        page.evaluate("window.dispatchEvent(new Event('afterprint'))")
        expect(slip).to_have_count(0)  # printed: the slip is gone from the page
        screenshot(page, "attention-kiosk")

        # Printed again and left on screen: the wipe takes it away with everything else.
        block.locator("[data-print-reminders]").click()
        expect(slip).to_have_count(1)
        page.get_by_role("button", name="End session").click()
        page.wait_for_url("**/kiosk?ended=ended*")
        expect(page.locator("[data-attention]")).to_be_hidden()
        assert_nothing_left(context, page, [f"old {tag}", f"Housing {tag}", handle])
    finally:
        context.close()


def test_figure_attention_for_1000_documents_and_50_grants_in_chromium(page: Page) -> None:
    """The rules run on 1,000 documents, 50 grants and 50 mandates: prints the time (the
    figure of issue 15); the Python side is timed in tests/test_attention.py."""
    page.goto("/login")
    source = (ROOT / "web" / "src" / "attention.js").read_text(encoding="utf-8")
    script = source.replace("export ", "")
    data = json.dumps(
        {
            "documents": [
                {
                    "id": f"d{n}",
                    "title": f"Paper {n}",
                    "expiry_date": f"20{26 + n % 5}-0{1 + n % 9}-1{n % 10}",
                }
                for n in range(1000)
            ],
            "grants": [
                {"id": f"g{n}", "to": "w", "expires_at": f"2026-12-{10 + n % 18}T10:00:00+00:00"}
                for n in range(50)
            ],
            "mandates": [
                {"id": f"m{n}", "who": "p", "expires_at": f"2026-12-{10 + n % 18}T10:00:00+00:00"}
                for n in range(50)
            ],
        }
    )
    started = time.perf_counter()
    result = page.evaluate(
        f"""() => {{ {script}
        const input = {data};
        const t0 = performance.now();
        let items;
        for (let i = 0; i < 20; i += 1) items = summarise({{ ...input, now: new Date("2026-12-05T12:00:00Z") }});
        return {{ ms: (performance.now() - t0) / 20, count: items.length }};
        }}"""
    )
    assert result["count"] > 0
    assert time.perf_counter() - started < 60
    print(
        f"\nattention summary in Chromium, 1000 documents + 50 grants + 50 mandates: {result['ms']:.2f} ms"
    )


def test_marks_follow_the_browsers_time_zone(
    browser: Browser, web_server: LiveServer, tmp_path: Path
) -> None:
    """One paper whose last day is today in Pago Pago (UTC-11): there it expires today; in
    Kiritimati (UTC+14, always a day or two ahead) it has already expired."""
    last_day = today_in(ZoneInfo("Pacific/Pago_Pago"))
    owner = _account(web_server, "tz")
    path = tmp_path / "paper.txt"
    path.write_text("paper", encoding="utf-8")
    doc_id = owner.upload(
        path, "id_card", "ID card", expiry_date=last_day.isoformat(), media_type="text/plain"
    )[0]
    for zone, expected in (
        ("Pacific/Pago_Pago", "Expires today"),
        ("Pacific/Kiritimati", re.compile(r"^Expired on ")),
    ):
        context = new_context(browser, web_server, viewport=PHONE, timezone_id=zone)
        try:
            page = context.new_page()
            login(page, owner.account["handle"])
            page.locator("main[data-page=documents][data-ready]").wait_for(state="attached")
            expect(page.locator(f'[data-id="{doc_id}"] [data-mark]')).to_have_text(expected)
        finally:
            context.close()
