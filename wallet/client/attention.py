"""What needs the owner's attention, worked out on this computer from decrypted data.

The rules (the browser has the same ones, in web/src/attention.js; tests/test_attention.py
checks both give the same answers):

- a paper whose expiry date is past is *expired*; one that expires within 30 days
  (today included) is *expiring*;
- a request someone sent the owner that is still open is *waiting* for an answer;
- a grant or a mandate that ends within 14 days (today included) is *ending*.

Days are counted in the owner's time zone: a paper that expires on 31 March is still valid
all of 31 March where the owner lives, and expired from the first minute of 1 April there. The
server is asked nothing new: the dates come out of the owner's encrypted records.

`calendar` writes the same reminders as an iCalendar (.ics) file, which a phone's calendar
imports and reminds from, with no server involved. The file holds titles and dates in clear,
on the device it is written to.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Alarm, Calendar, Event

from wallet.client import grants as grantlib
from wallet.client import mandates as mandatelib
from wallet.client import requests as requestlib
from wallet.client.api import ApiError
from wallet.client.contacts import PinStore
from wallet.client.errors import VaultError
from wallet.client.vault import Vault

PAPER_DAYS = 30  # a paper expiring within this many days needs attention
ACCESS_DAYS = 14  # a grant or mandate ending within this many days needs attention

# The order a summary lists them in: what is already late first.
KINDS = ("paper_expired", "request_waiting", "paper_expiring", "mandate_ending", "grant_ending")


@dataclass(frozen=True)
class Item:
    """One thing that needs attention. `days` is days left (0 = today, negative = days ago)."""

    kind: str
    ref: str
    title: str
    day: date
    days: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.ref,
            "title": self.title,
            "date": self.day.isoformat(),
            "days": self.days,
        }


def owner_zone() -> tzinfo:
    """The owner's time zone: WALLET_TIME_ZONE or TZ (an IANA name such as Europe/Brussels),
    else this computer's."""
    for name in (os.environ.get("WALLET_TIME_ZONE"), os.environ.get("TZ")):
        if name:
            try:
                return ZoneInfo(name.lstrip(":"))
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return datetime.now().astimezone().tzinfo or UTC


def today_in(zone: tzinfo, now: datetime | None = None) -> date:
    """The calendar day it is now in `zone`."""
    return (now or datetime.now(UTC)).astimezone(zone).date()


def parse_day(value: object) -> date | None:
    """A YYYY-MM-DD date from a record, or None (no date, or not a date)."""
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def expiry_state(expiry: object, today: date) -> tuple[str, int] | None:
    """("expired" | "expiring", days left) for a paper's expiry date, or None when it is
    further than 30 days away or has no date."""
    day = parse_day(expiry)
    if day is None:
        return None
    days = (day - today).days
    if days < 0:
        return "expired", days
    if days <= PAPER_DAYS:
        return "expiring", days
    return None


def mark(expiry: object, today: date) -> str:
    """The list's mark in plain English: "expired", "expires today", "expires in 3 days"."""
    state = expiry_state(expiry, today)
    if state is None:
        return ""
    kind, days = state
    if kind == "expired":
        return "expired"
    if days == 0:
        return "expires today"
    return "expires tomorrow" if days == 1 else f"expires in {days} days"


def _ending(ends_at: object, zone: tzinfo, now: datetime) -> tuple[date, int] | None:
    """The day (in the owner's zone) and days left of an access that ends at `ends_at` (an ISO
    time), when it is still running and ends within 14 days."""
    if not isinstance(ends_at, str) or not ends_at:
        return None
    try:
        end = datetime.fromisoformat(ends_at)
    except ValueError:
        return None
    if end.tzinfo is None:
        end = end.replace(tzinfo=UTC)
    if end <= now:
        return None
    day = end.astimezone(zone).date()
    days = (day - today_in(zone, now)).days
    return (day, days) if days <= ACCESS_DAYS else None


def summarise(
    *,
    documents: Iterable[dict[str, Any]] = (),
    requests: Iterable[dict[str, Any]] = (),
    grants: Iterable[dict[str, Any]] = (),
    mandates: Iterable[dict[str, Any]] = (),
    zone: tzinfo = UTC,
    now: datetime | None = None,
) -> list[Item]:
    """The rules, on plain records (the browser passes the same shapes):

    documents  {"id", "title", "expiry_date": "YYYY-MM-DD" or None}
    requests   {"id", "requester", "purpose", "due": "YYYY-MM-DD", "status", "direction"}
    grants     {"id", "to", "expires_at": ISO time or None}   (grants the owner gave)
    mandates   {"id", "who", "expires_at": ISO time}           (given or received)
    """
    now = now or datetime.now(UTC)
    today = today_in(zone, now)
    items: list[Item] = []
    for doc in documents:
        state = expiry_state(doc.get("expiry_date"), today)
        if state is not None:
            day = parse_day(doc["expiry_date"])
            assert day is not None
            items.append(
                Item(f"paper_{state[0]}", doc["id"], doc.get("title") or "", day, state[1])
            )
    for request in requests:
        if request.get("direction") != "incoming" or request.get("status") != "open":
            continue
        due = parse_day(request.get("due")) or today
        title = f"{request.get('requester', '')}: {request.get('purpose', '')}"
        items.append(Item("request_waiting", request["id"], title, due, (due - today).days))
    for kind, rows, who in (("grant_ending", grants, "to"), ("mandate_ending", mandates, "who")):
        for row in rows:
            ending = _ending(row.get("expires_at"), zone, now)
            if ending is not None:
                items.append(Item(kind, row["id"], str(row.get(who) or ""), *ending))
    items.sort(key=lambda i: (KINDS.index(i.kind), i.days, i.title, i.ref))
    return items


