"""`wallet attention` (what needs your attention, worked out on this computer) and
`wallet ics` (a paper's expiry date as a calendar file)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wallet.cli.common import echo_json, fail, friendly, own_vault, pins, say
from wallet.client import attention as rules
from wallet.client.vault import Vault

SHORT = 5  # lines of the summary shown after login; `wallet attention` shows them all


def summary(vault: Vault, *, short: bool = False) -> list[rules.Item]:
    """Prints the summary (nothing when nothing needs attention) and returns its items. The
    short one, after login, leaves out a part that cannot be read and says so: the login itself
    went through."""
    skipped = rules.Skipped()
    items = rules.gather(vault, pins(), strict=not short, skipped=skipped)
    if skipped:
        say(f"Some reminders could not be checked ({', '.join(skipped)}): see 'wallet attention'.")
    if not items:
        return items
    say("Needs your attention:")
    shown = items[:SHORT] if short else items
    for item in shown:
        say(f"  - {rules.sentence(item)}")
    if len(items) > len(shown):
        say(f"  ... and {len(items) - len(shown)} more: see 'wallet attention'.")
    return items


def write_ics(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    say(
        f"Calendar file written to {path}. Open it on your phone to add the reminders to its "
        "calendar. It holds the titles and dates in clear: delete it once imported."
    )


@friendly
def attention(
    as_json: Annotated[bool, typer.Option("--json")] = False,
    ics: Annotated[
        Path | None,
        typer.Option("--ics", help="Also write these reminders as a calendar file (.ics)."),
    ] = None,
) -> None:
    """What needs your attention: papers expired or expiring within 30 days, requests
    waiting for your answer, mandates and access you gave that end within 14 days."""
    vault = own_vault()
    if as_json:
        items = rules.gather(vault, pins())
        echo_json([item.as_dict() for item in items], ensure_ascii=False)
    else:
        items = summary(vault)
        if not items:
            say("Nothing needs your attention right now.")
    if ics is not None:
        write_ics(ics, rules.items_calendar(items))


@friendly
def ics(
    document_id: str,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Where to write the .ics file.")
    ] = None,
) -> None:
    """Write a document's expiry date as a calendar file (.ics) for your phone's calendar."""
    doc = next((d for d in own_vault().list_documents() if d.id == document_id), None)
    if doc is None:
        fail(f"No document {document_id}. Check the id with 'wallet ls'.")
    expiry = rules.parse_day(doc.meta.get("expiry_date"))
    if expiry is None:
        fail("This document has no expiry date. Add a version with --expires to set one.")
    write_ics(
        output or Path(f"{document_id}.ics"), rules.document_calendar(doc.id, doc.title, expiry)
    )
