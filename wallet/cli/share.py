"""`wallet share ...`: one-shot and multi-use links."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wallet.cli.common import friendly, head_pins, listed, open_vault, own_vault, say, split
from wallet.client import links as linklib
from wallet.client import state
from wallet.client.api import ApiClient
from wallet.client.grants import DOWNLOADED_COPIES

share_app = typer.Typer(help="One-shot and multi-use links.", no_args_is_help=True)


@share_app.command("create")
@friendly
def share_create(
    documents: Annotated[list[str] | None, typer.Argument(help="Document ids.")] = None,
    types: Annotated[str | None, typer.Option(help="Document types, comma separated.")] = None,
    fields: Annotated[str | None, typer.Option(help="Profile fields, comma separated.")] = None,
    uses: Annotated[int, typer.Option(help="How many times it can be opened.")] = 1,
    expires: Annotated[str, typer.Option(help="7d, 12h, 2w or a date (90 days at most).")] = "7d",
    pin: Annotated[
        str | None, typer.Option(help="A PIN of 4 to 8 digits, given separately.")
    ] = None,
    purpose: Annotated[str, typer.Option(help="What it is for, in a few words.")] = "",
    qr: Annotated[Path | None, typer.Option(help="Also write a QR code (.png or .svg).")] = None,
) -> None:
    """Create a link to some documents or profile fields."""
    link = linklib.create_link(
        open_vault(),
        documents or [],
        types=split(types),
        fields=split(fields),
        uses=uses,
        expires=expires,
        pin=pin,
        purpose=purpose,
    )
    say(link.url)
    times = "once" if uses == 1 else f"{uses} times"
    say(
        f"The link gives {link.documents} document(s), can be opened {times}, "
        f"until {link.expires_at:%d %b %Y %H:%M} UTC."
    )
    if pin:
        say("Give the PIN separately, not in the same message as the link.")
    if qr:
        import segno  # about 45 ms to import: loaded only when a QR code is drawn

        segno.make(link.url, error="m").save(str(qr), scale=10, border=4)
        say(f"QR code written to {qr}.")


@share_app.command("ls")
@friendly
def share_ls(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List your links."""
    links = own_vault().api.api("GET", "/links").json()
    if listed(links, as_json, "You have no links. Create one with 'wallet share create DOC_ID'."):
        return
    for link in links:
        say(
            f"{link['id']}  {link['state']:8}  {link['uses_left']}/{link['uses_total']} uses left  "
            f"{len(link['items'])} document(s)  until {link['expires_at'][:16]}"
        )


@share_app.command("revoke")
@friendly
def share_revoke(link_id: str) -> None:
    """Stop a link now."""
    own_vault().covered_change(
        "POST", f"/links/{link_id}/revoke", lambda state: state.revoked_links.add(link_id)
    )
    say("The link is stopped. Nobody can open it any more.")
    say(DOWNLOADED_COPIES)


@share_app.command("open")
@friendly
def share_open(
    url: str,
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder for the files.")],
    pin: Annotated[str | None, typer.Option(help="The PIN, if the person gave you one.")] = None,
    anonymous: Annotated[
        bool, typer.Option(help="Do not name your account to the person, even if logged in.")
    ] = False,
) -> None:
    """Open a link someone sent you (no account needed). Uses the link once.

    When you are logged in to the same server, the person's journal names your account and
    the link shows in your inbox for 15 minutes."""
    saved = None if anonymous else state.load()
    link_server = linklib.parse_link(url).server
    api = (
        ApiClient(link_server, token=saved["token"])
        if saved and saved["server"].rstrip("/") == link_server.rstrip("/")
        else None
    )
    opened = linklib.open_link(url, output, pin=pin, api=api, head_pins=head_pins())
    # A link made under a mandate names both: the trusted person and the owner. Both were
    # checked against the accounts the server knows made the link.
    who = f"{opened.proxy} for {opened.owner}" if opened.proxy else opened.owner
    say(f"Shared by {who}" + (f" for: {opened.purpose}" if opened.purpose else "."))
    if opened.senders is not None:
        _safety_codes(opened.senders)
    for path in opened.files:
        say(f"  {path}")
    say(f"{len(opened.files)} file(s) written to {output}.")


@share_app.command("check")
@friendly
def share_check(url: str) -> None:
    """See who shared a link, for what and until when, without using it."""
    info = linklib.preview_link(url)
    if info["state"] != "active":
        say(info["message"])
        return
    who = f"{info['proxy']} for {info['owner']}" if info.get("proxy") else info["owner"]
    say(f"Shared by {who}: {info['documents']} document(s).")
    _safety_codes(info["senders"])
    if info.get("purpose"):
        say(f"Purpose: {info['purpose']}")
    say(info["message"] or f"The link works until {info['expires_at'][:16]} UTC.")
    if info["pin_required"]:
        say("You need a PIN to open it.")


def _safety_codes(senders: linklib.LinkSenders) -> None:
    """The sender's safety code (and the owner's, for a link a proxy made), to compare with
    the code each of them sees in their own wallet."""
    for person in (senders.sender, senders.on_behalf_of):
        if person is not None:
            say(f"Safety code of {person.handle}: {person.safety_code}")
    say(linklib.COMPARE_SAFETY_CODE)