def sentence(item: Item) -> str:
    """One line of the summary, in plain English."""
    days = item.days
    when = (
        "today"
        if days == 0
        else "tomorrow"
        if days == 1
        else f"in {days} days"
        if days > 1
        else "yesterday"
        if days == -1
        else f"{-days} days ago"
    )
    if item.kind == "paper_expired":
        return f"{item.title}: expired {when} ({item.day:%d %B %Y})."
    if item.kind == "paper_expiring":
        return f"{item.title}: expires {when} ({item.day:%d %B %Y})."
    if item.kind == "request_waiting":
        return f"Request from {item.title}: waiting for your answer, needed by {item.day:%d %B %Y}."
    if item.kind == "grant_ending":
        return f"The access you gave {item.title} ends {when} ({item.day:%d %B %Y})."
    return f"The mandate with {item.title} ends {when} ({item.day:%d %B %Y})."


# --- from the wallet ----------------------------------------------------------------------


class Skipped(list[str]):
    """The parts `gather` left out because they could not be read (with `strict=False`)."""


def gather(
    vault: Vault,
    pins: PinStore,
    *,
    zone: tzinfo | None = None,
    now: datetime | None = None,
    strict: bool = True,
    skipped: Skipped | None = None,
) -> list[Item]:
    """Reads the owner's documents, requests, grants and mandates (all decrypted and checked
    here), then applies the rules. With `strict=False` (the summary after login) a part that
    fails its checks or cannot be fetched is left out and named in `skipped`, as the web page
    does: `wallet attention` and the part's own command then say what is wrong."""

    def part(name: str, read: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
        if strict:
            return read()
        try:
            return read()
        except (ApiError, VaultError):
            if skipped is not None:
                skipped.append(name)
            return []

    documents = [
        {"id": d.id, "title": d.title, "expiry_date": d.meta.get("expiry_date")}
        for d in vault.list_documents()
    ]
    requests = part(
        "requests",
        lambda: [
            {**r.as_dict(), "due": r.due.isoformat()} for r in requestlib.list_requests(vault, pins)
        ],
    )
    grants = part(
        "grants",
        lambda: [
            {
                "id": g["id"],
                "to": g["descriptor"].get("grantee") or (g.get("organisation") or {}).get("handle"),
                "expires_at": g["descriptor"].get("expires_at"),
            }
            for g in grantlib.grants_given(vault)
            if g.get("state") == "active"
        ],
    )
    mandates = part(
        "mandates",
        lambda: [
            {
                "id": m["id"],
                "who": m["descriptor"].get("proxy"),
                "expires_at": m["descriptor"]["expires_at"],
            }
            for m in mandatelib.mandates_given(vault)
            if m.get("state") == "active"
        ],
    ) + part(
        "mandates received",
        lambda: [
            {
                "id": m["id"],
                "who": m["descriptor"].get("owner"),
                "expires_at": m["descriptor"]["expires_at"],
            }
            for m in mandatelib.received(vault, pins)
        ],
    )
    return summarise(
        documents=documents,
        requests=requests,
        grants=grants,
        mandates=mandates,
        zone=zone or owner_zone(),
        now=now,
    )


# --- calendar files -----------------------------------------------------------------------


def _event(uid: str, summary: str, day: date, description: str, stamp: datetime) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("summary", summary)
    event.add("dtstart", day)  # an all-day event: the day itself, in the phone's own zone
    event.add("dtend", day + timedelta(days=1))
    event.add("description", description)
    event.add("transp", "TRANSPARENT")
    for before in (timedelta(days=-PAPER_DAYS), timedelta(days=-1)):
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", summary)
        alarm.add("trigger", before)
        event.add_component(alarm)
    return event


def calendar(events: Iterable[tuple[str, str, date, str]], now: datetime | None = None) -> bytes:
    """An .ics file: one all-day event per (uid, summary, day, description), each with a
    reminder 30 days and 1 day before."""
    cal = Calendar()
    cal.add("prodid", "-//Personal document wallet//reminders//EN")
    cal.add("version", "2.0")
    stamp = (now or datetime.now(UTC)).replace(microsecond=0)
    for uid, summary, day, description in events:
        cal.add_component(_event(uid, summary, day, description, stamp))
    return cal.to_ical()


def document_calendar(document_id: str, title: str, expiry: date) -> bytes:
    """The .ics of one paper's expiry date."""
    return calendar(
        [
            (
                f"expiry-{document_id}@wallet",
                f"{title} expires",
                expiry,
                "Renew this paper before it expires. Reminder made by your document wallet.",
            )
        ]
    )


def items_calendar(items: Iterable[Item]) -> bytes:
    """The .ics of a summary: each item on its day (a request on the day it is needed)."""
    return calendar(
        (f"{item.kind}-{item.ref}@wallet", sentence(item), item.day, sentence(item))
        for item in items
    )
