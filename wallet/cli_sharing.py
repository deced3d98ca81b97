"""`wallet share`, `wallet grant`, `wallet received` and `wallet journal`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from wallet.client import grants as grantlib
from wallet.client import journal as journallib
from wallet.client import links as linklib
from wallet.client import state
from wallet.client.api import ApiClient
from wallet.client.contacts import PinStore, own_safety_code
from wallet.client.vault import VaultError

share_app = typer.Typer(help="One-shot and multi-use links.", no_args_is_help=True)
grant_app = typer.Typer(help="Standing access for a person's account.", no_args_is_help=True)
received_app = typer.Typer(help="What other people share with you.", no_args_is_help=True)


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _pins() -> PinStore:
    return PinStore(state.wallet_home() / "pins.json")


def register(app: typer.Typer, open_vault, friendly) -> None:  # type: ignore[no-untyped-def]
    """Adds the sharing commands to the main `wallet` command."""
    app.add_typer(share_app, name="share")
    app.add_typer(grant_app, name="grant")
    app.add_typer(received_app, name="received")

    @share_app.command("create")
    @friendly
    def share_create(
        documents: Annotated[list[str] | None, typer.Argument(help="Document ids.")] = None,
        types: Annotated[str | None, typer.Option(help="Document types, comma separated.")] = None,
        fields: Annotated[str | None, typer.Option(help="Profile fields, comma separated.")] = None,
        uses: Annotated[int, typer.Option(help="How many times it can be opened.")] = 1,
        expires: Annotated[
            str, typer.Option(help="7d, 12h, 2w or a date (90 days at most).")
        ] = "7d",
        pin: Annotated[
            str | None, typer.Option(help="A PIN of 4 to 8 digits, given separately.")
        ] = None,
        purpose: Annotated[str, typer.Option(help="What it is for, in a few words.")] = "",
        qr: Annotated[
            Path | None, typer.Option(help="Also write a QR code (.png or .svg).")
        ] = None,
    ) -> None:
        """Create a link to some documents or profile fields."""
        vault = open_vault()
        link = linklib.create_link(
            vault,
            documents or [],
            types=_split(types),
            fields=_split(fields),
            uses=uses,
            expires=expires,
            pin=pin,
            purpose=purpose,
        )
        typer.echo(link.url)
        times = "once" if uses == 1 else f"{uses} times"
        typer.echo(
            f"The link gives {link.documents} document(s), can be opened {times}, "
            f"until {link.expires_at:%d %b %Y %H:%M} UTC."
        )
        if pin:
            typer.echo("Give the PIN separately, not in the same message as the link.")
        if qr:
            import segno

            segno.make(link.url, error="m").save(str(qr), scale=10, border=4)
            typer.echo(f"QR code written to {qr}.")

    @share_app.command("ls")
    @friendly
    def share_ls(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
        """List your links."""
        links = open_vault().api.api("GET", "/links").json()
        if as_json:
            typer.echo(json.dumps(links, indent=2))
            return
        if not links:
            typer.echo("You have no links. Create one with 'wallet share create DOC_ID'.")
        for link in links:
            typer.echo(
                f"{link['id']}  {link['state']:8}  {link['uses_left']}/{link['uses_total']} uses left  "
                f"{len(link['items'])} document(s)  until {link['expires_at'][:16]}"
            )

    @share_app.command("revoke")
    @friendly
    def share_revoke(link_id: str) -> None:
        """Stop a link now."""
        open_vault().api.api("POST", f"/links/{link_id}/revoke")
        typer.echo("The link is stopped. Nobody can open it any more.")
        typer.echo(grantlib.DOWNLOADED_COPIES)

    @share_app.command("open")
    @friendly
    def share_open(
        url: str,
        output: Annotated[Path, typer.Option("-o", "--output", help="Folder for the files.")],
        pin: Annotated[
            str | None, typer.Option(help="The PIN, if the person gave you one.")
        ] = None,
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
        opened = linklib.open_link(url, output, pin=pin, api=api)
        # A link made under a mandate names both: the trusted person and the owner.
        who = f"{opened.proxy} for {opened.owner}" if opened.proxy else opened.owner
        typer.echo(f"Shared by {who}" + (f" for: {opened.purpose}" if opened.purpose else "."))
        for path in opened.files:
            typer.echo(f"  {path}")
        typer.echo(f"{len(opened.files)} file(s) written to {output}.")

    @share_app.command("check")
    @friendly
    def share_check(url: str) -> None:
        """See who shared a link, for what and until when, without using it."""
        info = linklib.preview_link(url)
        who = f"{info['proxy']} for {info['owner']}" if info.get("proxy") else info["owner"]
        typer.echo(f"Shared by {who}: {info['documents']} document(s).")
        if info.get("purpose"):
            typer.echo(f"Purpose: {info['purpose']}")
        typer.echo(info["message"] or f"The link works until {info['expires_at'][:16]} UTC.")
        if info["pin_required"] and info["state"] == "active":
            typer.echo("You need a PIN to open it.")

    @grant_app.command("create")
    @friendly
    def grant_create(
        purpose: Annotated[str, typer.Option(help="What the access is for.")],
        to: Annotated[str | None, typer.Option("--to", help="The person's handle.")] = None,
        to_org: Annotated[
            str | None, typer.Option("--to-org", help="An organisation (its team reads it).")
        ] = None,
        docs: Annotated[str | None, typer.Option(help="Document ids, comma separated.")] = None,
        types: Annotated[str | None, typer.Option(help="Document types, comma separated.")] = None,
        fields: Annotated[str | None, typer.Option(help="Profile fields, comma separated.")] = None,
        expires: Annotated[str | None, typer.Option(help="Last day, YYYY-MM-DD.")] = None,
        accept_new_key: Annotated[
            bool, typer.Option(help="Only after checking the safety code in person.")
        ] = False,
    ) -> None:
        """Give a person standing access to documents, types or profile fields."""
        expires_at = None
        if expires:
            try:
                expires_at = datetime.fromisoformat(expires).replace(hour=23, minute=59, tzinfo=UTC)
            except ValueError as exc:
                raise VaultError("--expires must be a date like 2027-01-31.") from exc
        if (to is None) == (to_org is None):
            raise VaultError("Say who gets the access: --to HANDLE or --to-org ORGANISATION.")
        give = grantlib.create_org_grant if to_org else grantlib.create_grant
        grant = give(
            open_vault(),
            to_org or to or "",
            purpose=purpose,
            document_ids=_split(docs),
            types=_split(types),
            fields=_split(fields),
            expires_at=expires_at,
            pins=_pins(),
            accept_new_key=accept_new_key,
        )
        typer.echo(
            f"Access given to {grant.grantee}: {grant.documents} document(s) now. Grant id: {grant.id}"
        )
        if to_org:
            typer.echo(f"Team safety code of {grant.grantee}: {grant.safety_code}")
            if grant.first_contact:
                typer.echo(
                    "First time with this organisation: compare this code with the office's "
                    "('wallet org show')."
                )
            typer.echo("Its members of the day can read it, also after a change of staff.")
        else:
            typer.echo(f"Safety code of {grant.grantee}: {grant.safety_code}")
        if grant.first_contact and not to_org:
            typer.echo(
                "First time with this person: compare this code with theirs ('wallet account safety-code')."
            )
        typer.echo("New documents of the chosen types will be added automatically.")

    @grant_app.command("ls")
    @friendly
    def grant_ls(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
        """List the access you gave."""
        items = grantlib.grants_given(open_vault())
        if as_json:
            typer.echo(json.dumps(items, indent=2, default=str))
            return
        if not items:
            typer.echo("You gave no standing access.")
        for g in items:
            d = g["descriptor"]
            until = f"until {g['expires_at'][:10]}" if g["expires_at"] else "no end date"
            typer.echo(
                f"{g['id']}  {g['state']:8}  {g['grantee']['handle']}  {d['purpose']}  {g['documents']} document(s)  {until}"
            )

    @grant_app.command("revoke")
    @friendly
    def grant_revoke(grant_id: str) -> None:
        """End a standing access now."""
        grantlib.revoke_grant(open_vault(), grant_id)
        typer.echo("The access is ended. The person cannot open anything more.")
        typer.echo(grantlib.DOWNLOADED_COPIES)

    @received_app.command("ls")
    @friendly
    def received_ls(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
        """List what people share with you."""
        vault = open_vault()
        pins = _pins()
        result = []
        for g in grantlib.received(vault, pins):
            owner_key = grantlib.b64d(g["owner"]["public_signing_key"])
            team = grantlib.reader_for(vault, g, pins)
            docs = grantlib.received_documents(vault, g["id"], owner_key, team)
            result.append((g, docs))
        if as_json:
            typer.echo(
                json.dumps(
                    [
                        {
                            "grant_id": g["id"],
                            "owner": g["owner"]["handle"],
                            "via_org": (g.get("organisation") or {}).get("handle"),
                            "purpose": g["descriptor"]["purpose"],
                            "expires_at": g["expires_at"],
                            "documents": [
                                {
                                    "id": d.document_id,
                                    "version": d.version,
                                    "title": d.meta.get("title"),
                                    "type": d.meta.get("type"),
                                    "size": d.size,
                                }
                                for d in docs
                            ],
                        }
                        for g, docs in result
                    ],
                    indent=2,
                )
            )
            return
        if not result:
            typer.echo("Nobody shares documents with you right now.")
        for g, docs in result:
            via = f" (to {g['organisation']['handle']})" if g.get("organisation") else ""
            typer.echo(f"{g['id']}  from {g['owner']['handle']}{via}: {g['descriptor']['purpose']}")
            for d in docs:
                typer.echo(
                    f"    {d.document_id}  {d.meta.get('title')}  [{d.meta.get('type')}]  v{d.version}"
                )

    @received_app.command("get")
    @friendly
    def received_get(
        grant_id: str,
        document_id: str,
        output: Annotated[Path, typer.Option("-o", "--output")],
    ) -> None:
        """Download a document someone shares with you."""
        vault = open_vault()
        pins = _pins()
        grant = next((g for g in grantlib.received(vault, pins) if g["id"] == grant_id), None)
        if grant is None:
            raise VaultError("This access does not exist or has ended. Ask the person.")
        owner_key = grantlib.b64d(grant["owner"]["public_signing_key"])
        team = grantlib.reader_for(vault, grant, pins)
        docs = {
            d.document_id: d for d in grantlib.received_documents(vault, grant_id, owner_key, team)
        }
        if document_id not in docs:
            raise VaultError("This document is not shared with you under this access.")
        grantlib.received_get(vault, grant_id, docs[document_id], output)
        typer.echo(f"Wrote {output}.")

    @app.command("journal")
    @friendly
    def journal(
        as_json: Annotated[bool, typer.Option("--json")] = False,
        as_csv: Annotated[bool, typer.Option("--csv")] = False,
        verify_only: Annotated[
            bool, typer.Option("--verify", help="Check the hash chain.")
        ] = False,
    ) -> None:
        """Everything that happened to your data, in plain sentences."""
        vault = open_vault()
        entries = journallib.fetch_entries(vault)
        intact, message = journallib.verify(entries)
        if intact:
            head = state.wallet_home() / f"journal-head-{vault.account['id']}.json"
            intact, rewritten = journallib.check_head(entries, head)
            message = rewritten or message
        if verify_only:
            typer.echo(message)
            if not intact:
                raise typer.Exit(1)
            return
        rendered = journallib.render(vault, entries)
        if as_json:
            typer.echo(json.dumps(rendered, indent=2))
        elif as_csv:
            typer.echo(journallib.to_csv(rendered), nl=False)
        else:
            for entry in rendered:
                mark = "! " if entry["alert"] else "  "
                typer.echo(f"{mark}{entry['when']}  {entry['sentence']}")
        if not intact:
            typer.secho(message, err=True, fg=typer.colors.RED)
            raise typer.Exit(1)


def safety_code_command(open_vault):  # type: ignore[no-untyped-def]
    def safety_code() -> None:
        """Show your safety code, to compare with someone who gives you access."""
        typer.echo(own_safety_code(open_vault()))

    return safety_code


__all__ = ["register", "safety_code_command"]
